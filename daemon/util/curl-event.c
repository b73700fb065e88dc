/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/: mechanisms the domains share: files without following links, workers, libcurl, units. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "config.h"
#include "curl-event.h"
#include "l4m-log.h"

typedef struct Transfer {
        CURL *easy;
        CurlEventDone done;
        void *userdata;
        char errbuf[CURL_ERROR_SIZE];
} Transfer;

struct CurlEvent {
        sd_event *event;
        CURLM *multi;
        sd_event_source *timer;
        GHashTable *transfers;          /* CURL* → Transfer* (owned) */
        GHashTable *sockets;            /* fd → sd_event_source* (owned) */
        bool dispatching;
        bool freeing;                   /* curl_event_free() runs: only let go of things */
};

static void transfer_detach(Transfer *t) {
        /* curl must not write into the buffer once it is gone */
        (void) sym_curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, NULL);
}

static void transfer_free(Transfer *t) {
        if (!t)
                return;
        transfer_detach(t);
        g_free(t);
}

/* Completions are collected after every curl_multi_socket_action(). */
static void dispatch_done(CurlEvent *c) {
        CURLMsg *msg;
        int left;

        c->dispatching = true;
        while ((msg = sym_curl_multi_info_read(c->multi, &left))) {
                CURL *easy = msg->easy_handle;
                CURLcode result = msg->data.result;
                Transfer *t;

                if (msg->msg != CURLMSG_DONE)
                        continue;

                /* msg belongs to easy: read it before removing the handle */
                (void) sym_curl_multi_remove_handle(c->multi, easy);
                if (!g_hash_table_steal_extended(c->transfers, easy, NULL, (gpointer *) &t))
                        continue;
                transfer_detach(t);
                t->done(c, easy, result,
                        result == CURLE_OK ? NULL : t->errbuf[0] ? t->errbuf : sym_curl_easy_strerror(result),
                        t->userdata);
                g_free(t);
        }
        c->dispatching = false;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        CurlEvent *c = userdata;
        int action = 0, running;
        CURLMcode mc;

        if (revents & EPOLLIN)
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & EPOLLERR)
                action |= CURL_CSELECT_ERR;
        /* EPOLLHUP alone: action 0 makes curl look at the socket itself */

        mc = sym_curl_multi_socket_action(c->multi, fd, action, &running);
        if (mc != CURLM_OK)
                log_warning("curl_multi_socket_action() on fd %d failed: %s", fd, sym_curl_multi_strerror(mc));
        dispatch_done(c);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        CurlEvent *c = userdata;
        int running;
        CURLMcode mc;

        mc = sym_curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        if (mc != CURLM_OK)
                log_warning("curl_multi_socket_action() on timeout failed: %s", sym_curl_multi_strerror(mc));
        dispatch_done(c);
        return 0;
}

/* CURLMOPT_SOCKETFUNCTION: keep one io source per socket in step with what
 * curl wants to hear about. */
static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
        CurlEvent *c = userp;
        sd_event_source *s = g_hash_table_lookup(c->sockets, GINT_TO_POINTER(fd));
        uint32_t events = 0;
        int r;

        if (what == CURL_POLL_REMOVE) {
                /* curl calls this before it closes fd */
                g_hash_table_remove(c->sockets, GINT_TO_POINTER(fd));
                return 0;
        }
        if (c->freeing)
                return 0;

        if (what & CURL_POLL_IN)
                events |= EPOLLIN;
        if (what & CURL_POLL_OUT)
                events |= EPOLLOUT;

        if (s) {
                r = sd_event_source_set_io_events(s, events);
                if (r >= 0)
                        r = sd_event_source_set_enabled(s, SD_EVENT_ON);
                if (r < 0) {
                        /* a source left over from a socket closed without
                         * CURL_POLL_REMOVE: start afresh */
                        g_hash_table_remove(c->sockets, GINT_TO_POINTER(fd));
                        s = NULL;
                }
        }
        if (!s) {
                r = sd_event_add_io(c->event, &s, fd, events, on_io, c);
                if (r >= 0) {
                        (void) sd_event_source_set_description(s, "curl-io");
                        g_hash_table_insert(c->sockets, GINT_TO_POINTER(fd), s);
                }
        }
        if (r < 0) {
                log_error_errno(r, "Cannot watch curl socket %d: %s", fd, STRERROR(r));
                return -1;
        }
        return 0;
}

/* CURLMOPT_TIMERFUNCTION: one timer, re-armed or stopped on request. Never
 * calls back into curl from here: a timeout of 0 fires on the next loop
 * iteration. */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp) {
        CurlEvent *c = userp;
        int r;

        if (c->freeing)
                return 0;
        if (timeout_ms < 0)
                r = sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
        else {
                r = sd_event_source_set_time_relative(c->timer, (uint64_t) timeout_ms * 1000u);
                if (r >= 0)
                        r = sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
        }
        if (r < 0) {
                log_error_errno(r, "Cannot arm curl timer: %s", STRERROR(r));
                return -1;
        }
        return 0;
}

static void source_unref(void *s) {
        sd_event_source_disable_unref(s);
}

int curl_event_new(sd_event *e, CurlEvent **ret) {
        CurlEvent *c;
        int r;

        assert(e);
        assert(ret);

        r = dlopen_curl();
        if (r < 0)
                return r;
        /* Reference counted inside curl; the matching cleanup is process exit. */
        if (sym_curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return -ENOMEM;

        c = g_new0(CurlEvent, 1);
        c->event = sd_event_ref(e);
        c->transfers = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify) transfer_free);
        c->sockets = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                           source_unref);

        r = sd_event_add_time(e, &c->timer, CLOCK_MONOTONIC, 0, 1, on_timer, c);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
        if (r < 0) {
                curl_event_free(c);
                return r;
        }
        (void) sd_event_source_set_description(c->timer, "curl-timer");

        c->multi = sym_curl_multi_init();
        if (!c->multi ||
            sym_curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb) != CURLM_OK ||
            sym_curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c) != CURLM_OK ||
            sym_curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb) != CURLM_OK ||
            sym_curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c) != CURLM_OK) {
                curl_event_free(c);
                return -ENOMEM;
        }

        *ret = c;
        return 0;
}

void curl_event_free(CurlEvent *c) {
        GHashTableIter it;
        gpointer easy;

        if (!c)
                return;
        assert(!c->dispatching);
        c->freeing = true;

        if (c->multi) {
                g_hash_table_iter_init(&it, c->transfers);
                while (g_hash_table_iter_next(&it, &easy, NULL))
                        (void) sym_curl_multi_remove_handle(c->multi, easy);
        }
        g_hash_table_destroy(c->transfers);
        /* may still call socket_cb to drop sockets of cached connections */
        if (c->multi)
                (void) sym_curl_multi_cleanup(c->multi);
        g_hash_table_destroy(c->sockets);
        sd_event_source_disable_unref(c->timer);
        sd_event_unref(c->event);
        g_free(c);
}

int curl_event_add(CurlEvent *c, CURL *easy, CurlEventDone done, void *userdata) {
        Transfer *t;
        CURLMcode mc;

        assert(c);
        assert(easy);
        assert(done);

        if (g_hash_table_contains(c->transfers, easy))
                return -EBUSY;

        t = g_new0(Transfer, 1);
        t->easy = easy;
        t->done = done;
        t->userdata = userdata;
        if (sym_curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->errbuf) != CURLE_OK) {
                g_free(t);
                return -EINVAL;
        }

        mc = sym_curl_multi_add_handle(c->multi, easy);
        if (mc != CURLM_OK) {
                transfer_free(t);
                return mc == CURLM_OUT_OF_MEMORY ? -ENOMEM :
                       mc == CURLM_ADDED_ALREADY ? -EBUSY : -EINVAL;
        }
        g_hash_table_insert(c->transfers, easy, t);
        return 0;
}

void curl_event_remove(CurlEvent *c, CURL *easy) {
        assert(c);

        if (!easy || !g_hash_table_contains(c->transfers, easy))
                return;
        (void) sym_curl_multi_remove_handle(c->multi, easy);
        g_hash_table_remove(c->transfers, easy);
}

unsigned curl_event_count(CurlEvent *c) {
        assert(c);
        return g_hash_table_size(c->transfers);
}

/* ---- easy handles ------------------------------------------------------ */

#define SETOPT(easy, opt, val) \
        do { \
                CURLcode _cc = sym_curl_easy_setopt((easy), (opt), (val)); \
                if (_cc != CURLE_OK) \
                        return _cc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL; \
        } while (0)

static int easy_defaults(CURL *easy, const char *url) {
        SETOPT(easy, CURLOPT_URL, url);
        SETOPT(easy, CURLOPT_NOSIGNAL, 1L);
        SETOPT(easy, CURLOPT_PROTOCOLS_STR, "http,https");
        SETOPT(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        SETOPT(easy, CURLOPT_FOLLOWLOCATION, 1L);
        SETOPT(easy, CURLOPT_MAXREDIRS, CURL_EVENT_MAX_REDIRS);
        SETOPT(easy, CURLOPT_CONNECTTIMEOUT, CURL_EVENT_CONNECT_TIMEOUT_SEC);
        SETOPT(easy, CURLOPT_LOW_SPEED_LIMIT, CURL_EVENT_LOW_SPEED_LIMIT);
        SETOPT(easy, CURLOPT_LOW_SPEED_TIME, CURL_EVENT_LOW_SPEED_TIME_SEC);
        SETOPT(easy, CURLOPT_FAILONERROR, 1L);
        SETOPT(easy, CURLOPT_USERAGENT, "left4me/" L4M_VERSION);
        return 0;
}

int curl_event_easy_new(const char *url, CURL **ret) {
        g_autoptr(CURL) easy = NULL;
        int r;

        assert(url);
        assert(ret);

        r = dlopen_curl();
        if (r < 0)
                return r;
        easy = sym_curl_easy_init();
        if (!easy)
                return -ENOMEM;
        r = easy_defaults(easy, url);
        if (r < 0)
                return r;
        *ret = g_steal_pointer(&easy);
        return 0;
}

static int http_status_to_errno(long status) {
        if (status == 408 || status == 429 || (status >= 500 && status <= 599))
                return -EAGAIN;
        if (status == 404 || status == 410)
                return -ENOENT;
        if (status == 401 || status == 403)
                return -EACCES;
        if (status == 416)
                return -ERANGE;
        return -EPROTO;
}

int curl_event_result_to_errno(CURL *easy, CURLcode result, long *ret_http_status) {
        long status = 0;

        assert(easy);

        if (sym_curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
                status = 0;
        if (ret_http_status)
                *ret_http_status = status;

        switch (result) {
        case CURLE_OK:
                return status >= 400 ? http_status_to_errno(status) : 0;
        case CURLE_HTTP_RETURNED_ERROR:
                return http_status_to_errno(status);
        case CURLE_OPERATION_TIMEDOUT:
                return -ETIMEDOUT;
        case CURLE_COULDNT_CONNECT:
                return -ECONNREFUSED;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
                return -EHOSTUNREACH;
        case CURLE_PARTIAL_FILE:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
                return -ECONNRESET;
        case CURLE_FILESIZE_EXCEEDED:
                return -EFBIG;
        case CURLE_TOO_MANY_REDIRECTS:
                return -ELOOP;
        case CURLE_UNSUPPORTED_PROTOCOL:
                return -EPROTONOSUPPORT;
        case CURLE_URL_MALFORMAT:
                return -EINVAL;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_ABORTED_BY_CALLBACK:
                return -ECANCELED;
        default:
                return -EIO;
        }
}

bool curl_event_errno_is_transient(int r) {
        switch (-r) {
        case EAGAIN:
        case ETIMEDOUT:
        case ECONNRESET:
        case ECONNREFUSED:
        case EHOSTUNREACH:
        case ENETUNREACH:
                return true;
        default:
                return false;
        }
}

/* ---- memory sink ------------------------------------------------------- */

CurlMemorySink *curl_memory_sink_new(size_t max) {
        CurlMemorySink *s;

        assert(max <= G_MAXUINT);

        s = g_new0(CurlMemorySink, 1);
        s->data = g_byte_array_new();
        s->max = max;
        return s;
}

void curl_memory_sink_free(CurlMemorySink *s) {
        if (!s)
                return;
        g_byte_array_unref(s->data);
        g_free(s);
}

static size_t memory_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata) {
        CurlMemorySink *s = userdata;
        size_t n = size * nmemb;

        if (n > s->max - s->data->len) {
                s->exceeded = true;
                return 0;
        }
        g_byte_array_append(s->data, (const guint8 *) ptr, (guint) n);
        return n;
}

int curl_event_easy_set_post_form(CURL *easy, const char *body, CurlMemorySink *sink) {
        assert(easy);
        assert(body);
        assert(sink);

        SETOPT(easy, CURLOPT_POST, 1L);
        SETOPT(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen(body));
        SETOPT(easy, CURLOPT_COPYPOSTFIELDS, body);     /* form-urlencoded is curl's default type */
        SETOPT(easy, CURLOPT_ACCEPT_ENCODING, "");      /* whatever curl can decode; the cap counts decoded bytes */
        SETOPT(easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) sink->max);
        SETOPT(easy, CURLOPT_WRITEFUNCTION, memory_write_cb);
        SETOPT(easy, CURLOPT_WRITEDATA, sink);
        return 0;
}

int curl_memory_sink_finish(const CurlMemorySink *sink, CURL *easy, CURLcode result, long *ret_http_status) {
        int r;

        assert(sink);

        r = curl_event_result_to_errno(easy, result, ret_http_status);
        return sink->exceeded ? -EFBIG : r;
}

/* ---- file sink --------------------------------------------------------- */

#define DOWNLOAD_BUFFER_SIZE (128L * 1024L)

/* Called for every header line of every response (redirects included),
 * status lines first. */
static size_t file_header_cb(char *buf, size_t size, size_t nitems, void *userdata) {
        static const char name[] = "content-range:";
        CurlFileSink *s = userdata;
        size_t n = size * nitems;
        char line[128];
        unsigned long long start;
        int consumed = 0;

        if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
                s->have_range = false;
                s->range_start = 0;
                return n;
        }
        if (n <= strlen(name) || n >= sizeof(line) || g_ascii_strncasecmp(buf, name, strlen(name)) != 0)
                return n;

        memcpy(line, buf + strlen(name), n - strlen(name));
        line[n - strlen(name)] = '\0';
        /* "bytes START-END/TOTAL" */
        if (sscanf(line, " bytes %llu-%*u/%*s%n", &start, &consumed) >= 1 && consumed > 0) {
                s->have_range = true;
                s->range_start = start;
        }
        return n;
}

/* The first body bytes are here: decide where they go. */
static int file_sink_start(CurlFileSink *s) {
        long status = 0;

        (void) sym_curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
        s->http_status = status;

        if (status == 206) {
                if (s->offset == 0 || !s->have_range || s->range_start != s->offset)
                        return -EPROTO;
                s->resumed = true;
        } else if (status == 200) {
                s->restarted = s->offset > 0;
                s->offset = 0;
        } else
                return -EPROTO;

        if (ftruncate(s->fd, (off_t) s->offset) < 0)
                return -errno;
        s->started = true;
        return 0;
}

static size_t file_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata) {
        CurlFileSink *s = userdata;
        size_t n = size * nmemb, done = 0;
        int r;

        if (!s->started) {
                r = file_sink_start(s);
                if (r < 0) {
                        s->error = r;
                        return 0;
                }
        }
        if (n > s->max - s->offset - s->written) {
                s->exceeded = true;
                return 0;
        }
        while (done < n) {
                ssize_t k = pwrite(s->fd, ptr + done, n - done, (off_t) (s->offset + s->written + done));
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        s->error = -errno;
                        return 0;
                }
                if (k == 0) {
                        s->error = -EIO;
                        return 0;
                }
                done += (size_t) k;
        }
        s->written += n;
        return n;
}

int curl_event_easy_set_download(CURL *easy, CurlFileSink *sink, int fd, uint64_t offset, uint64_t max) {
        char range[32];

        assert(easy);
        assert(sink);
        assert(fd >= 0);
        assert(offset <= max);
        assert(max <= (uint64_t) INT64_MAX);

        *sink = (CurlFileSink) { .fd = fd, .offset = offset, .max = max, .easy = easy };

        /* CURLOPT_RANGE, not CURLOPT_RESUME_FROM_LARGE: with the latter curl
         * fails a 200 answer (CURLE_RANGE_ERROR) instead of letting us take
         * the whole file. */
        if (offset > 0)
                (void) snprintf(range, sizeof(range), "%" G_GUINT64_FORMAT "-", offset);
        SETOPT(easy, CURLOPT_HTTPGET, 1L);
        SETOPT(easy, CURLOPT_RANGE, offset > 0 ? range : NULL);
        SETOPT(easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) max);
        SETOPT(easy, CURLOPT_BUFFERSIZE, DOWNLOAD_BUFFER_SIZE);
        SETOPT(easy, CURLOPT_HEADERFUNCTION, file_header_cb);
        SETOPT(easy, CURLOPT_HEADERDATA, sink);
        SETOPT(easy, CURLOPT_WRITEFUNCTION, file_write_cb);
        SETOPT(easy, CURLOPT_WRITEDATA, sink);
        return 0;
}

int curl_event_file_sink_finish(CurlFileSink *sink, CURL *easy, CURLcode result, long *ret_http_status) {
        int r;

        assert(sink);
        assert(easy == sink->easy);

        r = curl_event_result_to_errno(easy, result, ret_http_status);
        if (sink->error < 0)
                return sink->error;
        if (sink->exceeded)
                return -EFBIG;
        if (r == 0 && !sink->started) {
                /* an empty body: the file still has to be cut */
                r = file_sink_start(sink);
                if (r < 0)
                        sink->error = r;
        }
        return r;
}
