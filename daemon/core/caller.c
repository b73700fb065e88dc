/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#include <assert.h>
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "bus-util.h"
#include "caller.h"
#include "l4m-bus-names.h"
#include "l4m-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "manager.h"

#define PASSWD_BUF_MAX (1024 * 1024)

static int user_name_of_uid(uid_t uid, char **ret) {
        size_t size = 1024;

        for (;;) {
                g_autofree char *buf = g_malloc(size);
                struct passwd pw, *result = NULL;
                int r = getpwuid_r(uid, &pw, buf, size, &result);

                if (r == 0) {
                        *ret = result ? g_strdup(pw.pw_name) : g_strdup_printf("uid:%u", (unsigned) uid);
                        return 0;
                }
                if (r != ERANGE || size >= PASSWD_BUF_MAX)
                        return -r;
                size *= 2;
        }
}

const Delegation *caller_delegation(Manager *m, sd_bus_message *msg) {
        assert(m);
        assert(msg);
        return delegation_find(m->delegations, sd_bus_message_get_sender(msg));
}

static ActorScope scope_of(const Delegation *d) {
        if (!d || d->role == WEB_ROLE_ADMIN)
                return d && d->revoked ? ACTOR_SEES_NOTHING : ACTOR_SEES_ALL;
        return d->revoked ? ACTOR_SEES_NOTHING : ACTOR_SEES_OWN;
}

bool caller_sees(Manager *m, sd_bus_message *msg, const char *owner) {
        const Delegation *d = caller_delegation(m, msg);
        Actor a = { .principal = d ? d->principal : NULL, .scope = scope_of(d), .delegated = d };

        return actor_sees(&a, owner);
}

bool caller_sees_object(Manager *m, sd_bus *bus, const char *path, const char *owner) {
        sd_bus_message *msg = sd_bus_get_current_message(bus);
        const char *member;

        if (!msg || sd_bus_message_is_method_call(msg, NULL, NULL) <= 0)
                return true;
        /* Only for what the call itself asks about: the object it is
         * addressed to, or the ones ObjectManager lists. A change the call
         * causes elsewhere is announced to everyone as before. */
        member = sd_bus_message_get_member(msg);
        if (path && g_strcmp0(sd_bus_message_get_path(msg), path) != 0 &&
            g_strcmp0(member, "GetManagedObjects") != 0)
                return true;
        return caller_sees(m, msg, owner);
}

int caller_enumerate_objects(Manager *m, sd_bus *bus, GHashTable *table, size_t path_offset, size_t owner_offset,
                             char ***ret_nodes) {
        GHashTableIter it;
        gpointer value;
        char **nodes;
        size_t n = 0;

        nodes = calloc(g_hash_table_size(table) + 1, sizeof(char *));
        if (!nodes)
                return -ENOMEM;
        g_hash_table_iter_init(&it, table);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                if (!caller_sees_object(m, bus, NULL, *(char **) ((char *) value + owner_offset)))
                        continue;
                nodes[n] = strdup(*(char **) ((char *) value + path_offset));
                if (!nodes[n]) {
                        while (n > 0)
                                free(nodes[--n]);
                        free(nodes);
                        return -ENOMEM;
                }
                n++;
        }
        *ret_nodes = nodes;      /* sd-bus frees it with free() */
        return 1;
}


/* On a connection that logged in as a web account: "web:<account>"
 * (delegation.h). For a direct caller: the user name of the connection's
 * uid as recorded by the bus (never read from /proc, which a caller could
 * race), or "uid:<N>" for a uid without a passwd entry. */
static int caller_principal(Manager *m, sd_bus_message *msg, char **ret) {
        g_autoptr(sd_bus_creds) creds = NULL;
        const Delegation *d;
        uid_t uid;
        int r;

        assert(m);
        assert(msg);
        assert(ret);

        d = caller_delegation(m, msg);
        if (d) {
                *ret = g_strdup(d->principal);
                return 0;
        }

        r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID, &creds);
        if (r < 0)
                return log_error_errno(r, "Cannot get credentials of %s: %s", sd_bus_message_get_sender(msg), STRERROR(r));
        r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                return log_error_errno(r, "Bus gave no uid for %s: %s", sd_bus_message_get_sender(msg), STRERROR(r));

        return user_name_of_uid(uid, ret);
}

int caller_actor(Manager *m, sd_bus_message *msg, Actor *ret) {
        const Delegation *d = caller_delegation(m, msg);
        g_autofree char *principal = NULL;
        int r;

        r = caller_principal(m, msg, &principal);
        if (r < 0)
                return r;
        *ret = (Actor) { .principal = g_steal_pointer(&principal), .scope = scope_of(d), .delegated = d };
        return 0;
}

int caller_find_by_name(Manager *m, sd_bus_message *msg, GHashTable *by_name, size_t owner_offset, const char *kind,
                        const char *name, void **ret, sd_bus_error *error) {
        void *found = g_hash_table_lookup(by_name, name);

        if (!found || !caller_sees(m, msg, *(char **) ((char *) found + owner_offset)))
                return sd_bus_error_setf(error, L4M_ERROR_NOT_FOUND, "No %s \"%s\".", kind, name);
        *ret = found;
        return 0;
}

int caller_reply_path_by_name(sd_bus_message *msg, Manager *m, GHashTable *by_name, size_t path_offset,
                              size_t owner_offset, const char *kind, sd_bus_error *error) {
        const char *name;
        void *found;
        int r;

        r = bus_message_read_name(msg, kind, &name, error);
        if (r < 0)
                return r;

        r = polkit_verify(m->polkit, msg, L4M_ACTION_READ, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = caller_find_by_name(m, msg, by_name, owner_offset, kind, name, &found, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, "o", *(char **) ((char *) found + path_offset));
}
