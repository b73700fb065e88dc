/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* "YYYY-MM-DD HH:MM:SS" and its terminating NUL. */
#define TIMESTAMP_MAX sizeof("YYYY-MM-DD HH:MM:SS")

/* Format usec (µs since the epoch, CLOCK_REALTIME) as local time into buf
 * and return buf; "-" if usec is 0 (unset) or cannot be represented. */
const char *format_timestamp(char *buf, size_t size, uint64_t usec);
