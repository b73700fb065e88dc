/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Room for format_bytes()' longest result, "1023.9K"-style, with NUL. */
#define FORMAT_BYTES_MAX 16

/* Format a byte count with a binary unit: "512B", "1.5K", "117.7M",
 * "2.0G", up to "E" (one decimal from K on). Returns buf. */
const char *format_bytes(char *buf, size_t size, uint64_t bytes);

/* Room for format_percent(): "100%" and NUL. */
#define FORMAT_PERCENT_MAX 8

/* A fraction 0..1 as a whole percentage, rounded down ("45%"); values
 * outside 0..1 (or NaN) are clamped. Returns buf. */
const char *format_percent(char *buf, size_t size, double fraction);

/* The whole percentage of a fraction, clamped to 0..100. */
unsigned percent_of(double fraction);
