/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/jobs/: the job engine: queued work with progress, a bounded log, cancellation and retention. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "job.h"
#include "l4m-log.h"
#include "l4m-util.h"

/* A job's output is a byte stream kept in jobs/<id>.log. When the file
 * grows past JOB_LOG_MAX, it is replaced by a marker line and its last
 * JOB_LOG_KEEP bytes (from a line start). Readers (OpenLog) follow the
 * stream, not the file: each has a position in the stream, and one that
 * fell behind a cut is told how much it missed.
 *
 * While a unit appends to the file as well (a script's output), the file
 * cannot be replaced under it: instead the daemon watches it grow (inotify)
 * and punches the old output out as a hole, so the disk holds at most about
 * JOB_LOG_MAX of it; file offsets then equal stream positions. When the
 * job ends, a file with a hole is cut the usual way. */

#define LOG_PUNCH_ALIGN 4096u

#define READER_CHUNK 16384

struct JobLogReader {
        Job *job;
        int file_fd;
        unsigned generation;
        uint64_t pos;           /* stream bytes already handed over */
        bool follow;
        int pipe_fd;
        sd_event_source *io;
        char buf[READER_CHUNK];
        size_t buf_len, buf_off;
};

static char *log_file_name(const Job *j) {
        return g_strdup_printf("%" G_GUINT64_FORMAT ".log", j->id);
}

static uint64_t stream_end(const Job *j) {
        return j->log_dropped + (j->log_size - j->log_data_start);
}

int job_log_open(Job *j) {
        g_autofree char *name = log_file_name(j);
        struct stat st;
        int fd;

        if (j->log_fd >= 0)
                return 0;
        fd = openat(j->manager->jobs_fd, name, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return log_error_errno(errno, "Cannot open jobs/%s: %s", name, STRERROR(errno));
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                int r = errno > 0 ? -errno : -EBADF;
                close(fd);
                return log_error_errno(r, "jobs/%s is not a regular file.", name);
        }
        j->log_fd = fd;
        /* A log reopened after a restart: what is in it counts as output. */
        if (j->log_size == 0)
                j->log_size = (uint64_t) st.st_size;
        return 0;
}

void job_log_close(Job *j) {
        job_log_unshare(j);
        l4m_close_fdp(&j->log_fd);
        j->log_fd = -1;
        job_log_readers_wake(j);
}

static void job_log_sync(Job *j);

/* Replaces the file by a marker and its tail, atomically (rename). */
static int job_log_cut(Job *j) {
        g_autofree char *name = log_file_name(j);
        g_autofree char *tmp = g_strconcat(name, ".new", NULL);
        g_autofree char *tail = g_malloc(JOB_LOG_KEEP);
        g_autofree char *marker = NULL;
        _cleanup_close_ int rfd = -1, wfd = -1;
        uint64_t end = stream_end(j), new_dropped, from;
        ssize_t n;
        char *start;
        size_t tail_len;
        int r;

        rfd = openat(j->manager->jobs_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (rfd < 0)
                return -errno;
        /* The last JOB_LOG_KEEP bytes, never reaching back before the kept
         * data (a truncated shared file can be short). */
        from = j->log_size > JOB_LOG_KEEP ? j->log_size - JOB_LOG_KEEP : 0;
        if (from < j->log_data_start)
                from = j->log_data_start;
        n = pread(rfd, tail, JOB_LOG_KEEP, (off_t) from);
        if (n < 0)
                return -errno;
        /* From a line start, unless it starts at a stream position anyway. */
        start = from > j->log_data_start ? memchr(tail, '\n', (size_t) n) : NULL;
        start = start ? start + 1 : tail;
        tail_len = (size_t) n - (size_t) (start - tail);
        new_dropped = end - tail_len;

        marker = g_strdup_printf("[… %" G_GUINT64_FORMAT " bytes of earlier output dropped …]\n", new_dropped);
        (void) unlinkat(j->manager->jobs_fd, tmp, 0);
        wfd = openat(j->manager->jobs_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (wfd < 0)
                return -errno;
        r = write_all(wfd, marker, strlen(marker));
        if (r >= 0)
                r = write_all(wfd, start, tail_len);
        if (r >= 0 && renameat(j->manager->jobs_fd, tmp, j->manager->jobs_fd, name) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlinkat(j->manager->jobs_fd, tmp, 0);
                return r;
        }

        /* From now on append to the new file. */
        if (fcntl(wfd, F_SETFL, O_APPEND) < 0)
                return -errno;
        l4m_close_fdp(&j->log_fd);
        j->log_fd = l4m_take_fd(&wfd);
        j->log_dropped = new_dropped;
        j->log_data_start = strlen(marker);
        j->log_size = j->log_data_start + tail_len;
        j->log_generation++;
        return 0;
}

void job_log_append(Job *j, const char *data, size_t size) {
        int r;

        if (j->log_fd < 0)
                return;
        r = write_all(j->log_fd, data, size);
        if (r < 0) {
                log_warning_errno(r, "Cannot write the log of job %" G_GUINT64_FORMAT ": %s", j->id, STRERROR(r));
                return;
        }
        if (j->log_shared) {
                job_log_sync(j);
                return;
        }
        j->log_size += size;
        if (j->log_size > JOB_LOG_MAX) {
                r = job_log_cut(j);
                if (r < 0)
                        log_warning_errno(r, "Cannot shorten the log of job %" G_GUINT64_FORMAT ": %s", j->id, STRERROR(r));
        }
        job_log_readers_wake(j);
}

/* Shared files: takes in what others appended, and keeps the disk use
 * bounded by punching out all but the last JOB_LOG_KEEP bytes. */
static void job_log_sync(Job *j) {
        uint64_t start;
        struct stat st;

        if (j->log_fd < 0 || fstat(j->log_fd, &st) < 0)
                return;
        if ((uint64_t) st.st_size < j->log_size) {
                /* The other writer truncated the file (its descriptor is
                 * its own to ftruncate): what was there counts as dropped,
                 * the stream goes on from the new end. */
                j->log_dropped = stream_end(j);
                j->log_data_start = (uint64_t) st.st_size;
        }
        j->log_size = (uint64_t) st.st_size;
        if (j->data && j->kind && j->kind->log_grew)
                j->kind->log_grew(j);

        start = j->log_data_start;
        if (j->log_size - start > JOB_LOG_MAX)
                start = (j->log_size - JOB_LOG_KEEP) / LOG_PUNCH_ALIGN * LOG_PUNCH_ALIGN;
        /* Everything before the kept tail is a hole, punched again each time:
         * a writer that dropped O_APPEND may have written into it. */
        if (start > 0 && !j->log_punch_failed) {
                if (fallocate(j->log_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t) start) < 0) {
                        log_warning_errno(errno, "Cannot drop old output of job %" G_GUINT64_FORMAT ": %s",
                                          j->id, STRERROR(errno));
                        j->log_punch_failed = true;
                } else if (start > j->log_data_start) {
                        j->log_dropped += start - j->log_data_start;
                        j->log_data_start = start;
                }
        }
        job_log_readers_wake(j);
}

static int on_log_modified(sd_event_source *s, const struct inotify_event *event, void *userdata) {
        job_log_sync(userdata);
        return 0;
}

int job_log_share(Job *j) {
        off_t data;
        int r;

        if (j->log_fd < 0)
                return -EBADF;
        if (j->log_shared)
                return 0;
        r = sd_event_add_inotify_fd(j->manager->event, &j->log_watch, j->log_fd, IN_MODIFY, on_log_modified, j);
        if (r < 0)
                return log_error_errno(r, "Cannot watch the log of job %" G_GUINT64_FORMAT ": %s", j->id, STRERROR(r));
        j->log_shared = true;

        /* Picked up again after a restart: a hole at the front is output
         * dropped before. */
        if (j->log_dropped == 0 && j->log_data_start == 0) {
                data = lseek(j->log_fd, 0, SEEK_DATA);
                if (data > 0 && (uint64_t) data <= j->log_size) {
                        j->log_dropped = (uint64_t) data;
                        j->log_data_start = (uint64_t) data;
                }
        }
        job_log_sync(j);
        return 0;
}

void job_log_unshare(Job *j) {
        int r;

        if (!j->log_shared)
                return;
        job_log_sync(j);
        j->log_watch = sd_event_source_disable_unref(j->log_watch);
        j->log_shared = false;
        /* A job that ended: nobody else writes now, so leave a plain file
         * behind, as the cut does. One still running (the daemon stops)
         * keeps its file: the unit goes on appending to it. */
        if (!job_state_is_active(j->state) && (j->log_data_start > 0 || j->log_dropped > 0)) {
                r = job_log_cut(j);
                if (r < 0)
                        log_warning_errno(r, "Cannot shorten the log of job %" G_GUINT64_FORMAT ": %s", j->id, STRERROR(r));
        }
}

static void reader_free(JobLogReader *rd) {
        if (!rd)
                return;
        if (rd->job)
                g_ptr_array_remove(rd->job->log_readers, rd);
        sd_event_source_disable_unref(rd->io);
        l4m_close_fdp(&rd->file_fd);
        l4m_close_fdp(&rd->pipe_fd);
        g_free(rd);
}

/* Fills the buffer from the stream; 0 at the end of what exists now. */
static int reader_fill(JobLogReader *rd) {
        Job *j = rd->job;
        ssize_t n;

        rd->buf_off = rd->buf_len = 0;

        if (rd->file_fd < 0 || rd->generation != j->log_generation) {
                g_autofree char *name = log_file_name(j);

                l4m_close_fdp(&rd->file_fd);
                rd->file_fd = openat(j->manager->jobs_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                if (rd->file_fd < 0)
                        return -errno;
                rd->generation = j->log_generation;
        }

        if (rd->pos < j->log_dropped) {
                int len = g_snprintf(rd->buf, sizeof rd->buf, "[… %" G_GUINT64_FORMAT " bytes of earlier output dropped …]\n",
                                     j->log_dropped - rd->pos);
                rd->buf_len = (size_t) len;
                rd->pos = j->log_dropped;
                return 1;
        }

        n = pread(rd->file_fd, rd->buf, sizeof rd->buf, (off_t) (j->log_data_start + (rd->pos - j->log_dropped)));
        if (n < 0)
                return -errno;
        rd->buf_len = (size_t) n;
        rd->pos += (uint64_t) n;
        return n > 0;
}

static int on_reader_writable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        JobLogReader *rd = userdata;

        if (revents & (EPOLLERR | EPOLLHUP)) {
                reader_free(rd);
                return 0;
        }

        for (;;) {
                ssize_t n;

                if (rd->buf_off == rd->buf_len) {
                        int r = reader_fill(rd);
                        if (r < 0) {
                                log_warning_errno(r, "Cannot read the log of job %" G_GUINT64_FORMAT ": %s",
                                                  rd->job->id, STRERROR(r));
                                reader_free(rd);
                                return 0;
                        }
                        if (r == 0) {
                                /* All there is: wait for more, or end. */
                                if (!rd->follow || rd->job->log_fd < 0)
                                        reader_free(rd);
                                else
                                        /* Wait for more, but still hear (ERR/HUP,
                                         * which epoll always reports) when the
                                         * reader goes away meanwhile. */
                                        (void) sd_event_source_set_io_events(rd->io, 0);
                                return 0;
                        }
                }

                n = write(rd->pipe_fd, rd->buf + rd->buf_off, rd->buf_len - rd->buf_off);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return 0;       /* the reader is slower: wait */
                        reader_free(rd);        /* EPIPE: it went away */
                        return 0;
                }
                rd->buf_off += (size_t) n;
        }
}

int job_log_reader_new(Job *j, bool follow, int *ret_fd) {
        _cleanup_close_ int read_end = -1;
        int write_end, r;
        JobLogReader *rd;

        if (j->log_readers->len >= JOB_LOG_READERS_MAX)
                return -EBUSY;
        r = pipe_for_client(&read_end, &write_end);
        if (r < 0)
                return r;

        rd = g_new0(JobLogReader, 1);
        rd->job = j;
        rd->file_fd = -1;
        rd->pipe_fd = write_end;
        rd->follow = follow;
        r = sd_event_add_io(j->manager->event, &rd->io, rd->pipe_fd, EPOLLOUT, on_reader_writable, rd);
        if (r < 0) {
                reader_free(rd);
                return r;
        }
        g_ptr_array_add(j->log_readers, rd);

        *ret_fd = l4m_take_fd(&read_end);
        return 0;
}

void job_log_readers_wake(Job *j) {
        for (guint i = 0; j->log_readers && i < j->log_readers->len; i++) {
                JobLogReader *rd = j->log_readers->pdata[i];
                (void) sd_event_source_set_io_events(rd->io, EPOLLOUT);
        }
}

void job_log_readers_detach(Job *j) {
        while (j->log_readers && j->log_readers->len > 0)
                reader_free(j->log_readers->pdata[0]);
}
