/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/blueprints/: blueprints: the stacks of overlays, server.cfg and launch arguments a server is made of. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "blueprint.h"
#include "authorize.h"
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
        g_autofree char *problem = NULL;
        size_t n;
        int r;

        r = sd_bus_message_read_strv(msg, &names);
        if (r < 0)
                return r;
        n = names ? g_strv_length(names) : 0;
        r = blueprint_check_overlay_count(n, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Checking the overlays");

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
                Overlay *o;

                r = caller_find_by_name(m, msg, m->overlays_by_name, offsetof(Overlay, owner), "overlay", names[i],
                                        (void **) &o, error);
                if (r < 0)
                        return r;
                g_array_append_val(ids, o->id);
        }

        *ret = g_steal_pointer(&ids);
        return 0;
}

/* Every method that acts on a blueprint: its owner needs
 * org.left4me.blueprint.manage, anyone else org.left4me.admin. */
static int authorize(Blueprint *b, sd_bus_message *msg, const char *verb, Actor *ret_actor, sd_bus_error *error) {
        return authorize_call(b->manager, msg, &(AuthorizeRequest) {
                                      .action = L4M_ACTION_BLUEPRINT_MANAGE,
                                      .verb = verb,
                                      .kind = "blueprint",
                                      .name = b->name,
                                      .owners = { b->owner },
                              }, ret_actor, error);
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
        g_auto(Actor) actor = { NULL };
        g_autofree char *problem = NULL;
        Blueprint *b = userdata;
        int r;

        r = authorize(b, msg, "delete", &actor, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = blueprint_delete(b, &actor, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Deleting the blueprint");
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_set_overlays(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autoptr(GArray) ids = NULL;
        g_autofree char *problem = NULL;
        Blueprint *b = userdata;
        int r;

        r = bus_read_blueprint_overlays(msg, b->manager, &ids, error);
        if (r < 0)
                return r;

        r = authorize(b, msg, "change", NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = blueprint_set_overlays(b, (const uint64_t *) ids->data, ids->len, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Storing the overlays");
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_set_server_cfg(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autofree char *problem = NULL;
        Blueprint *b = userdata;
        const char *text;
        int r;

        r = sd_bus_message_read(msg, "s", &text);
        if (r < 0)
                return r;
        r = blueprint_check_server_cfg(text, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Checking the server.cfg text");

        r = authorize(b, msg, "change", NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = blueprint_set_server_cfg(b, text, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Storing the server.cfg text");
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_set_launch_args(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autofree char *problem = NULL;
        g_auto(GStrv) args = NULL;
        Blueprint *b = userdata;
        int r;

        r = sd_bus_message_read_strv(msg, &args);
        if (r < 0)
                return r;
        if (!args)
                args = g_new0(char *, 1);
        r = blueprint_check_launch_args(args, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Checking the launch arguments");

        r = authorize(b, msg, "change", NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = blueprint_set_launch_args(b, args, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Storing the launch arguments");
        return sd_bus_reply_method_return(msg, NULL);
}

/* CreateBlueprint's options: server_cfg (s) and launch_args (as), as
 * SetServerCfg and SetLaunchArgs take them; any other key is refused. */
typedef struct BlueprintOptions {
        char *cfg;
        char **args;
} BlueprintOptions;

static void blueprint_options_clear(BlueprintOptions *o) {
        g_free(o->cfg);
        g_strfreev(o->args);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(BlueprintOptions, blueprint_options_clear)

static int blueprint_option(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error) {
        g_autofree char *problem = NULL;
        BlueprintOptions *o = userdata;
        const char *s;
        int r;

        if (strcmp(key, "server_cfg") == 0) {
                r = sd_bus_message_read(msg, "v", "s", &s);
                if (r < 0)
                        return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT, "Option server_cfg takes a string.");
                r = blueprint_check_server_cfg(s, &problem);
                if (r < 0)
                        return bus_error_from_problem(error, r, problem, "Checking the server.cfg text");
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
                r = blueprint_check_launch_args(o->args, &problem);
                if (r < 0)
                        return bus_error_from_problem(error, r, problem, "Checking the launch arguments");
                return 1;
        }
        return 0;
}

/* Update's settings: overlays (as), server_cfg (s), launch_args (as), each
 * read and checked as its setter does; nothing is applied until all are. */
typedef struct BlueprintUpdate {
        Manager *manager;
        GArray *overlay_ids;
        BlueprintOptions options;       /* server_cfg and launch_args, as CreateBlueprint's */
} BlueprintUpdate;

static void blueprint_update_clear(BlueprintUpdate *u) {
        if (u->overlay_ids)
                g_array_unref(u->overlay_ids);
        blueprint_options_clear(&u->options);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(BlueprintUpdate, blueprint_update_clear)

static int update_option(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error) {
        BlueprintUpdate *u = userdata;
        GArray *ids = NULL;
        int r;

        if (strcmp(key, "overlays") != 0)
                return blueprint_option(msg, key, &u->options, error);

        r = sd_bus_message_enter_container(msg, 'v', "as");
        if (r < 0)
                return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT, "The setting overlays takes an array of strings.");
        r = bus_read_blueprint_overlays(msg, u->manager, &ids, error);
        if (r < 0)
                return r;
        if (u->overlay_ids)
                g_array_unref(u->overlay_ids);
        u->overlay_ids = ids;
        r = sd_bus_message_exit_container(msg);
        return r < 0 ? r : 1;
}

static int method_update(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Blueprint *b = userdata;
        g_auto(BlueprintUpdate) u = { .manager = b->manager };
        g_autofree char *problem = NULL;
        int r;

        r = bus_message_read_options(msg, update_option, &u, error);
        if (r < 0)
                return r;

        r = authorize(b, msg, "change", NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        r = blueprint_update(b, &(BlueprintChanges) {
                                     .overlay_ids = u.overlay_ids ? (const uint64_t *) u.overlay_ids->data : NULL,
                                     .n_overlays = u.overlay_ids ? u.overlay_ids->len : 0,
                                     .server_cfg = u.options.cfg,
                                     .launch_args = u.options.args,
                             }, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Updating the blueprint");
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
        SD_BUS_METHOD_WITH_ARGS("Update",
                                SD_BUS_ARGS("a{sv}", settings),
                                SD_BUS_NO_RESULT,
                                method_update, SD_BUS_VTABLE_UNPRIVILEGED),
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

/* --- org.left4me.Manager's blueprint methods ---------------------------- */

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

static int method_create_blueprint(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_auto(BlueprintOptions) options = { .cfg = g_strdup(""), .args = g_new0(char *, 1) };
        g_autofree char *problem = NULL;
        g_auto(Actor) actor = { NULL };
        g_autoptr(GArray) ids = NULL;
        Manager *m = userdata;
        const char *name;
        Blueprint *b;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        r = blueprint_check_name(name, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Checking the name");
        r = bus_read_blueprint_overlays(msg, m, &ids, error);
        if (r < 0)
                return r;
        r = bus_message_read_options(msg, blueprint_option, &options, error);
        if (r < 0)
                return r;

        r = authorize_call(m, msg, &(AuthorizeRequest) {
                                   .action = L4M_ACTION_BLUEPRINT_MANAGE,
                                   .verb = "create",
                                   .kind = "blueprint",
                                   .name = name,
                           }, &actor, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = blueprint_create(m, &actor, name, (const uint64_t *) ids->data, ids->len, options.cfg, options.args, &b,
                             &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Creating the blueprint");
        return sd_bus_reply_method_return(msg, "o", b->path);
}

static int method_get_blueprint(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        return caller_reply_path_by_name(msg, m, m->blueprints_by_name, offsetof(Blueprint, path),
                                         offsetof(Blueprint, owner), "blueprint", error);
}

const sd_bus_vtable blueprint_manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
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
        SD_BUS_VTABLE_END
};
