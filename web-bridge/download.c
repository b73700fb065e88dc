/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gunixinputstream.h>

#include "bridge-internal.h"
#include "download.h"
#include "l4m-log.h"
#include "l4m-util.h"

/* GET /api/backups/ID/download and /api/overlays/NAME/export: the daemon
 * answers with an fd (a backup file, or a pipe a worker of the daemon
 * writes a tar.zst into), and its bytes go to the response as they are
 * read, a chunk at a time: the bridge holds at most DOWNLOAD_QUEUED_MAX of
 * them, reading on only when the client has taken what was queued. A file
 * is sent with its Content-Length, a pipe chunked. Reads go through GIO,
 * which polls a pipe and reads a regular file on its thread pool, so a
 * slow disk never blocks the loop. A read error, or a file that ends
 * before its length, cuts the connection: the client sees an incomplete
 * download, never a short one that looks whole. */

#define DOWNLOAD_CHUNK (64u * 1024u)
#define DOWNLOAD_QUEUED_MAX (256u * 1024u)
/* Downloads at once: each holds an fd, and an overlay export a thread of
 * the daemon. */
#define DOWNLOADS_PER_SESSION_MAX 2
#define DOWNLOADS_MAX 16

typedef struct Download {
        Session *session;               /* a reference; counted in its downloads and the bridge's */
        SoupServerMessage *msg;         /* a reference */
        GInputStream *in;
        GCancellable *cancel;
        uint64_t queued;                /* appended to the body, not yet written */
        uint64_t sent;
        uint64_t length;                /* a file's size; UINT64_MAX for a pipe */
        bool reading;                   /* a read is in flight (it holds the Download) */
        bool done;                      /* the body is complete or cut */
        bool finished;                  /* the message finished: free once no read is in flight */
} Download;

bool download_may_begin(ApiCall *c) {
        Session *s = c->session;

        if (s->downloads < DOWNLOADS_PER_SESSION_MAX && c->bridge->downloads < DOWNLOADS_MAX)
                return true;
        api_call_reply_error(c, BRIDGE_STATUS_TOO_MANY_REQUESTS, "org.left4me.Web.TooManyRequests",
                             s->downloads >= DOWNLOADS_PER_SESSION_MAX ? "Other downloads of this session are in progress."
                                                                      : "Too many downloads in progress.");
        return false;
}

static void download_free(Download *d) {
        Session *s = d->session;

        assert(s->downloads > 0 && s->bridge->downloads > 0);
        s->downloads--;
        s->bridge->downloads--;
        g_signal_handlers_disconnect_by_data(d->msg, d);
        g_object_unref(d->msg);
        g_object_unref(d->cancel);
        g_object_unref(d->in);
        session_unref(s);
        g_free(d);
}

/* Ends the response short of its end: the connection goes. */
static void download_cut(Download *d) {
        GSocket *sock = soup_server_message_get_socket(d->msg);

        d->done = true;
        if (sock)
                (void) g_socket_shutdown(sock, true, true, NULL);
        soup_server_message_unpause(d->msg);
}

static void download_pump(Download *d);

static void on_read(GObject *source, GAsyncResult *result, gpointer userdata) {
        Download *d = userdata;
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) bytes = g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), result, &error);
        gsize n;

        d->reading = false;
        if (d->finished) {
                download_free(d);
                return;
        }
        if (!bytes) {
                log_warning("Cannot read a download for %s: %s", d->session->user, error->message);
                download_cut(d);
                return;
        }
        n = g_bytes_get_size(bytes);
        if (n == 0) {
                if (d->length != UINT64_MAX && d->sent != d->length) {
                        log_warning("A download for %s ended after %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes.",
                                    d->session->user, d->sent, d->length);
                        download_cut(d);
                        return;
                }
                d->done = true;
                soup_message_body_complete(soup_server_message_get_response_body(d->msg));
                soup_server_message_unpause(d->msg);
                return;
        }
        if (d->length != UINT64_MAX && n > d->length - d->sent) {
                log_warning("A download for %s grew past its length.", d->session->user);
                download_cut(d);
                return;
        }
        d->sent += n;
        d->queued += n;
        soup_message_body_append_bytes(soup_server_message_get_response_body(d->msg), bytes);
        soup_server_message_unpause(d->msg);
        download_pump(d);
}

static void download_pump(Download *d) {
        if (d->reading || d->done || d->finished || d->queued >= DOWNLOAD_QUEUED_MAX)
                return;
        d->reading = true;
        g_input_stream_read_bytes_async(d->in, DOWNLOAD_CHUNK, G_PRIORITY_DEFAULT, d->cancel, on_read, d);
}

static void on_wrote_body_data(SoupServerMessage *msg, guint size, gpointer userdata) {
        Download *d = userdata;

        d->queued = d->queued > size ? d->queued - size : 0;
        download_pump(d);
}

static void on_finished(SoupServerMessage *msg, gpointer userdata) {
        Download *d = userdata;

        d->finished = true;
        g_cancellable_cancel(d->cancel);
        if (!d->reading)
                download_free(d);
}

/* Content-Disposition for filename: a plain ASCII stand-in, and the
 * name itself (when it differs) as RFC 6266's filename*. */
static char *disposition_for(const char *filename) {
        g_autofree char *plain = g_strdup(filename);
        g_autofree char *valid = g_utf8_make_valid(filename, -1);
        g_autofree char *encoded = NULL;

        for (char *p = plain; *p; p++)
                if (!g_ascii_isalnum(*p) && !strchr("_.@+-", *p))
                        *p = '_';
        if (strcmp(plain, filename) == 0)
                return g_strdup_printf("attachment; filename=\"%s\"", plain);
        encoded = g_uri_escape_string(valid, NULL, false);
        return g_strdup_printf("attachment; filename=\"%s\"; filename*=UTF-8''%s", plain, encoded);
}

void download_begin(ApiCall *c, int fd, const char *filename, const char *content_type) {
        SoupMessageHeaders *h = soup_server_message_get_response_headers(c->msg);
        g_autofree char *disposition = NULL;
        struct stat st;
        Download *d;
        int copy;

        if (c->client_gone) {
                api_call_reply_json(c, SOUP_STATUS_OK, NULL);   /* writes nothing, frees c */
                return;
        }
        copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (copy < 0 || fstat(copy, &st) < 0) {
                int r = -errno;

                if (copy >= 0)
                        close(copy);
                api_call_reply_error(c, SOUP_STATUS_INTERNAL_SERVER_ERROR, "org.left4me.Error.Failed", STRERROR(r));
                return;
        }

        d = g_new0(Download, 1);
        d->session = session_ref(c->session);
        d->session->downloads++;
        c->bridge->downloads++;
        d->msg = g_object_ref(c->msg);
        d->in = g_unix_input_stream_new(copy, true);
        d->cancel = g_cancellable_new();
        d->length = S_ISREG(st.st_mode) ? (uint64_t) st.st_size : UINT64_MAX;

        soup_message_headers_set_content_type(h, content_type, NULL);
        disposition = disposition_for(filename);
        soup_message_headers_replace(h, "Content-Disposition", disposition);
        if (d->length != UINT64_MAX)
                soup_message_headers_set_content_length(h, (goffset) d->length);
        else
                soup_message_headers_set_encoding(h, SOUP_ENCODING_CHUNKED);
        soup_message_body_set_accumulate(soup_server_message_get_response_body(c->msg), false);
        g_signal_connect(d->msg, "finished", G_CALLBACK(on_finished), d);
        g_signal_connect(d->msg, "wrote-body-data", G_CALLBACK(on_wrote_body_data), d);

        /* The headers go now (200, and c is freed); the body follows. */
        api_call_reply_json(c, SOUP_STATUS_OK, NULL);
        if (soup_server_message_get_method(d->msg) == SOUP_METHOD_HEAD) {
                d->done = true;
                soup_message_body_complete(soup_server_message_get_response_body(d->msg));
                return;
        }
        download_pump(d);
}
