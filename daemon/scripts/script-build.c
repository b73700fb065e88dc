/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/scripts/: script overlays: the owner's script run in its sandbox unit, as a job. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs-util.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "owner-quota.h"
#include "script-build.h"
#include "script-uids.h"
#include "script-unit.h"
#include "store.h"
#include "systemd-unit.h"
#include "tree-copy.h"
#include "worker.h"

/* Signals can be lost to a restart of systemd or dbus; look now and then. */
#define SCRIPT_RECHECK_USEC (30 * G_USEC_PER_SEC)

struct ScriptBuild {
        Manager *manager;
        Job *job;
        uint64_t overlay_id;
        char *unit;
        char *script_file;              /* below jobs/ */
        bool has_uid;
        uid_t uid;                      /* the run's, held until its unit is gone */
        Worker *chowner;                /* handing the overlay to uid */
        int chown_fd;                   /* the overlay's directory, for the chowner */
        UnitWatch *watch;
        sd_bus_slot *start_call;
        bool unit_started;
        sd_event_source *recheck;

        /* the outcome, once the unit ended */
        bool concluded;
        char *collect;                  /* "stop" or "reset": what the ended unit needs */
        int result;
        char *message;
        Worker *sizer;
        int sizer_fd;                   /* the overlay's directory, for the sizer */
        uint64_t size;
        OwnerQuotaWatch *quota;         /* [Overlays] OwnerMaxBytes=, NULL without */
};

static void script_build_free(void *data) {
        ScriptBuild *s = data;

        if (!s)
                return;
        s->sizer = worker_free(s->sizer);
        l4m_close_fdp(&s->sizer_fd);
        s->chowner = worker_free(s->chowner);
        l4m_close_fdp(&s->chown_fd);
        /* The job is over: the uid is free once the unit is gone. */
        if (s->has_uid)
                script_uid_run_ended(s->manager->script_uids, s->unit);
        owner_quota_watch_free(s->quota);
        unit_watch_free(s->watch);
        sd_bus_slot_unref(s->start_call);
        sd_event_source_disable_unref(s->recheck);
        if (s->script_file)
                (void) unlinkat(s->manager->jobs_fd, s->script_file, 0);
        g_free(s->script_file);
        g_free(s->unit);
        g_free(s->message);
        g_free(s->collect);
        g_free(s);
}

ScriptBuild *script_build_new(Overlay *o) {
        ScriptBuild *s = g_new0(ScriptBuild, 1);

        s->manager = o->manager;
        s->overlay_id = o->id;
        s->sizer_fd = -1;
        s->chown_fd = -1;
        return s;
}

static Overlay *script_build_overlay(ScriptBuild *s) {
        return g_hash_table_lookup(s->manager->overlays_by_id, &s->overlay_id);
}

static void script_build_end(ScriptBuild *s) {
        Job *j = s->job;
        Overlay *o = script_build_overlay(s);
        g_autofree char *message = g_steal_pointer(&s->message);
        int r = s->result;

        if (o) {
                if (r == 0)
                        overlay_set_state(o, OVERLAY_STATE_READY, (uint64_t) g_get_real_time(), s->size);
                else {
                        /* A script that never ran (its unit refused, the
                         * overlay not handed over) left the content as it
                         * was; one that ran changed it in place. */
                        g_autofree char *state = g_strdup(overlay_state_after_failure(o, r, !s->unit_started));

                        overlay_set_state(o, state, o->last_build, s->size);
                }
        }

        /* The unit goes only once the job's end is recorded: were the daemon
         * to stop before, it finds the outcome again on its next start. */
        {
                g_autofree char *unit = g_strdup(s->unit);
                g_autofree char *collect = g_steal_pointer(&s->collect);
                Manager *m = s->manager;

                job_finish(j, r, "%s", message);        /* frees s */
                if (collect && strcmp(collect, "reset") == 0)
                        (void) unit_reset_failed(m->bus, unit);
                else if (collect)
                        (void) unit_stop(m->bus, unit);
        }
}

static int size_overlay(void *userdata) {
        ScriptBuild *s = userdata;
        return tree_size(s->sizer_fd, &s->size);
}

static void on_sized(Worker *w, int r, void *userdata) {
        ScriptBuild *s = userdata;

        s->sizer = worker_free(s->sizer);
        if (r == -ELOOP && s->result == 0) {
                /* Nothing of ours walks such a tree; no game needs one. */
                s->result = -ELOOP;
                g_free(s->message);
                s->message = g_strdup_printf("Script left directories nested more than %u deep; "
                                             "wipe the overlay and keep it flatter.", TREE_COPY_MAX_DEPTH);
        } else if (r < 0)
                job_log(s->job, "Cannot measure the overlay's size: %s", STRERROR(r));
        else
                job_log(s->job, "The overlay holds %" G_GUINT64_FORMAT " bytes in files.", s->size);
        owner_quota_watch_verdict(s->quota, r >= 0 ? s->size : 0, &s->result, &s->message);
        script_build_end(s);
}

/* The outcome is known: measure what the script left, then finish. */
static void script_build_conclude(ScriptBuild *s, int result, const char *format, ...) G_GNUC_PRINTF(3, 4);
static void script_build_conclude(ScriptBuild *s, int result, const char *format, ...) {
        g_autofree char *dir = g_strdup_printf("%" G_GUINT64_FORMAT, s->overlay_id);
        va_list ap;
        int r;

        /* Once: a late start reply and the watch may both report. */
        if (s->concluded)
                return;
        s->concluded = true;
        s->result = result;
        va_start(ap, format);
        s->message = g_strdup_vprintf(format, ap);
        va_end(ap);
        s->recheck = sd_event_source_disable_unref(s->recheck);
        s->watch = unit_watch_free(s->watch);
        s->start_call = sd_bus_slot_unref(s->start_call);

        /* Sized by a thread, never following what the script planted. */
        s->sizer_fd = openat(s->manager->overlays_fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (s->sizer_fd >= 0) {
                r = worker_start(s->manager->event, "script-size", size_overlay, on_sized, s, &s->sizer);
                if (r >= 0)
                        return;
        }
        script_build_end(s);
}

static const char *signal_name(int sig) {
        const char *abbrev = sigabbrev_np(sig);
        return abbrev ? abbrev : "?";
}

/* What the unit's end means for the job: 0, -ECANCELED or a failure, and
 * the job's message. */
static int describe_outcome(ScriptBuild *s, const UnitOutcome *o, char **ret_message) {
        bool cancelled = s->job->cancel_requested;

        if (o->gone || strcmp(o->active_state, "inactive") == 0) {
                if (cancelled) {
                        *ret_message = g_strdup("Cancelled.");
                        return -ECANCELED;
                }
                *ret_message = g_strdup_printf("The script's unit %s ended without an outcome left4me could read "
                                               "(stopped from outside, or the machine restarted).", s->unit);
                return -ESRCH;
        }
        /* A cancel that came after the script had finished changes nothing. */
        if (strcmp(o->active_state, "active") == 0 && strcmp(o->result, "success") == 0) {
                *ret_message = g_strdup("Script finished successfully.");
                return 0;
        }
        if (cancelled) {
                *ret_message = g_strdup("Cancelled.");
                return -ECANCELED;
        }
        if (strcmp(o->result, "timeout") == 0) {
                *ret_message = g_strdup_printf("Script timed out after %" G_GUINT64_FORMAT " s.",
                                               o->runtime_max_usec / G_USEC_PER_SEC);
                return -ETIME;
        }
        if (strcmp(o->result, "oom-kill") == 0) {
                *ret_message = g_strdup_printf("Script ran out of memory (MemoryMax=%" G_GUINT64_FORMAT " bytes).",
                                               o->memory_max);
                return -ENOMEM;
        }
        if (strcmp(o->result, "exit-code") == 0 && o->exec_main_code == CLD_EXITED &&
            o->exec_main_status >= 200 && o->exec_main_status <= 243) {
                /* Also systemd's codes for failing to set up the sandbox. */
                *ret_message = g_strdup_printf("Script exited with status %d (or systemd failed to set up its "
                                               "sandbox: journalctl -u %s tells).", (int) o->exec_main_status, s->unit);
                return -EPROTO;
        }
        if (strcmp(o->result, "exit-code") == 0 && o->exec_main_code == CLD_EXITED) {
                *ret_message = g_strdup_printf("Script exited with status %d.", (int) o->exec_main_status);
                return -EPROTO;
        }
        if (o->exec_main_code == CLD_KILLED || o->exec_main_code == CLD_DUMPED) {
                *ret_message = g_strdup_printf("Script was killed by signal SIG%s.", signal_name((int) o->exec_main_status));
                return -EINTR;
        }
        if (strcmp(o->result, "resources") == 0) {
                *ret_message = g_strdup_printf("systemd could not set up the script's sandbox (journalctl -u %s tells why).",
                                               s->unit);
                return -EIO;
        }
        *ret_message = g_strdup_printf("Script failed (systemd result \"%s\").", o->result);
        return -EIO;
}

static void on_unit_ended(UnitWatch *w, const UnitOutcome *o, void *userdata) {
        ScriptBuild *s = userdata;
        g_autofree char *message = NULL;
        int r;

        /* o points into the watch, which conclude frees: read it first. */
        if (!o->gone) {
                job_log(s->job, "%s ended: %s/%s, result %s.", s->unit, o->active_state, o->sub_state, o->result);
                /* After the job: a failed unit stays listed until reset, an
                 * exited one (RemainAfterExit) until stopped. */
                if (strcmp(o->active_state, "failed") == 0)
                        s->collect = g_strdup("reset");
                else if (strcmp(o->active_state, "active") == 0)
                        s->collect = g_strdup("stop");
        }
        r = describe_outcome(s, o, &message);
        script_build_conclude(s, r, "%s", message);
}

static int on_recheck(sd_event_source *source, uint64_t usec, void *userdata) {
        ScriptBuild *s = userdata;

        if (s->watch)
                unit_watch_check(s->watch);
        (void) sd_event_source_set_time_relative(source, SCRIPT_RECHECK_USEC);
        return 0;
}

/* Follows the unit and its output from now on; the unit may exist
 * already (a resumed job). */
static int script_build_follow(ScriptBuild *s) {
        int r;

        r = job_log_share(s->job);
        if (r < 0)
                return r;
        r = unit_watch_new(s->manager->bus, s->unit, on_unit_ended, s, &s->watch);
        if (r < 0)
                return r;
        if (script_build_overlay(s))
                s->quota = owner_quota_watch_new(script_build_overlay(s), s->job, s->unit);
        r = sd_event_add_time_relative(s->manager->event, &s->recheck, CLOCK_MONOTONIC, SCRIPT_RECHECK_USEC,
                                       G_USEC_PER_SEC, on_recheck, s);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(s->recheck, SD_EVENT_ON);
}

static int on_unit_started(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        ScriptBuild *s = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        s->start_call = sd_bus_slot_unref(s->start_call);
        if (e && (sd_bus_error_has_name(e, SD_BUS_ERROR_TIMEOUT) || sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY))) {
                /* systemd may have started it all the same: the watch knows. */
                job_log(s->job, "systemd did not answer the start in time (%s); waiting for the unit.", e->message);
                s->unit_started = true;
                unit_watch_check(s->watch);
                return 0;
        }
        if (e) {
                script_build_conclude(s, -EIO, "systemd did not start the script: %s", e->message);
                return 0;
        }
        s->unit_started = true;
        if (s->job->cancel_requested)
                (void) unit_stop(s->manager->bus, s->unit);
        unit_watch_check(s->watch);
        return 0;
}

/* The overlay's directory and all in it belong to the run's uid while the
 * script runs: what earlier runs wrote belongs to their uids. Handed over
 * by descriptor, never following what a script planted, and only what is
 * on the overlays' file system. No process of an earlier run's uid can
 * change the tree meanwhile: that uid is free only once its unit's cgroup
 * was empty, and a run holding it now sees no overlay but its own. */
static int chown_overlay(void *userdata) {
        ScriptBuild *s = userdata;
        int r;

        r = chown_tree_fd(s->chown_fd, CHOWN_TREE_ANY, (gid_t) CHOWN_TREE_ANY, s->uid, (gid_t) s->uid);
        if (r >= 0 && fchmod(s->chown_fd, 0755) < 0)
                r = -errno;
        return r;
}

/* The script, readable by the sandbox through a read-only bind. */
static int write_script_file(ScriptBuild *s, const char *script) {
        _cleanup_close_ int fd = -1;

        (void) unlinkat(s->manager->jobs_fd, s->script_file, 0);
        fd = openat(s->manager->jobs_fd, s->script_file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
        if (fd < 0)
                return -errno;
        if (fchmod(fd, 0444) < 0)
                return -errno;
        return write_all(fd, script, strlen(script));
}

static void script_build_bind(ScriptBuild *s, Job *j) {
        s->job = j;
        s->unit = script_unit_name(j->id);
        s->script_file = g_strdup_printf("%" G_GUINT64_FORMAT ".script", j->id);
}

static void on_chowned(Worker *w, int r, void *userdata);

static int script_build_start(Job *j) {
        ScriptBuild *s = j->data;
        Manager *m = s->manager;
        Overlay *o = script_build_overlay(s);
        const Config *c = m->config;
        g_autofree char *script = NULL, *dir = NULL;
        int r;

        script_build_bind(s, j);
        if (!o)
                return -ENOENT;
        r = store_overlay_get_script(m->db, o->id, &script);
        if (r < 0)
                return r;
        if (!*script) {
                job_finish(j, -EINVAL, "Overlay %s has no script.", o->name);
                return 0;
        }
        if (access(c->script_resolv_conf, R_OK) < 0) {
                job_finish(j, -errno, "[Script] ResolvConf=%s cannot be read: %s", c->script_resolv_conf, STRERROR(errno));
                return 0;
        }
        /* Free: may_start() said so. */
        r = script_uid_take(m->script_uids, s->unit, &s->uid);
        if (r < 0) {
                job_finish(j, r, "No user id for script runs (%u to %u) is ready for this one: %s",
                           c->script_first_uid, c->script_last_uid, STRERROR(r));
                return 0;
        }
        s->has_uid = true;

        dir = g_strdup_printf("%" G_GUINT64_FORMAT, s->overlay_id);
        s->chown_fd = openat(m->overlays_fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (s->chown_fd < 0)
                return log_error_errno(errno, "Cannot open overlays/%s: %s", dir, STRERROR(errno));
        r = write_script_file(s, script);
        if (r < 0)
                return log_error_errno(r, "Cannot write jobs/%s: %s", s->script_file, STRERROR(r));
        r = worker_start(m->event, "script-chown", chown_overlay, on_chowned, s, &s->chowner);
        if (r < 0)
                return r;
        overlay_set_state(o, OVERLAY_STATE_BUILDING, o->last_build, o->size);
        return 0;
}

/* The overlay is the run's: start its unit. */
static int script_build_launch(ScriptBuild *s) {
        Manager *m = s->manager;
        Job *j = s->job;
        Overlay *o = script_build_overlay(s);
        const Config *c = m->config;
        g_autofree char *overlay_dir = NULL, *script_path = NULL, *log_path = NULL;
        int r;

        if (!o)
                return -ENOENT;
        r = script_build_follow(s);
        if (r < 0)
                return r;

        overlay_dir = g_strdup_printf("%s/overlays/%" G_GUINT64_FORMAT, m->state_dir, o->id);
        script_path = g_strdup_printf("%s/jobs/%s", m->state_dir, s->script_file);
        log_path = g_strdup_printf("%s/jobs/%" G_GUINT64_FORMAT ".log", m->state_dir, j->id);
        ScriptUnitSpec spec = {
                .config = c,
                .overlay_dir = overlay_dir,
                .script_file = script_path,
                .log_file = log_path,
                .overlay_name = o->name,
                .job_id = j->id,
                .uid = s->uid,
                .file_size_max = owner_quota_watch_file_size_max(s->quota),
        };
        r = unit_start_transient(m->bus, s->unit, script_unit_properties, &spec, on_unit_started, s, &s->start_call);
        if (r < 0)
                return r;

        job_log(j, "Running the script of %s in %s as uid %u (RuntimeMaxSec=%" G_GUINT64_FORMAT ", TasksMax=%" G_GUINT64_FORMAT
                ", CPUQuota=%u%%).", o->name, s->unit, (unsigned) s->uid, c->script_runtime_max_sec, c->script_tasks_max,
                c->script_cpu_quota_percent);
        return 0;
}

static void on_chowned(Worker *w, int r, void *userdata) {
        ScriptBuild *s = userdata;

        s->chowner = worker_free(s->chowner);
        l4m_close_fdp(&s->chown_fd);
        s->chown_fd = -1;
        if (s->job->cancel_requested) {
                script_build_conclude(s, -ECANCELED, "Cancelled.");
                return;
        }
        if (r < 0) {
                script_build_conclude(s, r, "Cannot hand the overlay to the run's uid %u: %s", (unsigned) s->uid,
                                      STRERROR(r));
                return;
        }
        r = script_build_launch(s);
        if (r < 0)
                script_build_conclude(s, r, "Could not start the script's unit: %s", STRERROR(r));
}

static void script_build_cancel(Job *j) {
        ScriptBuild *s = j->data;

        /* While the overlay is handed over, on_chowned() ends the job;
         * before systemd answered the start, on_unit_started() stops it. */
        if (s->chowner)
                worker_cancel(s->chowner);
        else if (s->unit_started && s->watch)
                (void) unit_stop(s->manager->bus, s->unit);
}

static int script_build_restore(Job *j) {
        Overlay *o = manager_find_overlay_by_job_target(j->manager, j->target);

        if (!o)
                return -ENOENT;
        j->data = script_build_new(o);
        return 0;
}

static int script_build_resume(Job *j) {
        ScriptBuild *s;
        int r;

        r = script_build_restore(j);
        if (r < 0)
                return r;
        s = j->data;
        script_build_bind(s, j);
        /* Recovered from the unit's User= (script_uids_recover()). */
        s->has_uid = script_uid_of_unit(s->manager->script_uids, s->unit, &s->uid);
        s->unit_started = true;
        r = script_build_follow(s);
        if (r < 0)
                return r;
        unit_watch_check(s->watch);
        return 0;
}

/* [Script] MaxRunning= at once, each with a uid of its own. */
static bool script_build_may_start(Manager *m, unsigned running) {
        return running < m->config->script_max_running && script_uids_available(m->script_uids);
}

const JobKind script_build_kind = {
        .name = "script-build",
        .action = L4M_ACTION_SCRIPT_RUN,
        .restartable = true,
        .start = script_build_start,
        .cancel = script_build_cancel,
        .restore = script_build_restore,
        .resume = script_build_resume,
        .free_data = script_build_free,
        .may_start = script_build_may_start,
};
