/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "blueprint.h"
#include "bus-util.h"
#include "caller.h"
#include "instance.h"
#include "instance-runtime.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-names.h"
#include "l4m-util.h"

void instance_emit_changed(Instance *i, ...) {
        g_autoptr(GPtrArray) names = g_ptr_array_new();
        const char *name;
        va_list ap;
        int r;

        if (!i->manager->bus)
                return;
        va_start(ap, i);
        while ((name = va_arg(ap, const char *)))
                g_ptr_array_add(names, (char *) name);
        va_end(ap);
        g_ptr_array_add(names, NULL);
        r = sd_bus_emit_properties_changed_strv(i->manager->bus, i->path, L4M_INSTANCE_INTERFACE, (char **) names->pdata);
        if (r < 0)
                log_debug_errno(r, "Cannot announce changes of %s: %s", i->path, STRERROR(r));
}

/* Owners act on their own instances with owner_action; on anyone else's,
 * org.left4me.admin is needed. */
static int authorize(Instance *i, sd_bus_message *msg, const char *owner_action, sd_bus_error *error) {
        g_autofree char *caller = NULL;
        int r;

        r = caller_principal(i->manager, msg, &caller);
        if (r < 0)
                return bus_error_internal(error, r, "Identifying the caller");
        return polkit_verify(i->manager->polkit, msg, strcmp(caller, i->owner) == 0 ? owner_action : L4M_ACTION_ADMIN,
                             error);
}

/* One polkit check per call: acting on one's own instance with one's own
 * blueprint (b, if not NULL) takes action; anything else takes
 * org.left4me.admin. owner is NULL for an instance yet to be made. */
static int authorize_with_blueprint(Manager *m, const char *owner, const Blueprint *b, sd_bus_message *msg,
                                    const char *action, sd_bus_error *error) {
        g_autofree char *caller = NULL;
        bool own;
        int r;

        r = caller_principal(m, msg, &caller);
        if (r < 0)
                return bus_error_internal(error, r, "Identifying the caller");
        own = (!owner || strcmp(caller, owner) == 0) && (!b || strcmp(caller, b->owner) == 0);
        return polkit_verify(m->polkit, msg, own ? action : L4M_ACTION_ADMIN, error);
}

static int read_blueprint_name(sd_bus_message *msg, Manager *m, Blueprint **ret, sd_bus_error *error) {
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        if (!l4m_name_is_valid(name))
                return bus_error_setf_valid(error, L4M_ERROR_INVALID_ARGUMENT, "Invalid blueprint name \"%.64s\".", name);
        *ret = g_hash_table_lookup(m->blueprints_by_name, name);
        if (!*ret || !caller_sees(m, msg, (*ret)->owner))
                return sd_bus_error_setf(error, L4M_ERROR_NOT_FOUND, "No blueprint \"%s\".", name);
        return 0;
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

static int method_start(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Instance *i = userdata;
        int r;

        r = authorize(i, msg, L4M_ACTION_INSTANCE_CONTROL, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = instance_start(i, msg, error);
        return r < 0 ? r : 1;   /* answered once systemd has */
}

static int method_restart(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Instance *i = userdata;
        int r;

        r = authorize(i, msg, L4M_ACTION_INSTANCE_CONTROL, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        if (!instance_is_active(i)) {
                r = instance_start(i, msg, error);
                return r < 0 ? r : 1;
        }
        r = instance_restart(i, NULL, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_stop(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Instance *i = userdata;
        int r;

        r = authorize(i, msg, L4M_ACTION_INSTANCE_CONTROL, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        if (i->start_call)
                return sd_bus_error_setf(error, L4M_ERROR_BUSY, "Instance \"%s\" is starting; stop it once it runs.", i->name);
        r = instance_stop(i, msg);
        if (r < 0)
                return bus_error_internal(error, r, "Stopping the server unit");
        if (r > 0)
                return 1;       /* answered once systemd did */
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_send_command(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Instance *i = userdata;
        const char *command, *problem;
        int r;

        r = sd_bus_message_read(msg, "s", &command);
        if (r < 0)
                return r;
        problem = instance_command_problem(command);
        if (problem)
                return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT, "Command refused: %s.", problem);

        r = authorize(i, msg, L4M_ACTION_INSTANCE_CONTROL, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = instance_send_command(i, msg, command, error);
        return r < 0 ? r : 1;   /* answered when the server has */
}

static int method_delete(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Instance *i = userdata;
        Manager *m = i->manager;
        g_autofree char *path = NULL;
        int r;

        r = authorize(i, msg, L4M_ACTION_INSTANCE_MANAGE, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        if (!i->state_known)
                return sd_bus_error_setf(error, L4M_ERROR_BUSY, "The state of instance \"%s\" is not known yet; try again.",
                                         i->name);
        if (instance_is_active(i) || i->start_after_stop)
                return sd_bus_error_setf(error, L4M_ERROR_BUSY, "Instance \"%s\" is %s; stop it first.", i->name, i->state);
        if (strcmp(i->state, INSTANCE_STATE_FAILED) == 0)
                (void) unit_reset_failed(m->bus, i->unit);

        /* Announce while the object still resolves, then drop it. */
        path = g_strdup(i->path);
        r = sd_bus_emit_object_removed(m->bus, path);
        if (r < 0)
                log_warning_errno(r, "Cannot announce removal of %s: %s", path, STRERROR(r));

        r = instance_delete(i);
        if (r < 0) {
                (void) sd_bus_emit_object_added(m->bus, path);
                if (r == -EBUSY || r == -EXDEV)
                        return sd_bus_error_setf(error, L4M_ERROR_BUSY,
                                                 "Something is still mounted in the instance's runtime directory.");
                return bus_error_internal(error, r, "Deleting the instance");
        }
        return sd_bus_reply_method_return(msg, NULL);
}

/* The unit's journal, whether or not it runs now (the history of its
 * last runs): the last `lines` messages, with follow every later one. */
static int method_open_log(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_close_ int fd = -1;
        g_autofree char *caller = NULL;
        Instance *i = userdata;
        uint64_t lines;
        int follow, r;

        r = sd_bus_message_read(msg, "bt", &follow, &lines);
        if (r < 0)
                return r;
        r = authorize(i, msg, L4M_ACTION_READ, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = caller_principal(i->manager, msg, &caller);
        if (r < 0)
                return bus_error_internal(error, r, "Identifying the caller");

        /* Not what an earlier instance of the same name (and unit) logged. */
        r = journal_stream_open(i->manager->journal_streams, caller, i->unit, i->created, follow, lines, &fd);
        if (r == -EBUSY)
                return sd_bus_error_setf(error, L4M_ERROR_BUSY,
                                         "Too many instance logs are open (at most %u per caller, %u in all).",
                                         JOURNAL_STREAMS_PER_CLIENT_MAX, JOURNAL_STREAMS_MAX);
        if (r < 0)
                return bus_error_internal(error, r, "Opening the journal");
        return sd_bus_reply_method_return(msg, "h", fd);
}

/* Setters: the new value is stored at once and used at the next start. */
static int save_or_fail(Instance *i, sd_bus_message *msg, const char *property, sd_bus_error *error) {
        int r = instance_save(i);

        if (r == -ENOENT)
                return sd_bus_error_set(error, L4M_ERROR_NOT_FOUND, "The blueprint was deleted meanwhile.");
        if (r < 0)
                return bus_error_internal(error, r, "Storing the instance's settings");
        instance_emit_changed(i, property, NULL);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_set_hostname(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Instance *i = userdata;
        const char *s, *problem;
        int r;

        r = sd_bus_message_read(msg, "s", &s);
        if (r < 0)
                return r;
        problem = instance_hostname_problem(s);
        if (problem)
                return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT, "Hostname refused: %s.", problem);
        r = authorize(i, msg, L4M_ACTION_INSTANCE_MANAGE, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        g_free(i->hostname);
        i->hostname = g_strdup(s);
        return save_or_fail(i, msg, "Hostname", error);
}

static int method_set_start_map(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Instance *i = userdata;
        const char *s;
        int r;

        r = sd_bus_message_read(msg, "s", &s);
        if (r < 0)
                return r;
        if (*s && !instance_map_is_valid(s))
                return bus_error_setf_valid(error, L4M_ERROR_INVALID_ARGUMENT,
                                            "Invalid map name \"%.64s\": 1-64 characters of A-Z, a-z, 0-9, '_' and '-', or empty.", s);
        r = authorize(i, msg, L4M_ACTION_INSTANCE_MANAGE, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        g_free(i->map);
        i->map = g_strdup(s);
        return save_or_fail(i, msg, "StartMap", error);
}

static int method_set_player_limit(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Instance *i = userdata;
        uint32_t n;
        int r;

        r = sd_bus_message_read(msg, "u", &n);
        if (r < 0)
                return r;
        if (n < INSTANCE_MAX_PLAYERS_MIN || n > INSTANCE_MAX_PLAYERS_MAX)
                return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT, "A player limit is %u to %u, not %u.",
                                         INSTANCE_MAX_PLAYERS_MIN, INSTANCE_MAX_PLAYERS_MAX, n);
        r = authorize(i, msg, L4M_ACTION_INSTANCE_MANAGE, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        i->max_players = n;
        return save_or_fail(i, msg, "PlayerLimit", error);
}

static int method_set_autostart(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Instance *i = userdata;
        int b, r;

        r = sd_bus_message_read(msg, "b", &b);
        if (r < 0)
                return r;
        r = authorize(i, msg, L4M_ACTION_INSTANCE_MANAGE, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        i->autostart = b;
        return save_or_fail(i, msg, "Autostart", error);
}

static int method_set_blueprint(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Instance *i = userdata;
        Blueprint *b;
        int r;

        r = read_blueprint_name(msg, i->manager, &b, error);
        if (r < 0)
                return r;
        r = authorize_with_blueprint(i->manager, i->owner, b, msg, L4M_ACTION_INSTANCE_MANAGE, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        i->blueprint_id = b->id;
        return save_or_fail(i, msg, "Blueprint", error);
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
        SD_BUS_PROPERTY("State", "s", NULL, offsetof(Instance, state), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("MainPID", "u", NULL, offsetof(Instance, main_pid), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Map", "s", NULL, offsetof(Instance, live_map), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Players", "u", NULL, offsetof(Instance, players), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("MaxPlayers", "u", NULL, offsetof(Instance, live_max_players), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
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
        SD_BUS_METHOD("Delete", "", "", method_delete, SD_BUS_VTABLE_UNPRIVILEGED),
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
        const char *name;
        Instance *i;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        if (!l4m_name_is_valid(name))
                return bus_error_setf_valid(error, L4M_ERROR_INVALID_ARGUMENT, "Invalid instance name \"%.64s\".", name);
        r = polkit_verify(m->polkit, msg, L4M_ACTION_READ, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        i = g_hash_table_lookup(m->instances_by_name, name);
        if (!i || !caller_sees(m, msg, i->owner))
                return sd_bus_error_setf(error, L4M_ERROR_NOT_FOUND, "No instance \"%s\".", name);
        return sd_bus_reply_method_return(msg, "o", i->path);
}

/* CreateInstance's options; any other key is refused. */
typedef struct InstanceOptions {
        Manager *manager;
        uint32_t port;          /* 0: assign one */
        char *hostname;
        uint32_t max_players;
        char *map;
        bool autostart;
} InstanceOptions;

static int instance_option(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error) {
        InstanceOptions *o = userdata;
        const Config *c = o->manager->config;
        const char *contents = NULL, *s, *problem;
        int b, r;

        r = sd_bus_message_peek_type(msg, NULL, &contents);
        if (r < 0)
                return r;
        if (strcmp(key, "port") == 0) {
                uint16_t q = 0;

                if (contents && strcmp(contents, "q") == 0) {
                        r = sd_bus_message_read(msg, "v", "q", &q);
                        o->port = q;
                } else if (contents && strcmp(contents, "u") == 0)
                        r = sd_bus_message_read(msg, "v", "u", &o->port);
                else
                        return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT, "Option port takes a q or a u.");
                if (r < 0)
                        return r;
                if (o->port < c->instance_port_min || o->port > c->instance_port_max)
                        return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT,
                                                 "Port %u is outside the range for instances, %u to %u ([Instances] PortMin=, PortMax=).",
                                                 o->port, c->instance_port_min, c->instance_port_max);
                return 1;
        }
        if (strcmp(key, "hostname") == 0) {
                if (!contents || strcmp(contents, "s") != 0)
                        return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT, "Option hostname takes a string.");
                r = sd_bus_message_read(msg, "v", "s", &s);
                if (r < 0)
                        return r;
                problem = instance_hostname_problem(s);
                if (problem)
                        return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT, "Hostname refused: %s.", problem);
                g_free(o->hostname);
                o->hostname = g_strdup(s);
                return 1;
        }
        if (strcmp(key, "max_players") == 0) {
                if (!contents || strcmp(contents, "u") != 0)
                        return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT, "Option max_players takes a u.");
                r = sd_bus_message_read(msg, "v", "u", &o->max_players);
                if (r < 0)
                        return r;
                if (o->max_players < INSTANCE_MAX_PLAYERS_MIN || o->max_players > INSTANCE_MAX_PLAYERS_MAX)
                        return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT, "max_players is %u to %u, not %u.",
                                                 INSTANCE_MAX_PLAYERS_MIN, INSTANCE_MAX_PLAYERS_MAX, o->max_players);
                return 1;
        }
        if (strcmp(key, "map") == 0) {
                if (!contents || strcmp(contents, "s") != 0)
                        return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT, "Option map takes a string.");
                r = sd_bus_message_read(msg, "v", "s", &s);
                if (r < 0)
                        return r;
                if (!instance_map_is_valid(s))
                        return bus_error_setf_valid(error, L4M_ERROR_INVALID_ARGUMENT,
                                                    "Invalid map name \"%.64s\": 1-64 characters of A-Z, a-z, 0-9, '_' and '-'.", s);
                g_free(o->map);
                o->map = g_strdup(s);
                return 1;
        }
        if (strcmp(key, "autostart") == 0) {
                if (!contents || strcmp(contents, "b") != 0)
                        return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT, "Option autostart takes a boolean.");
                r = sd_bus_message_read(msg, "v", "b", &b);
                if (r < 0)
                        return r;
                o->autostart = b;
                return 1;
        }
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

static int method_create_instance(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        InstanceOptions o = { .manager = m, .max_players = INSTANCE_MAX_PLAYERS_DEFAULT };
        g_autofree char *owner = NULL, *hostname = NULL, *map = NULL;
        const char *name;
        Blueprint *b;
        Instance *i, *other;
        uint16_t port;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        if (!l4m_name_is_valid(name))
                return bus_error_setf_valid(error, L4M_ERROR_INVALID_ARGUMENT,
                                            "Invalid instance name \"%.64s\": names are 1-%d characters of a-z, 0-9, '_' and '-', starting with a letter or digit.",
                                            name, L4M_NAME_MAX);
        r = read_blueprint_name(msg, m, &b, error);
        if (r < 0)
                return r;
        r = bus_message_read_options(msg, instance_option, &o, error);
        hostname = o.hostname;
        map = o.map;
        if (r < 0)
                return r;

        r = authorize_with_blueprint(m, NULL, b, msg, L4M_ACTION_INSTANCE_MANAGE, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = caller_principal(m, msg, &owner);
        if (r < 0)
                return bus_error_internal(error, r, "Identifying the caller");

        if (g_hash_table_contains(m->instances_by_name, name))
                return sd_bus_error_setf(error, L4M_ERROR_EXISTS, "Instance \"%s\" already exists.", name);
        if (manager_count_instances_of(m, owner) >= MANAGER_INSTANCES_PER_OWNER_MAX)
                return sd_bus_error_setf(error, L4M_ERROR_BUSY, "%s already owns %u instances, the most one may own.",
                                         owner, MANAGER_INSTANCES_PER_OWNER_MAX);
        if (o.port != 0) {
                port = (uint16_t) o.port;
                other = manager_find_instance_by_port(m, port);
                if (other && !caller_sees(m, msg, other->owner))
                        return sd_bus_error_setf(error, L4M_ERROR_BUSY, "Port %u is in use by an instance of another user.",
                                                 (unsigned) port);
                if (other)
                        return sd_bus_error_setf(error, L4M_ERROR_BUSY, "Port %u is in use by instance \"%s\".",
                                                 (unsigned) port, other->name);
                if (instance_port_check_free(port) == -EADDRINUSE)
                        return sd_bus_error_setf(error, L4M_ERROR_BUSY, "Port %u is in use on this host (UDP or TCP).",
                                                 (unsigned) port);
        } else {
                port = assign_port(m);
                if (port == 0)
                        return sd_bus_error_setf(error, L4M_ERROR_BUSY, "No port from %u to %u is free.",
                                                 m->config->instance_port_min, m->config->instance_port_max);
        }

        r = instance_create(m, name, owner, b->id, port, hostname ? hostname : name, o.max_players, map ? map : "",
                            o.autostart, &i);
        if (r == -EEXIST)
                return sd_bus_error_setf(error, L4M_ERROR_EXISTS, "Instance \"%s\" or port %u is taken.", name,
                                         (unsigned) port);
        if (r == -ENOENT)
                return sd_bus_error_set(error, L4M_ERROR_NOT_FOUND, "The blueprint was deleted meanwhile.");
        if (r < 0)
                return bus_error_internal(error, r, "Creating the instance");

        r = sd_bus_emit_object_added(m->bus, i->path);
        if (r < 0)
                log_warning_errno(r, "Cannot announce %s: %s", i->path, STRERROR(r));
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
