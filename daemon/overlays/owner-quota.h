/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/overlays/: overlays: their records and rules, their bus objects, and wiping one. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

#include "job.h"
#include "manager.h"
#include "store.h"

/* [Overlays] OwnerMaxBytes=: what one owner's overlays may hold in all.
 *
 * An owner's use is the recorded Size of each of its archive and script
 * overlays, plus each Workshop cache file (workshop_cache/<id>/<time>.vpk)
 * that any of its Workshop overlays links to, counted once however many of
 * them link it (and once for every owner that links it). Nothing walks a
 * tree here: sizes are those the builds recorded (Overlay.size, the
 * workshop_links size column), so a check is one query.
 *
 * A check is made against the use when a job begins its work; two jobs of
 * one owner running at once are each checked against what the other had
 * not yet recorded. */

/* The quota in force, UINT64_MAX for none. */
uint64_t owner_quota_max(Manager *m);

/* Bytes owner's overlays hold, leaving out overlay exclude_id (0: none). */
int owner_quota_usage(Manager *m, const char *owner, uint64_t exclude_id, uint64_t *ret);

/* What overlay o may hold without its owner's overlays passing the quota
 * (its present content not counted): UINT64_MAX without a quota. */
int owner_quota_room(Overlay *o, uint64_t *ret);

/* "Storage quota exceeded: alice's overlays use 180 MiB of [Overlays]
 * OwnerMaxBytes=200 MiB; " followed by what (a sentence end); the use
 * counts o as holding overlay_size bytes, or what it was recorded to hold
 * (UINT64_MAX). */
char *owner_quota_problem(Overlay *o, uint64_t overlay_size, const char *what_format, ...) G_GNUC_PRINTF(3, 4);

/* "12 MiB", "1.5 GiB", "512 bytes". */
char *owner_quota_format_bytes(uint64_t n);

/* A Workshop build that would link links (n, with the sizes Steam gave):
 * 0, or -EDQUOT with a text if its owner's overlays would then pass the
 * quota (cache files its other overlays link already add nothing). */
int owner_quota_check_links(Overlay *o, const StoreWorkshopLink *links, size_t n, char **ret_problem);

/* Measures the cache files of links recorded without a size (rows from
 * before sizes were kept). At start. */
void owner_quota_measure_links(Manager *m);

/* A script run writes into its overlay's directory in place: this watch
 * measures the directory on a Worker every OWNER_QUOTA_WATCH_USEC and
 * stops the unit once the overlay holds more than owner_quota_room()
 * allowed when the run began. NULL without a quota. */
#define OWNER_QUOTA_WATCH_USEC (2 * G_USEC_PER_SEC)
typedef struct OwnerQuotaWatch OwnerQuotaWatch;
OwnerQuotaWatch *owner_quota_watch_new(Overlay *o, Job *j, const char *unit);
OwnerQuotaWatch *owner_quota_watch_free(OwnerQuotaWatch *w);
/* The unit's LimitFSIZE=: the room, so no single file passes it; 0 for
 * no limit (no watch). */
uint64_t owner_quota_watch_file_size_max(const OwnerQuotaWatch *w);
/* Once the run ended and the overlay measured size bytes: unless the run
 * was cancelled, a run that passed the room becomes -EDQUOT with the
 * quota's text in *message (replacing it). Stops the watch. */
void owner_quota_watch_verdict(OwnerQuotaWatch *w, uint64_t size, int *result, char **message);

/* org.left4me.Manager's GetStorageUsage and ListStorageUsage. */
extern const sd_bus_vtable owner_quota_manager_vtable[];
