/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#include <errno.h>

#include "l4m-log.h"
#include "store-private.h"
#include "store.h"

/* Steps st to its end; a foreign key failure (an overlay without a row) is
 * -ENOENT, a taken name -EEXIST. */
static int step_done(sqlite3 *db, sqlite3_stmt *st, const char *what) {
        int rc = sqlite3_step(st);

        if (rc == SQLITE_DONE)
                return 0;
        if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
                return -ENOENT;
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
                return -EEXIST;
        return log_error_errno(store_failure(rc), "Cannot %s: %s", what, sqlite3_errmsg(db));
}

/* Inside a transaction: replaces the overlays of blueprint id. */
static int write_overlays(sqlite3 *db, uint64_t id, const uint64_t *overlay_ids, size_t n) {
        g_autoptr(sqlite3_stmt) del = NULL, ins = NULL;
        int r;

        r = store_prepare(db, "DELETE FROM blueprint_overlays WHERE blueprint_id = ?1", &del);
        if (r >= 0)
                r = store_prepare(db, "INSERT INTO blueprint_overlays (blueprint_id, position, overlay_id) "
                                      "VALUES (?1, ?2, ?3)", &ins);
        if (r < 0)
                return r;

        sqlite3_bind_int64(del, 1, (sqlite3_int64) id);
        r = step_done(db, del, "clear a blueprint's overlays");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                sqlite3_reset(ins);
                sqlite3_bind_int64(ins, 1, (sqlite3_int64) id);
                sqlite3_bind_int64(ins, 2, (sqlite3_int64) i);
                sqlite3_bind_int64(ins, 3, (sqlite3_int64) overlay_ids[i]);
                r = step_done(db, ins, "store a blueprint's overlay");
        }
        return r;
}

int store_blueprint_insert(sqlite3 *db, const StoreBlueprint *b, const uint64_t *overlay_ids, size_t n,
                           uint64_t *ret_id) {
        g_autoptr(sqlite3_stmt) st = NULL;
        uint64_t id = 0;
        int r;

        r = store_prepare(db, "INSERT INTO blueprints (name, owner, created, server_cfg, launch_args) "
                              "VALUES (?1, ?2, ?3, ?4, ?5)", &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, b->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, b->owner, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64) b->created);
        sqlite3_bind_text(st, 4, b->server_cfg ? b->server_cfg : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, b->launch_args ? b->launch_args : "", -1, SQLITE_STATIC);

        r = store_begin(db);
        if (r < 0)
                return r;
        r = step_done(db, st, "insert a blueprint");
        if (r >= 0) {
                id = (uint64_t) sqlite3_last_insert_rowid(db);
                r = write_overlays(db, id, overlay_ids, n);
        }
        if (r < 0) {
                store_rollback(db);
                return r;
        }
        r = store_commit(db);
        if (r < 0)
                return r;
        *ret_id = id;
        return 0;
}

int store_blueprint_delete(sqlite3 *db, uint64_t id) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int r;

        r = store_prepare(db, "DELETE FROM blueprints WHERE id = ?1", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64) id);
        r = store_step_in_transaction(db, st, "delete a blueprint");
        if (r < 0)
                return r;
        return sqlite3_changes(db) > 0 ? 0 : -ENOENT;
}

int store_blueprint_set_overlays(sqlite3 *db, uint64_t id, const uint64_t *overlay_ids, size_t n) {
        int r;

        r = store_begin(db);
        if (r < 0)
                return r;
        r = write_overlays(db, id, overlay_ids, n);
        if (r < 0) {
                store_rollback(db);
                return r;
        }
        return store_commit(db);
}

static int set_text(sqlite3 *db, const char *sql, uint64_t id, const char *text, const char *what) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int r;

        r = store_prepare(db, sql, &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64) id);
        sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
        return store_step_in_transaction(db, st, what);
}

int store_blueprint_set_server_cfg(sqlite3 *db, uint64_t id, const char *server_cfg) {
        return set_text(db, "UPDATE blueprints SET server_cfg = ?2 WHERE id = ?1", id, server_cfg,
                        "record a blueprint's server.cfg");
}

int store_blueprint_set_launch_args(sqlite3 *db, uint64_t id, const char *launch_args) {
        return set_text(db, "UPDATE blueprints SET launch_args = ?2 WHERE id = ?1", id, launch_args,
                        "record a blueprint's launch arguments");
}

int store_blueprint_update(sqlite3 *db, uint64_t id, const uint64_t *overlay_ids, size_t n, const char *server_cfg,
                           const char *launch_args) {
        g_autoptr(sqlite3_stmt) cfg = NULL, args = NULL;
        int r;

        if (server_cfg) {
                r = store_prepare(db, "UPDATE blueprints SET server_cfg = ?2 WHERE id = ?1", &cfg);
                if (r < 0)
                        return r;
                sqlite3_bind_int64(cfg, 1, (sqlite3_int64) id);
                sqlite3_bind_text(cfg, 2, server_cfg, -1, SQLITE_STATIC);
        }
        if (launch_args) {
                r = store_prepare(db, "UPDATE blueprints SET launch_args = ?2 WHERE id = ?1", &args);
                if (r < 0)
                        return r;
                sqlite3_bind_int64(args, 1, (sqlite3_int64) id);
                sqlite3_bind_text(args, 2, launch_args, -1, SQLITE_STATIC);
        }

        r = store_begin(db);
        if (r < 0)
                return r;
        r = overlay_ids ? write_overlays(db, id, overlay_ids, n) : 0;
        if (r >= 0 && cfg)
                r = step_done(db, cfg, "record a blueprint's server.cfg");
        if (r >= 0 && args)
                r = step_done(db, args, "record a blueprint's launch arguments");
        if (r < 0) {
                store_rollback(db);
                return r;
        }
        return store_commit(db);
}

int store_blueprint_foreach(sqlite3 *db, StoreBlueprintFunc cb, void *userdata) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int rc, r;

        r = store_prepare(db, "SELECT id, name, owner, created, server_cfg, launch_args FROM blueprints ORDER BY id", &st);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                StoreBlueprint b = {
                        .id = (uint64_t) sqlite3_column_int64(st, 0),
                        .name = (const char *) sqlite3_column_text(st, 1),
                        .owner = (const char *) sqlite3_column_text(st, 2),
                        .created = (uint64_t) sqlite3_column_int64(st, 3),
                        .server_cfg = (const char *) sqlite3_column_text(st, 4),
                        .launch_args = (const char *) sqlite3_column_text(st, 5),
                };
                if (!b.name || !b.owner)
                        return log_error_errno(ENOMEM, "Cannot read blueprint row %" G_GUINT64_FORMAT ".", b.id);
                r = cb(&b, userdata);
                if (r < 0)
                        return r;
        }
        if (rc != SQLITE_DONE)
                return log_error_errno(store_failure(rc), "Cannot list blueprints: %s", sqlite3_errmsg(db));
        return 0;
}

int store_blueprint_overlays_foreach(sqlite3 *db, StoreBlueprintOverlayFunc cb, void *userdata) {
        return store_foreach_id_pair(db, "SELECT blueprint_id, overlay_id FROM blueprint_overlays ORDER BY blueprint_id, position",
                                     "blueprint overlays", cb, userdata);
}
