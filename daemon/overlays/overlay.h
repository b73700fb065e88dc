/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/overlays/: overlays: their records and rules, their bus objects, and wiping one. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

#include "actor.h"
#include "job.h"
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
        GArray *item_details;   /* OverlayItemDetail: what the last Workshop build learnt, in item order */
        /* The state when the running job began, to go back to when it fails
         * without touching the content; NULL when no job changed it. */
        char *state_before_job;
};

typedef struct OverlayItemDetail {
        uint64_t id;
        char *title;
        uint64_t size;          /* bytes */
        uint64_t updated;       /* µs since the epoch, 0 if unknown */
        char *status;           /* ok, private, removed, other-game, failed */
} OverlayItemDetail;

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

/* The engine's rules for overlays. Each returns 0, or a negative errno
 * with a text in *ret_problem (problem.h); the setters and the job
 * submission check everything themselves and announce changed properties.
 * The check_* functions let the bus refuse a bad request before it asks
 * polkit. */

/* -EINVAL unless name is a valid name. */
int overlay_check_name(const char *name, char **ret_problem);
/* -EBUSY while a job works on o. */
int overlay_check_no_job(Overlay *o, char **ret_problem);
/* -EBUSY while a job works on o or an export of it is in flight
 * (overlay-export.h): what every change checks. */
int overlay_check_idle(Overlay *o, char **ret_problem);
/* -EBUSY while a running server has o in its stack; how says it in the
 * text ("is mounted by"). Names only the instances actor sees. */
int overlay_check_unmounted(Overlay *o, const Actor *actor, const char *how, char **ret_problem);
/* -EINVAL unless o is of type; what says what only that type has. */
int overlay_check_type(Overlay *o, L4mOverlayType type, const char *what, char **ret_problem);
/* -EINVAL unless o is a Workshop overlay and n <= OVERLAY_ITEMS_MAX. */
int overlay_check_items(Overlay *o, size_t n, char **ret_problem);
/* -EINVAL unless o is an archive overlay, url "" or valid
 * (overlay_source_url_is_valid()) and checksum valid. */
int overlay_check_source(Overlay *o, const char *url, const char *checksum, char **ret_problem);
/* -EINVAL unless url is "" or valid and checksum valid (any type). */
int overlay_check_source_values(const char *url, const char *checksum, char **ret_problem);
/* -EINVAL unless o is a script overlay and script (if not NULL) has at
 * most OVERLAY_SCRIPT_MAX bytes. */
int overlay_check_script(Overlay *o, const char *script, char **ret_problem);
/* -EINVAL unless o has what its Build needs (items, a source, a script). */
int overlay_check_buildable(Overlay *o, char **ret_problem);

/* An http(s) URL of printable ASCII, at most 2048 bytes, without
 * user:password@: properties and job messages are readable by every local
 * user, so no secret may ride along in it. */
bool overlay_source_url_is_valid(const char *s);
/* "", "md5:<32 hex digits>" or "sha256:<64 hex digits>". */
bool overlay_checksum_is_valid(const char *s);

int overlay_set_items(Overlay *o, const uint64_t *items, size_t n, char **ret_problem);
int overlay_set_source(Overlay *o, const char *url, const char *checksum, char **ret_problem);
int overlay_set_script(Overlay *o, const char *script, char **ret_problem);
/* The script of a script overlay (-EINVAL for another type). */
int overlay_get_script(Overlay *o, char **ret_script, char **ret_problem);

/* Queues a job of kind on o for actor (taking data, freed on every path):
 * -EBUSY while another job works on o or a server has it mounted. */
int overlay_submit_job(Overlay *o, const Actor *actor, const JobKind *kind, void *data, Job **ret,
                       char **ret_problem);

/* Build: the job of o's type (overlay-bus.c), after
 * overlay_check_buildable(); archive_options (NULL: the defaults) say
 * where an archive overlay's fetched archive goes. */
typedef struct ArchiveImportOptions ArchiveImportOptions;
int overlay_submit_build(Overlay *o, const Actor *actor, const ArchiveImportOptions *archive_options, Job **ret,
                         char **ret_problem);
/* What o's owner needs to build it: org.left4me.script.run for a script
 * overlay, org.left4me.overlay.manage for the others. */
const char *overlay_build_action(const Overlay *o);

/* Records a state change (and, with a build, its time and size). */
void overlay_set_state(Overlay *o, const char *state, uint64_t last_build, uint64_t size);
/* A build or import that ended without success. content_intact: the
 * overlay's tree is what it was before the job (nothing was put in place),
 * so State goes back to what it was then ("ready", "empty", or "failed" if
 * it was that already); otherwise "failed" (LastBuild still tells whether
 * earlier content is there). A cancelled job (-ECANCELED) changed nothing. */
void overlay_build_failed(Overlay *o, int r, bool content_intact);
/* Records what a Workshop build learnt of o's items (WorkshopItemDetails),
 * in the store and on the bus. */
void overlay_set_item_details(Overlay *o, const StoreItemDetail *details, size_t n);
/* Loads the item lists and item details of all overlays (at start). */
int manager_load_overlay_items(Manager *m);

/* Adds an overlay loaded from the store to the manager's tables. */
int overlay_add(Manager *m, const StoreOverlay *row, Overlay **ret);
void overlay_free(Overlay *o);

/* What a new overlay starts with (CreateOverlay's options); NULL/0 for
 * what is not given. Each is for one type only: items for Workshop
 * overlays, source_url and source_checksum for archive overlays, script for
 * script overlays, with the rules of their setters. */
typedef struct OverlaySettings {
        const uint64_t *items;
        size_t n_items;
        const char *source_url;
        const char *source_checksum;
        const char *script;
} OverlaySettings;

/* -EINVAL unless every setting given suits type and its rules. */
int overlay_check_settings(L4mOverlayType type, const OverlaySettings *settings, char **ret_problem);

/* Creates an overlay for actor (its owner) with settings (NULL: none): row,
 * settings and directory together, all checked before anything is made; the
 * directory is made (and synced) inside the row's transaction, so a crash
 * leaves at worst a directory without a row, which the start-up sweep
 * removes. -EINVAL for a bad name or setting, -EEXIST if the name is taken,
 * -EDQUOT if the owner has MANAGER_OVERLAYS_PER_OWNER_MAX already. Announces
 * the object. */
int overlay_create(Manager *m, const Actor *actor, const char *name, L4mOverlayType type,
                   const OverlaySettings *settings, Overlay **ret, char **ret_problem);

/* Deletes the row, then the directory (in the background), announcing the
 * object's removal. -EBUSY while a job works on it, a blueprint names it
 * or a running server has it mounted. o is freed. */
int overlay_delete(Overlay *o, const Actor *actor, char **ret_problem);

Overlay *manager_find_overlay_by_path(Manager *m, const char *path);

/* Removes every entry of overlays/ that is not the directory of a row. */
int manager_sweep_overlay_dirs(Manager *m);

/* overlay-bus.c */
extern const sd_bus_vtable overlay_vtable[];
/* ListOverlays, CreateOverlay, GetOverlay on the manager. */
extern const sd_bus_vtable overlay_manager_vtable[];
int overlay_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                        void **ret_found, sd_bus_error *error);
int overlay_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***ret_nodes,
                            sd_bus_error *error);
