/* SPDX-License-Identifier: GPL-2.0-or-later */
/* l4mctl: command-line client of org.left4me.Manager. This file parses the
 * command line, connects to the system bus and dispatches to a verb. */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "exit-codes.h"
#include "job-info.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "polkit-agent.h"
#include "read-input.h"
#include "write-output.h"
#include "verbs.h"

#define PROGRAM "l4mctl"
#define USEC_PER_SEC UINT64_C(1000000)

/* While polkit asks for a password the method call waits for the human;
 * sd-bus' default of 25 s would turn a slow typist into "unreachable". */
#define INTERACTIVE_CALL_TIMEOUT_USEC (300 * USEC_PER_SEC)

/* The options that only some verbs take. */
typedef enum VerbOption {
        OPT_TYPE             = 1u << 0,
        OPT_JSON             = 1u << 1,
        OPT_WAIT             = 1u << 2,
        OPT_FOLLOW           = 1u << 3,
        OPT_SUBDIR           = 1u << 4,
        OPT_STRIP_COMPONENTS = 1u << 5,
        OPT_MERGE            = 1u << 6,
        OPT_VALIDATE         = 1u << 7,
        OPT_RESTART_INSTANCES = 1u << 8,
        OPT_PORT             = 1u << 9,
        OPT_HOSTNAME         = 1u << 10,
        OPT_MAX_PLAYERS      = 1u << 11,
        OPT_MAP              = 1u << 12,
        OPT_AUTOSTART        = 1u << 13,
        OPT_LINES            = 1u << 14,
        OPT_ROLE             = 1u << 15,
        OPT_NAME_ENCODING    = 1u << 16,
        OPT_ONLY_IF_RUNNING  = 1u << 17,
        OPT_RANDOMIZED_DELAY = 1u << 18,
        OPT_STOP             = 1u << 19,
        OPT_DISABLED         = 1u << 20,
        OPT_TARGET           = 1u << 21,
        OPT_OWNER            = 1u << 22,
        OPT_KIND             = 1u << 23,
        OPT_STATE            = 1u << 24,
        OPT_LIMIT            = 1u << 25,
        OPT_BEFORE           = 1u << 26,
        _OPT_MAX             = 1u << 27,
} VerbOption;

/* Indexed by the bit number of the VerbOption. */
static const char *const option_names[] = {
        "--type", "--json", "--wait", "--follow", "--subdir", "--strip-components", "--merge",
        "--validate", "--restart-instances",
        "--port", "--hostname", "--max-players", "--map", "--autostart",
        "--lines", "--role", "--name-encoding",
        "--only-if-running", "--randomized-delay", "--stop", "--disabled",
        "--target", "--owner", "--kind", "--state", "--limit", "--before",
};
G_STATIC_ASSERT(1u << G_N_ELEMENTS(option_names) == _OPT_MAX);

#define ARGS_UNLIMITED UINT_MAX

typedef struct Verb {
        const char *group;   /* "overlay", "blueprint", "job", "cache", or NULL for a top-level verb */
        const char *name;
        unsigned min_args, max_args; /* number of positional arguments */
        unsigned options;    /* the VerbOptions it accepts */
        unsigned required;   /* ... and those it needs */
        /* Checks the positional arguments further before anything is sent;
         * returns 0 or a negative errno (usage error, logged). */
        int (*check)(char *const *argv);
        const char *usage;   /* shown with usage errors */
        VerbFunction function;
} Verb;

static int usage_error(const char *format, ...) __attribute__((format(printf, 1, 2)));

static int check_job_id(char *const *argv) {
        uint64_t id;

        if (job_id_parse(argv[0], &id) < 0)
                return usage_error("invalid job id '%s': expected a number from 1 to %" PRIu64,
                                   argv[0], UINT64_MAX);
        return 0;
}

static int check_set_items(char *const *argv) {
        for (size_t i = 1; argv[i]; i++)
                if (strcmp(argv[i], "-") == 0 && (i > 1 || argv[i + 1]))
                        return usage_error("'-' (read references from standard input) must be the only reference");
        return 0;
}

static int check_export(char *const *argv) {
        if (output_is_terminal(argv[1]))
                return usage_error("standard output is a terminal; redirect the archive, or name a file");
        return 0;
}

static int check_import(char *const *argv) {
        if (input_is_terminal(argv[1]))
                return usage_error("standard input is a terminal; pipe the archive in, or name a file");
        return 0;
}

static const Verb verbs[] = {
        { NULL,      "status",    0, 0, OPT_JSON, 0, NULL,
          "status",                                 verb_status },
        { "overlay", "list",      0, 0, OPT_JSON, 0, NULL,
          "overlay list",                           verb_overlay_list },
        { "overlay", "create",    1, 1, OPT_JSON | OPT_TYPE, OPT_TYPE, NULL,
          "overlay create NAME --type TYPE",        verb_overlay_create },
        { "overlay", "show",      1, 1, OPT_JSON, 0, NULL,
          "overlay show NAME",                      verb_overlay_show },
        { "overlay", "delete",    1, 1, OPT_JSON, 0, NULL,
          "overlay delete NAME",                    verb_overlay_delete },
        { "overlay", "set-items", 2, ARGS_UNLIMITED, OPT_JSON, 0, check_set_items,
          "overlay set-items NAME REF...|-",        verb_overlay_set_items },
        { "overlay", "set-source", 2, 3, 0, 0, NULL,
          "overlay set-source NAME URL [md5:HEX|sha256:HEX]", verb_overlay_set_source },
        { "overlay", "set-script", 2, 2, OPT_JSON, 0, NULL,
          "overlay set-script NAME FILE|-",         verb_overlay_set_script },
        { "overlay", "script",    1, 1, 0, 0, NULL,
          "overlay script NAME",                    verb_overlay_script },
        { "overlay", "build",     1, 1, OPT_JSON | OPT_WAIT | OPT_SUBDIR | OPT_STRIP_COMPONENTS | OPT_MERGE, 0, NULL,
          "overlay build NAME [--subdir DIR] [--strip-components N] [--merge] [--wait]", verb_overlay_build },
        { "overlay", "import",    2, 2,
          OPT_JSON | OPT_WAIT | OPT_SUBDIR | OPT_STRIP_COMPONENTS | OPT_MERGE | OPT_NAME_ENCODING, 0, check_import,
          "overlay import NAME FILE|- [--subdir DIR] [--strip-components N] [--merge] [--name-encoding CHARSET] [--wait]",
          verb_overlay_import },
        { "overlay", "wipe",      1, 1, OPT_JSON | OPT_WAIT, 0, NULL,
          "overlay wipe NAME [--wait]",             verb_overlay_wipe },
        { "overlay", "export",    2, 2, 0, 0, check_export,
          "overlay export NAME FILE|-",             verb_overlay_export },
        { "overlay", "files",     1, 2, OPT_JSON, 0, NULL,
          "overlay files NAME [PATH]",              verb_overlay_files },
        { "overlay", "cat",       2, 2, 0, 0, NULL,
          "overlay cat NAME PATH",                  verb_overlay_cat },
        { "blueprint", "list",    0, 0, OPT_JSON, 0, NULL,
          "blueprint list",                         verb_blueprint_list },
        { "blueprint", "create",  2, ARGS_UNLIMITED, OPT_JSON, 0, NULL,
          "blueprint create NAME OVERLAY...",       verb_blueprint_create },
        { "blueprint", "show",    1, 1, OPT_JSON, 0, NULL,
          "blueprint show NAME",                    verb_blueprint_show },
        { "blueprint", "set-overlays", 2, ARGS_UNLIMITED, OPT_JSON, 0, NULL,
          "blueprint set-overlays NAME OVERLAY...", verb_blueprint_set_overlays },
        { "blueprint", "set-cfg", 2, 2, OPT_JSON, 0, NULL,
          "blueprint set-cfg NAME FILE|-",          verb_blueprint_set_cfg },
        { "blueprint", "set-args", 1, ARGS_UNLIMITED, OPT_JSON, 0, NULL,
          "blueprint set-args NAME [--] [ARG...]",  verb_blueprint_set_args },
        { "blueprint", "delete",  1, 1, OPT_JSON, 0, NULL,
          "blueprint delete NAME",                  verb_blueprint_delete },
        { "job",     "list",      0, 0,
          OPT_JSON | OPT_TARGET | OPT_OWNER | OPT_KIND | OPT_STATE | OPT_LIMIT | OPT_BEFORE, 0, NULL,
          "job list [--target=T] [--owner=U] [--kind=K] [--state=S] [--limit=N] [--before=ID]",
                                                    verb_job_list },
        { "job",     "show",      1, 1, OPT_JSON, 0, check_job_id,
          "job show ID",                            verb_job_show },
        { "job",     "cancel",    1, 1, OPT_JSON, 0, check_job_id,
          "job cancel ID",                          verb_job_cancel },
        { "job",     "log",       1, 1, OPT_FOLLOW, 0, check_job_id,
          "job log ID [-f|--follow]",               verb_job_log },
        { "cache",   "list",      0, 0, OPT_JSON, 0, NULL,
          "cache list",                             verb_cache_list },
        { "cache",   "prune",     0, 0, OPT_JSON, 0, NULL,
          "cache prune",                            verb_cache_prune },
        { "game",    "install",   0, 0, OPT_JSON | OPT_WAIT | OPT_VALIDATE, 0, NULL,
          "game install [--validate] [--wait]",     verb_game_install },
        { "game",    "update",    0, 0, OPT_JSON | OPT_WAIT | OPT_VALIDATE | OPT_RESTART_INSTANCES, 0, NULL,
          "game update [--validate] [--restart-instances] [--wait]", verb_game_update },
        { "game",    "status",    0, 0, OPT_JSON, 0, NULL,
          "game status",                            verb_game_status },
        { "game",    "login",     1, 1, 0, 0, NULL,
          "game login USER",                        verb_game_login },
        { "game",    "logout",    0, 0, 0, 0, NULL,
          "game logout",                            verb_game_logout },
        { "instance", "list",     0, 0, OPT_JSON, 0, NULL,
          "instance list",                          verb_instance_list },
        { "instance", "create",   2, 2,
          OPT_JSON | OPT_PORT | OPT_HOSTNAME | OPT_MAX_PLAYERS | OPT_MAP | OPT_AUTOSTART, 0, NULL,
          "instance create NAME BLUEPRINT [--port P] [--hostname H] [--max-players N] [--map M] [--autostart]",
          verb_instance_create },
        { "instance", "show",     1, 1, OPT_JSON, 0, NULL,
          "instance show NAME",                     verb_instance_show },
        { "instance", "start",    1, 1, OPT_WAIT, 0, NULL,
          "instance start NAME [--wait]",           verb_instance_start },
        { "instance", "stop",     1, 1, OPT_WAIT, 0, NULL,
          "instance stop NAME [--wait]",            verb_instance_stop },
        { "instance", "restart",  1, 1, OPT_WAIT, 0, NULL,
          "instance restart NAME [--wait]",         verb_instance_restart },
        { "instance", "rcon",     2, ARGS_UNLIMITED, OPT_JSON, 0, NULL,
          "instance rcon NAME COMMAND...",          verb_instance_rcon },
        { "instance", "set",      2, ARGS_UNLIMITED, 0, 0, NULL,
          "instance set NAME KEY=VALUE...",         verb_instance_set },
        { "instance", "delete",   1, 1, 0, 0, NULL,
          "instance delete NAME",                   verb_instance_delete },
        { "instance", "logs",     1, 1, OPT_FOLLOW | OPT_LINES, 0, NULL,
          "instance logs NAME [-f] [-n N]",         verb_instance_logs },
        { "instance", "backup",   1, 1, OPT_JSON | OPT_WAIT | OPT_STOP, 0, NULL,
          "instance backup NAME [--stop] [--wait]", verb_instance_backup },
        { "instance", "files",    1, 2, OPT_JSON, 0, NULL,
          "instance files NAME [PATH]",             verb_instance_files },
        { "instance", "cat",      2, 2, 0, 0, NULL,
          "instance cat NAME PATH",                 verb_instance_cat },
        { "backup",  "list",      0, 1, OPT_JSON, 0, NULL,
          "backup list [INSTANCE]",                 verb_backup_list },
        { "backup",  "restore",   1, 1, OPT_JSON | OPT_WAIT, 0, NULL,
          "backup restore ID [--wait]",             verb_backup_restore },
        { "backup",  "delete",    1, 1, 0, 0, NULL,
          "backup delete ID",                       verb_backup_delete },
        { "backup",  "export",    2, 2, 0, 0, NULL,
          "backup export ID FILE|-",                verb_backup_export },
        { "backup",  "import",    2, 2, OPT_JSON | OPT_WAIT, 0, check_import,
          "backup import INSTANCE FILE|- [--wait]", verb_backup_import },
        { "schedule", "list",     0, 0, OPT_JSON, 0, NULL,
          "schedule list",                          verb_schedule_list },
        { "schedule", "create",   4, 5,
          OPT_JSON | OPT_ONLY_IF_RUNNING | OPT_RANDOMIZED_DELAY | OPT_RESTART_INSTANCES | OPT_STOP | OPT_DISABLED, 0,
          NULL,
          "schedule create NAME CALENDAR ACTION TARGET [ARG] [--only-if-running] [--randomized-delay=SEC] "
          "[--restart-instances] [--stop] [--disabled]",
          verb_schedule_create },
        { "schedule", "show",     1, 1, OPT_JSON, 0, NULL,
          "schedule show NAME",                     verb_schedule_show },
        { "schedule", "enable",   1, 1, 0, 0, NULL,
          "schedule enable NAME",                   verb_schedule_enable },
        { "schedule", "disable",  1, 1, 0, 0, NULL,
          "schedule disable NAME",                  verb_schedule_disable },
        { "schedule", "run",      1, 1, 0, 0, NULL,
          "schedule run NAME",                      verb_schedule_run },
        { "schedule", "delete",   1, 1, 0, 0, NULL,
          "schedule delete NAME",                   verb_schedule_delete },
        { "user",    "add",       1, 1, OPT_ROLE, OPT_ROLE, NULL,
          "user add NAME --role user|admin",        verb_user_add },
        { "user",    "list",      0, 0, OPT_JSON, 0, NULL,
          "user list",                              verb_user_list },
        { "user",    "passwd",    1, 1, 0, 0, NULL,
          "user passwd NAME",                       verb_user_passwd },
        { "user",    "delete",    1, 1, 0, 0, NULL,
          "user delete NAME",                       verb_user_delete },
};

static void help(void) {
        printf(PROGRAM " [OPTIONS...] COMMAND ...\n"
               "\n"
               "Control the left4me manager (left4med) over the system bus.\n"
               "\n"
               "Commands:\n"
               "  status                      Show the daemon's version and number of overlays\n"
               "  overlay list                List overlays\n"
               "  overlay create NAME --type TYPE\n"
               "                              Create an overlay; TYPE is workshop, script or\n"
               "                              archive; prints the new object path\n"
               "  overlay show NAME           Show an overlay's properties\n"
               "  overlay delete NAME         Delete an overlay\n"
               "  overlay set-items NAME REF...\n"
               "                              Set a Workshop overlay's items and collections\n"
               "                              (ids or Steam URLs); REF '-' reads them from\n"
               "                              standard input, one per line\n"
               "  overlay set-source NAME URL [md5:HEX|sha256:HEX]\n"
               "                              Where an archive overlay's build fetches its\n"
               "                              archive from ('' removes it)\n"
               "  overlay set-script NAME FILE|-\n"
               "                              Set a script overlay's bash script ('-': read\n"
               "                              it from standard input)\n"
               "  overlay script NAME         Print a script overlay's script\n"
               "  overlay build NAME [--subdir DIR] [--strip-components N] [--merge] [--wait]\n"
               "                              Queue a job that builds the overlay (a script\n"
               "                              overlay: runs its script in the sandbox; the\n"
               "                              options: where an archive overlay's download goes)\n"
               "  overlay import NAME FILE|- [--subdir DIR] [--strip-components N] [--merge]\n"
               "                 [--name-encoding CHARSET] [--wait]\n"
               "                              Queue a job that imports an archive ('-': from\n"
               "                              standard input) into an archive overlay\n"
               "  overlay wipe NAME [--wait]  Queue a job that empties the overlay\n"
               "  overlay export NAME FILE|-  Write an archive or script overlay's content as a\n"
               "                              tar.zst ('-': to standard output)\n"
               "  overlay files NAME [PATH]   List a directory of the overlay (read-only)\n"
               "  overlay cat NAME PATH       Write a file of the overlay to standard output\n"
               "  blueprint list              List blueprints\n"
               "  blueprint create NAME OVERLAY...\n"
               "                              Create a blueprint stacking the overlays, top\n"
               "                              first; prints the new object path\n"
               "  blueprint show NAME         Show a blueprint's properties\n"
               "  blueprint set-overlays NAME OVERLAY...\n"
               "                              Replace a blueprint's overlays (top first)\n"
               "  blueprint set-cfg NAME FILE|-\n"
               "                              Set the text of the servers' server.cfg ('-':\n"
               "                              read it from standard input)\n"
               "  blueprint set-args NAME [--] [ARG...]\n"
               "                              Set the servers' extra launch arguments (put\n"
               "                              '--' before arguments starting with '-')\n"
               "  blueprint delete NAME       Delete a blueprint\n"
               "  job list [--target=T] [--owner=U] [--kind=K] [--state=S] [--limit=N] [--before=ID]\n"
               "                              List jobs, newest first, a page at a time\n"
               "  job show ID                 Show a job's properties\n"
               "  job cancel ID               Cancel a job\n"
               "  job log ID [-f]             Print a job's log\n"
               "  cache list                  List the files of the shared Workshop cache\n"
               "  cache prune                 Remove cache files no overlay uses\n"
               "  game install [--validate] [--wait]\n"
               "                              Queue a job that installs or updates the game\n"
               "                              with steamcmd\n"
               "  game update [--validate] [--restart-instances] [--wait]\n"
               "                              The same for an installed game\n"
               "  game status                 Show whether the game is installed, its build\n"
               "                              and the Steam login installs use\n"
               "  game login USER             Store a Steam login (the password is read from\n"
               "                              the terminal, or standard input's first line)\n"
               "  game logout                 Install anonymously again\n"
               "\n");
        printf("  instance list               List server instances\n"
               "  instance create NAME BLUEPRINT [--port P] [--hostname H] [--max-players N]\n"
               "                  [--map M] [--autostart]\n"
               "                              Create a server instance (port: the lowest\n"
               "                              free one unless given)\n"
               "  instance show NAME          Show an instance's settings and state\n"
               "  instance start|stop|restart NAME [--wait]\n"
               "                              Start, stop or restart a server (--wait: until\n"
               "                              it answers queries, or is down)\n"
               "  instance rcon NAME COMMAND...\n"
               "                              Run an RCON command, print the answer\n"
               "  instance set NAME KEY=VALUE...\n"
               "                              Change settings for the next start: hostname,\n"
               "                              max_players, map, autostart (yes/no), blueprint\n"
               "  instance delete NAME        Delete a stopped instance and its files\n"
               "  instance logs NAME [-f] [-n N]\n"
               "                              Print the server's last N log lines (default\n"
               "                              50) from the journal; with -f go on with new\n"
               "                              ones until Ctrl-C\n"
               "  instance backup NAME [--stop] [--wait]\n"
               "                              Queue a job that backs up the instance's files\n"
               "                              and settings (--stop: stop the server for it)\n"
               "  instance files NAME [PATH]  List a directory of what the server wrote\n"
               "  instance cat NAME PATH      Write a file the server wrote to standard output\n");
        printf("  backup list [INSTANCE]      List backups, newest first\n"
               "  backup restore ID [--wait]  Queue a job that puts a backup's files back into\n"
               "                              its stopped instance\n"
               "  backup delete ID            Delete a backup\n"
               "  backup export ID FILE|-     Copy a backup (tar.zst) to FILE or standard output\n"
               "  backup import INSTANCE FILE|- [--wait]\n"
               "                              Queue a job that checks an exported backup and\n"
               "                              keeps it as a backup of INSTANCE\n");
        printf("  schedule list               List schedules with their last result\n"
               "  schedule create NAME CALENDAR ACTION TARGET [ARG] [--only-if-running]\n"
               "                  [--randomized-delay=SEC] [--restart-instances] [--stop] [--disabled]\n"
               "                              Run ACTION (start, stop, restart, command,\n"
               "                              update-game, build, backup) on TARGET whenever\n"
               "                              the OnCalendar= expression CALENDAR elapses; ARG\n"
               "                              is the RCON command of 'command'\n"
               "  schedule show NAME          Show a schedule: next and last run, last result\n"
               "  schedule enable|disable NAME\n"
               "                              Let elapses run the action, or not\n"
               "  schedule run NAME           Run the action now (result: 'schedule show')\n"
               "  schedule delete NAME        Delete a schedule and its timer\n");
        printf("  user add NAME --role ROLE   Create a web account (ROLE user or admin); the\n"
               "                              password is asked twice on a terminal, else\n"
               "                              read from standard input's first line\n"
               "  user list                   List web accounts\n"
               "  user passwd NAME            Set a web account's password (as 'user add')\n"
               "  user delete NAME            Delete a web account\n"
               "\n");
        /* In parts: ISO C bounds the length of one string literal. */
        printf("Options:\n"
               "  -h --help                   Show this help and exit\n"
               "     --version                Show the version and exit\n"
               "  -t --type=TYPE              Overlay type for 'overlay create'\n"
               "     --wait                   Follow the job to its end: print its log, show\n"
               "                              progress, exit with its result\n"
               "     --subdir=DIR             'overlay import': extract below DIR\n"
               "     --strip-components=N     'overlay import': drop N leading path components\n"
               "     --merge                  'overlay import': merge with the content instead\n"
               "                              of replacing it\n"
               "     --name-encoding=CHARSET  'overlay import': the code page of entry names\n"
               "                              that are not UTF-8 (CP936, CP1251, ...)\n"
               "  -f --follow                 'job log': keep printing until the job ends;\n"
               "                              'instance logs': keep printing new lines\n"
               "  -n --lines=N                'instance logs': how many earlier lines (0-10000)\n"
               "     --role=ROLE              'user add': user or admin\n"
               "     --validate               'game install|update': steamcmd checks every file\n"
               "     --restart-instances      'game update': stop the servers using the game\n"
               "                              and start them again after, instead of refusing\n"
               "     --port=P --hostname=H --max-players=N --map=M --autostart\n"
               "                              'instance create': the instance's settings\n"
               "     --stop                   'instance backup': stop the server around it\n"
               "     --only-if-running --randomized-delay=SEC --stop --disabled\n"
               "                              'schedule create': skip while the server does not\n"
               "                              run, delay each elapse randomly up to SEC, stop\n"
               "                              the server around a backup, create it disabled\n"
               "     --json                   Print JSON instead of text\n"
               "     --no-legend              Do not print the table header\n"
               "     --no-ask-password        Do not ask for a password when polkit wants one\n"
               "\n"
               "Exit status:\n"
               "    0 success                     5 access denied (polkit or bus policy)\n"
               "    1 other failure, job failed   6 already exists\n"
               "    2 usage error                 7 busy\n"
               "    3 invalid argument            8 daemon or system bus unreachable\n"
               "    4 not found                   9 job cancelled (--wait)\n"
               "  130 stopped following a job on Ctrl-C (--wait); the job goes on\n"
               "\n"
               "See the " PROGRAM "(1) man page for details.\n");
}

static int usage_error(const char *format, ...) {
        g_autofree char *msg = NULL;
        va_list ap;

        va_start(ap, format);
        msg = g_strdup_vprintf(format, ap);
        va_end(ap);

        log_error("%s (see '%s --help')", msg, PROGRAM);
        return -EINVAL;
}

static int parse_strip_components(const char *s, uint32_t *ret) {
        guint64 n;

        /* Digits only: no sign, no blanks, no hex. */
        if (!s[0] || strspn(s, "0123456789") != strlen(s) ||
            !g_ascii_string_to_unsigned(s, 10, 0, UINT32_MAX, &n, NULL))
                return usage_error("invalid --strip-components '%s': expected a number from 0 to %" PRIu32,
                                   s, UINT32_MAX);
        *ret = (uint32_t) n;
        return 0;
}

/* --port, --max-players: digits only, within [min, max]. */
static int parse_number_option(const char *name, const char *s, uint32_t min, uint32_t max, uint32_t *ret) {
        guint64 n;

        if (!s[0] || strspn(s, "0123456789") != strlen(s) ||
            !g_ascii_string_to_unsigned(s, 10, min, max, &n, NULL))
                return usage_error("invalid %s '%s': expected a number from %" PRIu32 " to %" PRIu32, name, s, min, max);
        *ret = (uint32_t) n;
        return 0;
}

/* Returns 1 to go on, 0 if there is nothing more to do (--help,
 * --version), or a negative errno for a usage error (already logged). The
 * positional arguments are collected in order into *positional (borrowed
 * from argv, NULL-terminated); *ret_given has the VerbOptions seen. */
static int parse_argv(int argc, char *argv[], CtlArgs *args, GPtrArray *positional,
                      unsigned *ret_given) {
        enum {
                ARG_VERSION = 0x100,
                ARG_JSON,
                ARG_NO_LEGEND,
                ARG_NO_ASK_PASSWORD,
                ARG_WAIT,
                ARG_SUBDIR,
                ARG_STRIP_COMPONENTS,
                ARG_MERGE,
                ARG_VALIDATE,
                ARG_RESTART_INSTANCES,
                ARG_PORT,
                ARG_HOSTNAME,
                ARG_MAX_PLAYERS,
                ARG_MAP,
                ARG_AUTOSTART,
                ARG_ROLE,
                ARG_NAME_ENCODING,
                ARG_ONLY_IF_RUNNING,
                ARG_RANDOMIZED_DELAY,
                ARG_STOP,
                ARG_DISABLED,
                ARG_TARGET,
                ARG_OWNER,
                ARG_KIND,
                ARG_STATE,
                ARG_LIMIT,
                ARG_BEFORE,
        };
        static const struct option options[] = {
                { "help",             no_argument,       NULL, 'h'                  },
                { "version",          no_argument,       NULL, ARG_VERSION          },
                { "type",             required_argument, NULL, 't'                  },
                { "json",             no_argument,       NULL, ARG_JSON             },
                { "no-legend",        no_argument,       NULL, ARG_NO_LEGEND        },
                { "no-ask-password",  no_argument,       NULL, ARG_NO_ASK_PASSWORD  },
                { "wait",             no_argument,       NULL, ARG_WAIT             },
                { "follow",           no_argument,       NULL, 'f'                  },
                { "subdir",           required_argument, NULL, ARG_SUBDIR           },
                { "strip-components", required_argument, NULL, ARG_STRIP_COMPONENTS },
                { "merge",            no_argument,       NULL, ARG_MERGE            },
                { "validate",         no_argument,       NULL, ARG_VALIDATE         },
                { "restart-instances", no_argument,      NULL, ARG_RESTART_INSTANCES },
                { "port",             required_argument, NULL, ARG_PORT             },
                { "hostname",         required_argument, NULL, ARG_HOSTNAME         },
                { "max-players",      required_argument, NULL, ARG_MAX_PLAYERS      },
                { "map",              required_argument, NULL, ARG_MAP              },
                { "autostart",        no_argument,       NULL, ARG_AUTOSTART        },
                { "lines",            required_argument, NULL, 'n'                  },
                { "role",             required_argument, NULL, ARG_ROLE             },
                { "name-encoding",    required_argument, NULL, ARG_NAME_ENCODING    },
                { "only-if-running",  no_argument,       NULL, ARG_ONLY_IF_RUNNING  },
                { "randomized-delay", required_argument, NULL, ARG_RANDOMIZED_DELAY },
                { "stop",             no_argument,       NULL, ARG_STOP             },
                { "disabled",         no_argument,       NULL, ARG_DISABLED         },
                { "target",           required_argument, NULL, ARG_TARGET           },
                { "owner",            required_argument, NULL, ARG_OWNER            },
                { "kind",             required_argument, NULL, ARG_KIND             },
                { "state",            required_argument, NULL, ARG_STATE            },
                { "limit",            required_argument, NULL, ARG_LIMIT            },
                { "before",           required_argument, NULL, ARG_BEFORE           },
                { NULL, 0, NULL, 0 }
        };
        unsigned given = 0;
        int c, r;

        assert(argc >= 0);
        assert(argv);
        assert(ret_given);

        /* "-": options are accepted anywhere, and the other arguments come
         * back as 1 in order, even with POSIXLY_CORRECT set. ":": we report
         * errors ourselves. */
        opterr = 0;
        while ((c = getopt_long(argc, argv, "-:ht:fn:", options, NULL)) >= 0) {
                switch (c) {
                case 1:
                        g_ptr_array_add(positional, optarg);
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("%s %s\n", PROGRAM, L4M_VERSION);
                        return 0;
                case 't':
                        args->type = optarg;
                        given |= OPT_TYPE;
                        break;
                case ARG_JSON:
                        args->json = true;
                        given |= OPT_JSON;
                        break;
                case ARG_NO_LEGEND:
                        args->legend = false;
                        break;
                case ARG_NO_ASK_PASSWORD:
                        args->ask_password = false;
                        break;
                case ARG_WAIT:
                        args->wait = true;
                        given |= OPT_WAIT;
                        break;
                case 'f':
                        args->follow = true;
                        given |= OPT_FOLLOW;
                        break;
                case ARG_SUBDIR:
                        args->subdir = optarg;
                        given |= OPT_SUBDIR;
                        break;
                case ARG_STRIP_COMPONENTS:
                        r = parse_strip_components(optarg, &args->strip_components);
                        if (r < 0)
                                return r;
                        args->have_strip_components = true;
                        given |= OPT_STRIP_COMPONENTS;
                        break;
                case ARG_MERGE:
                        args->merge = true;
                        given |= OPT_MERGE;
                        break;
                case ARG_NAME_ENCODING:
                        args->name_encoding = optarg;
                        given |= OPT_NAME_ENCODING;
                        break;
                case ARG_VALIDATE:
                        args->validate = true;
                        given |= OPT_VALIDATE;
                        break;
                case ARG_RESTART_INSTANCES:
                        args->restart_instances = true;
                        given |= OPT_RESTART_INSTANCES;
                        break;
                case ARG_PORT:
                        r = parse_number_option("--port", optarg, 1, 65535, &args->port);
                        if (r < 0)
                                return r;
                        given |= OPT_PORT;
                        break;
                case ARG_HOSTNAME:
                        args->hostname = optarg;
                        given |= OPT_HOSTNAME;
                        break;
                case ARG_MAX_PLAYERS:
                        r = parse_number_option("--max-players", optarg, 1, UINT32_MAX, &args->max_players);
                        if (r < 0)
                                return r;
                        given |= OPT_MAX_PLAYERS;
                        break;
                case ARG_MAP:
                        args->map = optarg;
                        given |= OPT_MAP;
                        break;
                case ARG_AUTOSTART:
                        args->autostart = true;
                        given |= OPT_AUTOSTART;
                        break;
                case ARG_ROLE:
                        args->role = optarg;
                        given |= OPT_ROLE;
                        break;
                case ARG_ONLY_IF_RUNNING:
                        args->only_if_running = true;
                        given |= OPT_ONLY_IF_RUNNING;
                        break;
                case ARG_RANDOMIZED_DELAY:
                        r = parse_number_option("--randomized-delay", optarg, 0, 86400, &args->randomized_delay_sec);
                        if (r < 0)
                                return r;
                        given |= OPT_RANDOMIZED_DELAY;
                        break;
                case ARG_STOP:
                        args->stop = true;
                        given |= OPT_STOP;
                        break;
                case ARG_DISABLED:
                        args->disabled = true;
                        given |= OPT_DISABLED;
                        break;
                case ARG_TARGET:
                        args->target = optarg;
                        given |= OPT_TARGET;
                        break;
                case ARG_OWNER:
                        args->owner = optarg;
                        given |= OPT_OWNER;
                        break;
                case ARG_KIND:
                        args->kind = optarg;
                        given |= OPT_KIND;
                        break;
                case ARG_STATE:
                        args->state = optarg;
                        given |= OPT_STATE;
                        break;
                case ARG_LIMIT:
                        r = parse_number_option("--limit", optarg, 1, 1000, &args->limit);
                        if (r < 0)
                                return r;
                        given |= OPT_LIMIT;
                        break;
                case ARG_BEFORE:
                        if (job_id_parse(optarg, &args->before) < 0)
                                return usage_error("invalid --before '%s': expected a job id", optarg);
                        given |= OPT_BEFORE;
                        break;
                case 'n':
                        r = parse_number_option("--lines", optarg, 0, 10000, &args->lines);
                        if (r < 0)
                                return r;
                        args->have_lines = true;
                        given |= OPT_LINES;
                        break;
                case ':':
                        return usage_error("option '%s' needs an argument", argv[optind - 1]);
                case '?':
                        if (optopt > 0 && optopt < 0x100 && g_ascii_isgraph((char) optopt))
                                return usage_error("invalid option '-%c'", (char) optopt);
                        return usage_error("invalid option '%s'", argv[optind - 1]);
                default:
                        assert(!"unexpected getopt_long() result");
                        return -EINVAL;
                }
        }

        /* Whatever followed "--". */
        for (int i = optind; i < argc; i++)
                g_ptr_array_add(positional, argv[i]);
        g_ptr_array_add(positional, NULL);

        *ret_given = given;
        return 1;
}

static const char *option_name(unsigned option) {
        for (size_t i = 0; i < G_N_ELEMENTS(option_names); i++)
                if (option == 1u << i)
                        return option_names[i];
        assert(!"unknown option bit");
        return "?";
}

static char *verb_title(const Verb *verb) {
        return verb->group ? g_strdup_printf("%s %s", verb->group, verb->name) : g_strdup(verb->name);
}

/* "--wait is only valid with 'overlay build', 'overlay import'", or for
 * an option most verbs take, "--json is not valid with 'job log'". */
static int option_not_allowed(unsigned option, const Verb *verb) {
        g_autoptr(GString) list = g_string_new(NULL);
        g_autofree char *title = verb_title(verb);
        const char *name = option_name(option);
        size_t n = 0;

        for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++) {
                g_autofree char *t = NULL;

                if (!(verbs[i].options & option))
                        continue;
                t = verb_title(&verbs[i]);
                g_string_append_printf(list, "%s'%s'", n > 0 ? ", " : "", t);
                n++;
        }

        if (n * 2 > G_N_ELEMENTS(verbs))
                return usage_error("%s is not valid with '%s'", name, title);
        return usage_error("%s is only valid with %s", name, list->str);
}

/* "list, create, show, ..." for a group. */
static char *group_verbs(const char *group) {
        g_autoptr(GString) s = g_string_new(NULL);

        for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++)
                if (verbs[i].group && strcmp(verbs[i].group, group) == 0)
                        g_string_append_printf(s, "%s%s", s->len > 0 ? ", " : "", verbs[i].name);
        return g_string_free(g_steal_pointer(&s), FALSE);
}

/* Find the verb that the positional arguments name and check its
 * arguments and options. *ret_words is how many of them named the verb. */
static int find_verb(char *const *words, const CtlArgs *args, unsigned given,
                     const Verb **ret, size_t *ret_words) {
        const Verb *verb = NULL;
        const char *group = NULL;
        size_t n_words, n_args = 0;
        unsigned missing, surplus;

        if (!words[0])
                return usage_error("missing command");

        for (size_t i = 0; i < G_N_ELEMENTS(verbs) && !verb; i++) {
                if (!verbs[i].group && strcmp(words[0], verbs[i].name) == 0)
                        verb = &verbs[i];
                else if (verbs[i].group && strcmp(words[0], verbs[i].group) == 0) {
                        group = verbs[i].group;
                        if (words[1] && strcmp(words[1], verbs[i].name) == 0)
                                verb = &verbs[i];
                }
        }
        if (!verb) {
                if (group) {
                        g_autofree char *list = group_verbs(group);

                        if (!words[1])
                                return usage_error("missing %s command (%s)", group, list);
                        return usage_error("unknown %s command '%s' (%s)", group, words[1], list);
                }
                return usage_error("unknown command '%s'", words[0]);
        }

        n_words = verb->group ? 2 : 1;
        while (words[n_words + n_args])
                n_args++;

        if (n_args < verb->min_args)
                return usage_error("missing argument; usage: %s %s", PROGRAM, verb->usage);
        if (n_args > verb->max_args)
                return usage_error("too many arguments; usage: %s %s", PROGRAM, verb->usage);

        missing = verb->required & ~given;
        surplus = given & ~verb->options;
        for (unsigned o = 1; o < _OPT_MAX; o <<= 1) {
                if (missing & o)
                        return usage_error("missing %s; usage: %s %s",
                                           option_name(o), PROGRAM, verb->usage);
                if (surplus & o)
                        return option_not_allowed(o, verb);
        }

        /* D-Bus strings are UTF-8; sd-bus would refuse anything else with
         * a bare EINVAL. */
        for (size_t i = n_words; words[i]; i++)
                if (!g_utf8_validate(words[i], -1, NULL)) {
                        g_autofree char *shown = g_utf8_make_valid(words[i], -1);
                        return usage_error("argument '%s' is not valid UTF-8", shown);
                }
        if (args->type && !g_utf8_validate(args->type, -1, NULL))
                return usage_error("--type is not valid UTF-8");
        if (args->subdir && !g_utf8_validate(args->subdir, -1, NULL))
                return usage_error("--subdir is not valid UTF-8");
        if (args->name_encoding && !g_utf8_validate(args->name_encoding, -1, NULL))
                return usage_error("--name-encoding is not valid UTF-8");

        if (verb->check) {
                int r = verb->check(words + n_words);
                if (r < 0)
                        return r;
        }

        *ret = verb;
        *ret_words = n_words;
        return 0;
}

/* Let polkit ask for a password the way systemctl does: only with a
 * terminal on stdin and stdout, only if not --no-ask-password, and with our
 * own tty agent unless we are root (polkit authorises root outright).
 * Without a terminal we behave as with --no-ask-password. */
static int setup_authorization(sd_bus *bus, const CtlArgs *args) {
        int r;

        if (!args->ask_password || !isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
                return 0;

        r = sd_bus_set_allow_interactive_authorization(bus, 1);
        if (r < 0)
                return log_error_errno(r, "cannot allow interactive authorization: %s", STRERROR(r));

        if (!getenv("SYSTEMD_BUS_TIMEOUT")) {
                r = sd_bus_set_method_call_timeout(bus, INTERACTIVE_CALL_TIMEOUT_USEC);
                if (r < 0)
                        return log_error_errno(r, "cannot set the method call timeout: %s", STRERROR(r));
        }

        if (geteuid() != 0)
                (void) polkit_agent_open(); /* without one, polkit may still find another */
        return 0;
}

static int run(int argc, char *argv[]) {
        g_autoptr(GPtrArray) positional = g_ptr_array_new();
        g_autoptr(sd_bus) bus = NULL;
        CtlArgs args = { .legend = true, .ask_password = true };
        const Verb *verb = NULL;
        size_t n_words = 0;
        unsigned given = 0;
        int r;

        r = parse_argv(argc, argv, &args, positional, &given);
        if (r <= 0)
                return r < 0 ? L4M_EXIT_USAGE : L4M_EXIT_SUCCESS;

        r = find_verb((char *const *) positional->pdata, &args, given, &verb, &n_words);
        if (r < 0)
                return L4M_EXIT_USAGE;

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                log_error_errno(r, "cannot connect to the system bus: %s", STRERROR(r));
                return L4M_EXIT_UNREACHABLE;
        }

        r = setup_authorization(bus, &args);
        if (r >= 0)
                r = verb->function(bus, &args, (char *const *) positional->pdata + n_words);

        polkit_agent_close();

        if (fflush(stdout) != 0 || ferror(stdout)) {
                int k = errno > 0 ? -errno : -EIO;

                log_error_errno(k, "cannot write output: %s", STRERROR(k));
                if (r == 0)
                        r = k;
        }

        return r < 0 ? L4M_EXIT_FAILURE : r;
}

int main(int argc, char *argv[]) {
        l4m_log_open(PROGRAM);
        return run(argc, argv);
}
