/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>

#include "bus-error.h"
#include "json-output.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "overlay-info.h"
#include "table.h"
#include "time-util.h"
#include "verbs.h"

#define PROPERTIES_INTERFACE "org.freedesktop.DBus.Properties"

/* Properties.GetAll(org.left4me.Overlay) on path; the reply owns the
 * strings in *info. Returns 0, a negative errno (logged) or an exit code
 * (logged, with what as the context). */
static int get_overlay_info(sd_bus *bus, const char *path, const char *what,
                            sd_bus_message **ret_reply, OverlayInfo *info) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        int r;

        r = sd_bus_call_method(bus, L4M_BUS_NAME, path, PROPERTIES_INTERFACE, "GetAll",
                               &error, &reply, "s", L4M_OVERLAY_INTERFACE);
        if (r < 0)
                return log_bus_error(&error, r, "%s", what);

        *info = (OverlayInfo) { .path = path };
        r = overlay_info_from_properties(reply, info);
        if (r < 0)
                return bus_log_parse_error(r);

        *ret_reply = g_steal_pointer(&reply);
        return 0;
}

/* Manager.GetOverlay(name): the overlay's object path, owned by *ret_reply. */
static int get_overlay_path(sd_bus *bus, const char *name, const char *what,
                            sd_bus_message **ret_reply, const char **ret_path) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        int r;

        r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE,
                               "GetOverlay", &error, &reply, "s", name);
        if (r < 0)
                return log_bus_error(&error, r, "%s", what);
        r = sd_bus_message_read(reply, "o", ret_path);
        if (r < 0)
                return bus_log_parse_error(r);

        *ret_reply = g_steal_pointer(&reply);
        return 0;
}

static int print_overlay_json(const OverlayInfo *info) {
        g_autoptr(JsonBuilder) b = json_builder_new();

        json_add_overlay(b, info);
        return json_print_builder(b);
}

/* l4mctl overlay list */
int verb_overlay_list(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        static const char *const headers[] = { "NAME", "TYPE", "OWNER", "STATE", "CREATED" };
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(GArray) overlays = NULL;
        g_autoptr(Table) table = NULL;
        int r;

        assert(bus);
        assert(args);

        r = overlay_list_fetch(bus, &reply, &overlays);
        if (r != 0)
                return r;

        if (args->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();

                json_builder_begin_array(b);
                for (guint i = 0; i < overlays->len; i++)
                        json_add_overlay(b, &g_array_index(overlays, OverlayInfo, i));
                json_builder_end_array(b);
                return json_print_builder(b);
        }

        table = table_new(L4M_ELEMENTSOF(headers), headers);
        for (guint i = 0; i < overlays->len; i++) {
                const OverlayInfo *o = &g_array_index(overlays, OverlayInfo, i);
                char created[TIMESTAMP_MAX];

                table_add_row(table, (const char *const[]) {
                        o->name, o->type, o->owner, o->state,
                        format_timestamp(created, sizeof created, o->created),
                });
        }

        r = table_print(table, stdout, args->legend);
        if (r < 0)
                return log_error_errno(r, "cannot write output: %s", STRERROR(r));
        return 0;
}

/* l4mctl overlay create NAME --type TYPE. The name and type go to the
 * daemon as given: it is the one that validates them. */
int verb_overlay_create(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL, props = NULL;
        g_autofree char *what = NULL;
        const char *name = argv[0], *path;
        OverlayInfo info;
        int r;

        assert(bus);
        assert(args);
        assert(name);
        assert(args->type);

        what = g_strdup_printf("cannot create overlay \"%s\"", name);

        r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE,
                               "CreateOverlay", &error, &reply, "ssa{sv}", name, args->type, 0);
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
        what = g_strdup_printf("overlay \"%s\" was created as %s, but cannot read it back", name, path);
        r = get_overlay_info(bus, path, what, &props, &info);
        if (r != 0)
                return r;
        return print_overlay_json(&info);
}

/* l4mctl overlay show NAME */
int verb_overlay_show(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_autoptr(sd_bus_message) path_reply = NULL, props = NULL;
        g_autofree char *what = NULL;
        const char *name = argv[0], *path;
        char created[TIMESTAMP_MAX];
        OverlayInfo info;
        uint64_t id;
        int r;

        assert(bus);
        assert(args);
        assert(name);

        what = g_strdup_printf("cannot show overlay \"%s\"", name);
        r = get_overlay_path(bus, name, what, &path_reply, &path);
        if (r != 0)
                return r;
        r = get_overlay_info(bus, path, what, &props, &info);
        if (r != 0)
                return r;

        if (args->json)
                return print_overlay_json(&info);

#define FIELD(s) ((s) && (s)[0] ? (s) : "-")
        printf("Name: %s\n", FIELD(info.name));
        if (overlay_id_from_path(path, &id) >= 0)
                printf("Id: %" PRIu64 "\n", id);
        else
                printf("Id: -\n");
        printf("Type: %s\n", FIELD(info.type));
        printf("Owner: %s\n", FIELD(info.owner));
        printf("State: %s\n", FIELD(info.state));
        printf("Created: %s\n", format_timestamp(created, sizeof created, info.created));
        printf("Path: %s\n", path);
#undef FIELD
        return 0;
}

/* l4mctl overlay delete NAME */
int verb_overlay_delete(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) path_reply = NULL;
        g_autofree char *what = NULL;
        const char *name = argv[0], *path;
        int r;

        assert(bus);
        assert(args);
        assert(name);

        what = g_strdup_printf("cannot delete overlay \"%s\"", name);
        r = get_overlay_path(bus, name, what, &path_reply, &path);
        if (r != 0)
                return r;

        r = sd_bus_call_method(bus, L4M_BUS_NAME, path, L4M_OVERLAY_INTERFACE, "Delete",
                               &error, NULL, NULL);
        if (r < 0)
                return log_bus_error(&error, r, "%s", what);
        return 0;
}
