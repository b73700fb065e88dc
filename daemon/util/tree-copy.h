/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/: mechanisms the domains share: files without following links, workers, libcurl, units. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* Replicates the tree below src_fd into the (empty) directory dst_fd:
 * directories are made anew (0755), regular files hard-linked, symlinks
 * re-created with the same target; anything else is skipped. Never
 * follows a symlink; both must be on one file system. Trees deeper than
 * TREE_COPY_MAX_DEPTH give -ELOOP. */
#define TREE_COPY_MAX_DEPTH 256
int tree_link_copy(int src_fd, int dst_fd);

/* Bytes in the regular files below dir_fd (each name counted), without
 * following symlinks; -ELOOP past TREE_COPY_MAX_DEPTH. */
int tree_size(int dir_fd, uint64_t *ret);

/* Hands dir_fd and everything below it to uid:gid (lchown: symlinks are
 * changed, never followed), by descriptor; what is on another file system
 * (a mount point) is left alone, and so is what is below it. -ELOOP past
 * TREE_COPY_MAX_DEPTH. */
int tree_chown(int dir_fd, uid_t uid, gid_t gid);
