/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
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
/* The most jobs of one kind seen running at once, by kind name. */
static GHashTable *kind_peak;
static unsigned resume_calls;
static int resume_error;        /* what the test kinds' resume() returns */

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

static unsigned count_running_of(Manager *m, const JobKind *kind) {
        GHashTableIter it;
        gpointer v;
        unsigned n = 0;

        g_hash_table_iter_init(&it, m->jobs_by_id);
        while (g_hash_table_iter_next(&it, NULL, &v))
                if (((Job *) v)->state == JOB_RUNNING && ((Job *) v)->kind == kind)
                        n++;
        return n;
}

static int work_start(Job *j) {
        Work *w = j->data;
        unsigned of_kind = count_running_of(j->manager, j->kind);
        int r;

        if (of_kind > GPOINTER_TO_UINT(g_hash_table_lookup(kind_peak, j->kind->name)))
                g_hash_table_insert(kind_peak, (gpointer) j->kind->name, GUINT_TO_POINTER(of_kind));
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

/* One at a time, whatever [Jobs] MaxRunning says. */
static const JobKind serial_kind = {
        .name = "test-serial",
        .action = L4M_ACTION_OVERLAY_MANAGE,
        .start = work_start,
        .cancel = work_cancel,
        .free_data = work_free,
        .max_running = 1,
};

/* Work outside the daemon, found again after a restart: resume() sets the
 * timer up anew (the work "was still going"). */
static int timer_resume(Job *j) {
        Work *w;
        int r;

        resume_calls++;
        j->data = w = g_new0(Work, 1);  /* freed by the engine on every path */
        if (resume_error < 0)
                return resume_error;
        w->job = j;
        r = sd_event_add_time_relative(j->manager->event, &w->timer, CLOCK_MONOTONIC, WORK_USEC, 0, on_work_done, w);
        if (r >= 0)
                running_now++;
        return r;
}

static const JobKind resume_kind = {
        .name = "test-resume",
        .action = L4M_ACTION_OVERLAY_MANAGE,
        .start = work_start,
        .cancel = work_cancel,
        .restore = work_restore,
        .resume = timer_resume,
        .free_data = work_free,
};

/* Another process (the test, as a unit would) appends to the log; the job
 * ends when the test calls job_finish(). */
static int shared_start(Job *j) {
        Work *w = j->data;

        w->job = j;
        running_now++;
        return job_log_share(j);
}

static int shared_resume(Job *j) {
        Work *w;

        resume_calls++;
        j->data = w = g_new0(Work, 1);
        if (resume_error < 0)
                return resume_error;
        w->job = j;
        running_now++;
        return job_log_share(j);
}

static const JobKind shared_kind = {
        .name = "test-shared",
        .action = L4M_ACTION_OVERLAY_MANAGE,
        .start = shared_start,
        .cancel = work_cancel,
        .restore = work_restore,
        .resume = shared_resume,
        .free_data = work_free,
};

static char *state_dir;

static Manager *manager_up(unsigned max_running) {
        Manager *m = NULL;

        g_assert_cmpint(manager_new(state_dir, state_dir, &m), ==, 0);
        m->config->jobs_max_running = max_running;
        manager_register_job_kind(m, &test_kind);
        manager_register_job_kind(m, &oneshot_kind);
        manager_register_job_kind(m, &serial_kind);
        manager_register_job_kind(m, &resume_kind);
        manager_register_job_kind(m, &shared_kind);
        g_assert_cmpint(manager_load(m), ==, 0);
        return m;
}

static void setup(void) {
        g_autoptr(GError) error = NULL;

        state_dir = g_dir_make_tmp("l4m-job-XXXXXX", &error);
        g_assert_no_error(error);
        running_now = running_peak = started_total = resume_calls = 0;
        resume_error = 0;
        start_order = g_array_new(FALSE, FALSE, sizeof(uint64_t));
        kind_peak = g_hash_table_new(g_str_hash, g_str_equal);
}

static void teardown(void) {
        _cleanup_close_ int fd = open(g_get_tmp_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        g_autofree char *base = g_path_get_basename(state_dir);

        g_assert_cmpint(rm_rf_at(fd, base), ==, 0);
        g_clear_pointer(&state_dir, g_free);
        g_array_unref(start_order);
        g_hash_table_unref(kind_peak);
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

        g_assert_cmpint(job_cancel(b, NULL), ==, 0);    /* queued: at once, never started */
        g_assert_cmpint(b->state, ==, JOB_CANCELLED);
        g_assert_cmpint(job_cancel(a, NULL), ==, 0);    /* running: through the kind */
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
                g_assert_cmpint(job_cancel(j, NULL), ==, 0);
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

/* QueryJobs' engine: filters, newest first, and a cursor that reaches
 * every match exactly once whatever the page size. */
static bool query_visible_not_bob(const Job *j, void *userdata) {
        return strcmp(j->owner, "bob") != 0;
}

static void test_query(void) {
        g_autoptr(Manager) m = NULL;
        g_autofree char *problem = NULL;
        uint64_t ids[30], next = 0;
        int state;

        setup();
        m = manager_up(1);
        for (unsigned i = 0; i < G_N_ELEMENTS(ids); i++) {
                /* One active job per target: the last six get their own. */
                g_autofree char *target = i < 24 ? g_strdup_printf("overlay:%u", i % 3)
                                                 : g_strdup_printf("overlay:%u", 100 + i);
                Job *j = NULL;

                g_assert_cmpint(job_submit(m, i % 2 ? &oneshot_kind : &test_kind, target, i % 5 ? "alice" : "bob",
                                           g_new0(Work, 1), &j), ==, 0);
                ids[i] = j->id;
                if (i < 24)
                        g_assert_cmpint(job_cancel(j, NULL), ==, 0);
        }

        /* Every page size: each job once, in id descending order. */
        for (unsigned limit = 1; limit <= 31; limit += 5) {
                JobQuery q = JOB_QUERY_INIT;
                unsigned seen = 0, pages = 0;

                q.limit = limit;
                do {
                        g_autoptr(GPtrArray) page = manager_query_jobs(m, &q, NULL, NULL, &next);

                        g_assert_cmpuint(page->len, <=, limit);
                        for (guint k = 0; k < page->len; k++) {
                                g_assert_cmpuint(((Job *) page->pdata[k])->id, ==, ids[G_N_ELEMENTS(ids) - 1 - seen]);
                                seen++;
                        }
                        g_assert_true(next == 0 || next == ((Job *) page->pdata[page->len - 1])->id);
                        q.before = next;
                        pages++;
                } while (next != 0);
                g_assert_cmpuint(seen, ==, G_N_ELEMENTS(ids));
                g_assert_cmpuint(pages, ==, (G_N_ELEMENTS(ids) + limit - 1) / limit);
        }

        /* Filters, alone and together, and what the caller may see. */
        {
                JobQuery q = JOB_QUERY_INIT;
                g_autoptr(GPtrArray) page = NULL;

                q.target = "overlay:1";
                q.kind = oneshot_kind.name;
                page = manager_query_jobs(m, &q, NULL, NULL, &next);
                g_assert_cmpuint(next, ==, 0);
                for (guint k = 0; k < page->len; k++) {
                        Job *j = page->pdata[k];
                        g_assert_cmpstr(j->target, ==, "overlay:1");
                        g_assert_cmpstr(j->kind_name, ==, oneshot_kind.name);
                }
                g_assert_cmpuint(page->len, ==, 4);     /* i = 1, 7, 13, 19 */
        }
        {
                JobQuery q = JOB_QUERY_INIT;
                g_autoptr(GPtrArray) page = NULL;

                g_assert_cmpint(job_state_filter_from_string("active", &q.state, NULL), ==, 0);
                page = manager_query_jobs(m, &q, NULL, NULL, &next);
                g_assert_cmpuint(page->len, ==, 6);
        }
        {
                JobQuery q = JOB_QUERY_INIT;
                g_autoptr(GPtrArray) page = NULL, mine = NULL;

                q.owner = "bob";
                page = manager_query_jobs(m, &q, NULL, NULL, &next);
                g_assert_cmpuint(page->len, ==, 6);
                mine = manager_query_jobs(m, &q, query_visible_not_bob, NULL, &next);
                g_assert_cmpuint(mine->len, ==, 0);
                g_assert_cmpuint(next, ==, 0);
        }

        /* What the bus refuses. */
        g_assert_cmpint(job_state_filter_from_string("finished", &state, NULL), ==, 0);
        g_assert_cmpint(state, ==, JOB_STATE_FILTER_FINISHED);
        g_assert_cmpint(job_state_filter_from_string("cancelled", &state, NULL), ==, 0);
        g_assert_cmpint(state, ==, JOB_CANCELLED);
        g_assert_cmpint(job_state_filter_from_string("done", &state, &problem), ==, -EINVAL);
        g_assert_nonnull(strstr(problem, "is not a job state"));
        g_clear_pointer(&problem, g_free);
        {
                JobQuery q = JOB_QUERY_INIT;

                g_assert_cmpint(job_query_check(&q, NULL), ==, 0);
                q.limit = 0;
                g_assert_cmpint(job_query_check(&q, &problem), ==, -EINVAL);
                g_clear_pointer(&problem, g_free);
                q.limit = JOB_QUERY_LIMIT_MAX + 1;
                g_assert_cmpint(job_query_check(&q, NULL), ==, -EINVAL);
                q.limit = JOB_QUERY_LIMIT_MAX;
                q.target = "";
                g_assert_cmpint(job_query_check(&q, NULL), ==, -EINVAL);
        }

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

static unsigned peak_of(const JobKind *kind) {
        return GPOINTER_TO_UINT(g_hash_table_lookup(kind_peak, kind->name));
}

/* A kind with max_running = 1 runs its jobs one after another, while jobs
 * of other kinds submitted later still start beside it. */
static void test_kind_cap(void) {
        g_autoptr(Manager) m = NULL;
        Job *s1, *s2, *s3, *o1, *o2;

        setup();
        m = manager_up(4);
        s1 = submit(m, &serial_kind, "overlay:1");
        s2 = submit(m, &serial_kind, "overlay:2");
        o1 = submit(m, &test_kind, "overlay:3");
        s3 = submit(m, &serial_kind, "overlay:4");
        o2 = submit(m, &test_kind, "overlay:5");

        run_until(m, first_running);
        /* One dispatch: the first serial job and both others, not the rest. */
        g_assert_cmpint(s1->state, ==, JOB_RUNNING);
        g_assert_cmpint(s2->state, ==, JOB_QUEUED);
        g_assert_cmpint(s3->state, ==, JOB_QUEUED);
        g_assert_cmpint(o1->state, ==, JOB_RUNNING);
        g_assert_cmpint(o2->state, ==, JOB_RUNNING);
        g_assert_cmpuint(running_now, ==, 3);

        run_until(m, all_finished);
        g_assert_cmpuint(started_total, ==, 5);
        g_assert_cmpuint(peak_of(&serial_kind), ==, 1);
        g_assert_cmpuint(peak_of(&test_kind), ==, 2);
        g_assert_cmpuint(running_peak, ==, 3);  /* never four: only one serial job fits */

        /* Submission order within the kind; the others did not wait. */
        g_assert_cmpuint(start_order->len, ==, 5);
        g_assert_cmpuint(g_array_index(start_order, uint64_t, 0), ==, s1->id);
        g_assert_cmpuint(g_array_index(start_order, uint64_t, 1), ==, o1->id);
        g_assert_cmpuint(g_array_index(start_order, uint64_t, 2), ==, o2->id);
        g_assert_cmpuint(g_array_index(start_order, uint64_t, 3), ==, s2->id);
        g_assert_cmpuint(g_array_index(start_order, uint64_t, 4), ==, s3->id);
        g_assert_cmpuint(s2->started, >=, s1->finished);
        g_assert_cmpuint(s3->started, >=, s2->finished);
        g_assert_cmpint(s1->state, ==, JOB_SUCCEEDED);
        g_assert_cmpint(s2->state, ==, JOB_SUCCEEDED);
        g_assert_cmpint(s3->state, ==, JOB_SUCCEEDED);
        g_clear_pointer(&m, manager_free);
        teardown();
}

/* The per-kind cap counts within [Jobs] MaxRunning, not beside it. */
static void test_kind_cap_within_global(void) {
        g_autoptr(Manager) m = NULL;
        Job *o1, *s1, *s2;

        setup();
        m = manager_up(1);
        o1 = submit(m, &test_kind, "overlay:1");
        s1 = submit(m, &serial_kind, "overlay:2");
        s2 = submit(m, &serial_kind, "overlay:3");
        run_until(m, first_running);
        g_assert_cmpint(o1->state, ==, JOB_RUNNING);
        g_assert_cmpint(s1->state, ==, JOB_QUEUED);
        run_until(m, all_finished);
        g_assert_cmpuint(running_peak, ==, 1);
        g_assert_cmpuint(g_array_index(start_order, uint64_t, 1), ==, s1->id);
        g_assert_cmpuint(g_array_index(start_order, uint64_t, 2), ==, s2->id);
        g_clear_pointer(&m, manager_free);
        teardown();
}

static bool job_is_running(Manager *m) {
        GHashTableIter it;
        gpointer v;

        g_hash_table_iter_init(&it, m->jobs_by_id);
        while (g_hash_table_iter_next(&it, NULL, &v))
                if (((Job *) v)->state == JOB_RUNNING)
                        return true;
        return false;
}

/* A running job of a kind with resume() that the daemon lost; returns its id. */
static uint64_t leave_running(const JobKind *kind, const char *target) {
        Manager *m = manager_up(2);
        uint64_t id = submit(m, kind, target)->id;

        run_until(m, job_is_running);
        manager_free(m);        /* no job_finish: as after SIGKILL */
        running_now = 0;
        return id;
}

static void test_resume(void) {
        Manager *m;
        Job *j, *other;
        uint64_t id;

        setup();
        id = leave_running(&resume_kind, "overlay:1");

        m = manager_up(1);
        j = g_hash_table_lookup(m->jobs_by_id, &id);
        g_assert_nonnull(j);
        /* Still running, not queued again nor failed, and not touched
         * before manager_resume_jobs(). */
        g_assert_cmpint(j->state, ==, JOB_RUNNING);
        g_assert_null(j->data);
        g_assert_cmpuint(resume_calls, ==, 0);
        g_assert_cmpint(j->log_fd, >=, 0);

        /* It holds its slot: a new job waits for it. */
        other = submit(m, &test_kind, "overlay:2");
        for (unsigned i = 0; i < 5; i++)
                g_assert_cmpint(sd_event_run(m->event, 0), >=, 0);
        g_assert_cmpint(other->state, ==, JOB_QUEUED);
        g_assert_cmpuint(resume_calls, ==, 0);

        manager_resume_jobs(m);
        g_assert_cmpuint(resume_calls, ==, 1);
        g_assert_cmpint(j->state, ==, JOB_RUNNING);
        g_assert_nonnull(j->data);
        manager_resume_jobs(m);                 /* only once */
        g_assert_cmpuint(resume_calls, ==, 1);

        run_until(m, all_finished);
        g_assert_cmpint(j->state, ==, JOB_SUCCEEDED);
        g_assert_cmpuint(j->attempts, ==, 1);   /* resumed, not started again */
        g_assert_cmpstr(j->message, ==, "Done.");
        g_assert_cmpint(other->state, ==, JOB_SUCCEEDED);
        g_assert_cmpuint(other->started, >=, j->finished);
        {
                g_autofree char *log = read_log(id);
                const char *started = strstr(log, "Started (attempt 1).");
                const char *picked = strstr(log, "The daemon restarted; picked the job up again.");
                const char *finished = strstr(log, "Finished: succeeded: Done.");

                g_assert_nonnull(started);
                g_assert_nonnull(picked);
                g_assert_nonnull(finished);
                g_assert_true(started < picked && picked < finished);
                g_assert_null(strstr(log, "Started (attempt 2)"));
        }
        manager_free(m);

        /* The outcome is in the store too. */
        m = manager_up(1);
        j = g_hash_table_lookup(m->jobs_by_id, &id);
        g_assert_cmpint(j->state, ==, JOB_SUCCEEDED);
        manager_resume_jobs(m);
        g_assert_cmpuint(resume_calls, ==, 1);
        manager_free(m);
        teardown();
}

/* A RUNNING row put straight into the store, as a daemon that died left it. */
static uint64_t insert_running_row(const JobKind *kind, const char *target) {
        uint64_t now = (uint64_t) g_get_real_time(), id = 0;
        StoreJob row = {
                .kind = kind->name,
                .target = target,
                .owner = "alice",
                .state = "running",
                .attempts = 1,
                .created = now,
                .started = now,
        };
        Manager *m = manager_up(1);

        g_assert_cmpint(store_job_insert(m->db, &row, &id), ==, 0);
        manager_free(m);
        return id;
}

static void test_resume_failure(void) {
        g_autofree char *expected = NULL;
        Manager *m;
        Job *j;
        uint64_t id;

        setup();
        id = insert_running_row(&resume_kind, "overlay:1");

        m = manager_up(1);
        j = g_hash_table_lookup(m->jobs_by_id, &id);
        g_assert_cmpint(j->state, ==, JOB_RUNNING);
        resume_error = -EIO;
        manager_resume_jobs(m);
        g_assert_cmpuint(resume_calls, ==, 1);
        j = g_hash_table_lookup(m->jobs_by_id, &id);
        g_assert_cmpint(j->state, ==, JOB_FAILED);
        expected = g_strdup_printf("Cannot pick the job up after a restart of the daemon: %s", g_strerror(EIO));
        g_assert_cmpstr(j->message, ==, expected);
        g_assert_null(j->data);                 /* what resume() had set up is freed */
        g_assert_cmpint(j->log_fd, <, 0);
        g_assert_cmpuint(j->finished, >=, j->started);
        {
                g_autofree char *log = read_log(id);
                g_autofree char *line = g_strdup_printf("Finished: failed: %s\n", expected);
                g_assert_true(g_str_has_suffix(log, line));
        }
        run_until(m, all_finished);
        manager_free(m);

        m = manager_up(1);
        j = g_hash_table_lookup(m->jobs_by_id, &id);
        g_assert_cmpint(j->state, ==, JOB_FAILED);
        g_assert_cmpstr(j->message, ==, expected);
        manager_free(m);
        teardown();
}

/* A RUNNING row of a kind without resume() still fails at load, as before. */
static void test_running_without_resume_fails(void) {
        Manager *m;
        Job *j;
        uint64_t id;

        setup();
        id = leave_running(&oneshot_kind, "overlay:1");
        m = manager_up(1);
        manager_resume_jobs(m);
        j = g_hash_table_lookup(m->jobs_by_id, &id);
        g_assert_cmpint(j->state, ==, JOB_FAILED);
        g_assert_cmpstr(j->message, ==, "Interrupted by a restart of the daemon.");
        g_assert_cmpuint(resume_calls, ==, 0);
        manager_free(m);
        teardown();
}

/* Shared logs. */

#define EXT_LINE 100u                           /* bytes per line the "unit" writes */
#define EXT_CHUNK (640u * EXT_LINE)             /* 64000 bytes per write burst */
/* Disk use allowed beyond JOB_LOG_MAX: one burst not yet punched, block
 * rounding at both ends, and a little for the file system. */
#define ALLOC_SLACK (EXT_CHUNK + 64u * 1024u)

static void write_all_fd(int fd, const char *data, size_t len) {
        while (len > 0) {
                ssize_t n = write(fd, data, len);
                if (n < 0 && errno == EINTR)
                        continue;
                g_assert_cmpint(n, >, 0);
                data += n;
                len -= (size_t) n;
        }
}

static int open_log_appending(uint64_t id) {
        g_autofree char *path = g_strdup_printf("%s/jobs/%" G_GUINT64_FORMAT ".log", state_dir, id);
        int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);

        g_assert_cmpint(fd, >=, 0);
        return fd;
}

static struct stat stat_log(uint64_t id) {
        g_autofree char *path = g_strdup_printf("%s/jobs/%" G_GUINT64_FORMAT ".log", state_dir, id);
        struct stat st;

        g_assert_cmpint(stat(path, &st), ==, 0);
        return st;
}

/* Runs the loop until the job has taken in everything the file holds and
 * every sink has received the whole stream so far (or hit EOF). */
static void pump(Manager *m, Job *j, Sink *const *sinks, size_t n_sinks, size_t stream_len) {
        for (unsigned i = 0; i < 20000; i++) {
                bool done = j->log_fd < 0 || j->log_size == (uint64_t) stat_log(j->id).st_size;

                for (size_t k = 0; done && k < n_sinks; k++)
                        if (!sinks[k]->eof && sinks[k]->data->len < stream_len)
                                done = false;
                if (done)
                        return;
                g_assert_cmpint(sd_event_run(m->event, 100 * 1000), >=, 0);
        }
        g_assert_not_reached();
}

/* Appends n lines numbered from *line_no through fd and to expected. */
static void write_lines(int fd, GString *expected, unsigned *line_no, unsigned n) {
        g_autoptr(GString) burst = g_string_new(NULL);

        for (unsigned i = 0; i < n; i++) {
                size_t before = burst->len;

                g_string_append_printf(burst, "unit line %08u ", (*line_no)++);
                while (burst->len - before < EXT_LINE - 1)
                        g_string_append_c(burst, '.');
                g_string_append_c(burst, '\n');
        }
        write_all_fd(fd, burst->str, burst->len);
        g_string_append_len(expected, burst->str, (gssize) burst->len);
}

/* Whether the file system under the state directory punches holes. */
static bool can_punch_holes(void) {
        g_autofree char *path = g_build_filename(state_dir, "punch-probe", NULL);
        g_autofree char *block = g_malloc0(3 * 4096);
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        bool ok;

        g_assert_cmpint(fd, >=, 0);
        write_all_fd(fd, block, 3 * 4096);
        ok = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096) == 0;
        g_assert_cmpint(g_unlink(path), ==, 0);
        return ok;
}

static char *dropped_marker(uint64_t n) {
        return g_strdup_printf("[… %" G_GUINT64_FORMAT " bytes of earlier output dropped …]\n", n);
}

static void test_shared_log(void) {
        g_autoptr(Manager) m = NULL;
        g_autoptr(GString) expected = g_string_new("Started (attempt 1).\n");
        g_autoptr(GString) late_expected = NULL;
        _cleanup_close_ int unit_fd = -1;
        uint64_t max_alloc = 0, late_dropped, late_start;
        unsigned line_no = 0;
        Sink *early, *late;
        Sink *sinks[2];
        struct stat st = { .st_size = 0 };
        int fd;
        Job *j;

        setup();
        if (!can_punch_holes()) {
                g_test_skip("the file system of the temporary directory does not punch holes");
                teardown();
                return;
        }
        m = manager_up(1);
        j = submit(m, &shared_kind, "overlay:1");
        run_until(m, first_running);
        g_assert_true(j->log_shared);
        g_assert_nonnull(j->log_watch);

        g_assert_cmpint(job_log_reader_new(j, true, &fd), ==, 0);
        early = sinks[0] = sink_new(m, fd);
        unit_fd = open_log_appending(j->id);

        /* Live: what the unit writes reaches a follower while the job runs. */
        write_all_fd(unit_fd, "hello from the unit\n", strlen("hello from the unit\n"));
        g_string_append(expected, "hello from the unit\n");
        pump(m, j, sinks, 1, expected->len);
        g_assert_cmpstr(early->data->str, ==, expected->str);
        g_assert_cmpint(j->state, ==, JOB_RUNNING);
        g_assert_cmpuint(j->log_size, ==, expected->len);
        g_assert_cmpuint(j->log_dropped, ==, 0);

        /* 3 MB in bursts, the loop running in between: holes get punched
         * and the disk use stays near JOB_LOG_MAX while the size grows. */
        while (expected->len < 3u * 1024u * 1024u) {
                write_lines(unit_fd, expected, &line_no, EXT_CHUNK / EXT_LINE);
                pump(m, j, sinks, 1, expected->len);
                st = stat_log(j->id);
                g_assert_cmpuint((uint64_t) st.st_size, ==, expected->len);
                g_assert_cmpuint(j->log_size, ==, expected->len);
                max_alloc = MAX(max_alloc, (uint64_t) st.st_blocks * 512u);
                g_assert_cmpuint((uint64_t) st.st_blocks * 512u, <=, JOB_LOG_MAX + ALLOC_SLACK);
                g_assert_cmpuint(j->log_size - j->log_data_start, <=, JOB_LOG_MAX);
        }
        g_test_message("file size %" G_GUINT64_FORMAT ", at most %" G_GUINT64_FORMAT " bytes allocated",
                       (uint64_t) st.st_size, max_alloc);
        g_assert_cmpuint(j->log_dropped, >, 0);
        /* In a shared file, stream positions are file offsets. */
        g_assert_cmpuint(j->log_dropped, ==, j->log_data_start);
        g_assert_cmpuint(j->log_data_start % 4096u, ==, 0);
        g_assert_cmpuint(j->log_size - j->log_data_start, >=, JOB_LOG_KEEP);
        g_assert_false(j->log_punch_failed);
        {
                _cleanup_close_ int rfd = open_log_appending(j->id);
                off_t data = lseek(rfd, 0, SEEK_DATA);

                g_assert_cmpint(data, >=, (off_t) j->log_data_start);  /* the front is a hole */
        }
        /* The follower kept up: it got the whole stream, no marker. */
        g_assert_cmpuint(early->data->len, ==, expected->len);
        g_assert_true(memcmp(early->data->str, expected->str, expected->len) == 0);

        /* A follower that comes now is told what was dropped, then gets the
         * tail the file still holds. */
        late_dropped = j->log_dropped;
        late_start = j->log_data_start;
        {
                g_autofree char *marker = dropped_marker(late_dropped);

                late_expected = g_string_new(marker);
                g_string_append_len(late_expected, expected->str + late_start, (gssize) (expected->len - late_start));
        }
        g_assert_cmpint(job_log_reader_new(j, true, &fd), ==, 0);
        late = sinks[1] = sink_new(m, fd);
        for (unsigned i = 0; i < 20000 && late->data->len < late_expected->len; i++)
                g_assert_cmpint(sd_event_run(m->event, 100 * 1000), >=, 0);
        g_assert_cmpuint(late->data->len, ==, late_expected->len);
        g_assert_true(memcmp(late->data->str, late_expected->str, late_expected->len) == 0);

        /* Both follow what the unit writes next, still live. */
        write_all_fd(unit_fd, "the last words\n", strlen("the last words\n"));
        g_string_append(expected, "the last words\n");
        g_string_append(late_expected, "the last words\n");
        pump(m, j, sinks, 1, expected->len);
        for (unsigned i = 0; i < 20000 && late->data->len < late_expected->len; i++)
                g_assert_cmpint(sd_event_run(m->event, 100 * 1000), >=, 0);
        g_assert_true(g_str_has_suffix(early->data->str, "the last words\n"));
        g_assert_true(g_str_has_suffix(late->data->str, "the last words\n"));
        g_assert_cmpint(j->state, ==, JOB_RUNNING);

        /* The end: the file becomes marker + tail, without holes. */
        running_now--;
        job_finish(j, 0, NULL);
        g_string_append(expected, "Finished: succeeded: Done.\n");
        g_string_append(late_expected, "Finished: succeeded: Done.\n");
        g_assert_false(j->log_shared);
        g_assert_null(j->log_watch);
        sink_under_test = early;
        run_until(m, sink_done);
        sink_under_test = late;
        run_until(m, sink_done);
        g_assert_cmpuint(early->data->len, ==, expected->len);
        g_assert_true(memcmp(early->data->str, expected->str, expected->len) == 0);
        g_assert_cmpuint(late->data->len, ==, late_expected->len);
        g_assert_true(memcmp(late->data->str, late_expected->str, late_expected->len) == 0);
        {
                g_autofree char *text = read_log(j->id);
                g_autofree char *marker = NULL;
                const char *body;
                size_t body_len;

                g_assert_true(g_str_has_prefix(text, "[… "));
                body = strchr(text, '\n') + 1;
                body_len = strlen(body);
                marker = dropped_marker(expected->len - body_len);
                g_assert_cmpuint((size_t) (body - text), ==, strlen(marker));
                g_assert_true(memcmp(text, marker, strlen(marker)) == 0);
                g_assert_cmpuint(body_len, <=, JOB_LOG_KEEP);
                g_assert_cmpuint(body_len, >=, JOB_LOG_KEEP - 2 * EXT_LINE);
                /* the tail of the stream, from a line start */
                g_assert_cmpstr(body, ==, expected->str + expected->len - body_len);
                g_assert_cmpint(expected->str[expected->len - body_len - 1], ==, '\n');
                g_assert_true(g_str_has_suffix(body, "the last words\nFinished: succeeded: Done.\n"));
                g_assert_cmpuint(j->log_dropped, ==, expected->len - body_len);

                st = stat_log(j->id);
                g_assert_cmpuint((uint64_t) st.st_size, ==, strlen(text));
                g_assert_cmpuint((uint64_t) st.st_size, <=, JOB_LOG_KEEP + strlen(marker));
        }
        {
                /* A plain file again: data from the first byte. */
                _cleanup_close_ int rfd = open_log_appending(j->id);
                g_assert_cmpint(lseek(rfd, 0, SEEK_DATA), ==, 0);
        }

        sink_free(late);
        sink_free(early);
        g_clear_pointer(&m, manager_free);
        teardown();
}

/* Runs a shared-log job until more than JOB_LOG_MAX went through it (holes
 * punched); returns the manager with the job still running. */
static Manager *shared_job_past_max(uint64_t *ret_id, int *ret_unit_fd) {
        g_autoptr(GString) expected = g_string_new(NULL);
        unsigned line_no = 0;
        Manager *m = manager_up(1);
        Job *j = submit(m, &shared_kind, "overlay:1");

        run_until(m, first_running);
        *ret_unit_fd = open_log_appending(j->id);
        while (expected->len < 2u * 1024u * 1024u) {
                write_lines(*ret_unit_fd, expected, &line_no, EXT_CHUNK / EXT_LINE);
                pump(m, j, NULL, 0, 0);
        }
        g_assert_cmpuint(j->log_dropped, >, 0);
        *ret_id = j->id;
        return m;
}

/* The second half of a restart: the unit keeps appending through the fd it
 * has, so the daemon must go on with the very same file. */
static void resume_shared_job(uint64_t id, int unit_fd, const char *what) {
        struct stat unit_st, st;
        Sink *follower;
        Manager *m;
        int fd;
        Job *j;

        g_assert_cmpint(fstat(unit_fd, &unit_st), ==, 0);
        write_all_fd(unit_fd, "while the daemon was away\n", strlen("while the daemon was away\n"));

        m = manager_up(1);
        j = g_hash_table_lookup(m->jobs_by_id, &id);
        g_assert_cmpint(j->state, ==, JOB_RUNNING);
        manager_resume_jobs(m);
        g_assert_cmpuint(resume_calls, ==, 1);
        g_assert_cmpint(j->state, ==, JOB_RUNNING);
        g_assert_true(j->log_shared);
        st = stat_log(id);
        /* The unit's file is still the log: nothing was cut on resume. */
        g_assert_cmpuint(st.st_ino, ==, unit_st.st_ino);
        g_assert_cmpuint(st.st_nlink, >, 0);
        /* Output dropped before the restart is still accounted for. */
        g_assert_cmpuint(j->log_dropped, >, 0);

        g_assert_cmpint(job_log_reader_new(j, true, &fd), ==, 0);
        follower = sink_new(m, fd);
        write_all_fd(unit_fd, "after the restart\n", strlen("after the restart\n"));
        for (unsigned i = 0; i < 20000 && !strstr(follower->data->str, "after the restart\n"); i++)
                g_assert_cmpint(sd_event_run(m->event, 100 * 1000), >=, 0);
        g_assert_true(g_str_has_prefix(follower->data->str, "[… "));
        g_assert_nonnull(strstr(follower->data->str, "while the daemon was away\n"));
        g_assert_nonnull(strstr(follower->data->str, "The daemon restarted; picked the job up again.\n"));
        g_assert_true(g_str_has_suffix(follower->data->str, "after the restart\n"));

        running_now--;
        job_finish(j, 0, NULL);
        sink_under_test = follower;
        run_until(m, sink_done);
        {
                g_autofree char *text = read_log(id);
                g_assert_nonnull(strstr(text, "while the daemon was away\n"));
                g_assert_true(g_str_has_suffix(text, "after the restart\nFinished: succeeded: Done.\n"));
        }
        sink_free(follower);
        manager_free(m);
}

/* The daemon stops (SIGTERM: the manager is freed) while the unit runs on. */
static void test_shared_log_across_stop(void) {
        _cleanup_close_ int unit_fd = -1;
        struct stat unit_st, st;
        Manager *m;
        uint64_t id;

        setup();
        if (!can_punch_holes()) {
                g_test_skip("the file system of the temporary directory does not punch holes");
                teardown();
                return;
        }
        m = shared_job_past_max(&id, &unit_fd);
        g_assert_cmpint(fstat(unit_fd, &unit_st), ==, 0);
        manager_free(m);
        running_now = 0;
        st = stat_log(id);
        /* A stopping daemon leaves a running job's file alone. */
        g_assert_cmpuint(st.st_ino, ==, unit_st.st_ino);
        resume_shared_job(id, unit_fd, "stop");
        teardown();
}

/* The daemon dies (no cleanup at all) while the unit runs on. */
static void test_shared_log_across_crash(void) {
        _cleanup_close_ int unit_fd = -1;
        uint64_t id = 0;
        int status;
        pid_t pid;

        setup();
        if (!can_punch_holes()) {
                g_test_skip("the file system of the temporary directory does not punch holes");
                teardown();
                return;
        }
        pid = fork();
        g_assert_cmpint(pid, >=, 0);
        if (pid == 0) {
                int child_fd;
                uint64_t child_id;

                (void) shared_job_past_max(&child_id, &child_fd);
                /* The daemon is gone at once: no cleanup runs. (Not
                 * _exit(): valgrind would count the manager as lost.) */
                execl("/bin/true", "true", (char *) NULL);
                _exit(1);
        }
        g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 0);

        {
                Manager *m = manager_up(1);
                GHashTableIter it;
                gpointer v;

                /* Leave it to resume_shared_job(): just learn the id. */
                g_hash_table_iter_init(&it, m->jobs_by_id);
                while (g_hash_table_iter_next(&it, NULL, &v))
                        id = ((Job *) v)->id;
                manager_free(m);
        }
        g_assert_cmpuint(id, >, 0);
        unit_fd = open_log_appending(id);
        resume_shared_job(id, unit_fd, "crash");
        teardown();
}

/* Runs the loop until the sink holds at least len bytes (or hit EOF). */
static void sink_wait(Manager *m, Sink *k, size_t len) {
        for (unsigned i = 0; i < 20000 && !k->eof && k->data->len < len; i++)
                g_assert_cmpint(sd_event_run(m->event, 100 * 1000), >=, 0);
}

/* Runs the loop until the job has taken in the file's current size, for a
 * few seconds at most (a change it ignores fails here, not in a long pump). */
static void wait_log_synced(Manager *m, Job *j) {
        for (unsigned i = 0; i < 50 && j->log_size != (uint64_t) stat_log(j->id).st_size; i++)
                g_assert_cmpint(sd_event_run(m->event, 100 * 1000), >=, 0);
        g_assert_cmpuint(j->log_size, ==, (uint64_t) stat_log(j->id).st_size);
}

static void assert_no_nul(const char *data, size_t len) {
        g_assert_null(memchr(data, '\0', len));
}

/* The unit's stdout is its own descriptor: it may truncate the file. What
 * was in it counts as dropped output, and the stream goes on with what the
 * unit writes next. */
static void test_shared_log_truncated(void) {
        g_autoptr(Manager) m = NULL;
        g_autoptr(GString) before = g_string_new("Started (attempt 1).\n");
        g_autoptr(GString) after = g_string_new(NULL);
        g_autoptr(GString) early_expected = NULL;
        g_autoptr(GString) late_expected = NULL;
        g_autofree char *marker = NULL;
        _cleanup_close_ int unit_fd = -1;
        unsigned line_no = 0;
        Sink *early, *late;
        Sink *sinks[2];
        int fd;
        Job *j;

        setup();
        m = manager_up(1);
        j = submit(m, &shared_kind, "overlay:1");
        run_until(m, first_running);
        g_assert_true(j->log_shared);
        unit_fd = open_log_appending(j->id);

        write_lines(unit_fd, before, &line_no, 50);
        g_assert_cmpint(job_log_reader_new(j, true, &fd), ==, 0);
        early = sinks[0] = sink_new(m, fd);
        pump(m, j, sinks, 1, before->len);
        g_assert_cmpuint(early->data->len, ==, before->len);
        g_assert_true(memcmp(early->data->str, before->str, before->len) == 0);
        g_assert_cmpuint(j->log_dropped, ==, 0);
        g_assert_cmpuint(j->log_data_start, ==, 0);

        /* The unit empties the file; the daemon sees it shrink. */
        g_assert_cmpint(ftruncate(unit_fd, 0), ==, 0);
        wait_log_synced(m, j);
        g_assert_cmpuint(j->log_size, ==, 0);
        g_assert_cmpuint(j->log_dropped, ==, before->len);
        g_assert_cmpuint(j->log_data_start, ==, 0);
        g_assert_cmpint(j->state, ==, JOB_RUNNING);

        /* It writes on (O_APPEND: from offset 0 again). */
        write_lines(unit_fd, after, &line_no, 30);
        early_expected = g_string_new_len(before->str, (gssize) before->len);
        g_string_append_len(early_expected, after->str, (gssize) after->len);
        pump(m, j, sinks, 1, early_expected->len);
        g_assert_cmpuint(j->log_size, ==, after->len);
        /* The follower had seen all that was dropped: no marker, just the
         * new lines, once each, after the old ones. */
        g_assert_cmpuint(early->data->len, ==, early_expected->len);
        g_assert_true(memcmp(early->data->str, early_expected->str, early_expected->len) == 0);
        assert_no_nul(early->data->str, early->data->len);

        /* A follower that comes now is told what was dropped, then gets the
         * new lines. */
        marker = dropped_marker(before->len);
        late_expected = g_string_new(marker);
        g_string_append_len(late_expected, after->str, (gssize) after->len);
        g_assert_cmpint(job_log_reader_new(j, true, &fd), ==, 0);
        late = sinks[1] = sink_new(m, fd);
        sink_wait(m, late, late_expected->len);
        g_assert_false(late->eof);
        g_assert_cmpuint(late->data->len, ==, late_expected->len);
        g_assert_true(memcmp(late->data->str, late_expected->str, late_expected->len) == 0);

        /* Both follow what comes next, live. */
        write_all_fd(unit_fd, "the last words\n", strlen("the last words\n"));
        g_string_append(after, "the last words\n");
        g_string_append(early_expected, "the last words\n");
        g_string_append(late_expected, "the last words\n");
        pump(m, j, sinks, 1, early_expected->len);
        sink_wait(m, late, late_expected->len);
        g_assert_cmpuint(early->data->len, ==, early_expected->len);
        g_assert_cmpuint(late->data->len, ==, late_expected->len);

        /* The end: the file keeps the new output, after a marker line, as
         * a cut file does, and has no holes nor NULs. */
        running_now--;
        job_finish(j, 0, NULL);
        g_string_append(after, "Finished: succeeded: Done.\n");
        g_string_append(early_expected, "Finished: succeeded: Done.\n");
        g_string_append(late_expected, "Finished: succeeded: Done.\n");
        g_assert_false(j->log_shared);
        sink_under_test = early;
        run_until(m, sink_done);
        sink_under_test = late;
        run_until(m, sink_done);
        g_assert_cmpuint(early->data->len, ==, early_expected->len);
        g_assert_true(memcmp(early->data->str, early_expected->str, early_expected->len) == 0);
        g_assert_cmpuint(late->data->len, ==, late_expected->len);
        g_assert_true(memcmp(late->data->str, late_expected->str, late_expected->len) == 0);
        {
                g_autofree char *path = g_strdup_printf("%s/jobs/%" G_GUINT64_FORMAT ".log", state_dir, j->id);
                g_autofree char *text = NULL;
                size_t len = 0;

                g_assert_true(g_file_get_contents(path, &text, &len, NULL));
                assert_no_nul(text, len);
                g_assert_true(g_str_has_suffix(text, "the last words\nFinished: succeeded: Done.\n"));
                g_assert_nonnull(strstr(text, after->str));
                /* What was dropped is on record in the file itself. */
                g_assert_true(g_str_has_prefix(text, marker));
                g_assert_cmpstr(text + strlen(marker), ==, after->str);
        }

        sink_free(late);
        sink_free(early);
        g_clear_pointer(&m, manager_free);
        teardown();
}

#define REFILL_SIZE (512u * 1024u)

/* The unit drops O_APPEND and writes into the punched front of the file:
 * the next sync punches it out again, and no reader sees it. */
static void test_shared_log_hole_refilled(void) {
        g_autoptr(GString) tail = NULL;
        g_autoptr(GString) late_expected = NULL;
        g_autofree char *junk = NULL;
        g_autofree char *marker = NULL;
        _cleanup_close_ int unit_fd = -1;
        uint64_t id, data_start, dropped, alloc_before, alloc_refilled, alloc_after;
        struct stat st;
        Sink *early, *late;
        Sink *sinks[1];
        Manager *m;
        ssize_t n;
        int fd;
        Job *j;

        setup();
        if (!can_punch_holes()) {
                g_test_skip("the file system of the temporary directory does not punch holes");
                teardown();
                return;
        }
        m = shared_job_past_max(&id, &unit_fd);
        j = g_hash_table_lookup(m->jobs_by_id, &id);
        g_assert_nonnull(j);
        g_assert_false(j->log_punch_failed);
        data_start = j->log_data_start;
        dropped = j->log_dropped;
        /* The region about to be refilled lies wholly in the hole. */
        g_assert_cmpuint(data_start, >=, REFILL_SIZE);
        st = stat_log(id);
        alloc_before = (uint64_t) st.st_blocks * 512u;
        g_assert_cmpuint(alloc_before, <=, JOB_LOG_MAX + ALLOC_SLACK);

        /* The stream as it stands: marker, then the file from data_start. */
        tail = g_string_sized_new((gsize) (j->log_size - data_start));
        g_string_set_size(tail, (gsize) (j->log_size - data_start));
        {
                g_autofree char *path = g_strdup_printf("%s/jobs/%" G_GUINT64_FORMAT ".log", state_dir, id);
                _cleanup_close_ int rd = open(path, O_RDONLY | O_CLOEXEC);

                g_assert_cmpint(rd, >=, 0);
                g_assert_cmpint(pread(rd, tail->str, tail->len, (off_t) data_start), ==, (ssize_t) tail->len);
        }
        assert_no_nul(tail->str, tail->len);
        marker = dropped_marker(dropped);

        g_assert_cmpint(job_log_reader_new(j, true, &fd), ==, 0);
        early = sinks[0] = sink_new(m, fd);
        sink_wait(m, early, strlen(marker) + tail->len);
        g_assert_cmpuint(early->data->len, ==, strlen(marker) + tail->len);

        /* The unit clears O_APPEND and writes over the front. */
        g_assert_cmpint(fcntl(unit_fd, F_SETFL, 0), ==, 0);
        g_assert_cmpint(fcntl(unit_fd, F_GETFL) & O_APPEND, ==, 0);
        junk = g_malloc(REFILL_SIZE);
        memset(junk, 'X', REFILL_SIZE);
        n = pwrite(unit_fd, junk, REFILL_SIZE, 0);
        g_assert_cmpint(n, ==, (ssize_t) REFILL_SIZE);
        st = stat_log(id);
        alloc_refilled = (uint64_t) st.st_blocks * 512u;
        g_assert_cmpuint(alloc_refilled, >=, alloc_before + REFILL_SIZE);      /* the refill took disk space */
        g_assert_cmpuint((uint64_t) st.st_size, ==, j->log_size);            /* but did not grow the file */
        /* Then one more line at the end (IN_MODIFY). */
        g_assert_cmpint(lseek(unit_fd, 0, SEEK_END), ==, (off_t) j->log_size);
        write_all_fd(unit_fd, "after the refill\n", strlen("after the refill\n"));
        g_string_append(tail, "after the refill\n");
        pump(m, j, sinks, 1, strlen(marker) + tail->len);

        st = stat_log(id);
        alloc_after = (uint64_t) st.st_blocks * 512u;
        g_test_message("allocated: %" G_GUINT64_FORMAT " before, %" G_GUINT64_FORMAT " refilled, %" G_GUINT64_FORMAT " after the sync",
                       alloc_before, alloc_refilled, alloc_after);
        g_assert_cmpuint(alloc_after, <=, JOB_LOG_MAX + ALLOC_SLACK);
        g_assert_cmpuint(alloc_after, <, alloc_refilled - REFILL_SIZE / 2);
        {
                _cleanup_close_ int rfd = open_log_appending(id);
                g_assert_cmpint(lseek(rfd, 0, SEEK_DATA), >=, (off_t) data_start);     /* a hole again */
        }
        /* Only a line more: nothing else moved. */
        g_assert_cmpuint(j->log_data_start, ==, data_start);
        g_assert_cmpuint(j->log_dropped, ==, dropped);
        g_assert_false(j->log_punch_failed);

        /* Readers: the stream as before, plus the line; never the refill. */
        g_assert_cmpuint(early->data->len, ==, strlen(marker) + tail->len);
        g_assert_true(memcmp(early->data->str, marker, strlen(marker)) == 0);
        g_assert_true(memcmp(early->data->str + strlen(marker), tail->str, tail->len) == 0);
        late_expected = g_string_new(marker);
        g_string_append_len(late_expected, tail->str, (gssize) tail->len);
        g_assert_cmpint(job_log_reader_new(j, true, &fd), ==, 0);
        late = sink_new(m, fd);
        sink_wait(m, late, late_expected->len);
        g_assert_cmpuint(late->data->len, ==, late_expected->len);
        g_assert_true(memcmp(late->data->str, late_expected->str, late_expected->len) == 0);
        g_assert_null(memchr(late->data->str, 'X', late->data->len));
        g_assert_null(memchr(early->data->str, 'X', early->data->len));

        /* The end: marker and tail, neither the refill nor NULs. */
        running_now--;
        job_finish(j, 0, NULL);
        sink_under_test = early;
        run_until(m, sink_done);
        sink_under_test = late;
        run_until(m, sink_done);
        g_assert_true(g_str_has_suffix(late->data->str, "after the refill\nFinished: succeeded: Done.\n"));
        g_assert_null(memchr(late->data->str, 'X', late->data->len));
        {
                g_autofree char *path = g_strdup_printf("%s/jobs/%" G_GUINT64_FORMAT ".log", state_dir, id);
                g_autofree char *text = NULL;
                size_t len = 0;

                g_assert_true(g_file_get_contents(path, &text, &len, NULL));
                assert_no_nul(text, len);
                g_assert_null(memchr(text, 'X', len));
                g_assert_true(g_str_has_prefix(text, "[… "));
                g_assert_true(g_str_has_suffix(text, "after the refill\nFinished: succeeded: Done.\n"));
                g_assert_cmpuint(len, <=, JOB_LOG_KEEP + 200);
        }

        sink_free(late);
        sink_free(early);
        manager_free(m);
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
        g_test_add_func("/job/kind-cap", test_kind_cap);
        g_test_add_func("/job/kind-cap-within-global", test_kind_cap_within_global);
        g_test_add_func("/job/resume", test_resume);
        g_test_add_func("/job/resume-failure", test_resume_failure);
        g_test_add_func("/job/running-without-resume-fails", test_running_without_resume_fails);
        g_test_add_func("/job/shared-log", test_shared_log);
        g_test_add_func("/job/shared-log-across-stop", test_shared_log_across_stop);
        g_test_add_func("/job/shared-log-across-crash", test_shared_log_across_crash);
        g_test_add_func("/job/shared-log-truncated", test_shared_log_truncated);
        g_test_add_func("/job/shared-log-hole-refilled", test_shared_log_hole_refilled);
        g_test_add_func("/job/query", test_query);
        return g_test_run();
}
