/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/instances/: server instances: records and rules, units and runtime, RCON, A2S and their logs. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "console.h"
#include "fs-util.h"
#include "journal-stream.h"
#include "l4m-log.h"
#include "l4m-util.h"

/* Which messages belong to a unit's log: what its processes wrote
 * (_SYSTEMD_UNIT=, a field journald sets, so a process cannot claim
 * another unit's), and what systemd itself said about the unit (UNIT= from
 * _PID=1: started, main process exited, scheduled restart...), since an
 * operator reading a server's log wants to see its crashes and restarts.
 * UNIT= alone is not enough: any process may log a UNIT= field, and would
 * get its lines into another unit's log. And the console lines left4med
 * sends for the unit (console.c): OBJECT_SYSTEMD_UNIT= from uid 0, which
 * journalctl -u takes too (only root's processes may speak for a unit).
 * _SYSTEMD_UNIT= stays for servers started by a left4med that let them
 * write to the journal themselves.
 *
 * Following: the history comes from the journal, then the console lines
 * straight from the instance's ConsoleHub as left4med reads them (the
 * journal tells its readers of new entries up to 250 ms late). Where one
 * ends and the other starts: the hub numbers its lines (run, seq); the
 * stream notes the highest seq of the hub's run that it read in the
 * journal, and takes the hub's lines above it. From then on, journal
 * entries of that run are left out (the hub gave them), the others
 * (systemd's lines about the unit) still come from the journal. */

/* A follower that does not read: its live lines are dropped beyond this
 * much, and a line says how many once it reads again. */
#define LIVE_PENDING_MAX (1024u * 1024u)

/* What a stream formats ahead of the pipe: when the reader is slow, the
 * stream holds at most this much (plus one line) and reads no more
 * entries until the pipe takes some. */
#define PENDING_MAX (64u * 1024u)
/* Fields are read no further than a line can hold (compressed ones are
 * then not decompressed in full). */
#define DATA_THRESHOLD (JOURNAL_STREAM_LINE_MAX + 64u)

typedef struct JournalStream JournalStream;

struct JournalStreamSet {
        sd_event *event;
        unsigned max_streams;
        unsigned max_per_client;
        GPtrArray *streams;     /* JournalStream* (owned) */
};

struct JournalStream {
        JournalStreamSet *set;
        char *client;
        char *unit;
        sd_journal *journal;
        bool follow;
        uint64_t since_usec;    /* older messages are left out */
        uint64_t remaining;     /* lines still to send, without follow */
        int pipe_fd;            /* the write end, non-blocking */
        sd_event_source *pipe_io;
        sd_event_source *journal_io;
        sd_event_source *journal_timer;
        GString *pending;       /* formatted, not yet written */
        size_t pending_off;
        ConsoleHub *hub;        /* the instance's console, with follow */
        ConsoleSubscription *sub; /* live: the hub's lines come from there */
        uint64_t seam_seq;      /* the hub run's last line read in the journal */
        uint64_t dropped;       /* live lines not sent: the reader was too slow */
};

static void stream_free(JournalStream *st) {
        if (!st)
                return;
        if (st->set)
                g_ptr_array_remove_fast(st->set->streams, st);
        sd_event_source_disable_unref(st->pipe_io);
        sd_event_source_disable_unref(st->journal_io);
        sd_event_source_disable_unref(st->journal_timer);
        console_subscription_free(st->sub);
        sd_journal_close(st->journal);
        l4m_close_fdp(&st->pipe_fd);
        if (st->pending)
                g_string_free(st->pending, TRUE);
        g_free(st->client);
        g_free(st->unit);
        g_free(st);
}

int journal_stream_set_new(sd_event *event, unsigned max_streams, unsigned max_per_client,
                           JournalStreamSet **ret) {
        JournalStreamSet *s;

        assert(event);
        assert(ret);

        s = g_new0(JournalStreamSet, 1);
        s->event = sd_event_ref(event);
        s->max_streams = max_streams;
        s->max_per_client = max_per_client;
        s->streams = g_ptr_array_new();
        *ret = s;
        return 0;
}

JournalStreamSet *journal_stream_set_free(JournalStreamSet *s) {
        if (!s)
                return NULL;
        while (s->streams->len > 0)
                stream_free(s->streams->pdata[s->streams->len - 1]);
        g_ptr_array_unref(s->streams);
        sd_event_unref(s->event);
        g_free(s);
        return NULL;
}

unsigned journal_stream_set_count(const JournalStreamSet *s) {
        return s ? s->streams->len : 0;
}

unsigned journal_stream_close_unit(JournalStreamSet *s, const char *unit) {
        unsigned n = 0;

        assert(unit);
        if (!s)
                return 0;
        /* stream_free() moves the last stream into the freed one's
         * place: walking from the end, that one was looked at already. */
        for (guint i = s->streams->len; i > 0; i--) {
                JournalStream *st = s->streams->pdata[i - 1];

                if (strcmp(st->unit, unit) == 0) {
                        stream_free(st);
                        n++;
                }
        }
        return n;
}

/* Building one line: units (a character, an escape) are appended whole or
 * not at all; mark is the length up to which a cut line keeps its text and
 * still has room for the marker. */
#define LINE_TEXT_MAX (JOURNAL_STREAM_LINE_MAX - 1)     /* without '\n' */
#define CUT_MARKER_LEN (sizeof(JOURNAL_STREAM_CUT_MARKER) - 1)

typedef struct LineBuf {
        GString *out;
        size_t start;
        size_t mark;
        bool full;
} LineBuf;

static void line_put(LineBuf *b, const char *unit, size_t n) {
        size_t len;

        if (b->full)
                return;
        len = b->out->len - b->start;
        if (len + n > LINE_TEXT_MAX) {
                b->full = true;
                return;
        }
        g_string_append_len(b->out, unit, (gssize) n);
        if (len + n <= LINE_TEXT_MAX - CUT_MARKER_LEN)
                b->mark = len + n;
}

static void line_put_str(LineBuf *b, const char *s) {
        line_put(b, s, strlen(s));
}

static void line_put_escaped(LineBuf *b, const char *text, size_t size) {
        for (size_t i = 0; i < size && !b->full; i++) {
                unsigned char c = (unsigned char) text[i];

                if ((c < 0x20 && c != '\t') || c == 0x7f) {
                        char esc[5];

                        g_snprintf(esc, sizeof esc, "\\x%02x", c);
                        line_put(b, esc, 4);
                } else
                        line_put(b, (const char *) &text[i], 1);
        }
}

void journal_stream_format_line(GString *out, uint64_t realtime_usec, const char *identifier,
                                size_t identifier_len, const char *pid, size_t pid_len,
                                const char *message, size_t message_len) {
        LineBuf b = { .out = out, .start = out->len };
        time_t sec = (time_t) (realtime_usec / G_USEC_PER_SEC);
        char stamp[64];
        struct tm tm;

        if (localtime_r(&sec, &tm) && strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S%z", &tm) > 0)
                line_put_str(&b, stamp);
        else
                line_put_str(&b, "-");
        line_put_str(&b, " ");
        if (identifier) {
                line_put_escaped(&b, identifier, identifier_len);
                if (pid) {
                        line_put_str(&b, "[");
                        line_put_escaped(&b, pid, pid_len);
                        line_put_str(&b, "]");
                }
                line_put_str(&b, ": ");
        }
        line_put_escaped(&b, message, message_len);

        if (b.full) {
                size_t mark = b.mark;

                /* Not inside a UTF-8 sequence: the first byte cut off must
                 * not continue a character that starts before it. */
                while (mark > 0 && b.start + mark < out->len &&
                       ((unsigned char) out->str[b.start + mark] & 0xc0) == 0x80)
                        mark--;
                g_string_truncate(out, b.start + mark);
                g_string_append(out, JOURNAL_STREAM_CUT_MARKER);
        }
        g_string_append_c(out, '\n');
}

/* A field's value (after "NAME=") of the current entry; false if absent. */
static bool entry_field(sd_journal *j, const char *name, const char **ret, size_t *ret_len) {
        const void *data;
        size_t size, prefix = strlen(name) + 1;

        if (sd_journal_get_data(j, name, &data, &size) < 0 || size < prefix)
                return false;
        *ret = (const char *) data + prefix;
        *ret_len = size - prefix;
        return true;
}

/* Formats the current entry onto pending. Returns false for an entry that
 * is not a message (no MESSAGE field, unreadable) or older than since. */
static bool stream_format_entry(JournalStream *st) {
        g_autofree char *identifier = NULL, *pid = NULL;
        const char *value, *message;
        size_t len, message_len;
        uint64_t realtime;

        /* A console line of the hub's run: before the seam it is noted,
         * after it the hub has given it already. */
        if (st->hub && entry_field(st->journal, CONSOLE_FIELD_RUN, &value, &len) &&
            len == strlen(console_hub_run(st->hub)) && memcmp(value, console_hub_run(st->hub), len) == 0) {
                if (st->sub)
                        return false;
                if (entry_field(st->journal, CONSOLE_FIELD_SEQ, &value, &len)) {
                        g_autofree char *seq = g_strndup(value, MIN(len, (size_t) 32));

                        st->seam_seq = MAX(st->seam_seq, g_ascii_strtoull(seq, NULL, 10));
                }
        }
        if (sd_journal_get_realtime_usec(st->journal, &realtime) < 0 || realtime < st->since_usec)
                return false;
        /* What sd_journal_get_data() returns is valid only until its next
         * call: the short fields are copied, the message is read last. */
        if (entry_field(st->journal, "SYSLOG_IDENTIFIER", &value, &len) ||
            entry_field(st->journal, "_COMM", &value, &len)) {
                identifier = g_strndup(value, MIN(len, (size_t) 256));
                /* The server's, on console lines (left4med sent them). */
                if (entry_field(st->journal, "SYSLOG_PID", &value, &len) ||
                    entry_field(st->journal, "_PID", &value, &len))
                        pid = g_strndup(value, MIN(len, (size_t) 32));
        }
        if (!entry_field(st->journal, "MESSAGE", &message, &message_len))
                return false;
        journal_stream_format_line(st->pending, realtime, identifier, identifier ? strlen(identifier) : 0,
                                   pid, pid ? strlen(pid) : 0, message, message_len);
        return true;
}

/* Reads entries onto pending until it is about full, the journal has no
 * more now, or (without follow) the lines are sent. Returns 1 if something
 * was added, 0 if nothing was, or a negative errno. */
static int stream_fill(JournalStream *st) {
        bool added = false;

        /* Writing caught up: start the buffer over. */
        if (st->pending_off == st->pending->len) {
                g_string_truncate(st->pending, 0);
                st->pending_off = 0;
        }

        while (st->pending->len - st->pending_off < PENDING_MAX) {
                int r;

                if (!st->follow && st->remaining == 0)
                        break;
                r = sd_journal_next(st->journal);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                if (!stream_format_entry(st))
                        continue;
                added = true;
                if (!st->follow)
                        st->remaining--;
        }
        return added;
}

/* Writes what is pending. 0 when all went, -EAGAIN when the pipe is full,
 * another negative errno when the reader is gone (EPIPE). */
static int stream_flush(JournalStream *st) {
        while (st->pending_off < st->pending->len) {
                ssize_t n = write(st->pipe_fd, st->pending->str + st->pending_off,
                                  st->pending->len - st->pending_off);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                st->pending_off += (size_t) n;
        }
        return 0;
}

static void stream_format_console_line(JournalStream *st, const ConsoleLine *l) {
        char pid[16];

        g_snprintf(pid, sizeof pid, "%" G_GUINT32_FORMAT, l->pid);
        journal_stream_format_line(st->pending, l->realtime, console_hub_identifier(st->hub),
                                   strlen(console_hub_identifier(st->hub)), l->pid > 0 ? pid : NULL,
                                   l->pid > 0 ? strlen(pid) : 0, l->text, l->len);
}

static void stream_note_dropped(JournalStream *st) {
        g_autofree char *text = NULL;

        if (st->dropped == 0)
                return;
        text = g_strdup_printf("left4me: %" G_GUINT64_FORMAT " console line(s) left out here (the reader was too "
                               "slow, or they left the daemon's memory); journalctl -u %s has them",
                               st->dropped, st->unit);
        journal_stream_format_line(st->pending, (uint64_t) g_get_real_time(), "left4med", strlen("left4med"), NULL,
                                   0, text, strlen(text));
        st->dropped = 0;
}

/* A console line as the hub reads it. The stream is not freed here (the
 * hub is going through its subscribers): a failed write waits for the
 * pipe's event. */
static void on_console_line(const ConsoleLine *l, void *userdata) {
        JournalStream *st = userdata;
        int r;

        if (st->pending->len - st->pending_off > LIVE_PENDING_MAX) {
                st->dropped++;
                return;
        }
        stream_note_dropped(st);
        stream_format_console_line(st, l);
        r = stream_flush(st);
        if (r == 0) {
                g_string_truncate(st->pending, 0);
                st->pending_off = 0;
        } else
                (void) sd_event_source_set_io_events(st->pipe_io, EPOLLOUT);
}

static void on_console_gone(void *userdata) {
        JournalStream *st = userdata;

        st->sub = NULL;
        st->hub = NULL;
}

/* The journal has no more entries for now: from here on the hub's lines
 * come from the hub, starting after the last one the journal had. */
static void stream_go_live(JournalStream *st) {
        uint64_t missed = 0;

        st->sub = console_hub_subscribe(st->hub, st->seam_seq, on_console_line, on_console_gone, st, &missed);
        st->dropped += missed;
        stream_note_dropped(st);
}

/* Moves the stream on as far as it can go now. May free it. */
static void stream_pump(JournalStream *st) {
        int r;

        r = stream_flush(st);
        if (r == -EAGAIN) {
                /* The reader is slower: wait for room, read no entries. */
                (void) sd_event_source_set_io_events(st->pipe_io, EPOLLOUT);
                return;
        }
        if (r < 0) {
                stream_free(st);        /* the reader went away */
                return;
        }

        r = stream_fill(st);
        if (r < 0) {
                log_warning_errno(r, "Cannot read the journal of %s: %s", st->unit, STRERROR(r));
                stream_free(st);
                return;
        }
        if (r > 0) {
                /* Written when the loop comes back: one buffer per turn,
                 * however much history there is to send. */
                (void) sd_event_source_set_io_events(st->pipe_io, EPOLLOUT);
                return;
        }
        if (!st->follow) {
                stream_free(st);        /* all sent: the reader sees the end */
                return;
        }
        if (st->hub && !st->sub) {
                stream_go_live(st);
                if (st->pending->len > st->pending_off) {
                        (void) sd_event_source_set_io_events(st->pipe_io, EPOLLOUT);
                        return;
                }
        }
        /* Wait for the journal; epoll still reports ERR when the reader
         * goes away meanwhile. */
        (void) sd_event_source_set_io_events(st->pipe_io, 0);
}

static int on_pipe_event(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        JournalStream *st = userdata;

        if (revents & (EPOLLERR | EPOLLHUP)) {
                stream_free(st);
                return 0;
        }
        stream_pump(st);
        return 0;
}

static int on_journal_timer(sd_event_source *s, uint64_t usec, void *userdata);

/* sd_journal_process() after the journal's fd or its timeout fired; then
 * the next timeout sd_journal_get_timeout() asks for, if any. */
static void stream_process_journal(JournalStream *st) {
        uint64_t timeout;
        int events, r;

        r = sd_journal_process(st->journal);
        if (r < 0) {
                log_warning_errno(r, "Cannot follow the journal of %s: %s", st->unit, STRERROR(r));
                stream_free(st);
                return;
        }
        events = sd_journal_get_events(st->journal);
        if (events > 0)
                (void) sd_event_source_set_io_events(st->journal_io, (uint32_t) events);

        r = sd_journal_get_timeout(st->journal, &timeout);
        if (r < 0) {
                log_warning_errno(r, "Cannot follow the journal of %s: %s", st->unit, STRERROR(r));
                stream_free(st);
                return;
        }
        if (timeout != UINT64_MAX) {
                if (st->journal_timer)
                        r = sd_event_source_set_time(st->journal_timer, timeout);
                else
                        r = sd_event_add_time(st->set->event, &st->journal_timer, CLOCK_MONOTONIC, timeout, 0,
                                              on_journal_timer, st);
                if (r >= 0)
                        r = sd_event_source_set_enabled(st->journal_timer, SD_EVENT_ONESHOT);
                if (r < 0) {
                        log_warning_errno(r, "Cannot follow the journal of %s: %s", st->unit, STRERROR(r));
                        stream_free(st);
                        return;
                }
        } else if (st->journal_timer)
                (void) sd_event_source_set_enabled(st->journal_timer, SD_EVENT_OFF);

        /* New entries are read only when the pipe has taken all before. */
        if (st->pending_off == st->pending->len)
                stream_pump(st);
}

static int on_journal_event(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        stream_process_journal(userdata);
        return 0;
}

static int on_journal_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        stream_process_journal(userdata);
        return 0;
}

static unsigned count_of_client(JournalStreamSet *s, const char *client) {
        unsigned n = 0;

        for (guint i = 0; i < s->streams->len; i++)
                if (strcmp(((JournalStream *) s->streams->pdata[i])->client, client) == 0)
                        n++;
        return n;
}

/* Puts the journal where the stream starts: before the last `lines`
 * matching entries, or at the end for lines == 0. */
static int stream_seek(JournalStream *st, uint64_t lines) {
        int r;

        r = sd_journal_seek_tail(st->journal);
        if (r < 0)
                return r;
        /* On the entry before the first wanted one, so that
         * sd_journal_next() goes to it; fewer than that: from the head. */
        r = sd_journal_previous_skip(st->journal, lines + 1);
        if (r < 0)
                return r;
        if ((uint64_t) r < lines + 1)
                return sd_journal_seek_head(st->journal);
        return 0;
}

static int stream_add_matches(sd_journal *j, const char *unit) {
        g_autofree char *own = g_strconcat("_SYSTEMD_UNIT=", unit, NULL);
        g_autofree char *about = g_strconcat("UNIT=", unit, NULL);
        g_autofree char *object = g_strconcat("OBJECT_SYSTEMD_UNIT=", unit, NULL);
        int r;

        r = sd_journal_add_match(j, own, 0);
        if (r >= 0)
                r = sd_journal_add_disjunction(j);
        if (r >= 0)
                r = sd_journal_add_match(j, about, 0);
        if (r >= 0)
                r = sd_journal_add_match(j, "_PID=1", 0);
        if (r >= 0)
                r = sd_journal_add_disjunction(j);
        if (r >= 0)
                r = sd_journal_add_match(j, object, 0);
        if (r >= 0)
                r = sd_journal_add_match(j, "_UID=0", 0);
        return r;
}

/* The seq of the last line of the hub's run that the journal has now (0
 * if none): the seam, unless the history read later has a newer one. */
static int stream_find_seam(JournalStream *st) {
        g_autofree char *run = g_strconcat(CONSOLE_FIELD_RUN "=", console_hub_run(st->hub), NULL);
        g_autofree char *object = g_strconcat("OBJECT_SYSTEMD_UNIT=", st->unit, NULL);
        const char *value;
        size_t len;
        int r;

        r = sd_journal_add_match(st->journal, run, 0);
        if (r >= 0)
                r = sd_journal_add_match(st->journal, object, 0);
        if (r >= 0)
                r = sd_journal_add_match(st->journal, "_UID=0", 0);
        if (r >= 0)
                r = sd_journal_seek_tail(st->journal);
        if (r >= 0)
                r = sd_journal_previous(st->journal);
        if (r > 0 && entry_field(st->journal, CONSOLE_FIELD_SEQ, &value, &len)) {
                g_autofree char *seq = g_strndup(value, MIN(len, (size_t) 32));

                st->seam_seq = g_ascii_strtoull(seq, NULL, 10);
        }
        sd_journal_flush_matches(st->journal);
        return r < 0 ? r : 0;
}

int journal_stream_open(JournalStreamSet *s, const char *client, const char *unit, ConsoleHub *hub,
                        uint64_t since_usec, bool follow, uint64_t lines, int *ret_fd) {
        _cleanup_close_ int read_end = -1;
        JournalStream *st;
        int write_end, fd, r;

        assert(s);
        assert(client);
        assert(unit);
        assert(ret_fd);

        if (s->streams->len >= s->max_streams || count_of_client(s, client) >= s->max_per_client)
                return -EBUSY;
        lines = MIN(lines, (uint64_t) JOURNAL_STREAM_LINES_MAX);

        r = pipe_for_client(&read_end, &write_end);
        if (r < 0)
                return r;

        st = g_new0(JournalStream, 1);
        st->client = g_strdup(client);
        st->unit = g_strdup(unit);
        st->follow = follow;
        st->since_usec = since_usec;
        st->remaining = lines;
        st->pipe_fd = write_end;
        st->pending = g_string_sized_new(1024);

        /* Not SD_JOURNAL_SYSTEM alone: journald keeps what the uids of
         * 1000 and above write (the instances' uids among them; systemd's
         * dynamic users aside) in files of their own, user-<uid>.journal,
         * once it writes to /var. The matches below say which entries
         * count, whatever file holds them. */
        r = sd_journal_open(&st->journal, SD_JOURNAL_LOCAL_ONLY);
        if (r < 0)
                goto fail;
        r = sd_journal_set_data_threshold(st->journal, DATA_THRESHOLD);
        if (r < 0)
                goto fail;
        if (follow && hub) {
                st->hub = hub;
                r = stream_find_seam(st);
                if (r < 0)
                        goto fail;
        }
        r = stream_add_matches(st->journal, unit);
        if (r < 0)
                goto fail;

        if (follow) {
                /* Before seeking: the journal is watched from here on, so
                 * nothing written meanwhile is missed. */
                fd = sd_journal_get_fd(st->journal);
                if (fd < 0) {
                        r = fd;
                        goto fail;
                }
                r = sd_journal_get_events(st->journal);
                if (r < 0)
                        goto fail;
                r = sd_event_add_io(s->event, &st->journal_io, fd, (uint32_t) r, on_journal_event, st);
                if (r < 0)
                        goto fail;
        }
        r = stream_seek(st, lines);
        if (r < 0)
                goto fail;

        /* Writable at once: the first turn of the loop sends the history. */
        r = sd_event_add_io(s->event, &st->pipe_io, st->pipe_fd, EPOLLOUT, on_pipe_event, st);
        if (r < 0)
                goto fail;

        st->set = s;
        g_ptr_array_add(s->streams, st);
        *ret_fd = l4m_take_fd(&read_end);
        return 0;

fail:
        log_warning_errno(r, "Cannot open the journal of %s: %s", unit, STRERROR(r));
        stream_free(st);
        return r;
}
