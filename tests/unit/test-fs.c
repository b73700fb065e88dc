/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
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
        {
                /* dangling, and a link pointing at itself */
                g_autofree char *dangling = g_build_filename(tree, "a", "dangling", NULL);
                g_autofree char *loop = g_build_filename(tree, "a", "loop", NULL);

                g_assert_cmpint(symlink("no-such-file", dangling), ==, 0);
                g_assert_cmpint(symlink("loop", loop), ==, 0);
        }
        g_assert_cmpint(g_mkdir_with_parents(ro, 0500), ==, 0);  /* not writable: still removed (we own it) */

        fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(rm_rf_at(fd, "tree"), ==, 0);

        g_assert_false(g_file_test(tree, G_FILE_TEST_EXISTS));
        g_assert_true(g_file_test(secret, G_FILE_TEST_IS_REGULAR));
        g_assert_true(g_file_test(outside, G_FILE_TEST_IS_DIR));

        /* A symlink given as the top entry is removed itself, not followed. */
        g_assert_cmpint(symlink(outside, tree), ==, 0);
        g_assert_cmpint(rm_rf_at(fd, "tree"), ==, 0);
        g_assert_true(g_file_test(secret, G_FILE_TEST_IS_REGULAR));
        g_assert_false(g_file_test(tree, G_FILE_TEST_EXISTS));

        g_assert_cmpint(rm_rf_at(fd, "tree"), ==, -ENOENT);
        g_assert_cmpint(rm_rf_at(fd, "outside"), ==, 0);
        g_assert_cmpint(g_rmdir(tmp), ==, 0);
}

static unsigned count_fds(void) {
        g_autoptr(GDir) d = g_dir_open("/proc/self/fd", 0, NULL);
        unsigned n = 0;

        g_assert_nonnull(d);
        while (g_dir_read_name(d))
                n++;
        return n;
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

        /* Far deeper than the walk's own stack, with a file every level:
         * lifted up in pieces, all removed, no descriptor left behind. */
        l4m_close_fdp(&deep_fd);
        g_assert_cmpint(mkdirat(fd, "deep", 0755), ==, 0);
        {
                _cleanup_close_ int cur = openat(fd, "deep", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                unsigned fds_before;

                for (unsigned i = 0; i < 20 * RM_RF_MAX_DEPTH; i++) {
                        int next, f;

                        f = openat(cur, "f", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                        g_assert_cmpint(f, >=, 0);
                        close(f);
                        g_assert_cmpint(mkdirat(cur, "d", 0755), ==, 0);
                        next = openat(cur, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        g_assert_cmpint(next, >=, 0);
                        close(cur);
                        cur = next;
                }
                l4m_close_fdp(&cur);
                fds_before = count_fds();
                g_assert_cmpint(rm_rf_at(fd, "deep"), ==, 0);
                g_assert_cmpuint(count_fds(), ==, fds_before);
        }
        g_assert_cmpint(faccessat(fd, "deep", F_OK, AT_SYMLINK_NOFOLLOW), ==, -1);
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

/* Whole files replace whole files, with exactly the mode asked for, and a
 * link planted at the name is replaced, never written through. */
static void test_write_file_atomic(void) {
        g_autofree char *tmp = make_tmp();
        g_autofree char *victim = g_build_filename(tmp, "victim", NULL);
        g_autofree char *link = g_build_filename(tmp, "link", NULL);
        g_autofree char *path = g_build_filename(tmp, "file", NULL);
        _cleanup_close_ int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        g_autofree char *text = NULL;
        g_autoptr(GDir) dir = NULL;
        mode_t old_umask;
        struct stat st;
        unsigned n = 0;

        old_umask = umask(0077);
        g_assert_cmpint(write_file_atomic_at(fd, "file", "one\n", 4, 0644, getuid(), getgid(), true), ==, 0);
        umask(old_umask);
        g_assert_cmpint(stat(path, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 07777, ==, 0644);
        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        g_assert_cmpstr(text, ==, "one\n");
        g_clear_pointer(&text, g_free);

        g_assert_cmpint(write_file_atomic_at(fd, "file", "two", 3, 0600, getuid(), getgid(), false), ==, 0);
        g_assert_cmpint(stat(path, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 07777, ==, 0600);
        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        g_assert_cmpstr(text, ==, "two");
        g_clear_pointer(&text, g_free);

        g_assert_true(g_file_set_contents(victim, "untouched", -1, NULL));
        g_assert_cmpint(symlink(victim, link), ==, 0);
        g_assert_cmpint(write_file_atomic_at(fd, "link", "new", 3, 0600, getuid(), getgid(), false), ==, 0);
        g_assert_cmpint(lstat(link, &st), ==, 0);
        g_assert_true(S_ISREG(st.st_mode));
        g_assert_true(g_file_get_contents(victim, &text, NULL, NULL));
        g_assert_cmpstr(text, ==, "untouched");

        /* Nothing temporary is left beside them. */
        dir = g_dir_open(tmp, 0, NULL);
        g_assert_nonnull(dir);
        while (g_dir_read_name(dir))
                n++;
        g_assert_cmpuint(n, ==, 3);

        g_assert_cmpint(rm_rf_at(fd, "file"), ==, 0);
        g_assert_cmpint(rm_rf_at(fd, "link"), ==, 0);
        g_assert_cmpint(rm_rf_at(fd, "victim"), ==, 0);
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

/* The mount tests run in a child with a mount namespace of its own; it
 * reports by exit status (a failed g_assert there would confuse TAP). */
#define CHILD_SKIP 77

#define CHILD_CHECK(cond)                                                               \
        do {                                                                            \
                if (!(cond)) {                                                          \
                        fprintf(stderr, "%s:%d: check failed: %s (errno %d)\n",         \
                                __FILE__, __LINE__, #cond, errno);                      \
                        _exit(1);                                                       \
                }                                                                       \
        } while (0)

static bool exists_at(int dir_fd, const char *path) {
        return faccessat(dir_fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Entries in a directory besides . and .., or -1. */
static int count_entries_at(int dir_fd, const char *path) {
        int fd = openat(dir_fd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct dirent *de;
        DIR *d;
        int n = 0;

        if (fd < 0)
                return -1;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -1;
        }
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        n++;
        closedir(d);
        return n;
}

static void write_file_at(int dir_fd, const char *path) {
        _cleanup_close_ int fd = openat(dir_fd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

        CHILD_CHECK(fd >= 0);
        CHILD_CHECK(write(fd, "x", 1) == 1);
}

static bool kernel_reports_mount_root(int fd) {
        struct statx stx;

        return statx(fd, "", AT_EMPTY_PATH, STATX_TYPE, &stx) == 0 &&
               (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT);
}

/* In the child: a tree with a bind mount of a directory of the same file
 * system inside it, one on top of it, and a tmpfs inside it. */
static int rm_rf_mounts_child(const char *tmp) {
        _cleanup_close_ int fd = -1;
        g_autofree char *victim = g_build_filename(tmp, "victim", NULL);
        g_autofree char *mnt = g_build_filename(tmp, "tree", "a", "mnt", NULL);
        g_autofree char *top = g_build_filename(tmp, "top", NULL);
        g_autofree char *tmpfs = g_build_filename(tmp, "other", "t", NULL);

        if (unshare(CLONE_NEWNS) < 0)
                return CHILD_SKIP;      /* e.g. no CAP_SYS_ADMIN in this container */
        CHILD_CHECK(mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == 0);

        fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHILD_CHECK(fd >= 0);
        if (!kernel_reports_mount_root(fd))
                return CHILD_SKIP;      /* before Linux 5.8 */

        /* victim/ with a file, outside the tree */
        CHILD_CHECK(mkdirat(fd, "victim", 0755) == 0);
        write_file_at(fd, "victim/precious");
        CHILD_CHECK(mkdirat(fd, "victim/sub", 0755) == 0);
        write_file_at(fd, "victim/sub/also-precious");

        /* tree/: files, directories, and the victim bound onto tree/a/mnt */
        CHILD_CHECK(mkdirat(fd, "tree", 0755) == 0);
        write_file_at(fd, "tree/file");
        CHILD_CHECK(mkdirat(fd, "tree/sub", 0755) == 0);
        CHILD_CHECK(mkdirat(fd, "tree/sub/deeper", 0755) == 0);
        write_file_at(fd, "tree/sub/deeper/file");
        CHILD_CHECK(mkdirat(fd, "tree/a", 0755) == 0);
        write_file_at(fd, "tree/a/x");
        CHILD_CHECK(mkdirat(fd, "tree/a/mnt", 0755) == 0);
        CHILD_CHECK(mkdirat(fd, "tree/z", 0755) == 0);
        write_file_at(fd, "tree/z/y");
        CHILD_CHECK(mount(victim, mnt, "none", MS_BIND, NULL) == 0);
        CHILD_CHECK(exists_at(fd, "tree/a/mnt/precious"));

        CHILD_CHECK(rm_rf_at(fd, "tree") == -EXDEV);
        /* The mount and what is in it are untouched... */
        CHILD_CHECK(exists_at(fd, "victim/precious"));
        CHILD_CHECK(exists_at(fd, "victim/sub/also-precious"));
        CHILD_CHECK(exists_at(fd, "tree/a/mnt/precious"));
        CHILD_CHECK(count_entries_at(fd, "victim") == 2);
        /* ...everything else is gone; only the way to the mount point stays. */
        CHILD_CHECK(count_entries_at(fd, "tree") == 1);
        CHILD_CHECK(exists_at(fd, "tree/a"));
        CHILD_CHECK(count_entries_at(fd, "tree/a") == 1);
        CHILD_CHECK(exists_at(fd, "tree/a/mnt"));
        CHILD_CHECK(!exists_at(fd, "tree/file"));
        CHILD_CHECK(!exists_at(fd, "tree/sub"));
        CHILD_CHECK(!exists_at(fd, "tree/z"));
        CHILD_CHECK(!exists_at(fd, "tree/a/x"));

        /* Once unmounted, the rest goes too; the victim stays. */
        CHILD_CHECK(umount2(mnt, MNT_DETACH) == 0);
        CHILD_CHECK(rm_rf_at(fd, "tree") == 0);
        CHILD_CHECK(!exists_at(fd, "tree"));
        CHILD_CHECK(exists_at(fd, "victim/precious"));

        /* A bind mount as the top entry: nothing is removed. */
        CHILD_CHECK(mkdirat(fd, "top", 0755) == 0);
        CHILD_CHECK(mount(victim, top, "none", MS_BIND, NULL) == 0);
        CHILD_CHECK(rm_rf_at(fd, "top") == -EXDEV);
        CHILD_CHECK(exists_at(fd, "top/precious"));
        CHILD_CHECK(exists_at(fd, "victim/sub/also-precious"));
        CHILD_CHECK(umount2(top, MNT_DETACH) == 0);

        /* Another file system inside the tree: left in place as well. */
        CHILD_CHECK(mkdirat(fd, "other", 0755) == 0);
        CHILD_CHECK(mkdirat(fd, "other/t", 0755) == 0);
        write_file_at(fd, "other/file");
        CHILD_CHECK(mount("tmpfs", tmpfs, "tmpfs", 0, "size=1m") == 0);
        write_file_at(fd, "other/t/on-tmpfs");
        CHILD_CHECK(rm_rf_at(fd, "other") == -EXDEV);
        CHILD_CHECK(exists_at(fd, "other/t/on-tmpfs"));
        CHILD_CHECK(!exists_at(fd, "other/file"));
        CHILD_CHECK(umount2(tmpfs, MNT_DETACH) == 0);
        return 0;
}

static void assert_owner_at(int dir_fd, const char *path, uid_t uid, gid_t gid) {
        struct stat st;

        g_assert_cmpint(fstatat(dir_fd, path, &st, AT_SYMLINK_NOFOLLOW), ==, 0);
        g_assert_cmpuint(st.st_uid, ==, uid);
        g_assert_cmpuint(st.st_gid, ==, gid);
}

/* chown_tree_fd(): what the old uid owns becomes the new one's, links
 * are changed but not followed, other owners stay. */
static void test_chown_tree(void) {
        g_autofree char *tmp = NULL;
        _cleanup_close_ int fd = -1, top = -1;
        const uid_t old = 40001, new = 40002;

        if (geteuid() != 0) {
                g_test_skip("needs root (chown)");
                return;
        }
        tmp = make_tmp();
        fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(mkdirat(fd, "top", 0755), ==, 0);
        g_assert_cmpint(mkdirat(fd, "top/a", 0755), ==, 0);
        g_assert_cmpint(mkdirat(fd, "top/a/b", 0755), ==, 0);
        for (size_t k = 0; k < 3; k++) {
                static const char *const files[] = { "top/a/b/f", "top/root-file", "target" };
                g_autofree char *path = g_build_filename(tmp, files[k], NULL);

                g_assert_true(g_file_set_contents(path, "x", -1, NULL));
        }
        g_assert_cmpint(symlinkat("../../target", fd, "top/a/link"), ==, 0);
        g_assert_cmpint(fchownat(fd, "top", old, old, 0), ==, 0);
        g_assert_cmpint(fchownat(fd, "top/a", old, 0, 0), ==, 0);     /* root's group */
        g_assert_cmpint(fchownat(fd, "top/a/b", old, old, 0), ==, 0);
        g_assert_cmpint(fchownat(fd, "top/a/b/f", old, old, 0), ==, 0);
        g_assert_cmpint(fchownat(fd, "top/a/link", old, old, AT_SYMLINK_NOFOLLOW), ==, 0);
        g_assert_cmpint(fchownat(fd, "target", 0, 0, 0), ==, 0);

        top = openat(fd, "top", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        g_assert_cmpint(top, >=, 0);
        g_assert_cmpint(chown_tree_fd(top, old, old, new, new), ==, 0);
        assert_owner_at(fd, "top", new, new);
        assert_owner_at(fd, "top/a", new, 0);
        assert_owner_at(fd, "top/a/b", new, new);
        assert_owner_at(fd, "top/a/b/f", new, new);
        assert_owner_at(fd, "top/a/link", new, new);
        assert_owner_at(fd, "top/root-file", 0, 0);
        assert_owner_at(fd, "target", 0, 0);

        g_assert_cmpint(rm_rf_at(fd, "top"), ==, 0);
        g_assert_cmpint(unlinkat(fd, "target", 0), ==, 0);
        g_assert_cmpint(g_rmdir(tmp), ==, 0);
}

static void assert_mode_at(int dir_fd, const char *path, mode_t mode) {
        struct stat st;

        g_assert_cmpint(fstatat(dir_fd, path, &st, AT_SYMLINK_NOFOLLOW), ==, 0);
        g_assert_cmpuint(st.st_mode & 07777, ==, mode);
}

/* chmod_tree_add_fd(): directories and regular files of the owner become
 * group-writable; a link's target, a fifo, a set-id program and (as
 * root) another owner's file do not. */
static void test_chmod_tree_add(void) {
        g_autofree char *tmp = NULL;
        _cleanup_close_ int fd = -1, top = -1;
        unsigned changed = 0;
        const bool root = geteuid() == 0;

        tmp = make_tmp();
        fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(mkdirat(fd, "top", 0755), ==, 0);
        g_assert_cmpint(mkdirat(fd, "top/a", 0755), ==, 0);
        for (size_t k = 0; k < 5; k++) {
                static const char *const files[] = { "top/a/f", "top/a/prog", "top/setid", "top/other", "target" };
                g_autofree char *path = g_build_filename(tmp, files[k], NULL);

                g_assert_true(g_file_set_contents(path, "x", -1, NULL));
        }
        g_assert_cmpint(fchmodat(fd, "top", 0755, 0), ==, 0);
        g_assert_cmpint(fchmodat(fd, "top/a", 0755, 0), ==, 0);
        g_assert_cmpint(fchmodat(fd, "top/a/f", 0644, 0), ==, 0);
        g_assert_cmpint(fchmodat(fd, "top/a/prog", 0755, 0), ==, 0);
        g_assert_cmpint(fchmodat(fd, "top/setid", 04755, 0), ==, 0);
        g_assert_cmpint(fchmodat(fd, "top/other", 0644, 0), ==, 0);
        g_assert_cmpint(fchmodat(fd, "target", 0644, 0), ==, 0);
        g_assert_cmpint(mkfifoat(fd, "top/a/fifo", 0644), ==, 0);
        g_assert_cmpint(symlinkat("../../target", fd, "top/a/link"), ==, 0);
        if (root)
                g_assert_cmpint(fchownat(fd, "top/other", 40001, 40001, 0), ==, 0);

        top = openat(fd, "top", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        g_assert_cmpint(top, >=, 0);
        g_assert_cmpint(chmod_tree_add_fd(top, geteuid(), getegid(), S_IWGRP, &changed), ==, 0);
        assert_mode_at(fd, "top", 0775);
        assert_mode_at(fd, "top/a", 0775);
        assert_mode_at(fd, "top/a/f", 0664);
        assert_mode_at(fd, "top/a/prog", 0775);
        assert_mode_at(fd, "top/a/fifo", 0644);
        assert_mode_at(fd, "top/setid", 04755);
        assert_mode_at(fd, "target", 0644);
        assert_mode_at(fd, "top/other", root ? 0644 : 0664);
        g_assert_cmpuint(changed, ==, root ? 4 : 5);
        /* Once done, nothing more to do. */
        g_assert_cmpint(chmod_tree_add_fd(top, geteuid(), getegid(), S_IWGRP, &changed), ==, 0);
        g_assert_cmpuint(changed, ==, 0);

        g_assert_cmpint(rm_rf_at(fd, "top"), ==, 0);
        g_assert_cmpint(unlinkat(fd, "target", 0), ==, 0);
        g_assert_cmpint(g_rmdir(tmp), ==, 0);
}

static void test_rm_rf_stops_at_mounts(void) {
        g_autofree char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        int status;
        pid_t pid;

        if (geteuid() != 0) {
                g_test_skip("needs root (a mount namespace and bind mounts)");
                return;
        }
        tmp = make_tmp();
        pid = fork();
        g_assert_cmpint(pid, >=, 0);
        if (pid == 0) {
                int r = rm_rf_mounts_child(tmp);

                g_clear_pointer(&tmp, g_free);
                _exit(r);
        }
        g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);

        /* The namespace, and its mounts, went with the child. */
        fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        g_assert_cmpint(fd, >=, 0);
        if (WIFEXITED(status) && WEXITSTATUS(status) == CHILD_SKIP)
                g_test_skip("no mount namespace, or no STATX_ATTR_MOUNT_ROOT");
        else {
                g_assert_true(WIFEXITED(status));
                g_assert_cmpint(WEXITSTATUS(status), ==, 0);
        }
        g_assert_cmpint(rm_rf_at(fd, "victim"), ==, 0);
        (void) rm_rf_at(fd, "top");
        (void) rm_rf_at(fd, "tree");
        (void) rm_rf_at(fd, "other");
        g_assert_cmpint(count_entries_at(fd, "."), ==, 0);
        g_assert_cmpint(g_rmdir(tmp), ==, 0);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/fs/rm-rf/keeps-link-targets", test_rm_rf_keeps_link_targets);
        g_test_add_func("/fs/rm-rf/deep-trees", test_rm_rf_deep_trees);
        g_test_add_func("/fs/rm-rf/stops-at-mounts", test_rm_rf_stops_at_mounts);
        g_test_add_func("/fs/chown-tree", test_chown_tree);
        g_test_add_func("/fs/chmod-tree-add", test_chmod_tree_add);
        g_test_add_func("/fs/open-or-create-dir", test_open_or_create_dir);
        g_test_add_func("/fs/parse-id", test_parse_id);
        g_test_add_func("/fs/write-file-atomic", test_write_file_atomic);
        return g_test_run();
}
