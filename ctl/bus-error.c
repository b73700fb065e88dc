/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include <glib.h>

#include "bus-error.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"

static const struct {
        const char *name;
        L4mExitCode code;
} error_table[] = {
        { L4M_ERROR_INVALID_ARGUMENT, L4M_EXIT_INVALID_ARGUMENT },
        { L4M_ERROR_NOT_FOUND, L4M_EXIT_NOT_FOUND },
        { L4M_ERROR_EXISTS, L4M_EXIT_EXISTS },
        { L4M_ERROR_BUSY, L4M_EXIT_BUSY },
        { L4M_ERROR_FAILED, L4M_EXIT_FAILURE },
        { SD_BUS_ERROR_ACCESS_DENIED, L4M_EXIT_ACCESS_DENIED },
        { SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED, L4M_EXIT_ACCESS_DENIED },
        /* Nobody owns the name and it cannot be activated, the owner went
         * away, or it did not answer in time. */
        { SD_BUS_ERROR_SERVICE_UNKNOWN, L4M_EXIT_UNREACHABLE },
        { SD_BUS_ERROR_NAME_HAS_NO_OWNER, L4M_EXIT_UNREACHABLE },
        { SD_BUS_ERROR_NO_REPLY, L4M_EXIT_UNREACHABLE },
        { SD_BUS_ERROR_TIMEOUT, L4M_EXIT_UNREACHABLE },
        { "org.freedesktop.DBus.Error.TimedOut", L4M_EXIT_UNREACHABLE },
        { SD_BUS_ERROR_DISCONNECTED, L4M_EXIT_UNREACHABLE },
};

/* dbus-daemon could not start the service (bus activation failed), or
 * systemd refused to start left4me.service for it (masked, failed to load,
 * start rate limit): dbus-daemon passes systemd's own error on. The daemon
 * itself never answers with either. */
#define SPAWN_ERROR_PREFIX "org.freedesktop.DBus.Error.Spawn."
#define SYSTEMD_ERROR_PREFIX "org.freedesktop.systemd1."

/* sd-bus names errors that happen locally (the connection broke under us)
 * "System.Error.E…" after the errno. */
#define LOCAL_ERROR_PREFIX "System.Error."

static bool errno_is_disconnect(int r) {
        switch (-r) {
        case ECONNREFUSED:
        case ECONNRESET:
        case ECONNABORTED:
        case ENOTCONN:
        case ENOENT:
        case EPIPE:
        case ESHUTDOWN:
        case ETIMEDOUT:
        case EHOSTUNREACH:
                return true;
        default:
                return false;
        }
        return false;
}

L4mExitCode bus_error_exit_code(const sd_bus_error *error, int r) {
        const char *name = error ? error->name : NULL;

        if (name) {
                for (size_t i = 0; i < G_N_ELEMENTS(error_table); i++)
                        if (strcmp(name, error_table[i].name) == 0)
                                return error_table[i].code;
                if (g_str_has_prefix(name, SPAWN_ERROR_PREFIX) ||
                    g_str_has_prefix(name, SYSTEMD_ERROR_PREFIX))
                        return L4M_EXIT_UNREACHABLE;
                if (!g_str_has_prefix(name, LOCAL_ERROR_PREFIX))
                        return L4M_EXIT_FAILURE;
        }

        /* No name from the peer: judge by the errno. */
        if (r < 0 && errno_is_disconnect(r))
                return L4M_EXIT_UNREACHABLE;
        return L4M_EXIT_FAILURE;
}

int log_bus_error(const sd_bus_error *error, int r, const char *format, ...) {
        g_autofree char *what = NULL;
        L4mExitCode code;
        va_list ap;

        assert(format);

        va_start(ap, format);
        what = g_strdup_vprintf(format, ap);
        va_end(ap);

        if (error && error->name && error->message)
                log_error("%s: %s: %s", what, error->name, error->message);
        else if (error && error->name)
                log_error("%s: %s", what, error->name);
        else
                log_error_errno(r, "%s: %s", what, STRERROR(r));

        code = bus_error_exit_code(error, r);
        assert(code != L4M_EXIT_SUCCESS);
        return (int) code;
}

int bus_log_parse_error(int r) {
        return log_error_errno(r, "cannot parse the daemon's reply: %s", STRERROR(r));
}

int bus_log_create_error(int r) {
        return log_error_errno(r, "cannot create a bus message: %s", STRERROR(r));
}
