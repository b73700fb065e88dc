/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/instances/: server instances: records and rules, units and runtime, RCON, A2S and their logs. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-bus.h>

/* What a server unit is made of. */
typedef struct InstanceUnitSpec {
        const char *name;
        const char *state_dir;          /* /var/lib/left4me */
        const char *helper;             /* left4me-overlay(8) */
        uid_t uid;                      /* the server's uid and gid: the instance's own */
        uint16_t port;
        const char *map;                /* "" = none given */
        uint32_t max_players;
        char *const *launch_args;       /* the blueprint's */
        /* The effective limits (instance_effective_limits());
         * UINT64_MAX = none. disk_max is not the unit's to enforce. */
        uint64_t cpu_quota_percent;
        uint64_t memory_max;
        uint64_t tasks_max;
        /* disk_max has a disk image (instance-disk.h): the helper needs
         * /dev/loop-control and a loop device. */
        bool disk_image;
        /* The write end of the console pipe for stdout and stderr; -1:
         * the journal's own stream. */
        int console_fd;
} InstanceUnitSpec;

/* The properties of left4me-server-<name>.service, for
 * unit_start_transient(): userdata is an InstanceUnitSpec. */
int instance_unit_properties(sd_bus_message *m, void *userdata);

/* The server's command line (NULL-terminated). */
char **instance_unit_argv(const InstanceUnitSpec *spec);
