/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "config.h"
#include "l4m-log.h"
#include "l4m-size.h"
#include "web-checks.h"
#include "web-config.h"

#define CONFIG_FILE "left4me.conf"
#define CONFIG_DROPIN_DIR "left4me.conf.d"
#define CONFIG_DROPINS_MAX 256
#define GROUP "Web"
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)

void bridge_config_init(BridgeConfig *c) {
        assert(c);
        *c = (BridgeConfig) {
                .allowed_hosts = g_strsplit("localhost;127.0.0.1;::1", ";", -1),
                .session_idle_usec = UINT64_C(8) * 3600 * G_USEC_PER_SEC,
                .max_sessions = 128,
                .max_sessions_per_user = 8,
                .request_timeout_usec = UINT64_C(30) * G_USEC_PER_SEC,
                .max_connections = 4096,
                .max_streams = 16384,
                .max_streams_per_session = 64,
                .heartbeat_usec = UINT64_C(15) * G_USEC_PER_SEC,
                .max_body_bytes = 1 * MIB,
                .max_upload_bytes = 4 * GIB,
                .ui_dir = g_strdup(L4M_PKGDATADIR "/ui"),
        };
}

void bridge_config_done(BridgeConfig *c) {
        g_strfreev(c->allowed_hosts);
        g_free(c->ui_dir);
        g_strfreev(c->listen);
        g_free(c->certificate);
        g_free(c->key);
        *c = (BridgeConfig) { .max_sessions = 0 };
}

static bool parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *ret) {
        guint64 n;

        if (!g_ascii_string_to_unsigned(s, 10, min, max, &n, NULL))
                return false;
        *ret = n;
        return true;
}

static bool absolute_path_ok(const char *s) {
        return s[0] == '/' && strlen(s) < 4096;
}

/* Host names and literals: letters, digits, '.', '-', ':' and brackets. */
static bool allowed_hosts_parse(const char *s, char ***ret) {
        g_auto(GStrv) words = g_strsplit_set(s, "; \t", -1);
        g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);

        for (size_t i = 0; words[i]; i++) {
                if (!*words[i])
                        continue;
                if (strlen(words[i]) > 255 || list->len >= 64)
                        return false;
                for (const char *p = words[i]; *p; p++)
                        if (!g_ascii_isalnum(*p) && !strchr(".-:[]", *p))
                                return false;
                g_ptr_array_add(list, g_ascii_strdown(words[i], -1));
        }
        if (list->len == 0)
                return false;
        g_ptr_array_add(list, NULL);
        *ret = (char **) g_ptr_array_free(g_steal_pointer(&list), false);
        return true;
}

static bool apply_key(BridgeConfig *c, const char *key, const char *value) {
        uint64_t n;

        if (strcmp(key, "Listen") == 0) {
                char **l = NULL;

                if (web_listen_list_parse(value, &l) < 0)
                        return false;
                g_strfreev(c->listen);
                c->listen = l;
        } else if (strcmp(key, "Certificate") == 0 || strcmp(key, "Key") == 0 || strcmp(key, "UiDir") == 0) {
                char **field = key[0] == 'C' ? &c->certificate : key[0] == 'K' ? &c->key : &c->ui_dir;

                if (!absolute_path_ok(value))
                        return false;
                g_free(*field);
                *field = g_strdup(value);
        } else if (strcmp(key, "AllowedHosts") == 0) {
                char **l = NULL;

                if (!allowed_hosts_parse(value, &l))
                        return false;
                g_strfreev(c->allowed_hosts);
                c->allowed_hosts = l;
        } else if (strcmp(key, "SessionIdleSec") == 0) {
                if (!parse_uint(value, 1, 30 * 86400, &n))
                        return false;
                c->session_idle_usec = n * G_USEC_PER_SEC;
        } else if (strcmp(key, "HeartbeatSec") == 0) {
                if (!parse_uint(value, 1, 3600, &n))
                        return false;
                c->heartbeat_usec = n * G_USEC_PER_SEC;
        } else if (strcmp(key, "MaxSessions") == 0) {
                if (!parse_uint(value, 1, 240, &n))
                        return false;
                c->max_sessions = (unsigned) n;
        } else if (strcmp(key, "RequestTimeoutSec") == 0) {
                if (!parse_uint(value, 1, 3600, &n))
                        return false;
                c->request_timeout_usec = n * G_USEC_PER_SEC;
        } else if (strcmp(key, "MaxConnections") == 0) {
                if (!parse_uint(value, 1, 1000000, &n))
                        return false;
                c->max_connections = (unsigned) n;
        } else if (strcmp(key, "MaxSessionsPerUser") == 0) {
                if (!parse_uint(value, 1, 240, &n))
                        return false;
                c->max_sessions_per_user = (unsigned) n;
        } else if (strcmp(key, "MaxStreams") == 0) {
                if (!parse_uint(value, 1, 1000000, &n))
                        return false;
                c->max_streams = (unsigned) n;
        } else if (strcmp(key, "MaxStreamsPerSession") == 0) {
                if (!parse_uint(value, 1, 100000, &n))
                        return false;
                c->max_streams_per_session = (unsigned) n;
        } else if (strcmp(key, "MaxBodyBytes") == 0) {
                if (!l4m_parse_size(value, 1024, 64 * MIB, &n))
                        return false;
                c->max_body_bytes = (size_t) n;
        } else if (strcmp(key, "MaxUploadBytes") == 0) {
                if (!l4m_parse_size(value, 1024, 1024 * GIB, &n))
                        return false;
                c->max_upload_bytes = n;
        } else {
                log_warning("Unknown key %s= in [" GROUP "], ignored.", key);
                return true;
        }
        return true;
}

static void apply_file(BridgeConfig *c, const char *path) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GError) error = NULL;
        g_auto(GStrv) keys = NULL;

        if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &error)) {
                if (!g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
                        log_warning("Ignoring %s: %s", path, error->message);
                return;
        }
        keys = g_key_file_get_keys(kf, GROUP, NULL, NULL);
        for (size_t i = 0; keys && keys[i]; i++) {
                g_autofree char *value = g_key_file_get_string(kf, GROUP, keys[i], NULL);

                if (!value || !apply_key(c, keys[i], g_strstrip(value)))
                        log_warning("%s: invalid value for %s= in [" GROUP "], ignored.", path, keys[i]);
        }
}

static gint compare_strings(gconstpointer a, gconstpointer b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

void bridge_config_load(BridgeConfig *c, const char *path) {
        g_autofree char *dropin_dir = g_build_filename(L4M_CONF_DIR, CONFIG_DROPIN_DIR, NULL);
        g_autofree char *main_file = g_build_filename(L4M_CONF_DIR, CONFIG_FILE, NULL);
        g_autoptr(GPtrArray) dropins = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GDir) d = NULL;
        g_autoptr(GError) error = NULL;
        const char *name;

        if (path) {
                apply_file(c, path);
                return;
        }
        apply_file(c, main_file);
        d = g_dir_open(dropin_dir, 0, &error);
        if (!d) {
                if (!g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
                        log_warning("Ignoring %s: %s", dropin_dir, error->message);
                return;
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
                g_autofree char *p = g_build_filename(dropin_dir, dropins->pdata[i], NULL);
                apply_file(c, p);
        }
}
