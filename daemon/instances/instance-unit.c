/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/instances/: server instances: records and rules, units and runtime, RCON, A2S and their logs. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include <glib.h>

#include "game-unit.h"
#include "instance-unit.h"
#include "l4m-util.h"
#include "unit-properties.h"

/* The crash-loop limit: this many starts within the interval, then the
 * unit stays failed until the next Start(). */
#define SERVER_RESTART_USEC (2 * G_USEC_PER_SEC)
#define SERVER_START_LIMIT_BURST 5u
#define SERVER_START_LIMIT_INTERVAL_USEC (60 * G_USEC_PER_SEC)
#define SERVER_TIMEOUT_STOP_USEC (30 * G_USEC_PER_SEC)

char **instance_unit_argv(const InstanceUnitSpec *spec) {
        GPtrArray *argv = g_ptr_array_new();

        /* srcds_run, not the installation's: merged/srcds_run runs the game
         * from the directory it lives in, which must be the stack. */
        g_ptr_array_add(argv, g_strdup_printf("%s/runtime/%s/merged/srcds_run", spec->state_dir, spec->name));
        g_ptr_array_add(argv, g_strdup("-norestart"));
        g_ptr_array_add(argv, g_strdup("-game"));
        g_ptr_array_add(argv, g_strdup("left4dead2"));
        g_ptr_array_add(argv, g_strdup("-port"));
        g_ptr_array_add(argv, g_strdup_printf("%u", (unsigned) spec->port));
        if (spec->map && *spec->map) {
                g_ptr_array_add(argv, g_strdup("+map"));
                g_ptr_array_add(argv, g_strdup(spec->map));
        }
        g_ptr_array_add(argv, g_strdup("+maxplayers"));
        g_ptr_array_add(argv, g_strdup_printf("%u", (unsigned) spec->max_players));
        for (size_t i = 0; spec->launch_args && spec->launch_args[i]; i++)
                g_ptr_array_add(argv, g_strdup(spec->launch_args[i]));
        g_ptr_array_add(argv, NULL);
        return (char **) g_ptr_array_free(argv, FALSE);
}

int instance_unit_properties(sd_bus_message *m, void *userdata) {
        const InstanceUnitSpec *spec = userdata;
        g_autofree char *description = g_strdup_printf("left4me server %s (port %u)", spec->name, (unsigned) spec->port);
        g_autofree char *merged = g_strdup_printf("%s/runtime/%s/merged", spec->state_dir, spec->name);
        g_autofree char *cache = g_strdup_printf("%s/workshop_cache", spec->state_dir);
        g_autofree char *identifier = g_strdup_printf("l4d2-%s", spec->name);
        g_autofree char *uid = g_strdup_printf("%u", (unsigned) spec->uid);
        g_auto(GStrv) argv = instance_unit_argv(spec);
        char *mount[] = { (char *) spec->helper, (char *) "mount", (char *) spec->name, NULL };
        char *umount[] = { (char *) spec->helper, (char *) "umount", (char *) spec->name, NULL };
        char *temporary[] = { (char *) spec->state_dir, NULL };
        UnitBind rw[] = { { merged, merged, false } };
        /* Workshop overlays hold absolute symbolic links into the cache. */
        UnitBind ro[] = { { cache, cache, true } };
        /* srcds is a 32-bit i386 program on a 64-bit host. */
        char *archs[] = { (char *) "native", (char *) "x86", NULL };
        char *syscalls_allowed[] = { (char *) "@system-service", NULL };
        char *families[] = { (char *) "AF_INET", (char *) "AF_INET6", (char *) "AF_UNIX", NULL };
        char *environment[] = { (char *) "HOME=/tmp", (char *) "LANG=C.UTF-8", NULL };
        char *supplementary_groups[] = { (char *) GAME_USER, NULL };
        int r;

        r = unit_property_string(m, "Description", description);
        if (r >= 0) r = unit_property_string(m, "Type", "exec");
        /* The stack is mounted before the server starts and taken off after
         * it stopped, however it stopped. The helper joins PID 1's mount
         * namespace itself (systemd gives even a privileged command of this
         * unit a private one), so the mount is in the host's namespace when
         * systemd builds the server's from it below.
         * PermissionsStartOnly= rather than the '+' of ExecStartPreEx=:
         * both run the helper as root without the sandbox below, but
         * systemd 252 writes ExecStartPreEx=/ExecStopPostEx= into the
         * transient unit file under those names, which it does not read
         * back: after a daemon-reload a running server would lose its
         * unmount, and a restart its mount. PermissionsStartOnly= applies
         * to every command but ExecStart=, and there are only these two. */
        if (r >= 0) r = unit_property_exec(m, "ExecStartPre", mount, NULL);
        if (r >= 0) r = unit_property_exec(m, "ExecStart", argv, NULL);
        if (r >= 0) r = unit_property_exec(m, "ExecStopPost", umount, NULL);
        if (r >= 0) r = unit_property_bool(m, "PermissionsStartOnly", true);
        /* The instance's own uid and gid (left4med allocates them; the
         * user record in /run/userdb makes them known to systemd, which
         * refuses a numeric User= that no user database knows). */
        if (r >= 0) r = unit_property_string(m, "User", uid);
        if (r >= 0) r = unit_property_string(m, "Group", uid);
        /* The game user's group: the installation, a lower layer of the
         * stack, is group-writable, so that the server may create and
         * change files in its directories (copied up into its upper/; the
         * installation itself never changes). It is no door to another
         * server: ptrace, /proc/<pid>/root and signals go by uid and
         * primary gid, upper/ and work/ are 0700 of the instance's uid,
         * and the installation is in view only as a layer of this stack. */
        if (r >= 0) r = unit_property_strv(m, "SupplementaryGroups", supplementary_groups);
        if (r >= 0) r = unit_property_string(m, "WorkingDirectory", merged);
        if (r >= 0) r = unit_property_strv(m, "Environment", environment);
        if (r >= 0) r = unit_property_string(m, "StandardInput", "null");
        /* stdout and stderr: left4med's pipe (console.h), as systemd-run
         * --pipe hands its own; its write end is non-blocking, and a write
         * with no reader left fails with EPIPE rather than killing the
         * server, as long as SIGPIPE stays ignored. */
        if (r >= 0 && spec->console_fd >= 0) {
                r = sd_bus_message_append(m, "(sv)", "StandardOutputFileDescriptor", "h", spec->console_fd);
                if (r >= 0)
                        r = sd_bus_message_append(m, "(sv)", "StandardErrorFileDescriptor", "h", spec->console_fd);
        } else if (r >= 0) {
                r = unit_property_string(m, "StandardOutput", "journal");
                if (r >= 0) r = unit_property_string(m, "StandardError", "inherit");
        }
        if (r >= 0) r = unit_property_bool(m, "IgnoreSIGPIPE", true);
        if (r >= 0) r = unit_property_string(m, "SyslogIdentifier", identifier);

        /* Crashes restart it, a crash loop ends it. */
        if (r >= 0) r = unit_property_string(m, "Restart", "on-failure");
        if (r >= 0) r = unit_property_u64(m, "RestartUSec", SERVER_RESTART_USEC);
        if (r >= 0) r = sd_bus_message_append(m, "(sv)", "StartLimitBurst", "u", SERVER_START_LIMIT_BURST);
        if (r >= 0) r = unit_property_u64(m, "StartLimitIntervalUSec", SERVER_START_LIMIT_INTERVAL_USEC);
        if (r >= 0) r = sd_bus_message_append(m, "(sv)", "KillSignal", "i", (int32_t) SIGTERM);
        if (r >= 0) r = unit_property_u64(m, "TimeoutStopUSec", SERVER_TIMEOUT_STOP_USEC);

        /* The file system: everything read-only, a private /tmp (HOME),
         * and of the state directory only this instance's merged stack
         * (read-write) and the Workshop cache (read-only): the database,
         * the job logs, the overlays, the installation and the other
         * instances are out of view. Each server has a uid of its own, so
         * another server cannot reach these files through /proc/<pid>/root
         * either, nor signal or trace this one. */
        if (r >= 0) r = unit_property_string(m, "ProtectSystem", "strict");
        if (r >= 0) r = unit_property_string(m, "ProtectHome", "yes");
        if (r >= 0) r = unit_property_bool(m, "PrivateTmp", true);
        if (r >= 0) r = unit_property_temporary_file_systems(m, temporary, "ro,mode=0755");
        if (r >= 0) r = unit_property_binds(m, "BindPaths", rw, G_N_ELEMENTS(rw));
        if (r >= 0) r = unit_property_binds(m, "BindReadOnlyPaths", ro, G_N_ELEMENTS(ro));
        if (r >= 0) r = unit_property_bool(m, "PrivateDevices", true);
        if (r >= 0) r = unit_property_string(m, "DevicePolicy", "closed");
        /* The device policy is the cgroup's, so it binds the helper in
         * ExecStartPre= too: with a disk image it attaches a loop device
         * (and may make its node, 'm'). The server's private /dev has no
         * such node, and it cannot make one (no CAP_MKNOD). */
        if (r >= 0 && spec->disk_image)
                r = sd_bus_message_append(m, "(sv)", "DeviceAllow", "a(ss)", 2, "/dev/loop-control", "rw",
                                          "block-loop", "rwm");
        if (r >= 0) r = sd_bus_message_append(m, "(sv)", "UMask", "u", (uint32_t) 0027);

        /* The kernel and other processes. PrivateIPC: each server has SysV
         * IPC and POSIX queues of its own. */
        if (r >= 0) r = unit_property_bool(m, "PrivateIPC", true);
        if (r >= 0) r = unit_property_string(m, "ProtectProc", "invisible");
        if (r >= 0) r = unit_property_string(m, "ProcSubset", "pid");
        if (r >= 0) r = unit_properties_confine(m);
        /* No MemoryDenyWriteExecute=: srcds is a closed 2009 engine with
         * 32-bit plugins (SourceMod and its JIT among them) that may map
         * writable code; a refusal there would be a crash loop.
         * RemoveIPC=: what the uid left in /dev/shm goes when it stops
         * (the uid is this instance's alone), so no file of it outlives
         * the instance outside runtime/<name>/. */
        if (r >= 0) r = unit_property_bool(m, "RemoveIPC", true);
        if (r >= 0) r = unit_property_strv(m, "SystemCallArchitectures", archs);
        /* @system-service, the set most game-server units use: what a
         * daemon needs, with i386's variants (socketcall, mmap2, ...) on
         * the x86 ABI too; not @mount, @privileged, @debug, @module,
         * @raw-io, @reboot, @swap, @clock, @cpu-emulation, @obsolete.
         * Anything else fails with EPERM instead of killing the server,
         * so an unexpected call in an old code path degrades, not crashes. */
        if (r >= 0) r = unit_property_filter(m, "SystemCallFilter", true, syscalls_allowed);
        if (r >= 0) r = sd_bus_message_append(m, "(sv)", "SystemCallErrorNumber", "i", (int32_t) EPERM);
        if (r >= 0) r = unit_property_filter(m, "RestrictAddressFamilies", true, families);
        if (r >= 0) r = unit_property_u64(m, "LimitCORE", 0);

        /* Resource limits (left4med(8), "Limits"). The cgroup ones hold
         * where the controllers exist; the rlimits hold anyway: LimitNPROC
         * counts the processes and threads of the server's uid (all of
         * them, per user, not per process), LimitDATA a process's private
         * memory. Not LimitAS, which counts reserved address space:
         * srcds and its 32-bit libraries reserve far more than they use.
         * There is no rlimit for a share of the CPU (RLIMIT_CPU ends a
         * process after its seconds), so without the cpu controller the
         * quota is not enforced. */
        if (r >= 0) r = unit_property_u64(m, "CPUQuotaPerSecUSec",
                                          spec->cpu_quota_percent == UINT64_MAX ? UINT64_MAX
                                                                                : spec->cpu_quota_percent * 10000u);
        if (r >= 0) r = unit_property_u64(m, "MemoryMax", spec->memory_max);
        if (r >= 0) r = unit_property_u64(m, "TasksMax", spec->tasks_max);
        if (r >= 0) r = unit_property_u64(m, "LimitNPROC", spec->tasks_max);
        if (r >= 0) r = unit_property_u64(m, "LimitDATA", spec->memory_max);
        return r;
}
