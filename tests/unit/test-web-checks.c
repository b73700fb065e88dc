/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "l4m-listen.h"
#include "l4m-web-config.h"
#include "web-checks.h"
#include "web-generator.h"

static char *default_hosts[] = { "localhost", "127.0.0.1", "::1", NULL };

static void test_host_allowed(void) {
        char *bracketed[] = { "[::1]", "Example.ORG", NULL };

        g_assert_true(web_host_allowed("localhost", default_hosts));
        g_assert_true(web_host_allowed("localhost:8480", default_hosts));
        g_assert_true(web_host_allowed("LOCALHOST:8480", default_hosts));
        g_assert_true(web_host_allowed("127.0.0.1:8480", default_hosts));
        g_assert_true(web_host_allowed("[::1]:8480", default_hosts));
        g_assert_true(web_host_allowed("[::1]", default_hosts));
        g_assert_true(web_host_allowed("[::1]:80", bracketed));
        g_assert_true(web_host_allowed("example.org", bracketed));

        g_assert_false(web_host_allowed("evil.example", default_hosts));
        g_assert_false(web_host_allowed("localhost.evil.example", default_hosts));
        g_assert_false(web_host_allowed("127.0.0.1.nip.io:8480", default_hosts));
        g_assert_false(web_host_allowed("::1", default_hosts));            /* needs brackets */
        g_assert_false(web_host_allowed("localhost:", default_hosts));
        g_assert_false(web_host_allowed("localhost:99999", default_hosts));
        g_assert_false(web_host_allowed("localhost:80x", default_hosts));
        g_assert_false(web_host_allowed("local host", default_hosts));
        g_assert_false(web_host_allowed("localhost/x", default_hosts));
        g_assert_false(web_host_allowed("[::1", default_hosts));
        g_assert_false(web_host_allowed("[::1]x", default_hosts));
        g_assert_false(web_host_allowed("", default_hosts));
        g_assert_false(web_host_allowed(NULL, default_hosts));
}

static void test_origin(void) {
        g_assert_true(web_origin_same("http://localhost:8480", "localhost:8480", false));
        g_assert_true(web_origin_same("http://LOCALHOST:8480", "localhost:8480", false));
        g_assert_true(web_origin_same("http://localhost", "localhost:80", false));
        g_assert_true(web_origin_same("http://localhost:80", "localhost", false));
        g_assert_true(web_origin_same("https://example.org", "example.org:443", true));
        g_assert_true(web_origin_same("http://[::1]:8480", "[::1]:8480", false));

        g_assert_false(web_origin_same("https://localhost:8480", "localhost:8480", false));
        g_assert_false(web_origin_same("http://localhost:8480", "localhost:8480", true));
        g_assert_false(web_origin_same("http://localhost:8481", "localhost:8480", false));
        g_assert_false(web_origin_same("http://evil.example:8480", "localhost:8480", false));
        g_assert_false(web_origin_same("http://localhost:8480/", "localhost:8480", false));
        g_assert_false(web_origin_same("null", "localhost:8480", false));
        g_assert_false(web_origin_same("http://localhost", "localhost:8480", false));
        g_assert_false(web_origin_same(NULL, "localhost:8480", false));

        g_assert_true(web_fetch_site_ok("same-origin"));
        g_assert_true(web_fetch_site_ok("none"));
        g_assert_false(web_fetch_site_ok("same-site"));
        g_assert_false(web_fetch_site_ok("cross-site"));
        g_assert_false(web_fetch_site_ok(NULL));
}

static void test_tokens_and_cookies(void) {
        g_autofree char *c1 = NULL, *c2 = NULL, *c3 = NULL, *v = NULL, *w = NULL, *x = NULL;

        g_assert_true(web_token_equal("abc", "abc"));
        g_assert_false(web_token_equal("abc", "abd"));
        g_assert_false(web_token_equal("abc", "abcd"));
        g_assert_false(web_token_equal("", "a"));
        g_assert_false(web_token_equal(NULL, "a"));

        c1 = web_session_cookie("l4m_session", "0123", false);
        g_assert_cmpstr(c1, ==, "l4m_session=0123; HttpOnly; SameSite=Strict; Path=/");
        c2 = web_session_cookie("l4m_session", "0123", true);
        g_assert_cmpstr(c2, ==, "l4m_session=0123; HttpOnly; SameSite=Strict; Path=/; Secure");
        c3 = web_session_cookie("l4m_session", NULL, false);
        g_assert_cmpstr(c3, ==, "l4m_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");

        v = web_cookie_get("a=1; l4m_session=xyz; b=2", "l4m_session");
        g_assert_cmpstr(v, ==, "xyz");
        w = web_cookie_get("xl4m_session=bad; l4m_sessionx=bad", "l4m_session");
        g_assert_null(w);
        x = web_cookie_get("l4m_session=first", "l4m_session");
        g_assert_cmpstr(x, ==, "first");
        g_assert_null(web_cookie_get(NULL, "l4m_session"));
}

static void assert_static(const char *path, const char *expected) {
        g_autofree char *name = NULL;
        int r = web_static_file_name(path, &name);

        if (expected) {
                g_assert_cmpint(r, ==, 0);
                g_assert_cmpstr(name, ==, expected);
        } else {
                g_assert_cmpint(r, ==, -EINVAL);
                g_assert_null(name);
        }
}

static void test_static_paths(void) {
        assert_static("/", "index.html");
        assert_static("/app.js", "app.js");
        assert_static("/img/logo.svg", "img/logo.svg");

        assert_static("/../etc/passwd", NULL);
        assert_static("/..", NULL);
        assert_static("/a/../b", NULL);
        assert_static("/%2e%2e/etc/passwd", NULL);
        assert_static("/a%2fb", NULL);
        assert_static("/.hidden", NULL);
        assert_static("/a//b", NULL);
        assert_static("/a/", NULL);
        assert_static("/a\\b", NULL);
        assert_static("//etc/passwd", NULL);
        assert_static("relative", NULL);
        assert_static("/a b", NULL);
        assert_static(NULL, NULL);

        g_assert_cmpstr(web_content_type("index.html"), ==, "text/html; charset=utf-8");
        g_assert_cmpstr(web_content_type("app.js"), ==, "text/javascript; charset=utf-8");
        g_assert_cmpstr(web_content_type("style.css"), ==, "text/css; charset=utf-8");
        g_assert_cmpstr(web_content_type("x.bin"), ==, "application/octet-stream");
}

static void test_listen(void) {
        g_autofree char *addr = NULL, *addr6 = NULL;
        g_auto(GStrv) list = NULL;
        char **bad = NULL;
        unsigned port = 0;

        g_assert_cmpint(l4m_listen_address_parse("127.0.0.1:8480", &addr, &port), ==, 0);
        g_assert_cmpstr(addr, ==, "127.0.0.1");
        g_assert_cmpuint(port, ==, 8480);
        g_assert_cmpint(l4m_listen_address_parse("[::1]:443", &addr6, &port), ==, 0);
        g_assert_cmpstr(addr6, ==, "::1");
        g_assert_cmpuint(port, ==, 443);
        g_assert_cmpint(l4m_listen_address_parse("0.0.0.0:1", NULL, NULL), ==, 0);

        g_assert_cmpint(l4m_listen_address_parse("localhost:8480", NULL, NULL), ==, -EINVAL);
        g_assert_cmpint(l4m_listen_address_parse("127.0.0.1", NULL, NULL), ==, -EINVAL);
        g_assert_cmpint(l4m_listen_address_parse("8480", NULL, NULL), ==, -EINVAL);
        g_assert_cmpint(l4m_listen_address_parse("127.0.0.1:0", NULL, NULL), ==, -EINVAL);
        g_assert_cmpint(l4m_listen_address_parse("127.0.0.1:65536", NULL, NULL), ==, -EINVAL);
        g_assert_cmpint(l4m_listen_address_parse("::1:8480", NULL, NULL), ==, -EINVAL);
        g_assert_cmpint(l4m_listen_address_parse("[::1]8480", NULL, NULL), ==, -EINVAL);
        g_assert_cmpint(l4m_listen_address_parse("127.0.0.1:84\n80", NULL, NULL), ==, -EINVAL);
        g_assert_cmpint(l4m_listen_address_parse("/run/x.sock", NULL, NULL), ==, -EINVAL);
        g_assert_cmpint(l4m_listen_address_parse("1.2.3.4:80\nExecStart=x", NULL, NULL), ==, -EINVAL);

        g_assert_cmpint(l4m_listen_list_parse("127.0.0.1:8480  [::1]:8480", &list), ==, 0);
        g_assert_cmpuint(g_strv_length(list), ==, 2);
        g_assert_cmpstr(list[1], ==, "[::1]:8480");
        g_assert_cmpint(l4m_listen_list_parse("127.0.0.1:8480 nonsense", &bad), ==, -EINVAL);
        g_assert_null(bad);
        g_assert_cmpint(l4m_listen_list_parse("   ", &bad), ==, -EINVAL);
}

static void test_generator_dropin(void) {
        char *two[] = { "127.0.0.1:8480", "[::1]:8480", NULL };
        g_autofree char *text = web_generator_dropin(two);

        g_assert_nonnull(text);
        g_assert_nonnull(strstr(text, "[Socket]\nListenStream=\nListenStream=127.0.0.1:8480\nListenStream=[::1]:8480\n"));
        g_assert_null(web_generator_dropin(NULL));
}

static char *write_config(const char *text) {
        g_autoptr(GError) error = NULL;
        char *path = NULL;
        int fd = g_file_open_tmp("test-web-config-XXXXXX.conf", &path, &error);

        g_assert_no_error(error);
        close(fd);
        g_assert_true(g_file_set_contents(path, text, -1, NULL));
        return path;
}

static void test_config(void) {
        g_autofree char *path = NULL, *bad = NULL;
        L4mWebConfig c;

        l4m_web_config_init(&c);
        g_assert_cmpuint(c.max_sessions, ==, 128);
        g_assert_cmpuint(c.max_sessions_per_user, ==, 8);
        g_assert_cmpuint(c.max_connections, ==, 4096);
        g_assert_cmpuint(c.request_timeout_usec, ==, 30 * G_USEC_PER_SEC);
        g_assert_cmpuint(c.max_body_bytes, ==, 1024 * 1024);
        g_assert_true(web_host_allowed("localhost:1", c.allowed_hosts));
        g_assert_null(c.listen);

        path = write_config("[Steam]\nApiUrl=http://x/\n"
                            "[Web]\nListen=127.0.0.1:9000 [::1]:9000\nAllowedHosts=example.org;[::1]\n"
                            "SessionIdleSec=600\nMaxSessions=3\nMaxBodyBytes=64K\nMaxUploadBytes=1G\n"
                            "UiDir=/srv/ui\nHeartbeatSec=2\nNoSuchKey=1\n"
                            "MaxSessionsPerUser=2\nMaxConnections=10\nRequestTimeoutSec=5\n");
        l4m_web_config_load(&c, path);
        g_assert_cmpuint(g_strv_length(c.listen), ==, 2);
        g_assert_true(web_host_allowed("example.org:9000", c.allowed_hosts));
        g_assert_true(web_host_allowed("[::1]:9000", c.allowed_hosts));
        g_assert_false(web_host_allowed("localhost:9000", c.allowed_hosts));
        g_assert_cmpuint(c.session_idle_usec, ==, 600 * G_USEC_PER_SEC);
        g_assert_cmpuint(c.max_sessions, ==, 3);
        g_assert_cmpuint(c.max_body_bytes, ==, 64 * 1024);
        g_assert_cmpuint(c.max_upload_bytes, ==, 1024 * 1024 * 1024);
        g_assert_cmpstr(c.ui_dir, ==, "/srv/ui");
        g_assert_cmpuint(c.heartbeat_usec, ==, 2 * G_USEC_PER_SEC);
        g_assert_cmpuint(c.max_sessions_per_user, ==, 2);
        g_assert_cmpuint(c.max_connections, ==, 10);
        g_assert_cmpuint(c.request_timeout_usec, ==, 5 * G_USEC_PER_SEC);

        /* Values that do not parse leave what was there. */
        bad = write_config("[Web]\nListen=localhost:80\nMaxSessions=0\nMaxBodyBytes=lots\nUiDir=relative\n"
                           "AllowedHosts=a/b\nMaxSessionsPerUser=0\nMaxConnections=x\nRequestTimeoutSec=0\n");
        l4m_web_config_load(&c, bad);
        g_assert_cmpuint(g_strv_length(c.listen), ==, 2);
        g_assert_cmpuint(c.max_sessions, ==, 3);
        g_assert_cmpuint(c.max_body_bytes, ==, 64 * 1024);
        g_assert_cmpstr(c.ui_dir, ==, "/srv/ui");
        g_assert_cmpuint(c.max_sessions_per_user, ==, 2);
        g_assert_cmpuint(c.max_connections, ==, 10);
        g_assert_cmpuint(c.request_timeout_usec, ==, 5 * G_USEC_PER_SEC);
        g_assert_true(web_host_allowed("example.org", c.allowed_hosts));
        l4m_web_config_done(&c);
        (void) g_unlink(path);
        (void) g_unlink(bad);
}

static void test_json_depth(void) {
        g_autoptr(GString) deep = g_string_new(NULL);

        g_assert_true(web_json_depth_ok("", 0, 32));
        g_assert_true(web_json_depth_ok("{}", 2, 1));
        g_assert_false(web_json_depth_ok("[[]]", 4, 1));
        g_assert_true(web_json_depth_ok("[][][]", 6, 1));
        /* Brackets inside strings do not count, escaped quotes do not end them. */
        g_assert_true(web_json_depth_ok("[\"[[[{{{\"]", strlen("[\"[[[{{{\"]"), 1));
        g_assert_false(web_json_depth_ok("[\"\\\"\",[]]", strlen("[\"\\\"\",[]]"), 1));
        g_assert_true(web_json_depth_ok("[\"\\\\\",1]", strlen("[\"\\\\\",1]"), 1));
        g_assert_false(web_json_depth_ok("[\"\\\\\",[1]]", strlen("[\"\\\\\",[1]]"), 1));
        /* Unbalanced closers do not buy depth. */
        g_assert_false(web_json_depth_ok("]]]]{{", 6, 1));
        /* Exactly 32 levels pass, 33 do not. */
        for (int i = 0; i < 32; i++)
                g_string_append_c(deep, i % 2 ? '{' : '[');
        g_assert_true(web_json_depth_ok(deep->str, deep->len, WEB_JSON_DEPTH_MAX));
        g_string_append_c(deep, '[');
        g_assert_false(web_json_depth_ok(deep->str, deep->len, WEB_JSON_DEPTH_MAX));
        /* Only len bytes are looked at. */
        g_assert_true(web_json_depth_ok(deep->str, 32, WEB_JSON_DEPTH_MAX));
        /* 150,000 levels: refused, without recursing. */
        g_string_set_size(deep, 0);
        for (int i = 0; i < 150000; i++)
                g_string_append_c(deep, '[');
        g_assert_false(web_json_depth_ok(deep->str, deep->len, WEB_JSON_DEPTH_MAX));
}

static void test_client_key(void) {
        g_autofree char *a = web_client_key("192.0.2.7");
        g_autofree char *b = web_client_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd");
        g_autofree char *c = web_client_key("2001:db8:1:2::1");
        g_autofree char *d = web_client_key("2001:db8:1:3::1");
        g_autofree char *e = web_client_key("::ffff:192.0.2.7");
        g_autofree char *f = web_client_key(NULL);
        g_autofree char *g = web_client_key("garbage");

        g_assert_cmpstr(a, ==, "192.0.2.7");
        g_assert_cmpstr(b, ==, "2001:db8:1:2::/64");
        g_assert_cmpstr(b, ==, c);
        g_assert_cmpstr(d, ==, "2001:db8:1:3::/64");
        g_assert_cmpstr(e, ==, "192.0.2.7");
        g_assert_cmpstr(f, ==, "-");
        g_assert_cmpstr(g, ==, "-");
}

static void test_log_escape(void) {
        g_autofree char *a = web_log_escape("alice", 64);
        g_autofree char *b = web_log_escape("a\nb\"c\\\x1b[31m\xc3\xa9", 64);
        g_autofree char *c = web_log_escape("abcdef", 3);
        g_autofree char *d = web_log_escape(NULL, 64);

        g_assert_cmpstr(a, ==, "alice");
        g_assert_cmpstr(b, ==, "a\\x0ab\\x22c\\x5c\\x1b[31m\\xc3\\xa9");
        g_assert_cmpstr(c, ==, "abc...");
        g_assert_cmpstr(d, ==, "");
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/web/host-allowed", test_host_allowed);
        g_test_add_func("/web/origin", test_origin);
        g_test_add_func("/web/tokens-and-cookies", test_tokens_and_cookies);
        g_test_add_func("/web/static-paths", test_static_paths);
        g_test_add_func("/web/listen", test_listen);
        g_test_add_func("/web/generator-dropin", test_generator_dropin);
        g_test_add_func("/web/config", test_config);
        g_test_add_func("/web/json-depth", test_json_depth);
        g_test_add_func("/web/client-key", test_client_key);
        g_test_add_func("/web/log-escape", test_log_escape);
        return g_test_run();
}
