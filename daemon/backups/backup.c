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
#include "fs-util.h"
#include "instance-disk.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "problem.h"
#include "store.h"

#define BACKUP_SUFFIX ".tar.zst"

char *backup_job_target(const char *instance_name) {
        return g_strdup_printf("instance:%s", instance_name);
}

char *backup_file_name(uint64_t id) {
        return g_strdup_printf("%" G_GUINT64_FORMAT BACKUP_SUFFIX, id);
}

int backup_open_dir(Manager *m, const char *instance_name, bool create) {
        int fd;

        if (create)
                return open_or_create_dir_at(m->backups_fd, instance_name, BACKUP_DIR_MODE);
        fd = openat(m->backups_fd, instance_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

typedef struct Found {
        char *owner;
        char *instance;
        uint64_t instance_id;
} Found;

static int found_row(const StoreBackup *b, void *userdata) {
        Found *f = userdata;

        f->owner = g_strdup(b->owner);
        f->instance = g_strdup(b->instance);
        f->instance_id = b->instance_id;
        return 0;
}

int backup_lookup(Manager *m, uint64_t id, char **ret_owner, char **ret_instance) {
        Found f = { NULL };
        int r;

        r = store_backup_get(m->db, id, found_row, &f);
        if (r < 0)
                return r;
        if (ret_owner)
                *ret_owner = g_steal_pointer(&f.owner);
        if (ret_instance)
                *ret_instance = g_steal_pointer(&f.instance);
        g_free(f.owner);
        g_free(f.instance);
        return 0;
}

/* Refuses while a job of the instance called name is queued or running. */
static int check_no_job(Manager *m, const char *name, char **ret_problem) {
        g_autofree char *target = backup_job_target(name);
        Job *j = manager_find_active_job_for(m, target);

        if (j)
                return problem_setf(ret_problem, -EBUSY, "Instance \"%s\" has a job already (%s).", name, j->kind_name);
        return 0;
}

/* The row, then the file: a crash in between leaves a file without a
 * row, which the start-up sweep removes. */
static int remove_backup(Manager *m, uint64_t id, const char *instance) {
        g_autofree char *file = backup_file_name(id);
        _cleanup_close_ int dir_fd = -1;
        int r;

        r = store_backup_delete(m->db, id);
        if (r < 0)
                return r;
        dir_fd = backup_open_dir(m, instance, false);
        if (dir_fd >= 0 && unlinkat(dir_fd, file, 0) < 0 && errno != ENOENT)
                log_warning_errno(errno, "Cannot remove backups/%s/%s: %s", instance, file, STRERROR(errno));
        return 0;
}

/* The instance of backup id, or -ENOENT with a text. */
static int lookup_instance(Manager *m, uint64_t id, char **ret_instance, char **ret_problem) {
        int r = backup_lookup(m, id, NULL, ret_instance);

        if (r == -ENOENT)
                return problem_setf(ret_problem, r, "There is no backup %" G_GUINT64_FORMAT ".", id);
        return r;
}

int backup_delete(Manager *m, uint64_t id, char **ret_problem) {
        g_autofree char *instance = NULL;
        int r;

        r = lookup_instance(m, id, &instance, ret_problem);
        if (r < 0)
                return r;
        r = check_no_job(m, instance, ret_problem);
        if (r < 0)
                return r;
        r = remove_backup(m, id, instance);
        if (r < 0)
                return r;
        log_info("Backup %" G_GUINT64_FORMAT " of instance %s deleted.", id, instance);
        return 0;
}

int backup_open(Manager *m, uint64_t id, int *ret_fd, char **ret_problem) {
        g_autofree char *instance = NULL, *file = backup_file_name(id);
        _cleanup_close_ int dir_fd = -1;
        int fd, r;

        r = lookup_instance(m, id, &instance, ret_problem);
        if (r < 0)
                return r;
        dir_fd = backup_open_dir(m, instance, false);
        if (dir_fd < 0)
                return dir_fd;
        fd = openat(dir_fd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

typedef struct PruneState {
        Manager *manager;
        uint64_t keep_id;
        GHashTable *per_instance;       /* instance_id → count so far (newest first) */
        GArray *rows;                   /* PruneRow, newest first */
        uint64_t total;
} PruneState;

typedef struct PruneRow {
        uint64_t id;
        uint64_t size;
        char *instance;
        bool doomed;
} PruneRow;

static int prune_row(const StoreBackup *b, void *userdata) {
        PruneState *s = userdata;
        unsigned n = GPOINTER_TO_UINT(g_hash_table_lookup(s->per_instance, GSIZE_TO_POINTER(b->instance_id))) + 1;
        PruneRow row = { .id = b->id, .size = b->size, .instance = g_strdup(b->instance) };

        g_hash_table_insert(s->per_instance, GSIZE_TO_POINTER(b->instance_id), GUINT_TO_POINTER(n));
        row.doomed = n > s->manager->config->backups_keep_per_instance && b->id != s->keep_id;
        if (!row.doomed)
                s->total += b->size;
        g_array_append_val(s->rows, row);
        return 0;
}

static void prune_row_clear(PruneRow *row) {
        g_free(row->instance);
}

void backup_prune(Manager *m, uint64_t keep_id) {
        g_autoptr(GHashTable) per_instance = g_hash_table_new(g_direct_hash, g_direct_equal);
        g_autoptr(GArray) rows = g_array_new(FALSE, TRUE, sizeof(PruneRow));
        PruneState s = { m, keep_id, per_instance, rows, 0 };
        uint64_t max = m->config->backups_max_bytes;
        int r;

        g_array_set_clear_func(rows, (GDestroyNotify) prune_row_clear);
        r = store_backup_foreach(m->db, 0, prune_row, &s);
        if (r < 0) {
                log_warning_errno(r, "Cannot prune backups: %s", STRERROR(r));
                return;
        }
        /* Oldest first past MaxBytes=. */
        for (guint k = rows->len; k > 0 && s.total > max; k--) {
                PruneRow *row = &g_array_index(rows, PruneRow, k - 1);

                if (row->doomed || row->id == keep_id)
                        continue;
                row->doomed = true;
                s.total -= row->size;
        }
        for (guint k = rows->len; k > 0; k--) {
                PruneRow *row = &g_array_index(rows, PruneRow, k - 1);
                if (!row->doomed)
                        continue;
                /* Pruning follows a new backup, whose job still runs on its
                 * instance: no check for jobs here. */
                r = remove_backup(m, row->id, row->instance);
                if (r < 0)
                        log_warning_errno(r, "Cannot prune backup %" G_GUINT64_FORMAT " of instance %s: %s", row->id,
                                          row->instance, STRERROR(r));
                else
                        log_info("Pruned backup %" G_GUINT64_FORMAT " of instance %s ([Backups] KeepPerInstance=%u, "
                                 "MaxBytes=).", row->id, row->instance, m->config->backups_keep_per_instance);
        }
}

/* The sweep's view of the rows: "<instance>/<id>.tar.zst" of each. */
static int sweep_row(const StoreBackup *b, void *userdata) {
        GHashTable *files = userdata;

        g_hash_table_insert(files, g_strdup_printf("%s/%" G_GUINT64_FORMAT BACKUP_SUFFIX, b->instance, b->id),
                            GSIZE_TO_POINTER(b->id));
        return 0;
}

static void sweep_dir(Manager *m, const char *name, GHashTable *files) {
        _cleanup_close_ int fd = -1;
        DIR *d;
        struct dirent *de;

        fd = openat(m->backups_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return;
        d = fdopendir(fd);
        if (!d)
                return;
        fd = -1;
        while ((de = readdir(d))) {
                g_autofree char *key = NULL;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                key = g_strdup_printf("%s/%s", name, de->d_name);
                if (g_hash_table_remove(files, key))
                        continue;
                log_info("Removing backups/%s: %s.", key,
                         g_str_has_prefix(de->d_name, ".partial-") ? "a backup that was not finished" :
                         "no backup is recorded for it");
                (void) rm_rf_at(dirfd(d), de->d_name);
        }
        closedir(d);
}

/* A restore a crash interrupted leaves runtime/<name>/.restore-<job>/
 * (the staged files, or after the swap the old ones). */
static void sweep_restore_staging(Manager *m, const char *name) {
        _cleanup_close_ int fd = -1;
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        DIR *d;
        struct dirent *de;

        fd = openat(m->runtime_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return;
        d = fdopendir(fd);
        if (!d)
                return;
        while ((de = readdir(d)))
                if (g_str_has_prefix(de->d_name, ".restore-"))
                        g_ptr_array_add(names, g_strdup(de->d_name));
        for (guint k = 0; k < names->len; k++) {
                log_info("Removing runtime/%s/%s: a restore that was interrupted.", name, (const char *) names->pdata[k]);
                (void) rm_rf_in_background(dirfd(d), names->pdata[k]);
        }
        closedir(d);
        fd = -1;
}

int manager_sweep_backups(Manager *m) {
        g_autoptr(GHashTable) files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        GHashTableIter it;
        gpointer key, value;
        DIR *d;
        struct dirent *de;
        int fd, r;

        r = store_backup_foreach(m->db, 0, sweep_row, files);
        if (r < 0)
                return r;
        fd = openat(m->backups_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                close(fd);
                return r;
        }
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (!g_hash_table_lookup(m->instances_by_name, de->d_name)) {
                        log_info("Removing backups/%s: no such instance.", de->d_name);
                        (void) rm_rf_in_background(m->backups_fd, de->d_name);
                        continue;
                }
                sweep_dir(m, de->d_name, files);
        }
        closedir(d);
        {
                GHashTableIter inst;
                gpointer name;

                g_hash_table_iter_init(&inst, m->instances_by_name);
                while (g_hash_table_iter_next(&inst, &name, NULL))
                        sweep_restore_staging(m, name);
        }
        /* What is left are rows without their file. */
        g_hash_table_iter_init(&it, files);
        while (g_hash_table_iter_next(&it, &key, &value)) {
                log_warning("Backup %s is recorded but its file is missing; forgetting it.", (const char *) key);
                (void) store_backup_delete(m->db, GPOINTER_TO_SIZE(value));
        }
        return 0;
}

void backup_instance_deleted(Manager *m, const char *name) {
        int r = rm_rf_in_background(m->backups_fd, name);

        if (r < 0 && r != -ENOENT)
                log_warning_errno(r, "Cannot remove backups/%s: %s", name, STRERROR(r));
}

bool backup_instance_restoring(Manager *m, const Instance *i) {
        g_autofree char *target = backup_job_target(i->name);
        Job *j = manager_find_active_job_for(m, target);
        _cleanup_close_ int inst_fd = -1;

        if (!j)
                return false;
        if (j->kind == &backup_restore_kind || j->kind == &backup_import_kind)
                return true;
        /* A backup reading a disk image that a stop detached (the helper
         * unmounts lazily while it is read): a start would mount the
         * image a second time. */
        if (j->kind != &backup_kind)
                return false;
        inst_fd = openat(m->runtime_fd, i->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return inst_fd >= 0 && instance_disk_has_image_at(inst_fd);
}

int backup_owner_bytes(Manager *m, const char *owner, uint64_t *ret) {
        return store_backup_owner_bytes(m->db, owner, ret);
}
