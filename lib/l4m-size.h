/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* A size as configuration files give it: "512", "64K", "1M", "4G", "1T"
 * (1024-based, suffix in either case). True and *ret set if it parses,
 * does not overflow and lies within [min, max]. */
bool l4m_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/* n in that syntax, with the largest suffix that divides it ("4G",
 * "1536M", "1000"): g_free() it. */
char *l4m_format_size(uint64_t n);
