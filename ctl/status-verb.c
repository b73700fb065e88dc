/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "bus-error.h"
#include "json-output.h"
#include "l4m-bus-names.h"
#include "l4m-util.h"
#include "overlay-info.h"
#include "storage-usage.h"
#include "verbs.h"

/* How many instances the daemon has, and how many of them run. */
static int count_instances(sd_bus *bus, unsigned *ret_total, unsigned *ret_running) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        const char *path, *name, *owner, *blueprint, *state;
        unsigned total = 0, running = 0;
        uint16_t port;
        int r;

        r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE,
                               "ListInstances", &error, &reply, NULL);
        if (r < 0)
                return log_bus_error(&error, r, "cannot list instances");
        r = sd_bus_message_enter_container(reply, 'a', "(osssqs)");
        if (r < 0)
                return bus_log_parse_error(r);
        while ((r = sd_bus_message_read(reply, "(osssqs)", &path, &name, &owner, &blueprint, &port, &state)) > 0) {
                total++;
                if (strcmp(state, "running") == 0)
                        running++;
        }
        if (r < 0)
                return bus_log_parse_error(r);
        *ret_total = total;
        *ret_running = running;
        return 0;
}

/* The problems of the daemon's configuration (ConfigWarnings), a
 * NULL-terminated array. A daemon without the property has none to tell. */
static int read_config_warnings(sd_bus *bus, char ***ret) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        char **warnings = NULL;
        int r;

        r = sd_bus_get_property_strv(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, "ConfigWarnings",
                                     &error, &warnings);
        if (r < 0 && sd_bus_error_has_name(&error, SD_BUS_ERROR_UNKNOWN_PROPERTY))
                warnings = NULL;
        else if (r < 0)
                return log_bus_error(&error, r, "cannot read the configuration's warnings");
        *ret = warnings ? warnings : g_new0(char *, 1);
        return 0;
}

/* l4mctl status: the daemon's version, how many overlays and instances it
 * has, the problems of its configuration, and each owner's storage use. */
int verb_status(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) version_reply = NULL, list_reply = NULL;
        g_autoptr(GArray) overlays = NULL, usage = NULL;
        g_auto(GStrv) warnings = NULL;
        const char *version;
        unsigned instances = 0, running = 0;
        int r;

        assert(bus);
        assert(args);

        r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH,
                               "org.freedesktop.DBus.Properties", "Get",
                               &error, &version_reply, "ss", L4M_MANAGER_INTERFACE, "Version");
        if (r < 0)
                return log_bus_error(&error, r, "cannot read the daemon's version");
        r = sd_bus_message_read(version_reply, "v", "s", &version);
        if (r < 0)
                return bus_log_parse_error(r);

        r = overlay_list_fetch(bus, &list_reply, &overlays);
        if (r != 0)
                return r;
        r = count_instances(bus, &instances, &running);
        if (r != 0)
                return r;
        r = read_config_warnings(bus, &warnings);
        if (r != 0)
                return r;
        r = storage_usage_fetch(bus, &usage);
        if (r != 0)
                return r;

        if (args->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();

                json_builder_begin_object(b);
                json_builder_set_member_name(b, "version");
                json_builder_add_string_value(b, version);
                json_builder_set_member_name(b, "overlays");
                json_builder_add_int_value(b, overlays->len);
                json_builder_set_member_name(b, "instances");
                json_builder_add_int_value(b, instances);
                json_builder_set_member_name(b, "instances_running");
                json_builder_add_int_value(b, running);
                json_builder_set_member_name(b, "storage");
                json_builder_begin_array(b);
                for (guint i = 0; i < usage->len; i++) {
                        const StorageUsage *u = &g_array_index(usage, StorageUsage, i);

                        json_builder_begin_object(b);
                        json_builder_set_member_name(b, "owner");
                        json_builder_add_string_value(b, u->owner);
                        json_builder_set_member_name(b, "used");
                        json_builder_add_int_value(b, (gint64) MIN(u->used, (uint64_t) G_MAXINT64));
                        json_builder_set_member_name(b, "quota");
                        if (u->quota == UINT64_MAX)
                                json_builder_add_null_value(b);
                        else
                                json_builder_add_int_value(b, (gint64) MIN(u->quota, (uint64_t) G_MAXINT64));
                        json_builder_end_object(b);
                }
                json_builder_end_array(b);
                json_builder_set_member_name(b, "config_warnings");
                json_builder_begin_array(b);
                for (size_t i = 0; warnings[i]; i++)
                        json_builder_add_string_value(b, warnings[i]);
                json_builder_end_array(b);
                json_builder_end_object(b);
                return json_print_builder(b);
        }

        printf("Version: %s\n", version);
        printf("Overlays: %u\n", overlays->len);
        printf("Instances: %u (%u running)\n", instances, running);
        if (!warnings[0])
                printf("Configuration: no problems\n");
        else {
                printf("Configuration: %u problem(s)\n", g_strv_length(warnings));
                for (size_t i = 0; warnings[i]; i++)
                        printf("  %s\n", warnings[i]);
        }
        if (usage->len == 0)
                printf("Storage: -\n");
        else {
                printf("Storage ([Overlays] OwnerMaxBytes=):\n");
                for (guint i = 0; i < usage->len; i++) {
                        const StorageUsage *u = &g_array_index(usage, StorageUsage, i);
                        char text[STORAGE_USAGE_FORMAT_MAX];

                        printf("  %s: %s\n", u->owner, storage_usage_format(text, sizeof text, u));
                }
        }
        return 0;
}
