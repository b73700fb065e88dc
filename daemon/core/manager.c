/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <string.h>

#include "backup.h"
#include "blueprint.h"
#include "instance.h"
#include "instance-runtime.h"
#include "fs-util.h"
#include "game-install.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "manager.h"
#include "job.h"
#include "overlay-export.h"
#include "overlay.h"
#include "schedule.h"
#include "script-uids.h"
#include "owner-quota.h"
#include "store.h"

/* The subdirectories the daemon needs, with the modes tmpfiles.d gives
 * them; created here too so that a missed tmpfiles run does not stop us. */
#define DB_DIR_MODE       0700
/* Only root goes below overlays/: a script may open its own overlay's
 * directory to everyone (chmod, ACLs); nobody else gets that far. The
 * game reaches overlays through the overlayfs mounts, made by root. */
#define OVERLAYS_DIR_MODE 0700
#define JOBS_DIR_MODE     0700
#define CACHE_DIR_MODE    0755
/* The game user must reach runtime/<name>/merged; nobody may list it. */
#define RUNTIME_DIR_MODE  0711
/* Backups hold what servers wrote and their settings: root's alone. */
#define BACKUPS_DIR_MODE  0700

static const LoginThrottleParams manager_login_throttle = {
        .free_failures = LOGIN_THROTTLE_FREE_FAILURES,
        .base_usec = LOGIN_THROTTLE_BASE_USEC,
        .max_usec = LOGIN_THROTTLE_MAX_USEC,
        .window_usec = LOGIN_THROTTLE_WINDOW_USEC,
        .keys_max = LOGIN_THROTTLE_KEYS_MAX,
};

static guint id_hash(gconstpointer p) {
        return g_int64_hash(p);
}

static gboolean id_equal(gconstpointer a, gconstpointer b) {
        return *(const uint64_t *) a == *(const uint64_t *) b;
}

int manager_new(const char *state_dir, const char *conf_dir, Manager **ret) {
        g_autoptr(Manager) m = g_new0(Manager, 1);
        int r;

        m->state_fd = -1;
        m->overlays_fd = -1;
        m->state_dir = g_strdup(state_dir);
        m->conf_dir = g_strdup(conf_dir);
        m->config = config_load(conf_dir);
        config_log_problems(m->config);
        m->start_usec = g_get_monotonic_time();
        m->polkit = polkit_registry_new();
        m->delegations = delegation_registry_new();
        polkit_registry_set_delegations(m->polkit, m->delegations);
        m->login_failures_by_user = login_throttle_new(&manager_login_throttle);
        m->login_failures_by_connection = login_throttle_new(&manager_login_throttle);
        m->logins = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify) login_free);
        m->overlays_by_id = g_hash_table_new_full(id_hash, id_equal, NULL, (GDestroyNotify) overlay_free);
        m->overlays_by_name = g_hash_table_new(g_str_hash, g_str_equal);
        m->blueprints_by_id = g_hash_table_new_full(id_hash, id_equal, NULL, (GDestroyNotify) blueprint_free);
        m->blueprints_by_name = g_hash_table_new(g_str_hash, g_str_equal);
        m->instances_by_id = g_hash_table_new_full(id_hash, id_equal, NULL, (GDestroyNotify) instance_free);
        m->instances_by_name = g_hash_table_new(g_str_hash, g_str_equal);
        m->schedules_by_id = g_hash_table_new_full(id_hash, id_equal, NULL, (GDestroyNotify) schedule_free);
        m->schedules_by_name = g_hash_table_new(g_str_hash, g_str_equal);
        m->jobs_by_id = g_hash_table_new_full(id_hash, id_equal, NULL, (GDestroyNotify) job_free);
        m->job_kinds = g_hash_table_new(g_str_hash, g_str_equal);
        m->script_uids = script_uids_new(m);
        m->jobs_fd = -1;
        m->cache_fd = -1;
        m->runtime_fd = -1;
        m->backups_fd = -1;

        r = sd_event_default(&m->event);
        if (r < 0)
                return log_error_errno(r, "Cannot allocate event loop: %s", STRERROR(r));
        r = password_hasher_new(m->event, &m->password_hasher);
        if (r < 0)
                return r;
        r = journal_stream_set_new(m->event, JOURNAL_STREAMS_MAX, JOURNAL_STREAMS_PER_CLIENT_MAX, &m->journal_streams);
        if (r < 0)
                return log_error_errno(r, "Cannot set up journal streams: %s", STRERROR(r));

        *ret = g_steal_pointer(&m);
        return 0;
}

void manager_free(Manager *m) {
        if (!m)
                return;

        /* NULL: what is freed below must not schedule a dispatch. */
        m->job_dispatch = sd_event_source_disable_unref(m->job_dispatch);
        m->job_prune_timer = sd_event_source_disable_unref(m->job_prune_timer);
        m->journal_streams = journal_stream_set_free(m->journal_streams);
        /* Waits for their threads: before the overlays' directories go. */
        manager_free_overlay_exports(m);
        g_hash_table_destroy(m->jobs_by_id);
        g_hash_table_destroy(m->job_kinds);
        /* Holds bus slots: before the bus goes. */
        m->script_uids = script_uids_free(m->script_uids);
        /* Instances hold bus slots: before the bus goes. */
        g_hash_table_destroy(m->instances_by_name);
        g_hash_table_destroy(m->instances_by_id);
        /* Hold bus slots too; after the instances, whose stops under way
         * answer schedules' runs. */
        g_hash_table_destroy(m->schedules_by_name);
        g_hash_table_destroy(m->schedules_by_id);
        /* Waits for hashes still running; then the Logins they were for go. */
        password_hasher_free(m->password_hasher);
        g_hash_table_destroy(m->logins);
        login_throttle_free(m->login_failures_by_user);
        login_throttle_free(m->login_failures_by_connection);
        sd_bus_flush_close_unref(m->bus);
        polkit_registry_free(m->polkit);
        delegation_registry_free(m->delegations);
        g_hash_table_destroy(m->blueprints_by_name);
        g_hash_table_destroy(m->blueprints_by_id);
        g_hash_table_destroy(m->overlays_by_name);
        g_hash_table_destroy(m->overlays_by_id);
        store_close(m->db);
        l4m_close_fdp(&m->overlays_fd);
        l4m_close_fdp(&m->jobs_fd);
        l4m_close_fdp(&m->cache_fd);
        l4m_close_fdp(&m->runtime_fd);
        l4m_close_fdp(&m->backups_fd);
        l4m_close_fdp(&m->state_fd);
        g_free(m->game_build_id);
        g_free(m->steam_login);
        sd_event_unref(m->event);
        config_free(m->config);
        g_free(m->conf_dir);
        g_free(m->state_dir);
        g_free(m);
}

static int load_overlay_row(const StoreOverlay *row, void *userdata) {
        int r = overlay_add(userdata, row, NULL);

        if (r < 0)
                log_error_errno(r, "Skipping overlay row %" G_GUINT64_FORMAT " (%s): %s", row->id, row->name, STRERROR(r));
        return 0;
}

int manager_load(Manager *m) {
        _cleanup_close_ int db_fd = -1;
        g_autofree char *db_path = NULL;
        int r;

        m->state_fd = open(m->state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (m->state_fd < 0)
                return log_error_errno(errno, "Cannot open state directory %s: %s", m->state_dir, STRERROR(errno));

        db_fd = open_or_create_dir_at(m->state_fd, "db", DB_DIR_MODE);
        if (db_fd < 0)
                return log_error_errno(db_fd, "Cannot open %s/db: %s", m->state_dir, STRERROR(db_fd));
        m->overlays_fd = open_or_create_dir_at(m->state_fd, "overlays", OVERLAYS_DIR_MODE);
        if (m->overlays_fd < 0)
                return log_error_errno(m->overlays_fd, "Cannot open %s/overlays: %s", m->state_dir, STRERROR(m->overlays_fd));
        /* An existing one from an older version may be 0711. */
        if (fchmod(m->overlays_fd, OVERLAYS_DIR_MODE) < 0)
                return log_error_errno(errno, "Cannot set the mode of %s/overlays: %s", m->state_dir, STRERROR(errno));

        m->jobs_fd = open_or_create_dir_at(m->state_fd, "jobs", JOBS_DIR_MODE);
        if (m->jobs_fd < 0)
                return log_error_errno(m->jobs_fd, "Cannot open %s/jobs: %s", m->state_dir, STRERROR(m->jobs_fd));

        m->cache_fd = open_or_create_dir_at(m->state_fd, "workshop_cache", CACHE_DIR_MODE);
        if (m->cache_fd < 0)
                return log_error_errno(m->cache_fd, "Cannot open %s/workshop_cache: %s", m->state_dir, STRERROR(m->cache_fd));

        m->runtime_fd = open_or_create_dir_at(m->state_fd, "runtime", RUNTIME_DIR_MODE);
        if (m->runtime_fd < 0)
                return log_error_errno(m->runtime_fd, "Cannot open %s/runtime: %s", m->state_dir, STRERROR(m->runtime_fd));

        m->backups_fd = open_or_create_dir_at(m->state_fd, "backups", BACKUPS_DIR_MODE);
        if (m->backups_fd < 0)
                return log_error_errno(m->backups_fd, "Cannot open %s/backups: %s", m->state_dir, STRERROR(m->backups_fd));

        /* SQLite opens by path; db/ was just checked to be a real directory
         * and only root can change it. */
        db_path = g_build_filename(m->state_dir, "db", "left4me.db", NULL);
        r = store_open(db_path, &m->db);
        if (r < 0)
                return r;

        r = store_overlay_foreach(m->db, load_overlay_row, m);
        if (r < 0)
                return log_error_errno(r, "Cannot load overlays: %s", STRERROR(r));

        r = manager_load_overlay_items(m);
        if (r < 0)
                return log_error_errno(r, "Cannot load overlay items: %s", STRERROR(r));
        owner_quota_measure_links(m);

        r = manager_load_blueprints(m);
        if (r < 0)
                return r;

        r = manager_load_instances(m);
        if (r < 0)
                return r;

        r = manager_load_schedules(m);
        if (r < 0)
                return r;

        (void) manager_sweep_overlay_dirs(m);
        (void) manager_sweep_runtime_dirs(m);
        (void) manager_sweep_backups(m);

        manager_game_refresh(m);
        manager_game_fix_modes(m);

        r = manager_load_jobs(m);
        if (r < 0)
                return r;
        manager_settle_overlay_states(m);

        log_info("Loaded %u overlay(s), %u blueprint(s) and %u instance(s) from %s.", g_hash_table_size(m->overlays_by_id),
                 g_hash_table_size(m->blueprints_by_id), g_hash_table_size(m->instances_by_id), db_path);
        return 0;
}

void manager_reload_config(Manager *m) {
        g_autoptr(Config) old = g_steal_pointer(&m->config);

        m->config = config_load(m->conf_dir);
        config_log_problems(m->config);
        log_info("Configuration reloaded from %s (%u problem(s)).", m->conf_dir, g_strv_length(m->config->problems));
        config_bus_emit_changed(m, old);
        /* Bounds of jobs may have changed ([Script] MaxRunning=). */
        job_schedule_dispatch(m);
        manager_instances_config_changed(m);
}

/* An overlay left "building" by a crash whose job did not resume. */
void manager_settle_overlay_states(Manager *m) {
        GHashTableIter it;
        gpointer value;

        g_hash_table_iter_init(&it, m->overlays_by_id);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                Overlay *o = value;
                g_autofree char *target = overlay_job_target(o);

                if (strcmp(o->state, OVERLAY_STATE_BUILDING) == 0 && !manager_find_active_job_for(m, target))
                        overlay_set_state(o, OVERLAY_STATE_FAILED, o->last_build, o->size);
        }
}

unsigned manager_count_overlays_of(Manager *m, const char *owner) {
        GHashTableIter it;
        gpointer value;
        unsigned n = 0;

        g_hash_table_iter_init(&it, m->overlays_by_id);
        while (g_hash_table_iter_next(&it, NULL, &value))
                if (strcmp(((Overlay *) value)->owner, owner) == 0)
                        n++;
        return n;
}
