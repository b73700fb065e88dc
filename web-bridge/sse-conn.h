/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <systemd/sd-event.h>

/* Event stream connections taken from libsoup once the response headers
 * are decided: a plain socket, written by one writer for all of them on
 * the bridge's sd-event loop. Frames are shared GBytes (one encoding for
 * every subscriber); a connection holds references to the frames it has
 * not written yet and nothing else. New frames are written once per loop
 * iteration with one writev() per connection; a connection whose socket
 * is full waits for EPOLLOUT, every other one is watched only for the
 * peer hanging up (EPOLLRDHUP), which costs nothing until it happens.
 *
 * A connection is closed (and its owner told through gone()) only from
 * the writer's own dispatch, never from inside sse_conn_queue(),
 * sse_conn_end() or sse_conn_abort(): callers may do those while walking
 * their lists. */

typedef struct SseWriter SseWriter;
typedef struct SseConn SseConn;

struct SseConn {
        SseWriter *writer;
        int fd;                         /* -1: not open (never, or closed) */
        sd_event_source *io;
        GQueue out;                     /* GBytes*: not written yet, the head from head_done on */
        size_t head_done;
        uint64_t queued;                /* bytes in out not yet written */
        GList pending_link;             /* in the writer's pending list (data = the connection) */
        bool pending;
        bool waiting;                   /* the socket is full: EPOLLOUT armed */
        bool ending;                    /* close once out is written */
        bool aborted;                   /* close at once, dropping out */

        /* The owner's: the connection was closed (the end, an abort, an
         * error, the peer left). Called once, from the writer's dispatch. */
        void (*gone)(SseConn *c);
        /* The owner's, optional: out shrank (called after writes). */
        void (*written)(SseConn *c);
};

int sse_writer_new(sd_event *e, SseWriter **ret);
void sse_writer_free(SseWriter *w);

/* Takes fd (a connected, non-blocking stream socket) for c, which must be
 * zeroed but for gone/written. On failure fd is closed all the same. */
int sse_conn_open(SseWriter *w, SseConn *c, int fd);

/* Queues a frame (a reference is taken) to be written with the next pass. */
void sse_conn_queue(SseConn *c, GBytes *frame);

/* Closes after what is queued has been written. */
void sse_conn_end(SseConn *c);

/* Closes at once, dropping what is queued. */
void sse_conn_abort(SseConn *c);

/* Frees what c holds without calling gone() (the owner goes first). */
void sse_conn_release(SseConn *c);
