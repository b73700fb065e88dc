/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/workshop/: Workshop overlays: the Steam Web API, the shared download cache, builds linking into it. */
#pragma once

#include <stddef.h>

#include "job.h"
#include "store.h"

/* The Workshop cache and the links into it.
 *
 * Files live once in workshop_cache/<id>/<time_updated>.vpk, shared by
 * every overlay; an overlay holds left4dead2/addons/<id>.vpk, a symlink to
 * the absolute path of its cache file. */

/* "<state>/workshop_cache/<id>/<time>.vpk" */
char *workshop_cache_file_path(const char *state_dir, uint64_t id, uint64_t time_updated);
/* "<time>.vpk" and "<time>.vpk.part", inside the item's cache directory */
char *workshop_cache_file_name(uint64_t time_updated);
char *workshop_cache_part_name(uint64_t time_updated);

/* Makes overlay_fd/left4dead2/addons hold a link for each of links (added
 * or re-pointed atomically), removes links this code made for items not in
 * links (a symlink named <digits>.vpk pointing into the cache), and leaves
 * every other file alone: a foreign file where a link belongs is reported
 * in the job log and skipped. Never follows a symlink on the way. */
int workshop_links_reconcile(Job *j, int overlay_fd, const char *state_dir,
                             const StoreWorkshopLink *links, size_t n_links);
