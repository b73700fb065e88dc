/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/scripts/: script overlays: the owner's script run in its sandbox unit, as a job. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "manager.h"

/* The uids script runs are given, [Script] FirstUID= to LastUID= (gid =
 * uid; each has a userdb record, userdb-record.h). A uid is taken when its
 * run starts and stays in use until systemd has removed the run's unit:
 * systemd removes a unit only once it is inactive and its cgroup is empty,
 * so no process that ran as the uid is left when it is handed out again.
 * The next uid is taken round robin from the last one, not the lowest
 * free one, so a run normally gets another uid than the one before.
 *
 * After a restart of the daemon, the units of runs systemd still has hold
 * their uids again (read from their User=); those no running job resumes
 * are stopped. Until that is known, no uid is handed out. */

typedef struct ScriptUids ScriptUids;

ScriptUids *script_uids_new(Manager *m);
ScriptUids *script_uids_free(ScriptUids *u);

/* Once the bus is connected, before the jobs are resumed: the units of
 * earlier runs, and what they hold. Tries again later if systemd does not
 * answer. */
void script_uids_recover(ScriptUids *u);

/* Is a uid of the range free (and are the uids held known)? */
bool script_uids_available(ScriptUids *u);

/* Takes the next free uid for the run in unit, and makes sure it has its
 * records. -EBUSY if none is free (or not known yet). */
int script_uid_take(ScriptUids *u, const char *unit, uid_t *ret);

/* The run of unit has ended (its job is finished, the unit is stopped or
 * reset): its uid is free once the unit is gone. */
void script_uid_run_ended(ScriptUids *u, const char *unit);

/* The uid the unit holds, if any. */
bool script_uid_of_unit(ScriptUids *u, const char *unit, uid_t *ret);
