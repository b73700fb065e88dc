/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#include <assert.h>

#include "authorize.h"
#include "bus-util.h"
#include "caller.h"
#include "l4m-bus-names.h"

int authorize_call(Manager *m, sd_bus_message *msg, const AuthorizeRequest *req, Actor *ret_actor,
                   sd_bus_error *error) {
        g_auto(Actor) actor = { NULL };
        const char *foreign = NULL;
        int r;

        assert(m);
        assert(msg);
        assert(req && req->action && req->verb && req->kind && req->name);

        r = caller_actor(m, msg, &actor);
        if (r < 0)
                return bus_error_internal(error, r, "Identifying the caller");
        for (size_t k = 0; k < AUTHORIZE_OWNERS_MAX && !foreign; k++)
                if (req->owners[k] && !actor_owns(&actor, req->owners[k]))
                        foreign = req->owners[k];

        const char *details[] = {
                "verb", req->verb,
                "kind", req->kind,
                "name", req->name,
                foreign ? "owner" : NULL, foreign,
                NULL,
        };
        r = polkit_verify_details(m->polkit, msg, foreign ? L4M_ACTION_ADMIN : req->action, details, error);
        if (r > 0 && ret_actor)
                *ret_actor = (Actor) { .principal = g_steal_pointer(&actor.principal), .scope = actor.scope,
                                       .delegated = actor.delegated };
        return r;
}
