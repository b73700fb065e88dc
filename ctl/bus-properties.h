/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

#include "l4m-bus-properties.h"

#define PROPERTIES_INTERFACE "org.freedesktop.DBus.Properties"

/* An array of uint64 ("at") borrowed from the message it was read from. */
typedef L4mU64Array BusU64Array;

/* One property to pick out of an a{sv} into a variable of its own: its
 * name, the signature its value must have (one l4m_bus_property_read()
 * reads: "s", "t", "d", "u", "b", "at", …) and where to store it (const
 * char **, uint64_t *, double *, uint32_t *, int *, BusU64Array *, …).
 * Strings and arrays borrow from the message. For a struct, use
 * l4m_bus_map_properties() with offsets instead. */
typedef struct BusProperty {
        const char *name;
        const char *signature;
        void *dest;
} BusProperty;

/* Read an a{sv} (the reply of Properties.GetAll, or the second argument of
 * PropertiesChanged) into the places map names, through
 * l4m_bus_map_properties(). Properties not in map are skipped; a known one
 * with another signature is -EBADMSG. If ret_found is not NULL, bit i of
 * it is set when map[i] was present (n ≤ 64). */
int bus_read_properties(sd_bus_message *m, const BusProperty *map, size_t n, uint64_t *ret_found);

/* Properties.GetAll(interface) on path; the reply goes to *ret_reply.
 * Returns 0, or the exit code for the failure (logged as "<what>: …"). */
int bus_get_all_properties(sd_bus *bus, const char *path, const char *interface,
                           const char *what, sd_bus_message **ret_reply);

/* Manager.<method>(name), for GetBlueprint or GetInstance: the object path
 * into *ret (g_free() it). Returns 0, or the exit code for the failure
 * (logged as "<what>: …"). */
int bus_get_object_path(sd_bus *bus, const char *method, const char *name, const char *what, char **ret);

/* Calls method (arguments: types and the va_list) on interface of the
 * object Manager.<get_method>(name) names (GetInstance, GetSchedule). The
 * reply goes to *ret_reply if that is not NULL. Returns 0, or the exit code
 * for the failure (logged as "<what>: …"). */
int bus_call_by_name(sd_bus *bus, const char *get_method, const char *interface, const char *name, const char *what,
                     const char *method, sd_bus_message **ret_reply, const char *types, va_list ap);
