/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/scripts/: script overlays: the owner's script run in its sandbox unit, as a job. */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include <glib.h>

#include "script-unit.h"
#include "unit-properties.h"

/* Everything but the public internet: no IPAddressAllow= goes with it,
 * since an allow match would win over these. The host's own addresses are
 * added to these when a script starts. */
static const struct {
        int family;
        const char *address;
        unsigned prefix;
} denied_networks[] = {
        { AF_INET, "0.0.0.0", 8 },              /* "this network"; 0.0.0.0 means the host */
        { AF_INET, "10.0.0.0", 8 },             /* RFC 1918 */
        { AF_INET, "100.64.0.0", 10 },          /* carrier-grade NAT */
        { AF_INET, "127.0.0.0", 8 },            /* loopback */
        { AF_INET, "169.254.0.0", 16 },         /* link-local */
        { AF_INET, "172.16.0.0", 12 },          /* RFC 1918 */
        { AF_INET, "192.168.0.0", 16 },         /* RFC 1918 */
        { AF_INET, "224.0.0.0", 4 },            /* multicast */
        { AF_INET, "240.0.0.0", 4 },            /* reserved, and the broadcast address */
        { AF_INET6, "::", 128 },                /* unspecified: the host */
        { AF_INET6, "::1", 128 },               /* loopback */
        { AF_INET6, "::ffff:0.0.0.0", 96 },     /* IPv4-mapped: reaches IPv4 by another name */
        { AF_INET6, "fc00::", 7 },              /* unique local */
        { AF_INET6, "fe80::", 10 },             /* link-local */
        { AF_INET6, "ff00::", 8 },              /* multicast */
};

/* Read-only files from the host's /etc that tools need: TLS trust, the
 * alternatives links (awk, …), user and host name lookup. */
static const struct {
        const char *path;
        bool optional;
} etc_files[] = {
        { "/etc/alternatives", true },
        { "/etc/ca-certificates", true },
        { "/etc/ssl", true },
        { "/etc/passwd", false },
        { "/etc/group", false },
        { "/etc/nsswitch.conf", true },
        { "/etc/hosts", true },
        { "/etc/host.conf", true },
        { "/etc/gai.conf", true },
        { "/etc/ld.so.cache", true },
        { "/etc/localtime", true },
};

char *script_unit_name(uint64_t job_id) {
        return g_strdup_printf("left4me-script-%" G_GUINT64_FORMAT ".service", job_id);
}

static int append_deny_entry(sd_bus_message *m, int family, const void *bytes, unsigned prefix) {
        int r;

        r = sd_bus_message_open_container(m, 'r', "iayu");
        if (r >= 0)
                r = sd_bus_message_append(m, "i", family);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', bytes, family == AF_INET ? 4 : 16);
        if (r >= 0)
                r = sd_bus_message_append(m, "u", prefix);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        return r;
}

/* The host's own addresses, public ones too: a service listening on
 * 0.0.0.0 answers on each of them. */
static int append_host_addresses(sd_bus_message *m) {
        struct ifaddrs *list = NULL;
        int r = 0;

        if (getifaddrs(&list) < 0)
                return -errno;
        for (struct ifaddrs *a = list; r >= 0 && a; a = a->ifa_next) {
                if (!a->ifa_addr)
                        continue;
                if (a->ifa_addr->sa_family == AF_INET)
                        r = append_deny_entry(m, AF_INET, &((struct sockaddr_in *) a->ifa_addr)->sin_addr, 32);
                else if (a->ifa_addr->sa_family == AF_INET6)
                        r = append_deny_entry(m, AF_INET6, &((struct sockaddr_in6 *) a->ifa_addr)->sin6_addr, 128);
        }
        freeifaddrs(list);
        return r;
}

static int append_ip_address_deny(sd_bus_message *m) {
        int r;

        r = sd_bus_message_open_container(m, 'r', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "IPAddressDeny");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "a(iayu)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(iayu)");
        for (size_t i = 0; r >= 0 && i < G_N_ELEMENTS(denied_networks); i++) {
                unsigned char bytes[16];
                int family = denied_networks[i].family;

                if (inet_pton(family, denied_networks[i].address, bytes) != 1)
                        return -EINVAL;
                r = append_deny_entry(m, family, bytes, denied_networks[i].prefix);
        }
        if (r >= 0)
                r = append_host_addresses(m);
        for (int i = 0; r >= 0 && i < 3; i++)
                r = sd_bus_message_close_container(m);
        return r;
}

int script_unit_properties(sd_bus_message *m, void *userdata) {
        const ScriptUnitSpec *spec = userdata;
        const Config *c = spec->config;
        g_autofree char *description = g_strdup_printf("left4me script of overlay %s (job %" G_GUINT64_FORMAT ")",
                                                       spec->overlay_name, spec->job_id);
        g_autofree char *env_name = g_strconcat("OVERLAY_NAME=", spec->overlay_name, NULL);
        g_autofree char *env_job = g_strdup_printf("JOB_ID=%" G_GUINT64_FORMAT, spec->job_id);
        g_autofree char *uid = g_strdup_printf("%u", (unsigned) spec->uid);
        char *environment[] = {
                (char *) "OVERLAY=" SCRIPT_OVERLAY_INSIDE, (char *) "GAME_DIR=" SCRIPT_GAME_DIR, env_name, env_job,
                (char *) "HOME=/tmp", (char *) "TMPDIR=/tmp", (char *) "LANG=C.UTF-8",
                (char *) "PATH=/usr/local/bin:/usr/bin:/bin", NULL,
        };
        char *argv[] = { (char *) "/bin/bash", (char *) "--noprofile", (char *) "--norc", (char *) SCRIPT_PATH_INSIDE, NULL };
        char *temporary[] = { (char *) "/etc", (char *) "/run", (char *) "/var/lib", NULL };
        char *inaccessible[] = { (char *) "/var/tmp", (char *) "/dev/shm", (char *) "/dev/mqueue", NULL };
        char *no_exec[] = { (char *) SCRIPT_OVERLAY_INSIDE, (char *) "/tmp", NULL };
        char *native[] = { (char *) "native", NULL };
        char *syscalls_allowed[] = { (char *) "@system-service", NULL };
        /* memfd_create: code downloaded into memory could be run from there,
         * past noexec. */
        char *syscalls_denied[] = { (char *) "@mount", (char *) "@privileged", (char *) "@resources",
                                    (char *) "@keyring", (char *) "memfd_create", NULL };
        char *families[] = { (char *) "AF_INET", (char *) "AF_INET6", NULL };
        UnitBind rw[] = { { spec->overlay_dir, SCRIPT_OVERLAY_INSIDE, false } };
        UnitBind ro[G_N_ELEMENTS(etc_files) + 2];
        size_t n_ro = 0;
        int r;

        for (size_t i = 0; i < G_N_ELEMENTS(etc_files); i++)
                ro[n_ro++] = (UnitBind) { etc_files[i].path, etc_files[i].path, etc_files[i].optional };
        ro[n_ro++] = (UnitBind) { c->script_resolv_conf, "/etc/resolv.conf", false };
        ro[n_ro++] = (UnitBind) { spec->script_file, SCRIPT_PATH_INSIDE, false };

        r = unit_property_string(m, "Description", description);
        /* RemainAfterExit: the outcome stays readable after the script ended,
         * even while the daemon is down; the daemon collects it, then stops
         * or resets the unit. */
        if (r >= 0) r = unit_property_string(m, "Type", "exec");
        if (r >= 0) r = unit_property_bool(m, "RemainAfterExit", true);
        /* Running until the last process of the script is gone, not just
         * bash: what it left in the background is stopped by RuntimeMaxSec
         * too, and cannot outlive the job (its uid is free again only once
         * the unit is gone). */
        if (r >= 0) r = unit_property_string(m, "ExitType", "cgroup");
        if (r >= 0) r = unit_property_exec(m, "ExecStart", argv, NULL);
        /* A uid of the run's own, no other process has (script-uids.h);
         * PrivateUsers= maps it and root, nothing else. */
        if (r >= 0) r = unit_property_string(m, "User", uid);
        if (r >= 0) r = unit_property_string(m, "Group", uid);
        if (r >= 0) r = unit_property_string(m, "WorkingDirectory", SCRIPT_OVERLAY_INSIDE);
        if (r >= 0) r = unit_property_strv(m, "Environment", environment);
        if (r >= 0) r = unit_property_string(m, "StandardInput", "null");
        if (r >= 0) r = unit_property_string(m, "StandardOutputFileToAppend", spec->log_file);
        if (r >= 0) r = unit_property_string(m, "StandardError", "inherit");
        if (r >= 0) r = unit_property_bool(m, "IgnoreSIGPIPE", false);

        /* The file system: /overlay and a private /tmp writable, the rest
         * read-only, /etc, /run and /var/lib empty but for what tools need. */
        if (r >= 0) r = unit_property_string(m, "ProtectSystem", "strict");
        if (r >= 0) r = unit_property_string(m, "ProtectHome", "yes");
        if (r >= 0) r = unit_property_bool(m, "PrivateTmp", true);
        if (r >= 0) r = unit_property_temporary_file_systems(m, temporary, "ro,mode=0755");
        if (r >= 0) r = unit_property_binds(m, "BindPaths", rw, G_N_ELEMENTS(rw));
        if (r >= 0) r = unit_property_binds(m, "BindReadOnlyPaths", ro, n_ro);
        if (r >= 0) r = unit_property_strv(m, "InaccessiblePaths", inaccessible);
        if (r >= 0) r = unit_property_strv(m, "NoExecPaths", no_exec);
        if (r >= 0) r = unit_property_bool(m, "PrivateDevices", true);
        if (r >= 0) r = unit_property_string(m, "DevicePolicy", "closed");
        if (r >= 0) r = sd_bus_message_append(m, "(sv)", "UMask", "u", (uint32_t) 0022);

        /* The kernel and other processes. */
        if (r >= 0) r = unit_property_bool(m, "PrivateUsers", true);
        if (r >= 0) r = unit_property_bool(m, "PrivateIPC", true);
        if (r >= 0) r = unit_property_bool(m, "PrivateMounts", true);
        if (r >= 0) r = unit_property_string(m, "ProtectProc", "invisible");
        if (r >= 0) r = unit_property_string(m, "ProcSubset", "pid");
        if (r >= 0) r = unit_properties_confine(m);
        if (r >= 0) r = unit_property_bool(m, "MemoryDenyWriteExecute", true);
        if (r >= 0) r = unit_property_bool(m, "RemoveIPC", true);
        if (r >= 0) r = unit_property_strv(m, "SystemCallArchitectures", native);
        if (r >= 0) r = unit_property_filter(m, "SystemCallFilter", true, syscalls_allowed);
        if (r >= 0) r = unit_property_filter(m, "SystemCallFilter", false, syscalls_denied);
        if (r >= 0) r = sd_bus_message_append(m, "(sv)", "SystemCallErrorNumber", "i", (int32_t) EPERM);

        /* The network: IP only, and only to public addresses. */
        if (r >= 0) r = unit_property_filter(m, "RestrictAddressFamilies", true, families);
        if (r >= 0) r = append_ip_address_deny(m);

        /* Limits. The cgroup ones may have no controller to enforce them (a
         * container); the rlimits hold anyway, per process or per user. */
        if (r >= 0) r = unit_property_u64(m, "RuntimeMaxUSec", c->script_runtime_max_sec * G_USEC_PER_SEC);
        if (r >= 0) r = unit_property_u64(m, "MemoryMax", c->script_memory_max);
        if (r >= 0) r = unit_property_u64(m, "CPUQuotaPerSecUSec", (uint64_t) c->script_cpu_quota_percent * 10000u);
        if (r >= 0) r = unit_property_u64(m, "TasksMax", c->script_tasks_max);
        if (r >= 0) r = unit_property_u64(m, "LimitNPROC", c->script_tasks_max);
        /* Private memory per process. Not LimitAS: it counts reserved address
         * space (malloc arenas, thread stacks), which would stop threaded
         * tools long before they use MemoryMax. */
        if (r >= 0) r = unit_property_u64(m, "LimitDATA", c->script_memory_max);
        if (r >= 0) r = unit_property_u64(m, "LimitCORE", 0);
        if (r >= 0 && spec->file_size_max > 0) r = unit_property_u64(m, "LimitFSIZE", spec->file_size_max);
        if (r >= 0) r = sd_bus_message_append(m, "(sv)", "OOMScoreAdjust", "i", (int32_t) 500);
        if (r >= 0) r = unit_property_u64(m, "TimeoutStopUSec", 10 * G_USEC_PER_SEC);
        return r;
}
