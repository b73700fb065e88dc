/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/overlays/: overlays: their records and rules, their bus objects, and wiping one. */
#pragma once

#include "job.h"
#include "overlay.h"

/* The "overlay-wipe" job: empties an overlay. An empty directory is
 * swapped in for the overlay's in one renameat2(RENAME_EXCHANGE), so the
 * overlay is never half-wiped; the old tree is then removed by a thread,
 * as root, descriptor by descriptor: symlinks are removed, never followed,
 * and nothing on another mount is touched (whatever a script left there).
 * Restartable: a wipe interrupted by a crash is simply done again, and the
 * start-up sweep removes the old tree. */

typedef struct OverlayWipe OverlayWipe;

extern const JobKind overlay_wipe_kind;

OverlayWipe *overlay_wipe_new(Overlay *o);
