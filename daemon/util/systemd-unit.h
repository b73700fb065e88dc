/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/: mechanisms the domains share: files without following links, workers, libcurl, units. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

/* Talking to systemd (org.freedesktop.systemd1) about the transient units
 * the daemon starts: starting them, stopping them, and learning how they
 * ended. Every call is asynchronous. */

#define SYSTEMD_BUS_NAME "org.freedesktop.systemd1"

/* Asks systemd to send unit signals (it sends none to a bus nobody
 * subscribed on). */
int systemd_subscribe(sd_bus *bus);

/* StartTransientUnit(name, "fail", properties, {}): fill() appends the
 * properties, each as an "(sv)"; reply() gets systemd's answer. */
typedef int (*UnitPropertiesFunc)(sd_bus_message *m, void *userdata);
int unit_start_transient(sd_bus *bus, const char *name, UnitPropertiesFunc fill, void *fill_userdata,
                         sd_bus_message_handler_t reply, void *userdata, sd_bus_slot **ret_slot);

/* The same with one auxiliary unit (a timer's service, say) started in the
 * same call: aux_fill() appends its properties (fill_userdata too). */
int unit_start_transient_with_aux(sd_bus *bus, const char *name, UnitPropertiesFunc fill, void *fill_userdata,
                                  const char *aux_name, UnitPropertiesFunc aux_fill,
                                  sd_bus_message_handler_t reply, void *userdata, sd_bus_slot **ret_slot);

/* StopUnit(name, "replace") and ResetFailedUnit(name), answers only logged. */
int unit_stop(sd_bus *bus, const char *name);
/* StopUnit(name, "replace") with systemd's answer going to reply(). */
int unit_stop_async(sd_bus *bus, const char *name, sd_bus_message_handler_t reply, void *userdata,
                    sd_bus_slot **ret_slot);
int unit_reset_failed(sd_bus *bus, const char *name);

/* How a unit ended. A unit has ended when it has no job pending and is
 * failed, inactive, or active but exited (RemainAfterExit=yes). */
typedef struct UnitOutcome {
        bool gone;                      /* systemd knows no such unit (any more) */
        const char *active_state;       /* "failed", "inactive" or "active" */
        const char *sub_state;
        const char *result;             /* Service Result=: "success", "exit-code", "signal", "timeout", … */
        int32_t exec_main_code;         /* CLD_EXITED, CLD_KILLED or CLD_DUMPED; 0 = did not run */
        int32_t exec_main_status;       /* exit status or signal number */
        uint64_t runtime_max_usec;
        uint64_t memory_max;
        uint64_t tasks_max;
} UnitOutcome;

/* Follows one unit until it has ended (looking at once, then on each of
 * its PropertiesChanged signals) and calls done() once. The watch may be
 * freed in done(). */
typedef struct UnitWatch UnitWatch;
typedef void (*UnitDoneFunc)(UnitWatch *w, const UnitOutcome *o, void *userdata);
int unit_watch_new(sd_bus *bus, const char *name, UnitDoneFunc done, void *userdata, UnitWatch **ret);
/* Looks again now (after starting the unit, say). */
void unit_watch_check(UnitWatch *w);
UnitWatch *unit_watch_free(UnitWatch *w);

/* Follows one unit for as long as it is wanted (a server's): what systemd
 * says of it now, learnt once at the start and again on each of its
 * PropertiesChanged signals and on UnitNew/UnitRemoved for its name; never
 * by polling. A look that fails for another reason than the unit being
 * gone (a timeout, systemd re-executing) is tried again after 1 s, then
 * after twice as long each time up to 30 s, until one works. changed() is
 * called after each look that found something different; the tracker may
 * be freed in it. The bus must be attached to an event loop. */
typedef struct UnitState {
        bool exists;                    /* false: systemd knows no such unit (gone, or never started) */
        const char *active_state;       /* "" when !exists */
        const char *sub_state;
        uint32_t main_pid;              /* 0 when none */
        uint32_t pending_job;           /* a job queued for the unit, 0 = none */
} UnitState;
typedef struct UnitTracker UnitTracker;
typedef void (*UnitStateFunc)(UnitTracker *t, const UnitState *s, void *userdata);
int unit_tracker_new(sd_bus *bus, const char *name, UnitStateFunc changed, void *userdata, UnitTracker **ret);
/* Looks again now (after a start or stop, say). */
void unit_tracker_refresh(UnitTracker *t);
UnitTracker *unit_tracker_free(UnitTracker *t);

/* RestartUnit(name, "replace"), answer only logged. */
int unit_restart(sd_bus *bus, const char *name);

/* What a service unit uses now, from its cgroup (org.freedesktop.systemd1.Service's
 * MemoryCurrent, TasksCurrent, CPUUsageNSec): UINT64_MAX where systemd
 * does not know (no such controller, no such unit). */
typedef struct UnitUsage {
        uint64_t memory_current;
        uint64_t tasks_current;
        uint64_t cpu_usage_nsec;
        const char *control_group;      /* ControlGroup, "/system.slice/x.service"; NULL if unknown */
} UnitUsage;
/* Asks systemd asynchronously; done() gets the answer (r < 0: the call
 * failed, usage all UINT64_MAX; control_group valid during done() only).
 * Freeing *ret_slot cancels the call. */
typedef void (*UnitUsageFunc)(int r, const UnitUsage *usage, void *userdata);
int unit_get_usage(sd_bus *bus, const char *name, UnitUsageFunc done, void *userdata, sd_bus_slot **ret_slot);
