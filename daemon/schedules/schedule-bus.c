/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/schedules/: schedules: records and rules, their timer units, what an elapse runs. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "authorize.h"
#include "bus-util.h"
#include "caller.h"
#include "instance.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "overlay.h"
#include "schedule.h"

/* A schedule is its target's business: the owners of the target and (for
 * one that exists) of the schedule need the action the scheduled action
 * needs (schedule_find_target()); anyone else org.left4me.admin. */
typedef struct ScheduleAuth {
        const char *owner_action;
        const char *target_owner;       /* NULL: the game, or a target that is gone */
        const char *foreign_owner;      /* update-game with restart_instances: another's instance */
} ScheduleAuth;

static int authorize(Manager *m, sd_bus_message *msg, const char *name, const char *schedule_owner,
                     const ScheduleAuth *a, const char *verb, Actor *ret_actor, sd_bus_error *error) {
        return authorize_call(m, msg, &(AuthorizeRequest) {
                                      .action = a->owner_action,
                                      .verb = verb,
                                      .kind = "schedule",
                                      .name = name,
                                      .owners = { schedule_owner, a->target_owner, a->foreign_owner },
                              }, ret_actor, error);
}

/* The first instance of another principal than principal: an update that
 * restarts instances would restart it (admin, as UpdateGame). */
static const char *first_foreign_instance_owner(Manager *m, const char *principal) {
        GHashTableIter it;
        Instance *i;

        g_hash_table_iter_init(&it, m->instances_by_id);
        while (g_hash_table_iter_next(&it, NULL, (void **) &i))
                if (strcmp(i->owner, principal) != 0)
                        return i->owner;
        return NULL;
}

static void schedule_auth_of(Schedule *s, ScheduleAuth *ret) {
        Manager *m = s->manager;

        *ret = (ScheduleAuth) { .owner_action = schedule_action_polkit(s->action) };
        if (s->target_missing)
                return;
        if (s->action == SCHEDULE_BUILD) {
                Overlay *o = g_hash_table_lookup(m->overlays_by_id, &s->target_id);

                if (o) {
                        ret->target_owner = o->owner;
                        ret->owner_action = overlay_build_action(o);
                }
        } else if (s->action == SCHEDULE_UPDATE_GAME) {
                if (s->restart_instances)
                        ret->foreign_owner = first_foreign_instance_owner(m, s->owner);
        } else {
                Instance *i = g_hash_table_lookup(m->instances_by_id, &s->target_id);

                if (i)
                        ret->target_owner = i->owner;
        }
}

static int authorize_on(Schedule *s, sd_bus_message *msg, const char *verb, sd_bus_error *error) {
        ScheduleAuth a;

        schedule_auth_of(s, &a);
        return authorize(s->manager, msg, s->name, s->owner, &a, verb, NULL, error);
}

static int property_get_bool(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "b", (int) *(bool *) userdata);
}

static int property_get_action(sd_bus *bus, const char *path, const char *interface, const char *property,
                               sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const char *a = schedule_action_to_string(((Schedule *) userdata)->action);
        return sd_bus_message_append(reply, "s", a ? a : "");
}

/* 0 while disabled: nothing will run then. */
static int property_get_next_elapse(sd_bus *bus, const char *path, const char *interface, const char *property,
                                    sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Schedule *s = userdata;
        return sd_bus_message_append(reply, "t", s->enabled ? s->next_elapse : UINT64_C(0));
}

static int method_set_enabled(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autofree char *problem = NULL;
        Schedule *s = userdata;
        int b, r;

        r = sd_bus_message_read(msg, "b", &b);
        if (r < 0)
                return r;
        RETURN_UNLESS_AUTHORIZED(authorize_on(s, msg, b ? "enable" : "disable", error));
        r = schedule_set_enabled(s, b, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Storing the schedule");
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_run(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Schedule *s = userdata;

        RETURN_UNLESS_AUTHORIZED(authorize_on(s, msg, "run", error));
        schedule_run(s, "asked to run");
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_delete(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autofree char *problem = NULL;
        Schedule *s = userdata;
        int r;

        RETURN_UNLESS_AUTHORIZED(authorize_on(s, msg, "delete", error));
        r = schedule_delete(s, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Deleting the schedule");
        return sd_bus_reply_method_return(msg, NULL);
}

const sd_bus_vtable schedule_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "t", NULL, offsetof(Schedule, id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Name", "s", NULL, offsetof(Schedule, name), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Owner", "s", NULL, offsetof(Schedule, owner), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Created", "t", NULL, offsetof(Schedule, created), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Calendar", "s", NULL, offsetof(Schedule, calendar), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Action", "s", property_get_action, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Target", "s", NULL, offsetof(Schedule, target), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Argument", "s", NULL, offsetof(Schedule, argument), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("OnlyIfRunning", "b", property_get_bool, offsetof(Schedule, only_if_running),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("RestartInstances", "b", property_get_bool, offsetof(Schedule, restart_instances),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("StopServer", "b", property_get_bool, offsetof(Schedule, stop_server),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("RandomizedDelayUSec", "t", NULL, offsetof(Schedule, randomized_delay_usec),
                        SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Unit", "s", NULL, offsetof(Schedule, unit), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Enabled", "b", property_get_bool, offsetof(Schedule, enabled),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("NextElapse", "t", property_get_next_elapse, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LastRun", "t", NULL, offsetof(Schedule, last_run), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LastResult", "s", NULL, offsetof(Schedule, last_result), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LastJob", "o", NULL, offsetof(Schedule, last_job), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("TargetMissing", "b", property_get_bool, offsetof(Schedule, target_missing),
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("SetEnabled",
                                SD_BUS_ARGS("b", enabled),
                                SD_BUS_NO_RESULT,
                                method_set_enabled, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Run",
                                SD_BUS_NO_ARGS,
                                SD_BUS_NO_RESULT,
                                method_run, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Delete",
                                SD_BUS_NO_ARGS,
                                SD_BUS_NO_RESULT,
                                method_delete, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int schedule_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **ret_found,
                         sd_bus_error *error) {
        Schedule *s = manager_find_schedule_by_path(userdata, path);

        if (!s || !caller_sees_object(userdata, bus, path, s->owner))
                return 0;
        *ret_found = s;
        return 1;
}

int schedule_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***ret_nodes, sd_bus_error *error) {
        return caller_enumerate_objects(userdata, bus, ((Manager *) userdata)->schedules_by_id, offsetof(Schedule, path),
                                        offsetof(Schedule, owner), ret_nodes);
}

/* --- org.left4me.Manager's schedule methods ------------------------------ */

static int append_schedule_entry(sd_bus_message *reply, const void *value, void *userdata) {
        const Schedule *s = value;
        const CallerView *view = userdata;
        const char *action = schedule_action_to_string(s->action);

        if (!caller_sees(view->manager, view->call, s->owner))
                return 0;
        return sd_bus_message_append(reply, "(ossssssb)", s->path, s->name, s->owner, s->calendar, action ? action : "",
                                     s->target, s->last_result, (int) s->enabled);
}

static int method_list_schedules(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = polkit_verify(m->polkit, msg, L4M_ACTION_READ, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return bus_reply_list_by_name(msg, m->schedules_by_id, offsetof(Schedule, name), "(ossssssb)",
                                      append_schedule_entry, &(CallerView) { m, msg });
}

static int method_get_schedule(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        return caller_reply_path_by_name(msg, m, m->schedules_by_name, offsetof(Schedule, path),
                                         offsetof(Schedule, owner), "schedule", error);
}

/* CreateSchedule's options; any other key is refused. */
typedef struct ScheduleOptions {
        ScheduleRequest *req;
        char *argument;
} ScheduleOptions;

static int read_option(sd_bus_message *msg, const char *key, const char *type, void *dest, sd_bus_error *error) {
        const char *contents = NULL;
        int r;

        r = sd_bus_message_peek_type(msg, NULL, &contents);
        if (r < 0)
                return r;
        if (!contents || strcmp(contents, type) != 0)
                return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT, "Option %s takes a \"%s\".", key, type);
        return sd_bus_message_read(msg, "v", type, dest);
}

static int schedule_option(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error) {
        ScheduleOptions *o = userdata;
        const char *s;
        int b, r;

        if (strcmp(key, "argument") == 0) {
                r = read_option(msg, key, "s", &s, error);
                if (r >= 0) {
                        g_free(o->argument);
                        o->argument = g_strdup(s);
                }
        } else if (strcmp(key, "randomized_delay_usec") == 0)
                r = read_option(msg, key, "t", &o->req->randomized_delay_usec, error);
        else {
                bool *dest = strcmp(key, "only_if_running") == 0 ? &o->req->only_if_running
                             : strcmp(key, "restart_instances") == 0 ? &o->req->restart_instances
                             : strcmp(key, "stop") == 0 ? &o->req->stop_server
                             : strcmp(key, "enabled") == 0 ? &o->req->enabled : NULL;
                if (!dest)
                        return 0;
                r = read_option(msg, key, "b", &b, error);
                if (r >= 0)
                        *dest = b;
        }
        return r < 0 ? r : 1;
}

static void on_created(Manager *m, int r, Schedule *s, const char *problem, void *userdata) {
        g_autoptr(sd_bus_message) msg = userdata;
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;

        if (r < 0) {
                (void) bus_error_from_problem(&error, r, problem, "Creating the schedule's timer");
                (void) sd_bus_reply_method_error(msg, &error);
        } else
                (void) sd_bus_reply_method_return(msg, "o", s->path);
}

static int method_create_schedule(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        ScheduleRequest req = { .enabled = true };
        ScheduleOptions o = { .req = &req };
        g_autofree char *problem = NULL, *argument = NULL;
        g_auto(Actor) actor = { NULL };
        ScheduleAuth a = { NULL };
        const char *action;
        uint64_t target_id;
        int r;

        r = sd_bus_message_read(msg, "ssss", &req.name, &req.calendar, &action, &req.target);
        if (r < 0)
                return r;
        req.action = schedule_action_from_string(action);
        r = bus_message_read_options(msg, schedule_option, &o, error);
        argument = o.argument;
        if (r < 0)
                return r;
        req.argument = argument;
        r = schedule_check_request(&req, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Checking the schedule");

        r = caller_actor(m, msg, &actor);
        if (r < 0)
                return bus_error_internal(error, r, "Identifying the caller");
        r = schedule_find_target(m, &actor, req.action, req.target, &a.target_owner, &target_id, &a.owner_action,
                                 &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Finding the target");
        if (req.restart_instances)
                a.foreign_owner = first_foreign_instance_owner(m, actor.principal);
        RETURN_UNLESS_AUTHORIZED(authorize(m, msg, req.name, NULL, &a, "create", NULL, error));

        r = schedule_create(m, &actor, &req, target_id, on_created, sd_bus_message_ref(msg), &problem);
        if (r < 0) {
                sd_bus_message_unref(msg);      /* the reference on_created() did not get */
                return bus_error_from_problem(error, r, problem, "Creating the schedule");
        }
        return 1;
}

const sd_bus_vtable schedule_manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("ListSchedules",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(ossssssb)", schedules),
                                method_list_schedules, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateSchedule",
                                SD_BUS_ARGS("s", name, "s", calendar, "s", action, "s", target, "a{sv}", options),
                                SD_BUS_RESULT("o", schedule),
                                method_create_schedule, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetSchedule",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("o", schedule),
                                method_get_schedule, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};
