/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#include <assert.h>
#include <errno.h>

#include "l4m-log.h"
#include "store-private.h"
#include "store.h"

#define BACKUP_COLUMNS \
        "b.id, b.instance_id, i.name, b.owner, b.created, b.size, b.consistent " \
        "FROM backups b JOIN instances i ON i.id = b.instance_id "

int store_backup_insert(sqlite3 *db, const StoreBackup *b, StoreBackupPlaceFunc place, void *userdata,
                        uint64_t *ret_id) {
        g_autoptr(sqlite3_stmt) st = NULL;
        uint64_t id;
        int rc, r;

        assert(b);
        assert(place);

        r = store_prepare(db, "INSERT INTO backups (instance_id, owner, created, size, consistent) "
                          "VALUES (?1, ?2, ?3, ?4, ?5)", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64) b->instance_id);
        sqlite3_bind_text(st, 2, b->owner, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64) b->created);
        sqlite3_bind_int64(st, 4, (sqlite3_int64) b->size);
        sqlite3_bind_int(st, 5, b->consistent);

        r = store_begin(db);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE) {
                r = (rc & 0xff) == SQLITE_CONSTRAINT ? -ENOENT
                        : log_error_errno(store_failure(rc), "Cannot insert a backup: %s", sqlite3_errmsg(db));
                store_rollback(db);
                return r;
        }
        id = (uint64_t) sqlite3_last_insert_rowid(db);
        /* The file goes in place inside the transaction: a crash before
         * the commit leaves a file without a row, which the start-up sweep
         * removes, never a row without its file. */
        r = place(id, userdata);
        if (r < 0) {
                store_rollback(db);
                return r;
        }
        r = store_commit(db);
        if (r < 0)
                return r;
        if (ret_id)
                *ret_id = id;
        return 0;
}

int store_backup_delete(sqlite3 *db, uint64_t id) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int r;

        r = store_prepare(db, "DELETE FROM backups WHERE id = ?1", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64) id);
        r = store_step_in_transaction(db, st, "delete a backup");
        if (r < 0)
                return r;
        return sqlite3_changes(db) > 0 ? 0 : -ENOENT;
}

/* Steps st (a SELECT of BACKUP_COLUMNS) and calls cb for each row. */
static int foreach_row(sqlite3 *db, sqlite3_stmt *st, StoreBackupFunc cb, void *userdata, unsigned *ret_n) {
        unsigned n = 0;
        int rc, r;

        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                StoreBackup b = {
                        .id = (uint64_t) sqlite3_column_int64(st, 0),
                        .instance_id = (uint64_t) sqlite3_column_int64(st, 1),
                        .instance = (const char *) sqlite3_column_text(st, 2),
                        .owner = (const char *) sqlite3_column_text(st, 3),
                        .created = (uint64_t) sqlite3_column_int64(st, 4),
                        .size = (uint64_t) sqlite3_column_int64(st, 5),
                        .consistent = sqlite3_column_int(st, 6) != 0,
                };
                if (!b.instance || !b.owner)
                        return log_error_errno(ENOMEM, "Cannot read a backup row.");
                n++;
                r = cb(&b, userdata);
                if (r < 0)
                        return r;
        }
        if (rc != SQLITE_DONE)
                return log_error_errno(store_failure(rc), "Cannot list backups: %s", sqlite3_errmsg(db));
        if (ret_n)
                *ret_n = n;
        return 0;
}

int store_backup_foreach(sqlite3 *db, uint64_t instance_id, StoreBackupFunc cb, void *userdata) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int r;

        r = store_prepare(db, "SELECT " BACKUP_COLUMNS "WHERE ?1 = 0 OR b.instance_id = ?1 "
                          "ORDER BY b.created DESC, b.id DESC", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64) instance_id);
        return foreach_row(db, st, cb, userdata, NULL);
}

int store_backup_get(sqlite3 *db, uint64_t id, StoreBackupFunc cb, void *userdata) {
        g_autoptr(sqlite3_stmt) st = NULL;
        unsigned n;
        int r;

        r = store_prepare(db, "SELECT " BACKUP_COLUMNS "WHERE b.id = ?1", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64) id);
        r = foreach_row(db, st, cb, userdata, &n);
        if (r < 0)
                return r;
        return n > 0 ? 0 : -ENOENT;
}

int store_backup_owner_bytes(sqlite3 *db, const char *owner, uint64_t *ret) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int rc, r;

        r = store_prepare(db, "SELECT COALESCE(SUM(size), 0) FROM backups WHERE owner = ?1", &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
                return log_error_errno(store_failure(rc), "Cannot sum an owner's backups: %s", sqlite3_errmsg(db));
        *ret = (uint64_t) sqlite3_column_int64(st, 0);
        return 0;
}
