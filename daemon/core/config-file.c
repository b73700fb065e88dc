/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "archive-extract.h"
#include "config.h"
#include "config-file.h"
#include "l4m-log.h"
#include "l4m-size.h"
#include "l4m-util.h"

#define CONFIG_FILE "left4me.conf"
#define CONFIG_DROPIN_DIR "left4me.conf.d"
#define CONFIG_DROPINS_MAX 256

typedef enum {
        KEY_STRING,
        KEY_URL,
        KEY_UINT,
        KEY_UINT64,
        KEY_BYTES,              /* a number with an optional K, M, G or T (1024-based), or infinity */
        KEY_SIZE,               /* the same, without infinity */
        KEY_PERCENT,            /* N% */
        KEY_UINT64_OR_INFINITY,
        KEY_ACCEPTED,           /* known, read by left4me-web (web-bridge/web-config.c) */
} KeyType;

typedef struct ConfigKey {
        const char *group;
        const char *key;
        KeyType type;
        size_t offset;
        uint64_t min, max;
} ConfigKey;

#define GIB (UINT64_C(1) << 30)

static const ConfigKey config_keys[] = {
        { "Steam", "ApiUrl", KEY_URL, offsetof(Config, steam_api_url), 0, 0 },
        { "Steam", "SteamCmd", KEY_STRING, offsetof(Config, steam_cmd), 0, 0 },
        { "Jobs", "MaxRunning", KEY_UINT, offsetof(Config, jobs_max_running), 1, 64 },
        { "Jobs", "RetainDays", KEY_UINT, offsetof(Config, jobs_retain_days), 0, 3650 },
        { "Downloads", "MaxParallel", KEY_UINT, offsetof(Config, downloads_max_parallel), 1, 64 },
        { "Archive", "MaxBytes", KEY_SIZE, offsetof(Config, archive_max_bytes), 1, 1024 * GIB },
        { "Archive", "MaxEntries", KEY_UINT64, offsetof(Config, archive_max_entries), 1, 10000000 },
        { "Archive", "MaxEntryBytes", KEY_SIZE, offsetof(Config, archive_max_entry_bytes), 1, 1024 * GIB },
        { "Archive", "MaxRatio", KEY_UINT64, offsetof(Config, archive_max_ratio), 1, 1000000 },
        { "Script", "RuntimeMaxSec", KEY_UINT64, offsetof(Config, script_runtime_max_sec), 1, 7 * 86400 },
        { "Script", "MemoryMax", KEY_BYTES, offsetof(Config, script_memory_max), 32 * 1024 * 1024, 1024 * GIB },
        { "Script", "CPUQuota", KEY_PERCENT, offsetof(Config, script_cpu_quota_percent), 1, 100000 },
        { "Script", "TasksMax", KEY_UINT64_OR_INFINITY, offsetof(Config, script_tasks_max), 8, 1000000 },
        { "Script", "ResolvConf", KEY_STRING, offsetof(Config, script_resolv_conf), 0, 0 },
        { "Instances", "PortMin", KEY_UINT, offsetof(Config, instance_port_min), 1024, 65535 },
        { "Instances", "PortMax", KEY_UINT, offsetof(Config, instance_port_max), 1024, 65535 },
        { "Web", "Listen", KEY_ACCEPTED, 0, 0, 0 },
        { "Web", "Certificate", KEY_ACCEPTED, 0, 0, 0 },
        { "Web", "Key", KEY_ACCEPTED, 0, 0, 0 },
        { "Web", "AllowedHosts", KEY_ACCEPTED, 0, 0, 0 },
        { "Web", "SessionIdleSec", KEY_ACCEPTED, 0, 0, 0 },
        { "Web", "HeartbeatSec", KEY_ACCEPTED, 0, 0, 0 },
        { "Web", "MaxSessions", KEY_ACCEPTED, 0, 0, 0 },
        { "Web", "MaxSessionsPerUser", KEY_ACCEPTED, 0, 0, 0 },
        { "Web", "MaxConnections", KEY_ACCEPTED, 0, 0, 0 },
        { "Web", "RequestTimeoutSec", KEY_ACCEPTED, 0, 0, 0 },
        { "Web", "MaxStreams", KEY_ACCEPTED, 0, 0, 0 },
        { "Web", "MaxStreamsPerSession", KEY_ACCEPTED, 0, 0, 0 },
        { "Web", "MaxBodyBytes", KEY_ACCEPTED, 0, 0, 0 },
        { "Web", "MaxUploadBytes", KEY_ACCEPTED, 0, 0, 0 },
        { "Web", "UiDir", KEY_ACCEPTED, 0, 0, 0 },
};

void config_free(Config *c) {
        if (!c)
                return;
        g_free(c->steam_api_url);
        g_free(c->steam_cmd);
        g_free(c->script_resolv_conf);
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
        c->instance_port_min = CONFIG_INSTANCE_PORT_MIN;
        c->instance_port_max = CONFIG_INSTANCE_PORT_MAX;
        return c;
}

static const ConfigKey *find_key(const char *group, const char *key) {
        for (size_t i = 0; i < G_N_ELEMENTS(config_keys); i++)
                if (strcmp(config_keys[i].group, group) == 0 && strcmp(config_keys[i].key, key) == 0)
                        return &config_keys[i];
        return NULL;
}

static bool group_is_known(const char *group) {
        for (size_t i = 0; i < G_N_ELEMENTS(config_keys); i++)
                if (strcmp(config_keys[i].group, group) == 0)
                        return true;
        return false;
}

static bool url_is_acceptable(const char *s) {
        return (g_str_has_prefix(s, "http://") || g_str_has_prefix(s, "https://")) &&
               strlen(s) < 2048 && !strpbrk(s, " \t\r\n");
}

/* l4m_parse_size(), or "infinity" (UINT64_MAX). */
static bool parse_bytes(const char *s, uint64_t min, uint64_t max, uint64_t *ret) {
        if (strcmp(s, "infinity") == 0) {
                *ret = UINT64_MAX;
                return true;
        }
        return l4m_parse_size(s, min, max, ret);
}

/* Applies one key's value; false if it does not parse (the default stays). */
static bool apply_key(Config *c, const ConfigKey *k, const char *value) {
        void *field = (char *) c + k->offset;
        guint64 n;

        switch (k->type) {
        case KEY_URL:
                if (!url_is_acceptable(value))
                        return false;
                /* Base URLs are joined with API paths: keep exactly one '/'. */
                g_free(*(char **) field);
                *(char **) field = g_str_has_suffix(value, "/") ? g_strdup(value) : g_strconcat(value, "/", NULL);
                return true;
        case KEY_STRING:
                if (value[0] != '/' || strlen(value) >= 4096)
                        return false;
                g_free(*(char **) field);
                *(char **) field = g_strdup(value);
                return true;
        case KEY_UINT:
        case KEY_UINT64:
                if (!g_ascii_string_to_unsigned(value, 10, k->min, k->max, &n, NULL))
                        return false;
                if (k->type == KEY_UINT)
                        *(unsigned *) field = (unsigned) n;
                else
                        *(uint64_t *) field = n;
                return true;
        case KEY_BYTES:
                return parse_bytes(value, k->min, k->max, (uint64_t *) field);
        case KEY_SIZE:
                return l4m_parse_size(value, k->min, k->max, (uint64_t *) field);
        case KEY_UINT64_OR_INFINITY:
                if (strcmp(value, "infinity") == 0) {
                        *(uint64_t *) field = UINT64_MAX;
                        return true;
                }
                if (!g_ascii_string_to_unsigned(value, 10, k->min, k->max, &n, NULL))
                        return false;
                *(uint64_t *) field = n;
                return true;
        case KEY_PERCENT: {
                g_autofree char *digits = NULL;
                size_t len = strlen(value);

                if (len < 2 || value[len - 1] != '%')
                        return false;
                digits = g_strndup(value, len - 1);
                if (!g_ascii_string_to_unsigned(digits, 10, k->min, k->max, &n, NULL))
                        return false;
                *(unsigned *) field = (unsigned) n;
                return true;
        }
        case KEY_ACCEPTED:
                return true;
        }
        assert(!"unknown key type");
        return false;
}

static void apply_file(Config *c, const char *path) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) groups = NULL;

        if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &error)) {
                if (!g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
                        log_warning("Ignoring %s: %s", path, error->message);
                return;
        }

        groups = g_key_file_get_groups(kf, NULL);
        for (size_t i = 0; groups[i]; i++) {
                g_auto(GStrv) keys = g_key_file_get_keys(kf, groups[i], NULL, NULL);

                if (!group_is_known(groups[i])) {
                        log_warning("%s: unknown section [%s], ignored.", path, groups[i]);
                        continue;
                }
                for (size_t j = 0; keys && keys[j]; j++) {
                        const ConfigKey *k = find_key(groups[i], keys[j]);
                        g_autofree char *value = NULL;

                        if (!k) {
                                log_warning("%s: unknown key %s= in [%s], ignored.", path, keys[j], groups[i]);
                                continue;
                        }
                        value = g_key_file_get_string(kf, groups[i], keys[j], NULL);
                        if (!value || !apply_key(c, k, g_strstrip(value)))
                                log_warning("%s: invalid value for %s= in [%s], ignored.", path, keys[j], groups[i]);
                }
        }
}

/* The two ports are read one by one: only together can they be wrong. */
static void check_port_range(Config *c) {
        if (c->instance_port_min <= c->instance_port_max)
                return;
        log_warning("[Instances] PortMin=%u is above PortMax=%u; using %u..%u.", c->instance_port_min,
                    c->instance_port_max, CONFIG_INSTANCE_PORT_MIN, CONFIG_INSTANCE_PORT_MAX);
        c->instance_port_min = CONFIG_INSTANCE_PORT_MIN;
        c->instance_port_max = CONFIG_INSTANCE_PORT_MAX;
}

static gint compare_strings(gconstpointer a, gconstpointer b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

Config *config_load(const char *dir) {
        Config *c = config_new_default();
        g_autofree char *main_file = g_build_filename(dir, CONFIG_FILE, NULL);
        g_autofree char *dropin_dir = g_build_filename(dir, CONFIG_DROPIN_DIR, NULL);
        g_autoptr(GPtrArray) dropins = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GDir) d = NULL;
        g_autoptr(GError) error = NULL;
        const char *name;

        apply_file(c, main_file);

        d = g_dir_open(dropin_dir, 0, &error);
        if (!d) {
                if (!g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
                        log_warning("Ignoring %s: %s", dropin_dir, error->message);
                check_port_range(c);
                return c;
        }
        while ((name = g_dir_read_name(d))) {
                if (!g_str_has_suffix(name, ".conf") || name[0] == '.')
                        continue;
                if (dropins->len >= CONFIG_DROPINS_MAX) {
                        log_warning("%s: more than %d drop-ins, ignoring the rest.", dropin_dir, CONFIG_DROPINS_MAX);
                        break;
                }
                g_ptr_array_add(dropins, g_strdup(name));
        }
        g_ptr_array_sort(dropins, compare_strings);
        for (guint i = 0; i < dropins->len; i++) {
                g_autofree char *path = g_build_filename(dropin_dir, dropins->pdata[i], NULL);
                apply_file(c, path);
        }
        check_port_range(c);
        return c;
}
