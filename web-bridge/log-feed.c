/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "event-ring.h"
#include "event-streams.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "log-feed-lines.h"
#include "sse-format.h"

/* Instance logs: one feed per instance, however many streams follow it.
 * The daemon bounds its journal readers (64 in all), so the bridge opens
 * one follow=true OpenLog per instance, splits it into lines, keeps the
 * recent ones in a ring and hands each line, formatted once, to every
 * subscriber. Each subscriber is authorised on its own session's
 * connection first, with the same call the daemon checks for logs.
 *
 * Event ids are line numbers counted from the bridge's clock in
 * microseconds when the feed opened: a feed opened later has higher ids
 * than any before it, so a client that resumes across a reopened feed is
 * told to start over rather than skipping lines. */

#define LOG_FEED_RING_LINES 1000u
#define LOG_FEED_RING_BYTES (512u * 1024u)
/* Lines the daemon starts a feed with: what the ring can hold. */
#define LOG_FEED_HISTORY LOG_FEED_RING_LINES
/* A feed nobody follows stays open this long, for a page reload. */
#define LOG_FEED_LINGER_USEC (10 * G_USEC_PER_SEC)
#define LOG_FEED_READ_MAX 65536u
/* An instance without history sends nothing at first: subscribers do not
 * wait longer than this for it. */
#define LOG_FEED_HISTORY_WAIT_USEC (300 * 1000)

typedef struct LogFeed LogFeed;

struct LogFeeds {
        Bridge *bridge;
        GHashTable *feeds;              /* instance name → LogFeed* */
        GPtrArray *closing;             /* LogFeed* at their end, out of feeds */
        GHashTable *checks;             /* "TOKEN NAME" → AuthCheck* in progress */
};

/* The check of one session's right to read one instance's log. Streams
 * of that session that ask while it runs wait for its answer rather than
 * asking again (a page may open many at once; the daemon bounds the log
 * readers of each account). An answer is never reused later. */
typedef struct AuthCheck {
        LogFeeds *feeds;
        char *key;
        char *name;
        char *path;
        sd_bus *bus;                    /* the session's connection */
        char *daemon;                   /* the unique name of the left4med it is logged in to */
        sd_bus_slot *slot;
        bool done;                      /* answered: out of checks */
        GQueue waiters;                 /* streams, via Stream.feed_link */
} AuthCheck;

struct LogFeed {
        LogFeeds *owner;
        char *name;
        char *path;
        int fd;
        sd_event_source *io;
        sd_event_source *linger;
        sd_event_source *history_wait;
        sd_bus_slot *open_slot;
        bool opened_on_session;         /* the bridge's own connection was refused: tried a subscriber's */
        bool history_read;              /* the first burst is in: waiting subscribers can start */
        bool closing;                   /* at the end of its log, in LogFeeds.closing */
        LineSplitter split;
        EventRing *ring;
        uint64_t next_id;
        GQueue streams;                 /* started, via Stream.feed_link */
        GQueue waiting;                 /* authorised, waiting for the history */
};

/* A subscriber's part, in Stream.feed. */
typedef struct LogSub {
        LogFeeds *feeds;
        AuthCheck *check;               /* while waiting for it */
        LogFeed *feed;                  /* once authorised */
        GQueue *queue;                  /* the feed's queue its link is in (streams or waiting), or NULL */
        char *name;
        char *path;
        uint64_t lines;
} LogSub;

static void feed_free(LogFeed *f) {
        if (!f)
                return;
        assert(g_queue_is_empty(&f->streams) && g_queue_is_empty(&f->waiting));
        sd_event_source_disable_unref(f->io);
        sd_event_source_disable_unref(f->linger);
        sd_event_source_disable_unref(f->history_wait);
        sd_bus_slot_unref(f->open_slot);
        l4m_close_fdp(&f->fd);
        event_ring_free(f->ring);
        g_free(f->name);
        g_free(f->path);
        g_free(f);
}

static void feed_close(LogFeed *f) {
        assert(!f->closing);
        g_hash_table_remove(f->owner->feeds, f->name);
}

/* A subscriber starts: what it missed (Last-Event-ID) or the last lines it
 * asked for, then every new line. */
static void feed_start_stream(LogFeed *f, Stream *st) {
        LogSub *sub = st->feed;
        GList *l = NULL;

        stream_start(st);
        if (st->has_last_id && !event_ring_after(f->ring, st->last_id, &l)) {
                stream_send_event(st, 0, "reset", "{}");
                l = f->ring->entries.head;
        } else if (!st->has_last_id)
                l = event_ring_last(f->ring, MIN(sub->lines, (uint64_t) LOG_FEED_RING_LINES));
        for (; l && !st->ended; l = l->next)
                stream_send(st, ((EventRingEntry *) l->data)->frame);
        if (!st->ended) {
                g_queue_push_tail_link(&f->streams, &st->feed_link);
                sub->queue = &f->streams;
        }
}

static void feed_start_waiting(LogFeed *f) {
        GList *l;

        f->history_read = true;
        f->history_wait = sd_event_source_disable_unref(f->history_wait);
        while ((l = g_queue_pop_head_link(&f->waiting))) {
                ((LogSub *) ((Stream *) l->data)->feed)->queue = NULL;
                feed_start_stream(f, l->data);
        }
}

static void on_line(const char *line, size_t len, bool cut, uint64_t end_offset, void *userdata) {
        LogFeed *f = userdata;
        g_autofree char *text = g_strdup_printf("%.*s%s", (int) len, line, cut ? LOG_LINE_CUT_MARKER : "");
        g_autofree char *json = sse_json_line(text, strlen(text));
        g_autoptr(GBytes) frame = sse_event_bytes(f->next_id, "log", json);
        GList *l, *next;

        event_ring_push(f->ring, f->next_id++, frame, NULL);
        for (l = f->streams.head; l; l = next) {
                next = l->next;         /* a dropped stream unlinks itself */
                stream_send(l->data, frame);
        }
}

/* The feed stops reading and leaves the table, so that a new subscriber
 * meanwhile opens a new one. */
static void feed_retire(LogFeed *f) {
        if (f->closing)
                return;
        line_splitter_finish(&f->split, on_line, f);
        feed_start_waiting(f);
        f->io = sd_event_source_disable_unref(f->io);
        f->linger = sd_event_source_disable_unref(f->linger);
        l4m_close_fdp(&f->fd);
        f->fd = -1;
        f->open_slot = sd_bus_slot_unref(f->open_slot);
        g_hash_table_steal(f->owner->feeds, f->name);
        g_ptr_array_add(f->owner->closing, f);
        f->closing = true;
}

/* Ends the subscribers (with "end" when the instance is gone: a browser
 * then stops following; without, it reconnects to a new feed) and frees
 * the feed. */
static void feed_finish(LogFeed *f, bool instance_gone) {
        GList *l;

        assert(f->closing);
        while ((l = f->streams.head)) {
                Stream *st = l->data;
                if (instance_gone)
                        stream_send_event(st, 0, "end", "{}");
                stream_end(st);         /* unlinks it */
        }
        g_ptr_array_remove_fast(f->owner->closing, f);        /* frees it */
}

static int on_eof_checked(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        LogFeed *f = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        const char *path = NULL;
        bool gone;

        if (e)
                gone = sd_bus_error_has_name(e, L4M_ERROR_NOT_FOUND);
        else
                gone = sd_bus_message_read(reply, "o", &path) < 0 || strcmp(path, f->path) != 0;
        feed_finish(f, gone);
        return 0;
}

/* The end of the journal stream: the daemon closes an instance's readers
 * when it is deleted, and all of them when it stops. Which one it was
 * decides whether subscribers hear "end". */
static void feed_eof(LogFeed *f) {
        feed_retire(f);
        if (sd_bus_call_method_async(f->owner->bridge->bus, &f->open_slot, L4M_BUS_NAME, L4M_MANAGER_PATH,
                                     L4M_MANAGER_INTERFACE, "GetInstance", on_eof_checked, f, "s", f->name) < 0)
                feed_finish(f, true);
}

static int on_feed_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        LogFeed *f = userdata;
        char buf[LOG_FEED_READ_MAX];
        ssize_t n;

        n = read(fd, buf, sizeof buf);
        if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                        return 0;
                log_warning_errno(errno, "Cannot read the log of instance %s: %s", f->name, STRERROR(errno));
                feed_eof(f);
                return 0;
        }
        if (n == 0) {
                feed_eof(f);
                return 0;
        }
        line_splitter_feed(&f->split, buf, (size_t) n, on_line, f);
        /* The daemon writes the history in one go: once a read leaves the
         * pipe empty, it is in the ring. */
        if (!f->history_read && (size_t) n < sizeof buf)
                feed_start_waiting(f);
        return 0;
}

static void feed_fail_waiting(LogFeed *f, const sd_bus_error *error) {
        GList *l;

        while ((l = g_queue_pop_head_link(&f->waiting))) {
                ((LogSub *) ((Stream *) l->data)->feed)->queue = NULL;
                stream_fail_bus(l->data, error);
        }
        feed_close(f);
}

static int feed_open(LogFeed *f, sd_bus *bus, const char *destination);

static int on_history_wait_over(sd_event_source *s, uint64_t usec, void *userdata) {
        feed_start_waiting(userdata);
        return 0;
}

static int on_feed_opened(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        LogFeed *f = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int fd, r;

        f->open_slot = sd_bus_slot_unref(f->open_slot);
        if (e) {
                /* The bridge's own user may not read this instance: open it
                 * on a subscriber's connection, which was allowed to. The
                 * descriptor outlives that session. */
                if (!f->opened_on_session && !g_queue_is_empty(&f->waiting) &&
                    (sd_bus_error_has_names(e, SD_BUS_ERROR_ACCESS_DENIED,
                                            SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED, L4M_ERROR_BUSY,
                                            L4M_ERROR_NOT_FOUND))) {
                        Stream *st = f->waiting.head->data;
                        sd_bus *bus = stream_bus(st);

                        f->opened_on_session = true;
                        if (bus && feed_open(f, bus, st->session->daemon) >= 0)
                                return 0;
                }
                log_warning("Cannot open the log of instance %s: %s", f->name, e->message);
                feed_fail_waiting(f, e);
                return 0;
        }

        r = sd_bus_message_read(reply, "h", &fd);
        if (r >= 0) {
                f->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                if (f->fd < 0 || fcntl(f->fd, F_SETFL, O_RDONLY | O_NONBLOCK) < 0)
                        r = -errno;
        }
        if (r >= 0)
                r = sd_event_add_io(f->owner->bridge->event, &f->io, f->fd, EPOLLIN, on_feed_readable, f);
        if (r >= 0)
                r = sd_event_add_time_relative(f->owner->bridge->event, &f->history_wait, CLOCK_MONOTONIC,
                                               LOG_FEED_HISTORY_WAIT_USEC, 0, on_history_wait_over, f);
        if (r < 0) {
                g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;

                log_warning_errno(r, "Cannot follow the log of instance %s: %s", f->name, STRERROR(r));
                sd_bus_error_set_errno(&error, r);
                feed_fail_waiting(f, &error);
        }
        return 0;
}

/* destination: the daemon's unique name for a session's connection, so that
 * the call cannot reach a restarted daemon that does not know the login. */
static int feed_open(LogFeed *f, sd_bus *bus, const char *destination) {
        return sd_bus_call_method_async(bus, &f->open_slot, destination, f->path, L4M_INSTANCE_INTERFACE, "OpenLog",
                                        on_feed_opened, f, "bt", 1, (uint64_t) LOG_FEED_HISTORY);
}

static int on_linger_over(sd_event_source *s, uint64_t usec, void *userdata) {
        feed_close(userdata);
        return 0;
}

static void auth_check_free(AuthCheck *c) {
        if (!c)
                return;
        assert(g_queue_is_empty(&c->waiters));
        sd_bus_slot_unref(c->slot);
        sd_bus_unref(c->bus);
        g_free(c->daemon);
        g_free(c->key);
        g_free(c->name);
        g_free(c->path);
        g_free(c);
}

static void log_sub_detach(Stream *st) {
        LogSub *sub = st->feed;
        LogFeed *f = sub->feed;
        AuthCheck *c = sub->check;

        if (c) {
                g_queue_unlink(&c->waiters, &st->feed_link);
                /* Nobody waits for it any more: the call is dropped. */
                if (!c->done && g_queue_is_empty(&c->waiters))
                        g_hash_table_remove(sub->feeds->checks, c->key);
        }
        if (f) {
                /* Known, not searched for: 10,000 subscribers leaving at
                 * once would be quadratic. */
                if (sub->queue)
                        g_queue_unlink(sub->queue, &st->feed_link);
                if (!f->closing && g_queue_is_empty(&f->streams) && g_queue_is_empty(&f->waiting) && !f->linger &&
                    sd_event_add_time_relative(f->owner->bridge->event, &f->linger, CLOCK_MONOTONIC,
                                               LOG_FEED_LINGER_USEC, 0, on_linger_over, f) < 0)
                        feed_close(f);
        }
        g_free(sub->name);
        g_free(sub->path);
        g_free(sub);
        st->feed = NULL;
}

/* Authorised: joins the instance's feed, opening it if need be. */
static void log_sub_attach(Stream *st) {
        LogSub *sub = st->feed;
        LogFeeds *feeds = sub->feeds;
        LogFeed *f = g_hash_table_lookup(feeds->feeds, sub->name);

        if (f && strcmp(f->path, sub->path) != 0) {
                /* A feed of an earlier instance of that name, not closed yet. */
                feed_retire(f);
                feed_finish(f, true);
                f = NULL;
        }
        if (!f) {
                int r;

                f = g_new0(LogFeed, 1);
                f->owner = feeds;
                f->name = g_strdup(sub->name);
                f->path = g_strdup(sub->path);
                f->fd = -1;
                f->ring = event_ring_new(LOG_FEED_RING_LINES, LOG_FEED_RING_BYTES, NULL);
                f->next_id = (uint64_t) g_get_real_time();
                line_splitter_init(&f->split, 0);
                g_queue_init(&f->streams);
                g_queue_init(&f->waiting);
                g_hash_table_insert(feeds->feeds, f->name, f);
                r = feed_open(f, feeds->bridge->bus, L4M_BUS_NAME);
                if (r < 0) {
                        feed_close(f);
                        stream_fail(st, SOUP_STATUS_BAD_GATEWAY, "org.left4me.Error.Failed", "Cannot reach the daemon.");
                        return;
                }
        }
        f->linger = sd_event_source_disable_unref(f->linger);
        sub->feed = f;
        if (f->history_read)
                feed_start_stream(f, st);
        else {
                g_queue_push_tail_link(&f->waiting, &st->feed_link);
                sub->queue = &f->waiting;
        }
}

/* The answer, for every stream waiting for it: on to the feed, or the
 * daemon's error. */
static void auth_check_done(AuthCheck *c, const sd_bus_error *error) {
        GList *l;

        c->done = true;
        g_hash_table_steal(c->feeds->checks, c->key);
        while ((l = g_queue_pop_head_link(&c->waiters))) {
                Stream *st = l->data;
                LogSub *sub = st->feed;

                sub->check = NULL;
                if (error)
                        stream_fail_bus(st, error);
                else {
                        sub->path = g_strdup(c->path);
                        log_sub_attach(st);
                }
        }
        auth_check_free(c);
}

static void auth_check_failed(AuthCheck *c, int r) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;

        (void) sd_bus_error_set(&error, L4M_ERROR_FAILED, "Cannot reach the daemon.");
        log_warning_errno(r, "Cannot check access to the log of instance %s: %s", c->name, STRERROR(r));
        auth_check_done(c, &error);
}

static int on_log_allowed(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        /* The descriptor of that check goes with the reply. */
        auth_check_done(userdata, sd_bus_message_get_error(reply));
        return 0;
}

static int on_instance_found(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        AuthCheck *c = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        const char *path;
        int r;

        if (e) {
                auth_check_done(c, e);
                return 0;
        }
        c->slot = sd_bus_slot_unref(c->slot);
        r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0) {
                c->path = g_strdup(path);
                /* What the daemon checks for logs, on the session's connection. */
                r = sd_bus_call_method_async(c->bus, &c->slot, c->daemon, path, L4M_INSTANCE_INTERFACE, "OpenLog",
                                             on_log_allowed, c, "bt", 0, UINT64_C(0));
        }
        if (r < 0)
                auth_check_failed(c, r);
        return 0;
}

void log_feeds_subscribe(LogFeeds *feeds, Stream *st, const char *instance, uint64_t lines) {
        g_autofree char *key = NULL;
        sd_bus *bus = stream_bus(st);
        LogSub *sub;
        AuthCheck *c;
        int r;

        sub = g_new0(LogSub, 1);
        sub->feeds = feeds;
        sub->name = g_strdup(instance);
        sub->lines = lines;
        st->feed = sub;
        st->detach = log_sub_detach;
        if (!bus) {
                stream_fail(st, SOUP_STATUS_UNAUTHORIZED, "org.left4me.Web.Unauthorized", "The session was closed.");
                return;
        }

        key = g_strdup_printf("%s %s", st->session->token, instance);
        c = g_hash_table_lookup(feeds->checks, key);
        if (!c) {
                c = g_new0(AuthCheck, 1);
                c->feeds = feeds;
                c->key = g_steal_pointer(&key);
                c->name = g_strdup(instance);
                c->bus = sd_bus_ref(bus);
                c->daemon = g_strdup(st->session->daemon);
                g_queue_init(&c->waiters);
                r = sd_bus_call_method_async(bus, &c->slot, c->daemon, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE,
                                             "GetInstance", on_instance_found, c, "s", instance);
                if (r < 0) {
                        auth_check_free(c);
                        stream_fail(st, SOUP_STATUS_BAD_GATEWAY, "org.left4me.Error.Failed", "Cannot reach the daemon.");
                        return;
                }
                g_hash_table_insert(feeds->checks, c->key, c);
        }
        sub->check = c;
        g_queue_push_tail_link(&c->waiters, &st->feed_link);
}

int log_feeds_new(Bridge *b, LogFeeds **ret) {
        LogFeeds *feeds = g_new0(LogFeeds, 1);

        feeds->bridge = b;
        feeds->feeds = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify) feed_free);
        feeds->closing = g_ptr_array_new_with_free_func((GDestroyNotify) feed_free);
        feeds->checks = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify) auth_check_free);
        *ret = feeds;
        return 0;
}

void log_feeds_free(LogFeeds *feeds) {
        if (!feeds)
                return;
        g_hash_table_unref(feeds->feeds);
        g_ptr_array_unref(feeds->closing);
        g_hash_table_unref(feeds->checks);
        g_free(feeds);
}
