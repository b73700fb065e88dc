/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

/* Longest name an entity may have: [a-z0-9][a-z0-9_-]{0,47}. */
#define L4M_NAME_MAX 48

/* True if s is a valid name for an overlay, blueprint or instance. Names
 * are used verbatim in paths, unit names and SQL parameters, so this is the
 * only gate: nothing else may accept a name that fails it. */
bool l4m_name_is_valid(const char *s);

typedef enum {
        L4M_OVERLAY_WORKSHOP,
        L4M_OVERLAY_SCRIPT,
        L4M_OVERLAY_ARCHIVE,
        _L4M_OVERLAY_TYPE_MAX,
        _L4M_OVERLAY_TYPE_INVALID = -1,
} L4mOverlayType;

const char *l4m_overlay_type_to_string(L4mOverlayType t);
L4mOverlayType l4m_overlay_type_from_string(const char *s);
