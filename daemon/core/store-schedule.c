/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#include <assert.h>
#include <errno.h>

#include "l4m-log.h"
#include "store-private.h"
#include "store.h"

int store_schedule_insert(sqlite3 *db, const StoreSchedule *s, uint64_t *ret_id) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int rc, r;

        assert(s);

        r = store_prepare(db, "INSERT INTO schedules (name, owner, created, calendar, action, target, target_id, argument, "
                              "only_if_running, restart_instances, stop_server, randomized_delay_usec, enabled) "
                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)", &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, s->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, s->owner, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64) s->created);
        sqlite3_bind_text(st, 4, s->calendar, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, s->action, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, s->target, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, (sqlite3_int64) s->target_id);
        sqlite3_bind_text(st, 8, s->argument, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 9, s->only_if_running);
        sqlite3_bind_int(st, 10, s->restart_instances);
        sqlite3_bind_int(st, 11, s->stop_server);
        sqlite3_bind_int64(st, 12, (sqlite3_int64) s->randomized_delay_usec);
        sqlite3_bind_int(st, 13, s->enabled);

        r = store_begin(db);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE) {
                r = rc == SQLITE_CONSTRAINT_UNIQUE ? -EEXIST
                        : log_error_errno(store_failure(rc), "Cannot insert schedule %s: %s", s->name, sqlite3_errmsg(db));
                store_rollback(db);
                return r;
        }
        *ret_id = (uint64_t) sqlite3_last_insert_rowid(db);
        return store_commit(db);
}

/* Steps st, an UPDATE or DELETE of row id bound as ?1, in its own
 * transaction: -ENOENT if there is no such row. */
static int step_on_row(sqlite3 *db, sqlite3_stmt *st, uint64_t id, const char *what) {
        int r;

        sqlite3_bind_int64(st, 1, (sqlite3_int64) id);
        r = store_step_in_transaction(db, st, what);
        if (r < 0)
                return r;
        return sqlite3_changes(db) > 0 ? 0 : -ENOENT;
}

int store_schedule_delete(sqlite3 *db, uint64_t id) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int r;

        r = store_prepare(db, "DELETE FROM schedules WHERE id = ?1", &st);
        if (r < 0)
                return r;
        return step_on_row(db, st, id, "delete a schedule");
}

/* sql: an UPDATE of row ?1 setting one integer column to ?2. */
static int set_integer(sqlite3 *db, const char *sql, uint64_t id, uint64_t value, const char *what) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int r;

        r = store_prepare(db, sql, &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 2, (sqlite3_int64) value);
        return step_on_row(db, st, id, what);
}

int store_schedule_set_enabled(sqlite3 *db, uint64_t id, bool enabled) {
        return set_integer(db, "UPDATE schedules SET enabled = ?2 WHERE id = ?1", id, enabled,
                           "store whether a schedule is enabled");
}

int store_schedule_set_last_trigger(sqlite3 *db, uint64_t id, uint64_t last_trigger) {
        return set_integer(db, "UPDATE schedules SET last_trigger = ?2 WHERE id = ?1", id, last_trigger,
                           "store a schedule's elapse");
}

int store_schedule_set_last_run(sqlite3 *db, uint64_t id, uint64_t last_run, const char *last_result,
                                uint64_t last_job) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int r;

        r = store_prepare(db, "UPDATE schedules SET last_run = ?2, last_result = ?3, last_job = ?4 WHERE id = ?1", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 2, (sqlite3_int64) last_run);
        sqlite3_bind_text(st, 3, last_result, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, (sqlite3_int64) last_job);
        return step_on_row(db, st, id, "store a schedule's last run");
}

int store_schedule_foreach(sqlite3 *db, StoreScheduleFunc cb, void *userdata) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int rc, r;

        r = store_prepare(db, "SELECT id, name, owner, created, calendar, action, target, target_id, argument, "
                              "only_if_running, restart_instances, stop_server, randomized_delay_usec, enabled, "
                              "last_trigger, last_run, last_result, last_job FROM schedules ORDER BY id", &st);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                StoreSchedule s = {
                        .id = (uint64_t) sqlite3_column_int64(st, 0),
                        .name = (const char *) sqlite3_column_text(st, 1),
                        .owner = (const char *) sqlite3_column_text(st, 2),
                        .created = (uint64_t) sqlite3_column_int64(st, 3),
                        .calendar = (const char *) sqlite3_column_text(st, 4),
                        .action = (const char *) sqlite3_column_text(st, 5),
                        .target = (const char *) sqlite3_column_text(st, 6),
                        .target_id = (uint64_t) sqlite3_column_int64(st, 7),
                        .argument = (const char *) sqlite3_column_text(st, 8),
                        .only_if_running = sqlite3_column_int(st, 9) != 0,
                        .restart_instances = sqlite3_column_int(st, 10) != 0,
                        .stop_server = sqlite3_column_int(st, 11) != 0,
                        .randomized_delay_usec = (uint64_t) sqlite3_column_int64(st, 12),
                        .enabled = sqlite3_column_int(st, 13) != 0,
                        .last_trigger = (uint64_t) sqlite3_column_int64(st, 14),
                        .last_run = (uint64_t) sqlite3_column_int64(st, 15),
                        .last_result = (const char *) sqlite3_column_text(st, 16),
                        .last_job = (uint64_t) sqlite3_column_int64(st, 17),
                };
                if (!s.name || !s.owner || !s.calendar || !s.action || !s.target || !s.argument || !s.last_result)
                        return log_error_errno(ENOMEM, "Cannot read schedule row %" G_GUINT64_FORMAT ".", s.id);
                r = cb(&s, userdata);
                if (r < 0)
                        return r;
        }
        if (rc != SQLITE_DONE)
                return log_error_errno(store_failure(rc), "Cannot list schedules: %s", sqlite3_errmsg(db));
        return 0;
}
