/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bridge-internal.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "web-checks.h"

/* The UI's files are small; anything larger is not one of them. */
#define STATIC_FILE_MAX (4u * 1024u * 1024u)

/* Opens name below dir without following any symlink and without leaving
 * dir: openat2() with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, or where that is
 * not available, one O_NOFOLLOW openat() per component. */
static int open_beneath(int dir, const char *name) {
        struct open_how how = {
                .flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        g_auto(GStrv) parts = NULL;
        _cleanup_close_ int cur = -1;
        long fd;

        fd = syscall(SYS_openat2, dir, name, &how, sizeof(how));
        if (fd >= 0)
                return (int) fd;
        if (errno != ENOSYS && errno != EPERM)
                return -errno;

        parts = g_strsplit(name, "/", -1);
        cur = fcntl(dir, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return -errno;
        for (size_t i = 0; parts[i]; i++) {
                bool last = !parts[i + 1];
                int next;

                /* Components were checked: no "..", no ".", no empties. */
                next = openat(cur, parts[i], O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | (last ? O_RDONLY : O_PATH | O_DIRECTORY));
                if (next < 0)
                        return -errno;
                close(cur);
                cur = next;
        }
        return l4m_take_fd(&cur);
}

static void not_found(SoupServerMessage *msg) {
        soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
        soup_server_message_set_response(msg, "text/plain; charset=utf-8", SOUP_MEMORY_STATIC, "Not found.\n", 11);
}

void static_files_handle(Bridge *b, SoupServerMessage *msg, const char *path) {
        const char *method = soup_server_message_get_method(msg);
        SoupMessageHeaders *rh = soup_server_message_get_response_headers(msg);
        _cleanup_close_ int dir = -1, fd = -1;
        g_autofree char *name = NULL, *etag = NULL, *data = NULL, *lm = NULL;
        g_autoptr(GDateTime) mtime = NULL;
        const char *inm;
        struct stat st;
        size_t got = 0;
        int r;

        if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
                soup_message_headers_replace(rh, "Allow", "GET, HEAD");
                soup_server_message_set_status(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
                return;
        }
        if (!bridge_check_host(b, msg))
                return;
        if (web_static_file_name(path, &name) < 0) {
                soup_server_message_set_status(msg, SOUP_STATUS_BAD_REQUEST, NULL);
                soup_server_message_set_response(msg, "text/plain; charset=utf-8", SOUP_MEMORY_STATIC, "Bad path.\n", 10);
                return;
        }
        dir = open(b->config.ui_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0) {
                log_warning_errno(errno, "Cannot open %s: %s", b->config.ui_dir, STRERROR(errno));
                not_found(msg);
                return;
        }
        fd = open_beneath(dir, name);
        if (fd < 0) {
                not_found(msg);
                return;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > STATIC_FILE_MAX) {
                not_found(msg);  /* never list a directory */
                return;
        }
        etag = g_strdup_printf("\"%jx-%jx-%jx\"", (uintmax_t) st.st_ino, (uintmax_t) st.st_size,
                               (uintmax_t) st.st_mtim.tv_sec * 1000000000u + (uintmax_t) st.st_mtim.tv_nsec);
        mtime = g_date_time_new_from_unix_utc(st.st_mtim.tv_sec);
        lm = mtime ? soup_date_time_to_string(mtime, SOUP_DATE_HTTP) : NULL;
        soup_message_headers_replace(rh, "ETag", etag);
        if (lm)
                soup_message_headers_replace(rh, "Last-Modified", lm);
        /* Revalidate every time (cheap with the ETag): an update of the UI
         * shows at once. */
        soup_message_headers_replace(rh, "Cache-Control", "no-cache");
        inm = soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "If-None-Match");
        if (inm && strcmp(inm, etag) == 0) {
                soup_server_message_set_status(msg, SOUP_STATUS_NOT_MODIFIED, NULL);
                return;
        }
        data = g_malloc((size_t) st.st_size + 1);
        while (got < (size_t) st.st_size) {
                ssize_t n = read(fd, data + got, (size_t) st.st_size - got);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        r = n < 0 ? -errno : -EIO;
                        log_warning_errno(r, "Cannot read %s: %s", name, STRERROR(r));
                        soup_server_message_set_status(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, NULL);
                        return;
                }
                got += (size_t) n;
        }
        soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
        soup_server_message_set_response(msg, web_content_type(name), SOUP_MEMORY_TAKE, g_steal_pointer(&data), got);
}
