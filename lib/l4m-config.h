/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

/* The configuration files of left4med and left4me-web: DIR/left4me.conf,
 * then every DIR/left4me.conf.d/ *.conf in name order (later files win).
 * The syntax is that of an ini file: "[Group]" lines, "Key=value" lines,
 * blank lines and lines starting with '#'; blanks around keys and values
 * are dropped. A file with a line that is none of these is ignored as a
 * whole. Each program declares its keys in a table of L4mConfigKey and
 * hands the struct they point into; what does not fit is collected as a
 * problem (file, line, group, key, message), and leaves the field as it
 * was: the compiled-in default, or what an earlier file said. */

#define L4M_CONFIG_FILE "left4me.conf"
#define L4M_CONFIG_DROPIN_DIR "left4me.conf.d"
#define L4M_CONFIG_DROPINS_MAX 256
#define L4M_CONFIG_FILE_SIZE_MAX (UINT64_C(1) << 20)
/* Problems kept at most; one more says that the rest were left out. */
#define L4M_CONFIG_PROBLEMS_MAX 256

typedef enum L4mConfigKind {
        L4M_CONFIG_PATH,        /* char *: an absolute path, under 4096 bytes */
        L4M_CONFIG_URL,         /* char *: an http:// or https:// URL, kept with one trailing '/' */
        L4M_CONFIG_UNSIGNED,    /* unsigned: a decimal number in [min, max] */
        L4M_CONFIG_UINT64,      /* uint64_t: the same */
        L4M_CONFIG_SIZE,        /* uint64_t: bytes as l4m_parse_size() reads them, in [min, max] */
        L4M_CONFIG_SECONDS,     /* uint64_t: whole seconds in [min, max], stored as microseconds */
        L4M_CONFIG_PERCENT,     /* unsigned: "N%", N in [min, max] */
        L4M_CONFIG_PORT,        /* unsigned: a port number in [min, max] */
        L4M_CONFIG_CUSTOM,      /* the key's parse() */
} L4mConfigKind;

typedef struct L4mConfigKey {
        const char *group;
        const char *key;
        L4mConfigKind kind;
        size_t offset;          /* of the field in the settings struct */
        uint64_t min, max;      /* numeric kinds */
        bool infinity;          /* L4M_CONFIG_UINT64, L4M_CONFIG_SIZE: "infinity" is UINT64_MAX;
                                 * L4M_CONFIG_PERCENT: UINT_MAX */
        /* L4M_CONFIG_CUSTOM: replaces *field (freeing what was there) and
         * returns 0, or returns -EINVAL and leaves it; expect says what a
         * value must be, for the problem. */
        int (*parse)(const char *value, void *field);
        const char *expect;
} L4mConfigKey;

typedef struct L4mConfigProblem {
        char *file;
        unsigned line;          /* 0: about the file as a whole */
        char *group;            /* NULL: not about one group */
        char *key;              /* NULL: not about one key */
        char *message;
} L4mConfigProblem;

typedef struct L4mConfig L4mConfig;

typedef enum L4mConfigFlags {
        /* Groups no table has are skipped silently (they are another
         * program's), instead of being a problem. */
        L4M_CONFIG_OTHER_GROUPS_IGNORED = 1 << 0,
} L4mConfigFlags;

L4mConfig *l4m_config_new(L4mConfigFlags flags);
void l4m_config_free(L4mConfig *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(L4mConfig, l4m_config_free)

/* Values of keys[] go into settings (at each key's offset). */
void l4m_config_add_table(L4mConfig *c, const L4mConfigKey *keys, size_t n_keys, void *settings);

/* Reads dir/left4me.conf and dir/left4me.conf.d/ *.conf. A missing file
 * or directory is not a problem. */
void l4m_config_read_dir(L4mConfig *c, const char *dir);
/* Reads one file; a missing one is not a problem. */
void l4m_config_read_file(L4mConfig *c, const char *path);

/* Where group/key was last set to a value that was taken: true and the
 * file and line, or false if no file set it. */
bool l4m_config_origin(const L4mConfig *c, const char *group, const char *key, const char **ret_file,
                       unsigned *ret_line);

/* Records a problem found by the caller (checks across keys). */
void l4m_config_add_problem(L4mConfig *c, const char *file, unsigned line, const char *group, const char *key,
                            const char *format, ...) G_GNUC_PRINTF(6, 7);

/* The problems so far, in the order found. */
const GPtrArray *l4m_config_problems(const L4mConfig *c);

/* "FILE:LINE: [Group] Key=: message" (without the parts a problem has
 * not), printable and valid UTF-8 with names and values cut short. */
char *l4m_config_problem_format(const L4mConfigProblem *p);
/* Every problem formatted so, as a NULL-terminated array (empty if none). */
char **l4m_config_problem_lines(const L4mConfig *c);
/* Logs every problem as a warning. */
void l4m_config_log_problems(const L4mConfig *c);
