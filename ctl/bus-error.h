/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <systemd/sd-bus.h>

#include "exit-codes.h"

/* The exit code for a method call that failed with r (negative errno) and
 * error (as filled in by sd_bus_call() and friends). */
L4mExitCode bus_error_exit_code(const sd_bus_error *error, int r);

/* Log "<what>: <error name>: <error message>" to stderr and return the exit
 * code (positive) that the failure maps to. */
int log_bus_error(const sd_bus_error *error, int r, const char *format, ...)
        __attribute__((format(printf, 3, 4)));

/* Log a reply that does not have the shape the interface promises, or a
 * message we could not build; return r (negative errno). */
int bus_log_parse_error(int r);
int bus_log_create_error(int r);
