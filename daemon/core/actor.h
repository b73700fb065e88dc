/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>

/* Who a request acts for, as the engine sees it: the principal that will
 * own what it creates, and what that principal may see of others'
 * entities. The bus builds one per call (caller_actor()); the engine's
 * rules take it, so they neither know the bus nor whom to tell what. */

typedef enum ActorScope {
        ACTOR_SEES_ALL,         /* a local user, a web admin */
        ACTOR_SEES_OWN,         /* a web user */
        ACTOR_SEES_NOTHING,     /* a revoked web session */
} ActorScope;

typedef struct Actor {
        char *principal;        /* "alice", "web:bob", "uid:1234" */
        ActorScope scope;
        bool delegated;         /* acts for a web account */
} Actor;

void actor_done(Actor *a);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Actor, actor_done)

/* An actor that sees everything (a local user). */
void actor_init_local(Actor *a, const char *principal);

bool actor_owns(const Actor *a, const char *owner);
/* Whether the actor may see an entity owner owns; others' entities are
 * treated as if they did not exist. */
bool actor_sees(const Actor *a, const char *owner);

/* For an error text that names the entities in the way (the instances
 * using an overlay, ...): names (sorted char*, the keys of by_name, whose
 * values have their owner, a char*, at owner_offset) joined as
 * "\"a\", \"b\"", but only those the actor sees; the others are counted:
 * "\"a\" and 2 of other users", or "of other users (2)" when it sees none.
 * A web actor is not told names gone from by_name meanwhile (whose they
 * were is not known). */
char *actor_names_join(const Actor *a, GPtrArray *names, GHashTable *by_name, size_t owner_offset);
