/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/overlays/: overlays: their records and rules, their bus objects, and wiping one. */
#pragma once

#include <stdint.h>

#include "actor.h"
#include "manager.h"

/* Overlay.Export: the content of an archive or script overlay (which
 * cannot be rebuilt from anywhere else) as a tar.zst stream, importable
 * with ImportArchive. A Worker thread walks overlays/<id>/ by descriptor,
 * never following a symlink (symlinks are stored as symlinks; fifos,
 * sockets and devices are left out), and writes a pax tar compressed with
 * zstd into the write end of a pipe whose read end the client gets.
 * Entries keep their names, modes and mtimes; owners are stored as 0:0.
 *
 * While an export of an overlay is in flight, jobs on it, its setters and
 * its deletion are refused (overlay_check_idle()), so the tree does not
 * change under the stream; several exports of one overlay may run at once. The stream ends when the tree is written (end of file after the
 * archive's end), when the reader closes its end (EPIPE: the thread stops),
 * when the reader has taken nothing for OVERLAY_EXPORT_STALL_SEC, or when
 * the daemon exits; in the last two cases the stream stops without the
 * archive's end, which ImportArchive refuses as truncated. */

/* Exports in flight at once, and per client principal. */
#define OVERLAY_EXPORTS_MAX 16u
#define OVERLAY_EXPORTS_PER_CLIENT_MAX 4u
/* A reader that takes nothing for this long is given up. */
#define OVERLAY_EXPORT_STALL_SEC 300u

/* The read end (O_CLOEXEC, blocking) of the stream of o's content for
 * actor in *ret_fd. -EINVAL for a Workshop overlay, -EBUSY while a job
 * works on o or when the bounds are reached. */
int overlay_export_start(Overlay *o, const Actor *actor, int *ret_fd, char **ret_problem);

/* Exports of the overlay with this id in flight. */
unsigned overlay_exports_count(Manager *m, uint64_t overlay_id);

/* Stops every export and waits for their threads (at shutdown): their
 * readers see the stream end without the archive's end. */
void manager_free_overlay_exports(Manager *m);
