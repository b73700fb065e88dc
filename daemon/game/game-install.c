/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/game/: the one game installation: steamcmd in its unit, its output, app manifest and Steam login. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app-manifest.h"
#include "fs-util.h"
#include "game-install.h"
#include "game-unit.h"
#include "instance.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-names.h"
#include "l4m-util.h"
#include "problem.h"
#include "steam-login.h"
#include "steamcmd-output.h"
#include "systemd-unit.h"
#include "worker.h"

/* Signals can be lost to a restart of systemd or dbus; look now and then. */
#define GAME_RECHECK_USEC (30 * G_USEC_PER_SEC)
#define GAME_LOG_CHUNK 16384

#define INSTALLATION_DIR "installation"
/* Group-writable, as everything in it: the servers, each of a uid of its
 * own, have left4me-game as a supplementary group, and write (through
 * their stacks, into their own upper/) where steamcmd wrote. */
#define INSTALLATION_DIR_MODE 0775
#define STEAM_HOME_DIR "steam"
#define STEAM_HOME_DIR_MODE 0700

/* What a job that stops instances keeps where a restart of the daemon (not
 * of the machine) finds it again: the daemon's RuntimeDirectory=, kept
 * across its restarts. After a reboot every server is stopped anyway and
 * autostart decides what runs. */
#define STOPPED_FILE_GROUP "GameJob"
#define STOPPED_FILE_MAX (1024 * 1024)

/* What walks the installation to make it group-writable (on a Worker
 * thread): its directory, and the game user and group whose entries
 * change. */
typedef struct GameModes {
        int fd;
        uid_t uid;
        gid_t gid;
        unsigned changed;
} GameModes;

typedef enum GamePhase {
        GAME_PHASE_UPDATING,            /* steamcmd runs, or is about to */
        GAME_PHASE_STOPPING,            /* waiting for the instances stopped for it */
        GAME_PHASE_STARTING,            /* it is over: starting them again */
} GamePhase;

struct GameInstall {
        Manager *manager;
        Job *job;
        bool update;
        bool validate;
        bool restart_instances;
        char *unit;
        UnitWatch *watch;
        sd_bus_slot *start_call;
        bool unit_started;
        sd_event_source *recheck;
        bool concluded;

        /* Server instances stopped for the update (restart_instances),
         * started again once it is over; names, sorted; NULL if none. */
        GamePhase phase;
        GPtrArray *stopped;
        /* The job's end, kept while they start again. */
        int result;
        char *collect;
        char *message;

        /* Making the installation group-writable after steamcmd. */
        Worker *modes_worker;
        GameModes *modes;

        /* steamcmd's output, read from the job's log as it grows */
        SteamCmdOutput output;
        int log_read_fd;
        uint64_t log_pos;
};

static void game_modes_free(void *data) {
        GameModes *w = data;

        if (!w)
                return;
        l4m_close_fdp(&w->fd);
        g_free(w);
}

/* The installation and the game user, for game_modes_work(): -ENOENT if
 * there is no installation (or no game user). */
static int game_modes_new(Manager *m, GameModes **ret) {
        GameModes *w;
        struct passwd *pw;
        int fd;

        errno = 0;
        pw = getpwnam(GAME_USER);
        if (!pw)
                return errno > 0 ? -errno : -ENOENT;
        fd = openat(m->state_fd, INSTALLATION_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        w = g_new0(GameModes, 1);
        w->fd = fd;
        w->uid = pw->pw_uid;
        w->gid = pw->pw_gid;
        *ret = w;
        return 0;
}

/* On a thread: the game user's directories and regular files in the
 * installation get g+w (fs-util.h's chmod_tree_add_fd(): no link
 * followed, no other mount entered). What steamcmd makes under
 * UMask=0002 is so already; this is for what it made with a mode of its
 * own, and for an installation of before the servers had uids of their
 * own (0755/0644). */
static int game_modes_work(void *userdata) {
        GameModes *w = userdata;

        return chmod_tree_add_fd(w->fd, w->uid, w->gid, S_IWGRP, &w->changed);
}

static int game_modes_work_detached(void *userdata) {
        GameModes *w = userdata;
        int r = game_modes_work(w);

        if (r < 0)
                log_warning_errno(r, "Cannot make the game installation group-writable: %s", STRERROR(r));
        else if (w->changed > 0)
                log_info("Made %u entries of the game installation group-writable.", w->changed);
        return r;
}

void manager_game_fix_modes(Manager *m) {
        GameModes *w = NULL;
        int r;

        r = game_modes_new(m, &w);
        if (r == -ENOENT)
                return;
        if (r >= 0)
                r = worker_start_detached("game-modes", game_modes_work_detached, w, game_modes_free);
        if (r < 0) {
                log_warning_errno(r, "Cannot make the game installation group-writable: %s", STRERROR(r));
                game_modes_free(w);
        }
}

static void game_install_free(void *data) {
        GameInstall *g = data;

        if (!g)
                return;
        worker_free(g->modes_worker);
        game_modes_free(g->modes);
        unit_watch_free(g->watch);
        sd_bus_slot_unref(g->start_call);
        sd_event_source_disable_unref(g->recheck);
        l4m_close_fdp(&g->log_read_fd);
        if (g->stopped)
                g_ptr_array_unref(g->stopped);
        g_free(g->collect);
        g_free(g->message);
        g_free(g->unit);
        g_free(g);
}

GameInstall *game_install_new(Manager *m, bool update, bool validate, bool restart_instances) {
        GameInstall *g = g_new0(GameInstall, 1);

        g->manager = m;
        g->update = update;
        g->validate = validate;
        g->restart_instances = restart_instances;
        g->log_read_fd = -1;
        steamcmd_output_init(&g->output, 1);
        return g;
}

bool manager_game_job_active(Manager *m) {
        Job *j = manager_find_active_job_for(m, GAME_JOB_TARGET);
        GameInstall *g;

        if (!j)
                return false;
        /* Starting the instances it stopped again: the installation is
         * what it will be. */
        g = j->kind == &game_install_kind ? j->data : NULL;
        return !(g && g->phase == GAME_PHASE_STARTING);
}

/* --- the instances stopped for the update ----------------------------- */

static char *stopped_file_path(uint64_t job_id) {
        const char *dir = getenv("RUNTIME_DIRECTORY");

        /* systemd may list several, ':'-separated: ours is the only one. */
        if (!dir || dir[0] != '/' || strchr(dir, ':'))
                dir = "/run/left4me";
        return g_strdup_printf("%s/game-job-%" G_GUINT64_FORMAT ".stopped", dir, job_id);
}

/* Writes (to a temporary name, renamed into place) the phase and the
 * instances of g's job. */
static int stopped_file_save(GameInstall *g) {
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autofree char *path = stopped_file_path(g->job->id), *tmp = NULL, *data = NULL;
        _cleanup_close_ int fd = -1;
        size_t size;
        int r;

        assert(g->stopped);
        g_key_file_set_string(kf, STOPPED_FILE_GROUP, "Phase", g->phase == GAME_PHASE_STOPPING ? "stopping" : "updating");
        g_key_file_set_boolean(kf, STOPPED_FILE_GROUP, "Update", g->update);
        g_key_file_set_string_list(kf, STOPPED_FILE_GROUP, "Instances", (const char *const *) g->stopped->pdata,
                                   g->stopped->len);
        data = g_key_file_to_data(kf, &size, NULL);

        tmp = g_strconcat(path, ".tmp", NULL);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        r = write_all(fd, data, size);
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

static void stopped_file_remove(uint64_t job_id) {
        g_autofree char *path = stopped_file_path(job_id);

        if (unlink(path) < 0 && errno != ENOENT)
                log_warning_errno(errno, "Cannot remove %s: %s", path, STRERROR(errno));
}

/* Reads what stopped_file_save() wrote for job_id: -ENOENT if nothing,
 * -EBADMSG if it makes no sense. */
static int stopped_file_load(uint64_t job_id, GamePhase *ret_phase, bool *ret_update, GPtrArray **ret_names) {
        g_autofree char *path = stopped_file_path(job_id), *data = NULL, *phase = NULL;
        g_autoptr(GKeyFile) kf = g_key_file_new();
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        g_auto(GStrv) list = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;
        size_t done = 0;
        gsize n = 0;

        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_uid != 0 || st.st_size > STOPPED_FILE_MAX)
                return -EBADMSG;
        data = g_malloc((size_t) st.st_size + 1);
        while (done < (size_t) st.st_size) {
                ssize_t k = read(fd, data + done, (size_t) st.st_size - done);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                done += (size_t) k;
        }
        data[done] = '\0';
        if (!g_key_file_load_from_data(kf, data, done, G_KEY_FILE_NONE, NULL))
                return -EBADMSG;
        phase = g_key_file_get_string(kf, STOPPED_FILE_GROUP, "Phase", NULL);
        list = g_key_file_get_string_list(kf, STOPPED_FILE_GROUP, "Instances", &n, NULL);
        if (!phase || !list || n == 0)
                return -EBADMSG;
        if (strcmp(phase, "stopping") == 0)
                *ret_phase = GAME_PHASE_STOPPING;
        else if (strcmp(phase, "updating") == 0)
                *ret_phase = GAME_PHASE_UPDATING;
        else
                return -EBADMSG;
        for (gsize k = 0; k < n; k++) {
                if (!l4m_name_is_valid(list[k]))
                        return -EBADMSG;
                g_ptr_array_add(names, g_strdup(list[k]));
        }
        *ret_update = g_key_file_get_boolean(kf, STOPPED_FILE_GROUP, "Update", NULL);
        *ret_names = g_steal_pointer(&names);
        return 0;
}

/* Takes in what the unit (and the daemon) appended to the log since the
 * last look, up to the end of the file. */
static void game_install_read_log(GameInstall *g) {
        Job *j = g->job;
        bool changed = false;
        char buf[GAME_LOG_CHUNK];

        if (g->log_read_fd < 0) {
                g_autofree char *name = g_strdup_printf("%" G_GUINT64_FORMAT ".log", j->id);

                g->log_read_fd = openat(j->manager->jobs_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                if (g->log_read_fd < 0)
                        return;
        }
        /* Output punched out (or truncated) before we read it. */
        if (g->log_pos < j->log_data_start || g->log_pos > j->log_size) {
                if (g->log_pos > 0)
                        steamcmd_output_gap(&g->output);
                g->log_pos = j->log_data_start;
        }
        for (;;) {
                ssize_t n = pread(g->log_read_fd, buf, sizeof buf, (off_t) g->log_pos);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                changed |= steamcmd_output_feed(&g->output, buf, (size_t) n);
                g->log_pos += (uint64_t) n;
        }
        if (changed)
                job_set_progress(j, steamcmd_output_progress(&g->output));
}

static void game_install_log_grew(Job *j) {
        GameInstall *g = j->data;

        if (g->job)
                game_install_read_log(g);
}

static void game_install_finish(GameInstall *g) {
        Manager *m = g->manager;
        g_autofree char *unit = g_strdup(g->unit), *collect = g_steal_pointer(&g->collect);

        if (g->stopped)
                stopped_file_remove(g->job->id);
        /* The unit goes only once the job's end is recorded: were the daemon
         * to stop before, it finds the outcome again on its next start. */
        job_finish(g->job, g->result, "%s", g->message);       /* frees g */
        if (collect && strcmp(collect, "reset") == 0)
                (void) unit_reset_failed(m->bus, unit);
        else if (collect)
                (void) unit_stop(m->bus, unit);
        manager_game_refresh(m);
}

/* The instance's stop is over (or it never ran): its unit has run
 * ExecStopPost=, which unmounts the stack. */
static bool instance_settled(const Instance *i) {
        return i->state_known && !instance_is_active(i);
}

/* Starts again the instances the job stopped, once none is still on its
 * way down; then the job ends. A start that fails is told in the log and
 * the message, and does not change the job's outcome: the update itself
 * is done (or not) either way. */
static void game_install_start_instances(GameInstall *g) {
        Manager *m = g->manager;
        g_autoptr(GString) started = g_string_new(NULL), failed = g_string_new(NULL);
        g_autofree char *message = NULL;

        assert(g->phase == GAME_PHASE_STARTING);
        for (guint k = 0; k < g->stopped->len; k++) {
                Instance *i = g_hash_table_lookup(m->instances_by_name, g->stopped->pdata[k]);

                if (i && (!i->state_known || strcmp(i->state, INSTANCE_STATE_STOPPING) == 0))
                        return;
        }

        for (guint k = 0; k < g->stopped->len; k++) {
                const char *name = g->stopped->pdata[k];
                Instance *i = g_hash_table_lookup(m->instances_by_name, name);
                g_autofree char *problem = NULL;
                int r;

                if (!i) {
                        job_log(g->job, "Instance \"%s\" was deleted meanwhile: not starting it again.", name);
                        continue;
                }
                if (instance_is_active(i)) {
                        job_log(g->job, "Instance \"%s\" is %s already.", name, i->state);
                        continue;
                }
                r = instance_start(i, NULL, NULL, &problem);
                if (r < 0) {
                        const char *why = problem ? problem : STRERROR(r);

                        job_log(g->job, "Cannot start instance \"%s\" again: %s", name, why);
                        g_string_append_printf(failed, "%s\"%s\" (%s)", failed->len > 0 ? ", " : "", name, why);
                        continue;
                }
                job_log(g->job, "Starting instance \"%s\" again.", name);
                g_string_append_printf(started, "%s\"%s\"", started->len > 0 ? ", " : "", name);
        }

        message = g_strdup_printf("%s%s%s%s%s%s%s", g->message, started->len > 0 ? " Started again: " : "",
                                  started->str, started->len > 0 ? "." : "",
                                  failed->len > 0 ? " Could not start again: " : "", failed->str,
                                  failed->len > 0 ? "." : "");
        g_free(g->message);
        g->message = g_steal_pointer(&message);
        game_install_finish(g);
}

/* The job's work is over with result and message: it ends, after starting
 * again what it stopped. collect: what to do with the unit after ("reset",
 * "stop" or NULL). */
static void game_install_conclude(GameInstall *g, int result, const char *collect, const char *message) {
        /* Once: a late start reply and the watch may both report. */
        if (g->concluded)
                return;
        g->concluded = true;
        g->recheck = sd_event_source_disable_unref(g->recheck);
        g->watch = unit_watch_free(g->watch);
        g->start_call = sd_bus_slot_unref(g->start_call);
        g->result = result;
        g->collect = g_strdup(collect);
        g->message = g_strdup(message);

        if (!g->stopped) {
                game_install_finish(g);
                return;
        }
        /* The new build's id, before the servers start on it. */
        manager_game_refresh(g->manager);
        g->phase = GAME_PHASE_STARTING;
        game_install_start_instances(g);
}

static const char *signal_name(int sig) {
        const char *abbrev = sigabbrev_np(sig);
        return abbrev ? abbrev : "?";
}

/* steamcmd exited 0: whether it did the job is in its text and the
 * manifest. */
static int describe_success(GameInstall *g, char **ret_message) {
        const SteamCmdOutput *out = &g->output;
        g_autofree char *buildid = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        if (out->login_failed) {
                *ret_message = g_strdup_printf("Steam login failed: %s", out->login_error);
                return -EACCES;
        }
        if (!steamcmd_output_succeeded(out)) {
                if (out->error[0])
                        *ret_message = g_strdup_printf("steamcmd failed: %s", out->error);
                else
                        *ret_message = g_strdup_printf("steamcmd ended without reporting that app %s was installed "
                                                       "(%u of %u passes ended).", GAME_APP_ID, out->passes_done,
                                                       out->passes);
                return -EPROTO;
        }
        fd = openat(g->manager->state_fd, INSTALLATION_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        r = fd < 0 ? -errno : app_manifest_read_buildid(fd, &buildid);
        if (r < 0) {
                *ret_message = g_strdup_printf("steamcmd reported success, but %s/%s cannot be read: %s",
                                               INSTALLATION_DIR, APP_MANIFEST_PATH, STRERROR(r));
                return -EBADMSG;
        }
        *ret_message = g_strdup_printf("Game %s (build %s).", g->update ? "updated" : "installed", buildid);
        return 0;
}

/* What the unit's end means for the job: 0, -ECANCELED or a failure, and
 * the job's message. */
static int describe_outcome(GameInstall *g, const UnitOutcome *o, char **ret_message) {
        const SteamCmdOutput *out = &g->output;
        bool cancelled = g->job->cancel_requested;

        if (o->gone || strcmp(o->active_state, "inactive") == 0) {
                if (cancelled) {
                        *ret_message = g_strdup("Cancelled.");
                        return -ECANCELED;
                }
                *ret_message = g_strdup_printf("The install unit %s ended without an outcome left4me could read "
                                               "(stopped from outside, or the machine restarted).", g->unit);
                return -ESRCH;
        }
        /* A cancel that came after steamcmd had finished changes nothing. */
        if (strcmp(o->active_state, "active") == 0 && strcmp(o->result, "success") == 0)
                return describe_success(g, ret_message);
        if (cancelled) {
                *ret_message = g_strdup("Cancelled.");
                return -ECANCELED;
        }
        if (out->login_failed) {
                *ret_message = g_strdup_printf("Steam login failed: %s", out->login_error);
                return -EACCES;
        }
        if (strcmp(o->result, "timeout") == 0) {
                *ret_message = g_strdup_printf("steamcmd timed out after %" G_GUINT64_FORMAT " s.",
                                               o->runtime_max_usec / G_USEC_PER_SEC);
                return -ETIME;
        }
        if (strcmp(o->result, "exit-code") == 0 && o->exec_main_code == CLD_EXITED) {
                if (o->exec_main_status >= 200 && o->exec_main_status <= 243)
                        *ret_message = g_strdup_printf("steamcmd exited with status %d (or systemd failed to start it: "
                                                       "journalctl -u %s tells).", (int) o->exec_main_status, g->unit);
                else if (out->error[0])
                        *ret_message = g_strdup_printf("steamcmd exited with status %d: %s", (int) o->exec_main_status,
                                                       out->error);
                else
                        *ret_message = g_strdup_printf("steamcmd exited with status %d.", (int) o->exec_main_status);
                return -EPROTO;
        }
        if (o->exec_main_code == CLD_KILLED || o->exec_main_code == CLD_DUMPED) {
                *ret_message = g_strdup_printf("steamcmd was killed by signal SIG%s.", signal_name((int) o->exec_main_status));
                return -EINTR;
        }
        if (strcmp(o->result, "resources") == 0) {
                *ret_message = g_strdup_printf("systemd could not set up the install unit (journalctl -u %s tells why).",
                                               g->unit);
                return -EIO;
        }
        *ret_message = g_strdup_printf("steamcmd failed (systemd result \"%s\").", o->result);
        return -EIO;
}

/* On the thread: g->modes is set before the Worker starts and freed only
 * with g, which frees the Worker (waiting for the thread) first. */
static int game_install_modes_work(void *userdata) {
        GameInstall *g = userdata;

        return game_modes_work(g->modes);
}

static void on_modes_done(Worker *w, int result, void *userdata) {
        GameInstall *g = userdata;
        g_autofree char *collect = g_steal_pointer(&g->collect), *message = g_steal_pointer(&g->message);
        g_autofree char *text = NULL;

        g->modes_worker = worker_free(g->modes_worker);
        if (result < 0) {
                job_log(g->job, "Cannot make the installation group-writable: %s", STRERROR(result));
                text = g_strdup_printf("%s But the installation could not be made group-writable (%s): servers "
                                       "cannot write into its directories.", message, STRERROR(result));
                game_install_conclude(g, result, collect, text);
                return;
        }
        if (g->modes->changed > 0)
                job_log(g->job, "Made %u entries of the installation group-writable.", g->modes->changed);
        game_install_conclude(g, 0, collect, message);
}

/* steamcmd succeeded: the installation becomes group-writable (on a
 * Worker thread) before the job ends with message, and before the
 * instances it stopped start again. */
static void game_install_fix_modes(GameInstall *g, const char *collect, const char *message) {
        g_autofree char *text = NULL;
        int r;

        game_modes_free(g_steal_pointer(&g->modes));
        r = game_modes_new(g->manager, &g->modes);
        if (r >= 0)
                r = worker_start(g->manager->event, "game-modes", game_install_modes_work, on_modes_done, g,
                                 &g->modes_worker);
        if (r >= 0) {
                /* For on_modes_done(). */
                g->collect = g_strdup(collect);
                g->message = g_strdup(message);
                return;
        }
        text = g_strdup_printf("%s But the installation could not be made group-writable (%s): servers cannot write "
                               "into its directories.", message, STRERROR(r));
        game_install_conclude(g, r, collect, text);
}

static void on_unit_ended(UnitWatch *w, const UnitOutcome *o, void *userdata) {
        GameInstall *g = userdata;
        g_autofree char *message = NULL;
        const char *collect = NULL;
        int r;

        /* All of steamcmd's output first: inotify may not have told yet. */
        game_install_read_log(g);
        if (!o->gone) {
                job_log(g->job, "%s ended: %s/%s, result %s.", g->unit, o->active_state, o->sub_state, o->result);
                /* After the job: a failed unit stays listed until reset, an
                 * exited one (RemainAfterExit) until stopped. */
                if (strcmp(o->active_state, "failed") == 0)
                        collect = "reset";
                else if (strcmp(o->active_state, "active") == 0)
                        collect = "stop";
        }
        /* o points into the watch, which conclude frees: read it first. */
        r = describe_outcome(g, o, &message);
        g->recheck = sd_event_source_disable_unref(g->recheck);
        g->watch = unit_watch_free(g->watch);
        g->start_call = sd_bus_slot_unref(g->start_call);
        if (r >= 0) {
                game_install_fix_modes(g, collect, message);
                return;
        }
        game_install_conclude(g, r, collect, message);
}

static int on_recheck(sd_event_source *source, uint64_t usec, void *userdata) {
        GameInstall *g = userdata;

        if (g->watch)
                unit_watch_check(g->watch);
        (void) sd_event_source_set_time_relative(source, GAME_RECHECK_USEC);
        return 0;
}

/* Follows the unit and its output from now on; the unit may exist
 * already (a resumed job). */
static int game_install_follow(GameInstall *g) {
        int r;

        r = job_log_share(g->job);
        if (r < 0)
                return r;
        r = unit_watch_new(g->manager->bus, g->unit, on_unit_ended, g, &g->watch);
        if (r < 0)
                return r;
        r = sd_event_add_time_relative(g->manager->event, &g->recheck, CLOCK_MONOTONIC, GAME_RECHECK_USEC,
                                       G_USEC_PER_SEC, on_recheck, g);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(g->recheck, SD_EVENT_ON);
}

static int on_unit_started(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        GameInstall *g = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        g->start_call = sd_bus_slot_unref(g->start_call);
        if (e && (sd_bus_error_has_name(e, SD_BUS_ERROR_TIMEOUT) || sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY))) {
                /* systemd may have started it all the same: the watch knows. */
                job_log(g->job, "systemd did not answer the start in time (%s); waiting for the unit.", e->message);
                g->unit_started = true;
                unit_watch_check(g->watch);
                return 0;
        }
        if (e) {
                g_autofree char *message = g_strdup_printf("systemd did not start steamcmd: %s", e->message);

                g->recheck = sd_event_source_disable_unref(g->recheck);
                g->watch = unit_watch_free(g->watch);
                game_install_conclude(g, -EIO, NULL, message);
                return 0;
        }
        g->unit_started = true;
        if (g->job->cancel_requested)
                (void) unit_stop(g->manager->bus, g->unit);
        unit_watch_check(g->watch);
        return 0;
}

/* A directory of the state directory the game user writes to: created if
 * missing, and handed over (only the directory itself, by descriptor). */
static int prepare_dir(Manager *m, const char *name, mode_t mode, const struct passwd *pw) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (mkdirat(m->state_fd, name, mode) < 0 && errno != EEXIST)
                return log_error_errno(errno, "Cannot create %s/%s: %s", m->state_dir, name, STRERROR(errno));
        fd = openat(m->state_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Cannot open %s/%s: %s", m->state_dir, name, STRERROR(errno));
        if (fstat(fd, &st) < 0)
                return -errno;
        if ((st.st_uid != pw->pw_uid || st.st_gid != pw->pw_gid) && fchown(fd, pw->pw_uid, pw->pw_gid) < 0)
                return log_error_errno(errno, "Cannot hand %s/%s to %s: %s", m->state_dir, name, GAME_USER,
                                       STRERROR(errno));
        if ((st.st_mode & 07777) != mode && fchmod(fd, mode) < 0)
                return -errno;
        return 0;
}

/* Whether a Steam login is stored: a regular file, root's. */
static bool have_login(Manager *m) {
        struct stat st;

        return fstatat(m->state_fd, STEAM_LOGIN_FILE, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISREG(st.st_mode) &&
               st.st_uid == 0;
}

static void game_install_bind(GameInstall *g, Job *j) {
        g->job = j;
        g->unit = game_unit_name(j->id);
}

/* Starts steamcmd's unit; a failure ends the job. */
static void game_install_run(GameInstall *g) {
        Job *j = g->job;
        Manager *m = g->manager;
        const char *steamcmd = m->config->steam_cmd;
        g_autofree char *installation = NULL, *home = NULL, *log_path = NULL, *login_path = NULL, *message = NULL;
        struct passwd *pw;
        unsigned passes;
        int r;

        g->phase = GAME_PHASE_UPDATING;
        if (!g_path_is_absolute(steamcmd)) {
                message = g_strdup_printf("[Steam] SteamCmd=%s is not an absolute path.", steamcmd);
                game_install_conclude(g, -EINVAL, NULL, message);
                return;
        }
        if (access(steamcmd, X_OK) < 0) {
                r = -errno;
                message = g_strdup_printf("[Steam] SteamCmd=%s cannot be run: %s (Debian's steamcmd package installs "
                                          "/usr/games/steamcmd).", steamcmd, STRERROR(r));
                game_install_conclude(g, r, NULL, message);
                return;
        }
        errno = 0;
        pw = getpwnam(GAME_USER);
        if (!pw) {
                message = g_strdup_printf("The game user %s does not exist (systemd-sysusers creates it).", GAME_USER);
                game_install_conclude(g, errno > 0 ? -errno : -ESRCH, NULL, message);
                return;
        }
        r = prepare_dir(m, INSTALLATION_DIR, INSTALLATION_DIR_MODE, pw);
        if (r >= 0)
                r = prepare_dir(m, STEAM_HOME_DIR, STEAM_HOME_DIR_MODE, pw);
        if (r < 0)
                goto fail;

        installation = g_build_filename(m->state_dir, INSTALLATION_DIR, NULL);
        home = g_build_filename(m->state_dir, STEAM_HOME_DIR, NULL);
        log_path = g_strdup_printf("%s/jobs/%" G_GUINT64_FORMAT ".log", m->state_dir, j->id);
        if (have_login(m))
                login_path = g_build_filename(m->state_dir, STEAM_LOGIN_FILE, NULL);
        GameUnitSpec spec = {
                .steamcmd = steamcmd,
                .installation_dir = installation,
                .steam_home = home,
                .log_file = log_path,
                .login_file = login_path,
                .validate = g->validate,
                .job_id = j->id,
        };
        passes = game_unit_passes(&spec);
        steamcmd_output_init(&g->output, passes);

        /* Read back from the log by a daemon that picks the job up again. */
        job_log(j, STEAMCMD_PASSES_MARKER "%u", passes);
        r = game_install_follow(g);
        if (r < 0)
                goto fail;
        r = unit_start_transient(m->bus, g->unit, game_unit_properties, &spec, on_unit_started, g, &g->start_call);
        if (r < 0)
                goto fail;

        if (login_path)
                job_log(j, "Running %s in %s as %s, logging in to Steam as %s%s.", steamcmd, g->unit, GAME_USER,
                        m->steam_login, g->validate ? ", validating" : "");
        else
                job_log(j, "Running %s in %s as %s, logging in anonymously: a Windows pass, then a Linux pass%s.",
                        steamcmd, g->unit, GAME_USER, g->validate ? ", validating" : "");
        return;

fail:
        message = g_strdup_printf("Could not start: %s", STRERROR(r));
        game_install_conclude(g, r, NULL, message);
}

/* Whether runtime/<name>/merged is a mount point still. */
static bool instance_stack_mounted(Manager *m, const char *name) {
        _cleanup_close_ int fd = -1;
        struct statx stx;

        fd = openat(m->runtime_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return false;
        return statx(fd, "merged", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) == 0 &&
               (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

/* Goes on with the update once every instance stopped for it is down. */
static void game_install_check_stopped(GameInstall *g) {
        Manager *m = g->manager;
        g_autofree char *names = NULL, *message = NULL;
        int r;

        assert(g->phase == GAME_PHASE_STOPPING);
        for (guint k = 0; k < g->stopped->len; k++) {
                Instance *i = g_hash_table_lookup(m->instances_by_name, g->stopped->pdata[k]);

                if (i && !instance_settled(i))
                        return;
        }
        for (guint k = 0; k < g->stopped->len; k++)
                if (instance_stack_mounted(m, g->stopped->pdata[k])) {
                        message = g_strdup_printf("The overlay stack of instance \"%s\" is still mounted "
                                                  "(runtime/%s/merged): the installation under it cannot change.",
                                                  (const char *) g->stopped->pdata[k],
                                                  (const char *) g->stopped->pdata[k]);
                        game_install_conclude(g, -EBUSY, NULL, message);
                        return;
                }

        names = instance_names_join(g->stopped);
        job_log(g->job, "Stopped %s; updating.", names);
        g->phase = GAME_PHASE_UPDATING;
        r = stopped_file_save(g);
        if (r < 0)
                log_warning_errno(r, "Cannot record the instances job %" G_GUINT64_FORMAT " stopped: %s", g->job->id,
                                  STRERROR(r));
        game_install_run(g);
}

/* Stops the instances that run from the installation, to start them again
 * after the update. */
static void game_install_stop_instances(GameInstall *g, GPtrArray *active) {
        Manager *m = g->manager;
        g_autofree char *names = instance_names_join(active), *message = NULL;
        int r;

        g->stopped = g_ptr_array_ref(active);
        g->phase = GAME_PHASE_STOPPING;
        job_log(g->job, "Stopping %s for the update; they start again after it.", names);
        r = stopped_file_save(g);
        if (r < 0) {
                log_warning_errno(r, "Cannot record the instances job %" G_GUINT64_FORMAT " stops: %s", g->job->id,
                                  STRERROR(r));
                job_log(g->job, "Cannot record which instances this job stops (%s): a restart of the daemon "
                        "before the job ends would forget to start them again.", STRERROR(r));
        }
        for (guint k = 0; k < active->len; k++) {
                Instance *i = g_hash_table_lookup(m->instances_by_name, active->pdata[k]);

                assert(i);
                r = instance_halt(i, NULL, NULL);
                if (r < 0) {
                        message = g_strdup_printf("Cannot stop instance \"%s\": %s", i->name, STRERROR(r));
                        game_install_conclude(g, r, NULL, message);
                        return;
                }
        }
        game_install_check_stopped(g);
}

static int game_install_start(Job *j) {
        GameInstall *g = j->data;
        g_autoptr(GPtrArray) active = NULL;
        g_autofree char *names = NULL, *message = NULL;

        game_install_bind(g, j);
        /* The bus call refused while instances ran; they may have started
         * while the job was queued only if it was queued by a daemon that
         * restarted since (restore() knows no options). */
        active = manager_instances_active(g->manager);
        if (active && !g->restart_instances) {
                names = instance_names_join(active);
                message = g_strdup_printf("Server instances run from the installation: %s.", names);
                game_install_conclude(g, -EBUSY, NULL, message);
                return 0;
        }
        if (active)
                game_install_stop_instances(g, active);
        else
                game_install_run(g);
        return 0;
}

void game_install_instances_changed(Manager *m) {
        Job *j = manager_find_active_job_for(m, GAME_JOB_TARGET);
        GameInstall *g;

        if (!j || j->state != JOB_RUNNING || j->kind != &game_install_kind || !j->data)
                return;
        g = j->data;
        if (!g->job || !g->stopped)
                return;
        if (g->phase == GAME_PHASE_STOPPING)
                game_install_check_stopped(g);
        else if (g->phase == GAME_PHASE_STARTING)
                game_install_start_instances(g);
}

static void game_install_cancel(Job *j) {
        GameInstall *g = j->data;

        /* steamcmd has not run: start the instances again (once they are
         * down) and end. */
        if (g->phase == GAME_PHASE_STOPPING) {
                game_install_conclude(g, -ECANCELED, NULL, "Cancelled before steamcmd ran.");
                return;
        }
        /* Before systemd answered the start, on_unit_started() stops it. */
        if (g->phase == GAME_PHASE_UPDATING && g->unit_started && g->watch)
                (void) unit_stop(g->manager->bus, g->unit);
}

static int game_install_restore(Job *j) {
        /* What the caller asked for (validate, restarting instances) is
         * not kept for a job that had not started: it runs as a plain
         * install, which refuses to run while instances do. */
        j->data = game_install_new(j->manager, false, false, false);
        return 0;
}

static int game_install_resume(Job *j) {
        g_autoptr(GPtrArray) stopped = NULL;
        GamePhase phase = GAME_PHASE_UPDATING;
        GameInstall *g;
        bool update = false;
        int r;

        r = game_install_restore(j);
        if (r < 0)
                return r;
        g = j->data;
        game_install_bind(g, j);

        r = stopped_file_load(j->id, &phase, &update, &stopped);
        if (r < 0 && r != -ENOENT) {
                log_warning_errno(r, "Cannot read which instances job %" G_GUINT64_FORMAT " stopped: %s", j->id,
                                  STRERROR(r));
                job_log(j, "Cannot read which instances this job stopped (%s): they are not started again.",
                        STRERROR(r));
        }
        if (r >= 0) {
                g_autofree char *names = instance_names_join(stopped);

                g->update = update;
                g->stopped = g_steal_pointer(&stopped);
                if (phase == GAME_PHASE_STOPPING) {
                        /* Their state is learnt once the instances are
                         * followed again (game_install_instances_changed()). */
                        g->phase = GAME_PHASE_STOPPING;
                        job_log(j, "Waiting for %s to stop.", names);
                        for (guint k = 0; k < g->stopped->len; k++) {
                                Instance *i = g_hash_table_lookup(j->manager->instances_by_name, g->stopped->pdata[k]);
                                if (i)
                                        (void) unit_stop(j->manager->bus, i->unit);
                        }
                        return 0;
                }
                job_log(j, "Starts %s again after the update.", names);
        }

        g->unit_started = true;
        /* Sharing the log reads all of it again: passes and progress. */
        r = game_install_follow(g);
        if (r < 0)
                return r;
        unit_watch_check(g->watch);
        return 0;
}

const JobKind game_install_kind = {
        .name = "game-install",
        .action = L4M_ACTION_GAME_INSTALL,
        .restartable = true,
        .start = game_install_start,
        .cancel = game_install_cancel,
        .restore = game_install_restore,
        .resume = game_install_resume,
        .free_data = game_install_free,
        .log_grew = game_install_log_grew,
        .max_running = 1,
};

/* Server instances run from the installation: it must not change under
 * them, unless restart is set (they are stopped for the update and
 * started again after). */
static int check_instances(Manager *m, const Actor *actor, bool restart, char **ret_problem) {
        g_autoptr(GPtrArray) active = manager_instances_active(m);
        g_autofree char *names = NULL;

        if (!active || restart)
                return 0;
        names = actor_names_join(actor, active, m->instances_by_name, offsetof(Instance, owner));
        return problem_setf(ret_problem, -EBUSY,
                            "Server instances run from the installation: %s. Stop them first, or update with "
                            "restart_instances to have them stopped and started again.", names);
}

int game_install_submit(Manager *m, const Actor *actor, bool update, bool validate, bool restart_instances, Job **ret,
                        char **ret_problem) {
        int r;

        if (update) {
                manager_game_refresh(m);
                if (!m->game_installed)
                        return problem_setf(ret_problem, -ENOENT,
                                            "The game is not installed (no %s in the installation): "
                                            "install it with InstallGame first.", APP_MANIFEST_PATH);
        }
        if (manager_game_job_active(m))
                return problem_setf(ret_problem, -EBUSY, "A game install or update is queued or running already.");
        r = check_instances(m, actor, restart_instances, ret_problem);
        if (r < 0)
                return r;

        r = job_submit(m, &game_install_kind, GAME_JOB_TARGET, actor->principal,
                       game_install_new(m, update, validate, restart_instances), ret);
        if (r == -EBUSY)
                return problem_setf(ret_problem, r, "A game install or update is queued or running already.");
        return r;
}
