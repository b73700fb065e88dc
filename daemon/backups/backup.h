/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/backups/: backups of instances: records and rules, the writer, restore, import and export. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

#include "actor.h"
#include "instance.h"
#include "job.h"
#include "manager.h"

/* A backup is what an instance's server wrote (its upper/) and its
 * settings, in one file:
 *   backups/                           root 0700
 *   backups/<instance>/                root 0700
 *   backups/<instance>/<id>.tar.zst    root 0600: a backup, listed once its row is committed
 *   backups/<instance>/.partial-<job>  root 0600: one being written or imported (swept at start)
 * The archive is a tar compressed with zstd whose first entry is
 * left4me-backup.json (BACKUP_FORMAT; the instance's settings, who owns
 * it, when, whether it is consistent), then upper/ and what is below it.
 * The JSON entry is known only at the end (consistent), so the writer
 * leaves BACKUP_HEADER_ROOM bytes at the start of the file, writes upper/
 * after them as one zstd frame, and then fills the room with a frame
 * holding the JSON entry followed by a zstd skippable frame: any zstd
 * reader sees the JSON entry first.
 *
 * The row (store-backup.c) is inserted only after the file is complete,
 * synced and renamed into place; ListBackups reads rows, so a crash or a
 * cancelled job never leaves a backup that is listed. */

#define BACKUP_FORMAT 1
#define BACKUP_META_NAME "left4me-backup.json"
#define BACKUP_UPPER_NAME "upper"
#define BACKUP_DIR_MODE 0700
#define BACKUP_FILE_MODE 0600
#define BACKUP_HEADER_ROOM 8192u
/* A file a running server changes while it is read is read again up to
 * this many times; then the backup is marked not consistent. */
#define BACKUP_FILE_ATTEMPTS 4u
/* Files up to this size are read into memory, larger ones into an
 * unlinked file, before they go into the archive. */
#define BACKUP_SNAPSHOT_MEMORY_MAX (UINT64_C(64) << 20)

extern const JobKind backup_kind;               /* "instance-backup" */
extern const JobKind backup_restore_kind;       /* "backup-restore" */
extern const JobKind backup_import_kind;        /* "backup-import" */

/* "instance:<name>": the target of every backup job of an instance. */
char *backup_job_target(const char *instance_name);

/* "<id>.tar.zst". */
char *backup_file_name(uint64_t id);
/* backups/<instance_name>/, made if create. */
int backup_open_dir(Manager *m, const char *instance_name, bool create);

/* Queues a backup of i for actor (authorised already). With stop_server
 * a running server is stopped for it and started again afterwards.
 * -EBUSY if a job of the instance is queued or running, or (an instance
 * with a disk image, instance-disk.h) its files cannot be read now. */
int backup_submit(Manager *m, const Actor *actor, Instance *i, bool stop_server, Job **ret_job, char **ret_problem);
/* Queues the restore of backup id into its instance, which must be
 * stopped (-EBUSY). -ENOENT if there is no such backup (or actor does not
 * see it). */
int backup_restore_submit(Manager *m, const Actor *actor, uint64_t id, Job **ret_job, char **ret_problem);
/* Queues the import of the archive readable from fd (taken) as a new
 * backup of i. */
int backup_import_submit(Manager *m, const Actor *actor, Instance *i, int fd, Job **ret_job, char **ret_problem);
/* Deletes backup id (row, then file). -EBUSY while a job of its instance runs. */
int backup_delete(Manager *m, uint64_t id, char **ret_problem);
/* A read-only descriptor of backup id's file. */
int backup_open(Manager *m, uint64_t id, int *ret_fd, char **ret_problem);

/* The owner and instance of backup id; -ENOENT if there is none. */
int backup_lookup(Manager *m, uint64_t id, char **ret_owner, char **ret_instance);

/* Removes the oldest backups beyond [Backups] KeepPerInstance= per
 * instance and [Backups] MaxBytes= in all; keep_id (the backup just made)
 * is never removed. */
void backup_prune(Manager *m, uint64_t keep_id);

/* At start: removes partial files, files without a row, rows without a
 * file and the directories of instances that are gone. */
int manager_sweep_backups(Manager *m);
/* The instance called name was deleted (its rows went with it): its
 * directory goes, in the background. */
void backup_instance_deleted(Manager *m, const char *name);
/* True while a restore or an import of i is queued or running, or a
 * backup of i when it has a disk image (a stop during the backup leaves
 * the image mounted, detached, until the backup ends): Start is refused
 * then. */
bool backup_instance_restoring(Manager *m, const Instance *i);
/* Bytes of owner's backups, counted in its storage use (owner-quota.h). */
int backup_owner_bytes(Manager *m, const char *owner, uint64_t *ret);

/* backup-meta.c: the JSON entry. */
typedef struct BackupMeta {
        char *instance;
        char *owner;
        char *hostname;
        uint32_t port;
        char *blueprint;
        uint32_t player_limit;
        char *start_map;
        bool autostart;
        uint64_t limits[_INSTANCE_LIMIT_N];     /* as set: 0 default, UINT64_MAX infinity */
        uint64_t created;                       /* µs since the epoch */
        bool consistent;
} BackupMeta;
void backup_meta_clear(BackupMeta *meta);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(BackupMeta, backup_meta_clear)
char *backup_meta_to_json(const BackupMeta *meta);
/* -EBADMSG with a text unless json is a BackupMeta of BACKUP_FORMAT. */
int backup_meta_from_json(const char *json, size_t size, BackupMeta *ret, char **ret_error);
/* The file's JSON entry: a tar header and the data padded to 512 bytes,
 * without the end-of-archive blocks (so that more entries may follow),
 * compressed as one zstd frame, then a skippable frame filling room
 * bytes in all. -E2BIG if it does not fit. */
int backup_meta_header(const char *json, uint64_t mtime_usec, size_t room, void **ret, char **ret_error);

/* backup-bus.c */
extern const sd_bus_vtable backup_manager_vtable[];
/* org.left4me.Instance.Backup, in instance_vtable. */
int backup_method_instance_backup(sd_bus_message *msg, void *userdata, sd_bus_error *error);
