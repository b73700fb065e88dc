/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <unistd.h>

#include <glib.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

/* Scope-bound cleanup for the libsystemd types, so that every owner in the
 * tree is written the same way: g_autoptr(T) for objects, g_auto(T) for
 * stack values, _cleanup_close_ for file descriptors. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus, sd_bus_flush_close_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus_message, sd_bus_message_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus_slot, sd_bus_slot_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus_creds, sd_bus_creds_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_event, sd_event_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_event_source, sd_event_source_unref)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(sd_bus_error, sd_bus_error_free)

static inline void l4m_close_fdp(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                (void) close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_ __attribute__((cleanup(l4m_close_fdp)))

/* Hand a descriptor out of a _cleanup_close_ scope. */
static inline int l4m_take_fd(int *fd) {
        int r = *fd;
        *fd = -1;
        return r;
}

#define L4M_ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
