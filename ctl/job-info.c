/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "bus-error.h"
#include "bus-properties.h"
#include "job-info.h"
#include "l4m-bus-names.h"
#include "l4m-util.h"

int job_id_parse(const char *s, uint64_t *ret) {
        uint64_t id = 0;

        assert(s);
        assert(ret);

        if (!s[0])
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                unsigned digit;

                if (*p < '0' || *p > '9')
                        return -EINVAL;
                digit = (unsigned) (*p - '0');
                if (id > (UINT64_MAX - digit) / 10)
                        return -EINVAL; /* overflow */
                id = id * 10 + digit;
        }
        if (id == 0)
                return -EINVAL;

        *ret = id;
        return 0;
}

bool job_state_is_final(const char *state) {
        return state && (strcmp(state, "succeeded") == 0 ||
                         strcmp(state, "failed") == 0 ||
                         strcmp(state, "cancelled") == 0);
}

int job_query_fetch(sd_bus *bus, const JobFilter *filter, sd_bus_message **ret_reply, GArray **ret,
                    uint64_t *ret_next) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) call = NULL, reply = NULL;
        g_autoptr(GArray) jobs = NULL;
        JobInfo info = { .details = true };
        const struct {
                const char *key, *value;
        } strings[] = {
                { "target", filter->target },
                { "owner", filter->owner },
                { "kind", filter->kind },
                { "state", filter->state },
        };
        int r;

        assert(bus);
        assert(filter);
        assert(ret_reply);
        assert(ret);
        assert(ret_next);

        r = sd_bus_message_new_method_call(bus, &call, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE,
                                           "QueryJobs");
        if (r >= 0)
                r = sd_bus_message_open_container(call, 'a', "{sv}");
        for (size_t i = 0; r >= 0 && i < G_N_ELEMENTS(strings); i++)
                if (strings[i].value)
                        r = sd_bus_message_append(call, "{sv}", strings[i].key, "s", strings[i].value);
        if (r >= 0 && filter->limit > 0)
                r = sd_bus_message_append(call, "{sv}", "limit", "u", filter->limit);
        if (r >= 0 && filter->before > 0)
                r = sd_bus_message_append(call, "{sv}", "before", "t", filter->before);
        if (r >= 0)
                r = sd_bus_message_close_container(call);
        if (r < 0)
                return bus_log_create_error(r);

        r = sd_bus_call(bus, call, 0, &error, &reply);
        if (r < 0)
                return log_bus_error(&error, r, "cannot list jobs");

        jobs = g_array_new(FALSE, TRUE, sizeof(JobInfo));
        r = sd_bus_message_enter_container(reply, 'a', "(tssssdsttto)");
        if (r < 0)
                return bus_log_parse_error(r);
        while ((r = sd_bus_message_read(reply, "(tssssdsttto)", &info.id, &info.kind, &info.target, &info.owner,
                                        &info.state, &info.progress, &info.message, &info.created, &info.started,
                                        &info.finished, &info.path)) > 0)
                g_array_append_val(jobs, info);
        if (r < 0)
                return bus_log_parse_error(r);
        r = sd_bus_message_exit_container(reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "t", ret_next);
        if (r < 0)
                return bus_log_parse_error(r);

        *ret_reply = g_steal_pointer(&reply);
        *ret = g_steal_pointer(&jobs);
        return 0;
}

int job_get_path(sd_bus *bus, uint64_t id, const char *what,
                 sd_bus_message **ret_reply, const char **ret_path) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        int r;

        assert(bus);
        assert(what);
        assert(ret_reply);
        assert(ret_path);

        r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE,
                               "GetJob", &error, &reply, "t", id);
        if (r < 0)
                return log_bus_error(&error, r, "%s", what);
        r = sd_bus_message_read(reply, "o", ret_path);
        if (r < 0)
                return bus_log_parse_error(r);

        *ret_reply = g_steal_pointer(&reply);
        return 0;
}

int job_info_from_properties(sd_bus_message *m, JobInfo *info) {
        const BusProperty map[] = {
                { "Id", "t", &info->id },
                { "Kind", "s", &info->kind },
                { "Target", "s", &info->target },
                { "Owner", "s", &info->owner },
                { "State", "s", &info->state },
                { "Progress", "d", &info->progress },
                { "Message", "s", &info->message },
                { "Created", "t", &info->created },
                { "Started", "t", &info->started },
                { "Finished", "t", &info->finished },
        };

        assert(m);
        assert(info);

        return bus_read_properties(m, map, L4M_ELEMENTSOF(map), NULL);
}

int job_get_info(sd_bus *bus, const char *path, const char *what,
                 sd_bus_message **ret_reply, JobInfo *info) {
        g_autoptr(sd_bus_message) reply = NULL;
        int r;

        assert(bus);
        assert(path);
        assert(ret_reply);
        assert(info);

        r = bus_get_all_properties(bus, path, L4M_JOB_INTERFACE, what, &reply);
        if (r != 0)
                return r;

        *info = (JobInfo) { .path = path, .details = true };
        r = job_info_from_properties(reply, info);
        if (r < 0)
                return bus_log_parse_error(r);

        *ret_reply = g_steal_pointer(&reply);
        return 0;
}
