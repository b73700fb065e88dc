/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/schedules/: schedules: records and rules, their timer units, what an elapse runs. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

#include "actor.h"
#include "l4m-bus-names.h"
#include "manager.h"
#include "store.h"

/* What a schedule does when its timer elapses. */
typedef enum ScheduleAction {
        SCHEDULE_START,
        SCHEDULE_STOP,
        SCHEDULE_RESTART,
        SCHEDULE_COMMAND,
        SCHEDULE_UPDATE_GAME,
        SCHEDULE_BUILD,
        SCHEDULE_BACKUP,
        _SCHEDULE_ACTION_N,
        _SCHEDULE_ACTION_INVALID = -1,
} ScheduleAction;

const char *schedule_action_to_string(ScheduleAction a);
ScheduleAction schedule_action_from_string(const char *s);
/* What the action works on. */
typedef enum ScheduleTargetKind {
        SCHEDULE_TARGET_INSTANCE,
        SCHEDULE_TARGET_OVERLAY,
        SCHEDULE_TARGET_GAME,
} ScheduleTargetKind;
ScheduleTargetKind schedule_action_target_kind(ScheduleAction a);

/* Schedules one principal may own. */
#define MANAGER_SCHEDULES_PER_OWNER_MAX 100u
/* Longest OnCalendar= text accepted (systemd checks the syntax). */
#define SCHEDULE_CALENDAR_MAX 256u
/* Longest RandomizedDelaySec=. */
#define SCHEDULE_RANDOMIZED_DELAY_MAX_USEC (24 * UINT64_C(3600) * UINT64_C(1000000))

/* What CreateSchedule asks for, checked by schedule_check_request(). */
typedef struct ScheduleRequest {
        const char *name;
        const char *calendar;
        ScheduleAction action;
        const char *target;             /* "" (or "game") for update-game */
        const char *argument;           /* NULL: none given */
        bool only_if_running;
        bool restart_instances;
        bool stop_server;
        uint64_t randomized_delay_usec;
        bool enabled;
} ScheduleRequest;

typedef struct ScheduleTimer ScheduleTimer;

/* A schedule: a row in the store, the transient timer
 * left4me-schedule-<id>.timer (and its oneshot service) while the daemon
 * runs, and an object /org/left4me/Manager/schedule/<id>. */
typedef struct Schedule {
        Manager *manager;
        uint64_t id;
        char *name;
        char *owner;
        uint64_t created;               /* µs since the epoch */
        char *calendar;
        ScheduleAction action;
        char *target;
        uint64_t target_id;             /* the instance's or overlay's id; 0 for the game */
        char *argument;
        bool only_if_running;
        bool restart_instances;
        bool stop_server;
        uint64_t randomized_delay_usec;
        bool enabled;
        uint64_t last_trigger;          /* the elapse last consumed (see schedule-timer.c) */
        uint64_t last_run;              /* µs since the epoch, 0 = never */
        char *last_result;              /* "", "success", "skipped: …", "failed: …" */
        char *last_job;                 /* the job the last run made, "/" for none */
        uint64_t next_elapse;           /* µs since the epoch, 0 = none or disabled */
        bool target_missing;            /* the target was deleted */
        bool running;                   /* an action is under way */
        char *path;
        char *unit;                     /* left4me-schedule-<id>.timer */
        ScheduleTimer *timer;
} Schedule;

/* The engine's rules: 0, or a negative errno with a text (problem.h). */
int schedule_check_name(const char *name, char **ret_problem);
/* Everything but the calendar's syntax (systemd's to judge) and the
 * target's existence: -EINVAL. */
int schedule_check_request(const ScheduleRequest *req, char **ret_problem);
/* The target of req: its owner, id and, for a build, the action the
 * owner needs (overlay.manage or script.run). -ENOENT if there is none
 * the actor sees. */
int schedule_find_target(Manager *m, const Actor *actor, ScheduleAction action, const char *target,
                         const char **ret_owner, uint64_t *ret_id, const char **ret_owner_action,
                         char **ret_problem);
/* The polkit action the owner of a schedule of action needs (for a
 * build: of an archive or Workshop overlay). */
const char *schedule_action_polkit(ScheduleAction a);

/* "left4me-schedule-<id>.timer". */
char *schedule_unit_name(uint64_t id, const char *suffix);

int schedule_add(Manager *m, const StoreSchedule *row, Schedule **ret);
void schedule_free(Schedule *s);

/* Creates a schedule for actor (its owner): the row, then the timer;
 * done() gets 0 and the schedule, or systemd's refusal of the timer
 * (-EINVAL with its message: a bad calendar), after which nothing is left.
 * Returns 1 when under way, or a negative errno at once: -EEXIST if the
 * name is taken, -EDQUOT with MANAGER_SCHEDULES_PER_OWNER_MAX already. */
typedef void (*ScheduleCreatedFunc)(Manager *m, int r, Schedule *s, const char *problem, void *userdata);
int schedule_create(Manager *m, const Actor *actor, const ScheduleRequest *req, uint64_t target_id,
                    ScheduleCreatedFunc done, void *userdata, char **ret_problem);
/* Stops the timer, deletes the row, announces the removal; s is freed. */
int schedule_delete(Schedule *s, char **ret_problem);
int schedule_set_enabled(Schedule *s, bool enabled, char **ret_problem);
/* Runs the action now (an elapse, or Run()); the outcome goes to
 * LastRun/LastResult/LastJob. */
void schedule_run(Schedule *s, const char *why);

/* The timer said it elapsed at trigger_usec (schedule-timer.c): consumed
 * once (stored first), run unless disabled. */
void schedule_elapsed(Schedule *s, uint64_t trigger_usec);
void schedule_set_next_elapse(Schedule *s, uint64_t next_usec);

/* An instance or overlay was deleted: its schedules say so. */
void manager_schedules_target_deleted(Manager *m, ScheduleTargetKind kind, uint64_t id);

Schedule *manager_find_schedule_by_path(Manager *m, const char *path);
int manager_load_schedules(Manager *m);
/* After the bus is up: (re-)create every schedule's timer. */
void manager_start_schedules(Manager *m);
unsigned manager_count_schedules_of(Manager *m, const char *owner);

/* schedule-timer.c: the timer units. */
/* Creates (or, after a crash, takes over) s's timer and follows it;
 * done (may be NULL) gets 0 or systemd's refusal (its message in problem). */
typedef void (*ScheduleTimerDoneFunc)(Schedule *s, int r, const char *problem, void *userdata);
int schedule_timer_start(Schedule *s, ScheduleTimerDoneFunc done, void *userdata);
/* Stops following it; with stop, stops the unit too. */
void schedule_timer_free(Schedule *s, bool stop);

/* schedule-bus.c */
extern const sd_bus_vtable schedule_vtable[];
extern const sd_bus_vtable schedule_manager_vtable[];
int schedule_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **ret_found,
                         sd_bus_error *error);
int schedule_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***ret_nodes, sd_bus_error *error);
#define schedule_emit_changed(s, ...) \
        manager_emit_properties_changed((s)->manager, (s)->path, L4M_SCHEDULE_INTERFACE, __VA_ARGS__)
