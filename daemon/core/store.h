/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <sqlite3.h>

/* The SQLite store: the daemon is its only user. WAL, synchronous=FULL,
 * foreign keys on; every write runs inside store_begin()/store_commit()
 * (BEGIN IMMEDIATE). Schema migrations are applied in one transaction at
 * open and recorded in PRAGMA user_version. */

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sqlite3_stmt, sqlite3_finalize)

typedef struct StoreOverlay {
        uint64_t id;
        const char *name;
        const char *type;
        const char *owner;
        const char *state;
        uint64_t created;       /* µs since the epoch */
        uint64_t last_build;    /* µs since the epoch of the last successful build, 0 = never */
        uint64_t size;          /* bytes its last build made */
        const char *source_url;         /* archive overlays: "" or where Build fetches from */
        const char *source_checksum;    /* "", "md5:<hex>" or "sha256:<hex>" */
        uint64_t script_size;           /* bytes of a script overlay's script (read-only here) */
        /* Written by store_overlay_insert() only (NULL/0: none); the items
         * in store_overlay_insert_items(). */
        const char *script;
} StoreOverlay;

int store_open(const char *path, sqlite3 **ret);
void store_close(sqlite3 *db);
int store_schema_version(sqlite3 *db);
int store_schema_latest(void);

int store_begin(sqlite3 *db);
int store_commit(sqlite3 *db);
void store_rollback(sqlite3 *db);

/* -EEXIST if the name is taken. Writes the source and script too; runs
 * inside the caller's transaction. */
int store_overlay_insert(sqlite3 *db, const StoreOverlay *o, uint64_t *ret_id);
/* The items of a new overlay, inside the caller's transaction. */
int store_overlay_insert_items(sqlite3 *db, uint64_t id, const uint64_t *items, size_t n_items);
/* -ENOENT if there is no such row. */
int store_overlay_delete(sqlite3 *db, uint64_t id);
/* Calls cb for every overlay row, in id order; a negative return stops. */
typedef int (*StoreOverlayFunc)(const StoreOverlay *o, void *userdata);
int store_overlay_foreach(sqlite3 *db, StoreOverlayFunc cb, void *userdata);

typedef struct StoreJob {
        uint64_t id;
        const char *kind;
        const char *target;
        const char *owner;
        const char *state;
        const char *message;
        unsigned attempts;
        uint64_t created, started, finished;    /* µs since the epoch, 0 = not yet */
} StoreJob;

int store_job_insert(sqlite3 *db, const StoreJob *j, uint64_t *ret_id);
/* Writes state, message, attempts, started and finished of row j->id. */
int store_job_update(sqlite3 *db, const StoreJob *j);
int store_job_delete(sqlite3 *db, uint64_t id);
typedef int (*StoreJobFunc)(const StoreJob *j, void *userdata);
int store_job_foreach(sqlite3 *db, StoreJobFunc cb, void *userdata);

/* store-overlay.c: what overlays are built from and what builds made. */
int store_overlay_set_state(sqlite3 *db, uint64_t id, const char *state, uint64_t last_build, uint64_t size);
int store_overlay_set_source(sqlite3 *db, uint64_t id, const char *url, const char *checksum);
int store_overlay_set_script(sqlite3 *db, uint64_t id, const char *script);
/* The script as a new string; -ENOENT if there is no such row. */
int store_overlay_get_script(sqlite3 *db, uint64_t id, char **ret);
int store_overlay_set_items(sqlite3 *db, uint64_t id, const uint64_t *items, size_t n_items);
/* What a Workshop overlay's last build learnt of one item. */
typedef struct StoreItemDetail {
        uint64_t published_id;
        const char *title;
        uint64_t size;                  /* bytes */
        uint64_t time_updated;          /* µs since the epoch */
        const char *status;             /* ok, private, removed, other-game, failed */
} StoreItemDetail;
/* Replaces the overlay's item details with the n given, in one transaction. */
int store_overlay_details_set(sqlite3 *db, uint64_t id, const StoreItemDetail *details, size_t n);
typedef int (*StoreItemDetailFunc)(uint64_t overlay_id, const StoreItemDetail *detail, void *userdata);
/* Every overlay's details, by overlay and position. */
int store_overlay_details_foreach(sqlite3 *db, StoreItemDetailFunc cb, void *userdata);
typedef int (*StoreItemFunc)(uint64_t overlay_id, uint64_t published_id, void *userdata);
int store_overlay_items_foreach(sqlite3 *db, StoreItemFunc cb, void *userdata);

typedef struct StoreWorkshopLink {
        uint64_t published_id;
        uint64_t time_updated;
        uint64_t size;          /* bytes of the cache file it points to (0: not measured yet) */
} StoreWorkshopLink;
/* Replaces the overlay's links with the n given. */
int store_workshop_links_set(sqlite3 *db, uint64_t overlay_id, const StoreWorkshopLink *links, size_t n);
typedef int (*StoreLinkFunc)(uint64_t overlay_id, const StoreWorkshopLink *link, void *userdata);
int store_workshop_links_foreach(sqlite3 *db, StoreLinkFunc cb, void *userdata);
/* Records the size of the cache file <published_id>/<time_updated>.vpk in
 * every link to it. */
int store_workshop_link_set_size(sqlite3 *db, uint64_t published_id, uint64_t time_updated, uint64_t size);
/* Calls cb once for every distinct cache file (published_id, time_updated)
 * that overlays of owner link to, leaving out the links of overlay
 * exclude_overlay_id (0: none); link->size is the file's size. */
typedef int (*StoreWorkshopFileFunc)(const StoreWorkshopLink *file, void *userdata);
int store_owner_workshop_files_foreach(sqlite3 *db, const char *owner, uint64_t exclude_overlay_id,
                                       StoreWorkshopFileFunc cb, void *userdata);

/* store-blueprint.c: blueprints and the overlays they stack. */
typedef struct StoreBlueprint {
        uint64_t id;
        const char *name;
        const char *owner;
        uint64_t created;       /* µs since the epoch */
        const char *server_cfg;
        const char *launch_args; /* the arguments, one per line ("" for none) */
} StoreBlueprint;

/* Inserts the row and its overlays (ids, top first) in one transaction.
 * -EEXIST if the name is taken, -ENOENT if an overlay id has no row. */
int store_blueprint_insert(sqlite3 *db, const StoreBlueprint *b, const uint64_t *overlay_ids, size_t n,
                           uint64_t *ret_id);
/* -ENOENT if there is no such row. */
int store_blueprint_delete(sqlite3 *db, uint64_t id);
/* Replaces the blueprint's overlays; -ENOENT if an overlay id has no row. */
int store_blueprint_set_overlays(sqlite3 *db, uint64_t id, const uint64_t *overlay_ids, size_t n);
int store_blueprint_set_server_cfg(sqlite3 *db, uint64_t id, const char *server_cfg);
/* In one transaction: the overlays (unless overlay_ids is NULL), the
 * server.cfg and the launch arguments (each unless NULL). -ENOENT if an
 * overlay id has no row; then nothing changed. */
int store_blueprint_update(sqlite3 *db, uint64_t id, const uint64_t *overlay_ids, size_t n, const char *server_cfg,
                           const char *launch_args);
int store_blueprint_set_launch_args(sqlite3 *db, uint64_t id, const char *launch_args);
typedef int (*StoreBlueprintFunc)(const StoreBlueprint *b, void *userdata);
int store_blueprint_foreach(sqlite3 *db, StoreBlueprintFunc cb, void *userdata);
/* Every (blueprint, overlay) pair, by blueprint and position (top first). */
typedef int (*StoreBlueprintOverlayFunc)(uint64_t blueprint_id, uint64_t overlay_id, void *userdata);
int store_blueprint_overlays_foreach(sqlite3 *db, StoreBlueprintOverlayFunc cb, void *userdata);

/* store-instance.c: server instances. */
/* An instance's limits in the order cpu_quota, memory_max, tasks_max,
 * disk_max (instance.h, InstanceLimit). */
#define STORE_LIMITS_N 4
#define STORE_LIMIT_INFINITY UINT64_MAX
#define STORE_LIMIT_DEFAULT 0     /* no limit is 0: a row made without limits has the defaults */
typedef struct StoreInstance {
        uint64_t id;
        const char *name;
        const char *owner;
        uint64_t blueprint_id;
        uint16_t port;
        const char *hostname;
        uint32_t max_players;
        const char *map;
        bool autostart;
        const char *rcon_password;
        uint64_t created;       /* µs since the epoch */
        uint32_t uid;           /* what its server runs as; 0 = none allocated yet */
        /* Resource limits, each STORE_LIMIT_DEFAULT (NULL in the row),
         * STORE_LIMIT_INFINITY or a value; written by
         * store_instance_set_limits() only (inserted rows have NULLs). */
        uint64_t limits[STORE_LIMITS_N];
} StoreInstance;

/* -EEXIST if the name, the port or the uid is taken, -ENOENT if the
 * blueprint has no row. */
int store_instance_insert(sqlite3 *db, const StoreInstance *i, uint64_t *ret_id);
/* -ENOENT if there is no such row. */
int store_instance_delete(sqlite3 *db, uint64_t id);
/* Writes blueprint_id, hostname, max_players, map and autostart of row
 * i->id; -ENOENT if the blueprint has no row. */
int store_instance_update(sqlite3 *db, const StoreInstance *i);
/* Replaces the RCON password of row id (a fresh one at each start);
 * -ENOENT if there is no such row. */
int store_instance_set_rcon_password(sqlite3 *db, uint64_t id, const char *password);
/* Gives row id the uid its server runs as; -EEXIST if another row has it,
 * -ENOENT if there is no such row. */
int store_instance_set_uid(sqlite3 *db, uint64_t id, uint32_t uid);
/* Replaces the four limits of row id in one statement; -ENOENT if there
 * is no such row. */
int store_instance_set_limits(sqlite3 *db, uint64_t id, const uint64_t limits[STORE_LIMITS_N]);
typedef int (*StoreInstanceFunc)(const StoreInstance *i, void *userdata);
int store_instance_foreach(sqlite3 *db, StoreInstanceFunc cb, void *userdata);

/* store-user.c: web accounts. */
typedef struct StoreUser {
        const char *name;
        const char *role;               /* "user" or "admin" */
        const char *password_hash;      /* crypto_pwhash_str() output */
        uint64_t created;               /* µs since the epoch */
} StoreUser;

/* -EEXIST if the name is taken. */
int store_user_insert(sqlite3 *db, const StoreUser *u);
/* -ENOENT if there is no such row. */
int store_user_set_password(sqlite3 *db, const char *name, const char *password_hash);
int store_user_delete(sqlite3 *db, const char *name);
/* Role and hash of one account as new strings; -ENOENT if there is none. */
int store_user_get(sqlite3 *db, const char *name, char **ret_role, char **ret_hash);
/* Calls cb for every account, in name order; a negative return stops. */
typedef int (*StoreUserFunc)(const StoreUser *u, void *userdata);
int store_user_foreach(sqlite3 *db, StoreUserFunc cb, void *userdata);

/* store-schedule.c: schedules (daemon/schedules/). */
typedef struct StoreSchedule {
        uint64_t id;
        const char *name;
        const char *owner;
        uint64_t created;               /* µs since the epoch */
        const char *calendar;           /* OnCalendar= */
        const char *action;             /* "start", "stop", ... */
        const char *target;             /* instance or overlay name, "" for the game */
        uint64_t target_id;             /* its id, 0 for the game */
        const char *argument;           /* the RCON command of "command", else "" */
        bool only_if_running;
        bool restart_instances;
        bool stop_server;
        uint64_t randomized_delay_usec;
        bool enabled;
        uint64_t last_trigger;          /* the timer's LastTriggerUSec last consumed */
        uint64_t last_run;              /* µs since the epoch, 0 = never */
        const char *last_result;
        uint64_t last_job;              /* 0 = none */
} StoreSchedule;

/* -EEXIST if the name is taken. */
int store_schedule_insert(sqlite3 *db, const StoreSchedule *s, uint64_t *ret_id);
/* -ENOENT if there is no such row. */
int store_schedule_delete(sqlite3 *db, uint64_t id);
int store_schedule_set_enabled(sqlite3 *db, uint64_t id, bool enabled);
int store_schedule_set_last_trigger(sqlite3 *db, uint64_t id, uint64_t last_trigger);
/* Writes last_run, last_result and last_job of row id. */
int store_schedule_set_last_run(sqlite3 *db, uint64_t id, uint64_t last_run, const char *last_result,
                                uint64_t last_job);
typedef int (*StoreScheduleFunc)(const StoreSchedule *s, void *userdata);
int store_schedule_foreach(sqlite3 *db, StoreScheduleFunc cb, void *userdata);
/* store-backup.c: backups of instances (daemon/backups/). */
typedef struct StoreBackup {
        uint64_t id;
        uint64_t instance_id;
        const char *instance;           /* the instance's name (read only) */
        const char *owner;
        uint64_t created;               /* µs since the epoch */
        uint64_t size;                  /* bytes of the file */
        bool consistent;
} StoreBackup;

/* Inserts the row in a transaction and, before committing it, calls
 * place(id) (the new row's id), which puts the file in place; if place
 * fails the row is rolled back, so a row never names a file that is not
 * there. -ENOENT if the instance has no row. */
typedef int (*StoreBackupPlaceFunc)(uint64_t id, void *userdata);
int store_backup_insert(sqlite3 *db, const StoreBackup *b, StoreBackupPlaceFunc place, void *userdata,
                        uint64_t *ret_id);
/* -ENOENT if there is no such row. */
int store_backup_delete(sqlite3 *db, uint64_t id);
/* Calls cb for the backups of instance instance_id (0: of every
 * instance), newest first; a negative return stops. */
typedef int (*StoreBackupFunc)(const StoreBackup *b, void *userdata);
int store_backup_foreach(sqlite3 *db, uint64_t instance_id, StoreBackupFunc cb, void *userdata);
/* Calls cb with row id; -ENOENT if there is none. */
int store_backup_get(sqlite3 *db, uint64_t id, StoreBackupFunc cb, void *userdata);
/* Bytes of the backups of owner. */
int store_backup_owner_bytes(sqlite3 *db, const char *owner, uint64_t *ret);
