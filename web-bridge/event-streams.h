/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "bridge.h"
#include "sse-conn.h"

/* One Server-Sent Events response in progress. The generic part (limits,
 * the response head, backpressure, heartbeats, the end) lives in
 * event-streams.c; a feed (log-feed.c, log-feed-job.c, state-events.c)
 * fills it and is told through detach() when the stream goes away.
 *
 * Until its 200 is decided a stream is an ordinary paused libsoup
 * message. Then, on a plain HTTP connection, the connection is taken from
 * libsoup (soup_server_message_steal_connection()): the bridge writes the
 * head itself ("Connection: close", the body runs to the end of the
 * connection) and every frame after it through sse-conn.c, and the
 * message, its connection object and their main-loop sources are freed.
 * Over TLS the stream stays a libsoup message with a chunked body. */

/* Bytes a client may have outstanding (sent to it but not yet written to
 * its socket) before it is dropped: a slow reader costs bounded memory
 * and never holds up the others, which share the frames it would hold.
 * Above what a stream starts with (an instance log's 512 KiB of history). */
#define STREAM_QUEUED_MAX (1024u * 1024u)

typedef struct Stream Stream;

struct Stream {
        EventStreams *owner;
        Session *session;               /* a reference */
        SoupServerMessage *msg;         /* NULL once finished, or once the connection is taken */
        bool started;                   /* 200 and headers are out: errors can no longer be answered */
        bool ended;                     /* detached; waiting for the message to finish */
        bool active;                    /* wrote something since the last heartbeat tick */
        bool taken;                     /* the connection is the bridge's: written through conn */
        uint64_t queued;                /* libsoup's body: bytes appended, not yet written */
        SseConn conn;                   /* once taken */
        bool has_last_id;
        uint64_t last_id;               /* the request's Last-Event-ID */
        sd_bus_slot *slot;              /* a call made while setting up */

        /* The feed's: called once, when the stream ends for any reason. */
        void (*detach)(Stream *st);
        /* The feed's, optional: the queue fell below STREAM_QUEUED_MAX / 4. */
        void (*drained)(Stream *st);
        void *feed;
        GList feed_link;                /* in the feed's list of streams (data = the stream) */
};

struct EventStreams {
        Bridge *bridge;
        GHashTable *streams;            /* Stream* set: every stream not yet finished */
        GHashTable *per_session;        /* Session* → count of its streams */
        sd_event_source *heartbeat;     /* one timer for all streams */
        GBytes *ping;
        SseWriter *writer;              /* the connections taken from libsoup */
        uint64_t drop_logged_usec;      /* when a dropped client was last logged */
        unsigned drops_unlogged;        /* dropped since */
        struct LogFeeds *log_feeds;     /* log-feed.c */
        struct StateEvents *state;      /* state-events.c */
};

/* Begins a stream for msg (a GET): checks the limits (answers 429 and
 * returns NULL beyond them) and pauses msg while the feed sets up. The
 * session reference is taken. */
Stream *stream_new(EventStreams *es, Session *session, SoupServerMessage *msg);

/* Answers 200 with the event stream headers and "retry:". */
void stream_start(Stream *st);

/* Queues a frame (a shared reference is taken); drops a client that is
 * too far behind. No-op on a stream that ended. */
void stream_send(Stream *st, GBytes *frame);
void stream_send_event(Stream *st, uint64_t id, const char *event, const char *data);

/* Before stream_start(): answers with an error instead. */
void stream_fail(Stream *st, guint status, const char *name, const char *message);
void stream_fail_bus(Stream *st, const sd_bus_error *error);

/* Ends the stream (after what is queued; a dropped client is cut off at once). */
void stream_end(Stream *st);

/* Bytes queued for the client and not yet written to its socket. */
uint64_t stream_queued(const Stream *st);

/* The streams' session bus, or NULL when the session is closed. */
sd_bus *stream_bus(Stream *st);

/* log-feed.c: instance logs, one shared journal feed per instance. */
typedef struct LogFeeds LogFeeds;
int log_feeds_new(Bridge *b, LogFeeds **ret);
void log_feeds_free(LogFeeds *f);
void log_feeds_subscribe(LogFeeds *f, Stream *st, const char *instance, uint64_t lines);

/* log-feed-job.c: job logs, one OpenLog per stream. */
void job_log_stream_begin(Stream *st, uint64_t job_id);

/* state-events.c: /api/events. */
typedef struct StateEvents StateEvents;
int state_events_new(Bridge *b, StateEvents **ret);
void state_events_free(StateEvents *s);
void state_events_subscribe(StateEvents *s, Stream *st);
