/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#include <errno.h>

#include "l4m-log.h"
#include "store-private.h"
#include "store.h"

/* Steps st to its end in its own transaction; a missing blueprint is
 * -ENOENT, a taken name or port -EEXIST. */
static int step_write(sqlite3 *db, sqlite3_stmt *st, const char *what) {
        int rc, r;

        r = store_begin(db);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return store_commit(db);
        store_rollback(db);
        if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
                return -ENOENT;
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
                return -EEXIST;
        return log_error_errno(store_failure(rc), "Cannot %s: %s", what, sqlite3_errmsg(db));
}

int store_instance_insert(sqlite3 *db, const StoreInstance *i, uint64_t *ret_id) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int r;

        r = store_prepare(db, "INSERT INTO instances (name, owner, blueprint_id, port, hostname, max_players, map, "
                              "autostart, rcon_password, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, i->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, i->owner, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64) i->blueprint_id);
        sqlite3_bind_int(st, 4, i->port);
        sqlite3_bind_text(st, 5, i->hostname ? i->hostname : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, i->max_players);
        sqlite3_bind_text(st, 7, i->map ? i->map : "", -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 8, i->autostart);
        sqlite3_bind_text(st, 9, i->rcon_password, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 10, (sqlite3_int64) i->created);
        r = step_write(db, st, "insert an instance");
        if (r < 0)
                return r;
        *ret_id = (uint64_t) sqlite3_last_insert_rowid(db);
        return 0;
}

int store_instance_delete(sqlite3 *db, uint64_t id) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int r;

        r = store_prepare(db, "DELETE FROM instances WHERE id = ?1", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64) id);
        r = store_step_in_transaction(db, st, "delete an instance");
        if (r < 0)
                return r;
        return sqlite3_changes(db) > 0 ? 0 : -ENOENT;
}

int store_instance_update(sqlite3 *db, const StoreInstance *i) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int r;

        r = store_prepare(db, "UPDATE instances SET blueprint_id = ?2, hostname = ?3, max_players = ?4, map = ?5, "
                              "autostart = ?6 WHERE id = ?1", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64) i->id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64) i->blueprint_id);
        sqlite3_bind_text(st, 3, i->hostname ? i->hostname : "", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, i->max_players);
        sqlite3_bind_text(st, 5, i->map ? i->map : "", -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 6, i->autostart);
        r = step_write(db, st, "update an instance");
        if (r < 0)
                return r;
        return sqlite3_changes(db) > 0 ? 0 : -ENOENT;
}

int store_instance_set_rcon_password(sqlite3 *db, uint64_t id, const char *password) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int r;

        r = store_prepare(db, "UPDATE instances SET rcon_password = ?2 WHERE id = ?1", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64) id);
        sqlite3_bind_text(st, 2, password, -1, SQLITE_STATIC);
        r = store_step_in_transaction(db, st, "store an instance's RCON password");
        if (r < 0)
                return r;
        return sqlite3_changes(db) > 0 ? 0 : -ENOENT;
}

static void bind_limit(sqlite3_stmt *st, int column, uint64_t value) {
        if (value == STORE_LIMIT_DEFAULT)
                sqlite3_bind_null(st, column);
        else if (value == STORE_LIMIT_INFINITY)
                sqlite3_bind_int64(st, column, -1);
        else
                sqlite3_bind_int64(st, column, (sqlite3_int64) value);
}

static uint64_t column_limit(sqlite3_stmt *st, int column) {
        sqlite3_int64 v;

        if (sqlite3_column_type(st, column) == SQLITE_NULL)
                return STORE_LIMIT_DEFAULT;
        v = sqlite3_column_int64(st, column);
        /* The CHECK constraints allow nothing else below 1. */
        return v < 0 ? STORE_LIMIT_INFINITY : (uint64_t) v;
}

int store_instance_set_limits(sqlite3 *db, uint64_t id, const uint64_t limits[STORE_LIMITS_N]) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int r;

        r = store_prepare(db, "UPDATE instances SET cpu_quota = ?2, memory_max = ?3, tasks_max = ?4, disk_max = ?5 "
                              "WHERE id = ?1", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64) id);
        for (int k = 0; k < STORE_LIMITS_N; k++)
                bind_limit(st, 2 + k, limits[k]);
        r = store_step_in_transaction(db, st, "store an instance's limits");
        if (r < 0)
                return r;
        return sqlite3_changes(db) > 0 ? 0 : -ENOENT;
}

int store_instance_foreach(sqlite3 *db, StoreInstanceFunc cb, void *userdata) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int rc, r;

        r = store_prepare(db, "SELECT id, name, owner, blueprint_id, port, hostname, max_players, map, autostart, "
                              "rcon_password, created, cpu_quota, memory_max, tasks_max, disk_max FROM instances ORDER BY id", &st);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                sqlite3_int64 port = sqlite3_column_int64(st, 4), max_players = sqlite3_column_int64(st, 6);
                StoreInstance i = {
                        .id = (uint64_t) sqlite3_column_int64(st, 0),
                        .name = (const char *) sqlite3_column_text(st, 1),
                        .owner = (const char *) sqlite3_column_text(st, 2),
                        .blueprint_id = (uint64_t) sqlite3_column_int64(st, 3),
                        .port = (uint16_t) port,
                        .hostname = (const char *) sqlite3_column_text(st, 5),
                        .max_players = (uint32_t) max_players,
                        .map = (const char *) sqlite3_column_text(st, 7),
                        .autostart = sqlite3_column_int(st, 8) != 0,
                        .rcon_password = (const char *) sqlite3_column_text(st, 9),
                        .created = (uint64_t) sqlite3_column_int64(st, 10),
                };
                for (int k = 0; k < STORE_LIMITS_N; k++)
                        i.limits[k] = column_limit(st, 11 + k);
                if (!i.name || !i.owner || !i.hostname || !i.map || !i.rcon_password)
                        return log_error_errno(ENOMEM, "Cannot read instance row %" G_GUINT64_FORMAT ".", i.id);
                if (port < 1 || port > 65535 || max_players < 0 || max_players > UINT32_MAX)
                        return log_error_errno(EINVAL, "Instance row %" G_GUINT64_FORMAT " is out of range.", i.id);
                r = cb(&i, userdata);
                if (r < 0)
                        return r;
        }
        if (rc != SQLITE_DONE)
                return log_error_errno(store_failure(rc), "Cannot list instances: %s", sqlite3_errmsg(db));
        return 0;
}
