/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "archive-extract.h"
#include "fs-util.h"
#include "l4m-util.h"

/* Archives are built here with libarchive's write API, hostile ones
 * included, into a temporary directory that also holds "outside/target":
 * every test checks that nothing but "dest" changed. */

typedef enum TType {
        T_FILE,      /* data: contents */
        T_ZEROS,     /* size bytes of zeros */
        T_PATTERN,   /* size bytes of pseudo-random data */
        T_SPARSE,    /* size bytes: 4 KiB of 'A', a hole, 4 KiB of 'B' */
        T_SPARSE_TAIL, /* size bytes: 4 KiB of 'A', then a hole to the end */
        T_DIR,
        T_SYMLINK,   /* data: target */
        T_HARDLINK,  /* data: target */
        T_CHR,
        T_BLK,
        T_FIFO,
} TType;

typedef struct TEntry {
        TType type;
        const char *path;
        const char *data;
        unsigned mode;   /* permission bits; 0: 0644 for files, 0755 for dirs */
        uint64_t size;
} TEntry;

typedef enum TFormat {
        F_TAR,
        F_USTAR,
        F_TAR_GZ,
        F_TAR_BZ2,
        F_TAR_XZ,
        F_TAR_ZST,
        F_ZIP,
        F_ZIP_ENCRYPTED,
        F_7Z,
} TFormat;

typedef struct Fixture {
        char *tmp;
        char *dest;
        char *outside;
        char *archive;
        int dest_fd;
        struct stat target_st;   /* outside/target as set up */
} Fixture;

static const char *const PRECIOUS = "precious\n";

static void fixture_setup(Fixture *f) {
        g_autoptr(GError) error = NULL;
        g_autofree char *target = NULL;

        f->tmp = g_dir_make_tmp("l4m-archive-XXXXXX", &error);
        g_assert_no_error(error);
        f->dest = g_build_filename(f->tmp, "dest", NULL);
        f->outside = g_build_filename(f->tmp, "outside", NULL);
        f->archive = g_build_filename(f->tmp, "archive", NULL);
        g_assert_cmpint(g_mkdir(f->dest, 0755), ==, 0);
        g_assert_cmpint(g_mkdir(f->outside, 0755), ==, 0);
        target = g_build_filename(f->outside, "target", NULL);
        g_file_set_contents(target, PRECIOUS, -1, &error);
        g_assert_no_error(error);
        g_assert_cmpint(lstat(target, &f->target_st), ==, 0);
        f->dest_fd = open(f->dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        g_assert_cmpint(f->dest_fd, >=, 0);
}

/* Nothing but dest (and the archive) may have changed. */
static void assert_outside_intact(Fixture *f) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GDir) dir = NULL;
        g_autofree char *target = g_build_filename(f->outside, "target", NULL);
        g_autofree char *contents = NULL;
        struct stat st;
        const char *name;

        dir = g_dir_open(f->tmp, 0, &error);
        g_assert_no_error(error);
        while ((name = g_dir_read_name(dir)))
                g_assert_true(g_str_equal(name, "dest") || g_str_equal(name, "outside") ||
                              g_str_has_prefix(name, "archive"));
        g_clear_pointer(&dir, g_dir_close);

        dir = g_dir_open(f->outside, 0, &error);
        g_assert_no_error(error);
        while ((name = g_dir_read_name(dir)))
                g_assert_cmpstr(name, ==, "target");

        g_assert_cmpint(lstat(target, &st), ==, 0);
        g_assert_true(S_ISREG(st.st_mode));
        g_assert_cmpuint(st.st_nlink, ==, 1);
        g_assert_cmpuint(st.st_ino, ==, f->target_st.st_ino);
        g_assert_cmpuint(st.st_mode, ==, f->target_st.st_mode);
        g_assert_cmpint(st.st_mtim.tv_sec, ==, f->target_st.st_mtim.tv_sec);
        g_assert_cmpint(st.st_mtim.tv_nsec, ==, f->target_st.st_mtim.tv_nsec);
        g_file_get_contents(target, &contents, NULL, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(contents, ==, PRECIOUS);

        g_assert_false(g_file_test("/etc/x", G_FILE_TEST_EXISTS));
        g_assert_false(g_file_test("/tmp/etc/x", G_FILE_TEST_EXISTS));
}

static void fixture_teardown(Fixture *f) {
        g_autofree char *parent = g_path_get_dirname(f->tmp);
        g_autofree char *base = g_path_get_basename(f->tmp);
        _cleanup_close_ int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        assert_outside_intact(f);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(rm_rf_at(fd, base), ==, 0);
        l4m_close_fdp(&f->dest_fd);
        g_free(f->tmp);
        g_free(f->dest);
        g_free(f->outside);
        g_free(f->archive);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Fixture, fixture_teardown)

static void write_data(struct archive *a, const void *buf, size_t len) {
        g_assert_cmpint(archive_write_data(a, buf, len), ==, (la_ssize_t) len);
}

static void write_generated(struct archive *a, const TEntry *t) {
        static uint8_t block[64 * 1024];
        uint64_t done = 0, state = 42;

        while (done < t->size) {
                size_t n = (size_t) MIN(t->size - done, (uint64_t) sizeof(block));

                for (size_t i = 0; i < n; i++) {
                        uint64_t o = done + i;
                        switch (t->type) {
                        case T_ZEROS:
                                block[i] = 0;
                                break;
                        case T_PATTERN:  /* an LCG's top bits: incompressible enough */
                                state = state * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
                                block[i] = (uint8_t) (state >> 56);
                                break;
                        case T_SPARSE_TAIL:
                                block[i] = o < 4096 ? 'A' : 0;
                                break;
                        default: /* T_SPARSE */
                                block[i] = o < 4096 ? 'A' : o >= t->size - 4096 ? 'B' : 0;
                                break;
                        }
                }
                write_data(a, block, n);
                done += n;
        }
}

static void write_entry(struct archive *a, const TEntry *t) {
        struct archive_entry *e = archive_entry_new();
        int r;

        archive_entry_set_pathname(e, t->path);
        archive_entry_set_mtime(e, 1700000000, 0);
        switch (t->type) {
        case T_FILE:
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_size(e, (la_int64_t) strlen(t->data));
                break;
        case T_ZEROS:
        case T_PATTERN:
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_size(e, (la_int64_t) t->size);
                break;
        case T_SPARSE:
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_size(e, (la_int64_t) t->size);
                archive_entry_sparse_add_entry(e, 0, 4096);
                archive_entry_sparse_add_entry(e, (la_int64_t) t->size - 4096, 4096);
                break;
        case T_SPARSE_TAIL:
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_size(e, (la_int64_t) t->size);
                archive_entry_sparse_add_entry(e, 0, 4096);
                break;
        case T_DIR:
                archive_entry_set_filetype(e, AE_IFDIR);
                break;
        case T_SYMLINK:
                archive_entry_set_filetype(e, AE_IFLNK);
                archive_entry_set_symlink(e, t->data);
                break;
        case T_HARDLINK:
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_hardlink(e, t->data);
                archive_entry_set_size(e, 0);
                break;
        case T_CHR:
                archive_entry_set_filetype(e, AE_IFCHR);
                archive_entry_set_rdev(e, makedev(1, 3));
                break;
        case T_BLK:
                archive_entry_set_filetype(e, AE_IFBLK);
                archive_entry_set_rdev(e, makedev(8, 0));
                break;
        case T_FIFO:
                archive_entry_set_filetype(e, AE_IFIFO);
                break;
        }
        archive_entry_set_perm(e, t->mode ? t->mode : t->type == T_DIR ? 0755 : 0644);

        r = archive_write_header(a, e);
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                g_error("writing header of test entry: %s", archive_error_string(a));
        if (t->type == T_FILE)
                write_data(a, t->data, strlen(t->data));
        else if (t->type == T_ZEROS || t->type == T_PATTERN || t->type == T_SPARSE || t->type == T_SPARSE_TAIL)
                write_generated(a, t);
        archive_entry_free(e);
}

/* Returns false if this libarchive cannot write the format. Names are
 * given as UTF-8 (or as raw bytes, for ustar and zip), written in a UTF-8
 * locale of this thread; the process itself stays in the C locale, as
 * left4med does. */
static bool make_archive(const char *path, TFormat format, const TEntry *entries, size_t n) {
        locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t) 0);
        locale_t previous = uselocale(utf8);
        struct archive *a = archive_write_new();
        int r = ARCHIVE_OK;

        g_assert_nonnull(a);
        switch (format) {
        case F_USTAR:
                r = archive_write_set_format_ustar(a);
                break;
        case F_ZIP:
                r = archive_write_set_format_zip(a);
                break;
        case F_ZIP_ENCRYPTED:
                r = archive_write_set_format_zip(a);
                if (r == ARCHIVE_OK)
                        r = archive_write_set_options(a, "zip:encryption=zipcrypt");
                if (r == ARCHIVE_OK)
                        r = archive_write_set_passphrase(a, "secret");
                if (r != ARCHIVE_OK) {
                        archive_write_free(a);
                        uselocale(previous);
                        freelocale(utf8);
                        return false;
                }
                break;
        case F_7Z:
                r = archive_write_set_format_7zip(a);
                break;
        default:
                r = archive_write_set_format_pax_restricted(a);
                break;
        }
        g_assert_cmpint(r, ==, ARCHIVE_OK);
        switch (format) {
        case F_TAR_GZ:
                r = archive_write_add_filter_gzip(a);
                break;
        case F_TAR_BZ2:
                r = archive_write_add_filter_bzip2(a);
                break;
        case F_TAR_XZ:
                r = archive_write_add_filter_xz(a);
                break;
        case F_TAR_ZST:
                r = archive_write_add_filter_zstd(a);
                break;
        default:
                break;
        }
        if (r == ARCHIVE_OK) {
                g_assert_cmpint(archive_write_open_filename(a, path), ==, ARCHIVE_OK);
                for (size_t i = 0; i < n; i++)
                        write_entry(a, &entries[i]);
                g_assert_cmpint(archive_write_close(a), ==, ARCHIVE_OK);
        }
        archive_write_free(a);
        uselocale(previous);
        freelocale(utf8);
        return r == ARCHIVE_OK;
}

static int extract_path_full(Fixture *f, const char *path, const ArchiveExtractOptions *opts,
                             ArchiveProgressFunc progress, void *userdata,
                             const volatile int *cancel, char **ret_error) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

        int r;

        g_assert_cmpint(fd, >=, 0);
        r = archive_extract(fd, f->dest_fd, opts, progress, userdata, cancel, ret_error);
        if (r < 0 && ret_error)
                g_test_message("archive_extract() = %i: %s", r, *ret_error);
        return r;
}

static int extract(Fixture *f, const ArchiveExtractOptions *opts, char **ret_error) {
        return extract_path_full(f, f->archive, opts, NULL, NULL, NULL, ret_error);
}

static void assert_message(const char *error, const char *entry, const char *reason) {
        g_autofree char *needle = NULL;

        g_assert_nonnull(error);
        g_assert_true(g_utf8_validate(error, -1, NULL));
        g_test_message("error: %s", error);
        if (entry) {
                needle = g_strdup_printf("entry '%s'", entry);
                if (!strstr(error, needle))
                        g_error("message \"%s\" does not name %s", error, needle);
        }
        if (reason && !strstr(error, reason))
                g_error("message \"%s\" does not give the reason \"%s\"", error, reason);
}

/* Expects the archive to fail with error, the message naming entry. */
static void assert_refused(Fixture *f, TFormat format, const TEntry *entries, size_t n,
                           int error, const char *entry, const char *reason) {
        g_autofree char *message = NULL;

        g_assert_true(make_archive(f->archive, format, entries, n));
        g_assert_cmpint(extract(f, NULL, &message), ==, error);
        assert_message(message, entry, reason);
}

static char *read_dest(Fixture *f, const char *rel) {
        g_autoptr(GError) error = NULL;
        g_autofree char *path = g_build_filename(f->dest, rel, NULL);
        char *contents = NULL;

        g_file_get_contents(path, &contents, NULL, &error);
        g_assert_no_error(error);
        return contents;
}

static char *read_link_dest(Fixture *f, const char *rel) {
        g_autoptr(GError) error = NULL;
        g_autofree char *path = g_build_filename(f->dest, rel, NULL);
        char *target = g_file_read_link(path, &error);

        g_assert_no_error(error);
        return target;
}

static mode_t mode_of(Fixture *f, const char *rel) {
        struct stat st;

        g_assert_cmpint(fstatat(f->dest_fd, rel, &st, AT_SYMLINK_NOFOLLOW), ==, 0);
        return st.st_mode;
}

static bool exists_dest(Fixture *f, const char *rel) {
        struct stat st;
        return fstatat(f->dest_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

#define CONTENTS_IS(f, rel, expected) G_STMT_START {          \
                g_autofree char *_c = read_dest((f), (rel));  \
                g_assert_cmpstr(_c, ==, (expected));          \
        } G_STMT_END

static const TEntry happy_entries[] = {
        { T_DIR, "./" },
        { T_DIR, "top/" },
        { T_DIR, "top/sub/" },
        { T_FILE, "top/a.txt", "hello\n" },
        { T_FILE, "top/sub/run.sh", "#!/bin/sh\n", 0755 },
        { T_FILE, "top/deep/implicit/dirs.txt", "made on the way\n" },
        { T_SYMLINK, "top/link", "sub/run.sh" },
        { T_SYMLINK, "top/sub/up", "../a.txt" },
        { T_SYMLINK, "top/root", ".." },
};

static void check_happy(TFormat format) {
        g_auto(Fixture) f = { 0 };
        g_autofree char *message = NULL;
        g_autofree char *l1 = NULL, *l2 = NULL, *l3 = NULL;

        fixture_setup(&f);
        if (!make_archive(f.archive, format, happy_entries, G_N_ELEMENTS(happy_entries))) {
                g_test_skip("this libarchive cannot write the format");
                return;
        }
        g_assert_cmpint(extract(&f, NULL, &message), ==, 0);
        g_assert_null(message);

        CONTENTS_IS(&f, "top/a.txt", "hello\n");
        CONTENTS_IS(&f, "top/sub/run.sh", "#!/bin/sh\n");
        CONTENTS_IS(&f, "top/deep/implicit/dirs.txt", "made on the way\n");
        CONTENTS_IS(&f, "top/link", "#!/bin/sh\n");      /* followed by us, reading */
        CONTENTS_IS(&f, "top/sub/up", "hello\n");
        l1 = read_link_dest(&f, "top/link");
        l2 = read_link_dest(&f, "top/sub/up");
        l3 = read_link_dest(&f, "top/root");
        g_assert_cmpstr(l1, ==, "sub/run.sh");
        g_assert_cmpstr(l2, ==, "../a.txt");
        g_assert_cmpstr(l3, ==, "..");
        g_assert_cmpuint(mode_of(&f, "top/a.txt") & 07777, ==, 0644);
        g_assert_cmpuint(mode_of(&f, "top/sub/run.sh") & 07777, ==, 0755);
        g_assert_cmpuint(mode_of(&f, "top/deep") & 07777, ==, 0755);
        g_assert_true(S_ISDIR(mode_of(&f, "top/deep/implicit")));
}

static void test_happy_tar_gz(void) {
        check_happy(F_TAR_GZ);
}

static void test_happy_tar(void) {
        check_happy(F_TAR);
}

static void test_happy_tar_bz2(void) {
        check_happy(F_TAR_BZ2);
}

static void test_happy_tar_xz(void) {
        check_happy(F_TAR_XZ);
}

static void test_happy_tar_zst(void) {
        check_happy(F_TAR_ZST);
}

static void test_happy_zip(void) {
        check_happy(F_ZIP);
}

static void test_happy_7z(void) {
        check_happy(F_7Z);
}

static void test_mtime_kept(void) {
        g_auto(Fixture) f = { 0 };
        const TEntry entries[] = { { T_FILE, "f", "x" } };

        fixture_setup(&f);
        g_assert_true(make_archive(f.archive, F_TAR_GZ, entries, G_N_ELEMENTS(entries)));
        g_assert_cmpint(extract(&f, NULL, NULL), ==, 0);
        {
                struct stat st;
                g_assert_cmpint(fstatat(f.dest_fd, "f", &st, AT_SYMLINK_NOFOLLOW), ==, 0);
                g_assert_cmpint(st.st_mtim.tv_sec, ==, 1700000000);
        }
}

static void test_subdir_strip(void) {
        g_auto(Fixture) f = { 0 };
        const TEntry entries[] = {
                { T_DIR, "pkg-1.0/" },
                { T_DIR, "pkg-1.0/addons/" },
                { T_FILE, "pkg-1.0/addons/map.vpk", "vpk" },
                { T_SYMLINK, "pkg-1.0/addons/alias.vpk", "map.vpk" },
                /* climbs out of the subdirectory but not out of the overlay */
                { T_SYMLINK, "pkg-1.0/cfg", "../../cfg" },
        };
        ArchiveExtractOptions opts = { .subdir = "left4dead2//./mods", .strip_components = 1 };
        g_autofree char *message = NULL, *link = NULL;

        fixture_setup(&f);
        g_assert_true(make_archive(f.archive, F_ZIP, entries, G_N_ELEMENTS(entries)));
        g_assert_cmpint(extract(&f, &opts, &message), ==, 0);
        CONTENTS_IS(&f, "left4dead2/mods/addons/map.vpk", "vpk");
        CONTENTS_IS(&f, "left4dead2/mods/addons/alias.vpk", "vpk");
        link = read_link_dest(&f, "left4dead2/mods/cfg");
        g_assert_cmpstr(link, ==, "../../cfg");
        g_assert_false(exists_dest(&f, "pkg-1.0"));
        g_assert_cmpuint(mode_of(&f, "left4dead2/mods") & 07777, ==, 0755);

        /* One more level up than the subdirectory has leaves the overlay. */
        {
                const TEntry out[] = { { T_SYMLINK, "pkg-1.0/cfg", "../../../cfg" } };
                g_clear_pointer(&message, g_free);
                g_assert_true(make_archive(f.archive, F_TAR, out, G_N_ELEMENTS(out)));
                g_assert_cmpint(extract(&f, &opts, &message), ==, -EPERM);
                assert_message(message, "pkg-1.0/cfg", "leaves the overlay");
        }
}

static void test_subdir_invalid(void) {
        g_auto(Fixture) f = { 0 };
        const TEntry entries[] = { { T_FILE, "x", "x" } };
        const char *const bad[] = { "../outside", "/etc", "a/../../outside" };

        fixture_setup(&f);
        g_assert_true(make_archive(f.archive, F_TAR, entries, G_N_ELEMENTS(entries)));
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                ArchiveExtractOptions opts = { .subdir = bad[i] };
                g_autofree char *message = NULL;

                g_assert_cmpint(extract(&f, &opts, &message), ==, -EINVAL);
                assert_message(message, NULL, "subdirectory");
        }

        /* A subdirectory through a symlink planted in the destination. */
        g_assert_cmpint(symlinkat("../outside", f.dest_fd, "planted"), ==, 0);
        {
                ArchiveExtractOptions opts = { .subdir = "planted/sub" };
                g_autofree char *message = NULL;

                g_assert_cmpint(extract(&f, &opts, &message), ==, -EPERM);
                assert_message(message, NULL, "symlink 'planted'");
        }
}

static void test_strip_leaves_nothing(void) {
        g_auto(Fixture) f = { 0 };
        const TEntry entries[] = {
                { T_DIR, "top/" },
                { T_FILE, "top/ok", "ok" },
                { T_FILE, "README", "stray" },
        };
        ArchiveExtractOptions opts = { .strip_components = 1 };

        fixture_setup(&f);
        g_autofree char *message = NULL;
        g_assert_true(make_archive(f.archive, F_TAR, entries, G_N_ELEMENTS(entries)));
        g_assert_cmpint(extract(&f, &opts, &message), ==, -EPERM);
        assert_message(message, "README", "no name left after stripping 1");
}

static void test_overwrite(void) {
        g_auto(Fixture) f = { 0 };
        const TEntry entries[] = {
                { T_FILE, "a", "one" },
                { T_FILE, "a", "two" },
                { T_FILE, "b", "file first" },
                { T_SYMLINK, "b", "a" },
                { T_SYMLINK, "c", "a" },
                { T_FILE, "c", "file replaces link" },
                { T_FILE, "planted", "replaces the planted link" },
                { T_FILE, "d", "a file" },
                { T_DIR, "d/" },
                { T_FILE, "d/inside", "in d" },
        };
        g_autofree char *message = NULL, *link = NULL;

        fixture_setup(&f);
        /* As if the destination held a link to the outside: it is replaced,
         * never written through. */
        g_assert_cmpint(symlinkat("../outside/target", f.dest_fd, "planted"), ==, 0);
        g_assert_true(make_archive(f.archive, F_TAR_GZ, entries, G_N_ELEMENTS(entries)));
        g_assert_cmpint(extract(&f, NULL, &message), ==, 0);
        CONTENTS_IS(&f, "a", "two");
        link = read_link_dest(&f, "b");
        g_assert_cmpstr(link, ==, "a");
        g_assert_true(S_ISREG(mode_of(&f, "c")));
        CONTENTS_IS(&f, "c", "file replaces link");
        g_assert_true(S_ISREG(mode_of(&f, "planted")));
        CONTENTS_IS(&f, "planted", "replaces the planted link");
        CONTENTS_IS(&f, "d/inside", "in d");

        /* A file does not replace a directory. */
        {
                const TEntry clash[] = { { T_FILE, "d", "clash" } };
                g_clear_pointer(&message, g_free);
                g_assert_true(make_archive(f.archive, F_TAR, clash, G_N_ELEMENTS(clash)));
                g_assert_cmpint(extract(&f, NULL, &message), ==, -EISDIR);
                assert_message(message, "d", "directory");
                CONTENTS_IS(&f, "d/inside", "in d");
        }
}

static void test_zip_slip(void) {
        const char *const paths[] = { "../../etc/x", "../outside/target", "a/../../outside/target", "ok/../x" };
        const TFormat formats[] = { F_TAR_GZ, F_ZIP };

        for (size_t i = 0; i < G_N_ELEMENTS(paths); i++)
                for (size_t j = 0; j < G_N_ELEMENTS(formats); j++) {
                        g_auto(Fixture) f = { 0 };
                        const TEntry entries[] = {
                                { T_FILE, "fine", "fine" },
                                { T_FILE, paths[i], "pwned" },
                        };

                        fixture_setup(&f);
                        assert_refused(&f, formats[j], entries, G_N_ELEMENTS(entries), -EPERM, paths[i],
                                       "contains '..' and would leave the overlay");
                }
}

static void test_absolute_path(void) {
        g_auto(Fixture) f = { 0 };
        g_autofree char *abs = NULL;

        fixture_setup(&f);
        {
                const TEntry entries[] = { { T_FILE, "/etc/x", "pwned" } };
                assert_refused(&f, F_TAR, entries, G_N_ELEMENTS(entries), -EPERM, "/etc/x", "is absolute");
        }
        abs = g_build_filename(f.outside, "target", NULL);
        {
                const TEntry entries[] = { { T_FILE, abs, "pwned" } };
                assert_refused(&f, F_ZIP, entries, G_N_ELEMENTS(entries), -EPERM, abs, "is absolute");
        }
}

static void test_symlink_absolute_then_through(void) {
        g_auto(Fixture) f = { 0 };
        g_autofree char *outside_abs = NULL;

        fixture_setup(&f);
        outside_abs = g_strdup(f.outside);
        {
                const TEntry entries[] = {
                        { T_SYMLINK, "link", "/etc" },
                        { T_FILE, "link/x", "pwned" },
                };
                assert_refused(&f, F_TAR_GZ, entries, G_N_ELEMENTS(entries), -EPERM, "link",
                               "symlink target '/etc' is absolute");
        }
        {
                const TEntry entries[] = {
                        { T_SYMLINK, "link", outside_abs },
                        { T_FILE, "link/target", "pwned" },
                };
                assert_refused(&f, F_ZIP, entries, G_N_ELEMENTS(entries), -EPERM, "link", "is absolute");
        }
        /* Relative, but out of the tree. */
        {
                const TEntry entries[] = {
                        { T_SYMLINK, "link", "../outside" },
                        { T_FILE, "link/target", "pwned" },
                };
                assert_refused(&f, F_TAR, entries, G_N_ELEMENTS(entries), -EPERM, "link", "leaves the overlay");
        }
        g_assert_false(exists_dest(&f, "link"));
}

static void test_path_through_symlink(void) {
        g_auto(Fixture) f = { 0 };

        fixture_setup(&f);
        /* A link inside the tree is fine, but never traversed by a later entry. */
        {
                const TEntry entries[] = {
                        { T_DIR, "real/" },
                        { T_SYMLINK, "alias", "real" },
                        { T_FILE, "alias/x", "through a link" },
                };
                assert_refused(&f, F_TAR_GZ, entries, G_N_ELEMENTS(entries), -EPERM, "alias/x",
                               "path goes through the symlink 'alias'");
                g_assert_false(exists_dest(&f, "real/x"));
        }
        /* Nor is one planted in the destination by someone else. */
        g_assert_cmpint(symlinkat("../outside", f.dest_fd, "planted"), ==, 0);
        {
                const TEntry entries[] = { { T_FILE, "planted/target", "pwned" } };
                assert_refused(&f, F_ZIP, entries, G_N_ELEMENTS(entries), -EPERM, "planted/target",
                               "symlink 'planted'");
        }
        /* A file is not a directory either. */
        {
                const TEntry entries[] = {
                        { T_FILE, "file", "x" },
                        { T_FILE, "file/y", "y" },
                };
                assert_refused(&f, F_TAR, entries, G_N_ELEMENTS(entries), -ENOTDIR, "file/y", "not a directory");
        }
}

static void test_two_hop_chain(void) {
        g_auto(Fixture) f = { 0 };

        fixture_setup(&f);
        /* a → b is harmless alone; b → ../../.. is not. */
        {
                const TEntry entries[] = {
                        { T_SYMLINK, "a", "b" },
                        { T_SYMLINK, "b", "../../.." },
                        { T_FILE, "a/etc/x", "pwned" },
                };
                assert_refused(&f, F_TAR_GZ, entries, G_N_ELEMENTS(entries), -EPERM, "b", "leaves the overlay");
        }
        /* Lexically inside, but "sub/up" is a link to the root, so the
         * kernel would resolve "sub/up/../.." above it. */
        {
                const TEntry entries[] = {
                        { T_DIR, "sub/" },
                        { T_SYMLINK, "sub/up", ".." },
                        { T_SYMLINK, "escape", "sub/up/../.." },
                };
                assert_refused(&f, F_ZIP, entries, G_N_ELEMENTS(entries), -EPERM, "escape", "'..' after a name");
        }
        /* A chain of in-tree links with only leading ".." stays inside. */
        {
                g_autofree char *message = NULL;
                const TEntry entries[] = {
                        { T_DIR, "x/y/" },
                        { T_SYMLINK, "x/y/up", "../.." },
                        { T_SYMLINK, "x/hop", "y/up" },
                        { T_SYMLINK, "hop2", "x/hop" },
                };
                g_assert_true(make_archive(f.archive, F_TAR, entries, G_N_ELEMENTS(entries)));
                g_assert_cmpint(extract(&f, NULL, &message), ==, 0);
                g_assert_true(g_file_test(f.dest, G_FILE_TEST_IS_DIR));
        }
}

static void test_hardlinks(void) {
        g_auto(Fixture) f = { 0 };
        g_autofree char *abs = NULL;

        fixture_setup(&f);
        {
                const TEntry entries[] = { { T_HARDLINK, "shadow", "/etc/shadow" } };
                assert_refused(&f, F_TAR, entries, G_N_ELEMENTS(entries), -EPERM, "shadow",
                               "hardlink target '/etc/shadow' is absolute");
        }
        abs = g_build_filename(f.outside, "target", NULL);
        {
                const TEntry entries[] = { { T_HARDLINK, "t", abs } };
                assert_refused(&f, F_TAR_GZ, entries, G_N_ELEMENTS(entries), -EPERM, "t", "is absolute");
        }
        {
                const TEntry entries[] = { { T_HARDLINK, "t", "../outside/target" } };
                assert_refused(&f, F_TAR, entries, G_N_ELEMENTS(entries), -EPERM, "t", "contains '..'");
        }
        /* Not extracted in this run, although it exists in the destination. */
        g_assert_cmpint(symlinkat("../outside/target", f.dest_fd, "planted"), ==, 0);
        {
                const TEntry entries[] = { { T_HARDLINK, "t", "planted" } };
                assert_refused(&f, F_TAR, entries, G_N_ELEMENTS(entries), -EPERM, "t",
                               "not a file extracted earlier");
        }
        /* A symlink from this archive is not a regular file. */
        {
                const TEntry entries[] = {
                        { T_SYMLINK, "l", "x" },
                        { T_HARDLINK, "t", "l" },
                };
                assert_refused(&f, F_TAR, entries, G_N_ELEMENTS(entries), -EPERM, "t",
                               "not a file extracted earlier");
        }
        /* A file that was replaced by a link since does not count either. */
        {
                const TEntry entries[] = {
                        { T_FILE, "f", "x" },
                        { T_SYMLINK, "f", "../outside/target" },
                        { T_HARDLINK, "t", "f" },
                };
                assert_refused(&f, F_TAR, entries, G_N_ELEMENTS(entries), -EPERM, "f", "leaves the overlay");
        }
        {
                const TEntry entries[] = { { T_HARDLINK, "t", "nothing/here" } };
                assert_refused(&f, F_TAR, entries, G_N_ELEMENTS(entries), -EPERM, "t",
                               "not a file extracted earlier");
        }
}

static void test_hardlink_inside(void) {
        g_auto(Fixture) f = { 0 };
        const TEntry entries[] = {
                { T_FILE, "top/a", "shared" },
                { T_HARDLINK, "top/sub/b", "top/a" },
                { T_HARDLINK, "top/a", "top/a" },
        };
        ArchiveExtractOptions opts = { .strip_components = 1 };
        g_autofree char *message = NULL;
        struct stat a, b;

        fixture_setup(&f);
        g_assert_true(make_archive(f.archive, F_TAR_GZ, entries, G_N_ELEMENTS(entries)));
        g_assert_cmpint(extract(&f, &opts, &message), ==, 0);
        g_assert_cmpint(fstatat(f.dest_fd, "a", &a, AT_SYMLINK_NOFOLLOW), ==, 0);
        g_assert_cmpint(fstatat(f.dest_fd, "sub/b", &b, AT_SYMLINK_NOFOLLOW), ==, 0);
        g_assert_cmpuint(a.st_ino, ==, b.st_ino);
        g_assert_cmpuint(a.st_nlink, ==, 2);
        CONTENTS_IS(&f, "sub/b", "shared");
}

static void test_special_files(void) {
        const struct {
                TType type;
                const char *reason;
        } cases[] = {
                { T_CHR, "character device" },
                { T_BLK, "block device" },
                { T_FIFO, "fifos" },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_auto(Fixture) f = { 0 };
                const TEntry entries[] = {
                        { T_FILE, "ok", "fine" },
                        { cases[i].type, "dev/node" },
                };

                fixture_setup(&f);
                assert_refused(&f, F_TAR_GZ, entries, G_N_ELEMENTS(entries), -EPERM, "dev/node", cases[i].reason);
                g_assert_false(exists_dest(&f, "dev/node"));
        }
}

static void test_zeros_bomb(void) {
        g_auto(Fixture) f = { 0 };
        const TEntry entries[] = { { T_ZEROS, "zeros", NULL, 0, UINT64_C(64) << 20 } };
        ArchiveExtractOptions opts = { .limits.max_bytes = UINT64_C(1) << 20 };
        g_autofree char *message = NULL;
        struct stat st;

        fixture_setup(&f);
        g_assert_true(make_archive(f.archive, F_TAR_GZ, entries, G_N_ELEMENTS(entries)));
        g_assert_cmpint(stat(f.archive, &st), ==, 0);
        g_assert_cmpint(st.st_size, <, 1 << 20);
        g_assert_cmpint(extract(&f, &opts, &message), ==, -EFBIG);
        assert_message(message, "zeros", "MaxBytes");
        g_assert_cmpint(fstatat(f.dest_fd, "zeros", &st, AT_SYMLINK_NOFOLLOW), ==, 0);
        g_assert_cmpint(st.st_size, <=, 1 << 20);
}

static void test_total_cap_across_entries(void) {
        g_auto(Fixture) f = { 0 };
        const TEntry entries[] = {
                { T_PATTERN, "one", NULL, 0, 400 * 1024 },
                { T_PATTERN, "two", NULL, 0, 400 * 1024 },
                { T_PATTERN, "three", NULL, 0, 400 * 1024 },
        };
        ArchiveExtractOptions opts = { .limits.max_bytes = UINT64_C(1) << 20 };
        g_autofree char *message = NULL;

        fixture_setup(&f);
        g_assert_true(make_archive(f.archive, F_ZIP, entries, G_N_ELEMENTS(entries)));
        g_assert_cmpint(extract(&f, &opts, &message), ==, -EFBIG);
        assert_message(message, "three", "MaxBytes");
}

/* The owner's storage quota: its own error, checked like the other caps. */
static void test_budget(void) {
        g_auto(Fixture) f = { 0 };
        const TEntry entries[] = {
                { T_PATTERN, "one", NULL, 0, 400 * 1024 },
                { T_PATTERN, "two", NULL, 0, 400 * 1024 },
        };
        ArchiveExtractOptions opts = { .limits.has_budget = true, .limits.budget_bytes = 600 * 1024 };
        g_autofree char *message = NULL;

        fixture_setup(&f);
        g_assert_true(make_archive(f.archive, F_ZIP, entries, G_N_ELEMENTS(entries)));
        g_assert_cmpint(extract(&f, &opts, &message), ==, -EDQUOT);
        assert_message(message, "two", "storage quota");
}

static void test_budget_fits(void) {
        g_auto(Fixture) f = { 0 };
        const TEntry entries[] = { { T_PATTERN, "one", NULL, 0, 400 * 1024 } };
        ArchiveExtractOptions opts = { .limits.has_budget = true, .limits.budget_bytes = 400 * 1024 };
        g_autofree char *message = NULL;

        fixture_setup(&f);
        g_assert_true(make_archive(f.archive, F_ZIP, entries, G_N_ELEMENTS(entries)));
        g_assert_cmpint(extract(&f, &opts, &message), ==, 0);
}

static void test_entry_cap(void) {
        g_auto(Fixture) f = { 0 };
        const TEntry entries[] = {
                { T_ZEROS, "small", NULL, 0, 512 * 1024 },
                { T_ZEROS, "big", NULL, 0, 2 * 1024 * 1024 },
        };
        ArchiveExtractOptions opts = { .limits.max_entry_bytes = UINT64_C(1) << 20 };
        g_autofree char *message = NULL;
        struct stat st;

        fixture_setup(&f);
        g_assert_true(make_archive(f.archive, F_7Z, entries, G_N_ELEMENTS(entries)));
        g_assert_cmpint(extract(&f, &opts, &message), ==, -EFBIG);
        assert_message(message, "big", "MaxEntryBytes");
        g_assert_cmpint(fstatat(f.dest_fd, "big", &st, AT_SYMLINK_NOFOLLOW), ==, 0);
        g_assert_cmpint(st.st_size, <=, 1 << 20);
}

static void test_many_entries(void) {
        g_auto(Fixture) f = { 0 };
        const unsigned n = 200000;
        g_autofree TEntry *entries = g_new0(TEntry, n);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        ArchiveExtractOptions opts = { .limits.max_entries = 1000 };
        g_autofree char *message = NULL;
        gint64 start = g_get_monotonic_time();

        fixture_setup(&f);
        for (unsigned i = 0; i < n; i++) {
                char *name = g_strdup_printf("d/f%06u", i);
                g_ptr_array_add(names, name);
                entries[i] = (TEntry) { T_FILE, name, "" };
        }
        g_assert_true(make_archive(f.archive, F_TAR_GZ, entries, n));
        g_test_message("wrote %u entries in %" G_GINT64_FORMAT " ms", n, (g_get_monotonic_time() - start) / 1000);

        start = g_get_monotonic_time();
        g_assert_cmpint(extract(&f, &opts, &message), ==, -E2BIG);
        assert_message(message, "d/f001000", "MaxEntries");
        g_test_message("refused after %" G_GINT64_FORMAT " ms", (g_get_monotonic_time() - start) / 1000);
        g_assert_true(exists_dest(&f, "d/f000999"));
        g_assert_false(exists_dest(&f, "d/f001000"));
}

static void test_sparse(void) {
        g_auto(Fixture) f = { 0 };
        const uint64_t size = UINT64_C(4) << 20;
        const TEntry entries[] = { { T_SPARSE, "sparse", NULL, 0, size } };
        g_autofree char *message = NULL;
        g_autofree char *contents = NULL;
        g_autofree char *path = NULL;
        g_autoptr(GError) error = NULL;
        gsize len = 0;
        struct stat st;

        fixture_setup(&f);
        g_assert_true(make_archive(f.archive, F_TAR, entries, G_N_ELEMENTS(entries)));
        g_assert_cmpint(stat(f.archive, &st), ==, 0);
        if (st.st_size > (off_t) (size / 2)) {
                g_test_skip("this libarchive does not write sparse tar entries");
                return;
        }

        g_assert_cmpint(extract(&f, NULL, &message), ==, 0);
        path = g_build_filename(f.dest, "sparse", NULL);
        g_file_get_contents(path, &contents, &len, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(len, ==, size);
        g_assert_cmpint(contents[0], ==, 'A');
        g_assert_cmpint(contents[4095], ==, 'A');
        g_assert_cmpint(contents[4096], ==, 0);
        g_assert_cmpint(contents[size / 2], ==, 0);
        g_assert_cmpint(contents[size - 4097], ==, 0);
        g_assert_cmpint(contents[size - 4096], ==, 'B');
        g_assert_cmpint(contents[size - 1], ==, 'B');

        /* Holes count as written. */
        {
                ArchiveExtractOptions opts = { .limits.max_entry_bytes = UINT64_C(1) << 20 };
                g_clear_pointer(&message, g_free);
                g_assert_cmpint(extract(&f, &opts, &message), ==, -EFBIG);
                assert_message(message, "sparse", "MaxEntryBytes");
        }
}

static void make_happy(Fixture *f, TFormat format) {
        g_assert_true(make_archive(f->archive, format, happy_entries, G_N_ELEMENTS(happy_entries)));
}

static void test_truncated(void) {
        const TFormat formats[] = { F_TAR_GZ, F_TAR, F_ZIP, F_7Z, F_TAR_XZ };

        for (size_t i = 0; i < G_N_ELEMENTS(formats); i++) {
                g_auto(Fixture) f = { 0 };
                const TEntry entries[] = {
                        { T_FILE, "first", "first" },
                        { T_PATTERN, "big", NULL, 0, 256 * 1024 },
                        { T_FILE, "last", "last" },
                };
                g_autofree char *message = NULL;
                struct stat st;

                fixture_setup(&f);
                g_assert_true(make_archive(f.archive, formats[i], entries, G_N_ELEMENTS(entries)));
                g_assert_cmpint(stat(f.archive, &st), ==, 0);
                g_assert_cmpint(truncate(f.archive, st.st_size / 2), ==, 0);

                g_assert_cmpint(extract(&f, NULL, &message), ==, -EBADMSG);
                g_test_message("format %zu", i);
                assert_message(message, NULL, NULL);
                /* Entry-wise formats fail in "big"; the others cannot find their index. */
                if (formats[i] == F_TAR_GZ || formats[i] == F_TAR || formats[i] == F_TAR_XZ)
                        assert_message(message, "big", NULL);
                g_assert_false(exists_dest(&f, "last"));
        }
}

static void test_not_an_archive(void) {
        g_auto(Fixture) f = { 0 };
        g_autoptr(GError) error = NULL;
        g_autoptr(GRand) rand = g_rand_new_with_seed(42);
        uint8_t random_bytes[16384];
        const char *text = "This is not an archive.\nJust some text, with a newline.\n";

        fixture_setup(&f);
        for (size_t i = 0; i < sizeof(random_bytes); i++)
                random_bytes[i] = (uint8_t) g_rand_int(rand);

        const struct {
                const void *data;
                size_t len;
                const char *reason;
        } cases[] = {
                { random_bytes, sizeof(random_bytes), "not a supported archive" },
                { text, strlen(text), "not a supported archive" },
                { "\x1f\x8b", 2, NULL },  /* a gzip magic and nothing else */
        };
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *message = NULL;

                g_file_set_contents(f.archive, cases[i].data, (gssize) cases[i].len, &error);
                g_assert_no_error(error);
                g_assert_cmpint(extract(&f, NULL, &message), ==, -EBADMSG);
                assert_message(message, NULL, cases[i].reason);
        }

        /* A gzip-compressed text file is not an archive either. */
        {
                g_autofree char *message = NULL;
                g_autofree char *cmd = g_strdup_printf("printf 'hello\\n' | gzip -c > '%s'", f.archive);
                g_assert_cmpint(system(cmd), ==, 0);
                g_assert_cmpint(extract(&f, NULL, &message), ==, -EBADMSG);
                assert_message(message, NULL, "not a supported archive");
        }

        /* A directory as the archive. */
        {
                g_autofree char *message = NULL;
                _cleanup_close_ int fd = open(f.outside, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                g_assert_cmpint(archive_extract(fd, f.dest_fd, NULL, NULL, NULL, NULL, &message), ==, -EISDIR);
                assert_message(message, NULL, "directory");
        }

        /* Nothing was created. */
        {
                g_autoptr(GDir) dir = g_dir_open(f.dest, 0, &error);
                g_assert_no_error(error);
                g_assert_null(g_dir_read_name(dir));
        }
}

static void test_empty_input(void) {
        g_auto(Fixture) f = { 0 };
        g_autoptr(GError) error = NULL;
        g_autofree char *message = NULL;

        fixture_setup(&f);
        g_file_set_contents(f.archive, "", 0, &error);
        g_assert_no_error(error);
        g_assert_cmpint(extract(&f, NULL, &message), ==, -EBADMSG);
        assert_message(message, NULL, "the archive is empty");

        /* Nor from a pipe closed right away. */
        {
                int p[2];
                g_clear_pointer(&message, g_free);
                g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
                close(p[1]);
                g_assert_cmpint(archive_extract(p[0], f.dest_fd, NULL, NULL, NULL, NULL, &message), ==, -EBADMSG);
                close(p[0]);
                assert_message(message, NULL, "the archive is empty");
        }
}

static void test_encrypted(void) {
        g_auto(Fixture) f = { 0 };
        const TEntry entries[] = { { T_FILE, "secret.txt", "hidden" } };
        g_autofree char *message = NULL;

        fixture_setup(&f);
        if (!make_archive(f.archive, F_ZIP_ENCRYPTED, entries, G_N_ELEMENTS(entries))) {
                g_test_skip("this libarchive cannot write encrypted zip files");
                return;
        }
        g_assert_cmpint(extract(&f, NULL, &message), ==, -EOPNOTSUPP);
        assert_message(message, "secret.txt", "encrypted");
        g_assert_false(exists_dest(&f, "secret.txt"));
}

/* An archive that yields no entry is refused: replacing an overlay's
 * content with it would wipe the overlay. Zeros read as an empty tar. */
static void test_no_entries(void) {
        const TFormat formats[] = { F_TAR_GZ, F_TAR, F_ZIP, F_7Z };
        g_auto(Fixture) f = { 0 };
        g_autoptr(GError) error = NULL;
        g_autofree char *zeros = g_malloc0(1 << 20);

        fixture_setup(&f);
        for (size_t i = 0; i < G_N_ELEMENTS(formats); i++) {
                g_autofree char *message = NULL;

                g_assert_true(make_archive(f.archive, formats[i], NULL, 0));
                g_assert_cmpint(extract(&f, NULL, &message), ==, -EBADMSG);
                assert_message(message, NULL, "no entries");
        }
        g_file_set_contents(f.archive, zeros, 1 << 20, &error);
        g_assert_no_error(error);
        {
                g_autofree char *message = NULL;
                g_assert_cmpint(extract(&f, NULL, &message), ==, -EBADMSG);
                assert_message(message, NULL, "not an archive");
        }
        /* Nothing but directories that strip_components removes. */
        {
                const TEntry entries[] = { { T_DIR, "pkg/" }, { T_DIR, "pkg2/" } };
                const ArchiveExtractOptions opts = { .strip_components = 1 };
                g_autofree char *message = NULL;

                g_assert_true(make_archive(f.archive, F_TAR, entries, G_N_ELEMENTS(entries)));
                g_assert_cmpint(extract(&f, &opts, &message), ==, -EBADMSG);
                assert_message(message, NULL, "nothing to import");
        }
}

typedef struct ProgressCall {
        uint64_t v[3];            /* bytes_in, bytes_written, entries */
} ProgressCall;

typedef struct ProgressLog {
        GArray *calls;            /* ProgressCall */
        volatile int *cancel;     /* set after cancel_after calls, if not NULL */
        unsigned cancel_after;
} ProgressLog;

static void progress_cb(uint64_t bytes_in, uint64_t bytes_written, uint64_t entries, void *userdata) {
        ProgressLog *log = userdata;
        ProgressCall c = { { bytes_in, bytes_written, entries } };

        g_array_append_val(log->calls, c);
        if (log->cancel && log->calls->len >= log->cancel_after)
                *log->cancel = 1;
}

static const TEntry cancel_entries[] = {
        { T_PATTERN, "a", NULL, 0, 1 << 20 },
        { T_PATTERN, "b", NULL, 0, 1 << 20 },
};

static void test_cancel_before(void) {
        g_auto(Fixture) f = { 0 };
        volatile int cancel = 1;

        fixture_setup(&f);
        g_assert_true(make_archive(f.archive, F_TAR_GZ, cancel_entries, G_N_ELEMENTS(cancel_entries)));
        {
                g_autofree char *message = NULL;
                g_assert_cmpint(extract_path_full(&f, f.archive, NULL, NULL, NULL, &cancel, &message), ==, -ECANCELED);
                assert_message(message, NULL, "cancelled");
                g_assert_false(exists_dest(&f, "a"));
        }
}

/* Set from the progress callback (another thread in real use), mid-entry. */
static void test_cancel_during(void) {
        g_auto(Fixture) f = { 0 };
        volatile int cancel = 0;

        fixture_setup(&f);
        g_assert_true(make_archive(f.archive, F_ZIP, cancel_entries, G_N_ELEMENTS(cancel_entries)));
        {
                g_autofree char *message = NULL;
                g_autoptr(GArray) calls = g_array_new(FALSE, FALSE, sizeof(ProgressCall));
                ProgressLog log = { .calls = calls, .cancel = &cancel, .cancel_after = 2 };

                g_assert_cmpint(extract_path_full(&f, f.archive, NULL, progress_cb, &log, &cancel, &message),
                                ==, -ECANCELED);
                assert_message(message, NULL, "cancelled");
                g_assert_cmpuint(calls->len, ==, 2);
                g_assert_false(exists_dest(&f, "b"));
        }
}

typedef struct Canceller {
        volatile int *cancel;
} Canceller;

static gpointer canceller_thread(gpointer userdata) {
        Canceller *c = userdata;

        g_usleep(200 * 1000);
        *c->cancel = 1;
        return NULL;
}

/* A sender that stalls mid-archive on a blocking pipe cannot keep a
 * cancellation from being noticed. */
static void test_cancel_stalled_pipe(void) {
        g_auto(Fixture) f = { 0 };
        g_autoptr(GError) error = NULL;
        g_autofree char *archive = NULL, *message = NULL;
        volatile int cancel = 0;
        Canceller c = { .cancel = &cancel };
        gsize len = 0;
        GThread *thread;
        int p[2];

        fixture_setup(&f);
        g_assert_true(make_archive(f.archive, F_TAR, cancel_entries, G_N_ELEMENTS(cancel_entries)));
        g_file_get_contents(f.archive, &archive, &len, &error);
        g_assert_no_error(error);

        g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
        g_assert_cmpint(write(p[1], archive, 4096), ==, 4096);  /* a header and a bit, then nothing */
        thread = g_thread_new("canceller", canceller_thread, &c);
        g_assert_cmpint(archive_extract(p[0], f.dest_fd, NULL, NULL, NULL, &cancel, &message), ==, -ECANCELED);
        g_thread_join(thread);
        close(p[0]);
        close(p[1]);
        assert_message(message, NULL, "cancelled");
}

static void test_modes(void) {
        g_auto(Fixture) f = { 0 };
        const TEntry entries[] = {
                { T_FILE, "suid", "x", 04777 },
                { T_FILE, "sgid", "x", 02755 },
                { T_FILE, "world", "x", 0666 },
                { T_FILE, "private", "x", 0600 },
                { T_FILE, "ownerx", "x", 0700 },
                { T_FILE, "none", "x", 0000 },
                { T_DIR, "sticky/", NULL, 01777 },
                { T_DIR, "closed/", NULL, 0000 },
                { T_FILE, "closed/inside", "x", 0400 },
        };
        g_autofree char *message = NULL;
        mode_t old_umask;

        fixture_setup(&f);
        g_assert_true(make_archive(f.archive, F_TAR_GZ, entries, G_N_ELEMENTS(entries)));
        old_umask = umask(077);  /* modes are set explicitly, not left to the umask */
        g_assert_cmpint(extract(&f, NULL, &message), ==, 0);
        umask(old_umask);

        g_assert_cmpuint(mode_of(&f, "suid") & 07777, ==, 0755);
        g_assert_cmpuint(mode_of(&f, "sgid") & 07777, ==, 0755);
        g_assert_cmpuint(mode_of(&f, "world") & 07777, ==, 0644);
        g_assert_cmpuint(mode_of(&f, "private") & 07777, ==, 0644);
        g_assert_cmpuint(mode_of(&f, "ownerx") & 07777, ==, 0744);
        g_assert_cmpuint(mode_of(&f, "none") & 07777, ==, 0644);
        g_assert_cmpuint(mode_of(&f, "sticky") & 07777, ==, 0755);
        g_assert_cmpuint(mode_of(&f, "closed") & 07777, ==, 0755);
        g_assert_cmpuint(mode_of(&f, "closed/inside") & 07777, ==, 0644);
}

static void test_progress(void) {
        g_auto(Fixture) f = { 0 };
        const TEntry entries[] = {
                { T_DIR, "d/" },
                { T_PATTERN, "d/a", NULL, 0, 1 << 20 },
                { T_FILE, "d/b", "bee" },
                { T_PATTERN, "d/c", NULL, 0, 300 * 1024 },
        };
        g_autoptr(GArray) calls = g_array_new(FALSE, FALSE, sizeof(ProgressCall));
        ProgressLog log = { .calls = calls };
        g_autofree char *message = NULL;
        uint64_t prev[3] = { 0, 0, 0 };
        struct stat st;

        fixture_setup(&f);
        g_assert_true(make_archive(f.archive, F_TAR_GZ, entries, G_N_ELEMENTS(entries)));
        g_assert_cmpint(extract_path_full(&f, f.archive, NULL, progress_cb, &log, NULL, &message), ==, 0);

        g_assert_cmpuint(calls->len, >, G_N_ELEMENTS(entries));  /* per entry, and within the big ones */
        for (guint i = 0; i < calls->len; i++) {
                const uint64_t *v = g_array_index(calls, ProgressCall, i).v;
                for (unsigned k = 0; k < 3; k++)
                        g_assert_cmpuint(v[k], >=, prev[k]);
                g_assert_true(v[0] > prev[0] || v[1] > prev[1] || v[2] > prev[2]);
                memcpy(prev, v, sizeof(prev));
        }
        g_assert_cmpint(stat(f.archive, &st), ==, 0);
        g_assert_cmpuint(prev[0], ==, (uint64_t) st.st_size);
        g_assert_cmpuint(prev[1], ==, (1 << 20) + 3 + 300 * 1024);
        g_assert_cmpuint(prev[2], ==, G_N_ELEMENTS(entries));
}

typedef struct Feeder {
        int fd;
        char *path;
} Feeder;

static gpointer feeder_thread(gpointer userdata) {
        Feeder *feeder = userdata;
        _cleanup_close_ int in = open(feeder->path, O_RDONLY | O_CLOEXEC);
        char buf[4096];
        ssize_t n;

        g_assert_cmpint(in, >=, 0);
        /* Small writes, so that the reader sees short reads. */
        while ((n = read(in, buf, sizeof(buf))) > 0)
                if (write(feeder->fd, buf, (size_t) n) != n)
                        break;  /* the reader gave up: fine */
        l4m_close_fdp(&feeder->fd);
        return NULL;
}

static int extract_from_pipe(Fixture *f, bool nonblock, char **message) {
        int p[2];
        _cleanup_close_ int rd = -1;
        Feeder feeder;
        GThread *thread;
        int r;

        g_assert_cmpint(pipe2(p, O_CLOEXEC | (nonblock ? O_NONBLOCK : 0)), ==, 0);
        rd = p[0];
        if (nonblock)  /* only the reading end */
                g_assert_cmpint(fcntl(p[1], F_SETFL, 0), ==, 0);
        feeder = (Feeder) { .fd = p[1], .path = f->archive };
        thread = g_thread_new("feeder", feeder_thread, &feeder);
        r = archive_extract(rd, f->dest_fd, NULL, NULL, NULL, NULL, message);
        l4m_close_fdp(&rd);  /* unblocks the feeder if we stopped early */
        g_thread_join(thread);
        return r;
}

static void test_pipe(void) {
        g_auto(Fixture) f = { 0 };
        g_autofree char *l1 = NULL;

        fixture_setup(&f);
        make_happy(&f, F_TAR_GZ);
        for (int nonblock = 0; nonblock <= 1; nonblock++) {
                g_autofree char *message = NULL;

                g_assert_cmpint(rm_rf_at(f.dest_fd, "top"), >=, -ENOENT);
                g_assert_cmpint(extract_from_pipe(&f, nonblock, &message), ==, 0);
                CONTENTS_IS(&f, "top/a.txt", "hello\n");
                CONTENTS_IS(&f, "top/deep/implicit/dirs.txt", "made on the way\n");
        }

        /* zip and 7z too: a pipe is copied into a file first, and read as
         * one, so its answer is the file's. */
        for (TFormat format = F_ZIP; format <= F_7Z; format++) {
                g_autofree char *message = NULL;

                if (format == F_ZIP_ENCRYPTED)
                        continue;
                g_assert_cmpint(rm_rf_at(f.dest_fd, "top"), >=, -ENOENT);
                make_happy(&f, format);
                g_assert_cmpint(extract_from_pipe(&f, false, &message), ==, 0);
                CONTENTS_IS(&f, "top/sub/up", "hello\n");
                l1 = read_link_dest(&f, "top/link");
                g_assert_cmpstr(l1, ==, "sub/run.sh");
                g_clear_pointer(&l1, g_free);
        }
}

static void test_fd_offset(void) {
        const TFormat formats[] = { F_ZIP, F_7Z, F_TAR_GZ };

        for (size_t i = 0; i < G_N_ELEMENTS(formats); i++) {
                g_auto(Fixture) f = { 0 };
                g_autoptr(GError) error = NULL;
                g_autofree char *archive = NULL;
                g_autofree char *joined = NULL;
                g_autofree char *message = NULL;
                g_autofree char *prefixed = NULL;
                const char prefix[] = "some header the caller already consumed\n";
                gsize len = 0;
                _cleanup_close_ int fd = -1;

                fixture_setup(&f);
                make_happy(&f, formats[i]);
                g_file_get_contents(f.archive, &archive, &len, &error);
                g_assert_no_error(error);
                joined = g_malloc(sizeof(prefix) - 1 + len);
                memcpy(joined, prefix, sizeof(prefix) - 1);
                memcpy(joined + sizeof(prefix) - 1, archive, len);
                prefixed = g_strconcat(f.archive, ".prefixed", NULL);
                g_file_set_contents(prefixed, joined, (gssize) (sizeof(prefix) - 1 + len), &error);
                g_assert_no_error(error);

                fd = open(prefixed, O_RDONLY | O_CLOEXEC);
                g_assert_cmpint(fd, >=, 0);
                g_assert_cmpint(lseek(fd, sizeof(prefix) - 1, SEEK_SET), ==, (off_t) sizeof(prefix) - 1);
                g_assert_cmpint(archive_extract(fd, f.dest_fd, NULL, NULL, NULL, NULL, &message), ==, 0);
                CONTENTS_IS(&f, "top/a.txt", "hello\n");
                CONTENTS_IS(&f, "top/sub/run.sh", "#!/bin/sh\n");
        }
}

static void test_names(void) {
        g_auto(Fixture) f = { 0 };
        g_autofree char *long_component = g_strnfill(NAME_MAX + 1, 'n');
        g_autofree char *long_path = NULL;
        GString *s = g_string_new(NULL);

        while (s->len < PATH_MAX + 10)
                g_string_append(s, "dir/");
        g_string_append(s, "file");
        long_path = g_string_free(s, FALSE);

        fixture_setup(&f);
        /* Not UTF-8, with a control character: refused, the bytes shown
         * escaped, the message valid UTF-8. */
        {
                const TEntry entries[] = { { T_FILE, "bad\xff\x01/../x", "x" } };
                assert_refused(&f, F_USTAR, entries, G_N_ELEMENTS(entries), -EILSEQ, "bad\\xff\\x01/../x",
                               "not UTF-8");
        }
        {
                const TEntry entries[] = { { T_FILE, "ünïcødé", "utf-8" }, { T_FILE, "caf\xe9", "latin-1" } };
                assert_refused(&f, F_USTAR, entries, G_N_ELEMENTS(entries), -EILSEQ, "caf\\xe9", "the encoding of its names");
        }
        /* The code page named by name_encoding decodes every name of a
         * format that does not say its encoding, as an archive made with
         * that code page has all its names in it. */
        {
                const TEntry entries[] = { { T_FILE, "caf\xe9", "latin-1" }, { T_FILE, "plain", "ascii" } };
                const ArchiveExtractOptions opts = { .name_encoding = "CP1252" };
                g_auto(Fixture) g = { 0 };
                g_autofree char *message = NULL;

                fixture_setup(&g);
                g_assert_true(make_archive(g.archive, F_USTAR, entries, G_N_ELEMENTS(entries)));
                g_assert_cmpint(extract(&g, &opts, &message), ==, 0);
                CONTENTS_IS(&g, "café", "latin-1");
                CONTENTS_IS(&g, "plain", "ascii");
        }
        /* Bytes that are not of that code page either: libarchive drops the
         * name, and says why. */
        {
                const TEntry entries[] = { { T_FILE, "a\x81" " b", "x" } };
                const ArchiveExtractOptions opts = { .name_encoding = "CP932" };
                g_auto(Fixture) g = { 0 };
                g_autofree char *message = NULL;

                fixture_setup(&g);
                g_assert_true(make_archive(g.archive, F_USTAR, entries, G_N_ELEMENTS(entries)));
                g_assert_cmpint(extract(&g, &opts, &message), ==, -EILSEQ);
                assert_message(message, NULL, "entry 1: its name cannot be read");
                assert_message(message, NULL, "CP932");
        }
        {
                const TEntry entries[] = { { T_FILE, long_component, "x" } };
                assert_refused(&f, F_TAR, entries, G_N_ELEMENTS(entries), -ENAMETOOLONG, NULL, "longer than 255");
        }
        {
                const TEntry entries[] = { { T_FILE, long_path, "x" } };
                assert_refused(&f, F_TAR, entries, G_N_ELEMENTS(entries), -ENAMETOOLONG, NULL, "longer than 4095");
        }
        {
                const TEntry entries[] = { { T_FILE, ".", "x" } };
                assert_refused(&f, F_TAR, entries, G_N_ELEMENTS(entries), -EPERM, ".", "no name");
        }
}

/* Names outside ASCII arrive as UTF-8 from every format, although this
 * process runs in the C locale: 7z stores UTF-16, zip sets its UTF-8
 * flag, pax writes UTF-8 headers. */
static void test_names_unicode(void) {
        const TFormat formats[] = { F_7Z, F_ZIP, F_TAR_GZ, F_TAR_XZ };
        const TEntry entries[] = {
                { T_FILE, "left4dead2/addons/地图 ☺.vpk", "map\n" },
                { T_FILE, "left4dead2/maps/Карта_01.bsp", "bsp\n" },
                { T_SYMLINK, "left4dead2/addons/ссылка", "地图 ☺.vpk" },
        };

        g_assert_cmpstr(setlocale(LC_CTYPE, NULL), ==, "C");
        for (size_t i = 0; i < G_N_ELEMENTS(formats); i++) {
                g_auto(Fixture) f = { 0 };
                g_autofree char *message = NULL, *target = NULL;

                g_test_message("format %u", formats[i]);
                fixture_setup(&f);
                g_assert_true(make_archive(f.archive, formats[i], entries, G_N_ELEMENTS(entries)));
                g_assert_cmpint(extract(&f, NULL, &message), ==, 0);
                CONTENTS_IS(&f, "left4dead2/addons/地图 ☺.vpk", "map\n");
                CONTENTS_IS(&f, "left4dead2/maps/Карта_01.bsp", "bsp\n");
                target = read_link_dest(&f, "left4dead2/addons/ссылка");
                g_assert_cmpstr(target, ==, "地图 ☺.vpk");
        }
}

/* Windows tools write backslashes as separators: they are separators
 * here, and the traversal rules apply after. */
static void test_names_backslash(void) {
        g_auto(Fixture) f = { 0 };

        fixture_setup(&f);
        {
                const TEntry entries[] = { { T_FILE, "left4dead2\\maps\\c1m1.bsp", "bsp\n" } };
                g_autofree char *message = NULL;

                g_assert_true(make_archive(f.archive, F_ZIP, entries, G_N_ELEMENTS(entries)));
                g_assert_cmpint(extract(&f, NULL, &message), ==, 0);
                CONTENTS_IS(&f, "left4dead2/maps/c1m1.bsp", "bsp\n");
        }
        {
                const TEntry entries[] = { { T_FILE, "fine.txt", "x" }, { T_FILE, "..\\..\\outside\\target", "pwned" } };
                assert_refused(&f, F_ZIP, entries, G_N_ELEMENTS(entries), -EPERM, "../../outside/target", "'..'");
        }
        {
                const TEntry entries[] = { { T_FILE, "C:\\Windows\\x.txt", "x" } };
                assert_refused(&f, F_ZIP, entries, G_N_ELEMENTS(entries), -EPERM, "C:/Windows/x.txt", "Windows drive");
        }
        {
                const TEntry entries[] = { { T_SYMLINK, "lnk", "..\\..\\outside" } };
                assert_refused(&f, F_TAR, entries, G_N_ELEMENTS(entries), -EPERM, "lnk", "leaves the overlay");
        }
}

static void write_bytes(const char *path, const void *data, size_t len) {
        g_autoptr(GError) error = NULL;

        g_file_set_contents(path, data, (gssize) len, &error);
        g_assert_no_error(error);
}

static uint32_t crc32_of(const uint8_t *p, size_t len) {
        uint32_t c = 0xffffffffu;

        for (size_t i = 0; i < len; i++) {
                c ^= p[i];
                for (int k = 0; k < 8; k++)
                        c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
        }
        return ~c;
}

static void put16(GByteArray *b, uint16_t v) {
        uint8_t le[2] = { v & 0xff, v >> 8 };
        g_byte_array_append(b, le, sizeof(le));
}

static void put32(GByteArray *b, uint32_t v) {
        put16(b, v & 0xffff);
        put16(b, v >> 16);
}

/* A zip of one stored entry whose headers declare uncompressed_size and
 * crc, with data as its content. */
static void write_stored_zip_crc(const char *path, const char *name, const char *data,
                                 uint32_t uncompressed_size, uint32_t crc) {
        g_autoptr(GByteArray) b = g_byte_array_new();
        uint32_t len = (uint32_t) strlen(data);
        uint16_t name_len = (uint16_t) strlen(name);
        uint32_t cd_offset;

        put32(b, 0x04034b50); put16(b, 20); put16(b, 0); put16(b, 0); put16(b, 0); put16(b, 0);
        put32(b, crc); put32(b, len); put32(b, uncompressed_size); put16(b, name_len); put16(b, 0);
        g_byte_array_append(b, (const uint8_t *) name, name_len);
        g_byte_array_append(b, (const uint8_t *) data, len);
        cd_offset = b->len;
        put32(b, 0x02014b50); put16(b, 20); put16(b, 20); put16(b, 0); put16(b, 0); put16(b, 0); put16(b, 0);
        put32(b, crc); put32(b, len); put32(b, uncompressed_size); put16(b, name_len); put16(b, 0); put16(b, 0);
        put16(b, 0); put16(b, 0); put32(b, 0); put32(b, 0);
        g_byte_array_append(b, (const uint8_t *) name, name_len);
        put32(b, 0x06054b50); put16(b, 0); put16(b, 0); put16(b, 1); put16(b, 1);
        put32(b, b->len - 12 - cd_offset);      /* the central directory's size: 12 bytes of this record are written */
        put32(b, cd_offset); put16(b, 0);
        write_bytes(path, b->data, b->len);
}

static void write_stored_zip(const char *path, const char *name, const char *data, uint32_t uncompressed_size) {
        write_stored_zip_crc(path, name, data, uncompressed_size, crc32_of((const uint8_t *) data, strlen(data)));
}

/* Damaged data is no success, although libarchive only warns of a bad
 * CRC; a zip marked as needing one segment only ("PK00") is whole. */
static void test_bad_crc(void) {
        g_auto(Fixture) f = { 0 };
        g_autofree char *message = NULL, *data = NULL;
        size_t len;

        fixture_setup(&f);
        write_stored_zip_crc(f.archive, "damaged.vpk", "twenty bytes of data", 20, 0x12345678);
        g_assert_cmpint(extract(&f, NULL, &message), ==, -EBADMSG);
        assert_message(message, "damaged.vpk", "CRC");
        g_clear_pointer(&message, g_free);

        write_stored_zip(f.archive, "whole.vpk", "twenty bytes of data", 20);
        g_assert_true(g_file_get_contents(f.archive, &data, &len, NULL));
        {
                g_autofree char *marked = g_malloc(len + 4);

                memcpy(marked, "PK00", 4);
                memcpy(marked + 4, data, len);
                /* The central directory moved by 4 bytes; libarchive finds it
                 * by the end record and allows for data in front. */
                write_bytes(f.archive, marked, len + 4);
        }
        g_assert_cmpint(extract(&f, NULL, &message), ==, 0);
        CONTENTS_IS(&f, "whole.vpk", "twenty bytes of data");
}

/* A file's data must be as long as its header says: a shorter one (a
 * truncated archive, a split archive's first volume) is not a success. */
static void test_declared_size(void) {
        g_auto(Fixture) f = { 0 };

        fixture_setup(&f);
        {
                g_autofree char *message = NULL;
                write_stored_zip(f.archive, "short.vpk", "twenty bytes of data", 144608);
                g_assert_cmpint(extract(&f, NULL, &message), ==, -EBADMSG);
                /* libarchive's zip reader notices first; RAR 5 does not (the
                 * integration test archive-split-volumes). */
                assert_message(message, "short.vpk", "144608");
        }
        {
                g_autofree char *message = NULL;
                write_stored_zip(f.archive, "long.vpk", "twenty bytes of data", 10);
                g_assert_cmpint(extract(&f, NULL, &message), ==, -EBADMSG);
                assert_message(message, "long.vpk", "more data than the 10 bytes");
        }
        {
                g_autofree char *message = NULL;
                write_stored_zip(f.archive, "exact.vpk", "twenty bytes of data", 20);
                g_assert_cmpint(extract(&f, NULL, &message), ==, 0);
                CONTENTS_IS(&f, "exact.vpk", "twenty bytes of data");
        }
}

/* A tar's sparse file that ends in a hole has its full length. */
static void test_sparse_trailing_hole(void) {
        g_auto(Fixture) f = { 0 };
        const TEntry entries[] = { { T_SPARSE_TAIL, "tail", NULL, 0, 1 << 20 } };
        g_autofree char *message = NULL;
        struct stat st;

        fixture_setup(&f);
        g_assert_true(make_archive(f.archive, F_TAR, entries, G_N_ELEMENTS(entries)));
        g_assert_cmpint(extract(&f, NULL, &message), ==, 0);
        g_assert_cmpint(fstatat(f.dest_fd, "tail", &st, 0), ==, 0);
        g_assert_cmpint(st.st_size, ==, 1 << 20);
}

/* One volume of a multi-volume archive is refused, saying so. */
static void test_volumes(void) {
        /* Signature; main header: CRC32, size 6, type 1, flags 0, archive
         * flags 0x3 (volume, number present), number 1 (the second). */
        static const uint8_t rar5_second[] = { 'R', 'a', 'r', '!', 0x1a, 0x07, 0x01, 0x00,
                                               0, 0, 0, 0, 4, 1, 0, 3, 1, 0, 0, 0 };
        static const uint8_t rar5_first[] = { 'R', 'a', 'r', '!', 0x1a, 0x07, 0x01, 0x00,
                                              0, 0, 0, 0, 3, 1, 0, 1, 0, 0, 0, 0 };
        /* Marker; MAIN_HEAD: CRC16, type 0x73, flags MHD_VOLUME|MHD_FIRSTVOLUME. */
        static const uint8_t rar4_first[] = { 'R', 'a', 'r', '!', 0x1a, 0x07, 0x00,
                                              0, 0, 0x73, 0x01, 0x01, 13, 0, 0, 0, 0, 0, 0, 0 };
        static const uint8_t zip_first[] = { 'P', 'K', 7, 8, 'P', 'K', 3, 4, 20, 0, 0, 0, 0, 0 };
        const struct {
                const uint8_t *data;
                size_t len;
                const char *what;
        } cases[] = {
                { rar5_second, sizeof(rar5_second), "volume 2 of a multi-volume RAR 5 archive" },
                { rar5_first, sizeof(rar5_first), "volume 1 of a multi-volume RAR 5 archive" },
                { rar4_first, sizeof(rar4_first), "volume 1 of a multi-volume RAR archive" },
                { zip_first, sizeof(zip_first), "the first segment of a split zip archive" },
        };
        g_auto(Fixture) f = { 0 };

        fixture_setup(&f);
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *message = NULL;

                write_bytes(f.archive, cases[i].data, cases[i].len);
                g_assert_cmpint(extract(&f, NULL, &message), ==, -EOPNOTSUPP);
                assert_message(message, NULL, "multi-volume");
                assert_message(message, NULL, cases[i].what);
        }

        /* The last segment of a split zip: its end record is on disk 2. */
        {
                g_autofree char *message = NULL, *data = NULL;
                size_t len;

                make_happy(&f, F_ZIP);
                g_assert_true(g_file_get_contents(f.archive, &data, &len, NULL));
                g_assert_cmpint(memcmp(data + len - 22, "PK\x05\x06", 4), ==, 0);
                data[len - 22 + 4] = 2;         /* number of this disk */
                data[len - 22 + 6] = 2;         /* disk where the central directory starts */
                write_bytes(f.archive, data, len);
                g_assert_cmpint(extract(&f, NULL, &message), ==, -EOPNOTSUPP);
                assert_message(message, NULL, "the last segment of a zip archive split into 3 parts");
        }
        /* The first part of a .7z.001 split: a 7z cut short. */
        {
                g_autofree char *message = NULL, *data = NULL;
                const TEntry big[] = { { T_PATTERN, "big.vpk", NULL, 0, 200000 } };
                size_t len;

                g_assert_true(make_archive(f.archive, F_7Z, big, G_N_ELEMENTS(big)));
                g_assert_true(g_file_get_contents(f.archive, &data, &len, NULL));
                write_bytes(f.archive, data, len / 2);
                g_assert_cmpint(extract(&f, NULL, &message), ==, -EBADMSG);
                assert_message(message, NULL, "first part of a split one (.7z.001)");
        }
        g_assert_false(exists_dest(&f, "top"));
}

/* Archives expand to at most MaxRatio times their size (1 MiB for
 * smaller ones), checked as the data is written. */
static void test_ratio(void) {
        g_auto(Fixture) f = { 0 };
        const TEntry bomb[] = { { T_ZEROS, "zeros.bin", NULL, 0, 64 << 20 } };
        const TEntry fine[] = { { T_PATTERN, "map.vpk", NULL, 0, 4 << 20 } };
        const ArchiveExtractOptions opts = { .limits.max_ratio = 10 };
        ProgressLog log = { .calls = g_array_new(FALSE, FALSE, sizeof(ProgressCall)) };
        g_autofree char *message = NULL;
        struct stat st;

        fixture_setup(&f);
        g_assert_true(make_archive(f.archive, F_TAR_XZ, bomb, G_N_ELEMENTS(bomb)));
        g_assert_cmpint(stat(f.archive, &st), ==, 0);
        g_assert_cmpint(st.st_size, <, 1 << 20);
        g_assert_cmpint(extract_path_full(&f, f.archive, &opts, progress_cb, &log, NULL, &message), ==, -EFBIG);
        assert_message(message, "zeros.bin", "MaxRatio");
        assert_message(message, NULL, "expands to more than 10485760 bytes");
        /* Stopped at the bound, not at the end of the entry. */
        g_assert_cmpint(fstatat(f.dest_fd, "zeros.bin", &st, 0), ==, 0);
        g_assert_cmpint(st.st_size, <=, 10 << 20);
        g_assert_cmpuint(g_array_index(log.calls, ProgressCall, log.calls->len - 1).v[1], <=, 10 << 20);
        g_array_unref(log.calls);

        /* An incompressible archive is far from any ratio. */
        g_clear_pointer(&message, g_free);
        g_assert_true(make_archive(f.archive, F_TAR_XZ, fine, G_N_ELEMENTS(fine)));
        g_assert_cmpint(extract(&f, &opts, &message), ==, 0);
}

/* Only tar archives may come compressed. */
static void test_compressed_non_tar(void) {
        const TFormat inner[] = { F_ZIP, F_7Z };
        g_auto(Fixture) f = { 0 };

        fixture_setup(&f);
        for (size_t i = 0; i < G_N_ELEMENTS(inner); i++) {
                g_autofree char *message = NULL, *cmd = NULL;

                make_happy(&f, inner[i]);
                cmd = g_strdup_printf("bzip2 -c '%s' > '%s.bz2' && mv '%s.bz2' '%s'", f.archive, f.archive, f.archive,
                                      f.archive);
                g_assert_cmpint(system(cmd), ==, 0);
                g_assert_cmpint(extract(&f, NULL, &message), ==, -EBADMSG);
                if (inner[i] == F_7Z)
                        assert_message(message, NULL, "7-Zip archive inside a bzip2 stream");
                else
                        assert_message(message, NULL, "bzip2 stream holds no tar archive");
        }
        g_assert_false(exists_dest(&f, "top"));
}

/* A pipe's content is copied into a file of at most MaxBytes. */
static void test_pipe_cap(void) {
        g_auto(Fixture) f = { 0 };
        const TEntry entries[] = { { T_PATTERN, "big", NULL, 0, 2 << 20 } };
        const ArchiveExtractOptions opts = { .limits.max_bytes = 1 << 20 };
        g_autofree char *message = NULL;
        _cleanup_close_ int rd = -1;
        Feeder feeder;
        GThread *thread;
        int p[2];

        fixture_setup(&f);
        g_assert_true(make_archive(f.archive, F_TAR, entries, G_N_ELEMENTS(entries)));
        g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
        rd = p[0];
        feeder = (Feeder) { .fd = p[1], .path = f.archive };
        thread = g_thread_new("feeder", feeder_thread, &feeder);
        g_assert_cmpint(archive_extract(rd, f.dest_fd, &opts, NULL, NULL, NULL, &message), ==, -EFBIG);
        l4m_close_fdp(&rd);
        g_thread_join(thread);
        assert_message(message, NULL, "larger than the limit of 1048576 bytes (MaxBytes)");
        g_assert_false(exists_dest(&f, "big"));
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        signal(SIGPIPE, SIG_IGN);

        g_test_add_func("/archive/happy/tar-gz", test_happy_tar_gz);
        g_test_add_func("/archive/happy/tar", test_happy_tar);
        g_test_add_func("/archive/happy/tar-bz2", test_happy_tar_bz2);
        g_test_add_func("/archive/happy/tar-xz", test_happy_tar_xz);
        g_test_add_func("/archive/happy/tar-zst", test_happy_tar_zst);
        g_test_add_func("/archive/happy/zip", test_happy_zip);
        g_test_add_func("/archive/happy/7z", test_happy_7z);
        g_test_add_func("/archive/happy/mtime", test_mtime_kept);
        g_test_add_func("/archive/bad/no-entries", test_no_entries);
        g_test_add_func("/archive/subdir-strip", test_subdir_strip);
        g_test_add_func("/archive/subdir-invalid", test_subdir_invalid);
        g_test_add_func("/archive/strip-leaves-nothing", test_strip_leaves_nothing);
        g_test_add_func("/archive/overwrite", test_overwrite);
        g_test_add_func("/archive/refuse/zip-slip", test_zip_slip);
        g_test_add_func("/archive/refuse/absolute", test_absolute_path);
        g_test_add_func("/archive/refuse/symlink-then-through", test_symlink_absolute_then_through);
        g_test_add_func("/archive/refuse/path-through-symlink", test_path_through_symlink);
        g_test_add_func("/archive/refuse/two-hop-chain", test_two_hop_chain);
        g_test_add_func("/archive/refuse/hardlinks", test_hardlinks);
        g_test_add_func("/archive/hardlink-inside", test_hardlink_inside);
        g_test_add_func("/archive/refuse/special-files", test_special_files);
        g_test_add_func("/archive/caps/zeros-bomb", test_zeros_bomb);
        g_test_add_func("/archive/caps/total-across-entries", test_total_cap_across_entries);
        g_test_add_func("/archive/caps/budget", test_budget);
        g_test_add_func("/archive/caps/budget-fits", test_budget_fits);
        g_test_add_func("/archive/caps/entry-bytes", test_entry_cap);
        g_test_add_func("/archive/caps/many-entries", test_many_entries);
        g_test_add_func("/archive/sparse", test_sparse);
        g_test_add_func("/archive/bad/truncated", test_truncated);
        g_test_add_func("/archive/bad/not-an-archive", test_not_an_archive);
        g_test_add_func("/archive/bad/empty-input", test_empty_input);
        g_test_add_func("/archive/refuse/encrypted", test_encrypted);
        g_test_add_func("/archive/cancel/before", test_cancel_before);
        g_test_add_func("/archive/cancel/during", test_cancel_during);
        g_test_add_func("/archive/cancel/stalled-pipe", test_cancel_stalled_pipe);
        g_test_add_func("/archive/modes", test_modes);
        g_test_add_func("/archive/progress", test_progress);
        g_test_add_func("/archive/pipe", test_pipe);
        g_test_add_func("/archive/fd-offset", test_fd_offset);
        g_test_add_func("/archive/names", test_names);
        g_test_add_func("/archive/names/unicode", test_names_unicode);
        g_test_add_func("/archive/names/backslash", test_names_backslash);
        g_test_add_func("/archive/bad/declared-size", test_declared_size);
        g_test_add_func("/archive/bad/crc", test_bad_crc);
        g_test_add_func("/archive/sparse-trailing-hole", test_sparse_trailing_hole);
        g_test_add_func("/archive/bad/volumes", test_volumes);
        g_test_add_func("/archive/caps/ratio", test_ratio);
        g_test_add_func("/archive/bad/compressed-non-tar", test_compressed_non_tar);
        g_test_add_func("/archive/pipe/cap", test_pipe_cap);

        return g_test_run();
}
