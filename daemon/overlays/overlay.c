/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/overlays/: overlays: their records and rules, their bus objects, and wiping one. */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include "blueprint.h"
#include "fs-util.h"
#include "instance.h"
#include "job.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "overlay-export.h"
#include "overlay.h"
#include "schedule.h"
#include "problem.h"

#define OVERLAY_DIR_MODE 0755

static char *overlay_dir_name(uint64_t id) {
        return g_strdup_printf("%" G_GUINT64_FORMAT, id);
}

static void item_detail_clear(void *p) {
        OverlayItemDetail *d = p;

        g_free(d->title);
        g_free(d->status);
}

void overlay_free(Overlay *o) {
        if (!o)
                return;
        g_free(o->name);
        g_free(o->owner);
        g_free(o->state);
        g_free(o->path);
        g_free(o->state_before_job);
        if (o->item_details)
                g_array_unref(o->item_details);
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
        o->item_details = g_array_new(FALSE, FALSE, sizeof(OverlayItemDetail));
        g_array_set_clear_func(o->item_details, item_detail_clear);
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

int overlay_check_name(const char *name, char **ret_problem) {
        if (!l4m_name_is_valid(name))
                return problem_setf(ret_problem, -EINVAL,
                                    "Invalid overlay name \"%.64s\": names are 1-%d characters of a-z, 0-9, '_' and '-', starting with a letter or digit.",
                                    name, L4M_NAME_MAX);
        return 0;
}

/* The type as people read it in a sentence. */
static const char *type_for_people(L4mOverlayType type) {
        return type == L4M_OVERLAY_WORKSHOP ? "Workshop" : l4m_overlay_type_to_string(type);
}

static int check_setting_type(L4mOverlayType type, L4mOverlayType wanted, const char *what, char **ret_problem) {
        if (type == wanted)
                return 0;
        return problem_setf(ret_problem, -EINVAL, "%s is only for %s overlays, and this one is a%s %s overlay.", what,
                            type_for_people(wanted), type == L4M_OVERLAY_ARCHIVE ? "n" : "", type_for_people(type));
}

int overlay_check_settings(L4mOverlayType type, const OverlaySettings *s, char **ret_problem) {
        int r;

        if (s->items) {
                r = check_setting_type(type, L4M_OVERLAY_WORKSHOP, "A list of Workshop items", ret_problem);
                if (r < 0)
                        return r;
                if (s->n_items > OVERLAY_ITEMS_MAX)
                        return problem_setf(ret_problem, -EINVAL, "Too many items: at most %u.", OVERLAY_ITEMS_MAX);
        }
        if (s->source_url || s->source_checksum) {
                r = check_setting_type(type, L4M_OVERLAY_ARCHIVE, "A source address or checksum", ret_problem);
                if (r < 0)
                        return r;
                r = overlay_check_source_values(s->source_url ? s->source_url : "",
                                                s->source_checksum ? s->source_checksum : "", ret_problem);
                if (r < 0)
                        return r;
        }
        if (s->script) {
                r = check_setting_type(type, L4M_OVERLAY_SCRIPT, "A script", ret_problem);
                if (r < 0)
                        return r;
                if (strlen(s->script) > OVERLAY_SCRIPT_MAX)
                        return problem_setf(ret_problem, -EINVAL, "The script has %zu bytes; at most %u are allowed.",
                                            strlen(s->script), OVERLAY_SCRIPT_MAX);
        }
        return 0;
}

int overlay_create(Manager *m, const Actor *actor, const char *name, L4mOverlayType type,
                   const OverlaySettings *settings, Overlay **ret, char **ret_problem) {
        static const OverlaySettings none = { .items = NULL };
        const OverlaySettings *s = settings ? settings : &none;
        StoreOverlay row = {
                .name = name,
                .type = l4m_overlay_type_to_string(type),
                .owner = actor->principal,
                .state = OVERLAY_STATE_EMPTY,
                .created = (uint64_t) g_get_real_time(),
                .source_url = s->source_url,
                .source_checksum = s->source_checksum,
                .script = s->script,
                .script_size = s->script ? strlen(s->script) : 0,
        };
        const char *owner = actor->principal;
        Overlay *o;
        int r;

        r = overlay_check_name(name, ret_problem);
        if (r < 0)
                return r;
        if (!row.type)
                return problem_setf(ret_problem, -EINVAL, "Invalid overlay type: expected workshop, script or archive.");
        r = overlay_check_settings(type, s, ret_problem);
        if (r < 0)
                return r;
        if (g_hash_table_contains(m->overlays_by_name, name))
                return problem_setf(ret_problem, -EEXIST, "Overlay \"%s\" already exists.", name);
        if (manager_count_overlays_of(m, owner) >= MANAGER_OVERLAYS_PER_OWNER_MAX)
                return problem_setf(ret_problem, -EDQUOT, "%s already owns %u overlays, the most one may own.",
                                    owner, MANAGER_OVERLAYS_PER_OWNER_MAX);

        r = store_begin(m->db);
        if (r < 0)
                return r;

        r = store_overlay_insert(m->db, &row, &row.id);
        if (r >= 0 && s->n_items > 0)
                r = store_overlay_insert_items(m->db, row.id, s->items, s->n_items);
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

        r = overlay_add(m, &row, &o);
        assert(r >= 0);
        if (s->n_items > 0)
                g_array_append_vals(o->items, s->items, (guint) s->n_items);
        manager_emit_object_added(m, o->path);
        if (ret)
                *ret = o;

        log_struct_errno(LOG_INFO, 0,
                         ((const char *[]) { "L4M_EVENT=overlay-created", NULL }),
                         "Overlay %s (%s, id %" G_GUINT64_FORMAT ") created for %s.",
                         name, row.type, row.id, owner);
        return 0;

rollback:
        store_rollback(m->db);
        if (r == -EEXIST)
                return problem_setf(ret_problem, r, "Overlay \"%s\" already exists.", name);
        return r;
}

int overlay_check_no_job(Overlay *o, char **ret_problem) {
        g_autofree char *target = overlay_job_target(o);
        Job *j = manager_find_active_job_for(o->manager, target);

        if (!j)
                return 0;
        return problem_setf(ret_problem, -EBUSY, "Overlay \"%s\" has job %" G_GUINT64_FORMAT " (%s) %s.",
                            o->name, j->id, j->kind_name, job_state_to_string(j->state));
}

int overlay_check_idle(Overlay *o, char **ret_problem) {
        unsigned exports;
        int r;

        r = overlay_check_no_job(o, ret_problem);
        if (r < 0)
                return r;
        /* Its tree must not change under a stream of it either. */
        exports = overlay_exports_count(o->manager, o->id);
        if (exports > 0)
                return problem_setf(ret_problem, -EBUSY, "Overlay \"%s\" is being exported (%u stream%s).",
                                    o->name, exports, exports == 1 ? "" : "s");
        return 0;
}

int overlay_delete(Overlay *o, const Actor *actor, char **ret_problem) {
        Manager *m = o->manager;
        g_autofree char *dir = overlay_dir_name(o->id);
        g_autofree char *name = g_strdup(o->name);
        g_autofree char *path = g_strdup(o->path);
        g_autoptr(GPtrArray) users = NULL;
        int r;

        r = overlay_check_idle(o, ret_problem);
        if (r < 0)
                return r;
        /* The store would refuse too (RESTRICT); say who uses it. */
        users = manager_blueprints_using_overlay(m, o->id);
        if (users) {
                g_autofree char *list = actor_names_join(actor, users, m->blueprints_by_name, offsetof(Blueprint, owner));

                return problem_setf(ret_problem, -EBUSY, "Overlay \"%s\" is used by blueprint(s) %s.", o->name, list);
        }
        /* No blueprint names it any more, but a running server may still
         * have it mounted (its stack is the one it started with). */
        r = overlay_check_unmounted(o, actor, "is mounted by", ret_problem);
        if (r < 0)
                return r;

        /* Announce while the object still resolves; again if it stays. */
        manager_emit_object_removed(m, path);
        r = store_begin(m->db);
        if (r >= 0) {
                r = store_overlay_delete(m->db, o->id);
                if (r >= 0)
                        r = store_commit(m->db);
                if (r < 0)
                        store_rollback(m->db);
        }
        if (r < 0) {
                manager_emit_object_added(m, path);
                return r;
        }

        manager_schedules_target_deleted(m, SCHEDULE_TARGET_OVERLAY, o->id);
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

int overlay_check_unmounted(Overlay *o, const Actor *actor, const char *how, char **ret_problem) {
        g_autoptr(GPtrArray) users = manager_instances_using_overlay(o->manager, o->id);
        g_autofree char *list = NULL;

        if (!users)
                return 0;
        list = actor_names_join(actor, users, o->manager->instances_by_name, offsetof(Instance, owner));
        return problem_setf(ret_problem, -EBUSY, "Overlay \"%s\" %s running instance(s) %s; stop them first.",
                            o->name, how, list);
}

int overlay_check_type(Overlay *o, L4mOverlayType type, const char *what, char **ret_problem) {
        if (o->type == type)
                return 0;
        return problem_setf(ret_problem, -EINVAL, "Overlay \"%s\" is a %s overlay; %s.", o->name,
                            l4m_overlay_type_to_string(o->type), what);
}

int overlay_check_items(Overlay *o, size_t n, char **ret_problem) {
        int r = overlay_check_type(o, L4M_OVERLAY_WORKSHOP, "only Workshop overlays have items", ret_problem);

        if (r < 0)
                return r;
        if (n > OVERLAY_ITEMS_MAX)
                return problem_setf(ret_problem, -EINVAL, "Too many items: at most %u.", OVERLAY_ITEMS_MAX);
        return 0;
}

int overlay_set_items(Overlay *o, const uint64_t *items, size_t n, char **ret_problem) {
        int r;

        r = overlay_check_items(o, n, ret_problem);
        if (r >= 0)
                r = overlay_check_idle(o, ret_problem);
        if (r < 0)
                return r;
        r = store_overlay_set_items(o->manager->db, o->id, items, n);
        if (r < 0)
                return r;
        g_array_set_size(o->items, 0);
        g_array_append_vals(o->items, items, (guint) n);
        manager_emit_properties_changed(o->manager, o->path, L4M_OVERLAY_INTERFACE, "Items", NULL);
        return 0;
}

static bool is_hex(const char *s, size_t len) {
        if (strlen(s) != len)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!g_ascii_isxdigit(s[i]))
                        return false;
        return true;
}

bool overlay_checksum_is_valid(const char *s) {
        return !*s ||
               (g_str_has_prefix(s, "md5:") && is_hex(s + 4, 32)) ||
               (g_str_has_prefix(s, "sha256:") && is_hex(s + 7, 64));
}

bool overlay_source_url_is_valid(const char *s) {
        const char *authority, *end;

        if (g_str_has_prefix(s, "http://"))
                authority = s + strlen("http://");
        else if (g_str_has_prefix(s, "https://"))
                authority = s + strlen("https://");
        else
                return false;
        if (strlen(s) > 2048)
                return false;
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p <= ' ' || (unsigned char) *p >= 0x7f)
                        return false;
        end = authority + strcspn(authority, "/?#");
        return !memchr(authority, '@', (size_t) (end - authority));
}

int overlay_check_source(Overlay *o, const char *url, const char *checksum, char **ret_problem) {
        int r = overlay_check_type(o, L4M_OVERLAY_ARCHIVE, "only archive overlays have a source URL", ret_problem);

        if (r < 0)
                return r;
        return overlay_check_source_values(url, checksum, ret_problem);
}

int overlay_check_source_values(const char *url, const char *checksum, char **ret_problem) {
        if (*url && !overlay_source_url_is_valid(url))
                return problem_setf(ret_problem, -EINVAL,
                                    "The source \"%.80s\" is not usable: give an http:// or https:// address without spaces and without a user name or password in it.",
                                    url);
        if (!overlay_checksum_is_valid(checksum))
                return problem_setf(ret_problem, -EINVAL,
                                    "The checksum \"%.80s\" is not usable: leave it empty, or give md5: followed by 32 hex digits or sha256: followed by 64.",
                                    checksum);
        return 0;
}

int overlay_set_source(Overlay *o, const char *url, const char *checksum, char **ret_problem) {
        int r;

        r = overlay_check_source(o, url, checksum, ret_problem);
        if (r >= 0)
                r = overlay_check_idle(o, ret_problem);
        if (r < 0)
                return r;
        r = store_overlay_set_source(o->manager->db, o->id, url, checksum);
        if (r < 0)
                return r;
        g_free(o->source_url);
        o->source_url = g_strdup(url);
        g_free(o->source_checksum);
        o->source_checksum = g_strdup(checksum);
        manager_emit_properties_changed(o->manager, o->path, L4M_OVERLAY_INTERFACE, "SourceUrl", "SourceChecksum",
                                        NULL);
        return 0;
}

int overlay_check_script(Overlay *o, const char *script, char **ret_problem) {
        int r = overlay_check_type(o, L4M_OVERLAY_SCRIPT, "only script overlays have a script", ret_problem);

        if (r < 0)
                return r;
        if (script && strlen(script) > OVERLAY_SCRIPT_MAX)
                return problem_setf(ret_problem, -EINVAL, "The script has %zu bytes; at most %u are allowed.",
                                    strlen(script), OVERLAY_SCRIPT_MAX);
        return 0;
}

int overlay_get_script(Overlay *o, char **ret_script, char **ret_problem) {
        int r = overlay_check_script(o, NULL, ret_problem);

        if (r < 0)
                return r;
        return store_overlay_get_script(o->manager->db, o->id, ret_script);
}

int overlay_set_script(Overlay *o, const char *script, char **ret_problem) {
        int r;

        r = overlay_check_script(o, script, ret_problem);
        if (r >= 0)
                r = overlay_check_idle(o, ret_problem);
        if (r < 0)
                return r;
        r = store_overlay_set_script(o->manager->db, o->id, script);
        if (r < 0)
                return r;
        o->script_size = strlen(script);
        manager_emit_properties_changed(o->manager, o->path, L4M_OVERLAY_INTERFACE, "ScriptSize", NULL);
        return 0;
}

int overlay_check_buildable(Overlay *o, char **ret_problem) {
        switch (o->type) {
        case L4M_OVERLAY_WORKSHOP:
                if (o->items->len == 0)
                        return problem_setf(ret_problem, -EINVAL,
                                            "Overlay \"%s\" has no Workshop items yet: add some first.", o->name);
                return 0;
        case L4M_OVERLAY_ARCHIVE:
                if (!*o->source_url)
                        return problem_setf(ret_problem, -EINVAL,
                                            "Overlay \"%s\" has no source address yet: give one first, or import an archive.",
                                            o->name);
                return 0;
        case L4M_OVERLAY_SCRIPT:
                if (o->script_size == 0)
                        return problem_setf(ret_problem, -EINVAL,
                                            "Overlay \"%s\" has no script yet: write one first.", o->name);
                return 0;
        default:
                return problem_setf(ret_problem, -EINVAL, "Building %s overlays is not supported.",
                                    l4m_overlay_type_to_string(o->type));
        }
}

int overlay_submit_job(Overlay *o, const Actor *actor, const JobKind *kind, void *data, Job **ret,
                       char **ret_problem) {
        g_autofree char *target = overlay_job_target(o);
        int r;

        r = overlay_check_idle(o, ret_problem);
        if (r < 0) {
                kind->free_data(data);
                return r;
        }
        /* Lower layers must not change under a mounted stack
         * (docs/ARCHITECTURE.md, "Authorisation"): Build, Wipe and
         * ImportArchive wait until its servers stopped. */
        r = overlay_check_unmounted(o, actor, "is in use by", ret_problem);
        if (r < 0) {
                kind->free_data(data);
                return r;
        }
        r = job_submit(o->manager, kind, target, actor->principal, data, ret);
        if (r == -EBUSY && overlay_check_idle(o, ret_problem) == 0)
                return problem_setf(ret_problem, r, "Overlay \"%s\" has a job already.", o->name);
        return r;
}

void overlay_set_state(Overlay *o, const char *state, uint64_t last_build, uint64_t size) {
        Manager *m = o->manager;
        int r;

        r = store_overlay_set_state(m->db, o->id, state, last_build, size);
        if (r < 0)
                log_error_errno(r, "Cannot record the state of overlay %s: %s", o->name, STRERROR(r));
        /* Remember what a job found, to go back to it should the job fail
         * without changing anything. */
        if (strcmp(state, OVERLAY_STATE_BUILDING) == 0 && strcmp(o->state, OVERLAY_STATE_BUILDING) != 0) {
                g_free(o->state_before_job);
                o->state_before_job = g_strdup(o->state);
        } else if (strcmp(state, OVERLAY_STATE_BUILDING) != 0)
                g_clear_pointer(&o->state_before_job, g_free);
        g_free(o->state);
        o->state = g_strdup(state);
        o->last_build = last_build;
        o->size = size;
        manager_emit_properties_changed(m, o->path, L4M_OVERLAY_INTERFACE, "State", "LastBuild", "Size", NULL);
}

void overlay_build_failed(Overlay *o, int r, bool content_intact) {
        g_autofree char *state = NULL;

        assert(r < 0);
        /* A cancelled job, or one that failed before it put anything in
         * place, changed nothing: back to what it was. Without a record
         * (the job resumed after a restart), LastBuild tells. */
        if (r == -ECANCELED || content_intact)
                state = g_strdup(o->state_before_job ? o->state_before_job
                                 : o->last_build ? OVERLAY_STATE_READY : OVERLAY_STATE_EMPTY);
        else
                state = g_strdup(OVERLAY_STATE_FAILED);
        overlay_set_state(o, state, o->last_build, o->size);
}

static int load_item(uint64_t overlay_id, uint64_t published_id, void *userdata) {
        Overlay *o = g_hash_table_lookup(((Manager *) userdata)->overlays_by_id, &overlay_id);

        if (o && o->items->len < OVERLAY_ITEMS_MAX)
                g_array_append_val(o->items, published_id);
        return 0;
}

static void append_item_detail(Overlay *o, const StoreItemDetail *d) {
        OverlayItemDetail x = {
                .id = d->published_id,
                .title = g_strdup(d->title ? d->title : ""),
                .size = d->size,
                .updated = d->time_updated,
                .status = g_strdup(d->status),
        };

        g_array_append_val(o->item_details, x);
}

void overlay_set_item_details(Overlay *o, const StoreItemDetail *details, size_t n) {
        int r;

        r = store_overlay_details_set(o->manager->db, o->id, details, n);
        if (r < 0)
                log_error_errno(r, "Cannot record the item details of overlay %s: %s", o->name, STRERROR(r));
        g_array_set_size(o->item_details, 0);
        for (size_t i = 0; i < n; i++)
                append_item_detail(o, &details[i]);
        manager_emit_properties_changed(o->manager, o->path, L4M_OVERLAY_INTERFACE, "WorkshopItemDetails", NULL);
}

static int load_detail(uint64_t overlay_id, const StoreItemDetail *d, void *userdata) {
        Overlay *o = g_hash_table_lookup(((Manager *) userdata)->overlays_by_id, &overlay_id);

        if (o)
                append_item_detail(o, d);
        return 0;
}

int manager_load_overlay_items(Manager *m) {
        int r = store_overlay_items_foreach(m->db, load_item, m);

        if (r < 0)
                return r;
        return store_overlay_details_foreach(m->db, load_detail, m);
}
