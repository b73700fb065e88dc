/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/: mechanisms the domains share: files without following links, workers, libcurl, units. */
#pragma once

#include <sys/types.h>

/* Where systemd's nss-systemd module reads user and group records from
 * (systemd 249 and later, "JSON User Records" drop-ins), made by
 * units/tmpfiles.conf. */
#define USERDB_RECORD_DIR "/run/userdb"

/* The name of the user and group of a uid that left4med allocates: "left4me-<uid>". */
char *userdb_record_name(uid_t uid);

/* Makes uid known to the system as user and group "left4me-<uid>" (gid =
 * uid, no home, no login) with description as its real name, in dir:
 * <name>.user, <uid>.user, <name>.group and <uid>.group, each written
 * atomically. systemd 252 refuses a numeric User= that no user database
 * knows (217/USER), so a unit of such a uid needs these first. Records
 * live in /run: gone at reboot, written again before each start. */
int userdb_record_write(const char *dir, uid_t uid, const char *description);

/* Removes the four files of uid, if there. */
int userdb_record_remove(const char *dir, uid_t uid);
