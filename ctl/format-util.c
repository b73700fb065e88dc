/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "format-util.h"

const char *format_bytes(char *buf, size_t size, uint64_t bytes) {
        static const char suffixes[] = "KMGTPE";

        assert(buf);
        assert(size >= FORMAT_BYTES_MAX);

        if (bytes < 1024) {
                snprintf(buf, size, "%" PRIu64 "B", bytes);
                return buf;
        }

        /* Find the largest unit u with bytes ≥ 1024^(u+1), and print
         * bytes / 1024^(u+1) with one decimal, rounded down, so that the
         * figure never claims more than there is. */
        for (size_t u = sizeof(suffixes) - 2;; u--) {
                unsigned shift = 10 * (unsigned) (u + 1);

                if (bytes >> shift) {
                        uint64_t whole = bytes >> shift;
                        uint64_t rest = bytes & ((UINT64_C(1) << shift) - 1);
                        uint64_t tenth = (uint64_t) (((long double) rest * 10) / (long double) (UINT64_C(1) << shift));

                        snprintf(buf, size, "%" PRIu64 ".%" PRIu64 "%c", whole, tenth, suffixes[u]);
                        return buf;
                }
                if (u == 0)
                        break;
        }
        assert(!"unreachable");
        return buf;
}

unsigned percent_of(double fraction) {
        if (isnan(fraction) || fraction <= 0)
                return 0;
        if (fraction >= 1)
                return 100;
        return (unsigned) (fraction * 100);
}

const char *format_percent(char *buf, size_t size, double fraction) {
        assert(buf);
        assert(size >= FORMAT_PERCENT_MAX);

        snprintf(buf, size, "%u%%", percent_of(fraction));
        return buf;
}
