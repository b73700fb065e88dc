/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include <systemd/sd-bus.h>

/* What the command line asked for, beyond the verb and its arguments. */
typedef struct CtlArgs {
        bool json;        /* --json */
        bool legend;      /* not --no-legend */
        const char *type; /* --type, NULL if not given */
        bool ask_password; /* not --no-ask-password */
} CtlArgs;

/* A verb gets the connected bus and its positional arguments (argv, after
 * the verb's own words; main() has checked their number). It returns 0 on
 * success, a negative errno for a local failure, or a positive L4mExitCode
 * for a failed bus call; failures are logged already. */
typedef int (*VerbFunction)(sd_bus *bus, const CtlArgs *args, char *const *argv);

int verb_status(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_overlay_list(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_overlay_create(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_overlay_show(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_overlay_delete(sd_bus *bus, const CtlArgs *args, char *const *argv);
