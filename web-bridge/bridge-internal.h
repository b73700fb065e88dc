/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "bridge.h"

/* The core's parts, between its own files (bridge.h is the interface to
 * the event streams). */

#define L4M_WEB_COOKIE "l4m_session"
#define L4M_BUS_NAME "org.left4me.Manager"
#define L4M_MANAGER_PATH "/org/left4me/Manager"
/* libsoup 3.2 has no name for it. */
#define BRIDGE_STATUS_TOO_MANY_REQUESTS 429u
/* How long a bus call may take before the request is answered 504. */
#define BRIDGE_CALL_TIMEOUT_USEC (60 * G_USEC_PER_SEC)

/* Security headers on every answer (and Cache-Control: no-store for api). */
void bridge_add_security_headers(SoupServerMessage *msg, bool api);
/* The request's Host header is allowed; else answers 403 and returns false. */
bool bridge_check_host(Bridge *b, SoupServerMessage *msg);
/* Origin (or, without it, Sec-Fetch-Site) says same-origin; else 403. */
bool bridge_check_origin(Bridge *b, SoupServerMessage *msg);

/* web-sessions.c */
void sessions_init(Bridge *b);
void sessions_done(Bridge *b);
/* POST /api/login, /api/logout, GET /api/session. */
void sessions_handle_login(Bridge *b, SoupServerMessage *msg);
void sessions_handle_logout(Bridge *b, SoupServerMessage *msg);
void sessions_handle_session(Bridge *b, SoupServerMessage *msg);
/* Ends a session: its streams and calls end, its bus connection closes. */
void session_close(Session *s, const char *why);

/* api-routes.c: everything under /api/ but the session routes. */
void api_routes_handle(Bridge *b, SoupServerMessage *msg, const char *path);

/* archive-upload.c */
typedef enum {
        UPLOAD_NONE,
        UPLOAD_OVERLAY_ARCHIVE,   /* POST /api/overlays/NAME/archive: Overlay.ImportArchive */
        UPLOAD_INSTANCE_BACKUP,   /* POST /api/instances/NAME/backups: Manager.ImportBackup */
} UploadKind;
/* From the early handler for an upload route: streams the body into an
 * unlinked temporary file instead of memory. False if it answered the
 * request itself. */
bool archive_upload_begin(Bridge *b, SoupServerMessage *msg);
void archive_upload_handle(Bridge *b, SoupServerMessage *msg, Session *session, UploadKind kind, const char *name);
/* Which upload route path is (UPLOAD_NONE: none), and its NAME. */
UploadKind archive_upload_path(const char *path, char **ret_name);

/* static-files.c: GET/HEAD of anything outside /api/. */
void static_files_handle(Bridge *b, SoupServerMessage *msg, const char *path);
