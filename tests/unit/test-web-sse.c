/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include <glib.h>

#include "event-ring.h"
#include "log-feed-lines.h"
#include "sse-format.h"
#include "state-events-throttle.h"

static void test_frame(void) {
        g_autoptr(GString) s = g_string_new(NULL);
        g_autoptr(GBytes) b = NULL;

        sse_append_event(s, 17, "log", "{\"line\":\"x\"}");
        g_assert_cmpstr(s->str, ==, "id: 17\nevent: log\ndata: {\"line\":\"x\"}\n\n");

        g_string_truncate(s, 0);
        sse_append_event(s, 0, NULL, "{}");
        g_assert_cmpstr(s->str, ==, "data: {}\n\n");

        /* A line break in data cannot end the data line or start a field. */
        g_string_truncate(s, 0);
        sse_append_event(s, 1, "x", "a\nid: 99\r\nevent: y");
        g_assert_cmpstr(s->str, ==, "id: 1\nevent: x\ndata: a id: 99  event: y\n\n");

        g_string_truncate(s, 0);
        sse_append_comment(s, "ping");
        g_assert_cmpstr(s->str, ==, ": ping\n\n");

        b = sse_event_bytes(3, "end", "{\"State\":\"succeeded\"}");
        g_assert_cmpmem(g_bytes_get_data(b, NULL), g_bytes_get_size(b),
                        "id: 3\nevent: end\ndata: {\"State\":\"succeeded\"}\n\n", 46);
}

static void test_event_id(void) {
        uint64_t id = 0;

        g_assert_true(sse_parse_event_id("42", &id));
        g_assert_cmpuint(id, ==, 42);
        g_assert_true(sse_parse_event_id("18446744073709551615", &id));
        g_assert_cmpuint(id, ==, G_MAXUINT64);
        g_assert_false(sse_parse_event_id(NULL, &id));
        g_assert_false(sse_parse_event_id("", &id));
        g_assert_false(sse_parse_event_id("0", &id));
        g_assert_false(sse_parse_event_id("-1", &id));
        g_assert_false(sse_parse_event_id(" 1", &id));
        g_assert_false(sse_parse_event_id("+1", &id));
        g_assert_false(sse_parse_event_id("1x", &id));
        g_assert_false(sse_parse_event_id("18446744073709551616", &id));
}

static void test_json_line(void) {
        g_autofree char *a = sse_json_line("say \"hi\"\tnow", 12);
        g_autofree char *b = sse_json_line("a\xff" "b", 3);

        g_assert_cmpstr(a, ==, "{\"line\":\"say \\\"hi\\\"\\tnow\"}");
        g_assert_cmpstr(b, ==, "{\"line\":\"a\xef\xbf\xbd" "b\"}");
}

static GBytes *frame_of(uint64_t id, size_t size) {
        g_autofree char *text = g_strnfill(size, 'a' + (char) (id % 26));
        return g_bytes_new(text, size);
}

static void push(EventRing *r, uint64_t id, size_t size) {
        g_autoptr(GBytes) b = frame_of(id, size);
        event_ring_push(r, id, b, NULL);
}

static uint64_t id_at(GList *l) {
        return l ? ((EventRingEntry *) l->data)->id : 0;
}

static void test_ring(void) {
        g_autoptr(EventRing) r = event_ring_new(5, 1000, NULL);
        GList *l = NULL;

        /* Empty: nothing to resume from. */
        g_assert_false(event_ring_after(r, 1, &l));
        g_assert_null(event_ring_last(r, 3));

        for (uint64_t id = 100; id < 103; id++)
                push(r, id, 10);
        g_assert_cmpuint(event_ring_first_id(r), ==, 100);
        g_assert_cmpuint(event_ring_last_id(r), ==, 102);

        /* Just before the first held: all of them. */
        g_assert_true(event_ring_after(r, 99, &l));
        g_assert_cmpuint(id_at(l), ==, 100);
        g_assert_true(event_ring_after(r, 100, &l));
        g_assert_cmpuint(id_at(l), ==, 101);
        g_assert_true(event_ring_after(r, 101, &l));
        g_assert_cmpuint(id_at(l), ==, 102);
        g_assert_null(l->next);
        /* Seen everything. */
        g_assert_true(event_ring_after(r, 102, &l));
        g_assert_null(l);
        /* A gap before, or an id never handed out. */
        g_assert_false(event_ring_after(r, 98, &l));
        g_assert_false(event_ring_after(r, 103, &l));

        /* The count bound drops the oldest. */
        for (uint64_t id = 103; id < 110; id++)
                push(r, id, 10);
        g_assert_cmpuint(r->entries.length, ==, 5);
        g_assert_cmpuint(event_ring_first_id(r), ==, 105);
        g_assert_false(event_ring_after(r, 103, &l));
        g_assert_true(event_ring_after(r, 104, &l));
        g_assert_cmpuint(id_at(l), ==, 105);
        g_assert_true(event_ring_after(r, 108, &l));
        g_assert_cmpuint(id_at(l), ==, 109);

        g_assert_cmpuint(id_at(event_ring_last(r, 2)), ==, 108);
        g_assert_cmpuint(id_at(event_ring_last(r, 1)), ==, 109);
        g_assert_cmpuint(id_at(event_ring_last(r, 100)), ==, 105);
        g_assert_null(event_ring_last(r, 0));

        /* The byte bound too, but the newest always stays. */
        push(r, 110, 600);
        g_assert_cmpuint(r->bytes, <=, 1000);
        push(r, 111, 600);
        g_assert_cmpuint(r->entries.length, ==, 1);
        g_assert_cmpuint(event_ring_first_id(r), ==, 111);
        push(r, 112, 5000);
        g_assert_cmpuint(r->entries.length, ==, 1);
        g_assert_cmpuint(r->bytes, ==, 5000);
}

static void count_free(void *p) {
        (*(unsigned *) p)++;
}

static void test_ring_data(void) {
        unsigned freed = 0;
        EventRing *r = event_ring_new(2, 1000, count_free);

        for (uint64_t id = 1; id <= 3; id++) {
                g_autoptr(GBytes) b = frame_of(id, 1);
                event_ring_push(r, id, b, &freed);
        }
        g_assert_cmpuint(freed, ==, 1);
        event_ring_free(r);
        g_assert_cmpuint(freed, ==, 3);
}

typedef struct Lines {
        GPtrArray *lines;       /* "text|cut|offset" */
} Lines;

static void collect(const char *line, size_t len, bool cut, uint64_t end, void *userdata) {
        Lines *l = userdata;
        g_ptr_array_add(l->lines, g_strdup_printf("%.*s|%d|%" G_GUINT64_FORMAT, (int) len, line, cut, end));
}

static char *split(const char *const *chunks, uint64_t offset) {
        Lines l = { g_ptr_array_new_with_free_func(g_free) };
        LineSplitter s;
        char *joined;

        line_splitter_init(&s, offset);
        for (const char *const *c = chunks; *c; c++)
                line_splitter_feed(&s, *c, strlen(*c), collect, &l);
        line_splitter_finish(&s, collect, &l);
        g_ptr_array_add(l.lines, NULL);
        joined = g_strjoinv(" ", (char **) l.lines->pdata);
        g_ptr_array_unref(l.lines);
        return joined;
}

static void test_lines(void) {
        static const char *const plain[] = { "one\ntwo\n", "thr", "ee\n", NULL };
        static const char *const crlf[] = { "a\r\nb\r", "\nc\rd\n\ne", NULL };
        static const char *const offset[] = { "x\ny\n", NULL };
        g_autofree char *a = split(plain, 0);
        g_autofree char *b = split(crlf, 0);
        g_autofree char *c = split(offset, 1000);

        g_assert_cmpstr(a, ==, "one|0|4 two|0|8 three|0|14");
        /* CR LF split across reads is one end; a lone CR ends a line; an
         * empty line stays; the unterminated tail comes at the finish. */
        g_assert_cmpstr(b, ==, "a|0|3 b|0|6 c|0|8 d|0|10 |0|11 e|0|12");
        g_assert_cmpstr(c, ==, "x|0|1002 y|0|1004");
}

static void test_lines_cut(void) {
        g_autofree char *big = g_strnfill(LOG_LINE_MAX + 500, 'x');
        g_autofree char *utf = NULL;
        Lines l = { g_ptr_array_new_with_free_func(g_free) };
        LineSplitter s;
        g_autofree char *expect = NULL;

        line_splitter_init(&s, 0);
        line_splitter_feed(&s, big, strlen(big), collect, &l);
        /* Not handed over before its end: its offset is where the next starts. */
        g_assert_cmpuint(l.lines->len, ==, 0);
        line_splitter_feed(&s, "\nnext\n", 6, collect, &l);
        g_assert_cmpuint(l.lines->len, ==, 2);
        expect = g_strdup_printf("%.*s|1|%u", (int) LOG_LINE_MAX, big, LOG_LINE_MAX + 501);
        g_assert_cmpstr(l.lines->pdata[0], ==, expect);
        g_assert_cmpstr(l.lines->pdata[1], ==, "next|0|4602");
        g_ptr_array_set_size(l.lines, 0);

        /* A cut never splits a UTF-8 sequence: "é" (2 bytes) straddling the bound. */
        utf = g_strnfill(LOG_LINE_MAX + 10, 'y');
        utf[LOG_LINE_MAX - 1] = '\xc3';
        utf[LOG_LINE_MAX] = '\xa9';
        line_splitter_init(&s, 0);
        line_splitter_feed(&s, utf, strlen(utf), collect, &l);
        line_splitter_finish(&s, collect, &l);
        g_assert_cmpuint(l.lines->len, ==, 1);
        g_assert_true(g_str_has_suffix(l.lines->pdata[0], "y|1|4106"));
        g_assert_cmpuint(strlen(l.lines->pdata[0]), ==, LOG_LINE_MAX - 1 + strlen("|1|4106"));
        g_ptr_array_unref(l.lines);
}

static void test_throttle(void) {
        g_autoptr(Throttle) t = throttle_new(200);
        g_auto(GStrv) none = NULL, due = NULL, later = NULL;

        g_assert_cmpuint(throttle_next_due(t), ==, UINT64_MAX);
        /* The first change goes at once, the next ones inside the interval wait. */
        g_assert_true(throttle_offer(t, "/job/1", 1000, false));
        g_assert_false(throttle_offer(t, "/job/1", 1050, false));
        g_assert_false(throttle_offer(t, "/job/1", 1100, false));
        /* Others are not held up. */
        g_assert_true(throttle_offer(t, "/job/2", 1100, false));
        g_assert_cmpuint(throttle_next_due(t), ==, 1200);

        none = throttle_take_due(t, 1199);
        g_assert_cmpuint(g_strv_length(none), ==, 0);
        due = throttle_take_due(t, 1200);
        g_assert_cmpuint(g_strv_length(due), ==, 1);
        g_assert_cmpstr(due[0], ==, "/job/1");
        g_assert_cmpuint(throttle_next_due(t), ==, UINT64_MAX);

        /* Sent at 1200: a change at 1300 waits until 1400. */
        g_assert_false(throttle_offer(t, "/job/1", 1300, false));
        g_assert_cmpuint(throttle_next_due(t), ==, 1400);
        /* A forced change (a new State) goes now and nothing stays due. */
        g_assert_true(throttle_offer(t, "/job/1", 1310, true));
        g_assert_cmpuint(throttle_next_due(t), ==, UINT64_MAX);

        /* A forgotten object is not due any more. */
        g_assert_false(throttle_offer(t, "/job/2", 1200, false));
        throttle_forget(t, "/job/2");
        later = throttle_take_due(t, 5000);
        g_assert_cmpuint(g_strv_length(later), ==, 0);
        /* After a quiet interval a change goes at once again. */
        g_assert_true(throttle_offer(t, "/job/1", 6000, false));
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/web-sse/frame", test_frame);
        g_test_add_func("/web-sse/event-id", test_event_id);
        g_test_add_func("/web-sse/json-line", test_json_line);
        g_test_add_func("/web-sse/ring", test_ring);
        g_test_add_func("/web-sse/ring-data", test_ring_data);
        g_test_add_func("/web-sse/lines", test_lines);
        g_test_add_func("/web-sse/lines-cut", test_lines_cut);
        g_test_add_func("/web-sse/throttle", test_throttle);
        return g_test_run();
}
