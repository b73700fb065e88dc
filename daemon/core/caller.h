/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>
#include <systemd/sd-bus.h>

#include "actor.h"
#include "delegation.h"

typedef struct Manager Manager;

/* For List* replies: who asks (caller_sees() filters the entries). */
typedef struct CallerView {
        Manager *manager;
        sd_bus_message *call;
} CallerView;

/* The web session the call came on, NULL for a direct caller. */
const Delegation *caller_delegation(Manager *m, sd_bus_message *msg);

/* Whether the caller may see an entity owner owns: a direct caller and a
 * web admin see everything, a web user only its own, a revoked web session
 * nothing. Others' entities are answered as if they did not exist. */
bool caller_sees(Manager *m, sd_bus_message *msg, const char *owner);

/* The same inside an object find or node enumerator callback (path: the
 * object asked for; NULL from an enumerator), for the call being
 * dispatched. Outside a call from a web user (signals the daemon emits
 * itself) every object is there. */
bool caller_sees_object(Manager *m, sd_bus *bus, const char *path, const char *owner);

/* A node enumerator's answer: the object paths of the values of table
 * (a char* at path_offset in each) that the call being dispatched may see
 * by their owner (a char* at owner_offset). */
int caller_enumerate_objects(Manager *m, sd_bus *bus, GHashTable *table, size_t path_offset, size_t owner_offset,
                             char ***ret_nodes);

/* The Actor (actor.h) a call acts for: its principal and what it sees.
 * The principal is "web:<account>" on a connection that logged in as a
 * web account (delegation.h); for a direct caller the user name of the
 * connection's uid as the bus recorded it (never read from /proc, which a
 * caller could race), or "uid:<N>" for a uid without a passwd entry.
 * actor_done() it. */
int caller_actor(Manager *m, sd_bus_message *msg, Actor *ret);

/* What by_name holds under name (its owner a char* at owner_offset) into
 * *ret, if the call may see it; else NotFound ("No <kind> "<name>"."). */
int caller_find_by_name(Manager *m, sd_bus_message *msg, GHashTable *by_name, size_t owner_offset, const char *kind,
                        const char *name, void **ret, sd_bus_error *error);

/* GetOverlay, GetBlueprint, GetInstance: reads a name from msg and replies
 * with the object path of what by_name holds under it (its path a char* at
 * path_offset, its owner one at owner_offset), for anyone who may read and
 * see it; kind names it in errors. */
int caller_reply_path_by_name(sd_bus_message *msg, Manager *m, GHashTable *by_name, size_t path_offset,
                              size_t owner_offset, const char *kind, sd_bus_error *error);
