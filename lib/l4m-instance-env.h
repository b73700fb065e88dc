/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <glib.h>

/* runtime/<name>/instance.env: what left4med tells left4me-overlay(8)
 * about an instance's overlayfs stack. Written by the daemon (root, mode
 * 0644), read by the root helper, which trusts nothing in it.
 *
 * The format (see also left4me-overlay(8)):
 *   - at most L4M_INSTANCE_ENV_MAX_BYTES bytes of text, lines ending in
 *     '\n' (the last newline may be missing); no NUL, CR, TAB or other
 *     control bytes anywhere;
 *   - empty lines and lines starting with '#' are ignored;
 *   - every other line is KEY=VALUE, KEY matching [A-Z][A-Z0-9_]*, no
 *     spaces, no quoting; a key may appear only once; keys this version
 *     does not know are ignored (forward compatibility);
 *   - NAME=<instance name> (required): must equal the name the helper was
 *     given;
 *   - LAYERS=<layer>:<layer>:… (required): the lower layers, top first,
 *     each relative to the state directory and exactly one of
 *       overlays/<id>        <id> in canonical decimal (1.., no leading 0)
 *       runtime/<NAME>/config the instance's generated config layer
 *       installation         the game, required, and always last
 *     at most L4M_INSTANCE_ENV_MAX_LAYERS layers, no layer twice.
 *
 * Example:
 *   # Written by left4med for left4me-overlay(8).
 *   NAME=coop1
 *   LAYERS=overlays/12:overlays/7:runtime/coop1/config:installation
 *
 * The functions return 0 or a negative errno (-EINVAL for a text or a
 * stack that breaks these rules) and, on failure, a one-line English
 * message in *ret_error when ret_error is not NULL. */

#define L4M_INSTANCE_ENV_FILE "instance.env"
#define L4M_INSTANCE_ENV_MAX_BYTES (64 * 1024)
#define L4M_INSTANCE_ENV_MAX_LAYERS 500         /* overlayfs' own limit */
#define L4M_INSTANCE_ENV_INSTALLATION "installation"

typedef struct L4mInstanceEnv {
        char *name;
        char **layers;          /* NULL-terminated, top first */
        size_t n_layers;
} L4mInstanceEnv;

void l4m_instance_env_free(L4mInstanceEnv *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(L4mInstanceEnv, l4m_instance_env_free)

/* The layer strings the daemon puts into a stack. */
char *l4m_instance_env_overlay_layer(uint64_t id);
char *l4m_instance_env_config_layer(const char *name);

/* Checks one layer of instance name's stack (its place is not checked). */
int l4m_instance_env_check_layer(const char *name, const char *layer, char **ret_error);
/* Checks a whole stack: every layer, count, duplicates, installation last. */
int l4m_instance_env_check_layers(const char *name, char *const *layers, size_t n_layers, char **ret_error);

/* Parses len bytes of text. expected_name, if not NULL, must equal NAME=. */
int l4m_instance_env_parse(const char *text, size_t len, const char *expected_name,
                           L4mInstanceEnv **ret, char **ret_error);

/* The text of an instance.env for this stack (checked first). */
int l4m_instance_env_format(const char *name, char *const *layers, size_t n_layers,
                            char **ret_text, char **ret_error);

/* Reads dir_fd/instance.env without following a symlink: it must be a
 * regular file owned by owner, not group- or world-writable, at most
 * L4M_INSTANCE_ENV_MAX_BYTES long, and parse. */
int l4m_instance_env_read_at(int dir_fd, uid_t owner, const char *expected_name,
                             L4mInstanceEnv **ret, char **ret_error);

/* Replaces dir_fd/instance.env atomically (temporary file, fsync, rename)
 * with a mode 0644 file describing this stack (checked first). */
int l4m_instance_env_write_at(int dir_fd, const char *name, char *const *layers, size_t n_layers,
                              char **ret_error);
