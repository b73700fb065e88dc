/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

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

/* Creates the row (and its overlay list) and adds it; -EEXIST if the name
 * is taken, -ENOENT if an overlay id has no row. */
int blueprint_create(Manager *m, const char *name, const char *owner, const uint64_t *overlay_ids, size_t n,
                     const char *server_cfg, char *const *launch_args, Blueprint **ret);
/* Deletes the row; the caller has announced the removal on the bus. b is
 * freed. */
int blueprint_delete(Blueprint *b);

int blueprint_set_overlays(Blueprint *b, const uint64_t *overlay_ids, size_t n);
int blueprint_set_server_cfg(Blueprint *b, const char *server_cfg);
int blueprint_set_launch_args(Blueprint *b, char *const *launch_args);

Blueprint *manager_find_blueprint_by_path(Manager *m, const char *path);
/* Loads every blueprint and its overlays (at start, after the overlays). */
int manager_load_blueprints(Manager *m);
unsigned manager_count_blueprints_of(Manager *m, const char *owner);
/* The names of the blueprints that use overlay_id, sorted; NULL if none. */
GPtrArray *manager_blueprints_using_overlay(Manager *m, uint64_t overlay_id);

/* blueprint-bus.c */
extern const sd_bus_vtable blueprint_vtable[];
int blueprint_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                          void **ret_found, sd_bus_error *error);
int blueprint_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***ret_nodes,
                              sd_bus_error *error);

/* Reads an "as" of overlay names (top first) and resolves them: 1 to
 * BLUEPRINT_OVERLAYS_MAX valid names without duplicates (InvalidArgument),
 * each an existing overlay (NotFound naming it). *ret holds uint64_t ids. */
int bus_read_blueprint_overlays(sd_bus_message *msg, Manager *m, GArray **ret, sd_bus_error *error);
/* Checks launch arguments (InvalidArgument naming the first bad one). */
int bus_check_launch_args(char *const *args, sd_bus_error *error);
/* Checks a ServerCfg text (InvalidArgument). */
int bus_check_server_cfg(const char *text, sd_bus_error *error);
