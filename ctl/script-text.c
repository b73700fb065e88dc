/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading and checking the script that 'overlay set-script' sends. */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "script-text.h"

#define READ_CHUNK ((size_t) 64 * 1024)

int read_fd_limited(int fd, size_t max, char **ret, size_t *ret_size) {
        g_autofree char *buf = NULL;
        size_t size = 0, allocated;

        assert(fd >= 0);
        assert(max < SIZE_MAX - 1);
        assert(ret);
        assert(ret_size);

        /* Room for max + 1 bytes (to notice "more") and a NUL. */
        allocated = MIN(max + 2, READ_CHUNK);
        buf = g_malloc(allocated);

        for (;;) {
                ssize_t n;

                if (size + 1 >= allocated) {
                        allocated = MIN(max + 2, allocated * 2);
                        buf = g_realloc(buf, allocated);
                }

                n = read(fd, buf + size, MIN(allocated - 1 - size, max + 1 - size));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > max)
                        return -EFBIG;
        }

        buf[size] = '\0';
        *ret = g_steal_pointer(&buf);
        *ret_size = size;
        return 0;
}

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
