/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/game/: the one game installation: steamcmd in its unit, its output, app manifest and Steam login. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Reads steamcmd's output as it arrives (in pieces of any size) and keeps
 * what left4me needs of it: how far the app_update passes got, whether the
 * last one reported success, and the last error line. steamcmd's exit
 * status says little (it often exits 0 after a failed update), so the
 * outcome is read from its text. */

#define STEAMCMD_APP_ID "222860"
/* Longer lines are no line steamcmd prints that matters: they are skipped. */
#define STEAMCMD_LINE_MAX 1024u
/* What of an error line is kept for the job's message. */
#define STEAMCMD_ERROR_MAX 200u
/* The daemon writes this line into the log before steamcmd runs, with the
 * number of app_update passes the run makes; read back after a restart. */
#define STEAMCMD_PASSES_MARKER "left4me: steamcmd app_update passes: "

typedef struct SteamCmdOutput {
        char line[STEAMCMD_LINE_MAX];
        size_t line_len;
        bool overlong;                  /* skipping the rest of a line past STEAMCMD_LINE_MAX */

        unsigned passes;                /* app_update passes the run makes (≥ 1) */
        unsigned passes_done;           /* passes that ended, with success or an error */
        double pass_fraction;           /* of the current pass, 0..1 */
        bool last_pass_succeeded;       /* the last pass that ended printed Success */
        bool login_failed;
        char error[STEAMCMD_ERROR_MAX + 1];     /* the last error line, "" if none */
        char login_error[STEAMCMD_ERROR_MAX + 1]; /* the failed login's line, "" if none */
} SteamCmdOutput;

void steamcmd_output_init(SteamCmdOutput *o, unsigned passes);
/* Takes in the next bytes of output; returns true if the progress changed. */
bool steamcmd_output_feed(SteamCmdOutput *o, const char *data, size_t size);
/* Output was lost before what comes next (the log was cut): a partial line
 * is dropped. */
void steamcmd_output_gap(SteamCmdOutput *o);
/* (passes done + fraction of this pass) / passes, in 0..1. */
double steamcmd_output_progress(const SteamCmdOutput *o);
/* Every pass ended and the last one with Success. */
bool steamcmd_output_succeeded(const SteamCmdOutput *o);
