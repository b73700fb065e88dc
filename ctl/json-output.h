/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "job-info.h"
#include "overlay-info.h"

/* Add a member key: value, value a string or null. */
void json_add_string_or_null(JsonBuilder *b, const char *key, const char *value);
/* Add a member key: value, a number (clamped to 2^63-1). */
void json_add_uint(JsonBuilder *b, const char *key, uint64_t value);

/* Add one overlay as an object with the keys id (number, or null if the
 * path has no numeric id), name, type, owner, state (strings, or null if
 * the daemon did not send them), created (number, µs) and path. When the
 * info came from GetAll (info->details), also items (array of numbers),
 * size (number, bytes), last_build (number, µs, 0 for never) and
 * script_size (number, bytes of a script overlay's script, 0 for none),
 * each null if the daemon did not send it. */
void json_add_overlay(JsonBuilder *b, const OverlayInfo *info);

/* Add one job as an object with the keys id (number), kind, target, owner,
 * state (strings or null), progress (number 0..1) and path; when the info
 * came from GetAll (info->details), also message (string or null),
 * created, started and finished (numbers, µs, 0 for not yet). */
void json_add_job(JsonBuilder *b, const JobInfo *info);

/* Write the builder's document to stdout followed by a newline: indented
 * when stdout is a terminal, on one line otherwise. Returns 0 or a negative
 * errno (already logged). */
int json_print_builder(JsonBuilder *b);
