/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#include <assert.h>

#include "authorize.h"
#include "bus-util.h"
#include "caller.h"
#include "l4m-bus-names.h"

static bool has_owners(const AuthorizeRequest *req) {
        for (size_t k = 0; k < AUTHORIZE_OWNERS_MAX; k++)
                if (req->owners[k])
                        return true;
        return false;
}

int authorize_call(Manager *m, sd_bus_message *msg, const AuthorizeRequest *req, Actor *ret_actor,
                   sd_bus_error *error) {
        g_auto(Actor) actor = { NULL };
        const Actor *who = NULL;
        const char *foreign = NULL;
        int r;

        assert(m);
        assert(msg);
        assert(req && req->action && req->verb && req->kind && req->name);

        /* Who asks matters before polkit only when something is owned. */
        if (has_owners(req)) {
                if (req->actor)
                        who = req->actor;
                else {
                        r = caller_actor(m, msg, &actor);
                        if (r < 0)
                                return bus_error_internal(error, r, "Identifying the caller");
                        who = &actor;
                }
                for (size_t k = 0; k < AUTHORIZE_OWNERS_MAX && !foreign; k++)
                        if (req->owners[k] && !actor_owns(who, req->owners[k]))
                                foreign = req->owners[k];
        }

        const char *details[] = {
                "verb", req->verb,
                "kind", req->kind,
                "name", req->name,
                foreign ? "owner" : NULL, foreign,
                NULL,
        };
        r = polkit_verify_details(m->polkit, msg, foreign || req->admin ? L4M_ACTION_ADMIN : req->action, details,
                                  error);
        if (r <= 0 || !ret_actor)
                return r;
        if (req->actor)
                actor = (Actor) { .principal = g_strdup(req->actor->principal), .scope = req->actor->scope,
                                  .delegated = req->actor->delegated };
        else if (!actor.principal) {
                r = caller_actor(m, msg, &actor);
                if (r < 0)
                        return bus_error_internal(error, r, "Identifying the caller");
        }
        *ret_actor = actor;
        actor = (Actor) { NULL };
        return 1;
}
