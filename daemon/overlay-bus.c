/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "bus-util.h"
#include "caller.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "overlay.h"

static int property_get_type(sd_bus *bus, const char *path, const char *interface,
                             const char *property, sd_bus_message *reply, void *userdata,
                             sd_bus_error *error) {
        Overlay *o = userdata;
        return sd_bus_message_append(reply, "s", l4m_overlay_type_to_string(o->type));
}

static int method_delete(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Overlay *o = userdata;
        Manager *m = o->manager;
        g_autofree char *caller = NULL;
        g_autofree char *path = NULL;
        const char *action;
        int r;

        r = caller_principal(msg, &caller);
        if (r < 0)
                return bus_error_internal(error, r, "Identifying the caller");

        /* Owners manage their own overlays; anything else is administration. */
        action = strcmp(caller, o->owner) == 0 ? L4M_ACTION_OVERLAY_MANAGE : L4M_ACTION_ADMIN;
        r = polkit_verify(m->polkit, msg, action, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;

        /* Announce while the object still resolves, then drop it. */
        path = g_strdup(o->path);
        r = sd_bus_emit_object_removed(m->bus, path);
        if (r < 0)
                log_warning_errno(r, "Cannot announce removal of %s: %s", path, STRERROR(r));

        r = overlay_delete(o);
        if (r < 0) {
                (void) sd_bus_emit_object_added(m->bus, path);
                return bus_error_internal(error, r, "Deleting the overlay");
        }

        return sd_bus_reply_method_return(msg, NULL);
}

const sd_bus_vtable overlay_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", NULL, offsetof(Overlay, name), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Type", "s", property_get_type, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Owner", "s", NULL, offsetof(Overlay, owner), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", NULL, offsetof(Overlay, state), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Created", "t", NULL, offsetof(Overlay, created), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD("Delete", "", "", method_delete, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int overlay_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                        void **ret_found, sd_bus_error *error) {
        Overlay *o = manager_find_overlay_by_path(userdata, path);

        if (!o)
                return 0;
        *ret_found = o;
        return 1;
}

int overlay_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***ret_nodes,
                            sd_bus_error *error) {
        Manager *m = userdata;
        GHashTableIter it;
        gpointer value;
        char **nodes;
        size_t n = 0;

        /* sd-bus frees the array with free(). */
        nodes = calloc(g_hash_table_size(m->overlays_by_id) + 1, sizeof(char *));
        if (!nodes)
                return -ENOMEM;

        g_hash_table_iter_init(&it, m->overlays_by_id);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                const Overlay *o = value;

                nodes[n] = strdup(o->path);
                if (!nodes[n]) {
                        while (n > 0)
                                free(nodes[--n]);
                        free(nodes);
                        return -ENOMEM;
                }
                n++;
        }

        *ret_nodes = nodes;
        return 1;
}
