/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/jobs/: the job engine: queued work with progress, a bounded log, cancellation and retention. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "authorize.h"
#include "bus-util.h"
#include "caller.h"
#include "job.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"

static int property_get_state(sd_bus *bus, const char *path, const char *interface,
                              const char *property, sd_bus_message *reply, void *userdata,
                              sd_bus_error *error) {
        Job *j = userdata;
        return sd_bus_message_append(reply, "s", job_state_to_string(j->state));
}

/* The owner acts with the action of the job's kind (reads with
 * org.left4me.read); acting on anyone else's job is administration. */
static int authorize(Job *j, sd_bus_message *msg, const char *owner_action, const char *verb, sd_bus_error *error) {
        char id[24];

        (void) g_snprintf(id, sizeof id, "%" G_GUINT64_FORMAT, j->id);
        return authorize_call(j->manager, msg, &(AuthorizeRequest) {
                                      .action = owner_action,
                                      .verb = verb,
                                      .kind = "job",
                                      .name = id,
                                      .owners = { j->owner },
                              }, NULL, error);
}

static int method_cancel(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autofree char *problem = NULL;
        Job *j = userdata;
        int r;

        r = authorize(j, msg, j->kind ? j->kind->action : L4M_ACTION_ADMIN, "cancel", error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = job_cancel(j, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Cancelling the job");
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_open_log(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_close_ int fd = -1;
        Job *j = userdata;
        int follow, r;

        r = sd_bus_message_read(msg, "b", &follow);
        if (r < 0)
                return r;

        r = authorize(j, msg, L4M_ACTION_READ, "read the log of", error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = job_log_reader_new(j, follow, &fd);
        if (r == -EBUSY)
                return sd_bus_error_setf(error, L4M_ERROR_BUSY, "Job %" G_GUINT64_FORMAT " has %u log readers already.",
                                         j->id, JOB_LOG_READERS_MAX);
        if (r < 0)
                return bus_error_internal(error, r, "Opening the job log");

        return sd_bus_reply_method_return(msg, "h", fd);
}

const sd_bus_vtable job_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "t", NULL, offsetof(Job, id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Kind", "s", NULL, offsetof(Job, kind_name), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Target", "s", NULL, offsetof(Job, target), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Owner", "s", NULL, offsetof(Job, owner), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", property_get_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Progress", "d", NULL, offsetof(Job, progress), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Message", "s", NULL, offsetof(Job, message), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Created", "t", NULL, offsetof(Job, created), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Started", "t", NULL, offsetof(Job, started), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Finished", "t", NULL, offsetof(Job, finished), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD("Cancel", "", "", method_cancel, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("OpenLog",
                                SD_BUS_ARGS("b", follow),
                                SD_BUS_RESULT("h", log),
                                method_open_log, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int job_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                    void **ret_found, sd_bus_error *error) {
        Job *j = manager_find_job_by_path(userdata, path);

        if (!j || !caller_sees_object(userdata, bus, path, j->owner))
                return 0;
        *ret_found = j;
        return 1;
}

int job_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***ret_nodes,
                        sd_bus_error *error) {
        return caller_enumerate_objects(userdata, bus, ((Manager *) userdata)->jobs_by_id, offsetof(Job, path),
                                        offsetof(Job, owner), ret_nodes);
}

void job_emit_changed(Job *j, const char *property, ...) {
        const char *names[16];
        size_t n = 0;
        va_list ap;
        int r;

        if (!j->manager->bus)
                return;
        va_start(ap, property);
        for (const char *p = property; p && n < G_N_ELEMENTS(names) - 1; p = va_arg(ap, const char *))
                names[n++] = p;
        va_end(ap);
        names[n] = NULL;

        r = sd_bus_emit_properties_changed_strv(j->manager->bus, j->path, L4M_JOB_INTERFACE, (char **) names);
        if (r < 0)
                log_debug_errno(r, "Cannot announce changes of job %" G_GUINT64_FORMAT ": %s", j->id, STRERROR(r));
}

void job_emit_new(Job *j) {
        sd_bus *bus = j->manager->bus;

        if (!bus)
                return;
        (void) sd_bus_emit_object_added(bus, j->path);
        (void) sd_bus_emit_signal(bus, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, "JobNew", "to", j->id, j->path);
}

void job_emit_removed(Job *j) {
        sd_bus *bus = j->manager->bus;

        if (!bus)
                return;
        (void) sd_bus_emit_signal(bus, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, "JobRemoved", "tos",
                                  j->id, j->path, job_state_to_string(j->state));
}

/* --- org.left4me.Manager's job methods and signals ---------------------- */

static gint job_compare_by_id(gconstpointer a, gconstpointer b) {
        uint64_t x = (*(Job *const *) a)->id, y = (*(Job *const *) b)->id;
        return (x > y) - (x < y);
}

static int method_list_jobs(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(GPtrArray) sorted = NULL;
        Manager *m = userdata;
        int r;

        r = polkit_verify(m->polkit, msg, L4M_ACTION_READ, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        sorted = hash_table_sorted_values(m->jobs_by_id, job_compare_by_id);

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(tssssdo)");
        for (guint i = 0; r >= 0 && i < sorted->len; i++) {
                const Job *j = sorted->pdata[i];

                if (!caller_sees(m, msg, j->owner))
                        continue;
                r = sd_bus_message_append(reply, "(tssssdo)", j->id, j->kind_name, j->target, j->owner,
                                          job_state_to_string(j->state), j->progress, j->path);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* QueryJobs' filter: target, owner, kind (s), state (s), limit (u),
 * before (t). A known key with another type is refused as an unknown one. */
static int query_option(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error) {
        static const char *const string_keys[] = { "target", "owner", "kind" };
        g_autofree char *problem = NULL;
        JobQuery *q = userdata;
        const char *s;
        int r;

        for (size_t i = 0; i < G_N_ELEMENTS(string_keys); i++) {
                if (strcmp(key, string_keys[i]) != 0)
                        continue;
                r = sd_bus_message_read(msg, "v", "s", &s);
                if (r < 0)
                        return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT, "The filter %s takes a string.", key);
                if (i == 0)
                        q->target = s;
                else if (i == 1)
                        q->owner = s;
                else
                        q->kind = s;
                return 1;
        }
        if (strcmp(key, "state") == 0) {
                r = sd_bus_message_read(msg, "v", "s", &s);
                if (r < 0)
                        return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT, "The filter state takes a string.");
                r = job_state_filter_from_string(s, &q->state, &problem);
                if (r < 0)
                        return bus_error_from_problem(error, r, problem, "Checking the state filter");
                return 1;
        }
        if (strcmp(key, "limit") == 0) {
                uint32_t limit;

                r = sd_bus_message_read(msg, "v", "u", &limit);
                if (r < 0)
                        return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT,
                                                "The filter limit takes an unsigned 32-bit number.");
                q->limit = limit;
                return 1;
        }
        if (strcmp(key, "before") == 0) {
                r = sd_bus_message_read(msg, "v", "t", &q->before);
                if (r < 0)
                        return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT,
                                                "The filter before takes a job id (an unsigned 64-bit number).");
                return 1;
        }
        return 0;
}

static bool job_visible_to_caller(const Job *j, void *userdata) {
        const CallerView *view = userdata;
        return caller_sees(view->manager, view->call, j->owner);
}

static int method_query_jobs(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(GPtrArray) jobs = NULL;
        g_autofree char *problem = NULL;
        JobQuery q = JOB_QUERY_INIT;
        Manager *m = userdata;
        uint64_t next;
        int r;

        r = bus_message_read_options(msg, query_option, &q, error);
        if (r < 0)
                return r;
        r = job_query_check(&q, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Checking the job filter");

        r = polkit_verify(m->polkit, msg, L4M_ACTION_READ, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        jobs = manager_query_jobs(m, &q, job_visible_to_caller, &(CallerView) { m, msg }, &next);

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(tssssdsttto)");
        for (guint i = 0; r >= 0 && i < jobs->len; i++) {
                const Job *j = jobs->pdata[i];

                r = sd_bus_message_append(reply, "(tssssdsttto)", j->id, j->kind_name, j->target, j->owner,
                                          job_state_to_string(j->state), j->progress, j->message ? j->message : "",
                                          j->created, j->started, j->finished, j->path);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "t", next);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_get_job(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        uint64_t id;
        Job *j;
        int r;

        r = sd_bus_message_read(msg, "t", &id);
        if (r < 0)
                return r;

        r = polkit_verify(m->polkit, msg, L4M_ACTION_READ, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        j = g_hash_table_lookup(m->jobs_by_id, &id);
        if (!j || !caller_sees(m, msg, j->owner))
                return sd_bus_error_setf(error, L4M_ERROR_NOT_FOUND, "No job %" G_GUINT64_FORMAT ".", id);
        return sd_bus_reply_method_return(msg, "o", j->path);
}

const sd_bus_vtable job_manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("ListJobs",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(tssssdo)", jobs),
                                method_list_jobs, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("QueryJobs",
                                SD_BUS_ARGS("a{sv}", filter),
                                SD_BUS_RESULT("a(tssssdsttto)", jobs, "t", next),
                                method_query_jobs, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetJob",
                                SD_BUS_ARGS("t", id),
                                SD_BUS_RESULT("o", job),
                                method_get_job, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("JobNew", SD_BUS_ARGS("t", id, "o", job), 0),
        SD_BUS_SIGNAL_WITH_ARGS("JobRemoved", SD_BUS_ARGS("t", id, "o", job, "s", result), 0),
        SD_BUS_VTABLE_END
};
