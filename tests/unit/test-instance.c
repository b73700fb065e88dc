/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Server instances without a bus: their rows in the store, the checks of
 * what callers send, the generated server.cfg and RCON password, and the
 * port range of the configuration. */
#include <errno.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "config-file.h"
#include "instance.h"
#include "instance-runtime.h"
#include "instance-unit.h"
#include "store.h"

typedef struct {
        char *dir;
        char *path;
        sqlite3 *db;
        uint64_t blueprint;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        StoreOverlay o = { .name = "layer", .type = "archive", .owner = "alice", .state = "ready", .created = 1 };
        StoreBlueprint b = { .name = "bp", .owner = "alice", .created = 1 };
        uint64_t overlay;

        f->dir = g_dir_make_tmp("l4m-instance-XXXXXX", &error);
        g_assert_no_error(error);
        f->path = g_build_filename(f->dir, "left4me.db", NULL);
        g_assert_cmpint(store_open(f->path, &f->db), ==, 0);
        g_assert_cmpint(store_begin(f->db), ==, 0);
        g_assert_cmpint(store_overlay_insert(f->db, &o, &overlay), ==, 0);
        g_assert_cmpint(store_commit(f->db), ==, 0);
        g_assert_cmpint(store_blueprint_insert(f->db, &b, &overlay, 1, &f->blueprint), ==, 0);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
        g_autoptr(GDir) d = NULL;
        const char *name;

        store_close(f->db);
        d = g_dir_open(f->dir, 0, NULL);
        while (d && (name = g_dir_read_name(d))) {
                g_autofree char *p = g_build_filename(f->dir, name, NULL);
                g_unlink(p);
        }
        g_rmdir(f->dir);
        g_free(f->path);
        g_free(f->dir);
}

static int collect(const StoreInstance *i, void *userdata) {
        g_ptr_array_add(userdata, g_strdup_printf("%s:%s:%" G_GUINT64_FORMAT ":%u:%s:%u:%s:%d:%s", i->name, i->owner,
                                                  i->blueprint_id, (unsigned) i->port, i->hostname,
                                                  (unsigned) i->max_players, i->map, (int) i->autostart,
                                                  i->rcon_password));
        return 0;
}

static GPtrArray *list_rows(sqlite3 *db) {
        GPtrArray *rows = g_ptr_array_new_with_free_func(g_free);
        g_assert_cmpint(store_instance_foreach(db, collect, rows), ==, 0);
        return rows;
}

static void test_store(Fixture *f, gconstpointer data) {
        StoreInstance i = {
                .name = "coop1", .owner = "alice", .blueprint_id = f->blueprint, .port = 27015,
                .hostname = "Coop", .max_players = 8, .map = "c1m1_hotel", .autostart = true,
                .rcon_password = "secret", .created = 5,
        };
        g_autoptr(GPtrArray) rows = NULL;
        uint64_t id, id2, other;

        g_assert_cmpint(store_instance_insert(f->db, &i, &id), ==, 0);
        /* The name and the port are each one instance's. */
        i.port = 27016;
        g_assert_cmpint(store_instance_insert(f->db, &i, &other), ==, -EEXIST);
        i.name = "coop2";
        i.port = 27015;
        g_assert_cmpint(store_instance_insert(f->db, &i, &other), ==, -EEXIST);
        /* A blueprint without a row. */
        i.port = 27016;
        i.blueprint_id = 4242;
        g_assert_cmpint(store_instance_insert(f->db, &i, &other), ==, -ENOENT);
        i.blueprint_id = f->blueprint;
        i.autostart = false;
        i.map = "";
        g_assert_cmpint(store_instance_insert(f->db, &i, &id2), ==, 0);
        g_assert_cmpuint(id2, >, id);

        rows = list_rows(f->db);
        g_assert_cmpuint(rows->len, ==, 2);
        g_assert_cmpstr(rows->pdata[0], ==, "coop1:alice:1:27015:Coop:8:c1m1_hotel:1:secret");
        g_assert_cmpstr(rows->pdata[1], ==, "coop2:alice:1:27016:Coop:8::0:secret");
        g_clear_pointer(&rows, g_ptr_array_unref);

        /* A blueprint in use stays (RESTRICT). */
        g_assert_cmpint(store_blueprint_delete(f->db, f->blueprint), <, 0);

        /* Settings change; name, owner, port and password do not. */
        i = (StoreInstance) { .id = id, .blueprint_id = f->blueprint, .hostname = "Renamed", .max_players = 4,
                              .map = "c2m1_highway", .autostart = false };
        g_assert_cmpint(store_instance_update(f->db, &i), ==, 0);
        i.blueprint_id = 999;
        g_assert_cmpint(store_instance_update(f->db, &i), ==, -ENOENT);
        i = (StoreInstance) { .id = 777, .blueprint_id = f->blueprint, .hostname = "", .map = "" };
        g_assert_cmpint(store_instance_update(f->db, &i), ==, -ENOENT);
        rows = list_rows(f->db);
        g_assert_cmpstr(rows->pdata[0], ==, "coop1:alice:1:27015:Renamed:4:c2m1_highway:0:secret");
        g_clear_pointer(&rows, g_ptr_array_unref);

        g_assert_cmpint(store_instance_delete(f->db, id), ==, 0);
        g_assert_cmpint(store_instance_delete(f->db, id), ==, -ENOENT);
        g_assert_cmpint(store_instance_delete(f->db, id2), ==, 0);
        rows = list_rows(f->db);
        g_assert_cmpuint(rows->len, ==, 0);
        /* Now the blueprint may go. */
        g_assert_cmpint(store_blueprint_delete(f->db, f->blueprint), ==, 0);
}

static void test_checks(void) {
        g_assert_null(instance_hostname_problem(""));
        /* Empty or blank: the instance's name; never shown blank. */
        g_assert_cmpstr(instance_effective_hostname("", "coop1"), ==, "coop1");
        g_assert_cmpstr(instance_effective_hostname(" \t ", "coop1"), ==, "coop1");
        g_assert_cmpstr(instance_effective_hostname(NULL, "coop1"), ==, "coop1");
        g_assert_cmpstr(instance_effective_hostname(" My Server", "coop1"), ==, " My Server");
        g_assert_null(instance_hostname_problem("My Server ✓ #1"));
        g_assert_nonnull(instance_hostname_problem("a \"quoted\" name"));
        g_assert_nonnull(instance_hostname_problem("x; rcon_password y"));
        g_assert_nonnull(instance_hostname_problem("line\nbreak"));
        g_assert_nonnull(instance_hostname_problem("\xff\xfe"));
        g_assert_null(instance_hostname_problem("0123456789012345678901234567890123456789012345678901234567890123"));
        g_assert_nonnull(instance_hostname_problem("01234567890123456789012345678901234567890123456789012345678901234"));

        g_assert_true(instance_map_is_valid("c1m1_hotel"));
        g_assert_true(instance_map_is_valid("Map-2"));
        g_assert_false(instance_map_is_valid(""));
        g_assert_false(instance_map_is_valid("c1m1 hotel"));
        g_assert_false(instance_map_is_valid("../x"));
        g_assert_false(instance_map_is_valid("c1m1;quit"));
        g_assert_true(instance_map_is_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
        g_assert_false(instance_map_is_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));

        g_assert_null(instance_command_problem("status"));
        g_assert_nonnull(instance_command_problem(""));
        g_assert_nonnull(instance_command_problem("echo a\nquit"));
        g_assert_nonnull(instance_command_problem("echo a\rquit"));

        g_autofree char *unit = instance_unit_name("coop1");
        g_assert_cmpstr(unit, ==, "left4me-server-coop1.service");
}

static void test_server_cfg(void) {
        g_autofree char *text = instance_server_cfg_text("coop1", "hostname \"theirs\"\nrcon_password \"theirs\"",
                                                         "Mine", "pw");
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        guint n = g_strv_length(lines);

        /* The blueprint's text, then left4me's lines last: they win. */
        g_assert_cmpuint(n, >=, 5);
        g_assert_cmpstr(lines[n - 1], ==, "");
        g_assert_cmpstr(lines[n - 2], ==, "rcon_password \"pw\"");
        g_assert_cmpstr(lines[n - 3], ==, "hostname \"Mine\"");
        g_assert_nonnull(strstr(text, "rcon_password \"theirs\"\n"));
        g_assert_true(strstr(text, "\"theirs\"") < strstr(text, "\"Mine\""));

        g_clear_pointer(&text, g_free);
        text = instance_server_cfg_text("coop1", "", "", "pw");
        g_assert_null(strstr(text, "hostname"));
        g_assert_true(g_str_has_suffix(text, "rcon_password \"pw\"\n"));
}

static void test_password(void) {
        g_autofree char *a = NULL, *b = NULL;

        g_assert_cmpint(instance_generate_password(&a), ==, 0);
        g_assert_cmpint(instance_generate_password(&b), ==, 0);
        g_assert_cmpuint(strlen(a), ==, INSTANCE_RCON_PASSWORD_LEN);
        for (const char *p = a; *p; p++)
                g_assert_true(g_ascii_isalnum(*p));
        g_assert_cmpstr(a, !=, b);
}

static void test_unit_argv(void) {
        char *launch[] = { (char *) "+sv_lan", (char *) "1", NULL };
        InstanceUnitSpec spec = {
                .name = "coop1", .state_dir = "/var/lib/left4me", .helper = "/usr/libexec/left4me-overlay",
                .port = 27020, .map = "c1m1_hotel", .max_players = 8, .launch_args = launch,
        };
        g_auto(GStrv) argv = instance_unit_argv(&spec);
        g_autofree char *joined = g_strjoinv(" ", argv);

        g_assert_cmpstr(joined, ==, "/var/lib/left4me/runtime/coop1/merged/srcds_run -norestart -game left4dead2 "
                                    "-port 27020 +map c1m1_hotel +maxplayers 8 +sv_lan 1");
        spec.map = "";
        spec.launch_args = NULL;
        g_strfreev(argv);
        argv = instance_unit_argv(&spec);
        g_free(joined);
        joined = g_strjoinv(" ", argv);
        g_assert_cmpstr(joined, ==, "/var/lib/left4me/runtime/coop1/merged/srcds_run -norestart -game left4dead2 "
                                    "-port 27020 +maxplayers 8");
}

static void write_conf(const char *dir, const char *text) {
        g_autofree char *path = g_build_filename(dir, "left4me.conf", NULL);
        g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static void test_port_range(void) {
        g_autoptr(GError) error = NULL;
        g_autofree char *dir = g_dir_make_tmp("l4m-instance-conf-XXXXXX", &error);
        g_autofree char *path = g_build_filename(dir, "left4me.conf", NULL);
        Config *c;

        g_assert_no_error(error);
        c = config_load(dir);
        g_assert_cmpuint(c->instance_port_min, ==, 27015);
        g_assert_cmpuint(c->instance_port_max, ==, 27115);
        config_free(c);

        write_conf(dir, "[Instances]\nPortMin=28000\nPortMax=28010\n");
        c = config_load(dir);
        g_assert_cmpuint(c->instance_port_min, ==, 28000);
        g_assert_cmpuint(c->instance_port_max, ==, 28010);
        config_free(c);

        /* Out of range alone: that key keeps its default. */
        write_conf(dir, "[Instances]\nPortMin=80\nPortMax=27100\n");
        c = config_load(dir);
        g_assert_cmpuint(c->instance_port_min, ==, 27015);
        g_assert_cmpuint(c->instance_port_max, ==, 27100);
        config_free(c);

        /* Min above max: both defaults. */
        write_conf(dir, "[Instances]\nPortMin=30000\nPortMax=29000\n");
        c = config_load(dir);
        g_assert_cmpuint(c->instance_port_min, ==, 27015);
        g_assert_cmpuint(c->instance_port_max, ==, 27115);
        config_free(c);

        /* The uids: defaults, a good range, and ranges refused as a whole. */
        write_conf(dir, "[Instances]\nFirstUID=20000\nLastUID=20009\n");
        c = config_load(dir);
        g_assert_cmpuint(c->instance_first_uid, ==, 20000);
        g_assert_cmpuint(c->instance_last_uid, ==, 20009);
        g_assert_null(c->problems[0]);
        config_free(c);
        for (size_t k = 0; k < 4; k++) {
                static const char *const bad[] = {
                        "[Instances]\nFirstUID=20010\nLastUID=20009\n",     /* reversed */
                        "[Instances]\nFirstUID=61000\nLastUID=61200\n",     /* into DynamicUser= */
                        "[Instances]\nFirstUID=65520\nLastUID=65535\n",     /* nobody */
                        "[Instances]\nFirstUID=999\n",                       /* the system's */
                };

                write_conf(dir, bad[k]);
                c = config_load(dir);
                g_assert_cmpuint(c->instance_first_uid, ==, 60600);
                g_assert_cmpuint(c->instance_last_uid, ==, 61099);
                g_assert_nonnull(c->problems[0]);
                g_assert_nonnull(strstr(c->problems[0], "FirstUID"));
                config_free(c);
        }

        g_unlink(path);
        g_rmdir(dir);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add("/instance/store", Fixture, NULL, fixture_setup, test_store, fixture_teardown);
        g_test_add_func("/instance/checks", test_checks);
        g_test_add_func("/instance/server-cfg", test_server_cfg);
        g_test_add_func("/instance/password", test_password);
        g_test_add_func("/instance/unit-argv", test_unit_argv);
        g_test_add_func("/instance/port-range", test_port_range);
        return g_test_run();
}
