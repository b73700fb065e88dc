/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/game/: the one game installation: steamcmd in its unit, its output, app manifest and Steam login. */
#pragma once

#include <stddef.h>

/* The app manifest steamcmd leaves in the installation,
 * steamapps/appmanifest_222860.acf: a Valve KeyValues text file
 *
 *   "AppState"
 *   {
 *           "appid"         "222860"
 *           "buildid"       "9503622"
 *           "InstalledDepots" { ... }
 *   }
 *
 * of which left4me reads AppState's buildid. The installation belongs to
 * the game user, so the file is read without following symlinks and with
 * bounded size and nesting. */

#define APP_MANIFEST_PATH "steamapps/appmanifest_222860.acf"
#define APP_MANIFEST_SIZE_MAX (1024u * 1024u)
#define APP_MANIFEST_DEPTH_MAX 32u
#define APP_MANIFEST_BUILDID_MAX 20u

/* The build id from the manifest's text: 0, -EBADMSG if it does not parse
 * or has no (valid, all digits) AppState/buildid. */
int app_manifest_parse_buildid(const char *text, size_t size, char **ret_buildid);

/* Reads the manifest below the installation directory installation_fd:
 * 0, -ENOENT if there is none, -ELOOP for a symlink on the way, -EFBIG for
 * one past APP_MANIFEST_SIZE_MAX, -EBADMSG as above, or another error. */
int app_manifest_read_buildid(int installation_fd, char **ret_buildid);
