/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "fs-util.h"
#include "l4m-util.h"

static char *make_tmp(void) {
        g_autoptr(GError) error = NULL;
        char *d = g_dir_make_tmp("l4m-fs-XXXXXX", &error);

        g_assert_no_error(error);
        return d;
}

static void write_file(const char *path) {
        g_autoptr(GError) error = NULL;

        g_file_set_contents(path, "x", 1, &error);
        g_assert_no_error(error);
}

static void test_rm_rf_keeps_link_targets(void) {
        g_autofree char *tmp = make_tmp();
        g_autofree char *outside = g_build_filename(tmp, "outside", NULL);
        g_autofree char *secret = g_build_filename(outside, "secret", NULL);
        g_autofree char *tree = g_build_filename(tmp, "tree", NULL);
        g_autofree char *deep = g_build_filename(tree, "a", "b", "c", NULL);
        g_autofree char *deepfile = g_build_filename(deep, "file", NULL);
        g_autofree char *dirlink = g_build_filename(tree, "a", "dirlink", NULL);
        g_autofree char *filelink = g_build_filename(deep, "filelink", NULL);
        g_autofree char *ro = g_build_filename(tree, "ro", NULL);
        _cleanup_close_ int fd = -1;

        g_assert_cmpint(g_mkdir_with_parents(outside, 0755), ==, 0);
        write_file(secret);
        g_assert_cmpint(g_mkdir_with_parents(deep, 0755), ==, 0);
        write_file(deepfile);
        g_assert_cmpint(symlink(outside, dirlink), ==, 0);
        g_assert_cmpint(symlink(secret, filelink), ==, 0);
        g_assert_cmpint(g_mkdir_with_parents(ro, 0500), ==, 0);  /* not writable: still removed (we own it) */

        fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(rm_rf_at(fd, "tree"), ==, 0);

        g_assert_false(g_file_test(tree, G_FILE_TEST_EXISTS));
        g_assert_true(g_file_test(secret, G_FILE_TEST_IS_REGULAR));

        /* A symlink given as the top entry is removed itself, not followed. */
        g_assert_cmpint(symlink(outside, tree), ==, 0);
        g_assert_cmpint(rm_rf_at(fd, "tree"), ==, 0);
        g_assert_true(g_file_test(secret, G_FILE_TEST_IS_REGULAR));
        g_assert_false(g_file_test(tree, G_FILE_TEST_EXISTS));

        g_assert_cmpint(rm_rf_at(fd, "tree"), ==, -ENOENT);
        g_assert_cmpint(rm_rf_at(fd, "outside"), ==, 0);
        g_assert_cmpint(g_rmdir(tmp), ==, 0);
}

static int make_chain(int top_fd, unsigned depth) {
        _cleanup_close_ int fd = dup(top_fd);

        for (unsigned i = 0; i < depth; i++) {
                int next;
                g_assert_cmpint(mkdirat(fd, "d", 0755), ==, 0);
                next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                g_assert_cmpint(next, >=, 0);
                close(fd);
                fd = next;
        }
        return 0;
}

static void test_rm_rf_deep_trees(void) {
        g_autofree char *tmp = make_tmp();
        _cleanup_close_ int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int deep_fd = -1;

        g_assert_cmpint(fd, >=, 0);

        /* Far deeper than PATH_MAX allows by name: removed without recursion. */
        g_assert_cmpint(mkdirat(fd, "ok", 0755), ==, 0);
        deep_fd = openat(fd, "ok", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        make_chain(deep_fd, 2000);
        g_assert_cmpint(rm_rf_at(fd, "ok"), ==, 0);
        g_assert_cmpint(faccessat(fd, "ok", F_OK, AT_SYMLINK_NOFOLLOW), ==, -1);

        /* Deeper than the limit: refused with ELOOP, not a crash. */
        l4m_close_fdp(&deep_fd);
        g_assert_cmpint(mkdirat(fd, "deep", 0755), ==, 0);
        deep_fd = openat(fd, "deep", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        make_chain(deep_fd, RM_RF_MAX_DEPTH + 10);
        g_assert_cmpint(rm_rf_at(fd, "deep"), ==, -ELOOP);

        /* Clean up from the middle, then the rest. */
        {
                _cleanup_close_ int mid = dup(deep_fd);
                for (unsigned i = 0; i < 100; i++) {
                        int next = openat(mid, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        g_assert_cmpint(next, >=, 0);
                        close(mid);
                        mid = next;
                }
                g_assert_cmpint(rm_rf_at(mid, "d"), ==, 0);
        }
        g_assert_cmpint(rm_rf_at(fd, "deep"), ==, 0);
        g_assert_cmpint(g_rmdir(tmp), ==, 0);
}

static void test_open_or_create_dir(void) {
        g_autofree char *tmp = make_tmp();
        g_autofree char *target = g_build_filename(tmp, "target", NULL);
        g_autofree char *link = g_build_filename(tmp, "link", NULL);
        _cleanup_close_ int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int d = -1;
        struct stat st;

        d = open_or_create_dir_at(fd, "new", 0711);
        g_assert_cmpint(d, >=, 0);
        g_assert_cmpint(fstat(d, &st), ==, 0);
        g_assert_true(S_ISDIR(st.st_mode));

        g_assert_cmpint(g_mkdir(target, 0755), ==, 0);
        g_assert_cmpint(symlink(target, link), ==, 0);
        g_assert_cmpint(open_or_create_dir_at(fd, "link", 0711), ==, -ENOTDIR);

        g_assert_cmpint(rm_rf_at(fd, "new"), ==, 0);
        g_assert_cmpint(rm_rf_at(fd, "link"), ==, 0);
        g_assert_cmpint(rm_rf_at(fd, "target"), ==, 0);
        g_assert_cmpint(g_rmdir(tmp), ==, 0);
}

static void test_parse_id(void) {
        uint64_t v = 0;

        g_assert_cmpint(parse_id("1", &v), ==, 0);
        g_assert_cmpuint(v, ==, 1);
        g_assert_cmpint(parse_id("18446744073709551615", &v), ==, 0);
        g_assert_cmpuint(v, ==, UINT64_MAX);
        g_assert_cmpint(parse_id("18446744073709551616", &v), ==, -ERANGE);
        g_assert_cmpint(parse_id("0", &v), ==, -EINVAL);
        g_assert_cmpint(parse_id("01", &v), ==, -EINVAL);
        g_assert_cmpint(parse_id("", &v), ==, -EINVAL);
        g_assert_cmpint(parse_id("+1", &v), ==, -EINVAL);
        g_assert_cmpint(parse_id("1a", &v), ==, -EINVAL);
        g_assert_cmpint(parse_id(" 1", &v), ==, -EINVAL);
        g_assert_cmpint(parse_id(NULL, &v), ==, -EINVAL);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/fs/rm-rf/keeps-link-targets", test_rm_rf_keeps_link_targets);
        g_test_add_func("/fs/rm-rf/deep-trees", test_rm_rf_deep_trees);
        g_test_add_func("/fs/open-or-create-dir", test_open_or_create_dir);
        g_test_add_func("/fs/parse-id", test_parse_id);
        return g_test_run();
}
