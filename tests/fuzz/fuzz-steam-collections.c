/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "steam-api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A collection answer, parsed and expanded from every collection it
 * mentions: no crash, no endless expansion, bounded output. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autoptr(GHashTable) map = workshop_collection_map_new();
        g_autoptr(GPtrArray) parsed = NULL;
        g_autoptr(GArray) refs = g_array_new(FALSE, FALSE, sizeof(uint64_t));
        g_autoptr(WorkshopExpansion) x = NULL;
        g_autofree char *error = NULL;

        if (size > STEAM_API_RESPONSE_MAX)
                return 0;
        if (steam_collections_parse((const char *) data, size, &parsed, &error) < 0)
                return 0;
        for (guint i = 0; i < parsed->len; i++)
                g_array_append_val(refs, ((WorkshopCollection *) parsed->pdata[i])->id);
        workshop_collection_map_take(map, parsed);

        if (workshop_expand((const uint64_t *) refs->data, refs->len, map, &x) >= 0)
                g_assert(x->items->len <= WORKSHOP_ITEMS_MAX);
        return 0;
}
