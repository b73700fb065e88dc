/* SPDX-License-Identifier: GPL-2.0-or-later */
/* l4mctl blueprint ...: org.left4me.Manager's blueprint methods and
 * org.left4me.Blueprint. Names, overlays, the cfg text and the arguments go
 * to the daemon as given: it validates them and names what it refuses. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "bus-error.h"
#include "bus-properties.h"
#include "exit-codes.h"
#include "l4m-bus-names.h"
#include "l4m-bus-properties.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "overlay-info.h"
#include "read-input.h"
#include "script-text.h"
#include "time-util.h"
#include "verbs.h"

/* Characters a shell takes literally in a word. */
#define SHELL_SAFE "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-.,:/=@%"

/* The most bytes org.left4me.Blueprint.SetServerCfg takes. */
#define SERVER_CFG_SIZE_MAX ((size_t) 65536)

/* One blueprint; strings and arrays belong to the struct. */
typedef struct BlueprintInfo {
        char *path;
        char *name;
        char *owner;
        uint64_t created;
        char **overlays;
        bool details;           /* from GetAll: the two below were asked for */
        char *server_cfg;
        char **launch_args;
} BlueprintInfo;

static void blueprint_info_clear(BlueprintInfo *b) {
        g_free(b->path);
        g_free(b->name);
        g_free(b->owner);
        g_strfreev(b->overlays);
        g_free(b->server_cfg);
        g_strfreev(b->launch_args);
        *b = (BlueprintInfo) { .path = NULL };
}

/* A table of blueprints. Text: NAME, OWNER, OVERLAYS, CREATED. JSON: id
 * (number, or null if the path has none), name, owner (strings or null),
 * overlays (array of strings, or null), created (number, µs) and path; with
 * details (from GetAll), also server_cfg (string or null) and launch_args
 * (array of strings, or null). */
static Table *blueprint_table_new(bool details) {
        Table *t = table_new();

        table_add_column(t, NULL, "id");
        table_add_column(t, "NAME", "name");
        table_add_column(t, "OWNER", "owner");
        table_add_column(t, "OVERLAYS", "overlays");
        table_add_column(t, "CREATED", "created");
        if (details) {
                table_add_column(t, NULL, "server_cfg");
                table_add_column(t, NULL, "launch_args");
        }
        table_add_column(t, NULL, "path");
        return t;
}

static void blueprint_table_add(Table *t, const BlueprintInfo *info) {
        uint64_t id;

        assert(table_get_columns(t) == (info->details ? 8u : 6u));

        if (info->path && object_id_from_path(info->path, &id) >= 0 && id <= G_MAXINT64)
                table_add_uint64(t, id);
        else
                table_add_empty(t);
        table_add_string(t, info->name);
        table_add_string(t, info->owner);
        table_add_strv(t, info->overlays);
        table_add_timestamp(t, info->created);
        if (info->details) {
                table_add_string(t, info->server_cfg);
                table_add_strv(t, info->launch_args);
        }
        table_add_path(t, info->path);
}

static int print_blueprint_json(const BlueprintInfo *info) {
        g_autoptr(Table) table = blueprint_table_new(true);

        blueprint_table_add(table, info);
        return table_output(table, TABLE_OBJECT, TABLE_JSON);
}

static const L4mBusProperty blueprint_info_map[] = {
        { "Name", "s", l4m_bus_property_read_strdup, offsetof(BlueprintInfo, name) },
        { "Owner", "s", l4m_bus_property_read_strdup, offsetof(BlueprintInfo, owner) },
        { "Created", "t", NULL, offsetof(BlueprintInfo, created) },
        { "Overlays", "as", NULL, offsetof(BlueprintInfo, overlays) },
        { "ServerCfg", "s", l4m_bus_property_read_strdup, offsetof(BlueprintInfo, server_cfg) },
        { "LaunchArgs", "as", NULL, offsetof(BlueprintInfo, launch_args) },
};

/* Properties.GetAll(org.left4me.Blueprint) into *info (path left alone).
 * Returns 0 or the exit code (logged with what as the context). */
static int get_blueprint_info(sd_bus *bus, const char *path, const char *what, BlueprintInfo *info) {
        g_autoptr(sd_bus_message) reply = NULL;
        int r;

        r = bus_get_all_properties(bus, path, L4M_BLUEPRINT_INTERFACE, what, &reply);
        if (r != 0)
                return r;

        r = l4m_bus_map_properties(reply, blueprint_info_map, L4M_ELEMENTSOF(blueprint_info_map), NULL, info, NULL);
        if (r < 0)
                return bus_log_parse_error(r);

        info->details = true;
        return 0;
}

/* l4mctl blueprint list */
int verb_blueprint_list(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(Table) table = blueprint_table_new(false);
        int r;

        assert(bus);
        assert(args);

        r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE,
                               "ListBlueprints", &error, &reply, NULL);
        if (r < 0)
                return log_bus_error(&error, r, "cannot list blueprints");

        r = sd_bus_message_enter_container(reply, 'a', "(ossast)");
        if (r < 0)
                return bus_log_parse_error(r);
        while ((r = sd_bus_message_enter_container(reply, 'r', "ossast")) > 0) {
                BlueprintInfo info = { .path = NULL };
                const char *path, *name, *owner;

                r = sd_bus_message_read(reply, "oss", &path, &name, &owner);
                if (r >= 0)
                        r = sd_bus_message_read_strv(reply, &info.overlays);
                if (r >= 0)
                        r = sd_bus_message_read(reply, "t", &info.created);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                if (r < 0) {
                        blueprint_info_clear(&info);
                        return bus_log_parse_error(r);
                }
                if (!info.overlays)
                        info.overlays = g_new0(char *, 1);
                info.path = g_strdup(path);
                info.name = g_strdup(name);
                info.owner = g_strdup(owner);

                blueprint_table_add(table, &info);
                blueprint_info_clear(&info);
        }
        if (r < 0)
                return bus_log_parse_error(r);

        return table_output(table, TABLE_ROWS, table_flags(args));
}

/* l4mctl blueprint create NAME OVERLAY... (top first) */
int verb_blueprint_create(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) m = NULL, reply = NULL;
        g_autofree char *what = NULL;
        BlueprintInfo info = { .path = NULL };
        const char *name = argv[0], *path;
        int r;

        assert(bus);
        assert(args);
        assert(name);

        what = g_strdup_printf("cannot create blueprint \"%s\"", name);

        r = sd_bus_message_new_method_call(bus, &m, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE,
                                           "CreateBlueprint");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", name);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, (char **) argv + 1);
        if (r >= 0)
                r = sd_bus_message_append(m, "a{sv}", 0);
        if (r < 0)
                return bus_log_create_error(r);

        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0)
                return log_bus_error(&error, r, "%s", what);
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return bus_log_parse_error(r);

        if (!args->json) {
                printf("%s\n", path);
                return 0;
        }

        g_free(what);
        what = g_strdup_printf("blueprint \"%s\" was created as %s, but cannot read it back", name, path);
        info.path = g_strdup(path);
        r = get_blueprint_info(bus, path, what, &info);
        if (r == 0)
                r = print_blueprint_json(&info);
        blueprint_info_clear(&info);
        return r;
}

/* l4mctl blueprint show NAME */
int verb_blueprint_show(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_autofree char *what = NULL;
        BlueprintInfo info = { .path = NULL };
        char created[TIMESTAMP_MAX];
        uint64_t id;
        int r;

        assert(bus);
        assert(args);
        assert(argv[0]);

        what = g_strdup_printf("cannot show blueprint \"%s\"", argv[0]);
        r = bus_get_object_path(bus, "GetBlueprint", argv[0], what, &info.path);
        if (r == 0)
                r = get_blueprint_info(bus, info.path, what, &info);
        if (r != 0) {
                blueprint_info_clear(&info);
                return r;
        }

        if (args->json) {
                r = print_blueprint_json(&info);
                blueprint_info_clear(&info);
                return r;
        }

#define FIELD(s) ((s) && (s)[0] ? (s) : "-")
        printf("Name: %s\n", FIELD(info.name));
        if (object_id_from_path(info.path, &id) >= 0)
                printf("Id: %" PRIu64 "\n", id);
        else
                printf("Id: -\n");
        printf("Owner: %s\n", FIELD(info.owner));
        printf("Created: %s\n", format_timestamp(created, sizeof created, info.created));
        printf("Overlays:");
        for (size_t i = 0; info.overlays && info.overlays[i]; i++)
                printf(" %s", info.overlays[i]);
        printf("%s\n", info.overlays && info.overlays[0] ? " (top first)" : " -");
        printf("LaunchArgs:");
        for (size_t i = 0; info.launch_args && info.launch_args[i]; i++) {
                const char *a = info.launch_args[i];

                /* Quoted for a shell only where it matters. */
                if (*a && strspn(a, SHELL_SAFE) == strlen(a))
                        printf(" %s", a);
                else {
                        g_autofree char *quoted = g_shell_quote(a);
                        printf(" %s", quoted);
                }
        }
        printf("%s\n", info.launch_args && info.launch_args[0] ? "" : " -");
        printf("Path: %s\n", info.path);
        if (info.server_cfg && info.server_cfg[0]) {
                size_t len = strlen(info.server_cfg);
                printf("ServerCfg:\n%s%s", info.server_cfg, info.server_cfg[len - 1] == '\n' ? "" : "\n");
        } else
                printf("ServerCfg: -\n");
#undef FIELD
        blueprint_info_clear(&info);
        return 0;
}

/* Looks the blueprint up and sends m (a method call on it, built by the
 * caller from the path). */
static int call_on_blueprint(sd_bus *bus, const char *name, const char *what, const char *member,
                             const char *text, char *const *strv) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) m = NULL;
        g_autofree char *path = NULL;
        int r;

        r = bus_get_object_path(bus, "GetBlueprint", name, what, &path);
        if (r != 0)
                return r;

        r = sd_bus_message_new_method_call(bus, &m, L4M_BUS_NAME, path, L4M_BLUEPRINT_INTERFACE, member);
        if (r < 0)
                return bus_log_create_error(r);
        if (text)
                r = sd_bus_message_append(m, "s", text);
        else if (strv)
                r = sd_bus_message_append_strv(m, (char **) strv);
        if (r < 0)
                return bus_log_create_error(r);

        r = sd_bus_call(bus, m, 0, &error, NULL);
        if (r < 0)
                return log_bus_error(&error, r, "%s", what);
        return 0;
}

/* l4mctl blueprint delete NAME */
int verb_blueprint_delete(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_autofree char *what = g_strdup_printf("cannot delete blueprint \"%s\"", argv[0]);

        return call_on_blueprint(bus, argv[0], what, "Delete", NULL, NULL);
}

/* l4mctl blueprint set-overlays NAME OVERLAY... */
int verb_blueprint_set_overlays(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_autofree char *what = g_strdup_printf("cannot set the overlays of blueprint \"%s\"", argv[0]);

        return call_on_blueprint(bus, argv[0], what, "SetOverlays", NULL, argv + 1);
}

/* l4mctl blueprint set-args NAME [ARG...]: none clears them. */
int verb_blueprint_set_args(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_autofree char *what = g_strdup_printf("cannot set the launch arguments of blueprint \"%s\"", argv[0]);

        return call_on_blueprint(bus, argv[0], what, "SetLaunchArgs", NULL, argv + 1);
}

/* l4mctl blueprint set-cfg NAME FILE|-: the text goes as read, after the
 * checks the daemon would make (size, UTF-8, no NUL). */
int verb_blueprint_set_cfg(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_autofree char *what = NULL, *text = NULL, *problem = NULL;
        const char *file = argv[1];
        size_t size = 0;
        int r;

        what = g_strdup_printf("cannot set the server.cfg text of blueprint \"%s\"", argv[0]);
        r = read_input(file, SERVER_CFG_SIZE_MAX, what, "a server.cfg text", &text, &size);
        if (r != 0)
                return r;
        r = script_text_check(text, size, &problem);
        if (r < 0) {
                log_error("%s: %s, %s (it must be UTF-8 text)", what, input_name(file), problem);
                return L4M_EXIT_USAGE;
        }

        return call_on_blueprint(bus, argv[0], what, "SetServerCfg", text, NULL);
}
