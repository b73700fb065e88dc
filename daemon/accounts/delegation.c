/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/accounts/: web accounts: password hashes, the login slow-down, calls the web bridge makes for them. */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "delegation.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"

struct DelegationRegistry {
        sd_bus *bus;
        sd_bus_slot *match;             /* NameOwnerChanged with no new owner */
        GHashTable *by_sender;          /* Delegation.sender → Delegation* (owned) */
};

static const char *const web_role_names[_WEB_ROLE_MAX] = {
        [WEB_ROLE_USER] = "user",
        [WEB_ROLE_ADMIN] = "admin",
};

const char *web_role_to_string(WebRole role) {
        return role >= 0 && role < _WEB_ROLE_MAX ? web_role_names[role] : NULL;
}

WebRole web_role_from_string(const char *s) {
        for (int k = 0; s && k < _WEB_ROLE_MAX; k++)
                if (strcmp(s, web_role_names[k]) == 0)
                        return (WebRole) k;
        return _WEB_ROLE_INVALID;
}

static void delegation_free(Delegation *d) {
        if (!d)
                return;
        sd_bus_slot_unref(d->check);
        g_free(d->sender);
        g_free(d->account);
        g_free(d->principal);
        g_free(d);
}

DelegationRegistry *delegation_registry_new(void) {
        DelegationRegistry *reg = g_new0(DelegationRegistry, 1);

        reg->by_sender = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify) delegation_free);
        return reg;
}

void delegation_registry_free(DelegationRegistry *reg) {
        if (!reg)
                return;
        g_hash_table_destroy(reg->by_sender);
        sd_bus_slot_unref(reg->match);
        sd_bus_unref(reg->bus);
        g_free(reg);
}

static int on_name_owner_changed(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        DelegationRegistry *reg = userdata;
        const char *name, *old_owner, *new_owner;
        int r;

        r = sd_bus_message_read(msg, "sss", &name, &old_owner, &new_owner);
        if (r < 0 || new_owner[0] != '\0')
                return 0;
        if (g_hash_table_remove(reg->by_sender, name))
                log_debug("Web session on %s ended: the connection left the bus.", name);
        return 0;
}

int delegation_registry_attach(DelegationRegistry *reg, sd_bus *bus) {
        int r;

        assert(reg);
        assert(bus);
        assert(!reg->bus);

        /* One match for every connection leaving, not one per connection:
         * the bus limits the matches a connection may hold. */
        r = sd_bus_add_match_async(bus, &reg->match,
                                   "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                                   "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg2=''",
                                   on_name_owner_changed, NULL, reg);
        if (r < 0)
                return r;
        reg->bus = sd_bus_ref(bus);
        return 0;
}

/* The connection may have left before the match saw it (between its Login
 * and our entry): the bus answers NameHasOwner after everything it sent us
 * before, so a false here is final and a later departure reaches the match. */
static int on_name_has_owner(sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Delegation *d = userdata;
        int has = 1;

        d->check = sd_bus_slot_unref(d->check);
        if (sd_bus_message_is_method_error(reply, NULL) || sd_bus_message_read(reply, "b", &has) < 0)
                return 0;
        if (!has) {
                log_debug("Web session on %s ended before it began.", d->sender);
                g_hash_table_remove(d->registry->by_sender, d->sender);
        }
        return 0;
}

int delegation_add(DelegationRegistry *reg, const char *sender, const char *account, WebRole role) {
        Delegation *d;
        int r;

        assert(reg);
        assert(sender);
        assert(account);

        if (g_hash_table_contains(reg->by_sender, sender))
                return -EEXIST;
        if (g_hash_table_size(reg->by_sender) >= DELEGATIONS_MAX)
                return -EBUSY;

        d = g_new0(Delegation, 1);
        d->registry = reg;
        d->sender = g_strdup(sender);
        d->account = g_strdup(account);
        d->principal = g_strconcat(WEB_PRINCIPAL_PREFIX, account, NULL);
        d->role = role;
        g_hash_table_insert(reg->by_sender, d->sender, d);

        if (reg->bus) {
                r = sd_bus_call_method_async(reg->bus, &d->check, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                             "org.freedesktop.DBus", "NameHasOwner", on_name_has_owner, d, "s", sender);
                if (r < 0)
                        log_warning_errno(r, "Cannot check that %s is still connected: %s", sender, STRERROR(r));
        }
        return 0;
}

const Delegation *delegation_find(const DelegationRegistry *reg, const char *sender) {
        if (!reg || !sender)
                return NULL;
        return g_hash_table_lookup(reg->by_sender, sender);
}

static gint compare_strings(gconstpointer a, gconstpointer b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

unsigned delegation_revoke_account(DelegationRegistry *reg, const char *account, const char *except,
                                   char ***ret_senders) {
        g_autoptr(GPtrArray) senders = g_ptr_array_new_with_free_func(g_free);
        GHashTableIter it;
        gpointer value;
        unsigned n;

        assert(reg);
        assert(account);

        g_hash_table_iter_init(&it, reg->by_sender);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                Delegation *d = value;

                if (d->revoked || strcmp(d->account, account) != 0)
                        continue;
                if (except && strcmp(d->sender, except) == 0)
                        continue;
                d->revoked = true;
                g_ptr_array_add(senders, g_strdup(d->sender));
        }
        n = senders->len;
        if (ret_senders) {
                g_ptr_array_sort(senders, compare_strings);
                g_ptr_array_add(senders, NULL);
                *ret_senders = (char **) g_ptr_array_free(g_steal_pointer(&senders), FALSE);
        }
        return n;
}

unsigned delegation_count(const DelegationRegistry *reg) {
        return g_hash_table_size(reg->by_sender);
}

int delegation_verify(const Delegation *d, const char *action, sd_bus_error *ret_error) {
        assert(d);
        assert(action);

        if (d->revoked)
                return sd_bus_error_set(ret_error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "The web session of this connection was revoked: its account was deleted or "
                                        "its password changed.");
        if (strcmp(action, L4M_ACTION_DELEGATE) == 0)
                return sd_bus_error_setf(ret_error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Web account %s is not authorised for %s.", d->account, action);
        if (d->role != WEB_ROLE_ADMIN && strcmp(action, L4M_ACTION_ADMIN) == 0)
                return sd_bus_error_setf(ret_error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Web account %s (role user) is not authorised for %s.", d->account, action);
        return 1;
}
