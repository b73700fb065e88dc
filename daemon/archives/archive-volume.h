/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/archives/: archive overlays: safe extraction of untrusted archives, the import and fetch jobs. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* Recognises one part of a multi-volume (split) archive from its headers,
 * before libarchive reads it: libarchive reads a lone volume as if it were
 * the whole archive and hands out the split entry short, or no entry at
 * all. Recognised:
 *  - RAR 5 and RAR 1.5–4 volumes (the main header's volume flag);
 *  - zip split or spanned archives (the spanning marker of the first
 *    segment, or a disk number other than 0 in the end of central
 *    directory record of the last one);
 *  - a 7z archive whose start header points past the end of the file,
 *    which is what the first part of a .7z.001 split looks like.
 *
 * fd is a regular file holding the archive from offset base, size bytes.
 * Returns ARCHIVE_VOLUME with *ret_what (g_free()able) describing the part,
 * for example "volume 2 of a multi-volume RAR 5 archive";
 * ARCHIVE_VOLUME_OR_TRUNCATED with *ret_what saying so where the part
 * cannot be told from a truncated archive (7z); 0 for anything else; a
 * negative errno if the file cannot be read. */
enum {
        ARCHIVE_VOLUME = 1,
        ARCHIVE_VOLUME_OR_TRUNCATED = 2,
};

int archive_detect_volume(int fd, off_t base, uint64_t size, char **ret_what);
