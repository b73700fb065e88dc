/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#pragma once

#include <stdint.h>

#include <glib.h>
#include <systemd/sd-bus.h>

/* The daemon's settings: /etc/left4me/left4me.conf, then every *.conf in
 * /etc/left4me/left4me.conf.d/ in name order (later files win), read by
 * lib/l4m-config.c. Every key is optional with a compiled-in default;
 * unknown groups and keys, and values that do not parse, are problems and
 * leave the default (or what an earlier file said). */
typedef struct Config {
        char *steam_api_url;            /* [Steam] ApiUrl= */
        char *steam_cmd;                /* [Steam] SteamCmd= */
        unsigned jobs_max_running;      /* [Jobs] MaxRunning= */
        unsigned jobs_retain_days;      /* [Jobs] RetainDays= */
        unsigned downloads_max_parallel;/* [Downloads] MaxParallel= */
        uint64_t archive_max_bytes;     /* [Archive] MaxBytes= */
        uint64_t archive_max_entries;   /* [Archive] MaxEntries= */
        uint64_t archive_max_entry_bytes; /* [Archive] MaxEntryBytes= */
        uint64_t archive_max_ratio;     /* [Archive] MaxRatio= */
        uint64_t script_runtime_max_sec;  /* [Script] RuntimeMaxSec= */
        uint64_t script_memory_max;       /* [Script] MemoryMax=, bytes; UINT64_MAX = infinity */
        unsigned script_cpu_quota_percent;/* [Script] CPUQuota=, percent of one CPU */
        uint64_t script_tasks_max;        /* [Script] TasksMax=; UINT64_MAX = infinity */
        char *script_resolv_conf;         /* [Script] ResolvConf= */
        unsigned script_first_uid;        /* [Script] FirstUID= */
        unsigned script_last_uid;         /* [Script] LastUID= (a range apart from the others, else both defaults) */
        unsigned script_max_running;      /* [Script] MaxRunning=, at most LastUID - FirstUID + 1 */
        uint64_t overlays_owner_max_bytes;/* [Overlays] OwnerMaxBytes=, bytes; UINT64_MAX = infinity */
        unsigned backups_keep_per_instance; /* [Backups] KeepPerInstance= */
        uint64_t backups_max_bytes;       /* [Backups] MaxBytes=, bytes over all backups; UINT64_MAX = infinity */
        unsigned instance_port_min;       /* [Instances] PortMin= */
        unsigned instance_port_max;       /* [Instances] PortMax= (>= PortMin, else both defaults) */
        unsigned instance_first_uid;      /* [Instances] FirstUID=: the uids servers run as, */
        unsigned instance_last_uid;       /* [Instances] LastUID= (config_uid_range_problem(), else both defaults) */
        /* An instance's resource limits when it follows the default, and
         * the ceilings only org.left4me.admin may set a value above
         * (instance.h, InstanceLimits). A default above its ceiling is a
         * problem and is lowered to the ceiling. */
        unsigned instance_default_cpu_quota_percent; /* [Instances] DefaultCPUQuota=; UINT_MAX = infinity */
        unsigned instance_max_cpu_quota_percent;     /* [Instances] MaxCPUQuota= */
        uint64_t instance_default_memory_max;   /* [Instances] DefaultMemoryMax=, bytes; UINT64_MAX = infinity */
        uint64_t instance_max_memory_max;       /* [Instances] MaxMemoryMax= */
        uint64_t instance_default_tasks_max;    /* [Instances] DefaultTasksMax=; UINT64_MAX = infinity */
        uint64_t instance_max_tasks_max;        /* [Instances] MaxTasksMax= */
        uint64_t instance_default_disk_max;     /* [Instances] DefaultDiskMax=, bytes; UINT64_MAX = infinity */
        uint64_t instance_max_disk_max;         /* [Instances] MaxDiskMax= */
        char **problems;                  /* "FILE:LINE: [Group] Key=: message", [Web] included; never NULL */
} Config;

/* The default range instance ports are taken from. */
#define CONFIG_INSTANCE_PORT_MIN 27015u
#define CONFIG_INSTANCE_PORT_MAX 27115u

/* The uids left4med hands out (left4med(8)): in systemd's unused span
 * 60578–61183, below its DynamicUser= range 61184–65519. */
#define CONFIG_INSTANCE_FIRST_UID 60600u
#define CONFIG_INSTANCE_LAST_UID 61099u
#define CONFIG_SCRIPT_FIRST_UID 61100u
#define CONFIG_SCRIPT_LAST_UID 61183u

/* NULL if first..last may be a range of uids left4med allocates, else why
 * not: it must be ordered, at or above 1000, and keep out of systemd's
 * DynamicUser= range (61184 to 65519) and of 65534 (nobody). */
const char *config_uid_range_problem(unsigned first, unsigned last);
/* What an instance's limits may be set to (besides infinity), in the
 * configuration and per instance: percent of one CPU, bytes, tasks, bytes. */
#define CONFIG_INSTANCE_CPU_QUOTA_MIN 1u
#define CONFIG_INSTANCE_CPU_QUOTA_MAX 100000u
#define CONFIG_INSTANCE_MEMORY_MIN (UINT64_C(32) << 20)
#define CONFIG_INSTANCE_MEMORY_MAX (UINT64_C(1024) << 30)
#define CONFIG_INSTANCE_TASKS_MIN UINT64_C(8)
#define CONFIG_INSTANCE_TASKS_MAX UINT64_C(1000000)
#define CONFIG_INSTANCE_DISK_MIN (UINT64_C(16) << 20)
#define CONFIG_INSTANCE_DISK_MAX (UINT64_C(16) << 40)

void config_free(Config *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Config, config_free)

/* A Config holding only the defaults. */
Config *config_new_default(void);

/* Reads dir/left4me.conf and dir/left4me.conf.d/ *.conf with the daemon's
 * keys and the bridge's [Web] keys (whose values the daemon does not use),
 * so that problems holds every problem of the configuration, as
 * left4med --check-config prints them. A missing file or directory is not
 * a problem; an unreadable or syntactically broken file is skipped. Logs
 * nothing. Never fails. */
Config *config_load(const char *dir);

/* Logs each of c's problems as a warning. */
void config_log_problems(const Config *c);

/* org.left4me.Manager's ConfigWarnings, InstancePortMin and InstancePortMax
 * (daemon/core/config-bus.c): the configuration in force. */
extern const sd_bus_vtable config_manager_vtable[];
typedef struct Manager Manager;
/* After a reload: PropertiesChanged for those of them that differ from
 * old (the configuration before). */
void config_bus_emit_changed(Manager *m, const Config *old);
