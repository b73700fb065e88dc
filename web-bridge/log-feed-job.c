/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "event-streams.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "log-feed-lines.h"
#include "sse-format.h"

/* Job logs: jobs are few and so are their readers, so each stream has its
 * own Job.OpenLog(follow=true) on its session's connection (which is the
 * check of the right to read it, too). The daemon ends a following reader
 * when the job has finished and its log is complete; then the stream
 * sends "end" with the job's State. Event ids are stream offsets after
 * each line, so Last-Event-ID: K goes on after the first K bytes. */

#define JOB_LOG_READ_MAX 16384u

typedef struct JobLogSub {
        Stream *st;
        char *path;
        int fd;
        sd_event_source *io;
        uint64_t skip;                  /* bytes the client has seen already */
        LineSplitter split;
} JobLogSub;

static void job_sub_detach(Stream *st) {
        JobLogSub *sub = st->feed;

        sd_event_source_disable_unref(sub->io);
        l4m_close_fdp(&sub->fd);
        g_free(sub->path);
        g_free(sub);
        st->feed = NULL;
}

static void on_line(const char *line, size_t len, bool cut, uint64_t end_offset, void *userdata) {
        Stream *st = userdata;
        g_autofree char *text = g_strdup_printf("%.*s%s", (int) len, line, cut ? LOG_LINE_CUT_MARKER : "");
        g_autofree char *json = sse_json_line(text, strlen(text));

        stream_send_event(st, end_offset, "log", json);
}

static int on_state(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Stream *st = userdata;
        JobLogSub *sub = st->feed;
        const char *state = "unknown";
        g_autofree char *json = NULL;
        g_autofree char *escaped = NULL;

        st->slot = sd_bus_slot_unref(st->slot);
        if (!sd_bus_message_is_method_error(reply, NULL))
                (void) sd_bus_message_read(reply, "v", "s", &state);
        escaped = g_strescape(state, NULL);
        json = g_strdup_printf("{\"State\":\"%s\"}", escaped);
        /* Its id is the end: a client that reconnects gets only "end" again. */
        stream_send_event(st, MAX(sub->split.offset, sub->skip), "end", json);
        stream_end(st);
        return 0;
}

static void job_log_complete(Stream *st) {
        JobLogSub *sub = st->feed;
        sd_bus *bus = stream_bus(st);

        line_splitter_finish(&sub->split, on_line, st);
        sub->io = sd_event_source_disable_unref(sub->io);
        if (!bus || sd_bus_call_method_async(bus, &st->slot, st->session->daemon, sub->path, "org.freedesktop.DBus.Properties",
                                             "Get", on_state, st, "ss", L4M_JOB_INTERFACE, "State") < 0)
                stream_end(st);
}

static int on_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Stream *st = userdata;
        JobLogSub *sub = st->feed;
        char buf[JOB_LOG_READ_MAX];
        ssize_t n;
        size_t off = 0;

        /* The client is slow: stop reading until its queue drains,
         * rather than reading the log into memory. */
        if (stream_queued(st) > STREAM_QUEUED_MAX / 2) {
                (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
                return 0;
        }

        n = read(fd, buf, sizeof buf);
        if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                        return 0;
                log_warning_errno(errno, "Cannot read a job log: %s", STRERROR(errno));
                stream_end(st);
                return 0;
        }
        if (n == 0) {
                job_log_complete(st);
                return 0;
        }
        if (sub->split.offset < sub->skip) {
                uint64_t left = sub->skip - sub->split.offset;
                off = (size_t) MIN(left, (uint64_t) n);
                sub->split.offset += off;
        }
        line_splitter_feed(&sub->split, buf + off, (size_t) n - off, on_line, st);
        return 0;
}

static void job_sub_drained(Stream *st) {
        JobLogSub *sub = st->feed;

        if (sub->io)
                (void) sd_event_source_set_enabled(sub->io, SD_EVENT_ON);
}

static int on_log_opened(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Stream *st = userdata;
        JobLogSub *sub = st->feed;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int fd, r;

        st->slot = sd_bus_slot_unref(st->slot);
        if (e) {
                stream_fail_bus(st, e);
                return 0;
        }
        r = sd_bus_message_read(reply, "h", &fd);
        if (r >= 0) {
                sub->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                if (sub->fd < 0 || fcntl(sub->fd, F_SETFL, O_RDONLY | O_NONBLOCK) < 0)
                        r = -errno;
        }
        if (r >= 0)
                r = sd_event_add_io(st->owner->bridge->event, &sub->io, sub->fd, EPOLLIN, on_readable, st);
        if (r < 0) {
                stream_fail(st, SOUP_STATUS_INTERNAL_SERVER_ERROR, "org.left4me.Error.Failed", "Cannot read the job log.");
                return 0;
        }
        stream_start(st);
        return 0;
}

static int on_job_found(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Stream *st = userdata;
        JobLogSub *sub = st->feed;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        sd_bus *bus = stream_bus(st);
        const char *path;
        int r;

        st->slot = sd_bus_slot_unref(st->slot);
        if (e) {
                stream_fail_bus(st, e);
                return 0;
        }
        r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0) {
                sub->path = g_strdup(path);
                r = bus ? sd_bus_call_method_async(bus, &st->slot, st->session->daemon, path, L4M_JOB_INTERFACE, "OpenLog",
                                                   on_log_opened, st, "b", 1)
                        : -ENOTCONN;
        }
        if (r < 0)
                stream_fail(st, SOUP_STATUS_BAD_GATEWAY, "org.left4me.Error.Failed", "Cannot reach the daemon.");
        return 0;
}

void job_log_stream_begin(Stream *st, uint64_t job_id) {
        JobLogSub *sub = g_new0(JobLogSub, 1);
        sd_bus *bus = stream_bus(st);
        int r;

        sub->st = st;
        sub->fd = -1;
        sub->skip = st->has_last_id ? st->last_id : 0;
        line_splitter_init(&sub->split, 0);
        st->feed = sub;
        st->detach = job_sub_detach;
        st->drained = job_sub_drained;

        r = bus ? sd_bus_call_method_async(bus, &st->slot, st->session->daemon, L4M_MANAGER_PATH,
                                           L4M_MANAGER_INTERFACE, "GetJob", on_job_found, st, "t", job_id)
                : -ENOTCONN;
        if (r < 0)
                stream_fail(st, SOUP_STATUS_BAD_GATEWAY, "org.left4me.Error.Failed", "Cannot reach the daemon.");
}
