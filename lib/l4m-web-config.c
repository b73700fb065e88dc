/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "config.h"
#include "l4m-listen.h"
#include "l4m-web-config.h"

#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
#define ALLOWED_HOSTS_MAX 64

void l4m_web_config_init(L4mWebConfig *c) {
        assert(c);
        *c = (L4mWebConfig) {
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

void l4m_web_config_done(L4mWebConfig *c) {
        g_strfreev(c->allowed_hosts);
        g_free(c->ui_dir);
        g_strfreev(c->listen);
        g_free(c->certificate);
        g_free(c->key);
        *c = (L4mWebConfig) { .max_sessions = 0 };
}

static int parse_listen(const char *value, void *field) {
        char **list = NULL;
        int r;

        r = l4m_listen_list_parse(value, &list);
        if (r < 0)
                return r;
        g_strfreev(*(char ***) field);
        *(char ***) field = list;
        return 0;
}

/* Host names and literals: letters, digits, '.', '-', ':' and brackets,
 * separated by ';' or blanks. */
static int parse_allowed_hosts(const char *value, void *field) {
        g_auto(GStrv) words = g_strsplit_set(value, "; \t", -1);
        g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);

        for (size_t i = 0; words[i]; i++) {
                if (!*words[i])
                        continue;
                if (strlen(words[i]) > 255 || list->len >= ALLOWED_HOSTS_MAX)
                        return -EINVAL;
                for (const char *p = words[i]; *p; p++)
                        if (!g_ascii_isalnum(*p) && !strchr(".-:[]", *p))
                                return -EINVAL;
                g_ptr_array_add(list, g_ascii_strdown(words[i], -1));
        }
        if (list->len == 0)
                return -EINVAL;
        g_ptr_array_add(list, NULL);
        g_strfreev(*(char ***) field);
        *(char ***) field = (char **) g_ptr_array_free(g_steal_pointer(&list), false);
        return 0;
}

#define WEB_KEY(name, kind, field, min, max) \
        { "Web", name, kind, offsetof(L4mWebConfig, field), min, max, false, NULL, NULL }

static const L4mConfigKey web_config_keys[] = {
        { "Web", "Listen", L4M_CONFIG_CUSTOM, offsetof(L4mWebConfig, listen), 0, 0, false, parse_listen,
          "addresses IPV4:PORT or [IPV6]:PORT, separated by blanks (at most 32)" },
        WEB_KEY("Certificate", L4M_CONFIG_PATH, certificate, 0, 0),
        WEB_KEY("Key", L4M_CONFIG_PATH, key, 0, 0),
        { "Web", "AllowedHosts", L4M_CONFIG_CUSTOM, offsetof(L4mWebConfig, allowed_hosts), 0, 0, false,
          parse_allowed_hosts, "host names or addresses separated by ';' (at most 64)" },
        WEB_KEY("SessionIdleSec", L4M_CONFIG_SECONDS, session_idle_usec, 1, 30 * 86400),
        WEB_KEY("HeartbeatSec", L4M_CONFIG_SECONDS, heartbeat_usec, 1, 3600),
        WEB_KEY("MaxSessions", L4M_CONFIG_UNSIGNED, max_sessions, 1, 240),
        WEB_KEY("MaxSessionsPerUser", L4M_CONFIG_UNSIGNED, max_sessions_per_user, 1, 240),
        WEB_KEY("MaxConnections", L4M_CONFIG_UNSIGNED, max_connections, 1, 1000000),
        WEB_KEY("RequestTimeoutSec", L4M_CONFIG_SECONDS, request_timeout_usec, 1, 3600),
        WEB_KEY("MaxStreams", L4M_CONFIG_UNSIGNED, max_streams, 1, 1000000),
        WEB_KEY("MaxStreamsPerSession", L4M_CONFIG_UNSIGNED, max_streams_per_session, 1, 100000),
        WEB_KEY("MaxBodyBytes", L4M_CONFIG_SIZE, max_body_bytes, 1024, 64 * MIB),
        WEB_KEY("MaxUploadBytes", L4M_CONFIG_SIZE, max_upload_bytes, 1024, 1024 * GIB),
        WEB_KEY("UiDir", L4M_CONFIG_PATH, ui_dir, 0, 0),
};

void l4m_web_config_add_table(L4mConfig *config, L4mWebConfig *c) {
        l4m_config_add_table(config, web_config_keys, G_N_ELEMENTS(web_config_keys), c);
}

void l4m_web_config_load(L4mWebConfig *c, const char *file) {
        g_autoptr(L4mConfig) config = l4m_config_new(L4M_CONFIG_OTHER_GROUPS_IGNORED);

        l4m_web_config_add_table(config, c);
        if (file)
                l4m_config_read_file(config, file);
        else
                l4m_config_read_dir(config, L4M_CONF_DIR);
        l4m_config_log_problems(config);
}
