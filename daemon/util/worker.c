/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/: mechanisms the domains share: files without following links, workers, libcurl, units. */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

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
        volatile int cancel;            /* set by the loop, polled by the thread */
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

        assert(event);
        assert(name);
        assert(work);
        assert(done);
        assert(ret);

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
        /* Before the thread exists: work() may look for it. */
        *ret = w;
        w->thread = g_thread_try_new(name, worker_thread, w, &error);
        if (!w->thread) {
                *ret = worker_free(w);
                return log_error_errno(EAGAIN, "Cannot start a %s thread: %s", name, error->message);
        }
        return 0;
}

void worker_cancel(Worker *w) {
        assert(w);
        __atomic_store_n(&w->cancel, 1, __ATOMIC_RELEASE);
}

bool worker_cancelled(const Worker *w) {
        assert(w);
        return __atomic_load_n(&w->cancel, __ATOMIC_ACQUIRE) != 0;
}

const volatile int *worker_cancel_flag(const Worker *w) {
        assert(w);
        return &w->cancel;
}

Worker *worker_free(Worker *w) {
        if (!w)
                return NULL;
        if (w->thread) {
                worker_cancel(w);
                g_thread_join(w->thread);
        }
        sd_event_source_disable_unref(w->done_source);
        l4m_close_fdp(&w->done_fd);
        g_free(w);
        return NULL;
}

typedef struct DetachedWork {
        WorkerFunc work;
        void *userdata;
        GDestroyNotify free_userdata;
} DetachedWork;

static gpointer detached_thread(gpointer data) {
        DetachedWork *d = data;

        (void) d->work(d->userdata);
        if (d->free_userdata)
                d->free_userdata(d->userdata);
        g_free(d);
        return NULL;
}

int worker_start_detached(const char *name, WorkerFunc work, void *userdata, GDestroyNotify free_userdata) {
        g_autoptr(GError) error = NULL;
        DetachedWork *d;
        GThread *t;

        assert(name);
        assert(work);

        d = g_new0(DetachedWork, 1);
        d->work = work;
        d->userdata = userdata;
        d->free_userdata = free_userdata;
        t = g_thread_try_new(name, detached_thread, d, &error);
        if (!t) {
                g_free(d);
                return log_warning_errno(EAGAIN, "Cannot start a %s thread: %s", name, error->message);
        }
        g_thread_unref(t);
        return 0;
}
