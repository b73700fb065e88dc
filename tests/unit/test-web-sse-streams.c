/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "event-streams.h"
#include "sse-format.h"

/* The generic part of the event streams (event-streams.c, sse-conn.c)
 * against a real SoupServer on loopback: headers and framing on the
 * connection taken from libsoup, heartbeats from the one timer, the end of
 * a session's streams, the stream limits, a client that goes away, and a
 * client that does not read being dropped while another keeps receiving.
 * The feeds and the bridge core are stand-ins here. */

static Bridge bridge;
static Session session_a, session_b;
static GPtrArray *subscribed;   /* Stream* handed to the stand-in feed */
static guint port;

/* Stand-ins of the bridge core. */
Session *session_ref(Session *s) {
        s->n_ref++;
        return s;
}

void session_unref(Session *s) {
        if (s)
                s->n_ref--;
}

/* "?s=b" picks session b; every request has a session. */
Session *bridge_request_session(Bridge *b, SoupServerMessage *msg) {
        const char *q = g_uri_get_query(soup_server_message_get_uri(msg));
        return session_ref(q && strstr(q, "s=b") ? &session_b : &session_a);
}

void bridge_reply_error(SoupServerMessage *msg, guint status, const char *name, const char *message) {
        g_autofree char *body = g_strdup_printf("{\"error\":\"%s\"}", name);
        soup_server_message_set_status(msg, status, NULL);
        soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, body, strlen(body));
}

void bridge_reply_bus_error(SoupServerMessage *msg, const sd_bus_error *error) {
        bridge_reply_error(msg, 500, error->name, error->message);
}

/* Stand-in feeds: /api/events starts at once and is fed by the test. */
static void stand_in_detach(Stream *st) {
        g_ptr_array_remove(subscribed, st);
}

static gboolean start_later(gpointer userdata) {
        stream_start(userdata);
        return G_SOURCE_REMOVE;
}

/* Started in the handler as state-events.c does, or with "?later" from
 * the loop, as the feeds do after their bus calls. */
void state_events_subscribe(StateEvents *s, Stream *st) {
        const char *q = g_uri_get_query(soup_server_message_get_uri(st->msg));

        st->detach = stand_in_detach;
        g_ptr_array_add(subscribed, st);
        if (q && strstr(q, "later"))
                g_idle_add(start_later, st);
        else
                stream_start(st);
}

int state_events_new(Bridge *b, StateEvents **ret) {
        *ret = NULL;
        return 0;
}

void state_events_free(StateEvents *s) {
}

int log_feeds_new(Bridge *b, LogFeeds **ret) {
        *ret = NULL;
        return 0;
}

void log_feeds_free(LogFeeds *f) {
}

void log_feeds_subscribe(LogFeeds *f, Stream *st, const char *instance, uint64_t lines) {
        stream_fail(st, 404, "org.left4me.Error.NotFound", "stand-in");
}

void job_log_stream_begin(Stream *st, uint64_t job_id) {
        stream_fail(st, 404, "org.left4me.Error.NotFound", "stand-in");
}

/* A client on a plain socket: what it has read so far. */
typedef struct Client {
        int fd;
        GString *in;
        bool eof;
        const char *want;       /* what wait_for() waits for */
} Client;

static void client_open(Client *c, const char *path, int rcvbuf) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        g_autofree char *req = g_strdup_printf("GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);

        c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        g_assert_cmpint(c->fd, >=, 0);
        if (rcvbuf > 0)
                g_assert_cmpint(setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf), ==, 0);
        g_assert_cmpint(connect(c->fd, (struct sockaddr *) &sa, sizeof sa), ==, 0);
        g_assert_cmpint(write(c->fd, req, strlen(req)), ==, (ssize_t) strlen(req));
        g_assert_cmpint(fcntl(c->fd, F_SETFL, O_NONBLOCK), ==, 0);
        c->in = g_string_new(NULL);
        c->eof = false;
}

static void client_read(Client *c) {
        char buf[65536];
        ssize_t n;

        while ((n = read(c->fd, buf, sizeof buf)) > 0)
                g_string_append_len(c->in, buf, n);
        if (n == 0 || (n < 0 && errno != EAGAIN))
                c->eof = true;
}

static void client_close(Client *c) {
        close(c->fd);
        g_string_free(c->in, TRUE);
}

/* Runs both loops until cond holds (or fails the test after 10 s). */
static void run_until(bool (*cond)(void *), void *data) {
        gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

        while (!cond(data)) {
                g_assert_cmpint(g_get_monotonic_time(), <, deadline);
                while (g_main_context_iteration(NULL, FALSE))
                        ;
                (void) sd_event_run(bridge.event, 0);
                g_usleep(1000);
        }
}

static bool client_has(void *data) {
        Client *c = data;
        client_read(c);
        return strstr(c->in->str, c->want) != NULL;
}

static void wait_for(Client *c, const char *text) {
        c->want = text;
        run_until(client_has, c);
}

static bool subscribed_count_is(void *data) {
        return subscribed->len == GPOINTER_TO_UINT(data);
}

/* The connection is closed at the end of a stream (or of an error answer,
 * which the test's clients do not keep alive). */
static bool client_ended(void *data) {
        Client *c = data;
        client_read(c);
        return c->eof || g_str_has_suffix(c->in->str, "0\r\n\r\n");
}

static void run_loops(void) {
        while (g_main_context_iteration(NULL, FALSE))
                ;
        while (sd_event_run(bridge.event, 0) > 0)
                ;
}

static void test_stream(void) {
        Client a = { 0 };
        g_autoptr(GBytes) frame = sse_event_bytes(7, "instance", "{\"Name\":\"x\"}");

        client_open(&a, "/api/events", 0);
        run_until(subscribed_count_is, GUINT_TO_POINTER(1));
        wait_for(&a, "retry: 2000\n\n");
        g_assert_nonnull(strstr(a.in->str, "HTTP/1.1 200"));
        g_assert_nonnull(g_strstr_len(a.in->str, -1, "Content-Type: text/event-stream"));
        g_assert_nonnull(strstr(a.in->str, "Cache-Control: no-store"));
        g_assert_nonnull(strstr(a.in->str, "X-Accel-Buffering: no"));
        /* The connection is the bridge's now: the body ends with it. */
        g_assert_nonnull(strstr(a.in->str, "Connection: close"));
        g_assert_null(strstr(a.in->str, "Transfer-Encoding"));
        g_assert_null(strstr(a.in->str, "Content-Length"));
        g_assert_true(((Stream *) subscribed->pdata[0])->taken);

        stream_send(subscribed->pdata[0], frame);
        wait_for(&a, "id: 7\nevent: instance\ndata: {\"Name\":\"x\"}\n\n");

        /* Quiet for a heartbeat interval: a ping. */
        wait_for(&a, ": ping\n\n");

        /* The session ends: so does its stream, the other session's stays. */
        {
                Client b = { 0 };
                client_open(&b, "/api/events?s=b&later", 0);
                run_until(subscribed_count_is, GUINT_TO_POINTER(2));
                wait_for(&b, "retry: 2000");
                event_streams_session_closed(bridge.streams, &session_a);
                run_until(client_ended, &a);
                g_assert_true(a.eof);
                g_assert_cmpuint(subscribed->len, ==, 1);
                g_assert_true(((Stream *) subscribed->pdata[0])->session == &session_b);
                event_streams_session_closed(bridge.streams, &session_b);
                run_until(client_ended, &b);
                client_close(&b);
        }
        client_close(&a);
}

static bool no_streams(void *data) {
        return g_hash_table_size(bridge.streams->streams) == 0;
}

static void test_limits(void) {
        Client c[3] = { 0 };

        run_until(no_streams, NULL);
        bridge.config.max_streams_per_session = 2;
        for (int i = 0; i < 2; i++) {
                client_open(&c[i], "/api/events", 0);
                wait_for(&c[i], "retry: 2000");
        }
        client_open(&c[2], "/api/events", 0);
        wait_for(&c[2], "HTTP/1.1 429");
        g_assert_nonnull(strstr(c[2].in->str, "org.left4me.Web.TooManyRequests"));
        g_assert_nonnull(strstr(c[2].in->str, "Retry-After:"));
        client_close(&c[2]);

        /* Another session has its own count. */
        client_open(&c[2], "/api/events?s=b", 0);
        wait_for(&c[2], "retry: 2000");

        /* A client that goes away frees its place. */
        client_close(&c[0]);
        run_until(subscribed_count_is, GUINT_TO_POINTER(2));
        client_open(&c[0], "/api/events", 0);
        wait_for(&c[0], "retry: 2000");

        event_streams_session_closed(bridge.streams, &session_a);
        event_streams_session_closed(bridge.streams, &session_b);
        for (int i = 0; i < 3; i++) {
                run_until(client_ended, &c[i]);
                client_close(&c[i]);
        }
        bridge.config.max_streams_per_session = 0;
}

/* A client that closes its end is noticed at once (EPOLLRDHUP), without
 * waiting for a write to fail. */
static void test_client_leaves(void) {
        Client c = { 0 };

        run_until(no_streams, NULL);
        client_open(&c, "/api/events", 0);
        wait_for(&c, "retry: 2000");
        g_assert_cmpuint(subscribed->len, ==, 1);
        client_close(&c);
        run_until(no_streams, NULL);
        g_assert_cmpuint(subscribed->len, ==, 0);
}

static void test_slow_client(void) {
        Client fast = { 0 }, slow = { 0 };
        g_autofree char *big = g_strnfill(8000, 'x');
        g_autofree char *data = g_strdup_printf("{\"line\":\"%s\"}", big);
        Stream *st_fast, *st_slow;
        uint64_t id = 1;

        run_until(no_streams, NULL);
        client_open(&slow, "/api/events", 4096);
        wait_for(&slow, "retry: 2000");
        st_slow = subscribed->pdata[0];
        client_open(&fast, "/api/events?s=b", 0);
        wait_for(&fast, "retry: 2000");
        st_fast = subscribed->pdata[1];

        /* The slow one never reads again: after about 1 MiB behind it is
         * dropped, and what was queued for it goes with it. */
        for (;;) {
                g_autoptr(GBytes) frame = sse_event_bytes(id++, "log", data);
                g_assert_cmpuint(id, <, 10000);
                g_assert_cmpuint(stream_queued(st_slow), <=, STREAM_QUEUED_MAX);
                stream_send(st_slow, frame);
                if (!g_ptr_array_find(subscribed, st_slow, NULL)) {
                        /* Detached at once, its queue gone with it. */
                        g_assert_true(st_slow->ended);
                        g_assert_cmpuint(stream_queued(st_slow), ==, 0);
                        stream_send(st_fast, frame);
                        break;
                }
                stream_send(st_fast, frame);
                run_loops();
                client_read(&fast);
        }
        g_assert_cmpuint(id * 8000, >, STREAM_QUEUED_MAX);

        /* The fast one got everything. */
        {
                g_autofree char *last = g_strdup_printf("id: %" G_GUINT64_FORMAT "\n", id - 1);
                wait_for(&fast, last);
        }
        run_until(client_ended, &slow);
        run_until(subscribed_count_is, GUINT_TO_POINTER(1));

        event_streams_session_closed(bridge.streams, &session_b);
        run_until(client_ended, &fast);
        client_close(&fast);
        client_close(&slow);
        run_until(no_streams, NULL);
}

int main(int argc, char **argv) {
        g_autoptr(GError) error = NULL;
        GSList *uris;
        int r;

        g_test_init(&argc, &argv, NULL);

        session_a = (Session) { .bridge = &bridge, .n_ref = 1, .user = (char *) "a", .role = (char *) "user" };
        session_b = (Session) { .bridge = &bridge, .n_ref = 1, .user = (char *) "b", .role = (char *) "user" };
        bridge.config.heartbeat_usec = 200 * 1000;
        subscribed = g_ptr_array_new();
        r = sd_event_new(&bridge.event);
        g_assert_cmpint(r, >=, 0);
        bridge.server = soup_server_new(NULL, NULL);
        g_assert_true(soup_server_listen_local(bridge.server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
        g_assert_no_error(error);
        uris = soup_server_get_uris(bridge.server);
        port = (guint) g_uri_get_port(uris->data);
        g_slist_free_full(uris, (GDestroyNotify) g_uri_unref);
        r = event_streams_new(&bridge, &bridge.streams);
        g_assert_cmpint(r, >=, 0);
        event_streams_add_routes(bridge.streams);

        g_test_add_func("/web-sse-streams/stream", test_stream);
        g_test_add_func("/web-sse-streams/limits", test_limits);
        g_test_add_func("/web-sse-streams/client-leaves", test_client_leaves);
        g_test_add_func("/web-sse-streams/slow-client", test_slow_client);
        r = g_test_run();

        event_streams_free(bridge.streams);
        g_object_unref(bridge.server);
        sd_event_unref(bridge.event);
        g_ptr_array_unref(subscribed);
        return r;
}
