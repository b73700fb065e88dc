/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/backups/: backups of instances: records and rules, the writer, restore, import and export. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive-extract.h"
#include "archive-import.h"
#include "backup.h"
#include "fs-util.h"
#include "instance-disk.h"
#include "instance-runtime.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "owner-quota.h"
#include "problem.h"
#include "store.h"
#include "worker.h"

#define PROGRESS_TICK_USEC (200 * 1000)
#define STAGING_DIR_MODE 0700
#define UPPER_DIR_MODE 0700
#define META_MAX (64u * 1024)
#define SPOOL_CHUNK (256u * 1024)
#define SPOOL_POLL_MSEC 100

/* Restore and import both extract a backup into a staging directory and
 * look at what came out; they differ in where the archive comes from
 * and what is done with the result. */
typedef struct BackupRestore {
        Job *job;
        Manager *manager;
        uint64_t instance_id;
        char *name;
        char *owner;
        bool import;

        uint64_t backup_id;             /* restore: the backup */
        int archive_fd;                 /* restore: the backup's file; import: the caller's */
        uint64_t archive_size;
        ArchiveLimits limits;

        int parent_fd;                  /* where staging is: runtime/<name>/ (restore), backups/<name>/ (import) */
        char *staging_name;
        int staging_fd;
        char *partial_name;             /* import: backups/<name>/.partial-<job> while it exists */
        int partial_fd;
        uid_t uid;                      /* restore: who upper/ is given to */

        Worker *worker;
        sd_event_source *progress_timer;
        /* written by the thread */
        uint64_t bytes_in, bytes_written, entries, spooled;
        BackupMeta meta;
        char *error;
} BackupRestore;

static void backup_restore_free(void *data) {
        BackupRestore *b = data;

        if (!b)
                return;
        b->worker = worker_free(b->worker);
        sd_event_source_disable_unref(b->progress_timer);
        l4m_close_fdp(&b->archive_fd);
        if (b->staging_fd >= 0) {
                l4m_close_fdp(&b->staging_fd);
                (void) rm_rf_in_background(b->parent_fd, b->staging_name);
        }
        if (b->partial_name && b->parent_fd >= 0)
                (void) unlinkat(b->parent_fd, b->partial_name, 0);
        l4m_close_fdp(&b->partial_fd);
        l4m_close_fdp(&b->parent_fd);
        g_free(b->staging_name);
        g_free(b->partial_name);
        backup_meta_clear(&b->meta);
        g_free(b->error);
        g_free(b->name);
        g_free(b->owner);
        g_free(b);
}

static Instance *find_instance(BackupRestore *b) {
        return g_hash_table_lookup(b->manager->instances_by_id, &b->instance_id);
}

static void finish(BackupRestore *b, int r, const char *message) {
        if (r < 0 && r != -ECANCELED)
                job_log(b->job, "%s", message);
        job_finish(b->job, r, "%s", message);  /* frees b */
}

/* --- on the worker's thread -------------------------------------------- */

static void on_extract_progress(uint64_t bytes_in, uint64_t bytes_written, uint64_t entries, void *userdata) {
        BackupRestore *b = userdata;

        __atomic_store_n(&b->bytes_in, bytes_in, __ATOMIC_RELAXED);
        __atomic_store_n(&b->bytes_written, bytes_written, __ATOMIC_RELAXED);
        __atomic_store_n(&b->entries, entries, __ATOMIC_RELAXED);
}

/* Copies the caller's stream into the partial file, at most max bytes,
 * looking at the cancel flag while the sender is silent. */
static int spool(BackupRestore *b, uint64_t max) {
        g_autofree uint8_t *buf = g_malloc(SPOOL_CHUNK);
        int64_t last_data = g_get_monotonic_time();
        uint64_t total = 0;
        ssize_t n;

        for (;;) {
                struct pollfd p = { .fd = b->archive_fd, .events = POLLIN };

                if (worker_cancelled(b->worker))
                        return -ECANCELED;
                if (poll(&p, 1, SPOOL_POLL_MSEC) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (p.revents == 0) {
                        /* A sender that stops sending would hold a job slot forever. */
                        if (g_get_monotonic_time() - last_data > ARCHIVE_IMPORT_STALL_USEC) {
                                b->error = g_strdup_printf("no data arrived for %u minutes",
                                                           (unsigned) (ARCHIVE_IMPORT_STALL_USEC / (60 * G_USEC_PER_SEC)));
                                return -ETIMEDOUT;
                        }
                        continue;
                }
                last_data = g_get_monotonic_time();
                n = read(b->archive_fd, buf, SPOOL_CHUNK);
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                total += (uint64_t) n;
                if (total > max) {
                        b->error = g_strdup_printf("the archive is larger than [Archive] MaxBytes=%" G_GUINT64_FORMAT
                                                   " bytes", max);
                        return -EFBIG;
                }
                if (write_all(b->partial_fd, buf, (size_t) n) < 0)
                        return -errno;
                __atomic_store_n(&b->spooled, total, __ATOMIC_RELAXED);
        }
        b->archive_size = total;
        if (fsync(b->partial_fd) < 0)
                return -errno;
        return 0;
}

/* What a backup must hold: the JSON entry, upper/, nothing else. */
static int check_staged(BackupRestore *b) {
        g_autofree char *json = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;
        DIR *d;
        struct dirent *de;
        ssize_t n;
        int dfd, r = 0;

        fd = openat(b->staging_fd, BACKUP_META_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > META_MAX) {
                b->error = g_strdup("the archive is not a left4me backup: it has no " BACKUP_META_NAME);
                return -EBADMSG;
        }
        json = g_malloc0((size_t) st.st_size + 1);
        n = read_full(fd, json, (size_t) st.st_size, 0);
        if (n != st.st_size) {
                b->error = g_strdup("cannot read " BACKUP_META_NAME);
                return -EIO;
        }
        r = backup_meta_from_json(json, (size_t) n, &b->meta, &b->error);
        if (r < 0)
                return r;
        if (fstatat(b->staging_fd, BACKUP_UPPER_NAME, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)) {
                b->error = g_strdup("the archive is not a left4me backup: it has no " BACKUP_UPPER_NAME "/");
                return -EBADMSG;
        }
        dfd = openat(b->staging_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        d = fdopendir(dfd);
        if (!d) {
                r = -errno;
                close(dfd);
                return r;
        }
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
                    strcmp(de->d_name, BACKUP_META_NAME) != 0 && strcmp(de->d_name, BACKUP_UPPER_NAME) != 0) {
                        b->error = g_strdup_printf("the archive holds \"%s\" besides " BACKUP_META_NAME " and "
                                                   BACKUP_UPPER_NAME "/", de->d_name);
                        r = -EBADMSG;
                        break;
                }
        closedir(d);
        return r;
}

static int restore_work(void *userdata) {
        BackupRestore *b = userdata;
        ArchiveExtractOptions opts = { .limits = b->limits };
        _cleanup_close_ int upper_fd = -1;
        int r;

        if (b->import) {
                r = spool(b, b->limits.max_bytes);
                if (r < 0)
                        return r;
                l4m_close_fdp(&b->archive_fd);
                b->archive_fd = fcntl(b->partial_fd, F_DUPFD_CLOEXEC, 3);
                if (b->archive_fd < 0 || lseek(b->archive_fd, 0, SEEK_SET) < 0)
                        return -errno;
        }
        r = archive_extract(b->archive_fd, b->staging_fd, &opts, on_extract_progress, b, worker_cancel_flag(b->worker),
                            &b->error);
        if (r < 0)
                return r;
        r = check_staged(b);
        if (r < 0 || b->import)
                return r;
        /* The server's files are its uid's. */
        upper_fd = openat(b->staging_fd, BACKUP_UPPER_NAME, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (upper_fd < 0)
                return -errno;
        r = chown_tree_fd(upper_fd, CHOWN_TREE_ANY, CHOWN_TREE_ANY, b->uid, (gid_t) b->uid);
        if (r < 0) {
                b->error = g_strdup_printf("cannot hand the files to uid %u: %s", (unsigned) b->uid, STRERROR(r));
                return r;
        }
        if (fchmod(upper_fd, UPPER_DIR_MODE) < 0 || fsync(upper_fd) < 0 || syncfs(upper_fd) < 0)
                return -errno;
        return 0;
}

/* --- on the event loop ------------------------------------------------- */

/* Puts the staged upper/ in place of runtime/<name>/upper (swapped in one
 * renameat2(RENAME_EXCHANGE); the old tree goes with the staging
 * directory). An instance with a disk image gets a plain upper/ and its
 * image is retired: the next start makes a new one from upper/, as the
 * first start does. */
static int swap_in(BackupRestore *b, char **ret_problem) {
        g_autofree char *staged = g_strdup_printf("%s/" BACKUP_UPPER_NAME, b->staging_name);
        bool image = instance_disk_has_image_at(b->parent_fd);
        struct stat st;
        int r;

        if (fstatat(b->parent_fd, "upper", &st, AT_SYMLINK_NOFOLLOW) == 0) {
                if (renameat2(b->parent_fd, staged, b->parent_fd, "upper", RENAME_EXCHANGE) < 0)
                        return -errno;
        } else if (errno != ENOENT)
                return -errno;
        else if (renameat(b->parent_fd, staged, b->parent_fd, "upper") < 0)
                return -errno;
        if (image) {
                /* The image goes; the new upper/ is what the next start seeds
                 * a new one with. Its work/ directory is inside it. */
                r = rm_rf_in_background(b->parent_fd, INSTANCE_DISK_IMAGE);
                if (r < 0)
                        return problem_setf(ret_problem, r, "Cannot retire the disk image: %s.", STRERROR(r));
                job_log(b->job, "The instance's disk image was retired; its next start makes a new one from the "
                        "restored files.");
        }
        if (fsync(b->parent_fd) < 0)
                log_warning_errno(errno, "Cannot sync runtime/%s: %s", b->name, STRERROR(errno));
        return 0;
}

static int place_file(uint64_t id, void *userdata) {
        BackupRestore *b = userdata;
        g_autofree char *file = backup_file_name(id);

        if (renameat(b->parent_fd, b->partial_name, b->parent_fd, file) < 0)
                return -errno;
        g_clear_pointer(&b->partial_name, g_free);
        if (fsync(b->parent_fd) < 0)
                log_warning_errno(errno, "Cannot sync backups/%s: %s", b->name, STRERROR(errno));
        return 0;
}

static int keep_import(BackupRestore *b, uint64_t *ret_id, char **ret_problem) {
        uint64_t max = owner_quota_max(b->manager), used = 0;
        int r;

        if (max != UINT64_MAX) {
                r = owner_quota_usage(b->manager, b->owner, 0, &used);
                if (r < 0)
                        return r;
                if (used + b->archive_size > max)
                        return problem_setf(ret_problem, -EDQUOT,
                                            "Storage quota exceeded: %s's overlays and backups would pass [Overlays] "
                                            "OwnerMaxBytes=; nothing was kept.", b->owner);
        }
        return store_backup_insert(b->manager->db, &(StoreBackup) {
                                           .instance_id = b->instance_id,
                                           .owner = b->owner,
                                           .created = (uint64_t) g_get_real_time(),
                                           .size = b->archive_size,
                                           .consistent = b->meta.consistent,
                                   }, place_file, b, ret_id);
}

static void on_done(Worker *w, int r, void *userdata) {
        BackupRestore *b = userdata;
        g_autofree char *message = NULL, *problem = NULL;
        const char *nothing = b->import ? "nothing was kept" : "the instance is as it was";
        Instance *i = find_instance(b);
        uint64_t id = 0;

        b->worker = worker_free(b->worker);
        b->progress_timer = sd_event_source_disable_unref(b->progress_timer);

        if (r == -ECANCELED) {
                message = g_strdup_printf("Cancelled; %s.", nothing);
                finish(b, r, message);
                return;
        }
        if (r < 0) {
                message = g_strdup_printf("%s refused: %s; %s.", b->import ? "Import" : "Restore",
                                          b->error ? b->error : STRERROR(r), nothing);
                finish(b, r, message);
                return;
        }
        if (!i) {
                finish(b, -ENOENT, "The instance was deleted meanwhile.");
                return;
        }
        if (b->import) {
                r = keep_import(b, &id, &problem);
                if (r < 0) {
                        message = problem ? g_strdup(problem) : g_strdup_printf("Cannot keep the backup: %s.", STRERROR(r));
                        finish(b, r, message);
                        return;
                }
                message = g_strdup_printf("Imported as backup %" G_GUINT64_FORMAT " of instance %s (made of instance %s "
                                          "of %s%s).", id, b->name, b->meta.instance, b->meta.owner,
                                          b->meta.consistent ? "" : ", not consistent");
                job_log(b->job, "%s", message);
                backup_prune(b->manager, id);
                finish(b, 0, message);
                return;
        }
        /* Stopped when the job began; Start is refused while it runs. */
        if (instance_is_active(i) || instance_runtime_mounted(b->manager, i->name)) {
                finish(b, -EBUSY, "The instance is running; the instance is as it was.");
                return;
        }
        r = swap_in(b, &problem);
        if (r < 0) {
                message = problem ? g_strdup(problem)
                        : g_strdup_printf("Cannot put the restored files in place: %s; the instance is as it was.",
                                          STRERROR(r));
                finish(b, r, message);
                return;
        }
        message = g_strdup_printf("Restored backup %" G_GUINT64_FORMAT " into instance %s: %" G_GUINT64_FORMAT
                                  " entries, %" G_GUINT64_FORMAT " bytes%s.", b->backup_id, b->name, b->entries,
                                  b->bytes_written, b->meta.consistent ? "" : " (the backup is not consistent)");
        job_log(b->job, "%s", message);
        finish(b, 0, message);
}

static int on_progress_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        BackupRestore *b = userdata;
        uint64_t in = __atomic_load_n(&b->bytes_in, __ATOMIC_RELAXED);

        if (b->archive_size > 0)
                job_set_progress(b->job, 0.95 * (double) MIN(in, b->archive_size) / (double) b->archive_size);
        (void) sd_event_source_set_time_relative(s, PROGRESS_TICK_USEC);
        return 0;
}

static int open_parent(BackupRestore *b, Instance *i) {
        if (b->import)
                b->parent_fd = backup_open_dir(b->manager, i->name, true);
        else {
                b->parent_fd = open_or_create_dir_at(b->manager->runtime_fd, i->name, 0711);
                if (b->parent_fd >= 0 && fchmod(b->parent_fd, 0711) < 0)
                        return -errno;
        }
        return b->parent_fd < 0 ? b->parent_fd : 0;
}

static int backup_restore_start(Job *j) {
        BackupRestore *b = j->data;
        Instance *i = find_instance(b);
        g_autofree char *problem = NULL, *file = NULL;
        _cleanup_close_ int dir_fd = -1;
        struct stat st;
        int r;

        b->job = j;
        if (!i)
                return -ENOENT;
        if (!b->import) {
                if (instance_is_active(i) || instance_runtime_mounted(b->manager, i->name)) {
                        finish(b, -EBUSY, "The instance is running; stop it to restore a backup.");
                        return 0;
                }
                r = instance_ensure_uid(i, &problem);
                if (r < 0) {
                        finish(b, r, problem ? problem : STRERROR(r));
                        return 0;
                }
                b->uid = i->uid;
                dir_fd = backup_open_dir(b->manager, i->name, false);
                file = backup_file_name(b->backup_id);
                b->archive_fd = dir_fd < 0 ? -1 : openat(dir_fd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                if (b->archive_fd < 0) {
                        finish(b, -ENOENT, "The backup's file is gone.");
                        return 0;
                }
                if (fstat(b->archive_fd, &st) == 0)
                        b->archive_size = (uint64_t) st.st_size;
        }
        r = open_parent(b, i);
        if (r < 0)
                return r;
        b->staging_name = g_strdup_printf(".%s-%" G_GUINT64_FORMAT, b->import ? "check" : "restore", j->id);
        (void) rm_rf_at(b->parent_fd, b->staging_name);
        if (mkdirat(b->parent_fd, b->staging_name, STAGING_DIR_MODE) < 0)
                return -errno;
        b->staging_fd = openat(b->parent_fd, b->staging_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (b->staging_fd < 0)
                return -errno;
        if (b->import) {
                b->partial_name = g_strdup_printf(".partial-%" G_GUINT64_FORMAT, j->id);
                (void) unlinkat(b->parent_fd, b->partial_name, 0);
                b->partial_fd = openat(b->parent_fd, b->partial_name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                       BACKUP_FILE_MODE);
                if (b->partial_fd < 0)
                        return -errno;
                job_log(j, "Importing a backup for instance %s; it is checked like an untrusted archive.", b->name);
        } else
                job_log(j, "Restoring backup %" G_GUINT64_FORMAT " into instance %s.", b->backup_id, b->name);

        r = sd_event_add_time_relative(b->manager->event, &b->progress_timer, CLOCK_MONOTONIC, PROGRESS_TICK_USEC, 0,
                                       on_progress_tick, b);
        if (r < 0)
                return r;
        return worker_start(b->manager->event, b->import ? "backup-import" : "backup-restore", restore_work, on_done, b,
                            &b->worker);
}

static void backup_restore_cancel(Job *j) {
        BackupRestore *b = j->data;

        if (b->worker)
                worker_cancel(b->worker);
        else
                finish(b, -ECANCELED, b->import ? "Cancelled; nothing was kept." : "Cancelled; the instance is as it was.");
}

const JobKind backup_restore_kind = {
        .name = "backup-restore",
        .action = L4M_ACTION_INSTANCE_MANAGE,
        .restartable = false,
        .start = backup_restore_start,
        .cancel = backup_restore_cancel,
        .free_data = backup_restore_free,
};

const JobKind backup_import_kind = {
        .name = "backup-import",
        .action = L4M_ACTION_INSTANCE_MANAGE,
        .restartable = false,
        .start = backup_restore_start,
        .cancel = backup_restore_cancel,
        .free_data = backup_restore_free,
};

static BackupRestore *backup_restore_new(Manager *m, Instance *i, bool import) {
        BackupRestore *b = g_new0(BackupRestore, 1);

        b->manager = m;
        b->instance_id = i->id;
        b->name = g_strdup(i->name);
        b->owner = g_strdup(i->owner);
        b->import = import;
        b->archive_fd = b->parent_fd = b->staging_fd = b->partial_fd = -1;
        return b;
}

static int submit(Manager *m, const Actor *actor, Instance *i, const JobKind *kind, BackupRestore *b, Job **ret_job,
                  char **ret_problem) {
        g_autofree char *target = backup_job_target(i->name);
        Job *existing = manager_find_active_job_for(m, target);
        int r;

        if (existing) {
                kind->free_data(b);
                return problem_setf(ret_problem, -EBUSY, "Instance \"%s\" has a job already (%s).", i->name,
                                    existing->kind_name);
        }
        r = job_submit(m, kind, target, actor->principal, b, ret_job);
        if (r == -EBUSY)
                return problem_setf(ret_problem, r, "Instance \"%s\" has a job already.", i->name);
        return r;
}

int backup_restore_submit(Manager *m, const Actor *actor, uint64_t id, Job **ret_job, char **ret_problem) {
        g_autofree char *owner = NULL, *name = NULL;
        BackupRestore *b;
        Instance *i;
        int r;

        r = backup_lookup(m, id, &owner, &name);
        if (r == -ENOENT || (r >= 0 && !actor_sees(actor, owner)))
                return problem_setf(ret_problem, -ENOENT, "There is no backup %" G_GUINT64_FORMAT ".", id);
        if (r < 0)
                return r;
        i = g_hash_table_lookup(m->instances_by_name, name);
        if (!i)
                return problem_setf(ret_problem, -ENOENT, "The instance of backup %" G_GUINT64_FORMAT " is gone.", id);
        if (!i->state_known || instance_is_active(i) || i->start_after_stop)
                return problem_setf(ret_problem, -EBUSY, "Instance \"%s\" is %s; stop it to restore a backup.", i->name,
                                    i->state_known ? i->state : "not known yet");
        b = backup_restore_new(m, i, false);
        b->backup_id = id;
        /* Our own archive, checked when it was made or imported: its size
         * bounds it, not the ratios meant for untrusted uploads. */
        b->limits = (ArchiveLimits) {
                .max_bytes = UINT64_C(1) << 40,
                .max_entries = UINT64_C(100000000),
                .max_entry_bytes = UINT64_C(1) << 40,
                .max_ratio = UINT64_C(1) << 30,
        };
        return submit(m, actor, i, &backup_restore_kind, b, ret_job, ret_problem);
}

int backup_import_submit(Manager *m, const Actor *actor, Instance *i, int fd, Job **ret_job, char **ret_problem) {
        BackupRestore *b = backup_restore_new(m, i, true);

        b->archive_fd = fd;
        /* An untrusted archive: the limits of archive overlays, but the
         * ratio (a server's logs compress well); MaxBytes= bounds a bomb. */
        b->limits = (ArchiveLimits) {
                .max_bytes = m->config->archive_max_bytes,
                .max_entries = m->config->archive_max_entries,
                .max_entry_bytes = m->config->archive_max_entry_bytes,
                .max_ratio = UINT64_C(1) << 30,
        };
        return submit(m, actor, i, &backup_import_kind, b, ret_job, ret_problem);
}
