/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/archives/: archive overlays: safe extraction of untrusted archives, the import and fetch jobs. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive-extract.h"
#include "archive-import.h"
#include "curl-event.h"
#include "fs-util.h"
#include "game-unit.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "owner-quota.h"
#include "tree-copy.h"
#include "worker.h"

#define PROGRESS_TICK_USEC (200 * 1000)
#define STAGING_DIR_MODE 0755
/* The directories of an imported tree: the servers' group may create
 * entries in them through their stacks (see open_dirs_to_servers()). */
#define SERVER_WRITABLE_DIR_MODE 0775

struct ArchiveImport {
        Job *job;
        Manager *manager;
        uint64_t overlay_id;
        int archive_fd;
        uint64_t archive_size;          /* 0 if unknown (a pipe) */
        char *subdir;
        unsigned strip_components;
        bool merge;
        char *name_encoding;
        ArchiveLimits limits;

        char *staging_name;
        int staging_fd;

        int current_fd;                 /* merge: the overlay's present content */
        uint64_t last_bytes_in;         /* progress seen by the loop, for stall detection */
        int64_t last_progress_usec;
        bool stalled;
        uint64_t tree_bytes;            /* size of the staged tree, by the thread */
        gid_t game_gid;                 /* the servers' group, (gid_t) -1 if unknown */

        /* fetching from the overlay's source URL first (archive-fetch) */
        char *url;
        char *checksum;                 /* "", "md5:<hex>" or "sha256:<hex>" */
        char *download_name;            /* overlays/.download-<id>-<job> */
        CurlEvent *curl;
        CURL *easy;
        CurlFileSink sink;
        sd_event_source *fetched_source; /* leaves curl's callback before going on */
        int fetch_result;
        char *fetch_error;

        Worker *extractor;              /* the extraction thread, while it runs */
        sd_event_source *progress_timer;
        /* written by the thread, read by the loop once it is done, or
         * (progress) read at any time as a hint */
        char *error;
        uint64_t bytes_in, bytes_written, entries;
};

static void archive_import_free(void *data) {
        ArchiveImport *a = data;

        if (!a)
                return;
        if (a->easy) {
                curl_event_remove(a->curl, a->easy);
                sym_curl_easy_cleanup(a->easy);
        }
        curl_event_free(a->curl);
        sd_event_source_disable_unref(a->fetched_source);
        if (a->download_name)
                (void) unlinkat(a->manager->overlays_fd, a->download_name, 0);
        g_free(a->download_name);
        g_free(a->url);
        g_free(a->checksum);
        g_free(a->fetch_error);
        /* The daemon is going away mid-extraction: stop it, and wait. */
        a->extractor = worker_free(a->extractor);
        sd_event_source_disable_unref(a->progress_timer);
        l4m_close_fdp(&a->archive_fd);
        l4m_close_fdp(&a->current_fd);
        if (a->staging_fd >= 0) {
                l4m_close_fdp(&a->staging_fd);
                (void) rm_rf_in_background(a->manager->overlays_fd, a->staging_name);
        }
        g_free(a->staging_name);
        g_free(a->subdir);
        g_free(a->name_encoding);
        g_free(a->error);
        g_free(a);
}

ArchiveImport *archive_import_new(Overlay *o, int archive_fd, const ArchiveImportOptions *opts) {
        ArchiveImport *a = g_new0(ArchiveImport, 1);
        struct stat st;

        a->manager = o->manager;
        a->overlay_id = o->id;
        a->archive_fd = archive_fd;
        if (opts) {
                a->subdir = g_strdup(opts->subdir);
                a->strip_components = opts->strip_components;
                a->merge = opts->merge;
                a->name_encoding = g_strdup(opts->name_encoding);
        }
        a->staging_fd = -1;
        a->current_fd = -1;
        a->game_gid = (gid_t) -1;
        a->limits = (ArchiveLimits) {
                .max_bytes = o->manager->config->archive_max_bytes,
                .max_entries = o->manager->config->archive_max_entries,
                .max_entry_bytes = o->manager->config->archive_max_entry_bytes,
                .max_ratio = o->manager->config->archive_max_ratio,
        };
        if (fstat(archive_fd, &st) == 0 && S_ISREG(st.st_mode))
                a->archive_size = (uint64_t) st.st_size;
        return a;
}

ArchiveImport *archive_fetch_new(Overlay *o, const ArchiveImportOptions *opts) {
        ArchiveImport *a = archive_import_new(o, -1, opts);

        a->url = g_strdup(o->source_url);
        a->checksum = g_strdup(o->source_checksum);
        return a;
}

static void on_extract_progress(uint64_t bytes_in, uint64_t bytes_written, uint64_t entries, void *userdata) {
        ArchiveImport *a = userdata;

        __atomic_store_n(&a->bytes_in, bytes_in, __ATOMIC_RELAXED);
        __atomic_store_n(&a->bytes_written, bytes_written, __ATOMIC_RELAXED);
        __atomic_store_n(&a->entries, entries, __ATOMIC_RELAXED);
}

/* Checks the downloaded file against the configured checksum. */
static int verify_checksum(ArchiveImport *a, char **ret_error) {
        g_autoptr(GChecksum) sum = NULL;
        const char *want;
        char buf[65536];
        ssize_t n;
        off_t off = 0;

        if (!a->checksum || !*a->checksum)
                return 0;
        if (g_str_has_prefix(a->checksum, "md5:")) {
                sum = g_checksum_new(G_CHECKSUM_MD5);
                want = a->checksum + strlen("md5:");
        } else {
                sum = g_checksum_new(G_CHECKSUM_SHA256);
                want = a->checksum + strlen("sha256:");
        }
        while ((n = pread(a->archive_fd, buf, sizeof buf, off)) > 0) {
                g_checksum_update(sum, (const guchar *) buf, n);
                off += n;
        }
        if (n < 0)
                return -errno;
        if (g_ascii_strcasecmp(g_checksum_get_string(sum), want) != 0) {
                *ret_error = g_strdup_printf("checksum mismatch: expected %s, the download has %s",
                                             want, g_checksum_get_string(sum));
                return -EBADMSG;
        }
        return 0;
}

static int open_dir_to_servers(int dir_fd, const char *name, const struct stat *st, unsigned depth, void *userdata) {
        const gid_t *gid = userdata;
        _cleanup_close_ int fd = -1;

        if (!S_ISDIR(st->st_mode))
                return 0;
        fd = tree_open_subdir(dir_fd, name);
        if (fd < 0)
                return fd;
        if (fchown(fd, (uid_t) -1, *gid) < 0 || fchmod(fd, SERVER_WRITABLE_DIR_MODE) < 0)
                return -errno;
        return tree_for_each_entry(fd, depth + 1, open_dir_to_servers, userdata);
}

/* Every directory below the staged tree's root becomes root:<game group>
 * 0775, as the installation's are (docs/ARCHITECTURE.md, section 3):
 * servers have that group, so a server may create files in them through
 * its overlayfs stack (SourceMod's logs/ and data/), which copies the
 * directory up into the server's own upper/; the overlay itself is never
 * written through a stack, and overlays/ (0700) keeps everyone else out.
 * Files keep the extractor's modes. */
static int open_dirs_to_servers(ArchiveImport *a) {
        int r;

        if (a->game_gid == (gid_t) -1)
                return 0;
        r = tree_for_each_entry(a->staging_fd, 0, open_dir_to_servers, &a->game_gid);
        if (r < 0)
                a->error = g_strdup_printf("cannot open the directories to the servers' group: %s", STRERROR(r));
        return r;
}

/* On the extractor's thread. */
static int extract(void *userdata) {
        ArchiveImport *a = userdata;
        ArchiveExtractOptions opts = {
                .subdir = a->subdir,
                .strip_components = a->strip_components,
                .name_encoding = a->name_encoding,
                .limits = a->limits,
        };
        int r;

        /* Everything that reads or writes a whole tree or file happens here,
         * off the event loop. */
        r = verify_checksum(a, &a->error);
        if (r >= 0 && a->merge) {
                r = tree_link_copy(a->current_fd, a->staging_fd);
                if (r < 0)
                        a->error = g_strdup_printf("cannot copy the current content for merging: %s", STRERROR(r));
        }
        if (r >= 0)
                r = archive_extract(a->archive_fd, a->staging_fd, &opts, on_extract_progress, a,
                                    worker_cancel_flag(a->extractor), &a->error);
        if (r >= 0)
                r = open_dirs_to_servers(a);
        if (r >= 0 && tree_size(a->staging_fd, &a->tree_bytes) < 0)
                a->tree_bytes = a->bytes_written;
        return r;
}

static int on_progress_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        ArchiveImport *a = userdata;
        double base = a->url ? 0.5 : 0.0;
        curl_off_t length = -1;

        if (a->easy) {
                /* Fetching: against the announced length, when there is one. */
                if (sym_curl_easy_getinfo(a->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK && length > 0)
                        job_set_progress(a->job, 0.5 * (double) (a->sink.offset + a->sink.written) / (double) length);
        } else if (a->extractor) {
                uint64_t in = __atomic_load_n(&a->bytes_in, __ATOMIC_RELAXED);
                int64_t now = g_get_monotonic_time();

                if (a->archive_size > 0)
                        job_set_progress(a->job, base + (0.95 - base) * (double) in / (double) a->archive_size);
                /* A sender that stops sending would hold a job slot forever. */
                if (in != a->last_bytes_in || a->last_progress_usec == 0) {
                        a->last_bytes_in = in;
                        a->last_progress_usec = now;
                } else if (now - a->last_progress_usec > ARCHIVE_IMPORT_STALL_USEC && !a->stalled) {
                        a->stalled = true;
                        worker_cancel(a->extractor);
                }
        }
        (void) sd_event_source_set_time_relative(s, PROGRESS_TICK_USEC);
        return 0;
}

static void finish(ArchiveImport *a, int r, const char *message) {
        Overlay *o = g_hash_table_lookup(a->manager->overlays_by_id, &a->overlay_id);

        /* The new tree replaces the old one in one rename (or not at all):
         * a failure leaves the content as it was. */
        if (o && r < 0)
                overlay_build_failed(o, r, true);
        job_finish(a->job, r, "%s", message);   /* frees a */
}

/* The thread is done: swap the staging directory in, or throw it away. */
static void on_extracted(Worker *w, int r, void *userdata) {
        ArchiveImport *a = userdata;
        g_autofree char *dir = g_strdup_printf("%" G_GUINT64_FORMAT, a->overlay_id);
        g_autofree char *message = NULL;
        Overlay *o;

        a->extractor = worker_free(a->extractor);

        if (r == -ECANCELED && a->stalled) {
                message = g_strdup_printf("No data arrived for %u minutes; gave up. The overlay is as it was.",
                                          (unsigned) (ARCHIVE_IMPORT_STALL_USEC / (60 * G_USEC_PER_SEC)));
                job_log(a->job, "%s", message);
                finish(a, -ETIMEDOUT, message);
                return;
        }
        if (r == -ECANCELED) {
                finish(a, r, "Cancelled; the overlay is as it was.");
                return;
        }
        o = g_hash_table_lookup(a->manager->overlays_by_id, &a->overlay_id);
        /* Past the storage quota: while extracting (the budget), or in all
         * (a merge keeps what was there, replaced files count once). */
        if (o && a->limits.has_budget && (r == -EDQUOT || (r >= 0 && a->tree_bytes > a->limits.budget_bytes))) {
                g_autofree char *room = owner_quota_format_bytes(a->limits.budget_bytes);
                g_autofree char *size = owner_quota_format_bytes(a->tree_bytes);
                g_autofree char *text = r == -EDQUOT
                        ? owner_quota_problem(o, UINT64_MAX, "this import needs more than the %s overlay %s may hold. "
                                              "The overlay is as it was.", room, o->name)
                        : owner_quota_problem(o, UINT64_MAX, "this import would leave %s in overlay %s, which may hold %s. "
                                              "The overlay is as it was.", size, o->name, room);
                job_log(a->job, "%s", text);
                finish(a, -EDQUOT, text);
                return;
        }
        if (r < 0) {
                message = g_strdup_printf("Import refused: %s; the overlay is as it was.",
                                          a->error ? a->error : STRERROR(r));
                job_log(a->job, "%s", message);
                finish(a, r, message);
                return;
        }
        if (!o) {
                finish(a, -ENOENT, "The overlay is gone.");
                return;
        }
        if (fsync(a->staging_fd) < 0 ||
            renameat2(a->manager->overlays_fd, a->staging_name, a->manager->overlays_fd, dir, RENAME_EXCHANGE) < 0) {
                r = -errno;
                message = g_strdup_printf("Cannot put the new content in place: %s", STRERROR(r));
                job_log(a->job, "%s", message);
                finish(a, r, message);
                return;
        }
        /* The staging name now holds the old content. */
        l4m_close_fdp(&a->staging_fd);
        a->staging_fd = -1;
        r = rm_rf_in_background(a->manager->overlays_fd, a->staging_name);
        if (r < 0)
                log_warning_errno(r, "Cannot remove overlays/%s: %s", a->staging_name, STRERROR(r));

        overlay_set_state(o, OVERLAY_STATE_READY, (uint64_t) g_get_real_time(), a->tree_bytes);
        message = g_strdup_printf("Imported %" G_GUINT64_FORMAT " entries, %" G_GUINT64_FORMAT " bytes%s%s.",
                                  a->entries, a->bytes_written,
                                  a->checksum && *a->checksum ? ", checksum verified" : "",
                                  a->merge ? ", merged with what was there" : "");
        job_log(a->job, "%s", message);
        finish(a, 0, message);
}

/* Stages and starts the extraction of a->archive_fd. */
static int extract_start(ArchiveImport *a) {
        Job *j = a->job;
        Overlay *o = g_hash_table_lookup(a->manager->overlays_by_id, &a->overlay_id);
        uint64_t room;
        struct stat st;
        int r;

        if (!o)
                return -ENOENT;
        if (fstat(a->archive_fd, &st) == 0 && S_ISREG(st.st_mode))
                a->archive_size = (uint64_t) st.st_size;
        r = owner_quota_room(o, &room);
        if (r < 0)
                return r;
        if (room != UINT64_MAX) {
                g_autofree char *room_text = owner_quota_format_bytes(room);
                a->limits.has_budget = true;
                a->limits.budget_bytes = room;
                job_log(j, "Storage quota: the overlay may hold %s ([Overlays] OwnerMaxBytes= less the owner's other "
                        "overlays).", room_text);
        }

        a->staging_name = g_strdup_printf(".staging-%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT, o->id, j->id);
        (void) rm_rf_at(a->manager->overlays_fd, a->staging_name);
        if (mkdirat(a->manager->overlays_fd, a->staging_name, STAGING_DIR_MODE) < 0)
                return -errno;
        a->staging_fd = openat(a->manager->overlays_fd, a->staging_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (a->staging_fd < 0)
                return -errno;
        if (fchmod(a->staging_fd, STAGING_DIR_MODE) < 0)
                return -errno;

        {
                struct passwd *pw;

                pw = getpwnam(GAME_USER);
                if (pw)
                        a->game_gid = pw->pw_gid;
                else
                        job_log(j, "There is no user %s: the directories stay closed to the servers.", GAME_USER);
        }
        if (a->merge) {
                g_autofree char *dir = g_strdup_printf("%" G_GUINT64_FORMAT, o->id);
                a->current_fd = openat(a->manager->overlays_fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (a->current_fd < 0)
                        return -errno;
        }

        job_log(j, "Importing into overlay %s (%s%s%s, strip %u%s%s).", o->name, a->merge ? "merge" : "replace",
                a->subdir ? ", into " : "", a->subdir ? a->subdir : "", a->strip_components,
                a->name_encoding ? ", names in " : "", a->name_encoding ? a->name_encoding : "");

        return worker_start(a->manager->event, "archive-import", extract, on_extracted, a, &a->extractor);
}

static int on_fetched(sd_event_source *s, void *userdata) {
        ArchiveImport *a = userdata;
        g_autofree char *message = NULL;
        int r = a->fetch_result;

        sym_curl_easy_cleanup(a->easy);
        a->easy = NULL;

        if (r < 0) {
                message = g_strdup_printf("Cannot fetch %s: %s; the overlay is as it was.", a->url,
                                          a->fetch_error ? a->fetch_error : STRERROR(r));
                job_log(a->job, "%s", message);
                finish(a, r, message);
                return 0;
        }
        job_log(a->job, "Fetched %" G_GUINT64_FORMAT " bytes.", a->sink.offset + a->sink.written);

        if (lseek(a->archive_fd, 0, SEEK_SET) < 0)
                r = -errno;
        else
                r = extract_start(a);
        if (r < 0) {
                message = g_strdup_printf("Cannot start the import: %s", STRERROR(r));
                finish(a, r, message);
        }
        return 0;
}

static void on_fetch_done(CurlEvent *c, CURL *easy, CURLcode result, const char *error, void *userdata) {
        ArchiveImport *a = userdata;
        long status = 0;

        a->fetch_result = curl_event_file_sink_finish(&a->sink, easy, result, &status);
        if (a->fetch_result < 0)
                a->fetch_error = g_strdup_printf("%s (HTTP %ld)", error ? error : STRERROR(a->fetch_result), status);
        (void) sd_event_source_set_enabled(a->fetched_source, SD_EVENT_ONESHOT);
}

static int fetch_start(ArchiveImport *a) {
        Job *j = a->job;
        int r;

        a->download_name = g_strdup_printf(".download-%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT, a->overlay_id, j->id);
        (void) unlinkat(a->manager->overlays_fd, a->download_name, 0);
        a->archive_fd = openat(a->manager->overlays_fd, a->download_name,
                               O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (a->archive_fd < 0)
                return -errno;

        r = curl_event_new(a->manager->event, &a->curl);
        if (r < 0)
                return r;
        r = sd_event_add_defer(a->manager->event, &a->fetched_source, on_fetched, a);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(a->fetched_source, SD_EVENT_OFF);

        r = curl_event_easy_new(a->url, &a->easy);
        if (r >= 0)
                r = curl_event_easy_set_download(a->easy, &a->sink, a->archive_fd, 0, a->limits.max_bytes);
        if (r >= 0)
                r = curl_event_add(a->curl, a->easy, on_fetch_done, a);
        if (r < 0)
                return r;
        job_log(j, "Fetching %s.", a->url);
        return 0;
}

static int archive_import_start(Job *j) {
        ArchiveImport *a = j->data;
        Overlay *o = g_hash_table_lookup(a->manager->overlays_by_id, &a->overlay_id);
        int r;

        a->job = j;
        if (!o)
                return -ENOENT;

        r = sd_event_add_time_relative(a->manager->event, &a->progress_timer, CLOCK_MONOTONIC,
                                       PROGRESS_TICK_USEC, 0, on_progress_tick, a);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(a->progress_timer, SD_EVENT_ON);

        r = a->url ? fetch_start(a) : extract_start(a);
        if (r < 0)
                return r;       /* the overlay's state was not touched */
        overlay_set_state(o, OVERLAY_STATE_BUILDING, o->last_build, o->size);
        return 0;
}

static void archive_import_cancel(Job *j) {
        ArchiveImport *a = j->data;

        if (a->extractor) {
                /* Polled by the extractor between blocks; the thread then
                 * ends with -ECANCELED and on_extracted() finishes the job. */
                worker_cancel(a->extractor);
        } else if (a->easy) {
                /* Still fetching: stop the transfer, finish from the loop. */
                curl_event_remove(a->curl, a->easy);
                a->fetch_result = -ECANCELED;
                (void) sd_event_source_set_enabled(a->fetched_source, SD_EVENT_ONESHOT);
        } else
                finish(a, -ECANCELED, "Cancelled; the overlay is as it was.");
}

static int archive_fetch_restore(Job *j) {
        Overlay *o = manager_find_overlay_by_job_target(j->manager, j->target);

        if (!o || !o->source_url)
                return -ENOENT;
        j->data = archive_fetch_new(o, NULL);
        return 0;
}

const JobKind archive_import_kind = {
        .name = "archive-import",
        .action = L4M_ACTION_OVERLAY_MANAGE,
        .restartable = false,
        .start = archive_import_start,
        .cancel = archive_import_cancel,
        .free_data = archive_import_free,
};

const JobKind archive_fetch_kind = {
        .name = "archive-fetch",
        .action = L4M_ACTION_OVERLAY_MANAGE,
        .restartable = true,
        .start = archive_import_start,
        .cancel = archive_import_cancel,
        .restore = archive_fetch_restore,
        .free_data = archive_import_free,
};

const JobKind archive_fetch_placed_kind = {
        .name = "archive-fetch-placed",
        .action = L4M_ACTION_OVERLAY_MANAGE,
        .restartable = false,
        .start = archive_import_start,
        .cancel = archive_import_cancel,
        .free_data = archive_import_free,
};

const JobKind *archive_fetch_kind_for(const ArchiveImportOptions *opts) {
        if (opts && ((opts->subdir && *opts->subdir) || opts->strip_components > 0 || opts->merge))
                return &archive_fetch_placed_kind;
        return &archive_fetch_kind;
}
