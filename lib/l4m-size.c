/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include <glib.h>

#include "l4m-size.h"

bool l4m_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *ret) {
        static const char suffixes[] = "KMGT";
        g_autofree char *digits = NULL;
        const char *suffix;
        size_t len = strlen(s);
        unsigned shift = 0;
        guint64 n;

        if (len == 0)
                return false;
        suffix = strchr(suffixes, g_ascii_toupper(s[len - 1]));
        if (suffix) {
                shift = 10 * (unsigned) (suffix - suffixes + 1);
                len--;
        }
        digits = g_strndup(s, len);
        if (!g_ascii_string_to_unsigned(digits, 10, 0, UINT64_MAX >> shift, &n, NULL))
                return false;
        n <<= shift;
        if (n < min || n > max)
                return false;
        *ret = n;
        return true;
}
