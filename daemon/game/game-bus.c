/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/game/: the one game installation: steamcmd in its unit, its output, app manifest and Steam login. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "app-manifest.h"
#include "authorize.h"
#include "bus-util.h"
#include "caller.h"
#include "game-install.h"
#include "instance.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "steam-login.h"

typedef struct GameOptions {
        bool update;                    /* UpdateGame: restart_instances is known */
        bool validate;
        bool restart_instances;
} GameOptions;

static int game_option(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error) {
        GameOptions *o = userdata;
        int value, r;

        if (strcmp(key, "validate") == 0 || (o->update && strcmp(key, "restart_instances") == 0)) {
                r = sd_bus_message_read(msg, "v", "b", &value);
                if (r < 0)
                        return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT, "Option %s takes a boolean.", key);
                if (strcmp(key, "validate") == 0)
                        o->validate = value;
                else
                        o->restart_instances = value;
                return 1;
        }
        return 0;
}

/* A restart of the instances that run is part of the update when they are
 * the caller's; the first that is not makes it administration: its owner
 * goes to authorize_call(). */
static Instance *first_foreign_active(Manager *m, const char *caller) {
        g_autoptr(GPtrArray) active = manager_instances_active(m);

        for (guint k = 0; active && k < active->len; k++) {
                Instance *i = g_hash_table_lookup(m->instances_by_name, active->pdata[k]);

                if (i && strcmp(i->owner, caller) != 0)
                        return i;
        }
        return NULL;
}

static int submit_game_job(sd_bus_message *msg, Manager *m, bool update, sd_bus_error *error) {
        GameOptions o = { .update = update };
        g_autofree char *problem = NULL;
        g_auto(Actor) actor = { NULL };
        Instance *foreign = NULL;
        Job *j;
        int r;

        r = bus_message_read_options(msg, game_option, &o, error);
        if (r < 0)
                return r;

        r = caller_actor(m, msg, &actor);
        if (r < 0)
                return bus_error_internal(error, r, "Identifying the caller");
        if (o.restart_instances)
                foreign = first_foreign_active(m, actor.principal);
        r = authorize_call(m, msg, &(AuthorizeRequest) {
                                   .action = L4M_ACTION_GAME_INSTALL,
                                   .verb = update ? "update" : "install",
                                   .kind = "game",
                                   .name = "Left 4 Dead 2",
                                   .owners = { foreign ? foreign->owner : NULL },
                                   .actor = &actor,
                           }, NULL, error);
        if (r < 0 && foreign && (sd_bus_error_has_name(error, SD_BUS_ERROR_ACCESS_DENIED) ||
                                 sd_bus_error_has_name(error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED))) {
                /* Say why the admin action was needed; the error's name stays. */
                g_autofree char *name = g_strdup(error->name);

                sd_bus_error_free(error);
                if (!actor_sees(&actor, foreign->owner))
                        return sd_bus_error_setf(error, name,
                                                 "An instance of another user runs: restarting it for the update needs %s.",
                                                 L4M_ACTION_ADMIN);
                return sd_bus_error_setf(error, name,
                                         "Instance \"%s\" runs and is %s's: restarting it for the update needs %s.",
                                         foreign->name, foreign->owner, L4M_ACTION_ADMIN);
        }
        if (r <= 0)
                return r < 0 ? r : 1;

        r = game_install_submit(m, &actor, update, o.validate, o.restart_instances, &j, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Queuing the job");
        return sd_bus_reply_method_return(msg, "o", j->path);
}

static int method_install_game(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return submit_game_job(msg, userdata, false, error);
}

static int method_update_game(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return submit_game_job(msg, userdata, true, error);
}

static int method_set_steam_login(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *user, *password, *problem;
        int r;

        r = sd_bus_message_read(msg, "ss", &user, &password);
        if (r < 0)
                return r;
        if (!*user) {
                if (*password)
                        return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT,
                                                "A password without a user: pass (\"\", \"\") to log in anonymously again.");
        } else {
                if (!steam_login_user_is_valid(user))
                        return bus_error_setf_valid(error, L4M_ERROR_INVALID_ARGUMENT,
                                                    "Invalid Steam account name \"%.64s\": 1-%u characters of A-Z, a-z, 0-9 and '_'.",
                                                    user, STEAM_LOGIN_USER_MAX);
                problem = steam_login_password_problem(password);
                if (problem)
                        return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT, problem);
        }

        r = authorize_call(m, msg, &(AuthorizeRequest) {
                                   .action = L4M_ACTION_ADMIN,
                                   .verb = "set",
                                   .kind = "the Steam login",
                                   .name = *user ? user : "anonymous",
                           }, NULL, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = steam_login_store(m->state_fd, user, password);
        if (r < 0)
                return bus_error_internal(error, r, "Storing the Steam login");
        if (*user)
                log_info("Stored a Steam login for account %s.", user);
        else
                log_info("Removed the Steam login: game installs log in anonymously.");
        manager_game_refresh(m);
        return sd_bus_reply_method_return(msg, NULL);
}

static int property_get_game_installed(sd_bus *bus, const char *path, const char *interface, const char *property,
                                       sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "b", m->game_installed);
}

static int property_get_game_build_id(sd_bus *bus, const char *path, const char *interface, const char *property,
                                      sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "s", m->game_build_id ? m->game_build_id : "");
}

static int property_get_steam_login(sd_bus *bus, const char *path, const char *interface, const char *property,
                                    sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "s", m->steam_login ? m->steam_login : "");
}

void manager_game_refresh(Manager *m) {
        g_autofree char *buildid = NULL, *login = NULL;
        _cleanup_close_ int fd = -1;
        const char *changed[4];
        size_t n = 0;
        int r;

        fd = openat(m->state_fd, "installation", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        r = fd < 0 ? -errno : app_manifest_read_buildid(fd, &buildid);
        if (r < 0 && r != -ENOENT)
                log_warning_errno(r, "Cannot read the game's app manifest %s: %s", APP_MANIFEST_PATH, STRERROR(r));
        if (r < 0)
                buildid = g_strdup("");

        r = steam_login_load_user(m->state_fd, &login);
        if (r < 0) {
                log_warning_errno(r, "Cannot read the stored Steam login: %s", STRERROR(r));
                login = g_strdup("");
        }

        if (m->game_installed != (*buildid != '\0')) {
                m->game_installed = *buildid != '\0';
                changed[n++] = "GameInstalled";
        }
        if (g_strcmp0(m->game_build_id, buildid) != 0) {
                g_free(m->game_build_id);
                m->game_build_id = g_steal_pointer(&buildid);
                changed[n++] = "GameBuildId";
        }
        if (g_strcmp0(m->steam_login, login) != 0) {
                g_free(m->steam_login);
                m->steam_login = g_steal_pointer(&login);
                changed[n++] = "SteamLogin";
        }
        changed[n] = NULL;
        if (n > 0 && m->bus) {
                r = sd_bus_emit_properties_changed_strv(m->bus, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE,
                                                        (char **) changed);
                if (r < 0)
                        log_warning_errno(r, "Cannot announce the game's properties: %s", STRERROR(r));
        }
}

const sd_bus_vtable game_manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("GameInstalled", "b", property_get_game_installed, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("GameBuildId", "s", property_get_game_build_id, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("SteamLogin", "s", property_get_steam_login, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("InstallGame",
                                SD_BUS_ARGS("a{sv}", options),
                                SD_BUS_RESULT("o", job),
                                method_install_game, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("UpdateGame",
                                SD_BUS_ARGS("a{sv}", options),
                                SD_BUS_RESULT("o", job),
                                method_update_game, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetSteamLogin",
                                SD_BUS_ARGS("s", user, "s", password),
                                SD_BUS_NO_RESULT,
                                method_set_steam_login, SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_VTABLE_END
};
