/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/game/: the one game installation: steamcmd in its unit, its output, app manifest and Steam login. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "app-manifest.h"
#include "fs-util.h"
#include "l4m-util.h"

typedef enum TokenType {
        TOKEN_END,
        TOKEN_STRING,
        TOKEN_OPEN,
        TOKEN_CLOSE,
        TOKEN_ERROR,
} TokenType;

typedef struct Lexer {
        const char *p, *end;
} Lexer;

/* The next token; a string's text goes to *ret (unescaped, owned). */
static TokenType next_token(Lexer *lx, char **ret) {
        for (;;) {
                while (lx->p < lx->end && g_ascii_isspace(*lx->p))
                        lx->p++;
                if (lx->p + 1 < lx->end && lx->p[0] == '/' && lx->p[1] == '/') {
                        while (lx->p < lx->end && *lx->p != '\n')
                                lx->p++;
                        continue;
                }
                break;
        }
        if (lx->p >= lx->end)
                return TOKEN_END;
        if (*lx->p == '{') {
                lx->p++;
                return TOKEN_OPEN;
        }
        if (*lx->p == '}') {
                lx->p++;
                return TOKEN_CLOSE;
        }
        if (*lx->p == '"') {
                g_autoptr(GString) s = g_string_new(NULL);

                lx->p++;
                while (lx->p < lx->end && *lx->p != '"') {
                        char c = *lx->p++;
                        if (c == '\\' && lx->p < lx->end) {
                                c = *lx->p++;
                                c = c == 'n' ? '\n' : c == 't' ? '\t' : c;
                        }
                        if (c == '\0')
                                return TOKEN_ERROR;
                        g_string_append_c(s, c);
                }
                if (lx->p >= lx->end)
                        return TOKEN_ERROR;     /* unterminated */
                lx->p++;
                *ret = g_string_free(g_steal_pointer(&s), false);
                return TOKEN_STRING;
        }
        {
                /* An unquoted word, up to a blank or brace. */
                const char *start = lx->p;
                while (lx->p < lx->end && !g_ascii_isspace(*lx->p) && *lx->p != '{' && *lx->p != '}' &&
                       *lx->p != '"' && *lx->p != '\0')
                        lx->p++;
                if (lx->p == start)
                        return TOKEN_ERROR;
                *ret = g_strndup(start, (size_t) (lx->p - start));
                return TOKEN_STRING;
        }
}

static bool buildid_is_valid(const char *s) {
        size_t n = strlen(s);
        return n > 0 && n <= APP_MANIFEST_BUILDID_MAX && strspn(s, "0123456789") == n;
}

int app_manifest_parse_buildid(const char *text, size_t size, char **ret_buildid) {
        Lexer lx = { text, text + size };
        g_autofree char *buildid = NULL;
        unsigned depth = 0;
        bool in_app_state = false;      /* depth 1 is AppState's section */
        bool seen_app_state = false;

        assert(text || size == 0);
        assert(ret_buildid);

        for (;;) {
                g_autofree char *key = NULL, *value = NULL;
                TokenType t = next_token(&lx, &key);

                if (t == TOKEN_END)
                        break;
                if (t == TOKEN_ERROR)
                        return -EBADMSG;
                if (t == TOKEN_CLOSE) {
                        if (depth == 0)
                                return -EBADMSG;
                        depth--;
                        if (depth == 0)
                                in_app_state = false;
                        continue;
                }
                if (t == TOKEN_OPEN)
                        return -EBADMSG;        /* a section needs a name */

                t = next_token(&lx, &value);
                if (t == TOKEN_OPEN) {
                        if (depth >= APP_MANIFEST_DEPTH_MAX)
                                return -EBADMSG;
                        if (depth == 0 && g_ascii_strcasecmp(key, "AppState") == 0 && !seen_app_state) {
                                in_app_state = true;
                                seen_app_state = true;
                        }
                        depth++;
                        continue;
                }
                if (t != TOKEN_STRING)
                        return -EBADMSG;
                /* Only AppState's own key: depots and the like have build
                 * ids of their own. */
                if (depth == 1 && in_app_state && g_ascii_strcasecmp(key, "buildid") == 0) {
                        g_free(buildid);
                        buildid = g_steal_pointer(&value);
                }
        }
        if (depth != 0 || !buildid || !buildid_is_valid(buildid))
                return -EBADMSG;
        *ret_buildid = g_steal_pointer(&buildid);
        return 0;
}

int app_manifest_read_buildid(int installation_fd, char **ret_buildid) {
        _cleanup_close_ int dir_fd = -1, fd = -1;
        g_autofree char *text = NULL;
        ssize_t n;
        struct stat st;

        assert(installation_fd >= 0);
        assert(ret_buildid);

        dir_fd = openat(installation_fd, "steamapps", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir_fd < 0)
                return errno == ENOTDIR ? -ELOOP : -errno;
        /* O_NONBLOCK: a fifo planted there does not hang us. */
        fd = openat(dir_fd, "appmanifest_222860.acf", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;
        if ((uint64_t) st.st_size > APP_MANIFEST_SIZE_MAX)
                return -EFBIG;

        /* The size may change while we read: never more than the bound. */
        text = g_malloc(APP_MANIFEST_SIZE_MAX + 1);
        n = read_full(fd, text, APP_MANIFEST_SIZE_MAX + 1, -1);
        if (n < 0)
                return (int) n;
        if ((size_t) n > APP_MANIFEST_SIZE_MAX)
                return -EFBIG;
        return app_manifest_parse_buildid(text, (size_t) n, ret_buildid);
}
