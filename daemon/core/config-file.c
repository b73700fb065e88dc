/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#include <assert.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "archive-extract.h"
#include "config.h"
#include "config-file.h"
#include "l4m-config.h"
#include "l4m-log.h"
#include "l4m-size.h"
#include "l4m-web-config.h"

#define GIB (UINT64_C(1) << 30)

#define KEY(group, name, kind, field, min, max) \
        { group, name, kind, offsetof(Config, field), min, max, false, NULL, NULL }
#define KEY_OR_INFINITY(group, name, kind, field, min, max) \
        { group, name, kind, offsetof(Config, field), min, max, true, NULL, NULL }

static const L4mConfigKey config_keys[] = {
        KEY("Steam", "ApiUrl", L4M_CONFIG_URL, steam_api_url, 0, 0),
        KEY("Steam", "SteamCmd", L4M_CONFIG_PATH, steam_cmd, 0, 0),
        KEY("Jobs", "MaxRunning", L4M_CONFIG_UNSIGNED, jobs_max_running, 1, 64),
        KEY("Jobs", "RetainDays", L4M_CONFIG_UNSIGNED, jobs_retain_days, 0, 3650),
        KEY("Downloads", "MaxParallel", L4M_CONFIG_UNSIGNED, downloads_max_parallel, 1, 64),
        KEY("Archive", "MaxBytes", L4M_CONFIG_SIZE, archive_max_bytes, 1, 1024 * GIB),
        KEY("Archive", "MaxEntries", L4M_CONFIG_UINT64, archive_max_entries, 1, 10000000),
        KEY("Archive", "MaxEntryBytes", L4M_CONFIG_SIZE, archive_max_entry_bytes, 1, 1024 * GIB),
        KEY("Archive", "MaxRatio", L4M_CONFIG_UINT64, archive_max_ratio, 1, 1000000),
        KEY("Script", "RuntimeMaxSec", L4M_CONFIG_UINT64, script_runtime_max_sec, 1, 7 * 86400),
        KEY_OR_INFINITY("Script", "MemoryMax", L4M_CONFIG_SIZE, script_memory_max, 32 * 1024 * 1024, 1024 * GIB),
        KEY("Script", "CPUQuota", L4M_CONFIG_PERCENT, script_cpu_quota_percent, 1, 100000),
        KEY_OR_INFINITY("Script", "TasksMax", L4M_CONFIG_UINT64, script_tasks_max, 8, 1000000),
        KEY("Script", "ResolvConf", L4M_CONFIG_PATH, script_resolv_conf, 0, 0),
        KEY("Script", "FirstUID", L4M_CONFIG_UNSIGNED, script_first_uid, 1000, 2147483646),
        KEY("Script", "LastUID", L4M_CONFIG_UNSIGNED, script_last_uid, 1000, 2147483646),
        KEY("Script", "MaxRunning", L4M_CONFIG_UNSIGNED, script_max_running, 1, 64),
        KEY("Backups", "KeepPerInstance", L4M_CONFIG_UNSIGNED, backups_keep_per_instance, 1, 10000),
        KEY_OR_INFINITY("Backups", "MaxBytes", L4M_CONFIG_SIZE, backups_max_bytes, 1, 1024 * 1024 * GIB),
        KEY_OR_INFINITY("Overlays", "OwnerMaxBytes", L4M_CONFIG_SIZE, overlays_owner_max_bytes, 1, 1024 * 1024 * GIB),
        KEY("Instances", "PortMin", L4M_CONFIG_PORT, instance_port_min, 1024, 65535),
        KEY("Instances", "PortMax", L4M_CONFIG_PORT, instance_port_max, 1024, 65535),
        KEY("Instances", "FirstUID", L4M_CONFIG_UNSIGNED, instance_first_uid, 1000, 4294967294u),
        KEY("Instances", "LastUID", L4M_CONFIG_UNSIGNED, instance_last_uid, 1000, 4294967294u),
        KEY_OR_INFINITY("Instances", "DefaultCPUQuota", L4M_CONFIG_PERCENT, instance_default_cpu_quota_percent,
                        CONFIG_INSTANCE_CPU_QUOTA_MIN, CONFIG_INSTANCE_CPU_QUOTA_MAX),
        KEY_OR_INFINITY("Instances", "MaxCPUQuota", L4M_CONFIG_PERCENT, instance_max_cpu_quota_percent,
                        CONFIG_INSTANCE_CPU_QUOTA_MIN, CONFIG_INSTANCE_CPU_QUOTA_MAX),
        KEY_OR_INFINITY("Instances", "DefaultMemoryMax", L4M_CONFIG_SIZE, instance_default_memory_max,
                        CONFIG_INSTANCE_MEMORY_MIN, CONFIG_INSTANCE_MEMORY_MAX),
        KEY_OR_INFINITY("Instances", "MaxMemoryMax", L4M_CONFIG_SIZE, instance_max_memory_max,
                        CONFIG_INSTANCE_MEMORY_MIN, CONFIG_INSTANCE_MEMORY_MAX),
        KEY_OR_INFINITY("Instances", "DefaultTasksMax", L4M_CONFIG_UINT64, instance_default_tasks_max,
                        CONFIG_INSTANCE_TASKS_MIN, CONFIG_INSTANCE_TASKS_MAX),
        KEY_OR_INFINITY("Instances", "MaxTasksMax", L4M_CONFIG_UINT64, instance_max_tasks_max,
                        CONFIG_INSTANCE_TASKS_MIN, CONFIG_INSTANCE_TASKS_MAX),
        KEY_OR_INFINITY("Instances", "DefaultDiskMax", L4M_CONFIG_SIZE, instance_default_disk_max,
                        CONFIG_INSTANCE_DISK_MIN, CONFIG_INSTANCE_DISK_MAX),
        KEY_OR_INFINITY("Instances", "MaxDiskMax", L4M_CONFIG_SIZE, instance_max_disk_max,
                        CONFIG_INSTANCE_DISK_MIN, CONFIG_INSTANCE_DISK_MAX),
};

void config_free(Config *c) {
        if (!c)
                return;
        g_free(c->steam_api_url);
        g_free(c->steam_cmd);
        g_free(c->script_resolv_conf);
        g_strfreev(c->problems);
        g_free(c);
}

Config *config_new_default(void) {
        Config *c = g_new0(Config, 1);

        c->steam_api_url = g_strdup("https://api.steampowered.com/");
        c->steam_cmd = g_strdup("/usr/games/steamcmd");
        c->jobs_max_running = 2;
        c->jobs_retain_days = 14;
        c->downloads_max_parallel = 4;
        c->archive_max_bytes = L4M_ARCHIVE_DEFAULT_MAX_BYTES;
        c->archive_max_entries = L4M_ARCHIVE_DEFAULT_MAX_ENTRIES;
        c->archive_max_entry_bytes = L4M_ARCHIVE_DEFAULT_MAX_ENTRY_BYTES;
        c->archive_max_ratio = L4M_ARCHIVE_DEFAULT_MAX_RATIO;
        c->script_runtime_max_sec = 3600;
        c->script_memory_max = 1 * GIB;
        c->script_cpu_quota_percent = 100;
        c->script_tasks_max = 512;
        c->script_resolv_conf = g_strdup(L4M_PKGDATADIR "/resolv.conf");
        c->script_first_uid = CONFIG_SCRIPT_FIRST_UID;
        c->script_last_uid = CONFIG_SCRIPT_LAST_UID;
        c->script_max_running = 2;
        c->overlays_owner_max_bytes = UINT64_MAX;
        c->backups_keep_per_instance = 7;
        c->backups_max_bytes = UINT64_MAX;
        c->instance_port_min = CONFIG_INSTANCE_PORT_MIN;
        c->instance_port_max = CONFIG_INSTANCE_PORT_MAX;
        c->instance_first_uid = CONFIG_INSTANCE_FIRST_UID;
        c->instance_last_uid = CONFIG_INSTANCE_LAST_UID;
        /* A server's defaults (left4med(8) explains them): one CPU, as
         * srcds simulates the game on one thread; 2G, twice what a
         * server with SourceMod and a large custom campaign uses; 256
         * tasks, several times the threads srcds starts; 4G of writes,
         * room for years of logs and some SourceTV demos. The ceilings
         * leave an admin's decision to what a host can give one server. */
        c->instance_default_cpu_quota_percent = 100;
        c->instance_max_cpu_quota_percent = 200;
        c->instance_default_memory_max = 2 * GIB;
        c->instance_max_memory_max = 8 * GIB;
        c->instance_default_tasks_max = 256;
        c->instance_max_tasks_max = 1024;
        c->instance_default_disk_max = 4 * GIB;
        c->instance_max_disk_max = 64 * GIB;
        c->problems = g_new0(char *, 1);
        return c;
}

/* The two ports are read one by one: only together can they be wrong. The
 * problem is filed where PortMin= was set, else where PortMax= was. */
static void check_port_range(Config *c, L4mConfig *config) {
        const char *key = "PortMin", *file = NULL;
        unsigned line = 0;

        if (c->instance_port_min <= c->instance_port_max)
                return;
        if (!l4m_config_origin(config, "Instances", key, &file, &line)) {
                key = "PortMax";
                (void) l4m_config_origin(config, "Instances", key, &file, &line);
        }
        if (file)
                l4m_config_add_problem(config, file, line, "Instances", key,
                                       "PortMin=%u is above PortMax=%u; both defaults are used (%u to %u)",
                                       c->instance_port_min, c->instance_port_max, CONFIG_INSTANCE_PORT_MIN,
                                       CONFIG_INSTANCE_PORT_MAX);
        c->instance_port_min = CONFIG_INSTANCE_PORT_MIN;
        c->instance_port_max = CONFIG_INSTANCE_PORT_MAX;
}

const char *config_uid_range_problem(unsigned first, unsigned last) {
        if (first > last)
                return "the first uid is above the last";
        if (first < 1000)
                return "uids below 1000 are the system's";
        /* systemd's DynamicUser= range, and nobody. */
        if (first <= 65519 && last >= 61184)
                return "it overlaps systemd's dynamic users, 61184 to 65519";
        if (first <= 65534 && last >= 65534)
                return "it includes 65534, nobody";
        return NULL;
}

/* Like the ports: only together can the two uids be wrong. The problem is
 * filed where FirstUID= was set, else where LastUID= was. */
static void check_instance_uid_range(Config *c, L4mConfig *config) {
        const char *key = "FirstUID", *file = NULL, *problem;
        unsigned line = 0;

        problem = config_uid_range_problem(c->instance_first_uid, c->instance_last_uid);
        if (!problem)
                return;
        if (!l4m_config_origin(config, "Instances", key, &file, &line)) {
                key = "LastUID";
                (void) l4m_config_origin(config, "Instances", key, &file, &line);
        }
        if (file)
                l4m_config_add_problem(config, file, line, "Instances", key,
                                       "FirstUID=%u to LastUID=%u refused: %s; both defaults are used (%u to %u)",
                                       c->instance_first_uid, c->instance_last_uid, problem, CONFIG_INSTANCE_FIRST_UID,
                                       CONFIG_INSTANCE_LAST_UID);
        c->instance_first_uid = CONFIG_INSTANCE_FIRST_UID;
        c->instance_last_uid = CONFIG_INSTANCE_LAST_UID;
}

/* Where a problem of two keys of group is filed: where the first of them
 * that was set was set. */
static bool origin_of(L4mConfig *config, const char *group, const char *key1, const char *key2,
                      const char **ret_key, const char **ret_file, unsigned *ret_line) {
        *ret_key = key1;
        if (l4m_config_origin(config, group, key1, ret_file, ret_line))
                return true;
        *ret_key = key2;
        return l4m_config_origin(config, group, key2, ret_file, ret_line);
}

/* uids no range of left4med's may hold: systemd's DynamicUser= range and
 * nobody (below 1000 the keys refuse already). The instances' range
 * ([Instances] FirstUID=, checked first) is the other left4med hands out. */
static const struct {
        unsigned first, last;
        const char *what;
} reserved_uids[] = {
        { 61184, 65519, "systemd's DynamicUser= range 61184-65519" },
        { 65534, 65534, "nobody (65534)" },
};

/* [Script] FirstUID= and LastUID= are read one by one: only together can
 * they be wrong. A wrong range gives way to both defaults. */
static void check_script_uids(Config *c, L4mConfig *config) {
        const char *key, *file = NULL;
        g_autofree char *why = NULL;
        unsigned line = 0;

        if (c->script_first_uid > c->script_last_uid)
                why = g_strdup_printf("FirstUID=%u is above LastUID=%u", c->script_first_uid, c->script_last_uid);
        if (!why && c->script_first_uid <= c->instance_last_uid && c->instance_first_uid <= c->script_last_uid)
                why = g_strdup_printf("%u-%u overlaps the instances' uids ([Instances] FirstUID=%u to LastUID=%u)",
                                      c->script_first_uid, c->script_last_uid, c->instance_first_uid,
                                      c->instance_last_uid);
        for (size_t i = 0; !why && i < G_N_ELEMENTS(reserved_uids); i++)
                if (c->script_first_uid <= reserved_uids[i].last && reserved_uids[i].first <= c->script_last_uid)
                        why = g_strdup_printf("%u-%u overlaps %s", c->script_first_uid, c->script_last_uid,
                                              reserved_uids[i].what);
        if (!why)
                return;
        if (origin_of(config, "Script", "FirstUID", "LastUID", &key, &file, &line))
                l4m_config_add_problem(config, file, line, "Script", key, "%s; both defaults are used (%u to %u)",
                                       why, CONFIG_SCRIPT_FIRST_UID, CONFIG_SCRIPT_LAST_UID);
        c->script_first_uid = CONFIG_SCRIPT_FIRST_UID;
        c->script_last_uid = CONFIG_SCRIPT_LAST_UID;
}

/* Each running script has a uid of its own. */
static void check_script_max_running(Config *c, L4mConfig *config) {
        unsigned uids = c->script_last_uid - c->script_first_uid + 1;
        const char *file = NULL;
        unsigned line = 0;

        if (c->script_max_running <= uids)
                return;
        if (l4m_config_origin(config, "Script", "MaxRunning", &file, &line))
                l4m_config_add_problem(config, file, line, "Script", "MaxRunning",
                                       "MaxRunning=%u is more than the %u uids of FirstUID= to LastUID=; %u is used",
                                       c->script_max_running, uids, uids);
        c->script_max_running = uids;
}

static char *format_limit(uint64_t v, bool size, bool percent) {
        if (v == UINT64_MAX)
                return g_strdup("infinity");
        if (size)
                return l4m_format_size(v);
        return g_strdup_printf("%" G_GUINT64_FORMAT "%s", v, percent ? "%" : "");
}

/* A default above its ceiling is lowered to it: the default is what an
 * owner gets without asking, and never more than an owner may ask for. */
static void check_limit(L4mConfig *config, const char *name, uint64_t *def, uint64_t max, bool size, bool percent) {
        g_autofree char *key = g_strconcat("Default", name, NULL);
        g_autofree char *d = NULL, *m = NULL;
        const char *file = NULL;
        unsigned line = 0;

        if (*def <= max)
                return;
        d = format_limit(*def, size, percent);
        m = format_limit(max, size, percent);
        if (!l4m_config_origin(config, "Instances", key, &file, &line)) {
                g_free(key);
                key = g_strconcat("Max", name, NULL);
                (void) l4m_config_origin(config, "Instances", key, &file, &line);
        }
        if (file)
                l4m_config_add_problem(config, file, line, "Instances", key,
                                       "Default%s=%s is above Max%s=%s; the default is lowered to %s", name, d, name, m,
                                       m);
        *def = max;
}

static uint64_t percent_u64(unsigned v) {
        return v == UINT_MAX ? UINT64_MAX : v;
}

static void check_limits(Config *c, L4mConfig *config) {
        uint64_t cpu = percent_u64(c->instance_default_cpu_quota_percent);

        check_limit(config, "CPUQuota", &cpu, percent_u64(c->instance_max_cpu_quota_percent), false, true);
        c->instance_default_cpu_quota_percent = cpu == UINT64_MAX ? UINT_MAX : (unsigned) cpu;
        check_limit(config, "MemoryMax", &c->instance_default_memory_max, c->instance_max_memory_max, true, false);
        check_limit(config, "TasksMax", &c->instance_default_tasks_max, c->instance_max_tasks_max, false, false);
        check_limit(config, "DiskMax", &c->instance_default_disk_max, c->instance_max_disk_max, true, false);
}

Config *config_load(const char *dir) {
        Config *c = config_new_default();
        g_autoptr(L4mConfig) config = l4m_config_new(0);
        L4mWebConfig web;

        assert(dir);
        /* [Web] is read for its problems only: left4me-web reads it again. */
        l4m_web_config_init(&web);
        l4m_config_add_table(config, config_keys, G_N_ELEMENTS(config_keys), c);
        l4m_web_config_add_table(config, &web);
        l4m_config_read_dir(config, dir);
        check_port_range(c, config);
        check_instance_uid_range(c, config);
        check_script_uids(c, config);
        check_script_max_running(c, config);
        check_limits(c, config);
        l4m_web_config_done(&web);

        g_strfreev(c->problems);
        c->problems = l4m_config_problem_lines(config);
        return c;
}

void config_log_problems(const Config *c) {
        for (size_t i = 0; c->problems[i]; i++)
                log_warning("%s", c->problems[i]);
}
