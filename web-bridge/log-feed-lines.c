/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <string.h>

#include "log-feed-lines.h"

void line_splitter_init(LineSplitter *s, uint64_t offset) {
        assert(s);
        s->len = 0;
        s->offset = offset;
        s->skipping = false;
        s->after_cr = false;
}

/* The cut point: not after a lead byte whose sequence does not fit. */
static size_t utf8_cut(const char *buf, size_t len) {
        size_t i = len, cont = 0;

        while (i > 0 && cont < 3 && ((unsigned char) buf[i - 1] & 0xC0) == 0x80) {
                i--;
                cont++;
        }
        if (i > 0 && ((unsigned char) buf[i - 1] & 0xC0) == 0xC0) {
                unsigned char lead = (unsigned char) buf[i - 1];
                size_t need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1;
                if (cont < need)
                        return i - 1;
        }
        return len;
}

static void emit(LineSplitter *s, uint64_t end, LineFunc func, void *userdata) {
        func(s->buf, s->skipping ? utf8_cut(s->buf, s->len) : s->len, s->skipping, end, userdata);
        s->len = 0;
        s->skipping = false;
}

void line_splitter_feed(LineSplitter *s, const char *data, size_t size, LineFunc func, void *userdata) {
        assert(s);
        assert(data || size == 0);
        assert(func);

        for (size_t i = 0; i < size; i++) {
                char c = data[i];

                /* A line ended by CR goes out with the next byte, which
                 * tells whether an LF belongs to its end. */
                if (s->after_cr) {
                        s->after_cr = false;
                        if (c == '\n') {
                                emit(s, ++s->offset, func, userdata);
                                continue;
                        }
                        emit(s, s->offset, func, userdata);
                }
                s->offset++;
                if (c == '\r') {
                        s->after_cr = true;
                        continue;
                }
                if (c == '\n') {
                        emit(s, s->offset, func, userdata);
                        continue;
                }
                if (s->skipping)
                        continue;
                if (s->len == sizeof s->buf) {
                        /* Handed over at its end, so that its offset is
                         * where the next line starts. */
                        s->skipping = true;
                        continue;
                }
                s->buf[s->len++] = c;
        }
}

void line_splitter_finish(LineSplitter *s, LineFunc func, void *userdata) {
        assert(s);

        if (s->len > 0 || s->after_cr)
                emit(s, s->offset, func, userdata);
        s->after_cr = false;
}
