/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "web-checks.h"

#define HOST_MAX 255

static bool is_port(const char *s) {
        guint64 n;

        return g_ascii_string_to_unsigned(s, 10, 1, 65535, &n, NULL);
}

static bool host_chars_ok(const char *s, bool v6) {
        if (!*s || strlen(s) > HOST_MAX)
                return false;
        for (const char *p = s; *p; p++) {
                if (g_ascii_isalnum(*p) || *p == '.' || *p == '-')
                        continue;
                if (v6 && *p == ':')
                        continue;
                return false;
        }
        return true;
}

/* Splits "host[:port]" or "[v6][:port]"; ret_port NULL when there is none. */
static bool split_host_port(const char *s, char **ret_host, char **ret_port) {
        g_autofree char *host = NULL;
        const char *port = NULL;

        if (!s || !*s)
                return false;
        if (s[0] == '[') {
                const char *end = strchr(s, ']');

                if (!end)
                        return false;
                host = g_strndup(s + 1, (size_t) (end - s - 1));
                if (end[1] == ':')
                        port = end + 2;
                else if (end[1] != '\0')
                        return false;
                if (!host_chars_ok(host, true) || !strchr(host, ':'))
                        return false;
        } else {
                const char *colon = strchr(s, ':');

                if (colon && strchr(colon + 1, ':'))
                        return false;  /* an IPv6 literal needs brackets */
                host = colon ? g_strndup(s, (size_t) (colon - s)) : g_strdup(s);
                if (colon)
                        port = colon + 1;
                if (!host_chars_ok(host, false))
                        return false;
        }
        if (port && !is_port(port))
                return false;
        *ret_host = g_ascii_strdown(host, -1);
        *ret_port = port ? g_strdup(port) : NULL;
        return true;
}

char *web_host_name(const char *host_header) {
        g_autofree char *host = NULL, *port = NULL;

        if (!split_host_port(host_header, &host, &port))
                return NULL;
        return g_steal_pointer(&host);
}

bool web_host_allowed(const char *host_header, char *const *allowed) {
        g_autofree char *host = web_host_name(host_header);

        if (!host || !allowed)
                return false;
        for (size_t i = 0; allowed[i]; i++) {
                const char *a = allowed[i];
                size_t len = strlen(a);

                /* "[::1]" in the setting means "::1". */
                if (len >= 2 && a[0] == '[' && a[len - 1] == ']') {
                        if (len - 2 == strlen(host) && g_ascii_strncasecmp(a + 1, host, len - 2) == 0)
                                return true;
                } else if (g_ascii_strcasecmp(a, host) == 0)
                        return true;
        }
        return false;
}

bool web_origin_same(const char *origin, const char *host_header, bool tls) {
        const char *scheme = tls ? "https://" : "http://";
        const char *default_port = tls ? "443" : "80";
        g_autofree char *ohost = NULL, *oport = NULL, *hhost = NULL, *hport = NULL;

        if (!origin || !host_header || !g_str_has_prefix(origin, scheme))
                return false;
        if (!split_host_port(origin + strlen(scheme), &ohost, &oport))
                return false;
        if (!split_host_port(host_header, &hhost, &hport))
                return false;
        if (strcmp(ohost, hhost) != 0)
                return false;
        return strcmp(oport ? oport : default_port, hport ? hport : default_port) == 0;
}

bool web_fetch_site_ok(const char *value) {
        return value && (strcmp(value, "same-origin") == 0 || strcmp(value, "none") == 0);
}

bool web_token_equal(const char *a, const char *b) {
        size_t la, lb;
        unsigned char d = 0;

        if (!a || !b)
                return false;
        la = strlen(a);
        lb = strlen(b);
        if (la != lb)
                return false;
        for (size_t i = 0; i < la; i++)
                d |= (unsigned char) (a[i] ^ b[i]);
        return d == 0;
}

char *web_cookie_get(const char *cookie_header, const char *name) {
        g_auto(GStrv) parts = NULL;
        size_t nlen;

        if (!cookie_header || !name)
                return NULL;
        nlen = strlen(name);
        parts = g_strsplit(cookie_header, ";", 64);
        for (size_t i = 0; parts[i]; i++) {
                const char *p = parts[i];

                while (*p == ' ' || *p == '\t')
                        p++;
                if (strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
                        g_autofree char *v = g_strdup(p + nlen + 1);
                        return g_strdup(g_strstrip(v));
                }
        }
        return NULL;
}

char *web_session_cookie(const char *name, const char *value, bool secure) {
        return g_strdup_printf("%s=%s; HttpOnly; SameSite=Strict; Path=/%s%s", name, value ? value : "",
                               value ? "" : "; Max-Age=0", secure ? "; Secure" : "");
}

static bool static_component_ok(const char *c) {
        if (!*c || c[0] == '.' || strlen(c) > 255)
                return false;
        for (const char *p = c; *p; p++)
                if (!g_ascii_isalnum(*p) && *p != '_' && *p != '.' && *p != '-')
                        return false;
        return true;
}

int web_static_file_name(const char *path, char **ret) {
        g_auto(GStrv) parts = NULL;

        if (!path || path[0] != '/' || strlen(path) > 1024)
                return -EINVAL;
        if (strcmp(path, "/") == 0) {
                *ret = g_strdup("index.html");
                return 0;
        }
        parts = g_strsplit(path + 1, "/", 17);
        if (g_strv_length(parts) > 16)
                return -EINVAL;
        for (size_t i = 0; parts[i]; i++)
                if (!static_component_ok(parts[i]))
                        return -EINVAL;
        *ret = g_strdup(path + 1);
        return 0;
}

const char *web_content_type(const char *name) {
        static const struct {
                const char *ext, *type;
        } types[] = {
                { ".html", "text/html; charset=utf-8" },
                { ".js", "text/javascript; charset=utf-8" },
                { ".mjs", "text/javascript; charset=utf-8" },
                { ".css", "text/css; charset=utf-8" },
                { ".json", "application/json" },
                { ".svg", "image/svg+xml" },
                { ".png", "image/png" },
                { ".ico", "image/vnd.microsoft.icon" },
                { ".webp", "image/webp" },
                { ".woff2", "font/woff2" },
                { ".txt", "text/plain; charset=utf-8" },
                { ".webmanifest", "application/manifest+json" },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(types); i++)
                if (g_str_has_suffix(name, types[i].ext))
                        return types[i].type;
        return "application/octet-stream";
}

bool web_json_depth_ok(const char *data, size_t len, unsigned max_depth) {
        unsigned depth = 0;
        bool in_string = false, escaped = false;

        assert(data || len == 0);
        for (size_t i = 0; i < len; i++) {
                char c = data[i];

                if (in_string) {
                        if (escaped)
                                escaped = false;
                        else if (c == '\\')
                                escaped = true;
                        else if (c == '"')
                                in_string = false;
                        continue;
                }
                switch (c) {
                case '"':
                        in_string = true;
                        break;
                case '[':
                case '{':
                        if (++depth > max_depth)
                                return false;
                        break;
                case ']':
                case '}':
                        /* Unbalanced closers are the parser's to refuse. */
                        if (depth > 0)
                                depth--;
                        break;
                default:
                        break;
                }
        }
        return true;
}

char *web_client_key(const char *address) {
        struct in6_addr a6;
        struct in_addr a4;
        char buf[INET6_ADDRSTRLEN];

        if (!address)
                return g_strdup("-");
        if (inet_pton(AF_INET, address, &a4) == 1) {
                if (!inet_ntop(AF_INET, &a4, buf, sizeof(buf)))
                        return g_strdup("-");
                return g_strdup(buf);
        }
        if (inet_pton(AF_INET6, address, &a6) != 1)
                return g_strdup("-");
        if (IN6_IS_ADDR_V4MAPPED(&a6)) {
                memcpy(&a4, a6.s6_addr + 12, sizeof(a4));
                if (!inet_ntop(AF_INET, &a4, buf, sizeof(buf)))
                        return g_strdup("-");
                return g_strdup(buf);
        }
        memset(a6.s6_addr + 8, 0, 8);
        if (!inet_ntop(AF_INET6, &a6, buf, sizeof(buf)))
                return g_strdup("-");
        return g_strdup_printf("%s/64", buf);
}

char *web_log_escape(const char *s, size_t max) {
        GString *out = g_string_new(NULL);

        for (size_t i = 0; s && s[i] && i < max; i++) {
                unsigned char c = (unsigned char) s[i];

                if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
                        g_string_append_c(out, (char) c);
                else
                        g_string_append_printf(out, "\\x%02x", c);
        }
        if (s && strlen(s) > max)
                g_string_append(out, "...");
        return g_string_free(out, false);
}
