/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#pragma once

#include <stdint.h>

#include <sqlite3.h>

/* Shared by the store's files; not for the rest of the daemon. */

/* Maps an SQLite result code to a negative errno (0 for OK/ROW/DONE). */
int store_errno(int rc);
/* The same for a result code known to be a failure: never 0. */
int store_failure(int rc);
int store_exec(sqlite3 *db, const char *sql);
int store_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret);
/* Steps st (which must finish with SQLITE_DONE) in its own BEGIN
 * IMMEDIATE transaction; what names it in the error message. */
int store_step_in_transaction(sqlite3 *db, sqlite3_stmt *st, const char *what);

/* Runs sql (a SELECT of two integer columns) and calls cb for each row;
 * what names the rows in the error message. A negative cb return stops. */
typedef int (*StoreIdPairFunc)(uint64_t a, uint64_t b, void *userdata);
int store_foreach_id_pair(sqlite3 *db, const char *sql, const char *what, StoreIdPairFunc cb, void *userdata);
