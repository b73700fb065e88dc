/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/: mechanisms the domains share: files without following links, workers, libcurl, units. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "fs-util.h"
#include "l4m-util.h"
#include "userdb-record.h"

/* Replaces dir/name by a file holding text (by way of a temporary name, so
 * that a reader sees the old record or the new one). */
static int replace_file(int dir_fd, const char *name, const char *text) {
        g_autofree char *tmp = g_strdup_printf(".%s.tmp", name);
        _cleanup_close_ int fd = -1;
        int r;

        (void) unlinkat(dir_fd, tmp, 0);
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        r = fchmod(fd, 0644) < 0 ? -errno : write_all(fd, text, strlen(text));
        if (r >= 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
                r = -errno;
        if (r < 0)
                (void) unlinkat(dir_fd, tmp, 0);
        return r;
}

/* dir/link → target, replacing what was there. */
static int replace_symlink(int dir_fd, const char *link, const char *target) {
        g_autofree char *tmp = g_strdup_printf(".%s.tmp", link);

        (void) unlinkat(dir_fd, tmp, 0);
        if (symlinkat(target, dir_fd, tmp) < 0)
                return -errno;
        if (renameat(dir_fd, tmp, dir_fd, link) < 0) {
                int r = -errno;
                (void) unlinkat(dir_fd, tmp, 0);
                return r;
        }
        return 0;
}

/* The record is there if UID.SUFFIX points at NAME.SUFFIX. */
static bool record_present(int dir_fd, const char *name, uid_t uid, const char *suffix) {
        g_autofree char *link = g_strdup_printf("%u.%s", (unsigned) uid, suffix);
        g_autofree char *file = g_strdup_printf("%s.%s", name, suffix);
        char target[256];
        struct stat st;
        ssize_t n;

        n = readlinkat(dir_fd, link, target, sizeof target - 1);
        if (n < 0)
                return false;
        target[n] = '\0';
        return strcmp(target, file) == 0 && fstatat(dir_fd, file, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISREG(st.st_mode);
}

int userdb_record_ensure(const char *name, uid_t uid, const char *real_name) {
        _cleanup_close_ int dir_fd = -1;
        static const char *const suffixes[] = { "user", "group" };
        int r;

        dir_fd = open(USERDB_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;
        for (size_t i = 0; i < G_N_ELEMENTS(suffixes); i++) {
                g_autofree char *link = g_strdup_printf("%u.%s", (unsigned) uid, suffixes[i]);
                g_autofree char *file = g_strdup_printf("%s.%s", name, suffixes[i]);
                g_autofree char *text = NULL;

                if (record_present(dir_fd, name, uid, suffixes[i]))
                        continue;
                /* Put into JSON as they are: names left4med makes need no escaping. */
                if (i == 0)
                        text = g_strdup_printf("{\"userName\":\"%s\",\"uid\":%u,\"gid\":%u,\"realName\":\"%s\","
                                               "\"homeDirectory\":\"/\",\"shell\":\"/usr/sbin/nologin\",\"locked\":true}\n",
                                               name, (unsigned) uid, (unsigned) uid, real_name);
                else
                        text = g_strdup_printf("{\"groupName\":\"%s\",\"gid\":%u}\n", name, (unsigned) uid);
                r = replace_file(dir_fd, file, text);
                if (r >= 0)
                        r = replace_symlink(dir_fd, link, file);
                if (r < 0)
                        return r;
        }
        return 0;
}
