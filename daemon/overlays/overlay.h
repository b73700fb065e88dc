/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>

#include <systemd/sd-bus.h>

#include "l4m-names.h"
#include "manager.h"
#include "store.h"

/* An overlay record: a row in the store, a directory overlays/<id>/ and,
 * while the daemon runs, an object /org/left4me/Manager/overlay/<id>. */
struct Overlay {
        Manager *manager;
        uint64_t id;
        char *name;
        L4mOverlayType type;
        char *owner;
        char *state;
        uint64_t created;
        uint64_t last_build;    /* µs since the epoch, 0 = never built */
        uint64_t size;          /* bytes the last build made */
        GArray *items;          /* uint64_t Workshop ids (items or collections), in order */
        char *source_url;       /* archive overlays: where Build fetches from ("" = none) */
        char *source_checksum;  /* "", "md5:<hex>" or "sha256:<hex>" */
        uint64_t script_size;   /* script overlays: bytes of the script (the text stays in the store) */
        char *path;
};

#define OVERLAY_STATE_EMPTY "empty"
#define OVERLAY_STATE_BUILDING "building"
#define OVERLAY_STATE_READY "ready"
#define OVERLAY_STATE_FAILED "failed"

/* The largest script a script overlay may hold. */
#define OVERLAY_SCRIPT_MAX (256u * 1024u)

/* Workshop references one overlay may hold. */
#define OVERLAY_ITEMS_MAX 4096u

/* "overlay:<id>": the target name of jobs working on it. */
char *overlay_job_target(const Overlay *o);
Overlay *manager_find_overlay_by_job_target(Manager *m, const char *target);

int overlay_set_items(Overlay *o, const uint64_t *items, size_t n);
int overlay_set_source(Overlay *o, const char *url, const char *checksum);
int overlay_set_script(Overlay *o, const char *script);
/* Records a state change (and, with a build, its time and size). */
void overlay_set_state(Overlay *o, const char *state, uint64_t last_build, uint64_t size);
/* A build or import that ended without success: failed (LastBuild still
 * tells whether earlier content is there), or as before if cancelled. */
void overlay_build_failed(Overlay *o, int r);
/* Loads the item lists of all overlays (at start). */
int manager_load_overlay_items(Manager *m);

/* Adds an overlay loaded from the store to the manager's tables. */
int overlay_add(Manager *m, const StoreOverlay *row, Overlay **ret);
void overlay_free(Overlay *o);

/* Creates row and directory together: the directory is made (and synced)
 * inside the row's transaction, so a crash leaves at worst a directory
 * without a row, which the start-up sweep removes. -EEXIST if the name is
 * taken. */
int overlay_create(Manager *m, const char *name, L4mOverlayType type, const char *owner, Overlay **ret);

/* Deletes the row, then the directory; the caller must have announced the
 * object's removal on the bus already. o is freed. */
int overlay_delete(Overlay *o);

Overlay *manager_find_overlay_by_path(Manager *m, const char *path);

/* Removes every entry of overlays/ that is not the directory of a row. */
int manager_sweep_overlay_dirs(Manager *m);

/* overlay-bus.c */
extern const sd_bus_vtable overlay_vtable[];
int overlay_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                        void **ret_found, sd_bus_error *error);
int overlay_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***ret_nodes,
                            sd_bus_error *error);
