/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/instances/: server instances: records and rules, units and runtime, RCON, A2S and their logs. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "instance.h"
#include "instance-disk.h"
#include "l4m-log.h"
#include "l4m-names.h"
#include "l4m-util.h"
#include "systemd-unit.h"
#include "tree-copy.h"
#include "worker.h"

/* One GetUsage under way: systemd's answer first (while the unit is
 * active), then the walk of upper/ on a Worker thread. */
struct InstanceUsageQuery {
        Instance *instance;
        InstanceUsageFunc done;
        void *userdata;
        sd_bus_slot *systemd_call;
        Worker *worker;
        int runtime_fd;                 /* a duplicate: the thread touches no daemon state */
        char *name;
        char *cgroup;                   /* the unit's, to count its threads in; NULL: not needed */
        InstanceUsage usage;
        int disk_result;
};

int instance_runtime_disk_used(int runtime_fd, const char *name, uint64_t *ret) {
        _cleanup_close_ int inst_fd = -1, upper_fd = -1;
        uint64_t size;
        int r;

        assert(l4m_name_is_valid(name));
        inst_fd = openat(runtime_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (inst_fd < 0)
                return -errno;
        /* With a disk_max the files are in the disk image: its use. */
        r = instance_disk_usage_at(inst_fd, ret, &size);
        if (r != -ENOENT)
                return r;
        upper_fd = openat(inst_fd, "upper", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (upper_fd < 0)
                return -errno;
        return tree_size(upper_fd, ret);
}

const char *instance_usage_source_to_string(InstanceUsageSource s) {
        switch (s) {
        case INSTANCE_USAGE_SOURCE_SYSTEMD:
                return "systemd";
        case INSTANCE_USAGE_SOURCE_CGROUP_THREADS:
                return "cgroup.threads";
        default:
                return NULL;
        }
}

int cgroup_count_threads(const char *path, uint64_t *ret) {
        _cleanup_close_ int root_fd = -1, fd = -1;
        g_autofree char *rel = NULL;
        uint64_t n = 0;
        char buf[8192];
        ssize_t k;

        /* systemd's answer, never a name a server chose; still no way up. */
        if (!path || path[0] != '/' || strstr(path, "/..") || strstr(path, "//"))
                return -EINVAL;
        root_fd = open("/sys/fs/cgroup", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return -errno;
        rel = g_strconcat(path[1] ? path + 1 : ".", "/cgroup.threads", NULL);
        fd = openat(root_fd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        while ((k = read(fd, buf, sizeof buf)) != 0) {
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                for (ssize_t j = 0; j < k; j++)
                        n += buf[j] == '\n';
        }
        *ret = n;
        return 0;
}

static void query_free(InstanceUsageQuery *q) {
        if (!q)
                return;
        sd_bus_slot_unref(q->systemd_call);
        worker_free(q->worker);
        if (q->runtime_fd >= 0)
                (void) close(q->runtime_fd);
        g_free(q->name);
        g_free(q->cgroup);
        g_free(q);
}

static void query_finish(InstanceUsageQuery *q, int r) {
        Instance *i = q->instance;

        i->usage_queries = g_slist_remove(i->usage_queries, q);
        q->done(i, r, &q->usage, q->userdata);
        query_free(q);
}

static int measure_work(void *userdata) {
        InstanceUsageQuery *q = userdata;

        if (q->cgroup) {
                uint64_t n;
                int r = cgroup_count_threads(q->cgroup, &n);

                if (r >= 0) {
                        q->usage.tasks_current = n;
                        q->usage.source = INSTANCE_USAGE_SOURCE_CGROUP_THREADS;
                } else
                        log_debug_errno(r, "Cannot count the threads of %s: %s", q->cgroup, STRERROR(r));
        }
        return instance_runtime_disk_used(q->runtime_fd, q->name, &q->usage.disk_used);
}

static void measure_done(Worker *w, int result, void *userdata) {
        InstanceUsageQuery *q = userdata;

        /* Never started, or removed meanwhile: nothing written. */
        if (result == -ENOENT)
                q->usage.disk_used = 0;
        else if (result < 0) {
                log_warning_errno(result, "Cannot measure the upper directory of instance %s: %s", q->name,
                                  STRERROR(result));
                q->usage.disk_used = UINT64_MAX;
        }
        query_finish(q, 0);
}

static void start_disk_walk(InstanceUsageQuery *q) {
        int r = worker_start(q->instance->manager->event, "l4m-usage", measure_work, measure_done, q,
                             &q->worker);

        if (r < 0) {
                log_warning_errno(r, "Cannot measure the upper directory of instance %s: %s", q->name, STRERROR(r));
                q->usage.disk_used = UINT64_MAX;
                query_finish(q, 0);
        }
}

static void on_unit_usage(int r, const UnitUsage *u, void *userdata) {
        InstanceUsageQuery *q = userdata;

        q->systemd_call = sd_bus_slot_unref(q->systemd_call);
        if (r < 0)
                log_debug_errno(r, "Cannot read the use of %s: %s", q->instance->unit, STRERROR(r));
        q->usage.memory_current = u->memory_current;
        q->usage.tasks_current = u->tasks_current;
        q->usage.cpu_usage_nsec = u->cpu_usage_nsec;
        if (u->memory_current != UINT64_MAX || u->tasks_current != UINT64_MAX)
                q->usage.source = INSTANCE_USAGE_SOURCE_SYSTEMD;
        /* Without the pids controller systemd does not count the tasks:
         * the unit's cgroup still lists its threads. */
        if (u->tasks_current == UINT64_MAX && u->control_group && u->control_group[0])
                q->cgroup = g_strdup(u->control_group);
        start_disk_walk(q);
}

int instance_query_usage(Instance *i, InstanceUsageFunc done, void *userdata) {
        Manager *m = i->manager;
        InstanceUsageQuery *q;
        int r;

        assert(done);
        if (g_slist_length(i->usage_queries) >= INSTANCE_USAGE_QUERIES_MAX)
                return -EBUSY;

        q = g_new0(InstanceUsageQuery, 1);
        q->instance = i;
        q->done = done;
        q->userdata = userdata;
        q->name = g_strdup(i->name);
        q->runtime_fd = -1;
        q->usage = (InstanceUsage) {
                .memory_current = UINT64_MAX,
                .tasks_current = UINT64_MAX,
                .cpu_usage_nsec = UINT64_MAX,
                .disk_used = UINT64_MAX,
        };
        (void) instance_effective_limits(i, &q->usage.limits);
        q->runtime_fd = fcntl(m->runtime_fd, F_DUPFD_CLOEXEC, 3);
        if (q->runtime_fd < 0) {
                r = -errno;
                query_free(q);
                return r;
        }
        i->usage_queries = g_slist_prepend(i->usage_queries, q);

        q->usage.running = instance_is_active(i);
        if (q->usage.running && m->bus) {
                r = unit_get_usage(m->bus, i->unit, on_unit_usage, q, &q->systemd_call);
                if (r >= 0)
                        return 1;
                log_warning_errno(r, "Cannot ask systemd about %s: %s", i->unit, STRERROR(r));
        }
        start_disk_walk(q);
        return 1;
}

void instance_usage_queries_cancel(Instance *i) {
        while (i->usage_queries)
                query_finish(i->usage_queries->data, -ESHUTDOWN);
}
