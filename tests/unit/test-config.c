/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <glib.h>
#include <glib/gstdio.h>

#include "config-file.h"

static char *make_dir(void) {
        g_autoptr(GError) error = NULL;
        char *d = g_dir_make_tmp("l4m-config-XXXXXX", &error);

        g_assert_no_error(error);
        return d;
}

static void put(const char *dir, const char *name, const char *text) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autofree char *parent = g_path_get_dirname(path);

        g_assert_cmpint(g_mkdir_with_parents(parent, 0755), ==, 0);
        g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static void remove_dir(const char *dir) {
        g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
        g_assert_true(g_spawn_command_line_sync(cmd, NULL, NULL, NULL, NULL));
}

static void test_defaults(void) {
        g_autofree char *dir = make_dir();
        g_autoptr(Config) c = config_load(dir);     /* no file at all */

        g_assert_cmpstr(c->steam_api_url, ==, "https://api.steampowered.com/");
        g_assert_cmpuint(c->jobs_max_running, ==, 2);
        g_assert_cmpuint(c->jobs_retain_days, ==, 14);
        g_assert_cmpuint(c->downloads_max_parallel, ==, 4);
        g_assert_cmpuint(c->archive_max_entries, ==, 100000);
        remove_dir(dir);
}

static void test_file_and_dropins(void) {
        g_autofree char *dir = make_dir();
        g_autoptr(Config) c = NULL;

        put(dir, "left4me.conf",
            "[Steam]\nApiUrl=http://127.0.0.1:8080\n"
            "[Jobs]\nMaxRunning=3\nRetainDays=7\n"
            "[Downloads]\nMaxParallel=8\n");
        put(dir, "left4me.conf.d/20-b.conf", "[Jobs]\nMaxRunning=5\n");
        put(dir, "left4me.conf.d/10-a.conf", "[Jobs]\nMaxRunning=4\n[Archive]\nMaxEntries=1000\n");
        put(dir, "left4me.conf.d/30-c.conf.disabled", "[Jobs]\nMaxRunning=9\n");

        c = config_load(dir);
        g_assert_cmpstr(c->steam_api_url, ==, "http://127.0.0.1:8080/");    /* one trailing slash */
        g_assert_cmpuint(c->jobs_max_running, ==, 5);                      /* 20-b after 10-a */
        g_assert_cmpuint(c->jobs_retain_days, ==, 7);
        g_assert_cmpuint(c->downloads_max_parallel, ==, 8);
        g_assert_cmpuint(c->archive_max_entries, ==, 1000);
        remove_dir(dir);
}

static void test_bad_values_keep_defaults(void) {
        g_autofree char *dir = make_dir();
        g_autoptr(Config) c = NULL;

        put(dir, "left4me.conf",
            "[Steam]\nApiUrl=ftp://example.invalid/\nSteamCmd=relative/path\n"
            "[Jobs]\nMaxRunning=0\nRetainDays=-1\n"
            "[Downloads]\nMaxParallel=lots\n"
            "[Archive]\nMaxBytes=99999999999999999999999\n"
            "[Nonsense]\nKey=1\n"
            "[Script]\nRuntimeMaxSec=60\nNoSuchKey=1\n");
        c = config_load(dir);
        g_assert_cmpstr(c->steam_api_url, ==, "https://api.steampowered.com/");
        g_assert_cmpstr(c->steam_cmd, ==, "/usr/games/steamcmd");
        g_assert_cmpuint(c->jobs_max_running, ==, 2);
        g_assert_cmpuint(c->jobs_retain_days, ==, 14);
        g_assert_cmpuint(c->downloads_max_parallel, ==, 4);
        g_assert_cmpuint(c->archive_max_bytes, ==, UINT64_C(8) << 30);
        remove_dir(dir);
}

static void test_broken_file_skipped(void) {
        g_autofree char *dir = make_dir();
        g_autoptr(Config) c = NULL;

        put(dir, "left4me.conf", "this is [not a key file\n\x01");
        put(dir, "left4me.conf.d/10-ok.conf", "[Jobs]\nMaxRunning=6\n");
        c = config_load(dir);
        g_assert_cmpuint(c->jobs_max_running, ==, 6);
        remove_dir(dir);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/config/defaults", test_defaults);
        g_test_add_func("/config/file-and-dropins", test_file_and_dropins);
        g_test_add_func("/config/bad-values-keep-defaults", test_bad_values_keep_defaults);
        g_test_add_func("/config/broken-file-skipped", test_broken_file_skipped);
        return g_test_run();
}
