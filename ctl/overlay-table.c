/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>

#include "overlay-table.h"

Table *overlay_table_new(bool details) {
        Table *t = table_new();

        table_add_column(t, NULL, "id");
        table_add_column(t, "NAME", "name");
        table_add_column(t, "TYPE", "type");
        table_add_column(t, "OWNER", "owner");
        table_add_column(t, "STATE", "state");
        table_add_column(t, "CREATED", "created");
        if (!details)
                table_add_column(t, "SIZE", "size");
        if (details) {
                table_add_column(t, NULL, "items");
                table_add_column(t, NULL, "size");
                table_add_column(t, NULL, "last_build");
                table_add_column(t, NULL, "script_size");
        }
        table_add_column(t, NULL, "path");
        return t;
}

void overlay_table_add(Table *t, const OverlayInfo *info) {
        uint64_t id;

        assert(t);
        assert(info);
        assert(table_get_columns(t) == (info->details ? 11u : 8u));

        if (info->path && overlay_id_from_path(info->path, &id) >= 0 && id <= G_MAXINT64)
                table_add_uint64(t, id);
        else
                table_add_empty(t);
        table_add_string(t, info->name);
        table_add_string(t, info->type);
        table_add_string(t, info->owner);
        table_add_string(t, info->state);
        table_add_timestamp(t, info->created);
        if (!info->details) {
                /* The list reads Size alone (overlay list). */
                if (info->have_size)
                        table_add_size(t, info->size);
                else
                        table_add_empty(t);
        }

        if (info->details) {
                if (info->have_items)
                        table_add_uint64_array(t, info->items.values, info->items.n);
                else
                        table_add_empty(t);
                if (info->have_size)
                        table_add_size(t, info->size);
                else
                        table_add_empty(t);
                if (info->have_last_build)
                        table_add_timestamp(t, info->last_build);
                else
                        table_add_empty(t);
                if (info->have_script_size)
                        table_add_size(t, info->script_size);
                else
                        table_add_empty(t);
        }

        table_add_path(t, info->path);
}
