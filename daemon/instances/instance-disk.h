/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/instances/: server instances: records and rules, units and runtime, RCON, A2S and their logs. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "instance.h"
#include "worker.h"

/* disk_max, enforced by the kernel: an instance with a finite disk_max
 * keeps its upper and work directories in an ext4 file system of exactly
 * that size, runtime/<name>/disk.img (root 0600, sparse), which
 * left4me-overlay(8) attaches to a loop device and mounts at
 * runtime/<name>/disk before it mounts the stack; the server's writes end
 * with ENOSPC there while the host and the other servers keep their space.
 *   runtime/<name>/disk.img        the image; its root holds upper/ and work/
 *   runtime/<name>/disk/           root 0755: its mount point while the server runs
 *   runtime/<name>/disk-seed/      while a plain upper/ moves into a new image
 *   runtime/<name>/disk.img.new    the new image until it is complete
 * The image is made, grown and shrunk by e2fsprogs (mke2fs, e2fsck,
 * resize2fs, by the absolute paths found at build time) while the unit is
 * stopped, on a Worker thread. */

#define INSTANCE_DISK_IMAGE "disk.img"
#define INSTANCE_DISK_MOUNT "disk"
#define INSTANCE_DISK_SEED "disk-seed"
#define INSTANCE_DISK_IMAGE_NEW "disk.img.new"
/* The smallest disk_max an image is made for: ext4's own structures (the
 * journal, the inode tables) take a few MiB. */
#define INSTANCE_DISK_MIN (16u * 1024 * 1024)

/* What the e2fsprogs tools are (absolute paths); tests may point them
 * elsewhere. */
typedef struct InstanceDiskTools {
        const char *mke2fs;
        const char *e2fsck;
        const char *resize2fs;
} InstanceDiskTools;
extern const InstanceDiskTools instance_disk_tools_default;

/* Makes runtime/<name> (inst_fd; inst_path: the same as an absolute path,
 * for the tools) fit disk_max (UINT64_MAX: none) before a start, the unit
 * being stopped: a missing image is made, and a plain upper/ and work/
 * moved into it (mke2fs -d); an image of another size is checked and
 * resized (e2fsck -fp, resize2fs), a smaller one only if the content
 * fits. A migration a crash interrupted is finished or undone first.
 * Blocking. Returns 1 if the instance has an image now (the helper will
 * mount it), 0 if it keeps plain directories, or a negative errno with a
 * text in *ret_problem: -EINVAL for a disk_max below INSTANCE_DISK_MIN,
 * -ENOSPC for one below what the image holds, -EOPNOTSUPP for disk_max
 * none with an image (its files are not moved back), -ENOPKG if e2fsprogs
 * is missing, -EIO if a tool failed (its output is in the log). */
int instance_disk_prepare_at(int inst_fd, const char *inst_path, const char *name, uint64_t disk_max,
                             const InstanceDiskTools *tools, char **ret_problem);

/* For a setter: 0 if the instance (with or without an image) may get
 * disk_max (the effective value; UINT64_MAX: none), else -ENOSPC if its
 * image holds more, -EOPNOTSUPP for none while it has an image (see
 * instance_disk_prepare_at()), with a text. Reads the image's superblock
 * (or statvfs()), nothing more. */
int instance_disk_check_max(Manager *m, const char *name, uint64_t disk_max, char **ret_problem);

/* Whether runtime/<name> (inst_fd) has a disk image. */
bool instance_disk_has_image_at(int inst_fd);

/* instance_disk_prepare_at() on a Worker: done() is called on the event
 * loop with its result and problem. The caller keeps *ret and frees it
 * (worker_free()) in done() or before the Instance. */
typedef void (*InstanceDiskDoneFunc)(Instance *i, int r, const char *problem, void *userdata);
int instance_disk_prepare_async(Instance *i, uint64_t disk_max, InstanceDiskDoneFunc done, void *userdata,
                                Worker **ret);

/* What the instance's disk image holds and its size, in bytes: from
 * statvfs() of runtime/<name>/disk while it is mounted, else from the
 * image's ext4 superblock. -ENOENT if the instance has no image (its
 * upper/ is a plain directory). */
int instance_disk_usage(Manager *m, const char *name, uint64_t *ret_used, uint64_t *ret_size);
int instance_disk_usage_at(int inst_fd, uint64_t *ret_used, uint64_t *ret_size);
