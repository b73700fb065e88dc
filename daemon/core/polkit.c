/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "polkit.h"

#define POLKIT_CHECK_ALLOW_USER_INTERACTION 1u
/* A finished check whose message was never dispatched again (its object
 * vanished meanwhile) is dropped after this long. */
#define POLKIT_DONE_TTL_USEC (60 * G_USEC_PER_SEC)

typedef struct PolkitQuery {
        PolkitRegistry *registry;
        sd_bus_message *request;
        sd_bus_slot *slot;
        char *action;
        bool interactive;               /* the caller allowed interactive authorisation */
        bool done;
        int result;                     /* 1 authorised, < 0 refused */
        sd_bus_error error;
        int64_t done_usec;
} PolkitQuery;

struct PolkitRegistry {
        GHashTable *queries;            /* sd_bus_message* → PolkitQuery* (owned) */
        const DelegationRegistry *delegations;
};

static void polkit_query_free(PolkitQuery *q) {
        if (!q)
                return;
        sd_bus_slot_unref(q->slot);
        sd_bus_message_unref(q->request);
        sd_bus_error_free(&q->error);
        g_free(q->action);
        g_free(q);
}

PolkitRegistry *polkit_registry_new(void) {
        PolkitRegistry *reg = g_new0(PolkitRegistry, 1);

        reg->queries = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                             (GDestroyNotify) polkit_query_free);
        return reg;
}

void polkit_registry_set_delegations(PolkitRegistry *reg, const DelegationRegistry *delegations) {
        reg->delegations = delegations;
}

void polkit_registry_free(PolkitRegistry *reg) {
        if (!reg)
                return;
        g_hash_table_destroy(reg->queries);
        g_free(reg);
}

static gboolean query_is_stale(gpointer key, gpointer value, gpointer user_data) {
        const PolkitQuery *q = value;
        int64_t now = *(const int64_t *) user_data;

        return q->done && now - q->done_usec > POLKIT_DONE_TTL_USEC;
}

static void registry_expire(PolkitRegistry *reg) {
        int64_t now = g_get_monotonic_time();
        g_hash_table_foreach_remove(reg->queries, query_is_stale, &now);
}

static int polkit_reply_cb(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PolkitQuery *q = userdata;
        int authorized = 0, challenge = 0, r;

        assert(q);
        q->slot = sd_bus_slot_unref(q->slot);
        q->done = true;
        q->done_usec = g_get_monotonic_time();

        if (sd_bus_message_is_method_error(reply, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(reply);

                log_warning("polkit check of %s failed: %s: %s", q->action, e->name, e->message);
                sd_bus_error_setf(&q->error, SD_BUS_ERROR_ACCESS_DENIED,
                                  "Authorisation for %s could not be checked: %s", q->action, e->name);
                q->result = -EACCES;
        } else {
                r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
                if (r >= 0)
                        r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
                if (r < 0) {
                        log_warning_errno(r, "Cannot parse polkit reply for %s: %s", q->action, STRERROR(r));
                        sd_bus_error_setf(&q->error, SD_BUS_ERROR_ACCESS_DENIED,
                                          "Authorisation for %s could not be checked.", q->action);
                        q->result = -EACCES;
                } else if (authorized) {
                        q->result = 1;
                } else if (challenge && !q->interactive) {
                        /* Retrying with the flag set could succeed. */
                        sd_bus_error_setf(&q->error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                                          "Interactive authentication required for %s.", q->action);
                        q->result = -EACCES;
                } else {
                        /* Refused, or interaction was allowed but could not
                         * happen (no authentication agent). */
                        sd_bus_error_setf(&q->error, SD_BUS_ERROR_ACCESS_DENIED,
                                          "Not authorised for %s%s.", q->action,
                                          challenge ? " (no authentication agent answered)" : "");
                        q->result = -EACCES;
                }
        }

        /* Dispatch the original call again; its handler now finds the answer. */
        r = sd_bus_message_rewind(q->request, true);
        if (r >= 0)
                r = sd_bus_enqueue_for_read(sd_bus_message_get_bus(q->request), q->request);
        if (r < 0) {
                log_error_errno(r, "Cannot re-dispatch call after polkit check: %s", STRERROR(r));
                (void) sd_bus_reply_method_errno(q->request, r, NULL);
                g_hash_table_remove(q->registry->queries, q->request);
        }
        return 1;
}

static unsigned count_queries_of(PolkitRegistry *reg, const char *sender) {
        GHashTableIter it;
        gpointer value;
        unsigned n = 0;

        g_hash_table_iter_init(&it, reg->queries);
        while (g_hash_table_iter_next(&it, NULL, &value))
                if (g_strcmp0(sd_bus_message_get_sender(((PolkitQuery *) value)->request), sender) == 0)
                        n++;
        return n;
}

/* details: NULL, or key, value, key, value, ..., NULL. */
static int append_details(sd_bus_message *pk, const char *const *details) {
        int r;

        r = sd_bus_message_open_container(pk, 'a', "{ss}");
        for (size_t k = 0; r >= 0 && details && details[k] && details[k + 1]; k += 2)
                r = sd_bus_message_append(pk, "{ss}", details[k], details[k + 1]);
        if (r >= 0)
                r = sd_bus_message_close_container(pk);
        return r;
}

static int polkit_query_start(PolkitRegistry *reg, sd_bus_message *call, const char *action,
                              const char *const *details, sd_bus_error *ret_error) {
        g_autoptr(sd_bus_message) pk = NULL;
        sd_bus *bus = sd_bus_message_get_bus(call);
        const char *sender = sd_bus_message_get_sender(call);
        uint32_t flags = 0;
        PolkitQuery *q;
        int r;

        if (!sender)
                return sd_bus_error_set(ret_error, SD_BUS_ERROR_ACCESS_DENIED, "Caller has no bus name.");

        registry_expire(reg);
        if (g_hash_table_size(reg->queries) >= POLKIT_MAX_PENDING ||
            count_queries_of(reg, sender) >= POLKIT_MAX_PENDING_PER_SENDER)
                return sd_bus_error_set(ret_error, L4M_ERROR_BUSY, "Too many authorisation checks in flight; try again.");

        bool interactive = sd_bus_message_get_allow_interactive_authorization(call) > 0;
        if (interactive)
                flags |= POLKIT_CHECK_ALLOW_USER_INTERACTION;

        r = sd_bus_message_new_method_call(bus, &pk,
                                           "org.freedesktop.PolicyKit1",
                                           "/org/freedesktop/PolicyKit1/Authority",
                                           "org.freedesktop.PolicyKit1.Authority",
                                           "CheckAuthorization");
        if (r >= 0)
                r = sd_bus_message_append(pk, "(sa{sv})s", "system-bus-name", 1, "name", "s", sender, action);
        if (r >= 0)
                r = append_details(pk, details);
        if (r >= 0)
                r = sd_bus_message_append(pk, "us", flags, "");
        if (r < 0)
                return r;

        q = g_new0(PolkitQuery, 1);
        q->registry = reg;
        q->request = sd_bus_message_ref(call);
        q->action = g_strdup(action);
        q->interactive = interactive;
        q->error = SD_BUS_ERROR_NULL;

        r = sd_bus_call_async(bus, &q->slot, pk, polkit_reply_cb, q, 0);
        if (r < 0) {
                polkit_query_free(q);
                return log_error_errno(r, "Cannot ask polkit about %s: %s", action, STRERROR(r));
        }

        g_hash_table_insert(reg->queries, call, q);
        return 0;
}

/* A new check: a connection acting for a web account gets its role's
 * answer at once (a check begun before it logged in runs on); any other
 * caller is polkitd's to judge. */
static int check_start(PolkitRegistry *reg, sd_bus_message *call, const char *action, const char *const *details,
                       sd_bus_error *ret_error) {
        const Delegation *d = delegation_find(reg->delegations, sd_bus_message_get_sender(call));

        if (d)
                return delegation_verify(d, action, ret_error);
        return polkit_query_start(reg, call, action, details, ret_error);
}

int polkit_verify(PolkitRegistry *reg, sd_bus_message *call, const char *action, sd_bus_error *ret_error) {
        return polkit_verify_details(reg, call, action, NULL, ret_error);
}

int polkit_verify_details(PolkitRegistry *reg, sd_bus_message *call, const char *action, const char *const *details,
                          sd_bus_error *ret_error) {
        PolkitQuery *q;
        int r;

        assert(reg);
        assert(call);
        assert(action);

        q = g_hash_table_lookup(reg->queries, call);
        if (!q)
                return check_start(reg, call, action, details, ret_error);

        if (!q->done)
                return 0;

        /* The handler ran again and now needs another action (what it
         * acts on changed hands meanwhile): that answer does not apply. */
        if (strcmp(q->action, action) != 0) {
                g_hash_table_remove(reg->queries, call);
                return check_start(reg, call, action, details, ret_error);
        }

        r = q->result;
        if (r < 0)
                sd_bus_error_copy(ret_error, &q->error);
        g_hash_table_remove(reg->queries, call);
        return r;
}
