/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <glib.h>

/* A text table whose column widths follow its data. Cells are copied. */
typedef struct Table Table;

Table *table_new(size_t n_columns, const char *const *headers);
void table_free(Table *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Table, table_free)

/* cells holds exactly n_columns strings; NULL or "" is shown as "-". */
void table_add_row(Table *t, const char *const *cells);
size_t table_get_rows(const Table *t);

/* Print the rows, preceded by the header line if legend is true. The header
 * is bold when f is a terminal (and TERM is not "dumb"). Returns 0 or a
 * negative errno if writing failed. */
int table_print(const Table *t, FILE *f, bool legend);
