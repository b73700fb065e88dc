/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "json-output.h"
#include "l4m-log.h"

static void add_string_or_null(JsonBuilder *b, const char *key, const char *value) {
        json_builder_set_member_name(b, key);
        if (value)
                json_builder_add_string_value(b, value);
        else
                json_builder_add_null_value(b);
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

        add_string_or_null(b, "name", info->name);
        add_string_or_null(b, "type", info->type);
        add_string_or_null(b, "owner", info->owner);
        add_string_or_null(b, "state", info->state);

        json_builder_set_member_name(b, "created");
        json_builder_add_int_value(b, (gint64) MIN(info->created, (uint64_t) G_MAXINT64));

        add_string_or_null(b, "path", info->path);

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
