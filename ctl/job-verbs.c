/* SPDX-License-Identifier: GPL-2.0-or-later */
/* l4mctl job list|show|cancel|log */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>

#include "bus-error.h"
#include "format-util.h"
#include "job-follow.h"
#include "job-info.h"
#include "job-table.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "time-util.h"
#include "verbs.h"

/* main() checked the id already. */
static uint64_t job_id_arg(const char *s) {
        uint64_t id = 0;
        int r;

        r = job_id_parse(s, &id);
        assert(r >= 0);
        (void) r;
        return id;
}

/* l4mctl job list [--target=T] [--owner=U] [--kind=K] [--state=S] [--limit=N] [--before=ID]:
 * one page, newest first; how to get the next one goes to stderr, so that
 * the listing (and --json) stays what it is. */
int verb_job_list(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(GArray) jobs = NULL;
        g_autoptr(Table) table = NULL;
        const JobFilter filter = {
                .target = args->target,
                .owner = args->owner,
                .kind = args->kind,
                .state = args->state,
                .limit = args->limit,
                .before = args->before,
        };
        uint64_t next = 0;
        int r;

        assert(bus);
        assert(args);

        r = job_query_fetch(bus, &filter, &reply, &jobs, &next);
        if (r != 0)
                return r;

        table = job_table_new(!!args->json);
        for (guint i = 0; i < jobs->len; i++) {
                JobInfo *info = &g_array_index(jobs, JobInfo, i);

                info->details = args->json;
                job_table_add(table, info);
        }
        r = table_output(table, TABLE_ROWS, table_flags(args));
        if (r < 0)
                return r;
        if (next > 0)
                fprintf(stderr, "More jobs: add --before=%" PRIu64 " for the next page.\n", next);
        return 0;
}

/* l4mctl job show ID */
int verb_job_show(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_autoptr(sd_bus_message) path_reply = NULL, props = NULL;
        g_autofree char *what = NULL;
        uint64_t id = job_id_arg(argv[0]);
        char created[TIMESTAMP_MAX], started[TIMESTAMP_MAX], finished[TIMESTAMP_MAX];
        char percent[FORMAT_PERCENT_MAX];
        const char *path;
        JobInfo info;
        int r;

        assert(bus);
        assert(args);

        what = g_strdup_printf("cannot show job %" PRIu64, id);
        r = job_get_path(bus, id, what, &path_reply, &path);
        if (r != 0)
                return r;
        r = job_get_info(bus, path, what, &props, &info);
        if (r != 0)
                return r;

        if (args->json) {
                g_autoptr(Table) table = job_table_new(true);

                job_table_add(table, &info);
                return table_output(table, TABLE_OBJECT, TABLE_JSON);
        }

#define FIELD(s) ((s) && (s)[0] ? (s) : "-")
        printf("Id: %" PRIu64 "\n", info.id);
        printf("Kind: %s\n", FIELD(info.kind));
        printf("Target: %s\n", FIELD(info.target));
        printf("Owner: %s\n", FIELD(info.owner));
        printf("State: %s\n", FIELD(info.state));
        printf("Progress: %s\n", format_percent(percent, sizeof percent, info.progress));
        printf("Message: %s\n", FIELD(info.message));
        printf("Created: %s\n", format_timestamp(created, sizeof created, info.created));
        printf("Started: %s\n", format_timestamp(started, sizeof started, info.started));
        printf("Finished: %s\n", format_timestamp(finished, sizeof finished, info.finished));
        printf("Path: %s\n", path);
#undef FIELD
        return 0;
}

/* l4mctl job cancel ID */
int verb_job_cancel(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) path_reply = NULL;
        g_autofree char *what = NULL;
        uint64_t id = job_id_arg(argv[0]);
        const char *path;
        int r;

        assert(bus);
        assert(args);

        what = g_strdup_printf("cannot cancel job %" PRIu64, id);
        r = job_get_path(bus, id, what, &path_reply, &path);
        if (r != 0)
                return r;

        r = sd_bus_call_method(bus, L4M_BUS_NAME, path, L4M_JOB_INTERFACE, "Cancel",
                               &error, NULL, NULL);
        if (r < 0)
                return log_bus_error(&error, r, "%s", what);
        return 0;
}

/* l4mctl job log ID [-f] */
int verb_job_log(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_autoptr(sd_bus_message) path_reply = NULL;
        _cleanup_close_ int fd = -1;
        g_autofree char *what = NULL;
        uint64_t id = job_id_arg(argv[0]);
        const char *path;
        int r;

        assert(bus);
        assert(args);

        what = g_strdup_printf("cannot read the log of job %" PRIu64, id);
        r = job_get_path(bus, id, what, &path_reply, &path);
        if (r != 0)
                return r;

        r = job_open_log(bus, id, path, args->follow, &fd);
        if (r != 0)
                return r;

        return job_log_copy(fd);
}
