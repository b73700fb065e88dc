/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "api-call.h"
#include "api-routes.h"
#include "bridge-internal.h"
#include "json-bus.h"
#include "l4m-log.h"
#include "l4m-util.h"

/* POST /api/overlays/NAME/archive (and POST /api/instances/NAME/backups,
 * a backup brought back: Manager.ImportBackup): the body goes chunk by chunk into an
 * unlinked temporary file (O_TMPFILE in $TMPDIR, else /var/tmp: disk, not
 * the memory a tmpfs /tmp would be), never into memory; when it is
 * complete, the file is handed to Overlay.ImportArchive as the fd. A pipe
 * fed as the daemon reads would save the disk copy, but libsoup 3.2 cannot
 * pause reading a request body, so a slow daemon would make the bridge
 * buffer the rest in memory. */

#define UPLOAD_KEY "l4m-upload"
/* Uploads in progress at once: one per session, a few in all (each may
 * spool up to [Web] MaxUploadBytes=). */
#define UPLOADS_PER_SESSION_MAX 1
#define UPLOADS_MAX 4
/* The spool's file system keeps at least this much free: the smaller of
 * 1 GiB and 5 % of its size. Checked against the declared length before
 * the body, and again every UPLOAD_SPACE_CHECK_BYTES written. */
#define SPOOL_RESERVE_MAX (UINT64_C(1) << 30)
#define SPOOL_RESERVE_PERCENT 5
#define UPLOAD_SPACE_CHECK_BYTES (UINT64_C(64) << 20)

typedef struct Upload {
        Session *session;   /* a reference; counted in its uploads and the bridge's */
        int fd;
        uint64_t size, max;
        uint64_t checked;   /* size when free space was last checked */
        int error;          /* a write failed (-ENOSPC: the spool would be too full) */
        bool too_large;
} Upload;

static void upload_free(Upload *u) {
        Session *s = u->session;

        assert(s->uploads > 0 && s->bridge->uploads > 0);
        s->uploads--;
        s->bridge->uploads--;
        session_unref(s);
        if (u->fd >= 0)
                close(u->fd);
        g_free(u);
}

/* Whether the file system of fd keeps its reserve after bytes more. */
static int spool_has_room(int fd, uint64_t bytes) {
        struct statvfs sv;
        uint64_t avail, total, reserve;

        if (fstatvfs(fd, &sv) < 0)
                return -errno;
        avail = (uint64_t) sv.f_bavail * sv.f_frsize;
        total = (uint64_t) sv.f_blocks * sv.f_frsize;
        reserve = MIN(SPOOL_RESERVE_MAX, total / 100 * SPOOL_RESERVE_PERCENT);
        return avail >= reserve && avail - reserve >= bytes;
}

static void reply_no_room(SoupServerMessage *msg) {
        bridge_reply_error(msg, SOUP_STATUS_INSUFFICIENT_STORAGE, "org.left4me.Web.InsufficientStorage",
                           "Not enough free space to store the upload.");
}

static const JsonBusOption import_options[] = {
        { "subdir", "s" }, { "strip_components", "u" }, { "mode", "s" }, { "name_encoding", "s" }, { NULL, NULL },
};

/* ImportBackup takes no options. */
static const JsonBusOption backup_import_options[] = { { NULL, NULL } };

UploadKind archive_upload_path(const char *path, char **ret_name) {
        g_auto(GStrv) segs = g_strsplit(path, "/", 7);
        UploadKind kind;

        /* "", "api", "overlays", NAME, "archive" or "", "api", "instances", NAME, "backups" */
        if (g_strv_length(segs) != 5 || strcmp(segs[1], "api") != 0 || !api_segment_is_valid(segs[3]))
                return UPLOAD_NONE;
        if (strcmp(segs[2], "overlays") == 0 && strcmp(segs[4], "archive") == 0)
                kind = UPLOAD_OVERLAY_ARCHIVE;
        else if (strcmp(segs[2], "instances") == 0 && strcmp(segs[4], "backups") == 0)
                kind = UPLOAD_INSTANCE_BACKUP;
        else
                return UPLOAD_NONE;
        if (ret_name)
                *ret_name = g_strdup(segs[3]);
        return kind;
}

static int open_tmpfile(void) {
        const char *dir = g_getenv("TMPDIR");
        int fd;

        if (!dir || dir[0] != '/')
                dir = "/var/tmp";
        fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC | O_EXCL, 0600);
        if (fd < 0)
                return -errno;
        return fd;
}

static void on_got_chunk(SoupServerMessage *msg, GBytes *chunk, gpointer userdata) {
        Upload *u = userdata;
        gsize len;
        const uint8_t *data = g_bytes_get_data(chunk, &len);

        if (u->error < 0 || u->too_large)
                return;
        if (len > u->max - u->size) {
                u->too_large = true;
                (void) ftruncate(u->fd, 0);
                return;
        }
        /* A body without a declared length, or a file system filling up
         * from elsewhere: the bytes so far count as well. */
        if (u->size + len - u->checked >= UPLOAD_SPACE_CHECK_BYTES) {
                u->checked = u->size;
                if (spool_has_room(u->fd, UPLOAD_SPACE_CHECK_BYTES) == 0) {
                        u->error = -ENOSPC;
                        (void) ftruncate(u->fd, 0);
                        return;
                }
        }
        while (len > 0) {
                ssize_t n = write(u->fd, data, len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        u->error = -errno;
                        return;
                }
                data += n;
                len -= (size_t) n;
                u->size += (uint64_t) n;
        }
}

/* The limit in the sentence, in bytes, rather than the key that sets it. */
static void reply_too_large(Bridge *b, SoupServerMessage *msg) {
        g_autofree char *text = g_strdup_printf("The upload is too large: this server takes archives of at most %"
                                                G_GUINT64_FORMAT " bytes.", (uint64_t) b->config.max_upload_bytes);

        bridge_reply_error(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "org.left4me.Web.PayloadTooLarge", text);
}

bool archive_upload_begin(Bridge *b, SoupServerMessage *msg) {
        g_autoptr(Session) s = NULL;
        goffset declared = soup_message_headers_get_content_length(soup_server_message_get_request_headers(msg));
        Upload *u;
        int fd, r;

        s = bridge_request_session(b, msg);
        if (!s)
                return false;
        if (declared > (goffset) b->config.max_upload_bytes) {
                reply_too_large(b, msg);
                return false;
        }
        if (s->uploads >= UPLOADS_PER_SESSION_MAX || b->uploads >= UPLOADS_MAX) {
                bridge_reply_error(msg, BRIDGE_STATUS_TOO_MANY_REQUESTS, "org.left4me.Web.TooManyRequests",
                                   s->uploads >= UPLOADS_PER_SESSION_MAX ? "Another upload of this session is in progress."
                                                                         : "Too many uploads in progress.");
                return false;
        }
        fd = open_tmpfile();
        if (fd < 0) {
                log_error_errno(fd, "Cannot create a temporary file for an upload: %s", STRERROR(fd));
                bridge_reply_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "org.left4me.Error.Failed",
                                   "Cannot store the upload.");
                return false;
        }
        r = spool_has_room(fd, declared > 0 ? (uint64_t) declared : 0);
        if (r <= 0) {
                if (r < 0)
                        log_warning_errno(r, "Cannot check the spool's free space: %s", STRERROR(r));
                close(fd);
                reply_no_room(msg);
                return false;
        }
        u = g_new0(Upload, 1);
        u->session = session_ref(s);
        s->uploads++;
        b->uploads++;
        u->fd = fd;
        u->max = b->config.max_upload_bytes;
        g_object_set_data_full(G_OBJECT(msg), UPLOAD_KEY, u, (GDestroyNotify) upload_free);
        soup_message_body_set_accumulate(soup_server_message_get_request_body(msg), false);
        g_signal_connect(msg, "got-chunk", G_CALLBACK(on_got_chunk), u);
        return true;
}

/* Options from the query: ?subdir=S&strip_components=N&mode=M&name_encoding=E. */
static JsonNode *options_from_query(SoupServerMessage *msg, char **error_text) {
        const char *query = g_uri_get_query(soup_server_message_get_uri(msg));
        g_autoptr(GHashTable) params = NULL;
        g_autoptr(JsonBuilder) jb = json_builder_new();
        GHashTableIter it;
        gpointer k, v;

        json_builder_begin_object(jb);
        if (query) {
                params = g_uri_parse_params(query, -1, "&", G_URI_PARAMS_NONE, NULL);
                if (!params) {
                        *error_text = g_strdup("malformed query");
                        return NULL;
                }
                g_hash_table_iter_init(&it, params);
                while (g_hash_table_iter_next(&it, &k, &v)) {
                        json_builder_set_member_name(jb, k);
                        if (strcmp(k, "strip_components") == 0) {
                                guint64 n;

                                if (!g_ascii_string_to_unsigned(v, 10, 0, G_MAXUINT32, &n, NULL)) {
                                        *error_text = g_strdup("strip_components: expected a number");
                                        return NULL;
                                }
                                json_builder_add_int_value(jb, (int64_t) n);
                        } else
                                json_builder_add_string_value(jb, v);
                }
        }
        json_builder_end_object(jb);
        return json_builder_get_root(jb);
}

static void on_imported(ApiCall *c, sd_bus_message *reply, unsigned index) {
        g_autoptr(JsonBuilder) jb = json_builder_new();
        g_autoptr(JsonNode) node = NULL;
        const char *path, *prefix = L4M_MANAGER_PATH "/job/";
        guint64 id;

        if (sd_bus_message_read(reply, "o", &path) < 0 || !g_str_has_prefix(path, prefix) ||
            !g_ascii_string_to_unsigned(path + strlen(prefix), 10, 0, G_MAXUINT64, &id, NULL)) {
                api_call_reply_error(c, SOUP_STATUS_BAD_GATEWAY, "org.left4me.Error.Failed", "Unexpected answer from left4med.");
                return;
        }
        json_builder_begin_object(jb);
        json_builder_set_member_name(jb, "job");
        json_builder_add_int_value(jb, (int64_t) id);
        json_builder_end_object(jb);
        node = json_builder_get_root(jb);
        api_call_reply_json(c, SOUP_STATUS_ACCEPTED, node);
}

/* Appends the query's options (those of the table) to m, whose other
 * arguments r says were appended, and sends it; answers c on failure. */
static void import_send(ApiCall *c, sd_bus_message *m, int r, const JsonBusOption *options) {
        g_autofree char *error_text = NULL;

        if (r >= 0)
                r = json_bus_append(m, "a{sv}", c->body, options, &error_text);
        if (r == -EINVAL && error_text) {
                g_autofree char *t = g_strdup_printf("options: %s", error_text);
                api_call_reply_error(c, SOUP_STATUS_BAD_REQUEST, "org.left4me.Error.InvalidArgument", t);
                return;
        }
        if (r >= 0)
                r = api_call_send(c, m, on_imported, 0);
        if (r < 0)
                api_call_reply_error(c, SOUP_STATUS_BAD_GATEWAY, "org.left4me.Error.Failed", STRERROR(r));
}

static void import_found(ApiCall *c) {
        g_autoptr(sd_bus_message) m = NULL;
        int r;

        r = api_call_new_method(c, c->path, "org.left4me.Overlay", "ImportArchive", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "h", c->fd);
        import_send(c, m, r, import_options);
}

/* Manager.ImportBackup(instance, fd, {}): no lookup, the daemon checks the name. */
static void backup_import(ApiCall *c) {
        g_autoptr(sd_bus_message) m = NULL;
        int r;

        r = api_call_new_method(c, L4M_MANAGER_PATH, "org.left4me.Manager", "ImportBackup", &m);
        if (r >= 0)
                r = sd_bus_message_append(m, "sh", c->name, c->fd);
        import_send(c, m, r, backup_import_options);
}

void archive_upload_handle(Bridge *b, SoupServerMessage *msg, Session *session, UploadKind kind, const char *name) {
        Upload *u = g_object_get_data(G_OBJECT(msg), UPLOAD_KEY);
        g_autofree char *error_text = NULL;
        JsonNode *options;
        ApiCall *c;

        if (!u) {
                bridge_reply_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "org.left4me.Error.Failed", "No upload.");
                return;
        }
        if (u->too_large) {
                reply_too_large(b, msg);
                return;
        }
        if (u->error == -ENOSPC) {
                reply_no_room(msg);
                return;
        }
        if (u->error < 0) {
                log_error_errno(u->error, "Cannot store an upload: %s", STRERROR(u->error));
                bridge_reply_error(msg, SOUP_STATUS_INSUFFICIENT_STORAGE, "org.left4me.Error.Failed", "Cannot store the upload.");
                return;
        }
        if (lseek(u->fd, 0, SEEK_SET) < 0) {
                bridge_reply_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "org.left4me.Error.Failed", STRERROR(errno));
                return;
        }
        options = options_from_query(msg, &error_text);
        if (!options) {
                bridge_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "org.left4me.Error.InvalidArgument", error_text);
                return;
        }
        c = api_call_new(session, msg);
        c->name = g_strdup(name);
        c->body = options;
        c->fd = l4m_take_fd(&u->fd);
        if (kind == UPLOAD_INSTANCE_BACKUP)
                backup_import(c);
        else
                api_call_lookup(c, API_TARGET_OVERLAY, import_found);
}
