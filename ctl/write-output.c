/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "exit-codes.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "write-output.h"

#define COPY_CHUNK ((size_t) 128 * 1024)

static bool is_stdout(const char *file) {
        return strcmp(file, "-") == 0;
}

bool output_is_terminal(const char *file) {
        assert(file);
        return is_stdout(file) && isatty(STDOUT_FILENO);
}

/* All of from into to: 0, or a negative errno with *ret_reading telling
 * which side failed; -EBADMSG (reading) when frames says the stream is not
 * whole zstd frames. */
static int copy_all(int from, int to, ZstdFrames *frames, bool *ret_reading) {
        g_autofree char *buf = g_malloc(COPY_CHUNK);

        for (;;) {
                ssize_t n = read(from, buf, COPY_CHUNK);
                int r;

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        *ret_reading = true;
                        return -errno;
                }
                if (n == 0) {
                        *ret_reading = true;
                        return !frames || zstd_frames_complete(frames) ? 0 : -EBADMSG;
                }
                if (frames && !zstd_frames_feed(frames, buf, (size_t) n)) {
                        *ret_reading = true;
                        return -EBADMSG;
                }
                for (ssize_t done = 0; done < n;) {
                        ssize_t w = write(to, buf + done, (size_t) (n - done));

                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w < 0) {
                                r = -errno;
                                *ret_reading = false;
                                return r;
                        }
                        done += w;
                }
        }
}

/* Says what went wrong; returns L4M_EXIT_FAILURE. */
static int copy_failed(int r, bool reading, const char *target, const char *what) {
        if (r == -EBADMSG)
                log_error("%s: the stream ended early or is damaged (the daemon stopped?); %s", what,
                          target ? "nothing was written" : "what was written is incomplete");
        else if (reading)
                log_error_errno(r, "%s: cannot read the stream: %s", what, STRERROR(r));
        else
                log_error_errno(r, "%s: cannot write %s: %s", what, target ? target : "to standard output", STRERROR(r));
        return L4M_EXIT_FAILURE;
}

int output_copy_fd(int fd, const char *file, const char *what, ZstdFrames *frames) {
        g_autofree char *dir = NULL, *base = NULL, *temp = NULL;
        _cleanup_close_ int out = -1;
        bool reading = false;
        mode_t mask;
        int r;

        assert(fd >= 0);
        assert(file);
        assert(what);

        if (is_stdout(file)) {
                r = copy_all(fd, STDOUT_FILENO, frames, &reading);
                return r < 0 ? copy_failed(r, reading, NULL, what) : 0;
        }

        dir = g_path_get_dirname(file);
        base = g_path_get_basename(file);
        temp = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
        out = mkostemp(temp, O_CLOEXEC);
        if (out < 0) {
                r = -errno;
                log_error_errno(r, "%s: cannot create a file next to %s: %s", what, file, STRERROR(r));
                return L4M_EXIT_FAILURE;
        }
        /* mkostemp() makes 0600; the file gets what open(2) would give it. */
        mask = umask(0);
        umask(mask);
        r = copy_all(fd, out, frames, &reading);
        if (r >= 0) {
                reading = false;
                if (fchmod(out, 0666 & ~mask) < 0 || fsync(out) < 0 || rename(temp, file) < 0)
                        r = -errno;
        }
        if (r < 0) {
                (void) unlink(temp);
                return copy_failed(r, reading, file, what);
        }
        return 0;
}
