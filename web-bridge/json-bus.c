/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "json-bus.h"

#define NESTING_MAX 16

size_t json_bus_type_length(const char *sig) {
        size_t n, depth = 0;

        if (!sig || !*sig)
                return 0;
        switch (sig[0]) {
        case 'a':
                n = json_bus_type_length(sig + 1);
                return n ? n + 1 : 0;
        case '(':
        case '{': {
                char open = sig[0], close = open == '(' ? ')' : '}';

                for (n = 0; sig[n]; n++) {
                        if (sig[n] == open)
                                depth++;
                        else if (sig[n] == close && --depth == 0)
                                return n + 1;
                }
                return 0;
        }
        default:
                return strchr("ybnqiuxtdsoghv", sig[0]) ? 1 : 0;
        }
}

static int fail(char **error_text, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static int fail(char **error_text, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        g_free(*error_text);
        *error_text = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static bool node_is(JsonNode *node, GType type) {
        return node && JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == type;
}

static int append_integer(sd_bus_message *m, char type, JsonNode *node, char **error_text) {
        int64_t v;
        int64_t min = 0, max = INT64_MAX;

        if (!node_is(node, G_TYPE_INT64))
                return fail(error_text, "expected an integer");
        v = json_node_get_int(node);
        switch (type) {
        case 'y': max = UINT8_MAX; break;
        case 'n': min = INT16_MIN; max = INT16_MAX; break;
        case 'q': max = UINT16_MAX; break;
        case 'i': min = INT32_MIN; max = INT32_MAX; break;
        case 'u': max = UINT32_MAX; break;
        case 'x': min = INT64_MIN; break;
        case 't': break;
        default: assert(!"not an integer type");
        }
        if (v < min || v > max)
                return fail(error_text, "integer out of range");
        switch (type) {
        case 'y': return sd_bus_message_append_basic(m, type, &(uint8_t) { (uint8_t) v });
        case 'n': return sd_bus_message_append_basic(m, type, &(int16_t) { (int16_t) v });
        case 'q': return sd_bus_message_append_basic(m, type, &(uint16_t) { (uint16_t) v });
        case 'i': return sd_bus_message_append_basic(m, type, &(int32_t) { (int32_t) v });
        case 'u': return sd_bus_message_append_basic(m, type, &(uint32_t) { (uint32_t) v });
        case 'x': return sd_bus_message_append_basic(m, type, &v);
        default: return sd_bus_message_append_basic(m, type, &(uint64_t) { (uint64_t) v });
        }
}

static int append_value(sd_bus_message *m, const char *sig, size_t len, JsonNode *node,
                        const JsonBusOption *options, unsigned depth, char **error_text);

static bool basic_fits(char type, JsonNode *node) {
        switch (type) {
        case 's': case 'o': case 'g':
                return node_is(node, G_TYPE_STRING);
        case 'b':
                return node_is(node, G_TYPE_BOOLEAN);
        case 'y': case 'n': case 'q': case 'i': case 'u': case 'x': case 't':
                return node_is(node, G_TYPE_INT64);
        case 'd':
                return node_is(node, G_TYPE_INT64) || node_is(node, G_TYPE_DOUBLE);
        default:
                assert(!"alternatives are basic types");
                return false;
        }
}

/* The signature an option's value is sent as: opt's, or of alternatives
 * ("t|s") the first that fits node; NULL if none does. */
static const char *option_signature(const JsonBusOption *opt, JsonNode *node, char buf[static 2]) {
        const char *sig = opt->signature;

        if (!strchr(sig, '|'))
                return sig;
        for (; *sig; sig += sig[1] ? 2 : 1) {
                assert(sig[1] == '|' || sig[1] == 0);
                if (basic_fits(*sig, node)) {
                        buf[0] = *sig;
                        buf[1] = 0;
                        return buf;
                }
        }
        return NULL;
}

static int append_options(sd_bus_message *m, JsonNode *node, const JsonBusOption *options, unsigned depth,
                          char **error_text) {
        g_autoptr(GList) members = NULL;
        JsonObject *o;
        int r;

        if (!node || !JSON_NODE_HOLDS_OBJECT(node))
                return fail(error_text, "expected an object of options");
        o = json_node_get_object(node);
        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        members = json_object_get_members(o);
        for (GList *l = members; l; l = l->next) {
                const char *name = l->data;
                const JsonBusOption *opt = NULL;
                const char *sig;
                char buf[2];

                for (size_t i = 0; options && options[i].name; i++)
                        if (strcmp(options[i].name, name) == 0)
                                opt = &options[i];
                if (!opt)
                        return fail(error_text, "unknown option '%s'", name);
                sig = option_signature(opt, json_object_get_member(o, name), buf);
                if (!sig)
                        return fail(error_text, "option '%s': expected a value of type '%s'", name, opt->signature);
                r = sd_bus_message_open_container(m, 'e', "sv");
                if (r < 0)
                        return r;
                r = sd_bus_message_append_basic(m, 's', name);
                if (r < 0)
                        return r;
                r = sd_bus_message_open_container(m, 'v', sig);
                if (r < 0)
                        return r;
                r = append_value(m, sig, strlen(sig), json_object_get_member(o, name), NULL, depth + 1, error_text);
                if (r < 0) {
                        if (r == -EINVAL && *error_text) {
                                g_autofree char *t = g_steal_pointer(error_text);
                                return fail(error_text, "option '%s': %s", name, t);
                        }
                        return r;
                }
                r = sd_bus_message_close_container(m);
                if (r < 0)
                        return r;
                r = sd_bus_message_close_container(m);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

static int append_value(sd_bus_message *m, const char *sig, size_t len, JsonNode *node,
                        const JsonBusOption *options, unsigned depth, char **error_text) {
        g_autofree char *contents = NULL;
        int r;

        if (depth > NESTING_MAX)
                return fail(error_text, "nested too deeply");
        if (!node)
                return fail(error_text, "missing value");

        switch (sig[0]) {
        case 's':
        case 'o':
        case 'g':
                if (!node_is(node, G_TYPE_STRING))
                        return fail(error_text, "expected a string");
                r = sd_bus_message_append_basic(m, sig[0], json_node_get_string(node));
                if (r == -EINVAL)
                        return fail(error_text, "not a valid value of type '%c'", sig[0]);
                return r;
        case 'b':
                if (!node_is(node, G_TYPE_BOOLEAN))
                        return fail(error_text, "expected true or false");
                return sd_bus_message_append_basic(m, 'b', &(int) { json_node_get_boolean(node) });
        case 'y': case 'n': case 'q': case 'i': case 'u': case 'x': case 't':
                return append_integer(m, sig[0], node, error_text);
        case 'd': {
                double d;

                if (node_is(node, G_TYPE_INT64))
                        d = (double) json_node_get_int(node);
                else if (node_is(node, G_TYPE_DOUBLE))
                        d = json_node_get_double(node);
                else
                        return fail(error_text, "expected a number");
                if (!isfinite(d))
                        return fail(error_text, "expected a finite number");
                return sd_bus_message_append_basic(m, 'd', &d);
        }
        case 'a':
                if (strncmp(sig, "a{sv}", 5) == 0 && len == 5)
                        return append_options(m, node, options, depth, error_text);
                if (sig[1] == '{') {
                        g_autoptr(GList) members = NULL;
                        size_t vlen = json_bus_type_length(sig + 3);
                        g_autofree char *entry = g_strndup(sig + 2, len - 3);
                        JsonObject *o;

                        if (sig[2] != 's')
                                return fail(error_text, "unsupported dictionary type");
                        if (!JSON_NODE_HOLDS_OBJECT(node))
                                return fail(error_text, "expected an object");
                        o = json_node_get_object(node);
                        contents = g_strndup(sig + 1, len - 1);
                        r = sd_bus_message_open_container(m, 'a', contents);
                        if (r < 0)
                                return r;
                        members = json_object_get_members(o);
                        for (GList *l = members; l; l = l->next) {
                                r = sd_bus_message_open_container(m, 'e', entry);
                                if (r < 0)
                                        return r;
                                r = sd_bus_message_append_basic(m, 's', l->data);
                                if (r < 0)
                                        return r;
                                r = append_value(m, sig + 3, vlen, json_object_get_member(o, l->data), NULL,
                                                 depth + 1, error_text);
                                if (r < 0)
                                        return r;
                                r = sd_bus_message_close_container(m);
                                if (r < 0)
                                        return r;
                        }
                        return sd_bus_message_close_container(m);
                }
                if (!JSON_NODE_HOLDS_ARRAY(node))
                        return fail(error_text, "expected an array");
                contents = g_strndup(sig + 1, len - 1);
                r = sd_bus_message_open_container(m, 'a', contents);
                if (r < 0)
                        return r;
                for (guint i = 0; i < json_array_get_length(json_node_get_array(node)); i++) {
                        r = append_value(m, sig + 1, len - 1, json_array_get_element(json_node_get_array(node), i),
                                         NULL, depth + 1, error_text);
                        if (r < 0)
                                return r;
                }
                return sd_bus_message_close_container(m);
        default:
                return fail(error_text, "type '%.*s' cannot be given as JSON", (int) len, sig);
        }
}

int json_bus_append(sd_bus_message *m, const char *sig, JsonNode *node, const JsonBusOption *options,
                    char **error_text) {
        size_t len = json_bus_type_length(sig);

        assert(m);
        assert(error_text);
        assert(len > 0 && len == strlen(sig));
        return append_value(m, sig, len, node, options, 0, error_text);
}

static int read_basic(sd_bus_message *m, char type, JsonBuilder *b) {
        union {
                uint8_t y;
                int16_t n;
                uint16_t q;
                int32_t i;
                uint32_t u;
                int64_t x;
                uint64_t t;
                double d;
                int bl;
                const char *s;
                int h;
        } v;
        int r;

        r = sd_bus_message_read_basic(m, type, &v);
        if (r <= 0)
                return r;
        switch (type) {
        case 'y': json_builder_add_int_value(b, v.y); break;
        case 'n': json_builder_add_int_value(b, v.n); break;
        case 'q': json_builder_add_int_value(b, v.q); break;
        case 'i': json_builder_add_int_value(b, v.i); break;
        case 'u': json_builder_add_int_value(b, v.u); break;
        case 'x': json_builder_add_int_value(b, v.x); break;
        case 't':
                if (v.t > INT64_MAX)
                        json_builder_add_double_value(b, (double) v.t);
                else
                        json_builder_add_int_value(b, (int64_t) v.t);
                break;
        case 'd':
                if (isfinite(v.d))
                        json_builder_add_double_value(b, v.d);
                else
                        json_builder_add_null_value(b);
                break;
        case 'b': json_builder_add_boolean_value(b, v.bl); break;
        case 's': case 'o': case 'g': json_builder_add_string_value(b, v.s); break;
        case 'h': json_builder_add_null_value(b); break;
        default: return -EBADMSG;
        }
        return 1;
}

/* A dictionary key as an object member name. */
static int read_key(sd_bus_message *m, char type, char **ret) {
        g_autoptr(JsonBuilder) kb = json_builder_new();
        g_autoptr(JsonNode) root = NULL, kn = NULL;
        int r;

        json_builder_begin_array(kb);
        r = read_basic(m, type, kb);
        if (r <= 0)
                return r;
        json_builder_end_array(kb);
        root = json_builder_get_root(kb);
        kn = json_array_dup_element(json_node_get_array(root), 0);
        if (JSON_NODE_HOLDS_VALUE(kn) && json_node_get_value_type(kn) == G_TYPE_STRING)
                *ret = g_strdup(json_node_get_string(kn));
        else
                *ret = json_to_string(kn, false);
        return 1;
}

static int read_value(sd_bus_message *m, JsonBuilder *b, unsigned depth) {
        const char *contents;
        char type;
        int r;

        if (depth > NESTING_MAX)
                return -EBADMSG;
        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r <= 0)
                return r;
        switch (type) {
        case 'a':
                r = sd_bus_message_enter_container(m, 'a', contents);
                if (r < 0)
                        return r;
                if (contents[0] == '{') {
                        g_autofree char *entry = g_strndup(contents + 1, strlen(contents) - 2);

                        json_builder_begin_object(b);
                        while ((r = sd_bus_message_enter_container(m, 'e', entry)) > 0) {
                                g_autofree char *key = NULL;

                                r = read_key(m, entry[0], &key);
                                if (r <= 0)
                                        return r < 0 ? r : -EBADMSG;
                                json_builder_set_member_name(b, key);
                                r = json_bus_read_named_property(m, key, b);
                                if (r == 0)
                                        r = read_value(m, b, depth + 1);
                                if (r <= 0)
                                        return r < 0 ? r : -EBADMSG;
                                r = sd_bus_message_exit_container(m);
                                if (r < 0)
                                        return r;
                        }
                        if (r < 0)
                                return r;
                        json_builder_end_object(b);
                } else {
                        json_builder_begin_array(b);
                        while ((r = read_value(m, b, depth + 1)) > 0)
                                ;
                        if (r < 0)
                                return r;
                        json_builder_end_array(b);
                }
                r = sd_bus_message_exit_container(m);
                return r < 0 ? r : 1;
        case 'r':
                r = sd_bus_message_enter_container(m, 'r', contents);
                if (r < 0)
                        return r;
                json_builder_begin_array(b);
                while ((r = read_value(m, b, depth + 1)) > 0)
                        ;
                if (r < 0)
                        return r;
                json_builder_end_array(b);
                r = sd_bus_message_exit_container(m);
                return r < 0 ? r : 1;
        case 'v':
                r = sd_bus_message_enter_container(m, 'v', contents);
                if (r < 0)
                        return r;
                r = read_value(m, b, depth + 1);
                if (r <= 0)
                        return r < 0 ? r : -EBADMSG;
                r = sd_bus_message_exit_container(m);
                return r < 0 ? r : 1;
        default:
                return read_basic(m, type, b);
        }
}

int json_bus_read_named_property(sd_bus_message *m, const char *name, JsonBuilder *b) {
        static const char *const keys[] = { "id", "title", "size", "updated", "status" };
        const char *contents;
        bool variant;
        char type;
        int r;

        if (strcmp(name, "WorkshopItemDetails") != 0)
                return 0;
        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r <= 0)
                return r;
        variant = type == 'v';
        if (!(variant ? strcmp(contents, "a(tstts)") == 0 : type == 'a' && strcmp(contents, "(tstts)") == 0))
                return 0;
        if (variant) {
                r = sd_bus_message_enter_container(m, 'v', contents);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_enter_container(m, 'a', "(tstts)");
        if (r < 0)
                return r;
        json_builder_begin_array(b);
        for (;;) {
                uint64_t id, size, updated;
                const char *title, *status;

                r = sd_bus_message_read(m, "(tstts)", &id, &title, &size, &updated, &status);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                json_builder_begin_object(b);
                json_builder_set_member_name(b, keys[0]);
                json_builder_add_int_value(b, (gint64) id);
                json_builder_set_member_name(b, keys[1]);
                json_builder_add_string_value(b, title);
                json_builder_set_member_name(b, keys[2]);
                json_builder_add_int_value(b, (gint64) size);
                json_builder_set_member_name(b, keys[3]);
                json_builder_add_int_value(b, (gint64) updated);
                json_builder_set_member_name(b, keys[4]);
                json_builder_add_string_value(b, status);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
        r = sd_bus_message_exit_container(m);
        if (r >= 0 && variant)
                r = sd_bus_message_exit_container(m);
        return r < 0 ? r : 1;
}

int json_bus_read_value(sd_bus_message *m, JsonBuilder *b) {
        return read_value(m, b, 0);
}

int json_bus_read_all(sd_bus_message *m, JsonNode **ret) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        int r;

        json_builder_begin_array(b);
        while ((r = read_value(m, b, 0)) > 0)
                ;
        if (r < 0)
                return r;
        json_builder_end_array(b);
        *ret = json_builder_get_root(b);
        return 0;
}
