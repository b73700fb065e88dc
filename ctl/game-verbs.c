/* SPDX-License-Identifier: GPL-2.0-or-later */
/* l4mctl game install|update|status|login|logout: the game installation
 * and the Steam login it uses (org.left4me.Manager's game members). */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "bus-error.h"
#include "bus-properties.h"
#include "exit-codes.h"
#include "job-follow.h"
#include "json-output.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "overlay-info.h"
#include "verbs.h"

/* The daemon takes at most 128 bytes; a longer line is refused here. */
#define PASSWORD_MAX 128

static int append_game_options(sd_bus_message *m, const CtlArgs *args, bool update) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && args->validate)
                r = sd_bus_message_append(m, "{sv}", "validate", "b", 1);
        if (r >= 0 && update && args->restart_instances)
                r = sd_bus_message_append(m, "{sv}", "restart_instances", "b", 1);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

static int start_game_job(sd_bus *bus, const CtlArgs *args, bool update) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) m = NULL, reply = NULL;
        const char *member = update ? "UpdateGame" : "InstallGame";
        const char *job_path;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, member);
        if (r >= 0)
                r = append_game_options(m, args, update);
        if (r < 0)
                return bus_log_create_error(r);
        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0)
                return log_bus_error(&error, r, "cannot %s the game", update ? "update" : "install");
        r = sd_bus_message_read(reply, "o", &job_path);
        if (r < 0)
                return bus_log_parse_error(r);
        return job_queued(bus, args, job_path);
}

/* l4mctl game install [--validate] [--wait] */
int verb_game_install(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        assert(bus);
        assert(args);
        return start_game_job(bus, args, false);
}

/* l4mctl game update [--validate] [--restart-instances] [--wait] */
int verb_game_update(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        assert(bus);
        assert(args);
        return start_game_job(bus, args, true);
}

/* l4mctl game status [--json] */
int verb_game_status(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_autoptr(sd_bus_message) reply = NULL;
        uint32_t installed = 0;
        const char *build_id = "", *login = "";
        const BusProperty map[] = {
                { "GameInstalled", "b", &installed },
                { "GameBuildId", "s", &build_id },
                { "SteamLogin", "s", &login },
        };
        uint64_t found = 0;
        int r;

        assert(bus);
        assert(args);

        r = bus_get_all_properties(bus, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, "cannot read the game's status", &reply);
        if (r != 0)
                return r;
        r = bus_read_properties(reply, map, G_N_ELEMENTS(map), &found);
        if (r < 0)
                return bus_log_parse_error(r);
        if (!(found & 1u))
                return log_error_errno(EPROTO, "the daemon has no GameInstalled property (an older left4med?)");

        if (args->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();

                json_builder_begin_object(b);
                json_builder_set_member_name(b, "installed");
                json_builder_add_boolean_value(b, installed != 0);
                json_add_string_or_null(b, "build_id", *build_id ? build_id : NULL);
                json_add_string_or_null(b, "steam_login", login);
                json_builder_end_object(b);
                return json_print_builder(b);
        }
        printf("   Installed: %s\n", installed ? "yes" : "no");
        printf("    Build id: %s\n", *build_id ? build_id : "-");
        printf(" Steam login: %s\n", *login ? login : "anonymous");
        return 0;
}

static int set_steam_login(sd_bus *bus, const char *user, const char *password) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, "SetSteamLogin",
                               &error, NULL, "ss", user, password);
        if (r < 0)
                return log_bus_error(&error, r, *user ? "cannot store the Steam login" : "cannot remove the Steam login");
        return 0;
}

/* One line of standard input without its newline; with echo off when it
 * is a terminal. */
static int read_password(char *buf, size_t size) {
        struct termios old, quiet;
        bool tty = isatty(STDIN_FILENO);
        size_t len;
        char *ok;

        if (tty) {
                fputs("Steam password: ", stderr);
                fflush(stderr);
                if (tcgetattr(STDIN_FILENO, &old) < 0)
                        return log_error_errno(errno, "cannot read the terminal's settings: %s", STRERROR(errno));
                quiet = old;
                quiet.c_lflag &= ~(tcflag_t) ECHO;
                quiet.c_lflag |= ECHONL;
                if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) < 0)
                        return log_error_errno(errno, "cannot turn the terminal's echo off: %s", STRERROR(errno));
        }
        ok = fgets(buf, (int) size, stdin);
        if (tty)
                (void) tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        if (!ok)
                return log_error_errno(EINVAL, "no password given");
        len = strlen(buf);
        if (len > 0 && buf[len - 1] == '\n')
                buf[--len] = '\0';
        else if (!feof(stdin))
                return log_error_errno(E2BIG, "the password is longer than %d bytes", PASSWORD_MAX);
        if (len > 0 && buf[len - 1] == '\r')
                buf[--len] = '\0';
        return 0;
}

/* l4mctl game login USER: the password from the terminal (not echoed) or
 * from standard input's first line. */
int verb_game_login(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        char password[PASSWORD_MAX + 2];
        int r;

        assert(bus);
        assert(argv[0]);

        r = read_password(password, sizeof password);
        if (r >= 0)
                r = set_steam_login(bus, argv[0], password);
        explicit_bzero(password, sizeof password);
        if (r == 0)
                fprintf(stderr, "Game installs log in to Steam as %s.\n", argv[0]);
        return r;
}

/* l4mctl game logout */
int verb_game_logout(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        int r;

        assert(bus);
        r = set_steam_login(bus, "", "");
        if (r == 0)
                fprintf(stderr, "Game installs log in to Steam anonymously.\n");
        return r;
}
