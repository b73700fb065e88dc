/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "fs-util.h"
#include "job.h"
#include "l4m-bus-names.h"
#include "l4m-util.h"
#include "manager.h"
#include "store.h"

/* The job engine on a real sd-event loop, without a bus: a test kind whose
 * work is a timer. */

#define WORK_USEC (20 * 1000)

static unsigned running_now, running_peak, started_total;
static GArray *start_order;

typedef struct Work {
        Job *job;
        sd_event_source *timer;
} Work;

static void work_free(void *data) {
        Work *w = data;
        sd_event_source_disable_unref(w->timer);
        g_free(w);
}

static int on_work_done(sd_event_source *s, uint64_t usec, void *userdata) {
        Work *w = userdata;
        running_now--;
        job_set_progress(w->job, 1.0);
        job_finish(w->job, 0, NULL);
        return 0;
}

static int work_start(Job *j) {
        Work *w = j->data;
        int r;

        w->job = j;
        running_now++;
        started_total++;
        running_peak = MAX(running_peak, running_now);
        g_array_append_val(start_order, j->id);
        job_log(j, "working on %s", j->target);
        job_set_progress(j, 0.5);
        r = sd_event_add_time_relative(j->manager->event, &w->timer, CLOCK_MONOTONIC, WORK_USEC, 0, on_work_done, w);
        if (r < 0)
                running_now--;
        return r;
}

static void work_cancel(Job *j) {
        Work *w = j->data;
        running_now--;
        w->timer = sd_event_source_disable_unref(w->timer);
        job_finish(j, -ECANCELED, NULL);
}

static int work_restore(Job *j) {
        j->data = g_new0(Work, 1);
        return 0;
}

static const JobKind test_kind = {
        .name = "test-work",
        .action = L4M_ACTION_OVERLAY_MANAGE,
        .restartable = true,
        .start = work_start,
        .cancel = work_cancel,
        .restore = work_restore,
        .free_data = work_free,
};

static const JobKind oneshot_kind = {
        .name = "test-oneshot",
        .action = L4M_ACTION_OVERLAY_MANAGE,
        .restartable = false,
        .start = work_start,
        .cancel = work_cancel,
        .free_data = work_free,
};

static char *state_dir;

static Manager *manager_up(unsigned max_running) {
        Manager *m = NULL;

        g_assert_cmpint(manager_new(state_dir, state_dir, &m), ==, 0);
        m->config->jobs_max_running = max_running;
        manager_register_job_kind(m, &test_kind);
        manager_register_job_kind(m, &oneshot_kind);
        g_assert_cmpint(manager_load(m), ==, 0);
        return m;
}

static void setup(void) {
        g_autoptr(GError) error = NULL;

        state_dir = g_dir_make_tmp("l4m-job-XXXXXX", &error);
        g_assert_no_error(error);
        running_now = running_peak = started_total = 0;
        start_order = g_array_new(FALSE, FALSE, sizeof(uint64_t));
}

static void teardown(void) {
        _cleanup_close_ int fd = open(g_get_tmp_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        g_autofree char *base = g_path_get_basename(state_dir);

        g_assert_cmpint(rm_rf_at(fd, base), ==, 0);
        g_clear_pointer(&state_dir, g_free);
        g_array_unref(start_order);
}

static Job *submit(Manager *m, const JobKind *kind, const char *target) {
        Job *j = NULL;
        g_assert_cmpint(job_submit(m, kind, target, "alice", g_new0(Work, 1), &j), ==, 0);
        return j;
}

static bool all_finished(Manager *m) {
        GHashTableIter it;
        gpointer v;

        g_hash_table_iter_init(&it, m->jobs_by_id);
        while (g_hash_table_iter_next(&it, NULL, &v))
                if (job_state_is_active(((Job *) v)->state))
                        return false;
        return true;
}

static void run_until(Manager *m, bool (*done)(Manager *m)) {
        for (unsigned i = 0; i < 10000 && !done(m); i++)
                g_assert_cmpint(sd_event_run(m->event, 1000 * 1000), >=, 0);
        g_assert_true(done(m));
}

static char *read_log(uint64_t id) {
        g_autofree char *path = g_strdup_printf("%s/jobs/%" G_GUINT64_FORMAT ".log", state_dir, id);
        char *text = NULL;

        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        return text;
}

static void test_cap_and_order(void) {
        g_autoptr(Manager) m = NULL;
        uint64_t ids[5];

        setup();
        m = manager_up(2);
        for (unsigned i = 0; i < G_N_ELEMENTS(ids); i++) {
                g_autofree char *target = g_strdup_printf("overlay:%u", i + 1);
                ids[i] = submit(m, &test_kind, target)->id;
        }
        run_until(m, all_finished);

        g_assert_cmpuint(started_total, ==, 5);
        g_assert_cmpuint(running_peak, ==, 2);
        for (unsigned i = 0; i < G_N_ELEMENTS(ids); i++) {
                Job *j = g_hash_table_lookup(m->jobs_by_id, &ids[i]);
                g_autofree char *log = read_log(ids[i]);

                g_assert_cmpuint(g_array_index(start_order, uint64_t, i), ==, ids[i]);
                g_assert_cmpint(j->state, ==, JOB_SUCCEEDED);
                g_assert_cmpfloat(j->progress, ==, 1.0);
                g_assert_cmpuint(j->attempts, ==, 1);
                g_assert_cmpuint(j->started, >=, j->created);
                g_assert_cmpuint(j->finished, >=, j->started);
                g_assert_nonnull(strstr(log, "working on overlay:"));
                g_assert_nonnull(strstr(log, "Finished: succeeded"));
        }
        g_clear_pointer(&m, manager_free);
        teardown();
}

static void test_one_per_target(void) {
        g_autoptr(Manager) m = NULL;
        Job *j = NULL;

        setup();
        m = manager_up(4);
        submit(m, &test_kind, "overlay:7");
        g_assert_cmpint(job_submit(m, &test_kind, "overlay:7", "bob", g_new0(Work, 1), &j), ==, -EBUSY);
        submit(m, &test_kind, "overlay:8");
        run_until(m, all_finished);
        submit(m, &test_kind, "overlay:7");     /* free again once the first ended */
        run_until(m, all_finished);
        g_assert_cmpuint(started_total, ==, 3);
        g_clear_pointer(&m, manager_free);
        teardown();
}

static bool first_running(Manager *m) {
        return running_now > 0;
}

static void test_cancel(void) {
        g_autoptr(Manager) m = NULL;
        Job *a, *b;

        setup();
        m = manager_up(1);
        a = submit(m, &test_kind, "overlay:1");
        b = submit(m, &test_kind, "overlay:2");
        run_until(m, first_running);
        g_assert_cmpint(a->state, ==, JOB_RUNNING);
        g_assert_cmpint(b->state, ==, JOB_QUEUED);

        job_cancel(b);          /* queued: at once, never started */
        g_assert_cmpint(b->state, ==, JOB_CANCELLED);
        job_cancel(a);          /* running: through the kind */
        g_assert_cmpint(a->state, ==, JOB_CANCELLED);
        run_until(m, all_finished);
        g_assert_cmpuint(started_total, ==, 1);
        g_clear_pointer(&m, manager_free);
        teardown();
}

static void test_restart_recovery(void) {
        Manager *m;
        uint64_t id, once_id;
        Job *j;

        setup();
        /* A restartable and a one-shot job are running when the daemon dies. */
        m = manager_up(2);
        id = submit(m, &test_kind, "overlay:1")->id;
        once_id = submit(m, &oneshot_kind, "overlay:2")->id;
        run_until(m, first_running);
        while (running_now < 2)
                g_assert_cmpint(sd_event_run(m->event, 1000 * 1000), >=, 0);
        manager_free(m);       /* no job_finish: as after SIGKILL */
        running_now = 0;

        m = manager_up(2);
        j = g_hash_table_lookup(m->jobs_by_id, &id);
        g_assert_cmpint(j->state, ==, JOB_QUEUED);
        j = g_hash_table_lookup(m->jobs_by_id, &once_id);
        g_assert_cmpint(j->state, ==, JOB_FAILED);
        g_assert_cmpstr(j->message, ==, "Interrupted by a restart of the daemon.");

        /* Interrupted again during its second attempt: it gives up. */
        run_until(m, first_running);
        j = g_hash_table_lookup(m->jobs_by_id, &id);
        g_assert_cmpuint(j->attempts, ==, 2);
        manager_free(m);
        running_now = 0;

        m = manager_up(2);
        j = g_hash_table_lookup(m->jobs_by_id, &id);
        g_assert_cmpint(j->state, ==, JOB_FAILED);
        g_assert_nonnull(strstr(j->message, "2 times"));
        {
                g_autofree char *log = read_log(id);
                g_assert_nonnull(strstr(log, "queued again"));
                g_assert_nonnull(strstr(log, "Finished: failed"));
        }
        manager_free(m);
        teardown();
}

static void test_recovered_job_completes(void) {
        Manager *m;
        uint64_t id;
        Job *j;

        setup();
        m = manager_up(1);
        id = submit(m, &test_kind, "overlay:1")->id;
        run_until(m, first_running);
        manager_free(m);
        running_now = 0;

        m = manager_up(1);
        run_until(m, all_finished);
        j = g_hash_table_lookup(m->jobs_by_id, &id);
        g_assert_cmpint(j->state, ==, JOB_SUCCEEDED);
        g_assert_cmpuint(j->attempts, ==, 2);
        manager_free(m);
        teardown();
}

static void test_prune(void) {
        g_autoptr(Manager) m = NULL;
        g_autofree char *log_path = NULL;
        uint64_t id;

        setup();
        m = manager_up(1);
        id = submit(m, &test_kind, "overlay:1")->id;
        run_until(m, all_finished);
        log_path = g_strdup_printf("%s/jobs/%" G_GUINT64_FORMAT ".log", state_dir, id);
        g_assert_true(g_file_test(log_path, G_FILE_TEST_EXISTS));

        manager_prune_jobs(m);          /* 14 days: kept */
        g_assert_nonnull(g_hash_table_lookup(m->jobs_by_id, &id));
        m->config->jobs_retain_days = 0;
        manager_prune_jobs(m);
        g_assert_null(g_hash_table_lookup(m->jobs_by_id, &id));
        g_assert_false(g_file_test(log_path, G_FILE_TEST_EXISTS));
        g_clear_pointer(&m, manager_free);

        /* and the row is gone too; stray logs a crash left are swept */
        {
                g_autofree char *stray = g_strdup_printf("%s/jobs/999.log", state_dir);
                g_autofree char *half = g_strdup_printf("%s/jobs/7.log.new", state_dir);

                g_assert_true(g_file_set_contents(stray, "x", -1, NULL));
                g_assert_true(g_file_set_contents(half, "x", -1, NULL));
                m = manager_up(1);
                g_assert_cmpuint(g_hash_table_size(m->jobs_by_id), ==, 0);
                g_assert_false(g_file_test(stray, G_FILE_TEST_EXISTS));
                g_assert_false(g_file_test(half, G_FILE_TEST_EXISTS));
        }
        g_clear_pointer(&m, manager_free);
        teardown();
}

static void test_owner_history_bounded(void) {
        g_autoptr(Manager) m = NULL;
        uint64_t first = 0;

        setup();
        m = manager_up(1);
        /* Queue and cancel far more jobs than one owner may keep. */
        for (unsigned i = 0; i < JOB_RETAINED_PER_OWNER_MAX + 20; i++) {
                Job *j = submit(m, &test_kind, "overlay:1");
                if (i == 0)
                        first = j->id;
                job_cancel(j);
        }
        g_assert_cmpuint(g_hash_table_size(m->jobs_by_id), ==, JOB_RETAINED_PER_OWNER_MAX);
        g_assert_null(g_hash_table_lookup(m->jobs_by_id, &first));      /* the oldest went first */
        g_clear_pointer(&m, manager_free);

        /* and the store agrees */
        m = manager_up(1);
        g_assert_cmpuint(g_hash_table_size(m->jobs_by_id), ==, JOB_RETAINED_PER_OWNER_MAX);
        g_clear_pointer(&m, manager_free);
        teardown();
}

/* Reads a pipe until EOF while the loop runs. */
typedef struct Sink {
        GString *data;
        bool eof;
        sd_event_source *io;
} Sink;

static int on_sink(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Sink *k = userdata;
        char buf[4096];
        ssize_t n = read(fd, buf, sizeof buf);

        if (n > 0)
                g_string_append_len(k->data, buf, n);
        else if (n == 0 || errno != EAGAIN) {
                k->eof = true;
                sd_event_source_set_enabled(s, SD_EVENT_OFF);
        }
        return 0;
}

static Sink *sink_new(Manager *m, int fd) {
        Sink *k = g_new0(Sink, 1);

        k->data = g_string_new(NULL);
        g_assert_cmpint(fcntl(fd, F_SETFL, O_NONBLOCK), ==, 0);
        g_assert_cmpint(sd_event_add_io(m->event, &k->io, fd, EPOLLIN, on_sink, k), >=, 0);
        g_assert_cmpint(sd_event_source_set_io_fd_own(k->io, true), >=, 0);
        return k;
}

static void sink_free(Sink *k) {
        sd_event_source_disable_unref(k->io);
        g_string_free(k->data, TRUE);
        g_free(k);
}

static Sink *sink_under_test;
static bool sink_done(Manager *m) {
        return sink_under_test->eof;
}

static void test_log_follow_and_cut(void) {
        g_autoptr(Manager) m = NULL;
        g_autofree char *line = g_strnfill(99, 'x');
        Sink *follower, *snapshot;
        int fd;
        Job *j;

        setup();
        m = manager_up(1);
        j = submit(m, &test_kind, "overlay:1");
        run_until(m, first_running);

        g_assert_cmpint(job_log_reader_new(j, true, &fd), ==, 0);
        follower = sink_new(m, fd);

        /* 3 MiB of output: the file is cut back more than once. */
        for (unsigned i = 0; i < 3 * 1024 * 1024 / 100; i++)
                job_log(j, "%s", line);
        for (unsigned i = 0; i < 50; i++)
                g_assert_cmpint(sd_event_run(m->event, 0), >=, 0);

        {
                g_autofree char *text = read_log(j->id);
                g_assert_cmpuint(strlen(text), <=, JOB_LOG_MAX + 200);
                g_assert_true(g_str_has_prefix(text, "[… "));
                g_assert_nonnull(strstr(text, "bytes of earlier output dropped …]\n"));
        }

        g_assert_cmpint(job_log_reader_new(j, false, &fd), ==, 0);
        snapshot = sink_new(m, fd);
        sink_under_test = snapshot;
        run_until(m, sink_done);
        /* A late reader is told what it missed, then gets exactly what the
         * file holds after its own marker line. */
        g_assert_true(g_str_has_prefix(snapshot->data->str, "[… "));
        {
                g_autofree char *text = read_log(j->id);
                g_assert_cmpstr(strchr(snapshot->data->str, '\n') + 1, ==, strchr(text, '\n') + 1);
        }

        sink_under_test = follower;
        run_until(m, all_finished);
        run_until(m, sink_done);
        /* The follower saw the end of the job, and never more than was written. */
        g_assert_nonnull(strstr(follower->data->str, "Finished: succeeded"));
        g_assert_cmpuint(follower->data->len, <=, 3 * 1024 * 1024 + 4096);

        sink_free(snapshot);
        sink_free(follower);
        g_clear_pointer(&m, manager_free);
        teardown();
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/job/cap-and-order", test_cap_and_order);
        g_test_add_func("/job/one-per-target", test_one_per_target);
        g_test_add_func("/job/cancel", test_cancel);
        g_test_add_func("/job/restart-recovery", test_restart_recovery);
        g_test_add_func("/job/recovered-job-completes", test_recovered_job_completes);
        g_test_add_func("/job/prune", test_prune);
        g_test_add_func("/job/owner-history-bounded", test_owner_history_bounded);
        g_test_add_func("/job/log-follow-and-cut", test_log_follow_and_cut);
        return g_test_run();
}
