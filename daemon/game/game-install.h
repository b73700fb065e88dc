/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/game/: the one game installation: steamcmd in its unit, its output, app manifest and Steam login. */
#pragma once

#include <stdbool.h>

#include <systemd/sd-bus.h>

#include "actor.h"
#include "job.h"
#include "manager.h"

/* The "game-install" job: installs or updates the game with steamcmd in a
 * transient unit (game-unit.h), and ends with the unit's outcome read
 * together with steamcmd's output (steamcmd-output.h) and the app manifest
 * it leaves (app-manifest.h). Like a script build, the unit appends to the
 * job's log itself and keeps its outcome (RemainAfterExit), so a daemon
 * restart loses nothing: the job is picked up again by the unit's name.
 * One game job at a time: they share the target GAME_JOB_TARGET.
 *
 * Server instances run from the installation, which must not change under
 * them. A job refuses to run while some are active, unless asked to
 * restart them: it then stops them, waits (on their state from systemd)
 * until their units are gone and their stacks unmounted, runs steamcmd,
 * and whatever came of it (a failure, a cancel) starts exactly those
 * again before it ends. Which ones, and whether steamcmd was started, is
 * kept in the daemon's runtime directory for a restart of the daemon. */

#define GAME_JOB_TARGET "game"

typedef struct GameInstall GameInstall;

extern const JobKind game_install_kind;

/* update: the job's messages speak of an update (the work is the same). */
GameInstall *game_install_new(Manager *m, bool update, bool validate, bool restart_instances);

/* A game job is queued or running: the installation may change under
 * whatever starts now, so server instances must not start. False again
 * once a job that stopped instances for an update starts them again. */
bool manager_game_job_active(Manager *m);

/* InstallGame and UpdateGame for actor: -ENOENT for an update without an
 * installation, -EBUSY while a game job is queued or running, or while
 * instances run and restart_instances is not set (problem.h). */
int game_install_submit(Manager *m, const Actor *actor, bool update, bool validate, bool restart_instances, Job **ret,
                        char **ret_problem);

/* Called by the instances whenever what systemd says of one changed: a
 * game job waiting for the instances it stopped (restart_instances) to be
 * down, or to be known after a daemon restart, looks again. */
void game_install_instances_changed(Manager *m);

/* Makes the installation's directories and files of the game user
 * group-writable, in a thread of its own that nobody waits for (at the
 * daemon's start, for an installation of before; a job does the same
 * after each successful steamcmd run). */
void manager_game_fix_modes(Manager *m);

/* game-bus.c */

/* org.left4me.Manager's game members: InstallGame, UpdateGame,
 * SetSteamLogin, GameInstalled, GameBuildId, SteamLogin. */
extern const sd_bus_vtable game_manager_vtable[];

/* Reads the app manifest and the stored login again into m's game fields,
 * and announces what changed (PropertiesChanged, once on the bus). */
void manager_game_refresh(Manager *m);
