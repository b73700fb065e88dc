/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading a job's log, and following a job to its end with a progress bar
 * (the --wait of 'overlay build', 'overlay import' and 'overlay wipe'). */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <stdbool.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "bus-error.h"
#include "bus-properties.h"
#include "exit-codes.h"
#include "format-util.h"
#include "job-follow.h"
#include "job-info.h"
#include "overlay-info.h"
#include "json-output.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"

#define USEC_PER_MSEC UINT64_C(1000)
/* The bar is redrawn at most this often. */
#define BAR_INTERVAL_USEC (100 * USEC_PER_MSEC)
#define BAR_WIDTH_MAX 40
#define BAR_WIDTH_MIN 10
#define COLUMNS_DEFAULT 80
#define ANSI_ERASE_TO_EOL "\033[K"
#define COPY_BUFFER_SIZE (64 * 1024)
/* After the log ends, a job that is still active was most likely handed
 * to a restarted daemon; its log is opened again this many times at most. */
#define REOPEN_MAX 5

int job_open_log(sd_bus *bus, uint64_t id, const char *path, bool follow, int *ret_fd) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        int fd, copy, r;

        assert(bus);
        assert(path);
        assert(ret_fd);

        r = sd_bus_call_method(bus, L4M_BUS_NAME, path, L4M_JOB_INTERFACE, "OpenLog",
                               &error, &reply, "b", (int) follow);
        if (r < 0)
                return log_bus_error(&error, r, "cannot read the log of job %" PRIu64, id);
        r = sd_bus_message_read(reply, "h", &fd);
        if (r < 0)
                return bus_log_parse_error(r);

        /* The message owns fd; take a copy that outlives it. */
        copy = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
        if (copy < 0) {
                r = -errno;
                return log_error_errno(r, "cannot duplicate the log descriptor: %s", STRERROR(r));
        }

        *ret_fd = copy;
        return 0;
}

static int fd_set_nonblock(int fd, bool nonblock) {
        int flags = fcntl(fd, F_GETFL);

        if (flags < 0)
                return -errno;
        if (nonblock == !!(flags & O_NONBLOCK))
                return 0;
        if (fcntl(fd, F_SETFL, nonblock ? flags | O_NONBLOCK : flags & ~O_NONBLOCK) < 0)
                return -errno;
        return 0;
}

/* write() all of buf to fd, waiting if fd is non-blocking and full. */
static int write_all(int fd, const char *buf, size_t size) {
        while (size > 0) {
                ssize_t n = write(fd, buf, size);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                struct pollfd p = { .fd = fd, .events = POLLOUT };

                                if (poll(&p, 1, -1) < 0 && errno != EINTR)
                                        return -errno;
                                continue;
                        }
                        return -errno;
                }
                buf += n;
                size -= (size_t) n;
        }
        return 0;
}

/* Job output is whatever a job's process printed, a script of somebody
 * else's, say: on a terminal, control characters other than tab, newline
 * and carriage return (progress lines) are shown as '?', so that escape
 * sequences cannot retitle, recolour or rewrite the reader's terminal. */
void neutralize_controls(char *buf, size_t size) {
        for (size_t i = 0; i < size; i++) {
                unsigned char c = (unsigned char) buf[i];
                if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
                        buf[i] = '?';
        }
}

static int log_write_error(int r) {
        return log_error_errno(r, "cannot write output: %s", STRERROR(r));
}

int log_copy(int fd, const char *what) {
        g_autofree char *buf = g_malloc(COPY_BUFFER_SIZE);
        bool to_terminal;
        int r;

        assert(fd >= 0);
        assert(what);

        /* The daemon's pipes are non-blocking; here we just wait. */
        r = fd_set_nonblock(fd, false);
        if (r < 0)
                return log_error_errno(r, "cannot set up the log descriptor: %s", STRERROR(r));

        if (fflush(stdout) != 0)
                return log_write_error(errno > 0 ? -errno : -EIO);
        to_terminal = isatty(STDOUT_FILENO);

        for (;;) {
                ssize_t n = read(fd, buf, COPY_BUFFER_SIZE);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        return log_error_errno(r, "%s: %s", what, STRERROR(r));
                }
                if (n == 0)
                        return 0;

                if (to_terminal)
                        neutralize_controls(buf, (size_t) n);
                r = write_all(STDOUT_FILENO, buf, (size_t) n);
                if (r < 0)
                        return log_write_error(r);
        }
}

int job_log_copy(int fd) {
        return log_copy(fd, "cannot read the job log");
}

typedef struct Follow {
        sd_bus *bus;
        sd_event *event;
        uint64_t id;
        const char *path;

        int out_fd;              /* the log goes here */
        int log_fd;              /* -1 while none is open */
        sd_event_source *log_source;
        uint64_t copied;         /* log bytes written out so far */
        uint64_t skip;           /* log bytes to drop (already shown before a reopen) */
        bool at_line_start;      /* the last byte written out was a newline */

        char *state;             /* last known; owned */
        double progress;

        bool bar;                /* draw a progress bar on stderr */
        bool bar_shown;
        uint64_t bar_drawn_usec; /* CLOCK_MONOTONIC; 0 for never */
        sd_event_source *bar_timer;

        bool done;               /* log ended, interrupted or failed */
        bool interrupted;
        int error;               /* negative errno (logged) */
} Follow;

static uint64_t now_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * UINT64_C(1000000) + (uint64_t) ts.tv_nsec / 1000;
}

static unsigned terminal_columns(void) {
        struct winsize ws = { 0 };

        if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0)
                return COLUMNS_DEFAULT;
        return ws.ws_col;
}

static void bar_clear(Follow *f) {
        if (!f->bar_shown)
                return;
        fputs("\r" ANSI_ERASE_TO_EOL, stderr);
        fflush(stderr);
        f->bar_shown = false;
}

/* "Job 12 running [########------------]  45%", cut to the terminal. */
static void bar_draw(Follow *f) {
        g_autofree char *prefix = NULL;
        g_autoptr(GString) line = g_string_new(NULL);
        unsigned columns = terminal_columns(), percent = percent_of(f->progress);
        char suffix[16];
        size_t width;

        prefix = g_strdup_printf("Job %" PRIu64 " %s ", f->id, f->state ? f->state : "");
        snprintf(suffix, sizeof suffix, " %3u%%", percent);

        g_string_append(line, prefix);
        /* Stay off the last column: some terminals wrap there. */
        width = columns > strlen(prefix) + strlen(suffix) + 3 ?
                columns - strlen(prefix) - strlen(suffix) - 3 : 0;
        width = MIN(width, (size_t) BAR_WIDTH_MAX);
        if (width >= BAR_WIDTH_MIN) {
                size_t filled = width * percent / 100;

                g_string_append_c(line, '[');
                for (size_t i = 0; i < width; i++)
                        g_string_append_c(line, i < filled ? '#' : '-');
                g_string_append_c(line, ']');
        }
        g_string_append(line, suffix);
        if (columns > 1 && line->len > columns - 1)
                g_string_truncate(line, columns - 1);

        fprintf(stderr, "\r%s" ANSI_ERASE_TO_EOL, line->str);
        fflush(stderr);
        f->bar_shown = true;
        f->bar_drawn_usec = now_usec();
}

static int on_bar_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Follow *f = userdata;

        if (f->bar && f->at_line_start && !f->done)
                bar_draw(f);
        return 0;
}

/* Draw the bar now, or once BAR_INTERVAL_USEC has passed since the last
 * time. Not while a log line is half written: the bar would overwrite it. */
static void bar_update(Follow *f) {
        uint64_t now, due;
        int r;

        if (!f->bar || !f->at_line_start || f->done)
                return;

        now = now_usec();
        due = f->bar_drawn_usec + BAR_INTERVAL_USEC;
        if (f->bar_drawn_usec == 0 || now >= due) {
                bar_draw(f);
                return;
        }

        if (f->bar_timer) {
                r = sd_event_source_get_enabled(f->bar_timer, NULL);
                if (r > 0)
                        return; /* already due */
                r = sd_event_source_set_time(f->bar_timer, due);
                if (r >= 0)
                        r = sd_event_source_set_enabled(f->bar_timer, SD_EVENT_ONESHOT);
        } else
                r = sd_event_add_time(f->event, &f->bar_timer, CLOCK_MONOTONIC, due, 0,
                                      on_bar_timer, f);
        if (r < 0)
                log_debug_errno(r, "cannot arm the progress bar timer: %s", STRERROR(r));
}

static void follow_stop(Follow *f, int error) {
        f->done = true;
        if (error < 0 && f->error == 0)
                f->error = error;
}

static int on_log_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Follow *f = userdata;
        char buf[COPY_BUFFER_SIZE];
        size_t off = 0;
        ssize_t n;
        int r;

        n = read(fd, buf, sizeof buf);
        if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                        return 0;
                r = -errno;
                bar_clear(f);
                log_error_errno(r, "cannot read the log of job %" PRIu64 ": %s", f->id, STRERROR(r));
                follow_stop(f, r);
                return 0;
        }
        if (n == 0) {
                follow_stop(f, 0); /* the job ended, or the daemon went away */
                return 0;
        }

        if (f->skip > 0) {
                off = (size_t) MIN(f->skip, (uint64_t) n);
                f->skip -= off;
                if (off == (size_t) n)
                        return 0;
        }

        bar_clear(f);
        r = write_all(f->out_fd, buf + off, (size_t) n - off);
        if (r < 0) {
                log_write_error(r);
                follow_stop(f, r);
                return 0;
        }
        f->copied += (size_t) n - off;
        f->at_line_start = buf[n - 1] == '\n';
        bar_update(f);
        return 0;
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Follow *f = userdata;
        JobInfo changed = { .progress = f->progress };
        const char *interface;
        int r;

        r = sd_bus_message_read(m, "s", &interface);
        if (r < 0 || strcmp(interface, L4M_JOB_INTERFACE) != 0)
                return 0;

        r = job_info_from_properties(m, &changed);
        if (r < 0) {
                log_debug_errno(r, "cannot parse PropertiesChanged of %s: %s", f->path, STRERROR(r));
                return 0;
        }

        if (changed.state) {
                g_free(f->state);
                f->state = g_strdup(changed.state);
        }
        f->progress = changed.progress;
        bar_update(f);
        return 0;
}

static int on_sigint(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Follow *f = userdata;

        f->interrupted = true;
        follow_stop(f, 0);
        return 0;
}

/* Read State, Progress and Message. The strings go to *ret_reply's care. */
static int follow_read_state(Follow *f, sd_bus_message **ret_reply, JobInfo *ret) {
        g_autofree char *what = g_strdup_printf("cannot read the state of job %" PRIu64, f->id);
        int r;

        r = job_get_info(f->bus, f->path, what, ret_reply, ret);
        if (r != 0)
                return r;

        g_free(f->state);
        f->state = g_strdup(ret->state);
        f->progress = ret->progress;
        return 0;
}

static int follow_open_log(Follow *f) {
        int fd = -1, r;

        r = job_open_log(f->bus, f->id, f->path, true, &fd);
        if (r != 0)
                return r;

        r = fd_set_nonblock(fd, true);
        if (r < 0) {
                (void) close(fd);
                return log_error_errno(r, "cannot set up the log descriptor: %s", STRERROR(r));
        }

        f->log_fd = fd;
        r = sd_event_add_io(f->event, &f->log_source, fd, EPOLLIN, on_log_readable, f);
        if (r < 0)
                return log_error_errno(r, "cannot watch the job log: %s", STRERROR(r));
        return 0;
}

static void follow_close_log(Follow *f) {
        f->log_source = sd_event_source_disable_unref(f->log_source);
        l4m_close_fdp(&f->log_fd);
        f->log_fd = -1;
}

/* Returns 0 when the job's log ended (*ret_info then holds its state,
 * borrowed from *ret_reply) or following was interrupted
 * (f->interrupted), or an exit code. */
static int follow_run(Follow *f, sd_bus_message **ret_reply, JobInfo *ret_info) {
        int r;

        for (unsigned attempt = 0;; attempt++) {
                g_autoptr(sd_bus_message) reply = NULL;
                JobInfo info;

                r = follow_open_log(f);
                if (r != 0)
                        return r;

                f->done = false;
                while (!f->done) {
                        r = sd_event_run(f->event, UINT64_MAX);
                        if (r < 0) {
                                bar_clear(f);
                                return log_error_errno(r, "cannot run the event loop: %s", STRERROR(r));
                        }
                }
                follow_close_log(f);

                if (f->error < 0 || f->interrupted)
                        return f->error < 0 ? f->error : 0;

                r = follow_read_state(f, &reply, &info);
                if (r != 0)
                        return r;

                if (job_state_is_final(info.state) || attempt + 1 >= REOPEN_MAX) {
                        *ret_reply = g_steal_pointer(&reply);
                        *ret_info = info;
                        return 0;
                }

                /* Still queued or running: the daemon restarted and took the
                 * job up again. Go on with its log, without what we showed. */
                log_debug("the log of job %" PRIu64 " ended while it is %s; opening it again",
                          f->id, info.state ? info.state : "(unknown)");
                f->skip = f->copied;
                bar_update(f);
        }
}

/* Ctrl-C stops following; it must not kill us with the bar half drawn. */
static int follow_setup(Follow *f, sd_bus_slot **ret_match) {
        g_autoptr(sd_bus_message) reply = NULL;
        JobInfo info;
        sigset_t mask;
        int r;

        r = sd_event_new(&f->event);
        if (r < 0)
                return log_error_errno(r, "cannot create an event loop: %s", STRERROR(r));

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
                r = -errno;
                return log_error_errno(r, "cannot block SIGINT: %s", STRERROR(r));
        }
        r = sd_event_add_signal(f->event, NULL, SIGINT, on_sigint, f);
        if (r < 0)
                return log_error_errno(r, "cannot watch SIGINT: %s", STRERROR(r));

        /* Subscribe first, then read the state: no change is missed. */
        r = sd_bus_match_signal(f->bus, ret_match, L4M_BUS_NAME, f->path, PROPERTIES_INTERFACE,
                                "PropertiesChanged", on_properties_changed, f);
        if (r < 0)
                return log_error_errno(r, "cannot subscribe to changes of job %" PRIu64 ": %s",
                                       f->id, STRERROR(r));

        r = follow_read_state(f, &reply, &info);
        if (r != 0)
                return r;

        r = sd_bus_attach_event(f->bus, f->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "cannot attach the bus to the event loop: %s", STRERROR(r));
        return 0;
}

static bool want_bar(void) {
        const char *term = getenv("TERM");

        return isatty(STDERR_FILENO) && (!term || strcmp(term, "dumb") != 0);
}

static int print_result_json(uint64_t id, const char *path, const char *state, const char *message) {
        g_autoptr(JsonBuilder) b = json_builder_new();

        json_builder_begin_object(b);
        json_add_uint(b, "job", id);
        json_add_string_or_null(b, "path", path);
        json_add_string_or_null(b, "state", state);
        json_add_string_or_null(b, "message", message);
        json_builder_end_object(b);
        return json_print_builder(b);
}

int job_wait(sd_bus *bus, uint64_t id, const char *path, const CtlArgs *args) {
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(sd_bus_slot) match = NULL;
        Follow f = {
                .bus = bus,
                .id = id,
                .path = path,
                .out_fd = args->json ? STDERR_FILENO : STDOUT_FILENO,
                .log_fd = -1,
                .at_line_start = true,
                .bar = want_bar(),
        };
        JobInfo info = { NULL };
        const char *verb;
        int r, code;

        assert(bus);
        assert(path);
        assert(args);

        if (fflush(stdout) != 0)
                return log_write_error(errno > 0 ? -errno : -EIO);

        r = follow_setup(&f, &match);
        if (r == 0) {
                bar_update(&f);
                r = follow_run(&f, &reply, &info);
        }
        bar_clear(&f);

        follow_close_log(&f);
        f.bar_timer = sd_event_source_disable_unref(f.bar_timer);
        match = sd_bus_slot_unref(match);
        if (f.event) {
                (void) sd_bus_detach_event(bus);
                f.event = sd_event_unref(f.event);
        }

        if (r != 0) {
                g_free(f.state);
                return r;
        }

        if (f.interrupted) {
                if (!f.at_line_start)
                        (void) write_all(f.out_fd, "\n", 1);
                fprintf(stderr, "Stopped following job %" PRIu64 " (it goes on); follow it again with "
                        "'l4mctl job log %" PRIu64 " -f'.\n", id, id);
                if (args->json)
                        (void) print_result_json(id, path, f.state, NULL);
                g_free(f.state);
                return L4M_EXIT_INTERRUPTED;
        }
        g_free(f.state);

        if (!f.at_line_start)
                (void) write_all(f.out_fd, "\n", 1);

        if (info.state && strcmp(info.state, "succeeded") == 0) {
                verb = "succeeded";
                code = L4M_EXIT_SUCCESS;
        } else if (info.state && strcmp(info.state, "failed") == 0) {
                verb = "failed";
                code = L4M_EXIT_FAILURE;
        } else if (info.state && strcmp(info.state, "cancelled") == 0) {
                verb = "cancelled";
                code = L4M_EXIT_CANCELLED;
        } else {
                fprintf(stderr, "The log of job %" PRIu64 " ended, but the job is %s; follow it with "
                        "'l4mctl job log %" PRIu64 " -f'.\n",
                        id, info.state && info.state[0] ? info.state : "in an unknown state", id);
                verb = NULL;
                code = L4M_EXIT_FAILURE;
        }

        if (verb) {
                if (info.message && info.message[0])
                        fprintf(stderr, "Job %" PRIu64 " %s: %s\n", id, verb, info.message);
                else
                        fprintf(stderr, "Job %" PRIu64 " %s.\n", id, verb);
        }

        if (args->json) {
                r = print_result_json(id, path, info.state, info.message);
                if (r < 0 && code == L4M_EXIT_SUCCESS)
                        code = L4M_EXIT_FAILURE;
        }
        return code;
}

/* A job was queued: say so, or follow it with --wait. */
int job_queued(sd_bus *bus, const CtlArgs *args, const char *job_path) {
        uint64_t id;
        int r;

        r = object_id_from_path(job_path, &id);
        if (r < 0)
                return log_error_errno(r, "the daemon answered with a job path without an id: %s", job_path);

        if (args->wait) {
                fprintf(stderr, "Job %" PRIu64 " queued.\n", id);
                return job_wait(bus, id, job_path, args);
        }

        if (args->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();

                json_builder_begin_object(b);
                json_add_uint(b, "job", id);
                json_add_string_or_null(b, "path", job_path);
                json_builder_end_object(b);
                return json_print_builder(b);
        }

        printf("Job %" PRIu64 " queued.\n", id);
        return 0;
}
