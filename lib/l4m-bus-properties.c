/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "l4m-bus-properties.h"

int l4m_bus_property_read(sd_bus_message *m, const char *signature, void *dest) {
        int r;

        assert(m);
        assert(signature);
        assert(dest);

        if (strcmp(signature, "as") == 0) {
                char ***strv = dest;
                char **v = NULL;

                r = sd_bus_message_read_strv(m, &v);
                if (r < 0)
                        return r;
                /* sd-bus allocates with malloc(), which g_free() frees. */
                g_strfreev(*strv);
                *strv = v ? v : g_new0(char *, 1);
                return 0;
        }
        if (strcmp(signature, "at") == 0) {
                L4mU64Array *a = dest;
                const void *values = NULL;
                size_t size = 0;

                r = sd_bus_message_read_array(m, 't', &values, &size);
                if (r < 0)
                        return r;
                if (size % sizeof(uint64_t) != 0)
                        return -EBADMSG;
                *a = (L4mU64Array) { .values = values, .n = size / sizeof(uint64_t) };
                return 0;
        }
        /* A table asking for something no built-in reads is a bug. */
        assert(signature[0] && !signature[1] && strchr("ybnqiuxtdsog", signature[0]));
        r = sd_bus_message_read_basic(m, signature[0], dest);
        return r < 0 ? r : 0;
}

int l4m_bus_property_read_strdup(sd_bus_message *m, const char *signature, void *dest) {
        char **s = dest;
        const char *v;
        int r;

        assert(m);
        assert(signature);
        assert(dest);
        assert(strcmp(signature, "s") == 0 || strcmp(signature, "o") == 0 || strcmp(signature, "g") == 0);

        r = sd_bus_message_read_basic(m, signature[0], &v);
        if (r < 0)
                return r;
        g_free(*s);
        *s = g_strdup(v);
        return 0;
}

static int read_value(sd_bus_message *m, const L4mBusProperty *p, void *userdata) {
        const char *contents = NULL;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        if (r == 0 || type != SD_BUS_TYPE_VARIANT || !contents || strcmp(contents, p->signature) != 0)
                return -EBADMSG;
        r = sd_bus_message_enter_container(m, SD_BUS_TYPE_VARIANT, contents);
        if (r < 0)
                return r;
        r = (p->read ? p->read : l4m_bus_property_read)(m, p->signature, (uint8_t *) userdata + p->offset);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

int l4m_bus_map_properties(sd_bus_message *m, const L4mBusProperty *map, size_t n, L4mBusPropertyOtherFunc other,
                           void *userdata, uint64_t *ret_found) {
        uint64_t found = 0;
        int r;

        assert(m);
        assert(map || n == 0);
        assert(n <= 64);

        r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sv}");
        if (r < 0)
                return r;
        if (r == 0)
                return -EBADMSG;        /* not at an a{sv} at all */
        while ((r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv")) > 0) {
                const char *name;
                size_t i;

                r = sd_bus_message_read_basic(m, SD_BUS_TYPE_STRING, &name);
                if (r < 0)
                        return r;
                for (i = 0; i < n; i++)
                        if (strcmp(name, map[i].name) == 0)
                                break;
                if (i < n) {
                        r = read_value(m, &map[i], userdata);
                        found |= UINT64_C(1) << i;
                } else if (other)
                        r = other(m, name, userdata);
                else
                        r = sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;

        if (ret_found)
                *ret_found = found;
        return 0;
}
