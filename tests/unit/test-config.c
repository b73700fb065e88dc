/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "config.h"
#include "config-file.h"
#include "l4m-config.h"
#include "l4m-web-config.h"

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
        g_assert_cmpuint(c->script_first_uid, ==, 61100);
        g_assert_cmpuint(c->script_last_uid, ==, 61183);
        g_assert_cmpuint(c->script_max_running, ==, 2);
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


/* Every field at its default. */
static void assert_config_defaults(const Config *c) {
        g_autoptr(Config) d = config_new_default();

        g_assert_cmpstr(c->steam_api_url, ==, d->steam_api_url);
        g_assert_cmpstr(c->steam_cmd, ==, d->steam_cmd);
        g_assert_cmpuint(c->jobs_max_running, ==, d->jobs_max_running);
        g_assert_cmpuint(c->jobs_retain_days, ==, d->jobs_retain_days);
        g_assert_cmpuint(c->downloads_max_parallel, ==, d->downloads_max_parallel);
        g_assert_cmpuint(c->archive_max_bytes, ==, d->archive_max_bytes);
        g_assert_cmpuint(c->archive_max_entries, ==, d->archive_max_entries);
        g_assert_cmpuint(c->archive_max_entry_bytes, ==, d->archive_max_entry_bytes);
        g_assert_cmpuint(c->archive_max_ratio, ==, d->archive_max_ratio);
        g_assert_cmpuint(c->instance_port_min, ==, d->instance_port_min);
        g_assert_cmpuint(c->instance_port_max, ==, d->instance_port_max);
        assert_script_defaults(c);
}

static void assert_strv_equal(char **a, char **b) {
        g_assert_cmpuint(g_strv_length(a), ==, g_strv_length(b));
        for (size_t i = 0; a[i]; i++)
                g_assert_cmpstr(a[i], ==, b[i]);
}

static void assert_web_defaults(const L4mWebConfig *w) {
        L4mWebConfig d;

        l4m_web_config_init(&d);
        assert_strv_equal(w->allowed_hosts, d.allowed_hosts);
        g_assert_cmpuint(w->session_idle_usec, ==, d.session_idle_usec);
        g_assert_cmpuint(w->max_sessions, ==, d.max_sessions);
        g_assert_cmpuint(w->max_sessions_per_user, ==, d.max_sessions_per_user);
        g_assert_cmpuint(w->max_streams, ==, d.max_streams);
        g_assert_cmpuint(w->max_streams_per_session, ==, d.max_streams_per_session);
        g_assert_cmpuint(w->heartbeat_usec, ==, d.heartbeat_usec);
        g_assert_cmpuint(w->request_timeout_usec, ==, d.request_timeout_usec);
        g_assert_cmpuint(w->max_connections, ==, d.max_connections);
        g_assert_cmpuint(w->max_body_bytes, ==, d.max_body_bytes);
        g_assert_cmpuint(w->max_upload_bytes, ==, d.max_upload_bytes);
        g_assert_cmpstr(w->ui_dir, ==, d.ui_dir);
        g_assert_null(w->listen);
        g_assert_null(w->certificate);
        g_assert_null(w->key);
        l4m_web_config_done(&d);
}

/* A bad value for every key of both tables: one problem each, at the
 * right file, line and key, and every setting stays at its default. */
static void test_every_key_bad_value(void) {
        static const struct {
                const char *group, *key, *value;
        } cases[] = {
                { "Steam", "ApiUrl", "ftp://example.invalid/" },
                { "Steam", "SteamCmd", "steamcmd" },
                { "Jobs", "MaxRunning", "0" },
                { "Jobs", "RetainDays", "3651" },
                { "Downloads", "MaxParallel", "lots" },
                { "Archive", "MaxBytes", "2X" },
                { "Archive", "MaxEntries", "0" },
                { "Archive", "MaxEntryBytes", "infinity" },
                { "Archive", "MaxRatio", "-1" },
                { "Script", "RuntimeMaxSec", "1h" },
                { "Script", "MemoryMax", "12Q" },
                { "Script", "CPUQuota", "50" },
                { "Script", "TasksMax", "7" },
                { "Script", "ResolvConf", "resolv.conf" },
                { "Script", "FirstUID", "999" },
                { "Script", "LastUID", "61183x" },
                { "Script", "MaxRunning", "0" },
                { "Instances", "PortMin", "80" },
                { "Instances", "PortMax", "65536" },
                { "Web", "Listen", "localhost:80" },
                { "Web", "Certificate", "cert.pem" },
                { "Web", "Key", "key.pem" },
                { "Web", "AllowedHosts", "a/b" },
                { "Web", "SessionIdleSec", "0" },
                { "Web", "HeartbeatSec", "3601" },
                { "Web", "MaxSessions", "241" },
                { "Web", "MaxSessionsPerUser", "0" },
                { "Web", "MaxConnections", "x" },
                { "Web", "RequestTimeoutSec", "1.5" },
                { "Web", "MaxStreams", "1000001" },
                { "Web", "MaxStreamsPerSession", "0" },
                { "Web", "MaxBodyBytes", "1023" },
                { "Web", "MaxUploadBytes", "2T" },
                { "Web", "UiDir", "ui" },
        };
        g_autofree char *dir = make_dir();
        g_autofree char *dropin = g_build_filename(dir, "left4me.conf.d", "50-bad.conf", NULL);

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *text = g_strdup_printf("# a comment\n\n[%s]\n  %s = %s\n", cases[i].group, cases[i].key,
                                                        cases[i].value);
                g_autofree char *expected = g_strdup_printf("%s:4: [%s] %s=: invalid value \"%s\", ignored: expected ",
                                                            dropin, cases[i].group, cases[i].key, cases[i].value);
                g_autoptr(Config) c = NULL;
                L4mWebConfig w;

                g_test_message("[%s] %s=%s", cases[i].group, cases[i].key, cases[i].value);
                put(dir, "left4me.conf.d/50-bad.conf", text);

                /* The daemon's view: both tables. */
                c = config_load(dir);
                g_assert_cmpuint(g_strv_length(c->problems), ==, 1);
                g_assert_true(g_str_has_prefix(c->problems[0], expected));
                assert_config_defaults(c);

                /* The bridge's: only [Web], the rest skipped silently. */
                l4m_web_config_init(&w);
                {
                        g_autoptr(L4mConfig) lc = l4m_config_new(L4M_CONFIG_OTHER_GROUPS_IGNORED);
                        const L4mConfigProblem *p;

                        l4m_web_config_add_table(lc, &w);
                        l4m_config_read_dir(lc, dir);
                        if (strcmp(cases[i].group, "Web") == 0) {
                                g_assert_cmpuint(l4m_config_problems(lc)->len, ==, 1);
                                p = l4m_config_problems(lc)->pdata[0];
                                g_assert_cmpstr(p->file, ==, dropin);
                                g_assert_cmpuint(p->line, ==, 4);
                                g_assert_cmpstr(p->group, ==, "Web");
                                g_assert_cmpstr(p->key, ==, cases[i].key);
                        } else
                                g_assert_cmpuint(l4m_config_problems(lc)->len, ==, 0);
                }
                assert_web_defaults(&w);
                l4m_web_config_done(&w);
        }
        remove_dir(dir);
}

/* Good values for every key: no problem, each one taken. */
static void test_every_key_good_value(void) {
        g_autofree char *dir = make_dir();
        g_autoptr(Config) c = NULL;
        g_autoptr(L4mConfig) lc = l4m_config_new(L4M_CONFIG_OTHER_GROUPS_IGNORED);
        L4mWebConfig w;

        put(dir, "left4me.conf",
            "[Steam]\nApiUrl=https://steam.example\nSteamCmd=/opt/steamcmd\n"
            "[Jobs]\nMaxRunning=64\nRetainDays=0\n[Downloads]\nMaxParallel=1\n"
            "[Archive]\nMaxBytes=1T\nMaxEntries=10000000\nMaxEntryBytes=1\nMaxRatio=1000000\n"
            "[Instances]\nPortMin=1024\nPortMax=65535\n"
            "[Web]\nListen=127.0.0.1:1 [::1]:65535\nCertificate=/c.pem\nKey=/k.pem\nAllowedHosts=a.example; b\n"
            "SessionIdleSec=2592000\nHeartbeatSec=1\nMaxSessions=240\nMaxSessionsPerUser=240\n"
            "MaxConnections=1000000\nRequestTimeoutSec=3600\nMaxStreams=1\nMaxStreamsPerSession=100000\n"
            "MaxBodyBytes=64m\nMaxUploadBytes=1024\nUiDir=/srv/ui\n");
        c = config_load(dir);
        g_assert_cmpuint(g_strv_length(c->problems), ==, 0);
        g_assert_cmpstr(c->steam_api_url, ==, "https://steam.example/");
        g_assert_cmpstr(c->steam_cmd, ==, "/opt/steamcmd");
        g_assert_cmpuint(c->jobs_max_running, ==, 64);
        g_assert_cmpuint(c->jobs_retain_days, ==, 0);
        g_assert_cmpuint(c->downloads_max_parallel, ==, 1);
        g_assert_cmpuint(c->archive_max_bytes, ==, TIB);
        g_assert_cmpuint(c->archive_max_entries, ==, 10000000);
        g_assert_cmpuint(c->archive_max_entry_bytes, ==, 1);
        g_assert_cmpuint(c->archive_max_ratio, ==, 1000000);
        g_assert_cmpuint(c->instance_port_min, ==, 1024);
        g_assert_cmpuint(c->instance_port_max, ==, 65535);

        l4m_web_config_init(&w);
        l4m_web_config_add_table(lc, &w);
        l4m_config_read_dir(lc, dir);
        g_assert_cmpuint(l4m_config_problems(lc)->len, ==, 0);
        g_assert_cmpuint(g_strv_length(w.listen), ==, 2);
        g_assert_cmpstr(w.certificate, ==, "/c.pem");
        g_assert_cmpstr(w.key, ==, "/k.pem");
        g_assert_cmpstr(w.allowed_hosts[0], ==, "a.example");
        g_assert_cmpstr(w.allowed_hosts[1], ==, "b");
        g_assert_null(w.allowed_hosts[2]);
        g_assert_cmpuint(w.session_idle_usec, ==, UINT64_C(2592000) * G_USEC_PER_SEC);
        g_assert_cmpuint(w.heartbeat_usec, ==, G_USEC_PER_SEC);
        g_assert_cmpuint(w.max_sessions, ==, 240);
        g_assert_cmpuint(w.max_sessions_per_user, ==, 240);
        g_assert_cmpuint(w.max_connections, ==, 1000000);
        g_assert_cmpuint(w.request_timeout_usec, ==, UINT64_C(3600) * G_USEC_PER_SEC);
        g_assert_cmpuint(w.max_streams, ==, 1);
        g_assert_cmpuint(w.max_streams_per_session, ==, 100000);
        g_assert_cmpuint(w.max_body_bytes, ==, 64 * MIB);
        g_assert_cmpuint(w.max_upload_bytes, ==, 1024);
        g_assert_cmpstr(w.ui_dir, ==, "/srv/ui");
        l4m_web_config_done(&w);
        remove_dir(dir);
}

/* Drop-ins in name order after the main file; their problems in the order
 * read; files that are not drop-ins are not read. */
static void test_dropin_order_and_problems(void) {
        g_autofree char *dir = make_dir();
        g_autofree char *main_file = g_build_filename(dir, "left4me.conf", NULL);
        g_autofree char *a = g_build_filename(dir, "left4me.conf.d", "10-a.conf", NULL);
        g_autofree char *b = g_build_filename(dir, "left4me.conf.d", "20-b.conf", NULL);
        g_autofree char *masked = g_build_filename(dir, "left4me.conf.d", "30-masked.conf", NULL);
        g_autoptr(Config) c = NULL;

        put(dir, "left4me.conf", "[Jobs]\nMaxRunning=3\nRetainDays=x\n");
        put(dir, "left4me.conf.d/20-b.conf", "[Jobs]\nMaxRunning=0\n[Downloads]\nMaxParallel=7\n");
        put(dir, "left4me.conf.d/10-a.conf", "[Jobs]\nMaxRunning=5\n\n[Downloads]\nMaxParallel=lots\n");
        put(dir, "left4me.conf.d/.hidden.conf", "[Jobs]\nMaxRunning=9\n");
        put(dir, "left4me.conf.d/40-off.conf.disabled", "[Jobs]\nMaxRunning=9\n");
        put(dir, "left4me.conf.d/50-broken.conf.bak", "nonsense\n");
        g_assert_cmpint(symlink("/dev/null", masked), ==, 0);

        c = config_load(dir);
        g_assert_cmpuint(c->jobs_max_running, ==, 5);           /* 20-b's 0 is refused: 10-a's stays */
        g_assert_cmpuint(c->jobs_retain_days, ==, 14);
        g_assert_cmpuint(c->downloads_max_parallel, ==, 7);
        g_assert_cmpuint(g_strv_length(c->problems), ==, 3);
        g_assert_true(g_str_has_prefix(c->problems[0], main_file));
        g_assert_nonnull(strstr(c->problems[0], ":3: [Jobs] RetainDays=: invalid value \"x\""));
        g_assert_true(g_str_has_prefix(c->problems[1], a));
        g_assert_nonnull(strstr(c->problems[1], ":5: [Downloads] MaxParallel=: invalid value \"lots\""));
        g_assert_true(g_str_has_prefix(c->problems[2], b));
        g_assert_nonnull(strstr(c->problems[2], ":2: [Jobs] MaxRunning=: invalid value \"0\""));
        remove_dir(dir);
}

static void test_unknown_groups_and_keys(void) {
        g_autofree char *dir = make_dir();
        g_autofree char *main_file = g_build_filename(dir, "left4me.conf", NULL);
        g_autofree char *expected = NULL;
        g_autoptr(Config) c = NULL;
        g_autoptr(L4mConfig) lc = l4m_config_new(L4M_CONFIG_OTHER_GROUPS_IGNORED);
        L4mWebConfig w;

        put(dir, "left4me.conf",
            "[Nonsense]\nKey=1\nOther=2\n"          /* one problem for the section, none per key */
            "[Script]\nNoSuchKey=1\nRuntimeMaxSec=60\n"
            "[Web]\nNoSuchWebKey=1\nMaxSessions=3\n"
            "[Jobs]\nmaxrunning=3\nMaxRunning[de]=3\n");
        c = config_load(dir);
        g_assert_cmpuint(c->script_runtime_max_sec, ==, 60);
        g_assert_cmpuint(c->jobs_max_running, ==, 2);
        expected = g_strdup_printf("%s:1: [Nonsense]: unknown section, ignored", main_file);
        g_assert_cmpuint(g_strv_length(c->problems), ==, 5);
        g_assert_cmpstr(c->problems[0], ==, expected);
        g_clear_pointer(&expected, g_free);
        expected = g_strdup_printf("%s:5: [Script] NoSuchKey=: unknown key, ignored", main_file);
        g_assert_cmpstr(c->problems[1], ==, expected);
        g_clear_pointer(&expected, g_free);
        expected = g_strdup_printf("%s:8: [Web] NoSuchWebKey=: unknown key, ignored", main_file);
        g_assert_cmpstr(c->problems[2], ==, expected);
        g_assert_nonnull(strstr(c->problems[3], ":11: [Jobs] maxrunning=: unknown key"));
        g_assert_nonnull(strstr(c->problems[4], ":12: [Jobs] MaxRunning[de]=: unknown key"));

        /* The bridge: the daemon's groups and unknown ones are not its business. */
        l4m_web_config_init(&w);
        l4m_web_config_add_table(lc, &w);
        l4m_config_read_dir(lc, dir);
        g_assert_cmpuint(l4m_config_problems(lc)->len, ==, 1);
        g_assert_cmpstr(((const L4mConfigProblem *) l4m_config_problems(lc)->pdata[0])->key, ==, "NoSuchWebKey");
        g_assert_cmpuint(w.max_sessions, ==, 3);
        l4m_web_config_done(&w);
        remove_dir(dir);
}

/* A line that is not of the syntax spoils its whole file (values before
 * it included); other files are still read. */
static void test_syntax_errors(void) {
        static const struct {
                const char *text;
                unsigned line;
                const char *message;
        } cases[] = {
                { "[Jobs]\nMaxRunning=6\nthis is not a key file\n", 3, "not a [Section], Key=value or # comment line" },
                { "MaxRunning=6\n[Jobs]\n", 1, "key before any [Section]" },
                { "[Jobs]\nMaxRunning=6\n[Jobs\n", 3, "invalid section header" },
                { "[Jobs]\nMaxRunning=6\n[]\n", 3, "invalid section header" },
                { "[Jobs] x\nMaxRunning=6\n", 1, "invalid section header" },
                { "[Jobs]\nMaxRunning=6\n=6\n", 3, "not a [Section], Key=value or # comment line" },
                { "[Jobs]\nMaxRunning=6\n; comment\n", 3, "not a [Section], Key=value or # comment line" },
                { "[Jobs]\nMaxRunning=6\nRetainDays=\xff\n", 3, "not valid UTF-8" },
        };
        g_autofree char *dir = make_dir();

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *expected = g_strdup_printf("%s/left4me.conf:%u: %s, file ignored", dir, cases[i].line,
                                                            cases[i].message);
                g_autofree char *escaped = g_strescape(cases[i].text, NULL);
                g_autoptr(Config) c = NULL;

                g_test_message("%s", escaped);
                put(dir, "left4me.conf", cases[i].text);
                put(dir, "left4me.conf.d/10-ok.conf", "[Downloads]\nMaxParallel=6\n");
                c = config_load(dir);
                g_assert_cmpuint(c->jobs_max_running, ==, 2);
                g_assert_cmpuint(c->downloads_max_parallel, ==, 6);
                g_assert_cmpuint(g_strv_length(c->problems), ==, 1);
                g_assert_cmpstr(c->problems[0], ==, expected);
        }

        /* What the syntax allows: CRLF, blanks, comments, a section twice. */
        {
                g_autoptr(Config) c = NULL;

                put(dir, "left4me.conf", "\xef\xbb\xbf# comment\r\n\t[Jobs]  \r\n  MaxRunning =\t7 \r\n   # indented\r\n"
                                         "[Downloads]\n[Jobs]\nRetainDays=1");
                c = config_load(dir);
                /* A byte order mark is not part of the syntax. */
                g_assert_cmpuint(g_strv_length(c->problems), ==, 1);
                put(dir, "left4me.conf", "# comment\r\n\t[Jobs]  \r\n  MaxRunning =\t7 \r\n   # indented\r\n"
                                         "[Downloads]\n[Jobs]\nRetainDays=1");
                g_clear_pointer(&c, config_free);
                c = config_load(dir);
                g_assert_cmpuint(g_strv_length(c->problems), ==, 0);
                g_assert_cmpuint(c->jobs_max_running, ==, 7);
                g_assert_cmpuint(c->jobs_retain_days, ==, 1);
        }

        /* A NUL byte, and a file over 1 MiB. */
        {
                g_autofree char *path = g_build_filename(dir, "left4me.conf", NULL);
                g_autofree char *big = g_strnfill(L4M_CONFIG_FILE_SIZE_MAX + 1, '#');
                g_autoptr(Config) c = NULL;

                g_assert_true(g_file_set_contents(path, "[Jobs]\nMaxRunning=7\0\n", 21, NULL));
                c = config_load(dir);
                g_assert_cmpuint(c->jobs_max_running, ==, 2);
                g_assert_cmpuint(g_strv_length(c->problems), ==, 1);
                g_assert_nonnull(strstr(c->problems[0], "left4me.conf: contains a NUL byte, ignored"));
                g_clear_pointer(&c, config_free);

                g_assert_true(g_file_set_contents(path, big, -1, NULL));
                c = config_load(dir);
                g_assert_cmpuint(g_strv_length(c->problems), ==, 1);
                g_assert_nonnull(strstr(c->problems[0], "left4me.conf: larger than 1048576 bytes, ignored"));
        }
        remove_dir(dir);
}

/* PortMin= above PortMax=: a problem where PortMin= was set. */
static void test_port_range_problem(void) {
        g_autofree char *dir = make_dir();
        g_autofree char *expected = NULL;
        g_autoptr(Config) c = NULL;

        put(dir, "left4me.conf", "[Instances]\nPortMin=30000\n");
        put(dir, "left4me.conf.d/10-max.conf", "[Instances]\n\nPortMax=29000\n");
        c = config_load(dir);
        g_assert_cmpuint(c->instance_port_min, ==, 27015);
        g_assert_cmpuint(c->instance_port_max, ==, 27115);
        expected = g_strdup_printf("%s/left4me.conf:2: [Instances] PortMin=: PortMin=30000 is above PortMax=29000; "
                                   "both defaults are used (27015 to 27115)", dir);
        g_assert_cmpuint(g_strv_length(c->problems), ==, 1);
        g_assert_cmpstr(c->problems[0], ==, expected);
        remove_dir(dir);
}

/* [Script] FirstUID= to LastUID=: taken when apart from every other
 * range; else a problem where the first of them was set, and both
 * defaults. MaxRunning= is at most the range's size. */
static void test_script_uid_range(void) {
        static const struct {
                const char *text;
                unsigned line;
                const char *key, *why;
        } bad[] = {
                { "FirstUID=61000\nLastUID=61110", 2, "FirstUID", "61000-61110 overlaps the instances' uids ([Instances] FirstUID=60600 to LastUID=61099)" },
                { "LastUID=61200", 2, "LastUID", "61100-61200 overlaps systemd's DynamicUser= range 61184-65519" },
                { "FirstUID=65534\nLastUID=65534", 2, "FirstUID", "65534-65534 overlaps nobody (65534)" },
                { "FirstUID=70000\nLastUID=66000", 2, "FirstUID", "FirstUID=70000 is above LastUID=66000" },
                { "LastUID=65600", 2, "LastUID", "61100-65600 overlaps systemd's DynamicUser= range 61184-65519" },
        };
        g_autofree char *dir = make_dir();

        {
                g_autoptr(Config) c = load_script_line(dir, "FirstUID=70000\nLastUID=70009\nMaxRunning=10");
                g_assert_cmpuint(g_strv_length(c->problems), ==, 0);
                g_assert_cmpuint(c->script_first_uid, ==, 70000);
                g_assert_cmpuint(c->script_last_uid, ==, 70009);
                g_assert_cmpuint(c->script_max_running, ==, 10);
        }
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(Config) c = load_script_line(dir, bad[i].text);
                g_autofree char *expected = g_strdup_printf("%s/left4me.conf:%u: [Script] %s=: %s; both defaults are used "
                                                            "(61100 to 61183)", dir, bad[i].line, bad[i].key, bad[i].why);

                g_test_message("%s", bad[i].text);
                g_assert_cmpuint(g_strv_length(c->problems), ==, 1);
                g_assert_cmpstr(c->problems[0], ==, expected);
                g_assert_cmpuint(c->script_first_uid, ==, 61100);
                g_assert_cmpuint(c->script_last_uid, ==, 61183);
        }
        {
                g_autoptr(Config) c = load_script_line(dir, "FirstUID=61100\nLastUID=61102\nMaxRunning=5");
                g_autofree char *expected = g_strdup_printf("%s/left4me.conf:4: [Script] MaxRunning=: MaxRunning=5 is more "
                                                            "than the 3 uids of FirstUID= to LastUID=; 3 is used", dir);
                g_assert_cmpuint(g_strv_length(c->problems), ==, 1);
                g_assert_cmpstr(c->problems[0], ==, expected);
                g_assert_cmpuint(c->script_max_running, ==, 3);
        }
        remove_dir(dir);
}

/* What a problem line may contain: printable, valid UTF-8, bounded. */
static void test_problem_lines_bounded(void) {
        g_autofree char *dir = make_dir();
        g_autofree char *long_value = g_strnfill(5000, 'x');
        g_autofree char *text = g_strdup_printf("[Jobs]\nMaxRunning=%s\nRetainDays=\xc3\xa9\x1b[31m\n", long_value);
        g_autoptr(GString) many = g_string_new("[Jobs]\n");
        g_autoptr(Config) c = NULL;

        put(dir, "left4me.conf", text);
        c = config_load(dir);
        g_assert_cmpuint(g_strv_length(c->problems), ==, 2);
        for (size_t i = 0; c->problems[i]; i++) {
                g_assert_true(g_utf8_validate(c->problems[i], -1, NULL));
                g_assert_cmpuint(strlen(c->problems[i]), <, 1024);
                for (const char *p = c->problems[i]; *p; p++)
                        g_assert_cmpint((unsigned char) *p, >=, 0x20);
        }
        g_assert_nonnull(strstr(c->problems[0], "xxx…\""));
        g_assert_nonnull(strstr(c->problems[1], "\"\xc3\xa9?[31m\""));
        g_clear_pointer(&c, config_free);

        for (unsigned i = 0; i < L4M_CONFIG_PROBLEMS_MAX + 10; i++)
                g_string_append(many, "MaxRunning=0\n");
        put(dir, "left4me.conf", many->str);
        c = config_load(dir);
        g_assert_cmpuint(g_strv_length(c->problems), ==, L4M_CONFIG_PROBLEMS_MAX + 1);
        g_assert_nonnull(strstr(c->problems[L4M_CONFIG_PROBLEMS_MAX], "more than 256 problems"));
        remove_dir(dir);
}

/* The bridge's own way in: one file given (--config). */
static void test_web_config_file(void) {
        g_autofree char *dir = make_dir();
        g_autofree char *path = g_build_filename(dir, "web.conf", NULL);
        L4mWebConfig w;

        put(dir, "web.conf", "[Steam]\nApiUrl=nonsense\n[Web]\nMaxSessions=5\nHeartbeatSec=0\n");
        l4m_web_config_init(&w);
        l4m_web_config_load(&w, path);
        g_assert_cmpuint(w.max_sessions, ==, 5);
        g_assert_cmpuint(w.heartbeat_usec, ==, 15 * G_USEC_PER_SEC);
        l4m_web_config_done(&w);
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
        g_test_add_func("/config/every-key/bad-value", test_every_key_bad_value);
        g_test_add_func("/config/every-key/good-value", test_every_key_good_value);
        g_test_add_func("/config/dropin-order-and-problems", test_dropin_order_and_problems);
        g_test_add_func("/config/unknown-groups-and-keys", test_unknown_groups_and_keys);
        g_test_add_func("/config/syntax-errors", test_syntax_errors);
        g_test_add_func("/config/port-range-problem", test_port_range_problem);
        g_test_add_func("/config/script/uid-range", test_script_uid_range);
        g_test_add_func("/config/problem-lines-bounded", test_problem_lines_bounded);
        g_test_add_func("/config/web-config-file", test_web_config_file);
        return g_test_run();
}
