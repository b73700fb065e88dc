/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <glib.h>
#include <json-glib/json-glib.h>

/* What l4mctl lists and shows: typed cells in columns, each column with a
 * heading for text and a key for JSON, printed as either from the same
 * data. Cells are copied. */
typedef struct Table Table;

/* A cell's type decides its text and its JSON. "-" stands for an empty cell
 * in text. */
typedef enum TableDataType {
        TABLE_EMPTY,        /* "-"; null */
        TABLE_STRING,       /* the text ("-" if ""); the string, null if NULL */
        TABLE_PATH,         /* an object path, as TABLE_STRING */
        TABLE_UINT64,       /* decimal; a number (at most 2^63-1) */
        TABLE_PERCENT,      /* a fraction 0..1 (a double): "45%"; the number (0 if not finite) */
        TABLE_BOOLEAN,      /* "yes" or "no"; true or false */
        TABLE_TIMESTAMP,    /* µs since the epoch: local time, "-" for 0; a number */
        TABLE_SIZE,         /* bytes: "1.5K"; a number */
        TABLE_STRV,         /* joined by ","; an array of strings, null if NULL */
        TABLE_UINT64_ARRAY, /* joined by ","; an array of numbers */
        _TABLE_DATA_TYPE_MAX,
} TableDataType;

/* How a table is printed. */
typedef enum TableForm {
        /* Aligned columns under a header line (column widths follow the
         * data); JSON: an array with one object per row. */
        TABLE_ROWS,
        /* Exactly one row: a "Heading: value" line per column; JSON: that
         * row's object. */
        TABLE_OBJECT,
} TableForm;

typedef enum TablePrintFlags {
        TABLE_JSON      = 1 << 0, /* JSON instead of text: indented when f is a terminal, else on one line */
        TABLE_NO_LEGEND = 1 << 1, /* text rows without the header line */
} TablePrintFlags;

Table *table_new(void);
void table_free(Table *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Table, table_free)

/* Add a column, before the first cell. header is its heading in text (NULL:
 * the column is in JSON only), json_key its key in JSON (NULL: in text only). */
void table_add_column(Table *t, const char *header, const char *json_key);
size_t table_get_columns(const Table *t);

/* Add the next cell, left to right, row after row. */
void table_add_empty(Table *t);
void table_add_string(Table *t, const char *s);
void table_add_path(Table *t, const char *path);
void table_add_uint64(Table *t, uint64_t value);
void table_add_percent(Table *t, double fraction);
void table_add_boolean(Table *t, bool value);
void table_add_timestamp(Table *t, uint64_t usec);
void table_add_size(Table *t, uint64_t bytes);
void table_add_strv(Table *t, char *const *strv);
void table_add_uint64_array(Table *t, const uint64_t *values, size_t n);

/* Complete rows so far. */
size_t table_get_rows(const Table *t);

/* The JSON document of the table in the given form (the rows must be
 * complete). */
JsonNode *table_to_json(const Table *t, TableForm form);

/* Print the table on f as text or (TABLE_JSON) JSON, followed by a newline.
 * Text headers are bold when f is a terminal (and TERM is not "dumb").
 * Returns 0 or a negative errno if writing failed. */
int table_print(const Table *t, FILE *f, TableForm form, TablePrintFlags flags);

/* table_print() on stdout; a failure is logged ("cannot write output").
 * Returns 0 or the negative errno. */
int table_output(const Table *t, TableForm form, TablePrintFlags flags);
