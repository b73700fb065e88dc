/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "table.h"

#define COLUMN_GAP 2
#define ANSI_BOLD "\033[1m"
#define ANSI_NORMAL "\033[0m"

struct Table {
        size_t n_columns;
        GPtrArray *cells; /* row-major, header row first; owns the strings */
};

Table *table_new(size_t n_columns, const char *const *headers) {
        Table *t;

        assert(n_columns > 0);
        assert(headers);

        t = g_new0(Table, 1);
        t->n_columns = n_columns;
        t->cells = g_ptr_array_new_with_free_func(g_free);
        for (size_t i = 0; i < n_columns; i++)
                g_ptr_array_add(t->cells, g_strdup(headers[i]));
        return t;
}

void table_free(Table *t) {
        if (!t)
                return;
        g_ptr_array_unref(t->cells);
        g_free(t);
}

void table_add_row(Table *t, const char *const *cells) {
        assert(t);
        assert(cells);

        for (size_t i = 0; i < t->n_columns; i++)
                g_ptr_array_add(t->cells, g_strdup(cells[i] && cells[i][0] ? cells[i] : "-"));
}

size_t table_get_rows(const Table *t) {
        assert(t);
        return t->cells->len / t->n_columns - 1;
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

static const char *cell(const Table *t, size_t row, size_t column) {
        return g_ptr_array_index(t->cells, row * t->n_columns + column);
}

int table_print(const Table *t, FILE *f, bool legend) {
        g_autofree size_t *widths = NULL;
        size_t n_rows;
        bool bold;

        assert(t);
        assert(f);

        n_rows = t->cells->len / t->n_columns; /* incl. the header row */
        widths = g_new0(size_t, t->n_columns);
        for (size_t r = legend ? 0 : 1; r < n_rows; r++)
                for (size_t c = 0; c < t->n_columns; c++)
                        widths[c] = MAX(widths[c], text_width(cell(t, r, c)));

        bold = legend && want_bold(f);
        for (size_t r = legend ? 0 : 1; r < n_rows; r++) {
                bool header = r == 0;

                if (header && bold)
                        fputs(ANSI_BOLD, f);
                for (size_t c = 0; c < t->n_columns; c++) {
                        const char *s = cell(t, r, c);
                        bool last = c + 1 == t->n_columns;

                        fputs(s, f);
                        /* No trailing blanks after the last column. */
                        if (!last)
                                fprintf(f, "%*s", (int) (widths[c] - text_width(s) + COLUMN_GAP), "");
                }
                if (header && bold)
                        fputs(ANSI_NORMAL, f);
                fputc('\n', f);
        }

        if (fflush(f) != 0 || ferror(f))
                return errno > 0 ? -errno : -EIO;
        return 0;
}
