/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <string.h>

#include "zstd-frames.h"

#define ZSTD_MAGIC UINT32_C(0xFD2FB528)
#define SKIPPABLE_MAGIC_MASK UINT32_C(0xFFFFFFF0)
#define SKIPPABLE_MAGIC UINT32_C(0x184D2A50)
#define BLOCK_TYPE_RESERVED 3u
#define BLOCK_TYPE_RLE 1u

enum {
        STATE_MAGIC,            /* 4 bytes */
        STATE_DESCRIPTOR,       /* the frame header descriptor, 1 byte */
        STATE_HEADER_REST,      /* window descriptor, dictionary id, content size */
        STATE_BLOCK_HEADER,     /* 3 bytes */
        STATE_SKIP,             /* block content, checksum, skippable frame's data */
        STATE_SKIPPABLE_SIZE,   /* 4 bytes */
};

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static void expect(ZstdFrames *z, unsigned state, size_t want) {
        z->state = state;
        z->have = 0;
        z->want = want;
}

void zstd_frames_init(ZstdFrames *z) {
        assert(z);
        *z = (ZstdFrames) { 0 };
        expect(z, STATE_MAGIC, 4);
}

/* After the last block (and its checksum): the next frame. */
static void frame_done(ZstdFrames *z) {
        if (!z->skippable)
                z->frames++;
        z->skippable = false;
        expect(z, STATE_MAGIC, 4);
}

/* A header part is complete in z->header. */
static bool header_done(ZstdFrames *z) {
        static const size_t dictionary_size[] = { 0, 1, 2, 4 };
        static const size_t content_size[] = { 0, 2, 4, 8 };
        uint8_t d;
        uint32_t b;

        switch (z->state) {
        case STATE_MAGIC:
                b = le32(z->header);
                if (b == ZSTD_MAGIC)
                        expect(z, STATE_DESCRIPTOR, 1);
                else if ((b & SKIPPABLE_MAGIC_MASK) == SKIPPABLE_MAGIC)
                        expect(z, STATE_SKIPPABLE_SIZE, 4);
                else
                        return false;
                return true;
        case STATE_DESCRIPTOR:
                d = z->header[0];
                if (d & 0x08)   /* reserved bit */
                        return false;
                z->checksum = d & 0x04;
                z->last_block = false;
                /* Window descriptor unless single segment; dictionary id;
                 * content size (1 byte for flag 0 in a single segment). */
                expect(z, STATE_HEADER_REST, (d & 0x20 ? 0 : 1) + dictionary_size[d & 0x03] +
                       ((d >> 6) == 0 ? (d & 0x20 ? 1 : 0) : content_size[d >> 6]));
                if (z->want == 0)
                        expect(z, STATE_BLOCK_HEADER, 3);
                return true;
        case STATE_HEADER_REST:
                expect(z, STATE_BLOCK_HEADER, 3);
                return true;
        case STATE_BLOCK_HEADER:
                b = (uint32_t) z->header[0] | (uint32_t) z->header[1] << 8 | (uint32_t) z->header[2] << 16;
                if (((b >> 1) & 3u) == BLOCK_TYPE_RESERVED)
                        return false;
                z->last_block = b & 1u;
                z->skip = ((b >> 1) & 3u) == BLOCK_TYPE_RLE ? 1 : b >> 3;
                expect(z, STATE_SKIP, 0);
                return true;
        case STATE_SKIPPABLE_SIZE:
                z->skip = le32(z->header);
                z->skippable = true;
                z->last_block = true;
                z->checksum = false;
                expect(z, STATE_SKIP, 0);
                return true;
        default:
                return false;
        }
}

/* The bytes to skip are passed: the next block, the checksum or the next frame. */
static void skip_done(ZstdFrames *z) {
        if (!z->last_block)
                expect(z, STATE_BLOCK_HEADER, 3);
        else if (z->checksum) {
                z->checksum = false;
                z->skip = 4;
                expect(z, STATE_SKIP, 0);
        } else
                frame_done(z);
}

bool zstd_frames_feed(ZstdFrames *z, const void *data, size_t n) {
        const uint8_t *p = data;

        assert(z);
        while (n > 0 && !z->invalid) {
                if (z->state == STATE_SKIP) {
                        size_t k = z->skip < n ? (size_t) z->skip : n;

                        z->skip -= k;
                        p += k;
                        n -= k;
                        if (z->skip == 0)
                                skip_done(z);
                        continue;
                }
                size_t k = z->want - z->have < n ? z->want - z->have : n;

                memcpy(z->header + z->have, p, k);
                z->have += k;
                p += k;
                n -= k;
                if (z->have == z->want && !header_done(z))
                        z->invalid = true;
        }
        /* A block (or skippable frame) of nothing ends where it starts. */
        if (!z->invalid && z->state == STATE_SKIP && z->skip == 0)
                skip_done(z);
        return !z->invalid;
}

bool zstd_frames_complete(const ZstdFrames *z) {
        assert(z);
        return !z->invalid && z->frames > 0 && z->state == STATE_MAGIC && z->have == 0;
}
