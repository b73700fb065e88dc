/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#pragma once

#include <stdint.h>

#include <systemd/sd-bus.h>

/* Manager.ListObjects(interface): the overlays, blueprints, instances or
 * schedules the caller may see (as their List* method leaves out what
 * caller_sees() hides), in the same order (by name), each with what
 * Properties.GetAll of that interface answers on its object: a list in one
 * call instead of one call plus one per object. The answer is bounded by
 * LIST_OBJECTS_REPLY_MAX (estimated, never under the bytes on the wire);
 * past it the call is Busy and nothing is sent, and the caller lists the
 * old way. */
#define LIST_OBJECTS_REPLY_MAX (UINT64_C(8) << 20)

extern const sd_bus_vtable list_objects_manager_vtable[];

/* Appends to reply an a{sv} of object's properties in vtable (an
 * interface's vtable as registered, object the userdata its find callback
 * gives), as sd-bus's Properties.GetAll does: every property but hidden
 * and explicit ones, through its getter with userdata object + offset, or
 * read at that offset when it has none. */
int bus_append_vtable_properties(sd_bus_message *reply, const char *path, const char *interface,
                                 const sd_bus_vtable *vtable, void *object, sd_bus_error *error);

/* Adds to *size an upper bound of the bytes the rest of m's current
 * container takes on the wire (m sealed, read from where it stands).
 * Returns 0 or a negative errno. */
int bus_message_measure(sd_bus_message *m, uint64_t *size);
