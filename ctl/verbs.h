/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

#include "table.h"

/* What the command line asked for, beyond the verb and its arguments.
 * main() lets each verb see only the options it accepts. */
typedef struct CtlArgs {
        bool json;        /* --json */
        bool legend;      /* not --no-legend */
        const char *type; /* --type, NULL if not given */
        bool ask_password; /* not --no-ask-password */
        bool wait;        /* --wait */
        bool follow;      /* -f, --follow */
        const char *subdir; /* --subdir, NULL if not given */
        bool have_strip_components;
        uint32_t strip_components; /* --strip-components */
        bool merge;       /* --merge */
        const char *name_encoding; /* --name-encoding, NULL if not given */
        bool validate;    /* --validate */
        bool restart_instances; /* --restart-instances */
        uint32_t port;    /* --port, 0 if not given */
        const char *hostname; /* --hostname, NULL if not given */
        uint32_t max_players; /* --max-players, 0 if not given */
        const char *map;  /* --map, NULL if not given */
        bool autostart;   /* --autostart */
        bool have_lines;
        uint32_t lines;   /* -n, --lines */
        const char *role; /* --role, NULL if not given */
        bool only_if_running; /* --only-if-running */
        uint32_t randomized_delay_sec; /* --randomized-delay */
        bool stop;        /* --stop */
        bool disabled;    /* --disabled */
        const char *target; /* --target, NULL if not given */
        const char *owner; /* --owner, NULL if not given */
        const char *kind; /* --kind, NULL if not given */
        const char *state; /* --state, NULL if not given */
        uint32_t limit;   /* --limit, 0 if not given */
        uint64_t before;  /* --before, 0 if not given */
} CtlArgs;

/* How --json and --no-legend ask for tables to be printed. */
static inline TablePrintFlags table_flags(const CtlArgs *args) {
        return (args->json ? TABLE_JSON : 0) | (args->legend ? 0 : TABLE_NO_LEGEND);
}

/* A verb gets the connected bus and its positional arguments (argv, after
 * the verb's own words, NULL-terminated; main() has checked their number).
 * It returns 0 on success, a negative errno for a local failure, or a
 * positive L4mExitCode (for a failed bus call, a usage error found late,
 * or a job's result); failures are logged already. */
typedef int (*VerbFunction)(sd_bus *bus, const CtlArgs *args, char *const *argv);

int verb_status(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_overlay_list(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_overlay_create(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_overlay_show(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_overlay_delete(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_overlay_set_items(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_overlay_set_source(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_overlay_build(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_overlay_import(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_overlay_set_script(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_overlay_script(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_overlay_wipe(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_overlay_export(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_overlay_files(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_overlay_cat(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_blueprint_list(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_blueprint_create(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_blueprint_show(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_blueprint_delete(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_blueprint_set_overlays(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_blueprint_set_cfg(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_blueprint_set_args(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_job_list(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_job_show(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_job_cancel(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_job_log(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_cache_list(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_cache_prune(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_game_install(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_game_update(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_game_status(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_game_login(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_game_logout(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_instance_list(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_instance_backup(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_instance_files(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_instance_cat(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_backup_list(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_backup_restore(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_backup_delete(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_backup_export(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_backup_import(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_instance_create(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_instance_show(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_instance_start(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_instance_stop(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_instance_restart(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_instance_rcon(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_instance_set(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_instance_delete(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_instance_logs(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_user_add(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_user_list(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_user_passwd(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_user_delete(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_schedule_list(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_schedule_create(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_schedule_show(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_schedule_enable(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_schedule_disable(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_schedule_run(sd_bus *bus, const CtlArgs *args, char *const *argv);
int verb_schedule_delete(sd_bus *bus, const CtlArgs *args, char *const *argv);
