/* SPDX-License-Identifier: GPL-2.0-or-later */
/* l4mctl: reading "FILE, or standard input for -". */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "exit-codes.h"
#include "read-input.h"

static char *temp_file_with(const char *data, size_t size) {
        g_autofree char *path = NULL;
        int fd = g_file_open_tmp("read-input-XXXXXX", &path, NULL);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(write(fd, data, size), ==, (ssize_t) size);
        g_assert_cmpint(close(fd), ==, 0);
        return g_steal_pointer(&path);
}

/* Run f with standard input the read end of a pipe holding data. */
static void with_stdin_pipe(const char *data, size_t size, void (*f)(void)) {
        int p[2], saved;

        g_assert_cmpint(pipe(p), ==, 0);
        g_assert_cmpint(write(p[1], data, size), ==, (ssize_t) size);
        g_assert_cmpint(close(p[1]), ==, 0);
        saved = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        g_assert_cmpint(dup2(p[0], STDIN_FILENO), ==, STDIN_FILENO);
        g_assert_cmpint(close(p[0]), ==, 0);

        f();

        g_assert_cmpint(dup2(saved, STDIN_FILENO), ==, STDIN_FILENO);
        g_assert_cmpint(close(saved), ==, 0);
}

static void test_names(void) {
        g_assert_cmpstr(input_name("-"), ==, "standard input");
        g_assert_cmpstr(input_name("/etc/hostname"), ==, "/etc/hostname");
        g_assert_false(input_is_terminal("/dev/tty"));
}

static void test_file(void) {
        g_autofree char *path = temp_file_with("hello\nworld\n", 12);
        g_autofree char *text = NULL;
        size_t size = 0;

        g_assert_cmpint(read_input(path, 12, "cannot test", "a test text", &text, &size), ==, 0);
        g_assert_cmpuint(size, ==, 12);
        g_assert_cmpstr(text, ==, "hello\nworld\n");
        unlink(path);
}

static void test_empty_file(void) {
        g_autofree char *path = temp_file_with("", 0);
        g_autofree char *text = NULL;
        size_t size = 1;

        g_assert_cmpint(read_input(path, 10, NULL, "a test text", &text, &size), ==, 0);
        g_assert_cmpuint(size, ==, 0);
        g_assert_cmpstr(text, ==, "");
        unlink(path);
}

static void test_file_over_limit(void) {
        g_autofree char *path = temp_file_with("0123456789x", 11);
        g_autofree char *text = NULL;
        size_t size = 0;

        g_assert_cmpint(read_input(path, 10, "cannot test", "a test text", &text, &size), ==, L4M_EXIT_USAGE);
        g_assert_null(text);
        unlink(path);
}

static void test_missing_file(void) {
        g_autofree char *text = NULL;
        size_t size = 0;

        g_assert_cmpint(read_input("/nonexistent/read-input", 10, "cannot test", "a test text", &text, &size),
                        ==, L4M_EXIT_FAILURE);
        g_assert_null(text);
        g_assert_cmpint(input_open("/nonexistent/read-input", NULL), ==, -ENOENT);
}

static void read_stdin(void) {
        g_autofree char *text = NULL;
        size_t size = 0;
        int fd;

        g_assert_false(input_is_terminal("-"));
        g_assert_cmpint(read_input("-", 4, "cannot test", "a test text", &text, &size), ==, 0);
        g_assert_cmpuint(size, ==, 4);
        g_assert_true(memcmp(text, "a\0b\n", 5) == 0);

        /* A copy of standard input's descriptor, closed on exec. */
        fd = input_open("-", NULL);
        g_assert_cmpint(fd, >, STDERR_FILENO);
        g_assert_cmpint(fcntl(fd, F_GETFD), ==, FD_CLOEXEC);
        g_assert_cmpint(close(fd), ==, 0);
        g_assert_cmpint(fcntl(STDIN_FILENO, F_GETFD), >=, 0);
}

static void test_stdin(void) {
        with_stdin_pipe("a\0b\n", 4, read_stdin);
}

static void read_stdin_over_limit(void) {
        g_autofree char *text = NULL;
        size_t size = 0;

        g_assert_cmpint(read_input("-", 3, NULL, "a test text", &text, &size), ==, L4M_EXIT_USAGE);
        g_assert_null(text);
}

static void test_stdin_over_limit(void) {
        with_stdin_pipe("abcd", 4, read_stdin_over_limit);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/read-input/names", test_names);
        g_test_add_func("/read-input/file", test_file);
        g_test_add_func("/read-input/empty-file", test_empty_file);
        g_test_add_func("/read-input/file-over-limit", test_file_over_limit);
        g_test_add_func("/read-input/missing-file", test_missing_file);
        g_test_add_func("/read-input/stdin", test_stdin);
        g_test_add_func("/read-input/stdin-over-limit", test_stdin_over_limit);
        return g_test_run();
}
