/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "sse-format.h"

void sse_append_event(GString *out, uint64_t id, const char *event, const char *data) {
        assert(out);
        assert(data);

        if (id > 0)
                g_string_append_printf(out, "id: %" G_GUINT64_FORMAT "\n", id);
        if (event)
                g_string_append_printf(out, "event: %s\n", event);
        g_string_append(out, "data: ");
        for (const char *p = data; *p; p++)
                g_string_append_c(out, *p == '\n' || *p == '\r' ? ' ' : *p);
        g_string_append(out, "\n\n");
}

void sse_append_comment(GString *out, const char *text) {
        assert(out);
        assert(text);
        assert(!strpbrk(text, "\r\n"));

        g_string_append_printf(out, ": %s\n\n", text);
}

GBytes *sse_event_bytes(uint64_t id, const char *event, const char *data) {
        GString *s = g_string_sized_new(64 + strlen(data));

        sse_append_event(s, id, event, data);
        return g_string_free_to_bytes(s);
}

bool sse_parse_event_id(const char *value, uint64_t *ret) {
        guint64 v;

        assert(ret);

        if (!value || !g_ascii_isdigit(value[0]))
                return false;
        if (!g_ascii_string_to_unsigned(value, 10, 1, G_MAXUINT64, &v, NULL))
                return false;
        *ret = v;
        return true;
}

char *sse_json_line(const char *line, size_t len) {
        g_autoptr(JsonBuilder) builder = json_builder_new();
        g_autoptr(JsonGenerator) gen = json_generator_new();
        g_autoptr(JsonNode) root = NULL;
        g_autofree char *valid = g_utf8_make_valid(line, (gssize) len);

        json_builder_begin_object(builder);
        json_builder_set_member_name(builder, "line");
        json_builder_add_string_value(builder, valid);
        json_builder_end_object(builder);
        root = json_builder_get_root(builder);
        json_generator_set_root(gen, root);
        return json_generator_to_data(gen, NULL);
}
