/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <systemd/sd-bus.h>

/* One job as the daemon describes it (org.left4me.Job). Strings borrow
 * from the bus message they were read from; a property the daemon did not
 * send stays NULL or 0. */
typedef struct JobInfo {
        const char *path;
        uint64_t id;
        const char *kind;
        const char *target;
        const char *owner;
        const char *state;
        double progress;   /* 0..1 */
        const char *message;
        uint64_t created, started, finished; /* µs since the epoch; 0 for not yet */
        bool details;      /* read with GetAll: message and times are known */
} JobInfo;

/* Parse a job id from the command line: a decimal number of 1 to 2^64-1,
 * digits only. -EINVAL otherwise. */
int job_id_parse(const char *s, uint64_t *ret);

/* queued and running are active; succeeded, failed, cancelled are not. */
bool job_state_is_final(const char *state);

/* What Manager.QueryJobs is asked for: NULL strings and zero numbers are
 * left out (the daemon's defaults). */
typedef struct JobFilter {
        const char *target, *owner, *kind, *state;
        uint32_t limit;
        uint64_t before;
} JobFilter;

/* Manager.QueryJobs, a(tssssdsttto) and t, into an array of JobInfo (with
 * details, newest first) and the cursor of the next page (0: none). Errors
 * are logged and returned as the exit code to use. */
int job_query_fetch(sd_bus *bus, const JobFilter *filter, sd_bus_message **ret_reply, GArray **ret,
                    uint64_t *ret_next);

/* Manager.GetJob(id): the job's object path, owned by *ret_reply. Errors
 * are logged ("<what>: …") and returned as the exit code to use. */
int job_get_path(sd_bus *bus, uint64_t id, const char *what,
                 sd_bus_message **ret_reply, const char **ret_path);

/* Properties.GetAll(org.left4me.Job) on path into *info (info->path is set
 * to path). Errors are logged ("<what>: …") and returned as the exit code. */
int job_get_info(sd_bus *bus, const char *path, const char *what,
                 sd_bus_message **ret_reply, JobInfo *info);

/* Read the a{sv} of Properties.GetAll or PropertiesChanged into *info;
 * only properties present are changed. */
int job_info_from_properties(sd_bus_message *m, JobInfo *info);
