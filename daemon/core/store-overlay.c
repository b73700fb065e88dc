/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#include <errno.h>

#include "l4m-log.h"
#include "store-private.h"
#include "store.h"

static int step_done(sqlite3 *db, sqlite3_stmt *st, const char *what) {
        int rc = sqlite3_step(st);

        if (rc != SQLITE_DONE)
                return log_error_errno(store_failure(rc), "Cannot %s: %s", what, sqlite3_errmsg(db));
        return 0;
}

int store_overlay_set_state(sqlite3 *db, uint64_t id, const char *state, uint64_t last_build, uint64_t size) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int r;

        r = store_prepare(db, "UPDATE overlays SET state = ?2, last_build = ?3, size = ?4 WHERE id = ?1", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64) id);
        sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64) last_build);
        sqlite3_bind_int64(st, 4, (sqlite3_int64) size);
        return store_step_in_transaction(db, st, "record an overlay's state");
}

int store_overlay_set_source(sqlite3 *db, uint64_t id, const char *url, const char *checksum) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int r;

        r = store_prepare(db, "UPDATE overlays SET source_url = ?2, source_checksum = ?3 WHERE id = ?1", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64) id);
        sqlite3_bind_text(st, 2, url, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, checksum, -1, SQLITE_STATIC);
        return store_step_in_transaction(db, st, "record an overlay's source");
}

int store_overlay_set_script(sqlite3 *db, uint64_t id, const char *script) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int r;

        r = store_prepare(db, "UPDATE overlays SET script = ?2 WHERE id = ?1", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64) id);
        sqlite3_bind_text(st, 2, script, -1, SQLITE_STATIC);
        return store_step_in_transaction(db, st, "record an overlay's script");
}

int store_overlay_get_script(sqlite3 *db, uint64_t id, char **ret) {
        g_autoptr(sqlite3_stmt) st = NULL;
        const char *text;
        int rc, r;

        r = store_prepare(db, "SELECT script FROM overlays WHERE id = ?1", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64) id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return log_error_errno(store_failure(rc), "Cannot read an overlay's script: %s", sqlite3_errmsg(db));
        text = (const char *) sqlite3_column_text(st, 0);
        *ret = g_strdup(text ? text : "");
        return 0;
}

int store_overlay_set_items(sqlite3 *db, uint64_t id, const uint64_t *items, size_t n_items) {
        g_autoptr(sqlite3_stmt) del = NULL, ins = NULL;
        int r;

        r = store_prepare(db, "DELETE FROM overlay_items WHERE overlay_id = ?1", &del);
        if (r >= 0)
                r = store_prepare(db, "INSERT INTO overlay_items (overlay_id, position, published_id) VALUES (?1, ?2, ?3)", &ins);
        if (r < 0)
                return r;

        r = store_begin(db);
        if (r < 0)
                return r;
        sqlite3_bind_int64(del, 1, (sqlite3_int64) id);
        r = step_done(db, del, "clear an overlay's items");
        for (size_t i = 0; r >= 0 && i < n_items; i++) {
                sqlite3_reset(ins);
                sqlite3_bind_int64(ins, 1, (sqlite3_int64) id);
                sqlite3_bind_int64(ins, 2, (sqlite3_int64) i);
                sqlite3_bind_int64(ins, 3, (sqlite3_int64) items[i]);
                r = step_done(db, ins, "store an overlay item");
        }
        if (r < 0) {
                store_rollback(db);
                return r;
        }
        return store_commit(db);
}

int store_overlay_insert_items(sqlite3 *db, uint64_t id, const uint64_t *items, size_t n_items) {
        g_autoptr(sqlite3_stmt) ins = NULL;
        int r;

        r = store_prepare(db, "INSERT INTO overlay_items (overlay_id, position, published_id) VALUES (?1, ?2, ?3)", &ins);
        for (size_t i = 0; r >= 0 && i < n_items; i++) {
                sqlite3_reset(ins);
                sqlite3_bind_int64(ins, 1, (sqlite3_int64) id);
                sqlite3_bind_int64(ins, 2, (sqlite3_int64) i);
                sqlite3_bind_int64(ins, 3, (sqlite3_int64) items[i]);
                r = step_done(db, ins, "store an overlay item");
        }
        return r;
}

int store_overlay_details_set(sqlite3 *db, uint64_t id, const StoreItemDetail *details, size_t n) {
        g_autoptr(sqlite3_stmt) del = NULL, ins = NULL;
        int r;

        r = store_prepare(db, "DELETE FROM overlay_item_details WHERE overlay_id = ?1", &del);
        if (r >= 0)
                r = store_prepare(db, "INSERT INTO overlay_item_details (overlay_id, position, published_id, title, size, "
                                  "time_updated, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", &ins);
        if (r < 0)
                return r;

        r = store_begin(db);
        if (r < 0)
                return r;
        sqlite3_bind_int64(del, 1, (sqlite3_int64) id);
        r = step_done(db, del, "clear an overlay's item details");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                sqlite3_reset(ins);
                sqlite3_bind_int64(ins, 1, (sqlite3_int64) id);
                sqlite3_bind_int64(ins, 2, (sqlite3_int64) i);
                sqlite3_bind_int64(ins, 3, (sqlite3_int64) details[i].published_id);
                sqlite3_bind_text(ins, 4, details[i].title ? details[i].title : "", -1, SQLITE_STATIC);
                sqlite3_bind_int64(ins, 5, (sqlite3_int64) details[i].size);
                sqlite3_bind_int64(ins, 6, (sqlite3_int64) details[i].time_updated);
                sqlite3_bind_text(ins, 7, details[i].status, -1, SQLITE_STATIC);
                r = step_done(db, ins, "store an overlay's item details");
        }
        if (r < 0) {
                store_rollback(db);
                return r;
        }
        return store_commit(db);
}

int store_overlay_details_foreach(sqlite3 *db, StoreItemDetailFunc cb, void *userdata) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int rc, r;

        r = store_prepare(db, "SELECT overlay_id, published_id, title, size, time_updated, status "
                          "FROM overlay_item_details ORDER BY overlay_id, position", &st);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *title = (const char *) sqlite3_column_text(st, 2);
                const char *status = (const char *) sqlite3_column_text(st, 5);
                StoreItemDetail d = {
                        .published_id = (uint64_t) sqlite3_column_int64(st, 1),
                        .title = title ? title : "",
                        .size = (uint64_t) sqlite3_column_int64(st, 3),
                        .time_updated = (uint64_t) sqlite3_column_int64(st, 4),
                        .status = status ? status : "failed",
                };

                r = cb((uint64_t) sqlite3_column_int64(st, 0), &d, userdata);
                if (r < 0)
                        return r;
        }
        if (rc != SQLITE_DONE)
                return log_error_errno(store_failure(rc), "Cannot read overlay item details: %s", sqlite3_errmsg(db));
        return 0;
}

int store_overlay_items_foreach(sqlite3 *db, StoreItemFunc cb, void *userdata) {
        return store_foreach_id_pair(db, "SELECT overlay_id, published_id FROM overlay_items ORDER BY overlay_id, position",
                                     "overlay items", cb, userdata);
}

int store_workshop_links_set(sqlite3 *db, uint64_t overlay_id, const StoreWorkshopLink *links, size_t n) {
        g_autoptr(sqlite3_stmt) del = NULL, ins = NULL;
        int r;

        r = store_prepare(db, "DELETE FROM workshop_links WHERE overlay_id = ?1", &del);
        if (r >= 0)
                r = store_prepare(db, "INSERT OR REPLACE INTO workshop_links (overlay_id, published_id, time_updated, size) "
                                      "VALUES (?1, ?2, ?3, ?4)", &ins);
        if (r < 0)
                return r;

        r = store_begin(db);
        if (r < 0)
                return r;
        sqlite3_bind_int64(del, 1, (sqlite3_int64) overlay_id);
        r = step_done(db, del, "clear an overlay's Workshop links");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                sqlite3_reset(ins);
                sqlite3_bind_int64(ins, 1, (sqlite3_int64) overlay_id);
                sqlite3_bind_int64(ins, 2, (sqlite3_int64) links[i].published_id);
                sqlite3_bind_int64(ins, 3, (sqlite3_int64) links[i].time_updated);
                sqlite3_bind_int64(ins, 4, (sqlite3_int64) links[i].size);
                r = step_done(db, ins, "store a Workshop link");
        }
        if (r < 0) {
                store_rollback(db);
                return r;
        }
        return store_commit(db);
}

int store_workshop_links_foreach(sqlite3 *db, StoreLinkFunc cb, void *userdata) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int rc, r;

        r = store_prepare(db, "SELECT overlay_id, published_id, time_updated, size FROM workshop_links ORDER BY overlay_id", &st);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                StoreWorkshopLink l = {
                        .published_id = (uint64_t) sqlite3_column_int64(st, 1),
                        .time_updated = (uint64_t) sqlite3_column_int64(st, 2),
                        .size = (uint64_t) sqlite3_column_int64(st, 3),
                };
                r = cb((uint64_t) sqlite3_column_int64(st, 0), &l, userdata);
                if (r < 0)
                        return r;
        }
        if (rc != SQLITE_DONE)
                return log_error_errno(store_failure(rc), "Cannot list Workshop links: %s", sqlite3_errmsg(db));
        return 0;
}

int store_workshop_link_set_size(sqlite3 *db, uint64_t published_id, uint64_t time_updated, uint64_t size) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int r;

        r = store_prepare(db, "UPDATE workshop_links SET size = ?3 WHERE published_id = ?1 AND time_updated = ?2", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, (sqlite3_int64) published_id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64) time_updated);
        sqlite3_bind_int64(st, 3, (sqlite3_int64) size);
        return store_step_in_transaction(db, st, "record a Workshop cache file's size");
}

int store_owner_workshop_files_foreach(sqlite3 *db, const char *owner, uint64_t exclude_overlay_id,
                                       StoreWorkshopFileFunc cb, void *userdata) {
        g_autoptr(sqlite3_stmt) st = NULL;
        int rc, r;

        r = store_prepare(db, "SELECT l.published_id, l.time_updated, MAX(l.size) FROM workshop_links l "
                              "JOIN overlays o ON o.id = l.overlay_id WHERE o.owner = ?1 AND o.id != ?2 "
                              "GROUP BY l.published_id, l.time_updated", &st);
        if (r < 0)
                return r;
        sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64) exclude_overlay_id);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                StoreWorkshopLink l = {
                        .published_id = (uint64_t) sqlite3_column_int64(st, 0),
                        .time_updated = (uint64_t) sqlite3_column_int64(st, 1),
                        .size = (uint64_t) sqlite3_column_int64(st, 2),
                };
                r = cb(&l, userdata);
                if (r < 0)
                        return r;
        }
        if (rc != SQLITE_DONE)
                return log_error_errno(store_failure(rc), "Cannot list an owner's Workshop files: %s", sqlite3_errmsg(db));
        return 0;
}
