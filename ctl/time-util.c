/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <time.h>

#include "time-util.h"

#define USEC_PER_SEC UINT64_C(1000000)

const char *format_timestamp(char *buf, size_t size, uint64_t usec) {
        struct tm tm;
        time_t sec;

        assert(buf);
        assert(size >= TIMESTAMP_MAX);

        sec = (time_t) (usec / USEC_PER_SEC);
        if (usec == 0 || (uint64_t) sec != usec / USEC_PER_SEC ||
            !localtime_r(&sec, &tm) ||
            strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                return "-";
        return buf;
}
