/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/blueprints/: blueprints: the stacks of overlays, server.cfg and launch arguments a server is made of. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

#include "actor.h"
#include "manager.h"
#include "store.h"

/* A blueprint: what a server instance is made of. A stack of overlays (top
 * first), the text that goes into the server's cfg/server.cfg and extra
 * launch arguments for its command line. A row in the store and, while the
 * daemon runs, an object /org/left4me/Manager/blueprint/<id>. */
struct Blueprint {
        Manager *manager;
        uint64_t id;
        char *name;
        char *owner;
        uint64_t created;       /* µs since the epoch */
        GArray *overlays;       /* uint64_t overlay ids, top first */
        char *server_cfg;
        char **launch_args;     /* NULL-terminated, never NULL itself */
        char *path;
};

/* Limits of what a blueprint may hold; checked at the bus boundary. */
#define BLUEPRINT_OVERLAYS_MAX 256u
#define BLUEPRINT_SERVER_CFG_MAX 65536u
#define BLUEPRINT_LAUNCH_ARGS_MAX 64u
#define BLUEPRINT_LAUNCH_ARG_MAX 256u

/* Blueprints one principal may own. */
#define MANAGER_BLUEPRINTS_PER_OWNER_MAX 1000u

/* NULL if arg may be a launch argument, else why not (a static string):
 * empty, longer than BLUEPRINT_LAUNCH_ARG_MAX bytes, not valid UTF-8, with a
 * control character, or one that left4me sets itself for every server
 * (-game, -port, +port, -ip, +ip, …; compared without regard to case). */
const char *blueprint_launch_arg_problem(const char *arg);
/* NULL if text may be a ServerCfg, else why not. */
const char *blueprint_server_cfg_problem(const char *text);

/* The store's form of launch arguments (one per line) and back. */
char *blueprint_launch_args_join(char *const *args);
char **blueprint_launch_args_split(const char *text);

/* Adds a blueprint loaded from the store to the manager's tables. */
int blueprint_add(Manager *m, const StoreBlueprint *row, Blueprint **ret);
void blueprint_free(Blueprint *b);

/* The engine's rules for blueprints: 0, or a negative errno with a text
 * in *ret_problem (problem.h). The check_* functions let the bus refuse a
 * bad request before it asks polkit; the others check everything again. */
int blueprint_check_name(const char *name, char **ret_problem);
/* -EINVAL unless 1 <= n <= BLUEPRINT_OVERLAYS_MAX. */
int blueprint_check_overlay_count(size_t n, char **ret_problem);
/* -EINVAL for more than BLUEPRINT_LAUNCH_ARGS_MAX arguments or one that
 * blueprint_launch_arg_problem() refuses. */
int blueprint_check_launch_args(char *const *args, char **ret_problem);
/* -EINVAL for a text blueprint_server_cfg_problem() refuses. */
int blueprint_check_server_cfg(const char *text, char **ret_problem);

/* Creates a blueprint for actor (its owner) with the row and its overlay
 * list, and announces it. -EINVAL for a bad name, overlay count, ServerCfg
 * or launch argument, -ENOENT if an overlay id has no overlay, -EEXIST if
 * the name is taken, -EDQUOT if the owner has
 * MANAGER_BLUEPRINTS_PER_OWNER_MAX already. */
int blueprint_create(Manager *m, const Actor *actor, const char *name, const uint64_t *overlay_ids, size_t n,
                     const char *server_cfg, char *const *launch_args, Blueprint **ret, char **ret_problem);
/* Deletes the row and announces the removal; -EBUSY while an instance
 * uses it (naming those actor sees). b is freed. */
int blueprint_delete(Blueprint *b, const Actor *actor, char **ret_problem);

/* Setters: the checks above, then the store, then PropertiesChanged. */
int blueprint_set_overlays(Blueprint *b, const uint64_t *overlay_ids, size_t n, char **ret_problem);
int blueprint_set_server_cfg(Blueprint *b, const char *server_cfg, char **ret_problem);
int blueprint_set_launch_args(Blueprint *b, char *const *launch_args, char **ret_problem);

/* Blueprint.Update: what changes (a member left NULL stays as it is). */
typedef struct BlueprintChanges {
        const uint64_t *overlay_ids;    /* with n_overlays */
        size_t n_overlays;
        const char *server_cfg;
        char *const *launch_args;
} BlueprintChanges;

/* Checks every change first, then writes them all in one transaction and
 * announces them; on any refusal nothing changed. */
int blueprint_update(Blueprint *b, const BlueprintChanges *c, char **ret_problem);

Blueprint *manager_find_blueprint_by_path(Manager *m, const char *path);
/* Loads every blueprint and its overlays (at start, after the overlays). */
int manager_load_blueprints(Manager *m);
unsigned manager_count_blueprints_of(Manager *m, const char *owner);
/* The names of the blueprints that use overlay_id, sorted; NULL if none. */
GPtrArray *manager_blueprints_using_overlay(Manager *m, uint64_t overlay_id);

/* blueprint-bus.c */
extern const sd_bus_vtable blueprint_vtable[];
/* ListBlueprints, CreateBlueprint, GetBlueprint on the manager. */
extern const sd_bus_vtable blueprint_manager_vtable[];
int blueprint_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                          void **ret_found, sd_bus_error *error);
int blueprint_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***ret_nodes,
                              sd_bus_error *error);

/* Reads an "as" of overlay names (top first) and resolves them: 1 to
 * BLUEPRINT_OVERLAYS_MAX valid names without duplicates (InvalidArgument),
 * each an existing overlay (NotFound naming it). *ret holds uint64_t ids. */
int bus_read_blueprint_overlays(sd_bus_message *msg, Manager *m, GArray **ret, sd_bus_error *error);
