/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

/* Coalescing of frequent changes of one object (a job's Progress): at most
 * one event per object per interval. A change inside the interval is not
 * lost but deferred: the object is due at the interval's end and is sent
 * then with whatever state it has by then. */

typedef struct Throttle Throttle;

Throttle *throttle_new(uint64_t interval_usec);
void throttle_free(Throttle *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Throttle, throttle_free)

/* key changed at now: true when it is to be sent now (it counts as sent);
 * false when it was deferred. force (a change that must not wait, such as
 * a new State) sends now and cancels a deferred send. */
bool throttle_offer(Throttle *t, const char *key, uint64_t now, bool force);

/* When the earliest deferred key is due; UINT64_MAX when none is. */
uint64_t throttle_next_due(Throttle *t);

/* The keys due by now (they count as sent at now), NULL-terminated
 * (possibly empty), in no particular order. Forgets keys that are
 * neither deferred nor recent, so that the table stays small. */
char **throttle_take_due(Throttle *t, uint64_t now);

/* The object is gone: nothing of it stays due. */
void throttle_forget(Throttle *t, const char *key);
