/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus-error.h"
#include "l4m-bus-names.h"
#include "l4m-util.h"
#include "overlay-info.h"

int object_id_from_path(const char *path, uint64_t *ret) {
        g_autofree char *prefix = NULL;
        char *label = NULL; /* malloc()ed by sd-bus */
        const char *slash;
        guint64 id;
        gboolean ok;
        int r;

        assert(path);
        assert(ret);

        slash = strrchr(path, '/');
        if (!slash || slash == path || !slash[1])
                return -EINVAL;

        /* Ids are plain decimals today; decoding also copes with a daemon
         * that escapes them as bus labels ("_31_32" for "12"). */
        prefix = g_strndup(path, (gsize) (slash - path));
        r = sd_bus_path_decode(path, prefix, &label);
        if (r < 0)
                return r;
        if (r == 0 || !label)
                return -EINVAL;

        ok = g_ascii_string_to_unsigned(label, 10, 0, G_MAXUINT64, &id, NULL);
        free(label);
        if (!ok)
                return -EINVAL;

        *ret = id;
        return 0;
}

int overlay_list_from_reply(sd_bus_message *reply, GArray **ret) {
        g_autoptr(GArray) infos = NULL;
        OverlayInfo info = { NULL };
        int r;

        assert(reply);
        assert(ret);

        infos = g_array_new(FALSE, TRUE, sizeof(OverlayInfo));

        r = sd_bus_message_enter_container(reply, 'a', "(osssst)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(reply, "(osssst)", &info.path, &info.name, &info.type,
                                        &info.owner, &info.state, &info.created)) > 0)
                g_array_append_val(infos, info);
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return r;

        *ret = g_steal_pointer(&infos);
        return 0;
}

int overlay_info_from_properties(sd_bus_message *reply, OverlayInfo *info) {
        const BusProperty map[] = {
                { "Name", "s", &info->name },
                { "Type", "s", &info->type },
                { "Owner", "s", &info->owner },
                { "State", "s", &info->state },
                { "Created", "t", &info->created },
                { "Items", "at", &info->items },
                { "Size", "t", &info->size },
                { "LastBuild", "t", &info->last_build },
                { "ScriptSize", "t", &info->script_size },
        };
        uint64_t found;
        int r;

        assert(reply);
        assert(info);

        r = bus_read_properties(reply, map, L4M_ELEMENTSOF(map), &found);
        if (r < 0)
                return r;

        info->details = true;
        info->have_items = found & (UINT64_C(1) << 5);
        info->have_size = found & (UINT64_C(1) << 6);
        info->have_last_build = found & (UINT64_C(1) << 7);
        info->have_script_size = found & (UINT64_C(1) << 8);
        return 0;
}

/* ListObjects(org.left4me.Overlay)'s a(oa{sv}) into OverlayInfo, with the
 * size (details stays false: the listing's columns only). */
static int overlay_list_from_objects(sd_bus_message *reply, GArray **ret) {
        g_autoptr(GArray) infos = g_array_new(FALSE, TRUE, sizeof(OverlayInfo));
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "(oa{sv})");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'r', "oa{sv}")) > 0) {
                OverlayInfo info = { NULL };
                const BusProperty map[] = {
                        { "Name", "s", &info.name },
                        { "Type", "s", &info.type },
                        { "Owner", "s", &info.owner },
                        { "State", "s", &info.state },
                        { "Created", "t", &info.created },
                        { "Size", "t", &info.size },
                };
                uint64_t found = 0;

                r = sd_bus_message_read(reply, "o", &info.path);
                if (r >= 0)
                        r = bus_read_properties(reply, map, L4M_ELEMENTSOF(map), &found);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
                info.have_size = found & (UINT64_C(1) << 5);
                if (r >= 0)
                        g_array_append_val(infos, info);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return r;
        *ret = g_steal_pointer(&infos);
        return 0;
}

int overlay_list_fetch_sized(sd_bus *bus, sd_bus_message **ret_reply, GArray **ret) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        int r;

        assert(bus);
        assert(ret_reply);
        assert(ret);

        r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE,
                               "ListObjects", &error, &reply, "s", L4M_OVERLAY_INTERFACE);
        if (r < 0 && sd_bus_error_has_names(&error, L4M_ERROR_BUSY, SD_BUS_ERROR_UNKNOWN_METHOD))
                return 1;
        if (r < 0)
                return log_bus_error(&error, r, "cannot list overlays");
        r = overlay_list_from_objects(reply, ret);
        if (r < 0)
                return bus_log_parse_error(r);

        *ret_reply = g_steal_pointer(&reply);
        return 0;
}

int overlay_list_fetch(sd_bus *bus, sd_bus_message **ret_reply, GArray **ret) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        int r;

        assert(bus);
        assert(ret_reply);
        assert(ret);

        r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE,
                               "ListOverlays", &error, &reply, NULL);
        if (r < 0)
                return log_bus_error(&error, r, "cannot list overlays");
        r = overlay_list_from_reply(reply, ret);
        if (r < 0)
                return bus_log_parse_error(r);

        *ret_reply = g_steal_pointer(&reply);
        return 0;
}
