/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/game/: the one game installation: steamcmd in its unit, its output, app manifest and Steam login. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

/* The transient unit that installs or updates the game:
 * left4me-game-install-<job>.service runs steamcmd as the game user into
 * the installation directory (left4med(8); docs/ARCHITECTURE.md,
 * "Sandboxes"). */

#define GAME_USER "left4me-game"
#define GAME_APP_ID "222860"
#define GAME_RUNTIME_MAX_USEC (6 * 3600 * UINT64_C(1000000))
/* The name of the login credential inside the unit. */
#define GAME_LOGIN_CREDENTIAL "steam-login"

typedef struct GameUnitSpec {
        const char *steamcmd;           /* absolute path of the program */
        /* Both directly in the state directory, which the unit hides but
         * for these two. */
        const char *installation_dir;   /* absolute */
        const char *steam_home;         /* absolute: steamcmd's HOME, where it updates itself */
        const char *log_file;           /* absolute: stdout and stderr are appended to it */
        const char *login_file;         /* absolute, or NULL: log in anonymously */
        bool validate;
        uint64_t job_id;
} GameUnitSpec;

char *game_unit_name(uint64_t job_id);
/* steamcmd's command line (argv[0] is the program). */
char **game_unit_argv(const GameUnitSpec *spec);
/* How many app_update passes that command line makes. */
unsigned game_unit_passes(const GameUnitSpec *spec);
/* A UnitPropertiesFunc (systemd-unit.h); userdata is a GameUnitSpec. */
int game_unit_properties(sd_bus_message *m, void *userdata);
