/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "blueprint.h"
#include "bus-util.h"
#include "caller.h"
#include "instance.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-names.h"
#include "l4m-util.h"
#include "overlay.h"

int bus_read_blueprint_overlays(sd_bus_message *msg, Manager *m, GArray **ret, sd_bus_error *error) {
        g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(uint64_t));
        g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
        g_auto(GStrv) names = NULL;
        size_t n;
        int r;

        r = sd_bus_message_read_strv(msg, &names);
        if (r < 0)
                return r;
        n = names ? g_strv_length(names) : 0;
        if (n == 0)
                return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT, "A blueprint needs at least one overlay.");
        if (n > BLUEPRINT_OVERLAYS_MAX)
                return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT,
                                         "Too many overlays (%zu): a blueprint has at most %u.", n, BLUEPRINT_OVERLAYS_MAX);

        /* Every name is checked before any is looked up: a bad name is
         * InvalidArgument whatever else is wrong. */
        for (size_t i = 0; i < n; i++) {
                if (!l4m_name_is_valid(names[i]))
                        return bus_error_setf_valid(error, L4M_ERROR_INVALID_ARGUMENT,
                                                    "Invalid overlay name \"%.64s\" (overlay %zu).", names[i], i + 1);
                if (!g_hash_table_add(seen, names[i]))
                        return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT,
                                                 "Overlay \"%s\" is listed more than once.", names[i]);
        }
        for (size_t i = 0; i < n; i++) {
                Overlay *o = g_hash_table_lookup(m->overlays_by_name, names[i]);

                if (!o || !caller_sees(m, msg, o->owner))
                        return sd_bus_error_setf(error, L4M_ERROR_NOT_FOUND, "No overlay \"%s\".", names[i]);
                g_array_append_val(ids, o->id);
        }

        *ret = g_steal_pointer(&ids);
        return 0;
}

int bus_check_launch_args(char *const *args, sd_bus_error *error) {
        size_t n = args ? g_strv_length((char **) args) : 0;

        if (n > BLUEPRINT_LAUNCH_ARGS_MAX)
                return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT,
                                         "Too many launch arguments (%zu): at most %u.", n, BLUEPRINT_LAUNCH_ARGS_MAX);
        for (size_t i = 0; i < n; i++) {
                const char *problem = blueprint_launch_arg_problem(args[i]);

                if (problem)
                        return bus_error_setf_valid(error, L4M_ERROR_INVALID_ARGUMENT,
                                                    "Launch argument %zu \"%.80s\" is refused: %s.", i + 1, args[i], problem);
        }
        return 0;
}

int bus_check_server_cfg(const char *text, sd_bus_error *error) {
        const char *problem = blueprint_server_cfg_problem(text);

        if (problem)
                return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT, "%s (it has %zu bytes).", problem, strlen(text));
        return 0;
}

/* Owners change their own blueprints with org.left4me.blueprint.manage;
 * anyone else's needs org.left4me.admin. */
static int authorize_change(Blueprint *b, sd_bus_message *msg, sd_bus_error *error) {
        g_autofree char *caller = NULL;
        int r;

        r = caller_principal(b->manager, msg, &caller);
        if (r < 0)
                return bus_error_internal(error, r, "Identifying the caller");
        return polkit_verify(b->manager->polkit, msg,
                             strcmp(caller, b->owner) == 0 ? L4M_ACTION_BLUEPRINT_MANAGE : L4M_ACTION_ADMIN, error);
}

static int property_get_overlays(sd_bus *bus, const char *path, const char *interface,
                                 const char *property, sd_bus_message *reply, void *userdata,
                                 sd_bus_error *error) {
        Blueprint *b = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "s");
        if (r < 0)
                return r;
        for (guint i = 0; i < b->overlays->len; i++) {
                uint64_t id = g_array_index(b->overlays, uint64_t, i);
                Overlay *o = g_hash_table_lookup(b->manager->overlays_by_id, &id);

                /* The store's RESTRICT keeps them all there. */
                if (!o)
                        continue;
                r = sd_bus_message_append(reply, "s", o->name);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int property_get_launch_args(sd_bus *bus, const char *path, const char *interface,
                                    const char *property, sd_bus_message *reply, void *userdata,
                                    sd_bus_error *error) {
        Blueprint *b = userdata;
        return sd_bus_message_append_strv(reply, b->launch_args);
}

static int method_delete(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Blueprint *b = userdata;
        Manager *m = b->manager;
        g_autoptr(GPtrArray) users = NULL;
        g_autofree char *path = NULL;
        int r;

        r = authorize_change(b, msg, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        /* The store would refuse too (RESTRICT); say who uses it. */
        users = manager_instances_using_blueprint(m, b->id);
        if (users) {
                g_autofree char *list = caller_names_join(m, msg, users, m->instances_by_name,
                                                          offsetof(Instance, owner));
                return sd_bus_error_setf(error, L4M_ERROR_BUSY, "Blueprint \"%s\" is used by instance(s) %s.", b->name, list);
        }

        /* Announce while the object still resolves, then drop it. */
        path = g_strdup(b->path);
        r = sd_bus_emit_object_removed(m->bus, path);
        if (r < 0)
                log_warning_errno(r, "Cannot announce removal of %s: %s", path, STRERROR(r));

        r = blueprint_delete(b);
        if (r < 0) {
                (void) sd_bus_emit_object_added(m->bus, path);
                return bus_error_internal(error, r, "Deleting the blueprint");
        }
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_set_overlays(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autoptr(GArray) ids = NULL;
        Blueprint *b = userdata;
        int r;

        r = bus_read_blueprint_overlays(msg, b->manager, &ids, error);
        if (r < 0)
                return r;

        r = authorize_change(b, msg, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = blueprint_set_overlays(b, (const uint64_t *) ids->data, ids->len);
        if (r == -ENOENT)
                return sd_bus_error_set(error, L4M_ERROR_NOT_FOUND, "An overlay was deleted meanwhile.");
        if (r < 0)
                return bus_error_internal(error, r, "Storing the overlays");
        (void) sd_bus_emit_properties_changed(b->manager->bus, b->path, L4M_BLUEPRINT_INTERFACE, "Overlays", NULL);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_set_server_cfg(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Blueprint *b = userdata;
        const char *text;
        int r;

        r = sd_bus_message_read(msg, "s", &text);
        if (r < 0)
                return r;
        r = bus_check_server_cfg(text, error);
        if (r < 0)
                return r;

        r = authorize_change(b, msg, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = blueprint_set_server_cfg(b, text);
        if (r < 0)
                return bus_error_internal(error, r, "Storing the server.cfg text");
        (void) sd_bus_emit_properties_changed(b->manager->bus, b->path, L4M_BLUEPRINT_INTERFACE, "ServerCfg", NULL);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_set_launch_args(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_auto(GStrv) args = NULL;
        Blueprint *b = userdata;
        int r;

        r = sd_bus_message_read_strv(msg, &args);
        if (r < 0)
                return r;
        if (!args)
                args = g_new0(char *, 1);
        r = bus_check_launch_args(args, error);
        if (r < 0)
                return r;

        r = authorize_change(b, msg, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = blueprint_set_launch_args(b, args);
        if (r < 0)
                return bus_error_internal(error, r, "Storing the launch arguments");
        (void) sd_bus_emit_properties_changed(b->manager->bus, b->path, L4M_BLUEPRINT_INTERFACE, "LaunchArgs", NULL);
        return sd_bus_reply_method_return(msg, NULL);
}

const sd_bus_vtable blueprint_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", NULL, offsetof(Blueprint, name), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Owner", "s", NULL, offsetof(Blueprint, owner), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Created", "t", NULL, offsetof(Blueprint, created), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Overlays", "as", property_get_overlays, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ServerCfg", "s", NULL, offsetof(Blueprint, server_cfg), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LaunchArgs", "as", property_get_launch_args, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("SetOverlays",
                                SD_BUS_ARGS("as", overlays),
                                SD_BUS_NO_RESULT,
                                method_set_overlays, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetServerCfg",
                                SD_BUS_ARGS("s", text),
                                SD_BUS_NO_RESULT,
                                method_set_server_cfg, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetLaunchArgs",
                                SD_BUS_ARGS("as", args),
                                SD_BUS_NO_RESULT,
                                method_set_launch_args, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Delete", "", "", method_delete, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int blueprint_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                          void **ret_found, sd_bus_error *error) {
        Blueprint *b = manager_find_blueprint_by_path(userdata, path);

        if (!b || !caller_sees_object(userdata, bus, path, b->owner))
                return 0;
        *ret_found = b;
        return 1;
}

int blueprint_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***ret_nodes,
                              sd_bus_error *error) {
        return caller_enumerate_objects(userdata, bus, ((Manager *) userdata)->blueprints_by_id, offsetof(Blueprint, path),
                                        offsetof(Blueprint, owner), ret_nodes);
}
