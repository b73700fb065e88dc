/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/archives/: archive overlays: safe extraction of untrusted archives, the import and fetch jobs. */
#pragma once

#include <stdint.h>

/* Copies an archive that arrives through a pipe or socket into an unlinked
 * file, so that every import reads a regular file, seeking as the format
 * wants: a zip from a pipe would otherwise be walked through its local
 * headers and from a file listed by its central directory, and the two can
 * be made to disagree.
 *
 * Reads fd to its end into a new file in the directory dir_fd that has no
 * name (O_TMPFILE, or a name removed at once where the file system lacks
 * it), polling *cancel (if not NULL) at least every 100 ms while the sender
 * is silent. progress (if not NULL) is told the bytes copied so far about
 * every 64 KiB. Returns the new file's descriptor, positioned at 0, with
 * *ret_size its size; or a negative errno:
 *   -EFBIG        more than max_bytes arrived
 *   -ECANCELED    *cancel became non-zero
 *   other         reading fd, or creating or writing the file */
typedef void (*ArchiveSpoolProgress)(uint64_t bytes, void *userdata);

int archive_spool(int fd, int dir_fd, uint64_t max_bytes, const volatile int *cancel,
                  ArchiveSpoolProgress progress, void *userdata, uint64_t *ret_size);
