/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <systemd/sd-daemon.h>

#include "archive-import.h"
#include "backup.h"
#include "config.h"
#include "game-install.h"
#include "instance.h"
#include "overlay-wipe.h"
#include "script-build.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "manager.h"
#include "workshop-build.h"

static int on_terminate(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        log_info("Received %s, shutting down.", strsignal((int) si->ssi_signo));
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Shutting down.");
        return sd_event_exit(m->event, 0);
}

static int on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        manager_reload_config(userdata);
        return 0;
}

/* left4med --check-config [DIR]: prints the problems of the configuration
 * in DIR (default: the one the daemon reads), with the daemon's and
 * left4me-web's keys, one per line; exit status 1 if there is any. Needs
 * neither the bus nor the state directory. */
static int check_config(int argc, char **argv) {
        g_autoptr(Config) c = NULL;
        const char *dir = L4M_CONF_DIR;
        struct stat st;

        l4m_log_open("left4med");
        if (argc > 3) {
                log_error("Usage: left4med --check-config [DIR]");
                return EXIT_FAILURE;
        }
        if (argc == 3) {
                dir = argv[2];
                /* A directory named by hand that is not there is a typo,
                 * not an empty configuration. */
                int r = stat(dir, &st) < 0 ? -errno : S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;

                if (r < 0) {
                        log_error_errno(r, "Cannot check %s: %s", dir, STRERROR(r));
                        return EXIT_FAILURE;
                }
        }
        c = config_load(dir);
        for (size_t i = 0; c->problems[i]; i++)
                puts(c->problems[i]);
        if (fflush(stdout) != 0) {
                log_error_errno(errno, "Cannot write the problems: %s", STRERROR(errno));
                return EXIT_FAILURE;
        }
        return c->problems[0] ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int run(int argc, char **argv) {
        g_autoptr(Manager) m = NULL;
        sigset_t mask;
        int r;

        l4m_log_open("left4med");

        if (argc > 1) {
                if (strcmp(argv[1], "--version") == 0) {
                        puts("left4med " L4M_VERSION);
                        return 0;
                }
                return log_error_errno(EINVAL, "This program takes no arguments but --version and --check-config [DIR]; "
                                       "it is started by systemd as left4me.service.");
        }


        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Cannot block signals: %s", STRERROR(errno));
        /* Job log readers write to pipes whose readers may vanish: EPIPE
         * is handled where it happens. */
        (void) signal(SIGPIPE, SIG_IGN);

        /* Downloads, job log readers and extractions each hold descriptors;
         * systemd's soft limit of 1024 is for select() users, we are not. */
        {
                struct rlimit rl;
                if (getrlimit(RLIMIT_NOFILE, &rl) >= 0 && rl.rlim_cur < rl.rlim_max) {
                        rl.rlim_cur = rl.rlim_max;
                        (void) setrlimit(RLIMIT_NOFILE, &rl);
                }
        }

        r = manager_new(L4M_STATE_DIR, L4M_CONF_DIR, &m);
        if (r < 0)
                return r;

        r = sd_event_add_signal(m->event, NULL, SIGTERM, on_terminate, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGINT, on_terminate, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGHUP, on_reload, m);
        if (r < 0)
                return log_error_errno(r, "Cannot set up signal handling: %s", STRERROR(r));

        r = sd_event_set_watchdog(m->event, true);
        if (r < 0)
                return log_error_errno(r, "Cannot enable the watchdog: %s", STRERROR(r));

        manager_register_job_kind(m, &workshop_build_kind);
        manager_register_job_kind(m, &archive_import_kind);
        manager_register_job_kind(m, &archive_fetch_kind);
        manager_register_job_kind(m, &archive_fetch_placed_kind);
        manager_register_job_kind(m, &script_build_kind);
        manager_register_job_kind(m, &overlay_wipe_kind);
        manager_register_job_kind(m, &game_install_kind);
        manager_register_job_kind(m, &backup_kind);
        manager_register_job_kind(m, &backup_restore_kind);
        manager_register_job_kind(m, &backup_import_kind);

        r = manager_load(m);
        if (r < 0)
                return r;

        manager_adopt_consoles(m);
        r = manager_connect_bus(m);
        if (r < 0)
                return r;

        r = sd_event_loop(m->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %s", STRERROR(r));
        return r;
}

int main(int argc, char **argv) {
        int r;

        if (argc > 1 && strcmp(argv[1], "--check-config") == 0)
                return check_config(argc, argv);
        r = run(argc, argv);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
