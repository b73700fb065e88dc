/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "bus-error.h"
#include "bus-properties.h"
#include "l4m-bus-names.h"
#include "l4m-util.h"

static int read_value(sd_bus_message *m, const BusProperty *p) {
        const char *contents;
        int r;

        r = sd_bus_message_peek_type(m, NULL, &contents);
        if (r < 0)
                return r;
        if (!contents || strcmp(contents, p->signature) != 0)
                return -EBADMSG;

        r = sd_bus_message_enter_container(m, 'v', p->signature);
        if (r < 0)
                return r;

        if (strcmp(p->signature, "at") == 0) {
                BusU64Array *a = p->dest;
                const void *values = NULL;
                size_t size = 0;

                r = sd_bus_message_read_array(m, 't', &values, &size);
                if (r < 0)
                        return r;
                if (size % sizeof(uint64_t) != 0)
                        return -EBADMSG;
                *a = (BusU64Array) { .values = values, .n = size / sizeof(uint64_t) };
        } else {
                assert(strlen(p->signature) == 1);
                r = sd_bus_message_read_basic(m, p->signature[0], p->dest);
                if (r < 0)
                        return r;
        }

        return sd_bus_message_exit_container(m);
}

int bus_read_properties(sd_bus_message *m, const BusProperty *map, size_t n, uint64_t *ret_found) {
        uint64_t found = 0;
        int r;

        assert(m);
        assert(map || n == 0);
        assert(n <= 64);

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;

        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name;
                size_t i;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;

                for (i = 0; i < n; i++)
                        if (strcmp(name, map[i].name) == 0)
                                break;

                if (i >= n)
                        r = sd_bus_message_skip(m, "v");
                else {
                        r = read_value(m, &map[i]);
                        found |= UINT64_C(1) << i;
                }
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

int bus_get_all_properties(sd_bus *bus, const char *path, const char *interface,
                           const char *what, sd_bus_message **ret_reply) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        int r;

        assert(bus);
        assert(path);
        assert(interface);
        assert(what);
        assert(ret_reply);

        r = sd_bus_call_method(bus, L4M_BUS_NAME, path, PROPERTIES_INTERFACE, "GetAll",
                               &error, ret_reply, "s", interface);
        if (r < 0)
                return log_bus_error(&error, r, "%s", what);
        return 0;
}

int bus_get_object_path(sd_bus *bus, const char *method, const char *name, const char *what, char **ret) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        const char *path;
        int r;

        r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE,
                               method, &error, &reply, "s", name);
        if (r < 0)
                return log_bus_error(&error, r, "%s", what);
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return bus_log_parse_error(r);
        *ret = g_strdup(path);
        return 0;
}
