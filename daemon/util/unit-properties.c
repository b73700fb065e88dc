/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/: mechanisms the domains share: files without following links, workers, libcurl, units. */
#include <assert.h>
#include <sched.h>

#include "unit-properties.h"

int unit_property_bool(sd_bus_message *m, const char *name, bool value) {
        return sd_bus_message_append(m, "(sv)", name, "b", (int) value);
}

int unit_property_string(sd_bus_message *m, const char *name, const char *value) {
        return sd_bus_message_append(m, "(sv)", name, "s", value);
}

int unit_property_u64(sd_bus_message *m, const char *name, uint64_t value) {
        return sd_bus_message_append(m, "(sv)", name, "t", value);
}

/* Opens "(sv)" with the name and the variant of type contents; the caller
 * appends the value and closes both. */
static int open_property(sd_bus_message *m, const char *name, const char *contents) {
        int r;

        r = sd_bus_message_open_container(m, 'r', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", name);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', contents);
        return r;
}

static int close_containers(sd_bus_message *m, int r, unsigned n) {
        for (unsigned i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_close_container(m);
        return r;
}

int unit_property_strv(sd_bus_message *m, const char *name, char **values) {
        int r;

        r = open_property(m, name, "as");
        if (r >= 0)
                r = sd_bus_message_append_strv(m, values);
        return close_containers(m, r, 2);
}

int unit_property_filter(sd_bus_message *m, const char *name, bool allow, char **values) {
        int r;

        r = open_property(m, name, "(bas)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'r', "bas");
        if (r >= 0)
                r = sd_bus_message_append(m, "b", (int) allow);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, values);
        return close_containers(m, r, 3);
}

int unit_property_exec(sd_bus_message *m, const char *name, char **argv, char **flags) {
        const char *type = flags ? "a(sasas)" : "a(sasb)";
        int r;

        assert(argv && argv[0]);

        r = open_property(m, name, type);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', type + 1);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'r', flags ? "sasas" : "sasb");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", argv[0]);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, argv);
        if (r >= 0)
                r = flags ? sd_bus_message_append_strv(m, flags) : sd_bus_message_append(m, "b", 0);
        return close_containers(m, r, 4);
}

int unit_property_binds(sd_bus_message *m, const char *name, const UnitBind *binds, size_t n) {
        int r;

        r = open_property(m, name, "a(ssbt)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(ssbt)");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = sd_bus_message_append(m, "(ssbt)", binds[i].source, binds[i].destination,
                                          (int) binds[i].optional, (uint64_t) 0);
        return close_containers(m, r, 3);
}

int unit_property_temporary_file_systems(sd_bus_message *m, char **paths, const char *options) {
        int r;

        r = open_property(m, "TemporaryFileSystem", "a(ss)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(ss)");
        for (size_t i = 0; r >= 0 && paths[i]; i++)
                r = sd_bus_message_append(m, "(ss)", paths[i], options);
        return close_containers(m, r, 3);
}

int unit_property_load_credential(sd_bus_message *m, const char *name, const char *path) {
        int r;

        r = open_property(m, "LoadCredential", "a(ss)");
        if (r >= 0)
                r = sd_bus_message_append(m, "a(ss)", 1, name, path);
        return close_containers(m, r, 2);
}

int unit_properties_confine(sd_bus_message *m) {
        static const char *const protect[] = {
                "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs",
                "ProtectControlGroups", "ProtectClock", "ProtectHostname",
                "NoNewPrivileges", "RestrictSUIDSGID", "RestrictRealtime", "LockPersonality",
        };
        int r = 0;

        for (size_t i = 0; r >= 0 && i < sizeof(protect) / sizeof(protect[0]); i++)
                r = unit_property_bool(m, protect[i], true);
        if (r >= 0)
                r = unit_property_string(m, "KeyringMode", "private");
        if (r >= 0)
                r = unit_property_u64(m, "CapabilityBoundingSet", 0);
        if (r >= 0)
                r = unit_property_u64(m, "AmbientCapabilities", 0);
        /* A bit mask of the namespace types that may be made: cgroup
         * only, which without capabilities or a user namespace no process
         * here can make anyway. Not 0 (none): systemd 252 writes that into
         * the transient unit file as an empty RestrictNamespaces=, which a
         * daemon-reload reads back as no restriction at all, for every
         * later (re)start of the unit. */
        if (r >= 0)
                r = unit_property_u64(m, "RestrictNamespaces", CLONE_NEWCGROUP);
        return r;
}
