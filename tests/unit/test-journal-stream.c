/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "journal-stream.h"
#include "l4m-util.h"

/* 2023-11-14T22:13:20 UTC */
#define STAMP_USEC (UINT64_C(1700000000) * G_USEC_PER_SEC + 123456)

static char *format(const char *ident, const char *pid, const char *msg, size_t msg_len) {
        GString *out = g_string_new(NULL);

        journal_stream_format_line(out, STAMP_USEC, ident, ident ? strlen(ident) : 0, pid, pid ? strlen(pid) : 0,
                                   msg, msg_len);
        return g_string_free(out, FALSE);
}

static void test_format_plain(void) {
        g_autofree char *a = format("srcds_run", "42", "fake srcds: ready", 17);
        g_autofree char *b = format(NULL, NULL, "bare", 4);
        g_autofree char *c = format("systemd", NULL, "Started x.", 10);

        g_assert_cmpstr(a, ==, "2023-11-14T22:13:20+0000 srcds_run[42]: fake srcds: ready\n");
        g_assert_cmpstr(b, ==, "2023-11-14T22:13:20+0000 bare\n");
        g_assert_cmpstr(c, ==, "2023-11-14T22:13:20+0000 systemd: Started x.\n");
}

static void test_format_controls(void) {
        static const char msg[] = "a\nb\tc\033[31md\0e\x7f\\x";
        g_autofree char *a = format("id\n", "1", msg, sizeof msg - 1);

        /* One line: newline, escape, NUL and DEL escaped; tab and backslash kept. */
        g_assert_cmpstr(a, ==, "2023-11-14T22:13:20+0000 id\\x0a[1]: a\\x0ab\tc\\x1b[31md\\x00e\\x7f\\x\n");
        g_assert_true(strchr(a, '\n') == a + strlen(a) - 1);
}

static void test_format_cut(void) {
        g_autofree char *big = g_malloc(100000);
        g_autofree char *a = NULL, *b = NULL, *c = NULL;
        size_t len;

        memset(big, 'x', 100000);
        a = format("s", "1", big, 100000);
        len = strlen(a);
        g_assert_cmpuint(len, <=, JOURNAL_STREAM_LINE_MAX);
        g_assert_cmpuint(len, >, JOURNAL_STREAM_LINE_MAX - 16);
        g_assert_true(g_str_has_suffix(a, JOURNAL_STREAM_CUT_MARKER "\n"));
        g_assert_null(memchr(a, '\n', len - 1));

        /* Escapes are never cut in half. */
        memset(big, '\001', 100000);
        b = format("s", "1", big, 100000);
        len = strlen(b);
        g_assert_cmpuint(len, <=, JOURNAL_STREAM_LINE_MAX);
        g_assert_true(g_str_has_suffix(b, "\\x01" JOURNAL_STREAM_CUT_MARKER "\n"));

        /* Nor UTF-8 sequences ("é" is two bytes; the prefix is odd-sized
         * so that the cut would fall inside one at some offset). */
        for (size_t i = 0; i + 1 < 100000; i += 2) {
                big[i] = (char) 0xc3;
                big[i + 1] = (char) 0xa9;
        }
        for (unsigned shift = 0; shift < 2; shift++) {
                g_free(c);
                c = format(shift ? "ab" : "a", "1", big, 100000);
                len = strlen(c);
                g_assert_cmpuint(len, <=, JOURNAL_STREAM_LINE_MAX);
                g_assert_true(g_utf8_validate(c, (gssize) len, NULL));
                g_assert_true(g_str_has_suffix(c, "é" JOURNAL_STREAM_CUT_MARKER "\n"));
        }

        /* Exactly at the bound: not cut. */
        {
                g_autofree char *d = NULL;
                size_t prefix = strlen("2023-11-14T22:13:20+0000 ");

                memset(big, 'y', 100000);
                d = format(NULL, NULL, big, JOURNAL_STREAM_LINE_MAX - 1 - prefix);
                g_assert_cmpuint(strlen(d), ==, JOURNAL_STREAM_LINE_MAX);
                g_assert_false(g_str_has_suffix(d, JOURNAL_STREAM_CUT_MARKER "\n"));
        }
}

/* Runs the loop until fd is readable; returns what one read gave. */
static ssize_t read_after_loop(sd_event *e, int fd, char *buf, size_t size) {
        for (int i = 0; i < 1000; i++) {
                struct pollfd p = { .fd = fd, .events = POLLIN };

                if (poll(&p, 1, 0) > 0)
                        return read(fd, buf, size);
                g_assert_cmpint(sd_event_run(e, 10 * 1000), >=, 0);
        }
        g_assert_not_reached();
        return -1;
}

/* A unit that never logged: the history is empty and, without follow, the
 * stream ends at once. */
static void test_stream_empty_history(void) {
        g_autoptr(sd_event) e = NULL;
        g_autoptr(JournalStreamSet) s = NULL;
        _cleanup_close_ int fd = -1;
        char buf[64];

        g_assert_cmpint(sd_event_new(&e), >=, 0);
        g_assert_cmpint(journal_stream_set_new(e, 4, 4, &s), ==, 0);
        g_assert_cmpint(journal_stream_open(s, "alice", "left4me-no-such-unit-test.service", NULL, 0, false, 10, &fd), ==, 0);
        g_assert_cmpint(fcntl(fd, F_GETFD), ==, FD_CLOEXEC);
        g_assert_cmpint(read_after_loop(e, fd, buf, sizeof buf), ==, 0);
        g_assert_cmpuint(journal_stream_set_count(s), ==, 0);
}

static void test_stream_bounds_and_teardown(void) {
        g_autoptr(sd_event) e = NULL;
        JournalStreamSet *s = NULL;
        _cleanup_close_ int a = -1, b = -1, c = -1, d = -1;
        char buf[64];

        g_assert_cmpint(sd_event_new(&e), >=, 0);
        g_assert_cmpint(journal_stream_set_new(e, 3, 2, &s), ==, 0);
        g_assert_cmpint(journal_stream_open(s, "alice", "left4me-no-such-unit-test.service", NULL, 0, true, 0, &a), ==, 0);
        g_assert_cmpint(journal_stream_open(s, "alice", "left4me-no-such-unit-test.service", NULL, 0, true, 0, &b), ==, 0);
        /* Per client... */
        g_assert_cmpint(journal_stream_open(s, "alice", "left4me-no-such-unit-test.service", NULL, 0, true, 0, &c), ==, -EBUSY);
        g_assert_cmpint(journal_stream_open(s, "bob", "left4me-no-such-unit-test.service", NULL, 0, true, 0, &c), ==, 0);
        /* ...and in all. */
        g_assert_cmpint(journal_stream_open(s, "carol", "left4me-no-such-unit-test.service", NULL, 0, true, 0, &d), ==, -EBUSY);
        g_assert_cmpuint(journal_stream_set_count(s), ==, 3);

        /* A reader that goes away frees its stream. */
        l4m_close_fdp(&a);
        a = -1;
        for (int i = 0; i < 100 && journal_stream_set_count(s) > 2; i++)
                g_assert_cmpint(sd_event_run(e, 10 * 1000), >=, 0);
        g_assert_cmpuint(journal_stream_set_count(s), ==, 2);

        /* Freeing the set ends every stream. */
        s = journal_stream_set_free(s);
        g_assert_cmpint(read(b, buf, sizeof buf), ==, 0);
        g_assert_cmpint(read(c, buf, sizeof buf), ==, 0);
}

static void collect_line(const char *text, size_t len, void *userdata) {
        g_ptr_array_add(userdata, g_strndup(text, len));
}

/* Console lines: cut at '\n', or at CONSOLE_LINE_MAX bytes (before a UTF-8
 * sequence the cut would go through); an unfinished line is left unless
 * the pipe has ended. */
static void test_console_split(void) {
        g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GString) big = g_string_new(NULL);
        size_t used;

        used = console_split_lines("a\n\nbc\npartial", 15, false, collect_line, lines);
        g_assert_cmpuint(used, ==, 6);
        g_assert_cmpuint(lines->len, ==, 3);
        g_assert_cmpstr(lines->pdata[0], ==, "a");
        g_assert_cmpstr(lines->pdata[1], ==, "");
        g_assert_cmpstr(lines->pdata[2], ==, "bc");
        used = console_split_lines("partial", 7, true, collect_line, lines);
        g_assert_cmpuint(used, ==, 7);
        g_assert_cmpstr(lines->pdata[3], ==, "partial");

        g_ptr_array_set_size(lines, 0);
        for (unsigned k = 0; k < CONSOLE_LINE_MAX - 1; k++)
                g_string_append_c(big, 'x');
        g_string_append(big, "\xc3\xa9tail\n");     /* é across the bound */
        used = console_split_lines(big->str, big->len, false, collect_line, lines);
        g_assert_cmpuint(used, ==, big->len);
        g_assert_cmpuint(lines->len, ==, 2);
        g_assert_cmpuint(strlen(lines->pdata[0]), ==, CONSOLE_LINE_MAX - 1);
        g_assert_cmpstr(lines->pdata[1], ==, "\xc3\xa9tail");

        /* Exactly CONSOLE_LINE_MAX bytes without '\n': one line. */
        g_ptr_array_set_size(lines, 0);
        g_string_truncate(big, CONSOLE_LINE_MAX - 1);
        g_string_append_c(big, 'y');
        used = console_split_lines(big->str, big->len, false, collect_line, lines);
        g_assert_cmpuint(used, ==, CONSOLE_LINE_MAX);
        g_assert_cmpuint(lines->len, ==, 1);
}

/* FDNAMEs in the store: "l4m-console-<instance id>-<n>", nothing else. */
static void test_console_fdname(void) {
        uint64_t id = 0;

        g_assert_true(console_fdname_parse("l4m-console-42-1700000000000000", &id));
        g_assert_cmpuint(id, ==, 42);
        g_assert_false(console_fdname_parse("l4m-console-42", &id));
        g_assert_false(console_fdname_parse("l4m-console--1-2", &id));
        g_assert_false(console_fdname_parse("l4m-console-4x-2", &id));
        g_assert_false(console_fdname_parse("l4m-console-4-2x", &id));
        g_assert_false(console_fdname_parse("stored", &id));
        g_assert_false(console_fdname_parse(NULL, &id));
}

int main(int argc, char **argv) {
        setenv("TZ", "UTC", 1);
        tzset();
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/journal-stream/format-plain", test_format_plain);
        g_test_add_func("/journal-stream/format-controls", test_format_controls);
        g_test_add_func("/journal-stream/format-cut", test_format_cut);
        g_test_add_func("/journal-stream/stream-empty-history", test_stream_empty_history);
        g_test_add_func("/journal-stream/stream-bounds-and-teardown", test_stream_bounds_and_teardown);
        g_test_add_func("/journal-stream/console-split", test_console_split);
        g_test_add_func("/journal-stream/console-fdname", test_console_fdname);
        return g_test_run();
}
