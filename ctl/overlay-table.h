/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "overlay-info.h"
#include "table.h"

/* A table of overlays. Text: NAME, TYPE, OWNER, STATE, CREATED. JSON: id
 * (number, or null if the path has no numeric id), name, type, owner,
 * state (strings, or null if the daemon did not send them), created
 * (number, µs) and path; with details (overlays read with GetAll), also
 * items (array of numbers), size (number, bytes), last_build (number, µs,
 * 0 for never) and script_size (number, bytes of a script overlay's script,
 * 0 for none), each null if the daemon did not send it. */
Table *overlay_table_new(bool details);

/* Add info as a row; info->details must be as the table's. */
void overlay_table_add(Table *t, const OverlayInfo *info);
