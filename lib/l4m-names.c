/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stddef.h>
#include <string.h>

#include "l4m-names.h"

static bool is_lower_alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool l4m_name_is_valid(const char *s) {
        size_t i;

        if (!s || !is_lower_alnum(s[0]))
                return false;

        for (i = 1; s[i]; i++) {
                if (i >= L4M_NAME_MAX)
                        return false;
                if (!is_lower_alnum(s[i]) && s[i] != '_' && s[i] != '-')
                        return false;
        }
        return true;
}

static const char *const overlay_type_table[_L4M_OVERLAY_TYPE_MAX] = {
        [L4M_OVERLAY_WORKSHOP] = "workshop",
        [L4M_OVERLAY_SCRIPT] = "script",
        [L4M_OVERLAY_ARCHIVE] = "archive",
};

const char *l4m_overlay_type_to_string(L4mOverlayType t) {
        if (t < 0 || t >= _L4M_OVERLAY_TYPE_MAX)
                return NULL;
        return overlay_type_table[t];
}

L4mOverlayType l4m_overlay_type_from_string(const char *s) {
        if (!s)
                return _L4M_OVERLAY_TYPE_INVALID;
        for (int t = 0; t < _L4M_OVERLAY_TYPE_MAX; t++)
                if (strcmp(s, overlay_type_table[t]) == 0)
                        return t;
        return _L4M_OVERLAY_TYPE_INVALID;
}
