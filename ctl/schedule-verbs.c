/* SPDX-License-Identifier: GPL-2.0-or-later */
/* l4mctl schedule ...: org.left4me.Manager's schedule methods and
 * org.left4me.Schedule. The calendar, action and target go to the daemon as
 * given: it (and, for the calendar, systemd) judges them and names what it
 * refuses. */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bus-error.h"
#include "bus-properties.h"
#include "exit-codes.h"
#include "json-output.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "verbs.h"

#define USEC_PER_SEC UINT64_C(1000000)

/* l4mctl schedule list */
int verb_schedule_list(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(Table) table = table_new();
        const char *path, *name, *owner, *calendar, *action, *target, *result;
        int enabled, r;

        assert(bus);
        assert(args);

        r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE,
                               "ListSchedules", &error, &reply, NULL);
        if (r < 0)
                return log_bus_error(&error, r, "cannot list schedules");

        table_add_column(table, "NAME", "name");
        table_add_column(table, "OWNER", "owner");
        table_add_column(table, "CALENDAR", "calendar");
        table_add_column(table, "ACTION", "action");
        table_add_column(table, "TARGET", "target");
        table_add_column(table, "ENABLED", "enabled");
        table_add_column(table, "LAST RESULT", "last_result");
        table_add_column(table, NULL, "path");

        r = sd_bus_message_enter_container(reply, 'a', "(ossssssb)");
        if (r < 0)
                return bus_log_parse_error(r);
        while ((r = sd_bus_message_read(reply, "(ossssssb)", &path, &name, &owner, &calendar, &action, &target,
                                        &result, &enabled)) > 0) {
                table_add_string(table, name);
                table_add_string(table, owner);
                table_add_string(table, calendar);
                table_add_string(table, action);
                table_add_string(table, target);
                table_add_boolean(table, enabled);
                table_add_string(table, result);
                table_add_path(table, path);
        }
        if (r < 0)
                return bus_log_parse_error(r);

        return table_output(table, TABLE_ROWS, table_flags(args));
}

/* l4mctl schedule create NAME CALENDAR ACTION TARGET [ARG] [--only-if-running]
 * [--randomized-delay=SEC] [--restart-instances] [--stop] [--disabled] */
int verb_schedule_create(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) m = NULL, reply = NULL;
        const char *path;
        int r;

        assert(bus);
        assert(args);

        r = sd_bus_message_new_method_call(bus, &m, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE,
                                           "CreateSchedule");
        if (r >= 0)
                r = sd_bus_message_append(m, "ssss", argv[0], argv[1], argv[2], argv[3]);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && argv[4])
                r = sd_bus_message_append(m, "{sv}", "argument", "s", argv[4]);
        if (r >= 0 && args->only_if_running)
                r = sd_bus_message_append(m, "{sv}", "only_if_running", "b", 1);
        if (r >= 0 && args->randomized_delay_sec > 0)
                r = sd_bus_message_append(m, "{sv}", "randomized_delay_usec", "t",
                                          (uint64_t) args->randomized_delay_sec * USEC_PER_SEC);
        if (r >= 0 && args->restart_instances)
                r = sd_bus_message_append(m, "{sv}", "restart_instances", "b", 1);
        if (r >= 0 && args->stop)
                r = sd_bus_message_append(m, "{sv}", "stop", "b", 1);
        if (r >= 0 && args->disabled)
                r = sd_bus_message_append(m, "{sv}", "enabled", "b", 0);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return bus_log_create_error(r);

        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0)
                return log_bus_error(&error, r, "cannot create schedule \"%s\"", argv[0]);
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return bus_log_parse_error(r);
        return print_created(args->json, argv[0], path);
}

/* What schedule show prints, as read from GetAll. */
typedef struct ScheduleValues {
        const char *name, *owner, *calendar, *action, *target, *argument, *unit, *last_result, *last_job;
        int enabled, only_if_running, restart_instances, stop_server, target_missing;
        uint64_t created, randomized_delay, next_elapse, last_run;
} ScheduleValues;

/* l4mctl schedule show NAME */
int verb_schedule_show(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(Table) table = table_new();
        g_autofree char *what = NULL, *path = NULL;
        ScheduleValues v = { NULL };
        const BusProperty map[] = {
                { "Name", "s", &v.name },
                { "Owner", "s", &v.owner },
                { "Calendar", "s", &v.calendar },
                { "Action", "s", &v.action },
                { "Target", "s", &v.target },
                { "Argument", "s", &v.argument },
                { "Unit", "s", &v.unit },
                { "LastResult", "s", &v.last_result },
                { "LastJob", "o", &v.last_job },
                { "Enabled", "b", &v.enabled },
                { "OnlyIfRunning", "b", &v.only_if_running },
                { "RestartInstances", "b", &v.restart_instances },
                { "StopServer", "b", &v.stop_server },
                { "TargetMissing", "b", &v.target_missing },
                { "Created", "t", &v.created },
                { "RandomizedDelayUSec", "t", &v.randomized_delay },
                { "NextElapse", "t", &v.next_elapse },
                { "LastRun", "t", &v.last_run },
        };
        int r;

        assert(bus);
        assert(args);

        what = g_strdup_printf("cannot show schedule \"%s\"", argv[0]);
        r = bus_get_object_path(bus, "GetSchedule", argv[0], what, &path);
        if (r != 0)
                return r;
        r = bus_get_all_properties(bus, path, L4M_SCHEDULE_INTERFACE, what, &reply);
        if (r != 0)
                return r;
        r = bus_read_properties(reply, map, L4M_ELEMENTSOF(map), NULL);
        if (r < 0)
                return bus_log_parse_error(r);

        table_add_column(table, "Name", "name");
        table_add_column(table, "Owner", "owner");
        table_add_column(table, "Calendar", "calendar");
        table_add_column(table, "Action", "action");
        table_add_column(table, "Target", "target");
        table_add_column(table, "Target missing", "target_missing");
        table_add_column(table, "Argument", "argument");
        table_add_column(table, "Only if running", "only_if_running");
        table_add_column(table, "Restart instances", "restart_instances");
        table_add_column(table, "Stop server", "stop_server");
        table_add_column(table, "Randomized delay (s)", "randomized_delay_sec");
        table_add_column(table, "Enabled", "enabled");
        table_add_column(table, "Next elapse", "next_elapse");
        table_add_column(table, "Last run", "last_run");
        table_add_column(table, "Last result", "last_result");
        table_add_column(table, "Last job", "last_job");
        table_add_column(table, "Unit", "unit");
        table_add_column(table, "Created", "created");
        table_add_column(table, NULL, "path");

        table_add_string(table, v.name);
        table_add_string(table, v.owner);
        table_add_string(table, v.calendar);
        table_add_string(table, v.action);
        table_add_string(table, v.target);
        table_add_boolean(table, v.target_missing);
        table_add_string(table, v.argument);
        table_add_boolean(table, v.only_if_running);
        table_add_boolean(table, v.restart_instances);
        table_add_boolean(table, v.stop_server);
        table_add_uint64(table, v.randomized_delay / USEC_PER_SEC);
        table_add_boolean(table, v.enabled);
        table_add_timestamp(table, v.next_elapse);
        table_add_timestamp(table, v.last_run);
        table_add_string(table, v.last_result);
        if (v.last_job && strcmp(v.last_job, "/") != 0)
                table_add_path(table, v.last_job);
        else
                table_add_empty(table);
        table_add_string(table, v.unit);
        table_add_timestamp(table, v.created);
        table_add_path(table, path);
        return table_output(table, TABLE_OBJECT, table_flags(args));
}

/* A method of schedule name: verb names it in errors. */
static int call_on_schedule(sd_bus *bus, const char *name, const char *verb, const char *method, const char *types,
                            ...) {
        g_autofree char *what = g_strdup_printf("cannot %s schedule \"%s\"", verb, name);
        va_list ap;
        int r;

        va_start(ap, types);
        r = bus_call_by_name(bus, "GetSchedule", L4M_SCHEDULE_INTERFACE, name, what, method, NULL, types, ap);
        va_end(ap);
        return r;
}

int verb_schedule_enable(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        return call_on_schedule(bus, argv[0], "enable", "SetEnabled", "b", 1);
}

int verb_schedule_disable(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        return call_on_schedule(bus, argv[0], "disable", "SetEnabled", "b", 0);
}

int verb_schedule_run(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        return call_on_schedule(bus, argv[0], "run", "Run", NULL);
}

int verb_schedule_delete(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        return call_on_schedule(bus, argv[0], "delete", "Delete", NULL);
}
