/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/accounts/: web accounts: password hashes, the login slow-down, calls the web bridge makes for them. */
#pragma once

#include <stdbool.h>

#include <glib.h>
#include <systemd/sd-bus.h>

/* Bus connections that act for a web account (docs/ARCHITECTURE.md,
 * "Principals"): after a
 * successful Login, every later call on that connection (its unique bus
 * name) acts as principal "web:<account>" with the account's role, and
 * polkitd is no longer asked: role user may do everything but
 * org.left4me.admin and org.left4me.delegate, role admin everything but
 * org.left4me.delegate. Deleting the account or changing its password
 * revokes its connections: they are refused everything until they go away.
 * An entry is dropped when its connection leaves the bus (unique names are
 * never reused). */

typedef enum WebRole {
        WEB_ROLE_USER,
        WEB_ROLE_ADMIN,
        _WEB_ROLE_MAX,
        _WEB_ROLE_INVALID = -1,
} WebRole;

const char *web_role_to_string(WebRole role);
WebRole web_role_from_string(const char *s);

/* Keeps web principals apart from unix user names: a web account "root"
 * is never the unix user root. */
#define WEB_PRINCIPAL_PREFIX "web:"

/* Delegated connections at most. */
#define DELEGATIONS_MAX 4096u

typedef struct DelegationRegistry DelegationRegistry;

typedef struct Delegation {
        DelegationRegistry *registry;
        char *sender;                   /* the unique bus name */
        char *account;
        char *principal;                /* WEB_PRINCIPAL_PREFIX account */
        WebRole role;
        bool revoked;
        sd_bus_slot *check;             /* NameHasOwner in flight */
} Delegation;

DelegationRegistry *delegation_registry_new(void);
void delegation_registry_free(DelegationRegistry *reg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DelegationRegistry, delegation_registry_free)

/* Follows connections leaving the bus (one NameOwnerChanged match). */
int delegation_registry_attach(DelegationRegistry *reg, sd_bus *bus);

/* -EEXIST if sender has an entry already, -EBUSY if the registry is full. */
int delegation_add(DelegationRegistry *reg, const char *sender, const char *account, WebRole role);
/* NULL for a sender without an entry (a direct caller). */
const Delegation *delegation_find(const DelegationRegistry *reg, const char *sender);
/* Revokes every connection logged in as account but except (a unique name,
 * NULL for none); returns how many. ret_senders (optional) gets their
 * unique names, sorted (a NULL-terminated strv, empty if none). */
unsigned delegation_revoke_account(DelegationRegistry *reg, const char *account, const char *except,
                                   char ***ret_senders);
unsigned delegation_count(const DelegationRegistry *reg);

/* polkit_verify() for a delegated connection: > 0 if its role allows
 * action, else < 0 with AccessDenied set. */
int delegation_verify(const Delegation *d, const char *action, sd_bus_error *ret_error);
