/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/instances/: server instances: records and rules, units and runtime, RCON, A2S and their logs. */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "a2s.h"
#include "backup.h"
#include "blueprint.h"
#include "bus-util.h"
#include "fs-util.h"
#include "game-install.h"
#include "instance.h"
#include "schedule.h"
#include "instance-disk.h"
#include "instance-runtime.h"
#include "instance-unit.h"
#include "job.h"
#include "journal-stream.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-names.h"
#include "l4m-util.h"
#include "overlay.h"
#include "problem.h"
#include "rcon.h"
#include "userdb-record.h"

/* A2S_INFO while a server runs: right after it started, then every few
 * seconds; sooner again while it does not answer yet (still loading). */
#define A2S_INTERVAL_USEC (5 * G_USEC_PER_SEC)
#define A2S_RETRY_USEC (1 * G_USEC_PER_SEC)
#define A2S_TIMEOUT_USEC (2 * G_USEC_PER_SEC)
#define RCON_TIMEOUT_USEC (10 * G_USEC_PER_SEC)

/* Made after the autostart instances were started: in a runtime directory
 * that survives restarts of the daemon, not of the machine. */
#define AUTOSTART_MARKER "autostart-done"

const char *instance_hostname_problem(const char *s) {
        if (strlen(s) > INSTANCE_HOSTNAME_MAX)
                return "a hostname has at most 64 bytes";
        if (!g_utf8_validate(s, -1, NULL))
                return "a hostname must be valid UTF-8";
        for (const char *p = s; *p; p = g_utf8_next_char(p))
                if (g_unichar_iscntrl(g_utf8_get_char(p)))
                        return "a hostname may not contain control characters";
        /* It is written into server.cfg between quotes. */
        if (strpbrk(s, "\";"))
                return "a hostname may not contain '\"' or ';'";
        return NULL;
}

bool instance_map_is_valid(const char *s) {
        size_t n = strlen(s);

        if (n < 1 || n > INSTANCE_MAP_MAX)
                return false;
        for (const char *p = s; *p; p++)
                if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-')
                        return false;
        return true;
}

const char *instance_command_problem(const char *s) {
        size_t n = strlen(s);

        if (n == 0)
                return "the command is empty";
        if (n > INSTANCE_COMMAND_MAX)
                return "a command has at most 4000 bytes";
        if (!g_utf8_validate(s, -1, NULL))
                return "a command must be valid UTF-8";
        if (strpbrk(s, "\r\n"))
                return "a command is one line";
        return NULL;
}

const char *instance_effective_hostname(const char *hostname, const char *name) {
        for (const char *p = hostname ? hostname : ""; *p; p++)
                if (!g_ascii_isspace(*p))
                        return hostname;
        return name;
}

int instance_check_name(const char *name, char **ret_problem) {
        if (!l4m_name_is_valid(name))
                return problem_setf(ret_problem, -EINVAL,
                                    "Invalid instance name \"%.64s\": names are 1-%d characters of a-z, 0-9, '_' and '-', starting with a letter or digit.",
                                    name, L4M_NAME_MAX);
        return 0;
}

int instance_check_hostname(const char *s, char **ret_problem) {
        const char *problem = instance_hostname_problem(s);

        if (problem)
                return problem_setf(ret_problem, -EINVAL, "Hostname refused: %s.", problem);
        return 0;
}

int instance_check_map(const char *s, bool empty_ok, char **ret_problem) {
        if ((empty_ok && !*s) || instance_map_is_valid(s))
                return 0;
        return problem_setf(ret_problem, -EINVAL, "Invalid map name \"%.64s\": 1-64 characters of A-Z, a-z, 0-9, '_' and '-'%s.",
                            s, empty_ok ? ", or empty" : "");
}

int instance_check_player_limit(uint32_t n, char **ret_problem) {
        if (n < INSTANCE_MAX_PLAYERS_MIN || n > INSTANCE_MAX_PLAYERS_MAX)
                return problem_setf(ret_problem, -EINVAL, "A player limit is %u to %u, not %u.", INSTANCE_MAX_PLAYERS_MIN,
                                    INSTANCE_MAX_PLAYERS_MAX, n);
        return 0;
}

int instance_check_port(Manager *m, uint32_t port, char **ret_problem) {
        const Config *c = m->config;

        if (port < c->instance_port_min || port > c->instance_port_max)
                return problem_setf(ret_problem, -EINVAL,
                                    "Port %u is not available to game servers: choose one from %u to %u.",
                                    port, c->instance_port_min, c->instance_port_max);
        return 0;
}

int instance_check_command(const char *command, char **ret_problem) {
        const char *problem = instance_command_problem(command);

        if (problem)
                return problem_setf(ret_problem, -EINVAL, "Command refused: %s.", problem);
        return 0;
}

char *instance_unit_name(const char *name) {
        return g_strdup_printf("left4me-server-%s.service", name);
}

char *instance_names_join(GPtrArray *names) {
        GString *s = g_string_new(NULL);

        for (guint k = 0; k < names->len; k++)
                g_string_append_printf(s, "%s\"%s\"", k > 0 ? ", " : "", (const char *) names->pdata[k]);
        return g_string_free(s, FALSE);
}

static void instance_live_clear(Instance *i);

void instance_free(Instance *i) {
        if (!i)
                return;
        unit_tracker_free(i->tracker);
        /* Its read ends stay in systemd's store for the next left4med. */
        console_hub_free(i->console);
        instance_usage_queries_cancel(i);
        sd_bus_slot_unref(i->start_call);
        worker_free(i->disk_worker);
        if (i->start_done)
                i->start_done(i, -ESHUTDOWN, "The daemon is stopping.", i->start_userdata);
        sd_bus_slot_unref(i->stop_call);
        if (i->stop_done)
                i->stop_done(i, -ESHUTDOWN, "The daemon is stopping.", i->stop_userdata);
        sd_event_source_disable_unref(i->a2s_timer);
        a2s_query_free(i->a2s_query);
        rcon_client_free(i->rcon);
        g_free(i->live_map);
        g_free(i->name);
        g_free(i->owner);
        g_free(i->hostname);
        g_free(i->map);
        if (i->rcon_password)
                explicit_bzero(i->rcon_password, strlen(i->rcon_password));
        g_free(i->rcon_password);
        g_free(i->path);
        g_free(i->unit);
        g_free(i->state);
        g_free(i);
}

int instance_add(Manager *m, const StoreInstance *row, Instance **ret) {
        Instance *i;
        int r;

        if (!l4m_name_is_valid(row->name))
                return log_error_errno(EINVAL, "Instance %" G_GUINT64_FORMAT " has an invalid name.", row->id);
        if (g_hash_table_contains(m->instances_by_id, &row->id) || g_hash_table_contains(m->instances_by_name, row->name))
                return -EEXIST;

        i = g_new0(Instance, 1);
        i->manager = m;
        i->id = row->id;
        i->name = g_strdup(row->name);
        i->owner = g_strdup(row->owner);
        i->blueprint_id = row->blueprint_id;
        i->port = row->port;
        i->hostname = g_strdup(instance_effective_hostname(row->hostname, row->name));
        i->max_players = row->max_players;
        i->map = g_strdup(row->map ? row->map : "");
        i->autostart = row->autostart;
        i->rcon_password = g_strdup(row->rcon_password);
        i->created = row->created;
        i->uid = row->uid;
        i->limits = (InstanceLimits) {
                .cpu_quota_percent = row->limits[INSTANCE_LIMIT_CPU_QUOTA],
                .memory_max = row->limits[INSTANCE_LIMIT_MEMORY_MAX],
                .tasks_max = row->limits[INSTANCE_LIMIT_TASKS_MAX],
                .disk_max = row->limits[INSTANCE_LIMIT_DISK_MAX],
        };
        i->unit = instance_unit_name(row->name);
        i->state = g_strdup(INSTANCE_STATE_STOPPED);
        {
                g_autofree char *identifier = g_strdup_printf("l4d2-%s", row->name);

                r = console_hub_new(m->event, i->id, i->unit, identifier, &i->console);
                if (r < 0) {
                        instance_free(i);
                        return r;
                }
        }
        i->live_map = g_strdup("");
        r = sd_bus_path_encode(L4M_INSTANCE_PATH_PREFIX, row->name, &i->path);
        if (r < 0) {
                instance_free(i);
                return r;
        }

        g_hash_table_insert(m->instances_by_id, &i->id, i);
        g_hash_table_insert(m->instances_by_name, i->name, i);
        if (ret)
                *ret = i;
        return 0;
}

static void instance_follow(Instance *i);
static void manager_autostart_maybe(Manager *m);

int manager_allocate_instance_uid(Manager *m, uid_t *ret) {
        g_autoptr(GHashTable) used = g_hash_table_new(g_direct_hash, g_direct_equal);
        GHashTableIter it;
        gpointer value;
        int r;

        g_hash_table_iter_init(&it, m->instances_by_id);
        while (g_hash_table_iter_next(&it, NULL, &value))
                if (((Instance *) value)->uid != 0)
                        g_hash_table_add(used, GUINT_TO_POINTER(((Instance *) value)->uid));
        r = instance_runtime_uids_in_use(m, used);
        if (r < 0)
                return r;
        for (unsigned u = m->config->instance_first_uid; u <= m->config->instance_last_uid; u++) {
                if (!g_hash_table_contains(used, GUINT_TO_POINTER(u))) {
                        *ret = (uid_t) u;
                        return 0;
                }
                if (u == UINT_MAX)
                        break;
        }
        return -EUSERS;
}

/* Gives i a uid of its own if it has none (a row of before uids, or the
 * range was full) and stores it. */
int instance_ensure_uid(Instance *i, char **ret_problem) {
        Manager *m = i->manager;
        uid_t uid;
        int r;

        if (i->uid != 0)
                return 0;
        r = manager_allocate_instance_uid(m, &uid);
        if (r == -EUSERS)
                return problem_setf(ret_problem, -EBUSY,
                                    "All user ids for game servers (%u to %u) are taken, so instance \"%s\" cannot get one.",
                                    m->config->instance_first_uid, m->config->instance_last_uid, i->name);
        if (r < 0)
                return log_error_errno(r, "Cannot find a free uid for instance %s: %s", i->name, STRERROR(r));
        r = store_instance_set_uid(m->db, i->id, uid);
        if (r < 0)
                return log_error_errno(r, "Cannot store the uid of instance %s: %s", i->name, STRERROR(r));
        i->uid = uid;
        instance_emit_changed(i, "UID", NULL);
        log_info("Instance %s runs as uid %u.", i->name, (unsigned) uid);
        return 0;
}

/* The lowest port of the range that no instance has and nothing on the
 * host uses; 0 if there is none. */
static uint16_t assign_port(Manager *m) {
        for (unsigned p = m->config->instance_port_min; p <= m->config->instance_port_max; p++)
                if (!manager_find_instance_by_port(m, (uint16_t) p) && instance_port_check_free((uint16_t) p) == 0)
                        return (uint16_t) p;
        return 0;
}

static int choose_port(Manager *m, const Actor *actor, uint32_t wanted, uint16_t *ret, char **ret_problem) {
        Instance *other;
        int r;

        if (wanted == 0) {
                *ret = assign_port(m);
                if (*ret == 0)
                        return problem_setf(ret_problem, -EADDRINUSE, "No port from %u to %u is free.",
                                            m->config->instance_port_min, m->config->instance_port_max);
                return 0;
        }
        r = instance_check_port(m, wanted, ret_problem);
        if (r < 0)
                return r;
        other = manager_find_instance_by_port(m, (uint16_t) wanted);
        if (other && !actor_sees(actor, other->owner))
                return problem_setf(ret_problem, -EADDRINUSE, "Port %u is in use by an instance of another user.", wanted);
        if (other)
                return problem_setf(ret_problem, -EADDRINUSE, "Port %u is in use by instance \"%s\".", wanted, other->name);
        if (instance_port_check_free((uint16_t) wanted) == -EADDRINUSE)
                return problem_setf(ret_problem, -EADDRINUSE, "Port %u is in use on this host (UDP or TCP).", wanted);
        *ret = (uint16_t) wanted;
        return 0;
}

int instance_create(Manager *m, const Actor *actor, const char *name, const Blueprint *b,
                    const InstanceSettings *settings, Instance **ret, char **ret_problem) {
        g_autofree char *password = NULL;
        const char *owner = actor->principal;
        StoreInstance row = {
                .name = name,
                .owner = owner,
                .blueprint_id = b->id,
                .hostname = instance_effective_hostname(settings->hostname, name),
                .max_players = settings->max_players,
                .map = settings->map ? settings->map : "",
                .autostart = settings->autostart,
                .created = (uint64_t) g_get_real_time(),
        };
        Instance *i = NULL;
        uid_t uid;
        int r;

        r = instance_check_name(name, ret_problem);
        if (r >= 0)
                r = instance_check_hostname(row.hostname, ret_problem);
        if (r >= 0)
                r = instance_check_map(row.map, true, ret_problem);
        if (r >= 0)
                r = instance_check_player_limit(row.max_players, ret_problem);
        if (r < 0)
                return r;
        if (g_hash_table_lookup(m->blueprints_by_id, &b->id) != b)
                return problem_setf(ret_problem, -ENOENT, "The blueprint was deleted meanwhile.");
        if (g_hash_table_contains(m->instances_by_name, name))
                return problem_setf(ret_problem, -EEXIST, "Instance \"%s\" already exists.", name);
        if (manager_count_instances_of(m, owner) >= MANAGER_INSTANCES_PER_OWNER_MAX)
                return problem_setf(ret_problem, -EDQUOT, "%s already owns %u instances, the most one may own.", owner,
                                    MANAGER_INSTANCES_PER_OWNER_MAX);
        r = choose_port(m, actor, settings->port, &row.port, ret_problem);
        if (r < 0)
                return r;

        r = manager_allocate_instance_uid(m, &uid);
        if (r == -EUSERS)
                return problem_setf(ret_problem, -EBUSY,
                                    "All user ids for game servers (%u to %u) are taken: delete an instance first.",
                                    m->config->instance_first_uid, m->config->instance_last_uid);
        if (r < 0)
                return log_error_errno(r, "Cannot find a free uid for a new instance: %s", STRERROR(r));
        row.uid = (uint32_t) uid;

        r = instance_generate_password(&password);
        if (r < 0)
                return log_error_errno(r, "Cannot generate an RCON password: %s", STRERROR(r));
        row.rcon_password = password;

        r = store_instance_insert(m->db, &row, &row.id);
        if (r == -EEXIST)
                return problem_setf(ret_problem, r, "Instance \"%s\" or port %u is taken.", name, (unsigned) row.port);
        if (r == -ENOENT)
                return problem_setf(ret_problem, r, "The blueprint was deleted meanwhile.");
        if (r < 0)
                return r;
        r = instance_add(m, &row, &i);
        assert(r >= 0);
        explicit_bzero(password, strlen(password));
        /* Known at once: a new instance's unit exists only if a stale one
         * of the same name was left behind, which Start's UnitExists
         * answer catches; the tracker's first answer corrects the state
         * if systemd says otherwise. */
        i->state_known = true;
        instance_follow(i);
        manager_emit_object_added(m, i->path);

        log_struct_errno(LOG_INFO, 0,
                         ((const char *[]) { "L4M_EVENT=instance-created", NULL }),
                         "Instance %s (id %" G_GUINT64_FORMAT ", port %u, uid %u) created for %s.", name, row.id,
                         (unsigned) row.port, (unsigned) row.uid, owner);
        if (ret)
                *ret = i;
        return 0;
}

int instance_delete(Instance *i, char **ret_problem) {
        Manager *m = i->manager;
        g_autofree char *name = g_strdup(i->name);
        g_autofree char *path = g_strdup(i->path);
        int r;

        if (!i->state_known)
                return problem_setf(ret_problem, -EBUSY, "The state of instance \"%s\" is not known yet; try again.",
                                    i->name);
        if (instance_is_active(i) || i->start_after_stop)
                return problem_setf(ret_problem, -EBUSY, "Instance \"%s\" is %s; stop it first.", i->name, i->state);
        {
                g_autofree char *target = backup_job_target(i->name);
                if (manager_find_active_job_for(m, target))
                        return problem_setf(ret_problem, -EBUSY, "Instance \"%s\" has a backup job; wait for it or "
                                            "cancel it.", i->name);
        }
        if (strcmp(i->state, INSTANCE_STATE_FAILED) == 0 && m->bus)
                (void) unit_reset_failed(m->bus, i->unit);

        /* Announce while the object still resolves; again if it stays. */
        manager_emit_object_removed(m, path);
        r = instance_runtime_remove(m, i->name);
        if (r >= 0)
                r = store_instance_delete(m->db, i->id);
        if (r < 0) {
                manager_emit_object_added(m, path);
                if (r == -EBUSY || r == -EXDEV)
                        return problem_setf(ret_problem, -EBUSY,
                                            "Something is still mounted in the instance's runtime directory.");
                return r;
        }
        if (i->awaited) {
                i->awaited = false;
                m->instances_unknown--;
        }
        manager_schedules_target_deleted(m, SCHEDULE_TARGET_INSTANCE, i->id);
        /* Its uid stays taken while runtime/.trash-<name>-*'s upper/ is
         * there (manager_allocate_instance_uid()); only its name goes. */
        if (i->uid != 0) {
                r = userdb_record_remove(USERDB_RECORD_DIR, i->uid);
                if (r < 0)
                        log_warning_errno(r, "Cannot remove the user record of uid %u: %s", (unsigned) i->uid, STRERROR(r));
        }
        /* Its followers see the end: the next instance of this name (and
         * unit) may be someone else's. */
        journal_stream_close_unit(m->journal_streams, i->unit);
        console_hub_forget_stored(i->console);
        /* Its backups' rows went with its row (ON DELETE CASCADE). */
        backup_instance_deleted(m, i->name);
        g_hash_table_remove(m->instances_by_name, i->name);
        g_hash_table_remove(m->instances_by_id, &i->id);      /* frees i */
        manager_autostart_maybe(m);

        log_struct_errno(LOG_INFO, 0,
                         ((const char *[]) { "L4M_EVENT=instance-deleted", NULL }),
                         "Instance %s deleted.", name);
        return 0;
}

/* Writes the settings of i to the store and announces property. */
static int save(Instance *i, const char *property, char **ret_problem) {
        StoreInstance row = {
                .id = i->id,
                .blueprint_id = i->blueprint_id,
                .hostname = i->hostname,
                .max_players = i->max_players,
                .map = i->map,
                .autostart = i->autostart,
        };
        int r = store_instance_update(i->manager->db, &row);

        if (r == -ENOENT)
                return problem_setf(ret_problem, r, "The blueprint was deleted meanwhile.");
        if (r < 0)
                return r;
        instance_emit_changed(i, property, NULL);
        return 0;
}

int instance_set_hostname(Instance *i, const char *hostname, char **ret_problem) {
        int r = instance_check_hostname(hostname, ret_problem);

        if (r < 0)
                return r;
        hostname = instance_effective_hostname(hostname, i->name);
        g_free(i->hostname);
        i->hostname = g_strdup(hostname);
        return save(i, "Hostname", ret_problem);
}

int instance_set_start_map(Instance *i, const char *map, char **ret_problem) {
        int r = instance_check_map(map, true, ret_problem);

        if (r < 0)
                return r;
        g_free(i->map);
        i->map = g_strdup(map);
        return save(i, "StartMap", ret_problem);
}

int instance_set_player_limit(Instance *i, uint32_t n, char **ret_problem) {
        int r = instance_check_player_limit(n, ret_problem);

        if (r < 0)
                return r;
        i->max_players = n;
        return save(i, "PlayerLimit", ret_problem);
}

int instance_set_autostart(Instance *i, bool autostart, char **ret_problem) {
        i->autostart = autostart;
        return save(i, "Autostart", ret_problem);
}

int instance_set_blueprint(Instance *i, const Blueprint *b, char **ret_problem) {
        if (g_hash_table_lookup(i->manager->blueprints_by_id, &b->id) != b)
                return problem_setf(ret_problem, -ENOENT, "The blueprint was deleted meanwhile.");
        i->blueprint_id = b->id;
        return save(i, "Blueprint", ret_problem);
}

bool instance_is_active(const Instance *i) {
        return i->start_call || i->disk_worker || (i->unit_exists && strcmp(i->state, INSTANCE_STATE_STOPPED) != 0 &&
                                 strcmp(i->state, INSTANCE_STATE_FAILED) != 0);
}

/* --- what the server says (A2S_INFO) ---------------------------------- */

static void loopback_address(const Instance *i, struct sockaddr_in *a) {
        *a = (struct sockaddr_in) {
                .sin_family = AF_INET,
                .sin_port = htons(i->port),
                .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
        };
}

static void a2s_schedule(Instance *i, uint64_t usec);

static void on_a2s_info(int error, const A2sInfo *info, void *userdata) {
        Instance *i = userdata;

        i->a2s_query = a2s_query_free(i->a2s_query);
        if (error < 0) {
                log_debug("A2S_INFO of %s failed: %s", i->name, STRERROR(error));
                a2s_schedule(i, A2S_RETRY_USEC);
                return;
        }
        if (strcmp(i->live_map, info->map) != 0) {
                g_free(i->live_map);
                i->live_map = g_strdup(info->map);
                instance_emit_changed(i, "Map", NULL);
        }
        if (i->players != info->players) {
                i->players = info->players;
                instance_emit_changed(i, "Players", NULL);
        }
        if (i->live_max_players != info->max_players) {
                i->live_max_players = info->max_players;
                instance_emit_changed(i, "MaxPlayers", NULL);
        }
        a2s_schedule(i, A2S_INTERVAL_USEC);
}

static int on_a2s_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Instance *i = userdata;
        struct sockaddr_in a;
        int r;

        if (i->a2s_query)
                return 0;
        loopback_address(i, &a);
        r = a2s_info_query(i->manager->event, (const struct sockaddr *) &a, sizeof a, A2S_TIMEOUT_USEC, on_a2s_info, i,
                           &i->a2s_query);
        if (r < 0) {
                log_warning_errno(r, "Cannot query %s: %s", i->name, STRERROR(r));
                a2s_schedule(i, A2S_INTERVAL_USEC);
        }
        return 0;
}

static void a2s_schedule(Instance *i, uint64_t usec) {
        int r;

        if (!i->a2s_timer) {
                r = sd_event_add_time_relative(i->manager->event, &i->a2s_timer, CLOCK_MONOTONIC, usec,
                                               100 * 1000, on_a2s_timer, i);
                if (r < 0)
                        log_warning_errno(r, "Cannot schedule A2S queries of %s: %s", i->name, STRERROR(r));
                return;
        }
        (void) sd_event_source_set_time_relative(i->a2s_timer, usec);
        (void) sd_event_source_set_enabled(i->a2s_timer, SD_EVENT_ONESHOT);
}

static void instance_live_clear(Instance *i) {
        i->a2s_timer = sd_event_source_disable_unref(i->a2s_timer);
        i->a2s_query = a2s_query_free(i->a2s_query);
        if (i->rcon)
                rcon_client_disconnect(i->rcon);
        if (*i->live_map) {
                g_free(i->live_map);
                i->live_map = g_strdup("");
                instance_emit_changed(i, "Map", NULL);
        }
        if (i->players) {
                i->players = 0;
                instance_emit_changed(i, "Players", NULL);
        }
        if (i->live_max_players) {
                i->live_max_players = 0;
                instance_emit_changed(i, "MaxPlayers", NULL);
        }
}

/* --- what systemd says ------------------------------------------------ */

static const char *state_from_unit(Instance *i, const UnitState *s) {
        if (!s->exists || strcmp(s->active_state, "inactive") == 0) {
                if (s->exists && s->pending_job != 0)
                        return i->restarting || i->start_after_stop ? INSTANCE_STATE_RESTARTING : INSTANCE_STATE_STARTING;
                if (i->start_call || i->disk_worker)
                        return i->restarting ? INSTANCE_STATE_RESTARTING : INSTANCE_STATE_STARTING;
                if (i->start_after_stop)
                        return INSTANCE_STATE_RESTARTING;
                i->restarting = false;
                return INSTANCE_STATE_STOPPED;
        }
        if (strcmp(s->active_state, "active") == 0 || strcmp(s->active_state, "reloading") == 0) {
                i->restarting = false;
                return INSTANCE_STATE_RUNNING;
        }
        if (strcmp(s->active_state, "activating") == 0) {
                if (strcmp(s->sub_state, "auto-restart") == 0)
                        i->restarting = true;
                return i->restarting ? INSTANCE_STATE_RESTARTING : INSTANCE_STATE_STARTING;
        }
        if (strcmp(s->active_state, "deactivating") == 0)
                return i->restarting || i->start_after_stop ? INSTANCE_STATE_RESTARTING : INSTANCE_STATE_STOPPING;
        if (strcmp(s->active_state, "failed") == 0) {
                i->restarting = false;
                return INSTANCE_STATE_FAILED;
        }
        return INSTANCE_STATE_STARTING;
}

static void instance_set_state(Instance *i, const char *state) {
        bool was_running = strcmp(i->state, INSTANCE_STATE_RUNNING) == 0;
        bool running = strcmp(state, INSTANCE_STATE_RUNNING) == 0;

        if (strcmp(i->state, state) == 0)
                return;
        log_struct_errno(LOG_INFO, 0,
                         ((const char *[]) { "L4M_EVENT=instance-state", NULL }),
                         "Instance %s: %s → %s.", i->name, i->state, state);
        g_free(i->state);
        i->state = g_strdup(state);
        instance_emit_changed(i, "State", NULL);
        if (running && !was_running)
                a2s_schedule(i, 0);
        else if (!running && was_running)
                instance_live_clear(i);
}

static void manager_autostart_maybe(Manager *m);

static void on_unit_state(UnitTracker *t, const UnitState *s, void *userdata) {
        Instance *i = userdata;
        bool first = !i->state_known;

        i->state_known = true;
        i->unit_exists = s->exists;
        console_hub_set_pid(i->console, s->main_pid);
        /* Its output went into a pipe nobody read (left4med was stopped,
         * not restarted, and systemd let go of the read end), or, started
         * by an older left4med, goes to the journal straight. */
        if (!i->console_checked && s->exists && s->main_pid != 0) {
                i->console_checked = true;
                if (console_hub_count(i->console) == 0)
                        log_warning("%s runs, but left4med has no console of it: if left4med was stopped (not "
                                    "restarted) meanwhile, its output is lost until its next start.", i->unit);
        }
        if (i->main_pid != s->main_pid) {
                i->main_pid = s->main_pid;
                instance_emit_changed(i, "MainPID", NULL);
        }
        instance_set_state(i, state_from_unit(i, s));

        /* Restart(): the old unit is gone, start the new one. */
        if (i->start_after_stop && (!s->exists || strcmp(s->active_state, "inactive") == 0 ||
                                    strcmp(s->active_state, "failed") == 0)) {
                g_autofree char *problem = NULL;
                int r;

                i->start_after_stop = false;
                i->restarting = true;
                r = instance_start(i, NULL, NULL, &problem);
                if (r < 0)
                        log_warning("Cannot start %s again: %s", i->name, problem ? problem : STRERROR(r));
                if (!i->start_call && !i->disk_worker) {
                        i->restarting = false;
                        instance_set_state(i, strcmp(s->active_state, "failed") == 0 ? INSTANCE_STATE_FAILED
                                                                                    : INSTANCE_STATE_STOPPED);
                }
        }
        if (first && i->awaited) {
                i->awaited = false;
                i->manager->instances_unknown--;
                manager_autostart_maybe(i->manager);
        }
        /* A game update may wait for this instance to stop, or to be known. */
        game_install_instances_changed(i->manager);
}

static void instance_follow(Instance *i) {
        int r;

        if (i->tracker || !i->manager->bus)
                return;
        r = unit_tracker_new(i->manager->bus, i->unit, on_unit_state, i, &i->tracker);
        if (r < 0)
                log_warning_errno(r, "Cannot follow %s: %s", i->unit, STRERROR(r));
}

/* --- starting and stopping -------------------------------------------- */

static void start_done(Instance *i, int r, const char *text) {
        InstanceDoneFunc done = i->start_done;

        i->start_done = NULL;
        if (done)
                done(i, r, text, i->start_userdata);
}

static int on_unit_started(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Instance *i = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        i->start_call = sd_bus_slot_unref(i->start_call);
        if (e) {
                g_autofree char *text = NULL;
                int r;

                log_warning("systemd did not start %s: %s", i->unit, e->message);
                if (sd_bus_error_has_name(e, "org.freedesktop.systemd1.UnitExists"))
                        r = problem_setf(&text, -EBUSY, "Instance \"%s\": its unit %s still exists.", i->name, i->unit);
                else
                        r = problem_setf(&text, -EIO, "systemd did not start %s: %s", i->unit, e->message);
                i->restarting = false;
                start_done(i, r, text);
        } else {
                /* It exists now, whether or not the tracker has said so
                 * yet: a Stop() right after this must reach it. */
                i->unit_exists = true;
                log_struct_errno(LOG_INFO, 0,
                                 ((const char *[]) { "L4M_EVENT=instance-start", NULL }),
                                 "Started %s for instance %s.", i->unit, i->name);
                start_done(i, 0, NULL);
        }
        if (i->tracker)
                unit_tracker_refresh(i->tracker);
        return 0;
}

/* A fresh RCON password for the next run, stored before server.cfg gets
 * it (a restarted daemon still knows the running server's). Per run: a
 * server that could not bind its TCP port leaves it to whoever did, and
 * the password the daemon then sends there is good for that run only. */
static int instance_new_password(Instance *i) {
        g_autofree char *password = NULL;
        int r;

        r = instance_generate_password(&password);
        if (r < 0)
                return log_error_errno(r, "Cannot generate an RCON password: %s", STRERROR(r));
        r = store_instance_set_rcon_password(i->manager->db, i->id, password);
        if (r < 0) {
                explicit_bzero(password, strlen(password));
                return r;
        }
        explicit_bzero(i->rcon_password, strlen(i->rcon_password));
        g_free(i->rcon_password);
        i->rcon_password = g_steal_pointer(&password);
        if (i->rcon) {
                rcon_client_set_password(i->rcon, i->rcon_password);
                rcon_client_disconnect(i->rcon);
        }
        return 0;
}

/* -EBUSY naming the first overlay of the stack that cannot be mounted now. */
static int check_overlays(Instance *i, const Blueprint *b, char **ret_problem) {
        Manager *m = i->manager;

        for (guint k = 0; k < b->overlays->len; k++) {
                uint64_t id = g_array_index(b->overlays, uint64_t, k);
                Overlay *o = g_hash_table_lookup(m->overlays_by_id, &id);
                g_autofree char *target = NULL;
                Job *j;

                if (!o)
                        return problem_setf(ret_problem, -ENOENT, "Blueprint \"%s\" names an overlay that is gone.", b->name);
                target = overlay_job_target(o);
                j = manager_find_active_job_for(m, target);
                if (j)
                        return problem_setf(ret_problem, -EBUSY,
                                            "Overlay \"%s\" of blueprint \"%s\" has job %" G_GUINT64_FORMAT " (%s) %s.",
                                            o->name, b->name, j->id, j->kind_name, job_state_to_string(j->state));
                if (o->last_build == 0)
                        return problem_setf(ret_problem, -EBUSY, "Overlay \"%s\" of blueprint \"%s\" has never been built.",
                                            o->name, b->name);
        }
        return 0;
}

/* The second half of a start, once the disk image is ready (has_image:
 * the helper mounts one, and the unit may use loop devices). */
static int instance_start_unit(Instance *i, bool has_image, char **ret_problem) {
        Manager *m = i->manager;
        Blueprint *b = g_hash_table_lookup(m->blueprints_by_id, &i->blueprint_id);
        g_autofree char *helper = g_build_filename(L4M_LIBEXECDIR, "left4me-overlay", NULL);
        _cleanup_close_ int console_fd = -1;
        InstanceLimits limits;
        bool was_failed;
        int r;

        if (!b)
                return problem_setf(ret_problem, -ENOENT, "The blueprint of instance \"%s\" is gone.", i->name);
        (void) instance_effective_limits(i, &limits);
        /* Its output: a pipe of ours (console.h). Without one, the
         * journal's own stream, as before. */
        r = console_hub_open(i->console, &console_fd);
        if (r < 0)
                log_warning_errno(r, "Cannot make the console pipe of %s, its output goes to the journal "
                                  "straight: %s", i->unit, STRERROR(r));

        /* A failed unit stays loaded until its failure is forgotten. */
        was_failed = i->unit_exists;
        if (was_failed)
                (void) unit_reset_failed(m->bus, i->unit);

        InstanceUnitSpec spec = {
                .name = i->name,
                .cpu_quota_percent = limits.cpu_quota_percent,
                .memory_max = limits.memory_max,
                .tasks_max = limits.tasks_max,
                .disk_image = has_image,
                .state_dir = m->state_dir,
                .helper = helper,
                .uid = i->uid,
                .port = i->port,
                .map = i->map,
                .max_players = i->max_players,
                .launch_args = b->launch_args,
                .console_fd = console_fd,
        };
        r = unit_start_transient(m->bus, i->unit, instance_unit_properties, &spec, on_unit_started, i, &i->start_call);
        if (r < 0) {
                log_error_errno(r, "Cannot start %s: %s", i->unit, STRERROR(r));
                return problem_setf(ret_problem, r, "Cannot ask systemd to start %s: %s.", i->unit, STRERROR(r));
        }
        return 0;
}

static void on_disk_prepared(Instance *i, int r, const char *problem, void *userdata) {
        g_autofree char *text = NULL;

        i->disk_worker = worker_free(i->disk_worker);
        if (i->disk_start_cancelled) {
                i->disk_start_cancelled = false;
                r = problem_setf(&text, -ECANCELED, "Instance \"%s\" was stopped before it started.", i->name);
        } else if (r >= 0)
                r = instance_start_unit(i, r > 0, &text);
        else
                text = g_strdup(problem);
        if (r < 0) {
                /* Never started: as systemd has it. */
                i->restarting = false;
                if (i->tracker)
                        unit_tracker_refresh(i->tracker);
                start_done(i, r, text);
        }
}

int instance_start(Instance *i, InstanceDoneFunc done, void *userdata, char **ret_problem) {
        Manager *m = i->manager;
        Blueprint *b = g_hash_table_lookup(m->blueprints_by_id, &i->blueprint_id);
        g_autofree char *why = NULL, *description = NULL;
        InstanceLimits limits;
        int r;

        if (!i->state_known)
                return problem_setf(ret_problem, -EBUSY, "The state of instance \"%s\" is not known yet; try again.",
                                    i->name);
        if (instance_is_active(i) || i->start_after_stop)
                return problem_setf(ret_problem, -EBUSY, "Instance \"%s\" is %s.", i->name, i->state);
        if (manager_game_job_active(m))
                return problem_setf(ret_problem, -EBUSY, "The game is being installed or updated.");
        if (backup_instance_restoring(m, i))
                return problem_setf(ret_problem, -EBUSY, "A backup of instance \"%s\" is being made, restored or "
                                    "imported; start it once the job has ended.", i->name);
        if (!b)
                return problem_setf(ret_problem, -ENOENT, "The blueprint of instance \"%s\" is gone.", i->name);
        r = check_overlays(i, b, ret_problem);
        if (r < 0)
                return r;
        if (faccessat(m->state_fd, "installation/srcds_run", X_OK, AT_EACCESS | AT_SYMLINK_NOFOLLOW) < 0)
                return problem_setf(ret_problem, -ENOEXEC,
                                    "The game is not installed (no runnable installation/srcds_run): %s.", STRERROR(errno));
        r = instance_port_check_free(i->port);
        if (r == -EADDRINUSE)
                return problem_setf(ret_problem, r, "Port %u is in use on this host (UDP or TCP).", (unsigned) i->port);
        if (r < 0)
                log_warning_errno(r, "Cannot check whether port %u is free: %s", (unsigned) i->port, STRERROR(r));

        r = instance_ensure_uid(i, ret_problem);
        if (r < 0)
                return r;
        /* systemd runs a numeric User= only if a user database knows it. */
        description = g_strdup_printf("left4me server %s", i->name);
        r = userdb_record_write(USERDB_RECORD_DIR, i->uid, description);
        if (r < 0) {
                log_error_errno(r, "Cannot write the user record of uid %u to " USERDB_RECORD_DIR ": %s", (unsigned) i->uid,
                                STRERROR(r));
                return problem_setf(ret_problem, -EIO, "Cannot make uid %u known in " USERDB_RECORD_DIR ": %s.",
                                    (unsigned) i->uid, STRERROR(r));
        }

        r = instance_new_password(i);
        if (r < 0)
                return r;

        r = instance_runtime_prepare(i, b, i->uid, (gid_t) i->uid, &why);
        if (r < 0) {
                log_error_errno(r, "Cannot prepare instance %s: %s", i->name, why);
                /* Whatever the errno, the server could not be set up: Failed. */
                return problem_setf(ret_problem, -EIO, "%s.", why);
        }

        /* disk_max: the image is made, checked or resized on a thread (it
         * may take a while), then the unit is started. */
        (void) instance_effective_limits(i, &limits);
        r = instance_disk_prepare_async(i, limits.disk_max, on_disk_prepared, NULL, &i->disk_worker);
        if (r < 0)
                return problem_setf(ret_problem, r, "Cannot prepare the disk of instance \"%s\": %s.", i->name, STRERROR(r));
        i->start_done = done;
        i->start_userdata = userdata;
        instance_set_state(i, i->restarting ? INSTANCE_STATE_RESTARTING : INSTANCE_STATE_STARTING);
        return 1;
}

static int on_unit_stop_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Instance *i = userdata;
        InstanceDoneFunc done = i->stop_done;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        i->stop_call = sd_bus_slot_unref(i->stop_call);
        i->stop_done = NULL;
        /* Gone already: as good as stopped. */
        if (e && !sd_bus_error_has_name(e, "org.freedesktop.systemd1.NoSuchUnit")) {
                g_autofree char *text = NULL;
                int r;

                log_warning("systemd refused to stop %s: %s", i->unit, e->message);
                /* No restart after all; State as systemd has it. */
                i->start_after_stop = false;
                i->restarting = false;
                if (i->tracker)
                        unit_tracker_refresh(i->tracker);
                r = problem_setf(&text, -EIO, "systemd refused to stop %s: %s", i->unit, e->message);
                if (done)
                        done(i, r, text, i->stop_userdata);
                return 0;
        }
        if (done)
                done(i, 0, NULL, i->stop_userdata);
        return 0;
}

/* StopUnit, answered in on_unit_stop_reply(); at most one in flight. */
static int instance_stop_unit(Instance *i, InstanceDoneFunc done, void *userdata) {
        int r;

        if (i->stop_call)
                return 0;       /* the stop under way is this one */
        r = unit_stop_async(i->manager->bus, i->unit, on_unit_stop_reply, i, &i->stop_call);
        if (r < 0)
                return log_error_errno(r, "Cannot stop %s: %s", i->unit, STRERROR(r));
        if (!done)
                return 0;
        i->stop_done = done;
        i->stop_userdata = userdata;
        return 1;
}

int instance_halt(Instance *i, InstanceDoneFunc done, void *userdata) {
        i->start_after_stop = false;
        i->restarting = false;
        /* A start still preparing the disk image: it will not ask systemd
         * (the thread finishes what it does, the image stays usable). */
        if (i->disk_worker)
                i->disk_start_cancelled = true;
        /* Until the tracker's first answer the unit may run: stop it anyway
         * (systemd answers that it is not loaded if it is not). */
        if (i->state_known && !i->unit_exists && !i->start_call)
                return 0;
        if (strcmp(i->state, INSTANCE_STATE_FAILED) == 0)
                return unit_reset_failed(i->manager->bus, i->unit);
        if (i->stop_done)
                return 0;       /* another Stop() waits for systemd already */
        return instance_stop_unit(i, done, userdata);
}

int instance_stop(Instance *i, InstanceDoneFunc done, void *userdata, char **ret_problem) {
        if (i->start_call || i->disk_worker)
                return problem_setf(ret_problem, -EBUSY, "Instance \"%s\" is starting; stop it once it runs.", i->name);
        return instance_halt(i, done, userdata);
}

int instance_restart(Instance *i, InstanceDoneFunc done, void *userdata, char **ret_problem) {
        int r;

        if (!instance_is_active(i))
                return instance_start(i, done, userdata, ret_problem);
        if (i->start_call || i->disk_worker)
                return problem_setf(ret_problem, -EBUSY, "Instance \"%s\" is starting.", i->name);
        /* Stop, then start afresh once the unit is gone: a new start reads
         * the settings and the blueprint again. */
        i->start_after_stop = true;
        i->restarting = true;
        instance_set_state(i, INSTANCE_STATE_RESTARTING);
        r = instance_stop_unit(i, NULL, NULL);
        if (r < 0) {
                i->start_after_stop = false;
                i->restarting = false;
                if (i->tracker)
                        unit_tracker_refresh(i->tracker);
        }
        return r;
}

/* --- RCON ------------------------------------------------------------- */

typedef struct CommandCall {
        Instance *instance;
        InstanceDoneFunc done;
        void *userdata;
        uid_t server_uid;       /* whom the password may go to */
} CommandCall;

static void on_rcon_reply(int error, const char *reply, void *userdata) {
        g_autofree CommandCall *call = userdata;
        g_autofree char *text = NULL;

        if (error == -EPERM) {
                Instance *i = call->instance;
                int r = problem_setf(&text, -EIO,
                                     "RCON refused, the password was not sent: what listens on 127.0.0.1:%u is not instance \"%s\"'s server (uid %u): %s.",
                                     (unsigned) i->port, i->name, (unsigned) call->server_uid,
                                     reply ? reply : "unknown owner");

                call->done(call->instance, r, text, call->userdata);
                return;
        }
        if (error < 0) {
                const char *why = error == -EACCES ? "the server refused left4me's RCON password"
                                  : error == -ETIMEDOUT ? "the server did not answer in time"
                                  : error == -ECANCELED ? "the server stopped first"
                                  : STRERROR(error);
                int r = problem_setf(&text, -EIO, "RCON failed: %s.", why);

                call->done(call->instance, r, text, call->userdata);
                return;
        }
        call->done(call->instance, 0, reply, call->userdata);
}

int instance_send_command(Instance *i, const char *command, InstanceDoneFunc done, void *userdata,
                          char **ret_problem) {
        CommandCall *call;
        int r;

        assert(done);
        r = instance_check_command(command, ret_problem);
        if (r < 0)
                return r;
        if (strcmp(i->state, INSTANCE_STATE_RUNNING) != 0)
                return problem_setf(ret_problem, -EBUSY, "Instance \"%s\" is not running (%s).", i->name, i->state);
        if (!i->rcon) {
                struct sockaddr_in a;

                loopback_address(i, &a);
                r = rcon_client_new(i->manager->event, (const struct sockaddr *) &a, sizeof a, i->rcon_password, &i->rcon);
                if (r < 0)
                        return log_error_errno(r, "Cannot set up RCON for %s: %s", i->name, STRERROR(r));
        }
        call = g_new(CommandCall, 1);
        *call = (CommandCall) { i, done, userdata, instance_runtime_server_uid(i->manager, i->name, i->uid) };
        /* Only the instance's own server gets the password. */
        rcon_client_set_peer_uid(i->rcon, call->server_uid);
        r = rcon_client_send(i->rcon, command, RCON_TIMEOUT_USEC, on_rcon_reply, call);
        if (r < 0) {
                g_free(call);
                if (r == -EBUSY)
                        return problem_setf(ret_problem, r, "Too many RCON commands for \"%s\" are waiting.", i->name);
                if (r == -EINVAL)
                        return problem_setf(ret_problem, r, "RCON refused the command.");
                return log_error_errno(r, "Cannot send an RCON command to %s: %s", i->name, STRERROR(r));
        }
        return 1;
}

/* --- the manager's instances ----------------------------------------- */

Instance *manager_find_instance_by_path(Manager *m, const char *path) {
        g_autofree char *name = NULL;

        if (sd_bus_path_decode(path, L4M_INSTANCE_PATH_PREFIX, &name) <= 0 || !name)
                return NULL;
        return g_hash_table_lookup(m->instances_by_name, name);
}

Instance *manager_find_instance_by_port(Manager *m, uint16_t port) {
        GHashTableIter it;
        gpointer value;

        g_hash_table_iter_init(&it, m->instances_by_id);
        while (g_hash_table_iter_next(&it, NULL, &value))
                if (((Instance *) value)->port == port)
                        return value;
        return NULL;
}

static gint compare_instance_ids(gconstpointer a, gconstpointer b) {
        const Instance *x = *(Instance *const *) a, *y = *(Instance *const *) b;

        return x->id < y->id ? -1 : x->id > y->id;
}

static int load_instance_row(const StoreInstance *row, void *userdata) {
        int r = instance_add(userdata, row, NULL);

        if (r < 0)
                log_error_errno(r, "Skipping instance row %" G_GUINT64_FORMAT " (%s): %s", row->id, row->name, STRERROR(r));
        return 0;
}

int manager_load_instances(Manager *m) {
        g_autoptr(GPtrArray) without = g_ptr_array_new();
        GHashTableIter it;
        gpointer value;
        int r = store_instance_foreach(m->db, load_instance_row, m);

        if (r < 0)
                return log_error_errno(r, "Cannot load instances: %s", STRERROR(r));
        /* Rows of before uids: one each now, in the order they were made
         * (their files are handed over at their next start). */
        g_hash_table_iter_init(&it, m->instances_by_id);
        while (g_hash_table_iter_next(&it, NULL, &value))
                if (((Instance *) value)->uid == 0)
                        g_ptr_array_add(without, value);
        g_ptr_array_sort(without, compare_instance_ids);
        for (guint k = 0; k < without->len; k++) {
                Instance *i = without->pdata[k];
                g_autofree char *problem = NULL;

                r = instance_ensure_uid(i, &problem);
                if (r < 0)
                        log_warning("Instance %s has no uid yet: %s", i->name, problem ? problem : STRERROR(r));
        }
        return 0;
}

static char *autostart_marker_path(void) {
        const char *dir = getenv("RUNTIME_DIRECTORY");

        /* systemd may list several, ':'-separated: ours is the only one. */
        if (!dir || dir[0] != '/' || strchr(dir, ':'))
                dir = "/run/left4me";
        return g_build_filename(dir, AUTOSTART_MARKER, NULL);
}

/* After boot (no marker yet): start the autostart instances, once the
 * state of every unit is known (one that already runs is left alone). */
static void manager_autostart_maybe(Manager *m) {
        g_autofree char *marker = NULL;
        _cleanup_close_ int fd = -1;
        GHashTableIter it;
        gpointer value;
        unsigned n = 0;

        if (!m->autostart_pending || m->instances_unknown > 0)
                return;
        m->autostart_pending = false;

        g_hash_table_iter_init(&it, m->instances_by_id);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                Instance *i = value;
                g_autofree char *problem = NULL;
                int r;

                if (!i->autostart || instance_is_active(i))
                        continue;
                r = instance_start(i, NULL, NULL, &problem);
                if (r < 0)
                        log_warning("Cannot autostart instance %s: %s", i->name, problem ? problem : STRERROR(r));
                else
                        n++;
        }

        marker = autostart_marker_path();
        fd = open(marker, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                log_warning_errno(errno, "Cannot create %s: %s", marker, STRERROR(errno));
        log_info("Autostart: started %u instance(s).", n);
}

void manager_adopt_consoles(Manager *m) {
        g_auto(GStrv) names = NULL;
        int n;

        n = sd_listen_fds_with_names(true, &names);
        if (n < 0) {
                log_warning_errno(n, "Cannot take the descriptors systemd kept: %s", STRERROR(n));
                return;
        }
        for (int k = 0; k < n; k++) {
                int fd = SD_LISTEN_FDS_START + k;
                const char *name = names && names[k] ? names[k] : "";
                uint64_t id = 0;
                Instance *i = NULL;
                int r = -ENOENT;

                if (console_fdname_parse(name, &id))
                        i = g_hash_table_lookup(m->instances_by_id, &id);
                if (i && sd_is_fifo(fd, NULL) > 0)
                        r = console_hub_adopt(i->console, fd, name);
                if (r >= 0) {
                        log_info("Reading on the console of %s that systemd kept (%s).", i->unit, name);
                        continue;
                }
                log_warning("Closing a descriptor systemd kept that is no instance's console (%s).", name);
                close(fd);
                console_fdstore_remove(name);
        }
}

void manager_start_instances(Manager *m) {
        g_autofree char *marker = autostart_marker_path();
        GHashTableIter it;
        gpointer value;

        m->autostart_pending = access(marker, F_OK) < 0 && errno == ENOENT;
        m->instances_unknown = g_hash_table_size(m->instances_by_id);
        g_hash_table_iter_init(&it, m->instances_by_id);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                ((Instance *) value)->awaited = true;
                instance_follow(value);
        }
        manager_autostart_maybe(m);
}

unsigned manager_count_instances_of(Manager *m, const char *owner) {
        GHashTableIter it;
        gpointer value;
        unsigned n = 0;

        g_hash_table_iter_init(&it, m->instances_by_id);
        while (g_hash_table_iter_next(&it, NULL, &value))
                if (strcmp(((Instance *) value)->owner, owner) == 0)
                        n++;
        return n;
}

static gint compare_strings(gconstpointer a, gconstpointer b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

GPtrArray *manager_instances_using_blueprint(Manager *m, uint64_t blueprint_id) {
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        GHashTableIter it;
        gpointer value;

        g_hash_table_iter_init(&it, m->instances_by_id);
        while (g_hash_table_iter_next(&it, NULL, &value))
                if (((Instance *) value)->blueprint_id == blueprint_id)
                        g_ptr_array_add(names, g_strdup(((Instance *) value)->name));
        if (names->len == 0)
                return NULL;
        g_ptr_array_sort(names, compare_strings);
        return g_steal_pointer(&names);
}

GPtrArray *manager_instances_active(Manager *m) {
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        GHashTableIter it;
        gpointer value;

        g_hash_table_iter_init(&it, m->instances_by_id);
        while (g_hash_table_iter_next(&it, NULL, &value))
                if (instance_is_active(value))
                        g_ptr_array_add(names, g_strdup(((Instance *) value)->name));
        if (names->len == 0)
                return NULL;
        g_ptr_array_sort(names, compare_strings);
        return g_steal_pointer(&names);
}

GPtrArray *manager_instances_using_overlay(Manager *m, uint64_t overlay_id) {
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        GHashTableIter it;
        gpointer value;

        g_hash_table_iter_init(&it, m->instances_by_id);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                Instance *i = value;
                g_autoptr(GArray) stacked = NULL;
                const GArray *ids;
                Blueprint *b;
                int r;

                /* A failed unit has run its ExecStopPost=: nothing mounted.
                 * One whose state systemd has not told yet (just after a
                 * restart of the daemon) may run. */
                if (i->state_known && !instance_is_active(i) && !instance_runtime_mounted(m, i->name))
                        continue;
                /* What the helper mounts, or mounted: the stack in
                 * instance.env, written before each start (the blueprint
                 * may have changed since, or the instance's blueprint). */
                r = instance_runtime_stacked_overlays(m, i->name, &stacked);
                if (r >= 0)
                        ids = stacked;
                else {
                        /* Never started (state not known yet): nothing. */
                        if (r == -ENOENT && !instance_is_active(i))
                                continue;
                        /* Unreadable while it runs: the best guess is the
                         * blueprint's stack. */
                        if (r != -ENOENT)
                                log_warning_errno(r, "Cannot read runtime/%s/instance.env: %s", i->name, STRERROR(r));
                        b = g_hash_table_lookup(m->blueprints_by_id, &i->blueprint_id);
                        ids = b ? b->overlays : NULL;
                }
                for (guint k = 0; ids && k < ids->len; k++)
                        if (g_array_index(ids, uint64_t, k) == overlay_id) {
                                g_ptr_array_add(names, g_strdup(i->name));
                                break;
                        }
        }
        if (names->len == 0)
                return NULL;
        g_ptr_array_sort(names, compare_strings);
        return g_steal_pointer(&names);
}
