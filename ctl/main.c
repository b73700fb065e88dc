/* SPDX-License-Identifier: GPL-2.0-or-later */
/* l4mctl: command-line client of org.left4me.Manager. This file parses the
 * command line, connects to the system bus and dispatches to a verb. */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "exit-codes.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "polkit-agent.h"
#include "verbs.h"

#define PROGRAM "l4mctl"
#define USEC_PER_SEC UINT64_C(1000000)

/* While polkit asks for a password the method call waits for the human;
 * sd-bus' default of 25 s would turn a slow typist into "unreachable". */
#define INTERACTIVE_CALL_TIMEOUT_USEC (300 * USEC_PER_SEC)

typedef struct Verb {
        const char *group;   /* "overlay", or NULL for a top-level verb */
        const char *name;
        unsigned n_args;     /* exact number of positional arguments */
        bool takes_type;     /* --type is required (and only allowed) here */
        const char *usage;   /* shown with usage errors */
        VerbFunction function;
} Verb;

static const Verb verbs[] = {
        { NULL,      "status", 0, false, "status",                      verb_status },
        { "overlay", "list",   0, false, "overlay list",                verb_overlay_list },
        { "overlay", "create", 1, true,  "overlay create NAME --type TYPE", verb_overlay_create },
        { "overlay", "show",   1, false, "overlay show NAME",           verb_overlay_show },
        { "overlay", "delete", 1, false, "overlay delete NAME",         verb_overlay_delete },
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
               "\n"
               "Options:\n"
               "  -h --help                   Show this help and exit\n"
               "     --version                Show the version and exit\n"
               "  -t --type=TYPE              Overlay type for 'overlay create'\n"
               "     --json                   Print JSON instead of text\n"
               "     --no-legend              Do not print the table header\n"
               "     --no-ask-password        Do not ask for a password when polkit wants one\n"
               "\n"
               "Exit status:\n"
               "  0 success                   5 access denied (polkit or bus policy)\n"
               "  1 other failure             6 already exists\n"
               "  2 usage error               7 busy\n"
               "  3 invalid argument          8 daemon or system bus unreachable\n"
               "  4 not found\n"
               "\n"
               "See the " PROGRAM "(1) man page for details.\n");
}

static int usage_error(const char *format, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *format, ...) {
        g_autofree char *msg = NULL;
        va_list ap;

        va_start(ap, format);
        msg = g_strdup_vprintf(format, ap);
        va_end(ap);

        log_error("%s (see '%s --help')", msg, PROGRAM);
        return -EINVAL;
}

/* Returns 1 to go on, 0 if there is nothing more to do (--help,
 * --version), or a negative errno for a usage error (already logged). The
 * positional arguments are collected in order into *positional (borrowed
 * from argv, NULL-terminated). */
static int parse_argv(int argc, char *argv[], CtlArgs *args, GPtrArray *positional) {
        enum {
                ARG_VERSION = 0x100,
                ARG_JSON,
                ARG_NO_LEGEND,
                ARG_NO_ASK_PASSWORD,
        };
        static const struct option options[] = {
                { "help",            no_argument,       NULL, 'h'                 },
                { "version",         no_argument,       NULL, ARG_VERSION         },
                { "type",            required_argument, NULL, 't'                 },
                { "json",            no_argument,       NULL, ARG_JSON            },
                { "no-legend",       no_argument,       NULL, ARG_NO_LEGEND       },
                { "no-ask-password", no_argument,       NULL, ARG_NO_ASK_PASSWORD },
                { NULL, 0, NULL, 0 }
        };
        int c;

        assert(argc >= 0);
        assert(argv);

        /* "-": options are accepted anywhere, and the other arguments come
         * back as 1 in order, even with POSIXLY_CORRECT set. ":": we report
         * errors ourselves. */
        opterr = 0;
        while ((c = getopt_long(argc, argv, "-:ht:", options, NULL)) >= 0) {
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
                        break;
                case ARG_JSON:
                        args->json = true;
                        break;
                case ARG_NO_LEGEND:
                        args->legend = false;
                        break;
                case ARG_NO_ASK_PASSWORD:
                        args->ask_password = false;
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

        return 1;
}

/* Find the verb that the positional arguments name and check its
 * arguments. *ret_words is how many of them named the verb. */
static int find_verb(char *const *words, const CtlArgs *args, const Verb **ret, size_t *ret_words) {
        const Verb *verb = NULL;
        size_t n_words, n_args = 0;

        if (!words[0])
                return usage_error("missing command");

        for (size_t i = 0; i < G_N_ELEMENTS(verbs) && !verb; i++) {
                if (!verbs[i].group && strcmp(words[0], verbs[i].name) == 0)
                        verb = &verbs[i];
                else if (verbs[i].group && strcmp(words[0], verbs[i].group) == 0 &&
                         words[1] && strcmp(words[1], verbs[i].name) == 0)
                        verb = &verbs[i];
        }
        if (!verb) {
                if (strcmp(words[0], "overlay") == 0) {
                        if (!words[1])
                                return usage_error("missing overlay command (list, create, show, delete)");
                        return usage_error("unknown overlay command '%s'", words[1]);
                }
                return usage_error("unknown command '%s'", words[0]);
        }

        n_words = verb->group ? 2 : 1;
        while (words[n_words + n_args])
                n_args++;

        if (n_args < verb->n_args)
                return usage_error("missing argument; usage: %s %s", PROGRAM, verb->usage);
        if (n_args > verb->n_args)
                return usage_error("too many arguments; usage: %s %s", PROGRAM, verb->usage);
        if (verb->takes_type && !args->type)
                return usage_error("missing --type; usage: %s %s", PROGRAM, verb->usage);
        if (!verb->takes_type && args->type)
                return usage_error("--type is only valid with 'overlay create'");

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
        int r;

        r = parse_argv(argc, argv, &args, positional);
        if (r <= 0)
                return r < 0 ? L4M_EXIT_USAGE : L4M_EXIT_SUCCESS;

        r = find_verb((char *const *) positional->pdata, &args, &verb, &n_words);
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
