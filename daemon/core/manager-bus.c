/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "blueprint.h"
#include "bus-util.h"
#include "caller.h"
#include "config.h"
#include "instance.h"
#include "game-install.h"
#include "l4m-bus-names.h"
#include "systemd-unit.h"
#include "l4m-log.h"
#include "l4m-names.h"
#include "l4m-util.h"
#include "manager.h"
#include "job.h"
#include "overlay.h"
#include "workshop-cache.h"

static int property_get_version(sd_bus *bus, const char *path, const char *interface,
                                const char *property, sd_bus_message *reply, void *userdata,
                                sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", L4M_VERSION);
}

static int append_overlay_entry(sd_bus_message *reply, const void *value, void *userdata) {
        const Overlay *o = value;
        const CallerView *view = userdata;

        if (!caller_sees(view->manager, view->call, o->owner))
                return 0;
        return sd_bus_message_append(reply, "(osssst)", o->path, o->name, l4m_overlay_type_to_string(o->type),
                                     o->owner, o->state, o->created);
}

static int method_list_overlays(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = polkit_verify(m->polkit, msg, L4M_ACTION_READ, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return bus_reply_list_by_name(msg, m->overlays_by_id, offsetof(Overlay, name), "(osssst)",
                                      append_overlay_entry, &(CallerView) { m, msg });
}

static int method_create_overlay(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autofree char *owner = NULL;
        Manager *m = userdata;
        const char *name, *type_str;
        L4mOverlayType type;
        Overlay *o;
        int r;

        r = sd_bus_message_read(msg, "ss", &name, &type_str);
        if (r < 0)
                return r;
        if (!l4m_name_is_valid(name))
                return bus_error_setf_valid(error, L4M_ERROR_INVALID_ARGUMENT,
                                            "Invalid overlay name \"%.64s\": names are 1-%d characters of a-z, 0-9, '_' and '-', starting with a letter or digit.",
                                            name, L4M_NAME_MAX);
        type = l4m_overlay_type_from_string(type_str);
        if (type < 0)
                return bus_error_setf_valid(error, L4M_ERROR_INVALID_ARGUMENT,
                                            "Invalid overlay type \"%.32s\": expected workshop, script or archive.", type_str);
        /* No creation options are defined yet: any key is refused, which
         * keeps the door open for adding some without changing what old
         * calls mean. */
        r = bus_message_refuse_options(msg, error);
        if (r < 0)
                return r;

        r = polkit_verify(m->polkit, msg, L4M_ACTION_OVERLAY_MANAGE, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = caller_principal(m, msg, &owner);
        if (r < 0)
                return bus_error_internal(error, r, "Identifying the caller");

        if (g_hash_table_contains(m->overlays_by_name, name))
                return sd_bus_error_setf(error, L4M_ERROR_EXISTS, "Overlay \"%s\" already exists.", name);
        if (manager_count_overlays_of(m, owner) >= MANAGER_OVERLAYS_PER_OWNER_MAX)
                return sd_bus_error_setf(error, L4M_ERROR_BUSY, "%s already owns %u overlays, the most one may own.",
                                         owner, MANAGER_OVERLAYS_PER_OWNER_MAX);

        r = overlay_create(m, name, type, owner, &o);
        if (r == -EEXIST)
                return sd_bus_error_setf(error, L4M_ERROR_EXISTS, "Overlay \"%s\" already exists.", name);
        if (r < 0)
                return bus_error_internal(error, r, "Creating the overlay");

        r = sd_bus_emit_object_added(m->bus, o->path);
        if (r < 0)
                log_warning_errno(r, "Cannot announce %s: %s", o->path, STRERROR(r));

        return sd_bus_reply_method_return(msg, "o", o->path);
}

/* GetOverlay, GetBlueprint: the object path of what by_name holds under
 * the name the message carries (its path a char* at path_offset, its owner
 * one at owner_offset), for anyone who may read and see it. */
static int reply_path_by_name(sd_bus_message *msg, Manager *m, GHashTable *by_name, size_t path_offset,
                              size_t owner_offset, const char *kind, sd_bus_error *error) {
        const char *name;
        void *found;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        if (!l4m_name_is_valid(name))
                return bus_error_setf_valid(error, L4M_ERROR_INVALID_ARGUMENT, "Invalid %s name \"%.64s\".", kind, name);

        r = polkit_verify(m->polkit, msg, L4M_ACTION_READ, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        found = g_hash_table_lookup(by_name, name);
        if (!found || !caller_sees(m, msg, *(char **) ((char *) found + owner_offset)))
                return sd_bus_error_setf(error, L4M_ERROR_NOT_FOUND, "No %s \"%s\".", kind, name);
        return sd_bus_reply_method_return(msg, "o", *(char **) ((char *) found + path_offset));
}

static int method_get_overlay(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        return reply_path_by_name(msg, m, m->overlays_by_name, offsetof(Overlay, path), offsetof(Overlay, owner),
                                  "overlay", error);
}

static int append_blueprint_entry(sd_bus_message *reply, const void *value, void *userdata) {
        const Blueprint *b = value;
        const CallerView *view = userdata;
        Manager *m = view->manager;
        int r;

        if (!caller_sees(m, view->call, b->owner))
                return 0;
        r = sd_bus_message_open_container(reply, 'r', "ossast");
        if (r >= 0)
                r = sd_bus_message_append(reply, "oss", b->path, b->name, b->owner);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "s");
        for (guint k = 0; r >= 0 && k < b->overlays->len; k++) {
                Overlay *o = g_hash_table_lookup(m->overlays_by_id, &g_array_index(b->overlays, uint64_t, k));
                if (o)
                        r = sd_bus_message_append(reply, "s", o->name);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "t", b->created);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

static int method_list_blueprints(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = polkit_verify(m->polkit, msg, L4M_ACTION_READ, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return bus_reply_list_by_name(msg, m->blueprints_by_id, offsetof(Blueprint, name), "(ossast)",
                                      append_blueprint_entry, &(CallerView) { m, msg });
}

/* Options: server_cfg (s) and launch_args (as), as SetServerCfg and
 * SetLaunchArgs take them; any other key is refused. */
typedef struct BlueprintOptions {
        char *cfg;
        char **args;
} BlueprintOptions;

static int blueprint_option(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error) {
        BlueprintOptions *o = userdata;
        const char *s;
        int r;

        if (strcmp(key, "server_cfg") == 0) {
                r = sd_bus_message_read(msg, "v", "s", &s);
                if (r < 0)
                        return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT, "Option server_cfg takes a string.");
                r = bus_check_server_cfg(s, error);
                if (r < 0)
                        return r;
                g_free(o->cfg);
                o->cfg = g_strdup(s);
                return 1;
        }
        if (strcmp(key, "launch_args") == 0) {
                char **v = NULL;

                r = sd_bus_message_enter_container(msg, 'v', "as");
                if (r < 0)
                        return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT, "Option launch_args takes an array of strings.");
                r = sd_bus_message_read_strv(msg, &v);
                if (r < 0)
                        return r;
                g_strfreev(o->args);
                o->args = v ? v : g_new0(char *, 1);
                r = sd_bus_message_exit_container(msg);
                if (r < 0)
                        return r;
                r = bus_check_launch_args(o->args, error);
                return r < 0 ? r : 1;
        }
        return 0;
}

static int read_blueprint_options(sd_bus_message *msg, char **ret_cfg, char ***ret_args, sd_bus_error *error) {
        BlueprintOptions o = { .cfg = g_strdup(""), .args = g_new0(char *, 1) };
        int r;

        r = bus_message_read_options(msg, blueprint_option, &o, error);
        if (r < 0) {
                g_free(o.cfg);
                g_strfreev(o.args);
                return r;
        }
        *ret_cfg = o.cfg;
        *ret_args = o.args;
        return 0;
}

static int method_create_blueprint(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autofree char *owner = NULL, *cfg = NULL;
        g_auto(GStrv) args = NULL;
        g_autoptr(GArray) ids = NULL;
        Manager *m = userdata;
        const char *name;
        Blueprint *b;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        if (!l4m_name_is_valid(name))
                return bus_error_setf_valid(error, L4M_ERROR_INVALID_ARGUMENT,
                                            "Invalid blueprint name \"%.64s\": names are 1-%d characters of a-z, 0-9, '_' and '-', starting with a letter or digit.",
                                            name, L4M_NAME_MAX);
        r = bus_read_blueprint_overlays(msg, m, &ids, error);
        if (r < 0)
                return r;
        r = read_blueprint_options(msg, &cfg, &args, error);
        if (r < 0)
                return r;

        r = polkit_verify(m->polkit, msg, L4M_ACTION_BLUEPRINT_MANAGE, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = caller_principal(m, msg, &owner);
        if (r < 0)
                return bus_error_internal(error, r, "Identifying the caller");

        if (g_hash_table_contains(m->blueprints_by_name, name))
                return sd_bus_error_setf(error, L4M_ERROR_EXISTS, "Blueprint \"%s\" already exists.", name);
        if (manager_count_blueprints_of(m, owner) >= MANAGER_BLUEPRINTS_PER_OWNER_MAX)
                return sd_bus_error_setf(error, L4M_ERROR_BUSY, "%s already owns %u blueprints, the most one may own.",
                                         owner, MANAGER_BLUEPRINTS_PER_OWNER_MAX);

        r = blueprint_create(m, name, owner, (const uint64_t *) ids->data, ids->len, cfg, args, &b);
        if (r == -EEXIST)
                return sd_bus_error_setf(error, L4M_ERROR_EXISTS, "Blueprint \"%s\" already exists.", name);
        if (r == -ENOENT)
                return sd_bus_error_set(error, L4M_ERROR_NOT_FOUND, "An overlay was deleted meanwhile.");
        if (r < 0)
                return bus_error_internal(error, r, "Creating the blueprint");

        r = sd_bus_emit_object_added(m->bus, b->path);
        if (r < 0)
                log_warning_errno(r, "Cannot announce %s: %s", b->path, STRERROR(r));

        return sd_bus_reply_method_return(msg, "o", b->path);
}

static int method_get_blueprint(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        return reply_path_by_name(msg, m, m->blueprints_by_name, offsetof(Blueprint, path), offsetof(Blueprint, owner),
                                  "blueprint", error);
}

static gint job_compare_by_id(gconstpointer a, gconstpointer b) {
        uint64_t x = (*(Job *const *) a)->id, y = (*(Job *const *) b)->id;
        return (x > y) - (x < y);
}

static int method_list_jobs(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(GPtrArray) sorted = NULL;
        Manager *m = userdata;
        int r;

        r = polkit_verify(m->polkit, msg, L4M_ACTION_READ, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        sorted = hash_table_sorted_values(m->jobs_by_id, job_compare_by_id);

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(tssssdo)");
        for (guint i = 0; r >= 0 && i < sorted->len; i++) {
                const Job *j = sorted->pdata[i];

                if (!caller_sees(m, msg, j->owner))
                        continue;
                r = sd_bus_message_append(reply, "(tssssdo)", j->id, j->kind_name, j->target, j->owner,
                                          job_state_to_string(j->state), j->progress, j->path);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_get_job(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        uint64_t id;
        Job *j;
        int r;

        r = sd_bus_message_read(msg, "t", &id);
        if (r < 0)
                return r;

        r = polkit_verify(m->polkit, msg, L4M_ACTION_READ, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        j = g_hash_table_lookup(m->jobs_by_id, &id);
        if (!j || !caller_sees(m, msg, j->owner))
                return sd_bus_error_setf(error, L4M_ERROR_NOT_FOUND, "No job %" G_GUINT64_FORMAT ".", id);
        return sd_bus_reply_method_return(msg, "o", j->path);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("ListOverlays",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(osssst)", overlays),
                                method_list_overlays, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateOverlay",
                                SD_BUS_ARGS("s", name, "s", type, "a{sv}", options),
                                SD_BUS_RESULT("o", overlay),
                                method_create_overlay, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetOverlay",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("o", overlay),
                                method_get_overlay, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListBlueprints",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(ossast)", blueprints),
                                method_list_blueprints, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateBlueprint",
                                SD_BUS_ARGS("s", name, "as", overlays, "a{sv}", options),
                                SD_BUS_RESULT("o", blueprint),
                                method_create_blueprint, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetBlueprint",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("o", blueprint),
                                method_get_blueprint, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListJobs",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(tssssdo)", jobs),
                                method_list_jobs, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetJob",
                                SD_BUS_ARGS("t", id),
                                SD_BUS_RESULT("o", job),
                                method_get_job, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListCache",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(tstu)", entries),
                                method_list_cache, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PruneCache",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("t", files, "t", bytes),
                                method_prune_cache, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("JobNew", SD_BUS_ARGS("t", id, "o", job), 0),
        SD_BUS_SIGNAL_WITH_ARGS("JobRemoved", SD_BUS_ARGS("t", id, "o", job, "s", result), 0),
        SD_BUS_VTABLE_END
};

static int name_acquired(sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        double ms;

        if (e) {
                log_error("Cannot acquire bus name " L4M_BUS_NAME ": %s: %s", e->name, e->message);
                return sd_event_exit(m->event, -EADDRINUSE);
        }

        ms = (double) (g_get_monotonic_time() - m->start_usec) / 1000.0;
        log_struct_errno(LOG_INFO, 0,
                         ((const char *[]) { "L4M_EVENT=name-acquired", NULL }),
                         "Acquired name " L4M_BUS_NAME " %.1f ms after start.", ms);
        (void) sd_notifyf(false, "READY=1\nSTATUS=Serving %u overlay(s).",
                          g_hash_table_size(m->overlays_by_id));
        return 1;
}

int manager_connect_bus(Manager *m) {
        int r;

        r = sd_bus_open_system_with_description(&m->bus, "left4med");
        if (r < 0)
                return log_error_errno(r, "Cannot connect to the system bus: %s", STRERROR(r));

        r = sd_bus_add_object_vtable(m->bus, NULL, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, manager_vtable, m);
        if (r < 0)
                return log_error_errno(r, "Cannot register the manager object: %s", STRERROR(r));
        r = sd_bus_add_object_vtable(m->bus, NULL, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, instance_manager_vtable, m);
        if (r < 0)
                return log_error_errno(r, "Cannot register the manager's instance members: %s", STRERROR(r));
        r = sd_bus_add_object_vtable(m->bus, NULL, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, game_manager_vtable, m);
        if (r < 0)
                return log_error_errno(r, "Cannot register the manager's game members: %s", STRERROR(r));
        r = sd_bus_add_object_vtable(m->bus, NULL, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, user_manager_vtable, m);
        if (r < 0)
                return log_error_errno(r, "Cannot register the manager's web account members: %s", STRERROR(r));
        r = sd_bus_add_object_vtable(m->bus, NULL, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, config_manager_vtable, m);
        if (r < 0)
                return log_error_errno(r, "Cannot register the manager's configuration members: %s", STRERROR(r));
        r = sd_bus_add_fallback_vtable(m->bus, NULL, L4M_OVERLAY_PATH_PREFIX, L4M_OVERLAY_INTERFACE,
                                       overlay_vtable, overlay_object_find, m);
        if (r < 0)
                return log_error_errno(r, "Cannot register overlay objects: %s", STRERROR(r));
        r = sd_bus_add_node_enumerator(m->bus, NULL, L4M_OVERLAY_PATH_PREFIX, overlay_node_enumerator, m);
        if (r < 0)
                return log_error_errno(r, "Cannot register the overlay enumerator: %s", STRERROR(r));
        r = sd_bus_add_fallback_vtable(m->bus, NULL, L4M_BLUEPRINT_PATH_PREFIX, L4M_BLUEPRINT_INTERFACE,
                                       blueprint_vtable, blueprint_object_find, m);
        if (r < 0)
                return log_error_errno(r, "Cannot register blueprint objects: %s", STRERROR(r));
        r = sd_bus_add_node_enumerator(m->bus, NULL, L4M_BLUEPRINT_PATH_PREFIX, blueprint_node_enumerator, m);
        if (r < 0)
                return log_error_errno(r, "Cannot register the blueprint enumerator: %s", STRERROR(r));
        r = sd_bus_add_fallback_vtable(m->bus, NULL, L4M_INSTANCE_PATH_PREFIX, L4M_INSTANCE_INTERFACE,
                                       instance_vtable, instance_object_find, m);
        if (r < 0)
                return log_error_errno(r, "Cannot register instance objects: %s", STRERROR(r));
        r = sd_bus_add_node_enumerator(m->bus, NULL, L4M_INSTANCE_PATH_PREFIX, instance_node_enumerator, m);
        if (r < 0)
                return log_error_errno(r, "Cannot register the instance enumerator: %s", STRERROR(r));
        r = sd_bus_add_fallback_vtable(m->bus, NULL, L4M_JOB_PATH_PREFIX, L4M_JOB_INTERFACE,
                                       job_vtable, job_object_find, m);
        if (r < 0)
                return log_error_errno(r, "Cannot register job objects: %s", STRERROR(r));
        r = sd_bus_add_node_enumerator(m->bus, NULL, L4M_JOB_PATH_PREFIX, job_node_enumerator, m);
        if (r < 0)
                return log_error_errno(r, "Cannot register the job enumerator: %s", STRERROR(r));
        r = sd_bus_add_object_manager(m->bus, NULL, L4M_MANAGER_PATH);
        if (r < 0)
                return log_error_errno(r, "Cannot register the object manager: %s", STRERROR(r));

        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Cannot attach the bus to the event loop: %s", STRERROR(r));
        r = sd_bus_set_exit_on_disconnect(m->bus, true);
        if (r < 0)
                return log_error_errno(r, "Cannot set exit-on-disconnect: %s", STRERROR(r));
        r = delegation_registry_attach(m->delegations, m->bus);
        if (r < 0)
                return log_error_errno(r, "Cannot follow web sessions' connections: %s", STRERROR(r));

        /* Units of jobs that were running when we stopped: follow them again. */
        r = systemd_subscribe(m->bus);
        if (r < 0)
                return log_error_errno(r, "Cannot subscribe to systemd's signals: %s", STRERROR(r));
        manager_resume_jobs(m);
        /* Servers run on whatever the daemon does: learn their state again
         * (and, after boot, start the autostart ones). */
        manager_start_instances(m);

        /* Objects first, name last: once callers can find us, we answer. */
        r = sd_bus_request_name_async(m->bus, NULL, L4M_BUS_NAME, 0, name_acquired, m);
        if (r < 0)
                return log_error_errno(r, "Cannot request bus name " L4M_BUS_NAME ": %s", STRERROR(r));
        return 0;
}
