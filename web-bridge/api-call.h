/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "bridge.h"

/* One API request waiting for the daemon: the message is paused, bus calls
 * on the session's connection are in flight, and when the last answer is
 * in (or one fails) the request is answered and unpaused. If the client
 * went away meanwhile nothing is written; if the session is closed, the
 * calls are cancelled and the request answered 401. */
typedef struct ApiCall ApiCall;

typedef void (*ApiCallReply)(ApiCall *c, sd_bus_message *reply, unsigned index);

struct ApiCall {
        Bridge *bridge;
        Session *session;          /* a reference */
        SoupServerMessage *msg;    /* a reference */
        gulong finished_id;
        bool client_gone;
        bool answered;
        GPtrArray *slots;          /* sd_bus_slot* of calls in flight */
        unsigned pending;          /* calls sent or waiting, not yet answered */
        unsigned queued;           /* of those, waiting in the session's queue */

        /* What the route keeps between steps. */
        const void *route;
        char *name;                /* the NAME of the path */
        char *path;                /* the entity's object path */
        JsonNode *body;            /* the request's JSON, or NULL */
        GPtrArray *items;          /* JsonNode*: results of parallel calls */
        GPtrArray *queue;          /* sd_bus_message*: calls still to make, one after another */
        int fd;                    /* an upload's temporary file, or -1 */
        bool tolerate_errors;      /* "no such object" answers go to the reply function as NULL */
        /* If set, an error answer goes here first; true: it took care of
         * it (answered, or sent another call), else it is answered as
         * usual. */
        bool (*error_handler)(ApiCall *c, const sd_bus_error *e);
        void (*lookup_done)(ApiCall *c);
        sd_bus *check_bus;         /* a connection of its own that checks a password (Login) */
        sd_bus_slot *check_slot;
};

/* Pauses msg and registers the call with the session. */
ApiCall *api_call_new(Session *session, SoupServerMessage *msg);

/* Sends m (on the session's bus) and calls reply(c, answer, index) for a
 * successful answer; an error answer answers the request with the mapped
 * error. With too many calls of the session in flight, m waits its turn.
 * Returns 0 or a negative errno (then answer yourself, e.g. with
 * api_call_reply_send_error(); -EBUSY: too many calls wait already). */
int api_call_send(ApiCall *c, sd_bus_message *m, ApiCallReply reply, unsigned index);

/* A new method call on the session's bus (to the daemon). */
int api_call_new_method(ApiCall *c, const char *path, const char *iface, const char *member, sd_bus_message **ret);

/* Answers (once) and frees c with everything it holds. node may be NULL
 * for an empty answer. */
void api_call_reply_json(ApiCall *c, guint status, JsonNode *node);
void api_call_reply_error(ApiCall *c, guint status, const char *name, const char *message);
void api_call_reply_bus_error(ApiCall *c, const sd_bus_error *e);
/* Answers the failure r of api_call_send() or of building a call: 503
 * org.left4me.Web.Busy for -EBUSY, else 502. */
void api_call_reply_send_error(ApiCall *c, int r);

/* Closes the connection that checks a current password, if any (the check
 * ends unanswered), and frees its place. */
void api_call_end_password_check(ApiCall *c);

/* Fails every call in flight of a session being closed. */
void api_calls_fail_session(Session *s);
