/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "event-streams.h"
#include "l4m-log.h"
#include "l4m-names.h"
#include "l4m-util.h"
#include "sse-format.h"

#define HEARTBEAT_DEFAULT_USEC (15 * G_USEC_PER_SEC)
/* An instance log starts with this many lines unless asked otherwise. */
#define LOG_LINES_DEFAULT 100u
/* Dropped slow clients are logged at most this often. */
#define DROP_LOG_INTERVAL_USEC (10 * G_USEC_PER_SEC)

static void stream_free(Stream *st);
static void stream_detach(Stream *st);

static void per_session_add(EventStreams *es, Session *s, int delta) {
        unsigned n = GPOINTER_TO_UINT(g_hash_table_lookup(es->per_session, s));

        n = (unsigned) ((int) n + delta);
        if (n == 0)
                g_hash_table_remove(es->per_session, s);
        else
                g_hash_table_insert(es->per_session, s, GUINT_TO_POINTER(n));
}

static void on_finished(SoupServerMessage *msg, gpointer userdata) {
        stream_free(userdata);
}

static void on_wrote_body_data(SoupServerMessage *msg, guint size, gpointer userdata) {
        Stream *st = userdata;

        st->queued = st->queued > size ? st->queued - size : 0;
        if (st->drained && !st->ended && st->queued < STREAM_QUEUED_MAX / 4)
                st->drained(st);
}

Stream *stream_new(EventStreams *es, Session *session, SoupServerMessage *msg) {
        const L4mWebConfig *c = &es->bridge->config;
        const char *last;
        Stream *st;

        assert(es);
        assert(session);
        assert(msg);

        if ((c->max_streams > 0 && g_hash_table_size(es->streams) >= c->max_streams) ||
            (c->max_streams_per_session > 0 &&
             GPOINTER_TO_UINT(g_hash_table_lookup(es->per_session, session)) >= c->max_streams_per_session)) {
                soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After", "10");
                bridge_reply_error(msg, 429, "org.left4me.Web.TooManyRequests",
                                   "Too many event streams are open.");
                return NULL;
        }

        st = g_new0(Stream, 1);
        st->owner = es;
        st->session = session_ref(session);
        st->msg = g_object_ref(msg);
        st->feed_link.data = st;
        st->conn.fd = -1;
        last = soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Last-Event-ID");
        st->has_last_id = sse_parse_event_id(last, &st->last_id);

        g_signal_connect(msg, "finished", G_CALLBACK(on_finished), st);
        g_signal_connect(msg, "wrote-body-data", G_CALLBACK(on_wrote_body_data), st);
        g_hash_table_add(es->streams, st);
        per_session_add(es, session, 1);

        soup_server_message_pause(msg);
        return st;
}

static void on_conn_gone(SseConn *c) {
        stream_free((Stream *) ((char *) c - offsetof(Stream, conn)));
}

static void on_conn_written(SseConn *c) {
        Stream *st = (Stream *) ((char *) c - offsetof(Stream, conn));

        if (st->drained && !st->ended && c->queued < STREAM_QUEUED_MAX / 4)
                st->drained(st);
}

/* The response head and the first frame, as the bridge writes them on a
 * connection it took: msg's headers (the security headers and the event
 * stream's), and the body delimited by the end of the connection. */
static GBytes *response_head(SoupServerMessage *msg) {
        SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
        g_autoptr(GDateTime) now = g_date_time_new_now_utc();
        g_autofree char *date = soup_date_time_to_string(now, SOUP_DATE_HTTP);
        GString *s = g_string_new("HTTP/1.1 200 OK\r\n");
        SoupMessageHeadersIter it;
        const char *name, *value;

        soup_message_headers_iter_init(&it, h);
        while (soup_message_headers_iter_next(&it, &name, &value))
                if (g_ascii_strcasecmp(name, "Connection") != 0 && g_ascii_strcasecmp(name, "Content-Length") != 0 &&
                    g_ascii_strcasecmp(name, "Transfer-Encoding") != 0 && g_ascii_strcasecmp(name, "Date") != 0)
                        g_string_append_printf(s, "%s: %s\r\n", name, value);
        g_string_append_printf(s, "Date: %s\r\nConnection: close\r\n\r\nretry: %u\n\n", date, SSE_RETRY_MSEC);
        return g_string_free_to_bytes(s);
}

/* Takes the connection from libsoup: from here on the stream is a socket
 * and a queue of shared frames (sse-conn.c), and lives until the writer
 * reports it gone. */
static void stream_take(Stream *st) {
        g_autoptr(GBytes) head = response_head(st->msg);
        GSocket *sock = soup_server_message_get_socket(st->msg);
        g_autoptr(GIOStream) ios = NULL;
        int fd = -1, r;

        /* Our own descriptor of the socket (non-blocking, as GSocket made
         * it); libsoup's is closed below. */
        if (sock) {
                g_object_ref(sock);
                fd = fcntl(g_socket_get_fd(sock), F_DUPFD_CLOEXEC, 3);
        }
        if (fd >= 0)
                /* Frames are coalesced per loop pass already. */
                (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int) { 1 }, sizeof(int));
        g_signal_handlers_disconnect_by_data(st->msg, st);
        ios = soup_server_message_steal_connection(st->msg);
        g_clear_object(&st->msg);
        if (!ios) {
                l4m_close_fdp(&fd);
                fd = -1;
        }
        g_clear_object(&ios);
        /* libsoup 3.2 keeps a reference to the socket after the steal:
         * its descriptor is closed here (a close, not a shutdown: the
         * connection lives on in ours). */
        if (sock) {
                (void) g_socket_close(sock, NULL);
                g_object_unref(sock);
        }

        st->taken = true;
        st->conn.gone = on_conn_gone;
        st->conn.written = on_conn_written;
        r = sse_conn_open(st->owner->writer, &st->conn, fd);
        if (r < 0) {
                log_warning_errno(r, "Cannot take over an event stream connection: %s", STRERROR(r));
                stream_detach(st);
                return;
        }
        sse_conn_queue(&st->conn, head);
}

void stream_start(Stream *st) {
        SoupMessageHeaders *h;
        SoupMessageBody *body;
        g_autofree char *retry = NULL;

        assert(st);
        if (st->ended || !st->msg || st->started)
                return;

        h = soup_server_message_get_response_headers(st->msg);
        soup_message_headers_set_content_type(h, "text/event-stream", NULL);
        soup_message_headers_replace(h, "Cache-Control", "no-store");
        soup_message_headers_replace(h, "X-Accel-Buffering", "no");
        st->started = true;
        if (!st->owner->bridge->tls) {
                stream_take(st);
                return;
        }

        /* Over TLS libsoup keeps the connection: a chunked body. */
        soup_message_headers_set_encoding(h, SOUP_ENCODING_CHUNKED);
        soup_server_message_set_status(st->msg, SOUP_STATUS_OK, NULL);
        body = soup_server_message_get_response_body(st->msg);
        soup_message_body_set_accumulate(body, FALSE);

        retry = g_strdup_printf("retry: %u\n\n", SSE_RETRY_MSEC);
        soup_message_body_append(body, SOUP_MEMORY_COPY, retry, strlen(retry));
        st->queued += strlen(retry);
        soup_server_message_unpause(st->msg);
}

/* Ends the feed's part; the message finishes on its own after that. */
static void stream_detach(Stream *st) {
        if (st->ended)
                return;
        st->ended = true;
        st->slot = sd_bus_slot_unref(st->slot);
        st->drained = NULL;
        if (st->detach)
                st->detach(st);
        st->detach = NULL;
}

static void stream_drop(Stream *st) {
        EventStreams *es = st->owner;
        uint64_t now = (uint64_t) g_get_monotonic_time();
        GSocket *sock;

        /* Rate-limited: a flood may drop many at once. */
        if (es->drop_logged_usec == 0 || now - es->drop_logged_usec >= DROP_LOG_INTERVAL_USEC) {
                g_autofree char *more = es->drops_unlogged > 0
                        ? g_strdup_printf(" (and %u more since the last message)", es->drops_unlogged)
                        : NULL;

                log_warning("Event stream of %s fell %" G_GUINT64_FORMAT " bytes behind, dropping it%s.",
                            st->session->user, stream_queued(st), more ? more : "");
                es->drop_logged_usec = now;
                es->drops_unlogged = 0;
        } else
                es->drops_unlogged++;
        stream_detach(st);
        if (st->taken) {
                /* Cut off at once: what was queued for it is dropped. */
                sse_conn_abort(&st->conn);
                return;
        }
        sock = soup_server_message_get_socket(st->msg);
        /* Queued data is not waited for: the failed write finishes the message. */
        if (sock)
                (void) g_socket_shutdown(sock, TRUE, TRUE, NULL);
        soup_server_message_unpause(st->msg);
}

void stream_send(Stream *st, GBytes *frame) {
        assert(st);
        assert(frame);

        if (st->ended || !st->started)
                return;
        st->active = true;
        if (st->taken) {
                if (st->conn.queued + g_bytes_get_size(frame) > STREAM_QUEUED_MAX) {
                        stream_drop(st);
                        return;
                }
                sse_conn_queue(&st->conn, frame);
                return;
        }
        if (!st->msg)
                return;
        st->queued += g_bytes_get_size(frame);
        if (st->queued > STREAM_QUEUED_MAX) {
                stream_drop(st);
                return;
        }
        soup_message_body_append_bytes(soup_server_message_get_response_body(st->msg), frame);
        soup_server_message_unpause(st->msg);
}

void stream_send_event(Stream *st, uint64_t id, const char *event, const char *data) {
        g_autoptr(GBytes) frame = sse_event_bytes(id, event, data);
        stream_send(st, frame);
}

void stream_fail(Stream *st, guint status, const char *name, const char *message) {
        assert(st);

        if (!st->msg || st->started) {
                stream_end(st);
                return;
        }
        stream_detach(st);
        bridge_reply_error(st->msg, status, name, message);
        soup_server_message_unpause(st->msg);
}

void stream_fail_bus(Stream *st, const sd_bus_error *error) {
        assert(st);

        if (!st->msg || st->started) {
                stream_end(st);
                return;
        }
        stream_detach(st);
        bridge_reply_bus_error(st->msg, error);
        soup_server_message_unpause(st->msg);
}

void stream_end(Stream *st) {
        assert(st);

        if (st->ended)
                return;
        if (st->msg && !st->started) {
                stream_fail(st, SOUP_STATUS_UNAUTHORIZED, "org.left4me.Web.Unauthorized", "The session was closed.");
                return;
        }
        stream_detach(st);
        if (st->taken)
                sse_conn_end(&st->conn);
        else if (st->msg) {
                soup_message_body_complete(soup_server_message_get_response_body(st->msg));
                soup_server_message_unpause(st->msg);
        }
}

uint64_t stream_queued(const Stream *st) {
        return st->taken ? st->conn.queued : st->queued;
}

sd_bus *stream_bus(Stream *st) {
        return st->session->closed ? NULL : st->session->bus;
}

static void stream_free(Stream *st) {
        EventStreams *es;

        if (!st)
                return;
        es = st->owner;
        stream_detach(st);
        if (st->msg) {
                g_signal_handlers_disconnect_by_data(st->msg, st);
                g_clear_object(&st->msg);
        }
        sse_conn_release(&st->conn);
        g_hash_table_remove(es->streams, st);
        per_session_add(es, st->session, -1);
        session_unref(st->session);
        g_free(st);
}

/* One timer for every stream: a comment on each that was quiet since the
 * last tick, so that proxies and browsers keep the connection and a
 * client that went away is noticed by the failing write. */
static int on_heartbeat(sd_event_source *s, uint64_t usec, void *userdata) {
        EventStreams *es = userdata;
        GHashTableIter iter;
        Stream *st;

        g_hash_table_iter_init(&iter, es->streams);
        while (g_hash_table_iter_next(&iter, (gpointer *) &st, NULL)) {
                if (!st->active)
                        stream_send(st, es->ping);
                st->active = false;
        }
        (void) sd_event_source_set_time_relative(s, es->bridge->config.heartbeat_usec > 0
                                                            ? es->bridge->config.heartbeat_usec
                                                            : HEARTBEAT_DEFAULT_USEC);
        return 0;
}

int event_streams_new(Bridge *b, EventStreams **ret) {
        g_autoptr(GString) ping = g_string_new(NULL);
        EventStreams *es;
        int r;

        assert(b);
        assert(ret);

        es = g_new0(EventStreams, 1);
        es->bridge = b;
        es->streams = g_hash_table_new(NULL, NULL);
        es->per_session = g_hash_table_new(NULL, NULL);
        sse_append_comment(ping, "ping");
        es->ping = g_string_free_to_bytes(g_steal_pointer(&ping));

        r = sse_writer_new(b->event, &es->writer);
        if (r >= 0)
                r = sd_event_add_time_relative(b->event, &es->heartbeat, CLOCK_MONOTONIC,
                                       b->config.heartbeat_usec > 0 ? b->config.heartbeat_usec : HEARTBEAT_DEFAULT_USEC,
                                       0, on_heartbeat, es);
        if (r >= 0)
                r = sd_event_source_set_enabled(es->heartbeat, SD_EVENT_ON);
        if (r >= 0)
                r = log_feeds_new(b, &es->log_feeds);
        if (r >= 0)
                r = state_events_new(b, &es->state);
        if (r < 0) {
                event_streams_free(es);
                return log_error_errno(r, "Cannot set up event streams: %s", STRERROR(r));
        }
        *ret = es;
        return 0;
}

void event_streams_free(EventStreams *es) {
        GList *streams;

        if (!es)
                return;
        streams = g_hash_table_get_keys(es->streams);
        for (GList *l = streams; l; l = l->next)
                stream_free(l->data);
        g_list_free(streams);
        state_events_free(es->state);
        log_feeds_free(es->log_feeds);
        sd_event_source_disable_unref(es->heartbeat);
        sse_writer_free(es->writer);
        g_bytes_unref(es->ping);
        g_hash_table_unref(es->per_session);
        g_hash_table_unref(es->streams);
        g_free(es);
}

void event_streams_session_closed(EventStreams *es, Session *session) {
        GHashTableIter iter;
        Stream *st;

        if (!es)
                return;
        g_hash_table_iter_init(&iter, es->streams);
        while (g_hash_table_iter_next(&iter, (gpointer *) &st, NULL))
                if (st->session == session) {
                        stream_end(st);
                        /* A connection of ours is closed now, not once its
                         * queue is written: a client that stopped reading
                         * would keep it (and the session's frames queued
                         * for it) open past the session for good. */
                        if (st->taken)
                                sse_conn_abort(&st->conn);
                }
}

static void handle_events(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                          gpointer userdata) {
        EventStreams *es = userdata;
        g_autoptr(Session) session = NULL;
        Stream *st;

        if (strcmp(path, "/api/events") != 0) {
                bridge_reply_error(msg, SOUP_STATUS_NOT_FOUND, "org.left4me.Web.NotFound", "No such resource.");
                return;
        }
        if (soup_server_message_get_method(msg) != SOUP_METHOD_GET) {
                soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow", "GET");
                bridge_reply_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "org.left4me.Web.MethodNotAllowed",
                                   "Event streams are read with GET.");
                return;
        }
        session = bridge_request_session(es->bridge, msg);
        if (!session)
                return;
        st = stream_new(es, session, msg);
        if (!st)
                return;
        state_events_subscribe(es->state, st);
}

void event_streams_add_routes(EventStreams *es) {
        soup_server_add_handler(es->bridge->server, "/api/events", handle_events, es, NULL);
}

/* "?lines=N": how many earlier lines an instance log starts with. */
static bool parse_lines(SoupServerMessage *msg, uint64_t *ret) {
        const char *q = g_uri_get_query(soup_server_message_get_uri(msg));
        g_autoptr(GHashTable) form = NULL;
        const char *v;
        guint64 n;

        *ret = LOG_LINES_DEFAULT;
        if (!q)
                return true;
        form = soup_form_decode(q);
        v = g_hash_table_lookup(form, "lines");
        if (!v)
                return true;
        if (!g_ascii_isdigit(v[0]) || !g_ascii_string_to_unsigned(v, 10, 0, G_MAXUINT32, &n, NULL))
                return false;
        *ret = n;
        return true;
}

bool event_streams_dispatch(EventStreams *es, SoupServerMessage *msg, const char *path) {
        g_auto(GStrv) parts = NULL;
        g_autoptr(Session) session = NULL;
        uint64_t job = 0, lines = 0;
        bool instance;
        Stream *st;

        assert(es);
        assert(msg);
        assert(path);

        /* "", "api", "instances"|"jobs", NAME|ID, "log" */
        parts = g_strsplit(path, "/", 6);
        if (g_strv_length(parts) != 5 || parts[0][0] != '\0' || strcmp(parts[1], "api") != 0 ||
            strcmp(parts[4], "log") != 0)
                return false;
        if (strcmp(parts[2], "instances") == 0)
                instance = true;
        else if (strcmp(parts[2], "jobs") == 0)
                instance = false;
        else
                return false;
        if (soup_server_message_get_method(msg) != SOUP_METHOD_GET)
                return false;

        if (instance ? !l4m_name_is_valid(parts[3]) :
                       (!g_ascii_isdigit(parts[3][0]) ||
                        !g_ascii_string_to_unsigned(parts[3], 10, 1, G_MAXUINT64, (guint64 *) &job, NULL))) {
                bridge_reply_error(msg, SOUP_STATUS_NOT_FOUND, "org.left4me.Web.NotFound", "No such resource.");
                return true;
        }
        if (instance && !parse_lines(msg, &lines)) {
                bridge_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "org.left4me.Web.BadRequest",
                                   "lines= takes a number of lines.");
                return true;
        }

        session = bridge_request_session(es->bridge, msg);
        if (!session)
                return true;
        st = stream_new(es, session, msg);
        if (!st)
                return true;
        if (instance)
                log_feeds_subscribe(es->log_feeds, st, parts[3], lines);
        else
                job_log_stream_begin(st, job);
        return true;
}
