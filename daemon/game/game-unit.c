/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/game/: the one game installation: steamcmd in its unit, its output, app manifest and Steam login. */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "game-unit.h"
#include "unit-properties.h"

char *game_unit_name(uint64_t job_id) {
        return g_strdup_printf("left4me-game-install-%" G_GUINT64_FORMAT ".service", job_id);
}

char **game_unit_argv(const GameUnitSpec *spec) {
        g_autoptr(GStrvBuilder) b = g_strv_builder_new();

        g_strv_builder_add(b, spec->steamcmd);
        g_strv_builder_add_many(b, "+force_install_dir", spec->installation_dir, NULL);
        if (spec->login_file) {
                /* systemd puts the credential there and expands the
                 * variable when it starts the program: the password
                 * itself is never on the command line. */
                g_strv_builder_add_many(b, "+runscript", "${CREDENTIALS_DIRECTORY}/" GAME_LOGIN_CREDENTIAL,
                                        "+app_update", GAME_APP_ID, NULL);
        } else {
                /* Since late 2024 an anonymous Linux-only install fails with
                 * "Invalid platform"; a Windows pass first gets through. */
                g_strv_builder_add_many(b, "+login", "anonymous",
                                        "+@sSteamCmdForcePlatformType", "windows", "+app_update", GAME_APP_ID,
                                        "+@sSteamCmdForcePlatformType", "linux", "+app_update", GAME_APP_ID, NULL);
        }
        if (spec->validate)
                g_strv_builder_add(b, "validate");
        g_strv_builder_add(b, "+quit");
        return g_strv_builder_end(b);
}

unsigned game_unit_passes(const GameUnitSpec *spec) {
        return spec->login_file ? 1 : 2;
}

int game_unit_properties(sd_bus_message *m, void *userdata) {
        const GameUnitSpec *spec = userdata;
        g_autofree char *description = g_strdup_printf("left4me game install (job %" G_GUINT64_FORMAT ")", spec->job_id);
        g_autofree char *env_home = g_strconcat("HOME=", spec->steam_home, NULL);
        g_auto(GStrv) argv = game_unit_argv(spec);
        char *environment[] = {
                env_home, (char *) "LANG=C.UTF-8", (char *) "PATH=/usr/local/bin:/usr/bin:/bin:/usr/games", NULL,
        };
        /* Both live in the state directory. */
        g_autofree char *state_dir = g_path_get_dirname(spec->installation_dir);
        g_autofree char *home_parent = g_path_get_dirname(spec->steam_home);
        char *temporary[] = { state_dir, NULL };
        UnitBind rw[] = {
                { spec->installation_dir, spec->installation_dir, false },
                { spec->steam_home, spec->steam_home, false },
        };
        /* steamcmd is a 32-bit program; its wrapper script is native. */
        char *architectures[] = { (char *) "native", (char *) "x86", NULL };
        char *families[] = { (char *) "AF_UNIX", (char *) "AF_INET", (char *) "AF_INET6", (char *) "AF_NETLINK", NULL };
        int r;

        assert(g_path_is_absolute(state_dir) && strcmp(state_dir, "/") != 0);
        assert(strcmp(state_dir, home_parent) == 0);

        r = unit_property_string(m, "Description", description);
        /* RemainAfterExit: the outcome stays readable after steamcmd ended,
         * even while the daemon is down; the daemon collects it, then stops
         * or resets the unit. */
        if (r >= 0) r = unit_property_string(m, "Type", "exec");
        if (r >= 0) r = unit_property_bool(m, "RemainAfterExit", true);
        if (r >= 0) r = unit_property_string(m, "ExitType", "cgroup");
        if (r >= 0) r = unit_property_exec(m, "ExecStart", argv, NULL);
        if (r >= 0 && spec->login_file) r = unit_property_load_credential(m, GAME_LOGIN_CREDENTIAL, spec->login_file);
        if (r >= 0) r = unit_property_string(m, "User", GAME_USER);
        if (r >= 0) r = unit_property_string(m, "WorkingDirectory", spec->steam_home);
        if (r >= 0) r = unit_property_strv(m, "Environment", environment);
        if (r >= 0) r = unit_property_string(m, "StandardInput", "null");
        if (r >= 0) r = unit_property_string(m, "StandardOutputFileToAppend", spec->log_file);
        if (r >= 0) r = unit_property_string(m, "StandardError", "inherit");

        /* steamcmd writes the game and updates itself in its HOME; the rest
         * is read-only. Of the state directory it sees only those two: it
         * is a networked program that updates itself, and the rest holds
         * what it has no business reading (the servers' configurations
         * with their RCON passwords are readable by the game user, the
         * overlays, the database, the job logs). systemd reads the login
         * credential and opens the job's log before it builds this
         * namespace. It needs the network, and 32-bit code. */
        if (r >= 0) r = unit_property_string(m, "ProtectSystem", "strict");
        if (r >= 0) r = unit_property_temporary_file_systems(m, temporary, "ro,mode=0755");
        if (r >= 0) r = unit_property_binds(m, "BindPaths", rw, G_N_ELEMENTS(rw));
        if (r >= 0) r = unit_property_string(m, "ProtectHome", "yes");
        if (r >= 0) r = unit_property_bool(m, "PrivateTmp", true);
        if (r >= 0) r = unit_property_bool(m, "PrivateDevices", true);
        /* Group-writable: the servers (uids of their own, with the game
         * user's group as a supplementary one) write where steamcmd writes,
         * each into its own upper/ (the daemon makes what steamcmd made
         * with a mode of its own so after the run). */
        if (r >= 0) r = sd_bus_message_append(m, "(sv)", "UMask", "u", (uint32_t) 0002);
        if (r >= 0) r = unit_properties_confine(m);
        if (r >= 0) r = unit_property_string(m, "ProtectProc", "invisible");
        if (r >= 0) r = unit_property_bool(m, "RemoveIPC", true);
        if (r >= 0) r = unit_property_strv(m, "SystemCallArchitectures", architectures);
        if (r >= 0) r = unit_property_filter(m, "RestrictAddressFamilies", true, families);

        if (r >= 0) r = unit_property_u64(m, "RuntimeMaxUSec", GAME_RUNTIME_MAX_USEC);
        if (r >= 0) r = unit_property_u64(m, "TimeoutStopUSec", 30 * G_USEC_PER_SEC);
        if (r >= 0) r = unit_property_u64(m, "LimitCORE", 0);
        return r;
}
