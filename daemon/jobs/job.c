/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/jobs/: the job engine: queued work with progress, a bounded log, cancellation and retention. */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>

#include "job.h"
#include "problem.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "store.h"

#define USEC_PER_DAY (UINT64_C(86400) * G_USEC_PER_SEC)
#define JOB_PRUNE_INTERVAL_USEC (UINT64_C(3600) * G_USEC_PER_SEC)
#define JOB_MESSAGE_MAX 1024

static const char *const job_state_table[_JOB_STATE_MAX] = {
        [JOB_QUEUED] = "queued",
        [JOB_RUNNING] = "running",
        [JOB_SUCCEEDED] = "succeeded",
        [JOB_FAILED] = "failed",
        [JOB_CANCELLED] = "cancelled",
};

const char *job_state_to_string(JobState s) {
        return s >= 0 && s < _JOB_STATE_MAX ? job_state_table[s] : NULL;
}

JobState job_state_from_string(const char *s) {
        for (int i = 0; s && i < _JOB_STATE_MAX; i++)
                if (strcmp(s, job_state_table[i]) == 0)
                        return i;
        return _JOB_STATE_INVALID;
}

void manager_register_job_kind(Manager *m, const JobKind *kind) {
        assert(kind->name && kind->action && kind->start);
        assert(!kind->restartable || kind->restore);
        assert(!kind->resume || kind->restore);
        g_hash_table_insert(m->job_kinds, (gpointer) kind->name, (gpointer) kind);
}

const JobKind *manager_find_job_kind(Manager *m, const char *name) {
        return g_hash_table_lookup(m->job_kinds, name);
}

void job_free(Job *j) {
        if (!j)
                return;
        job_log_readers_detach(j);
        job_log_close(j);
        sd_event_source_disable_unref(j->progress_timer);
        sd_event_source_disable_unref(j->log_watch);
        if (j->data && j->kind && j->kind->free_data)
                j->kind->free_data(j->data);
        g_ptr_array_unref(j->log_readers);
        g_free(j->kind_name);
        g_free(j->target);
        g_free(j->owner);
        g_free(j->path);
        g_free(j->message);
        g_free(j);
}

static Job *job_alloc(Manager *m, const StoreJob *row) {
        Job *j = g_new0(Job, 1);

        j->manager = m;
        j->id = row->id;
        j->kind = manager_find_job_kind(m, row->kind);
        j->kind_name = g_strdup(row->kind);
        j->target = g_strdup(row->target);
        j->owner = g_strdup(row->owner);
        j->state = job_state_from_string(row->state);
        j->message = g_strdup(row->message ? row->message : "");
        j->attempts = row->attempts;
        j->created = row->created;
        j->started = row->started;
        j->finished = row->finished;
        j->progress = j->state == JOB_SUCCEEDED ? 1.0 : 0.0;
        j->path = g_strdup_printf(L4M_JOB_PATH_PREFIX "/%" G_GUINT64_FORMAT, row->id);
        j->log_fd = -1;
        j->log_readers = g_ptr_array_new();
        return j;
}

static int job_persist(Job *j) {
        StoreJob row = {
                .id = j->id,
                .state = job_state_to_string(j->state),
                .message = j->message,
                .attempts = j->attempts,
                .started = j->started,
                .finished = j->finished,
        };
        int r = store_job_update(j->manager->db, &row);

        if (r < 0)
                log_error_errno(r, "Cannot record the state of job %" G_GUINT64_FORMAT ": %s", j->id, STRERROR(r));
        return r;
}

static void prune_owner_history(Manager *m, const char *owner);

void job_schedule_dispatch(Manager *m) {
        if (m->job_dispatch)
                (void) sd_event_source_set_enabled(m->job_dispatch, SD_EVENT_ONESHOT);
}

Job *manager_find_active_job_for(Manager *m, const char *target) {
        GHashTableIter it;
        gpointer value;

        g_hash_table_iter_init(&it, m->jobs_by_id);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                Job *j = value;
                if (job_state_is_active(j->state) && strcmp(j->target, target) == 0)
                        return j;
        }
        return NULL;
}

int job_submit(Manager *m, const JobKind *kind, const char *target, const char *owner,
               void *data, Job **ret) {
        StoreJob row = {
                .kind = kind->name,
                .target = target,
                .owner = owner,
                .state = job_state_to_string(JOB_QUEUED),
                .created = (uint64_t) g_get_real_time(),
        };
        Job *j;
        int r;

        assert(m);
        assert(kind);

        if (manager_find_active_job_for(m, target)) {
                r = -EBUSY;
                goto fail;
        }
        prune_owner_history(m, owner);

        r = store_job_insert(m->db, &row, &row.id);
        if (r < 0)
                goto fail;

        j = job_alloc(m, &row);
        j->data = data;
        r = job_log_open(j);
        if (r < 0) {
                (void) store_job_delete(m->db, j->id);
                job_free(j);
                return r;
        }
        g_hash_table_insert(m->jobs_by_id, &j->id, j);

        job_emit_new(j);
        log_struct_errno(LOG_INFO, 0, ((const char *[]) { "L4M_EVENT=job-queued", NULL }),
                         "Job %" G_GUINT64_FORMAT " (%s on %s) queued for %s.", j->id, kind->name, target, owner);
        job_schedule_dispatch(m);
        if (ret)
                *ret = j;
        return 0;

fail:
        if (data && kind->free_data)
                kind->free_data(data);
        return r;
}

static void job_start(Job *j) {
        int r;

        j->state = JOB_RUNNING;
        j->started = (uint64_t) g_get_real_time();
        j->attempts++;
        (void) job_persist(j);
        job_emit_changed(j, "State", "Started", NULL);
        job_log(j, "Started (attempt %u).", j->attempts);

        r = j->kind->start(j);
        if (r < 0 && j->state == JOB_RUNNING)
                job_finish(j, r, "Could not start: %s", STRERROR(r));
}

/* Running jobs, all of them (kind NULL) or of one kind. */
static unsigned count_running(Manager *m, const JobKind *kind) {
        GHashTableIter it;
        gpointer value;
        unsigned n = 0;

        g_hash_table_iter_init(&it, m->jobs_by_id);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                Job *j = value;
                if (j->state == JOB_RUNNING && (!kind || j->kind == kind))
                        n++;
        }
        return n;
}

/* The oldest queued job whose kind has room for one more. */
static Job *oldest_startable(Manager *m) {
        GHashTableIter it;
        gpointer value;
        Job *best = NULL;

        g_hash_table_iter_init(&it, m->jobs_by_id);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                Job *j = value;
                if (j->state != JOB_QUEUED || (best && j->id > best->id))
                        continue;
                if (j->kind->may_start) {
                        if (!j->kind->may_start(m, count_running(m, j->kind)))
                                continue;
                } else if (j->kind->max_running > 0 && count_running(m, j->kind) >= j->kind->max_running)
                        continue;
                best = j;
        }
        return best;
}

static int on_job_dispatch(sd_event_source *s, void *userdata) {
        Manager *m = userdata;
        Job *j;

        while (count_running(m, NULL) < m->config->jobs_max_running && (j = oldest_startable(m)))
                job_start(j);
        return 0;
}

static void job_flush_progress(Job *j) {
        (void) sd_event_source_set_enabled(j->progress_timer, SD_EVENT_OFF);
        j->progress_sent_usec = g_get_monotonic_time();
        job_emit_changed(j, "Progress", NULL);
}

static int on_progress_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        job_flush_progress(userdata);
        return 0;
}

void job_set_progress(Job *j, double fraction) {
        int64_t now, due;
        int r;

        fraction = CLAMP(fraction, 0.0, 1.0);
        if (j->state != JOB_RUNNING || fraction == j->progress)
                return;
        j->progress = fraction;

        now = g_get_monotonic_time();
        due = j->progress_sent_usec + JOB_PROGRESS_INTERVAL_USEC;
        if (now >= due) {
                job_flush_progress(j);
                return;
        }

        /* Coalesce: one PropertiesChanged when the interval is over. */
        if (!j->progress_timer) {
                r = sd_event_add_time(j->manager->event, &j->progress_timer, CLOCK_MONOTONIC,
                                      (uint64_t) due, 10 * 1000, on_progress_timer, j);
                if (r < 0) {
                        job_flush_progress(j);
                        return;
                }
        } else
                (void) sd_event_source_set_time(j->progress_timer, (uint64_t) due);
        (void) sd_event_source_set_enabled(j->progress_timer, SD_EVENT_ONESHOT);
}

void job_log(Job *j, const char *format, ...) {
        g_autofree char *line = NULL;
        va_list ap;

        va_start(ap, format);
        line = g_strdup_vprintf(format, ap);
        va_end(ap);

        g_autofree char *text = g_strconcat(line, "\n", NULL);
        job_log_append(j, text, strlen(text));
}

void job_finish(Job *j, int r, const char *format, ...) {
        g_autofree char *message = NULL;
        va_list ap;

        assert(j->state == JOB_RUNNING || j->state == JOB_QUEUED);

        if (format) {
                va_start(ap, format);
                message = g_strdup_vprintf(format, ap);
                va_end(ap);
        } else
                message = g_strdup(r == 0 ? "Done." : r == -ECANCELED ? "Cancelled." : STRERROR(r));
        if (strlen(message) > JOB_MESSAGE_MAX)
                message[JOB_MESSAGE_MAX] = '\0';
        /* It becomes a D-Bus string: whatever the work reported (and the
         * cut above), it must be UTF-8. */
        if (!g_utf8_validate(message, -1, NULL)) {
                char *valid = g_utf8_make_valid(message, -1);
                g_free(message);
                message = valid;
        }

        j->state = r == 0 ? JOB_SUCCEEDED : r == -ECANCELED ? JOB_CANCELLED : JOB_FAILED;
        j->finished = (uint64_t) g_get_real_time();
        g_free(j->message);
        j->message = g_steal_pointer(&message);
        if (j->state == JOB_SUCCEEDED)
                j->progress = 1.0;
        if (j->data && j->kind && j->kind->free_data)
                j->kind->free_data(j->data);
        j->data = NULL;

        (void) job_persist(j);
        job_log(j, "Finished: %s: %s", job_state_to_string(j->state), j->message);
        job_log_close(j);

        job_flush_progress(j);
        job_emit_changed(j, "State", "Message", "Finished", NULL);
        job_emit_removed(j);
        log_struct_errno(j->state == JOB_FAILED ? LOG_WARNING : LOG_INFO, 0,
                         ((const char *[]) { "L4M_EVENT=job-finished", NULL }),
                         "Job %" G_GUINT64_FORMAT " (%s on %s) %s: %s", j->id, j->kind_name, j->target,
                         job_state_to_string(j->state), j->message);
        job_schedule_dispatch(j->manager);
}

int job_cancel(Job *j, char **ret_problem) {
        if (!job_state_is_active(j->state))
                return problem_setf(ret_problem, -EINVAL, "Job %" G_GUINT64_FORMAT " has already %s.", j->id,
                                    job_state_to_string(j->state));
        if (j->state == JOB_QUEUED) {
                job_finish(j, -ECANCELED, "Cancelled before it started.");
                return 0;
        }
        if (j->cancel_requested)
                return 0;
        j->cancel_requested = true;
        job_log(j, "Cancellation requested.");
        if (j->kind->cancel)
                j->kind->cancel(j);
        return 0;
}

Job *manager_find_job_by_path(Manager *m, const char *path) {
        const char *p;
        uint64_t id;

        p = g_str_has_prefix(path, L4M_JOB_PATH_PREFIX "/") ? path + strlen(L4M_JOB_PATH_PREFIX "/") : NULL;
        if (!p || !g_ascii_string_to_unsigned(p, 10, 1, G_MAXUINT64, &id, NULL) || p[0] == '0')
                return NULL;
        return g_hash_table_lookup(m->jobs_by_id, &id);
}

int job_state_filter_from_string(const char *s, int *ret, char **ret_problem) {
        JobState state;

        assert(s);
        assert(ret);

        if (strcmp(s, "active") == 0) {
                *ret = JOB_STATE_FILTER_ACTIVE;
                return 0;
        }
        if (strcmp(s, "finished") == 0) {
                *ret = JOB_STATE_FILTER_FINISHED;
                return 0;
        }
        state = job_state_from_string(s);
        if (state < 0)
                return problem_setf(ret_problem, -EINVAL,
                                    "\"%.64s\" is not a job state: use active, finished, queued, running, "
                                    "succeeded, failed or cancelled.", s);
        *ret = state;
        return 0;
}

static int check_query_string(const char *what, const char *s, char **ret_problem) {
        if (!s)
                return 0;
        if (s[0] == '\0')
                return problem_setf(ret_problem, -EINVAL, "The %s to look for is empty.", what);
        if (strnlen(s, JOB_QUERY_STRING_MAX + 1) > JOB_QUERY_STRING_MAX)
                return problem_setf(ret_problem, -EINVAL, "The %s to look for is longer than %u bytes.", what,
                                    JOB_QUERY_STRING_MAX);
        return 0;
}

int job_query_check(const JobQuery *q, char **ret_problem) {
        int r;

        assert(q);

        if (q->limit < 1 || q->limit > JOB_QUERY_LIMIT_MAX)
                return problem_setf(ret_problem, -EINVAL, "A page holds 1 to %u jobs, not %u.", JOB_QUERY_LIMIT_MAX,
                                    q->limit);
        r = check_query_string("target", q->target, ret_problem);
        if (r >= 0)
                r = check_query_string("owner", q->owner, ret_problem);
        if (r >= 0)
                r = check_query_string("kind", q->kind, ret_problem);
        return r;
}

bool job_query_matches(const JobQuery *q, const Job *j) {
        assert(q);
        assert(j);

        if (q->before > 0 && j->id >= q->before)
                return false;
        if (q->target && strcmp(q->target, j->target) != 0)
                return false;
        if (q->owner && strcmp(q->owner, j->owner) != 0)
                return false;
        if (q->kind && strcmp(q->kind, j->kind_name) != 0)
                return false;
        switch (q->state) {
        case JOB_STATE_FILTER_ANY:
                return true;
        case JOB_STATE_FILTER_ACTIVE:
                return job_state_is_active(j->state);
        case JOB_STATE_FILTER_FINISHED:
                return !job_state_is_active(j->state);
        default:
                return (int) j->state == q->state;
        }
}

/* A min-heap of jobs by id: the root is the oldest kept. */
static void heap_swap(Job **heap, size_t a, size_t b) {
        Job *t = heap[a];

        heap[a] = heap[b];
        heap[b] = t;
}

static void heap_sift_down(Job **heap, size_t n, size_t i) {
        for (;;) {
                size_t l = 2 * i + 1, r = l + 1, min = i;

                if (l < n && heap[l]->id < heap[min]->id)
                        min = l;
                if (r < n && heap[r]->id < heap[min]->id)
                        min = r;
                if (min == i)
                        return;
                heap_swap(heap, i, min);
                i = min;
        }
}

static void heap_sift_up(Job **heap, size_t i) {
        while (i > 0) {
                size_t parent = (i - 1) / 2;

                if (heap[parent]->id <= heap[i]->id)
                        return;
                heap_swap(heap, i, parent);
                i = parent;
        }
}

static gint job_compare_by_id_desc(gconstpointer a, gconstpointer b) {
        uint64_t x = (*(Job *const *) a)->id, y = (*(Job *const *) b)->id;
        return (x < y) - (x > y);
}

GPtrArray *manager_query_jobs(Manager *m, const JobQuery *q, JobVisibleFunc visible, void *userdata,
                              uint64_t *ret_next) {
        size_t capacity, n = 0;
        g_autofree Job **heap = NULL;
        GPtrArray *result;
        GHashTableIter it;
        gpointer value;

        assert(m);
        assert(q);
        assert(q->limit >= 1 && q->limit <= JOB_QUERY_LIMIT_MAX);
        assert(ret_next);

        /* One more than a page tells whether there is a next one. */
        capacity = (size_t) q->limit + 1;
        heap = g_new(Job *, capacity);

        g_hash_table_iter_init(&it, m->jobs_by_id);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                Job *j = value;

                if (n == capacity && j->id <= heap[0]->id)
                        continue;
                if (!job_query_matches(q, j) || (visible && !visible(j, userdata)))
                        continue;
                if (n < capacity) {
                        heap[n] = j;
                        heap_sift_up(heap, n++);
                } else {
                        heap[0] = j;
                        heap_sift_down(heap, n, 0);
                }
        }

        result = g_ptr_array_sized_new((guint) n);
        for (size_t i = 0; i < n; i++)
                g_ptr_array_add(result, heap[i]);
        g_ptr_array_sort(result, job_compare_by_id_desc);

        *ret_next = 0;
        if (result->len > q->limit) {
                g_ptr_array_set_size(result, q->limit);
                *ret_next = ((Job *) result->pdata[q->limit - 1])->id;
        }
        return result;
}

static void job_set_message(Job *j, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void job_set_message(Job *j, const char *format, ...) {
        va_list ap;

        g_free(j->message);
        va_start(ap, format);
        j->message = g_strdup_vprintf(format, ap);
        va_end(ap);
}

/* A job that was queued or running when the daemon stopped. */
static void job_recover(Job *j) {
        int r;

        if (!j->kind)
                job_set_message(j, "Unknown job kind \"%s\".", j->kind_name);
        else if (j->state == JOB_RUNNING && j->kind->resume) {
                /* manager_resume_jobs() picks it up once the bus is there. */
                (void) job_log_open(j);
                return;
        } else if (!j->kind->restartable)
                job_set_message(j, "Interrupted by a restart of the daemon.");
        else if (j->attempts >= JOB_ATTEMPTS_MAX)
                job_set_message(j, "Interrupted by a restart of the daemon %u times; not trying again.", j->attempts);
        else if ((r = j->kind->restore(j)) < 0)
                job_set_message(j, "Cannot resume after a restart: %s", STRERROR(r));
        else {
                j->state = JOB_QUEUED;
                (void) job_persist(j);
                (void) job_log_open(j);
                job_log(j, "The daemon restarted; queued again.");
                log_info("Job %" G_GUINT64_FORMAT " (%s on %s) queued again after a restart.",
                         j->id, j->kind_name, j->target);
                return;
        }

        j->state = JOB_FAILED;
        j->finished = (uint64_t) g_get_real_time();
        (void) job_persist(j);
        if (job_log_open(j) >= 0) {
                job_log(j, "Finished: failed: %s", j->message);
                job_log_close(j);
        }
        log_warning("Job %" G_GUINT64_FORMAT " (%s on %s) failed: %s", j->id, j->kind_name, j->target, j->message);
}

static int load_job_row(const StoreJob *row, void *userdata) {
        Manager *m = userdata;
        Job *j = job_alloc(m, row);

        if (j->state == _JOB_STATE_INVALID) {
                log_error("Skipping job row %" G_GUINT64_FORMAT ": unknown state \"%s\".", row->id, row->state);
                job_free(j);
                return 0;
        }
        g_hash_table_insert(m->jobs_by_id, &j->id, j);
        if (job_state_is_active(j->state))
                job_recover(j);
        return 0;
}

static int on_prune_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        manager_prune_jobs(m);
        (void) sd_event_source_set_time_relative(s, JOB_PRUNE_INTERVAL_USEC);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        return 0;
}

/* Removes a finished job for good: row, log and object. */
static int job_forget(Job *j) {
        Manager *m = j->manager;
        g_autofree char *log_name = g_strdup_printf("%" G_GUINT64_FORMAT ".log", j->id);
        int r;

        assert(!job_state_is_active(j->state));
        r = store_job_delete(m->db, j->id);
        if (r < 0)
                return r;
        if (unlinkat(m->jobs_fd, log_name, 0) < 0 && errno != ENOENT)
                log_warning_errno(errno, "Cannot remove jobs/%s: %s", log_name, STRERROR(errno));
        if (m->bus)
                (void) sd_bus_emit_object_removed(m->bus, j->path);
        g_hash_table_remove(m->jobs_by_id, &j->id);
        return 0;
}

/* Keeps one owner's history bounded however fast it makes jobs: beyond
 * JOB_RETAINED_PER_OWNER_MAX, its oldest finished jobs go early. */
static void prune_owner_history(Manager *m, const char *owner) {
        GHashTableIter it;
        gpointer value;
        unsigned n = 0;
        Job *oldest = NULL;

        g_hash_table_iter_init(&it, m->jobs_by_id);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                Job *j = value;
                if (strcmp(j->owner, owner) != 0)
                        continue;
                n++;
                if (!job_state_is_active(j->state) && (!oldest || j->id < oldest->id))
                        oldest = j;
        }
        if (n >= JOB_RETAINED_PER_OWNER_MAX && oldest)
                (void) job_forget(oldest);
}

void manager_prune_jobs(Manager *m) {
        uint64_t now = (uint64_t) g_get_real_time();
        uint64_t keep = (uint64_t) m->config->jobs_retain_days * USEC_PER_DAY;
        g_autoptr(GPtrArray) old = g_ptr_array_new();
        GHashTableIter it;
        gpointer value;

        g_hash_table_iter_init(&it, m->jobs_by_id);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                Job *j = value;
                if (!job_state_is_active(j->state) && j->finished + keep <= now)
                        g_ptr_array_add(old, j);
        }

        for (guint i = 0; i < old->len; i++)
                (void) job_forget(old->pdata[i]);
        if (old->len > 0)
                log_info("Pruned %u finished job(s) older than %u day(s).", old->len, m->config->jobs_retain_days);
}

/* Logs of rows that are gone, and half-written cuts, left by a crash. */
static void manager_sweep_job_logs(Manager *m) {
        _cleanup_close_ int fd = fcntl(m->jobs_fd, F_DUPFD_CLOEXEC, 3);
        g_autoptr(GPtrArray) stray = g_ptr_array_new_with_free_func(g_free);
        struct dirent *de;
        DIR *d;

        if (fd < 0 || !(d = fdopendir(fd)))
                return;
        l4m_take_fd(&fd);
        while ((de = readdir(d))) {
                g_autofree char *digits = NULL;
                uint64_t id;

                if (de->d_name[0] == '.' && (de->d_name[1] == '\0' || strcmp(de->d_name, "..") == 0))
                        continue;
                if (g_str_has_suffix(de->d_name, ".log")) {
                        digits = g_strndup(de->d_name, strlen(de->d_name) - strlen(".log"));
                        if (g_ascii_string_to_unsigned(digits, 10, 1, G_MAXUINT64, &id, NULL) &&
                            g_hash_table_contains(m->jobs_by_id, &id))
                                continue;
                }
                g_ptr_array_add(stray, g_strdup(de->d_name));
        }
        closedir(d);

        for (guint i = 0; i < stray->len; i++)
                if (unlinkat(m->jobs_fd, stray->pdata[i], 0) >= 0)
                        log_info("Removed jobs/%s: no job refers to it.", (char *) stray->pdata[i]);
}

void manager_resume_jobs(Manager *m) {
        g_autoptr(GPtrArray) running = g_ptr_array_new();
        GHashTableIter it;
        gpointer value;

        g_hash_table_iter_init(&it, m->jobs_by_id);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                Job *j = value;
                if (j->state == JOB_RUNNING && j->kind && j->kind->resume && !j->data)
                        g_ptr_array_add(running, j);
        }

        for (guint i = 0; i < running->len; i++) {
                Job *j = running->pdata[i];
                int r;

                /* resume() shares the log again first: written to before, it
                 * could be cut while the kind's unit still appends to it. */
                r = j->kind->resume(j);
                if (r < 0) {
                        if (j->state == JOB_RUNNING)
                                job_finish(j, r, "Cannot pick the job up after a restart of the daemon: %s", STRERROR(r));
                        continue;
                }
                job_log(j, "The daemon restarted; picked the job up again.");
                log_info("Job %" G_GUINT64_FORMAT " (%s on %s) picked up again after a restart.",
                         j->id, j->kind_name, j->target);
        }
}

int manager_load_jobs(Manager *m) {
        int r;

        r = sd_event_add_defer(m->event, &m->job_dispatch, on_job_dispatch, m);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the job dispatcher: %s", STRERROR(r));
        (void) sd_event_source_set_enabled(m->job_dispatch, SD_EVENT_OFF);
        (void) sd_event_source_set_description(m->job_dispatch, "job-dispatch");

        r = store_job_foreach(m->db, load_job_row, m);
        if (r < 0)
                return log_error_errno(r, "Cannot load jobs: %s", STRERROR(r));

        manager_prune_jobs(m);
        manager_sweep_job_logs(m);
        r = sd_event_add_time_relative(m->event, &m->job_prune_timer, CLOCK_MONOTONIC,
                                       JOB_PRUNE_INTERVAL_USEC, 60 * G_USEC_PER_SEC, on_prune_timer, m);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the job pruning timer: %s", STRERROR(r));

        job_schedule_dispatch(m);
        return 0;
}
