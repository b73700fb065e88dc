/* SPDX-License-Identifier: GPL-2.0-or-later */
/* l4mctl's check that a stream is whole zstd frames (overlay export): a
 * tar.zst as libarchive writes it (as left4med does) is complete, every
 * cut of it is not. */
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <glib.h>

#include "zstd-frames.h"

/* A tar.zst of a few files, one of 300000 random bytes (several blocks). */
static GByteArray *make_tar_zst(void) {
        static const char *const names[] = { "a.txt", "dir/b.bin", "dir/empty" };
        static const size_t sizes[] = { 12, 300000, 0 };
        GByteArray *out = g_byte_array_new();
        size_t cap = 1u << 20, used = 0;
        g_autofree char *buf = g_malloc(cap), *data = g_malloc(300000);
        struct archive *a = archive_write_new();

        for (size_t k = 0; k < 300000; k++)
                data[k] = (char) g_random_int();
        g_assert_cmpint(archive_write_set_format_pax_restricted(a), ==, ARCHIVE_OK);
        g_assert_cmpint(archive_write_add_filter_zstd(a), ==, ARCHIVE_OK);
        g_assert_cmpint(archive_write_open_memory(a, buf, cap, &used), ==, ARCHIVE_OK);
        for (size_t k = 0; k < G_N_ELEMENTS(names); k++) {
                struct archive_entry *e = archive_entry_new();

                archive_entry_set_pathname(e, names[k]);
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_perm(e, 0644);
                archive_entry_set_size(e, (la_int64_t) sizes[k]);
                g_assert_cmpint(archive_write_header(a, e), ==, ARCHIVE_OK);
                g_assert_cmpint(archive_write_data(a, data, sizes[k]), ==, (la_ssize_t) sizes[k]);
                archive_entry_free(e);
        }
        g_assert_cmpint(archive_write_close(a), ==, ARCHIVE_OK);
        archive_write_free(a);
        g_byte_array_append(out, (const guint8 *) buf, (guint) used);
        return out;
}

static bool complete_in_chunks(const guint8 *data, size_t len, size_t chunk) {
        ZstdFrames z;

        zstd_frames_init(&z);
        for (size_t off = 0; off < len; off += chunk)
                if (!zstd_frames_feed(&z, data + off, MIN(chunk, len - off)))
                        return false;
        return zstd_frames_complete(&z);
}

static void test_whole(void) {
        g_autoptr(GByteArray) s = make_tar_zst();
        static const size_t chunks[] = { 1, 3, 7, 4096, 65536, 1u << 20 };

        for (size_t k = 0; k < G_N_ELEMENTS(chunks); k++)
                g_assert_true(complete_in_chunks(s->data, s->len, chunks[k]));
}

static void test_cut(void) {
        g_autoptr(GByteArray) s = make_tar_zst();
        size_t cuts[] = { 0, 1, 3, 4, 5, 6, 9, 100, s->len / 2, s->len - 5, s->len - 4, s->len - 1 };

        for (size_t k = 0; k < G_N_ELEMENTS(cuts); k++)
                g_assert_false(complete_in_chunks(s->data, cuts[k], 4096));
}

static void test_frames(void) {
        g_autoptr(GByteArray) s = make_tar_zst();
        g_autoptr(GByteArray) two = g_byte_array_new();
        /* A skippable frame of 3 bytes, then the archive twice. */
        static const guint8 skippable[] = { 0x50, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 'a', 'b', 'c' };

        g_byte_array_append(two, skippable, sizeof skippable);
        g_byte_array_append(two, s->data, s->len);
        g_byte_array_append(two, s->data, s->len);
        g_assert_true(complete_in_chunks(two->data, two->len, 1000));
        g_assert_false(complete_in_chunks(two->data, sizeof skippable, 1000));
        g_assert_false(complete_in_chunks((const guint8 *) "not zstd at all", 15, 4));
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/zstd-frames/whole", test_whole);
        g_test_add_func("/zstd-frames/cut", test_cut);
        g_test_add_func("/zstd-frames/frames", test_frames);
        return g_test_run();
}
