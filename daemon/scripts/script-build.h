/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/scripts/: script overlays: the owner's script run in its sandbox unit, as a job. */
#pragma once

#include "job.h"
#include "overlay.h"

/* The "script-build" job: runs a script overlay's script in its sandbox
 * unit (script-unit.h), started with StartTransientUnit, and ends with the
 * unit's outcome. The unit appends the script's output to the job's log
 * itself, and keeps its outcome after the script ended (RemainAfterExit),
 * so a daemon restart loses neither: the job is picked up again by the
 * unit's name. One script runs at a time, since every script runs as the
 * one sandbox user. */

typedef struct ScriptBuild ScriptBuild;

extern const JobKind script_build_kind;

ScriptBuild *script_build_new(Overlay *o);
