/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-glib/json-glib.h>

/* Add a member key: value, value a string or null. */
void json_add_string_or_null(JsonBuilder *b, const char *key, const char *value);
/* Add a member key: value, a number (clamped to 2^63-1). */
void json_add_uint(JsonBuilder *b, const char *key, uint64_t value);

/* Write the document root to f followed by a newline: indented when f is a
 * terminal, on one line otherwise. Returns 0 or a negative errno. */
int json_write(JsonNode *root, FILE *f);

/* Write the builder's document to stdout as json_write() does. Returns 0 or
 * a negative errno (already logged). */
int json_print_builder(JsonBuilder *b);

/* What a create verb prints: the new object's path, or with json
 * {"name": name, "path": path}. Returns 0 or a negative errno. */
int print_created(bool json, const char *name, const char *path);
