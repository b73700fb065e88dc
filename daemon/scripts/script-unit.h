/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/scripts/: script overlays: the owner's script run in its sandbox unit, as a job. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-bus.h>

#include "config-file.h"

/* The sandbox an overlay script runs in: the properties of its transient
 * unit left4me-script-<job>.service (left4med(8); docs/ARCHITECTURE.md,
 * "Sandboxes"). */

/* Where the script and the overlay appear inside the sandbox. */
#define SCRIPT_PATH_INSIDE "/run/left4me/script"
#define SCRIPT_OVERLAY_INSIDE "/overlay"
#define SCRIPT_GAME_DIR "left4dead2"

typedef struct ScriptUnitSpec {
        const Config *config;
        const char *overlay_dir;        /* absolute: bound at /overlay */
        const char *script_file;        /* absolute: bound read-only at SCRIPT_PATH_INSIDE */
        const char *log_file;           /* absolute: stdout and stderr are appended to it */
        const char *overlay_name;
        uint64_t job_id;
        uid_t uid;                      /* the run's: User= and Group= (script-uids.h) */
        uint64_t file_size_max;         /* LimitFSIZE= (the owner's storage quota); 0: none */
} ScriptUnitSpec;

char *script_unit_name(uint64_t job_id);
/* A UnitPropertiesFunc (systemd-unit.h); userdata is a ScriptUnitSpec. */
int script_unit_properties(sd_bus_message *m, void *userdata);
