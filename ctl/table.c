/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format-util.h"
#include "json-output.h"
#include "l4m-log.h"
#include "table.h"
#include "time-util.h"

#define COLUMN_GAP 2
#define ANSI_BOLD "\033[1m"
#define ANSI_NORMAL "\033[0m"

typedef struct TableColumn {
        char *header;   /* NULL: JSON only */
        char *json_key; /* NULL: text only */
} TableColumn;

typedef struct TableCell {
        TableDataType type;
        union {
                char *string;           /* TABLE_STRING, TABLE_PATH; may be NULL */
                uint64_t uint64;        /* TABLE_UINT64, TABLE_TIMESTAMP, TABLE_SIZE */
                double percent;
                bool boolean;
                char **strv;            /* may be NULL */
                struct {
                        uint64_t *values;
                        size_t n;
                } uint64_array;
        };
} TableCell;

struct Table {
        GArray *columns; /* TableColumn */
        GArray *cells;   /* TableCell, row-major */
};

static void table_column_clear(void *p) {
        TableColumn *c = p;

        g_free(c->header);
        g_free(c->json_key);
}

static void table_cell_clear(void *p) {
        TableCell *c = p;

        switch (c->type) {
        case TABLE_STRING:
        case TABLE_PATH:
                g_free(c->string);
                break;
        case TABLE_STRV:
                g_strfreev(c->strv);
                break;
        case TABLE_UINT64_ARRAY:
                g_free(c->uint64_array.values);
                break;
        default:
                break;
        }
}

Table *table_new(void) {
        Table *t = g_new0(Table, 1);

        t->columns = g_array_new(FALSE, TRUE, sizeof(TableColumn));
        g_array_set_clear_func(t->columns, table_column_clear);
        t->cells = g_array_new(FALSE, TRUE, sizeof(TableCell));
        g_array_set_clear_func(t->cells, table_cell_clear);
        return t;
}

void table_free(Table *t) {
        if (!t)
                return;
        g_array_unref(t->cells);
        g_array_unref(t->columns);
        g_free(t);
}

void table_add_column(Table *t, const char *header, const char *json_key) {
        TableColumn c = { .header = g_strdup(header), .json_key = g_strdup(json_key) };

        assert(t);
        assert(header || json_key);
        assert(t->cells->len == 0);

        g_array_append_val(t->columns, c);
}

size_t table_get_columns(const Table *t) {
        assert(t);
        return t->columns->len;
}

static void add_cell(Table *t, TableCell c) {
        assert(t);
        assert(t->columns->len > 0);

        g_array_append_val(t->cells, c);
}

void table_add_empty(Table *t) {
        add_cell(t, (TableCell) { .type = TABLE_EMPTY });
}

void table_add_string(Table *t, const char *s) {
        add_cell(t, (TableCell) { .type = TABLE_STRING, .string = g_strdup(s) });
}

void table_add_path(Table *t, const char *path) {
        add_cell(t, (TableCell) { .type = TABLE_PATH, .string = g_strdup(path) });
}

void table_add_uint64(Table *t, uint64_t value) {
        add_cell(t, (TableCell) { .type = TABLE_UINT64, .uint64 = value });
}

void table_add_percent(Table *t, double fraction) {
        add_cell(t, (TableCell) { .type = TABLE_PERCENT, .percent = fraction });
}

void table_add_boolean(Table *t, bool value) {
        add_cell(t, (TableCell) { .type = TABLE_BOOLEAN, .boolean = value });
}

void table_add_timestamp(Table *t, uint64_t usec) {
        add_cell(t, (TableCell) { .type = TABLE_TIMESTAMP, .uint64 = usec });
}

void table_add_size(Table *t, uint64_t bytes) {
        add_cell(t, (TableCell) { .type = TABLE_SIZE, .uint64 = bytes });
}

void table_add_strv(Table *t, char *const *strv) {
        add_cell(t, (TableCell) { .type = TABLE_STRV, .strv = g_strdupv((char **) strv) });
}

void table_add_uint64_array(Table *t, const uint64_t *values, size_t n) {
        assert(values || n == 0);

        add_cell(t, (TableCell) {
                .type = TABLE_UINT64_ARRAY,
                .uint64_array.values = n > 0 ? g_memdup2(values, n * sizeof(uint64_t)) : NULL,
                .uint64_array.n = n,
        });
}

size_t table_get_rows(const Table *t) {
        assert(t);
        return t->columns->len > 0 ? t->cells->len / t->columns->len : 0;
}

static const TableCell *cell_at(const Table *t, size_t row, size_t column) {
        return &g_array_index(t->cells, TableCell, row * t->columns->len + column);
}

static const TableColumn *column_at(const Table *t, size_t column) {
        return &g_array_index(t->columns, TableColumn, column);
}

/* s for a terminal: control characters (C0, DEL, C1), which could move
 * the cursor, retitle the window or break a row (a file name a server
 * wrote, say), as \xNN or \uNNNN; the rest as it is. */
static char *text_for_terminal(const char *s) {
        GString *out = g_string_sized_new(strlen(s));

        for (const char *p = s; *p;) {
                gunichar c = g_utf8_get_char_validated(p, -1);

                if (c == (gunichar) -1 || c == (gunichar) -2) {
                        g_string_append_printf(out, "\\x%02x", (unsigned char) *p);
                        p++;
                        continue;
                }
                if (c < 0x20 || c == 0x7f)
                        g_string_append_printf(out, "\\x%02x", (unsigned) c);
                else if (c >= 0x80 && c < 0xa0)
                        g_string_append_printf(out, "\\u%04x", (unsigned) c);
                else
                        g_string_append_unichar(out, c);
                p = g_utf8_next_char(p);
        }
        return g_string_free(out, false);
}

/* The cell as text; never empty ("-" instead). */
static char *cell_to_text(const TableCell *c) {
        char buf[MAX(MAX(TIMESTAMP_MAX, FORMAT_BYTES_MAX), FORMAT_PERCENT_MAX)];
        g_autofree char *text = NULL;

        switch (c->type) {
        case TABLE_EMPTY:
                break;
        case TABLE_STRING:
        case TABLE_PATH:
                text = c->string ? text_for_terminal(c->string) : NULL;
                break;
        case TABLE_UINT64:
                text = g_strdup_printf("%" PRIu64, c->uint64);
                break;
        case TABLE_PERCENT:
                text = g_strdup(format_percent(buf, sizeof buf, c->percent));
                break;
        case TABLE_BOOLEAN:
                text = g_strdup(c->boolean ? "yes" : "no");
                break;
        case TABLE_TIMESTAMP:
                text = g_strdup(format_timestamp(buf, sizeof buf, c->uint64));
                break;
        case TABLE_SIZE:
                text = g_strdup(format_bytes(buf, sizeof buf, c->uint64));
                break;
        case TABLE_STRV:
                if (c->strv)
                        text = g_strjoinv(",", c->strv);
                break;
        case TABLE_UINT64_ARRAY: {
                GString *s = g_string_new(NULL);

                for (size_t i = 0; i < c->uint64_array.n; i++)
                        g_string_append_printf(s, "%s%" PRIu64, i > 0 ? "," : "", c->uint64_array.values[i]);
                text = g_string_free(s, FALSE);
                break;
        }
        default:
                assert(!"unknown cell type");
        }

        if (!text || !text[0])
                return g_strdup("-");
        return g_steal_pointer(&text);
}

static void json_add_clamped(JsonBuilder *b, uint64_t value) {
        json_builder_add_int_value(b, (gint64) MIN(value, (uint64_t) G_MAXINT64));
}

static void cell_to_json(const TableCell *c, JsonBuilder *b) {
        switch (c->type) {
        case TABLE_EMPTY:
                json_builder_add_null_value(b);
                break;
        case TABLE_STRING:
        case TABLE_PATH:
                if (c->string)
                        json_builder_add_string_value(b, c->string);
                else
                        json_builder_add_null_value(b);
                break;
        case TABLE_UINT64:
        case TABLE_TIMESTAMP:
        case TABLE_SIZE:
                json_add_clamped(b, c->uint64);
                break;
        case TABLE_PERCENT:
                json_builder_add_double_value(b, isfinite(c->percent) ? c->percent : 0.0);
                break;
        case TABLE_BOOLEAN:
                json_builder_add_boolean_value(b, c->boolean);
                break;
        case TABLE_STRV:
                if (!c->strv) {
                        json_builder_add_null_value(b);
                        break;
                }
                json_builder_begin_array(b);
                for (size_t i = 0; c->strv[i]; i++)
                        json_builder_add_string_value(b, c->strv[i]);
                json_builder_end_array(b);
                break;
        case TABLE_UINT64_ARRAY:
                json_builder_begin_array(b);
                for (size_t i = 0; i < c->uint64_array.n; i++)
                        json_add_clamped(b, c->uint64_array.values[i]);
                json_builder_end_array(b);
                break;
        default:
                assert(!"unknown cell type");
        }
}

static void row_to_json(const Table *t, size_t row, JsonBuilder *b) {
        json_builder_begin_object(b);
        for (size_t c = 0; c < t->columns->len; c++) {
                const TableColumn *col = column_at(t, c);

                if (!col->json_key)
                        continue;
                json_builder_set_member_name(b, col->json_key);
                cell_to_json(cell_at(t, row, c), b);
        }
        json_builder_end_object(b);
}

JsonNode *table_to_json(const Table *t, TableForm form) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        size_t n_rows;

        assert(t);
        assert(t->columns->len > 0);
        assert(t->cells->len % t->columns->len == 0);

        n_rows = table_get_rows(t);
        if (form == TABLE_OBJECT) {
                assert(n_rows == 1);
                row_to_json(t, 0, b);
        } else {
                json_builder_begin_array(b);
                for (size_t r = 0; r < n_rows; r++)
                        row_to_json(t, r, b);
                json_builder_end_array(b);
        }
        return json_builder_get_root(b);
}

/* Columns on the terminal: code points for UTF-8, bytes otherwise. Wide
 * characters are not accounted for; names are ASCII anyway. */
static size_t text_width(const char *s) {
        if (g_utf8_validate(s, -1, NULL))
                return (size_t) g_utf8_strlen(s, -1);
        return strlen(s);
}

static bool want_bold(FILE *f) {
        const char *term = getenv("TERM");

        if (!isatty(fileno(f)))
                return false;
        return !term || strcmp(term, "dumb") != 0;
}

/* The text of the columns that have a header: the header row first, then
 * one row per table row. */
static GPtrArray *text_cells(const Table *t, size_t *ret_n_columns) {
        GPtrArray *text = g_ptr_array_new_with_free_func(g_free);
        size_t n = 0;

        for (size_t c = 0; c < t->columns->len; c++)
                if (column_at(t, c)->header) {
                        g_ptr_array_add(text, g_strdup(column_at(t, c)->header));
                        n++;
                }
        for (size_t r = 0; r < table_get_rows(t); r++)
                for (size_t c = 0; c < t->columns->len; c++)
                        if (column_at(t, c)->header)
                                g_ptr_array_add(text, cell_to_text(cell_at(t, r, c)));

        *ret_n_columns = n;
        return text;
}

static void print_rows(const Table *t, FILE *f, bool legend) {
        g_autoptr(GPtrArray) text = NULL;
        g_autofree size_t *widths = NULL;
        size_t n_columns, n_rows;
        bool bold;

        text = text_cells(t, &n_columns);
        if (n_columns == 0)
                return;
        n_rows = text->len / n_columns; /* incl. the header row */

        widths = g_new0(size_t, n_columns);
        for (size_t r = legend ? 0 : 1; r < n_rows; r++)
                for (size_t c = 0; c < n_columns; c++)
                        widths[c] = MAX(widths[c], text_width(text->pdata[r * n_columns + c]));

        bold = legend && want_bold(f);
        for (size_t r = legend ? 0 : 1; r < n_rows; r++) {
                bool header = r == 0;

                if (header && bold)
                        fputs(ANSI_BOLD, f);
                for (size_t c = 0; c < n_columns; c++) {
                        const char *s = text->pdata[r * n_columns + c];

                        fputs(s, f);
                        /* No trailing blanks after the last column. */
                        if (c + 1 < n_columns)
                                fprintf(f, "%*s", (int) (widths[c] - text_width(s) + COLUMN_GAP), "");
                }
                if (header && bold)
                        fputs(ANSI_NORMAL, f);
                fputc('\n', f);
        }
}

static void print_object(const Table *t, FILE *f) {
        assert(table_get_rows(t) == 1);

        for (size_t c = 0; c < t->columns->len; c++) {
                const TableColumn *col = column_at(t, c);
                g_autofree char *s = NULL;

                if (!col->header)
                        continue;
                s = cell_to_text(cell_at(t, 0, c));
                fprintf(f, "%s: %s\n", col->header, s);
        }
}

int table_print(const Table *t, FILE *f, TableForm form, TablePrintFlags flags) {
        assert(t);
        assert(f);
        assert(t->columns->len > 0);
        assert(t->cells->len % t->columns->len == 0);

        if (flags & TABLE_JSON) {
                g_autoptr(JsonNode) root = table_to_json(t, form);

                return json_write(root, f);
        }

        if (form == TABLE_OBJECT)
                print_object(t, f);
        else
                print_rows(t, f, !(flags & TABLE_NO_LEGEND));

        if (fflush(f) != 0 || ferror(f))
                return errno > 0 ? -errno : -EIO;
        return 0;
}

int table_output(const Table *t, TableForm form, TablePrintFlags flags) {
        int r;

        r = table_print(t, stdout, form, flags);
        if (r < 0)
                return log_error_errno(r, "cannot write output: %s", STRERROR(r));
        return 0;
}
