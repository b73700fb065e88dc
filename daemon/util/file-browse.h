/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/: mechanisms the domains share: files without following links, workers, libcurl, units. */
#pragma once

#include <stdbool.h>

#include <systemd/sd-bus.h>

/* Read-only browsing below a directory (an overlay's tree, an instance's
 * upper/), for ListFiles and OpenFile. A path is "" (the top) or relative:
 * components that are not "", "." or "..", at most FILE_BROWSE_PATH_MAX
 * bytes. Everything is resolved from the top's descriptor with openat2()
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
 * RESOLVE_NO_XDEV: a symbolic link (one a server or a script planted, say)
 * is listed, never entered or opened, and no mount below is crossed. Where
 * openat2() is refused (ENOSYS: under systemd's RestrictSUIDSGID=, which
 * left4me.service sets, a filter cannot inspect its mode), the same rules
 * are applied one component at a time: O_NOFOLLOW opens, each on the top's
 * mount (statx() STATX_MNT_ID). */

#define FILE_BROWSE_PATH_MAX 4096u
/* Entries one listing returns at most (then truncated). */
#define FILE_BROWSE_ENTRIES_MAX 10000u
/* Entries one listing reads at most: a directory with millions of them must
 * not hold up the daemon; the listing is truncated beyond. */
#define FILE_BROWSE_SCAN_MAX 200000u

/* -EINVAL with a text unless path is valid. */
int file_browse_check_path(const char *path, char **ret_problem);

/* Opens path (checked already) below top_fd with flags (O_RDONLY, plus
 * O_DIRECTORY or O_NONBLOCK): the descriptor, or -ELOOP for a link on the
 * way, -EXDEV for another mount, -ENOENT, -ENOTDIR, ... walk: skip openat2()
 * and walk at once (what happens where it is refused; for tests). */
int file_browse_open(int top_fd, const char *path, int flags, bool walk);

/* Replies to msg with (a(sstt) entries, b truncated): the entries (name,
 * type "file", "dir", "symlink" or "other", size in bytes, mtime in µs) of
 * directory path below top_fd, sorted by name; at most
 * FILE_BROWSE_ENTRIES_MAX, the first by name of the first
 * FILE_BROWSE_SCAN_MAX read. what names the top in texts ("overlay
 * \"maps\""). A refusal is set in error (InvalidArgument, NotFound). */
int file_browse_reply_list(sd_bus_message *msg, int top_fd, const char *path, const char *what, sd_bus_error *error);

/* Replies to msg with (h fd, t size): a read-only descriptor of the regular
 * file path below top_fd. */
int file_browse_reply_open(sd_bus_message *msg, int top_fd, const char *path, const char *what, sd_bus_error *error);
