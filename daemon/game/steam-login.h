/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/game/: the one game installation: steamcmd in its unit, its output, app manifest and Steam login. */
#pragma once

#include <stdbool.h>

/* The Steam login game installs use instead of anonymous: a file in the
 * state directory, root's alone (0600), in steamcmd runscript form
 *
 *   login USER "PASSWORD"
 *
 * handed to the install unit as a credential (LoadCredential=), so the
 * password is in no argv, environment or log. No file: anonymous. */

#define STEAM_LOGIN_FILE "steam-login"
#define STEAM_LOGIN_USER_MAX 64u
#define STEAM_LOGIN_PASSWORD_MAX 128u
/* The file is never larger than one line of the above. */
#define STEAM_LOGIN_FILE_MAX 512u

bool steam_login_user_is_valid(const char *user);
/* NULL if the password can be stored, else why not (for the caller). */
const char *steam_login_password_problem(const char *password);

/* Stores user and password (validated) in state_fd/STEAM_LOGIN_FILE,
 * atomically; user "" removes the file (anonymous again). */
int steam_login_store(int state_fd, const char *user, const char *password);
/* The stored user name, "" when there is none. */
int steam_login_load_user(int state_fd, char **ret_user);
