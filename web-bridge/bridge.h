/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "l4m-web-config.h"

/* The bridge process: one SoupServer on the GLib main loop, one sd-event
 * loop attached to it as a GSource, one bus connection of its own (the
 * bridge's uid, never logged in: for signals and shared log feeds) and one
 * bus connection per logged-in session (for every call made on a web
 * account's behalf, so that the daemon applies that account's rights). */

typedef struct Bridge Bridge;
typedef struct Session Session;
typedef struct EventStreams EventStreams;


struct Session {
        Bridge *bridge;
        unsigned n_ref;
        char *token;       /* the cookie value (256 random bits, hex) */
        char *csrf;        /* the CSRF token handed out at login */
        char *user;        /* the web account's name */
        char *role;        /* "user" or "admin" */
        sd_bus *bus;       /* logged in as user; NULL once the session is closed */
        char *daemon;      /* the unique bus name of the left4med that logged it in: every call
                            * goes there, so none reaches a restarted daemon (which does not know
                            * the login and would take the connection for the bridge's own uid) */
        uint64_t last_used_usec;  /* CLOCK_MONOTONIC (g_get_monotonic_time()) */
        uint64_t created_usec;    /* CLOCK_MONOTONIC, at login */
        bool closed;
        GHashTable *calls; /* ApiCall* set: bus calls in flight (api-call.c), failed at close */
        unsigned calls_in_flight;  /* bus calls sent, not yet answered (api-call.c) */
        GQueue *call_queue;        /* Pending*: bus calls waiting for room, in order (api-call.c) */
        bool pumping_calls;
        unsigned uploads;          /* archive uploads in progress (archive-upload.c) */
        unsigned downloads;        /* downloads in progress (download.c) */
};

struct Bridge {
        L4mWebConfig config;       /* [Web] of the configuration */
        SoupServer *server;
        sd_event *event;
        sd_bus *bus;               /* the bridge's own connection */
        GHashTable *sessions;      /* token → Session* */
        EventStreams *streams;     /* web-bridge/event-streams.c */
        bool tls;                  /* serving over TLS: cookies get Secure */
        GHashTable *login_buckets; /* client address → LoginBucket* (web-sessions.c) */
        unsigned uploads;          /* archive uploads in progress, of all sessions */
        unsigned downloads;        /* downloads in progress, of all sessions */
        unsigned waiting_connections;  /* connections whose next request's headers are not in */
        unsigned pending_logins;   /* logins waiting for the daemon (at most BRIDGE_LOGINS_IN_FLIGHT_MAX) */
        unsigned password_checks;  /* current passwords being checked, each on a connection of its own */
        guint expiry_timer;        /* closes idle sessions */
};

Session *session_ref(Session *s);
void session_unref(Session *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Session, session_unref)

/* Checks the Host header and the session cookie of a request. For a
 * request that may change state (any method but GET and HEAD) it also
 * checks the CSRF token and Origin/Sec-Fetch-Site. Returns the session
 * (a new reference) or NULL, having answered the request itself
 * (401/403/429). */
Session *bridge_request_session(Bridge *b, SoupServerMessage *msg);

/* Watches, on the bridge's own connection, for the daemon's name changing
 * hands and for SessionsRevoked: the sessions concerned are closed. */
int bridge_watch_daemon(Bridge *b);

/* Closes connections that do not send a request's headers within [Web]
 * RequestTimeoutSec= (idle keep-alive ones included), and new ones beyond
 * [Web] MaxConnections= such connections. */
void bridge_guard_connections(Bridge *b);

/* Answers with {"error": name, "message": message}. */
void bridge_reply_error(SoupServerMessage *msg, guint status, const char *name, const char *message);
/* Answers with a bus error, mapping its name to an HTTP status (API.md). */
void bridge_reply_bus_error(SoupServerMessage *msg, const sd_bus_error *error);
/* Answers 200 (or status) with the node serialised as JSON. */
void bridge_reply_json(SoupServerMessage *msg, guint status, JsonNode *node);

/* Event streams (web-bridge/event-streams.c). */
int event_streams_new(Bridge *b, EventStreams **ret);
void event_streams_free(EventStreams *s);
/* Registers the SSE routes of API.md on b->server: GET /api/events. */
void event_streams_add_routes(EventStreams *s);
/* The stream routes below other handlers' prefixes (GET
 * /api/instances/NAME/log, GET /api/jobs/ID/log): the core's handler for
 * /api/instances and /api/jobs calls this first with the request's path;
 * true when it was such a route and is answered (or being answered). */
bool event_streams_dispatch(EventStreams *s, SoupServerMessage *msg, const char *path);
/* Called when a session is closed (logout, expiry): its streams end. */
void event_streams_session_closed(EventStreams *s, Session *session);
