/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/file-browse.c: the path rules, and opening beneath a top
 * without following links, with openat2() and with the walk used where
 * openat2() is refused. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "file-browse.h"
#include "l4m-util.h"

static void test_check_path(void) {
        static const char *const good[] = { "", "a", "a/b", "left4dead2/cfg/server.cfg", ".hidden", "a..b", "...", };
        static const char *const bad[] = { "/", "/etc", "a/", "a//b", ".", "..", "./a", "a/.", "a/../b", "../x", };
        g_autofree char *longest = g_strnfill(FILE_BROWSE_PATH_MAX, 'a');
        g_autofree char *too_long = g_strnfill(FILE_BROWSE_PATH_MAX + 1, 'a');

        for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
                g_autofree char *problem = NULL;

                g_assert_cmpint(file_browse_check_path(good[i], &problem), ==, 0);
                g_assert_null(problem);
        }
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autofree char *problem = NULL;

                g_assert_cmpint(file_browse_check_path(bad[i], &problem), ==, -EINVAL);
                g_assert_nonnull(strstr(problem, "is not usable"));
        }
        g_assert_cmpint(file_browse_check_path(longest, NULL), ==, 0);
        g_assert_cmpint(file_browse_check_path(too_long, NULL), ==, -EINVAL);
}

typedef struct Tree {
        char *dir;
        int fd;
} Tree;

static void tree_make(Tree *t) {
        g_autoptr(GError) error = NULL;
        g_autofree char *outside = NULL, *file = NULL;

        t->dir = g_dir_make_tmp("l4m-browse-XXXXXX", &error);
        g_assert_no_error(error);
        outside = g_build_filename(t->dir, "outside", NULL);
        g_assert_cmpint(g_mkdir(outside, 0755), ==, 0);
        file = g_build_filename(outside, "secret", NULL);
        g_file_set_contents(file, "secret", -1, &error);
        g_assert_no_error(error);

        g_assert_cmpint(g_mkdir_with_parents(g_build_filename(t->dir, "top", "a", "b", NULL), 0755), ==, 0);
        g_file_set_contents(g_build_filename(t->dir, "top", "a", "b", "file", NULL), "data", -1, &error);
        g_assert_no_error(error);
        g_assert_cmpint(symlink("a", g_build_filename(t->dir, "top", "dirlink", NULL)), ==, 0);
        g_assert_cmpint(symlink("b/file", g_build_filename(t->dir, "top", "a", "filelink", NULL)), ==, 0);
        g_assert_cmpint(symlink(outside, g_build_filename(t->dir, "top", "out", NULL)), ==, 0);
        g_assert_cmpint(symlink("../outside/secret", g_build_filename(t->dir, "top", "up", NULL)), ==, 0);
        g_assert_cmpint(mkfifo(g_build_filename(t->dir, "top", "fifo", NULL), 0644), ==, 0);

        t->fd = open(g_build_filename(t->dir, "top", NULL), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        g_assert_cmpint(t->fd, >=, 0);
}

static void tree_free(Tree *t) {
        g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", t->dir);

        close(t->fd);
        g_assert_cmpint(system(cmd), ==, 0);
        g_free(t->dir);
}

static void expect_open(Tree *t, const char *path, int flags, int want) {
        for (int walk = 0; walk <= 1; walk++) {
                int fd = file_browse_open(t->fd, path, flags, walk);

                if (want == 0) {
                        if (fd < 0)
                                g_error("opening \"%s\" (%s) failed: %s", path, walk ? "walk" : "openat2",
                                        g_strerror(-fd));
                        close(fd);
                } else if (fd != -want) {
                        g_error("opening \"%s\" (%s): expected %s, got %s", path, walk ? "walk" : "openat2",
                                g_strerror(want), fd >= 0 ? "a descriptor" : g_strerror(-fd));
                }
        }
}

static void test_open(void) {
        Tree t;

        tree_make(&t);
        expect_open(&t, "", O_RDONLY | O_DIRECTORY, 0);
        expect_open(&t, "a", O_RDONLY | O_DIRECTORY, 0);
        expect_open(&t, "a/b/file", O_RDONLY | O_NONBLOCK, 0);
        /* Links are never followed, wherever they are on the way. */
        expect_open(&t, "dirlink", O_RDONLY | O_DIRECTORY, ELOOP);
        expect_open(&t, "dirlink/b", O_RDONLY | O_DIRECTORY, ELOOP);
        expect_open(&t, "dirlink/b/file", O_RDONLY | O_NONBLOCK, ELOOP);
        expect_open(&t, "a/filelink", O_RDONLY | O_NONBLOCK, ELOOP);
        expect_open(&t, "out", O_RDONLY | O_DIRECTORY, ELOOP);
        expect_open(&t, "out/secret", O_RDONLY | O_NONBLOCK, ELOOP);
        expect_open(&t, "up", O_RDONLY | O_NONBLOCK, ELOOP);
        expect_open(&t, "nope", O_RDONLY | O_DIRECTORY, ENOENT);
        expect_open(&t, "a/b/file/x", O_RDONLY | O_NONBLOCK, ENOTDIR);
        expect_open(&t, "a/b/file", O_RDONLY | O_DIRECTORY, ENOTDIR);
        /* A FIFO opens without blocking (and is refused by its type later). */
        expect_open(&t, "fifo", O_RDONLY | O_NONBLOCK, 0);
        tree_free(&t);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/file-browse/check-path", test_check_path);
        g_test_add_func("/file-browse/open", test_open);
        return g_test_run();
}
