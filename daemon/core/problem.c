/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#include <assert.h>
#include <stdarg.h>

#include "problem.h"

int problem_setf(char **ret_problem, int error, const char *format, ...) {
        va_list ap;

        assert(error < 0);
        if (!ret_problem)
                return error;
        va_start(ap, format);
        g_free(*ret_problem);
        *ret_problem = g_strdup_vprintf(format, ap);
        va_end(ap);
        return error;
}
