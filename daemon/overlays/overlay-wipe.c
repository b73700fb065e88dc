/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/overlays/: overlays: their records and rules, their bus objects, and wiping one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "overlay-wipe.h"
#include "store.h"
#include "worker.h"

struct OverlayWipe {
        Manager *manager;
        Job *job;
        uint64_t overlay_id;
        char *old_name;         /* overlays/.wipe-<id>-<job>: the old tree, once swapped out */
        int dir_fd;             /* overlays/, for the thread */
        Worker *remover;
};

static void overlay_wipe_free(void *data) {
        OverlayWipe *w = data;

        if (!w)
                return;
        w->remover = worker_free(w->remover);
        l4m_close_fdp(&w->dir_fd);
        g_free(w->old_name);
        g_free(w);
}

OverlayWipe *overlay_wipe_new(Overlay *o) {
        OverlayWipe *w = g_new0(OverlayWipe, 1);

        w->manager = o->manager;
        w->overlay_id = o->id;
        w->dir_fd = -1;
        return w;
}

static int remove_old_tree(void *userdata) {
        OverlayWipe *w = userdata;
        return rm_rf_at(w->dir_fd, w->old_name);
}

static void on_removed(Worker *worker, int r, void *userdata) {
        OverlayWipe *w = userdata;
        Job *j = w->job;
        Overlay *o = g_hash_table_lookup(w->manager->overlays_by_id, &w->overlay_id);

        w->remover = worker_free(w->remover);
        if (r < 0 && r != -ENOENT) {
                /* The overlay is empty already; what is left goes at the next start. */
                job_log(j, "Could not remove all of the old content: %s (the next start of the daemon retries).",
                        STRERROR(r));
                log_warning_errno(r, "Cannot remove overlays/%s: %s", w->old_name, STRERROR(r));
        }
        if (o)
                job_log(j, "Overlay %s is empty.", o->name);
        job_finish(j, 0, "Wiped.");
}

static int overlay_wipe_start(Job *j) {
        OverlayWipe *w = j->data;
        Manager *m = w->manager;
        Overlay *o = g_hash_table_lookup(m->overlays_by_id, &w->overlay_id);
        g_autofree char *dir = g_strdup_printf("%" G_GUINT64_FORMAT, w->overlay_id);
        int r;

        w->job = j;
        if (!o)
                return -ENOENT;
        w->old_name = g_strdup_printf(".wipe-%" G_GUINT64_FORMAT "-%" G_GUINT64_FORMAT, w->overlay_id, j->id);

        /* An empty directory takes the overlay's place in one step. */
        (void) rm_rf_at(m->overlays_fd, w->old_name);
        if (mkdirat(m->overlays_fd, w->old_name, 0755) < 0)
                return log_error_errno(errno, "Cannot create overlays/%s: %s", w->old_name, STRERROR(errno));
        {
                _cleanup_close_ int fd = openat(m->overlays_fd, w->old_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 || fchmod(fd, 0755) < 0) {
                        r = -errno;
                        (void) unlinkat(m->overlays_fd, w->old_name, AT_REMOVEDIR);
                        return r;
                }
        }
        if (renameat2(m->overlays_fd, w->old_name, m->overlays_fd, dir, RENAME_EXCHANGE) < 0) {
                r = -errno;
                (void) unlinkat(m->overlays_fd, w->old_name, AT_REMOVEDIR);
                return log_error_errno(r, "Cannot swap an empty directory in for overlays/%s: %s", dir, STRERROR(r));
        }
        (void) fsync(m->overlays_fd);

        /* Nothing of the old content is in the overlay any more. */
        r = store_workshop_links_set(m->db, o->id, NULL, 0);
        if (r < 0)
                log_warning_errno(r, "Cannot forget the Workshop links of overlay %s: %s", o->name, STRERROR(r));
        overlay_set_state(o, OVERLAY_STATE_EMPTY, 0, 0);
        /* What the last build found is no longer there: the details would
         * say "ok" of items the overlay does not hold. */
        if (o->item_details->len > 0)
                overlay_set_item_details(o, NULL, 0);
        job_log(j, "Swapped an empty directory in for overlay %s; removing the old content.", o->name);

        w->dir_fd = fcntl(m->overlays_fd, F_DUPFD_CLOEXEC, 3);
        if (w->dir_fd < 0)
                return -errno;
        return worker_start(m->event, "overlay-wipe", remove_old_tree, on_removed, w, &w->remover);
}

static int overlay_wipe_restore(Job *j) {
        Overlay *o = manager_find_overlay_by_job_target(j->manager, j->target);

        if (!o)
                return -ENOENT;
        j->data = overlay_wipe_new(o);
        return 0;
}

const JobKind overlay_wipe_kind = {
        .name = "overlay-wipe",
        .action = L4M_ACTION_OVERLAY_MANAGE,
        .restartable = true,
        .start = overlay_wipe_start,
        .restore = overlay_wipe_restore,
        .free_data = overlay_wipe_free,
};
