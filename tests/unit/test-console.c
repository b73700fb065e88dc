/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <glib.h>
#include <systemd/sd-event.h>

#include "console.h"

/* Linked with --wrap: the lines go nowhere, not to the host's journal or
 * its service manager. */
int __wrap_sd_journal_sendv(const struct iovec *iov, int n);
int __wrap_sd_pid_notify(pid_t pid, int unset_environment, const char *state);

int __wrap_sd_journal_sendv(const struct iovec *iov, int n) {
        return 0;
}

int __wrap_sd_pid_notify(pid_t pid, int unset_environment, const char *state) {
        return 0;
}

static void collect(const ConsoleLine *l, void *userdata) {
        g_ptr_array_add(userdata, g_strndup(l->text, l->len));
}

static void run_loop(sd_event *e) {
        for (unsigned k = 0; k < 8; k++)
                g_assert_cmpint(sd_event_run(e, 0), >=, 0);
}

/* An unfinished line in memory that reaches CONSOLE_LINE_MAX with the
 * next bytes, cut before a UTF-8 sequence begun in memory: every byte
 * arrives once, in order (this used to abort the daemon). */
static void test_console_cut_in_memory(void) {
        g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GString) all = g_string_new(NULL);
        sd_event *e = NULL;
        ConsoleHub *h = NULL;
        ConsoleSubscription *s;
        char buf[CONSOLE_LINE_MAX + 16];
        int p[2];

        g_assert_cmpint(sd_event_new(&e), >=, 0);
        g_assert_cmpint(console_hub_new(e, 1, "left4me-server-t.service", "l4d2-t", &h), >=, 0);
        g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
        g_assert_cmpint(console_hub_adopt(h, p[0], "l4m-console-1-1"), >=, 0);
        s = console_hub_subscribe(h, 0, collect, NULL, lines, NULL);

        memset(buf, 'a', sizeof buf);
        /* CONSOLE_LINE_MAX - 1 bytes, ending in the start of a 4-byte sequence... */
        buf[CONSOLE_LINE_MAX - 3] = (char) 0xf0;
        buf[CONSOLE_LINE_MAX - 2] = (char) 0x9f;
        g_assert_cmpint(write(p[1], buf, CONSOLE_LINE_MAX - 1), ==, CONSOLE_LINE_MAX - 1);
        run_loop(e);
        g_assert_cmpuint(lines->len, ==, 0);
        /* ...then the rest of it and more, still unfinished... */
        buf[CONSOLE_LINE_MAX - 1] = (char) 0x98;
        buf[CONSOLE_LINE_MAX] = (char) 0x80;
        g_assert_cmpint(write(p[1], buf + CONSOLE_LINE_MAX - 1, 10), ==, 10);
        run_loop(e);
        g_assert_cmpuint(lines->len, ==, 1);
        /* ...and its end. */
        buf[CONSOLE_LINE_MAX + 9] = '\n';
        g_assert_cmpint(write(p[1], buf + CONSOLE_LINE_MAX + 9, 1), ==, 1);
        run_loop(e);
        g_assert_cmpint(close(p[1]), ==, 0);
        run_loop(e);

        g_assert_cmpuint(lines->len, ==, 2);
        g_assert_cmpuint(strlen(lines->pdata[0]), ==, CONSOLE_LINE_MAX - 3);
        for (guint k = 0; k < lines->len; k++)
                g_string_append(all, lines->pdata[k]);
        g_assert_cmpuint(all->len, ==, CONSOLE_LINE_MAX + 9);
        g_assert_true(memcmp(all->str, buf, all->len) == 0);
        g_assert_cmpuint(console_hub_count(h), ==, 0);

        console_subscription_free(s);
        console_hub_free(h);
        sd_event_unref(e);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/console/cut-in-memory", test_console_cut_in_memory);
        return g_test_run();
}
