/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/instances/: server instances: records and rules, units and runtime, RCON, A2S and their logs. */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "config-file.h"
#include "instance.h"
#include "instance-disk.h"
#include "l4m-log.h"
#include "l4m-size.h"
#include "problem.h"
#include "store.h"

G_STATIC_ASSERT(_INSTANCE_LIMIT_N == STORE_LIMITS_N);
G_STATIC_ASSERT(INSTANCE_LIMIT_DEFAULT == STORE_LIMIT_DEFAULT);
G_STATIC_ASSERT(INSTANCE_LIMIT_INFINITY == STORE_LIMIT_INFINITY);

typedef struct LimitInfo {
        const char *key;                /* SetLimits', l4mctl's */
        const char *property;           /* the bus property, [Instances] Default<property>= */
        size_t offset;                  /* in InstanceLimits */
        uint64_t min, max;              /* a value other than infinity */
        bool size;                      /* bytes, shown as sizes */
        const char *unit;               /* for a number that is no size */
} LimitInfo;

static const LimitInfo limit_info[_INSTANCE_LIMIT_N] = {
        [INSTANCE_LIMIT_CPU_QUOTA] = { "cpu_quota", "CPUQuota", offsetof(InstanceLimits, cpu_quota_percent),
                                       CONFIG_INSTANCE_CPU_QUOTA_MIN, CONFIG_INSTANCE_CPU_QUOTA_MAX, false, "%" },
        [INSTANCE_LIMIT_MEMORY_MAX] = { "memory_max", "MemoryMax", offsetof(InstanceLimits, memory_max),
                                        CONFIG_INSTANCE_MEMORY_MIN, CONFIG_INSTANCE_MEMORY_MAX, true, "" },
        [INSTANCE_LIMIT_TASKS_MAX] = { "tasks_max", "TasksMax", offsetof(InstanceLimits, tasks_max),
                                       CONFIG_INSTANCE_TASKS_MIN, CONFIG_INSTANCE_TASKS_MAX, false, "" },
        [INSTANCE_LIMIT_DISK_MAX] = { "disk_max", "DiskMax", offsetof(InstanceLimits, disk_max),
                                      CONFIG_INSTANCE_DISK_MIN, CONFIG_INSTANCE_DISK_MAX, true, "" },
};

uint64_t *instance_limits_field(InstanceLimits *l, InstanceLimit k) {
        assert(k >= 0 && k < _INSTANCE_LIMIT_N);
        return (uint64_t *) ((char *) l + limit_info[k].offset);
}

uint64_t instance_limits_get(const InstanceLimits *l, InstanceLimit k) {
        assert(k >= 0 && k < _INSTANCE_LIMIT_N);
        return *(const uint64_t *) ((const char *) l + limit_info[k].offset);
}

const char *instance_limit_key(InstanceLimit k) {
        assert(k >= 0 && k < _INSTANCE_LIMIT_N);
        return limit_info[k].key;
}

const char *instance_limit_property(InstanceLimit k) {
        assert(k >= 0 && k < _INSTANCE_LIMIT_N);
        return limit_info[k].property;
}

int instance_limit_from_key(const char *key) {
        for (int k = 0; k < _INSTANCE_LIMIT_N; k++)
                if (strcmp(limit_info[k].key, key) == 0)
                        return k;
        return -1;
}

void instance_limits_unchanged(InstanceLimits *req) {
        for (int k = 0; k < _INSTANCE_LIMIT_N; k++)
                *instance_limits_field(req, k) = INSTANCE_LIMIT_UNCHANGED;
}

/* value (neither INSTANCE_LIMIT_DEFAULT nor _UNCHANGED) as a person
 * writes it: "150%", "2G", "256", "infinity". */
static char *format_value(InstanceLimit k, uint64_t value) {
        if (value == INSTANCE_LIMIT_INFINITY)
                return g_strdup("infinity");
        if (limit_info[k].size)
                return l4m_format_size(value);
        return g_strdup_printf("%" G_GUINT64_FORMAT "%s", value, limit_info[k].unit);
}

int instance_check_limit(InstanceLimit k, uint64_t value, char **ret_problem) {
        const LimitInfo *info = &limit_info[k];
        g_autofree char *min = NULL, *max = NULL;

        assert(k >= 0 && k < _INSTANCE_LIMIT_N);
        if (value == INSTANCE_LIMIT_DEFAULT || value == INSTANCE_LIMIT_INFINITY ||
            (value >= info->min && value <= info->max))
                return 0;
        min = format_value(k, info->min);
        max = format_value(k, info->max);
        return problem_setf(ret_problem, -EINVAL, "%s is %s to %s, infinity or default, not %" G_GUINT64_FORMAT ".",
                            info->key, min, max, value);
}

int instance_check_limits(const InstanceLimits *req, char **ret_problem) {
        for (int k = 0; k < _INSTANCE_LIMIT_N; k++) {
                uint64_t v = instance_limits_get(req, k);
                int r;

                if (v == INSTANCE_LIMIT_UNCHANGED)
                        continue;
                r = instance_check_limit(k, v, ret_problem);
                if (r < 0)
                        return r;
        }
        return 0;
}

static uint64_t percent_or_infinity(unsigned v) {
        return v == UINT_MAX ? INSTANCE_LIMIT_INFINITY : v;
}

void instance_limits_defaults(Manager *m, InstanceLimits *ret) {
        const Config *c = m->config;

        *ret = (InstanceLimits) {
                .cpu_quota_percent = percent_or_infinity(c->instance_default_cpu_quota_percent),
                .memory_max = c->instance_default_memory_max,
                .tasks_max = c->instance_default_tasks_max,
                .disk_max = c->instance_default_disk_max,
        };
}

void instance_limits_ceilings(Manager *m, InstanceLimits *ret) {
        const Config *c = m->config;

        *ret = (InstanceLimits) {
                .cpu_quota_percent = percent_or_infinity(c->instance_max_cpu_quota_percent),
                .memory_max = c->instance_max_memory_max,
                .tasks_max = c->instance_max_tasks_max,
                .disk_max = c->instance_max_disk_max,
        };
}

/* The first limit of req above its ceiling, or -1. */
static int first_above_ceiling(Manager *m, const InstanceLimits *req) {
        InstanceLimits max;

        instance_limits_ceilings(m, &max);
        for (int k = 0; k < _INSTANCE_LIMIT_N; k++) {
                uint64_t v = instance_limits_get(req, k);

                if (v == INSTANCE_LIMIT_UNCHANGED || v == INSTANCE_LIMIT_DEFAULT)
                        continue;
                if (v > instance_limits_get(&max, k))
                        return k;
        }
        return -1;
}

bool instance_limits_pass_ceiling(Manager *m, const InstanceLimits *req) {
        return first_above_ceiling(m, req) >= 0;
}

int instance_effective_limits(const Instance *i, InstanceLimits *ret) {
        InstanceLimits def;

        instance_limits_defaults(i->manager, &def);
        for (int k = 0; k < _INSTANCE_LIMIT_N; k++) {
                uint64_t v = instance_limits_get(&i->limits, k);

                *instance_limits_field(ret, k) = v == INSTANCE_LIMIT_DEFAULT ? instance_limits_get(&def, k) : v;
        }
        return 0;
}

bool instance_limit_is_default(const Instance *i, InstanceLimit k) {
        return instance_limits_get(&i->limits, k) == INSTANCE_LIMIT_DEFAULT;
}

/* The properties that show i's limits. */
static void emit_limits_changed(Instance *i) {
        instance_emit_changed(i, "CPUQuota", "MemoryMax", "TasksMax", "DiskMax", "DefaultLimits", NULL);
}

int instance_set_limits(Instance *i, const InstanceLimits *req, bool may_pass_ceiling, char **ret_problem) {
        uint64_t row[STORE_LIMITS_N];
        InstanceLimits next = i->limits;
        int above, r;

        r = instance_check_limits(req, ret_problem);
        if (r < 0)
                return r;
        above = first_above_ceiling(i->manager, req);
        if (above >= 0 && !may_pass_ceiling) {
                InstanceLimits max;
                g_autofree char *v = NULL, *c = NULL;

                instance_limits_ceilings(i->manager, &max);
                v = format_value(above, instance_limits_get(req, above));
                c = format_value(above, instance_limits_get(&max, above));
                return problem_setf(ret_problem, -EPERM,
                                    "%s=%s is above the ceiling of %s ([Instances] Max%s=); only an admin may set it.",
                                    limit_info[above].key, v, c, limit_info[above].property);
        }

        for (int k = 0; k < _INSTANCE_LIMIT_N; k++) {
                uint64_t v = instance_limits_get(req, k);

                if (v != INSTANCE_LIMIT_UNCHANGED)
                        *instance_limits_field(&next, k) = v;
                row[k] = instance_limits_get(&next, k);
        }
        /* A disk image cannot shrink below what it holds, nor go. */
        if (instance_limits_get(req, INSTANCE_LIMIT_DISK_MAX) != INSTANCE_LIMIT_UNCHANGED) {
                InstanceLimits defaults;
                uint64_t disk_max = next.disk_max;

                instance_limits_defaults(i->manager, &defaults);
                if (disk_max == INSTANCE_LIMIT_DEFAULT)
                        disk_max = defaults.disk_max;
                r = instance_disk_check_max(i->manager, i->name, disk_max, ret_problem);
                if (r < 0)
                        return r;
        }
        r = store_instance_set_limits(i->manager->db, i->id, row);
        if (r < 0)
                return r;
        i->limits = next;
        emit_limits_changed(i);
        return 0;
}

void manager_instances_config_changed(Manager *m) {
        GHashTableIter it;
        gpointer value;

        g_hash_table_iter_init(&it, m->instances_by_id);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                Instance *i = value;

                for (int k = 0; k < _INSTANCE_LIMIT_N; k++)
                        if (instance_limit_is_default(i, k)) {
                                emit_limits_changed(i);
                                break;
                        }
        }
}
