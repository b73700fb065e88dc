/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
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

int json_write(JsonNode *root, FILE *f) {
        g_autoptr(JsonGenerator) gen = NULL;
        g_autofree char *text = NULL;

        assert(root);
        assert(f);

        gen = json_generator_new();
        json_generator_set_pretty(gen, isatty(fileno(f)));
        json_generator_set_root(gen, root);
        text = json_generator_to_data(gen, NULL);

        if (fputs(text, f) == EOF || fputc('\n', f) == EOF || fflush(f) != 0)
                return errno > 0 ? -errno : -EIO;
        return 0;
}

int json_print_builder(JsonBuilder *b) {
        g_autoptr(JsonNode) root = NULL;
        int r;

        assert(b);

        root = json_builder_get_root(b);
        assert(root);

        r = json_write(root, stdout);
        if (r < 0)
                return log_error_errno(r, "cannot write output: %s", STRERROR(r));
        return 0;
}

int print_created(bool json, const char *name, const char *path) {
        g_autoptr(JsonBuilder) b = NULL;

        if (!json) {
                printf("%s\n", path);
                return 0;
        }
        b = json_builder_new();
        json_builder_begin_object(b);
        json_add_string_or_null(b, "name", name);
        json_add_string_or_null(b, "path", path);
        json_builder_end_object(b);
        return json_print_builder(b);
}
