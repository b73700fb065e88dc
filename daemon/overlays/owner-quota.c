/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/overlays/: overlays: their records and rules, their bus objects, and wiping one. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "bus-util.h"
#include "caller.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "overlay.h"
#include "owner-quota.h"
#include "polkit.h"
#include "problem.h"
#include "systemd-unit.h"
#include "tree-copy.h"
#include "worker.h"

uint64_t owner_quota_max(Manager *m) {
        return m->config->overlays_owner_max_bytes;
}

static char *file_key(uint64_t published_id, uint64_t time_updated) {
        return g_strdup_printf("%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT, published_id, time_updated);
}

typedef struct FileSum {
        GHashTable *seen;       /* "<id>/<time>" of files counted */
        uint64_t bytes;
} FileSum;

static int add_file(const StoreWorkshopLink *f, void *userdata) {
        FileSum *s = userdata;

        if (!g_hash_table_add(s->seen, file_key(f->published_id, f->time_updated)))
                return 0;
        s->bytes += f->size;
        return 0;
}

/* The use of owner's overlays but exclude_id; files holds the cache files
 * counted, for the caller to add more without counting one twice. */
static int usage_with_files(Manager *m, const char *owner, uint64_t exclude_id, FileSum *files, uint64_t *ret) {
        GHashTableIter it;
        gpointer value;
        uint64_t total = 0, backups = 0;
        int r;

        g_hash_table_iter_init(&it, m->overlays_by_id);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                Overlay *o = value;

                /* A Workshop overlay's Size is the sum of the files it
                 * links; those are counted once below instead. */
                if (o->id == exclude_id || o->type == L4M_OVERLAY_WORKSHOP || strcmp(o->owner, owner) != 0)
                        continue;
                total += o->size;
        }
        r = store_owner_workshop_files_foreach(m->db, owner, exclude_id, add_file, files);
        if (r < 0)
                return r;
        /* The owner's backups (daemon/backups/) count too. */
        r = backup_owner_bytes(m, owner, &backups);
        if (r < 0)
                return r;
        *ret = total + files->bytes + backups;
        return 0;
}

int owner_quota_usage(Manager *m, const char *owner, uint64_t exclude_id, uint64_t *ret) {
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        FileSum files = { .seen = seen };

        return usage_with_files(m, owner, exclude_id, &files, ret);
}

int owner_quota_room(Overlay *o, uint64_t *ret) {
        uint64_t max = owner_quota_max(o->manager), others;
        int r;

        if (max == UINT64_MAX) {
                *ret = UINT64_MAX;
                return 0;
        }
        r = owner_quota_usage(o->manager, o->owner, o->id, &others);
        if (r < 0)
                return r;
        *ret = others < max ? max - others : 0;
        return 0;
}

char *owner_quota_format_bytes(uint64_t n) {
        static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
        double v = (double) n;
        unsigned u = 0;

        if (n < 1024)
                return g_strdup_printf("%" G_GUINT64_FORMAT " bytes", n);
        v /= 1024.0;
        while (v >= 1024.0 && u + 1 < G_N_ELEMENTS(units)) {
                v /= 1024.0;
                u++;
        }
        if (v == (double) (uint64_t) v)
                return g_strdup_printf("%" G_GUINT64_FORMAT " %s", (uint64_t) v, units[u]);
        return g_strdup_printf("%.1f %s", v, units[u]);
}

char *owner_quota_problem(Overlay *o, uint64_t overlay_size, const char *what_format, ...) {
        g_autofree char *used_text = NULL, *max_text = NULL, *what = NULL;
        uint64_t used = 0;
        va_list ap;

        if (owner_quota_usage(o->manager, o->owner, overlay_size == UINT64_MAX ? 0 : o->id, &used) < 0)
                used = 0;
        if (overlay_size != UINT64_MAX)
                used += overlay_size;
        used_text = owner_quota_format_bytes(used);
        max_text = owner_quota_format_bytes(owner_quota_max(o->manager));
        va_start(ap, what_format);
        what = g_strdup_vprintf(what_format, ap);
        va_end(ap);
        return g_strdup_printf("Storage quota exceeded: %s's overlays use %s of the %s they may hold; %s",
                               o->owner, used_text, max_text, what);
}

int owner_quota_check_links(Overlay *o, const StoreWorkshopLink *links, size_t n, char **ret_problem) {
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        FileSum files = { .seen = seen };
        uint64_t max = owner_quota_max(o->manager), others, before, needed;
        int r;

        if (max == UINT64_MAX)
                return 0;
        r = usage_with_files(o->manager, o->owner, o->id, &files, &others);
        if (r < 0)
                return r;
        before = files.bytes;
        for (size_t i = 0; i < n; i++)
                (void) add_file(&links[i], &files);
        needed = files.bytes - before;          /* files none of the owner's other overlays link */
        if (others <= max && needed <= max - others)
                return 0;
        {
                g_autofree char *need_text = owner_quota_format_bytes(needed);
                g_autofree char *room_text = owner_quota_format_bytes(others < max ? max - others : 0);
                g_autofree char *text = owner_quota_problem(o, UINT64_MAX, "this build needs %s of files not linked by the owner's "
                                                            "other overlays, overlay %s may hold %s.", need_text,
                                                            o->name, room_text);
                return problem_setf(ret_problem, -EDQUOT, "%s", text);
        }
}

typedef struct Unmeasured {
        GArray *files;  /* StoreWorkshopLink */
        GHashTable *seen;
} Unmeasured;

static int collect_unmeasured(uint64_t overlay_id, const StoreWorkshopLink *l, void *userdata) {
        Unmeasured *u = userdata;

        if (l->size == 0 && g_hash_table_add(u->seen, file_key(l->published_id, l->time_updated)))
                g_array_append_val(u->files, *l);
        return 0;
}

void owner_quota_measure_links(Manager *m) {
        g_autoptr(GArray) files = g_array_new(FALSE, FALSE, sizeof(StoreWorkshopLink));
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        Unmeasured u = { files, seen };

        if (store_workshop_links_foreach(m->db, collect_unmeasured, &u) < 0)
                return;
        for (guint i = 0; i < files->len; i++) {
                const StoreWorkshopLink *l = &g_array_index(files, StoreWorkshopLink, i);
                g_autofree char *name = g_strdup_printf("%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT ".vpk",
                                                        l->published_id, l->time_updated);
                struct stat st;

                /* A link whose file is gone counts as nothing. */
                if (fstatat(m->cache_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
                        continue;
                (void) store_workshop_link_set_size(m->db, l->published_id, l->time_updated, (uint64_t) st.st_size);
        }
}

/* --- script runs ------------------------------------------------------ */

struct OwnerQuotaWatch {
        Manager *manager;
        Job *job;
        uint64_t overlay_id;
        char *unit;
        uint64_t room;
        sd_event_source *timer;
        Worker *sizer;
        int dir_fd;             /* the overlay's directory, for the sizer */
        uint64_t measured;      /* by the sizer */
        bool exceeded;
        uint64_t exceeded_size;
};

static int watch_size(void *userdata) {
        OwnerQuotaWatch *w = userdata;
        return tree_size(w->dir_fd, &w->measured);
}

static void on_watch_sized(Worker *worker, int r, void *userdata) {
        OwnerQuotaWatch *w = userdata;

        w->sizer = worker_free(w->sizer);
        if (r < 0 || w->exceeded || w->measured <= w->room)
                return;
        w->exceeded = true;
        w->exceeded_size = w->measured;
        {
                g_autofree char *size_text = owner_quota_format_bytes(w->measured);
                g_autofree char *room_text = owner_quota_format_bytes(w->room);
                job_log(w->job, "The overlay holds %s, more than the %s its owner's storage quota leaves it; "
                        "stopping %s.", size_text, room_text, w->unit);
        }
        (void) unit_stop(w->manager->bus, w->unit);
}

static int on_watch_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        OwnerQuotaWatch *w = userdata;

        if (!w->sizer && !w->exceeded)
                (void) worker_start(w->manager->event, "quota-size", watch_size, on_watch_sized, w, &w->sizer);
        (void) sd_event_source_set_time_relative(s, OWNER_QUOTA_WATCH_USEC);
        return 0;
}

OwnerQuotaWatch *owner_quota_watch_free(OwnerQuotaWatch *w) {
        if (!w)
                return NULL;
        w->sizer = worker_free(w->sizer);
        sd_event_source_disable_unref(w->timer);
        l4m_close_fdp(&w->dir_fd);
        g_free(w->unit);
        g_free(w);
        return NULL;
}

OwnerQuotaWatch *owner_quota_watch_new(Overlay *o, Job *j, const char *unit) {
        g_autofree char *dir = g_strdup_printf("%" G_GUINT64_FORMAT, o->id);
        OwnerQuotaWatch *w;
        uint64_t room;
        int r;

        if (owner_quota_room(o, &room) < 0 || room == UINT64_MAX)
                return NULL;
        w = g_new0(OwnerQuotaWatch, 1);
        w->manager = o->manager;
        w->job = j;
        w->overlay_id = o->id;
        w->unit = g_strdup(unit);
        w->room = room;
        /* Measured by a thread, never following what the script planted. */
        w->dir_fd = openat(o->manager->overlays_fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        r = w->dir_fd < 0 ? -errno : 0;
        if (r >= 0)
                r = sd_event_add_time_relative(o->manager->event, &w->timer, CLOCK_MONOTONIC, OWNER_QUOTA_WATCH_USEC,
                                               100 * 1000, on_watch_tick, w);
        if (r >= 0)
                r = sd_event_source_set_enabled(w->timer, SD_EVENT_ON);
        if (r < 0)
                log_warning_errno(r, "Cannot watch overlay %s against the storage quota while its script runs: %s",
                                  o->name, STRERROR(r));
        {
                g_autofree char *room_text = owner_quota_format_bytes(room);
                job_log(j, "Storage quota: the overlay may hold %s ([Overlays] OwnerMaxBytes= less the owner's other "
                        "overlays).", room_text);
        }
        return w;
}

uint64_t owner_quota_watch_file_size_max(const OwnerQuotaWatch *w) {
        if (!w)
                return 0;
        return w->room > 0 ? w->room : 1;
}

void owner_quota_watch_verdict(OwnerQuotaWatch *w, uint64_t size, int *result, char **message) {
        Overlay *o;

        if (!w)
                return;
        w->timer = sd_event_source_disable_unref(w->timer);
        w->sizer = worker_free(w->sizer);
        if (*result == -ECANCELED || (!w->exceeded && size <= w->room))
                return;
        o = g_hash_table_lookup(w->manager->overlays_by_id, &w->overlay_id);
        if (!o)
                return;
        {
                g_autofree char *size_text = owner_quota_format_bytes(MAX(size, w->exceeded_size));
                g_autofree char *room_text = owner_quota_format_bytes(w->room);
                g_free(*message);
                *message = owner_quota_problem(o, MAX(size, w->exceeded_size), "the script %s: overlay %s held %s, it may hold %s. What the "
                                               "script wrote stays in the overlay; Wipe empties it.",
                                               w->exceeded ? "was stopped" : "wrote too much", o->name, size_text,
                                               room_text);
                *result = -EDQUOT;
        }
}

/* --- the bus ------------------------------------------------------------ */

static int method_get_storage_usage(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *owner;
        uint64_t used;
        int r;

        r = sd_bus_message_read(msg, "s", &owner);
        if (r < 0)
                return r;
        r = polkit_verify(m->polkit, msg, L4M_ACTION_READ, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        /* Another's use is another's business: a web user asks for its own. */
        if (!caller_sees(m, msg, owner))
                return sd_bus_error_setf(error, L4M_ERROR_NOT_FOUND, "No storage use of \"%.64s\" to show.", owner);
        r = owner_quota_usage(m, owner, 0, &used);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(msg, "tt", used, owner_quota_max(m));
}

typedef struct BackupOwners {
        Manager *manager;
        sd_bus_message *call;
        GHashTable *owners;             /* owner → owner, both owned by names */
        GPtrArray *names;
} BackupOwners;

static int add_backup_owner(const StoreBackup *b, void *userdata) {
        BackupOwners *s = userdata;
        char *owner;

        if (g_hash_table_contains(s->owners, b->owner) || !caller_sees(s->manager, s->call, b->owner))
                return 0;
        owner = g_strdup(b->owner);
        g_ptr_array_add(s->names, owner);
        g_hash_table_add(s->owners, owner);
        return 0;
}

static int method_list_storage_usage(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(GHashTable) owners = g_hash_table_new(g_str_hash, g_str_equal);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GList) sorted = NULL;
        Manager *m = userdata;
        GHashTableIter it;
        gpointer value;
        int r;

        r = polkit_verify(m->polkit, msg, L4M_ACTION_READ, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        g_hash_table_iter_init(&it, m->overlays_by_id);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                Overlay *o = value;
                if (caller_sees(m, msg, o->owner))
                        g_hash_table_add(owners, o->owner);
        }
        /* Owners of backups (daemon/backups/) without overlays too. */
        r = store_backup_foreach(m->db, 0, add_backup_owner, &(BackupOwners) { m, msg, owners, names });
        if (r < 0)
                return r;
        sorted = g_list_sort(g_hash_table_get_keys(owners), (GCompareFunc) strcmp);

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(stt)");
        for (GList *l = sorted; r >= 0 && l; l = l->next) {
                uint64_t used;

                r = owner_quota_usage(m, l->data, 0, &used);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "(stt)", (const char *) l->data, used, owner_quota_max(m));
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

const sd_bus_vtable owner_quota_manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("GetStorageUsage",
                                SD_BUS_ARGS("s", owner),
                                SD_BUS_RESULT("t", used, "t", quota),
                                method_get_storage_usage, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListStorageUsage",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(stt)", usage),
                                method_list_storage_usage, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};
