/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "l4m-names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Name validation is the only gate between callers and paths, unit names
 * and SQL: whatever it accepts must be short and of the allowed bytes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autofree char *s = g_strndup((const char *) data, size);

        if (l4m_name_is_valid(s)) {
                size_t n = strlen(s);

                g_assert(n >= 1 && n <= L4M_NAME_MAX);
                g_assert(strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n);
                g_assert(s[0] != '_' && s[0] != '-');
        }
        (void) l4m_overlay_type_from_string(s);
        return 0;
}
