/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* The principal a call acts for. For a direct caller it is the user name of
 * the connection's uid as recorded by the bus (never read from /proc, which
 * a caller could race), or "uid:<N>" for a uid without a passwd entry. */
int caller_principal(sd_bus_message *m, char **ret);
