/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/archives/: archive overlays: safe extraction of untrusted archives, the import and fetch jobs. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

#include <glib.h>

#include "archive-spool.h"
#include "fs-util.h"
#include "l4m-util.h"

#define SPOOL_BLOCK_SIZE ((size_t) 64 * 1024)
#define SPOOL_POLL_MSEC 100
#define SPOOL_FILE_MODE 0600

static bool cancelled(const volatile int *cancel) {
        return cancel && *cancel;
}

/* A file without a name in dir_fd. */
static int open_anonymous(int dir_fd) {
        g_autofree char *name = NULL;
        int fd;

        fd = openat(dir_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, SPOOL_FILE_MODE);
        if (fd >= 0)
                return fd;
        /* EOPNOTSUPP: the file system has no O_TMPFILE; EISDIR: the kernel
         * does not know the flag. */
        if (errno != EOPNOTSUPP && errno != EISDIR)
                return -errno;

        name = g_strdup_printf(".spool-%08x%08x", g_random_int(), g_random_int());
        fd = openat(dir_fd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, SPOOL_FILE_MODE);
        if (fd < 0)
                return -errno;
        if (unlinkat(dir_fd, name, 0) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

/* Waits until fd has data or hung up, polling the cancel flag meanwhile,
 * so that a stalled sender cannot keep us from noticing cancellation. */
static bool wait_readable(int fd, const volatile int *cancel) {
        struct pollfd p = { .fd = fd, .events = POLLIN };

        while (!cancelled(cancel)) {
                int n = poll(&p, 1, SPOOL_POLL_MSEC);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n != 0)
                        return true;    /* ready, hung up, or an error read() will report */
        }
        return false;
}

int archive_spool(int fd, int dir_fd, uint64_t max_bytes, const volatile int *cancel,
                  ArchiveSpoolProgress progress, void *userdata, uint64_t *ret_size) {
        g_autofree uint8_t *buf = NULL;
        _cleanup_close_ int out = -1;
        uint64_t total = 0, reported = 0;
        int r;

        assert(fd >= 0);
        assert(dir_fd >= 0);
        assert(ret_size);

        out = open_anonymous(dir_fd);
        if (out < 0)
                return out;
        buf = g_malloc(SPOOL_BLOCK_SIZE);

        for (;;) {
                ssize_t n;

                if (!wait_readable(fd, cancel))
                        return -ECANCELED;
                n = read(fd, buf, SPOOL_BLOCK_SIZE);
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                if ((uint64_t) n > max_bytes - total)
                        return -EFBIG;
                r = write_all(out, buf, (size_t) n);
                if (r < 0)
                        return r;
                total += (uint64_t) n;
                if (progress && total - reported >= SPOOL_BLOCK_SIZE) {
                        progress(total, userdata);
                        reported = total;
                }
        }
        if (lseek(out, 0, SEEK_SET) < 0)
                return -errno;
        if (progress)
                progress(total, userdata);
        *ret_size = total;
        return l4m_take_fd(&out);
}
