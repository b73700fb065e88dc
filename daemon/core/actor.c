/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#include <assert.h>
#include <string.h>

#include "actor.h"

void actor_done(Actor *a) {
        g_clear_pointer(&a->principal, g_free);
}

void actor_init_local(Actor *a, const char *principal) {
        assert(a);
        assert(principal);
        *a = (Actor) { .principal = g_strdup(principal), .scope = ACTOR_SEES_ALL };
}

bool actor_owns(const Actor *a, const char *owner) {
        assert(a);
        return owner && strcmp(a->principal, owner) == 0;
}

bool actor_sees(const Actor *a, const char *owner) {
        assert(a);
        switch (a->scope) {
        case ACTOR_SEES_ALL:
                return true;
        case ACTOR_SEES_OWN:
                return actor_owns(a, owner);
        default:
                return false;
        }
}

static bool actor_sees_name(const Actor *a, GHashTable *by_name, const char *name, size_t owner_offset) {
        const char *value;

        if (!a->delegated)
                return true;
        value = g_hash_table_lookup(by_name, name);
        return value && actor_sees(a, *(const char *const *) (value + owner_offset));
}

char *actor_names_join(const Actor *a, GPtrArray *names, GHashTable *by_name, size_t owner_offset) {
        GString *s = g_string_new(NULL);
        unsigned shown = 0, hidden = 0;

        assert(a);
        assert(names);
        assert(by_name);

        for (guint k = 0; k < names->len; k++) {
                const char *name = names->pdata[k];

                if (!actor_sees_name(a, by_name, name, owner_offset)) {
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
