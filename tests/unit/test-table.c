/* SPDX-License-Identifier: GPL-2.0-or-later */
/* l4mctl: the table type, as text and as JSON. Run with TZ=UTC. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "table.h"

/* What table_print() writes (f is no terminal: no bold, JSON on one line). */
static char *printed(const Table *t, TableForm form, TablePrintFlags flags) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        g_assert_nonnull(f);
        g_assert_cmpint(table_print(t, f, form, flags), ==, 0);
        g_assert_cmpint(fclose(f), ==, 0);
        return buf;
}

static Table *three_columns(void) {
        Table *t = table_new();

        table_add_column(t, "NAME", "name");
        table_add_column(t, "ID", "id");
        table_add_column(t, "DESCRIPTION", "description");
        table_add_column(t, NULL, "path");
        return t;
}

static void test_text_rows(void) {
        g_autoptr(Table) t = three_columns();
        g_autofree char *with_legend = NULL, *without = NULL, *json = NULL;

        table_add_string(t, "alpha");
        table_add_uint64(t, 7);
        table_add_string(t, "x");
        table_add_path(t, "/a/1");

        table_add_string(t, "");
        table_add_uint64(t, 12345);
        table_add_string(t, NULL);
        table_add_path(t, NULL);

        g_assert_cmpuint(table_get_rows(t), ==, 2);

        /* Widths follow the data and the header, two blanks between
         * columns, none after the last; "-" for empty; JSON-only columns
         * are not shown. */
        with_legend = printed(t, TABLE_ROWS, 0);
        g_assert_cmpstr(with_legend, ==,
                        "NAME   ID     DESCRIPTION\n"
                        "alpha  7      x\n"
                        "-      12345  -\n");

        /* Without the header, its width does not count. */
        without = printed(t, TABLE_ROWS, TABLE_NO_LEGEND);
        g_assert_cmpstr(without, ==,
                        "alpha  7      x\n"
                        "-      12345  -\n");

        json = printed(t, TABLE_ROWS, TABLE_JSON);
        g_assert_cmpstr(json, ==,
                        "[{\"name\":\"alpha\",\"id\":7,\"description\":\"x\",\"path\":\"/a/1\"},"
                        "{\"name\":\"\",\"id\":12345,\"description\":null,\"path\":null}]\n");
}

/* Text never carries a control character to the terminal (a file name a
 * server wrote); JSON keeps the string as it is. */
static void test_control_characters(void) {
        g_autoptr(Table) t = three_columns();
        g_autofree char *text = NULL, *json = NULL;

        table_add_string(t, "a\x1b]0;owned\x07" "b\nc");
        table_add_uint64(t, 1);
        table_add_string(t, "caf\xc3\xa9 \xc2\x9b" "2J \xff");
        table_add_path(t, "/a/1");

        text = printed(t, TABLE_ROWS, TABLE_NO_LEGEND);
        g_assert_cmpstr(text, ==, "a\\x1b]0;owned\\x07b\\x0ac  1  caf\xc3\xa9 \\u009b" "2J \\xff\n");
        json = printed(t, TABLE_ROWS, TABLE_JSON);
        g_assert_nonnull(strstr(json, "\"name\":\"a\\u001b]0;owned\\u0007b\\nc\""));
}

static void test_empty_table(void) {
        g_autoptr(Table) t = three_columns();
        g_autofree char *text = NULL, *bare = NULL, *json = NULL;

        text = printed(t, TABLE_ROWS, 0);
        g_assert_cmpstr(text, ==, "NAME  ID  DESCRIPTION\n");
        bare = printed(t, TABLE_ROWS, TABLE_NO_LEGEND);
        g_assert_cmpstr(bare, ==, "");
        json = printed(t, TABLE_ROWS, TABLE_JSON);
        g_assert_cmpstr(json, ==, "[]\n");
}

static void test_utf8_width(void) {
        g_autoptr(Table) t = table_new();
        g_autofree char *text = NULL;

        table_add_column(t, "A", "a");
        table_add_column(t, "B", "b");
        table_add_string(t, "h\xc3\xa9");       /* two columns on a terminal, three bytes */
        table_add_string(t, "b");
        table_add_string(t, "abcd");
        table_add_string(t, "c");

        text = printed(t, TABLE_ROWS, 0);
        g_assert_cmpstr(text, ==,
                        "A     B\n"
                        "h\xc3\xa9    b\n"
                        "abcd  c\n");
}

static const uint64_t numbers[] = { 1, UINT64_MAX };
static char *const words[] = { (char *) "a", (char *) "b c", NULL };
static char *const no_words[] = { NULL };

/* One cell of every type, and the null and empty variants. */
static Table *every_type(void) {
        Table *t = table_new();

        table_add_column(t, "Empty", "empty");
        table_add_column(t, "String", "string");
        table_add_column(t, "Blank", "blank");
        table_add_column(t, "Null", "null");
        table_add_column(t, "Path", "path");
        table_add_column(t, "Number", "number");
        table_add_column(t, "Big", "big");
        table_add_column(t, "Progress", "progress");
        table_add_column(t, "NotFinite", "not_finite");
        table_add_column(t, "Yes", "yes");
        table_add_column(t, "No", "no");
        table_add_column(t, "Created", "created");
        table_add_column(t, "Never", "never");
        table_add_column(t, "Size", "size");
        table_add_column(t, "Words", "words");
        table_add_column(t, "NoWords", "no_words");
        table_add_column(t, "NullWords", "null_words");
        table_add_column(t, "Numbers", "numbers");
        table_add_column(t, "NoNumbers", "no_numbers");
        table_add_column(t, NULL, "json_only");
        table_add_column(t, "TextOnly", NULL);

        table_add_empty(t);
        table_add_string(t, "x \"y\"");
        table_add_string(t, "");
        table_add_string(t, NULL);
        table_add_path(t, "/org/left4me/Manager/overlay/3");
        table_add_uint64(t, 42);
        table_add_uint64(t, UINT64_MAX);
        table_add_percent(t, 0.5);
        table_add_percent(t, NAN);
        table_add_boolean(t, true);
        table_add_boolean(t, false);
        table_add_timestamp(t, UINT64_C(1500000000000000));
        table_add_timestamp(t, 0);
        table_add_size(t, 1536);
        table_add_strv(t, words);
        table_add_strv(t, no_words);
        table_add_strv(t, NULL);
        table_add_uint64_array(t, numbers, G_N_ELEMENTS(numbers));
        table_add_uint64_array(t, NULL, 0);
        table_add_string(t, "j");
        table_add_string(t, "t");
        return t;
}

static void test_every_type_json(void) {
        g_autoptr(Table) t = every_type();
        g_autofree char *object = NULL, *rows = NULL;

        object = printed(t, TABLE_OBJECT, TABLE_JSON);
        g_assert_cmpstr(object, ==,
                        "{\"empty\":null,"
                        "\"string\":\"x \\\"y\\\"\","
                        "\"blank\":\"\","
                        "\"null\":null,"
                        "\"path\":\"/org/left4me/Manager/overlay/3\","
                        "\"number\":42,"
                        "\"big\":9223372036854775807,"
                        "\"progress\":0.5,"
                        "\"not_finite\":0.0,"
                        "\"yes\":true,"
                        "\"no\":false,"
                        "\"created\":1500000000000000,"
                        "\"never\":0,"
                        "\"size\":1536,"
                        "\"words\":[\"a\",\"b c\"],"
                        "\"no_words\":[],"
                        "\"null_words\":null,"
                        "\"numbers\":[1,9223372036854775807],"
                        "\"no_numbers\":[],"
                        "\"json_only\":\"j\"}\n");

        /* The same object in an array. */
        rows = printed(t, TABLE_ROWS, TABLE_JSON);
        g_assert_true(g_str_has_prefix(rows, "["));
        g_assert_cmpuint(strlen(rows), ==, strlen(object) + 2);
        g_assert_true(strncmp(rows + 1, object, strlen(object) - 1) == 0);
        g_assert_cmpstr(rows + strlen(object), ==, "]\n");
}

static void test_every_type_text(void) {
        g_autoptr(Table) t = every_type();
        g_autofree char *text = NULL;

        text = printed(t, TABLE_OBJECT, 0);
        g_assert_cmpstr(text, ==,
                        "Empty: -\n"
                        "String: x \"y\"\n"
                        "Blank: -\n"
                        "Null: -\n"
                        "Path: /org/left4me/Manager/overlay/3\n"
                        "Number: 42\n"
                        "Big: 18446744073709551615\n"
                        "Progress: 50%\n"
                        "NotFinite: 0%\n"
                        "Yes: yes\n"
                        "No: no\n"
                        "Created: 2017-07-14 02:40:00\n"
                        "Never: -\n"
                        "Size: 1.5K\n"
                        "Words: a,b c\n"
                        "NoWords: -\n"
                        "NullWords: -\n"
                        "Numbers: 1,18446744073709551615\n"
                        "NoNumbers: -\n"
                        "TextOnly: t\n");
}

static void test_json_node(void) {
        g_autoptr(Table) t = three_columns();
        g_autoptr(JsonNode) root = NULL;
        JsonObject *o;

        table_add_string(t, "a");
        table_add_uint64(t, 1);
        table_add_empty(t);
        table_add_path(t, "/p");

        root = table_to_json(t, TABLE_OBJECT);
        g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
        o = json_node_get_object(root);
        g_assert_cmpuint(json_object_get_size(o), ==, 4);
        g_assert_cmpint(json_object_get_int_member(o, "id"), ==, 1);
        g_assert_true(json_object_get_null_member(o, "description"));
}

int main(int argc, char *argv[]) {
        g_setenv("TZ", "UTC", TRUE);
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/table/text-rows", test_text_rows);
        g_test_add_func("/table/empty", test_empty_table);
        g_test_add_func("/table/control-characters", test_control_characters);
        g_test_add_func("/table/utf8-width", test_utf8_width);
        g_test_add_func("/table/every-type-json", test_every_type_json);
        g_test_add_func("/table/every-type-text", test_every_type_text);
        g_test_add_func("/table/json-node", test_json_node);
        return g_test_run();
}
