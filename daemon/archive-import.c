/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive-extract.h"
#include "archive-import.h"
#include "fs-util.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "tree-copy.h"

#define PROGRESS_TICK_USEC (200 * 1000)
#define STAGING_DIR_MODE 0755

struct ArchiveImport {
        Job *job;
        Manager *manager;
        uint64_t overlay_id;
        int archive_fd;
        uint64_t archive_size;          /* 0 if unknown (a pipe) */
        char *subdir;
        unsigned strip_components;
        bool merge;
        ArchiveLimits limits;

        char *staging_name;
        int staging_fd;

        GThread *thread;
        int done_fd;                    /* eventfd the thread signals */
        sd_event_source *done_source;
        sd_event_source *progress_timer;
        volatile int cancel;
        /* written by the thread, read by the loop after it signalled, or
         * (progress) read at any time as a hint */
        int result;
        char *error;
        uint64_t bytes_in, bytes_written, entries;
};

static void archive_import_free(void *data) {
        ArchiveImport *a = data;

        if (!a)
                return;
        if (a->thread) {
                /* The daemon is going away mid-extraction: stop it. */
                a->cancel = 1;
                g_thread_join(a->thread);
        }
        sd_event_source_disable_unref(a->done_source);
        sd_event_source_disable_unref(a->progress_timer);
        l4m_close_fdp(&a->done_fd);
        l4m_close_fdp(&a->archive_fd);
        if (a->staging_fd >= 0) {
                l4m_close_fdp(&a->staging_fd);
                (void) rm_rf_at(a->manager->overlays_fd, a->staging_name);
        }
        g_free(a->staging_name);
        g_free(a->subdir);
        g_free(a->error);
        g_free(a);
}

ArchiveImport *archive_import_new(Overlay *o, int archive_fd, const char *subdir,
                                  unsigned strip_components, bool merge) {
        ArchiveImport *a = g_new0(ArchiveImport, 1);
        struct stat st;

        a->manager = o->manager;
        a->overlay_id = o->id;
        a->archive_fd = archive_fd;
        a->subdir = g_strdup(subdir);
        a->strip_components = strip_components;
        a->merge = merge;
        a->staging_fd = -1;
        a->done_fd = -1;
        a->limits = (ArchiveLimits) {
                .max_bytes = o->manager->config->archive_max_bytes,
                .max_entries = o->manager->config->archive_max_entries,
                .max_entry_bytes = o->manager->config->archive_max_entry_bytes,
        };
        if (fstat(archive_fd, &st) == 0 && S_ISREG(st.st_mode))
                a->archive_size = (uint64_t) st.st_size;
        return a;
}

static void on_extract_progress(uint64_t bytes_in, uint64_t bytes_written, uint64_t entries, void *userdata) {
        ArchiveImport *a = userdata;

        __atomic_store_n(&a->bytes_in, bytes_in, __ATOMIC_RELAXED);
        __atomic_store_n(&a->bytes_written, bytes_written, __ATOMIC_RELAXED);
        __atomic_store_n(&a->entries, entries, __ATOMIC_RELAXED);
}

static gpointer extract_thread(gpointer userdata) {
        ArchiveImport *a = userdata;
        ArchiveExtractOptions opts = {
                .subdir = a->subdir,
                .strip_components = a->strip_components,
                .limits = a->limits,
        };
        uint64_t one = 1;

        a->result = archive_extract(a->archive_fd, a->staging_fd, &opts, on_extract_progress, a,
                                    &a->cancel, &a->error);
        if (write(a->done_fd, &one, sizeof one) < 0)
                abort();        /* an eventfd write cannot fail short of a bug */
        return NULL;
}

static int on_progress_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        ArchiveImport *a = userdata;

        if (a->archive_size > 0)
                job_set_progress(a->job, 0.95 * (double) __atomic_load_n(&a->bytes_in, __ATOMIC_RELAXED) /
                                         (double) a->archive_size);
        (void) sd_event_source_set_time_relative(s, PROGRESS_TICK_USEC);
        return 0;
}

static void finish(ArchiveImport *a, int r, const char *message) {
        Overlay *o = g_hash_table_lookup(a->manager->overlays_by_id, &a->overlay_id);

        if (o && r < 0)
                overlay_set_state(o, o->last_build ? OVERLAY_STATE_READY : r == -ECANCELED ? OVERLAY_STATE_EMPTY
                                                                                         : OVERLAY_STATE_FAILED,
                                  o->last_build, o->size);
        job_finish(a->job, r, "%s", message);   /* frees a */
}

/* The thread is done: swap the staging directory in, or throw it away. */
static int on_extract_done(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ArchiveImport *a = userdata;
        g_autofree char *dir = g_strdup_printf("%" G_GUINT64_FORMAT, a->overlay_id);
        g_autofree char *message = NULL;
        Overlay *o;
        int r;

        g_thread_join(a->thread);
        a->thread = NULL;
        (void) sd_event_source_set_enabled(a->done_source, SD_EVENT_OFF);

        r = a->result;
        if (r == -ECANCELED) {
                finish(a, r, "Cancelled; the overlay is as it was.");
                return 0;
        }
        if (r < 0) {
                message = g_strdup_printf("Import refused: %s; the overlay is as it was.",
                                          a->error ? a->error : STRERROR(r));
                job_log(a->job, "%s", message);
                finish(a, r, message);
                return 0;
        }

        o = g_hash_table_lookup(a->manager->overlays_by_id, &a->overlay_id);
        if (!o) {
                finish(a, -ENOENT, "The overlay is gone.");
                return 0;
        }
        if (fsync(a->staging_fd) < 0 ||
            renameat2(a->manager->overlays_fd, a->staging_name, a->manager->overlays_fd, dir, RENAME_EXCHANGE) < 0) {
                r = -errno;
                message = g_strdup_printf("Cannot put the new content in place: %s", STRERROR(r));
                job_log(a->job, "%s", message);
                finish(a, r, message);
                return 0;
        }
        /* The staging name now holds the old content. */
        l4m_close_fdp(&a->staging_fd);
        a->staging_fd = -1;
        r = rm_rf_at(a->manager->overlays_fd, a->staging_name);
        if (r < 0)
                log_warning_errno(r, "Cannot remove overlays/%s: %s", a->staging_name, STRERROR(r));

        overlay_set_state(o, OVERLAY_STATE_READY, (uint64_t) g_get_real_time(), a->bytes_written);
        message = g_strdup_printf("Imported %" G_GUINT64_FORMAT " entries, %" G_GUINT64_FORMAT " bytes%s.",
                                  a->entries, a->bytes_written, a->merge ? ", merged with what was there" : "");
        job_log(a->job, "%s", message);
        finish(a, 0, message);
        return 0;
}

static int archive_import_start(Job *j) {
        ArchiveImport *a = j->data;
        Overlay *o = g_hash_table_lookup(a->manager->overlays_by_id, &a->overlay_id);
        g_autoptr(GError) error = NULL;
        int r;

        a->job = j;
        if (!o)
                return -ENOENT;

        a->staging_name = g_strdup_printf(".staging-%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT, o->id, j->id);
        (void) rm_rf_at(a->manager->overlays_fd, a->staging_name);
        if (mkdirat(a->manager->overlays_fd, a->staging_name, STAGING_DIR_MODE) < 0)
                return -errno;
        a->staging_fd = openat(a->manager->overlays_fd, a->staging_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (a->staging_fd < 0)
                return -errno;
        if (fchmod(a->staging_fd, STAGING_DIR_MODE) < 0)
                return -errno;

        if (a->merge) {
                g_autofree char *dir = g_strdup_printf("%" G_GUINT64_FORMAT, o->id);
                _cleanup_close_ int current = openat(a->manager->overlays_fd, dir,
                                                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (current < 0)
                        return -errno;
                r = tree_link_copy(current, a->staging_fd);
                if (r < 0) {
                        job_log(j, "Cannot copy the current content for merging: %s", STRERROR(r));
                        return r;
                }
        }

        a->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (a->done_fd < 0)
                return -errno;
        r = sd_event_add_io(a->manager->event, &a->done_source, a->done_fd, EPOLLIN, on_extract_done, a);
        if (r < 0)
                return r;
        r = sd_event_add_time_relative(a->manager->event, &a->progress_timer, CLOCK_MONOTONIC,
                                       PROGRESS_TICK_USEC, 0, on_progress_tick, a);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(a->progress_timer, SD_EVENT_ON);

        overlay_set_state(o, OVERLAY_STATE_BUILDING, o->last_build, o->size);
        job_log(j, "Importing into overlay %s (%s%s%s, strip %u).", o->name, a->merge ? "merge" : "replace",
                a->subdir ? ", into " : "", a->subdir ? a->subdir : "", a->strip_components);

        a->thread = g_thread_try_new("archive-import", extract_thread, a, &error);
        if (!a->thread)
                return log_error_errno(EAGAIN, "Cannot start the extraction thread: %s", error->message);
        return 0;
}

static void archive_import_cancel(Job *j) {
        ArchiveImport *a = j->data;

        /* Polled by the extractor between blocks; the thread then ends
         * with -ECANCELED and on_extract_done() finishes the job. */
        a->cancel = 1;
        if (!a->thread)
                job_finish(j, -ECANCELED, "Cancelled; the overlay is as it was.");
}

const JobKind archive_import_kind = {
        .name = "archive-import",
        .action = L4M_ACTION_OVERLAY_MANAGE,
        .restartable = false,
        .start = archive_import_start,
        .cancel = archive_import_cancel,
        .free_data = archive_import_free,
};
