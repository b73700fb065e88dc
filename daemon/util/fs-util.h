/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/: mechanisms the domains share: files without following links, workers, libcurl, units. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Removes the entry name below dir_fd and, if it is a directory, everything
 * in it. Never follows a symlink (links are removed, not their targets) and
 * never descends into another file system or mount (a mount point is left in place
 * and reported as -EXDEV after everything else has been removed). The walk
 * keeps its own stack instead of recursing, at most RM_RF_MAX_DEPTH
 * directories deep: a directory deeper than that is moved up into the tree's
 * top directory and removed from there, so trees of any depth go (one a
 * sandboxed script made, say) with bounded descriptors and memory. */
#define RM_RF_MAX_DEPTH 256
int rm_rf_at(int dir_fd, const char *name);

/* Hands the tree of directory fd over: every entry owned by from_uid gets
 * uid, every entry of group from_gid gets gid (others keep theirs). Works
 * by descriptor one directory at a time, never follows a symlink (a link
 * itself is handed over), never enters another mount below fd, and
 * changes each directory after what is in it, so that fd itself changes
 * last: while its owner is still from_uid, the walk has not finished.
 * At most RM_RF_MAX_DEPTH directories deep (-ELOOP beyond). The first
 * error is returned after the rest of the walk. */
#define CHOWN_TREE_ANY ((uid_t) -1) /* as from_uid or from_gid: whoever owns an entry */
int chown_tree_fd(int fd, uid_t from_uid, gid_t from_gid, uid_t uid, gid_t gid);

/* Adds the permission bits add (S_IWGRP, say) to the directories and
 * regular files of the tree of directory fd that belong to uid and gid
 * both; what others own, symlinks, devices, sockets, fifos and set-id
 * files keep their modes. Walks as chown_tree_fd() does: by descriptor,
 * never following a symlink (a file is changed through a descriptor of
 * what was looked at), never entering another mount, fd itself last, so
 * that while fd lacks add the walk has not finished. *ret_changed (if not
 * NULL): how many entries changed. The first error is returned after the
 * rest of the walk. */
int chmod_tree_add_fd(int fd, uid_t uid, gid_t gid, mode_t add, unsigned *ret_changed);

/* Opens (creating it with exactly mode if missing, whatever the umask) the
 * directory name below dir_fd, refusing symlinks. Returns the fd or a
 * negative errno. */
int open_or_create_dir_at(int dir_fd, const char *name, unsigned mode);

/* Parses a canonical decimal id ("0" excluded, no sign, no leading zeros,
 * no trailing characters). */
int parse_id(const char *s, uint64_t *ret);

/* Moves name below dir_fd out of the way (to a hidden name that no row
 * refers to, so a restart's sweep would finish the job) and removes it in
 * a thread of its own: big trees never stall the event loop. */
int rm_rf_in_background(int dir_fd, const char *name);

/* A pipe for a stream the daemon writes and a client reads (a log, an
 * export): both ends O_CLOEXEC, the write end O_NONBLOCK (the daemon never
 * waits for a slow reader), the read end blocking (the client reads at its
 * own pace). 0 or a negative errno; nothing is left open on failure. */
int pipe_for_client(int *ret_read_end, int *ret_write_end);

/* write(2) until all of data is written (or an error other than EINTR). */
int write_all(int fd, const void *data, size_t size);

/* Reads until size bytes or the end of the file, from offset (pread), or
 * from the current position if offset is negative. Returns the bytes read,
 * or a negative errno. */
ssize_t read_full(int fd, void *data, size_t size, off_t offset);

/* Replaces name below dir_fd with data: written to a temporary file beside
 * it (made with O_EXCL, never through a link), given uid, gid and exactly
 * mode, then renamed into place, so readers see the old file or the new
 * one, never half of one. With sync, the data is on disk before the
 * rename (for files that are not simply made again after a crash). */
int write_file_atomic_at(int dir_fd, const char *name, const void *data, size_t size, unsigned mode,
                         uid_t uid, gid_t gid, bool sync);
