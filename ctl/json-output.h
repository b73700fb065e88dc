/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "overlay-info.h"

/* Add one overlay as an object with the keys id (number, or null if the
 * path has no numeric id), name, type, owner, state (strings, or null if
 * the daemon did not send them), created (number, µs) and path. */
void json_add_overlay(JsonBuilder *b, const OverlayInfo *info);

/* Write the builder's document to stdout followed by a newline: indented
 * when stdout is a terminal, on one line otherwise. Returns 0 or a negative
 * errno (already logged). */
int json_print_builder(JsonBuilder *b);
