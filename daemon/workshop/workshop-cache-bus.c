/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/workshop/: Workshop overlays: the Steam Web API, the shared download cache, builds linking into it. */
#include "authorize.h"
#include "bus-util.h"
#include "l4m-bus-names.h"
#include "l4m-util.h"
#include "workshop-cache.h"

static int method_list_cache(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(GArray) entries = NULL;
        Manager *m = userdata;
        int r;

        r = polkit_verify(m->polkit, msg, L4M_ACTION_READ, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = workshop_cache_list(m, &entries);
        if (r < 0)
                return bus_error_internal(error, r, "Listing the Workshop cache");

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(tstu)");
        for (guint i = 0; r >= 0 && i < entries->len; i++) {
                const WorkshopCacheEntry *e = &g_array_index(entries, WorkshopCacheEntry, i);
                r = sd_bus_message_append(reply, "(tstu)", e->published_id, e->name, e->size, e->links);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_prune_cache(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autofree char *problem = NULL;
        Manager *m = userdata;
        uint64_t files, bytes;
        int r;

        /* Nobody's in particular: whoever may manage overlays. */
        r = authorize_call(m, msg, &(AuthorizeRequest) {
                                   .action = L4M_ACTION_OVERLAY_MANAGE,
                                   .verb = "prune",
                                   .kind = "cache",
                                   .name = "Workshop",
                           }, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = workshop_cache_prune(m, &files, &bytes, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Pruning the Workshop cache");
        return sd_bus_reply_method_return(msg, "tt", files, bytes);
}

const sd_bus_vtable workshop_cache_manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("ListCache",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(tstu)", entries),
                                method_list_cache, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PruneCache",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("t", files, "t", bytes),
                                method_prune_cache, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};
