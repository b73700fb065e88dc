/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/: mechanisms the domains share: files without following links, workers, libcurl, units. */
#pragma once

#include <stdint.h>
#include <sys/stat.h>

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

/* Calls visit for each entry of dir_fd (lstat'ed, never followed) until
 * one returns < 0, which it returns; depth is handed on to visit, which
 * recurses with depth + 1 (-ELOOP past TREE_COPY_MAX_DEPTH). */
typedef int (*TreeEntryFunc)(int dir_fd, const char *name, const struct stat *st, unsigned depth, void *userdata);
int tree_for_each_entry(int dir_fd, unsigned depth, TreeEntryFunc visit, void *userdata);
/* openat() of a directory entry that is a directory, never following a
 * symlink: the descriptor or a negative errno. */
int tree_open_subdir(int dir_fd, const char *name);
