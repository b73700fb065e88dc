/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "bridge.h"

/* Sets the compiled-in defaults. */
void bridge_config_init(BridgeConfig *c);
void bridge_config_done(BridgeConfig *c);

/* Reads the [Web] group: of path if given, else of /etc/left4me/left4me.conf
 * and then every left4me.conf.d/ *.conf in name order (later files win).
 * Other groups belong to the daemon and are skipped; unknown keys in [Web]
 * and values that do not parse are warned about and leave what was there.
 * A missing file is fine. */
void bridge_config_load(BridgeConfig *c, const char *path);
