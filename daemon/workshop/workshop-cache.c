/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/workshop/: Workshop overlays: the Steam Web API, the shared download cache, builds linking into it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus-util.h"
#include "fs-util.h"
#include "job.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "store.h"
#include "workshop-build.h"
#include "problem.h"
#include "workshop-cache.h"

static void entry_clear(void *p) {
        g_free(((WorkshopCacheEntry *) p)->name);
}

static int count_link(uint64_t overlay_id, const StoreWorkshopLink *l, void *userdata) {
        g_autofree char *key = g_strdup_printf("%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT ".vpk",
                                               l->published_id, l->time_updated);
        GHashTable *links = userdata;

        g_hash_table_replace(links, g_steal_pointer(&key),
                             GUINT_TO_POINTER(GPOINTER_TO_UINT(g_hash_table_lookup(links, key)) + 1));
        return 0;
}

static gint entry_compare(gconstpointer a, gconstpointer b) {
        const WorkshopCacheEntry *x = a, *y = b;

        if (x->published_id != y->published_id)
                return x->published_id < y->published_id ? -1 : 1;
        return strcmp(x->name, y->name);
}

/* Lists the names of a directory, fd-relative. */
static GPtrArray *list_dir(int dir_fd) {
        GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
        int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent *de;
        DIR *d;

        if (fd < 0)
                return names;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return names;
        }
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        g_ptr_array_add(names, g_strdup(de->d_name));
        closedir(d);
        return names;
}

int workshop_cache_list(Manager *m, GArray **ret) {
        g_autoptr(GHashTable) links = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_autoptr(GArray) entries = g_array_new(FALSE, FALSE, sizeof(WorkshopCacheEntry));
        g_autoptr(GPtrArray) ids = NULL;
        int r;

        g_array_set_clear_func(entries, entry_clear);
        r = store_workshop_links_foreach(m->db, count_link, links);
        if (r < 0)
                return r;

        ids = list_dir(m->cache_fd);
        for (guint i = 0; i < ids->len; i++) {
                _cleanup_close_ int dir_fd = -1;
                g_autoptr(GPtrArray) files = NULL;
                uint64_t id;

                if (parse_id(ids->pdata[i], &id) < 0)
                        continue;
                dir_fd = openat(m->cache_fd, ids->pdata[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dir_fd < 0)
                        continue;
                files = list_dir(dir_fd);
                for (guint k = 0; k < files->len; k++) {
                        g_autofree char *key = g_strdup_printf("%s/%s", (char *) ids->pdata[i], (char *) files->pdata[k]);
                        struct stat st;
                        WorkshopCacheEntry e = {
                                .published_id = id,
                                .name = g_strdup(files->pdata[k]),
                                .links = GPOINTER_TO_UINT(g_hash_table_lookup(links, key)),
                        };

                        if (fstatat(dir_fd, e.name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                                e.size = (uint64_t) st.st_size;
                        g_array_append_val(entries, e);
                }
        }
        g_array_sort(entries, entry_compare);
        *ret = g_steal_pointer(&entries);
        return 0;
}

static bool workshop_build_active(Manager *m) {
        GHashTableIter it;
        gpointer value;

        g_hash_table_iter_init(&it, m->jobs_by_id);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                Job *j = value;
                if (j->kind == &workshop_build_kind && job_state_is_active(j->state))
                        return true;
        }
        return false;
}

int workshop_cache_prune(Manager *m, uint64_t *ret_files, uint64_t *ret_bytes, char **ret_problem) {
        g_autoptr(GArray) entries = NULL;
        uint64_t files = 0, bytes = 0;
        int r;

        /* A running build may be filling a file no link points to yet. */
        if (workshop_build_active(m))
                return problem_setf(ret_problem, -EBUSY, "A Workshop build is running; prune when it is done.");

        r = workshop_cache_list(m, &entries);
        if (r < 0)
                return r;

        for (guint i = 0; i < entries->len; i++) {
                const WorkshopCacheEntry *e = &g_array_index(entries, WorkshopCacheEntry, i);
                g_autofree char *dir = g_strdup_printf("%" G_GUINT64_FORMAT, e->published_id);
                _cleanup_close_ int dir_fd = -1;

                if (e->links > 0)
                        continue;
                dir_fd = openat(m->cache_fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dir_fd < 0)
                        continue;
                r = rm_rf_at(dir_fd, e->name);
                if (r < 0 && r != -ENOENT) {
                        log_warning_errno(r, "Cannot remove workshop_cache/%s/%s: %s", dir, e->name, STRERROR(r));
                        continue;
                }
                files++;
                bytes += e->size;
                /* Gone with its last file; fails (and stays) while not empty. */
                (void) unlinkat(m->cache_fd, dir, AT_REMOVEDIR);
        }

        log_info("Pruned the Workshop cache: %" G_GUINT64_FORMAT " file(s), %" G_GUINT64_FORMAT " bytes.", files, bytes);
        *ret_files = files;
        *ret_bytes = bytes;
        return 0;
}
