/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/: mechanisms the domains share: files without following links, workers, libcurl, units. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "l4m-util.h"
#include "tree-copy.h"

#define DIR_MODE 0755

int tree_for_each_entry(int dir_fd, unsigned depth, TreeEntryFunc visit, void *userdata) {
        struct dirent *de;
        DIR *d;
        int fd, r = 0;

        if (depth > TREE_COPY_MAX_DEPTH)
                return -ELOOP;
        fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        rewinddir(d);

        while (r >= 0 && (de = readdir(d))) {
                struct stat st;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (fstatat(dir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        r = -errno;
                else
                        r = visit(dir_fd, de->d_name, &st, depth, userdata);
        }
        closedir(d);
        return r;
}

int tree_open_subdir(int dir_fd, const char *name) {
        int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

static int copy_entry(int src_fd, const char *name, const struct stat *st, unsigned depth, void *userdata) {
        int dst_fd = *(int *) userdata;

        if (S_ISDIR(st->st_mode)) {
                _cleanup_close_ int s = -1, t = -1;

                s = tree_open_subdir(src_fd, name);
                if (s < 0)
                        return s;
                if (mkdirat(dst_fd, name, DIR_MODE) < 0)
                        return -errno;
                t = tree_open_subdir(dst_fd, name);
                if (t < 0)
                        return t;
                if (fchmod(t, DIR_MODE) < 0)
                        return -errno;
                return tree_for_each_entry(s, depth + 1, copy_entry, &t);
        }
        if (S_ISREG(st->st_mode))
                return linkat(src_fd, name, dst_fd, name, 0) < 0 ? -errno : 0;
        if (S_ISLNK(st->st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(src_fd, name, target, sizeof target - 1);

                if (n < 0)
                        return -errno;
                target[n] = '\0';
                return symlinkat(target, dst_fd, name) < 0 ? -errno : 0;
        }
        return 0;
}

int tree_link_copy(int src_fd, int dst_fd) {
        return tree_for_each_entry(src_fd, 0, copy_entry, &dst_fd);
}

static int size_entry(int dir_fd, const char *name, const struct stat *st, unsigned depth, void *userdata) {
        uint64_t *total = userdata;

        if (S_ISREG(st->st_mode))
                *total += (uint64_t) st->st_size;
        else if (S_ISDIR(st->st_mode)) {
                _cleanup_close_ int sub = tree_open_subdir(dir_fd, name);
                return sub < 0 ? sub : tree_for_each_entry(sub, depth + 1, size_entry, total);
        }
        return 0;
}

int tree_size(int dir_fd, uint64_t *ret) {
        uint64_t total = 0;
        int r = tree_for_each_entry(dir_fd, 0, size_entry, &total);

        if (r < 0)
                return r;
        *ret = total;
        return 0;
}
