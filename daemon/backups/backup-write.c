/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/backups/: backups of instances: records and rules, the writer, restore, import and export. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "dlopen-archive.h"
#include "fs-util.h"
#include "instance-disk.h"
#include "instance-runtime.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "owner-quota.h"
#include "problem.h"
#include "store.h"
#include "tree-copy.h"
#include "worker.h"

#define PROGRESS_TICK_USEC (200 * 1000)
#define STOP_WAIT_TICK_USEC (200 * 1000)
#define STOP_WAIT_MAX_USEC (90 * G_USEC_PER_SEC)
#define COPY_CHUNK (256u * 1024)
#define WALK_DEPTH_MAX 256u
/* Paths named in the log as changing or left out, at most. */
#define NOTES_MAX 50u

typedef struct BackupWrite {
        Job *job;
        Manager *manager;
        uint64_t instance_id;
        char *name;
        char *owner;
        bool stop_server;
        bool stopped_by_us;             /* start the server again at the end */
        sd_event_source *stop_timer;    /* waiting for the unit to be gone */
        int64_t stop_began;
        BackupMeta meta;

        int dir_fd;                     /* backups/<name>/ */
        char *partial_name;             /* .partial-<job>, while it exists */
        int partial_fd;
        int upper_fd;
        Worker *writer;
        sd_event_source *progress_timer;

        /* written by the thread, read by the loop once it is done (the
         * counters at any time, as hints) */
        uint64_t total, done_bytes, entries;
        bool consistent;
        GPtrArray *changing;            /* paths still changing after BACKUP_FILE_ATTEMPTS reads */
        GPtrArray *left_out;            /* paths not backed up, with why */
        unsigned whiteouts;
        char *error;
} BackupWrite;

static void backup_write_free(void *data) {
        BackupWrite *b = data;

        if (!b)
                return;
        /* The daemon is going away mid-write: stop the thread, and wait. */
        b->writer = worker_free(b->writer);
        sd_event_source_disable_unref(b->progress_timer);
        sd_event_source_disable_unref(b->stop_timer);
        if (b->partial_name && b->dir_fd >= 0)
                (void) unlinkat(b->dir_fd, b->partial_name, 0);
        g_free(b->partial_name);
        l4m_close_fdp(&b->partial_fd);
        l4m_close_fdp(&b->upper_fd);
        l4m_close_fdp(&b->dir_fd);
        backup_meta_clear(&b->meta);
        if (b->changing)
                g_ptr_array_free(b->changing, TRUE);
        if (b->left_out)
                g_ptr_array_free(b->left_out, TRUE);
        g_free(b->error);
        g_free(b->name);
        g_free(b->owner);
        g_free(b);
}

static Instance *find_instance(BackupWrite *b) {
        return g_hash_table_lookup(b->manager->instances_by_id, &b->instance_id);
}

static void note(GPtrArray *list, char *text) {
        if (list->len < NOTES_MAX)
                g_ptr_array_add(list, text);
        else
                g_free(text);
}

/* --- on the writer's thread -------------------------------------------- */

typedef struct Snapshot {
        GByteArray *memory;             /* small files */
        int spool_fd;                   /* large ones: an unlinked file */
        uint64_t size;
} Snapshot;

static void snapshot_clear(Snapshot *s) {
        if (s->memory)
                g_byte_array_unref(s->memory);
        l4m_close_fdp(&s->spool_fd);
        *s = (Snapshot) { .spool_fd = -1 };
}

static bool same_version(const struct stat *a, const struct stat *b) {
        return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
                a->st_mtim.tv_nsec == b->st_mtim.tv_nsec && a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
                a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Reads fd from its start into s: into memory up to
 * BACKUP_SNAPSHOT_MEMORY_MAX, else into an unlinked file in dir_fd. */
static int snapshot_read(BackupWrite *b, int fd, uint64_t size_hint, Snapshot *s) {
        g_autofree uint8_t *buf = g_malloc(COPY_CHUNK);
        off_t off = 0;
        ssize_t n;

        if (size_hint <= BACKUP_SNAPSHOT_MEMORY_MAX)
                s->memory = g_byte_array_sized_new((guint) size_hint);
        else {
                s->spool_fd = openat(b->dir_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
                if (s->spool_fd < 0)
                        return -errno;
        }
        for (;;) {
                if (worker_cancelled(b->writer))
                        return -ECANCELED;
                n = pread(fd, buf, COPY_CHUNK, off);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                if (s->memory) {
                        if ((uint64_t) s->memory->len + (uint64_t) n > G_MAXUINT32 / 2)
                                return -EFBIG;
                        g_byte_array_append(s->memory, buf, (guint) n);
                } else if (write_all(s->spool_fd, buf, (size_t) n) < 0)
                        return -errno;
                off += n;
        }
        s->size = (uint64_t) off;
        if (s->spool_fd >= 0 && lseek(s->spool_fd, 0, SEEK_SET) < 0)
                return -errno;
        return 0;
}

static int write_data(BackupWrite *b, struct archive *a, Snapshot *s) {
        g_autofree uint8_t *buf = NULL;
        uint64_t left = s->size;
        ssize_t n;

        if (s->memory) {
                const uint8_t *p = s->memory->data;
                while (left > 0) {
                        size_t chunk = MIN(left, (uint64_t) COPY_CHUNK);
                        if (worker_cancelled(b->writer))
                                return -ECANCELED;
                        if (sym_archive_write_data(a, p, chunk) != (la_ssize_t) chunk)
                                return -EIO;
                        p += chunk;
                        left -= chunk;
                        __atomic_add_fetch(&b->done_bytes, chunk, __ATOMIC_RELAXED);
                }
                return 0;
        }
        buf = g_malloc(COPY_CHUNK);
        while (left > 0) {
                if (worker_cancelled(b->writer))
                        return -ECANCELED;
                n = read(s->spool_fd, buf, MIN(left, (uint64_t) COPY_CHUNK));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : -EIO;
                if (sym_archive_write_data(a, buf, (size_t) n) != (la_ssize_t) n)
                        return -EIO;
                left -= (uint64_t) n;
                __atomic_add_fetch(&b->done_bytes, (uint64_t) n, __ATOMIC_RELAXED);
        }
        return 0;
}

static int write_header(struct archive *a, const char *path, mode_t type, const struct stat *st, uint64_t size,
                        const char *link) {
        struct archive_entry *e = sym_archive_entry_new();
        int r = 0;

        if (!e)
                return -ENOMEM;
        sym_archive_entry_set_pathname(e, path);
        sym_archive_entry_set_filetype(e, type);
        sym_archive_entry_set_perm(e, st->st_mode & 07777);
        sym_archive_entry_set_mtime(e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
        sym_archive_entry_set_size(e, type == AE_IFREG ? (la_int64_t) size : 0);
        if (link)
                sym_archive_entry_set_symlink(e, link);
        if (sym_archive_write_header(a, e) != ARCHIVE_OK)
                r = -EIO;
        sym_archive_entry_free(e);
        return r;
}

/* One regular file of a running server: read it whole, then look again;
 * a file that changed meanwhile is read again, up to
 * BACKUP_FILE_ATTEMPTS times, after which the last reading is kept and
 * the backup is not consistent. */
/* An entry that was removed, or replaced by something else (a link, a
 * fifo), between the look at it and its opening: the server changed it
 * meanwhile. */
static bool changed_meanwhile(int r) {
        return r == -ENOENT || r == -ELOOP || r == -ENOTDIR || r == -ENXIO || r == -EAGAIN;
}

/* Leaves out what the server changed under the walk, marking the backup
 * not consistent; other failures fail it. */
static int left_out_if_changed(BackupWrite *b, int r, const char *path) {
        if (!changed_meanwhile(r))
                return r;
        if (r != -ENOENT) {
                b->consistent = false;
                note(b->changing, g_strdup_printf("%s (replaced while it was read)", path));
        }
        return 0;
}

static int add_file(BackupWrite *b, struct archive *a, int dir_fd, const char *name, const char *path) {
        _cleanup_close_ int fd = -1;
        struct stat before, after;
        Snapshot s = { .spool_fd = -1 };
        bool stable = false;
        int r = 0;

        fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOATIME);
        if (fd < 0 && errno == EPERM)
                fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return left_out_if_changed(b, -errno, path);
        for (unsigned attempt = 0; attempt < BACKUP_FILE_ATTEMPTS && !stable; attempt++) {
                snapshot_clear(&s);
                if (fstat(fd, &before) < 0) {
                        r = -errno;
                        break;
                }
                if (!S_ISREG(before.st_mode))
                        break;
                r = snapshot_read(b, fd, (uint64_t) before.st_size, &s);
                if (r < 0)
                        break;
                if (fstat(fd, &after) < 0) {
                        r = -errno;
                        break;
                }
                stable = same_version(&before, &after) && s.size == (uint64_t) after.st_size;
        }
        if (r >= 0 && S_ISREG(before.st_mode)) {
                if (!stable) {
                        b->consistent = false;
                        note(b->changing, g_strdup(path));
                }
                r = write_header(a, path, AE_IFREG, &before, s.size, NULL);
                if (r >= 0)
                        r = write_data(b, a, &s);
                b->entries++;
        }
        snapshot_clear(&s);
        return r;
}

/* A link the extractor would refuse (absolute, or with ".."), left out so
 * that every backup can be restored. */
static bool link_target_ok(const char *target) {
        g_auto(GStrv) parts = NULL;

        if (!*target || target[0] == '/')
                return false;
        parts = g_strsplit(target, "/", -1);
        for (char **p = parts; *p; p++)
                if (strcmp(*p, "..") == 0)
                        return false;
        return true;
}

static int walk(BackupWrite *b, struct archive *a, int dir_fd, const char *prefix, dev_t dev, unsigned depth) {
        _cleanup_close_ int fd = -1;
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (depth > WALK_DEPTH_MAX)
                return -ELOOP;
        /* A description of its own: a dup would share the offset of
         * whoever read the directory before (tree_size()). */
        fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        fd = -1;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        g_ptr_array_add(names, g_strdup(de->d_name));
        closedir(d);
        g_ptr_array_sort(names, (GCompareFunc) g_strcmp0);
        for (guint k = 0; k < names->len && r >= 0; k++) {
                const char *name = names->pdata[k];
                g_autofree char *path = g_strdup_printf("%s/%s", prefix, name);
                struct stat st;

                if (worker_cancelled(b->writer))
                        return -ECANCELED;
                if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue;       /* removed meanwhile */
                        return -errno;
                }
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub = -1;

                        if (st.st_dev != dev) {
                                note(b->left_out, g_strdup_printf("%s (another file system)", path));
                                continue;
                        }
                        sub = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0) {
                                r = left_out_if_changed(b, -errno, path);
                                continue;
                        }
                        g_autofree char *dir_path = g_strdup_printf("%s/", path);
                        r = write_header(a, dir_path, AE_IFDIR, &st, 0, NULL);
                        b->entries++;
                        if (r >= 0)
                                r = walk(b, a, sub, path, dev, depth + 1);
                } else if (S_ISREG(st.st_mode))
                        r = add_file(b, a, dir_fd, name, path);
                else if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        ssize_t n = readlinkat(dir_fd, name, target, sizeof target - 1);

                        if (n < 0) {
                                r = left_out_if_changed(b, errno == EINVAL ? -ENXIO : -errno, path);
                                continue;
                        }
                        target[n] = 0;
                        if (!link_target_ok(target)) {
                                note(b->left_out, g_strdup_printf("%s (a link to \"%s\")", path, target));
                                continue;
                        }
                        r = write_header(a, path, AE_IFLNK, &st, 0, target);
                        b->entries++;
                } else if (S_ISCHR(st.st_mode) && st.st_rdev == 0)
                        b->whiteouts++; /* overlayfs: a file of the layers below deleted */
                else
                        note(b->left_out, g_strdup_printf("%s (not a file, directory or link)", path));
        }
        return r;
}

static int write_work(void *userdata) {
        BackupWrite *b = userdata;
        struct archive *a = NULL;
        g_autofree char *json = NULL;
        g_autofree void *header = NULL;
        struct stat st;
        int r;

        if (tree_size(b->upper_fd, &b->total) < 0)
                b->total = 0;
        if (fstat(b->upper_fd, &st) < 0)
                return -errno;
        if (lseek(b->partial_fd, BACKUP_HEADER_ROOM, SEEK_SET) < 0)
                return -errno;

        r = dlopen_archive();
        if (r < 0)
                return r;
        a = sym_archive_write_new();
        if (!a)
                return -ENOMEM;
        if (sym_archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
            sym_archive_write_add_filter_zstd(a) != ARCHIVE_OK ||
            sym_archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
            sym_archive_write_open_fd(a, b->partial_fd) != ARCHIVE_OK) {
                b->error = g_strdup_printf("cannot write the archive: %s", sym_archive_error_string(a));
                sym_archive_write_free(a);
                return -EIO;
        }
        r = write_header(a, BACKUP_UPPER_NAME "/", AE_IFDIR, &st, 0, NULL);
        if (r >= 0)
                r = walk(b, a, b->upper_fd, BACKUP_UPPER_NAME, st.st_dev, 0);
        if (r >= 0 && sym_archive_write_close(a) != ARCHIVE_OK)
                r = -EIO;
        if (r == -EIO && !b->error)
                b->error = g_strdup_printf("cannot write the archive: %s", sym_archive_error_string(a));
        sym_archive_write_free(a);
        if (r < 0)
                return r;

        /* Now that it is known whether it is consistent: the JSON entry in
         * the room left at the start. */
        b->meta.consistent = b->consistent;
        json = backup_meta_to_json(&b->meta);
        r = backup_meta_header(json, b->meta.created, BACKUP_HEADER_ROOM, &header, &b->error);
        if (r < 0)
                return r;
        if (pwrite(b->partial_fd, header, BACKUP_HEADER_ROOM, 0) != (ssize_t) BACKUP_HEADER_ROOM)
                return errno > 0 ? -errno : -EIO;
        if (fsync(b->partial_fd) < 0)
                return -errno;
        return 0;
}

/* --- on the event loop ------------------------------------------------- */

static void on_restarted(Instance *i, int r, const char *text, void *userdata) {
        if (r < 0)
                log_warning("Cannot start instance %s again after its backup: %s", i->name, text ? text : STRERROR(r));
}

/* Ends the job; a server stopped for the backup is started again. */
static void finish(BackupWrite *b, int r, const char *message) {
        Instance *i = find_instance(b);

        if (b->stopped_by_us && i) {
                g_autofree char *problem = NULL;
                int k = instance_start(i, on_restarted, NULL, &problem);

                if (k < 0)
                        job_log(b->job, "Cannot start the server again: %s", problem ? problem : STRERROR(k));
                else
                        job_log(b->job, "Starting the server again.");
        }
        if (r < 0 && r != -ECANCELED)
                job_log(b->job, "%s", message);
        job_finish(b->job, r, "%s", message);  /* frees b */
}

static int place_file(uint64_t id, void *userdata) {
        BackupWrite *b = userdata;
        g_autofree char *file = backup_file_name(id);

        if (renameat(b->dir_fd, b->partial_name, b->dir_fd, file) < 0)
                return -errno;
        g_clear_pointer(&b->partial_name, g_free);
        if (fsync(b->dir_fd) < 0)
                log_warning_errno(errno, "Cannot sync backups/%s: %s", b->name, STRERROR(errno));
        return 0;
}

static int keep_backup(BackupWrite *b, uint64_t *ret_id, uint64_t *ret_size, char **ret_problem) {
        Instance *i = find_instance(b);
        uint64_t max = owner_quota_max(b->manager), used = 0;
        struct stat st;
        int r;

        if (!i)
                return problem_setf(ret_problem, -ENOENT, "The instance was deleted meanwhile; nothing was kept.");
        if (fstat(b->partial_fd, &st) < 0)
                return -errno;
        if (max != UINT64_MAX) {
                r = owner_quota_usage(b->manager, b->owner, 0, &used);
                if (r < 0)
                        return r;
                if (used + (uint64_t) st.st_size > max) {
                        g_autofree char *size = owner_quota_format_bytes((uint64_t) st.st_size);
                        g_autofree char *used_text = owner_quota_format_bytes(used);
                        g_autofree char *max_text = owner_quota_format_bytes(max);
                        return problem_setf(ret_problem, -EDQUOT,
                                            "Storage quota exceeded: %s's overlays and backups use %s of [Overlays] "
                                            "OwnerMaxBytes=%s; this backup needs %s. Nothing was kept.",
                                            b->owner, used_text, max_text, size);
                }
        }
        r = store_backup_insert(b->manager->db, &(StoreBackup) {
                                        .instance_id = b->instance_id,
                                        .owner = b->owner,
                                        .created = b->meta.created,
                                        .size = (uint64_t) st.st_size,
                                        .consistent = b->consistent,
                                }, place_file, b, ret_id);
        if (r < 0)
                return r;
        *ret_size = (uint64_t) st.st_size;
        return 0;
}

static void on_written(Worker *w, int r, void *userdata) {
        BackupWrite *b = userdata;
        g_autofree char *message = NULL, *problem = NULL, *size_text = NULL;
        uint64_t id = 0, size = 0;

        b->writer = worker_free(b->writer);
        b->progress_timer = sd_event_source_disable_unref(b->progress_timer);

        for (guint k = 0; k < b->changing->len; k++)
                job_log(b->job, "Still changing after %u reads: %s", BACKUP_FILE_ATTEMPTS,
                        (const char *) b->changing->pdata[k]);
        for (guint k = 0; k < b->left_out->len; k++)
                job_log(b->job, "Left out: %s", (const char *) b->left_out->pdata[k]);
        if (b->whiteouts > 0)
                job_log(b->job, "Left out: %u overlayfs whiteout(s) (files of the layers deleted by the server).",
                        b->whiteouts);

        if (r == -ECANCELED) {
                finish(b, r, "Cancelled; nothing was kept.");
                return;
        }
        if (r < 0) {
                message = g_strdup_printf("Backup failed: %s; nothing was kept.", b->error ? b->error : STRERROR(r));
                finish(b, r, message);
                return;
        }
        r = keep_backup(b, &id, &size, &problem);
        if (r < 0) {
                message = problem ? g_strdup(problem)
                        : g_strdup_printf("Cannot keep the backup: %s; nothing was kept.", STRERROR(r));
                finish(b, r, message);
                return;
        }
        if (!b->consistent)
                log_warning("Backup %" G_GUINT64_FORMAT " of instance %s is not consistent: %u file(s) kept changing "
                            "while they were read.", id, b->name, b->changing->len);
        size_text = owner_quota_format_bytes(size);
        message = g_strdup_printf("Backup %" G_GUINT64_FORMAT " of instance %s: %" G_GUINT64_FORMAT " entries, %s%s.", id,
                                  b->name, b->entries, size_text,
                                  b->consistent ? "" : "; NOT consistent (files kept changing, see the log)");
        job_log(b->job, "%s", message);
        backup_prune(b->manager, id);
        finish(b, 0, message);
}

static int on_progress_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        BackupWrite *b = userdata;
        uint64_t done = __atomic_load_n(&b->done_bytes, __ATOMIC_RELAXED);

        if (b->total > 0)
                job_set_progress(b->job, 0.99 * (double) MIN(done, b->total) / (double) b->total);
        (void) sd_event_source_set_time_relative(s, PROGRESS_TICK_USEC);
        return 0;
}

/* The upper directory to read: upper/, or disk/upper of a running
 * instance with a disk image. */
static int open_upper(BackupWrite *b, Instance *i, char **ret_problem) {
        _cleanup_close_ int inst_fd = -1;
        const char *path = "upper";

        inst_fd = openat(b->manager->runtime_fd, i->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (inst_fd < 0 && errno == ENOENT)
                return problem_setf(ret_problem, -ENOENT, "Instance \"%s\" has never run: there is nothing to back up.",
                                    i->name);
        if (inst_fd < 0)
                return -errno;
        if (instance_disk_has_image_at(inst_fd)) {
                /* The image is readable only while the helper has it mounted. */
                if (!instance_is_active(i) || !instance_runtime_mounted(b->manager, i->name))
                        return problem_setf(ret_problem, -EBUSY,
                                            "Instance \"%s\" keeps its files in a disk image (disk_max), which can be "
                                            "read only while its server runs; start it and back it up without "
                                            "stopping it.", i->name);
                path = INSTANCE_DISK_MOUNT "/upper";
        }
        b->upper_fd = openat(inst_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (b->upper_fd < 0 && errno == ENOENT)
                return problem_setf(ret_problem, -ENOENT, "Instance \"%s\" has never run: there is nothing to back up.",
                                    i->name);
        return b->upper_fd < 0 ? -errno : 0;
}

static int begin_write(BackupWrite *b) {
        Instance *i = find_instance(b);
        g_autofree char *problem = NULL;
        int r;

        if (!i)
                return -ENOENT;
        r = open_upper(b, i, &problem);
        if (r < 0) {
                finish(b, r, problem ? problem : STRERROR(r));
                return 0;
        }
        b->dir_fd = backup_open_dir(b->manager, b->name, true);
        if (b->dir_fd < 0)
                return b->dir_fd;
        b->partial_name = g_strdup_printf(".partial-%" G_GUINT64_FORMAT, b->job->id);
        (void) unlinkat(b->dir_fd, b->partial_name, 0);
        b->partial_fd = openat(b->dir_fd, b->partial_name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                               BACKUP_FILE_MODE);
        if (b->partial_fd < 0)
                return -errno;

        b->meta.created = (uint64_t) g_get_real_time();
        job_log(b->job, "Backing up instance %s (%s).", b->name,
                instance_is_active(i) ? "while its server runs: each file is read until it stays the same" :
                "its server is stopped");
        r = sd_event_add_time_relative(b->manager->event, &b->progress_timer, CLOCK_MONOTONIC, PROGRESS_TICK_USEC, 0,
                                       on_progress_tick, b);
        if (r < 0)
                return r;
        return worker_start(b->manager->event, "backup-write", write_work, on_written, b, &b->writer);
}

static int on_stop_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        BackupWrite *b = userdata;
        Instance *i = find_instance(b);
        int r;

        if (!i) {
                finish(b, -ENOENT, "The instance was deleted meanwhile.");
                return 0;
        }
        if (!instance_is_active(i) && !instance_runtime_mounted(b->manager, i->name)) {
                b->stop_timer = sd_event_source_disable_unref(b->stop_timer);
                r = begin_write(b);
                if (r < 0) {
                        g_autofree char *message = g_strdup_printf("Cannot start the backup: %s", STRERROR(r));
                        finish(b, r, message);
                }
                return 0;
        }
        if (g_get_monotonic_time() - b->stop_began > STOP_WAIT_MAX_USEC) {
                finish(b, -ETIMEDOUT, "The server did not stop; nothing was backed up.");
                return 0;
        }
        (void) sd_event_source_set_time_relative(s, STOP_WAIT_TICK_USEC);
        return 0;
}

static int backup_write_start(Job *j) {
        BackupWrite *b = j->data;
        Instance *i = find_instance(b);
        _cleanup_close_ int inst_fd = -1;
        int r;

        b->job = j;
        if (!i)
                return -ENOENT;
        if (b->stop_server && instance_is_active(i)) {
                inst_fd = openat(b->manager->runtime_fd, i->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (inst_fd >= 0 && instance_disk_has_image_at(inst_fd)) {
                        finish(b, -EBUSY, "The instance keeps its files in a disk image (disk_max), which can be read "
                               "only while its server runs; back it up without the stop option.");
                        return 0;
                }
                job_log(j, "Stopping the server for the backup.");
                r = instance_halt(i, NULL, NULL);
                if (r < 0)
                        return r;
                b->stopped_by_us = true;
                b->stop_began = g_get_monotonic_time();
                return sd_event_add_time_relative(b->manager->event, &b->stop_timer, CLOCK_MONOTONIC,
                                                  STOP_WAIT_TICK_USEC, 0, on_stop_tick, b);
        }
        return begin_write(b);
}

static void backup_write_cancel(Job *j) {
        BackupWrite *b = j->data;

        if (b->writer)
                worker_cancel(b->writer);      /* on_written() finishes */
        else
                finish(b, -ECANCELED, "Cancelled; nothing was kept.");
}

const JobKind backup_kind = {
        .name = "instance-backup",
        .action = L4M_ACTION_INSTANCE_CONTROL,
        .restartable = false,
        .start = backup_write_start,
        .cancel = backup_write_cancel,
        .free_data = backup_write_free,
};

int backup_submit(Manager *m, const Actor *actor, Instance *i, bool stop_server, Job **ret_job, char **ret_problem) {
        g_autofree char *target = backup_job_target(i->name);
        Blueprint *bp = g_hash_table_lookup(m->blueprints_by_id, &i->blueprint_id);
        BackupWrite *b;
        Job *existing = manager_find_active_job_for(m, target);
        int r;

        if (existing)
                return problem_setf(ret_problem, -EBUSY, "Instance \"%s\" has a job already (%s).", i->name,
                                    existing->kind_name);
        b = g_new0(BackupWrite, 1);
        b->manager = m;
        b->instance_id = i->id;
        b->name = g_strdup(i->name);
        b->owner = g_strdup(i->owner);
        b->stop_server = stop_server;
        b->dir_fd = b->partial_fd = b->upper_fd = -1;
        b->consistent = true;
        b->changing = g_ptr_array_new_with_free_func(g_free);
        b->left_out = g_ptr_array_new_with_free_func(g_free);
        b->meta = (BackupMeta) {
                .instance = g_strdup(i->name),
                .owner = g_strdup(i->owner),
                .hostname = g_strdup(i->hostname),
                .port = i->port,
                .blueprint = g_strdup(bp ? bp->name : ""),
                .player_limit = i->max_players,
                .start_map = g_strdup(i->map),
                .autostart = i->autostart,
        };
        for (int k = 0; k < _INSTANCE_LIMIT_N; k++)
                b->meta.limits[k] = instance_limits_get(&i->limits, k);
        r = job_submit(m, &backup_kind, target, actor->principal, b, ret_job);
        if (r == -EBUSY)
                return problem_setf(ret_problem, r, "Instance \"%s\" has a job already.", i->name);
        return r;
}
