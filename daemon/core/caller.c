/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "caller.h"
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

bool caller_sees(Manager *m, sd_bus_message *msg, const char *owner) {
        const Delegation *d = caller_delegation(m, msg);

        if (!d)
                return true;
        if (d->revoked)
                return false;
        return d->role == WEB_ROLE_ADMIN || strcmp(d->principal, owner) == 0;
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

/* The owner of the entity called name in by_name, NULL if there is none. */
static const char *owner_by_name(GHashTable *by_name, const char *name, size_t owner_offset) {
        const char *value = g_hash_table_lookup(by_name, name);

        return value ? *(const char *const *) (value + owner_offset) : NULL;
}

static bool caller_sees_name(Manager *m, sd_bus_message *msg, GHashTable *by_name, const char *name,
                             size_t owner_offset) {
        const char *owner;

        if (!caller_delegation(m, msg))
                return true;
        /* Gone meanwhile: whose it was is not known, so it is not named. */
        owner = owner_by_name(by_name, name, owner_offset);
        return owner && caller_sees(m, msg, owner);
}

char *caller_names_join(Manager *m, sd_bus_message *msg, GPtrArray *names, GHashTable *by_name, size_t owner_offset) {
        GString *s = g_string_new(NULL);
        unsigned shown = 0, hidden = 0;

        assert(m);
        assert(msg);
        assert(names);
        assert(by_name);

        for (guint k = 0; k < names->len; k++) {
                const char *name = names->pdata[k];

                if (!caller_sees_name(m, msg, by_name, name, owner_offset)) {
                        hidden++;
                        continue;
                }
                g_string_append_printf(s, "%s\"%s\"", shown > 0 ? ", " : "", name);
                shown++;
        }
        if (hidden > 0 && shown > 0)
                g_string_append_printf(s, " and %u of other users", hidden);
        else if (hidden > 0)
                g_string_append_printf(s, "of other users (%u)", hidden);
        return g_string_free(s, FALSE);
}

int caller_principal(Manager *m, sd_bus_message *msg, char **ret) {
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
