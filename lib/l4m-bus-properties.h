/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

/* The one reader of a dictionary of properties (a{sv}: the reply of
 * Properties.GetAll, the changes in PropertiesChanged, an interface's
 * entry in InterfacesAdded), shared by left4med, l4mctl and left4me-web.
 * A table says which names matter, what signature each value must have
 * and where it goes, in the manner of systemd's bus_map_all_properties():
 *
 *         static const L4mBusProperty map[] = {
 *                 { "Name", "s", l4m_bus_property_read_strdup, offsetof(Info, name) },
 *                 { "Created", "t", NULL, offsetof(Info, created) },
 *         };
 *         r = l4m_bus_map_properties(m, map, L4M_ELEMENTSOF(map), NULL, info, NULL);
 */

/* An array of uint64 ("at") borrowed from the message it was read from. */
typedef struct L4mU64Array {
        const uint64_t *values;
        size_t n;
} L4mU64Array;

/* Reads one value of signature into dest; the variant holding it has been
 * entered already, and its signature checked. */
typedef int (*L4mBusPropertyReadFunc)(sd_bus_message *m, const char *signature, void *dest);

typedef struct L4mBusProperty {
        const char *name;
        const char *signature;          /* the value's, e.g. "s", "t", "as", "(uo)" */
        L4mBusPropertyReadFunc read;    /* NULL: l4m_bus_property_read() */
        size_t offset;                  /* of the destination, in the userdata */
} L4mBusProperty;

/* The built-in reader: a basic type ("y", "b", "n", "q", "i", "u", "x",
 * "t", "d", "s", "o", "g") into its C type (b: int; s, o, g: a const char *
 * borrowed from the message), "as" into a char ** of the caller's (what
 * was there is g_strfreev()d; an empty array is an empty vector, not NULL),
 * "at" into an L4mU64Array (borrowed). */
int l4m_bus_property_read(sd_bus_message *m, const char *signature, void *dest);
/* "s", "o" or "g" into a char * of the caller's (what was there is g_free()d). */
int l4m_bus_property_read_strdup(sd_bus_message *m, const char *signature, void *dest);

/* For a name the table does not have: reads the variant ("v") that
 * follows, or skips it. */
typedef int (*L4mBusPropertyOtherFunc)(sd_bus_message *m, const char *name, void *userdata);

/* Reads the a{sv} at m's position. A property whose name is in map (at most
 * 64 entries) is read by its entry's reader into (uint8_t *) userdata +
 * offset; one with a name not in map goes to other(), or is skipped if
 * other is NULL. A property from map whose value has another signature is
 * -EBADMSG, as is any malformed message: nothing the caller reads is
 * half-true. If ret_found is not NULL, bit i of it is set when map[i] was
 * present. */
int l4m_bus_map_properties(sd_bus_message *m, const L4mBusProperty *map, size_t n, L4mBusPropertyOtherFunc other,
                           void *userdata, uint64_t *ret_found);
