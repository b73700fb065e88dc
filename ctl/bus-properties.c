/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "bus-error.h"
#include "bus-properties.h"
#include "l4m-bus-names.h"
#include "l4m-util.h"

/* The destination l4m_bus_map_properties() computes is the BusProperty
 * itself (the table is laid over the caller's array), which says where the
 * value goes. */
static int read_into(sd_bus_message *m, const char *signature, void *dest) {
        const BusProperty *p = dest;
        return l4m_bus_property_read(m, signature, p->dest);
}

int bus_read_properties(sd_bus_message *m, const BusProperty *map, size_t n, uint64_t *ret_found) {
        L4mBusProperty table[64];

        assert(m);
        assert(map || n == 0);
        assert(n <= L4M_ELEMENTSOF(table));

        for (size_t i = 0; i < n; i++)
                table[i] = (L4mBusProperty) {
                        .name = map[i].name,
                        .signature = map[i].signature,
                        .read = read_into,
                        .offset = i * sizeof(BusProperty),
                };
        return l4m_bus_map_properties(m, table, n, NULL, (void *) map, ret_found);
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

int bus_call_by_name(sd_bus *bus, const char *get_method, const char *interface, const char *name, const char *what,
                     const char *method, sd_bus_message **ret_reply, const char *types, va_list ap) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) m = NULL, reply = NULL;
        g_autofree char *path = NULL;
        int r;

        r = bus_get_object_path(bus, get_method, name, what, &path);
        if (r != 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, L4M_BUS_NAME, path, interface, method);
        if (r >= 0 && types)
                r = sd_bus_message_appendv(m, types, ap);
        if (r < 0)
                return bus_log_create_error(r);
        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0)
                return log_bus_error(&error, r, "%s", what);
        if (ret_reply)
                *ret_reply = g_steal_pointer(&reply);
        return 0;
}
