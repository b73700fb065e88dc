/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "backup.h"
#include "blueprint.h"
#include "bus-util.h"
#include "caller.h"
#include "config.h"
#include "instance.h"
#include "game-install.h"
#include "l4m-bus-names.h"
#include "systemd-unit.h"
#include "l4m-log.h"
#include "l4m-names.h"
#include "list-objects.h"
#include "l4m-util.h"
#include "manager.h"
#include "job.h"
#include "overlay.h"
#include "schedule.h"
#include "script-uids.h"
#include "owner-quota.h"
#include "workshop-cache.h"

static int property_get_version(sd_bus *bus, const char *path, const char *interface,
                                const char *property, sd_bus_message *reply, void *userdata,
                                sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", L4M_VERSION);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_VTABLE_END
};

/* Every object the daemon serves: the manager, whose interface is made of
 * one vtable per domain (sd-bus joins vtables registered for the same
 * path and interface), and one subtree per kind of entity, each with its
 * find and enumerator callbacks (the caller sees only what it may). */
typedef struct BusObject {
        const char *path;               /* the object, or with find the subtree's prefix */
        const char *interface;
        const sd_bus_vtable *vtable;
        sd_bus_object_find_t find;
        sd_bus_node_enumerator_t enumerator;
        const char *what;
} BusObject;

static const BusObject bus_objects[] = {
        { L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, manager_vtable, .what = "the manager object" },
        { L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, overlay_manager_vtable, .what = "the manager's overlay members" },
        { L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, owner_quota_manager_vtable, .what = "the manager's storage quota members" },
        { L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, blueprint_manager_vtable, .what = "the manager's blueprint members" },
        { L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, job_manager_vtable, .what = "the manager's job members" },
        { L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, workshop_cache_manager_vtable, .what = "the manager's cache members" },
        { L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, instance_manager_vtable, .what = "the manager's instance members" },
        { L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, game_manager_vtable, .what = "the manager's game members" },
        { L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, user_manager_vtable, .what = "the manager's web account members" },
        { L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, config_manager_vtable, .what = "the manager's configuration members" },
        { L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, schedule_manager_vtable, .what = "the manager's schedule members" },
        { L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, backup_manager_vtable, .what = "the manager's backup members" },
        { L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, list_objects_manager_vtable, .what = "the manager's ListObjects" },
        { L4M_OVERLAY_PATH_PREFIX, L4M_OVERLAY_INTERFACE, overlay_vtable, overlay_object_find, overlay_node_enumerator,
          "overlay objects" },
        { L4M_BLUEPRINT_PATH_PREFIX, L4M_BLUEPRINT_INTERFACE, blueprint_vtable, blueprint_object_find,
          blueprint_node_enumerator, "blueprint objects" },
        { L4M_INSTANCE_PATH_PREFIX, L4M_INSTANCE_INTERFACE, instance_vtable, instance_object_find,
          instance_node_enumerator, "instance objects" },
        { L4M_JOB_PATH_PREFIX, L4M_JOB_INTERFACE, job_vtable, job_object_find, job_node_enumerator, "job objects" },
        { L4M_SCHEDULE_PATH_PREFIX, L4M_SCHEDULE_INTERFACE, schedule_vtable, schedule_object_find,
          schedule_node_enumerator, "schedule objects" },
};

static int register_bus_object(Manager *m, const BusObject *o) {
        int r;

        if (!o->find)
                r = sd_bus_add_object_vtable(m->bus, NULL, o->path, o->interface, o->vtable, m);
        else
                r = sd_bus_add_fallback_vtable(m->bus, NULL, o->path, o->interface, o->vtable, o->find, m);
        if (r >= 0 && o->enumerator)
                r = sd_bus_add_node_enumerator(m->bus, NULL, o->path, o->enumerator, m);
        if (r < 0)
                return log_error_errno(r, "Cannot register %s: %s", o->what, STRERROR(r));
        return 0;
}

void manager_emit_object_added(Manager *m, const char *path) {
        int r;

        if (!m->bus)
                return;
        r = sd_bus_emit_object_added(m->bus, path);
        if (r < 0)
                log_warning_errno(r, "Cannot announce %s: %s", path, STRERROR(r));
}

void manager_emit_properties_changed(Manager *m, const char *path, const char *interface, ...) {
        g_autoptr(GPtrArray) names = g_ptr_array_new();
        const char *name;
        va_list ap;
        int r;

        if (!m->bus)
                return;
        va_start(ap, interface);
        while ((name = va_arg(ap, const char *)))
                g_ptr_array_add(names, (char *) name);
        va_end(ap);
        g_ptr_array_add(names, NULL);
        r = sd_bus_emit_properties_changed_strv(m->bus, path, interface, (char **) names->pdata);
        if (r < 0)
                log_debug_errno(r, "Cannot announce changes of %s: %s", path, STRERROR(r));
}

void manager_emit_object_removed(Manager *m, const char *path) {
        int r;

        if (!m->bus)
                return;
        r = sd_bus_emit_object_removed(m->bus, path);
        if (r < 0)
                log_warning_errno(r, "Cannot announce removal of %s: %s", path, STRERROR(r));
}

static int name_acquired(sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        double ms;

        if (e) {
                log_error("Cannot acquire bus name " L4M_BUS_NAME ": %s: %s", e->name, e->message);
                return sd_event_exit(m->event, -EADDRINUSE);
        }

        ms = (double) (g_get_monotonic_time() - m->start_usec) / 1000.0;
        log_struct_errno(LOG_INFO, 0,
                         ((const char *[]) { "L4M_EVENT=name-acquired", NULL }),
                         "Acquired name " L4M_BUS_NAME " %.1f ms after start.", ms);
        (void) sd_notifyf(false, "READY=1\nSTATUS=Serving %u overlay(s).",
                          g_hash_table_size(m->overlays_by_id));
        return 1;
}

int manager_connect_bus(Manager *m) {
        int r;

        r = sd_bus_open_system_with_description(&m->bus, "left4med");
        if (r < 0)
                return log_error_errno(r, "Cannot connect to the system bus: %s", STRERROR(r));

        for (size_t k = 0; k < L4M_ELEMENTSOF(bus_objects); k++) {
                r = register_bus_object(m, &bus_objects[k]);
                if (r < 0)
                        return r;
        }
        r = sd_bus_add_object_manager(m->bus, NULL, L4M_MANAGER_PATH);
        if (r < 0)
                return log_error_errno(r, "Cannot register the object manager: %s", STRERROR(r));

        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Cannot attach the bus to the event loop: %s", STRERROR(r));
        r = sd_bus_set_exit_on_disconnect(m->bus, true);
        if (r < 0)
                return log_error_errno(r, "Cannot set exit-on-disconnect: %s", STRERROR(r));
        r = delegation_registry_attach(m->delegations, m->bus);
        if (r < 0)
                return log_error_errno(r, "Cannot follow web sessions' connections: %s", STRERROR(r));

        /* Units of jobs that were running when we stopped: follow them again. */
        r = systemd_subscribe(m->bus);
        if (r < 0)
                return log_error_errno(r, "Cannot subscribe to systemd's signals: %s", STRERROR(r));
        /* The uids script units hold, before their jobs are resumed. */
        script_uids_recover(m->script_uids);
        manager_resume_jobs(m);
        /* Servers run on whatever the daemon does: learn their state again
         * (and, after boot, start the autostart ones). */
        manager_start_instances(m);
        /* Schedules' timers, made again (a run missed meanwhile happens
         * once: Persistent=). */
        manager_start_schedules(m);

        /* Objects first, name last: once callers can find us, we answer. */
        r = sd_bus_request_name_async(m->bus, NULL, L4M_BUS_NAME, 0, name_acquired, m);
        if (r < 0)
                return log_error_errno(r, "Cannot request bus name " L4M_BUS_NAME ": %s", STRERROR(r));
        return 0;
}
