/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "config.h"
#include "config-file.h"

#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
#define TIB (UINT64_C(1) << 40)

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
        g_assert_cmpuint(c->archive_max_ratio, ==, 100);
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
        put(dir, "left4me.conf.d/10-a.conf", "[Jobs]\nMaxRunning=4\n[Archive]\nMaxEntries=1000\n"
            "MaxBytes=64M\nMaxEntryBytes=2G\nMaxRatio=50\n");
        put(dir, "left4me.conf.d/30-c.conf.disabled", "[Jobs]\nMaxRunning=9\n");

        c = config_load(dir);
        g_assert_cmpstr(c->steam_api_url, ==, "http://127.0.0.1:8080/");    /* one trailing slash */
        g_assert_cmpuint(c->jobs_max_running, ==, 5);                      /* 20-b after 10-a */
        g_assert_cmpuint(c->jobs_retain_days, ==, 7);
        g_assert_cmpuint(c->downloads_max_parallel, ==, 8);
        g_assert_cmpuint(c->archive_max_entries, ==, 1000);
        g_assert_cmpuint(c->archive_max_bytes, ==, UINT64_C(64) << 20);
        g_assert_cmpuint(c->archive_max_entry_bytes, ==, UINT64_C(2) << 30);
        g_assert_cmpuint(c->archive_max_ratio, ==, 50);
        remove_dir(dir);
}

static void test_bad_values_keep_defaults(void) {
        g_autofree char *dir = make_dir();
        g_autoptr(Config) c = NULL;

        put(dir, "left4me.conf",
            "[Steam]\nApiUrl=ftp://example.invalid/\nSteamCmd=relative/path\n"
            "[Jobs]\nMaxRunning=0\nRetainDays=-1\n"
            "[Downloads]\nMaxParallel=lots\n"
            "[Archive]\nMaxBytes=infinity\nMaxRatio=0\nMaxEntryBytes=2X\n"
            "[Nonsense]\nKey=1\n"
            "[Script]\nRuntimeMaxSec=60\nNoSuchKey=1\n");
        c = config_load(dir);
        g_assert_cmpstr(c->steam_api_url, ==, "https://api.steampowered.com/");
        g_assert_cmpstr(c->steam_cmd, ==, "/usr/games/steamcmd");
        g_assert_cmpuint(c->jobs_max_running, ==, 2);
        g_assert_cmpuint(c->jobs_retain_days, ==, 14);
        g_assert_cmpuint(c->downloads_max_parallel, ==, 4);
        g_assert_cmpuint(c->archive_max_bytes, ==, UINT64_C(8) << 30);
        g_assert_cmpuint(c->archive_max_entry_bytes, ==, UINT64_C(4) << 30);
        g_assert_cmpuint(c->archive_max_ratio, ==, 100);
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

static void assert_script_defaults(const Config *c) {
        g_assert_cmpuint(c->script_runtime_max_sec, ==, 3600);
        g_assert_cmpuint(c->script_memory_max, ==, GIB);
        g_assert_cmpuint(c->script_cpu_quota_percent, ==, 100);
        g_assert_cmpuint(c->script_tasks_max, ==, 512);
        g_assert_cmpstr(c->script_resolv_conf, ==, L4M_PKGDATADIR "/resolv.conf");
}

/* Loads a configuration whose only setting is one line in [Script]. */
static Config *load_script_line(const char *dir, const char *line) {
        g_autofree char *text = g_strdup_printf("[Script]\n%s\n", line);

        put(dir, "left4me.conf", text);
        return config_load(dir);
}

static void test_script_defaults(void) {
        g_autofree char *dir = make_dir();
        g_autoptr(Config) loaded = config_load(dir);
        g_autoptr(Config) builtin = config_new_default();
        g_autoptr(Config) empty = NULL;

        assert_script_defaults(loaded);
        assert_script_defaults(builtin);
        /* An empty [Script] section changes nothing either. */
        empty = load_script_line(dir, "");
        assert_script_defaults(empty);
        remove_dir(dir);
}

typedef enum {
        F_RUNTIME,
        F_MEMORY,
        F_CPU,
        F_TASKS,
} ScriptField;

static uint64_t script_field(const Config *c, ScriptField f) {
        switch (f) {
        case F_RUNTIME:
                return c->script_runtime_max_sec;
        case F_MEMORY:
                return c->script_memory_max;
        case F_CPU:
                return c->script_cpu_quota_percent;
        case F_TASKS:
                return c->script_tasks_max;
        }
        g_assert_not_reached();
}

static void test_script_valid_values(void) {
        static const struct {
                const char *line;
                ScriptField field;
                uint64_t expected;
        } cases[] = {
                { "RuntimeMaxSec=1", F_RUNTIME, 1 },
                { "RuntimeMaxSec=60", F_RUNTIME, 60 },
                { "RuntimeMaxSec=604800", F_RUNTIME, 604800 },
                { "MemoryMax=33554432", F_MEMORY, 32 * MIB },           /* the minimum, in bytes */
                { "MemoryMax=32768K", F_MEMORY, 32 * MIB },
                { "MemoryMax=65536k", F_MEMORY, 64 * MIB },
                { "MemoryMax=32M", F_MEMORY, 32 * MIB },
                { "MemoryMax=512M", F_MEMORY, 512 * MIB },
                { "MemoryMax=768m", F_MEMORY, 768 * MIB },
                { "MemoryMax=2G", F_MEMORY, 2 * GIB },
                { "MemoryMax=4g", F_MEMORY, 4 * GIB },
                { "MemoryMax=1024G", F_MEMORY, TIB },
                { "MemoryMax=1T", F_MEMORY, TIB },                      /* the maximum */
                { "MemoryMax=1t", F_MEMORY, TIB },
                { "MemoryMax=1099511627776", F_MEMORY, TIB },
                { "MemoryMax=infinity", F_MEMORY, UINT64_MAX },
                { "MemoryMax = 3G ", F_MEMORY, 3 * GIB },               /* blanks around are fine */
                { "CPUQuota=1%", F_CPU, 1 },
                { "CPUQuota=50%", F_CPU, 50 },
                { "CPUQuota=250%", F_CPU, 250 },
                { "CPUQuota=100000%", F_CPU, 100000 },
                { "TasksMax=8", F_TASKS, 8 },
                { "TasksMax=4096", F_TASKS, 4096 },
                { "TasksMax=1000000", F_TASKS, 1000000 },
                { "TasksMax=infinity", F_TASKS, UINT64_MAX },
        };
        g_autofree char *dir = make_dir();

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(Config) c = load_script_line(dir, cases[i].line);

                g_test_message("%s", cases[i].line);
                g_assert_cmpuint(script_field(c, cases[i].field), ==, cases[i].expected);
                /* and nothing else moved */
                if (cases[i].field != F_RUNTIME)
                        g_assert_cmpuint(c->script_runtime_max_sec, ==, 3600);
                if (cases[i].field != F_MEMORY)
                        g_assert_cmpuint(c->script_memory_max, ==, GIB);
                if (cases[i].field != F_CPU)
                        g_assert_cmpuint(c->script_cpu_quota_percent, ==, 100);
                if (cases[i].field != F_TASKS)
                        g_assert_cmpuint(c->script_tasks_max, ==, 512);
                g_assert_cmpstr(c->script_resolv_conf, ==, L4M_PKGDATADIR "/resolv.conf");
        }

        {
                g_autoptr(Config) c = load_script_line(dir, "ResolvConf=/etc/left4me/resolv.conf");
                g_assert_cmpstr(c->script_resolv_conf, ==, "/etc/left4me/resolv.conf");
        }
        {
                /* All at once, and a drop-in overrides the main file. */
                g_autoptr(Config) c = NULL;

                put(dir, "left4me.conf",
                    "[Script]\nRuntimeMaxSec=120\nMemoryMax=256M\nCPUQuota=200%\nTasksMax=64\n"
                    "ResolvConf=/srv/resolv.conf\n");
                put(dir, "left4me.conf.d/50-script.conf", "[Script]\nMemoryMax=infinity\nTasksMax=128\n");
                c = config_load(dir);
                g_assert_cmpuint(c->script_runtime_max_sec, ==, 120);
                g_assert_cmpuint(c->script_memory_max, ==, UINT64_MAX);
                g_assert_cmpuint(c->script_cpu_quota_percent, ==, 200);
                g_assert_cmpuint(c->script_tasks_max, ==, 128);
                g_assert_cmpstr(c->script_resolv_conf, ==, "/srv/resolv.conf");
        }
        remove_dir(dir);
}

static void test_script_invalid_values_keep_defaults(void) {
        static const char *const lines[] = {
                "RuntimeMaxSec=0",
                "RuntimeMaxSec=-1",
                "RuntimeMaxSec=604801",
                "RuntimeMaxSec=1h",
                "RuntimeMaxSec=infinity",
                "RuntimeMaxSec=",
                "MemoryMax=12Q",
                "MemoryMax=-1",
                "MemoryMax=-1G",
                "MemoryMax=0",
                "MemoryMax=0K",
                "MemoryMax=1G5",
                "MemoryMax=1.5G",
                "MemoryMax=1 G",
                "MemoryMax=1GB",
                "MemoryMax=1GiB",
                "MemoryMax=G",
                "MemoryMax=K",
                "MemoryMax=",
                "MemoryMax=33554431",                   /* one byte under 32 MiB */
                "MemoryMax=32767K",
                "MemoryMax=1M",
                "MemoryMax=1025G",                      /* over 1 TiB */
                "MemoryMax=2T",
                "MemoryMax=1099511627777",
                "MemoryMax=99999999999T",               /* overflows when shifted */
                "MemoryMax=16777216T",                  /* 2^64 exactly */
                "MemoryMax=17592186044416M",
                "MemoryMax=18446744073709551615",       /* UINT64_MAX spelled out: over the maximum */
                "MemoryMax=99999999999999999999999",
                "MemoryMax=Infinity",
                "MemoryMax=infinityK",
                "MemoryMax=0x100000",
                "CPUQuota=50",
                "CPUQuota=%",
                "CPUQuota=0%",
                "CPUQuota=-5%",
                "CPUQuota=100001%",
                "CPUQuota=4294967397%",                 /* 2^32 + 101: must not wrap to 101 */
                "CPUQuota=150",
                "CPUQuota=50%%",
                "CPUQuota=1.5%",
                "CPUQuota=5 0%",
                "CPUQuota=infinity",
                "CPUQuota=",
                "TasksMax=0",
                "TasksMax=7",
                "TasksMax=-1",
                "TasksMax=1000001",
                "TasksMax=512K",
                "TasksMax=Infinity",
                "TasksMax=18446744073709551616",
                "TasksMax=",
                "ResolvConf=resolv.conf",
                "ResolvConf=./resolv.conf",
                "ResolvConf=~/resolv.conf",
                "ResolvConf=",
        };
        g_autofree char *dir = make_dir();
        g_autofree char *long_path = NULL;

        for (size_t i = 0; i < G_N_ELEMENTS(lines); i++) {
                g_autoptr(Config) c = load_script_line(dir, lines[i]);

                g_test_message("%s", lines[i]);
                assert_script_defaults(c);
        }

        {
                g_autofree char *filler = g_strnfill(4100, 'a');
                g_autofree char *line = NULL;
                g_autoptr(Config) c = NULL;

                long_path = g_strconcat("/", filler, NULL);
                line = g_strconcat("ResolvConf=", long_path, NULL);
                c = load_script_line(dir, line);
                assert_script_defaults(c);
        }

        {
                /* A bad drop-in keeps what the main file said, not the default. */
                g_autoptr(Config) c = NULL;

                put(dir, "left4me.conf",
                    "[Script]\nRuntimeMaxSec=90\nMemoryMax=2G\nCPUQuota=300%\nTasksMax=infinity\n"
                    "ResolvConf=/srv/resolv.conf\n");
                put(dir, "left4me.conf.d/50-bad.conf",
                    "[Script]\nRuntimeMaxSec=0\nMemoryMax=12Q\nCPUQuota=infinity\nTasksMax=1\n"
                    "ResolvConf=relative\n");
                c = config_load(dir);
                g_assert_cmpuint(c->script_runtime_max_sec, ==, 90);
                g_assert_cmpuint(c->script_memory_max, ==, 2 * GIB);
                g_assert_cmpuint(c->script_cpu_quota_percent, ==, 300);
                g_assert_cmpuint(c->script_tasks_max, ==, UINT64_MAX);
                g_assert_cmpstr(c->script_resolv_conf, ==, "/srv/resolv.conf");
        }
        remove_dir(dir);
}

/* Each bad value is a problem naming its file, line and key. */
static void test_script_invalid_values_reported(void) {
        static const char *const keys[] = { "RuntimeMaxSec", "MemoryMax", "CPUQuota", "TasksMax", "ResolvConf" };
        g_autofree char *dir = make_dir();
        g_autoptr(Config) c = NULL;

        put(dir, "left4me.conf",
            "[Script]\nRuntimeMaxSec=0\nMemoryMax=1G5\nCPUQuota=150\nTasksMax=infinityx\n"
            "ResolvConf=etc/resolv.conf\n");
        c = config_load(dir);
        assert_script_defaults(c);
        g_assert_cmpuint(g_strv_length(c->problems), ==, G_N_ELEMENTS(keys));
        for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
                g_autofree char *prefix = g_strdup_printf("%s/left4me.conf:%zu: [Script] %s=: invalid value", dir, i + 2,
                                                          keys[i]);
                g_assert_true(g_str_has_prefix(c->problems[i], prefix));
        }
        g_clear_pointer(&c, config_free);

        /* and good values are not */
        put(dir, "left4me.conf", "[Script]\nRuntimeMaxSec=10\nMemoryMax=2G\nCPUQuota=150%\nTasksMax=infinity\n"
            "ResolvConf=/etc/resolv.conf\n");
        c = config_load(dir);
        g_assert_cmpuint(g_strv_length(c->problems), ==, 0);
        remove_dir(dir);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/config/defaults", test_defaults);
        g_test_add_func("/config/file-and-dropins", test_file_and_dropins);
        g_test_add_func("/config/bad-values-keep-defaults", test_bad_values_keep_defaults);
        g_test_add_func("/config/broken-file-skipped", test_broken_file_skipped);
        g_test_add_func("/config/script/defaults", test_script_defaults);
        g_test_add_func("/config/script/valid-values", test_script_valid_values);
        g_test_add_func("/config/script/invalid-values-keep-defaults", test_script_invalid_values_keep_defaults);
        g_test_add_func("/config/script/invalid-values-reported", test_script_invalid_values_reported);
        return g_test_run();
}
