/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/: mechanisms the domains share: files without following links, workers, libcurl, units. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <glib.h>

#include "bus-util.h"
#include "file-browse.h"
#include "l4m-bus-names.h"
#include "l4m-util.h"
#include "problem.h"

#define RESOLVE_FLAGS (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)

int file_browse_check_path(const char *path, char **ret_problem) {
        size_t len = strlen(path);
        const char *p = path;

        if (len == 0)
                return 0;
        if (len > FILE_BROWSE_PATH_MAX)
                return problem_setf(ret_problem, -EINVAL, "The path is %zu bytes long; at most %u are allowed.", len,
                                    FILE_BROWSE_PATH_MAX);
        for (;;) {
                size_t n = strcspn(p, "/");

                if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return problem_setf(ret_problem, -EINVAL,
                                            "The path \"%.200s\" is not usable: give names separated by single slashes, "
                                            "without a leading or trailing slash and without \".\" or \"..\".",
                                            path);
                if (p[n] == '\0')
                        return 0;
                p += n + 1;
        }
}

/* The mount a descriptor is on. */
static int mount_id_of(int fd, uint64_t *ret) {
        struct statx stx;

        if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_MNT_ID, &stx) < 0)
                return -errno;
        if (!(stx.stx_mask & STATX_MNT_ID))
                return -EOPNOTSUPP;
        *ret = stx.stx_mnt_id;
        return 0;
}

/* What openat2() with RESOLVE_FLAGS does, one component at a time, for
 * where openat2() is refused: systemd's RestrictSUIDSGID= (left4me.service
 * has it) answers it ENOSYS, since a filter cannot see into struct
 * open_how's mode. Each component is opened O_NOFOLLOW (a link fails with
 * ELOOP) and must be on the top's mount (else EXDEV); the path has no ".",
 * ".." or empty components (file_browse_check_path()). */
static int open_walk(int top_fd, const char *path, int flags) {
        g_auto(GStrv) parts = NULL;
        _cleanup_close_ int cur = -1;
        uint64_t top_mnt, mnt;
        int r;

        r = mount_id_of(top_fd, &top_mnt);
        if (r < 0)
                return r;
        cur = openat(top_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cur < 0)
                return -errno;
        if (!*path) {
                if (!(flags & O_DIRECTORY))
                        return -EISDIR;
                return l4m_take_fd(&cur);
        }
        parts = g_strsplit(path, "/", -1);
        for (size_t i = 0; parts[i]; i++) {
                bool last = !parts[i + 1];
                int next;

                next = openat(cur, parts[i], last ? flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY
                                                  : O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0) {
                        struct stat st;

                        /* O_DIRECTORY meets a link as ENOTDIR; say what it is. */
                        if (errno == ENOTDIR && fstatat(cur, parts[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                            S_ISLNK(st.st_mode))
                                return -ELOOP;
                        return -errno;
                }
                close(cur);
                cur = next;
                r = mount_id_of(cur, &mnt);
                if (r < 0)
                        return r;
                if (mnt != top_mnt)
                        return -EXDEV;
        }
        return l4m_take_fd(&cur);
}

int file_browse_open(int top_fd, const char *path, int flags, bool walk) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC | O_NOCTTY),
                .resolve = RESOLVE_FLAGS,
        };
        long fd = -1;

        if (!walk) {
                fd = syscall(SYS_openat2, top_fd, *path ? path : ".", &how, sizeof how);
                if (fd >= 0)
                        return (int) fd;
                if (errno != ENOSYS && errno != EPERM)
                        return -errno;
        }
        return open_walk(top_fd, path, flags);
}

/* The descriptor of path below top_fd, opened with flags, or a refusal. */
static int open_beneath(int top_fd, const char *path, int flags, const char *what, int *ret_fd, sd_bus_error *error) {
        int fd;

        fd = file_browse_open(top_fd, path, flags, false);
        if (fd >= 0) {
                *ret_fd = fd;
                return 0;
        }
        errno = -fd;
        switch (errno) {
        case ELOOP:
                return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT,
                                         "\"%.200s\" in %s is a symbolic link (or lies behind one): links are listed, "
                                         "never followed.", path, what);
        case ENOENT:
                return sd_bus_error_setf(error, L4M_ERROR_NOT_FOUND, "There is no \"%.200s\" in %s.", path, what);
        case ENOTDIR:
                return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT, "\"%.200s\" in %s is not a directory.",
                                         path, what);
        case EISDIR:
                return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT, "\"%.200s\" in %s is a directory.",
                                         path, what);
        case EXDEV:
                return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT,
                                         "\"%.200s\" in %s is on another file system, which is not shown.", path, what);
        default:
                return bus_error_internal(error, -errno, "Opening the path");
        }
}

static const char *mode_to_type(mode_t mode) {
        if (S_ISREG(mode))
                return "file";
        if (S_ISDIR(mode))
                return "dir";
        if (S_ISLNK(mode))
                return "symlink";
        return "other";
}

static int compare_names(gconstpointer a, gconstpointer b, gpointer userdata) {
        return strcmp(a, b);
}

int file_browse_reply_list(sd_bus_message *msg, int top_fd, const char *path, const char *what, sd_bus_error *error) {
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(GTree) names = g_tree_new_full(compare_names, NULL, g_free, NULL);
        _cleanup_close_ int fd = -1;
        g_autofree char *problem = NULL;
        bool truncated = false;
        unsigned scanned = 0;
        struct dirent *de;
        GTreeNode *node;
        DIR *d;
        int r;

        r = file_browse_check_path(path, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Checking the path");
        r = open_beneath(top_fd, path, O_RDONLY | O_DIRECTORY, what, &fd, error);
        if (r < 0)
                return r;
        d = fdopendir(fd);
        if (!d)
                return bus_error_internal(error, -errno, "Reading the directory");
        fd = -1;        /* d owns it now */

        /* Keep the first FILE_BROWSE_ENTRIES_MAX names in order: a tree of
         * at most one more, whose last one goes when it is full. */
        while ((errno = 0, de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (++scanned > FILE_BROWSE_SCAN_MAX) {
                        truncated = true;
                        break;
                }
                g_tree_insert(names, g_strdup(de->d_name), NULL);
                if ((unsigned) g_tree_nnodes(names) > FILE_BROWSE_ENTRIES_MAX) {
                        g_tree_remove(names, g_tree_node_key(g_tree_node_last(names)));
                        truncated = true;
                }
        }
        if (errno != 0) {
                r = -errno;
                closedir(d);
                return bus_error_internal(error, r, "Reading the directory");
        }

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sstt)");
        for (node = g_tree_node_first(names); r >= 0 && node; node = g_tree_node_next(node)) {
                const char *name = g_tree_node_key(node);
                struct stat st;

                /* Gone since it was read: no longer there to show. */
                if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                r = sd_bus_message_append(reply, "(sstt)", name, mode_to_type(st.st_mode), (uint64_t) st.st_size,
                                          (uint64_t) st.st_mtim.tv_sec * G_USEC_PER_SEC +
                                                  (uint64_t) st.st_mtim.tv_nsec / 1000);
        }
        closedir(d);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "b", truncated);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

int file_browse_reply_open(sd_bus_message *msg, int top_fd, const char *path, const char *what, sd_bus_error *error) {
        g_autofree char *problem = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        r = file_browse_check_path(path, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Checking the path");
        if (!*path)
                return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT, "Give the path of a file in %s.", what);
        /* O_NONBLOCK: opening a FIFO someone left there must not hang the
         * daemon; it is refused below, and a regular file ignores it. */
        r = open_beneath(top_fd, path, O_RDONLY | O_NONBLOCK, what, &fd, error);
        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                return bus_error_internal(error, -errno, "Looking at the file");
        if (!S_ISREG(st.st_mode))
                return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT, "\"%.200s\" in %s is not a regular file.",
                                         path, what);
        if (fcntl(fd, F_SETFL, 0) < 0)
                return bus_error_internal(error, -errno, "Opening the file");
        return sd_bus_reply_method_return(msg, "ht", fd, (uint64_t) st.st_size);
}
