/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/schedules/: schedules: records and rules, their timer units, what an elapse runs. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <systemd/sd-event.h>

#include "l4m-bus-properties.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "schedule.h"
#include "systemd-unit.h"
#include "unit-properties.h"

/* Each schedule has a transient timer, left4me-schedule-<id>.timer, made
 * by systemd from the schedule's calendar (systemd parses OnCalendar=, not
 * us), with a trivial, confined oneshot service of the same name as the
 * auxiliary unit of the same StartTransientUnit call (a timer must trigger
 * something). The daemon follows both objects' PropertiesChanged, reads the
 * timer's NextElapseUSecRealtime and its LastTriggerUSec (with
 * LastTriggerUSecMonotonic, see on_timer_properties()), and hands an
 * elapse newer than the one stored in the schedule's row to
 * schedule_elapsed(), which stores it before running anything.
 * docs/ARCHITECTURE.md ("Schedules") says why each property is set. */

#define SYSTEMD_TIMER_INTERFACE "org.freedesktop.systemd1.Timer"
#define SYSTEMD_UNIT_PATH "/org/freedesktop/systemd1/unit"
#define PROPERTIES_INTERFACE "org.freedesktop.DBus.Properties"
/* While the instances' states are not known yet (just after start), an
 * elapse waits this long and looks again: a run now would be refused. */
#define SCHEDULE_WAIT_USEC (1 * G_USEC_PER_SEC)

struct ScheduleTimer {
        Schedule *schedule;
        char *timer_path;
        char *service;                  /* left4me-schedule-<id>.service */
        char *service_path;
        sd_bus_slot *start_call;        /* StartTransientUnit or StartUnit in flight */
        sd_bus_slot *match_timer, *match_service;
        sd_bus_slot *query;             /* the GetAll in flight */
        bool again;                     /* a signal came while it was in flight */
        sd_event_source *wait;          /* the next look while instances are unknown */
        ScheduleTimerDoneFunc done;
        void *userdata;

        /* what the look in flight read */
        uint64_t last_trigger;
        uint64_t last_trigger_monotonic;
        uint64_t next_elapse;
};

static int fill_timer(sd_bus_message *m, void *userdata) {
        Schedule *s = userdata;
        g_autofree char *description = g_strdup_printf("left4me schedule %s", s->name);
        char *left4me[] = { (char *) "left4me.service", NULL };
        int r;

        r = unit_property_string(m, "Description", description);
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)", "TimersCalendar", "a(ss)", 1, "OnCalendar", s->calendar);
        /* A run missed while left4me was stopped happens once when the
         * timer is made again (systemd's stamp of the timer's name). */
        if (r >= 0)
                r = unit_property_bool(m, "Persistent", true);
        if (r >= 0)
                r = unit_property_u64(m, "AccuracyUSec", G_USEC_PER_SEC);
        if (r >= 0)
                r = unit_property_u64(m, "RandomizedDelayUSec", s->randomized_delay_usec);
        /* Stopped with the daemon: nobody would follow it. */
        if (r >= 0)
                r = unit_property_strv(m, "PartOf", left4me);
        if (r >= 0)
                r = unit_property_strv(m, "After", left4me);
        return r;
}

static int fill_service(sd_bus_message *m, void *userdata) {
        Schedule *s = userdata;
        g_autofree char *description = g_strdup_printf("left4me schedule %s (elapse)", s->name);
        char *argv[] = { (char *) "/bin/true", NULL };
        int r;

        r = unit_property_string(m, "Description", description);
        if (r >= 0)
                r = unit_property_string(m, "Type", "oneshot");
        if (r >= 0)
                r = unit_property_exec(m, "ExecStart", argv, NULL);
        if (r >= 0)
                r = unit_properties_confine(m);
        if (r >= 0)
                r = unit_property_bool(m, "PrivateNetwork", true);
        if (r >= 0)
                r = unit_property_bool(m, "PrivateTmp", true);
        if (r >= 0)
                r = unit_property_string(m, "ProtectSystem", "strict");
        if (r >= 0)
                r = unit_property_string(m, "ProtectHome", "yes");
        return r;
}

static const L4mBusProperty timer_map[] = {
        { "LastTriggerUSec", "t", NULL, offsetof(ScheduleTimer, last_trigger) },
        { "LastTriggerUSecMonotonic", "t", NULL, offsetof(ScheduleTimer, last_trigger_monotonic) },
        { "NextElapseUSecRealtime", "t", NULL, offsetof(ScheduleTimer, next_elapse) },
};

static void schedule_timer_look(ScheduleTimer *t);

static int on_wait(sd_event_source *src, uint64_t usec, void *userdata) {
        schedule_timer_look(userdata);
        return 0;
}

/* The instances' states are not known yet: look again in a while. */
static void wait_for_instances(ScheduleTimer *t) {
        Manager *m = t->schedule->manager;
        int r;

        if (t->wait) {
                r = sd_event_source_set_time_relative(t->wait, SCHEDULE_WAIT_USEC);
                if (r >= 0)
                        r = sd_event_source_set_enabled(t->wait, SD_EVENT_ONESHOT);
        } else
                r = sd_event_add_time_relative(m->event, &t->wait, CLOCK_MONOTONIC, SCHEDULE_WAIT_USEC, 0, on_wait, t);
        if (r < 0)
                log_error_errno(r, "Cannot wait for the instances for schedule %s: %s", t->schedule->name, STRERROR(r));
}

static int on_timer_properties(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        ScheduleTimer *t = userdata;
        Schedule *s = t->schedule;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int r;

        t->query = sd_bus_slot_unref(t->query);
        if (e) {
                log_warning("Cannot read the timer of schedule %s: %s", s->name, e->message);
                return 0;
        }
        t->last_trigger = t->last_trigger_monotonic = t->next_elapse = 0;
        r = l4m_bus_map_properties(reply, timer_map, L4M_ELEMENTSOF(timer_map), NULL, t, NULL);
        if (r < 0) {
                log_warning_errno(r, "Cannot parse the timer of schedule %s: %s", s->name, STRERROR(r));
                return 0;
        }
        if (t->again) {
                t->again = false;
                schedule_timer_look(t);
                return 0;
        }
        schedule_set_next_elapse(s, t->next_elapse == UINT64_MAX ? 0 : t->next_elapse);
        /* A timer made again reads its LastTriggerUSec from systemd's
         * stamp, whose time is that of the last elapse, or of the timer's
         * first start if it never elapsed; only an elapse of this timer
         * sets the monotonic time as well. So an elapse is one with both. */
        if (t->last_trigger_monotonic == 0)
                return 0;
        if (t->last_trigger > s->last_trigger && s->manager->instances_unknown > 0) {
                wait_for_instances(t);
                return 0;
        }
        schedule_elapsed(s, t->last_trigger);
        return 0;
}

static void schedule_timer_look(ScheduleTimer *t) {
        int r;

        if (t->query) {
                t->again = true;
                return;
        }
        r = sd_bus_call_method_async(t->schedule->manager->bus, &t->query, SYSTEMD_BUS_NAME, t->timer_path,
                                     PROPERTIES_INTERFACE, "GetAll", on_timer_properties, t, "s",
                                     SYSTEMD_TIMER_INTERFACE);
        if (r < 0)
                log_warning_errno(r, "Cannot ask systemd about the timer of schedule %s: %s", t->schedule->name,
                                  STRERROR(r));
}

static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        schedule_timer_look(userdata);
        return 0;
}

static void timer_done(ScheduleTimer *t, int r, const char *problem) {
        ScheduleTimerDoneFunc done = t->done;

        t->done = NULL;
        if (done)
                done(t->schedule, r, problem, t->userdata);     /* may free t */
        else if (r < 0)
                log_error("Cannot make the timer of schedule %s: %s", t->schedule->name, problem);
}

static int on_adopted(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        ScheduleTimer *t = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        t->start_call = sd_bus_slot_unref(t->start_call);
        if (e) {
                timer_done(t, -sd_bus_error_get_errno(e), e->message);
                return 0;
        }
        schedule_timer_look(t);
        timer_done(t, 0, NULL);
        return 0;
}

static int on_started(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        ScheduleTimer *t = userdata;
        Schedule *s = t->schedule;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int r;

        t->start_call = sd_bus_slot_unref(t->start_call);
        if (e && sd_bus_error_has_name(e, "org.freedesktop.systemd1.UnitExists")) {
                /* Left from before a crash of the daemon: the same timer
                 * (its settings are the schedule's, which never change);
                 * start it should it have stopped, and follow it. What it
                 * triggered meanwhile is newer than the row's. */
                log_info("Schedule %s: taking over timer %s.", s->name, s->unit);
                r = sd_bus_call_method_async(s->manager->bus, &t->start_call, SYSTEMD_BUS_NAME, "/org/freedesktop/systemd1",
                                             "org.freedesktop.systemd1.Manager", "StartUnit", on_adopted, t, "ss",
                                             s->unit, "replace");
                if (r < 0)
                        timer_done(t, r, STRERROR(r));
                return 0;
        }
        if (e) {
                /* systemd's own words: "Invalid calendar …" for a bad
                 * OnCalendar=, which is what the caller needs to read. */
                r = sd_bus_error_has_name(e, SD_BUS_ERROR_INVALID_ARGS) ? -EINVAL : -sd_bus_error_get_errno(e);
                timer_done(t, r < 0 ? r : -EIO, e->message);
                return 0;
        }
        schedule_timer_look(t);
        timer_done(t, 0, NULL);
        return 0;
}

static int match_properties(ScheduleTimer *t, const char *path, sd_bus_slot **ret) {
        return sd_bus_match_signal_async(t->schedule->manager->bus, ret, SYSTEMD_BUS_NAME, path, PROPERTIES_INTERFACE,
                                         "PropertiesChanged", on_signal, NULL, t);
}

int schedule_timer_start(Schedule *s, ScheduleTimerDoneFunc done, void *userdata) {
        Manager *m = s->manager;
        ScheduleTimer *t;
        int r;

        if (!m->bus)
                return -ENOTCONN;
        schedule_timer_free(s, false);
        t = g_new0(ScheduleTimer, 1);
        t->schedule = s;
        t->done = done;
        t->userdata = userdata;
        t->service = schedule_unit_name(s->id, "service");
        s->timer = t;
        r = sd_bus_path_encode(SYSTEMD_UNIT_PATH, s->unit, &t->timer_path);
        if (r >= 0)
                r = sd_bus_path_encode(SYSTEMD_UNIT_PATH, t->service, &t->service_path);
        /* Before the start: the bus applies matches before later calls. */
        if (r >= 0)
                r = match_properties(t, t->timer_path, &t->match_timer);
        if (r >= 0)
                r = match_properties(t, t->service_path, &t->match_service);
        if (r >= 0)
                r = unit_start_transient_with_aux(m->bus, s->unit, fill_timer, s, t->service, fill_service, on_started, t,
                                                  &t->start_call);
        if (r < 0) {
                log_error_errno(r, "Cannot make the timer of schedule %s: %s", s->name, STRERROR(r));
                schedule_timer_free(s, false);
                return r;
        }
        return 0;
}

void schedule_timer_free(Schedule *s, bool stop) {
        ScheduleTimer *t = s->timer;

        if (stop && s->manager->bus) {
                (void) unit_stop(s->manager->bus, s->unit);
                if (t)
                        (void) unit_stop(s->manager->bus, t->service);
        }
        if (!t)
                return;
        s->timer = NULL;
        sd_bus_slot_unref(t->start_call);
        sd_bus_slot_unref(t->match_timer);
        sd_bus_slot_unref(t->match_service);
        sd_bus_slot_unref(t->query);
        sd_event_source_disable_unref(t->wait);
        free(t->timer_path);            /* from sd-bus: malloc() */
        free(t->service_path);
        g_free(t->service);
        g_free(t);
}
