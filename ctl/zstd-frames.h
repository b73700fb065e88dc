/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether a byte stream is whole zstd frames (RFC 8878), without
 * decompressing: frame headers and block headers are read and block
 * contents skipped. The daemon's streams (an overlay's export) end with
 * the archive's last frame only when they are complete; one cut short
 * (the daemon stopped, a stalled reader given up) ends inside a frame,
 * which l4mctl notices so as not to put a truncated file in place. */

typedef struct ZstdFrames {
        unsigned state;
        uint8_t header[18];     /* the part of a header being collected */
        size_t have, want;      /* bytes of it collected, and needed */
        uint64_t skip;          /* bytes of block content (or a skippable frame) still to pass */
        bool checksum;          /* the frame ends with a content checksum */
        bool last_block;
        bool skippable;         /* in a skippable frame (metadata, no data) */
        uint64_t frames;        /* complete frames of data so far */
        bool invalid;
} ZstdFrames;

void zstd_frames_init(ZstdFrames *z);
/* Takes the next n bytes; false once the stream is not zstd frames. */
bool zstd_frames_feed(ZstdFrames *z, const void *data, size_t n);
/* At the end of the stream: at least one frame of data, and nothing after
 * the last complete frame. */
bool zstd_frames_complete(const ZstdFrames *z);
