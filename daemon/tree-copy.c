/* SPDX-License-Identifier: GPL-2.0-or-later */
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

static int copy_level(int src_fd, int dst_fd, unsigned depth) {
        struct dirent *de;
        DIR *d;
        int fd, r = 0;

        if (depth > TREE_COPY_MAX_DEPTH)
                return -ELOOP;

        fd = fcntl(src_fd, F_DUPFD_CLOEXEC, 3);
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
                if (fstatat(src_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = -errno;
                        break;
                }

                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int s = -1, t = -1;

                        s = openat(src_fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (s < 0 || mkdirat(dst_fd, de->d_name, DIR_MODE) < 0) {
                                r = -errno;
                                break;
                        }
                        t = openat(dst_fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (t < 0 || fchmod(t, DIR_MODE) < 0) {
                                r = -errno;
                                break;
                        }
                        r = copy_level(s, t, depth + 1);
                } else if (S_ISREG(st.st_mode)) {
                        if (linkat(src_fd, de->d_name, dst_fd, de->d_name, 0) < 0)
                                r = -errno;
                } else if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        ssize_t n = readlinkat(src_fd, de->d_name, target, sizeof target - 1);

                        if (n < 0) {
                                r = -errno;
                                break;
                        }
                        target[n] = '\0';
                        if (symlinkat(target, dst_fd, de->d_name) < 0)
                                r = -errno;
                }
        }

        closedir(d);
        return r;
}

int tree_link_copy(int src_fd, int dst_fd) {
        return copy_level(src_fd, dst_fd, 0);
}

static int size_level(int dir_fd, unsigned depth, uint64_t *total) {
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
                if (fstatat(dir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = -errno;
                        break;
                }
                if (S_ISREG(st.st_mode))
                        *total += (uint64_t) st.st_size;
                else if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub = openat(dir_fd, de->d_name,
                                                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        r = sub < 0 ? -errno : size_level(sub, depth + 1, total);
                }
        }
        closedir(d);
        return r;
}

int tree_size(int dir_fd, uint64_t *ret) {
        uint64_t total = 0;
        int r = size_level(dir_fd, 0, &total);

        if (r < 0)
                return r;
        *ret = total;
        return 0;
}
