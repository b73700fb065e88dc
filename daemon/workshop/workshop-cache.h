/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/workshop/: Workshop overlays: the Steam Web API, the shared download cache, builds linking into it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

#include "manager.h"

typedef struct WorkshopCacheEntry {
        uint64_t published_id;
        char *name;             /* "<time_updated>.vpk" or "<time_updated>.vpk.part" */
        uint64_t size;
        unsigned links;         /* overlays whose last build links to it */
} WorkshopCacheEntry;

/* Every file in workshop_cache/, by id then name; entries are freed with
 * the array. */
int workshop_cache_list(Manager *m, GArray **ret);

/* Removes every cache file no overlay links to (partial downloads too) and
 * directories left empty. -EBUSY (with a text, problem.h) while a Workshop
 * build runs: it may be filling a file no link points to yet. */
int workshop_cache_prune(Manager *m, uint64_t *ret_files, uint64_t *ret_bytes, char **ret_problem);

/* workshop-cache-bus.c: ListCache and PruneCache on the manager. */
extern const sd_bus_vtable workshop_cache_manager_vtable[];
