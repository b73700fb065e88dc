/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Splits a byte stream into lines for log events. A line ends at LF, CR
 * LF or a lone CR (progress output redraws its line with CR); the end is
 * not part of the line. A line longer than LOG_LINE_MAX bytes is cut
 * there (never inside a UTF-8 sequence) and handed over with cut set
 * when its end arrives; the rest of it is skipped. Each line comes with the stream offset just
 * after its end, so that a reader can resume behind it. */

#define LOG_LINE_MAX 4096u
#define LOG_LINE_CUT_MARKER "…[cut]"

typedef void (*LineFunc)(const char *line, size_t len, bool cut, uint64_t end_offset, void *userdata);

typedef struct LineSplitter {
        char buf[LOG_LINE_MAX];
        size_t len;
        uint64_t offset;        /* bytes consumed so far */
        bool skipping;          /* the rest of a cut line */
        bool after_cr;          /* buf is a line ended by CR, not handed over yet */
} LineSplitter;

/* offset: where in the stream the first byte fed will be. */
void line_splitter_init(LineSplitter *s, uint64_t offset);
void line_splitter_feed(LineSplitter *s, const char *data, size_t size, LineFunc func, void *userdata);
/* At the end of the stream: a last line without its end. */
void line_splitter_finish(LineSplitter *s, LineFunc func, void *userdata);
