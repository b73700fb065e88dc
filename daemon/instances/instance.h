/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "manager.h"
#include "store.h"
#include "systemd-unit.h"

typedef struct RconClient RconClient;
typedef struct A2sQuery A2sQuery;

/* What an instance's State property says. */
#define INSTANCE_STATE_STOPPED "stopped"
#define INSTANCE_STATE_STARTING "starting"
#define INSTANCE_STATE_RUNNING "running"
#define INSTANCE_STATE_STOPPING "stopping"
#define INSTANCE_STATE_RESTARTING "restarting"
#define INSTANCE_STATE_FAILED "failed"

/* A server instance: a row in the store, runtime/<name>/ while it has been
 * started, the unit left4me-server-<name>.service while it runs and, while
 * the daemon runs, an object /org/left4me/Manager/instance/<name-escaped>.
 *
 * Its settings (blueprint, hostname, player limit, start map) are read at
 * each Start(); what it does now (State, MainPID) comes from systemd's
 * signals, what it plays (Map, Players, MaxPlayers) from A2S_INFO. */
struct Instance {
        Manager *manager;
        uint64_t id;
        char *name;
        char *owner;
        uint64_t blueprint_id;
        uint16_t port;
        char *hostname;
        uint32_t max_players;   /* the configured player limit (PlayerLimit) */
        char *map;              /* the map it starts on (StartMap); "" = the game's default */
        bool autostart;
        char *rcon_password;
        uint64_t created;       /* µs since the epoch */
        char *path;
        char *unit;             /* left4me-server-<name>.service */

        /* from systemd */
        UnitTracker *tracker;
        bool state_known;       /* the tracker has looked once */
        bool awaited;           /* autostart waits for its first look */
        char *state;            /* INSTANCE_STATE_* */
        uint32_t main_pid;
        bool unit_exists;
        bool restarting;        /* an automatic or asked-for restart is under way */
        sd_bus_slot *start_call;        /* StartTransientUnit in flight */
        sd_bus_message *start_request;  /* the Start()/Restart() call waiting for it */
        sd_bus_slot *stop_call;         /* StopUnit in flight */
        sd_bus_message *stop_request;   /* the Stop() call waiting for it */
        bool start_after_stop;          /* Restart(): start once the unit is gone */

        /* from the server (A2S_INFO), while it runs */
        char *live_map;
        uint32_t players;
        uint32_t live_max_players;
        sd_event_source *a2s_timer;
        A2sQuery *a2s_query;
        RconClient *rcon;
};

/* Limits checked at the bus boundary. */
#define INSTANCE_HOSTNAME_MAX 64u
#define INSTANCE_MAP_MAX 64u
#define INSTANCE_MAX_PLAYERS_MIN 1u
#define INSTANCE_MAX_PLAYERS_MAX 32u
#define INSTANCE_MAX_PLAYERS_DEFAULT 8u
#define INSTANCE_RCON_PASSWORD_LEN 32u
#define INSTANCE_COMMAND_MAX 4000u

/* Instances one principal may own. */
#define MANAGER_INSTANCES_PER_OWNER_MAX 100u

/* NULL if s may be a hostname (the server's name in the browser), else
 * why not: valid UTF-8 of at most INSTANCE_HOSTNAME_MAX bytes, without
 * control characters, '"' or ';' (it is written into server.cfg). */
const char *instance_hostname_problem(const char *s);
/* True for a map name: [A-Za-z0-9_-]{1,64}. */
bool instance_map_is_valid(const char *s);
/* NULL if s may be an RCON command, else why not. */
const char *instance_command_problem(const char *s);

/* "left4me-server-<name>.service". */
char *instance_unit_name(const char *name);

int instance_add(Manager *m, const StoreInstance *row, Instance **ret);
void instance_free(Instance *i);

/* Creates the row (with a fresh RCON password) and adds it; -EEXIST if the
 * name or the port is taken, -ENOENT if the blueprint has no row. */
int instance_create(Manager *m, const char *name, const char *owner, uint64_t blueprint_id, uint16_t port,
                    const char *hostname, uint32_t max_players, const char *map, bool autostart, Instance **ret);
/* Deletes the row and runtime/<name> (removed in the background) and ends
 * the instance's open logs; the unit must be gone. The caller has
 * announced the removal on the bus. i is freed. -EBUSY if something is
 * still mounted in runtime/<name>. */
int instance_delete(Instance *i);

/* Writes the settings of i to the store (after changing them in i). */
int instance_save(Instance *i);

/* Starts the unit with a fresh RCON password (stored first); the start's
 * outcome reaches reply (may be NULL) as a method return or error. -EBUSY
 * if the unit still exists. */
int instance_start(Instance *i, sd_bus_message *reply_to, sd_bus_error *error);
/* Stops the unit (or forgets a failed one). With reply_to, the Stop() call
 * is answered once systemd accepted or refused the stop: returns 1 then,
 * 0 if there was nothing to wait for (the caller answers). */
int instance_stop(Instance *i, sd_bus_message *reply_to);
int instance_restart(Instance *i, sd_bus_message *reply_to, sd_bus_error *error);
/* True while the unit exists in any state but failed/inactive. */
bool instance_is_active(const Instance *i);

/* Sends command over RCON; reply gets the answer. */
int instance_send_command(Instance *i, sd_bus_message *msg, const char *command, sd_bus_error *error);

Instance *manager_find_instance_by_path(Manager *m, const char *path);
int manager_load_instances(Manager *m);
/* After the bus is up: follow every instance's unit, autostart after boot. */
void manager_start_instances(Manager *m);
unsigned manager_count_instances_of(Manager *m, const char *owner);
/* The names of the instances using blueprint_id, sorted; NULL if none. */
GPtrArray *manager_instances_using_blueprint(Manager *m, uint64_t blueprint_id);
/* The names of the active instances (and of those whose state is not
 * known yet or whose stack is still mounted) that stack overlay_id: the
 * layers of their runtime/<name>/instance.env, what the helper mounted or
 * is about to mount (written before each start, so a start under way
 * counts), not the blueprint's current overlays. Sorted; NULL if none. */
GPtrArray *manager_instances_using_overlay(Manager *m, uint64_t overlay_id);
/* The names of the active instances (a unit that runs, or is on its
 * way), sorted; NULL if none. */
GPtrArray *manager_instances_active(Manager *m);
/* An instance on port, or NULL. */
Instance *manager_find_instance_by_port(Manager *m, uint16_t port);
/* Joins names as "\"a\", \"b\"". */
char *instance_names_join(GPtrArray *names);

/* instance-bus.c */
extern const sd_bus_vtable instance_vtable[];
extern const sd_bus_vtable instance_manager_vtable[];
int instance_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                         void **ret_found, sd_bus_error *error);
int instance_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***ret_nodes,
                             sd_bus_error *error);
/* Emits PropertiesChanged for the named properties (NULL-terminated). */
void instance_emit_changed(Instance *i, ...) G_GNUC_NULL_TERMINATED;
