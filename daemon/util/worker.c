/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <glib.h>

#include "l4m-log.h"
#include "l4m-util.h"
#include "worker.h"

struct Worker {
        GThread *thread;
        int done_fd;
        sd_event_source *done_source;
        WorkerFunc work;
        WorkerDoneFunc done;
        void *userdata;
        int result;                     /* written by the thread before it signals */
};

static gpointer worker_thread(gpointer data) {
        Worker *w = data;
        uint64_t one = 1;

        w->result = w->work(w->userdata);
        if (write(w->done_fd, &one, sizeof one) != sizeof one)
                abort();        /* an eventfd write cannot fail short of a bug */
        return NULL;
}

static int on_worker_done(sd_event_source *s, int fd, uint32_t revents, void *data) {
        Worker *w = data;

        (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
        g_thread_join(w->thread);
        w->thread = NULL;
        w->done(w, w->result, w->userdata);     /* may free w */
        return 0;
}

int worker_start(sd_event *event, const char *name, WorkerFunc work, WorkerDoneFunc done,
                 void *userdata, Worker **ret) {
        g_autoptr(GError) error = NULL;
        Worker *w;
        int r;

        w = g_new0(Worker, 1);
        w->work = work;
        w->done = done;
        w->userdata = userdata;
        w->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->done_fd < 0) {
                r = -errno;
                worker_free(w);
                return r;
        }
        r = sd_event_add_io(event, &w->done_source, w->done_fd, EPOLLIN, on_worker_done, w);
        if (r < 0) {
                worker_free(w);
                return r;
        }
        (void) sd_event_source_set_description(w->done_source, name);
        w->thread = g_thread_try_new(name, worker_thread, w, &error);
        if (!w->thread) {
                worker_free(w);
                return log_error_errno(EAGAIN, "Cannot start a %s thread: %s", name, error->message);
        }
        *ret = w;
        return 0;
}

Worker *worker_free(Worker *w) {
        if (!w)
                return NULL;
        if (w->thread)
                g_thread_join(w->thread);
        sd_event_source_disable_unref(w->done_source);
        l4m_close_fdp(&w->done_fd);
        g_free(w);
        return NULL;
}
