/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/workshop/: Workshop overlays: the Steam Web API, the shared download cache, builds linking into it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "workshop-links.h"

#define ADDONS_DIR_MODE 0755

char *workshop_cache_file_name(uint64_t time_updated) {
        return g_strdup_printf("%" G_GUINT64_FORMAT ".vpk", time_updated);
}

char *workshop_cache_part_name(uint64_t time_updated) {
        return g_strdup_printf("%" G_GUINT64_FORMAT ".vpk.part", time_updated);
}

char *workshop_cache_file_path(const char *state_dir, uint64_t id, uint64_t time_updated) {
        return g_strdup_printf("%s/workshop_cache/%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT ".vpk",
                               state_dir, id, time_updated);
}

/* The id of a link name "<digits>.vpk", or 0. */
static uint64_t link_name_id(const char *name) {
        g_autofree char *digits = NULL;
        uint64_t id;

        if (!g_str_has_suffix(name, ".vpk"))
                return 0;
        digits = g_strndup(name, strlen(name) - strlen(".vpk"));
        return parse_id(digits, &id) >= 0 ? id : 0;
}

/* Where the symlink name in dir_fd points, or NULL if it is not one. */
static char *read_link(int dir_fd, const char *name) {
        char buf[PATH_MAX];
        ssize_t n = readlinkat(dir_fd, name, buf, sizeof buf - 1);

        if (n < 0)
                return NULL;
        buf[n] = '\0';
        return g_strdup(buf);
}

static int put_link(Job *j, int addons_fd, const char *name, const char *target) {
        g_autofree char *tmp = g_strconcat(".", name, ".new", NULL);
        g_autofree char *current = read_link(addons_fd, name);
        struct stat st;

        if (current && strcmp(current, target) == 0)
                return 0;
        if (!current && fstatat(addons_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                job_log(j, "left4dead2/addons/%s exists and was not made by left4me: left alone.", name);
                return 0;
        }

        (void) unlinkat(addons_fd, tmp, 0);
        if (symlinkat(target, addons_fd, tmp) < 0)
                return -errno;
        if (renameat(addons_fd, tmp, addons_fd, name) < 0) {
                int r = -errno;
                (void) unlinkat(addons_fd, tmp, 0);
                return r;
        }
        return 1;
}

int workshop_links_reconcile(Job *j, int overlay_fd, const char *state_dir,
                             const StoreWorkshopLink *links, size_t n_links) {
        g_autoptr(GHashTable) wanted = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
        g_autofree char *cache_prefix = g_strconcat(state_dir, "/workshop_cache/", NULL);
        g_autoptr(GPtrArray) stale = g_ptr_array_new_with_free_func(g_free);
        _cleanup_close_ int game_fd = -1, addons_fd = -1;
        unsigned added = 0, removed = 0;
        struct dirent *de;
        DIR *d;
        int r;

        game_fd = open_or_create_dir_at(overlay_fd, "left4dead2", ADDONS_DIR_MODE);
        if (game_fd < 0)
                return game_fd;
        addons_fd = open_or_create_dir_at(game_fd, "addons", ADDONS_DIR_MODE);
        if (addons_fd < 0)
                return addons_fd;

        for (size_t i = 0; i < n_links; i++) {
                g_autofree char *name = g_strdup_printf("%" G_GUINT64_FORMAT ".vpk", links[i].published_id);
                g_autofree char *target = workshop_cache_file_path(state_dir, links[i].published_id,
                                                                   links[i].time_updated);

                r = put_link(j, addons_fd, name, target);
                if (r < 0)
                        return log_error_errno(r, "Cannot link left4dead2/addons/%s: %s", name, STRERROR(r));
                added += r;
                g_hash_table_add(wanted, g_memdup2(&links[i].published_id, sizeof(uint64_t)));
        }

        {
                int dfd = fcntl(addons_fd, F_DUPFD_CLOEXEC, 3);
                if (dfd < 0)
                        return -errno;
                d = fdopendir(dfd);
                if (!d) {
                        close(dfd);
                        return -errno;
                }
        }
        while ((de = readdir(d))) {
                uint64_t id = link_name_id(de->d_name);
                g_autofree char *target = NULL;

                if (id == 0 || g_hash_table_contains(wanted, &id))
                        continue;
                target = read_link(addons_fd, de->d_name);
                if (target && g_str_has_prefix(target, cache_prefix))
                        g_ptr_array_add(stale, g_strdup(de->d_name));
        }
        closedir(d);

        for (guint i = 0; i < stale->len; i++) {
                if (unlinkat(addons_fd, stale->pdata[i], 0) < 0 && errno != ENOENT)
                        return log_error_errno(errno, "Cannot remove left4dead2/addons/%s: %s",
                                               (char *) stale->pdata[i], STRERROR(errno));
                job_log(j, "Removed left4dead2/addons/%s: no longer in the overlay's items.", (char *) stale->pdata[i]);
                removed++;
        }

        job_log(j, "Links: %zu in place, %u new or changed, %u removed.", n_links, added, removed);
        return 0;
}
