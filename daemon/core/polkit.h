/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#pragma once

#include <systemd/sd-bus.h>

#include <glib.h>

#include "delegation.h"

/* Asynchronous polkit checks for incoming method calls.
 *
 * A method handler calls polkit_verify() with the action it needs:
 *   > 0  the caller is authorised: go on;
 *   = 0  a check is now in flight: return 1 without replying. When polkitd
 *        answers, the very same message is queued again for dispatch, so
 *        the handler runs from the top, finds the stored answer and gets
 *        > 0 or < 0;
 *   < 0  refused (error set: AccessDenied, InteractiveAuthorizationRequired,
 *        or Busy when too many checks are in flight): return it.
 *
 * The subject is the caller's unique bus name (system-bus-name), never a
 * pid; the caller's allow-interactive-authorization flag is passed on. The
 * event loop never blocks on polkitd. */

typedef struct PolkitRegistry PolkitRegistry;

/* Checks in flight at once, in all and per caller; beyond that calls are
 * refused with Busy, so one caller cannot starve the others. */
#define POLKIT_MAX_PENDING 256
#define POLKIT_MAX_PENDING_PER_SENDER 16

PolkitRegistry *polkit_registry_new(void);
void polkit_registry_free(PolkitRegistry *reg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PolkitRegistry, polkit_registry_free)

/* Calls on connections that act for a web account are decided from the
 * account's role (delegation_verify()), without asking polkitd. */
void polkit_registry_set_delegations(PolkitRegistry *reg, const DelegationRegistry *delegations);

int polkit_verify(PolkitRegistry *reg, sd_bus_message *call, const char *action, sd_bus_error *ret_error);
/* The same with polkit details: NULL, or key, value, key, value, ...,
 * NULL. polkitd puts them into the action's message ($(key)) and hands
 * them to rules (action.lookup(key)); authorize.h says which are sent. */
int polkit_verify_details(PolkitRegistry *reg, sd_bus_message *call, const char *action, const char *const *details,
                          sd_bus_error *ret_error);
