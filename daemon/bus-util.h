/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* Sets a D-Bus error for a failure the caller did not cause, keeping the
 * details in the journal, and returns the negative errno. */
int bus_error_internal(sd_bus_error *error, int r, const char *what);

#include <glib.h>

/* For node enumerators: the object paths of the values of table, each
 * found at path_offset inside its value (a char* member). The array is
 * allocated with malloc(), as sd-bus frees it. */
int bus_enumerate_paths(GHashTable *table, size_t path_offset, char ***ret_nodes);

/* The values of table, sorted. */
GPtrArray *hash_table_sorted_values(GHashTable *table, GCompareFunc compare);

/* Reads an a{sv} of options: for each entry, option() reads the variant of
 * a key it knows and returns > 0, returns 0 for a key it does not know (an
 * InvalidArgument naming it), or fails (< 0, error set). */
typedef int (*BusOptionFunc)(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error);
int bus_message_read_options(sd_bus_message *msg, BusOptionFunc option, void *userdata, sd_bus_error *error);

/* Reads an a{sv} of options none of which is defined yet: any key is an
 * InvalidArgument naming it. */
int bus_message_refuse_options(sd_bus_message *msg, sd_bus_error *error);
