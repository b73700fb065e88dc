/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/jobs/: the job engine: queued work with progress, a bounded log, cancellation and retention. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "manager.h"

/* Jobs: every long operation. A job is a row (state transitions only), an
 * object /org/left4me/Manager/job/<id> and a log file jobs/<id>.log.
 *
 * The engine runs at most [Jobs] MaxRunning jobs at once, in submission
 * order, and at most one active (queued or running) job per target: a
 * second submission for the same target is refused with -EBUSY.
 *
 * A job kind does the work. start() begins it on the event loop; the work
 * then reports with job_set_progress() and job_log() and ends with exactly
 * one job_finish(). cancel() asks running work to stop; it still ends with
 * job_finish(j, -ECANCELED, ...), at once or later.
 *
 * After a daemon restart, jobs that were queued or running are queued again
 * if their kind is restartable and they have been started fewer than
 * JOB_ATTEMPTS_MAX times (the kind's restore() rebuilds their data from
 * the target); all others fail with a message saying why. Kinds whose work
 * runs outside the daemon (a systemd unit) have resume() instead for jobs
 * that were running: it finds the work again once the bus is connected,
 * and the job goes on running. */

typedef enum JobState {
        JOB_QUEUED,
        JOB_RUNNING,
        JOB_SUCCEEDED,
        JOB_FAILED,
        JOB_CANCELLED,
        _JOB_STATE_MAX,
        _JOB_STATE_INVALID = -1,
} JobState;

#define JOB_ATTEMPTS_MAX 2u
/* Log files are cut back to JOB_LOG_KEEP bytes (oldest lines dropped, a
 * marker put in their place) whenever they grow past JOB_LOG_MAX. */
#define JOB_LOG_MAX (1024u * 1024u)
#define JOB_LOG_KEEP (512u * 1024u)
/* Readers of one job's log at once (OpenLog). */
#define JOB_LOG_READERS_MAX 64u
/* Jobs one owner keeps (active and history); the oldest finished one goes
 * when a new one would exceed it. */
#define JOB_RETAINED_PER_OWNER_MAX 500u
/* Progress reaches the bus at most this often per job. */
#define JOB_PROGRESS_INTERVAL_USEC (100 * 1000)

typedef struct Job Job;
typedef struct JobLogReader JobLogReader;

typedef struct JobKind {
        const char *name;
        /* The polkit action with which the owner may cancel it. */
        const char *action;
        bool restartable;
        int (*start)(Job *j);
        void (*cancel)(Job *j);
        /* For restartable kinds: set up j->data again from j->target. */
        int (*restore)(Job *j);
        /* For jobs that were running when the daemon stopped: set up j->data
         * from j->target and pick up the work where it is. */
        int (*resume)(Job *j);
        void (*free_data)(void *data);
        /* For kinds whose unit appends to the log (job_log_share()): called
         * when the file grew, before old output is punched out, while the
         * job has data. It may read the file and report progress; it must
         * not write the log nor finish the job. */
        void (*log_grew)(Job *j);
        /* Jobs of this kind that may run at once (0: only [Jobs] MaxRunning counts). */
        unsigned max_running;
        /* Instead of max_running, for kinds whose bound is configured or
         * depends on more than their running jobs: may one more start now,
         * with running of them running? The kind calls
         * job_schedule_dispatch() when the answer may have become yes. */
        bool (*may_start)(Manager *m, unsigned running);
} JobKind;

struct Job {
        Manager *manager;
        uint64_t id;
        const JobKind *kind;    /* NULL for history rows of a kind this daemon does not know */
        char *kind_name;
        char *target;
        char *owner;
        char *path;
        JobState state;
        double progress;
        char *message;
        unsigned attempts;
        uint64_t created, started, finished;
        void *data;

        int log_fd;                     /* append-only, -1 once finished */
        uint64_t log_size;              /* bytes in the file */
        uint64_t log_dropped;           /* bytes of output cut from the front so far */
        uint64_t log_data_start;        /* file offset of stream position log_dropped: past
                                         * the marker a cut left, or past punched holes */
        bool log_shared;                /* a unit appends to the file too */
        sd_event_source *log_watch;     /* inotify on the file while shared */
        bool log_punch_failed;          /* warned once already */
        unsigned log_generation;        /* bumped when the file is replaced */
        GPtrArray *log_readers;         /* JobLogReader* */

        sd_event_source *progress_timer;
        int64_t progress_sent_usec;
        bool cancel_requested;
};

const char *job_state_to_string(JobState s);
JobState job_state_from_string(const char *s);
static inline bool job_state_is_active(JobState s) {
        return s == JOB_QUEUED || s == JOB_RUNNING;
}

/* Kinds are registered by the modules that implement them, before
 * manager_load_jobs() (which needs them to resume interrupted jobs). */
void manager_register_job_kind(Manager *m, const JobKind *kind);
const JobKind *manager_find_job_kind(Manager *m, const char *name);

/* Queues a new job; takes ownership of data (freed with kind->free_data on
 * every path). -EBUSY if target has an active job already. */
int job_submit(Manager *m, const JobKind *kind, const char *target, const char *owner,
               void *data, Job **ret);

/* Looks for queued jobs that can start now (soon, from the event loop). */
void job_schedule_dispatch(Manager *m);

void job_set_progress(Job *j, double fraction);
void job_log(Job *j, const char *format, ...) __attribute__((format(printf, 2, 3)));
/* r == 0: succeeded; -ECANCELED: cancelled; else failed. message may be NULL. */
void job_finish(Job *j, int r, const char *format, ...) __attribute__((format(printf, 3, 4)));
/* Cancels a queued job at once, asks a running one to stop (again is
 * fine). -EINVAL, with a text (problem.h), if it has ended already. */
int job_cancel(Job *j, char **ret_problem);

/* QueryJobs: which jobs, newest first. Strings borrow from the caller; NULL
 * matches anything. */
#define JOB_QUERY_LIMIT_DEFAULT 100u
#define JOB_QUERY_LIMIT_MAX 1000u
/* Longest filter string the query takes (target, owner, kind). */
#define JOB_QUERY_STRING_MAX 512u

typedef enum JobStateFilter {
        JOB_STATE_FILTER_ANY = -1,
        JOB_STATE_FILTER_ACTIVE = _JOB_STATE_MAX,  /* queued or running */
        JOB_STATE_FILTER_FINISHED,                 /* any end state */
        /* 0.._JOB_STATE_MAX-1: exactly that JobState */
} JobStateFilter;

typedef struct JobQuery {
        const char *target;
        const char *owner;
        const char *kind;
        int state;              /* a JobStateFilter or a JobState */
        unsigned limit;         /* 1..JOB_QUERY_LIMIT_MAX */
        uint64_t before;        /* only ids below it; 0: no bound */
} JobQuery;

#define JOB_QUERY_INIT { .state = JOB_STATE_FILTER_ANY, .limit = JOB_QUERY_LIMIT_DEFAULT }

/* "active", "finished" or a state name; -EINVAL with a text otherwise. */
int job_state_filter_from_string(const char *s, int *ret, char **ret_problem);
/* The checks of the query's values the bus does not do by type: limit in
 * range, strings neither empty nor longer than JOB_QUERY_STRING_MAX. */
int job_query_check(const JobQuery *q, char **ret_problem);
bool job_query_matches(const JobQuery *q, const Job *j);

/* The newest jobs (id descending) that match q and that visible() accepts
 * (NULL: all), at most q->limit of them, found without sorting them all
 * (a heap of q->limit + 1 entries). *ret_next is the id to pass as before
 * for the next page, 0 when no further job matches. */
typedef bool (*JobVisibleFunc)(const Job *j, void *userdata);
GPtrArray *manager_query_jobs(Manager *m, const JobQuery *q, JobVisibleFunc visible, void *userdata,
                              uint64_t *ret_next);

Job *manager_find_job_by_path(Manager *m, const char *path);
Job *manager_find_active_job_for(Manager *m, const char *target);

/* At start: loads job rows, recovers interrupted jobs, prunes old ones. */
int manager_load_jobs(Manager *m);
/* Once the bus is connected: resume() for the jobs that were running. */
void manager_resume_jobs(Manager *m);
/* Removes finished jobs older than [Jobs] RetainDays (rows, logs, objects). */
void manager_prune_jobs(Manager *m);
void job_free(Job *j);

/* job-log.c: the log file and OpenLog readers. */
int job_log_open(Job *j);
void job_log_append(Job *j, const char *data, size_t size);
void job_log_close(Job *j);
/* The file is appended to by another process too (a unit's output): the
 * daemon watches it grow, and bounds it by punching out old output instead
 * of replacing the file. Unshared when the job closes its log. */
int job_log_share(Job *j);
void job_log_unshare(Job *j);
/* Returns the read end of a pipe that gets the log from the start and, with
 * follow, everything appended until the job ends. */
int job_log_reader_new(Job *j, bool follow, int *ret_fd);
void job_log_readers_wake(Job *j);
void job_log_readers_detach(Job *j);

/* job-bus.c */
extern const sd_bus_vtable job_vtable[];
/* ListJobs, GetJob and the JobNew/JobRemoved signals on the manager. */
extern const sd_bus_vtable job_manager_vtable[];
int job_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                    void **ret_found, sd_bus_error *error);
int job_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***ret_nodes,
                        sd_bus_error *error);
void job_emit_changed(Job *j, const char *property, ...) G_GNUC_NULL_TERMINATED;
void job_emit_new(Job *j);
void job_emit_removed(Job *j);
