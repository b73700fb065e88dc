/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#include <assert.h>
#include <string.h>

#include "caller.h"
#include "config-file.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "manager.h"

/* ConfigWarnings: the problems of the configuration in force, as
 * left4med --check-config prints them. Like every property it is not
 * asked of polkit (org.left4me.read is granted to everyone by default);
 * a web session gets it only while its role may read, so a revoked one
 * gets an empty list. Changes are announced with the value, like every
 * other property's: EMITS_INVALIDATION on an interface with more than one
 * vtable trips an assertion in sd-bus (systemd 252,
 * emit_properties_changed_on_interface()). */
static int property_get_config_warnings(sd_bus *bus, const char *path, const char *interface,
                                        const char *property, sd_bus_message *reply, void *userdata,
                                        sd_bus_error *error) {
        Manager *m = userdata;
        sd_bus_message *call = sd_bus_get_current_message(bus);
        const Delegation *d = call ? caller_delegation(m, call) : NULL;
        static char *const none[] = { NULL };

        if (d && delegation_verify(d, L4M_ACTION_READ, NULL) < 0)
                return sd_bus_message_append_strv(reply, (char **) none);
        return sd_bus_message_append_strv(reply, m->config->problems);
}

/* InstancePortMin, InstancePortMax: [Instances] PortMin= and PortMax= in
 * force, so that clients offer the ports the daemon takes. */
static int property_get_port(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        unsigned port = strcmp(property, "InstancePortMin") == 0 ? m->config->instance_port_min
                                                                  : m->config->instance_port_max;

        return sd_bus_message_append(reply, "q", (uint16_t) port);
}

const sd_bus_vtable config_manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("ConfigWarnings", "as", property_get_config_warnings, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("InstancePortMin", "q", property_get_port, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("InstancePortMax", "q", property_get_port, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_VTABLE_END
};

void config_bus_emit_changed(Manager *m, const Config *old) {
        const char *changed[4];
        size_t n = 0;
        int r;

        assert(m);
        assert(old);
        if (!m->bus)
                return;
        if (!g_strv_equal((const char *const *) old->problems, (const char *const *) m->config->problems))
                changed[n++] = "ConfigWarnings";
        if (old->instance_port_min != m->config->instance_port_min)
                changed[n++] = "InstancePortMin";
        if (old->instance_port_max != m->config->instance_port_max)
                changed[n++] = "InstancePortMax";
        changed[n] = NULL;
        if (n == 0)
                return;
        r = sd_bus_emit_properties_changed_strv(m->bus, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, (char **) changed);
        if (r < 0)
                log_warning_errno(r, "Cannot announce the configuration's changes: %s", STRERROR(r));
}
