/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#pragma once

#include <systemd/sd-bus.h>

#include "actor.h"
#include "manager.h"

/* The one rule of ownership, for every method that acts on entities:
 * when the caller owns everything the call touches (the object, and for
 * an instance the blueprint it uses), it needs the owner's action
 * (org.left4me.overlay.manage, ...); when anything is another principal's,
 * org.left4me.admin. polkitd gets the details "verb", "kind" and "name"
 * (and "owner" for someone else's), so the authentication prompt says what
 * is being done ("delete overlay maps") and rules can look at it
 * (action.lookup("kind")). */

#define AUTHORIZE_OWNERS_MAX 4

typedef struct AuthorizeRequest {
        const char *action;     /* the owner's action */
        const char *verb;       /* "delete", "start", ... */
        const char *kind;       /* "overlay", "blueprint", "instance", "job", "game" */
        const char *name;       /* the object's name ("maps", a job's id) */
        /* The owners of what the call touches; NULL entries (an object not
         * made yet) are skipped. */
        const char *owners[AUTHORIZE_OWNERS_MAX];
        /* The caller, if the handler identified it already; else NULL. */
        const Actor *actor;
        /* The call does what only an admin may, whoever owns the object
         * (an instance limit above its ceiling): org.left4me.admin. */
        bool admin;
} AuthorizeRequest;

/* As polkit_verify(): > 0 authorised, 0 check in flight (return 1 without
 * replying), < 0 refused with error set. When authorised and ret_actor is
 * not NULL, it gets the Actor the call acts for (actor_done() it), for the
 * engine call that follows. */
int authorize_call(Manager *m, sd_bus_message *msg, const AuthorizeRequest *req, Actor *ret_actor,
                   sd_bus_error *error);

/* In a method handler: return unless r (an authorisation's answer) says
 * go on, answering nothing while the check is in flight. */
#define RETURN_UNLESS_AUTHORIZED(r)                                     \
        do {                                                            \
                int _r = (r);                                           \
                if (_r <= 0)                                            \
                        return _r < 0 ? _r : 1;                         \
        } while (false)
