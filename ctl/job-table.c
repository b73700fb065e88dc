/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>

#include "job-table.h"

Table *job_table_new(bool details) {
        Table *t = table_new();

        table_add_column(t, "ID", "id");
        table_add_column(t, "KIND", "kind");
        table_add_column(t, "TARGET", "target");
        table_add_column(t, "OWNER", "owner");
        table_add_column(t, "STATE", "state");
        table_add_column(t, "PROGRESS", "progress");
        if (details) {
                table_add_column(t, NULL, "message");
                table_add_column(t, NULL, "created");
                table_add_column(t, NULL, "started");
                table_add_column(t, NULL, "finished");
        }
        table_add_column(t, NULL, "path");
        return t;
}

void job_table_add(Table *t, const JobInfo *info) {
        assert(t);
        assert(info);
        assert(table_get_columns(t) == (info->details ? 11u : 7u));

        table_add_uint64(t, info->id);
        table_add_string(t, info->kind);
        table_add_string(t, info->target);
        table_add_string(t, info->owner);
        table_add_string(t, info->state);
        table_add_percent(t, info->progress);
        if (info->details) {
                table_add_string(t, info->message);
                table_add_timestamp(t, info->created);
                table_add_timestamp(t, info->started);
                table_add_timestamp(t, info->finished);
        }
        table_add_path(t, info->path);
}
