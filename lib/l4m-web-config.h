/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>

#include <glib.h>

#include "l4m-config.h"

/* The [Web] settings of left4me-web. Here rather than in web-bridge/ so
 * that left4med --check-config checks [Web] with the bridge's own table. */
typedef struct L4mWebConfig {
        char **allowed_hosts;        /* [Web] AllowedHosts=: host names (no port) a Host header may carry */
        uint64_t session_idle_usec;  /* [Web] SessionIdleSec=: a session unused this long is closed */
        unsigned max_sessions;       /* [Web] MaxSessions=: logged-in sessions at once (one bus connection each) */
        unsigned max_sessions_per_user;  /* [Web] MaxSessionsPerUser=: at the cap its oldest is closed */
        unsigned max_streams;        /* [Web] MaxStreams=: event streams at once, in all */
        unsigned max_streams_per_session;  /* [Web] MaxStreamsPerSession= */
        uint64_t heartbeat_usec;     /* [Web] HeartbeatSec=: ": ping" on idle event streams; 0 = 15 s */
        uint64_t request_timeout_usec;  /* [Web] RequestTimeoutSec=: a connection without a whole
                                         * request's headers this long is closed */
        unsigned max_connections;    /* [Web] MaxConnections=: connections waiting for a request */
        uint64_t max_body_bytes;     /* [Web] MaxBodyBytes=: JSON request bodies */
        uint64_t max_upload_bytes;   /* [Web] MaxUploadBytes=: archive uploads */
        char *ui_dir;                /* [Web] UiDir=: static files of the UI */
        char **listen;               /* [Web] Listen= (for the generator), NULL if unset */
        char *certificate;           /* [Web] Certificate=, PEM; TLS when set with key */
        char *key;                   /* [Web] Key=, PEM */
} L4mWebConfig;

/* Sets the compiled-in defaults. */
void l4m_web_config_init(L4mWebConfig *c);
void l4m_web_config_done(L4mWebConfig *c);

/* The [Web] keys go into c. */
void l4m_web_config_add_table(L4mConfig *config, L4mWebConfig *c);

/* Reads the [Web] group into c, of file if given, else of the
 * configuration directory's files (l4m_config_read_dir()); other groups
 * belong to the daemon and are skipped. Problems are logged. */
void l4m_web_config_load(L4mWebConfig *c, const char *file);
