/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>

#include "bus-util.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"

int bus_error_internal(sd_bus_error *error, int r, const char *what) {
        r = r < 0 ? r : -EIO;
        log_error_errno(r, "%s failed: %s", what, STRERROR(r));
        sd_bus_error_setf(error, L4M_ERROR_FAILED, "%s failed: %s", what, strerror(-r));
        return r;
}
