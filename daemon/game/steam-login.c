/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/game/: the one game installation: steamcmd in its unit, its output, app manifest and Steam login. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "fs-util.h"
#include "l4m-util.h"
#include "steam-login.h"


bool steam_login_user_is_valid(const char *user) {
        size_t n = strlen(user);

        if (n == 0 || n > STEAM_LOGIN_USER_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!g_ascii_isalnum(user[i]) && user[i] != '_')
                        return false;
        return true;
}

const char *steam_login_password_problem(const char *password) {
        size_t n = strlen(password);

        if (n == 0)
                return "The password is empty.";
        if (n > STEAM_LOGIN_PASSWORD_MAX)
                return "The password is longer than 128 bytes.";
        if (!g_utf8_validate(password, (gssize) n, NULL))
                return "The password is not valid UTF-8.";
        /* It goes between quotes in a runscript line, which knows no
         * escapes: no quote, no backslash, nothing that ends the line. */
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) password[i];
                if (c < 0x20 || c == 0x7f || c == ' ')
                        return "The password contains a space or a control character.";
                if (c == '"' || c == '\\')
                        return "The password contains '\"' or '\\', which steamcmd's runscript cannot carry.";
        }
        return NULL;
}

int steam_login_store(int state_fd, const char *user, const char *password) {
        char *line;
        int r;

        assert(state_fd >= 0);

        if (!*user) {
                if (unlinkat(state_fd, STEAM_LOGIN_FILE, 0) < 0 && errno != ENOENT)
                        return -errno;
                return 0;
        }
        if (!steam_login_user_is_valid(user) || steam_login_password_problem(password))
                return -EINVAL;

        /* Root's alone, whatever the umask and our groups. */
        line = g_strdup_printf("login %s \"%s\"\n", user, password);
        r = write_file_atomic_at(state_fd, STEAM_LOGIN_FILE, line, strlen(line), 0600, 0, 0, true);
        explicit_bzero(line, strlen(line));
        g_free(line);
        return r;
}

int steam_login_load_user(int state_fd, char **ret_user) {
        _cleanup_close_ int fd = -1;
        char buf[STEAM_LOGIN_FILE_MAX + 1];
        const char *p, *end;
        ssize_t n;
        int r = 0;

        assert(state_fd >= 0);
        assert(ret_user);

        fd = openat(state_fd, STEAM_LOGIN_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT) {
                        *ret_user = g_strdup("");
                        return 0;
                }
                return -errno;
        }
        do
                n = read(fd, buf, sizeof buf - 1);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        buf[n] = '\0';

        /* "login USER ..." */
        if (strncmp(buf, "login ", strlen("login ")) != 0)
                r = -EBADMSG;
        else {
                g_autofree char *user = NULL;

                p = buf + strlen("login ");
                end = strchr(p, ' ');
                if (!end)
                        r = -EBADMSG;
                else {
                        user = g_strndup(p, (size_t) (end - p));
                        if (!steam_login_user_is_valid(user))
                                r = -EBADMSG;
                        else
                                *ret_user = g_steal_pointer(&user);
                }
        }
        explicit_bzero(buf, sizeof buf);
        return r;
}
