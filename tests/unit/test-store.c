/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "blueprint.h"
#include "store.h"

typedef struct {
        char *dir;
        char *path;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;

        f->dir = g_dir_make_tmp("l4m-store-XXXXXX", &error);
        g_assert_no_error(error);
        f->path = g_build_filename(f->dir, "left4me.db", NULL);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
        g_autoptr(GDir) d = g_dir_open(f->dir, 0, NULL);
        const char *name;

        while (d && (name = g_dir_read_name(d))) {
                g_autofree char *p = g_build_filename(f->dir, name, NULL);
                g_unlink(p);
        }
        g_rmdir(f->dir);
        g_free(f->path);
        g_free(f->dir);
}

static int collect(const StoreOverlay *o, void *userdata) {
        g_ptr_array_add(userdata, g_strdup_printf("%" G_GUINT64_FORMAT ":%s:%s:%s:%s", o->id, o->name, o->type, o->owner, o->state));
        return 0;
}

static GPtrArray *list_rows(sqlite3 *db) {
        GPtrArray *rows = g_ptr_array_new_with_free_func(g_free);
        g_assert_cmpint(store_overlay_foreach(db, collect, rows), ==, 0);
        return rows;
}

static int insert(sqlite3 *db, const char *name, const char *type, uint64_t *id) {
        StoreOverlay o = { .name = name, .type = type, .owner = "alice", .state = "empty", .created = 1 };
        int r = store_begin(db);
        g_assert_cmpint(r, ==, 0);
        r = store_overlay_insert(db, &o, id);
        if (r < 0) {
                store_rollback(db);
                return r;
        }
        g_assert_cmpint(store_commit(db), ==, 0);
        return 0;
}

static void test_migrate_and_pragmas(Fixture *f, gconstpointer data) {
        sqlite3 *db = NULL;
        g_autoptr(sqlite3_stmt) st = NULL;

        g_assert_cmpint(store_open(f->path, &db), ==, 0);
        g_assert_cmpint(store_schema_version(db), ==, store_schema_latest());
        g_assert_cmpint(store_schema_latest(), >=, 1);

        g_assert_cmpint(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), ==, SQLITE_OK);
        g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
        g_assert_cmpstr((const char *) sqlite3_column_text(st, 0), ==, "wal");
        g_clear_pointer(&st, sqlite3_finalize);

        g_assert_cmpint(sqlite3_prepare_v2(db, "PRAGMA synchronous", -1, &st, NULL), ==, SQLITE_OK);
        g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
        g_assert_cmpint(sqlite3_column_int(st, 0), ==, 2);     /* FULL */
        g_clear_pointer(&st, sqlite3_finalize);

        g_assert_cmpint(sqlite3_prepare_v2(db, "PRAGMA foreign_keys", -1, &st, NULL), ==, SQLITE_OK);
        g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
        g_assert_cmpint(sqlite3_column_int(st, 0), ==, 1);
        g_clear_pointer(&st, sqlite3_finalize);
        store_close(db);

        /* Opening again applies nothing and keeps the version. */
        g_assert_cmpint(store_open(f->path, &db), ==, 0);
        g_assert_cmpint(store_schema_version(db), ==, store_schema_latest());
        store_close(db);
}

static void test_newer_schema_refused(Fixture *f, gconstpointer data) {
        sqlite3 *db = NULL;
        g_autofree char *sql = g_strdup_printf("PRAGMA user_version = %d", store_schema_latest() + 1);

        g_assert_cmpint(store_open(f->path, &db), ==, 0);
        g_assert_cmpint(sqlite3_exec(db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
        store_close(db);

        db = NULL;
        g_assert_cmpint(store_open(f->path, &db), ==, -EPROTO);
        g_assert_null(db);
}

static void test_insert_list_delete(Fixture *f, gconstpointer data) {
        g_autoptr(GPtrArray) rows = NULL;
        sqlite3 *db = NULL;
        uint64_t a = 0, b = 0, c = 0, dup = 0;

        g_assert_cmpint(store_open(f->path, &db), ==, 0);
        g_assert_cmpint(insert(db, "maps1", "workshop", &a), ==, 0);
        g_assert_cmpint(insert(db, "maps2", "script", &b), ==, 0);
        g_assert_cmpuint(b, >, a);

        g_assert_cmpint(insert(db, "maps1", "archive", &dup), ==, -EEXIST);
        g_assert_cmpint(insert(db, "bad", "nonsense", &dup), <, 0);      /* CHECK constraint */

        rows = list_rows(db);
        g_assert_cmpuint(rows->len, ==, 2);
        g_assert_true(g_str_has_suffix(rows->pdata[0], ":maps1:workshop:alice:empty"));
        g_assert_true(g_str_has_suffix(rows->pdata[1], ":maps2:script:alice:empty"));

        g_assert_cmpint(store_begin(db), ==, 0);
        g_assert_cmpint(store_overlay_delete(db, a), ==, 0);
        g_assert_cmpint(store_commit(db), ==, 0);
        g_assert_cmpint(store_begin(db), ==, 0);
        g_assert_cmpint(store_overlay_delete(db, a), ==, -ENOENT);
        store_rollback(db);

        /* Ids of deleted rows are never handed out again. */
        g_assert_cmpint(insert(db, "maps3", "archive", &c), ==, 0);
        g_assert_cmpuint(c, >, b);
        store_close(db);

        /* Everything survives a reopen. */
        g_assert_cmpint(store_open(f->path, &db), ==, 0);
        g_clear_pointer(&rows, g_ptr_array_unref);
        rows = list_rows(db);
        g_assert_cmpuint(rows->len, ==, 2);
        g_assert_true(g_str_has_suffix(rows->pdata[0], ":maps2:script:alice:empty"));
        g_assert_true(g_str_has_suffix(rows->pdata[1], ":maps3:archive:alice:empty"));
        store_close(db);
}

static void test_rollback_discards(Fixture *f, gconstpointer data) {
        g_autoptr(GPtrArray) rows = NULL;
        sqlite3 *db = NULL;
        StoreOverlay o = { .name = "gone", .type = "script", .owner = "bob", .state = "empty", .created = 2 };
        uint64_t id;

        g_assert_cmpint(store_open(f->path, &db), ==, 0);
        g_assert_cmpint(store_begin(db), ==, 0);
        g_assert_cmpint(store_overlay_insert(db, &o, &id), ==, 0);
        store_rollback(db);
        rows = list_rows(db);
        g_assert_cmpuint(rows->len, ==, 0);
        store_close(db);
}

typedef struct {
        GPtrArray *rows;        /* "id:name:owner:cfg:args" */
        GPtrArray *pairs;       /* "blueprint:overlay" in order */
} BlueprintDump;

static int collect_blueprint(const StoreBlueprint *b, void *userdata) {
        BlueprintDump *d = userdata;
        g_ptr_array_add(d->rows, g_strdup_printf("%" G_GUINT64_FORMAT ":%s:%s:%s:%s", b->id, b->name, b->owner,
                                                 b->server_cfg, b->launch_args));
        return 0;
}

static int collect_blueprint_overlay(uint64_t blueprint_id, uint64_t overlay_id, void *userdata) {
        BlueprintDump *d = userdata;
        g_ptr_array_add(d->pairs, g_strdup_printf("%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT, blueprint_id, overlay_id));
        return 0;
}

static void dump_blueprints(sqlite3 *db, BlueprintDump *d) {
        d->rows = g_ptr_array_new_with_free_func(g_free);
        d->pairs = g_ptr_array_new_with_free_func(g_free);
        g_assert_cmpint(store_blueprint_foreach(db, collect_blueprint, d), ==, 0);
        g_assert_cmpint(store_blueprint_overlays_foreach(db, collect_blueprint_overlay, d), ==, 0);
}

static void dump_clear(BlueprintDump *d) {
        g_clear_pointer(&d->rows, g_ptr_array_unref);
        g_clear_pointer(&d->pairs, g_ptr_array_unref);
}

static void test_blueprints(Fixture *f, gconstpointer data) {
        sqlite3 *db = NULL;
        uint64_t o1 = 0, o2 = 0, o3 = 0, bp = 0, dup = 0;
        BlueprintDump d = { NULL, NULL };
        StoreBlueprint b = { .name = "coop", .owner = "alice", .created = 5,
                             .server_cfg = "sv_cheats 0\n", .launch_args = "-tickrate\n100" };
        g_autofree char *want = NULL;

        g_assert_cmpint(store_open(f->path, &db), ==, 0);
        g_assert_cmpint(insert(db, "maps", "workshop", &o1), ==, 0);
        g_assert_cmpint(insert(db, "mods", "archive", &o2), ==, 0);
        g_assert_cmpint(insert(db, "cfgs", "script", &o3), ==, 0);

        g_assert_cmpint(store_blueprint_insert(db, &b, (const uint64_t[]) { o3, o1, o2 }, 3, &bp), ==, 0);
        /* The name is taken; an overlay without a row: nothing is added. */
        g_assert_cmpint(store_blueprint_insert(db, &b, (const uint64_t[]) { o1 }, 1, &dup), ==, -EEXIST);
        b.name = "versus";
        g_assert_cmpint(store_blueprint_insert(db, &b, (const uint64_t[]) { o1, 9999 }, 2, &dup), ==, -ENOENT);

        dump_blueprints(db, &d);
        g_assert_cmpuint(d.rows->len, ==, 1);
        want = g_strdup_printf("%" G_GUINT64_FORMAT ":coop:alice:sv_cheats 0\n:-tickrate\n100", bp);
        g_assert_cmpstr(d.rows->pdata[0], ==, want);
        g_assert_cmpuint(d.pairs->len, ==, 3);
        g_clear_pointer(&want, g_free);
        want = g_strdup_printf("%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT, bp, o3);
        g_assert_cmpstr(d.pairs->pdata[0], ==, want);
        dump_clear(&d);

        /* An overlay in use cannot go (RESTRICT). */
        g_assert_cmpint(store_begin(db), ==, 0);
        g_assert_cmpint(store_overlay_delete(db, o1), <, 0);
        store_rollback(db);

        g_assert_cmpint(store_blueprint_set_overlays(db, bp, (const uint64_t[]) { o2 }, 1), ==, 0);
        g_assert_cmpint(store_blueprint_set_overlays(db, bp, (const uint64_t[]) { 4242 }, 1), ==, -ENOENT);
        g_assert_cmpint(store_blueprint_set_server_cfg(db, bp, "hostname x"), ==, 0);
        g_assert_cmpint(store_blueprint_set_launch_args(db, bp, ""), ==, 0);
        /* Update is all or nothing: a missing overlay keeps the text too. */
        g_assert_cmpint(store_blueprint_update(db, bp, (const uint64_t[]) { 4242 }, 1, "hostname lost", "-lost"), ==,
                        -ENOENT);
        store_close(db);

        g_assert_cmpint(store_open(f->path, &db), ==, 0);
        dump_blueprints(db, &d);
        g_clear_pointer(&want, g_free);
        want = g_strdup_printf("%" G_GUINT64_FORMAT ":coop:alice:hostname x:", bp);
        g_assert_cmpstr(d.rows->pdata[0], ==, want);
        g_assert_cmpuint(d.pairs->len, ==, 1);
        dump_clear(&d);

        /* o1 is free again; deleting the blueprint frees o2. */
        g_assert_cmpint(store_begin(db), ==, 0);
        g_assert_cmpint(store_overlay_delete(db, o1), ==, 0);
        g_assert_cmpint(store_commit(db), ==, 0);
        g_assert_cmpint(store_blueprint_delete(db, bp), ==, 0);
        g_assert_cmpint(store_blueprint_delete(db, bp), ==, -ENOENT);
        dump_blueprints(db, &d);
        g_assert_cmpuint(d.rows->len, ==, 0);
        g_assert_cmpuint(d.pairs->len, ==, 0);
        dump_clear(&d);
        g_assert_cmpint(store_begin(db), ==, 0);
        g_assert_cmpint(store_overlay_delete(db, o2), ==, 0);
        g_assert_cmpint(store_commit(db), ==, 0);
        store_close(db);
}

static int count_item(uint64_t overlay_id, uint64_t published_id, void *userdata) {
        g_string_append_printf(userdata, "%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT " ", overlay_id, published_id);
        return 0;
}

/* Items replace the old ones in their order; a new overlay's go in with
 * its row. */
static void test_items(Fixture *f, gconstpointer data) {
        g_autoptr(GString) seen = g_string_new(NULL);
        g_autofree char *want = NULL;
        sqlite3 *db = NULL;
        uint64_t o = 0;

        g_assert_cmpint(store_open(f->path, &db), ==, 0);
        g_assert_cmpint(insert(db, "maps", "workshop", &o), ==, 0);
        g_assert_cmpint(store_overlay_set_items(db, o, (const uint64_t[]) { 30, 10, 20 }, 3), ==, 0);
        g_assert_cmpint(store_overlay_set_items(db, o, (const uint64_t[]) { 20, 40 }, 2), ==, 0);
        g_assert_cmpint(store_overlay_items_foreach(db, count_item, seen), ==, 0);
        want = g_strdup_printf("%" G_GUINT64_FORMAT ":20 %" G_GUINT64_FORMAT ":40 ", o, o);
        g_assert_cmpstr(seen->str, ==, want);
        g_assert_cmpint(store_overlay_set_items(db, o, NULL, 0), ==, 0);
        g_string_truncate(seen, 0);
        g_assert_cmpint(store_overlay_items_foreach(db, count_item, seen), ==, 0);
        g_assert_cmpstr(seen->str, ==, "");
        store_close(db);
}

static void test_launch_args(void) {
        g_auto(GStrv) split = NULL;
        g_autofree char *joined = NULL;
        g_autofree char *long_arg = g_strnfill(257, 'x');

        g_assert_null(blueprint_launch_arg_problem("-tickrate"));
        g_assert_null(blueprint_launch_arg_problem("+sv_gametypes"));
        g_assert_null(blueprint_launch_arg_problem("coop,versus"));
        g_assert_null(blueprint_launch_arg_problem("+x=%@:/.^!_-,"));
        g_assert_nonnull(blueprint_launch_arg_problem("héllo"));   /* ASCII only */
        g_assert_nonnull(blueprint_launch_arg_problem(""));
        /* srcds_run lets the shell split and expand its command line: one
         * argument must not become several, nor a pattern or expansion. */
        g_assert_nonnull(blueprint_launch_arg_problem("x +hostport 27020"));
        g_assert_nonnull(blueprint_launch_arg_problem("+hostport"));
        for (const char *c = "*?[]\"'\\`$;|&<>(){}~#"; *c; c++) {
                char arg[] = { 'a', *c, 'b', '\0' };

                g_assert_nonnull(blueprint_launch_arg_problem(arg));
        }
        g_assert_nonnull(blueprint_launch_arg_problem("-game"));
        g_assert_nonnull(blueprint_launch_arg_problem("-PORT"));
        g_assert_nonnull(blueprint_launch_arg_problem("+port"));
        g_assert_nonnull(blueprint_launch_arg_problem("-ip"));
        g_assert_nonnull(blueprint_launch_arg_problem("+ip"));
        g_assert_nonnull(blueprint_launch_arg_problem("a\nb"));
        g_assert_nonnull(blueprint_launch_arg_problem("a\tb"));
        g_assert_nonnull(blueprint_launch_arg_problem("a\x7f"));
        g_assert_nonnull(blueprint_launch_arg_problem("a\xc2\x85"));     /* U+0085, a C1 control */
        g_assert_nonnull(blueprint_launch_arg_problem(long_arg));
        long_arg[256] = '\0';
        g_assert_null(blueprint_launch_arg_problem(long_arg));

        joined = blueprint_launch_args_join((char *const[]) { "-a", "b c", NULL });
        g_assert_cmpstr(joined, ==, "-a\nb c");
        split = blueprint_launch_args_split(joined);
        g_assert_cmpuint(g_strv_length(split), ==, 2);
        g_assert_cmpstr(split[1], ==, "b c");
        g_clear_pointer(&split, g_strfreev);
        split = blueprint_launch_args_split("");
        g_assert_cmpuint(g_strv_length(split), ==, 0);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add("/store/migrate", Fixture, NULL, fixture_setup, test_migrate_and_pragmas, fixture_teardown);
        g_test_add("/store/newer-schema", Fixture, NULL, fixture_setup, test_newer_schema_refused, fixture_teardown);
        g_test_add("/store/insert-list-delete", Fixture, NULL, fixture_setup, test_insert_list_delete, fixture_teardown);
        g_test_add("/store/rollback", Fixture, NULL, fixture_setup, test_rollback_discards, fixture_teardown);
        g_test_add("/store/blueprints", Fixture, NULL, fixture_setup, test_blueprints, fixture_teardown);
        g_test_add_func("/store/blueprint-launch-args", test_launch_args);
        g_test_add("/store/items", Fixture, NULL, fixture_setup, test_items, fixture_teardown);
        return g_test_run();
}
