/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/schedules/: schedules: records and rules, their timer units, what an elapse runs. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "backup.h"
#include "bus-util.h"
#include "game-install.h"
#include "instance.h"
#include "job.h"
#include "l4m-log.h"
#include "l4m-names.h"
#include "l4m-util.h"
#include "overlay.h"
#include "problem.h"
#include "schedule.h"

static const char *const action_names[_SCHEDULE_ACTION_N] = {
        [SCHEDULE_START] = "start",
        [SCHEDULE_STOP] = "stop",
        [SCHEDULE_RESTART] = "restart",
        [SCHEDULE_COMMAND] = "command",
        [SCHEDULE_UPDATE_GAME] = "update-game",
        [SCHEDULE_BUILD] = "build",
        [SCHEDULE_BACKUP] = "backup",
};

const char *schedule_action_to_string(ScheduleAction a) {
        return a >= 0 && a < _SCHEDULE_ACTION_N ? action_names[a] : NULL;
}

ScheduleAction schedule_action_from_string(const char *s) {
        for (int a = 0; s && a < _SCHEDULE_ACTION_N; a++)
                if (strcmp(s, action_names[a]) == 0)
                        return a;
        return _SCHEDULE_ACTION_INVALID;
}

ScheduleTargetKind schedule_action_target_kind(ScheduleAction a) {
        switch (a) {
        case SCHEDULE_UPDATE_GAME:
                return SCHEDULE_TARGET_GAME;
        case SCHEDULE_BUILD:
                return SCHEDULE_TARGET_OVERLAY;
        default:
                return SCHEDULE_TARGET_INSTANCE;
        }
}

const char *schedule_action_polkit(ScheduleAction a) {
        switch (schedule_action_target_kind(a)) {
        case SCHEDULE_TARGET_GAME:
                return L4M_ACTION_GAME_INSTALL;
        case SCHEDULE_TARGET_OVERLAY:
                return L4M_ACTION_OVERLAY_MANAGE;
        default:
                return L4M_ACTION_INSTANCE_CONTROL;
        }
}

int schedule_check_name(const char *name, char **ret_problem) {
        if (!l4m_name_is_valid(name))
                return problem_setf(ret_problem, -EINVAL,
                                    "Invalid schedule name \"%.64s\": names are 1-%d characters of a-z, 0-9, '_' and '-', starting with a letter or digit.",
                                    name, L4M_NAME_MAX);
        return 0;
}

/* Printable ASCII only: it goes into a unit property and the journal. */
static bool calendar_is_printable(const char *s) {
        for (; *s; s++)
                if (*s < 0x20 || *s > 0x7e)
                        return false;
        return true;
}

int schedule_check_request(const ScheduleRequest *req, char **ret_problem) {
        int r;

        r = schedule_check_name(req->name, ret_problem);
        if (r < 0)
                return r;
        if (req->action < 0 || req->action >= _SCHEDULE_ACTION_N)
                return problem_setf(ret_problem, -EINVAL,
                                    "Unknown action: start, stop, restart, command, update-game, build or backup.");
        if (req->calendar[0] == '\0' || strlen(req->calendar) > SCHEDULE_CALENDAR_MAX ||
            !calendar_is_printable(req->calendar))
                return problem_setf(ret_problem, -EINVAL,
                                    "Invalid calendar: an OnCalendar= expression of systemd.time(7), at most %u printable characters.",
                                    SCHEDULE_CALENDAR_MAX);
        if (req->action == SCHEDULE_COMMAND) {
                if (!req->argument)
                        return problem_setf(ret_problem, -EINVAL, "A command schedule needs the RCON command (option argument).");
                r = instance_check_command(req->argument, ret_problem);
                if (r < 0)
                        return r;
        } else if (req->argument)
                return problem_setf(ret_problem, -EINVAL, "Only a command schedule takes an argument.");
        if (req->only_if_running && req->action != SCHEDULE_RESTART && req->action != SCHEDULE_COMMAND &&
            req->action != SCHEDULE_BACKUP && req->action != SCHEDULE_STOP)
                return problem_setf(ret_problem, -EINVAL,
                                    "only_if_running is for stop, restart, command and backup schedules.");
        if (req->restart_instances && req->action != SCHEDULE_UPDATE_GAME)
                return problem_setf(ret_problem, -EINVAL, "restart_instances is for update-game schedules.");
        if (req->stop_server && req->action != SCHEDULE_BACKUP)
                return problem_setf(ret_problem, -EINVAL, "stop is for backup schedules.");
        if (req->randomized_delay_usec > SCHEDULE_RANDOMIZED_DELAY_MAX_USEC)
                return problem_setf(ret_problem, -EINVAL, "The randomized delay is at most 24 hours.");
        if (schedule_action_target_kind(req->action) == SCHEDULE_TARGET_GAME) {
                if (req->target[0] != '\0' && strcmp(req->target, "game") != 0)
                        return problem_setf(ret_problem, -EINVAL, "The target of update-game is \"\" or \"game\".");
        } else if (!l4m_name_is_valid(req->target))
                return problem_setf(ret_problem, -EINVAL, "Invalid target name \"%.64s\".", req->target);
        return 0;
}

int schedule_find_target(Manager *m, const Actor *actor, ScheduleAction action, const char *target,
                         const char **ret_owner, uint64_t *ret_id, const char **ret_owner_action,
                         char **ret_problem) {
        *ret_owner_action = schedule_action_polkit(action);
        switch (schedule_action_target_kind(action)) {
        case SCHEDULE_TARGET_GAME:
                *ret_owner = NULL;
                *ret_id = 0;
                return 0;
        case SCHEDULE_TARGET_OVERLAY: {
                Overlay *o = g_hash_table_lookup(m->overlays_by_name, target);

                if (!o || !actor_sees(actor, o->owner))
                        return problem_setf(ret_problem, -ENOENT, "No overlay \"%s\".", target);
                *ret_owner = o->owner;
                *ret_id = o->id;
                *ret_owner_action = overlay_build_action(o);
                return 0;
        }
        default: {
                Instance *i = g_hash_table_lookup(m->instances_by_name, target);

                if (!i || !actor_sees(actor, i->owner))
                        return problem_setf(ret_problem, -ENOENT, "No instance \"%s\".", target);
                *ret_owner = i->owner;
                *ret_id = i->id;
                return 0;
        }
        }
}

char *schedule_unit_name(uint64_t id, const char *suffix) {
        return g_strdup_printf("left4me-schedule-%" G_GUINT64_FORMAT ".%s", id, suffix);
}

static char *job_path_of(uint64_t job_id) {
        return job_id == 0 ? g_strdup("/") : g_strdup_printf(L4M_JOB_PATH_PREFIX "/%" G_GUINT64_FORMAT, job_id);
}

/* Whether the target named by the row still exists. */
static bool target_exists(Manager *m, ScheduleAction action, uint64_t id) {
        switch (schedule_action_target_kind(action)) {
        case SCHEDULE_TARGET_GAME:
                return true;
        case SCHEDULE_TARGET_OVERLAY:
                return g_hash_table_contains(m->overlays_by_id, &id);
        default:
                return g_hash_table_contains(m->instances_by_id, &id);
        }
}

int schedule_add(Manager *m, const StoreSchedule *row, Schedule **ret) {
        Schedule *s;

        s = g_new0(Schedule, 1);
        s->manager = m;
        s->id = row->id;
        s->name = g_strdup(row->name);
        s->owner = g_strdup(row->owner);
        s->created = row->created;
        s->calendar = g_strdup(row->calendar);
        s->action = schedule_action_from_string(row->action);
        s->target = g_strdup(row->target);
        s->target_id = row->target_id;
        s->argument = g_strdup(row->argument);
        s->only_if_running = row->only_if_running;
        s->restart_instances = row->restart_instances;
        s->stop_server = row->stop_server;
        s->randomized_delay_usec = row->randomized_delay_usec;
        s->enabled = row->enabled;
        s->last_trigger = row->last_trigger;
        s->last_run = row->last_run;
        s->last_result = g_strdup(row->last_result ? row->last_result : "");
        s->last_job = job_path_of(row->last_job);
        s->path = g_strdup_printf(L4M_SCHEDULE_PATH_PREFIX "/%" G_GUINT64_FORMAT, s->id);
        s->unit = schedule_unit_name(s->id, "timer");
        if (s->action < 0) {
                log_warning("Schedule %s has an unknown action \"%s\"; it will not run.", s->name, row->action);
                s->target_missing = true;
        } else
                s->target_missing = !target_exists(m, s->action, s->target_id);
        *ret = s;
        return 0;
}

void schedule_free(Schedule *s) {
        if (!s)
                return;
        schedule_timer_free(s, false);
        g_free(s->name);
        g_free(s->owner);
        g_free(s->calendar);
        g_free(s->target);
        g_free(s->argument);
        g_free(s->last_result);
        g_free(s->last_job);
        g_free(s->path);
        g_free(s->unit);
        g_free(s);
}

static void schedule_register(Manager *m, Schedule *s) {
        g_hash_table_insert(m->schedules_by_id, &s->id, s);
        g_hash_table_insert(m->schedules_by_name, s->name, s);
}

static int load_one(const StoreSchedule *row, void *userdata) {
        Manager *m = userdata;
        Schedule *s;
        int r;

        r = schedule_add(m, row, &s);
        if (r < 0)
                return r;
        schedule_register(m, s);
        return 0;
}

int manager_load_schedules(Manager *m) {
        int r = store_schedule_foreach(m->db, load_one, m);
        if (r < 0)
                return log_error_errno(r, "Cannot load schedules: %s", STRERROR(r));
        return 0;
}

void manager_start_schedules(Manager *m) {
        GHashTableIter it;
        Schedule *s;

        g_hash_table_iter_init(&it, m->schedules_by_id);
        while (g_hash_table_iter_next(&it, NULL, (void **) &s))
                (void) schedule_timer_start(s, NULL, NULL);
}

unsigned manager_count_schedules_of(Manager *m, const char *owner) {
        GHashTableIter it;
        Schedule *s;
        unsigned n = 0;

        g_hash_table_iter_init(&it, m->schedules_by_id);
        while (g_hash_table_iter_next(&it, NULL, (void **) &s))
                if (strcmp(s->owner, owner) == 0)
                        n++;
        return n;
}

Schedule *manager_find_schedule_by_path(Manager *m, const char *path) {
        uint64_t id;

        if (bus_path_parse_id(path, L4M_SCHEDULE_PATH_PREFIX, &id) < 0)
                return NULL;
        return g_hash_table_lookup(m->schedules_by_id, &id);
}

/* --- creating and deleting ---------------------------------------------- */

typedef struct CreateCall {
        ScheduleCreatedFunc done;
        void *userdata;
} CreateCall;

static void on_created_timer(Schedule *s, int r, const char *problem, void *userdata) {
        g_autofree CreateCall *call = userdata;
        Manager *m = s->manager;
        int k;

        if (r < 0) {
                /* Nothing is left of a refused schedule: no unit (systemd
                 * made none), no row, no object. */
                schedule_timer_free(s, false);
                k = store_schedule_delete(m->db, s->id);
                if (k < 0)
                        log_error_errno(k, "Cannot remove the row of refused schedule %s: %s", s->name, STRERROR(k));
                call->done(m, r, NULL, problem, call->userdata);
                schedule_free(s);
                return;
        }
        schedule_register(m, s);
        log_info("Schedule %s created by %s: %s %s on \"%s\" (%s).", s->name, s->owner,
                 schedule_action_to_string(s->action), s->target, s->calendar, s->unit);
        manager_emit_object_added(m, s->path);
        call->done(m, 0, s, NULL, call->userdata);
}

int schedule_create(Manager *m, const Actor *actor, const ScheduleRequest *req, uint64_t target_id,
                    ScheduleCreatedFunc done, void *userdata, char **ret_problem) {
        StoreSchedule row = {
                .name = req->name,
                .owner = actor->principal,
                .created = (uint64_t) g_get_real_time(),
                .calendar = req->calendar,
                .action = schedule_action_to_string(req->action),
                .target = schedule_action_target_kind(req->action) == SCHEDULE_TARGET_GAME ? "" : req->target,
                .target_id = target_id,
                .argument = req->argument ? req->argument : "",
                .only_if_running = req->only_if_running,
                .restart_instances = req->restart_instances,
                .stop_server = req->stop_server,
                .randomized_delay_usec = req->randomized_delay_usec,
                .enabled = req->enabled,
                .last_result = "",
        };
        CreateCall *call;
        Schedule *s;
        int r;

        r = schedule_check_request(req, ret_problem);
        if (r < 0)
                return r;
        if (g_hash_table_contains(m->schedules_by_name, req->name))
                return problem_setf(ret_problem, -EEXIST, "Schedule \"%s\" exists.", req->name);
        if (manager_count_schedules_of(m, actor->principal) >= MANAGER_SCHEDULES_PER_OWNER_MAX)
                return problem_setf(ret_problem, -EDQUOT, "%s has %u schedules, the most one may have.",
                                    actor->principal, MANAGER_SCHEDULES_PER_OWNER_MAX);

        /* The row first: its id names the units. Until systemd accepted
         * the timer the schedule is in no table (a second create of the
         * name meanwhile meets the row's UNIQUE). */
        r = store_schedule_insert(m->db, &row, &row.id);
        if (r == -EEXIST)
                return problem_setf(ret_problem, -EEXIST, "Schedule \"%s\" exists.", req->name);
        if (r < 0)
                return r;
        r = schedule_add(m, &row, &s);
        if (r < 0)
                return r;
        call = g_new(CreateCall, 1);
        *call = (CreateCall) { done, userdata };
        r = schedule_timer_start(s, on_created_timer, call);
        if (r < 0) {
                g_free(call);
                (void) store_schedule_delete(m->db, s->id);
                schedule_free(s);
                return r;
        }
        return 1;
}

int schedule_delete(Schedule *s, char **ret_problem) {
        Manager *m = s->manager;
        g_autofree char *path = g_strdup(s->path);
        int r;

        manager_emit_object_removed(m, path);
        r = store_schedule_delete(m->db, s->id);
        if (r < 0) {
                manager_emit_object_added(m, path);
                return r;
        }
        log_info("Schedule %s deleted.", s->name);
        schedule_timer_free(s, true);
        g_hash_table_remove(m->schedules_by_name, s->name);
        g_hash_table_remove(m->schedules_by_id, &s->id);       /* frees s */
        return 0;
}

int schedule_set_enabled(Schedule *s, bool enabled, char **ret_problem) {
        int r;

        if (s->enabled == enabled)
                return 0;
        r = store_schedule_set_enabled(s->manager->db, s->id, enabled);
        if (r < 0)
                return r;
        s->enabled = enabled;
        log_info("Schedule %s %s.", s->name, enabled ? "enabled" : "disabled");
        schedule_emit_changed(s, "Enabled", "NextElapse", NULL);
        return 0;
}

void schedule_set_next_elapse(Schedule *s, uint64_t next_usec) {
        if (s->next_elapse == next_usec)
                return;
        s->next_elapse = next_usec;
        schedule_emit_changed(s, "NextElapse", NULL);
}

/* --- running ------------------------------------------------------------ */

/* One run of an action that answers later: found again by id (the
 * schedule may be deleted meanwhile). */
typedef struct ScheduleRun {
        Manager *manager;
        uint64_t id;
        uint64_t started;       /* µs since the epoch */
} ScheduleRun;

static void schedule_record(Schedule *s, uint64_t started, const char *result, uint64_t job_id) {
        int r;

        s->running = false;
        s->last_run = started;
        g_free(s->last_result);
        s->last_result = g_strdup(result);
        g_free(s->last_job);
        s->last_job = job_path_of(job_id);
        r = store_schedule_set_last_run(s->manager->db, s->id, started, result, job_id);
        if (r < 0)
                log_error_errno(r, "Cannot store the last run of schedule %s: %s", s->name, STRERROR(r));
        log_struct_errno(LOG_INFO, 0,
                         ((const char *[]) { "L4M_EVENT=schedule-ran", NULL }),
                         "Schedule %s ran %s %s: %s.", s->name, schedule_action_to_string(s->action), s->target,
                         result);
        schedule_emit_changed(s, "LastRun", "LastResult", "LastJob", NULL);
}

static void schedule_record_failure(Schedule *s, uint64_t started, int r, const char *problem) {
        g_autofree char *result = g_strdup_printf("failed: %s", problem ? problem : STRERROR(r));
        schedule_record(s, started, result, 0);
}

static void on_instance_done(Instance *i, int r, const char *text, void *userdata) {
        g_autofree ScheduleRun *run = userdata;
        Schedule *s = g_hash_table_lookup(run->manager->schedules_by_id, &run->id);

        if (!s)
                return;
        if (r == -ESHUTDOWN) {
                /* The daemon stops (or the instance went): nothing to record. */
                s->running = false;
                return;
        }
        if (r < 0)
                schedule_record_failure(s, run->started, r, text);
        else
                schedule_record(s, run->started, "success", 0);
}

/* The actor a run acts for: the schedule's owner, seeing what it would. */
static void schedule_actor(const Schedule *s, Actor *ret) {
        actor_init_local(ret, s->owner);
        if (g_str_has_prefix(s->owner, "web:")) {
                ret->scope = ACTOR_SEES_OWN;
                ret->delegated = true;
        }
}

/* Like the engine calls: > 0 when on_instance_done() gets the outcome. */
static int run_on_instance(Schedule *s, const Actor *actor, Instance *i, ScheduleRun *run, Job **ret_job,
                           char **ret_problem) {
        switch (s->action) {
        case SCHEDULE_START:
                return instance_start(i, on_instance_done, run, ret_problem);
        case SCHEDULE_STOP:
                return instance_stop(i, on_instance_done, run, ret_problem);
        case SCHEDULE_RESTART:
                return instance_restart(i, on_instance_done, run, ret_problem);
        case SCHEDULE_COMMAND:
                return instance_send_command(i, s->argument, on_instance_done, run, ret_problem);
        default:
                return backup_submit(s->manager, actor, i, s->stop_server, ret_job, ret_problem);
        }
}

/* Why a run on instance i is skipped, or NULL. */
static char *instance_skip_reason(const Schedule *s, const Instance *i) {
        bool running = i->state && strcmp(i->state, INSTANCE_STATE_RUNNING) == 0;

        if (running || (s->action != SCHEDULE_COMMAND && !s->only_if_running))
                return NULL;
        return g_strdup_printf("skipped: instance '%s' is not running", i->name);
}

void schedule_run(Schedule *s, const char *why) {
        Manager *m = s->manager;
        g_autofree char *problem = NULL;
        g_auto(Actor) actor = { NULL };
        ScheduleRun *run;
        Job *job = NULL;
        int r;

        if (s->running) {
                log_info("Schedule %s (%s): the last run is still under way; not run again.", s->name, why);
                return;
        }
        log_struct_errno(LOG_INFO, 0,
                         ((const char *[]) { "L4M_EVENT=schedule-run", NULL }),
                         "Schedule %s (%s): running %s %s.", s->name, why, schedule_action_to_string(s->action),
                         s->target);
        run = g_new(ScheduleRun, 1);
        *run = (ScheduleRun) { m, s->id, (uint64_t) g_get_real_time() };

        if (s->target_missing || !target_exists(m, s->action, s->target_id)) {
                g_autofree char *result = g_strdup_printf("failed: %s '%s' was deleted",
                                                          s->action == SCHEDULE_BUILD ? "overlay" : "instance", s->target);
                schedule_record(s, run->started, result, 0);
                g_free(run);
                return;
        }

        schedule_actor(s, &actor);
        switch (schedule_action_target_kind(s->action)) {
        case SCHEDULE_TARGET_GAME:
                r = game_install_submit(m, &actor, true, false, s->restart_instances, &job, &problem);
                break;
        case SCHEDULE_TARGET_OVERLAY:
                r = overlay_submit_build(g_hash_table_lookup(m->overlays_by_id, &s->target_id), &actor, NULL, &job,
                                         &problem);
                break;
        default: {
                Instance *i = g_hash_table_lookup(m->instances_by_id, &s->target_id);
                g_autofree char *skipped = instance_skip_reason(s, i);

                if (skipped) {
                        schedule_record(s, run->started, skipped, 0);
                        g_free(run);
                        return;
                }
                s->running = true;
                r = run_on_instance(s, &actor, i, run, &job, &problem);
                if (r > 0)
                        return;         /* on_instance_done() records it */
                break;
        }
        }

        if (r < 0)
                schedule_record_failure(s, run->started, r, problem);
        else
                schedule_record(s, run->started, "success", job ? job->id : 0);
        g_free(run);
}

void schedule_elapsed(Schedule *s, uint64_t trigger_usec) {
        int r;

        if (trigger_usec <= s->last_trigger)
                return;
        /* Consumed before anything runs: should we crash during the
         * action, the next start does not run it again. */
        r = store_schedule_set_last_trigger(s->manager->db, s->id, trigger_usec);
        if (r < 0) {
                log_error_errno(r, "Cannot store the elapse of schedule %s; not running it: %s", s->name, STRERROR(r));
                return;
        }
        s->last_trigger = trigger_usec;
        if (!s->enabled) {
                log_info("Schedule %s elapsed while disabled; not run.", s->name);
                return;
        }
        schedule_run(s, "elapsed");
}

void manager_schedules_target_deleted(Manager *m, ScheduleTargetKind kind, uint64_t id) {
        GHashTableIter it;
        Schedule *s;

        g_hash_table_iter_init(&it, m->schedules_by_id);
        while (g_hash_table_iter_next(&it, NULL, (void **) &s)) {
                if (s->target_missing || s->action < 0 || schedule_action_target_kind(s->action) != kind ||
                    s->target_id != id)
                        continue;
                s->target_missing = true;
                log_warning("The target of schedule %s (%s \"%s\") was deleted; its runs will fail.", s->name,
                            kind == SCHEDULE_TARGET_OVERLAY ? "overlay" : "instance", s->target);
                schedule_emit_changed(s, "TargetMissing", NULL);
        }
}
