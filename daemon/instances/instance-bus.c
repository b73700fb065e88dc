/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/instances/: server instances: records and rules, units and runtime, RCON, A2S and their logs. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>

#include "backup.h"
#include "blueprint.h"
#include "authorize.h"
#include "bus-util.h"
#include "caller.h"
#include "file-browse.h"
#include "instance.h"
#include "instance-disk.h"
#include "instance-runtime.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-names.h"
#include "l4m-util.h"

/* Every method that acts on an instance: its owner needs owner_action,
 * anyone else org.left4me.admin. With b (SetBlueprint, CreateInstance),
 * the blueprint must be the caller's too. i is NULL for one yet to be
 * made, called name. */
static int authorize(Manager *m, Instance *i, const char *name, const Blueprint *b, sd_bus_message *msg,
                     const char *owner_action, const char *verb, Actor *ret_actor, sd_bus_error *error) {
        return authorize_call(m, msg, &(AuthorizeRequest) {
                                      .action = owner_action,
                                      .verb = verb,
                                      .kind = "instance",
                                      .name = i ? i->name : name,
                                      .owners = { i ? i->owner : NULL, b ? b->owner : NULL },
                              }, ret_actor, error);
}


/* The same for the instance i alone. */
static int authorize_on(Instance *i, sd_bus_message *msg, const char *owner_action, const char *verb, Actor *ret_actor,
                        sd_bus_error *error) {
        return authorize(i->manager, i, NULL, NULL, msg, owner_action, verb, ret_actor, error);
}

int instance_authorize(Instance *i, sd_bus_message *msg, const char *owner_action, const char *verb, Actor *ret_actor,
                       sd_bus_error *error) {
        return authorize_on(i, msg, owner_action, verb, ret_actor, error);
}

/* Answers the call (userdata, a reference) once systemd or the server
 * has: Start, Restart and Stop get an empty return, SendCommand the
 * server's reply. */
static void reply_when_done(Instance *i, int r, const char *text, void *userdata) {
        g_autoptr(sd_bus_message) msg = userdata;
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;

        if (r < 0) {
                (void) bus_error_from_problem(&error, r, text, "Acting on the instance");
                (void) sd_bus_reply_method_error(msg, &error);
        } else if (sd_bus_message_is_method_call(msg, NULL, "SendCommand"))
                (void) sd_bus_reply_method_return(msg, "s", text ? text : "");
        else
                (void) sd_bus_reply_method_return(msg, NULL);
}

static int read_blueprint_name(sd_bus_message *msg, Manager *m, Blueprint **ret, sd_bus_error *error) {
        const char *name;
        int r;

        r = bus_message_read_name(msg, "blueprint", &name, error);
        if (r < 0)
                return r;
        return caller_find_by_name(m, msg, m->blueprints_by_name, offsetof(Blueprint, owner), "blueprint", name,
                                   (void **) ret, error);
}

static int property_get_blueprint(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Instance *i = userdata;
        Blueprint *b = g_hash_table_lookup(i->manager->blueprints_by_id, &i->blueprint_id);

        return sd_bus_message_append(reply, "s", b ? b->name : "");
}

static int property_get_port(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "q", ((Instance *) userdata)->port);
}

static int property_get_autostart(sd_bus *bus, const char *path, const char *interface, const char *property,
                                  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "b", (int) ((Instance *) userdata)->autostart);
}

/* The answer to a call whose reference (msg) went to the engine with
 * reply_when_done(): r > 0, the engine keeps it and answers later; r = 0,
 * it answers now; r < 0, the refusal. */
static int reply_or_wait(sd_bus_message *msg, int r, const char *problem, const char *what, sd_bus_error *error) {
        if (r <= 0)
                sd_bus_message_unref(msg);      /* the reference the engine did not keep */
        if (r < 0)
                return bus_error_from_problem(error, r, problem, what);
        if (r > 0)
                return 1;
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_start(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autofree char *problem = NULL;
        Instance *i = userdata;
        int r;

        RETURN_UNLESS_AUTHORIZED(authorize_on(i, msg, L4M_ACTION_INSTANCE_CONTROL, "start", NULL, error));
        r = instance_start(i, reply_when_done, sd_bus_message_ref(msg), &problem);
        return reply_or_wait(msg, r, problem, "Starting the server unit", error);
}

static int method_restart(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autofree char *problem = NULL;
        Instance *i = userdata;
        int r;

        RETURN_UNLESS_AUTHORIZED(authorize_on(i, msg, L4M_ACTION_INSTANCE_CONTROL, "restart", NULL, error));
        r = instance_restart(i, reply_when_done, sd_bus_message_ref(msg), &problem);
        return reply_or_wait(msg, r, problem, "Restarting the server unit", error);
}

static int method_stop(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autofree char *problem = NULL;
        Instance *i = userdata;
        int r;

        RETURN_UNLESS_AUTHORIZED(authorize_on(i, msg, L4M_ACTION_INSTANCE_CONTROL, "stop", NULL, error));
        r = instance_stop(i, reply_when_done, sd_bus_message_ref(msg), &problem);
        return reply_or_wait(msg, r, problem, "Stopping the server unit", error);
}

static int method_send_command(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autofree char *problem = NULL;
        Instance *i = userdata;
        const char *command;
        int r;

        r = sd_bus_message_read(msg, "s", &command);
        if (r < 0)
                return r;
        r = instance_check_command(command, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Checking the command");

        RETURN_UNLESS_AUTHORIZED(authorize_on(i, msg, L4M_ACTION_INSTANCE_CONTROL, "send a command to", NULL, error));
        r = instance_send_command(i, command, reply_when_done, sd_bus_message_ref(msg), &problem);
        return reply_or_wait(msg, r, problem, "Sending the RCON command", error);
}

static int method_delete(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autofree char *problem = NULL;
        Instance *i = userdata;
        int r;

        RETURN_UNLESS_AUTHORIZED(authorize_on(i, msg, L4M_ACTION_INSTANCE_MANAGE, "delete", NULL, error));
        r = instance_delete(i, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Deleting the instance");
        return sd_bus_reply_method_return(msg, NULL);
}

/* The unit's journal, whether or not it runs now (the history of its
 * last runs): the last `lines` messages, with follow every later one. */
static int method_open_log(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_close_ int fd = -1;
        g_auto(Actor) actor = { NULL };
        Instance *i = userdata;
        uint64_t lines;
        int follow, r;

        r = sd_bus_message_read(msg, "bt", &follow, &lines);
        if (r < 0)
                return r;
        RETURN_UNLESS_AUTHORIZED(authorize_on(i, msg, L4M_ACTION_READ, "read the log of", &actor, error));

        /* Not what an earlier instance of the same name (and unit) logged. */
        r = journal_stream_open(i->manager->journal_streams, actor.principal, i->unit, i->console, i->created,
                                follow, lines, &fd);
        if (r == -EBUSY)
                return sd_bus_error_setf(error, L4M_ERROR_BUSY,
                                         "Too many instance logs are open (at most %u per caller, %u in all).",
                                         JOURNAL_STREAMS_PER_CLIENT_MAX, JOURNAL_STREAMS_MAX);
        if (r < 0)
                return bus_error_internal(error, r, "Opening the journal");
        return sd_bus_reply_method_return(msg, "h", fd);
}

/* The directory the server of i writes into: runtime/<name>/upper, or,
 * with a disk image, its upper/ while the image is mounted. -ENOENT, with
 * no error set, when the server never ran (there is no upper/ yet). */
static int open_upper(Instance *i, int *ret_fd, sd_bus_error *error) {
        _cleanup_close_ int inst_fd = -1, disk_fd = -1, fd = -1;

        inst_fd = openat(i->manager->runtime_fd, i->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (inst_fd < 0 && errno == ENOENT)
                return -ENOENT;
        if (inst_fd < 0)
                return bus_error_internal(error, -errno, "Opening the instance's directory");
        if (instance_disk_has_image_at(inst_fd)) {
                disk_fd = openat(inst_fd, INSTANCE_DISK_MOUNT, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                fd = disk_fd < 0 ? -1 : openat(disk_fd, "upper", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return sd_bus_error_setf(error, L4M_ERROR_NOT_FOUND,
                                                 "Instance \"%s\" keeps its files in a disk image, which can be read "
                                                 "only while its server runs.", i->name);
        } else {
                fd = openat(inst_fd, "upper", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 && errno == ENOENT)
                        return -ENOENT;
                if (fd < 0)
                        return bus_error_internal(error, -errno, "Opening the instance's files");
        }
        *ret_fd = l4m_take_fd(&fd);
        return 0;
}

/* ListFiles, OpenFile: what the server wrote (upper/), read-only. */
static int method_files(sd_bus_message *msg, Instance *i, bool open, sd_bus_error *error) {
        _cleanup_close_ int fd = -1;
        const char *path;
        int r;

        r = file_browse_read_path(msg, &path, error);
        if (r < 0)
                return r;
        RETURN_UNLESS_AUTHORIZED(authorize_on(i, msg, L4M_ACTION_READ, "read the files of", NULL, error));

        r = open_upper(i, &fd, error);
        if (r == -ENOENT && !open && path[0] == '\0')
                /* A server that never ran wrote nothing: its top is empty. */
                return sd_bus_reply_method_return(msg, "a(sstt)b", 0, false);
        if (r == -ENOENT)
                return sd_bus_error_setf(error, L4M_ERROR_NOT_FOUND,
                                         "Instance \"%s\" has no files yet: its server has not run.", i->name);
        if (r < 0)
                return r;
        return file_browse_reply(msg, fd, path, "instance", i->name, open, error);
}

static int method_list_files(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return method_files(msg, userdata, false, error);
}

static int method_open_file(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return method_files(msg, userdata, true, error);
}

/* Setters: the new value is stored at once and used at the next start. */
static int reply_set(sd_bus_message *msg, int r, const char *problem, sd_bus_error *error) {
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Storing the instance's settings");
        return sd_bus_reply_method_return(msg, NULL);
}

static int check_start_map(const char *map, char **ret_problem) {
        return instance_check_map(map, true, ret_problem);
}

/* SetHostname, SetStartMap: read, check, authorise, set. */
static int set_string(sd_bus_message *msg, Instance *i, int (*check)(const char *s, char **ret_problem),
                      int (*set)(Instance *i, const char *s, char **ret_problem), sd_bus_error *error) {
        g_autofree char *problem = NULL;
        const char *s;
        int r;

        r = sd_bus_message_read(msg, "s", &s);
        if (r < 0)
                return r;
        r = check(s, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Checking the value");
        RETURN_UNLESS_AUTHORIZED(authorize_on(i, msg, L4M_ACTION_INSTANCE_MANAGE, "change", NULL, error));
        r = set(i, s, &problem);
        return reply_set(msg, r, problem, error);
}

static int method_set_hostname(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return set_string(msg, userdata, instance_check_hostname, instance_set_hostname, error);
}

static int method_set_start_map(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return set_string(msg, userdata, check_start_map, instance_set_start_map, error);
}

static int method_set_player_limit(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autofree char *problem = NULL;
        Instance *i = userdata;
        uint32_t n;
        int r;

        r = sd_bus_message_read(msg, "u", &n);
        if (r < 0)
                return r;
        r = instance_check_player_limit(n, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Checking the player limit");
        RETURN_UNLESS_AUTHORIZED(authorize_on(i, msg, L4M_ACTION_INSTANCE_MANAGE, "change", NULL, error));
        r = instance_set_player_limit(i, n, &problem);
        return reply_set(msg, r, problem, error);
}

static int method_set_autostart(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autofree char *problem = NULL;
        Instance *i = userdata;
        int b, r;

        r = sd_bus_message_read(msg, "b", &b);
        if (r < 0)
                return r;
        RETURN_UNLESS_AUTHORIZED(authorize_on(i, msg, L4M_ACTION_INSTANCE_MANAGE, "change", NULL, error));
        r = instance_set_autostart(i, b, &problem);
        return reply_set(msg, r, problem, error);
}

static int method_set_blueprint(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autofree char *problem = NULL;
        Instance *i = userdata;
        Blueprint *b;
        int r;

        r = read_blueprint_name(msg, i->manager, &b, error);
        if (r < 0)
                return r;
        r = authorize(i->manager, i, NULL, b, msg, L4M_ACTION_INSTANCE_MANAGE, "change", NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = instance_set_blueprint(i, b, &problem);
        return reply_set(msg, r, problem, error);
}

/* The effective limits: UINT64_MAX is none (infinity). */
static int property_get_limit(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        InstanceLimits l;

        (void) instance_effective_limits(userdata, &l);
        for (int k = 0; k < _INSTANCE_LIMIT_N; k++)
                if (strcmp(property, instance_limit_property(k)) == 0)
                        return sd_bus_message_append(reply, "t", instance_limits_get(&l, k));
        return -EINVAL;
}

/* The keys of the limits that follow [Instances] Default*=. */
static int property_get_default_limits(sd_bus *bus, const char *path, const char *interface, const char *property,
                                       sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        int r;

        r = sd_bus_message_open_container(reply, 'a', "s");
        for (int k = 0; k < _INSTANCE_LIMIT_N && r >= 0; k++)
                if (instance_limit_is_default(userdata, k))
                        r = sd_bus_message_append(reply, "s", instance_limit_key(k));
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

/* SetLimits' entries: a number ("t"; UINT64_MAX is infinity), or the
 * string "default" or "infinity". */
static int limit_option(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error) {
        g_autofree char *problem = NULL;
        InstanceLimits *req = userdata;
        const char *contents = NULL, *s;
        uint64_t v;
        int k, r;

        k = instance_limit_from_key(key);
        if (k < 0)
                return 0;
        r = sd_bus_message_peek_type(msg, NULL, &contents);
        if (r < 0)
                return r;
        if (contents && strcmp(contents, "t") == 0) {
                r = sd_bus_message_read(msg, "v", "t", &v);
                if (r < 0)
                        return r;
                if (v == INSTANCE_LIMIT_DEFAULT)
                        return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT,
                                                 "Limit %s is 0; \"default\" follows the default.", key);
        } else if (contents && strcmp(contents, "s") == 0) {
                r = sd_bus_message_read(msg, "v", "s", &s);
                if (r < 0)
                        return r;
                if (strcmp(s, "default") == 0)
                        v = INSTANCE_LIMIT_DEFAULT;
                else if (strcmp(s, "infinity") == 0)
                        v = INSTANCE_LIMIT_INFINITY;
                else
                        return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT,
                                                 "Limit %s takes a number, \"default\" or \"infinity\".", key);
        } else
                return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT,
                                         "Limit %s takes a t, or a string \"default\" or \"infinity\".", key);
        r = instance_check_limit(k, v, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Checking the limits");
        *instance_limits_field(req, k) = v;
        return 1;
}

static int method_set_limits(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autofree char *problem = NULL;
        Instance *i = userdata;
        InstanceLimits req;
        bool admin;
        int r;

        instance_limits_unchanged(&req);
        r = bus_message_read_options(msg, limit_option, &req, error);
        if (r < 0)
                return r;
        /* Up to the ceilings an owner's choice, above them an admin's. */
        admin = instance_limits_pass_ceiling(i->manager, &req);
        RETURN_UNLESS_AUTHORIZED(authorize_call(i->manager, msg, &(AuthorizeRequest) {
                                                        .action = L4M_ACTION_INSTANCE_MANAGE,
                                                        .verb = "change the limits of",
                                                        .kind = "instance",
                                                        .name = i->name,
                                                        .owners = { i->owner },
                                                        .admin = admin,
                                                }, NULL, error));
        r = instance_set_limits(i, &req, admin, &problem);
        return reply_set(msg, r, problem, error);
}

static int append_u64_entry(sd_bus_message *reply, const char *key, uint64_t v) {
        if (v == UINT64_MAX)
                return 0;
        return sd_bus_message_append(reply, "{sv}", key, "t", v);
}

/* Answers GetUsage (userdata, a reference) once the use is measured. */
static void reply_usage(Instance *i, int r, const InstanceUsage *u, void *userdata) {
        g_autoptr(sd_bus_message) msg = userdata;
        g_autoptr(sd_bus_message) reply = NULL;

        if (r < 0) {
                (void) sd_bus_reply_method_errorf(msg, L4M_ERROR_FAILED, "The instance went away.");
                return;
        }
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0)
                r = sd_bus_message_append(reply, "{sv}", "running", "b", (int) u->running);
        if (r >= 0 && instance_usage_source_to_string(u->source))
                r = sd_bus_message_append(reply, "{sv}", "usage_source", "s",
                                          instance_usage_source_to_string(u->source));
        if (r >= 0)
                r = append_u64_entry(reply, "memory_current", u->memory_current);
        if (r >= 0)
                r = append_u64_entry(reply, "tasks_current", u->tasks_current);
        if (r >= 0)
                r = append_u64_entry(reply, "cpu_usage_nsec", u->cpu_usage_nsec);
        if (r >= 0)
                r = append_u64_entry(reply, "disk_used", u->disk_used);
        /* The limits as the properties give them: UINT64_MAX is none. */
        for (int k = 0; k < _INSTANCE_LIMIT_N && r >= 0; k++)
                r = sd_bus_message_append(reply, "{sv}", instance_limit_key(k), "t", instance_limits_get(&u->limits, k));
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        if (r < 0)
                log_warning_errno(r, "Cannot answer GetUsage: %s", STRERROR(r));
}

static int method_get_usage(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Instance *i = userdata;
        int r;

        RETURN_UNLESS_AUTHORIZED(authorize_on(i, msg, L4M_ACTION_READ, "read the use of", NULL, error));
        r = instance_query_usage(i, reply_usage, sd_bus_message_ref(msg));
        if (r == -EBUSY) {
                sd_bus_message_unref(msg);
                return sd_bus_error_setf(error, L4M_ERROR_BUSY, "Too many GetUsage calls for this instance (at most %u).",
                                         INSTANCE_USAGE_QUERIES_MAX);
        }
        if (r < 0) {
                sd_bus_message_unref(msg);
                return bus_error_internal(error, r, "Measuring the instance's use");
        }
        return 1;
}

const sd_bus_vtable instance_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", NULL, offsetof(Instance, name), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Owner", "s", NULL, offsetof(Instance, owner), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Created", "t", NULL, offsetof(Instance, created), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Blueprint", "s", property_get_blueprint, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Port", "q", property_get_port, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Hostname", "s", NULL, offsetof(Instance, hostname), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("PlayerLimit", "u", NULL, offsetof(Instance, max_players), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("StartMap", "s", NULL, offsetof(Instance, map), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Autostart", "b", property_get_autostart, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Unit", "s", NULL, offsetof(Instance, unit), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("UID", "u", NULL, offsetof(Instance, uid), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("State", "s", NULL, offsetof(Instance, state), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("MainPID", "u", NULL, offsetof(Instance, main_pid), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Map", "s", NULL, offsetof(Instance, live_map), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Players", "u", NULL, offsetof(Instance, players), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("MaxPlayers", "u", NULL, offsetof(Instance, live_max_players), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("CPUQuota", "t", property_get_limit, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("MemoryMax", "t", property_get_limit, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("TasksMax", "t", property_get_limit, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("DiskMax", "t", property_get_limit, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("DefaultLimits", "as", property_get_default_limits, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD("Start", "", "", method_start, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Stop", "", "", method_stop, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Restart", "", "", method_restart, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SendCommand",
                                SD_BUS_ARGS("s", command),
                                SD_BUS_RESULT("s", reply),
                                method_send_command, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("OpenLog",
                                SD_BUS_ARGS("b", follow, "t", lines),
                                SD_BUS_RESULT("h", log),
                                method_open_log, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetBlueprint",
                                SD_BUS_ARGS("s", blueprint),
                                SD_BUS_NO_RESULT,
                                method_set_blueprint, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetHostname",
                                SD_BUS_ARGS("s", hostname),
                                SD_BUS_NO_RESULT,
                                method_set_hostname, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetPlayerLimit",
                                SD_BUS_ARGS("u", limit),
                                SD_BUS_NO_RESULT,
                                method_set_player_limit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetStartMap",
                                SD_BUS_ARGS("s", map),
                                SD_BUS_NO_RESULT,
                                method_set_start_map, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetAutostart",
                                SD_BUS_ARGS("b", autostart),
                                SD_BUS_NO_RESULT,
                                method_set_autostart, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetLimits",
                                SD_BUS_ARGS("a{sv}", limits),
                                SD_BUS_NO_RESULT,
                                method_set_limits, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetUsage",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a{sv}", usage),
                                method_get_usage, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Delete", "", "", method_delete, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Backup",
                                SD_BUS_ARGS("a{sv}", options),
                                SD_BUS_RESULT("o", job),
                                backup_method_instance_backup, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListFiles",
                                SD_BUS_ARGS("s", path),
                                SD_BUS_RESULT("a(sstt)", entries, "b", truncated),
                                method_list_files, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("OpenFile",
                                SD_BUS_ARGS("s", path),
                                SD_BUS_RESULT("h", fd, "t", size),
                                method_open_file, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int instance_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                         void **ret_found, sd_bus_error *error) {
        Instance *i = manager_find_instance_by_path(userdata, path);

        if (!i || !caller_sees_object(userdata, bus, path, i->owner))
                return 0;
        *ret_found = i;
        return 1;
}

int instance_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***ret_nodes,
                             sd_bus_error *error) {
        return caller_enumerate_objects(userdata, bus, ((Manager *) userdata)->instances_by_id, offsetof(Instance, path),
                                        offsetof(Instance, owner), ret_nodes);
}

/* --- org.left4me.Manager's instance methods ---------------------------- */

static int append_instance_entry(sd_bus_message *reply, const void *value, void *userdata) {
        const Instance *i = value;
        const CallerView *view = userdata;
        Blueprint *b = g_hash_table_lookup(view->manager->blueprints_by_id, &i->blueprint_id);

        if (!caller_sees(view->manager, view->call, i->owner))
                return 0;
        return sd_bus_message_append(reply, "(osssqs)", i->path, i->name, i->owner, b ? b->name : "", i->port,
                                     i->state);
}

static int method_list_instances(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = polkit_verify(m->polkit, msg, L4M_ACTION_READ, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return bus_reply_list_by_name(msg, m->instances_by_id, offsetof(Instance, name), "(osssqs)",
                                      append_instance_entry, &(CallerView) { m, msg });
}

static int method_get_instance(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        return caller_reply_path_by_name(msg, m, m->instances_by_name, offsetof(Instance, path),
                                         offsetof(Instance, owner), "instance", error);
}

/* CreateInstance's options; any other key is refused. */
typedef struct InstanceOptions {
        Manager *manager;
        InstanceSettings settings;
        char *hostname;
        char *map;
} InstanceOptions;

static void instance_options_clear(InstanceOptions *o) {
        g_free(o->hostname);
        g_free(o->map);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(InstanceOptions, instance_options_clear)

static int instance_option(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error) {
        g_autofree char *problem = NULL;
        InstanceOptions *o = userdata;
        const char *contents = NULL, *s;
        int b, r;

        r = sd_bus_message_peek_type(msg, NULL, &contents);
        if (r < 0)
                return r;
        if (strcmp(key, "port") == 0) {
                uint16_t q = 0;

                if (contents && strcmp(contents, "q") == 0) {
                        r = sd_bus_message_read(msg, "v", "q", &q);
                        o->settings.port = q;
                } else if (contents && strcmp(contents, "u") == 0)
                        r = sd_bus_message_read(msg, "v", "u", &o->settings.port);
                else
                        return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT, "Option port takes a q or a u.");
                if (r < 0)
                        return r;
                r = instance_check_port(o->manager, o->settings.port, &problem);
        } else if (strcmp(key, "hostname") == 0) {
                if (!contents || strcmp(contents, "s") != 0)
                        return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT, "Option hostname takes a string.");
                r = sd_bus_message_read(msg, "v", "s", &s);
                if (r < 0)
                        return r;
                r = instance_check_hostname(s, &problem);
                g_free(o->hostname);
                o->hostname = g_strdup(s);
        } else if (strcmp(key, "max_players") == 0) {
                if (!contents || strcmp(contents, "u") != 0)
                        return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT, "Option max_players takes a u.");
                r = sd_bus_message_read(msg, "v", "u", &o->settings.max_players);
                if (r < 0)
                        return r;
                r = instance_check_player_limit(o->settings.max_players, &problem);
        } else if (strcmp(key, "map") == 0) {
                if (!contents || strcmp(contents, "s") != 0)
                        return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT, "Option map takes a string.");
                r = sd_bus_message_read(msg, "v", "s", &s);
                if (r < 0)
                        return r;
                r = instance_check_map(s, false, &problem);
                g_free(o->map);
                o->map = g_strdup(s);
        } else if (strcmp(key, "autostart") == 0) {
                if (!contents || strcmp(contents, "b") != 0)
                        return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT, "Option autostart takes a boolean.");
                r = sd_bus_message_read(msg, "v", "b", &b);
                if (r < 0)
                        return r;
                o->settings.autostart = b;
        } else
                return 0;
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Checking the options");
        return 1;
}

static int method_create_instance(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        g_auto(InstanceOptions) o = { .manager = m, .settings.max_players = INSTANCE_MAX_PLAYERS_DEFAULT };
        g_autofree char *problem = NULL;
        g_auto(Actor) actor = { NULL };
        const char *name;
        Blueprint *b;
        Instance *i;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        r = instance_check_name(name, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Checking the name");
        r = read_blueprint_name(msg, m, &b, error);
        if (r < 0)
                return r;
        r = bus_message_read_options(msg, instance_option, &o, error);
        if (r < 0)
                return r;

        r = authorize(m, NULL, name, b, msg, L4M_ACTION_INSTANCE_MANAGE, "create", &actor, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        o.settings.hostname = o.hostname;
        o.settings.map = o.map;
        r = instance_create(m, &actor, name, b, &o.settings, &i, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Creating the instance");
        return sd_bus_reply_method_return(msg, "o", i->path);
}

const sd_bus_vtable instance_manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("ListInstances",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(osssqs)", instances),
                                method_list_instances, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateInstance",
                                SD_BUS_ARGS("s", name, "s", blueprint, "a{sv}", options),
                                SD_BUS_RESULT("o", instance),
                                method_create_instance, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetInstance",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("o", instance),
                                method_get_instance, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};
