/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#include <assert.h>
#include <errno.h>

#include "l4m-log.h"
#include "store-private.h"
#include "store.h"

int store_user_insert(sqlite3 *db, const StoreUser *u) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int rc, r;

        assert(u);

        r = store_prepare(db, "INSERT INTO web_users (name, role, password_hash, created) VALUES (?1, ?2, ?3, ?4)", &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, u->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, u->role, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, u->password_hash, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, (sqlite3_int64) u->created);

        r = store_begin(db);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE) {
                r = rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE ? -EEXIST
                        : log_error_errno(store_failure(rc), "Cannot insert web account %s: %s", u->name, sqlite3_errmsg(db));
                store_rollback(db);
                return r;
        }
        return store_commit(db);
}

int store_user_set_password(sqlite3 *db, const char *name, const char *password_hash) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int r;

        r = store_prepare(db, "UPDATE web_users SET password_hash = ?2 WHERE name = ?1", &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, password_hash, -1, SQLITE_STATIC);
        r = store_step_in_transaction(db, st, "store a web account's password");
        if (r < 0)
                return r;
        return sqlite3_changes(db) > 0 ? 0 : -ENOENT;
}

int store_user_delete(sqlite3 *db, const char *name) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int r;

        r = store_prepare(db, "DELETE FROM web_users WHERE name = ?1", &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        r = store_step_in_transaction(db, st, "delete a web account");
        if (r < 0)
                return r;
        return sqlite3_changes(db) > 0 ? 0 : -ENOENT;
}

int store_user_get(sqlite3 *db, const char *name, char **ret_role, char **ret_hash) {
        g_autoptr(sqlite3_stmt) st = NULL;
        const char *role, *hash;
        int rc, r;

        r = store_prepare(db, "SELECT role, password_hash FROM web_users WHERE name = ?1", &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);

        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return log_error_errno(store_failure(rc), "Cannot read web account %s: %s", name, sqlite3_errmsg(db));
        role = (const char *) sqlite3_column_text(st, 0);
        hash = (const char *) sqlite3_column_text(st, 1);
        if (!role || !hash)
                return log_error_errno(ENOMEM, "Cannot read web account %s.", name);
        if (ret_role)
                *ret_role = g_strdup(role);
        if (ret_hash)
                *ret_hash = g_strdup(hash);
        return 0;
}

int store_user_foreach(sqlite3 *db, StoreUserFunc cb, void *userdata) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int rc, r;

        r = store_prepare(db, "SELECT name, role, password_hash, created FROM web_users ORDER BY name", &st);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                StoreUser u = {
                        .name = (const char *) sqlite3_column_text(st, 0),
                        .role = (const char *) sqlite3_column_text(st, 1),
                        .password_hash = (const char *) sqlite3_column_text(st, 2),
                        .created = (uint64_t) sqlite3_column_int64(st, 3),
                };
                if (!u.name || !u.role || !u.password_hash)
                        return log_error_errno(ENOMEM, "Cannot read a web account row.");
                r = cb(&u, userdata);
                if (r < 0)
                        return r;
        }
        if (rc != SQLITE_DONE)
                return log_error_errno(store_failure(rc), "Cannot list web accounts: %s", sqlite3_errmsg(db));
        return 0;
}
