/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "steam-api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whatever Steam (or whoever answers in its place) sends: parsed and
 * classified without crashing, and every item that comes out OK is
 * usable as is. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autoptr(GArray) items = NULL;
        g_autofree char *error = NULL;
        uint64_t id;

        if (size > STEAM_API_RESPONSE_MAX)
                return 0;
        if (steam_details_parse((const char *) data, size, &items, &error) >= 0) {
                g_assert(items->len <= STEAM_API_BATCH_MAX);
                for (guint i = 0; i < items->len; i++) {
                        const WorkshopItem *it = &g_array_index(items, WorkshopItem, i);
                        if (it->status != WORKSHOP_ITEM_OK)
                                continue;
                        g_assert(it->file_url);
                        g_assert(it->file_size > 0 && it->file_size <= WORKSHOP_FILE_SIZE_MAX);
                        g_assert(it->consumer_app_id == STEAM_APP_L4D2);
                }
        } else
                g_assert(error && g_utf8_validate(error, -1, NULL));

        {
                g_autofree char *s = g_strndup((const char *) data, MIN(size, 4096));
                (void) workshop_ref_parse(s, &id);
        }
        return 0;
}
