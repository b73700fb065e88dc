/* SPDX-License-Identifier: GPL-2.0-or-later */
/* l4mctl user add|list|passwd|delete: the web accounts the bridge logs in
 * as. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "bus-error.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "verbs.h"

/* The daemon takes 8 to 1024 bytes; one more to tell a longer line. */
#define PASSWORD_MAX 1024
#define PASSWORD_BUF (PASSWORD_MAX + 2)

/* One line from the terminal with echo off, after prompt. */
static int read_tty_line(const char *prompt, char *buf, size_t size) {
        struct termios old, quiet;
        char *ok;

        fputs(prompt, stderr);
        fflush(stderr);
        if (tcgetattr(STDIN_FILENO, &old) < 0)
                return log_error_errno(errno, "cannot read the terminal's settings: %s", STRERROR(errno));
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t) ECHO;
        quiet.c_lflag |= ECHONL;
        if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) < 0)
                return log_error_errno(errno, "cannot turn the terminal's echo off: %s", STRERROR(errno));
        ok = fgets(buf, (int) size, stdin);
        (void) tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        return ok ? 0 : log_error_errno(EINVAL, "no password given");
}

/* Cuts the line's end off; refuses a line longer than the buffer. */
static int chomp(char *buf) {
        size_t len = strlen(buf);

        if (len > 0 && buf[len - 1] == '\n')
                buf[--len] = '\0';
        else if (!feof(stdin))
                return log_error_errno(E2BIG, "the password is longer than %d bytes", PASSWORD_MAX);
        if (len > 0 && buf[len - 1] == '\r')
                buf[--len] = '\0';
        if (len == 0)
                return log_error_errno(EINVAL, "no password given");
        return 0;
}

/* The new password: asked twice on a terminal (not echoed), else the first
 * line of standard input. */
static int read_new_password(const char *name, char *buf, size_t size) {
        char again[PASSWORD_BUF];
        g_autofree char *prompt = NULL;
        int r;

        if (!isatty(STDIN_FILENO)) {
                if (!fgets(buf, (int) size, stdin))
                        return log_error_errno(EINVAL, "no password given on standard input");
                return chomp(buf);
        }

        prompt = g_strdup_printf("New password for %s: ", name);
        r = read_tty_line(prompt, buf, size);
        if (r >= 0)
                r = chomp(buf);
        if (r >= 0)
                r = read_tty_line("Again: ", again, sizeof again);
        if (r >= 0)
                r = chomp(again);
        if (r >= 0 && strcmp(buf, again) != 0)
                r = log_error_errno(EINVAL, "the passwords differ");
        explicit_bzero(again, sizeof again);
        return r;
}

/* l4mctl user add NAME --role user|admin */
int verb_user_add(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        char password[PASSWORD_BUF];
        int r;

        assert(bus);
        assert(args->role);

        if (strcmp(args->role, "user") != 0 && strcmp(args->role, "admin") != 0)
                return log_error_errno(EINVAL, "invalid role '%s': expected user or admin", args->role);

        r = read_new_password(argv[0], password, sizeof password);
        if (r >= 0) {
                r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, "CreateUser",
                                       &error, NULL, "sss", argv[0], password, args->role);
                r = r < 0 ? log_bus_error(&error, r, "cannot create the web account") : 0;
        }
        explicit_bzero(password, sizeof password);
        if (r == 0)
                fprintf(stderr, "Web account %s (%s) created.\n", argv[0], args->role);
        return r;
}

/* l4mctl user passwd NAME */
int verb_user_passwd(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        char password[PASSWORD_BUF];
        int r;

        assert(bus);

        r = read_new_password(argv[0], password, sizeof password);
        if (r >= 0) {
                r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, "SetPassword",
                                       &error, NULL, "ss", argv[0], password);
                r = r < 0 ? log_bus_error(&error, r, "cannot change the password") : 0;
        }
        explicit_bzero(password, sizeof password);
        if (r == 0)
                fprintf(stderr, "Password of web account %s changed.\n", argv[0]);
        return r;
}

/* l4mctl user delete NAME */
int verb_user_delete(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        int r;

        assert(bus);

        r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, "DeleteUser",
                               &error, NULL, "s", argv[0]);
        if (r < 0)
                return log_bus_error(&error, r, "cannot delete the web account");
        return 0;
}

/* l4mctl user list */
int verb_user_list(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(Table) table = table_new();
        const char *name, *role;
        uint64_t created;
        int r;

        assert(bus);
        assert(args);

        r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE,
                               "ListUsers", &error, &reply, NULL);
        if (r < 0)
                return log_bus_error(&error, r, "cannot list web accounts");

        table_add_column(table, "NAME", "name");
        table_add_column(table, "ROLE", "role");
        table_add_column(table, "CREATED", "created");

        r = sd_bus_message_enter_container(reply, 'a', "(sst)");
        if (r < 0)
                return bus_log_parse_error(r);
        while ((r = sd_bus_message_read(reply, "(sst)", &name, &role, &created)) > 0) {
                table_add_string(table, name);
                table_add_string(table, role);
                table_add_timestamp(table, created);
        }
        if (r < 0)
                return bus_log_parse_error(r);
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return bus_log_parse_error(r);

        return table_output(table, TABLE_ROWS, table_flags(args));
}
