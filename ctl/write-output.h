/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "zstd-frames.h"

/* What verbs write to "FILE, or standard output for -" (a stream the
 * daemon sends through a descriptor: an overlay's export). */

/* Whether file is "-" and standard output is a terminal, which is refused
 * for binary data. */
bool output_is_terminal(const char *file);

/* Copies everything fd gives until its end into file, or standard output
 * for "-". A file is written under a temporary name in its directory
 * (".NAME.XXXXXX"), synced and renamed over file only once the stream has
 * ended (and, with frames, ended after whole zstd frames: a stream the
 * daemon cut short is a failure), so file is never left half-written; on
 * failure the temporary file is removed. Failures are logged, prefixed
 * "<what>: ". Returns 0 or L4M_EXIT_FAILURE. */
int output_copy_fd(int fd, const char *file, const char *what, ZstdFrames *frames);
