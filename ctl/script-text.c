/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Checking the text that 'overlay set-script' and 'blueprint set-cfg' send. */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <glib.h>

#include "script-text.h"

/* sd-bus refuses these in strings (systemd's unichar_is_valid()); GLib's
 * UTF-8 validation has already refused surrogates and what is beyond
 * U+10FFFF. */
static bool unichar_is_noncharacter(gunichar c) {
        return (c >= 0xFDD0 && c <= 0xFDEF) || (c & 0xFFFE) == 0xFFFE;
}

static unsigned long line_of(const char *text, const char *p) {
        unsigned long line = 1;

        for (const char *q = text; q < p; q++)
                if (*q == '\n')
                        line++;
        return line;
}

int script_text_check(const char *text, size_t size, char **ret_problem) {
        const char *p, *end, *nul;

        assert(text || size == 0);
        assert(ret_problem);

        if (size == 0)
                return 0;

        end = text + size;
        nul = memchr(text, '\0', size);
        if (nul) {
                *ret_problem = g_strdup_printf("line %lu: contains a NUL byte", line_of(text, nul));
                return -EINVAL;
        }

        for (p = text; p < end; ) {
                gunichar c;

                if ((unsigned char) *p < 0x80) {
                        p++;
                        continue;
                }

                c = g_utf8_get_char_validated(p, end - p);
                if (c == (gunichar) -1 || c == (gunichar) -2) {
                        *ret_problem = g_strdup_printf("line %lu: not valid UTF-8", line_of(text, p));
                        return -EINVAL;
                }
                if (unichar_is_noncharacter(c)) {
                        *ret_problem = g_strdup_printf("line %lu: contains U+%04X, a noncharacter "
                                                       "that D-Bus cannot carry",
                                                       line_of(text, p), (unsigned) c);
                        return -EINVAL;
                }
                p = g_utf8_next_char(p);
        }

        return 0;
}
