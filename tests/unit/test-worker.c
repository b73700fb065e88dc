/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>

#include <glib.h>

#include "l4m-util.h"
#include "worker.h"

/* How long a test waits for a thread before it calls it a hang. */
#define HANG_USEC (10 * G_USEC_PER_SEC)

typedef struct Task {
        sd_event *event;
        Worker *worker;
        int result;             /* what work() returns */
        GThread *work_thread;   /* where work() ran */
        bool saw_worker;        /* work() found its Worker through userdata */
        bool saw_cancel;
        int finished;           /* work() returned; atomic */
        unsigned done_calls;
        int done_result;
        GThread *done_thread;
} Task;

static int quick_work(void *userdata) {
        Task *t = userdata;

        t->work_thread = g_thread_self();
        t->saw_worker = t->worker != NULL;
        __atomic_store_n(&t->finished, 1, __ATOMIC_RELEASE);
        return t->result;
}

/* Runs until it is cancelled (or a test would hang). */
static int cancellable_work(void *userdata) {
        Task *t = userdata;
        int64_t until = g_get_monotonic_time() + HANG_USEC;

        while (!worker_cancelled(t->worker) && g_get_monotonic_time() < until)
                g_usleep(1000);
        t->saw_cancel = worker_cancelled(t->worker) && *worker_cancel_flag(t->worker) != 0;
        __atomic_store_n(&t->finished, 1, __ATOMIC_RELEASE);
        return t->saw_cancel ? -ECANCELED : 0;
}

/* Runs for a while whatever happens. */
static int slow_work(void *userdata) {
        Task *t = userdata;

        g_usleep(200 * 1000);
        __atomic_store_n(&t->finished, 1, __ATOMIC_RELEASE);
        return 0;
}

static void on_done(Worker *w, int result, void *userdata) {
        Task *t = userdata;

        g_assert_true(w == t->worker);
        t->done_calls++;
        t->done_result = result;
        t->done_thread = g_thread_self();
        t->worker = worker_free(t->worker);
        g_assert_cmpint(sd_event_exit(t->event, 0), >=, 0);
}

static void run_loop(sd_event *event) {
        sd_event_source *guard = NULL;

        /* A worker that never reports would hang the test: fail instead. */
        g_assert_cmpint(sd_event_add_time_relative(event, &guard, CLOCK_MONOTONIC, HANG_USEC, 0, NULL,
                                                   GINT_TO_POINTER(-ETIMEDOUT)), >=, 0);
        g_assert_cmpint(sd_event_loop(event), ==, 0);
        sd_event_source_disable_unref(guard);
}

static void test_done_on_loop(void) {
        g_autoptr(sd_event) event = NULL;
        Task t = { .result = -EIO };

        g_assert_cmpint(sd_event_new(&event), >=, 0);
        t.event = event;
        g_assert_cmpint(worker_start(event, "test-worker", quick_work, on_done, &t, &t.worker), ==, 0);
        g_assert_nonnull(t.worker);
        g_assert_cmpuint(t.done_calls, ==, 0);  /* never from worker_start() */
        run_loop(event);

        g_assert_cmpuint(t.done_calls, ==, 1);
        g_assert_cmpint(t.done_result, ==, -EIO);
        g_assert_true(t.saw_worker);
        g_assert_true(t.work_thread != g_thread_self());
        g_assert_true(t.done_thread == g_thread_self());
        g_assert_null(t.worker);
}

static int on_cancel_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Task *t = userdata;

        worker_cancel(t->worker);
        return 0;
}

static void test_cancel_seen_by_work(void) {
        g_autoptr(sd_event) event = NULL;
        g_autoptr(sd_event_source) timer = NULL;
        Task t = { 0 };

        g_assert_cmpint(sd_event_new(&event), >=, 0);
        t.event = event;
        g_assert_cmpint(worker_start(event, "test-worker", cancellable_work, on_done, &t, &t.worker), ==, 0);
        g_assert_false(worker_cancelled(t.worker));
        g_assert_cmpint(*worker_cancel_flag(t.worker), ==, 0);
        g_assert_cmpint(sd_event_add_time_relative(event, &timer, CLOCK_MONOTONIC, 50 * 1000, 0, on_cancel_timer, &t),
                        >=, 0);
        run_loop(event);

        g_assert_cmpuint(t.done_calls, ==, 1);
        g_assert_true(t.saw_cancel);
        g_assert_cmpint(t.done_result, ==, -ECANCELED);
}

static void test_free_waits(void) {
        g_autoptr(sd_event) event = NULL;
        Task t = { 0 };

        g_assert_cmpint(sd_event_new(&event), >=, 0);
        t.event = event;

        /* Work that does not look at the flag: freeing waits for it. */
        g_assert_cmpint(worker_start(event, "test-worker", slow_work, on_done, &t, &t.worker), ==, 0);
        t.worker = worker_free(t.worker);
        g_assert_cmpint(__atomic_load_n(&t.finished, __ATOMIC_ACQUIRE), ==, 1);

        /* Work that does: freeing cancels it, then waits. */
        t.finished = 0;
        g_assert_cmpint(worker_start(event, "test-worker", cancellable_work, on_done, &t, &t.worker), ==, 0);
        t.worker = worker_free(t.worker);
        g_assert_cmpint(__atomic_load_n(&t.finished, __ATOMIC_ACQUIRE), ==, 1);
        g_assert_true(t.saw_cancel);

        /* done() never runs for a freed worker, even with the loop running. */
        g_assert_cmpint(sd_event_run(event, 100 * 1000), >=, 0);
        g_assert_cmpuint(t.done_calls, ==, 0);
}

typedef struct Detached {
        GMutex lock;
        GCond cond;
        bool worked, freed;
        GThread *work_thread;
} Detached;

static int detached_work(void *userdata) {
        Detached *d = userdata;

        g_mutex_lock(&d->lock);
        d->worked = true;
        d->work_thread = g_thread_self();
        g_mutex_unlock(&d->lock);
        return -EIO;    /* goes nowhere */
}

static void detached_free(void *userdata) {
        Detached *d = userdata;

        g_mutex_lock(&d->lock);
        d->freed = d->worked;   /* after the work, not before */
        g_cond_signal(&d->cond);
        g_mutex_unlock(&d->lock);
}

static void test_detached_completes(void) {
        /* Static: the thread may still be leaving g_mutex_unlock() when we
         * get to go on. */
        static Detached d;
        int64_t until = g_get_monotonic_time() + HANG_USEC;

        g_assert_cmpint(worker_start_detached("test-detached", detached_work, &d, detached_free), ==, 0);

        g_mutex_lock(&d.lock);
        while (!d.freed)
                if (!g_cond_wait_until(&d.cond, &d.lock, until))
                        break;
        g_assert_true(d.worked);
        g_assert_true(d.freed);
        g_assert_true(d.work_thread != g_thread_self());
        g_mutex_unlock(&d.lock);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/worker/done-on-loop", test_done_on_loop);
        g_test_add_func("/worker/cancel-seen-by-work", test_cancel_seen_by_work);
        g_test_add_func("/worker/free-waits", test_free_waits);
        g_test_add_func("/worker/detached-completes", test_detached_completes);
        return g_test_run();
}
