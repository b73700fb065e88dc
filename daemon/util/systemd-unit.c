/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/: mechanisms the domains share: files without following links, workers, libcurl, units. */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <systemd/sd-event.h>

#include "l4m-bus-properties.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "systemd-unit.h"

#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER_INTERFACE "org.freedesktop.systemd1.Manager"
#define SYSTEMD_UNIT_INTERFACE "org.freedesktop.systemd1.Unit"
#define SYSTEMD_SERVICE_INTERFACE "org.freedesktop.systemd1.Service"
#define PROPERTIES_INTERFACE "org.freedesktop.DBus.Properties"
#define SYSTEMD_CALL_TIMEOUT_USEC (30 * G_USEC_PER_SEC)
/* A tracker whose look failed tries again after this long, doubling up to
 * the maximum while the looks keep failing. */
#define TRACKER_RETRY_MIN_USEC (1 * G_USEC_PER_SEC)
#define TRACKER_RETRY_MAX_USEC (30 * G_USEC_PER_SEC)

static int on_logged_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        g_autofree char *what = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        if (e && !sd_bus_error_has_name(e, "org.freedesktop.systemd1.NoSuchUnit"))
                log_warning("systemd refused to %s: %s", what, e->message);
        return 0;
}

static int call_logged(sd_bus *bus, const char *what, const char *method, const char *types, ...) {
        g_autoptr(sd_bus_message) m = NULL;
        char *what_copy;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, SYSTEMD_BUS_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER_INTERFACE, method);
        if (r < 0)
                return r;
        va_start(ap, types);
        r = sd_bus_message_appendv(m, types, ap);
        va_end(ap);
        if (r < 0)
                return r;
        what_copy = g_strdup(what);
        r = sd_bus_call_async(bus, NULL, m, on_logged_reply, what_copy, SYSTEMD_CALL_TIMEOUT_USEC);
        if (r < 0) {
                g_free(what_copy);
                return log_warning_errno(r, "Cannot ask systemd to %s: %s", what, STRERROR(r));
        }
        return 0;
}

int systemd_subscribe(sd_bus *bus) {
        return call_logged(bus, "send unit signals", "Subscribe", "");
}

int unit_stop(sd_bus *bus, const char *name) {
        g_autofree char *what = g_strdup_printf("stop %s", name);
        return call_logged(bus, what, "StopUnit", "ss", name, "replace");
}

int unit_stop_async(sd_bus *bus, const char *name, sd_bus_message_handler_t reply, void *userdata,
                    sd_bus_slot **ret_slot) {
        return sd_bus_call_method_async(bus, ret_slot, SYSTEMD_BUS_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER_INTERFACE,
                                        "StopUnit", reply, userdata, "ss", name, "replace");
}

int unit_reset_failed(sd_bus *bus, const char *name) {
        g_autofree char *what = g_strdup_printf("forget the failure of %s", name);
        return call_logged(bus, what, "ResetFailedUnit", "s", name);
}

int unit_start_transient(sd_bus *bus, const char *name, UnitPropertiesFunc fill, void *fill_userdata,
                         sd_bus_message_handler_t reply, void *userdata, sd_bus_slot **ret_slot) {
        return unit_start_transient_with_aux(bus, name, fill, fill_userdata, NULL, NULL, reply, userdata, ret_slot);
}

int unit_start_transient_with_aux(sd_bus *bus, const char *name, UnitPropertiesFunc fill, void *fill_userdata,
                                  const char *aux_name, UnitPropertiesFunc aux_fill,
                                  sd_bus_message_handler_t reply, void *userdata, sd_bus_slot **ret_slot) {
        g_autoptr(sd_bus_message) m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, SYSTEMD_BUS_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER_INTERFACE,
                                           "StartTransientUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", name, "fail");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = fill(m, fill_userdata);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sa(sv))");
        if (r >= 0 && aux_name) {
                r = sd_bus_message_open_container(m, 'r', "sa(sv)");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", aux_name);
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "(sv)");
                if (r >= 0)
                        r = aux_fill(m, fill_userdata);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
                if (r >= 0)
                        r = sd_bus_message_close_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return log_error_errno(r, "Cannot describe unit %s: %s", name, STRERROR(r));
        return sd_bus_call_async(bus, ret_slot, m, reply, userdata, SYSTEMD_CALL_TIMEOUT_USEC);
}

struct UnitWatch {
        sd_bus *bus;
        char *name;
        char *path;
        sd_bus_slot *match;
        sd_bus_slot *query;             /* the GetAll in flight, if any */
        bool again;                     /* a signal came while it was in flight */
        bool done;
        UnitDoneFunc callback;
        void *userdata;

        /* what the Unit interface said */
        char *load_state, *active_state, *sub_state;
        uint32_t pending_job;
};

static void unit_watch_query(UnitWatch *w, const char *interface);

/* Job (uo): the id of the job pending for the unit, 0 for none. */
static int read_job_id(sd_bus_message *m, const char *signature, void *dest) {
        const char *path;
        return sd_bus_message_read(m, "(uo)", dest, &path);
}

static const L4mBusProperty unit_watch_map[] = {
        { "LoadState", "s", l4m_bus_property_read_strdup, offsetof(UnitWatch, load_state) },
        { "ActiveState", "s", l4m_bus_property_read_strdup, offsetof(UnitWatch, active_state) },
        { "SubState", "s", l4m_bus_property_read_strdup, offsetof(UnitWatch, sub_state) },
        { "Job", "(uo)", read_job_id, offsetof(UnitWatch, pending_job) },
};

/* Result is borrowed from the reply, which outlives the outcome. */
static const L4mBusProperty unit_outcome_map[] = {
        { "Result", "s", NULL, offsetof(UnitOutcome, result) },
        { "ExecMainCode", "i", NULL, offsetof(UnitOutcome, exec_main_code) },
        { "ExecMainStatus", "i", NULL, offsetof(UnitOutcome, exec_main_status) },
        { "RuntimeMaxUSec", "t", NULL, offsetof(UnitOutcome, runtime_max_usec) },
        { "MemoryMax", "t", NULL, offsetof(UnitOutcome, memory_max) },
        { "TasksMax", "t", NULL, offsetof(UnitOutcome, tasks_max) },
};

static void unit_watch_finish(UnitWatch *w, const UnitOutcome *o) {
        w->done = true;
        w->match = sd_bus_slot_unref(w->match);
        w->callback(w, o, w->userdata);         /* may free w */
}

static bool unit_has_ended(const UnitWatch *w) {
        if (w->pending_job != 0 || !w->active_state)
                return false;
        return strcmp(w->active_state, "failed") == 0 || strcmp(w->active_state, "inactive") == 0 ||
               (strcmp(w->active_state, "active") == 0 && w->sub_state && strcmp(w->sub_state, "exited") == 0);
}

static int on_service_properties(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        UnitWatch *w = userdata;
        UnitOutcome o = { .gone = false };
        const sd_bus_error *e;
        int r;

        w->query = sd_bus_slot_unref(w->query);
        e = sd_bus_message_get_error(reply);
        if (e) {
                /* Gone between the two questions. */
                log_debug("Cannot read the service properties of %s: %s", w->name, e->message);
                o.gone = true;
                unit_watch_finish(w, &o);
                return 0;
        }
        r = l4m_bus_map_properties(reply, unit_outcome_map, L4M_ELEMENTSOF(unit_outcome_map), NULL, &o, NULL);
        if (r < 0) {
                log_warning_errno(r, "Cannot parse the service properties of %s: %s", w->name, STRERROR(r));
                return 0;
        }
        o.active_state = w->active_state;
        o.sub_state = w->sub_state;
        if (!o.result)
                o.result = "";
        unit_watch_finish(w, &o);
        return 0;
}

static int on_unit_properties(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        UnitWatch *w = userdata;
        const sd_bus_error *e;
        int r;

        w->query = sd_bus_slot_unref(w->query);
        e = sd_bus_message_get_error(reply);
        if (e) {
                UnitOutcome o = { .gone = true };

                if (!sd_bus_error_has_name(e, "org.freedesktop.systemd1.NoSuchUnit") &&
                    !sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_OBJECT)) {
                        log_warning("Cannot read the state of %s: %s", w->name, e->message);
                        return 0;       /* the next signal asks again */
                }
                unit_watch_finish(w, &o);
                return 0;
        }
        w->pending_job = 0;
        r = l4m_bus_map_properties(reply, unit_watch_map, L4M_ELEMENTSOF(unit_watch_map), NULL, w, NULL);
        if (r < 0) {
                log_warning_errno(r, "Cannot parse the state of %s: %s", w->name, STRERROR(r));
                return 0;
        }
        if (w->load_state && strcmp(w->load_state, "not-found") == 0) {
                UnitOutcome o = { .gone = true };
                unit_watch_finish(w, &o);
                return 0;
        }
        if (w->again) {
                w->again = false;
                unit_watch_query(w, SYSTEMD_UNIT_INTERFACE);
                return 0;
        }
        if (unit_has_ended(w))
                unit_watch_query(w, SYSTEMD_SERVICE_INTERFACE);
        return 0;
}

static void unit_watch_query(UnitWatch *w, const char *interface) {
        int r;

        assert(!w->query);
        r = sd_bus_call_method_async(w->bus, &w->query, SYSTEMD_BUS_NAME, w->path, PROPERTIES_INTERFACE, "GetAll",
                                     strcmp(interface, SYSTEMD_UNIT_INTERFACE) == 0 ? on_unit_properties
                                                                                   : on_service_properties,
                                     w, "s", interface);
        if (r < 0)
                log_warning_errno(r, "Cannot ask systemd about %s: %s", w->name, STRERROR(r));
}

void unit_watch_check(UnitWatch *w) {
        if (w->done)
                return;
        if (w->query) {
                w->again = true;
                return;
        }
        unit_watch_query(w, SYSTEMD_UNIT_INTERFACE);
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        unit_watch_check(userdata);
        return 0;
}

int unit_watch_new(sd_bus *bus, const char *name, UnitDoneFunc done, void *userdata, UnitWatch **ret) {
        UnitWatch *w;
        int r;

        w = g_new0(UnitWatch, 1);
        w->bus = sd_bus_ref(bus);
        w->name = g_strdup(name);
        w->callback = done;
        w->userdata = userdata;
        r = sd_bus_path_encode(SYSTEMD_PATH "/unit", name, &w->path);
        if (r < 0) {
                unit_watch_free(w);
                return r;
        }
        /* Asynchronous, but the bus applies it before anything we send
         * after it (a StartTransientUnit, say). */
        r = sd_bus_match_signal_async(bus, &w->match, SYSTEMD_BUS_NAME, w->path, PROPERTIES_INTERFACE,
                                      "PropertiesChanged", on_properties_changed, NULL, w);
        if (r < 0) {
                unit_watch_free(w);
                return log_error_errno(r, "Cannot watch unit %s: %s", name, STRERROR(r));
        }
        *ret = w;
        return 0;
}

UnitWatch *unit_watch_free(UnitWatch *w) {
        if (!w)
                return NULL;
        sd_bus_slot_unref(w->match);
        sd_bus_slot_unref(w->query);
        sd_bus_unref(w->bus);
        g_free(w->name);
        free(w->path);          /* from sd-bus: malloc() */
        g_free(w->load_state);
        g_free(w->active_state);
        g_free(w->sub_state);
        g_free(w);
        return NULL;
}

int unit_restart(sd_bus *bus, const char *name) {
        g_autofree char *what = g_strdup_printf("restart %s", name);
        return call_logged(bus, what, "RestartUnit", "ss", name, "replace");
}

struct UnitTracker {
        sd_bus *bus;
        char *name;
        char *path;
        sd_bus_slot *match_changed, *match_new, *match_removed;
        sd_bus_slot *query;             /* the GetUnit or GetAll in flight, if any */
        bool again;                     /* a signal came while it was in flight */
        sd_event_source *retry;         /* the next look after a failed one */
        uint64_t retry_usec;            /* the wait after the next failure; 0: the last look worked */
        UnitStateFunc callback;
        void *userdata;

        /* what the last look found */
        bool known;                     /* a look has completed */
        bool exists;
        char *active_state, *sub_state;
        uint32_t main_pid, pending_job;

        /* the look in flight */
        char *new_load_state, *new_active_state, *new_sub_state;
        uint32_t new_main_pid, new_pending_job;
};

static void unit_tracker_query(UnitTracker *t, const char *interface);

static int on_tracker_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        UnitTracker *t = userdata;

        if (!t->query)
                unit_tracker_query(t, SYSTEMD_UNIT_INTERFACE);
        return 0;
}

/* A look failed in a way that says nothing about the unit: a timeout,
 * systemd re-executing, the bus refusing the call. No signal may ever come
 * to make us look again (a unit that does not exist sends none), and until
 * a look works the owner does not know the state, so look again later,
 * waiting longer each time it fails. A signal that came while the failed
 * look was in flight is answered by that next look; one that comes before
 * it looks at once. */
static void unit_tracker_retry_later(UnitTracker *t, const char *what, const char *message) {
        sd_event *e = sd_bus_get_event(t->bus);
        int r;

        t->again = false;
        t->retry_usec = t->retry_usec == 0 ? TRACKER_RETRY_MIN_USEC : MIN(t->retry_usec * 2, TRACKER_RETRY_MAX_USEC);
        log_warning("Cannot %s %s: %s; trying again in %" G_GUINT64_FORMAT " s.", what, t->name, message,
                    t->retry_usec / G_USEC_PER_SEC);
        if (!e) {
                log_error("Cannot try again to look at %s: the bus has no event loop.", t->name);
                return;
        }
        if (t->retry) {
                r = sd_event_source_set_time_relative(t->retry, t->retry_usec);
                if (r >= 0)
                        r = sd_event_source_set_enabled(t->retry, SD_EVENT_ONESHOT);
        } else
                r = sd_event_add_time_relative(e, &t->retry, CLOCK_MONOTONIC, t->retry_usec, 0, on_tracker_retry, t);
        if (r < 0)
                log_error_errno(r, "Cannot schedule another look at %s: %s", t->name, STRERROR(r));
}

/* Into the look in flight. */
static const L4mBusProperty unit_tracker_map[] = {
        { "LoadState", "s", l4m_bus_property_read_strdup, offsetof(UnitTracker, new_load_state) },
        { "ActiveState", "s", l4m_bus_property_read_strdup, offsetof(UnitTracker, new_active_state) },
        { "SubState", "s", l4m_bus_property_read_strdup, offsetof(UnitTracker, new_sub_state) },
        { "Job", "(uo)", read_job_id, offsetof(UnitTracker, new_pending_job) },
};

static const L4mBusProperty unit_tracker_service_map[] = {
        { "MainPID", "u", NULL, offsetof(UnitTracker, new_main_pid) },
};

static bool streq_null(const char *a, const char *b) {
        return g_strcmp0(a, b) == 0;
}

/* The look is complete: publish it if anything changed. */
static void unit_tracker_publish(UnitTracker *t, bool exists) {
        UnitState s;
        bool changed;

        if (!exists) {
                g_clear_pointer(&t->new_active_state, g_free);
                g_clear_pointer(&t->new_sub_state, g_free);
                t->new_main_pid = 0;
                t->new_pending_job = 0;
        }
        changed = !t->known || t->exists != exists || !streq_null(t->active_state, t->new_active_state) ||
                  !streq_null(t->sub_state, t->new_sub_state) || t->main_pid != t->new_main_pid ||
                  t->pending_job != t->new_pending_job;
        if (t->retry_usec != 0)
                log_info("The state of %s is known again.", t->name);
        t->retry_usec = 0;
        t->known = true;
        t->exists = exists;
        g_free(t->active_state);
        t->active_state = g_steal_pointer(&t->new_active_state);
        g_free(t->sub_state);
        t->sub_state = g_steal_pointer(&t->new_sub_state);
        t->main_pid = t->new_main_pid;
        t->pending_job = t->new_pending_job;
        g_clear_pointer(&t->new_load_state, g_free);

        if (t->again) {
                /* Something changed meanwhile: what we have is stale. */
                t->again = false;
                unit_tracker_query(t, SYSTEMD_UNIT_INTERFACE);
        }
        if (!changed)
                return;
        s = (UnitState) {
                .exists = exists,
                .active_state = t->active_state ? t->active_state : "",
                .sub_state = t->sub_state ? t->sub_state : "",
                .main_pid = t->main_pid,
                .pending_job = t->pending_job,
        };
        t->callback(t, &s, t->userdata);        /* may free t */
}

static bool error_means_gone(const sd_bus_error *e) {
        return sd_bus_error_has_name(e, "org.freedesktop.systemd1.NoSuchUnit") ||
               sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_OBJECT) ||
               sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_INTERFACE);
}

/* How every reply to a look begins: true if it is an error, which is then
 * dealt with (the unit is gone, or a new look is scheduled). */
static bool tracker_reply_failed(UnitTracker *t, sd_bus_message *reply, const char *what) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        t->query = sd_bus_slot_unref(t->query);
        if (!e)
                return false;
        if (error_means_gone(e))
                unit_tracker_publish(t, false);
        else
                unit_tracker_retry_later(t, what, e->message);
        return true;
}

static int on_tracker_service(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        UnitTracker *t = userdata;
        int r;

        if (tracker_reply_failed(t, reply, "read the service state of"))
                return 0;
        t->new_main_pid = 0;
        r = l4m_bus_map_properties(reply, unit_tracker_service_map, L4M_ELEMENTSOF(unit_tracker_service_map), NULL, t,
                                   NULL);
        if (r < 0)
                log_warning_errno(r, "Cannot parse the service state of %s: %s", t->name, STRERROR(r));
        unit_tracker_publish(t, true);
        return 0;
}

static int on_tracker_unit(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        UnitTracker *t = userdata;
        int r;

        if (tracker_reply_failed(t, reply, "read the state of"))
                return 0;
        t->new_pending_job = 0;
        r = l4m_bus_map_properties(reply, unit_tracker_map, L4M_ELEMENTSOF(unit_tracker_map), NULL, t, NULL);
        if (r < 0) {
                unit_tracker_retry_later(t, "parse the state of", STRERROR(r));
                return 0;
        }
        if (t->new_load_state && strcmp(t->new_load_state, "not-found") == 0) {
                unit_tracker_publish(t, false);
                return 0;
        }
        /* An inactive unit that is still loaded (not yet collected) is as
         * good as gone for us. */
        unit_tracker_query(t, SYSTEMD_SERVICE_INTERFACE);
        return 0;
}

/* GetUnit first: unlike a call on the unit's object, it does not load a
 * unit systemd does not have. Loading one (and collecting it at once)
 * sends UnitNew and UnitRemoved, which would make us look again, forever. */
static int on_tracker_get_unit(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        UnitTracker *t = userdata;
        int r;

        if (tracker_reply_failed(t, reply, "look up"))
                return 0;
        r = sd_bus_call_method_async(t->bus, &t->query, SYSTEMD_BUS_NAME, t->path, PROPERTIES_INTERFACE, "GetAll",
                                     on_tracker_unit, t, "s", SYSTEMD_UNIT_INTERFACE);
        if (r < 0)
                unit_tracker_retry_later(t, "ask systemd about", STRERROR(r));
        return 0;
}

static void unit_tracker_query(UnitTracker *t, const char *interface) {
        int r;

        assert(!t->query);
        /* A look now makes the scheduled one moot. */
        if (t->retry)
                (void) sd_event_source_set_enabled(t->retry, SD_EVENT_OFF);
        if (strcmp(interface, SYSTEMD_UNIT_INTERFACE) == 0)
                r = sd_bus_call_method_async(t->bus, &t->query, SYSTEMD_BUS_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER_INTERFACE,
                                             "GetUnit", on_tracker_get_unit, t, "s", t->name);
        else
                r = sd_bus_call_method_async(t->bus, &t->query, SYSTEMD_BUS_NAME, t->path, PROPERTIES_INTERFACE, "GetAll",
                                             on_tracker_service, t, "s", interface);
        if (r < 0)
                unit_tracker_retry_later(t, "ask systemd about", STRERROR(r));
}

void unit_tracker_refresh(UnitTracker *t) {
        if (t->query) {
                t->again = true;
                return;
        }
        unit_tracker_query(t, SYSTEMD_UNIT_INTERFACE);
}

static int on_tracker_signal(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        unit_tracker_refresh(userdata);
        return 0;
}

int unit_tracker_new(sd_bus *bus, const char *name, UnitStateFunc changed, void *userdata, UnitTracker **ret) {
        g_autofree char *unit_match = NULL;
        UnitTracker *t;
        int r;

        t = g_new0(UnitTracker, 1);
        t->bus = sd_bus_ref(bus);
        t->name = g_strdup(name);
        t->callback = changed;
        t->userdata = userdata;
        r = sd_bus_path_encode(SYSTEMD_PATH "/unit", name, &t->path);
        if (r < 0) {
                unit_tracker_free(t);
                return r;
        }
        r = sd_bus_match_signal_async(bus, &t->match_changed, SYSTEMD_BUS_NAME, t->path, PROPERTIES_INTERFACE,
                                      "PropertiesChanged", on_tracker_signal, NULL, t);
        /* UnitNew/UnitRemoved carry the unit's name first. */
        if (r >= 0) {
                unit_match = g_strdup_printf("type='signal',sender='" SYSTEMD_BUS_NAME "',path='" SYSTEMD_PATH "',"
                                             "interface='" SYSTEMD_MANAGER_INTERFACE "',member='UnitNew',arg0='%s'", name);
                r = sd_bus_add_match_async(bus, &t->match_new, unit_match, on_tracker_signal, NULL, t);
        }
        if (r >= 0) {
                g_free(unit_match);
                unit_match = g_strdup_printf("type='signal',sender='" SYSTEMD_BUS_NAME "',path='" SYSTEMD_PATH "',"
                                             "interface='" SYSTEMD_MANAGER_INTERFACE "',member='UnitRemoved',arg0='%s'", name);
                r = sd_bus_add_match_async(bus, &t->match_removed, unit_match, on_tracker_signal, NULL, t);
        }
        if (r < 0) {
                unit_tracker_free(t);
                return log_error_errno(r, "Cannot watch unit %s: %s", name, STRERROR(r));
        }
        unit_tracker_query(t, SYSTEMD_UNIT_INTERFACE);
        *ret = t;
        return 0;
}

UnitTracker *unit_tracker_free(UnitTracker *t) {
        if (!t)
                return NULL;
        sd_bus_slot_unref(t->match_changed);
        sd_bus_slot_unref(t->match_new);
        sd_bus_slot_unref(t->match_removed);
        sd_bus_slot_unref(t->query);
        sd_event_source_disable_unref(t->retry);
        sd_bus_unref(t->bus);
        g_free(t->name);
        free(t->path);          /* from sd-bus: malloc() */
        g_free(t->active_state);
        g_free(t->sub_state);
        g_free(t->new_load_state);
        g_free(t->new_active_state);
        g_free(t->new_sub_state);
        g_free(t);
        return NULL;
}

typedef struct UsageQuery {
        UnitUsageFunc done;
        void *userdata;
} UsageQuery;

static const L4mBusProperty unit_usage_map[] = {
        { "MemoryCurrent", "t", NULL, offsetof(UnitUsage, memory_current) },
        { "TasksCurrent", "t", NULL, offsetof(UnitUsage, tasks_current) },
        { "CPUUsageNSec", "t", NULL, offsetof(UnitUsage, cpu_usage_nsec) },
        { "ControlGroup", "s", NULL, offsetof(UnitUsage, control_group) },
};

static int on_usage(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        UsageQuery *q = userdata;
        UnitUsage usage = { UINT64_MAX, UINT64_MAX, UINT64_MAX, NULL };
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int r;

        if (e)
                r = -sd_bus_error_get_errno(e);
        else {
                r = l4m_bus_map_properties(reply, unit_usage_map, L4M_ELEMENTSOF(unit_usage_map), NULL, &usage, NULL);
                if (r < 0)
                        usage = (UnitUsage) { UINT64_MAX, UINT64_MAX, UINT64_MAX, NULL };
        }
        q->done(r < 0 ? r : 0, &usage, q->userdata);
        return 0;
}

int unit_get_usage(sd_bus *bus, const char *name, UnitUsageFunc done, void *userdata, sd_bus_slot **ret_slot) {
        g_autofree char *path = NULL;
        UsageQuery *q;
        int r;

        r = sd_bus_path_encode(SYSTEMD_PATH "/unit", name, &path);
        if (r < 0)
                return r;
        q = g_new(UsageQuery, 1);
        *q = (UsageQuery) { done, userdata };
        r = sd_bus_call_method_async(bus, ret_slot, SYSTEMD_BUS_NAME, path, PROPERTIES_INTERFACE, "GetAll", on_usage, q,
                                     "s", SYSTEMD_SERVICE_INTERFACE);
        if (r < 0) {
                g_free(q);
                return r;
        }
        /* The query goes with the slot, answered or cancelled. */
        (void) sd_bus_slot_set_destroy_callback(*ret_slot, g_free);
        return 0;
}
