/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <sys/uio.h>
#include <unistd.h>

#include "l4m-log.h"
#include "l4m-util.h"
#include "sse-conn.h"

/* Frames handed to one writev(): a burst of lines goes out in a few calls. */
#define SSE_IOV_MAX 64

struct SseWriter {
        sd_event *event;
        sd_event_source *pass;          /* defer, one-shot: a pass over pending */
        GQueue pending;                 /* SseConn*, via SseConn.pending_link */
};

static int on_pass(sd_event_source *s, void *userdata);

int sse_writer_new(sd_event *e, SseWriter **ret) {
        SseWriter *w;
        int r;

        assert(e);
        assert(ret);

        w = g_new0(SseWriter, 1);
        w->event = sd_event_ref(e);
        g_queue_init(&w->pending);
        r = sd_event_add_defer(e, &w->pass, on_pass, w);
        if (r >= 0)
                r = sd_event_source_set_enabled(w->pass, SD_EVENT_OFF);
        if (r < 0) {
                sse_writer_free(w);
                return r;
        }
        *ret = w;
        return 0;
}

void sse_writer_free(SseWriter *w) {
        if (!w)
                return;
        assert(g_queue_is_empty(&w->pending));
        sd_event_source_disable_unref(w->pass);
        sd_event_unref(w->event);
        g_free(w);
}

static void conn_schedule(SseConn *c) {
        SseWriter *w = c->writer;

        if (c->pending)
                return;
        g_queue_push_tail_link(&w->pending, &c->pending_link);
        c->pending = true;
        (void) sd_event_source_set_enabled(w->pass, SD_EVENT_ONESHOT);
}

static void conn_unschedule(SseConn *c) {
        if (!c->pending)
                return;
        g_queue_unlink(&c->writer->pending, &c->pending_link);
        c->pending = false;
}

static void conn_drop_out(SseConn *c) {
        GBytes *frame;

        while ((frame = g_queue_pop_head(&c->out)))
                g_bytes_unref(frame);
        c->head_done = 0;
        c->queued = 0;
}

/* Frees the resources; the struct stays the owner's. */
void sse_conn_release(SseConn *c) {
        if (!c || !c->writer)
                return;
        conn_unschedule(c);
        c->io = sd_event_source_disable_unref(c->io);
        if (c->fd >= 0)
                l4m_close_fdp(&c->fd);
        c->fd = -1;
        conn_drop_out(c);
}

static void conn_close(SseConn *c) {
        void (*gone)(SseConn *c) = c->gone;

        sse_conn_release(c);
        c->gone = NULL;
        if (gone)
                gone(c);        /* may free c */
}

static int conn_wait_writable(SseConn *c, bool on) {
        int r;

        if (c->waiting == on)
                return 0;
        r = sd_event_source_set_io_events(c->io, on ? EPOLLOUT | EPOLLRDHUP | EPOLLET : EPOLLRDHUP | EPOLLET);
        if (r < 0)
                return r;
        c->waiting = on;
        return 0;
}

static void conn_consume(SseConn *c, size_t n) {
        while (n > 0) {
                GBytes *head = g_queue_peek_head(&c->out);
                size_t rest = g_bytes_get_size(head) - c->head_done;

                if (n < rest) {
                        c->head_done += n;
                        c->queued -= n;
                        return;
                }
                n -= rest;
                c->queued -= rest;
                c->head_done = 0;
                g_bytes_unref(g_queue_pop_head(&c->out));
        }
}

/* Writes what the socket takes; arms EPOLLOUT for the rest. */
static int conn_flush(SseConn *c) {
        bool wrote = false;
        int r = 0;

        while (!g_queue_is_empty(&c->out)) {
                struct iovec iov[SSE_IOV_MAX];
                size_t n = 0;
                ssize_t k;

                for (GList *l = c->out.head; l && n < SSE_IOV_MAX; l = l->next) {
                        gsize size;
                        const uint8_t *p = g_bytes_get_data(l->data, &size);
                        size_t skip = l == c->out.head ? c->head_done : 0;

                        iov[n++] = (struct iovec) { .iov_base = (void *) (p + skip), .iov_len = size - skip };
                }
                k = writev(c->fd, iov, (int) n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                r = conn_wait_writable(c, true);
                                break;
                        }
                        r = -errno;
                        break;
                }
                conn_consume(c, (size_t) k);
                wrote = true;
        }
        if (r >= 0 && g_queue_is_empty(&c->out))
                r = conn_wait_writable(c, false);
        if (r >= 0 && wrote && c->written)
                c->written(c);
        return r;
}

/* Writes, and closes when it failed or the end is written. */
static void conn_service(SseConn *c) {
        int r;

        if (c->aborted) {
                conn_close(c);
                return;
        }
        r = conn_flush(c);
        if (r < 0) {
                log_debug_errno(r, "Event stream connection lost: %s", STRERROR(r));
                conn_close(c);
                return;
        }
        if (c->ending && g_queue_is_empty(&c->out))
                conn_close(c);
}

static int on_pass(sd_event_source *s, void *userdata) {
        SseWriter *w = userdata;
        GList *l;

        while ((l = g_queue_pop_head_link(&w->pending))) {
                SseConn *c = l->data;

                c->pending = false;
                /* One that waits for EPOLLOUT is written from there. */
                if (c->waiting && !c->aborted)
                        continue;
                conn_service(c);
        }
        return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        SseConn *c = userdata;

        /* The client closed its end (or the connection broke): an event
         * stream has nothing more to say to it. */
        if (revents & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
                conn_close(c);
                return 0;
        }
        if (revents & EPOLLOUT)
                conn_service(c);
        return 0;
}

int sse_conn_open(SseWriter *w, SseConn *c, int fd) {
        int r;

        assert(w);
        assert(c);

        c->writer = w;
        c->fd = fd;
        g_queue_init(&c->out);
        c->pending_link.data = c;
        /* Edge-triggered: the bridge's loop dispatches one sd-event source
         * per GLib iteration, and a level-triggered hang-up would be
         * reported again by every epoll_wait() until its turn (10,000
         * clients leaving at once: quadratic). Writes go on until EAGAIN,
         * so no edge of EPOLLOUT is missed. */
        r = fd < 0 ? -EBADF : sd_event_add_io(w->event, &c->io, fd, EPOLLRDHUP | EPOLLET, on_io, c);
        if (r < 0) {
                /* Gone with the next pass, as if the peer had left. */
                c->aborted = true;
                conn_schedule(c);
        }
        return r;
}

void sse_conn_queue(SseConn *c, GBytes *frame) {
        assert(c);
        assert(frame);

        if (c->fd < 0 || c->ending || c->aborted || g_bytes_get_size(frame) == 0)
                return;
        g_queue_push_tail(&c->out, g_bytes_ref(frame));
        c->queued += g_bytes_get_size(frame);
        if (!c->waiting)
                conn_schedule(c);
}

void sse_conn_end(SseConn *c) {
        assert(c);

        if (c->ending || c->aborted)
                return;
        c->ending = true;
        if (!c->waiting)
                conn_schedule(c);
}

void sse_conn_abort(SseConn *c) {
        assert(c);

        if (c->aborted)
                return;
        c->aborted = true;
        conn_drop_out(c);
        conn_schedule(c);
}
