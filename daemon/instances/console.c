/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/instances/: server instances: records and rules, units and runtime, RCON, A2S and their logs. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-id128.h>
#include <systemd/sd-journal.h>

#include "console.h"
#include "l4m-log.h"
#include "l4m-util.h"

/* How a console is read without losing a line when left4med dies (SIGKILL
 * too): the pipe's contents are first copied with tee(2) into a scratch
 * pipe and read from there, which leaves them in the console's pipe; the
 * complete lines among them go to the journal; only then are their bytes
 * taken out of the console's pipe. A daemon killed in between leaves them
 * in the pipe, which its successor gets from the store and reads again: a
 * line may then reach the journal twice, never zero times. Only an
 * unfinished line (no '\n' yet, the writer is in the middle of one) is
 * taken into memory, so that the loop does not wake up for it again and
 * again; the rest of it completes it. */

struct ConsoleSubscription {
        ConsoleHub *hub;
        ConsoleLineFunc line;
        ConsoleGoneFunc gone;
        void *userdata;
};

typedef struct Console {
        ConsoleHub *hub;
        int fd;                 /* the read end */
        char *name;             /* its FDNAME in the store */
        sd_event_source *io;
        GString *partial;       /* an unfinished line taken out of the pipe */
} Console;

struct ConsoleHub {
        sd_event *event;
        uint64_t instance_id;
        char *unit;
        char *identifier;       /* SYSLOG_IDENTIFIER= */
        char run[33];
        uint64_t seq;           /* of the last line */
        uint32_t pid;
        GPtrArray *consoles;    /* Console* (owned) */
        GQueue ring;            /* ConsoleLine* (owned), oldest first */
        size_t ring_bytes;
        GPtrArray *subscriptions;
        bool dispatching;
        uint64_t journal_failures;
};

/* One scratch pipe for every console of the process (it is emptied after
 * each use, on the one thread of the loop), and buffers of its size. */
static int scratch[2] = { -1, -1 };
static char *scratch_buf;
static char *sink_buf;
static size_t scratch_size;

static int scratch_ensure(void) {
        int fds[2], size;

        if (scratch[0] >= 0)
                return 0;
        if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
                return -errno;
        size = fcntl(fds[0], F_GETPIPE_SZ);
        if (size <= 0) {
                int r = size < 0 ? -errno : -EIO;

                close(fds[0]);
                close(fds[1]);
                return r;
        }
        scratch[0] = fds[0];
        scratch[1] = fds[1];
        scratch_size = (size_t) size;
        scratch_buf = g_malloc(scratch_size + CONSOLE_LINE_MAX);
        sink_buf = g_malloc(scratch_size);
        return 0;
}

size_t console_split_lines(const char *data, size_t size, bool at_end, ConsoleEmitFunc emit, void *userdata) {
        size_t start = 0;

        while (start < size) {
                size_t rest = size - start, n = MIN(rest, (size_t) CONSOLE_LINE_MAX);
                const char *nl = memchr(data + start, '\n', n);

                if (nl) {
                        emit(data + start, (size_t) (nl - (data + start)), userdata);
                        start = (size_t) (nl - data) + 1;
                } else if (n == CONSOLE_LINE_MAX) {
                        /* Too long: cut here, or before the start of a
                         * UTF-8 sequence the cut would go through. */
                        size_t cut = n;

                        if (start + n < size)
                                for (unsigned b = 0; b < 3 && ((unsigned char) data[start + cut] & 0xc0) == 0x80; b++)
                                        cut--;
                        if (start + cut < size && ((unsigned char) data[start + cut] & 0xc0) == 0x80)
                                cut = n;        /* not UTF-8 there anyway */
                        emit(data + start, cut, userdata);
                        start += cut;
                } else if (at_end) {
                        emit(data + start, rest, userdata);
                        start = size;
                } else
                        break;
        }
        return start;
}

static void subscription_deliver(ConsoleHub *h, const ConsoleLine *l) {
        h->dispatching = true;
        for (guint k = 0; k < h->subscriptions->len; k++) {
                ConsoleSubscription *s = h->subscriptions->pdata[k];

                s->line(l, s->userdata);
        }
        h->dispatching = false;
}

static void hub_journal_send(ConsoleHub *h, const ConsoleLine *l) {
        g_autofree char *message = g_malloc(sizeof "MESSAGE=" + l->len);
        g_autofree char *identifier = g_strconcat("SYSLOG_IDENTIFIER=", h->identifier, NULL);
        g_autofree char *unit = g_strconcat("OBJECT_SYSTEMD_UNIT=", h->unit, NULL);
        char run[64], seq[64], pid[64];
        struct iovec iov[7];
        size_t n = 0;
        int r;

        memcpy(message, "MESSAGE=", 8);
        memcpy(message + 8, l->text, l->len);
        iov[n++] = (struct iovec) { message, 8 + l->len };
        iov[n++] = (struct iovec) { (char *) "PRIORITY=6", 10 };
        iov[n++] = (struct iovec) { identifier, strlen(identifier) };
        iov[n++] = (struct iovec) { unit, strlen(unit) };
        g_snprintf(run, sizeof run, CONSOLE_FIELD_RUN "=%s", h->run);
        iov[n++] = (struct iovec) { run, strlen(run) };
        g_snprintf(seq, sizeof seq, CONSOLE_FIELD_SEQ "=%" PRIu64, l->seq);
        iov[n++] = (struct iovec) { seq, strlen(seq) };
        if (l->pid > 0) {
                g_snprintf(pid, sizeof pid, "SYSLOG_PID=%" PRIu32, l->pid);
                iov[n++] = (struct iovec) { pid, strlen(pid) };
        }
        r = sd_journal_sendv(iov, (int) n);
        if (r < 0 && h->journal_failures++ % 10000 == 0)
                /* Not to the journal that refused: to stderr. */
                fprintf(stderr, "Cannot send a console line of %s to the journal: %s\n", h->unit, STRERROR(r));
}

static void hub_line(const char *text, size_t len, void *userdata) {
        Console *c = userdata;
        ConsoleHub *h = c->hub;
        ConsoleLine *l = g_malloc(sizeof(ConsoleLine) + len + 1);

        l->seq = ++h->seq;
        l->realtime = (uint64_t) g_get_real_time();
        l->pid = h->pid;
        l->len = len;
        memcpy(l->text, text, len);
        l->text[len] = 0;

        hub_journal_send(h, l);

        g_queue_push_tail(&h->ring, l);
        h->ring_bytes += len;
        while (h->ring.length > CONSOLE_RING_LINES ||
               (h->ring_bytes > CONSOLE_RING_BYTES && h->ring.length > 1)) {
                ConsoleLine *old = g_queue_pop_head(&h->ring);

                h->ring_bytes -= old->len;
                g_free(old);
        }
        subscription_deliver(h, l);
}

static void console_free(Console *c) {
        if (!c)
                return;
        if (c->hub)
                g_ptr_array_remove_fast(c->hub->consoles, c);
        sd_event_source_disable_unref(c->io);
        l4m_close_fdp(&c->fd);
        if (c->partial)
                g_string_free(c->partial, TRUE);
        g_free(c->name);
        g_free(c);
}

void console_fdstore_remove(const char *name) {
        g_autofree char *msg = g_strdup_printf("FDSTOREREMOVE=1\nFDNAME=%s", name);

        (void) sd_pid_notify(0, false, msg);
}

/* The pipe's end: no writer is left (systemd let go of the unit's copy). */
static void console_end(Console *c) {
        if (c->partial->len > 0)
                (void) console_split_lines(c->partial->str, c->partial->len, true, hub_line, c);
        log_debug("The console %s of %s has ended.", c->name, c->hub->unit);
        console_fdstore_remove(c->name);
        console_free(c);
}

static int read_exactly(int fd, char *buf, size_t size) {
        size_t got = 0;

        while (got < size) {
                ssize_t n = read(fd, buf + got, size - got);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO;
                got += (size_t) n;
        }
        return 0;
}

/* One round: 1 if there may be more, 0 if the pipe is empty for now,
 * -EPIPE at its end, another negative errno on failure. */
static int console_read_round(Console *c) {
        size_t old = c->partial->len, take, used;
        const char *data;
        ssize_t n;
        int r;

        n = tee(c->fd, scratch[1], scratch_size, SPLICE_F_NONBLOCK);
        if (n < 0)
                return errno == EAGAIN ? 0 : errno == EINTR ? 1 : -errno;
        if (n == 0)
                return -EPIPE;
        r = read_exactly(scratch[0], scratch_buf, (size_t) n);
        if (r < 0)
                return r;

        if (old > 0) {
                g_string_append_len(c->partial, scratch_buf, n);
                data = c->partial->str;
        } else
                data = scratch_buf;
        used = console_split_lines(data, old + (size_t) n, false, hub_line, c);

        if (used <= old) {
                /* Only an unfinished line: into memory. used is above 0
                 * but not above old when the unfinished line in memory
                 * reached CONSOLE_LINE_MAX and was cut before a UTF-8
                 * sequence that began in it: its rest stays in memory
                 * with the new bytes (less than CONSOLE_LINE_MAX, or the
                 * split would have cut again). */
                if (old == 0)
                        g_string_append_len(c->partial, scratch_buf, n);
                g_string_erase(c->partial, 0, (gssize) used);
                take = (size_t) n;
        } else {
                /* The rest stays in the pipe (and is read again). */
                take = used - old;
                g_string_truncate(c->partial, 0);
        }
        r = read_exactly(c->fd, sink_buf, take);
        if (r < 0)
                return r;
        return 1;
}

static int on_console_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Console *c = userdata;

        /* A few rounds, then the others on the loop get their turn. */
        for (unsigned k = 0; k < 8; k++) {
                int r = console_read_round(c);

                if (r == 0)
                        return 0;
                if (r == -EPIPE) {
                        console_end(c);
                        return 0;
                }
                if (r < 0) {
                        log_warning_errno(r, "Cannot read the console of %s: %s", c->hub->unit, STRERROR(r));
                        console_fdstore_remove(c->name);
                        console_free(c);
                        return 0;
                }
        }
        return 0;
}

static int console_add(ConsoleHub *h, int fd, const char *name) {
        Console *c;
        int r;

        r = scratch_ensure();
        if (r < 0)
                return r;
        if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
                return -errno;
        c = g_new0(Console, 1);
        c->fd = fd;
        c->name = g_strdup(name);
        c->partial = g_string_new(NULL);
        r = sd_event_add_io(h->event, &c->io, fd, EPOLLIN, on_console_io, c);
        if (r < 0) {
                c->fd = -1;     /* the caller's still */
                console_free(c);
                return r;
        }
        c->hub = h;
        g_ptr_array_add(h->consoles, c);
        return 0;
}

int console_hub_open(ConsoleHub *h, int *ret_write_fd) {
        static uint64_t counter;
        g_autofree char *name = NULL, *msg = NULL;
        _cleanup_close_ int rd = -1, wr = -1;
        int fds[2], r;

        assert(h);
        assert(ret_write_fd);

        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        rd = fds[0];
        wr = fds[1];
        /* A larger buffer for bursts; without it (pipe-max-size, the
         * user's pipe-user-pages-soft) the kernel's default. */
        if (fcntl(wr, F_SETPIPE_SZ, (int) CONSOLE_PIPE_SIZE) < 0)
                log_debug_errno(errno, "Cannot make the console pipe of %s %u bytes: %s", h->unit,
                                CONSOLE_PIPE_SIZE, STRERROR(errno));
        /* The server's stdout and stderr: never blocking it. */
        if (fcntl(wr, F_SETFL, O_NONBLOCK) < 0)
                return -errno;

        name = g_strdup_printf(CONSOLE_FDNAME_PREFIX "%" PRIu64 "-%" PRIu64, h->instance_id,
                               (uint64_t) g_get_real_time() + counter++);
        msg = g_strdup_printf("FDSTORE=1\nFDNAME=%s", name);
        r = sd_pid_notify_with_fds(0, false, msg, &rd, 1);
        if (r < 0)
                log_warning_errno(r, "Cannot keep the console of %s in systemd's store: %s", h->unit, STRERROR(r));
        r = console_add(h, rd, name);
        if (r < 0) {
                console_fdstore_remove(name);
                return r;
        }
        rd = -1;
        *ret_write_fd = l4m_take_fd(&wr);
        return 0;
}

int console_hub_adopt(ConsoleHub *h, int fd, const char *name) {
        assert(h);
        assert(fd >= 0);
        return console_add(h, fd, name);
}

bool console_fdname_parse(const char *name, uint64_t *ret_instance_id) {
        const char *p;
        char *end;
        uint64_t id;

        if (!name || !g_str_has_prefix(name, CONSOLE_FDNAME_PREFIX))
                return false;
        p = name + strlen(CONSOLE_FDNAME_PREFIX);
        if (!g_ascii_isdigit(*p))
                return false;
        errno = 0;
        id = g_ascii_strtoull(p, &end, 10);
        if (errno != 0 || *end != '-' || !g_ascii_isdigit(end[1]))
                return false;
        for (p = end + 1; *p; p++)
                if (!g_ascii_isdigit(*p))
                        return false;
        *ret_instance_id = id;
        return true;
}

int console_hub_new(sd_event *event, uint64_t instance_id, const char *unit, const char *identifier,
                    ConsoleHub **ret) {
        ConsoleHub *h;
        sd_id128_t id;
        int r;

        assert(event);
        assert(unit);
        assert(ret);

        r = sd_id128_randomize(&id);
        if (r < 0)
                return r;
        h = g_new0(ConsoleHub, 1);
        h->event = sd_event_ref(event);
        h->instance_id = instance_id;
        h->unit = g_strdup(unit);
        h->identifier = g_strdup(identifier);
        sd_id128_to_string(id, h->run);
        h->consoles = g_ptr_array_new();
        h->subscriptions = g_ptr_array_new();
        g_queue_init(&h->ring);
        *ret = h;
        return 0;
}

ConsoleHub *console_hub_free(ConsoleHub *h) {
        if (!h)
                return NULL;
        assert(!h->dispatching);
        /* What a server wrote of a line it has not finished is out of the
         * pipe already: written now, or the next left4med would read only
         * the rest. Such a line reaches the journal in two pieces. */
        for (guint i = 0; i < h->consoles->len; i++) {
                Console *c = h->consoles->pdata[i];

                if (c->partial->len > 0) {
                        (void) console_split_lines(c->partial->str, c->partial->len, true, hub_line, c);
                        g_string_truncate(c->partial, 0);
                }
        }
        while (h->subscriptions->len > 0) {
                ConsoleSubscription *s = g_ptr_array_steal_index_fast(h->subscriptions, h->subscriptions->len - 1);

                s->hub = NULL;
                if (s->gone)
                        s->gone(s->userdata);
                g_free(s);
        }
        g_ptr_array_unref(h->subscriptions);
        while (h->consoles->len > 0)
                console_free(h->consoles->pdata[h->consoles->len - 1]);
        g_ptr_array_unref(h->consoles);
        g_queue_clear_full(&h->ring, g_free);
        sd_event_unref(h->event);
        g_free(h->unit);
        g_free(h->identifier);
        g_free(h);
        return NULL;
}

const char *console_hub_run(const ConsoleHub *h) {
        return h->run;
}

const char *console_hub_identifier(const ConsoleHub *h) {
        return h->identifier;
}

void console_hub_forget_stored(ConsoleHub *h) {
        for (guint k = 0; k < h->consoles->len; k++)
                console_fdstore_remove(((Console *) h->consoles->pdata[k])->name);
}

void console_hub_set_pid(ConsoleHub *h, uint32_t pid) {
        h->pid = pid;
}

unsigned console_hub_count(const ConsoleHub *h) {
        return h ? h->consoles->len : 0;
}

ConsoleSubscription *console_hub_subscribe(ConsoleHub *h, uint64_t after_seq, ConsoleLineFunc line,
                                           ConsoleGoneFunc gone, void *userdata, uint64_t *ret_missed) {
        ConsoleSubscription *s;
        const ConsoleLine *oldest = g_queue_peek_head(&h->ring);
        uint64_t missed = 0;

        assert(line);
        assert(!h->dispatching);

        /* Lines above after_seq that are not in the ring any more. */
        if (oldest && oldest->seq > after_seq + 1)
                missed = oldest->seq - after_seq - 1;
        else if (!oldest && h->seq > after_seq)
                missed = h->seq - after_seq;
        for (GList *l = h->ring.head; l; l = l->next) {
                const ConsoleLine *cl = l->data;

                if (cl->seq > after_seq)
                        line(cl, userdata);
        }
        s = g_new0(ConsoleSubscription, 1);
        s->hub = h;
        s->line = line;
        s->gone = gone;
        s->userdata = userdata;
        g_ptr_array_add(h->subscriptions, s);
        if (ret_missed)
                *ret_missed = missed;
        return s;
}

ConsoleSubscription *console_subscription_free(ConsoleSubscription *s) {
        if (!s)
                return NULL;
        if (s->hub) {
                assert(!s->hub->dispatching);
                g_ptr_array_remove_fast(s->hub->subscriptions, s);
        }
        g_free(s);
        return NULL;
}
