/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/: mechanisms the domains share: files without following links, workers, libcurl, units. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>
#include <glib.h>
#include <systemd/sd-event.h>

#include "dlopen-curl.h"

/* libcurl's multi interface driven by sd-event: one io source per socket
 * curl wants watched, one CLOCK_MONOTONIC timer for curl's timeouts, no
 * threads. Transfers are plain easy handles the caller owns. */

typedef struct CurlEvent CurlEvent;

int curl_event_new(sd_event *e, CurlEvent **ret);
/* Cancels what is still in flight (no callbacks), then frees. Not to be
 * called from a CurlEventDone callback. */
void curl_event_free(CurlEvent *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CurlEvent, curl_event_free)

/* error: curl's description of the failure (NULL when result is CURLE_OK),
 * valid during the call only. When done runs, easy is no longer part of c;
 * the callback may free it, add it again, or add others. */
typedef void (*CurlEventDone)(CurlEvent *c, CURL *easy, CURLcode result, const char *error, void *userdata);

/* Starts a transfer. c takes no ownership of easy, which must stay alive
 * until done has been called or curl_event_remove(); done is called
 * exactly once unless the transfer is removed first. -EBUSY if easy is
 * already in c. */
int curl_event_add(CurlEvent *c, CURL *easy, CurlEventDone done, void *userdata);
/* Cancels a transfer; done is not called. A no-op for an easy handle that
 * is not in c. Not to be called from inside curl's own callbacks (write,
 * header, progress) for that handle. */
void curl_event_remove(CurlEvent *c, CURL *easy);
unsigned curl_event_count(CurlEvent *c);

/* Defaults for every transfer. */
#define CURL_EVENT_CONNECT_TIMEOUT_SEC 30L
#define CURL_EVENT_LOW_SPEED_LIMIT 1024L        /* bytes/s ... */
#define CURL_EVENT_LOW_SPEED_TIME_SEC 60L       /* ... for this long, or the transfer fails */
#define CURL_EVENT_MAX_REDIRS 5L

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CURL, sym_curl_easy_cleanup)

/* An easy handle for url with: no signals, http/https only (also after
 * redirects), at most CURL_EVENT_MAX_REDIRS redirects, the timeouts above
 * (a test may lower CURLOPT_LOW_SPEED_* afterwards), HTTP errors (>= 400)
 * as failures (CURLE_HTTP_RETURNED_ERROR; the error body is not
 * delivered), User-Agent "left4me/<version>". Free with
 * curl_easy_cleanup(). */
int curl_event_easy_new(const char *url, CURL **ret);

/* A finished transfer as 0 or a negative errno: -EAGAIN for HTTP 408, 429
 * and 5xx, -ENOENT for 404/410, -EACCES for 401/403, -ERANGE for 416,
 * -EPROTO for other HTTP errors, -ETIMEDOUT for timeouts and stalls,
 * -ECONNRESET for dropped or truncated transfers, -ECONNREFUSED,
 * -EHOSTUNREACH, -EFBIG for an announced size over the cap, -ELOOP for too
 * many redirects, -EPROTONOSUPPORT, -ECANCELED, -ENOMEM, -EIO otherwise.
 * The HTTP status of the last response (0 if none) goes to
 * *ret_http_status if that is given. */
int curl_event_result_to_errno(CURL *easy, CURLcode result, long *ret_http_status);
/* Worth retrying (with backoff)? */
bool curl_event_errno_is_transient(int r);

/* The body collected in memory, at most max bytes; a longer body aborts the
 * transfer. */
typedef struct CurlMemorySink {
        GByteArray *data;
        size_t max;
        bool exceeded;
} CurlMemorySink;

CurlMemorySink *curl_memory_sink_new(size_t max);
void curl_memory_sink_free(CurlMemorySink *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CurlMemorySink, curl_memory_sink_free)

/* Makes easy POST body (copied) as application/x-www-form-urlencoded and
 * collect the (possibly compressed, then decoded) answer into sink, which
 * must outlive the transfer. */
int curl_event_easy_set_post_form(CURL *easy, const char *body, CurlMemorySink *sink);
/* For the done callback: curl_event_result_to_errno(), or -EFBIG when the
 * answer was longer than the sink takes. */
int curl_memory_sink_finish(const CurlMemorySink *sink, CURL *easy, CURLcode result, long *ret_http_status);

/* A download into fd: O_WRONLY or O_RDWR without O_APPEND, a regular file
 * the sink does not own; data is written with pwrite(). offset > 0 asks for
 * the rest of the file with a Range request; the server either honours it
 * (206 with a Content-Range starting at offset: `resumed`, the file is cut
 * to offset and the data lands after it) or sends the whole file (200:
 * `restarted`, the file is cut to 0 and written from there). Data that
 * would make the file larger than max aborts the transfer (`exceeded`). */
typedef struct CurlFileSink {
        int fd;
        uint64_t offset;                /* where this transfer writes from (0 after a restart) */
        uint64_t max;                   /* the final file's size cap */
        uint64_t written;               /* bytes this transfer wrote; offset + written = file size */
        long http_status;               /* of the response whose body was written */
        bool resumed;
        bool restarted;
        bool exceeded;
        int error;                      /* negative errno of a failed write or a bad answer */
        /* private */
        CURL *easy;
        bool started;
        bool have_range;
        uint64_t range_start;
} CurlFileSink;

/* Fills sink (offset <= max) and sets up easy; sink must outlive the
 * transfer and serves one transfer. `written` may be polled for progress. */
int curl_event_easy_set_download(CURL *easy, CurlFileSink *sink, int fd, uint64_t offset, uint64_t max);
/* For the done callback: the sink's own failures first (a failed write:
 * its errno; a 206 whose Content-Range does not start at offset, or another
 * 2xx status: -EPROTO; the cap: -EFBIG), else
 * curl_event_result_to_errno(). On success the file is exactly
 * offset + written bytes long. The caller still verifies the size it
 * expects. */
int curl_event_file_sink_finish(CurlFileSink *sink, CURL *easy, CURLcode result, long *ret_http_status);
