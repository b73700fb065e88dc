/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "bridge-internal.h"
#include "l4m-log.h"
#include "web-server.h"

#define TOO_LARGE_KEY "l4m-too-large"

static void reply_too_large(SoupServerMessage *msg) {
        bridge_reply_error(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "org.left4me.Web.PayloadTooLarge",
                           "The request body is larger than [Web] MaxBodyBytes=.");
}

/* A body without Content-Length (chunked) is capped as it arrives: past
 * the limit nothing more is kept, and the handler answers 413. */
static void on_got_chunk(SoupServerMessage *msg, GBytes *chunk, gpointer userdata) {
        Bridge *b = userdata;
        SoupMessageBody *body = soup_server_message_get_request_body(msg);

        if (body->length <= (goffset) b->config.max_body_bytes)
                return;
        soup_message_body_set_accumulate(body, false);
        soup_message_body_truncate(body);
        g_object_set_data(G_OBJECT(msg), TOO_LARGE_KEY, GINT_TO_POINTER(1));
}

/* After the headers, before the body: whatever can be refused without the
 * body is refused here, and then the body is never read. */
static void early_handler(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                          gpointer userdata) {
        Bridge *b = userdata;
        bool api = g_str_has_prefix(path, "/api/") || strcmp(path, "/api") == 0;

        bridge_add_security_headers(msg, api);
        if (!bridge_check_host(b, msg))
                return;
        if (api && soup_server_message_get_method(msg) == SOUP_METHOD_POST && archive_upload_path(path, NULL)) {
                (void) archive_upload_begin(b, msg);
                return;
        }
        if (soup_message_headers_get_content_length(soup_server_message_get_request_headers(msg)) >
            (goffset) b->config.max_body_bytes) {
                reply_too_large(msg);
                return;
        }
        g_signal_connect(msg, "got-chunk", G_CALLBACK(on_got_chunk), b);
}

static void handler(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                    gpointer userdata) {
        Bridge *b = userdata;
        const char *method = soup_server_message_get_method(msg);
        g_autofree char *name = NULL;

        if (g_object_get_data(G_OBJECT(msg), TOO_LARGE_KEY)) {
                reply_too_large(msg);
                return;
        }
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
        if (method == SOUP_METHOD_POST && archive_upload_path(path, &name)) {
                g_autoptr(Session) s = bridge_request_session(b, msg);

                if (s)
                        archive_upload_handle(b, msg, s, name);
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
