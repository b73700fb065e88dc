/* SPDX-License-Identifier: GPL-2.0-or-later */
/* l4mctl: reading and checking the script 'overlay set-script' sends. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "read-input.h"
#include "script-text.h"

static void check_ok(const char *text, size_t size) {
        g_autofree char *problem = NULL;

        g_assert_cmpint(script_text_check(text, size, &problem), ==, 0);
        g_assert_null(problem);
}

static void check_bad(const char *text, size_t size, const char *want) {
        g_autofree char *problem = NULL;

        g_assert_cmpint(script_text_check(text, size, &problem), ==, -EINVAL);
        g_assert_cmpstr(problem, ==, want);
}

static void test_check(void) {
        check_ok("", 0);
        check_ok("echo hi\n", 8);
        check_ok("echo \"h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80\"\n", strlen("echo \"h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80\"\n"));
        check_ok("\xef\xbf\xbd", 3);                       /* U+FFFD is fine */
        check_bad("a\n\nb\0c", 6, "line 3: contains a NUL byte");
        check_bad("a\n\xff\n", 4, "line 2: not valid UTF-8");
        check_bad("\xc0\xaf", 2, "line 1: not valid UTF-8");            /* overlong '/' */
        check_bad("\xed\xa0\x80", 3, "line 1: not valid UTF-8");        /* surrogate */
        check_bad("\xf4\x90\x80\x80", 4, "line 1: not valid UTF-8");    /* > U+10FFFF */
        check_bad("ok\n\xc3", 4, "line 2: not valid UTF-8");            /* cut short */
        check_bad("\xef\xbf\xbe", 3, "line 1: contains U+FFFE, a noncharacter that D-Bus cannot carry");
        check_bad("x\n\xef\xb7\x90", 5, "line 2: contains U+FDD0, a noncharacter that D-Bus cannot carry");
        check_bad("\xf4\x8f\xbf\xbf", 4, "line 1: contains U+10FFFF, a noncharacter that D-Bus cannot carry");
}

static void pipe_with(const char *data, size_t size, int *ret_fd) {
        int p[2];

        g_assert_cmpint(pipe(p), ==, 0);
        g_assert_cmpint(write(p[1], data, size), ==, (ssize_t) size);
        close(p[1]);
        *ret_fd = p[0];
}

static void test_read(void) {
        g_autofree char *big = g_malloc(SCRIPT_SIZE_MAX + 1);
        size_t sizes[] = { 0, 1, 65535, 65536, 65537, 131072, SCRIPT_SIZE_MAX - 1 };

        memset(big, 'x', SCRIPT_SIZE_MAX + 1);
        for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
                g_autofree char *got = NULL;
                size_t n = 0;
                int fd;

                /* A pipe holds 64 KiB: write what fits, from a file otherwise. */
                if (sizes[i] <= 65536)
                        pipe_with(big, sizes[i], &fd);
                else {
                        g_autofree char *path = NULL;
                        fd = g_file_open_tmp("script-text-XXXXXX", &path, NULL);
                        g_assert_cmpint(fd, >=, 0);
                        g_assert_cmpint(write(fd, big, sizes[i]), ==, (ssize_t) sizes[i]);
                        g_assert_cmpint(lseek(fd, 0, SEEK_SET), ==, 0);
                        unlink(path);
                }
                g_assert_cmpint(read_fd_limited(fd, SCRIPT_SIZE_MAX, &got, &n), ==, 0);
                g_assert_cmpuint(n, ==, sizes[i]);
                g_assert_cmpint(got[n], ==, '\0');
                g_assert_true(memcmp(got, big, n) == 0);
                close(fd);
        }

        /* Exactly at the limit, and one byte over. */
        for (size_t extra = 0; extra <= 1; extra++) {
                g_autofree char *path = NULL, *got = NULL;
                size_t n = 0;
                int fd = g_file_open_tmp("script-text-XXXXXX", &path, NULL);

                g_assert_cmpint(fd, >=, 0);
                g_assert_cmpint(write(fd, big, SCRIPT_SIZE_MAX + extra), ==, (ssize_t) (SCRIPT_SIZE_MAX + extra));
                g_assert_cmpint(lseek(fd, 0, SEEK_SET), ==, 0);
                unlink(path);
                g_assert_cmpint(read_fd_limited(fd, SCRIPT_SIZE_MAX, &got, &n), ==, extra ? -EFBIG : 0);
                if (!extra)
                        g_assert_cmpuint(n, ==, SCRIPT_SIZE_MAX);
                close(fd);
        }

        /* A small limit. */
        {
                g_autofree char *got = NULL;
                size_t n = 0;
                int fd;

                pipe_with("abcd", 4, &fd);
                g_assert_cmpint(read_fd_limited(fd, 3, &got, &n), ==, -EFBIG);
                close(fd);
        }
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/script-text/check", test_check);
        g_test_add_func("/script-text/read", test_read);
        return g_test_run();
}
