/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/scripts/: script overlays: the owner's script run in its sandbox unit, as a job. */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "job.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "script-build.h"
#include "script-uids.h"
#include "script-unit.h"
#include "systemd-unit.h"
#include "userdb-record.h"

#define RECOVER_RETRY_USEC (5 * G_USEC_PER_SEC)

typedef struct Hold {
        ScriptUids *owner;
        uid_t uid;
        char *unit;
        UnitTracker *tracker;
        bool exists;                    /* systemd has the unit, as last seen */
        bool ended;                     /* the run is over: the unit goes (or never came) */
} Hold;

struct ScriptUids {
        Manager *manager;
        GHashTable *holds;              /* GUINT_TO_POINTER(uid) → Hold* (owned) */
        uid_t next;                     /* where the next search starts */
        bool known;                     /* the units of before a restart are counted */
        sd_event_source *retry;
};

static void hold_free(Hold *h) {
        if (!h)
                return;
        unit_tracker_free(h->tracker);
        g_free(h->unit);
        g_free(h);
}

ScriptUids *script_uids_new(Manager *m) {
        ScriptUids *u = g_new0(ScriptUids, 1);

        u->manager = m;
        u->holds = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify) hold_free);
        return u;
}

ScriptUids *script_uids_free(ScriptUids *u) {
        if (!u)
                return NULL;
        sd_event_source_disable_unref(u->retry);
        g_hash_table_destroy(u->holds);
        g_free(u);
        return NULL;
}

static void hold_release(Hold *h) {
        ScriptUids *u = h->owner;

        log_debug("uid %u is free again: %s is gone.", (unsigned) h->uid, h->unit);
        g_hash_table_remove(u->holds, GUINT_TO_POINTER(h->uid));        /* frees h */
        job_schedule_dispatch(u->manager);
}

static void on_unit_state(UnitTracker *t, const UnitState *s, void *userdata) {
        Hold *h = userdata;

        h->exists = s->exists;
        if (!s->exists && h->ended)
                hold_release(h);
}

static Hold *hold_new(ScriptUids *u, uid_t uid, const char *unit) {
        Hold *h = g_new0(Hold, 1);
        int r;

        h->owner = u;
        h->uid = uid;
        h->unit = g_strdup(unit);
        /* Until the tracker says otherwise, the unit may exist. */
        h->exists = true;
        g_hash_table_replace(u->holds, GUINT_TO_POINTER(uid), h);
        r = unit_tracker_new(u->manager->bus, unit, on_unit_state, h, &h->tracker);
        if (r < 0)
                log_error_errno(r, "Cannot follow %s: uid %u stays in use: %s", unit, (unsigned) uid, STRERROR(r));
        return h;
}

static Hold *find_hold(ScriptUids *u, const char *unit) {
        GHashTableIter it;
        gpointer value;

        g_hash_table_iter_init(&it, u->holds);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                Hold *h = value;
                if (strcmp(h->unit, unit) == 0)
                        return h;
        }
        return NULL;
}

static bool in_range(const Config *c, uid_t uid) {
        return uid >= c->script_first_uid && uid <= c->script_last_uid;
}

bool script_uids_available(ScriptUids *u) {
        const Config *c = u->manager->config;
        unsigned held = 0;
        GHashTableIter it;
        gpointer key;

        if (!u->known)
                return false;
        g_hash_table_iter_init(&it, u->holds);
        while (g_hash_table_iter_next(&it, &key, NULL))
                if (in_range(c, GPOINTER_TO_UINT(key)))
                        held++;
        return held < c->script_last_uid - c->script_first_uid + 1;
}

int script_uid_take(ScriptUids *u, const char *unit, uid_t *ret) {
        const Config *c = u->manager->config;
        unsigned n = c->script_last_uid - c->script_first_uid + 1;
        uid_t start = in_range(c, u->next) ? u->next : c->script_first_uid;

        if (!u->known)
                return -EBUSY;
        for (unsigned i = 0; i < n; i++) {
                uid_t uid = c->script_first_uid + (start - c->script_first_uid + i) % n;
                int r;

                if (g_hash_table_contains(u->holds, GUINT_TO_POINTER(uid)))
                        continue;
                /* systemd resolves the unit's User= through it. */
                r = userdb_record_write(USERDB_RECORD_DIR, uid, "left4me script run");
                if (r < 0)
                        return log_error_errno(r, "Cannot write the user record of uid %u to " USERDB_RECORD_DIR ": %s",
                                               (unsigned) uid, STRERROR(r));
                (void) hold_new(u, uid, unit);
                u->next = uid == c->script_last_uid ? c->script_first_uid : uid + 1;
                *ret = uid;
                return 0;
        }
        return -EBUSY;
}

void script_uid_run_ended(ScriptUids *u, const char *unit) {
        Hold *h = find_hold(u, unit);

        if (!h)
                return;
        h->ended = true;
        if (!h->exists)
                hold_release(h);
        else if (h->tracker)
                unit_tracker_refresh(h->tracker);
}

bool script_uid_of_unit(ScriptUids *u, const char *unit, uid_t *ret) {
        Hold *h = find_hold(u, unit);

        if (!h)
                return false;
        *ret = h->uid;
        return true;
}

/* Is a job running whose unit this is (one manager_resume_jobs() picks
 * up)? */
static bool unit_has_running_job(Manager *m, const char *unit) {
        GHashTableIter it;
        gpointer value;

        g_hash_table_iter_init(&it, m->jobs_by_id);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                Job *j = value;
                g_autofree char *name = NULL;

                if (j->kind != &script_build_kind || j->state != JOB_RUNNING)
                        continue;
                name = script_unit_name(j->id);
                if (strcmp(name, unit) == 0)
                        return true;
        }
        return false;
}

/* One unit systemd has: it holds the uid of its User=. */
static int recover_unit(ScriptUids *u, const char *unit, const char *object) {
        sd_bus *bus = u->manager->bus;
        __attribute__((cleanup(sd_bus_error_free))) sd_bus_error error = SD_BUS_ERROR_NULL;
        g_autofree char *user = NULL;
        guint64 uid = 0;
        Hold *h = NULL;
        int r;

        r = sd_bus_get_property_string(bus, SYSTEMD_BUS_NAME, object, "org.freedesktop.systemd1.Service", "User",
                                       &error, &user);
        if (r < 0)
                return log_warning_errno(r, "Cannot read User= of %s: %s", unit, error.message ? error.message : STRERROR(r));
        /* A unit of a version that ran every script as one system user holds
         * no uid of the range. */
        if (g_ascii_string_to_unsigned(user, 10, 1, G_MAXUINT32 - 1, &uid, NULL) &&
            !g_hash_table_contains(u->holds, GUINT_TO_POINTER((uid_t) uid)))
                h = hold_new(u, (uid_t) uid, unit);
        if (h && in_range(u->manager->config, h->uid) && h->uid >= u->next)
                u->next = h->uid + 1;
        if (unit_has_running_job(u->manager, unit)) {
                log_info("%s runs on with uid %s.", unit, user);
                return 0;
        }
        /* Its job ended (its outcome recorded) before the unit was collected. */
        log_info("Stopping %s (uid %s): no running job is its.", unit, user);
        if (h)
                h->ended = true;
        (void) unit_stop(bus, unit);
        (void) unit_reset_failed(bus, unit);
        return 0;
}

static int recover(ScriptUids *u) {
        sd_bus *bus = u->manager->bus;
        __attribute__((cleanup(sd_bus_error_free))) sd_bus_error error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(GPtrArray) units = g_ptr_array_new_with_free_func(g_free);
        const char *name, *object;
        int r;

        r = sd_bus_call_method(bus, SYSTEMD_BUS_NAME, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                               "ListUnitsByPatterns", &error, &reply, "asas", 0, 1, "left4me-script-*.service");
        if (r < 0)
                return log_warning_errno(r, "Cannot list the script units: %s", error.message ? error.message : STRERROR(r));
        r = sd_bus_message_enter_container(reply, 'a', "(ssssssouso)");
        while (r > 0) {
                r = sd_bus_message_read(reply, "(ssssssouso)", &name, NULL, NULL, NULL, NULL, NULL, &object, NULL, NULL,
                                        NULL);
                if (r > 0) {
                        g_ptr_array_add(units, g_strdup(name));
                        g_ptr_array_add(units, g_strdup(object));
                }
        }
        if (r < 0)
                return log_warning_errno(r, "Cannot read the list of script units: %s", STRERROR(r));
        for (guint i = 0; i + 1 < units->len; i += 2) {
                r = recover_unit(u, units->pdata[i], units->pdata[i + 1]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int on_recover_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        script_uids_recover(userdata);
        return 0;
}

void script_uids_recover(ScriptUids *u) {
        int r;

        assert(u->manager->bus);
        /* Nothing is half done: a failed pass drops what it found. */
        g_hash_table_remove_all(u->holds);
        r = recover(u);
        if (r >= 0) {
                u->known = true;
                u->retry = sd_event_source_disable_unref(u->retry);
                log_debug("Script runs hold %u uid(s).", g_hash_table_size(u->holds));
                job_schedule_dispatch(u->manager);
                return;
        }
        g_hash_table_remove_all(u->holds);
        log_warning("No script starts until the uids of running scripts are known; trying again in %u s.",
                    (unsigned) (RECOVER_RETRY_USEC / G_USEC_PER_SEC));
        if (u->retry) {
                r = sd_event_source_set_time_relative(u->retry, RECOVER_RETRY_USEC);
                if (r >= 0)
                        r = sd_event_source_set_enabled(u->retry, SD_EVENT_ONESHOT);
        } else
                r = sd_event_add_time_relative(u->manager->event, &u->retry, CLOCK_MONOTONIC, RECOVER_RETRY_USEC, 0,
                                               on_recover_retry, u);
        if (r < 0)
                log_error_errno(r, "Cannot schedule another look at the script units: %s", STRERROR(r));
}
