/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "api-call.h"
#include "bridge-internal.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "web-checks.h"

/* Logins per client address: a bucket of LOGIN_BURST that refills at
 * LOGIN_PER_MINUTE; the daemon slows down failures per account as well. */
#define LOGIN_BURST 10.0
#define LOGIN_PER_MINUTE 10.0
#define LOGIN_BUCKETS_MAX 4096
#define LOGIN_FIELD_MAX 1024
/* Logins waiting for the daemon, each with a bus connection of its own;
 * they are not sessions yet and do not count against [Web] MaxSessions=. */
#define LOGINS_IN_FLIGHT_MAX 16
#define EXPIRY_INTERVAL_SEC 30

typedef struct LoginBucket {
        double tokens;
        int64_t updated;  /* monotonic µs */
} LoginBucket;

typedef struct Login {
        Bridge *bridge;
        SoupServerMessage *msg;
        sd_bus *bus;
        sd_bus_slot *slot;
        char *user;
        gulong finished_id;
        bool client_gone;
} Login;

Session *session_ref(Session *s) {
        assert(s && s->n_ref > 0);
        s->n_ref++;
        return s;
}

void session_unref(Session *s) {
        if (!s)
                return;
        assert(s->n_ref > 0);
        if (--s->n_ref > 0)
                return;
        assert(!s->calls || g_hash_table_size(s->calls) == 0);
        if (s->bus)
                sd_bus_close_unref(s->bus);
        if (s->calls)
                g_hash_table_unref(s->calls);
        if (s->call_queue) {
                assert(g_queue_is_empty(s->call_queue));
                g_queue_free(s->call_queue);
        }
        g_free(s->daemon);
        g_free(s->token);
        g_free(s->csrf);
        g_free(s->user);
        g_free(s->role);
        g_free(s);
}

static int random_hex(size_t bytes, char **ret) {
        uint8_t buf[32];
        ssize_t n;

        assert(bytes <= sizeof(buf));
        n = getrandom(buf, bytes, 0);
        if (n < 0)
                return -errno;
        if ((size_t) n != bytes)
                return -EIO;
        *ret = g_malloc(bytes * 2 + 1);
        for (size_t i = 0; i < bytes; i++)
                g_snprintf(*ret + 2 * i, 3, "%02x", buf[i]);
        return 0;
}

void session_close(Session *s, const char *why) {
        Bridge *b = s->bridge;
        g_autoptr(Session) ref = session_ref(s);

        if (s->closed)
                return;
        s->closed = true;
        log_info("Web session of %s closed (%s).", s->user, why);
        if (b->streams)
                event_streams_session_closed(b->streams, s);
        api_calls_fail_session(s);
        if (s->bus) {
                sd_bus_close_unref(s->bus);
                s->bus = NULL;
        }
        g_hash_table_remove(b->sessions, s->token);  /* drops the table's reference */
}

/* The session's bus connection went away (daemon restart, bus trouble). */
static int on_session_bus_message(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Session *s = userdata;

        if (sd_bus_message_is_signal(m, "org.freedesktop.DBus.Local", "Disconnected"))
                session_close(s, "bus connection lost");
        return 0;
}

static gboolean on_expiry_timer(gpointer userdata) {
        Bridge *b = userdata;
        g_autoptr(GPtrArray) idle = g_ptr_array_new_with_free_func((GDestroyNotify) session_unref);
        int64_t now = g_get_monotonic_time();
        GHashTableIter it;
        gpointer value;

        g_hash_table_iter_init(&it, b->sessions);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                Session *s = value;

                if (now - (int64_t) s->last_used_usec > (int64_t) b->config.session_idle_usec)
                        g_ptr_array_add(idle, session_ref(s));
        }
        for (guint i = 0; i < idle->len; i++)
                session_close(idle->pdata[i], "idle");
        return G_SOURCE_CONTINUE;
}

void sessions_init(Bridge *b) {
        b->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify) session_unref);
        b->login_buckets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        b->expiry_timer = g_timeout_add_seconds(EXPIRY_INTERVAL_SEC, on_expiry_timer, b);
}

void sessions_done(Bridge *b) {
        g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func((GDestroyNotify) session_unref);
        GHashTableIter it;
        gpointer value;

        if (b->expiry_timer)
                g_source_remove(b->expiry_timer);
        b->expiry_timer = 0;
        if (b->sessions) {
                g_hash_table_iter_init(&it, b->sessions);
                while (g_hash_table_iter_next(&it, NULL, &value))
                        g_ptr_array_add(all, session_ref(value));
                for (guint i = 0; i < all->len; i++)
                        session_close(all->pdata[i], "shutdown");
                g_clear_pointer(&b->sessions, g_hash_table_unref);
        }
        g_clear_pointer(&b->login_buckets, g_hash_table_unref);
}

/* Takes one login from the client's bucket; false when it is empty (or the
 * table is full of clients that are all still limited). */
static bool login_allowed(Bridge *b, const char *client, unsigned *retry_after) {
        int64_t now = g_get_monotonic_time();
        LoginBucket *bk = g_hash_table_lookup(b->login_buckets, client);

        if (!bk) {
                if (g_hash_table_size(b->login_buckets) >= LOGIN_BUCKETS_MAX) {
                        GHashTableIter it;
                        gpointer value;

                        /* Forget clients whose bucket is full again. */
                        g_hash_table_iter_init(&it, b->login_buckets);
                        while (g_hash_table_iter_next(&it, NULL, &value)) {
                                LoginBucket *o = value;
                                double t = o->tokens + (double) (now - o->updated) * LOGIN_PER_MINUTE / 60e6;
                                if (t >= LOGIN_BURST)
                                        g_hash_table_iter_remove(&it);
                        }
                        if (g_hash_table_size(b->login_buckets) >= LOGIN_BUCKETS_MAX) {
                                *retry_after = 60;
                                return false;
                        }
                }
                bk = g_new0(LoginBucket, 1);
                bk->tokens = LOGIN_BURST;
                bk->updated = now;
                g_hash_table_insert(b->login_buckets, g_strdup(client), bk);
        }
        bk->tokens = MIN(LOGIN_BURST, bk->tokens + (double) (now - bk->updated) * LOGIN_PER_MINUTE / 60e6);
        bk->updated = now;
        if (bk->tokens < 1.0) {
                *retry_after = (unsigned) ((1.0 - bk->tokens) * 60.0 / LOGIN_PER_MINUTE) + 1;
                return false;
        }
        bk->tokens -= 1.0;
        return true;
}

static bool user_has_session(Bridge *b, const char *user) {
        GHashTableIter it;
        gpointer value;

        g_hash_table_iter_init(&it, b->sessions);
        while (g_hash_table_iter_next(&it, NULL, &value))
                if (strcmp(((Session *) value)->user, user) == 0)
                        return true;
        return false;
}

/* Before a new session of user: at [Web] MaxSessionsPerUser= the account's
 * oldest sessions are closed, so that logging in again always works and
 * nobody holds more than that many bus connections. */
static void sessions_make_room(Bridge *b, const char *user) {
        for (;;) {
                Session *oldest = NULL;
                unsigned n = 0;
                GHashTableIter it;
                gpointer value;

                g_hash_table_iter_init(&it, b->sessions);
                while (g_hash_table_iter_next(&it, NULL, &value)) {
                        Session *s = value;

                        if (strcmp(s->user, user) != 0)
                                continue;
                        n++;
                        if (!oldest || s->created_usec < oldest->created_usec)
                                oldest = s;
                }
                if (n < b->config.max_sessions_per_user || !oldest)
                        return;
                session_close(oldest, "too many sessions of this account");
        }
}

static void reply_session(SoupServerMessage *msg, guint status, Session *s) {
        g_autoptr(JsonBuilder) jb = json_builder_new();
        g_autoptr(JsonNode) node = NULL;

        json_builder_begin_object(jb);
        json_builder_set_member_name(jb, "user");
        json_builder_add_string_value(jb, s->user);
        json_builder_set_member_name(jb, "role");
        json_builder_add_string_value(jb, s->role);
        json_builder_set_member_name(jb, "csrf");
        json_builder_add_string_value(jb, s->csrf);
        json_builder_end_object(jb);
        node = json_builder_get_root(jb);
        bridge_reply_json(msg, status, node);
}

static void login_free(Login *l) {
        if (!l)
                return;
        if (l->finished_id)
                g_signal_handler_disconnect(l->msg, l->finished_id);
        sd_bus_slot_unref(l->slot);
        if (l->bus)
                sd_bus_close_unref(l->bus);
        g_object_unref(l->msg);
        g_free(l->user);
        l->bridge->pending_logins--;
        g_free(l);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Login, login_free)

static void on_login_msg_finished(SoupServerMessage *msg, gpointer userdata) {
        Login *l = userdata;

        l->client_gone = true;
}

static void login_answer_error(Login *l, guint status, const char *name, const char *message) {
        if (l->client_gone)
                return;
        bridge_reply_error(l->msg, status, name, message);
        soup_server_message_unpause(l->msg);
}

static int on_login_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        g_autoptr(Login) l = userdata;
        Bridge *b = l->bridge;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        g_autoptr(Session) s = NULL;
        g_autofree char *cookie = NULL;
        const char *role, *daemon;
        int r;

        if (e) {
                if (sd_bus_error_has_names(e, "org.freedesktop.DBus.Error.AccessDenied",
                                           "org.left4me.Error.InvalidArgument", "org.left4me.Error.NotFound",
                                           "org.freedesktop.DBus.Error.AuthFailed")) {
                        g_autofree char *who = web_log_escape(l->user, 64);

                        log_notice("Failed web login for '%s' from %s: %s", who,
                                   soup_server_message_get_remote_host(l->msg), e->message);
                        login_answer_error(l, SOUP_STATUS_UNAUTHORIZED, "org.left4me.Web.Unauthorized",
                                           "Wrong user name or password.");
                } else if (l->client_gone) {
                        ;
                } else {
                        bridge_reply_bus_error(l->msg, e);
                        soup_server_message_unpause(l->msg);
                }
                return 0;
        }
        r = sd_bus_message_read(reply, "s", &role);
        daemon = sd_bus_message_get_sender(reply);
        if (r < 0 || (strcmp(role, "user") != 0 && strcmp(role, "admin") != 0) || !daemon || daemon[0] != ':') {
                login_answer_error(l, SOUP_STATUS_BAD_GATEWAY, "org.left4me.Error.Failed", "Unexpected answer to Login.");
                return 0;
        }
        if (l->client_gone)
                return 0;
        sessions_make_room(b, l->user);
        if (g_hash_table_size(b->sessions) >= b->config.max_sessions) {
                login_answer_error(l, SOUP_STATUS_SERVICE_UNAVAILABLE, "org.left4me.Web.TooManySessions",
                                   "Too many people are logged in right now; try again later.");
                return 0;
        }

        s = g_new0(Session, 1);
        s->bridge = b;
        s->n_ref = 1;
        s->user = g_strdup(l->user);
        s->role = g_strdup(role);
        s->daemon = g_strdup(daemon);
        s->calls = g_hash_table_new(NULL, NULL);
        s->call_queue = g_queue_new();
        s->last_used_usec = (uint64_t) g_get_monotonic_time();
        s->created_usec = s->last_used_usec;
        if (random_hex(32, &s->token) < 0 || random_hex(32, &s->csrf) < 0) {
                login_answer_error(l, SOUP_STATUS_INTERNAL_SERVER_ERROR, "org.left4me.Error.Failed", "No randomness.");
                return 0;
        }
        s->bus = g_steal_pointer(&l->bus);
        r = sd_bus_add_filter(s->bus, NULL, on_session_bus_message, s);
        if (r < 0) {
                login_answer_error(l, SOUP_STATUS_INTERNAL_SERVER_ERROR, "org.left4me.Error.Failed", STRERROR(r));
                return 0;
        }
        g_hash_table_insert(b->sessions, s->token, session_ref(s));
        log_info("Web login of %s (%s) from %s.", s->user, s->role, soup_server_message_get_remote_host(l->msg));

        cookie = web_session_cookie(L4M_WEB_COOKIE, s->token, b->tls);
        soup_message_headers_append(soup_server_message_get_response_headers(l->msg), "Set-Cookie", cookie);
        reply_session(l->msg, SOUP_STATUS_OK, s);
        soup_server_message_unpause(l->msg);
        return 0;
}

/* A JSON body {"user": ..., "password": ...}; false if it answered 400. */
static bool login_body(SoupServerMessage *msg, char **ret_user, char **ret_password) {
        g_autoptr(GBytes) body = soup_message_body_flatten(soup_server_message_get_request_body(msg));
        g_autoptr(JsonParser) p = json_parser_new();
        JsonObject *o;
        JsonNode *u, *pw;
        gsize len;
        const char *data = g_bytes_get_data(body, &len);

        if (len > WEB_LOGIN_BODY_MAX) {
                bridge_reply_error(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "org.left4me.Web.PayloadTooLarge",
                                   "A login body is a user name and a password.");
                return false;
        }
        /* Before anyone is authenticated: json-glib recurses per level. */
        if (!web_json_depth_ok(data, len, WEB_JSON_DEPTH_MAX) ||
            !json_parser_load_from_data(p, data ? data : "", (gssize) len, NULL) ||
            !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
                bridge_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "org.left4me.Web.BadRequest", "Expected a JSON object.");
                return false;
        }
        o = json_node_get_object(json_parser_get_root(p));
        u = json_object_get_member(o, "user");
        pw = json_object_get_member(o, "password");
        if (!u || !pw || !JSON_NODE_HOLDS_VALUE(u) || !JSON_NODE_HOLDS_VALUE(pw) ||
            json_node_get_value_type(u) != G_TYPE_STRING || json_node_get_value_type(pw) != G_TYPE_STRING ||
            strlen(json_node_get_string(u)) > LOGIN_FIELD_MAX || strlen(json_node_get_string(pw)) > LOGIN_FIELD_MAX) {
                bridge_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "org.left4me.Web.BadRequest",
                                   "Expected strings \"user\" and \"password\".");
                return false;
        }
        *ret_user = g_strdup(json_node_get_string(u));
        *ret_password = g_strdup(json_node_get_string(pw));
        return true;
}

void sessions_handle_login(Bridge *b, SoupServerMessage *msg) {
        g_autofree char *user = NULL, *password = NULL;
        g_autofree char *client = web_client_key(soup_server_message_get_remote_host(msg));
        g_autoptr(Login) l = NULL;
        unsigned retry_after = 0;
        int r;

        /* Login CSRF: a cross-site page must not log the browser into an
         * account of the attacker's. */
        if (!bridge_check_origin(b, msg))
                return;
        if (!login_allowed(b, client, &retry_after)) {
                g_autofree char *ra = g_strdup_printf("%u", retry_after);

                bridge_reply_error(msg, BRIDGE_STATUS_TOO_MANY_REQUESTS, "org.left4me.Web.TooManyRequests",
                                   "Too many logins from this address; try again later.");
                soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After", ra);
                return;
        }
        if (!login_body(msg, &user, &password))
                return;
        if (b->pending_logins >= LOGINS_IN_FLIGHT_MAX) {
                bridge_reply_error(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "org.left4me.Web.Busy",
                                   "Too many logins in progress; try again.");
                return;
        }
        /* A full table refuses at once; the account's own sessions make
         * room for its new one when the daemon has said yes. */
        if (g_hash_table_size(b->sessions) >= b->config.max_sessions && !user_has_session(b, user)) {
                bridge_reply_error(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "org.left4me.Web.TooManySessions",
                                   "Too many people are logged in right now; try again later.");
                return;
        }

        l = g_new0(Login, 1);
        l->bridge = b;
        b->pending_logins++;
        l->msg = g_object_ref(msg);
        l->user = g_strdup(user);
        r = sd_bus_open_system(&l->bus);
        if (r >= 0)
                r = sd_bus_attach_event(l->bus, b->event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = sd_bus_call_method_async(l->bus, &l->slot, L4M_BUS_NAME, L4M_MANAGER_PATH, "org.left4me.Manager",
                                             "Login", on_login_reply, l, "ss", user, password);
        explicit_bzero(password, strlen(password));
        if (r < 0) {
                log_warning_errno(r, "Cannot reach the system bus for a login: %s", STRERROR(r));
                bridge_reply_error(msg, SOUP_STATUS_BAD_GATEWAY, "org.freedesktop.DBus.Error.NoServer",
                                   "Cannot reach the system bus.");
                return;
        }
        l->finished_id = g_signal_connect(msg, "finished", G_CALLBACK(on_login_msg_finished), l);
        soup_server_message_pause(msg);
        l = NULL;  /* owned by the call now */
}

void sessions_handle_logout(Bridge *b, SoupServerMessage *msg) {
        g_autoptr(Session) s = bridge_request_session(b, msg);
        g_autofree char *cookie = NULL;

        if (!s)
                return;
        session_close(s, "logout");
        cookie = web_session_cookie(L4M_WEB_COOKIE, NULL, b->tls);
        soup_message_headers_append(soup_server_message_get_response_headers(msg), "Set-Cookie", cookie);
        soup_server_message_set_status(msg, SOUP_STATUS_NO_CONTENT, NULL);
}

void sessions_handle_session(Bridge *b, SoupServerMessage *msg) {
        g_autoptr(Session) s = bridge_request_session(b, msg);

        if (!s)
                return;
        reply_session(msg, SOUP_STATUS_OK, s);
}
