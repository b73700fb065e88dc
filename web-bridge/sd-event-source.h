/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>
#include <systemd/sd-event.h>

/* A GSource that runs an sd-event loop inside the GLib main loop: sd-event's
 * epoll fd is polled by GLib, and whenever it is readable (or sd-event has
 * pending work) one iteration of the sd-event loop is dispatched. Every
 * sd_bus of the bridge is attached to that one sd_event. The source holds a
 * reference on e. */
GSource *sd_event_source_new(sd_event *e);
