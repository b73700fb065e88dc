/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

#include "verbs.h"

/* Job.OpenLog(follow) on path: the log's read end (close-on-exec, ours to
 * close) in *ret_fd. Errors are logged ("cannot read the log of job N: …")
 * and returned as the exit code to use. */
int job_open_log(sd_bus *bus, uint64_t id, const char *path, bool follow, int *ret_fd);

/* Copy fd to standard output until end of file, with control characters
 * neutralised when that is a terminal. Returns 0 or a negative errno
 * (logged; a read error as "<what>: <error>"). */
int log_copy(int fd, const char *what);

/* log_copy() of a job's log ("cannot read the job log: …"). */
int job_log_copy(int fd);

/* Follow the job at path to its end, as 'overlay build --wait' does: its
 * log is copied to standard output as it arrives (to standard error with
 * --json), with a one-line progress bar on standard error when that is a
 * terminal; then "Job N succeeded: <message>" (or failed, cancelled) goes
 * to standard error, and with --json {"job", "path", "state", "message"}
 * to standard output. SIGINT stops following (the job goes on) and says
 * how to follow again. Returns the exit code: 0 succeeded, 1 failed,
 * L4M_EXIT_CANCELLED, L4M_EXIT_INTERRUPTED, or that of a failed call. */
int job_wait(sd_bus *bus, uint64_t id, const char *path, const CtlArgs *args);
/* A method answered job_path: "Job N queued." (with --json {"job",
 * "path"}), or with --wait job_wait(). Returns the exit code. */
int job_queued(sd_bus *bus, const CtlArgs *args, const char *job_path);

/* Replaces control characters other than tab, newline and carriage return
 * with '?': for text from elsewhere (a job's or a server's output) shown on
 * a terminal, where escape sequences could rewrite what the reader sees. */
void neutralize_controls(char *buf, size_t size);
