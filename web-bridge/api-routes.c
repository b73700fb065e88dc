/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "api-call.h"
#include "api-routes.h"
#include "bridge-internal.h"
#include "download.h"
#include "json-bus.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "web-checks.h"

#define SEGMENTS_MAX 6
#define SEGMENT_MAX 128
#define LIST_MAX 100000
/* Current passwords checked at once, each a bus connection of its own. */
#define PASSWORD_CHECKS_MAX 16

typedef enum {
        TARGET_MANAGER,
        TARGET_OVERLAY,
        TARGET_BLUEPRINT,
        TARGET_INSTANCE,
        TARGET_JOB,
        TARGET_SCHEDULE,
} Target;

typedef enum {
        ANSWER_EMPTY,    /* 204 */
        ANSWER_ENTITY,   /* 200 the entity's properties (after the call, if any) */
        ANSWER_CREATED,  /* 201 the properties of the object path answered */
        ANSWER_JOB,      /* 202 {job: id} of the job path answered */
        ANSWER_FIELDS,   /* 200 the answer's values under fields[] */
        ANSWER_ROWS,     /* 200 the answer's array of structs as objects with fields[] */
        ANSWER_LIST,     /* 200 the properties of each object path (field path_field) of the rows */
        ANSWER_USER,     /* 201 {name, role} of the request */
        ANSWER_PATCH,    /* setters by the body's members, then 200 the entity */
        ANSWER_VALUE,    /* 200 the answer's one value (an a{sv}: an object) */
        ANSWER_DOWNLOAD, /* 200 the bytes of the answer's fd (download.c) */
        ANSWER_FILES,    /* 200 {path, entries: [{name, type, size, mtime}...], truncated} of ListFiles */
        ANSWER_FILE,     /* 200 the bytes of OpenFile's fd, named after the query's path */
        ANSWER_JOBS,     /* 200 {jobs: [job...], next} of QueryJobs, its filter from the query */
        ANSWER_STATUS,   /* 200 what l4mctl status shows, from four calls at once */
} Answer;

typedef struct Route {
        const char *method;
        const char *pattern;            /* path below /api/; '*' is the NAME */
        Target target;                  /* the kind of entity */
        bool on_manager;                /* the method is the Manager's (no lookup of NAME) */
        const char *member;             /* NULL: no call, just the properties */
        const char *signature;          /* of the arguments */
        const char *args[5];            /* their JSON names; "$name": the NAME of the path (s), "$id": it as
                                         * a number (t), "$true"/"$false": that b, "?key": the query's
                                         * key (s, "" when absent) */
        const JsonBusOption *options;   /* for an a{sv} argument */
        Answer answer;
        const char *fields[7];
        unsigned path_field;
} Route;

static const JsonBusOption no_options[] = { { NULL, NULL } };
static const JsonBusOption install_options[] = { { "validate", "b" }, { NULL, NULL } };
static const JsonBusOption update_options[] = { { "validate", "b" }, { "restart_instances", "b" }, { NULL, NULL } };
static const JsonBusOption blueprint_options[] = { { "server_cfg", "s" }, { "launch_args", "as" }, { NULL, NULL } };
static const JsonBusOption instance_options[] = {
        { "port", "q" }, { "hostname", "s" }, { "max_players", "u" }, { "map", "s" }, { "autostart", "b" },
        { NULL, NULL },
};
/* SetLimits: a number, or "default" / "infinity". */
static const JsonBusOption limit_options[] = {
        { "cpu_quota", "t|s" }, { "memory_max", "t|s" }, { "tasks_max", "t|s" }, { "disk_max", "t|s" }, { NULL, NULL },
};
static const JsonBusOption schedule_options[] = {
        { "argument", "s" }, { "only_if_running", "b" }, { "randomized_delay_usec", "t" }, { "restart_instances", "b" },
        { "stop", "b" }, { "enabled", "b" }, { NULL, NULL },
};
static const JsonBusOption backup_options[] = { { "stop", "b" }, { NULL, NULL } };
static const JsonBusOption blueprint_settings[] = {
        { "overlays", "as" }, { "server_cfg", "s" }, { "launch_args", "as" }, { NULL, NULL },
};
static const JsonBusOption overlay_options[] = {
        { "items", "as" }, { "source", "s" }, { "checksum", "s" }, { "script", "s" }, { NULL, NULL },
};
static const JsonBusOption build_options[] = {
        { "subdir", "s" }, { "strip_components", "u" }, { "mode", "s" }, { NULL, NULL },
};

static const Route routes[] = {
        { "GET", "manager", TARGET_MANAGER, true, NULL, "", { NULL }, NULL, ANSWER_ENTITY, { NULL }, 0 },
        { "POST", "game/install", TARGET_MANAGER, true, "InstallGame", "a{sv}", { "options" }, install_options, ANSWER_JOB, { NULL }, 0 },
        { "POST", "game/update", TARGET_MANAGER, true, "UpdateGame", "a{sv}", { "options" }, update_options, ANSWER_JOB, { NULL }, 0 },
        { "PUT", "game/steam-login", TARGET_MANAGER, true, "SetSteamLogin", "ss", { "user", "password" }, NULL, ANSWER_EMPTY, { NULL }, 0 },

        { "GET", "overlays", TARGET_OVERLAY, true, "ListOverlays", "", { NULL }, NULL, ANSWER_LIST, { NULL }, 0 },
        { "POST", "overlays", TARGET_OVERLAY, true, "CreateOverlay", "ssa{sv}", { "name", "type", "options" }, overlay_options, ANSWER_CREATED, { NULL }, 0 },
        { "GET", "overlays/*", TARGET_OVERLAY, false, NULL, "", { NULL }, NULL, ANSWER_ENTITY, { NULL }, 0 },
        { "DELETE", "overlays/*", TARGET_OVERLAY, false, "Delete", "", { NULL }, NULL, ANSWER_EMPTY, { NULL }, 0 },
        { "PUT", "overlays/*/items", TARGET_OVERLAY, false, "SetWorkshopItems", "as", { "items" }, NULL, ANSWER_ENTITY, { NULL }, 0 },
        { "GET", "overlays/*/export", TARGET_OVERLAY, false, "Export", "", { NULL }, NULL, ANSWER_DOWNLOAD, { NULL }, 0 },
        { "GET", "overlays/*/script", TARGET_OVERLAY, false, "GetScript", "", { NULL }, NULL, ANSWER_FIELDS, { "script" }, 0 },
        { "PUT", "overlays/*/script", TARGET_OVERLAY, false, "SetScript", "s", { "script" }, NULL, ANSWER_ENTITY, { NULL }, 0 },
        { "PUT", "overlays/*/source", TARGET_OVERLAY, false, "SetArchiveSource", "ss", { "url", "checksum" }, NULL, ANSWER_ENTITY, { NULL }, 0 },
        { "POST", "overlays/*/build", TARGET_OVERLAY, false, "Build", "a{sv}", { "options" }, build_options, ANSWER_JOB, { NULL }, 0 },
        { "GET", "overlays/*/files", TARGET_OVERLAY, false, "ListFiles", "s", { "?path" }, NULL, ANSWER_FILES, { NULL }, 0 },
        { "GET", "overlays/*/file", TARGET_OVERLAY, false, "OpenFile", "s", { "?path" }, NULL, ANSWER_FILE, { NULL }, 0 },
        { "POST", "overlays/*/wipe", TARGET_OVERLAY, false, "Wipe", "", { NULL }, NULL, ANSWER_JOB, { NULL }, 0 },

        { "GET", "blueprints", TARGET_BLUEPRINT, true, "ListBlueprints", "", { NULL }, NULL, ANSWER_LIST, { NULL }, 0 },
        { "POST", "blueprints", TARGET_BLUEPRINT, true, "CreateBlueprint", "sasa{sv}", { "name", "overlays", "options" }, blueprint_options, ANSWER_CREATED, { NULL }, 0 },
        { "GET", "blueprints/*", TARGET_BLUEPRINT, false, NULL, "", { NULL }, NULL, ANSWER_ENTITY, { NULL }, 0 },
        { "DELETE", "blueprints/*", TARGET_BLUEPRINT, false, "Delete", "", { NULL }, NULL, ANSWER_EMPTY, { NULL }, 0 },
        { "PUT", "blueprints/*", TARGET_BLUEPRINT, false, "Update", "a{sv}", { "settings" }, blueprint_settings, ANSWER_ENTITY, { NULL }, 0 },
        { "PUT", "blueprints/*/overlays", TARGET_BLUEPRINT, false, "SetOverlays", "as", { "overlays" }, NULL, ANSWER_ENTITY, { NULL }, 0 },
        { "PUT", "blueprints/*/server-cfg", TARGET_BLUEPRINT, false, "SetServerCfg", "s", { "text" }, NULL, ANSWER_ENTITY, { NULL }, 0 },
        { "PUT", "blueprints/*/launch-args", TARGET_BLUEPRINT, false, "SetLaunchArgs", "as", { "args" }, NULL, ANSWER_ENTITY, { NULL }, 0 },

        { "GET", "instances", TARGET_INSTANCE, true, "ListInstances", "", { NULL }, NULL, ANSWER_LIST, { NULL }, 0 },
        { "POST", "instances", TARGET_INSTANCE, true, "CreateInstance", "ssa{sv}", { "name", "blueprint", "options" }, instance_options, ANSWER_CREATED, { NULL }, 0 },
        { "GET", "instances/*", TARGET_INSTANCE, false, NULL, "", { NULL }, NULL, ANSWER_ENTITY, { NULL }, 0 },
        { "PATCH", "instances/*", TARGET_INSTANCE, false, NULL, "", { NULL }, NULL, ANSWER_PATCH, { NULL }, 0 },
        { "DELETE", "instances/*", TARGET_INSTANCE, false, "Delete", "", { NULL }, NULL, ANSWER_EMPTY, { NULL }, 0 },
        { "POST", "instances/*/start", TARGET_INSTANCE, false, "Start", "", { NULL }, NULL, ANSWER_ENTITY, { NULL }, 0 },
        { "POST", "instances/*/stop", TARGET_INSTANCE, false, "Stop", "", { NULL }, NULL, ANSWER_ENTITY, { NULL }, 0 },
        { "POST", "instances/*/restart", TARGET_INSTANCE, false, "Restart", "", { NULL }, NULL, ANSWER_ENTITY, { NULL }, 0 },
        { "POST", "instances/*/command", TARGET_INSTANCE, false, "SendCommand", "s", { "command" }, NULL, ANSWER_FIELDS, { "reply" }, 0 },
        { "PUT", "instances/*/limits", TARGET_INSTANCE, false, "SetLimits", "a{sv}", { "limits" }, limit_options, ANSWER_ENTITY, { NULL }, 0 },
        { "GET", "instances/*/usage", TARGET_INSTANCE, false, "GetUsage", "", { NULL }, NULL, ANSWER_VALUE, { NULL }, 0 },
        { "POST", "instances/*/backup", TARGET_INSTANCE, false, "Backup", "a{sv}", { "options" }, backup_options, ANSWER_JOB, { NULL }, 0 },
        { "GET", "instances/*/files", TARGET_INSTANCE, false, "ListFiles", "s", { "?path" }, NULL, ANSWER_FILES, { NULL }, 0 },
        { "GET", "instances/*/file", TARGET_INSTANCE, false, "OpenFile", "s", { "?path" }, NULL, ANSWER_FILE, { NULL }, 0 },

        { "GET", "schedules", TARGET_SCHEDULE, true, "ListSchedules", "", { NULL }, NULL, ANSWER_LIST, { NULL }, 0 },
        { "POST", "schedules", TARGET_SCHEDULE, true, "CreateSchedule", "ssssa{sv}", { "name", "calendar", "action", "target", "options" }, schedule_options, ANSWER_CREATED, { NULL }, 0 },
        { "GET", "schedules/*", TARGET_SCHEDULE, false, NULL, "", { NULL }, NULL, ANSWER_ENTITY, { NULL }, 0 },
        { "DELETE", "schedules/*", TARGET_SCHEDULE, false, "Delete", "", { NULL }, NULL, ANSWER_EMPTY, { NULL }, 0 },
        { "POST", "schedules/*/enable", TARGET_SCHEDULE, false, "SetEnabled", "b", { "$true" }, NULL, ANSWER_ENTITY, { NULL }, 0 },
        { "POST", "schedules/*/disable", TARGET_SCHEDULE, false, "SetEnabled", "b", { "$false" }, NULL, ANSWER_ENTITY, { NULL }, 0 },
        { "POST", "schedules/*/run", TARGET_SCHEDULE, false, "Run", "", { NULL }, NULL, ANSWER_ENTITY, { NULL }, 0 },

        { "GET", "backups", TARGET_MANAGER, true, "ListBackups", "s", { "?instance" }, NULL, ANSWER_ROWS, { "id", "instance", "owner", "created", "size", "consistent" }, 0 },
        { "DELETE", "backups/*", TARGET_MANAGER, true, "DeleteBackup", "t", { "$id" }, NULL, ANSWER_EMPTY, { NULL }, 0 },
        { "POST", "backups/*/restore", TARGET_MANAGER, true, "RestoreBackup", "ta{sv}", { "$id", "options" }, no_options, ANSWER_JOB, { NULL }, 0 },
        { "GET", "backups/*/download", TARGET_MANAGER, true, "ExportBackup", "t", { "$id" }, NULL, ANSWER_DOWNLOAD, { NULL }, 0 },

        { "GET", "jobs", TARGET_JOB, true, "QueryJobs", "a{sv}", { NULL }, NULL, ANSWER_JOBS, { NULL }, 0 },
        { "GET", "jobs/*", TARGET_JOB, false, NULL, "", { NULL }, NULL, ANSWER_ENTITY, { NULL }, 0 },
        { "POST", "jobs/*/cancel", TARGET_JOB, false, "Cancel", "", { NULL }, NULL, ANSWER_EMPTY, { NULL }, 0 },

        { "GET", "cache", TARGET_MANAGER, true, "ListCache", "", { NULL }, NULL, ANSWER_ROWS, { "item", "file", "size", "overlays" }, 0 },
        { "POST", "cache/prune", TARGET_MANAGER, true, "PruneCache", "", { NULL }, NULL, ANSWER_FIELDS, { "files", "bytes" }, 0 },
        { "GET", "status", TARGET_MANAGER, true, NULL, "", { NULL }, NULL, ANSWER_STATUS, { NULL }, 0 },
        { "GET", "storage", TARGET_MANAGER, true, "ListStorageUsage", "", { NULL }, NULL, ANSWER_ROWS, { "owner", "used", "quota" }, 0 },

        { "GET", "users", TARGET_MANAGER, true, "ListUsers", "", { NULL }, NULL, ANSWER_ROWS, { "name", "role", "created" }, 0 },
        { "POST", "users", TARGET_MANAGER, true, "CreateUser", "sss", { "name", "password", "role" }, NULL, ANSWER_USER, { NULL }, 0 },
        { "PUT", "users/*/password", TARGET_MANAGER, true, "SetPassword", "ss", { "$name", "password" }, NULL, ANSWER_EMPTY, { NULL }, 0 },
        { "DELETE", "users/*", TARGET_MANAGER, true, "DeleteUser", "s", { "$name" }, NULL, ANSWER_EMPTY, { NULL }, 0 },
};

/* PATCH /api/instances/NAME: body member → setter. */
static const struct {
        const char *member_name, *method, *signature;
} instance_setters[] = {
        { "blueprint", "SetBlueprint", "s" },
        { "hostname", "SetHostname", "s" },
        { "limit", "SetPlayerLimit", "u" },
        { "map", "SetStartMap", "s" },
        { "autostart", "SetAutostart", "b" },
};

static const char *target_interface(Target t) {
        switch (t) {
        case TARGET_MANAGER: return "org.left4me.Manager";
        case TARGET_OVERLAY: return "org.left4me.Overlay";
        case TARGET_BLUEPRINT: return "org.left4me.Blueprint";
        case TARGET_INSTANCE: return "org.left4me.Instance";
        case TARGET_JOB: return "org.left4me.Job";
        case TARGET_SCHEDULE: return "org.left4me.Schedule";
        }
        assert(!"bad target");
        return NULL;
}

static const char *target_getter(Target t) {
        switch (t) {
        case TARGET_OVERLAY: return "GetOverlay";
        case TARGET_BLUEPRINT: return "GetBlueprint";
        case TARGET_INSTANCE: return "GetInstance";
        case TARGET_JOB: return "GetJob";
        case TARGET_SCHEDULE: return "GetSchedule";
        default: assert(!"no getter"); return NULL;
        }
}

bool api_segment_is_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > SEGMENT_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!g_ascii_isalnum(s[i]) && !strchr("_-.@", s[i]))
                        return false;
        return true;
}

/* Matches "a/b/c" against a pattern; *ret_name gets what '*' matched. */
static bool pattern_matches(const char *pattern, char **segs, const char **ret_name) {
        g_auto(GStrv) p = g_strsplit(pattern, "/", -1);
        const char *name = NULL;

        if (g_strv_length(p) != g_strv_length(segs))
                return false;
        for (size_t i = 0; p[i]; i++) {
                if (strcmp(p[i], "*") == 0)
                        name = segs[i];
                else if (strcmp(p[i], segs[i]) != 0)
                        return false;
        }
        *ret_name = name;
        return true;
}

int api_route_find(const char *method, const char *subpath, const void **ret_route, char **ret_name,
                   char **ret_allow) {
        g_auto(GStrv) segs = NULL;
        g_autoptr(GString) allow = g_string_new(NULL);

        segs = g_strsplit(subpath, "/", SEGMENTS_MAX + 1);
        if (g_strv_length(segs) > SEGMENTS_MAX)
                return -ENOENT;
        for (size_t i = 0; segs[i]; i++)
                if (!api_segment_is_valid(segs[i]))
                        return -ENOENT;
        for (size_t i = 0; i < G_N_ELEMENTS(routes); i++) {
                const char *name = NULL;

                if (!pattern_matches(routes[i].pattern, segs, &name))
                        continue;
                if (strcmp(routes[i].method, method) == 0 ||
                    (strcmp(method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0)) {
                        *ret_route = &routes[i];
                        *ret_name = g_strdup(name);
                        return 0;
                }
                g_string_append_printf(allow, "%s%s", allow->len ? ", " : "", routes[i].method);
        }
        if (allow->len == 0)
                return -ENOENT;
        if (ret_allow)
                *ret_allow = g_string_free(g_steal_pointer(&allow), false);
        return -EOPNOTSUPP;
}

/* --- answers ------------------------------------------------------------- */

static JsonNode *node_from_reply(sd_bus_message *reply) {
        JsonNode *all = NULL;

        if (json_bus_read_all(reply, &all) < 0)
                return NULL;
        return all;
}

static void reply_unexpected(ApiCall *c) {
        api_call_reply_error(c, SOUP_STATUS_BAD_GATEWAY, "org.left4me.Error.Failed", "Unexpected answer from left4med.");
}

static bool query_value(SoupServerMessage *msg, const char *key, char **ret);

/* ListFiles' (a(sstt), b) as {path, entries, truncated}. */
static void answer_files(ApiCall *c, sd_bus_message *reply) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) node = NULL;
        g_autofree char *path = NULL;
        const char *name, *type;
        uint64_t size, mtime;
        int truncated, r;

        (void) query_value(c->msg, "path", &path);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "path");
        json_builder_add_string_value(b, path ? path : "");
        json_builder_set_member_name(b, "entries");
        json_builder_begin_array(b);
        r = sd_bus_message_enter_container(reply, 'a', "(sstt)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(sstt)", &name, &type, &size, &mtime)) > 0) {
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "name");
                json_builder_add_string_value(b, name);
                json_builder_set_member_name(b, "type");
                json_builder_add_string_value(b, type);
                json_builder_set_member_name(b, "size");
                json_builder_add_int_value(b, (gint64) size);
                json_builder_set_member_name(b, "mtime");
                json_builder_add_int_value(b, (gint64) mtime);
                json_builder_end_object(b);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "b", &truncated);
        if (r < 0) {
                reply_unexpected(c);
                return;
        }
        json_builder_end_array(b);
        json_builder_set_member_name(b, "truncated");
        json_builder_add_boolean_value(b, truncated);
        json_builder_end_object(b);
        node = json_builder_get_root(b);
        api_call_reply_json(c, SOUP_STATUS_OK, node);
}

static void on_properties(ApiCall *c, sd_bus_message *reply, unsigned status) {
        g_autoptr(JsonNode) all = node_from_reply(reply);
        JsonArray *a;

        if (!all || json_array_get_length(a = json_node_get_array(all)) != 1) {
                reply_unexpected(c);
                return;
        }
        api_call_reply_json(c, status, json_array_get_element(a, 0));
}

/* Properties.GetAll of the entity, answered with status. */
static void send_properties(ApiCall *c, const char *path, guint status) {
        const Route *rt = c->route;
        g_autoptr(sd_bus_message) m = NULL;
        int r;

        r = api_call_new_method(c, path, "org.freedesktop.DBus.Properties", "GetAll", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", target_interface(rt->target));
        if (r >= 0)
                r = api_call_send(c, m, on_properties, status);
        if (r < 0)
                api_call_reply_send_error(c, r);
}

static void node_unref0(gpointer p) {
        if (p)
                json_node_unref(p);
}

static void on_list_item(ApiCall *c, sd_bus_message *reply, unsigned index) {
        if (reply) {
                g_autoptr(JsonNode) all = node_from_reply(reply);

                if (all && json_array_get_length(json_node_get_array(all)) == 1)
                        c->items->pdata[index] = json_node_ref(json_array_get_element(json_node_get_array(all), 0));
        }
        if (c->pending > 0)
                return;
        {
                g_autoptr(JsonArray) a = json_array_new();
                g_autoptr(JsonNode) node = json_node_new(JSON_NODE_ARRAY);

                /* In the daemon's order (by name; jobs by id); objects
                 * that went away in between are left out. */
                for (guint i = 0; i < c->items->len; i++)
                        if (c->items->pdata[i])
                                json_array_add_element(a, json_node_ref(c->items->pdata[i]));
                json_node_set_array(node, a);
                api_call_reply_json(c, SOUP_STATUS_OK, node);
        }
}

static void answer_list(ApiCall *c, sd_bus_message *reply) {
        const Route *rt = c->route;
        g_autoptr(JsonNode) all = node_from_reply(reply);
        JsonArray *rows;
        guint n;

        if (!all || json_array_get_length(json_node_get_array(all)) != 1 ||
            !JSON_NODE_HOLDS_ARRAY(json_array_get_element(json_node_get_array(all), 0))) {
                reply_unexpected(c);
                return;
        }
        rows = json_node_get_array(json_array_get_element(json_node_get_array(all), 0));
        n = MIN(json_array_get_length(rows), LIST_MAX);
        c->items = g_ptr_array_new_full(n, node_unref0);
        g_ptr_array_set_size(c->items, n);
        c->tolerate_errors = true;
        for (guint i = 0; i < n; i++) {
                JsonArray *row = json_node_get_array(json_array_get_element(rows, i));
                g_autoptr(sd_bus_message) m = NULL;
                const char *path;
                int r;

                if (!row || json_array_get_length(row) <= rt->path_field ||
                    !(path = json_array_get_string_element(row, rt->path_field))) {
                        reply_unexpected(c);
                        return;
                }
                r = api_call_new_method(c, path, "org.freedesktop.DBus.Properties", "GetAll", &m);
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", target_interface(rt->target));
                if (r >= 0)
                        r = api_call_send(c, m, on_list_item, i);
                if (r < 0) {
                        api_call_reply_send_error(c, r);
                        return;
                }
        }
        if (n == 0) {
                g_autoptr(JsonNode) node = json_node_new(JSON_NODE_ARRAY);

                json_node_take_array(node, json_array_new());
                api_call_reply_json(c, SOUP_STATUS_OK, node);
        }
}

/* ListObjects' a(oa{sv}): the array of each object's properties, each
 * read as a GetAll answer is (same JSON, same order as the List*). */
static void answer_objects(ApiCall *c, sd_bus_message *reply, unsigned index) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) node = NULL;
        int r;

        json_builder_begin_array(b);
        r = sd_bus_message_enter_container(reply, 'a', "(oa{sv})");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'r', "oa{sv}")) > 0) {
                const char *path;

                r = sd_bus_message_read(reply, "o", &path);
                /* The type is checked by entering the array: an a{sv}. */
                if (r >= 0)
                        r = json_bus_read_value(reply, b);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r < 0) {
                reply_unexpected(c);
                return;
        }
        json_builder_end_array(b);
        node = json_builder_get_root(b);
        api_call_reply_json(c, SOUP_STATUS_OK, node);
}

static void send_route_call(ApiCall *c);

/* ListObjects refused (an answer too large for one message: Busy) or
 * unknown (an older left4med): the list is made the old way, the List*
 * and a GetAll of each object. */
static bool list_objects_failed(ApiCall *c, const sd_bus_error *e) {
        c->error_handler = NULL;
        if (!sd_bus_error_has_names(e, "org.left4me.Error.Busy", SD_BUS_ERROR_UNKNOWN_METHOD))
                return false;
        send_route_call(c);
        return true;
}

/* GET of a list: one ListObjects call. */
static void send_list_objects(ApiCall *c) {
        const Route *rt = c->route;
        g_autoptr(sd_bus_message) m = NULL;
        int r;

        r = api_call_new_method(c, L4M_MANAGER_PATH, "org.left4me.Manager", "ListObjects", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", target_interface(rt->target));
        if (r >= 0) {
                c->error_handler = list_objects_failed;
                r = api_call_send(c, m, answer_objects, 0);
        }
        if (r < 0)
                api_call_reply_send_error(c, r);
}

static JsonNode *object_of_fields(JsonArray *values, const char *const *fields) {
        g_autoptr(JsonBuilder) b = json_builder_new();

        json_builder_begin_object(b);
        for (guint i = 0; fields[i] && i < json_array_get_length(values); i++) {
                json_builder_set_member_name(b, fields[i]);
                json_builder_add_value(b, json_node_ref(json_array_get_element(values, i)));
        }
        json_builder_end_object(b);
        return json_builder_get_root(b);
}

/* The id at the end of a job's object path. */
static bool job_id_of_path(const char *path, uint64_t *ret) {
        const char *prefix = L4M_MANAGER_PATH "/job/";
        guint64 id;

        if (!g_str_has_prefix(path, prefix) ||
            !g_ascii_string_to_unsigned(path + strlen(prefix), 10, 0, G_MAXUINT64, &id, NULL))
                return false;
        *ret = id;
        return true;
}

/* QueryJobs' tuple, in order: the job's property names. */
static const char *const job_fields[] = {
        "Id", "Kind", "Target", "Owner", "State", "Progress", "Message", "Created", "Started", "Finished", NULL,
};

/* {"jobs": [...], "next": N}: the objects are built from the tuples, with
 * no call per job. */
static void answer_jobs(ApiCall *c, sd_bus_message *reply) {
        g_autoptr(JsonNode) all = node_from_reply(reply);
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) node = NULL;
        JsonArray *top, *rows;

        if (!all || json_array_get_length(top = json_node_get_array(all)) != 2 ||
            !JSON_NODE_HOLDS_ARRAY(json_array_get_element(top, 0))) {
                reply_unexpected(c);
                return;
        }
        rows = json_node_get_array(json_array_get_element(top, 0));
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "jobs");
        json_builder_begin_array(b);
        for (guint i = 0; i < json_array_get_length(rows); i++) {
                JsonNode *row = json_array_get_element(rows, i);

                if (!JSON_NODE_HOLDS_ARRAY(row) || json_array_get_length(json_node_get_array(row)) != 11) {
                        reply_unexpected(c);
                        return;
                }
                /* The last member, the object path, is left out. */
                json_builder_add_value(b, object_of_fields(json_node_get_array(row), job_fields));
        }
        json_builder_end_array(b);
        json_builder_set_member_name(b, "next");
        json_builder_add_value(b, json_node_ref(json_array_get_element(top, 1)));
        json_builder_end_object(b);
        node = json_builder_get_root(b);
        api_call_reply_json(c, SOUP_STATUS_OK, node);
}

/* GET /api/status: the calls, by index, whose answers make it. */
enum {
        STATUS_MANAGER,         /* Properties.GetAll: Version, ConfigWarnings */
        STATUS_OVERLAYS,        /* ListOverlays: how many */
        STATUS_INSTANCES,       /* ListInstances: how many, how many run */
        STATUS_STORAGE,         /* ListStorageUsage */
        _STATUS_MAX,
};

/* The one value of an answer (the array of a List* call, the a{sv} of
 * GetAll), or NULL. */
static JsonNode *status_part(ApiCall *c, unsigned index) {
        JsonNode *all = c->items->pdata[index];

        if (!all || json_array_get_length(json_node_get_array(all)) != 1)
                return NULL;
        return json_array_get_element(json_node_get_array(all), 0);
}

static void answer_status(ApiCall *c) {
        JsonNode *manager = status_part(c, STATUS_MANAGER), *overlays = status_part(c, STATUS_OVERLAYS),
                 *instances = status_part(c, STATUS_INSTANCES), *storage = status_part(c, STATUS_STORAGE);
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) node = NULL;
        JsonObject *props;
        JsonArray *rows;
        unsigned running = 0;

        if (!manager || !JSON_NODE_HOLDS_OBJECT(manager) || !overlays || !JSON_NODE_HOLDS_ARRAY(overlays) ||
            !instances || !JSON_NODE_HOLDS_ARRAY(instances) || !storage || !JSON_NODE_HOLDS_ARRAY(storage)) {
                reply_unexpected(c);
                return;
        }
        props = json_node_get_object(manager);
        rows = json_node_get_array(instances);
        for (guint i = 0; i < json_array_get_length(rows); i++) {
                JsonNode *row = json_array_get_element(rows, i);
                const char *state;

                if (!JSON_NODE_HOLDS_ARRAY(row) || json_array_get_length(json_node_get_array(row)) != 6) {
                        reply_unexpected(c);
                        return;
                }
                state = json_array_get_string_element(json_node_get_array(row), 5);
                if (state && strcmp(state, "running") == 0)
                        running++;
        }

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "version");
        json_builder_add_value(b, json_object_has_member(props, "Version")
                                          ? json_node_copy(json_object_get_member(props, "Version"))
                                          : json_node_init_null(json_node_alloc()));
        json_builder_set_member_name(b, "overlays");
        json_builder_add_int_value(b, json_array_get_length(json_node_get_array(overlays)));
        json_builder_set_member_name(b, "instances");
        json_builder_add_int_value(b, json_array_get_length(rows));
        json_builder_set_member_name(b, "instances_running");
        json_builder_add_int_value(b, running);
        json_builder_set_member_name(b, "config_warnings");
        if (json_object_has_member(props, "ConfigWarnings"))
                json_builder_add_value(b, json_node_copy(json_object_get_member(props, "ConfigWarnings")));
        else {
                json_builder_begin_array(b);
                json_builder_end_array(b);
        }
        json_builder_set_member_name(b, "storage");
        json_builder_begin_array(b);
        rows = json_node_get_array(storage);
        for (guint i = 0; i < json_array_get_length(rows); i++) {
                static const char *const fields[] = { "owner", "used", "quota", NULL };
                JsonNode *row = json_array_get_element(rows, i);

                if (!JSON_NODE_HOLDS_ARRAY(row)) {
                        reply_unexpected(c);
                        return;
                }
                json_builder_add_value(b, object_of_fields(json_node_get_array(row), fields));
        }
        json_builder_end_array(b);
        json_builder_end_object(b);
        node = json_builder_get_root(b);
        api_call_reply_json(c, SOUP_STATUS_OK, node);
}

static void on_status_part(ApiCall *c, sd_bus_message *reply, unsigned index) {
        assert(index < _STATUS_MAX);
        c->items->pdata[index] = node_from_reply(reply);
        if (c->pending == 0)
                answer_status(c);
}

static void start_status(ApiCall *c) {
        static const char *const members[_STATUS_MAX] = {
                [STATUS_MANAGER] = "GetAll",
                [STATUS_OVERLAYS] = "ListOverlays",
                [STATUS_INSTANCES] = "ListInstances",
                [STATUS_STORAGE] = "ListStorageUsage",
        };

        c->items = g_ptr_array_new_full(_STATUS_MAX, node_unref0);
        g_ptr_array_set_size(c->items, _STATUS_MAX);
        for (unsigned i = 0; i < _STATUS_MAX; i++) {
                g_autoptr(sd_bus_message) m = NULL;
                int r;

                r = api_call_new_method(c, L4M_MANAGER_PATH,
                                        i == STATUS_MANAGER ? "org.freedesktop.DBus.Properties" : "org.left4me.Manager",
                                        members[i], &m);
                if (r >= 0 && i == STATUS_MANAGER)
                        r = sd_bus_message_append(m, "s", "org.left4me.Manager");
                if (r >= 0)
                        r = api_call_send(c, m, on_status_part, i);
                if (r < 0) {
                        api_call_reply_send_error(c, r);
                        return;
                }
        }
}

static void on_called(ApiCall *c, sd_bus_message *reply, unsigned index) {
        const Route *rt = c->route;

        switch (rt->answer) {
        case ANSWER_EMPTY:
                api_call_reply_json(c, SOUP_STATUS_NO_CONTENT, NULL);
                return;
        case ANSWER_ENTITY:
                send_properties(c, c->path, SOUP_STATUS_OK);
                return;
        case ANSWER_CREATED: {
                const char *path;

                if (sd_bus_message_read(reply, "o", &path) < 0) {
                        reply_unexpected(c);
                        return;
                }
                g_free(c->path);
                c->path = g_strdup(path);
                send_properties(c, c->path, SOUP_STATUS_CREATED);
                return;
        }
        case ANSWER_JOB: {
                g_autoptr(JsonBuilder) b = json_builder_new();
                g_autoptr(JsonNode) node = NULL;
                const char *path;
                uint64_t id;

                if (sd_bus_message_read(reply, "o", &path) < 0 || !job_id_of_path(path, &id)) {
                        reply_unexpected(c);
                        return;
                }
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "job");
                json_builder_add_int_value(b, (int64_t) id);
                json_builder_end_object(b);
                node = json_builder_get_root(b);
                api_call_reply_json(c, SOUP_STATUS_ACCEPTED, node);
                return;
        }
        case ANSWER_FIELDS: {
                g_autoptr(JsonNode) all = node_from_reply(reply);
                g_autoptr(JsonNode) node = NULL;

                if (!all) {
                        reply_unexpected(c);
                        return;
                }
                node = object_of_fields(json_node_get_array(all), rt->fields);
                api_call_reply_json(c, SOUP_STATUS_OK, node);
                return;
        }
        case ANSWER_ROWS: {
                g_autoptr(JsonNode) all = node_from_reply(reply);
                g_autoptr(JsonArray) out = json_array_new();
                g_autoptr(JsonNode) node = json_node_new(JSON_NODE_ARRAY);
                JsonArray *rows;

                if (!all || json_array_get_length(json_node_get_array(all)) != 1 ||
                    !JSON_NODE_HOLDS_ARRAY(json_array_get_element(json_node_get_array(all), 0))) {
                        reply_unexpected(c);
                        return;
                }
                rows = json_node_get_array(json_array_get_element(json_node_get_array(all), 0));
                for (guint i = 0; i < json_array_get_length(rows); i++) {
                        JsonNode *row = json_array_get_element(rows, i);

                        if (!JSON_NODE_HOLDS_ARRAY(row)) {
                                reply_unexpected(c);
                                return;
                        }
                        json_array_add_element(out, object_of_fields(json_node_get_array(row), rt->fields));
                }
                json_node_set_array(node, out);
                api_call_reply_json(c, SOUP_STATUS_OK, node);
                return;
        }
        case ANSWER_LIST:
                answer_list(c, reply);
                return;
        case ANSWER_USER: {
                JsonObject *o = json_node_get_object(c->body);
                g_autoptr(JsonBuilder) b = json_builder_new();
                g_autoptr(JsonNode) node = NULL;

                json_builder_begin_object(b);
                json_builder_set_member_name(b, "name");
                json_builder_add_string_value(b, json_object_get_string_member(o, "name"));
                json_builder_set_member_name(b, "role");
                json_builder_add_string_value(b, json_object_get_string_member(o, "role"));
                json_builder_end_object(b);
                node = json_builder_get_root(b);
                api_call_reply_json(c, SOUP_STATUS_CREATED, node);
                return;
        }
        case ANSWER_VALUE: {
                g_autoptr(JsonNode) all = node_from_reply(reply);

                if (!all || json_array_get_length(json_node_get_array(all)) != 1) {
                        reply_unexpected(c);
                        return;
                }
                api_call_reply_json(c, SOUP_STATUS_OK, json_array_get_element(json_node_get_array(all), 0));
                return;
        }
        case ANSWER_DOWNLOAD: {
                g_autofree char *filename = NULL;
                int fd;

                if (sd_bus_message_read(reply, "h", &fd) < 0) {
                        reply_unexpected(c);
                        return;
                }
                filename = rt->target == TARGET_OVERLAY ? g_strdup_printf("%s.tar.zst", c->name)
                                                        : g_strdup_printf("left4me-backup-%s.tar.zst", c->name);
                download_begin(c, fd, filename, "application/zstd");
                return;
        }
        case ANSWER_FILE: {
                g_autofree char *path = NULL, *filename = NULL;
                int fd;

                if (sd_bus_message_read(reply, "h", &fd) < 0) {
                        reply_unexpected(c);
                        return;
                }
                (void) query_value(c->msg, "path", &path);
                filename = g_path_get_basename(path && *path ? path : "file");
                download_begin(c, fd, filename, "application/octet-stream");
                return;
        }
        case ANSWER_FILES:
                answer_files(c, reply);
                return;
        case ANSWER_JOBS:
                answer_jobs(c, reply);
                return;
        case ANSWER_STATUS:
        case ANSWER_PATCH:
                break;
        }
        assert(!"unexpected answer kind");
}

/* --- the call ------------------------------------------------------------- */

static void reply_invalid(ApiCall *c, const char *what, const char *text) {
        g_autofree char *m = g_strdup_printf("%s: %s", what, text ? text : "invalid");

        api_call_reply_error(c, SOUP_STATUS_BAD_REQUEST, "org.left4me.Error.InvalidArgument", m);
}

/* The query's key (NULL when absent); false if the query is malformed. */
static bool query_value(SoupServerMessage *msg, const char *key, char **ret) {
        const char *query = g_uri_get_query(soup_server_message_get_uri(msg));
        g_autoptr(GHashTable) params = NULL;

        *ret = NULL;
        if (!query)
                return true;
        params = g_uri_parse_params(query, -1, "&", G_URI_PARAMS_NONE, NULL);
        if (!params)
                return false;
        *ret = g_strdup(g_hash_table_lookup(params, key));
        return true;
}

/* Appends the route's arguments from the body; false if it answered. */
static bool append_arguments(ApiCall *c, sd_bus_message *m) {
        const Route *rt = c->route;
        JsonObject *o = c->body ? json_node_get_object(c->body) : NULL;
        const char *sig = rt->signature;

        for (size_t i = 0; *sig; i++) {
                size_t len = json_bus_type_length(sig);
                g_autofree char *type = g_strndup(sig, len);
                g_autofree char *error_text = NULL;
                g_autoptr(JsonNode) empty = NULL;
                JsonNode *node;
                int r;

                assert(len > 0 && rt->args[i]);
                if (strcmp(rt->args[i], "$name") == 0) {
                        r = sd_bus_message_append_basic(m, 's', c->name);
                } else if (strcmp(rt->args[i], "$id") == 0) {
                        guint64 id;

                        /* A backup's id: only digits, as for jobs. */
                        if (!g_ascii_isdigit(c->name[0]) ||
                            !g_ascii_string_to_unsigned(c->name, 10, 0, G_MAXUINT64, &id, NULL)) {
                                api_call_reply_error(c, SOUP_STATUS_NOT_FOUND, "org.left4me.Error.NotFound", "No such backup.");
                                return false;
                        }
                        r = sd_bus_message_append(m, "t", (uint64_t) id);
                } else if (strcmp(rt->args[i], "$true") == 0 || strcmp(rt->args[i], "$false") == 0) {
                        r = sd_bus_message_append(m, "b", strcmp(rt->args[i], "$true") == 0);
                } else if (rt->args[i][0] == '?') {
                        g_autofree char *value = NULL;

                        if (!query_value(c->msg, rt->args[i] + 1, &value)) {
                                reply_invalid(c, rt->args[i] + 1, "malformed query");
                                return false;
                        }
                        r = sd_bus_message_append_basic(m, 's', value ? value : "");
                } else {
                        node = o ? json_object_get_member(o, rt->args[i]) : NULL;
                        if (!node && strcmp(type, "a{sv}") == 0) {
                                empty = json_node_new(JSON_NODE_OBJECT);
                                json_node_take_object(empty, json_object_new());
                                node = empty;
                        }
                        if (!node) {
                                reply_invalid(c, rt->args[i], "missing");
                                return false;
                        }
                        r = json_bus_append(m, type, node, rt->options, &error_text);
                        if (r == -EINVAL && error_text) {
                                reply_invalid(c, rt->args[i], error_text);
                                return false;
                        }
                }
                if (r < 0) {
                        api_call_reply_error(c, SOUP_STATUS_INTERNAL_SERVER_ERROR, "org.left4me.Error.Failed", STRERROR(r));
                        return false;
                }
                sig += len;
        }
        return true;
}

/* GET /api/jobs?target=&owner=&kind=&state=&limit=&before=: the filter of
 * QueryJobs. Absent or empty parameters are left out; the daemon checks
 * the values, the bridge only that numbers are numbers. False if it
 * answered. */
static bool append_job_filter(ApiCall *c, sd_bus_message *m) {
        static const char *const string_keys[] = { "target", "owner", "kind", "state" };
        const char *query = g_uri_get_query(soup_server_message_get_uri(c->msg));
        g_autoptr(GHashTable) params = NULL;
        GHashTableIter it;
        gpointer key;
        int r;

        if (query) {
                params = g_uri_parse_params(query, -1, "&", G_URI_PARAMS_NONE, NULL);
                if (!params) {
                        reply_invalid(c, "query", "malformed");
                        return false;
                }
                g_hash_table_iter_init(&it, params);
                while (g_hash_table_iter_next(&it, &key, NULL)) {
                        bool known = strcmp(key, "limit") == 0 || strcmp(key, "before") == 0;

                        for (size_t i = 0; i < G_N_ELEMENTS(string_keys); i++)
                                known = known || strcmp(key, string_keys[i]) == 0;
                        if (!known) {
                                reply_invalid(c, key, "not a filter of jobs (target, owner, kind, state, limit, before)");
                                return false;
                        }
                }
        }

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        for (size_t i = 0; r >= 0 && params && i < G_N_ELEMENTS(string_keys); i++) {
                const char *v = g_hash_table_lookup(params, string_keys[i]);

                if (v && v[0])
                        r = sd_bus_message_append(m, "{sv}", string_keys[i], "s", v);
        }
        for (size_t i = 0; r >= 0 && params && i < 2; i++) {
                const char *k = i == 0 ? "limit" : "before";
                const char *v = g_hash_table_lookup(params, k);
                guint64 n;

                if (!v || !v[0])
                        continue;
                if (!g_ascii_isdigit(v[0]) ||
                    !g_ascii_string_to_unsigned(v, 10, 0, i == 0 ? G_MAXUINT32 : G_MAXUINT64, &n, NULL)) {
                        reply_invalid(c, k, i == 0 ? "expected a number of jobs" : "expected a job id");
                        return false;
                }
                r = i == 0 ? sd_bus_message_append(m, "{sv}", k, "u", (uint32_t) n)
                           : sd_bus_message_append(m, "{sv}", k, "t", (uint64_t) n);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0) {
                api_call_reply_error(c, SOUP_STATUS_INTERNAL_SERVER_ERROR, "org.left4me.Error.Failed", STRERROR(r));
                return false;
        }
        return true;
}

static void message_unref(gpointer p) {
        sd_bus_message_unref(p);
}

static void on_patch_step(ApiCall *c, sd_bus_message *reply, unsigned index) {
        sd_bus_message *m;
        int r;

        if (c->queue->len == 0) {
                send_properties(c, c->path, SOUP_STATUS_OK);
                return;
        }
        m = g_ptr_array_steal_index(c->queue, 0);
        r = api_call_send(c, m, on_patch_step, 0);
        sd_bus_message_unref(m);
        if (r < 0)
                api_call_reply_send_error(c, r);
}

/* PATCH: every setter message is built (and its value checked) before the
 * first is sent, so a bad member changes nothing. */
static void start_patch(ApiCall *c) {
        JsonObject *o = json_node_get_object(c->body);
        g_autoptr(GList) members = json_object_get_members(o);

        c->queue = g_ptr_array_new_with_free_func(message_unref);
        for (size_t i = 0; i < G_N_ELEMENTS(instance_setters); i++) {
                JsonNode *node = json_object_get_member(o, instance_setters[i].member_name);
                g_autofree char *error_text = NULL;
                sd_bus_message *m = NULL;
                int r;

                if (!node)
                        continue;
                r = api_call_new_method(c, c->path, "org.left4me.Instance", instance_setters[i].method, &m);
                if (r >= 0)
                        r = json_bus_append(m, instance_setters[i].signature, node, NULL, &error_text);
                if (r >= 0)
                        g_ptr_array_add(c->queue, m);
                else
                        sd_bus_message_unref(m);
                if (r == -EINVAL && error_text) {
                        reply_invalid(c, instance_setters[i].member_name, error_text);
                        return;
                }
                if (r < 0) {
                        api_call_reply_error(c, SOUP_STATUS_INTERNAL_SERVER_ERROR, "org.left4me.Error.Failed", STRERROR(r));
                        return;
                }
        }
        for (GList *l = members; l; l = l->next) {
                bool known = false;

                for (size_t i = 0; i < G_N_ELEMENTS(instance_setters); i++)
                        known = known || strcmp(instance_setters[i].member_name, l->data) == 0;
                if (!known) {
                        reply_invalid(c, l->data, "unknown member");
                        return;
                }
        }
        on_patch_step(c, NULL, 0);
}

static void call_method_checked(ApiCall *c);

static int on_current_password_checked(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        ApiCall *c = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        /* The connection served its purpose: closing it ends its login. */
        api_call_end_password_check(c);
        if (e && sd_bus_error_has_names(e, SD_BUS_ERROR_ACCESS_DENIED, "org.left4me.Error.InvalidArgument",
                                        "org.left4me.Error.NotFound", "org.freedesktop.DBus.Error.AuthFailed")) {
                api_call_reply_error(c, SOUP_STATUS_FORBIDDEN, SD_BUS_ERROR_ACCESS_DENIED,
                                     "The current password is wrong.");
                return 0;
        }
        if (e) {
                api_call_reply_bus_error(c, e);
                return 0;
        }
        call_method_checked(c);
        return 0;
}

/* PUT /api/users/NAME/password for the session's own account: the current
 * password must come along and is checked as a login on a connection of
 * its own (the daemon slows down wrong ones as it does logins). True if
 * the call may go on at once; false if it answered or the check is in
 * flight. */
static bool check_current_password(ApiCall *c) {
        JsonObject *o = c->body ? json_node_get_object(c->body) : NULL;
        JsonNode *cur = o ? json_object_get_member(o, "current_password") : NULL;
        int r;

        if (!c->session->user || strcmp(c->name, c->session->user) != 0)
                return true;
        if (!cur || !JSON_NODE_HOLDS_VALUE(cur) || json_node_get_value_type(cur) != G_TYPE_STRING ||
            json_node_get_string(cur)[0] == '\0') {
                reply_invalid(c, "current_password", "To change your own password, give your current one too");
                return false;
        }
        if (c->bridge->password_checks >= PASSWORD_CHECKS_MAX) {
                api_call_reply_error(c, SOUP_STATUS_SERVICE_UNAVAILABLE, "org.left4me.Web.Busy",
                                     "Too many password changes in progress; try again.");
                return false;
        }
        r = sd_bus_open_system(&c->check_bus);
        if (r >= 0)
                c->bridge->password_checks++;
        if (r >= 0)
                r = sd_bus_attach_event(c->check_bus, c->bridge->event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = sd_bus_call_method_async(c->check_bus, &c->check_slot, L4M_BUS_NAME, L4M_MANAGER_PATH,
                                             "org.left4me.Manager", "Login", on_current_password_checked, c, "ss",
                                             c->name, json_node_get_string(cur));
        if (r < 0) {
                log_warning_errno(r, "Cannot reach the system bus to check a password: %s", STRERROR(r));
                api_call_reply_error(c, SOUP_STATUS_BAD_GATEWAY, "org.freedesktop.DBus.Error.NoServer",
                                     "Cannot reach the system bus.");
        }
        return false;
}

static void call_method(ApiCall *c) {
        const Route *rt = c->route;

        if (rt->member && strcmp(rt->member, "SetPassword") == 0 && !check_current_password(c))
                return;
        call_method_checked(c);
}

static void call_method_checked(ApiCall *c) {
        const Route *rt = c->route;

        if (rt->answer == ANSWER_PATCH) {
                start_patch(c);
                return;
        }
        if (rt->answer == ANSWER_STATUS) {
                start_status(c);
                return;
        }
        if (!rt->member) {
                send_properties(c, c->path, SOUP_STATUS_OK);
                return;
        }
        if ((rt->answer == ANSWER_DOWNLOAD || rt->answer == ANSWER_FILE) && !download_may_begin(c))
                return;
        if (rt->answer == ANSWER_LIST) {
                send_list_objects(c);
                return;
        }
        send_route_call(c);
}

/* The route's own method call, answered by on_called(). */
static void send_route_call(ApiCall *c) {
        const Route *rt = c->route;
        g_autoptr(sd_bus_message) m = NULL;
        int r;

        r = api_call_new_method(c, rt->on_manager ? L4M_MANAGER_PATH : c->path,
                                target_interface(rt->on_manager ? TARGET_MANAGER : rt->target), rt->member, &m);
        if (r < 0) {
                api_call_reply_send_error(c, r);
                return;
        }
        if (rt->answer == ANSWER_JOBS ? !append_job_filter(c, m) : !append_arguments(c, m))
                return;
        r = api_call_send(c, m, on_called, 0);
        if (r < 0)
                api_call_reply_send_error(c, r);
}

static void on_looked_up(ApiCall *c, sd_bus_message *reply, unsigned index) {
        const char *path;

        if (sd_bus_message_read(reply, "o", &path) < 0) {
                reply_unexpected(c);
                return;
        }
        c->path = g_strdup(path);
        if (c->lookup_done) {
                c->lookup_done(c);
                return;
        }
        call_method(c);
}

void api_call_lookup(ApiCall *c, int target, void (*done)(ApiCall *c)) {
        g_autoptr(sd_bus_message) m = NULL;
        int r;

        c->lookup_done = done;
        r = api_call_new_method(c, L4M_MANAGER_PATH, "org.left4me.Manager", target_getter((Target) target), &m);
        if (r < 0) {
                api_call_reply_send_error(c, r);
                return;
        }
        if (target == TARGET_JOB) {
                guint64 id;

                if (!g_ascii_string_to_unsigned(c->name, 10, 0, G_MAXUINT64, &id, NULL)) {
                        api_call_reply_error(c, SOUP_STATUS_NOT_FOUND, "org.left4me.Error.NotFound", "No such job.");
                        return;
                }
                r = sd_bus_message_append(m, "t", (uint64_t) id);
        } else
                r = sd_bus_message_append(m, "s", c->name);
        if (r >= 0)
                r = api_call_send(c, m, on_looked_up, 0);
        if (r < 0)
                api_call_reply_send_error(c, r);
}

/* The JSON object of the body ({} when empty); NULL if it answered 400. */
JsonNode *api_request_body(SoupServerMessage *msg) {
        g_autoptr(GBytes) body = soup_message_body_flatten(soup_server_message_get_request_body(msg));
        g_autoptr(JsonParser) p = json_parser_new_immutable();
        g_autoptr(GError) error = NULL;
        gsize len;
        const char *data = g_bytes_get_data(body, &len);
        JsonNode *root;

        if (len == 0) {
                JsonNode *node = json_node_new(JSON_NODE_OBJECT);

                json_node_take_object(node, json_object_new());
                return node;
        }
        /* json-glib recurses per level: a deep body would exhaust the stack. */
        if (!web_json_depth_ok(data, len, WEB_JSON_DEPTH_MAX)) {
                bridge_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "org.left4me.Web.BadRequest",
                                   "The JSON nests too deeply.");
                return NULL;
        }
        if (!g_utf8_validate(data, (gssize) len, NULL) || !json_parser_load_from_data(p, data, (gssize) len, &error)) {
                bridge_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "org.left4me.Web.BadRequest",
                                   error ? error->message : "The body is not UTF-8.");
                return NULL;
        }
        root = json_parser_get_root(p);
        if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
                bridge_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "org.left4me.Web.BadRequest", "Expected a JSON object.");
                return NULL;
        }
        return json_node_ref(root);
}

void api_routes_handle(Bridge *b, SoupServerMessage *msg, const char *path) {
        const char *method = soup_server_message_get_method(msg);
        g_autofree char *name = NULL, *allow = NULL;
        g_autoptr(Session) s = NULL;
        const void *found = NULL;
        const Route *rt;
        JsonNode *body = NULL;
        ApiCall *c;
        int r;

        assert(g_str_has_prefix(path, "/api/"));
        r = api_route_find(method, path + strlen("/api/"), &found, &name, &allow);
        if (r == -EOPNOTSUPP) {
                bridge_reply_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "org.left4me.Web.MethodNotAllowed",
                                   "Method not allowed here.");
                soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow", allow);
                return;
        }
        if (r < 0) {
                bridge_reply_error(msg, SOUP_STATUS_NOT_FOUND, "org.left4me.Web.NotFound", "No such API path.");
                return;
        }
        rt = found;
        s = bridge_request_session(b, msg);
        if (!s)
                return;
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 && strcmp(method, "DELETE") != 0) {
                body = api_request_body(msg);
                if (!body)
                        return;
        }
        c = api_call_new(s, msg);
        c->route = rt;
        c->name = g_steal_pointer(&name);
        c->body = body;
        if (c->name && !rt->on_manager)
                api_call_lookup(c, rt->target, NULL);
        else {
                c->path = g_strdup(L4M_MANAGER_PATH);
                call_method(c);
        }
}
