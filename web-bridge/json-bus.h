/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <json-glib/json-glib.h>
#include <systemd/sd-bus.h>

/* JSON <-> D-Bus, strictly by signature: a JSON value is appended only if
 * its JSON type fits the D-Bus type (strings for s/o, booleans for b,
 * integers in range for y/n/q/i/u/x/t, numbers for d, arrays for a*,
 * objects for a{s*}); a{sv} takes only the option names its table knows,
 * each with its own signature. */

typedef struct JsonBusOption {
        const char *name;
        /* One complete type, or basic types separated by '|' ("t|s"): the
         * first whose JSON type fits the value is sent in the variant. */
        const char *signature;
} JsonBusOption;

/* Appends node as one value of the single complete type sig. options (may
 * be NULL; NULL-name terminated) gives the types of a{sv} entries. Returns
 * 0, -EINVAL with *error_text set (a message for a 400 answer) when the
 * JSON does not fit, or another negative errno. */
int json_bus_append(sd_bus_message *m, const char *sig, JsonNode *node, const JsonBusOption *options,
                    char **error_text);

/* Reads the next complete value of m into the builder (as the value of a
 * member or array element the caller has started). Structs become arrays,
 * dictionaries objects, variants their contents, fds null. Returns 1, 0 at
 * the end of the current container, or a negative errno. */
int json_bus_read_value(sd_bus_message *m, JsonBuilder *b);

/* Properties whose value reads better as objects than as the arrays
 * structs become: Overlay.WorkshopItemDetails (a(tstts)) is an array of
 * {"id", "title", "size", "updated", "status"}. If name is such a property
 * and the next value of m (a variant, or the array itself) has its type,
 * reads it into b and returns 1; else 0, reading nothing. */
int json_bus_read_named_property(sd_bus_message *m, const char *name, JsonBuilder *b);

/* Reads every remaining top-level value of m into a new array node. */
int json_bus_read_all(sd_bus_message *m, JsonNode **ret);

/* The length of the first complete type in sig, 0 if sig is not one. */
size_t json_bus_type_length(const char *sig);
