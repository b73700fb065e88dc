/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/accounts/: web accounts: password hashes, the login slow-down, calls the web bridge makes for them. */
#include <assert.h>
#include <limits.h>
#include <stdbool.h>

#include "login-throttle.h"

typedef struct ThrottleEntry {
        unsigned failures;
        uint64_t last_usec;             /* of the last failure */
} ThrottleEntry;

struct LoginThrottle {
        LoginThrottleParams params;
        GHashTable *entries;            /* key (owned) → ThrottleEntry* (owned) */
};

uint64_t login_throttle_delay_for(const LoginThrottleParams *p, unsigned failures) {
        uint64_t d;

        assert(p);
        if (failures < p->free_failures)
                return 0;
        d = p->base_usec;
        for (unsigned k = p->free_failures; k < failures && d < p->max_usec; k++)
                d *= 2;
        return d < p->max_usec ? d : p->max_usec;
}

LoginThrottle *login_throttle_new(const LoginThrottleParams *p) {
        LoginThrottle *t = g_new0(LoginThrottle, 1);

        assert(p);
        assert(p->keys_max > 0);
        t->params = *p;
        t->entries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        return t;
}

void login_throttle_free(LoginThrottle *t) {
        if (!t)
                return;
        g_hash_table_destroy(t->entries);
        g_free(t);
}

static bool entry_expired(const LoginThrottle *t, const ThrottleEntry *e, uint64_t now) {
        return now >= e->last_usec && now - e->last_usec >= t->params.window_usec;
}

/* The entry of key, NULL if there is none or it expired (then it is gone). */
static ThrottleEntry *lookup(LoginThrottle *t, const char *key, uint64_t now) {
        ThrottleEntry *e = g_hash_table_lookup(t->entries, key);

        if (e && entry_expired(t, e, now)) {
                g_hash_table_remove(t->entries, key);
                return NULL;
        }
        return e;
}

static gboolean remove_expired(gpointer key, gpointer value, gpointer userdata) {
        const LoginThrottle *t = ((void **) userdata)[0];
        uint64_t now = *(const uint64_t *) ((void **) userdata)[1];

        return entry_expired(t, value, now);
}

/* Makes room for one more key. */
static void make_room(LoginThrottle *t, uint64_t now) {
        GHashTableIter it;
        gpointer key, value, oldest_key = NULL;
        uint64_t oldest = UINT64_MAX;

        if (g_hash_table_size(t->entries) < t->params.keys_max)
                return;
        g_hash_table_foreach_remove(t->entries, remove_expired, (void *[]) { t, &now });
        if (g_hash_table_size(t->entries) < t->params.keys_max)
                return;

        g_hash_table_iter_init(&it, t->entries);
        while (g_hash_table_iter_next(&it, &key, &value))
                if (((ThrottleEntry *) value)->last_usec < oldest) {
                        oldest = ((ThrottleEntry *) value)->last_usec;
                        oldest_key = key;
                }
        if (oldest_key)
                g_hash_table_remove(t->entries, oldest_key);
}

uint64_t login_throttle_delay(LoginThrottle *t, const char *key, uint64_t now) {
        return login_throttle_delay_for(&t->params, login_throttle_failures(t, key, now));
}

unsigned login_throttle_failures(LoginThrottle *t, const char *key, uint64_t now) {
        ThrottleEntry *e;

        assert(t);
        assert(key);
        e = lookup(t, key, now);
        return e ? e->failures : 0;
}

void login_throttle_failure(LoginThrottle *t, const char *key, uint64_t now) {
        ThrottleEntry *e;

        assert(t);
        assert(key);
        e = lookup(t, key, now);
        if (!e) {
                make_room(t, now);
                e = g_new0(ThrottleEntry, 1);
                g_hash_table_insert(t->entries, g_strdup(key), e);
        }
        if (e->failures < UINT_MAX)
                e->failures++;
        e->last_usec = now;
}

void login_throttle_success(LoginThrottle *t, const char *key) {
        assert(t);
        assert(key);
        g_hash_table_remove(t->entries, key);
}

unsigned login_throttle_size(LoginThrottle *t) {
        return g_hash_table_size(t->entries);
}
