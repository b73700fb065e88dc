/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <sqlite3.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "config-file.h"
#include "delegation.h"
#include "journal-stream.h"
#include "login-throttle.h"
#include "password-hash.h"
#include "polkit.h"

typedef struct Overlay Overlay;
typedef struct Job Job;
typedef struct Blueprint Blueprint;
typedef struct Instance Instance;
typedef struct ScriptUids ScriptUids;
typedef struct Schedule Schedule;

typedef struct Manager {
        sd_event *event;
        sd_bus *bus;
        sqlite3 *db;
        PolkitRegistry *polkit;
        DelegationRegistry *delegations; /* bus connections acting for web accounts */
        PasswordHasher *password_hasher;
        LoginThrottle *login_failures_by_user;       /* failed Logins per web account */
        LoginThrottle *login_failures_by_connection; /* … and per bus connection */
        GHashTable *logins;             /* Login calls not answered yet: Login* (owned) */
        Config *config;
        char *conf_dir;

        char *state_dir;
        int state_fd;
        int overlays_fd;
        int jobs_fd;
        int cache_fd;                   /* workshop_cache/ */
        int runtime_fd;                 /* runtime/ */
        int backups_fd;                 /* backups/ */

        GHashTable *overlays_by_id;     /* &Overlay.id → Overlay* (owned) */
        GHashTable *overlays_by_name;   /* Overlay.name → Overlay* */
        GHashTable *blueprints_by_id;   /* &Blueprint.id → Blueprint* (owned) */
        GHashTable *blueprints_by_name; /* Blueprint.name → Blueprint* */
        GHashTable *instances_by_id;    /* &Instance.id → Instance* (owned) */
        GHashTable *instances_by_name;  /* Instance.name → Instance* */
        unsigned instances_unknown;     /* instances whose unit state is not learnt yet */
        bool autostart_pending;         /* after boot: autostart once they are all known */
        GHashTable *schedules_by_id;    /* &Schedule.id → Schedule* (owned) */
        GHashTable *schedules_by_name;  /* Schedule.name → Schedule* */
        GHashTable *jobs_by_id;         /* &Job.id → Job* (owned) */
        GHashTable *job_kinds;          /* name → const JobKind* */
        sd_event_source *job_dispatch;  /* deferred: start queued jobs */
        sd_event_source *job_prune_timer;
        ScriptUids *script_uids;        /* the uids script runs hold */
        JournalStreamSet *journal_streams; /* Instance.OpenLog readers */
        GPtrArray *overlay_exports;     /* Overlay.Export streams in flight (overlay-export.h) */

        int64_t start_usec;             /* CLOCK_MONOTONIC at process start */

        /* The game (game-install.h), as last read from the installation. */
        bool game_installed;
        char *game_build_id;            /* "" when not installed */
        char *steam_login;              /* the stored Steam account, "" for anonymous */
} Manager;

/* Overlays one principal may own; bounds what a caller can make us keep. */
#define MANAGER_OVERLAYS_PER_OWNER_MAX 1000u

int manager_new(const char *state_dir, const char *conf_dir, Manager **ret);
void manager_free(Manager *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Manager, manager_free)

/* Opens the state directory and the store, loads every overlay and removes
 * overlay directories that have no row. */
int manager_load(Manager *m);

void manager_settle_overlay_states(Manager *m);

/* Re-reads the configuration (SIGHUP). */
void manager_reload_config(Manager *m);

unsigned manager_count_overlays_of(Manager *m, const char *owner);

/* manager-bus.c */
int manager_connect_bus(Manager *m);
/* ObjectManager's InterfacesAdded/InterfacesRemoved for an entity's object
 * (removed: while it still resolves). Nothing without a bus (unit tests). */
void manager_emit_object_added(Manager *m, const char *path);
void manager_emit_object_removed(Manager *m, const char *path);
/* PropertiesChanged of the named properties (NULL-terminated) of
 * interface at path. Nothing without a bus. */
void manager_emit_properties_changed(Manager *m, const char *path, const char *interface, ...) G_GNUC_NULL_TERMINATED;

/* user-bus.c: web accounts and Login. */
typedef struct Login Login;
void login_free(Login *l);
extern const sd_bus_vtable user_manager_vtable[];
