/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#include <errno.h>

#include "l4m-log.h"
#include "store-private.h"
#include "store.h"

/* Each runs in its own BEGIN IMMEDIATE transaction: job rows change one at
 * a time, on state transitions only (progress lives in memory). */

int store_job_insert(sqlite3 *db, const StoreJob *j, uint64_t *ret_id) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int r;

        r = store_prepare(db, "INSERT INTO jobs (kind, target, owner, state, message, attempts, created, started, finished) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, j->kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, j->target, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, j->owner, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, j->state, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, j->message ? j->message : "", -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 6, (int) j->attempts);
        sqlite3_bind_int64(st, 7, (sqlite3_int64) j->created);
        sqlite3_bind_int64(st, 8, (sqlite3_int64) j->started);
        sqlite3_bind_int64(st, 9, (sqlite3_int64) j->finished);

        r = store_step_in_transaction(db, st, "insert a job");
        if (r < 0)
                return r;
        *ret_id = (uint64_t) sqlite3_last_insert_rowid(db);
        return 0;
}

int store_job_update(sqlite3 *db, const StoreJob *j) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int r;

        r = store_prepare(db, "UPDATE jobs SET state = ?2, message = ?3, attempts = ?4, started = ?5, finished = ?6 "
                        "WHERE id = ?1", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64) j->id);
        sqlite3_bind_text(st, 2, j->state, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, j->message ? j->message : "", -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, (int) j->attempts);
        sqlite3_bind_int64(st, 5, (sqlite3_int64) j->started);
        sqlite3_bind_int64(st, 6, (sqlite3_int64) j->finished);
        return store_step_in_transaction(db, st, "update a job");
}

int store_job_delete(sqlite3 *db, uint64_t id) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int r;

        r = store_prepare(db, "DELETE FROM jobs WHERE id = ?1", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64) id);
        return store_step_in_transaction(db, st, "delete a job");
}

int store_job_foreach(sqlite3 *db, StoreJobFunc cb, void *userdata) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int rc, r;

        r = store_prepare(db, "SELECT id, kind, target, owner, state, message, attempts, created, started, finished "
                        "FROM jobs ORDER BY id", &st);
        if (r < 0)
                return r;

        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                StoreJob j = {
                        .id = (uint64_t) sqlite3_column_int64(st, 0),
                        .kind = (const char *) sqlite3_column_text(st, 1),
                        .target = (const char *) sqlite3_column_text(st, 2),
                        .owner = (const char *) sqlite3_column_text(st, 3),
                        .state = (const char *) sqlite3_column_text(st, 4),
                        .message = (const char *) sqlite3_column_text(st, 5),
                        .attempts = (unsigned) sqlite3_column_int(st, 6),
                        .created = (uint64_t) sqlite3_column_int64(st, 7),
                        .started = (uint64_t) sqlite3_column_int64(st, 8),
                        .finished = (uint64_t) sqlite3_column_int64(st, 9),
                };
                if (!j.kind || !j.target || !j.owner || !j.state || !j.message)
                        return log_error_errno(ENOMEM, "Cannot read job row %" G_GUINT64_FORMAT ".", j.id);
                r = cb(&j, userdata);
                if (r < 0)
                        return r;
        }
        if (rc != SQLITE_DONE)
                return log_error_errno(store_failure(rc), "Cannot list jobs: %s", sqlite3_errmsg(db));
        return 0;
}
