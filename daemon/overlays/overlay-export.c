/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/overlays/: overlays: their records and rules, their bus objects, and wiping one. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive-extract.h"
#include "dlopen-archive.h"
#include "fs-util.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "overlay.h"
#include "overlay-export.h"
#include "problem.h"
#include "tree-copy.h"
#include "worker.h"

/* How often a writer waiting for its reader looks at cancellation. */
#define EXPORT_POLL_MSEC 1000
#define EXPORT_READ_BUFFER (128u * 1024u)

typedef struct OverlayExport {
        Manager *manager;
        uint64_t overlay_id;
        char *overlay_name;
        char *client;           /* the principal it is for, for the per-client bound */
        Worker *worker;
        /* The thread's: */
        int dir_fd;             /* overlays/<id> */
        int pipe_fd;            /* the write end, non-blocking */
        struct archive *archive;
        GString *path;          /* of the entry being written, relative to the overlay */
        char *error;            /* why it stopped, for the journal */
} OverlayExport;

static void export_free(OverlayExport *e) {
        if (!e)
                return;
        e->worker = worker_free(e->worker);
        l4m_close_fdp(&e->dir_fd);
        l4m_close_fdp(&e->pipe_fd);
        if (e->path)
                g_string_free(e->path, TRUE);
        g_free(e->overlay_name);
        g_free(e->client);
        g_free(e->error);
        g_free(e);
}

/* libarchive's output: the pipe, waiting (and looking at cancellation)
 * while it is full. A reader gone is EPIPE (SIGPIPE is ignored). */
static la_ssize_t write_to_pipe(struct archive *a, void *userdata, const void *buffer, size_t size) {
        OverlayExport *e = userdata;
        const char *p = buffer;
        size_t left = size;
        unsigned idle_msec = 0;

        while (left > 0) {
                struct pollfd pfd = { .fd = e->pipe_fd, .events = POLLOUT };
                ssize_t n;

                if (worker_cancelled(e->worker)) {
                        sym_archive_set_error(a, ECANCELED, "the daemon stops");
                        return -1;
                }
                n = write(e->pipe_fd, p, left);
                if (n >= 0) {
                        p += n;
                        left -= (size_t) n;
                        idle_msec = 0;
                        continue;
                }
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN) {
                        sym_archive_set_error(a, errno, "%s", errno == EPIPE ? "the reader went away" : STRERROR(errno));
                        return -1;
                }
                if (poll(&pfd, 1, EXPORT_POLL_MSEC) == 0) {
                        idle_msec += EXPORT_POLL_MSEC;
                        if (idle_msec >= OVERLAY_EXPORT_STALL_SEC * 1000u) {
                                sym_archive_set_error(a, ETIMEDOUT, "the reader took nothing for %u s",
                                                  OVERLAY_EXPORT_STALL_SEC);
                                return -1;
                        }
                }
        }
        return (la_ssize_t) size;
}

static int export_fail(OverlayExport *e, int r, const char *what) {
        if (!e->error)
                e->error = g_strdup_printf("%s '%s': %s", what, e->path->str,
                                           e->archive && sym_archive_error_string(e->archive) ?
                                           sym_archive_error_string(e->archive) : STRERROR(r));
        return r < 0 ? r : -EIO;
}

static int archive_result(OverlayExport *e, int r, const char *what) {
        if (r >= ARCHIVE_WARN)
                return 0;
        return export_fail(e, -(sym_archive_errno(e->archive) > 0 ? sym_archive_errno(e->archive) : EIO), what);
}

/* A regular file's data, at most the size its header gave (a file cannot
 * change meanwhile: no job runs on the overlay; libarchive pads a short
 * one with zeros). */
static int write_file_data(OverlayExport *e, int dir_fd, const char *name, const struct stat *st) {
        _cleanup_close_ int fd = -1;
        g_autofree char *buffer = g_malloc(EXPORT_READ_BUFFER);
        struct stat fst;
        off_t left = st->st_size;

        /* O_NONBLOCK: should it have become a fifo, the open does not wait. */
        fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return export_fail(e, -errno, "opening");
        if (fstat(fd, &fst) < 0)
                return export_fail(e, -errno, "inspecting");
        if (!S_ISREG(fst.st_mode) || fst.st_ino != st->st_ino || fst.st_dev != st->st_dev)
                return export_fail(e, -ESTALE, "reading (it changed)");

        while (left > 0) {
                ssize_t n = read(fd, buffer, (size_t) MIN((off_t) EXPORT_READ_BUFFER, left));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return export_fail(e, -errno, "reading");
                if (n == 0)
                        break;
                if (sym_archive_write_data(e->archive, buffer, (size_t) n) < 0)
                        return archive_result(e, ARCHIVE_FATAL, "writing");
                left -= n;
        }
        return 0;
}

static int export_entry(int dir_fd, const char *name, const struct stat *st, unsigned depth, void *userdata) {
        OverlayExport *e = userdata;
        struct archive_entry *entry;
        size_t parent_len = e->path->len;
        char target[PATH_MAX];
        int r;

        if (!S_ISDIR(st->st_mode) && !S_ISREG(st->st_mode) && !S_ISLNK(st->st_mode))
                return 0;       /* fifos, sockets, devices: nothing an import takes */
        if (worker_cancelled(e->worker))
                return -ECANCELED;

        if (parent_len > 0)
                g_string_append_c(e->path, '/');
        g_string_append(e->path, name);

        entry = sym_archive_entry_new();
        sym_archive_entry_set_pathname(entry, e->path->str);
        sym_archive_entry_set_mode(entry, st->st_mode);
        sym_archive_entry_set_mtime(entry, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
        sym_archive_entry_set_uid(entry, 0);
        sym_archive_entry_set_gid(entry, 0);
        sym_archive_entry_set_size(entry, S_ISREG(st->st_mode) ? st->st_size : 0);
        r = 0;
        if (S_ISLNK(st->st_mode)) {
                ssize_t n = readlinkat(dir_fd, name, target, sizeof target - 1);

                if (n < 0)
                        r = export_fail(e, -errno, "reading the link");
                else {
                        target[n] = '\0';
                        sym_archive_entry_set_symlink(entry, target);
                }
        }
        if (r >= 0)
                r = archive_result(e, sym_archive_write_header(e->archive, entry), "writing the header of");
        sym_archive_entry_free(entry);

        if (r >= 0 && S_ISREG(st->st_mode))
                r = write_file_data(e, dir_fd, name, st);
        if (r >= 0 && S_ISDIR(st->st_mode)) {
                _cleanup_close_ int sub = tree_open_subdir(dir_fd, name);

                r = sub < 0 ? export_fail(e, sub, "opening") : tree_for_each_entry(sub, depth + 1, export_entry, e);
        }
        g_string_truncate(e->path, parent_len);
        return r;
}

/* On the thread: the whole archive, then the write end closed (the
 * reader's end of file). Only a complete walk closes the archive properly;
 * a failed one is abandoned without the archive's end. */
static int export_work(void *userdata) {
        OverlayExport *e = userdata;
        locale_t utf8 = archive_utf8_locale_new(), previous = (locale_t) 0;
        int r;

        if (utf8 != (locale_t) 0)
                previous = uselocale(utf8);
        e->path = g_string_new(NULL);
        r = dlopen_archive();
        if (r < 0)
                r = export_fail(e, r, "loading libarchive for");
        else {
                e->archive = sym_archive_write_new();
                r = e->archive ? 0 : -ENOMEM;
        }
        if (r >= 0)
                r = archive_result(e, sym_archive_write_set_format_pax_restricted(e->archive), "setting up the archive for");
        if (r >= 0)
                r = archive_result(e, sym_archive_write_add_filter_zstd(e->archive), "setting up zstd for");
        if (r >= 0)
                r = archive_result(e, sym_archive_write_set_bytes_in_last_block(e->archive, 1), "setting up the archive for");
        if (r >= 0)
                r = archive_result(e, sym_archive_write_open(e->archive, e, NULL, write_to_pipe, NULL), "opening the archive for");
        if (r >= 0) {
                r = tree_for_each_entry(e->dir_fd, 0, export_entry, e);
                if (r < 0 && !e->error)
                        e->error = g_strdup_printf("walking the overlay: %s", STRERROR(r));
        }
        if (r >= 0)
                r = archive_result(e, sym_archive_write_close(e->archive), "ending the archive after");
        if (e->archive) {
                if (r < 0)
                        sym_archive_write_fail(e->archive);
                sym_archive_write_free(e->archive);
                e->archive = NULL;
        }
        if (utf8 != (locale_t) 0) {
                uselocale(previous);
                freelocale(utf8);
        }
        l4m_close_fdp(&e->pipe_fd);
        return r;
}

static void export_done(Worker *w, int result, void *userdata) {
        OverlayExport *e = userdata;

        if (result < 0 && result != -EPIPE && result != -ECANCELED)
                log_warning_errno(result, "Export of overlay %s stopped: %s", e->overlay_name,
                                  e->error ? e->error : STRERROR(result));
        else if (result == -EPIPE)
                log_debug("Export of overlay %s: the reader went away.", e->overlay_name);
        g_ptr_array_remove(e->manager->overlay_exports, e);
}

unsigned overlay_exports_count(Manager *m, uint64_t overlay_id) {
        unsigned n = 0;

        for (guint i = 0; m->overlay_exports && i < m->overlay_exports->len; i++)
                n += ((OverlayExport *) m->overlay_exports->pdata[i])->overlay_id == overlay_id;
        return n;
}

static unsigned exports_of_client(Manager *m, const char *client) {
        unsigned n = 0;

        for (guint i = 0; m->overlay_exports && i < m->overlay_exports->len; i++)
                n += strcmp(((OverlayExport *) m->overlay_exports->pdata[i])->client, client) == 0;
        return n;
}

int overlay_export_start(Overlay *o, const Actor *actor, int *ret_fd, char **ret_problem) {
        Manager *m = o->manager;
        g_autofree char *dir = g_strdup_printf("%" G_GUINT64_FORMAT, o->id);
        _cleanup_close_ int read_end = -1;
        OverlayExport *e;
        int r;

        if (o->type != L4M_OVERLAY_ARCHIVE && o->type != L4M_OVERLAY_SCRIPT)
                return problem_setf(ret_problem, -EINVAL,
                                    "Overlay \"%s\" is a Workshop overlay: a Workshop overlay is rebuilt from Steam, "
                                    "only archive and script overlays can be exported.", o->name);
        r = overlay_check_no_job(o, ret_problem);
        if (r < 0)
                return r;
        if (!m->overlay_exports)
                m->overlay_exports = g_ptr_array_new_with_free_func((GDestroyNotify) export_free);
        if (m->overlay_exports->len >= OVERLAY_EXPORTS_MAX ||
            exports_of_client(m, actor->principal) >= OVERLAY_EXPORTS_PER_CLIENT_MAX)
                return problem_setf(ret_problem, -EBUSY,
                                    "Too many overlay exports are in progress (at most %u per caller, %u in all).",
                                    OVERLAY_EXPORTS_PER_CLIENT_MAX, OVERLAY_EXPORTS_MAX);

        e = g_new0(OverlayExport, 1);
        e->manager = m;
        e->overlay_id = o->id;
        e->overlay_name = g_strdup(o->name);
        e->client = g_strdup(actor->principal);
        e->pipe_fd = -1;
        e->dir_fd = openat(m->overlays_fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        r = e->dir_fd < 0 ? -errno : pipe_for_client(&read_end, &e->pipe_fd);
        if (r >= 0)
                r = worker_start(m->event, "overlay-export", export_work, export_done, e, &e->worker);
        if (r < 0) {
                export_free(e);
                return r;
        }
        g_ptr_array_add(m->overlay_exports, e);

        *ret_fd = l4m_take_fd(&read_end);
        return 0;
}

void manager_free_overlay_exports(Manager *m) {
        if (m->overlay_exports)
                g_ptr_array_free(g_steal_pointer(&m->overlay_exports), TRUE);
}
