/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "json-output.h"
#include "l4m-log.h"

void json_add_string_or_null(JsonBuilder *b, const char *key, const char *value) {
        assert(b);
        assert(key);

        json_builder_set_member_name(b, key);
        if (value)
                json_builder_add_string_value(b, value);
        else
                json_builder_add_null_value(b);
}

void json_add_uint(JsonBuilder *b, const char *key, uint64_t value) {
        assert(b);
        assert(key);

        json_builder_set_member_name(b, key);
        json_builder_add_int_value(b, (gint64) MIN(value, (uint64_t) G_MAXINT64));
}

void json_add_overlay(JsonBuilder *b, const OverlayInfo *info) {
        uint64_t id;

        assert(b);
        assert(info);

        json_builder_begin_object(b);

        json_builder_set_member_name(b, "id");
        if (info->path && overlay_id_from_path(info->path, &id) >= 0 && id <= G_MAXINT64)
                json_builder_add_int_value(b, (gint64) id);
        else
                json_builder_add_null_value(b);

        json_add_string_or_null(b, "name", info->name);
        json_add_string_or_null(b, "type", info->type);
        json_add_string_or_null(b, "owner", info->owner);
        json_add_string_or_null(b, "state", info->state);

        json_add_uint(b, "created", info->created);

        if (info->details) {
                json_builder_set_member_name(b, "items");
                if (info->have_items) {
                        json_builder_begin_array(b);
                        for (size_t i = 0; i < info->items.n; i++)
                                json_builder_add_int_value(b, (gint64) MIN(info->items.values[i],
                                                                           (uint64_t) G_MAXINT64));
                        json_builder_end_array(b);
                } else
                        json_builder_add_null_value(b);

                if (info->have_size)
                        json_add_uint(b, "size", info->size);
                else
                        json_add_string_or_null(b, "size", NULL);

                if (info->have_last_build)
                        json_add_uint(b, "last_build", info->last_build);
                else
                        json_add_string_or_null(b, "last_build", NULL);

                if (info->have_script_size)
                        json_add_uint(b, "script_size", info->script_size);
                else
                        json_add_string_or_null(b, "script_size", NULL);
        }

        json_add_string_or_null(b, "path", info->path);

        json_builder_end_object(b);
}

void json_add_job(JsonBuilder *b, const JobInfo *info) {
        assert(b);
        assert(info);

        json_builder_begin_object(b);
        json_add_uint(b, "id", info->id);
        json_add_string_or_null(b, "kind", info->kind);
        json_add_string_or_null(b, "target", info->target);
        json_add_string_or_null(b, "owner", info->owner);
        json_add_string_or_null(b, "state", info->state);
        json_builder_set_member_name(b, "progress");
        json_builder_add_double_value(b, isfinite(info->progress) ? info->progress : 0.0);
        if (info->details) {
                json_add_string_or_null(b, "message", info->message);
                json_add_uint(b, "created", info->created);
                json_add_uint(b, "started", info->started);
                json_add_uint(b, "finished", info->finished);
        }
        json_add_string_or_null(b, "path", info->path);
        json_builder_end_object(b);
}

int json_print_builder(JsonBuilder *b) {
        g_autoptr(JsonGenerator) gen = NULL;
        g_autoptr(JsonNode) root = NULL;
        g_autofree char *text = NULL;

        assert(b);

        root = json_builder_get_root(b);
        assert(root);

        gen = json_generator_new();
        json_generator_set_pretty(gen, isatty(STDOUT_FILENO));
        json_generator_set_root(gen, root);
        text = json_generator_to_data(gen, NULL);

        if (fputs(text, stdout) == EOF || fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
                int r = errno > 0 ? -errno : -EIO;
                return log_error_errno(r, "cannot write output: %s", STRERROR(r));
        }
        return 0;
}
