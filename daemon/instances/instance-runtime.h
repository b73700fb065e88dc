/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/instances/: server instances: records and rules, units and runtime, RCON, A2S and their logs. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "blueprint.h"
#include "instance.h"

/* runtime/<name>/: what a server instance runs on.
 *   runtime/<name>/          root 0711: the game user passes, lists nothing
 *   runtime/<name>/upper/    the instance's uid 0700: overlayfs' upper, the server's writes
 *                            (with left4dead2/, the game's, so that the merged
 *                            left4dead2/ is writable for the server)
 *   runtime/<name>/work/     the instance's uid 0700: overlayfs' work directory
 *   runtime/<name>/merged/   root 0755: where left4me-overlay(8) mounts the stack
 *   runtime/<name>/config/   root 0755: the generated config layer,
 *                            left4dead2/cfg/server.cfg (root:the instance's gid 0640)
 *   runtime/<name>/instance.env  root 0644: the stack, for left4me-overlay(8)
 *   runtime/<name>/disk.img  with a finite disk_max: upper/ and work/ are in
 *                            this image instead (instance-disk.h), mounted at
 *                            runtime/<name>/disk/ while the server runs
 * Everything is reached from runtime/ one component at a time without
 * following symbolic links. */

/* The text of the instance's generated server.cfg: a header, the
 * blueprint's ServerCfg, then hostname and rcon_password last, so that
 * they win over whatever the text above set. */
char *instance_server_cfg_text(const char *name, const char *server_cfg, const char *hostname,
                               const char *rcon_password);

/* Makes runtime/<name>/ ready for a start with the stack of blueprint b:
 * the directories (upper/ and work/ only without a disk image), the config
 * layer and instance.env, each file written
 * to a temporary name and renamed into place. A server.cfg the server
 * left in upper/ (it would hide the generated one) is removed. On failure
 * *ret_error (if not NULL) says what went wrong. */
int instance_runtime_prepare(Instance *i, const Blueprint *b, uid_t game_uid, gid_t game_gid, char **ret_error);
/* (upper/ and work/ are given to game_uid:game_gid; if another uid had
 * them, what it owns in them is handed over first, fs-util.h's
 * chown_tree_fd().) */

/* Removes runtime/<name>/ entirely: renamed out of the way at once, its
 * tree removed in a thread of its own (fs-util.h's rm_rf_in_background).
 * -EBUSY (nothing removed) while runtime/<name>/merged is a mount point;
 * never enters a mount. */
int instance_runtime_remove(Manager *m, const char *name);

/* The uid the server of a running instance was started as: upper/'s owner
 * (only root changes it, and only before a start). That is uid, the
 * instance's, but for a server started before instances had uids of their
 * own, which runs as left4me-game until its next start. uid if upper/ is
 * missing or root's. */
uid_t instance_runtime_server_uid(Manager *m, const char *name, uid_t uid);

/* Adds to uids (a set of GUINT_TO_POINTER(uid)) the owners other than root
 * of what each entry of runtime/ holds (upper/, work/): instances' and
 * those of trees still being removed (.trash-*, with the directories
 * rm_rf_at() lifted there). A uid is never handed out while one of them
 * has it: rm_rf_at() removes each directory after its contents, so upper/
 * is the last of the server's files to go. */
int instance_runtime_uids_in_use(Manager *m, GHashTable *uids);

/* Whether runtime/<name>/merged is a mount point (a stack is mounted). */
bool instance_runtime_mounted(Manager *m, const char *name);

/* The overlay ids of the stack in runtime/<name>/instance.env (what the
 * helper mounts or mounted), top first; a negative errno if the file is
 * missing or unreadable. */
int instance_runtime_stacked_overlays(Manager *m, const char *name, GArray **ret);

/* At start: removes the entries of runtime/ that no instance row refers to
 * (deleted instances, removals a restart interrupted), each in the
 * background; one whose merged/ is still a mount point is left alone. */
int manager_sweep_runtime_dirs(Manager *m);

/* A fresh RCON password: INSTANCE_RCON_PASSWORD_LEN characters of
 * [A-Za-z0-9] from getrandom(). */
int instance_generate_password(char **ret);

/* 0 if nothing on this host listens on port (TCP) or has it bound (UDP),
 * -EADDRINUSE if something does, another negative errno if unknown. */
int instance_port_check_free(uint16_t port);
