/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* Sets a D-Bus error for a failure the caller did not cause, keeping the
 * details in the journal, and returns the negative errno. */
int bus_error_internal(sd_bus_error *error, int r, const char *what);
