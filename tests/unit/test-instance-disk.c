/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The disk image of an instance with a disk_max (instance-disk.h): made
 * from a plain upper/, grown, shrunk only when the content fits, checked
 * by debugfs (no mount, no root needed). Skipped without e2fsprogs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "config.h"
#include "fs-util.h"
#include "instance-disk.h"
#include "l4m-util.h"

#define MIB (UINT64_C(1024) * 1024)

static char *debugfs_path;

typedef struct Fixture {
        char *tmp;
        char *inst;     /* tmp/runtime/x */
        int inst_fd;
} Fixture;

static void write_file_of(const char *path, size_t size) {
        g_autoptr(GError) error = NULL;
        g_autofree char *data = g_malloc(size);

        for (size_t k = 0; k < size; k++)
                data[k] = (char) ('A' + (k * 7 + k / 4096) % 26);    /* no zeros: no holes */
        g_file_set_contents(path, data, (gssize) size, &error);
        g_assert_no_error(error);
}

static void fixture_set_up(Fixture *f, gconstpointer unused) {
        g_autoptr(GError) error = NULL;
        g_autofree char *game = NULL, *work = NULL;

        f->tmp = g_dir_make_tmp("l4m-disk-XXXXXX", &error);
        g_assert_no_error(error);
        f->inst = g_build_filename(f->tmp, "runtime", "x", NULL);
        game = g_build_filename(f->inst, "upper", "left4dead2", "cfg", NULL);
        work = g_build_filename(f->inst, "work", NULL);
        g_assert_cmpint(g_mkdir_with_parents(game, 0755), ==, 0);
        g_assert_cmpint(g_mkdir_with_parents(work, 0755), ==, 0);
        f->inst_fd = open(f->inst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        g_assert_cmpint(f->inst_fd, >=, 0);
}

static void fixture_tear_down(Fixture *f, gconstpointer unused) {
        l4m_close_fdp(&f->inst_fd);
        {
                g_autofree char *parent = g_path_get_dirname(f->tmp), *base = g_path_get_basename(f->tmp);
                _cleanup_close_ int parent_fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                g_assert_cmpint(parent_fd, >=, 0);
                g_assert_cmpint(rm_rf_at(parent_fd, base), ==, 0);
        }
        g_free(f->inst);
        g_free(f->tmp);
}

/* debugfs -R "cat PATH" of the image: the file's bytes, or NULL. */
static char *image_cat(Fixture *f, const char *path, size_t *ret_len) {
        g_autofree char *image = g_build_filename(f->inst, INSTANCE_DISK_IMAGE, NULL);
        g_autofree char *request = g_strdup_printf("cat %s", path);
        char *argv[] = { debugfs_path, (char *) "-R", request, image, NULL };
        g_autofree char *err = NULL;
        char *out = NULL;
        gsize len = 0;
        int status;

        g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, NULL));
        if (strstr(err, "not found") || strstr(err, "File not found")) {
                g_free(out);
                return NULL;
        }
        len = strlen(out);
        if (ret_len)
                *ret_len = len;
        return out;
}

static uint64_t image_size(Fixture *f) {
        struct stat st;

        g_assert_cmpint(fstatat(f->inst_fd, INSTANCE_DISK_IMAGE, &st, AT_SYMLINK_NOFOLLOW), ==, 0);
        g_assert_cmpuint(st.st_mode & 07777, ==, 0600);
        return (uint64_t) st.st_size;
}

static void test_make_from_plain_upper(Fixture *f, gconstpointer unused) {
        g_autofree char *motd = g_build_filename(f->inst, "upper", "left4dead2", "motd.txt", NULL);
        g_autofree char *problem = NULL, *text = NULL;
        uint64_t used = 0, size = 0;
        int r;

        g_assert_true(g_file_set_contents(motd, "hello from upper", -1, NULL));
        r = instance_disk_prepare_at(f->inst_fd, f->inst, "x", 20 * MIB, NULL, &problem);
        g_assert_cmpstr(problem, ==, NULL);
        g_assert_cmpint(r, ==, 1);
        g_assert_cmpuint(image_size(f), ==, 20 * MIB);
        /* Moved, not copied: the plain directories and the seed are gone. */
        g_assert_cmpint(faccessat(f->inst_fd, "upper", F_OK, AT_SYMLINK_NOFOLLOW), <, 0);
        g_assert_cmpint(faccessat(f->inst_fd, "work", F_OK, AT_SYMLINK_NOFOLLOW), <, 0);
        g_assert_cmpint(faccessat(f->inst_fd, INSTANCE_DISK_SEED, F_OK, AT_SYMLINK_NOFOLLOW), <, 0);
        g_assert_cmpint(faccessat(f->inst_fd, INSTANCE_DISK_IMAGE_NEW, F_OK, AT_SYMLINK_NOFOLLOW), <, 0);
        text = image_cat(f, "/upper/left4dead2/motd.txt", NULL);
        g_assert_cmpstr(text, ==, "hello from upper");

        g_assert_cmpint(instance_disk_usage_at(f->inst_fd, &used, &size), ==, 0);
        g_assert_cmpuint(size, <=, 20 * MIB);
        g_assert_cmpuint(size, >, 16 * MIB);
        g_assert_cmpuint(used, >, 0);
        g_assert_cmpuint(used, <, size);

        /* The same size again: nothing to do, still an image. */
        g_clear_pointer(&problem, g_free);
        g_assert_cmpint(instance_disk_prepare_at(f->inst_fd, f->inst, "x", 20 * MIB, NULL, &problem), ==, 1);
}

static void test_grow_and_shrink(Fixture *f, gconstpointer unused) {
        g_autofree char *big = g_build_filename(f->inst, "upper", "big", NULL);
        g_autofree char *problem = NULL, *text = NULL;
        uint64_t used = 0, size = 0;
        size_t len = 0;

        write_file_of(big, 12 * MIB);
        g_assert_cmpint(instance_disk_prepare_at(f->inst_fd, f->inst, "x", 20 * MIB, NULL, &problem), ==, 1);
        g_assert_cmpuint(image_size(f), ==, 20 * MIB);

        /* Grown: the content stays. */
        g_assert_cmpint(instance_disk_prepare_at(f->inst_fd, f->inst, "x", 48 * MIB, NULL, &problem), ==, 1);
        g_assert_cmpuint(image_size(f), ==, 48 * MIB);
        g_assert_cmpint(instance_disk_usage_at(f->inst_fd, &used, &size), ==, 0);
        g_assert_cmpuint(size, >, 40 * MIB);
        g_assert_cmpuint(used, >=, 12 * MIB);
        text = image_cat(f, "/upper/big", &len);
        g_assert_nonnull(text);
        g_assert_cmpuint(len, ==, 12 * MIB);

        /* Below what it holds: refused, nothing changed. */
        g_clear_pointer(&problem, g_free);
        g_assert_cmpint(instance_disk_prepare_at(f->inst_fd, f->inst, "x", 16 * MIB, NULL, &problem), ==, -ENOSPC);
        g_assert_nonnull(strstr(problem, "raise disk_max"));
        g_assert_cmpuint(image_size(f), ==, 48 * MIB);

        /* Above it: shrunk. */
        g_clear_pointer(&problem, g_free);
        g_assert_cmpint(instance_disk_prepare_at(f->inst_fd, f->inst, "x", 32 * MIB, NULL, &problem), ==, 1);
        g_assert_cmpstr(problem, ==, NULL);
        g_assert_cmpuint(image_size(f), ==, 32 * MIB);
        g_assert_cmpint(instance_disk_usage_at(f->inst_fd, &used, &size), ==, 0);
        g_assert_cmpuint(used, >=, 12 * MIB);
}

static void test_refusals(Fixture *f, gconstpointer unused) {
        g_autofree char *problem = NULL;
        InstanceDiskTools missing = { "/nonexistent/mke2fs", "/nonexistent/e2fsck", "/nonexistent/resize2fs" };
        uint64_t used, size;

        /* No disk_max, no image: plain directories, untouched. */
        g_assert_cmpint(instance_disk_prepare_at(f->inst_fd, f->inst, "x", UINT64_MAX, NULL, &problem), ==, 0);
        g_assert_cmpint(faccessat(f->inst_fd, "upper", F_OK, AT_SYMLINK_NOFOLLOW), ==, 0);
        g_assert_cmpint(instance_disk_usage_at(f->inst_fd, &used, &size), ==, -ENOENT);

        g_assert_cmpint(instance_disk_prepare_at(f->inst_fd, f->inst, "x", 1 * MIB, NULL, &problem), ==, -EINVAL);
        g_assert_nonnull(strstr(problem, "at least"));

        /* e2fsprogs missing: said so, upper/ where it was. */
        g_clear_pointer(&problem, g_free);
        g_assert_cmpint(instance_disk_prepare_at(f->inst_fd, f->inst, "x", 20 * MIB, &missing, &problem), ==, -ENOPKG);
        g_assert_nonnull(strstr(problem, "e2fsprogs"));
        g_assert_cmpint(faccessat(f->inst_fd, "upper", F_OK, AT_SYMLINK_NOFOLLOW), ==, 0);
        g_assert_false(instance_disk_has_image_at(f->inst_fd));

        /* Back to none with an image: refused, the image kept. */
        g_clear_pointer(&problem, g_free);
        g_assert_cmpint(instance_disk_prepare_at(f->inst_fd, f->inst, "x", 20 * MIB, NULL, &problem), ==, 1);
        g_assert_cmpint(instance_disk_prepare_at(f->inst_fd, f->inst, "x", UINT64_MAX, NULL, &problem), ==, -EOPNOTSUPP);
        g_assert_nonnull(strstr(problem, "disk image"));
        g_assert_true(instance_disk_has_image_at(f->inst_fd));
}

/* A move into an image that a crash interrupted before the image was in
 * place: the files come back from disk-seed/ (over the empty upper/ the
 * next start made), then go into a new image. */
static void test_interrupted_move(Fixture *f, gconstpointer unused) {
        g_autofree char *seed_upper = g_build_filename(f->inst, INSTANCE_DISK_SEED, "upper", NULL);
        g_autofree char *kept = g_build_filename(seed_upper, "kept.txt", NULL);
        g_autofree char *back = g_build_filename(f->inst, "upper", "kept.txt", NULL);
        g_autofree char *stray = g_build_filename(f->inst, "upper", "stray", NULL);
        g_autofree char *problem = NULL, *text = NULL;

        g_assert_cmpint(g_mkdir_with_parents(seed_upper, 0755), ==, 0);
        g_assert_true(g_file_set_contents(kept, "kept", -1, NULL));
        /* upper/ (the fixture's) is a skeleton: left4dead2/ holds only an empty cfg/ ... */
        {
                g_autofree char *cfg = g_build_filename(f->inst, "upper", "left4dead2", "cfg", NULL);
                g_assert_cmpint(g_rmdir(cfg), ==, 0);
        }
        g_assert_cmpint(instance_disk_prepare_at(f->inst_fd, f->inst, "x", UINT64_MAX, NULL, &problem), ==, 0);
        g_assert_cmpstr(problem, ==, NULL);
        g_assert_true(g_file_test(back, G_FILE_TEST_IS_REGULAR));
        g_assert_cmpint(faccessat(f->inst_fd, INSTANCE_DISK_SEED, F_OK, AT_SYMLINK_NOFOLLOW), <, 0);

        /* Both hold files: refused, nothing moved. */
        g_assert_cmpint(g_mkdir_with_parents(seed_upper, 0755), ==, 0);
        g_assert_true(g_file_set_contents(kept, "other", -1, NULL));
        g_assert_true(g_file_set_contents(stray, "x", -1, NULL));
        g_assert_cmpint(instance_disk_prepare_at(f->inst_fd, f->inst, "x", 20 * MIB, NULL, &problem), ==, -EEXIST);
        g_assert_true(g_file_test(kept, G_FILE_TEST_IS_REGULAR));
        g_assert_false(instance_disk_has_image_at(f->inst_fd));

        /* Image in place, seed left over: the seed is a copy and goes. */
        g_assert_cmpint(g_unlink(stray), ==, 0);
        g_assert_cmpint(rm_rf_at(f->inst_fd, INSTANCE_DISK_SEED), ==, 0);
        g_assert_true(g_file_set_contents(back, "kept", -1, NULL));
        g_clear_pointer(&problem, g_free);
        g_assert_cmpint(instance_disk_prepare_at(f->inst_fd, f->inst, "x", 20 * MIB, NULL, &problem), ==, 1);
        text = image_cat(f, "/upper/kept.txt", NULL);
        g_assert_cmpstr(text, ==, "kept");
        g_assert_cmpint(g_mkdir_with_parents(seed_upper, 0755), ==, 0);
        g_assert_cmpint(instance_disk_prepare_at(f->inst_fd, f->inst, "x", 20 * MIB, NULL, &problem), ==, 1);
        g_assert_cmpint(faccessat(f->inst_fd, INSTANCE_DISK_SEED, F_OK, AT_SYMLINK_NOFOLLOW), <, 0);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        debugfs_path = g_find_program_in_path("debugfs");
        if (!debugfs_path && access("/usr/sbin/debugfs", X_OK) == 0)
                debugfs_path = g_strdup("/usr/sbin/debugfs");
        if (access(instance_disk_tools_default.mke2fs, X_OK) < 0 || !debugfs_path) {
                g_test_skip("e2fsprogs (mke2fs, debugfs) is not installed");
                return g_test_run();
        }
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
        ADD("/instance-disk/make-from-plain-upper", test_make_from_plain_upper);
        ADD("/instance-disk/grow-and-shrink", test_grow_and_shrink);
        ADD("/instance-disk/refusals", test_refusals);
        ADD("/instance-disk/interrupted-move", test_interrupted_move);
        return g_test_run();
}
