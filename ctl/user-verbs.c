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
#include "json-output.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "table.h"
#include "time-util.h"
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

typedef struct UserEntry {
        const char *name;
        const char *role;
        uint64_t created;
} UserEntry;

/* l4mctl user list */
int verb_user_list(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        static const char *const headers[] = { "NAME", "ROLE", "CREATED" };
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(GArray) users = g_array_new(FALSE, TRUE, sizeof(UserEntry));
        g_autoptr(Table) table = NULL;
        UserEntry u = { 0 };
        int r;

        assert(bus);
        assert(args);

        r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE,
                               "ListUsers", &error, &reply, NULL);
        if (r < 0)
                return log_bus_error(&error, r, "cannot list web accounts");

        r = sd_bus_message_enter_container(reply, 'a', "(sst)");
        if (r < 0)
                return bus_log_parse_error(r);
        while ((r = sd_bus_message_read(reply, "(sst)", &u.name, &u.role, &u.created)) > 0)
                g_array_append_val(users, u);
        if (r < 0)
                return bus_log_parse_error(r);
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return bus_log_parse_error(r);

        if (args->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();

                json_builder_begin_array(b);
                for (guint i = 0; i < users->len; i++) {
                        const UserEntry *e = &g_array_index(users, UserEntry, i);

                        json_builder_begin_object(b);
                        json_add_string_or_null(b, "name", e->name);
                        json_add_string_or_null(b, "role", e->role);
                        json_add_uint(b, "created", e->created);
                        json_builder_end_object(b);
                }
                json_builder_end_array(b);
                return json_print_builder(b);
        }

        table = table_new(L4M_ELEMENTSOF(headers), headers);
        for (guint i = 0; i < users->len; i++) {
                const UserEntry *e = &g_array_index(users, UserEntry, i);
                char created[TIMESTAMP_MAX];

                table_add_row(table, (const char *const[]) {
                        e->name, e->role, format_timestamp(created, sizeof created, e->created),
                });
        }
        r = table_print(table, stdout, args->legend);
        if (r < 0)
                return log_error_errno(r, "cannot write output: %s", STRERROR(r));
        return 0;
}
