/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "bridge-internal.h"
#include "l4m-log.h"
#include "web-checks.h"
#include "web-server.h"

#define BODY_CAP_KEY "l4m-body-cap"
/* How long the rest of a refused request's body is read and dropped. */
#define REFUSED_DRAIN_MSEC 5000
#define REFUSED_DRAIN_BUFFER 16384

/* A refused request whose body is still to come. libsoup 3.2 reads the
 * whole body (and by default keeps it) before it writes any answer, even
 * one set before the body: a client declaring 10 GB would have them read
 * first. So the connection is taken from libsoup, the answer written on it
 * as is with "Connection: close", and then what the client still sends is
 * read and dropped for a while (so that it reads the answer rather than a
 * reset) before the connection is closed. */
typedef struct Refused {
        GIOStream *stream;
        GBytes *answer;
        GCancellable *cancel;
        guint timer;
        uint8_t buf[REFUSED_DRAIN_BUFFER];
} Refused;

static void refused_free(Refused *r) {
        if (r->timer)
                g_source_remove(r->timer);
        g_clear_object(&r->cancel);
        g_clear_pointer(&r->answer, g_bytes_unref);
        g_clear_object(&r->stream);
        g_free(r);
}

static void on_refused_closed(GObject *source, GAsyncResult *result, gpointer userdata) {
        (void) g_io_stream_close_finish(G_IO_STREAM(source), result, NULL);
        refused_free(userdata);
}

static void refused_close(Refused *r) {
        if (r->timer) {
                g_source_remove(r->timer);
                r->timer = 0;
        }
        g_io_stream_close_async(r->stream, G_PRIORITY_DEFAULT, NULL, on_refused_closed, r);
}

static gboolean on_refused_drain_timeout(gpointer userdata) {
        Refused *r = userdata;

        r->timer = 0;
        g_cancellable_cancel(r->cancel);
        return G_SOURCE_REMOVE;
}

static void refused_drain(Refused *r);

static void on_refused_read(GObject *source, GAsyncResult *result, gpointer userdata) {
        Refused *r = userdata;
        gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, NULL);

        if (n > 0 && !g_cancellable_is_cancelled(r->cancel))
                refused_drain(r);
        else
                refused_close(r);
}

static void refused_drain(Refused *r) {
        g_input_stream_read_async(g_io_stream_get_input_stream(r->stream), r->buf, sizeof(r->buf), G_PRIORITY_DEFAULT,
                                  r->cancel, on_refused_read, r);
}

static void on_refused_written(GObject *source, GAsyncResult *result, gpointer userdata) {
        Refused *r = userdata;

        if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, NULL, NULL)) {
                refused_close(r);
                return;
        }
        r->timer = g_timeout_add(REFUSED_DRAIN_MSEC, on_refused_drain_timeout, r);
        refused_drain(r);
}

/* The answer set on msg, as bytes on the wire, with "Connection: close". */
static GBytes *answer_bytes(SoupServerMessage *msg) {
        SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
        g_autoptr(GBytes) body = soup_message_body_flatten(soup_server_message_get_response_body(msg));
        GString *s = g_string_new(NULL);
        SoupMessageHeadersIter it;
        const char *name, *value;
        gsize len;
        const char *data = g_bytes_get_data(body, &len);

        if (soup_server_message_get_method(msg) == SOUP_METHOD_HEAD)
                len = 0;
        soup_message_headers_set_content_length(h, (goffset) len);
        soup_message_headers_replace(h, "Connection", "close");
        g_string_append_printf(s, "HTTP/1.1 %u %s\r\n", soup_server_message_get_status(msg),
                               soup_server_message_get_reason_phrase(msg));
        soup_message_headers_iter_init(&it, h);
        while (soup_message_headers_iter_next(&it, &name, &value))
                g_string_append_printf(s, "%s: %s\r\n", name, value);
        g_string_append(s, "\r\n");
        g_string_append_len(s, data, (gssize) len);
        return g_string_free_to_bytes(s);
}

/* Answers msg (its status and body are set) and closes the connection
 * without reading the rest of the request's body into memory. msg may be
 * gone when this returns. */
static void answer_and_close(SoupServerMessage *msg) {
        g_autoptr(GBytes) answer = answer_bytes(msg);
        GIOStream *stream = soup_server_message_steal_connection(msg);
        Refused *r;

        if (!stream)
                return;
        r = g_new0(Refused, 1);
        r->stream = stream;
        r->answer = g_steal_pointer(&answer);
        r->cancel = g_cancellable_new();
        g_output_stream_write_all_async(g_io_stream_get_output_stream(stream), g_bytes_get_data(r->answer, NULL),
                                        g_bytes_get_size(r->answer), G_PRIORITY_DEFAULT, NULL, on_refused_written, r);
}

/* The request has a body still to be read. */
static bool request_has_body(SoupServerMessage *msg) {
        SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);

        switch (soup_message_headers_get_encoding(h)) {
        case SOUP_ENCODING_CHUNKED:
                return true;
        case SOUP_ENCODING_CONTENT_LENGTH:
                return soup_message_headers_get_content_length(h) > 0;
        default:
                return false;
        }
}

/* max: the limit in force, in bytes, named in the sentence. */
static void reply_too_large(SoupServerMessage *msg, uint64_t max, bool upload) {
        g_autofree char *text = upload
                ? g_strdup_printf("The upload is too large: this server takes archives of at most %" G_GUINT64_FORMAT
                                  " bytes.", max)
                : g_strdup_printf("The request is too large: this server takes at most %" G_GUINT64_FORMAT
                                  " bytes in a request.", max);

        bridge_reply_error(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "org.left4me.Web.PayloadTooLarge", text);
}

/* Counts a body as it arrives (chunked, or whatever libsoup reads): past
 * the cap the request is answered 413 at once and nothing more is read. */
typedef struct BodyCap {
        uint64_t max, seen;
        bool upload;
} BodyCap;

static void on_got_chunk(SoupServerMessage *msg, GBytes *chunk, gpointer userdata) {
        BodyCap *cap = userdata;

        cap->seen += g_bytes_get_size(chunk);
        if (cap->seen <= cap->max)
                return;
        /* What libsoup kept of a JSON body goes now, not with msg. */
        soup_message_body_set_accumulate(soup_server_message_get_request_body(msg), false);
        soup_message_body_truncate(soup_server_message_get_request_body(msg));
        reply_too_large(msg, cap->max, cap->upload);
        answer_and_close(msg);
}

static void cap_body(SoupServerMessage *msg, uint64_t max, bool upload) {
        BodyCap *cap = g_new0(BodyCap, 1);

        cap->max = max;
        cap->upload = upload;
        g_object_set_data_full(G_OBJECT(msg), BODY_CAP_KEY, cap, g_free);
        g_signal_connect(msg, "got-chunk", G_CALLBACK(on_got_chunk), cap);
}

/* A login body is two short strings: it gets a small cap of its own, as
 * anyone may send it. */
static uint64_t body_max(Bridge *b, const char *path) {
        if (strcmp(path, "/api/login") == 0)
                return MIN((uint64_t) WEB_LOGIN_BODY_MAX, (uint64_t) b->config.max_body_bytes);
        return b->config.max_body_bytes;
}

/* After the headers, before the body: whatever can be refused without the
 * body is refused here (answered by libsoup or by answer_and_close()). */
static void early_checks(Bridge *b, SoupServerMessage *msg, const char *path) {
        bool api = g_str_has_prefix(path, "/api/") || strcmp(path, "/api") == 0;

        bridge_add_security_headers(msg, api);
        if (!bridge_check_host(b, msg))
                return;
        if (api && soup_server_message_get_method(msg) == SOUP_METHOD_POST && archive_upload_path(path, NULL) != UPLOAD_NONE) {
                if (archive_upload_begin(b, msg))
                        cap_body(msg, b->config.max_upload_bytes, true);
                return;
        }
        if (soup_message_headers_get_content_length(soup_server_message_get_request_headers(msg)) >
            (goffset) body_max(b, path)) {
                reply_too_large(msg, body_max(b, path), false);
                return;
        }
        cap_body(msg, body_max(b, path), false);
}

static void early_handler(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                          gpointer userdata) {
        early_checks(userdata, msg, path);
        if (soup_server_message_get_status(msg) != 0 && request_has_body(msg))
                answer_and_close(msg);
}

static void handler(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                    gpointer userdata) {
        Bridge *b = userdata;
        const char *method = soup_server_message_get_method(msg);
        g_autofree char *name = NULL;
        UploadKind kind;

        if (!g_str_has_prefix(path, "/api/")) {
                if (strcmp(path, "/api") == 0) {
                        bridge_reply_error(msg, SOUP_STATUS_NOT_FOUND, "org.left4me.Web.NotFound", "No such API path.");
                        return;
                }
                static_files_handle(b, msg, path);
                return;
        }
        if (!bridge_check_host(b, msg))
                return;

        if (strcmp(path, "/api/login") == 0 || strcmp(path, "/api/logout") == 0 || strcmp(path, "/api/session") == 0) {
                bool get = strcmp(path, "/api/session") == 0;

                if (method != (get ? SOUP_METHOD_GET : SOUP_METHOD_POST) && !(get && method == SOUP_METHOD_HEAD)) {
                        bridge_reply_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "org.left4me.Web.MethodNotAllowed",
                                           "Method not allowed here.");
                        soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow",
                                                     get ? "GET, HEAD" : "POST");
                } else if (strcmp(path, "/api/login") == 0)
                        sessions_handle_login(b, msg);
                else if (strcmp(path, "/api/logout") == 0)
                        sessions_handle_logout(b, msg);
                else
                        sessions_handle_session(b, msg);
                return;
        }
        if (method == SOUP_METHOD_POST && (kind = archive_upload_path(path, &name)) != UPLOAD_NONE) {
                g_autoptr(Session) s = bridge_request_session(b, msg);

                if (s)
                        archive_upload_handle(b, msg, s, kind, name);
                return;
        }
        if ((method == SOUP_METHOD_GET || method == SOUP_METHOD_HEAD) && b->streams &&
            event_streams_dispatch(b->streams, msg, path))
                return;
        api_routes_handle(b, msg, path);
}

void web_server_add_handlers(Bridge *b) {
        soup_server_add_early_handler(b->server, NULL, early_handler, b, NULL);
        soup_server_add_handler(b->server, NULL, handler, b, NULL);
}
