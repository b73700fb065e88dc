/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "fs-util.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "overlay.h"

#define OVERLAY_DIR_MODE 0755

static char *overlay_dir_name(uint64_t id) {
        return g_strdup_printf("%" G_GUINT64_FORMAT, id);
}

void overlay_free(Overlay *o) {
        if (!o)
                return;
        g_free(o->name);
        g_free(o->owner);
        g_free(o->state);
        g_free(o->path);
        if (o->items)
                g_array_unref(o->items);
        g_free(o->source_url);
        g_free(o->source_checksum);
        g_free(o);
}

int overlay_add(Manager *m, const StoreOverlay *row, Overlay **ret) {
        L4mOverlayType type = l4m_overlay_type_from_string(row->type);
        Overlay *o;

        if (type < 0)
                return log_error_errno(EINVAL, "Overlay %" G_GUINT64_FORMAT " has unknown type \"%s\".", row->id, row->type);
        if (g_hash_table_contains(m->overlays_by_id, &row->id) ||
            g_hash_table_contains(m->overlays_by_name, row->name))
                return -EEXIST;

        o = g_new0(Overlay, 1);
        o->manager = m;
        o->id = row->id;
        o->name = g_strdup(row->name);
        o->type = type;
        o->owner = g_strdup(row->owner);
        o->state = g_strdup(row->state);
        o->created = row->created;
        o->last_build = row->last_build;
        o->size = row->size;
        o->items = g_array_new(FALSE, FALSE, sizeof(uint64_t));
        o->source_url = g_strdup(row->source_url ? row->source_url : "");
        o->source_checksum = g_strdup(row->source_checksum ? row->source_checksum : "");
        o->script_size = row->script_size;
        o->path = g_strdup_printf(L4M_OVERLAY_PATH_PREFIX "/%" G_GUINT64_FORMAT, row->id);

        g_hash_table_insert(m->overlays_by_id, &o->id, o);
        g_hash_table_insert(m->overlays_by_name, o->name, o);
        if (ret)
                *ret = o;
        return 0;
}

static int overlay_dir_create(Manager *m, uint64_t id) {
        g_autofree char *dir = overlay_dir_name(id);
        _cleanup_close_ int fd = -1;

        if (mkdirat(m->overlays_fd, dir, OVERLAY_DIR_MODE) < 0)
                return log_error_errno(errno, "Cannot create overlay directory overlays/%s: %s", dir, STRERROR(errno));

        /* The mode must not depend on the daemon's umask. */
        fd = openat(m->overlays_fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fchmod(fd, OVERLAY_DIR_MODE) < 0 || fsync(m->overlays_fd) < 0) {
                int r = log_error_errno(errno, "Cannot set up overlay directory overlays/%s: %s", dir, STRERROR(errno));
                (void) rm_rf_at(m->overlays_fd, dir);
                return r;
        }
        return 0;
}

int overlay_create(Manager *m, const char *name, L4mOverlayType type, const char *owner, Overlay **ret) {
        StoreOverlay row = {
                .name = name,
                .type = l4m_overlay_type_to_string(type),
                .owner = owner,
                .state = OVERLAY_STATE_EMPTY,
                .created = (uint64_t) g_get_real_time(),
        };
        int r;

        assert(l4m_name_is_valid(name));
        assert(row.type);

        r = store_begin(m->db);
        if (r < 0)
                return r;

        r = store_overlay_insert(m->db, &row, &row.id);
        if (r < 0)
                goto rollback;

        r = overlay_dir_create(m, row.id);
        if (r < 0)
                goto rollback;

        r = store_commit(m->db);
        if (r < 0) {
                g_autofree char *dir = overlay_dir_name(row.id);
                (void) rm_rf_at(m->overlays_fd, dir);
                goto rollback;
        }

        r = overlay_add(m, &row, ret);
        assert(r >= 0);

        log_struct_errno(LOG_INFO, 0,
                         ((const char *[]) { "L4M_EVENT=overlay-created", NULL }),
                         "Overlay %s (%s, id %" G_GUINT64_FORMAT ") created for %s.",
                         name, row.type, row.id, owner);
        return 0;

rollback:
        store_rollback(m->db);
        return r;
}

int overlay_delete(Overlay *o) {
        Manager *m = o->manager;
        g_autofree char *dir = overlay_dir_name(o->id);
        g_autofree char *name = g_strdup(o->name);
        int r;

        r = store_begin(m->db);
        if (r < 0)
                return r;
        r = store_overlay_delete(m->db, o->id);
        if (r >= 0)
                r = store_commit(m->db);
        if (r < 0) {
                store_rollback(m->db);
                return r;
        }

        g_hash_table_remove(m->overlays_by_name, o->name);
        g_hash_table_remove(m->overlays_by_id, &o->id);     /* frees o */

        /* The row is gone; should this fail or we crash midway, the start-up
         * sweep removes what is left. */
        r = rm_rf_in_background(m->overlays_fd, dir);
        if (r < 0 && r != -ENOENT)
                log_warning_errno(r, "Cannot remove overlays/%s of deleted overlay %s: %s", dir, name, STRERROR(r));

        log_struct_errno(LOG_INFO, 0,
                         ((const char *[]) { "L4M_EVENT=overlay-deleted", NULL }),
                         "Overlay %s (id %s) deleted.", name, dir);
        return 0;
}

Overlay *manager_find_overlay_by_path(Manager *m, const char *path) {
        const char *p;
        uint64_t id;

        p = g_str_has_prefix(path, L4M_OVERLAY_PATH_PREFIX "/") ? path + strlen(L4M_OVERLAY_PATH_PREFIX "/") : NULL;
        if (!p || parse_id(p, &id) < 0)
                return NULL;
        return g_hash_table_lookup(m->overlays_by_id, &id);
}

int manager_sweep_overlay_dirs(Manager *m) {
        g_autoptr(GPtrArray) stray = g_ptr_array_new_with_free_func(g_free);
        _cleanup_close_ int fd = -1;
        DIR *d;
        struct dirent *de;
        int r = 0;

        fd = openat(m->overlays_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Cannot open overlays/: %s", STRERROR(errno));
        d = fdopendir(fd);
        if (!d)
                return log_error_errno(errno, "Cannot read overlays/: %s", STRERROR(errno));
        l4m_take_fd(&fd);

        /* Collect first, remove after: no changes while the listing runs. */
        while ((errno = 0, de = readdir(d))) {
                uint64_t id;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (parse_id(de->d_name, &id) >= 0 && g_hash_table_contains(m->overlays_by_id, &id))
                        continue;
                g_ptr_array_add(stray, g_strdup(de->d_name));
        }
        if (errno != 0)
                r = log_error_errno(errno, "Cannot read overlays/: %s", STRERROR(errno));
        closedir(d);

        for (guint i = 0; i < stray->len; i++) {
                const char *name = stray->pdata[i];
                g_autofree char *field = g_strconcat("L4M_SWEPT=overlays/", name, NULL);
                /* In a thread: a tree a script filled with millions of
                 * entries must not hold up the start. */
                int k = rm_rf_in_background(m->overlays_fd, name);

                if (k < 0)
                        r = log_error_errno(k, "Cannot remove overlays/%s, which has no overlay row: %s", name, STRERROR(k));
                else
                        log_struct_errno(LOG_NOTICE, 0,
                                         ((const char *[]) { "L4M_EVENT=overlay-dir-swept", field, NULL }),
                                         "Removing overlays/%s: no overlay row refers to it.", name);
        }
        return r;
}

char *overlay_job_target(const Overlay *o) {
        return g_strdup_printf("overlay:%" G_GUINT64_FORMAT, o->id);
}

Overlay *manager_find_overlay_by_job_target(Manager *m, const char *target) {
        uint64_t id;

        if (!g_str_has_prefix(target, "overlay:") || parse_id(target + strlen("overlay:"), &id) < 0)
                return NULL;
        return g_hash_table_lookup(m->overlays_by_id, &id);
}

int overlay_set_items(Overlay *o, const uint64_t *items, size_t n) {
        int r;

        assert(n <= OVERLAY_ITEMS_MAX);
        r = store_overlay_set_items(o->manager->db, o->id, items, n);
        if (r < 0)
                return r;
        g_array_set_size(o->items, 0);
        g_array_append_vals(o->items, items, (guint) n);
        return 0;
}

int overlay_set_source(Overlay *o, const char *url, const char *checksum) {
        int r = store_overlay_set_source(o->manager->db, o->id, url, checksum);

        if (r < 0)
                return r;
        g_free(o->source_url);
        o->source_url = g_strdup(url);
        g_free(o->source_checksum);
        o->source_checksum = g_strdup(checksum);
        return 0;
}

int overlay_set_script(Overlay *o, const char *script) {
        size_t size = strlen(script);
        int r;

        assert(size <= OVERLAY_SCRIPT_MAX);
        r = store_overlay_set_script(o->manager->db, o->id, script);
        if (r < 0)
                return r;
        o->script_size = size;
        return 0;
}

void overlay_set_state(Overlay *o, const char *state, uint64_t last_build, uint64_t size) {
        Manager *m = o->manager;
        int r;

        r = store_overlay_set_state(m->db, o->id, state, last_build, size);
        if (r < 0)
                log_error_errno(r, "Cannot record the state of overlay %s: %s", o->name, STRERROR(r));
        g_free(o->state);
        o->state = g_strdup(state);
        o->last_build = last_build;
        o->size = size;
        if (m->bus)
                (void) sd_bus_emit_properties_changed(m->bus, o->path, L4M_OVERLAY_INTERFACE,
                                                      "State", "LastBuild", "Size", NULL);
}

void overlay_build_failed(Overlay *o, int r) {
        const char *state;

        assert(r < 0);
        /* A cancelled build changed nothing: back to what it was. */
        if (r == -ECANCELED)
                state = o->last_build ? OVERLAY_STATE_READY : OVERLAY_STATE_EMPTY;
        else
                state = OVERLAY_STATE_FAILED;
        overlay_set_state(o, state, o->last_build, o->size);
}

static int load_item(uint64_t overlay_id, uint64_t published_id, void *userdata) {
        Overlay *o = g_hash_table_lookup(((Manager *) userdata)->overlays_by_id, &overlay_id);

        if (o && o->items->len < OVERLAY_ITEMS_MAX)
                g_array_append_val(o->items, published_id);
        return 0;
}

int manager_load_overlay_items(Manager *m) {
        return store_overlay_items_foreach(m->db, load_item, m);
}
