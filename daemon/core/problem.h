/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#pragma once

#include <glib.h>

/* How the engine refuses: its functions return a negative errno and, when
 * the refusal is the request's fault or a rule of the system, put a text
 * for the person who asked into *ret_problem (if ret_problem is not NULL).
 * The bus maps the errno to an org.left4me.Error (bus_error_from_problem()):
 *   -EINVAL      InvalidArgument   a value is malformed or out of range
 *   -ENOENT      NotFound          something named does not exist
 *   -EEXIST      Exists            the name is taken
 *   -EBUSY       Busy              in use, or in a state that forbids it
 *   -EDQUOT      Busy              a per-owner limit is reached
 *   -EADDRINUSE  Busy              the port is taken
 *   -EPERM       AccessDenied      only an admin may (a limit above its ceiling)
 * A failure without a text is the system's (disk, store): Failed, with the
 * details in the journal. */

/* Sets *ret_problem (freeing what it held) and returns error (< 0). */
int problem_setf(char **ret_problem, int error, const char *format, ...) G_GNUC_PRINTF(3, 4);
