/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* What verbs read from "FILE, or standard input for -". */

/* How file is named in messages: "standard input" for "-", else itself. */
const char *input_name(const char *file);

/* Whether file is "-" and standard input is a terminal, which is refused
 * where typed input makes no sense (an archive). */
bool input_is_terminal(const char *file);

/* Open file read-only, or for "-" a copy of standard input's descriptor;
 * either is O_CLOEXEC and the caller's to close. Returns the descriptor,
 * or a negative errno, logged as "<what>: cannot open FILE: ..." (without
 * the "<what>: " if what is NULL). */
int input_open(const char *file, const char *what);

/* Read all of fd (a file, a pipe or a terminal) into *ret (NUL-terminated,
 * g_free() it) and its length into *ret_size. Reads at most max + 1
 * bytes: -EFBIG if there are more than max. Otherwise 0 or the negative
 * errno of the failed read(). */
int read_fd_limited(int fd, size_t max, char **ret, size_t *ret_size);

/* Read all of file ("-": standard input) as read_fd_limited() does.
 * Failures are logged, prefixed "<what>: " unless what is NULL. Returns 0;
 * L4M_EXIT_FAILURE if it cannot be opened or read; L4M_EXIT_USAGE if it
 * holds more than max bytes ("FILE is larger than MAX bytes, the most
 * <contents> may have"). */
int read_input(const char *file, size_t max, const char *what, const char *contents,
               char **ret, size_t *ret_size);
