/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/: mechanisms the domains share: files without following links, workers, libcurl, units. */
#pragma once

#include <sys/types.h>

/* uids left4med hands out have no line in /etc/passwd; systemd needs a
 * user record for a unit's numeric User= all the same (its exit status
 * 217/USER otherwise). They get one as a drop-in record of systemd's
 * userdb in USERDB_DIR, which nss-systemd serves: NAME.user and NAME.group
 * (JSON), with UID.user and UID.group pointing at them, gid = uid, no
 * home, no login. /run: gone at reboot, written again when needed. */

#define USERDB_DIR "/run/userdb"

/* Makes sure the records of user name (and its group of the same name
 * and number) exist; replaces what another record of that name or number
 * said. name and real_name must need no JSON escaping (letters, digits,
 * '-', ' '). */
int userdb_record_ensure(const char *name, uid_t uid, const char *real_name);
