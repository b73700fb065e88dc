/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "exit-codes.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "read-input.h"

#define READ_CHUNK ((size_t) 64 * 1024)

/* "<what>: " before a message, or nothing. */
#define WHAT_PREFIX(what) ((what) ? (what) : ""), ((what) ? ": " : "")

static bool is_stdin(const char *file) {
        return strcmp(file, "-") == 0;
}

const char *input_name(const char *file) {
        assert(file);
        return is_stdin(file) ? "standard input" : file;
}

bool input_is_terminal(const char *file) {
        assert(file);
        return is_stdin(file) && isatty(STDIN_FILENO);
}

int input_open(const char *file, const char *what) {
        int fd, r;

        assert(file);

        if (is_stdin(file))
                fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
        else
                fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                r = -errno;
                return log_error_errno(r, "%s%scannot open %s: %s", WHAT_PREFIX(what), input_name(file), STRERROR(r));
        }
        return fd;
}

int read_fd_limited(int fd, size_t max, char **ret, size_t *ret_size) {
        g_autofree char *buf = NULL;
        size_t size = 0, allocated;

        assert(fd >= 0);
        assert(max < SIZE_MAX - 1);
        assert(ret);
        assert(ret_size);

        /* Room for max + 1 bytes (to notice "more") and a NUL. */
        allocated = MIN(max + 2, READ_CHUNK);
        buf = g_malloc(allocated);

        for (;;) {
                ssize_t n;

                if (size + 1 >= allocated) {
                        allocated = MIN(max + 2, allocated * 2);
                        buf = g_realloc(buf, allocated);
                }

                n = read(fd, buf + size, MIN(allocated - 1 - size, max + 1 - size));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > max)
                        return -EFBIG;
        }

        buf[size] = '\0';
        *ret = g_steal_pointer(&buf);
        *ret_size = size;
        return 0;
}

int read_input(const char *file, size_t max, const char *what, const char *contents,
               char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -1;
        int r;

        assert(file);
        assert(contents);
        assert(ret);
        assert(ret_size);

        fd = input_open(file, what);
        if (fd < 0)
                return L4M_EXIT_FAILURE;

        r = read_fd_limited(fd, max, ret, ret_size);
        if (r == -EFBIG) {
                log_error("%s%s%s is larger than %zu bytes, the most %s may have",
                          WHAT_PREFIX(what), input_name(file), max, contents);
                return L4M_EXIT_USAGE;
        }
        if (r < 0) {
                log_error_errno(r, "%s%scannot read %s: %s", WHAT_PREFIX(what), input_name(file), STRERROR(r));
                return L4M_EXIT_FAILURE;
        }
        return 0;
}
