/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/instances/: server instances: records and rules, units and runtime, RCON, A2S and their logs. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "actor.h"
#include "blueprint.h"
#include "console.h"
#include "l4m-bus-names.h"
#include "manager.h"
#include "store.h"
#include "systemd-unit.h"
#include "worker.h"

/* The resource limits of a server. In an instance's settings and in a
 * request (instance_set_limits()) each field may also be
 * INSTANCE_LIMIT_DEFAULT (follows [Instances] Default*=); in a request
 * INSTANCE_LIMIT_UNCHANGED leaves it as it is. instance_effective_limits()
 * gives what the next start uses: a value or INSTANCE_LIMIT_INFINITY. */
typedef struct InstanceLimits {
        uint64_t cpu_quota_percent;     /* percent of one CPU */
        uint64_t memory_max;            /* bytes */
        uint64_t tasks_max;             /* processes and threads */
        uint64_t disk_max;              /* bytes the server may write into its upper/ */
} InstanceLimits;

#define INSTANCE_LIMIT_INFINITY UINT64_MAX
#define INSTANCE_LIMIT_DEFAULT UINT64_C(0)      /* no limit is 0 */
#define INSTANCE_LIMIT_UNCHANGED (UINT64_MAX - 1)

/* The limits by number, in InstanceLimits' order (and the store's). */
typedef enum InstanceLimit {
        INSTANCE_LIMIT_CPU_QUOTA,
        INSTANCE_LIMIT_MEMORY_MAX,
        INSTANCE_LIMIT_TASKS_MAX,
        INSTANCE_LIMIT_DISK_MAX,
        _INSTANCE_LIMIT_N,
} InstanceLimit;

typedef struct RconClient RconClient;
typedef struct A2sQuery A2sQuery;

/* How a start, a stop or an RCON command that waits for systemd or the
 * server ends: r = 0 (text: the server's reply to a command, else NULL),
 * or a negative errno with a text for whoever asked (problem.h).
 * -ESHUTDOWN when the daemon stops first. */
typedef void (*InstanceDoneFunc)(Instance *i, int r, const char *text, void *userdata);

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
        uid_t uid;              /* its server's uid and gid (UID); 0 until one is free */
        InstanceLimits limits;  /* as set: values, INSTANCE_LIMIT_DEFAULT, INSTANCE_LIMIT_INFINITY */
        GSList *usage_queries;  /* InstanceUsageQuery*, GetUsage under way */
        char *path;
        char *unit;             /* left4me-server-<name>.service */
        ConsoleHub *console;    /* its server's output (console.h) */
        bool console_checked;   /* a running unit without a console was looked for */

        /* from systemd */
        UnitTracker *tracker;
        bool state_known;       /* the tracker has looked once */
        bool awaited;           /* autostart waits for its first look */
        char *state;            /* INSTANCE_STATE_* */
        uint32_t main_pid;
        bool unit_exists;
        bool restarting;        /* an automatic or asked-for restart is under way */
        Worker *disk_worker;            /* a start prepares the disk image (instance-disk.h) */
        bool disk_start_cancelled;      /* halted meanwhile: do not start the unit after it */
        sd_bus_slot *start_call;        /* StartTransientUnit in flight */
        InstanceDoneFunc start_done;    /* who waits for its answer */
        void *start_userdata;
        sd_bus_slot *stop_call;         /* StopUnit in flight */
        InstanceDoneFunc stop_done;     /* who waits for its answer */
        void *stop_userdata;
        bool start_after_stop;          /* Restart(): start once the unit is gone */

        /* from the server (A2S_INFO), while it runs */
        char *live_map;
        uint32_t players;
        uint32_t live_max_players;
        sd_event_source *a2s_timer;
        A2sQuery *a2s_query;
        RconClient *rcon;
};

/* Limits of an instance's settings. */
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

/* The hostname a server gets: hostname, or name when hostname is empty or
 * only blanks (so that no server shows a blank name). */
const char *instance_effective_hostname(const char *hostname, const char *name);

/* The engine's rules for instances: 0, or a negative errno with a text in
 * *ret_problem (problem.h). The check_* functions let the bus refuse a
 * bad request before it asks polkit; the others check everything again. */
int instance_check_name(const char *name, char **ret_problem);
int instance_check_hostname(const char *s, char **ret_problem);
/* A map name, or "" (the game's default) if empty_ok. */
int instance_check_map(const char *s, bool empty_ok, char **ret_problem);
int instance_check_player_limit(uint32_t n, char **ret_problem);
/* -EINVAL unless port is in [Instances] PortMin= .. PortMax=. */
int instance_check_port(Manager *m, uint32_t port, char **ret_problem);
int instance_check_command(const char *command, char **ret_problem);

/* What CreateInstance sets; port 0 takes the lowest free one of the
 * range, hostname NULL the instance's name, map NULL or "" the game's
 * default. */
typedef struct InstanceSettings {
        uint32_t port;
        const char *hostname;
        uint32_t max_players;
        const char *map;
        bool autostart;
} InstanceSettings;

/* A uid of [Instances] FirstUID= .. LastUID= for a new instance, the
 * lowest that no instance has and that owns no runtime/ entry's upper/ or
 * work/ (a deleted instance's files, still being removed, say: a uid is
 * never handed out again while files of its last instance remain).
 * -EUSERS if there is none. */
int manager_allocate_instance_uid(Manager *m, uid_t *ret);
/* Gives i a uid of its own if it has none yet and stores it (the first
 * start does; a restore hands upper/ to it). */
int instance_ensure_uid(Instance *i, char **ret_problem);
/* The limit k of l (a field of InstanceLimits by number), and its names:
 * "cpu_quota", "memory_max", "tasks_max", "disk_max" (SetLimits' keys,
 * l4mctl's) and "CPUQuota", "MemoryMax", "TasksMax", "DiskMax" (the bus
 * properties, the [Instances] Default*=, Max*= keys). */
uint64_t *instance_limits_field(InstanceLimits *l, InstanceLimit k);
uint64_t instance_limits_get(const InstanceLimits *l, InstanceLimit k);
const char *instance_limit_key(InstanceLimit k);
const char *instance_limit_property(InstanceLimit k);
/* The limit called key, or -1. */
int instance_limit_from_key(const char *key);
/* A request that changes nothing. */
void instance_limits_unchanged(InstanceLimits *req);

/* -EINVAL unless value may be limit k's (the ranges of config-file.h,
 * INSTANCE_LIMIT_INFINITY, INSTANCE_LIMIT_DEFAULT), and every field of req
 * (INSTANCE_LIMIT_UNCHANGED too), with a text naming the first that may not. */
int instance_check_limit(InstanceLimit k, uint64_t value, char **ret_problem);
int instance_check_limits(const InstanceLimits *req, char **ret_problem);
/* The [Instances] Default*= and Max*= in force. */
void instance_limits_defaults(Manager *m, InstanceLimits *ret);
void instance_limits_ceilings(Manager *m, InstanceLimits *ret);
/* True if req sets a value above its [Instances] Max*= (infinity above
 * any finite one): only org.left4me.admin may. The default and values up
 * to the ceiling are the owner's to choose. */
bool instance_limits_pass_ceiling(Manager *m, const InstanceLimits *req);
/* What the next start of i uses: its values, the defaults in force for
 * those that follow them; INSTANCE_LIMIT_INFINITY for none. Returns 0. */
int instance_effective_limits(const Instance *i, InstanceLimits *ret);
/* Whether i's limit k follows the default. */
bool instance_limit_is_default(const Instance *i, InstanceLimit k);

/* "left4me-server-<name>.service". */
char *instance_unit_name(const char *name);

int instance_add(Manager *m, const StoreInstance *row, Instance **ret);
void instance_free(Instance *i);

/* Creates an instance of blueprint b for actor (its owner) with a fresh
 * RCON password, follows its unit and announces it. -EINVAL for a bad
 * name or setting, -EEXIST if the name is taken, -EDQUOT if the owner has
 * MANAGER_INSTANCES_PER_OWNER_MAX already, -EADDRINUSE if the port is an
 * instance's (named if actor sees it) or in use on the host, or no port
 * of the range is free; -ENOENT if the blueprint is gone. */
int instance_create(Manager *m, const Actor *actor, const char *name, const Blueprint *b,
                    const InstanceSettings *settings, Instance **ret, char **ret_problem);
/* Deletes the row and runtime/<name> (removed in the background), ends
 * the instance's open logs and announces the removal. -EBUSY while its
 * state is not known yet, its unit is active, or something is still
 * mounted in runtime/<name>. i is freed. */
int instance_delete(Instance *i, char **ret_problem);

/* Setters: checked, stored, announced; used at the next start. -ENOENT if
 * the blueprint was deleted meanwhile. */
int instance_set_hostname(Instance *i, const char *hostname, char **ret_problem);
int instance_set_start_map(Instance *i, const char *map, char **ret_problem);
int instance_set_player_limit(Instance *i, uint32_t n, char **ret_problem);
int instance_set_autostart(Instance *i, bool autostart, char **ret_problem);
int instance_set_blueprint(Instance *i, const Blueprint *b, char **ret_problem);
/* Sets the limits req names (the others INSTANCE_LIMIT_UNCHANGED), all or
 * none: -EINVAL if any is invalid, -EPERM if one passes its ceiling and
 * !may_pass_ceiling (the caller is not an admin). Stored in one write,
 * announced, used at the next start. */
int instance_set_limits(Instance *i, const InstanceLimits *req, bool may_pass_ceiling, char **ret_problem);
/* After the configuration was read again: announces the limits of the
 * instances that follow a default. */
void manager_instances_config_changed(Manager *m);

/* Where the figures of a running server come from: systemd's cgroup
 * accounting (its controllers), or, without them, the unit's cgroup.threads
 * counted (tasks only: the server's /proc is hidden from the daemon). */
typedef enum InstanceUsageSource {
        INSTANCE_USAGE_SOURCE_NONE,
        INSTANCE_USAGE_SOURCE_SYSTEMD,
        INSTANCE_USAGE_SOURCE_CGROUP_THREADS,
} InstanceUsageSource;
/* "systemd", "cgroup.threads"; NULL for none. */
const char *instance_usage_source_to_string(InstanceUsageSource s);

/* What a server uses now (instance-usage.c). UINT64_MAX where it is not
 * known: memory, tasks and CPU time come from systemd (its cgroup
 * accounting) while the unit is active, tasks without the pids controller
 * from the unit's cgroup.threads, disk_used from upper/. */
typedef struct InstanceUsage {
        bool running;                   /* the unit was active: systemd was asked */
        InstanceUsageSource source;     /* of memory_current and tasks_current */
        uint64_t memory_current;        /* bytes */
        uint64_t tasks_current;
        uint64_t cpu_usage_nsec;
        uint64_t disk_used;             /* bytes the server wrote into upper/ */
        InstanceLimits limits;          /* the effective limits, for comparison */
} InstanceUsage;
typedef struct InstanceUsageQuery InstanceUsageQuery;
typedef void (*InstanceUsageFunc)(Instance *i, int r, const InstanceUsage *usage, void *userdata);
#define INSTANCE_USAGE_QUERIES_MAX 8u
/* Measures asynchronously; done gets r = 0 and what could be learnt (1
 * returned), or -ESHUTDOWN when the instance goes first. -EBUSY with
 * INSTANCE_USAGE_QUERIES_MAX under way already. */
int instance_query_usage(Instance *i, InstanceUsageFunc done, void *userdata);
void instance_usage_queries_cancel(Instance *i);
/* Bytes in the files of runtime/<name>/upper (-ENOENT if there is none);
 * for a Worker thread. */
int instance_runtime_disk_used(int runtime_fd, const char *name, uint64_t *ret);
/* The lines of cgroup.threads of the cgroup at path (systemd's
 * ControlGroup, below /sys/fs/cgroup): the unit's threads, counted without
 * the pids controller. For a Worker thread. */
int cgroup_count_threads(const char *path, uint64_t *ret);

/* Starts the unit with a fresh RCON password (stored first). 1 when
 * systemd was asked: done (may be NULL) then gets its answer. -EBUSY while
 * the state is not known, it is active, the game is being installed, an
 * overlay is busy or never built, -EADDRINUSE if its port is in use,
 * -ENOENT if its blueprint or an overlay is gone. */
int instance_start(Instance *i, InstanceDoneFunc done, void *userdata, char **ret_problem);
/* Stops the unit (or forgets a failed one). 1 if done gets systemd's
 * answer, 0 if there is nothing to wait for (or another stop waits for it
 * already): the caller answers at once. -EBUSY while it is starting. */
int instance_stop(Instance *i, InstanceDoneFunc done, void *userdata, char **ret_problem);
/* The same without the rule, for the daemon's own stops (a game update
 * stops a starting server too). */
int instance_halt(Instance *i, InstanceDoneFunc done, void *userdata);
/* Stops and starts afresh (0: under way, the caller answers), or starts a
 * stopped one (1: done gets the start's answer). -EBUSY while starting. */
int instance_restart(Instance *i, InstanceDoneFunc done, void *userdata, char **ret_problem);
/* True while the unit exists in any state but failed/inactive. */
bool instance_is_active(const Instance *i);

/* Sends command over RCON; done gets the server's reply (1 returned) or
 * the failure. -EINVAL for a command that is refused, -EBUSY unless it
 * runs or with too many commands waiting. */
int instance_send_command(Instance *i, const char *command, InstanceDoneFunc done, void *userdata,
                          char **ret_problem);

Instance *manager_find_instance_by_path(Manager *m, const char *path);
int manager_load_instances(Manager *m);
/* At start-up, before the units are followed: the consoles' read ends that
 * systemd kept in its store (sd_listen_fds_with_names()) go back to their
 * instances; others are closed and taken out of the store. */
void manager_adopt_consoles(Manager *m);
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
/* authorize_call() for what acts on instance i (backup-bus.c too): its
 * owner needs owner_action, anyone else org.left4me.admin. */
int instance_authorize(Instance *i, sd_bus_message *msg, const char *owner_action, const char *verb, Actor *ret_actor,
                       sd_bus_error *error);
extern const sd_bus_vtable instance_manager_vtable[];
int instance_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                         void **ret_found, sd_bus_error *error);
int instance_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***ret_nodes,
                             sd_bus_error *error);
/* Emits PropertiesChanged for the named properties (NULL-terminated). */
#define instance_emit_changed(i, ...) \
        manager_emit_properties_changed((i)->manager, (i)->path, L4M_INSTANCE_INTERFACE, __VA_ARGS__)
