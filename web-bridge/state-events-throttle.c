/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>

#include "state-events-throttle.h"

typedef struct ThrottleEntry {
        uint64_t last_sent;
        bool deferred;
} ThrottleEntry;

struct Throttle {
        uint64_t interval;
        GHashTable *entries;    /* key → ThrottleEntry */
};

Throttle *throttle_new(uint64_t interval_usec) {
        Throttle *t = g_new0(Throttle, 1);

        t->interval = interval_usec;
        t->entries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        return t;
}

void throttle_free(Throttle *t) {
        if (!t)
                return;
        g_hash_table_unref(t->entries);
        g_free(t);
}

bool throttle_offer(Throttle *t, const char *key, uint64_t now, bool force) {
        ThrottleEntry *e;

        assert(t);
        assert(key);

        e = g_hash_table_lookup(t->entries, key);
        if (!e) {
                e = g_new0(ThrottleEntry, 1);
                g_hash_table_insert(t->entries, g_strdup(key), e);
        } else if (!force && (e->deferred || now < e->last_sent + t->interval)) {
                e->deferred = true;
                return false;
        }
        e->last_sent = now;
        e->deferred = false;
        return true;
}

uint64_t throttle_next_due(Throttle *t) {
        uint64_t due = UINT64_MAX;
        GHashTableIter iter;
        ThrottleEntry *e;

        g_hash_table_iter_init(&iter, t->entries);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *) &e))
                if (e->deferred && e->last_sent + t->interval < due)
                        due = e->last_sent + t->interval;
        return due;
}

char **throttle_take_due(Throttle *t, uint64_t now) {
        g_autoptr(GPtrArray) keys = g_ptr_array_new();
        GHashTableIter iter;
        ThrottleEntry *e;
        char *key;

        g_hash_table_iter_init(&iter, t->entries);
        while (g_hash_table_iter_next(&iter, (gpointer *) &key, (gpointer *) &e)) {
                if (e->deferred && now >= e->last_sent + t->interval) {
                        g_ptr_array_add(keys, g_strdup(key));
                        e->deferred = false;
                        e->last_sent = now;
                } else if (!e->deferred && now >= e->last_sent + t->interval)
                        g_hash_table_iter_remove(&iter);
        }
        g_ptr_array_add(keys, NULL);
        return (char **) g_ptr_array_free(g_steal_pointer(&keys), false);
}

void throttle_forget(Throttle *t, const char *key) {
        g_hash_table_remove(t->entries, key);
}
