/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
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
                           "This host name is not allowed ([Web] AllowedHosts=).");
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
