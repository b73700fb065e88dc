/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "bridge-internal.h"
#include "l4m-log.h"
#include "web-checks.h"

#define CSP "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " \
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

void bridge_add_security_headers(SoupServerMessage *msg, bool api) {
        SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);

        soup_message_headers_replace(h, "Content-Security-Policy", CSP);
        soup_message_headers_replace(h, "X-Content-Type-Options", "nosniff");
        soup_message_headers_replace(h, "Referrer-Policy", "no-referrer");
        soup_message_headers_replace(h, "X-Frame-Options", "DENY");
        if (api)
                soup_message_headers_replace(h, "Cache-Control", "no-store");
}

void bridge_reply_json(SoupServerMessage *msg, guint status, JsonNode *node) {
        g_autofree char *text = NULL;
        size_t len;

        assert(node);
        text = json_to_string(node, false);
        len = strlen(text);
        soup_server_message_set_status(msg, status, NULL);
        soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_TAKE, g_steal_pointer(&text), len);
}

void bridge_reply_error(SoupServerMessage *msg, guint status, const char *name, const char *message) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonNode) node = NULL;

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "error");
        json_builder_add_string_value(b, name);
        json_builder_set_member_name(b, "message");
        json_builder_add_string_value(b, message ? message : "");
        json_builder_end_object(b);
        node = json_builder_get_root(b);
        bridge_reply_json(msg, status, node);
        if (status == BRIDGE_STATUS_TOO_MANY_REQUESTS || status == SOUP_STATUS_SERVICE_UNAVAILABLE)
                soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After", "60");
}

static guint bus_error_status(const char *name) {
        static const struct {
                const char *name;
                guint status;
        } map[] = {
                { "org.left4me.Error.InvalidArgument", SOUP_STATUS_BAD_REQUEST },
                { "org.freedesktop.DBus.Error.InvalidArgs", SOUP_STATUS_BAD_REQUEST },
                { "org.left4me.Error.NotFound", SOUP_STATUS_NOT_FOUND },
                { "org.freedesktop.DBus.Error.UnknownObject", SOUP_STATUS_NOT_FOUND },
                { "org.left4me.Error.Exists", SOUP_STATUS_CONFLICT },
                { "org.left4me.Error.Busy", SOUP_STATUS_CONFLICT },
                { "org.freedesktop.DBus.Error.AccessDenied", SOUP_STATUS_FORBIDDEN },
                { "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired", SOUP_STATUS_FORBIDDEN },
                { "org.freedesktop.DBus.Error.LimitsExceeded", BRIDGE_STATUS_TOO_MANY_REQUESTS },
                { "org.freedesktop.DBus.Error.Timeout", SOUP_STATUS_GATEWAY_TIMEOUT },
                { "org.freedesktop.DBus.Error.TimedOut", SOUP_STATUS_GATEWAY_TIMEOUT },
                { "org.freedesktop.DBus.Error.NoReply", SOUP_STATUS_GATEWAY_TIMEOUT },
                { "org.freedesktop.DBus.Error.ServiceUnknown", SOUP_STATUS_BAD_GATEWAY },
                { "org.freedesktop.DBus.Error.NameHasNoOwner", SOUP_STATUS_BAD_GATEWAY },
                { "org.freedesktop.DBus.Error.Disconnected", SOUP_STATUS_BAD_GATEWAY },
                { "org.freedesktop.DBus.Error.NoServer", SOUP_STATUS_BAD_GATEWAY },
                { "org.freedesktop.DBus.Error.UnknownMethod", SOUP_STATUS_BAD_GATEWAY },
        };

        for (size_t i = 0; name && i < G_N_ELEMENTS(map); i++)
                if (strcmp(map[i].name, name) == 0)
                        return map[i].status;
        return SOUP_STATUS_INTERNAL_SERVER_ERROR;
}

void bridge_reply_bus_error(SoupServerMessage *msg, const sd_bus_error *error) {
        const char *name = error && error->name ? error->name : "org.left4me.Error.Failed";

        bridge_reply_error(msg, bus_error_status(name), name, error && error->message ? error->message : "");
}

bool bridge_check_host(Bridge *b, SoupServerMessage *msg) {
        const char *host = soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Host");

        if (web_host_allowed(host, b->config.allowed_hosts))
                return true;
        bridge_reply_error(msg, SOUP_STATUS_FORBIDDEN, "org.left4me.Web.Forbidden",
                           "This server does not answer to this host name.");
        return false;
}

bool bridge_check_origin(Bridge *b, SoupServerMessage *msg) {
        SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
        const char *origin = soup_message_headers_get_one(h, "Origin");

        if (origin ? web_origin_same(origin, soup_message_headers_get_one(h, "Host"), b->tls)
                   : web_fetch_site_ok(soup_message_headers_get_one(h, "Sec-Fetch-Site")))
                return true;
        bridge_reply_error(msg, SOUP_STATUS_FORBIDDEN, "org.left4me.Web.Forbidden", "Cross-site request refused.");
        return false;
}

static bool method_is_safe(SoupServerMessage *msg) {
        const char *m = soup_server_message_get_method(msg);

        return m == SOUP_METHOD_GET || m == SOUP_METHOD_HEAD;
}

Session *bridge_request_session(Bridge *b, SoupServerMessage *msg) {
        SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
        g_autofree char *token = NULL;
        Session *s;

        if (!bridge_check_host(b, msg))
                return NULL;
        token = web_cookie_get(soup_message_headers_get_one(h, "Cookie"), L4M_WEB_COOKIE);
        s = token && strlen(token) == 64 ? g_hash_table_lookup(b->sessions, token) : NULL;
        if (s && !s->closed && g_get_monotonic_time() - (int64_t) s->last_used_usec > (int64_t) b->config.session_idle_usec) {
                session_close(s, "idle");
                s = NULL;
        }
        if (!s || s->closed) {
                bridge_reply_error(msg, SOUP_STATUS_UNAUTHORIZED, "org.left4me.Web.Unauthorized", "Not logged in.");
                return NULL;
        }
        if (!method_is_safe(msg)) {
                if (!web_token_equal(soup_message_headers_get_one(h, "X-CSRF-Token"), s->csrf)) {
                        bridge_reply_error(msg, SOUP_STATUS_FORBIDDEN, "org.left4me.Web.Forbidden",
                                           "Missing or wrong X-CSRF-Token.");
                        return NULL;
                }
                if (!bridge_check_origin(b, msg))
                        return NULL;
        }
        s->last_used_usec = (uint64_t) g_get_monotonic_time();
        return session_ref(s);
}

/* Closes every open session for which pick() says so. */
static void close_sessions(Bridge *b, bool (*pick)(Session *s, void *data), void *data, const char *why) {
        g_autoptr(GPtrArray) doomed = g_ptr_array_new_with_free_func((GDestroyNotify) session_unref);
        GHashTableIter it;
        gpointer value;

        g_hash_table_iter_init(&it, b->sessions);
        while (g_hash_table_iter_next(&it, NULL, &value))
                if (pick(value, data))
                        g_ptr_array_add(doomed, session_ref(value));
        for (guint i = 0; i < doomed->len; i++)
                session_close(doomed->pdata[i], why);
}

static bool session_of_other_daemon(Session *s, void *data) {
        const char *owner = data;

        return !s->daemon || strcmp(s->daemon, owner) != 0;
}

/* org.left4me.Manager changed hands: a restarted left4med knows none of the
 * logins, so every session ends (its user logs in again). */
static int on_manager_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Bridge *b = userdata;
        const char *name, *old_owner, *new_owner;
        int r;

        if (g_strcmp0(sd_bus_message_get_sender(m), "org.freedesktop.DBus") != 0)
                return 0;
        r = sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner);
        if (r < 0 || strcmp(name, L4M_BUS_NAME) != 0)
                return 0;
        close_sessions(b, session_of_other_daemon, (void *) new_owner, "left4med restarted");
        return 0;
}

typedef struct Revoked {
        const char *sender;
        char **connections;
} Revoked;

static bool session_revoked(Session *s, void *data) {
        const Revoked *rv = data;
        const char *unique = NULL;

        if (!s->bus || !s->daemon || strcmp(s->daemon, rv->sender) != 0)
                return false;
        if (sd_bus_get_unique_name(s->bus, &unique) < 0)
                return false;
        return g_strv_contains((const char *const *) rv->connections, unique);
}

/* SessionsRevoked(s user, as connections): the daemon dropped the logins of
 * these connections (account deleted, password changed). Only the daemon
 * that logged a session in can revoke it: a signal is anyone's to send. */
static int on_sessions_revoked(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Bridge *b = userdata;
        g_auto(GStrv) connections = NULL;
        const char *user;
        Revoked rv;
        int r;

        rv.sender = sd_bus_message_get_sender(m);
        if (!rv.sender)
                return 0;
        r = sd_bus_message_read(m, "s", &user);
        if (r >= 0)
                r = sd_bus_message_read_strv(m, &connections);
        if (r < 0 || !connections) {
                log_warning("Ignoring a malformed SessionsRevoked signal: %s", r < 0 ? STRERROR(r) : "no list");
                return 0;
        }
        rv.connections = connections;
        close_sessions(b, session_revoked, &rv, "revoked by left4med");
        return 0;
}

int bridge_watch_daemon(Bridge *b) {
        int r;

        r = sd_bus_add_match_async(b->bus, NULL,
                                   "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                                   "interface='org.freedesktop.DBus',member='NameOwnerChanged',"
                                   "arg0='" L4M_BUS_NAME "'",
                                   on_manager_owner_changed, NULL, b);
        if (r >= 0)
                r = sd_bus_match_signal_async(b->bus, NULL, L4M_BUS_NAME, L4M_MANAGER_PATH, "org.left4me.Manager",
                                              "SessionsRevoked", on_sessions_revoked, NULL, b);
        return r;
}

#define WAITING_KEY "l4m-waiting"

/* A connection waiting for the headers of its next request (a new one, or
 * a kept-alive one between requests). Lives as data of that request's
 * message: gone with the headers, or with the message (connection closed). */
typedef struct Waiting {
        Bridge *bridge;
        SoupServerMessage *msg;  /* not a reference: the Waiting is the message's */
        guint timer;
} Waiting;

static void waiting_free(Waiting *w) {
        assert(w->bridge->waiting_connections > 0);
        w->bridge->waiting_connections--;
        if (w->timer)
                g_source_remove(w->timer);
        g_free(w);
}

/* Ends the connection: libsoup reads its end and closes it. */
static void connection_shut(SoupServerMessage *msg) {
        GSocket *sock = soup_server_message_get_socket(msg);

        if (sock)
                (void) g_socket_shutdown(sock, true, true, NULL);
}

static gboolean on_waiting_timeout(gpointer userdata) {
        Waiting *w = userdata;

        w->timer = 0;
        log_debug("Closing a connection from %s that sent no request for %" PRIu64 " s.",
                  soup_server_message_get_remote_host(w->msg), w->bridge->config.request_timeout_usec / G_USEC_PER_SEC);
        connection_shut(w->msg);
        return G_SOURCE_REMOVE;
}

static void on_got_headers(SoupServerMessage *msg, gpointer userdata) {
        g_object_set_data(G_OBJECT(msg), WAITING_KEY, NULL);  /* frees the Waiting */
}

static void on_request_started(SoupServer *server, SoupServerMessage *msg, gpointer userdata) {
        Bridge *b = userdata;
        Waiting *w;

        if (b->waiting_connections >= b->config.max_connections) {
                log_debug("Closing a connection from %s: %u wait for a request already ([Web] MaxConnections=).",
                          soup_server_message_get_remote_host(msg), b->waiting_connections);
                connection_shut(msg);
                return;
        }
        w = g_new0(Waiting, 1);
        w->bridge = b;
        w->msg = msg;
        b->waiting_connections++;
        w->timer = g_timeout_add_seconds((guint) (b->config.request_timeout_usec / G_USEC_PER_SEC), on_waiting_timeout, w);
        g_object_set_data_full(G_OBJECT(msg), WAITING_KEY, w, (GDestroyNotify) waiting_free);
        g_signal_connect(msg, "got-headers", G_CALLBACK(on_got_headers), NULL);
}

void bridge_guard_connections(Bridge *b) {
        g_signal_connect(b->server, "request-started", G_CALLBACK(on_request_started), b);
}
