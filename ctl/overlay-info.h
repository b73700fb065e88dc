/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>
#include <systemd/sd-bus.h>

#include "bus-properties.h"

/* One overlay as the daemon describes it. The strings are borrowed from the
 * bus message they were read from and live as long as it does; a property
 * the daemon did not send stays NULL. */
typedef struct OverlayInfo {
        const char *path;
        const char *name;
        const char *type;
        const char *owner;
        const char *state;
        uint64_t created; /* µs since the epoch; 0 if unknown */

        /* Only from Properties.GetAll (ListOverlays does not carry them):
         * details is true then, and have_* tell what the daemon sent. */
        bool details;
        bool have_items, have_size, have_last_build, have_script_size;
        BusU64Array items;   /* Workshop references, in order */
        uint64_t size;       /* bytes of the last successful build or import */
        uint64_t last_build; /* µs since the epoch; 0 for never */
        uint64_t script_size; /* bytes of a script overlay's script; 0 for none */
} OverlayInfo;

/* The id at the end of an object path such as /org/left4me/Manager/job/12:
 * its last component (bus-label decoded), a decimal number. -EINVAL if it
 * is not one. */
int object_id_from_path(const char *path, uint64_t *ret);
static inline int overlay_id_from_path(const char *path, uint64_t *ret) {
        return object_id_from_path(path, ret);
}

/* Read the reply of org.left4me.Manager.ListOverlays (a(osssst)) into an
 * array of OverlayInfo, in the daemon's order. */
int overlay_list_from_reply(sd_bus_message *reply, GArray **ret);

/* Call ListOverlays and read its reply; errors are logged (prefixed "cannot
 * list overlays") and returned as the exit code to use. The strings in
 * *ret borrow from *ret_reply. */
int overlay_list_fetch(sd_bus *bus, sd_bus_message **ret_reply, GArray **ret);

/* The same with each overlay's Size (have_size), from one ListObjects
 * call. Returns 1 (nothing logged) when the daemon answers Busy (a list too
 * large for one message) or does not know ListObjects: then use
 * overlay_list_fetch() and read the sizes one by one. */
int overlay_list_fetch_sized(sd_bus *bus, sd_bus_message **ret_reply, GArray **ret);

/* Read the reply of org.freedesktop.DBus.Properties.GetAll for the
 * org.left4me.Overlay interface; unknown properties are skipped, a known
 * one with a wrong type is an error (-EBADMSG). info->path is left alone;
 * info->details is set. */
int overlay_info_from_properties(sd_bus_message *reply, OverlayInfo *info);
