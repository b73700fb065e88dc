/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The request checks of the bridge that need no server: pure functions of
 * header values and settings, so that they can be tested on their own. */

/* The host part of a Host header value ("name", "name:port", "[v6]",
 * "[v6]:port"), lower-cased and without brackets; NULL when the value is not
 * of that form. */
char *web_host_name(const char *host_header);

/* True if the Host header names one of allowed (host names or address
 * literals, IPv6 ones with or without brackets; the port is ignored). */
bool web_host_allowed(const char *host_header, char *const *allowed);

/* True if origin (an Origin header value) is scheme://host[:port] of the
 * request itself: "https" exactly when tls, and host and port equal to the
 * Host header's (an absent port meaning the scheme's default). */
bool web_origin_same(const char *origin, const char *host_header, bool tls);

/* True for the Sec-Fetch-Site values that vouch for a same-origin request:
 * "same-origin", and "none" (typed by the user). */
bool web_fetch_site_ok(const char *value);

/* Constant-time comparison of two tokens (time depends on the lengths only). */
bool web_token_equal(const char *a, const char *b);

/* The value of cookie name in a Cookie header, or NULL. */
char *web_cookie_get(const char *cookie_header, const char *name);

/* The Set-Cookie value of the session cookie. value NULL: one that deletes it. */
char *web_session_cookie(const char *name, const char *value, bool secure);

/* Maps the path of a static-file request to a file name relative to the UI
 * directory: "/" is "index.html". Every component must be [A-Za-z0-9_.-]+
 * and not start with '.', so no "..", no hidden files, no percent-encoding,
 * no backslashes, no empty components. Returns 0 and the name, or -EINVAL. */
int web_static_file_name(const char *path, char **ret);

/* The Content-Type for a file name, by its extension. */
const char *web_content_type(const char *name);

/* POST /api/login bodies: {"user": ..., "password": ...} and no more. */
#define WEB_LOGIN_BODY_MAX 4096

/* The deepest nesting of arrays and objects a JSON request body may have. */
#define WEB_JSON_DEPTH_MAX 32

/* True if the JSON text data (len bytes) nests arrays and objects at most
 * max_depth deep. Counts '[' and '{' outside strings (honouring backslash
 * escapes) without recursion, so that a parser that recurses is never
 * handed a text that would exhaust its stack. Malformed text that passes
 * is left to the parser to refuse. */
bool web_json_depth_ok(const char *data, size_t len, unsigned max_depth);

/* The key a client address is rate-limited by: an IPv4 address as is, an
 * IPv6 address by its /64 (one host usually has a whole /64 to pick from),
 * an IPv4-mapped IPv6 address as the IPv4 address. Anything else (a Unix
 * socket, NULL) is one key of its own. */
char *web_client_key(const char *address);

/* s made safe for a log line: at most max bytes of it, printable ASCII as
 * is, everything else (and backslash and quote) as \xNN. */
char *web_log_escape(const char *s, size_t max);
