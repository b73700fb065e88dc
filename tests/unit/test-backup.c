/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Backups (daemon/backups/): the JSON entry, the file's layout (the JSON
 * frame in the room at the start, upper/ after it) as the hostile-archive
 * extractor and libarchive read it, and the store's rows. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "archive-extract.h"
#include "backup.h"
#include "fs-util.h"
#include "store.h"

static BackupMeta sample_meta(void) {
        BackupMeta m = {
                .instance = g_strdup("coop"),
                .owner = g_strdup("alice"),
                .hostname = g_strdup("Alice's \"coop\" server"),
                .port = 27016,
                .blueprint = g_strdup("vanilla"),
                .player_limit = 8,
                .start_map = g_strdup("c1m1_hotel"),
                .autostart = true,
                .limits = { 0, UINT64_MAX, 256, 1u << 30 },
                .created = UINT64_C(1700000000000000),
                .consistent = false,
        };
        return m;
}

static void test_meta_round_trip(void) {
        g_auto(BackupMeta) in = sample_meta();
        g_auto(BackupMeta) out = { NULL };
        g_autofree char *json = backup_meta_to_json(&in), *error = NULL;

        g_assert_nonnull(strstr(json, "\"format\" : 1"));
        g_assert_nonnull(strstr(json, "\"memory_max\" : \"infinity\""));
        g_assert_nonnull(strstr(json, "\"cpu_quota\" : \"default\""));
        g_assert_cmpint(backup_meta_from_json(json, strlen(json), &out, &error), ==, 0);
        g_assert_cmpstr(out.instance, ==, "coop");
        g_assert_cmpstr(out.owner, ==, "alice");
        g_assert_cmpstr(out.hostname, ==, in.hostname);
        g_assert_cmpuint(out.port, ==, 27016);
        g_assert_true(out.autostart);
        g_assert_false(out.consistent);
        g_assert_cmpuint(out.created, ==, in.created);
}

static void test_meta_refused(void) {
        static const char *const bad[] = {
                "", "[]", "{}", "{\"format\": 2, \"instance\": \"a\", \"owner\": \"b\"}",
                "{\"format\": \"1\", \"instance\": \"a\", \"owner\": \"b\"}", "{\"format\": 1, \"owner\": \"b\"}",
        };

        for (size_t k = 0; k < G_N_ELEMENTS(bad); k++) {
                g_auto(BackupMeta) out = { NULL };
                g_autofree char *error = NULL;

                g_assert_cmpint(backup_meta_from_json(bad[k], strlen(bad[k]), &out, &error), ==, -EBADMSG);
                g_assert_nonnull(error);
        }
}

/* A body as the writer makes it: upper/ and a file, pax, one zstd frame. */
static void write_body(int fd) {
        struct archive *a = archive_write_new();
        struct archive_entry *e = archive_entry_new();
        static const char data[] = "marker\n";

        g_assert_cmpint(lseek(fd, BACKUP_HEADER_ROOM, SEEK_SET), ==, BACKUP_HEADER_ROOM);
        g_assert_cmpint(archive_write_set_format_pax_restricted(a), ==, ARCHIVE_OK);
        g_assert_cmpint(archive_write_add_filter_zstd(a), ==, ARCHIVE_OK);
        g_assert_cmpint(archive_write_set_bytes_per_block(a, 0), ==, ARCHIVE_OK);
        g_assert_cmpint(archive_write_open_fd(a, fd), ==, ARCHIVE_OK);
        archive_entry_set_pathname(e, "upper/");
        archive_entry_set_filetype(e, AE_IFDIR);
        archive_entry_set_perm(e, 0700);
        g_assert_cmpint(archive_write_header(a, e), ==, ARCHIVE_OK);
        archive_entry_clear(e);
        archive_entry_set_pathname(e, "upper/marker.txt");
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, sizeof data - 1);
        g_assert_cmpint(archive_write_header(a, e), ==, ARCHIVE_OK);
        g_assert_cmpint(archive_write_data(a, data, sizeof data - 1), ==, sizeof data - 1);
        g_assert_cmpint(archive_write_close(a), ==, ARCHIVE_OK);
        archive_entry_free(e);
        archive_write_free(a);
}

static void test_layout(void) {
        g_autoptr(GError) gerror = NULL;
        g_autofree char *dir = g_dir_make_tmp("l4m-backup-XXXXXX", &gerror);
        g_autofree char *file = g_build_filename(dir, "b.tar.zst", NULL);
        g_autofree char *dest = g_build_filename(dir, "dest", NULL);
        g_auto(BackupMeta) meta = sample_meta();
        g_autofree char *json = backup_meta_to_json(&meta), *error = NULL, *got = NULL;
        g_autofree void *header = NULL;
        g_autofree char *marker = g_build_filename(dest, "upper", "marker.txt", NULL);
        g_autofree char *json_path = g_build_filename(dest, BACKUP_META_NAME, NULL);
        struct archive *a;
        struct archive_entry *e;
        int fd, dest_fd;

        g_assert_no_error(gerror);
        fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        g_assert_cmpint(fd, >=, 0);
        write_body(fd);
        g_assert_cmpint(backup_meta_header(json, meta.created, BACKUP_HEADER_ROOM, &header, &error), ==, 0);
        g_assert_cmpint(pwrite(fd, header, BACKUP_HEADER_ROOM, 0), ==, BACKUP_HEADER_ROOM);

        /* libarchive: the JSON entry first, then upper/. */
        a = archive_read_new();
        archive_read_support_filter_zstd(a);
        archive_read_support_format_tar(a);
        g_assert_cmpint(archive_read_open_filename(a, file, 16384), ==, ARCHIVE_OK);
        g_assert_cmpint(archive_read_next_header(a, &e), ==, ARCHIVE_OK);
        g_assert_cmpstr(archive_entry_pathname(e), ==, BACKUP_META_NAME);
        g_assert_cmpint(archive_read_next_header(a, &e), ==, ARCHIVE_OK);
        g_assert_cmpstr(archive_entry_pathname(e), ==, "upper/");
        g_assert_cmpint(archive_read_next_header(a, &e), ==, ARCHIVE_OK);
        g_assert_cmpstr(archive_entry_pathname(e), ==, "upper/marker.txt");
        g_assert_cmpint(archive_read_next_header(a, &e), ==, ARCHIVE_EOF);
        archive_read_free(a);

        /* The hostile-archive extractor takes it as it is. */
        g_assert_cmpint(lseek(fd, 0, SEEK_SET), ==, 0);
        g_assert_cmpint(g_mkdir(dest, 0700), ==, 0);
        dest_fd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        g_assert_cmpint(archive_extract(fd, dest_fd, NULL, NULL, NULL, NULL, &error), ==, 0);
        g_assert_true(g_file_get_contents(marker, &got, NULL, NULL));
        g_assert_cmpstr(got, ==, "marker\n");
        g_assert_true(g_file_test(json_path, G_FILE_TEST_IS_REGULAR));
        close(dest_fd);
        close(fd);
        dest_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        g_assert_cmpint(rm_rf_at(dest_fd, "dest"), ==, 0);
        g_assert_cmpint(unlinkat(dest_fd, "b.tar.zst", 0), ==, 0);
        close(dest_fd);
        g_rmdir(dir);
}

static void test_header_too_big(void) {
        g_autofree char *json = g_strnfill(64 * 1024, 'x'), *error = NULL;
        g_autofree void *header = NULL;

        g_assert_cmpint(backup_meta_header(json, 0, 16, &header, &error), ==, -E2BIG);
}

static int place_ok(uint64_t id, void *userdata) {
        *(uint64_t *) userdata = id;
        return 0;
}

static int place_fails(uint64_t id, void *userdata) {
        return -EIO;
}

static int collect(const StoreBackup *b, void *userdata) {
        g_ptr_array_add(userdata, g_strdup_printf("%" G_GUINT64_FORMAT ":%s:%s:%" G_GUINT64_FORMAT ":%d", b->id,
                                                  b->instance, b->owner, b->size, b->consistent));
        return 0;
}

static void test_store(void) {
        g_autoptr(GError) gerror = NULL;
        g_autofree char *dir = g_dir_make_tmp("l4m-backup-store-XXXXXX", &gerror);
        g_autofree char *path = g_build_filename(dir, "left4me.db", NULL);
        g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(g_free);
        uint64_t bp, inst, placed = 0, id1, id2, bytes;
        sqlite3 *db;

        g_assert_cmpint(store_open(path, &db), ==, 0);
        g_assert_cmpint(store_blueprint_insert(db, &(StoreBlueprint) { .name = "bp", .owner = "alice", .created = 1,
                                                                       .server_cfg = "", .launch_args = "" },
                                               NULL, 0, &bp), ==, 0);
        g_assert_cmpint(store_instance_insert(db, &(StoreInstance) { .name = "coop", .owner = "alice", .blueprint_id = bp,
                                                                     .port = 27015, .hostname = "", .max_players = 8,
                                                                     .map = "", .rcon_password = "x", .created = 1,
                                                                     .uid = 60600 }, &inst), ==, 0);

        /* A file that cannot be put in place leaves no row. */
        g_assert_cmpint(store_backup_insert(db, &(StoreBackup) { .instance_id = inst, .owner = "alice", .created = 5,
                                                                 .size = 10 }, place_fails, NULL, NULL), ==, -EIO);
        g_assert_cmpint(store_backup_foreach(db, 0, collect, rows), ==, 0);
        g_assert_cmpuint(rows->len, ==, 0);

        g_assert_cmpint(store_backup_insert(db, &(StoreBackup) { .instance_id = inst, .owner = "alice", .created = 5,
                                                                 .size = 10, .consistent = true }, place_ok, &placed,
                                            &id1), ==, 0);
        g_assert_cmpuint(placed, ==, id1);
        g_assert_cmpint(store_backup_insert(db, &(StoreBackup) { .instance_id = inst, .owner = "alice", .created = 9,
                                                                 .size = 32 }, place_ok, &placed, &id2), ==, 0);
        g_assert_cmpint(store_backup_insert(db, &(StoreBackup) { .instance_id = inst + 100, .owner = "alice",
                                                                 .created = 9, .size = 32 }, place_ok, &placed, NULL),
                        ==, -ENOENT);

        /* Newest first. */
        g_assert_cmpint(store_backup_foreach(db, inst, collect, rows), ==, 0);
        g_assert_cmpuint(rows->len, ==, 2);
        {
                g_autofree char *want = g_strdup_printf("%" G_GUINT64_FORMAT ":coop:alice:32:0", id2);
                g_assert_cmpstr(rows->pdata[0], ==, want);
        }
        g_assert_cmpint(store_backup_owner_bytes(db, "alice", &bytes), ==, 0);
        g_assert_cmpuint(bytes, ==, 42);
        g_assert_cmpint(store_backup_owner_bytes(db, "bob", &bytes), ==, 0);
        g_assert_cmpuint(bytes, ==, 0);

        g_assert_cmpint(store_backup_delete(db, id1), ==, 0);
        g_assert_cmpint(store_backup_delete(db, id1), ==, -ENOENT);
        /* The instance's deletion takes its backups' rows. */
        g_assert_cmpint(store_instance_delete(db, inst), ==, 0);
        g_ptr_array_set_size(rows, 0);
        g_assert_cmpint(store_backup_foreach(db, 0, collect, rows), ==, 0);
        g_assert_cmpuint(rows->len, ==, 0);
        store_close(db);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/backup/meta-round-trip", test_meta_round_trip);
        g_test_add_func("/backup/meta-refused", test_meta_refused);
        g_test_add_func("/backup/layout", test_layout);
        g_test_add_func("/backup/header-too-big", test_header_too_big);
        g_test_add_func("/backup/store", test_store);
        return g_test_run();
}
