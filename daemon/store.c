/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>

#include "l4m-log.h"
#include "l4m-util.h"
#include "store.h"
#include "store-private.h"

/* Numbered migrations: entry i takes the schema from version i to i+1.
 * Never edit an entry that has shipped; append a new one. */
static const char *const migrations[] = {
        /* 1: overlay records */
        ("CREATE TABLE overlays ("
        "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  name TEXT NOT NULL UNIQUE,"
        "  type TEXT NOT NULL CHECK (type IN ('workshop', 'script', 'archive')),"
        "  owner TEXT NOT NULL,"
        "  state TEXT NOT NULL,"
        "  created INTEGER NOT NULL"
        ");"),
        /* 2: jobs; target names what a job works on ("overlay:<id>") and is
         * no foreign key: finished jobs outlive their targets as history. */
        ("CREATE TABLE jobs ("
        "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  kind TEXT NOT NULL,"
        "  target TEXT NOT NULL,"
        "  owner TEXT NOT NULL,"
        "  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),"
        "  message TEXT NOT NULL DEFAULT '',"
        "  attempts INTEGER NOT NULL DEFAULT 0,"
        "  created INTEGER NOT NULL,"
        "  started INTEGER NOT NULL DEFAULT 0,"
        "  finished INTEGER NOT NULL DEFAULT 0"
        ");"
        "CREATE INDEX jobs_by_state ON jobs (state);"),
        /* 3: what overlays are built from, and what their last build made */
        ("ALTER TABLE overlays ADD COLUMN last_build INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE overlays ADD COLUMN size INTEGER NOT NULL DEFAULT 0;"
        "CREATE TABLE overlay_items ("
        "  overlay_id INTEGER NOT NULL REFERENCES overlays (id) ON DELETE CASCADE,"
        "  position INTEGER NOT NULL,"
        "  published_id INTEGER NOT NULL,"
        "  PRIMARY KEY (overlay_id, position)"
        ");"
        "CREATE TABLE workshop_links ("
        "  overlay_id INTEGER NOT NULL REFERENCES overlays (id) ON DELETE CASCADE,"
        "  published_id INTEGER NOT NULL,"
        "  time_updated INTEGER NOT NULL,"
        "  PRIMARY KEY (overlay_id, published_id)"
        ");"),
        /* 4: where an archive overlay's Build fetches its archive from */
        ("ALTER TABLE overlays ADD COLUMN source_url TEXT NOT NULL DEFAULT '';"
        "ALTER TABLE overlays ADD COLUMN source_checksum TEXT NOT NULL DEFAULT '';"),
        /* 5: a script overlay's script (read only when it runs or its owner asks) */
        ("ALTER TABLE overlays ADD COLUMN script TEXT NOT NULL DEFAULT '';"),
        /* 6: blueprints: a stack of overlays (position 0 is the top) with a
         * server.cfg text and launch arguments (one per line: arguments
         * never hold control characters). An overlay that a blueprint uses
         * cannot be deleted (RESTRICT); the daemon says Busy before that. */
        ("CREATE TABLE blueprints ("
        "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  name TEXT NOT NULL UNIQUE,"
        "  owner TEXT NOT NULL,"
        "  created INTEGER NOT NULL,"
        "  server_cfg TEXT NOT NULL DEFAULT '',"
        "  launch_args TEXT NOT NULL DEFAULT ''"
        ");"
        "CREATE TABLE blueprint_overlays ("
        "  blueprint_id INTEGER NOT NULL REFERENCES blueprints (id) ON DELETE CASCADE,"
        "  position INTEGER NOT NULL,"
        "  overlay_id INTEGER NOT NULL REFERENCES overlays (id) ON DELETE RESTRICT,"
        "  PRIMARY KEY (blueprint_id, position)"
        ");"
        "CREATE INDEX blueprint_overlays_by_overlay ON blueprint_overlays (overlay_id);"),
};

int store_errno(int rc) {
        switch (rc & 0xff) {
        case SQLITE_OK:
        case SQLITE_DONE:
        case SQLITE_ROW:
                return 0;
        case SQLITE_CONSTRAINT:
                return -EEXIST;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_READONLY:
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return -EACCES;
        case SQLITE_CANTOPEN:
                return -ENOENT;
        default:
                return -EIO;
        }
}

/* For a result code that is known to be a failure. */
int store_failure(int rc) {
        int r = store_errno(rc);
        return r < 0 ? r : -EIO;
}

int store_exec(sqlite3 *db, const char *sql) {
        char *err = NULL;
        int rc = sqlite3_exec(db, sql, NULL, NULL, &err);

        if (rc != SQLITE_OK) {
                int r = store_errno(rc);
                log_error_errno(r, "SQL \"%.40s…\" failed: %s", sql, err ? err : sqlite3_errstr(rc));
                sqlite3_free(err);
                return r;
        }
        return 0;
}

static int pragma_int(sqlite3 *db, const char *sql, int *ret) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int rc;

        rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK)
                return store_errno(rc);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
                return rc == SQLITE_DONE ? -ENODATA : store_errno(rc);
        *ret = sqlite3_column_int(st, 0);
        return 0;
}

int store_schema_version(sqlite3 *db) {
        int v = 0, r;

        r = pragma_int(db, "PRAGMA user_version", &v);
        return r < 0 ? r : v;
}

int store_schema_latest(void) {
        return (int) L4M_ELEMENTSOF(migrations);
}

static int migrate(sqlite3 *db) {
        int version, r;

        r = store_begin(db);
        if (r < 0)
                return r;

        version = store_schema_version(db);
        if (version < 0) {
                r = version;
                goto fail;
        }
        if (version > store_schema_latest()) {
                r = log_error_errno(EPROTO, "Database schema version %i is newer than this daemon knows (%i); refusing to touch it.",
                                    version, store_schema_latest());
                goto fail;
        }

        for (int v = version; v < store_schema_latest(); v++) {
                r = store_exec(db, migrations[v]);
                if (r < 0)
                        goto fail;
        }
        if (version < store_schema_latest()) {
                g_autofree char *set = g_strdup_printf("PRAGMA user_version = %i", store_schema_latest());
                r = store_exec(db, set);
                if (r < 0)
                        goto fail;
        }

        r = store_commit(db);
        if (r < 0)
                return r;
        if (version < store_schema_latest())
                log_info("Database schema migrated from version %i to %i.", version, store_schema_latest());
        return 0;
fail:
        store_rollback(db);
        return r;
}

int store_open(const char *path, sqlite3 **ret) {
        sqlite3 *db = NULL;
        int rc, r;

        assert(path);
        assert(ret);

        rc = sqlite3_open_v2(path, &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW |
                             SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_EXRESCODE,
                             NULL);
        if (rc != SQLITE_OK) {
                r = log_error_errno(store_errno(rc), "Cannot open database %s: %s",
                                    path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
                sqlite3_close_v2(db);
                return r;
        }
        (void) sqlite3_extended_result_codes(db, 1);
        (void) sqlite3_busy_timeout(db, 5000);

        r = store_exec(db,
                     "PRAGMA journal_mode = WAL;"
                     "PRAGMA synchronous = FULL;"
                     "PRAGMA foreign_keys = ON;"
                     "PRAGMA trusted_schema = OFF;");
        if (r >= 0)
                r = migrate(db);
        if (r < 0) {
                sqlite3_close_v2(db);
                return r;
        }

        *ret = db;
        return 0;
}

void store_close(sqlite3 *db) {
        if (db)
                sqlite3_close_v2(db);
}

int store_begin(sqlite3 *db) {
        return store_exec(db, "BEGIN IMMEDIATE");
}

int store_commit(sqlite3 *db) {
        int r = store_exec(db, "COMMIT");

        /* A failed COMMIT (disk full, I/O error) leaves the transaction
         * open; end it, or every later BEGIN fails. */
        if (r < 0)
                store_rollback(db);
        return r;
}

void store_rollback(sqlite3 *db) {
        if (!sqlite3_get_autocommit(db))
                (void) store_exec(db, "ROLLBACK");
}

int store_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret) {
        int rc = sqlite3_prepare_v2(db, sql, -1, ret, NULL);
        if (rc != SQLITE_OK)
                return log_error_errno(store_errno(rc), "Cannot prepare \"%s\": %s", sql, sqlite3_errmsg(db));
        return 0;
}

int store_overlay_insert(sqlite3 *db, const StoreOverlay *o, uint64_t *ret_id) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int rc, r;

        r = store_prepare(db, "INSERT INTO overlays (name, type, owner, state, created) VALUES (?1, ?2, ?3, ?4, ?5)", &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, o->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, o->type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, o->owner, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, o->state, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, (sqlite3_int64) o->created);

        rc = sqlite3_step(st);
        if (rc == SQLITE_CONSTRAINT_UNIQUE)
                return -EEXIST;
        if (rc != SQLITE_DONE)
                return log_error_errno(store_failure(rc), "Cannot insert overlay %s: %s", o->name, sqlite3_errmsg(db));

        *ret_id = (uint64_t) sqlite3_last_insert_rowid(db);
        return 0;
}

int store_overlay_delete(sqlite3 *db, uint64_t id) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int rc, r;

        r = store_prepare(db, "DELETE FROM overlays WHERE id = ?1", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64) id);

        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
                return log_error_errno(store_failure(rc), "Cannot delete overlay %" G_GUINT64_FORMAT ": %s", id, sqlite3_errmsg(db));
        return sqlite3_changes(db) > 0 ? 0 : -ENOENT;
}

int store_overlay_foreach(sqlite3 *db, StoreOverlayFunc cb, void *userdata) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int rc, r;

        r = store_prepare(db, "SELECT id, name, type, owner, state, created, last_build, size, source_url, source_checksum, "
                              "length(CAST(script AS BLOB)) FROM overlays ORDER BY id", &st);
        if (r < 0)
                return r;

        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                StoreOverlay o = {
                        .id = (uint64_t) sqlite3_column_int64(st, 0),
                        .name = (const char *) sqlite3_column_text(st, 1),
                        .type = (const char *) sqlite3_column_text(st, 2),
                        .owner = (const char *) sqlite3_column_text(st, 3),
                        .state = (const char *) sqlite3_column_text(st, 4),
                        .created = (uint64_t) sqlite3_column_int64(st, 5),
                        .last_build = (uint64_t) sqlite3_column_int64(st, 6),
                        .size = (uint64_t) sqlite3_column_int64(st, 7),
                        .source_url = (const char *) sqlite3_column_text(st, 8),
                        .source_checksum = (const char *) sqlite3_column_text(st, 9),
                        .script_size = (uint64_t) sqlite3_column_int64(st, 10),
                };
                if (!o.name || !o.type || !o.owner || !o.state)
                        return log_error_errno(ENOMEM, "Cannot read overlay row %" G_GUINT64_FORMAT ".", o.id);
                r = cb(&o, userdata);
                if (r < 0)
                        return r;
        }
        if (rc != SQLITE_DONE)
                return log_error_errno(store_failure(rc), "Cannot list overlays: %s", sqlite3_errmsg(db));
        return 0;
}

int store_foreach_id_pair(sqlite3 *db, const char *sql, const char *what, StoreIdPairFunc cb, void *userdata) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int rc, r;

        r = store_prepare(db, sql, &st);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                r = cb((uint64_t) sqlite3_column_int64(st, 0), (uint64_t) sqlite3_column_int64(st, 1), userdata);
                if (r < 0)
                        return r;
        }
        if (rc != SQLITE_DONE)
                return log_error_errno(store_failure(rc), "Cannot list %s: %s", what, sqlite3_errmsg(db));
        return 0;
}

int store_step_in_transaction(sqlite3 *db, sqlite3_stmt *st, const char *what) {
        int rc, r;

        r = store_begin(db);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE) {
                r = log_error_errno(store_failure(rc), "Cannot %s: %s", what, sqlite3_errmsg(db));
                store_rollback(db);
                return r;
        }
        return store_commit(db);
}
