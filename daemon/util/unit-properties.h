/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/: mechanisms the domains share: files without following links, workers, libcurl, units. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

/* Appending the properties of a transient unit, each an "(sv)", to a
 * StartTransientUnit call (see unit_start_transient()). The names and
 * types are systemd's D-Bus ones (org.freedesktop.systemd1(5)). Each
 * returns what sd-bus returned: >= 0 or a negative errno. */

int unit_property_bool(sd_bus_message *m, const char *name, bool value);
int unit_property_string(sd_bus_message *m, const char *name, const char *value);
int unit_property_u64(sd_bus_message *m, const char *name, uint64_t value);
int unit_property_strv(sd_bus_message *m, const char *name, char **values);

/* SystemCallFilter=, RestrictAddressFamilies= and the like: an allow list
 * (allow) or a deny list of names. */
int unit_property_filter(sd_bus_message *m, const char *name, bool allow, char **values);

/* ExecStart= and friends, one command: argv[0] is the program. With flags
 * (NULL-terminated, e.g. "privileged" for the '+' prefix) the Ex variant
 * of the property is meant (name "ExecStartPreEx", …). */
int unit_property_exec(sd_bus_message *m, const char *name, char **argv, char **flags);

/* BindPaths= / BindReadOnlyPaths=. */
typedef struct UnitBind {
        const char *source, *destination;
        bool optional;                  /* ignored if the source is missing */
} UnitBind;
int unit_property_binds(sd_bus_message *m, const char *name, const UnitBind *binds, size_t n);

/* TemporaryFileSystem=: each path with the same mount options. */
int unit_property_temporary_file_systems(sd_bus_message *m, char **paths, const char *options);

/* LoadCredential=: one credential name and the file it is read from. */
int unit_property_load_credential(sd_bus_message *m, const char *name, const char *path);

/* What every unit left4me starts for an unprivileged user gets: no
 * capabilities and no way to gain privileges, no namespaces of its own
 * making (cgroup ones are allowed in name only, see the .c file), no
 * realtime scheduling, no personality changes, a private keyring, and the
 * kernel's settings, modules, logs, clock, host name and cgroups out of
 * reach. */
int unit_properties_confine(sd_bus_message *m);
