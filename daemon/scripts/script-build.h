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
 * unit's name. Each run has a uid of its own (script-uids.h), so up to
 * [Script] MaxRunning= run at once. */

typedef struct ScriptBuild ScriptBuild;

extern const JobKind script_build_kind;

ScriptBuild *script_build_new(Overlay *o);
