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

char *l4m_format_size(uint64_t n) {
        static const char suffixes[] = "TGMK";

        for (unsigned i = 0; i < 4; i++) {
                unsigned shift = 10 * (4 - i);

                if (n >= (UINT64_C(1) << shift) && n % (UINT64_C(1) << shift) == 0)
                        return g_strdup_printf("%" G_GUINT64_FORMAT "%c", n >> shift, suffixes[i]);
        }
        return g_strdup_printf("%" G_GUINT64_FORMAT, n);
}
