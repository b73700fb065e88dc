/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rules of left4med's engine without a bus: a Manager on a temporary
 * state directory, called the way the bus handlers call it. Each rule
 * here has its counterpart against the real daemon in
 * tests/integration/ (test-03, test-04, test-21, test-23, ...). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "actor.h"
#include "archive-extract.h"
#include "blueprint.h"
#include "fs-util.h"
#include "game-install.h"
#include "instance.h"
#include "instance-runtime.h"
#include "job.h"
#include "l4m-bus-names.h"
#include "l4m-util.h"
#include "manager.h"
#include "overlay.h"
#include "overlay-export.h"
#include "overlay-wipe.h"
#include "workshop-cache.h"

typedef struct Fixture {
        char *state;
        Manager *m;
        Actor alice;            /* a local user: sees everything */
        Actor bob_web;          /* a web user: sees only its own */
        char *problem;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;

        f->state = g_dir_make_tmp("l4m-rules-XXXXXX", &error);
        g_assert_no_error(error);
        g_assert_cmpint(manager_new(f->state, f->state, &f->m), ==, 0);
        g_assert_cmpint(manager_load(f->m), ==, 0);
        actor_init_local(&f->alice, "alice");
        f->bob_web = (Actor) { .principal = g_strdup("web:bob"), .scope = ACTOR_SEES_OWN, .delegated = true };
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
        _cleanup_close_ int fd = open(g_get_tmp_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        g_autofree char *base = g_path_get_basename(f->state);

        g_clear_pointer(&f->m, manager_free);
        g_assert_cmpint(rm_rf_at(fd, base), ==, 0);
        actor_done(&f->alice);
        actor_done(&f->bob_web);
        g_free(f->problem);
        g_free(f->state);
}

/* r is error and the text says expected. */
#define assert_refused(f, call, error, expected)                                        \
        do {                                                                            \
                g_clear_pointer(&(f)->problem, g_free);                                 \
                g_assert_cmpint((call), ==, (error));                                   \
                g_assert_nonnull((f)->problem);                                         \
                if (!strstr((f)->problem, (expected)))                                  \
                        g_error("\"%s\" does not say \"%s\"", (f)->problem, (expected)); \
        } while (false)

static Overlay *new_overlay(Fixture *f, const Actor *a, const char *name, L4mOverlayType type) {
        Overlay *o = NULL;

        g_clear_pointer(&f->problem, g_free);
        g_assert_cmpint(overlay_create(f->m, a, name, type, NULL, &o, &f->problem), ==, 0);
        g_assert_null(f->problem);
        return o;
}

static Blueprint *new_blueprint(Fixture *f, const Actor *a, const char *name, Overlay *o) {
        char *no_args[] = { NULL };
        Blueprint *b = NULL;

        g_assert_cmpint(blueprint_create(f->m, a, name, &o->id, 1, "", no_args, &b, &f->problem), ==, 0);
        return b;
}

static Instance *new_instance(Fixture *f, const Actor *a, const char *name, Blueprint *b, uint32_t port) {
        InstanceSettings s = { .port = port, .max_players = 8 };
        Instance *i = NULL;

        g_assert_cmpint(instance_create(f->m, a, name, b, &s, &i, &f->problem), ==, 0);
        return i;
}

/* What systemd would have said: the unit runs. */
static void set_running(Instance *i) {
        i->unit_exists = true;
        g_free(i->state);
        i->state = g_strdup(INSTANCE_STATE_RUNNING);
}

/* A port range of three that nothing on this host is likely to use. */
static uint16_t set_port_range(Fixture *f) {
        for (unsigned base = 47000; base < 48000; base += 10) {
                if (instance_port_check_free(base) == 0 && instance_port_check_free(base + 1) == 0 &&
                    instance_port_check_free(base + 2) == 0) {
                        f->m->config->instance_port_min = base;
                        f->m->config->instance_port_max = base + 2;
                        return (uint16_t) base;
                }
        }
        g_assert_not_reached();
}

/* --- overlays ----------------------------------------------------------- */

static void test_overlay_create(Fixture *f, gconstpointer data) {
        Overlay *o;

        assert_refused(f, overlay_create(f->m, &f->alice, "Bad Name", L4M_OVERLAY_WORKSHOP, NULL, NULL, &f->problem), -EINVAL,
                       "Invalid overlay name \"Bad Name\"");
        assert_refused(f, overlay_create(f->m, &f->alice, "", L4M_OVERLAY_WORKSHOP, NULL, NULL, &f->problem), -EINVAL,
                       "Invalid overlay name");
        g_assert_cmpuint(g_hash_table_size(f->m->overlays_by_id), ==, 0);

        o = new_overlay(f, &f->alice, "maps", L4M_OVERLAY_WORKSHOP);
        g_assert_cmpstr(o->owner, ==, "alice");
        g_assert_cmpstr(o->state, ==, OVERLAY_STATE_EMPTY);
        /* Taken, whoever asks. */
        assert_refused(f, overlay_create(f->m, &f->bob_web, "maps", L4M_OVERLAY_SCRIPT, NULL, NULL, &f->problem), -EEXIST,
                       "Overlay \"maps\" already exists.");
}

/* CreateOverlay's settings: all checked before anything is made. */
static void test_overlay_create_settings(Fixture *f, gconstpointer data) {
        uint64_t items[] = { 104, 105 };
        g_autofree char *big = g_strnfill(OVERLAY_SCRIPT_MAX + 1, 'x');
        g_autofree char *script = NULL;
        Overlay *o = NULL;

        assert_refused(f, overlay_create(f->m, &f->alice, "ar", L4M_OVERLAY_ARCHIVE,
                                         &(OverlaySettings) { .items = items, .n_items = 2 }, NULL, &f->problem),
                       -EINVAL, "is only for Workshop overlays, and this one is an archive overlay.");
        assert_refused(f, overlay_create(f->m, &f->alice, "ws", L4M_OVERLAY_WORKSHOP,
                                         &(OverlaySettings) { .source_url = "https://example.org/a.zip" }, NULL,
                                         &f->problem),
                       -EINVAL, "is only for archive overlays");
        assert_refused(f, overlay_create(f->m, &f->alice, "ar", L4M_OVERLAY_ARCHIVE,
                                         &(OverlaySettings) { .source_url = "ftp://example.org/a.zip" }, NULL,
                                         &f->problem),
                       -EINVAL, "is not usable");
        assert_refused(f, overlay_create(f->m, &f->alice, "sc", L4M_OVERLAY_SCRIPT,
                                         &(OverlaySettings) { .script = big }, NULL, &f->problem),
                       -EINVAL, "at most 262144 are allowed");
        /* Nothing was made: no record, no directory. */
        g_assert_cmpuint(g_hash_table_size(f->m->overlays_by_id), ==, 0);
        g_assert_cmpint(faccessat(f->m->overlays_fd, "1", F_OK, AT_SYMLINK_NOFOLLOW), <, 0);

        g_assert_cmpint(overlay_create(f->m, &f->alice, "ws", L4M_OVERLAY_WORKSHOP,
                                       &(OverlaySettings) { .items = items, .n_items = 2 }, &o, &f->problem), ==, 0);
        g_assert_cmpuint(o->items->len, ==, 2);
        g_assert_cmpuint(g_array_index(o->items, uint64_t, 1), ==, 105);
        g_assert_cmpint(overlay_create(f->m, &f->alice, "ar", L4M_OVERLAY_ARCHIVE,
                                       &(OverlaySettings) { .source_url = "https://example.org/a.zip",
                                                            .source_checksum = "" }, &o, &f->problem), ==, 0);
        g_assert_cmpstr(o->source_url, ==, "https://example.org/a.zip");
        g_assert_cmpint(overlay_create(f->m, &f->alice, "sc", L4M_OVERLAY_SCRIPT,
                                       &(OverlaySettings) { .script = "echo hi" }, &o, &f->problem), ==, 0);
        g_assert_cmpuint(o->script_size, ==, 7);
        g_assert_cmpint(overlay_get_script(o, &script, &f->problem), ==, 0);
        g_assert_cmpstr(script, ==, "echo hi");
}

static void test_overlay_owner_cap(Fixture *f, gconstpointer data) {
        /* Rows the store would hold for someone at the limit. */
        for (unsigned k = 0; k < MANAGER_OVERLAYS_PER_OWNER_MAX; k++) {
                g_autofree char *name = g_strdup_printf("o%u", k);
                StoreOverlay row = { .id = 100000 + k, .name = name, .type = "archive", .owner = "alice",
                                     .state = OVERLAY_STATE_EMPTY };

                g_assert_cmpint(overlay_add(f->m, &row, NULL), ==, 0);
        }
        assert_refused(f, overlay_create(f->m, &f->alice, "one-more", L4M_OVERLAY_ARCHIVE, NULL, NULL, &f->problem), -EDQUOT,
                       "alice already owns 1000 overlays");
        /* The limit is per owner. */
        new_overlay(f, &f->bob_web, "bobs", L4M_OVERLAY_ARCHIVE);
}

static void test_overlay_delete_in_use(Fixture *f, gconstpointer data) {
        Overlay *o = new_overlay(f, &f->alice, "maps", L4M_OVERLAY_ARCHIVE);
        Overlay *other = new_overlay(f, &f->bob_web, "other", L4M_OVERLAY_ARCHIVE);
        Blueprint *b = new_blueprint(f, &f->alice, "coop", o);
        uint64_t id = o->id;

        /* Names only what the asker may see. */
        assert_refused(f, overlay_delete(o, &f->alice, &f->problem), -EBUSY,
                       "Overlay \"maps\" is used by blueprint(s) \"coop\".");
        assert_refused(f, overlay_delete(o, &f->bob_web, &f->problem), -EBUSY,
                       "is used by blueprint(s) of other users (1).");
        g_assert_true(g_hash_table_lookup(f->m->overlays_by_id, &id) == o);

        g_assert_cmpint(blueprint_set_overlays(b, &other->id, 1, &f->problem), ==, 0);
        g_assert_cmpint(overlay_delete(o, &f->alice, &f->problem), ==, 0);
        g_assert_null(g_hash_table_lookup(f->m->overlays_by_id, &id));
        g_assert_null(g_hash_table_lookup(f->m->overlays_by_name, "maps"));
}

static void test_overlay_mounted(Fixture *f, gconstpointer data) {
        Overlay *o = new_overlay(f, &f->alice, "maps", L4M_OVERLAY_ARCHIVE);
        Blueprint *b = new_blueprint(f, &f->alice, "coop", o);
        Instance *i;

        set_port_range(f);
        i = new_instance(f, &f->alice, "srv", b, 0);
        set_running(i);

        /* Lower layers do not change under a running server. */
        assert_refused(f, overlay_submit_job(o, &f->alice, &overlay_wipe_kind, overlay_wipe_new(o), NULL, &f->problem),
                       -EBUSY, "Overlay \"maps\" is in use by running instance(s) \"srv\"; stop them first.");
        assert_refused(f, overlay_check_unmounted(o, &f->bob_web, "is mounted by", &f->problem), -EBUSY,
                       "is mounted by running instance(s) of other users (1)");
        g_assert_null(manager_find_active_job_for(f->m, "overlay:1"));
}

static int idle_start(Job *j) {
        return 0;       /* runs until cancelled */
}

static void idle_cancel(Job *j) {
        job_finish(j, -ECANCELED, NULL);
}

static const JobKind idle_kind = {
        .name = "test-idle",
        .action = L4M_ACTION_OVERLAY_MANAGE,
        .start = idle_start,
        .cancel = idle_cancel,
        .free_data = g_free,
};

static void test_overlay_busy_with_job(Fixture *f, gconstpointer data) {
        Overlay *o = new_overlay(f, &f->alice, "maps", L4M_OVERLAY_ARCHIVE);
        g_autofree char *target = overlay_job_target(o);
        Job *j = NULL;

        g_assert_cmpint(job_submit(f->m, &idle_kind, target, "alice", g_new0(int, 1), &j), ==, 0);
        assert_refused(f, overlay_check_idle(o, &f->problem), -EBUSY, "Overlay \"maps\" has job 1 (test-idle) queued.");
        assert_refused(f, overlay_set_source(o, "https://example.org/a.zip", "", &f->problem), -EBUSY, "has job 1");
        assert_refused(f, overlay_delete(o, &f->alice, &f->problem), -EBUSY, "has job 1");
        assert_refused(f, overlay_submit_job(o, &f->alice, &overlay_wipe_kind, overlay_wipe_new(o), NULL, &f->problem),
                       -EBUSY, "has job 1");
        g_assert_cmpstr(o->source_url, ==, "");

        /* Cancelled while queued: at once; then there is nothing to cancel. */
        g_assert_cmpint(job_cancel(j, &f->problem), ==, 0);
        g_assert_cmpint(j->state, ==, JOB_CANCELLED);
        assert_refused(f, job_cancel(j, &f->problem), -EINVAL, "Job 1 has already cancelled.");
        g_assert_cmpint(overlay_check_idle(o, &f->problem), ==, 0);
}

static void test_overlay_setters(Fixture *f, gconstpointer data) {
        Overlay *w = new_overlay(f, &f->alice, "ws", L4M_OVERLAY_WORKSHOP);
        Overlay *a = new_overlay(f, &f->alice, "ar", L4M_OVERLAY_ARCHIVE);
        Overlay *s = new_overlay(f, &f->alice, "sc", L4M_OVERLAY_SCRIPT);
        g_autofree uint64_t *many = g_new0(uint64_t, OVERLAY_ITEMS_MAX + 1);
        g_autofree char *big = g_malloc(OVERLAY_SCRIPT_MAX + 2);
        g_autofree char *script = NULL;
        uint64_t items[] = { 123, 456 };

        /* Items: Workshop overlays only, at most OVERLAY_ITEMS_MAX. */
        assert_refused(f, overlay_set_items(a, items, 2, &f->problem), -EINVAL,
                       "Overlay \"ar\" is a archive overlay; only Workshop overlays have items.");
        assert_refused(f, overlay_set_items(w, many, OVERLAY_ITEMS_MAX + 1, &f->problem), -EINVAL, "Too many items");
        assert_refused(f, overlay_check_buildable(w, &f->problem), -EINVAL, "has no Workshop items yet");
        g_assert_cmpint(overlay_set_items(w, items, 2, &f->problem), ==, 0);
        g_assert_cmpuint(w->items->len, ==, 2);
        g_assert_cmpint(overlay_check_buildable(w, &f->problem), ==, 0);

        /* Sources: archive overlays, http(s) without credentials, checksums. */
        assert_refused(f, overlay_set_source(w, "https://example.org/a.zip", "", &f->problem), -EINVAL,
                       "only archive overlays have a source URL");
        assert_refused(f, overlay_set_source(a, "ftp://example.org/a.zip", "", &f->problem), -EINVAL, "is not usable: give an http");
        assert_refused(f, overlay_set_source(a, "https://user:pw@example.org/a.zip", "", &f->problem), -EINVAL,
                       "without a user name or password");
        assert_refused(f, overlay_set_source(a, "https://example.org/a b.zip", "", &f->problem), -EINVAL,
                       "is not usable: give an http");
        assert_refused(f, overlay_set_source(a, "https://example.org/a.zip", "md5:xyz", &f->problem), -EINVAL,
                       "The checksum \"md5:xyz\" is not usable");
        assert_refused(f, overlay_check_buildable(a, &f->problem), -EINVAL, "has no source address yet");
        g_assert_cmpstr(a->source_url, ==, "");
        g_assert_cmpint(overlay_set_source(a, "https://example.org/p/a.zip?x=@1",
                                           "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                                           &f->problem), ==, 0);
        g_assert_cmpstr(a->source_url, ==, "https://example.org/p/a.zip?x=@1");
        g_assert_cmpint(overlay_check_buildable(a, &f->problem), ==, 0);

        /* Scripts: script overlays, at most OVERLAY_SCRIPT_MAX bytes. */
        memset(big, 'x', OVERLAY_SCRIPT_MAX + 1);
        big[OVERLAY_SCRIPT_MAX + 1] = '\0';
        assert_refused(f, overlay_set_script(a, "echo", &f->problem), -EINVAL, "only script overlays have a script");
        assert_refused(f, overlay_set_script(s, big, &f->problem), -EINVAL, "The script has 262145 bytes");
        assert_refused(f, overlay_check_buildable(s, &f->problem), -EINVAL, "has no script yet");
        big[OVERLAY_SCRIPT_MAX] = '\0';
        g_assert_cmpint(overlay_set_script(s, big, &f->problem), ==, 0);
        g_assert_cmpuint(s->script_size, ==, OVERLAY_SCRIPT_MAX);
        assert_refused(f, overlay_get_script(a, &script, &f->problem), -EINVAL, "only script overlays have a script");
        g_assert_cmpint(overlay_get_script(s, &script, &f->problem), ==, 0);
        g_assert_cmpstr(script, ==, big);
        g_assert_cmpint(overlay_check_buildable(s, &f->problem), ==, 0);
}

/* --- blueprints --------------------------------------------------------- */

static void test_blueprint_create(Fixture *f, gconstpointer data) {
        Overlay *o = new_overlay(f, &f->alice, "maps", L4M_OVERLAY_ARCHIVE);
        char *no_args[] = { NULL };
        char *reserved[] = { (char *) "+hostport", (char *) "27020", NULL };
        char *blank[] = { (char *) "+map c1m1 ", NULL };
        char *shell[] = { (char *) "$(reboot)", NULL };
        g_autofree char *invalid_utf8 = g_strdup("hostname \xff");
        uint64_t gone = 4242;

        assert_refused(f, blueprint_create(f->m, &f->alice, "-x", &o->id, 1, "", no_args, NULL, &f->problem), -EINVAL,
                       "Invalid blueprint name");
        assert_refused(f, blueprint_create(f->m, &f->alice, "bp", &o->id, 0, "", no_args, NULL, &f->problem), -EINVAL,
                       "A blueprint needs at least one overlay.");
        assert_refused(f, blueprint_create(f->m, &f->alice, "bp", &gone, 1, "", no_args, NULL, &f->problem), -ENOENT,
                       "An overlay was deleted meanwhile.");
        assert_refused(f, blueprint_create(f->m, &f->alice, "bp", &o->id, 1, invalid_utf8, no_args, NULL, &f->problem),
                       -EINVAL, "ServerCfg must be valid UTF-8");
        assert_refused(f, blueprint_create(f->m, &f->alice, "bp", &o->id, 1, "", reserved, NULL, &f->problem), -EINVAL,
                       "Launch argument 1 \"+hostport\" is refused: left4me sets this argument itself.");
        assert_refused(f, blueprint_create(f->m, &f->alice, "bp", &o->id, 1, "", blank, NULL, &f->problem), -EINVAL,
                       "may not contain blanks");
        assert_refused(f, blueprint_create(f->m, &f->alice, "bp", &o->id, 1, "", shell, NULL, &f->problem), -EINVAL,
                       "may not contain any of");
        g_assert_cmpuint(g_hash_table_size(f->m->blueprints_by_id), ==, 0);

        new_blueprint(f, &f->alice, "bp", o);
        assert_refused(f, blueprint_create(f->m, &f->bob_web, "bp", &o->id, 1, "", no_args, NULL, &f->problem), -EEXIST,
                       "Blueprint \"bp\" already exists.");

        for (unsigned k = 0; k < MANAGER_BLUEPRINTS_PER_OWNER_MAX; k++) {
                g_autofree char *name = g_strdup_printf("b%u", k);
                StoreBlueprint row = { .id = 100000 + k, .name = name, .owner = "web:bob" };

                g_assert_cmpint(blueprint_add(f->m, &row, NULL), ==, 0);
        }
        assert_refused(f, blueprint_create(f->m, &f->bob_web, "more", &o->id, 1, "", no_args, NULL, &f->problem), -EDQUOT,
                       "web:bob already owns 1000 blueprints");
}

/* Update: every change is checked before any is made. */
static void test_blueprint_update(Fixture *f, gconstpointer data) {
        Overlay *o = new_overlay(f, &f->alice, "maps", L4M_OVERLAY_ARCHIVE);
        Overlay *o2 = new_overlay(f, &f->alice, "mods", L4M_OVERLAY_ARCHIVE);
        Blueprint *b = new_blueprint(f, &f->alice, "coop", o);
        uint64_t both[] = { o2->id, o->id }, gone = 4242;
        char *good[] = { (char *) "+sv_lan", (char *) "1", NULL };
        char *bad[] = { (char *) "+hostport", (char *) "27020", NULL };

        assert_refused(f, blueprint_update(b, &(BlueprintChanges) {
                                       .overlay_ids = both, .n_overlays = 2, .server_cfg = "sv_cheats 0",
                                       .launch_args = bad,
                               }, &f->problem),
                       -EINVAL, "left4me sets this argument itself");
        assert_refused(f, blueprint_update(b, &(BlueprintChanges) {
                                       .overlay_ids = &gone, .n_overlays = 1, .launch_args = good,
                               }, &f->problem),
                       -ENOENT, "An overlay was deleted meanwhile.");
        /* Nothing changed, in memory nor in the store. */
        g_assert_cmpuint(b->overlays->len, ==, 1);
        g_assert_cmpstr(b->server_cfg, ==, "");
        g_assert_cmpuint(g_strv_length(b->launch_args), ==, 0);

        g_assert_cmpint(blueprint_update(b, &(BlueprintChanges) { NULL }, &f->problem), ==, 0);
        g_assert_cmpint(blueprint_update(b, &(BlueprintChanges) {
                                .overlay_ids = both, .n_overlays = 2, .server_cfg = "sv_cheats 0", .launch_args = good,
                        }, &f->problem), ==, 0);
        g_assert_cmpuint(b->overlays->len, ==, 2);
        g_assert_cmpuint(g_array_index(b->overlays, uint64_t, 0), ==, o2->id);
        g_assert_cmpstr(b->server_cfg, ==, "sv_cheats 0");
        g_assert_cmpstr(b->launch_args[1], ==, "1");

        /* and the store agrees after a restart */
        g_clear_pointer(&f->m, manager_free);
        g_assert_cmpint(manager_new(f->state, f->state, &f->m), ==, 0);
        g_assert_cmpint(manager_load(f->m), ==, 0);
        b = g_hash_table_lookup(f->m->blueprints_by_name, "coop");
        g_assert_nonnull(b);
        g_assert_cmpuint(b->overlays->len, ==, 2);
        g_assert_cmpstr(b->server_cfg, ==, "sv_cheats 0");
        g_assert_cmpuint(g_strv_length(b->launch_args), ==, 2);
}

static void test_blueprint_delete_and_setters(Fixture *f, gconstpointer data) {
        Overlay *o = new_overlay(f, &f->alice, "maps", L4M_OVERLAY_ARCHIVE);
        Blueprint *b = new_blueprint(f, &f->alice, "coop", o);
        g_autofree uint64_t *many = g_new0(uint64_t, BLUEPRINT_OVERLAYS_MAX + 1);
        g_autofree char *cfg = g_malloc0(BLUEPRINT_SERVER_CFG_MAX + 2);
        char *args[] = { (char *) "-tickrate", (char *) "100", NULL };
        char *bad[] = { (char *) "-game", (char *) "x", NULL };
        uint64_t gone = 4242, id = b->id, twice[] = { o->id, o->id };
        Instance *i;

        assert_refused(f, blueprint_set_overlays(b, many, BLUEPRINT_OVERLAYS_MAX + 1, &f->problem), -EINVAL,
                       "Too many overlays (257)");
        assert_refused(f, blueprint_set_overlays(b, &gone, 1, &f->problem), -ENOENT, "An overlay was deleted meanwhile.");
        assert_refused(f, blueprint_set_overlays(b, twice, 2, &f->problem), -EINVAL,
                       "Overlay \"maps\" is listed more than once.");
        memset(cfg, 'x', BLUEPRINT_SERVER_CFG_MAX + 1);
        assert_refused(f, blueprint_set_server_cfg(b, cfg, &f->problem), -EINVAL, "(it has 65537 bytes)");
        assert_refused(f, blueprint_set_launch_args(b, bad, &f->problem), -EINVAL, "Launch argument 1 \"-game\"");
        g_assert_cmpstr(b->server_cfg, ==, "");
        g_assert_cmpint(blueprint_set_server_cfg(b, "sv_cheats 0\n", &f->problem), ==, 0);
        g_assert_cmpint(blueprint_set_launch_args(b, args, &f->problem), ==, 0);
        g_assert_cmpstr(b->server_cfg, ==, "sv_cheats 0\n");
        g_assert_cmpstr(b->launch_args[1], ==, "100");

        set_port_range(f);
        i = new_instance(f, &f->alice, "srv", b, 0);
        assert_refused(f, blueprint_delete(b, &f->alice, &f->problem), -EBUSY,
                       "Blueprint \"coop\" is used by instance(s) \"srv\".");
        assert_refused(f, blueprint_delete(b, &f->bob_web, &f->problem), -EBUSY,
                       "is used by instance(s) of other users (1).");
        g_assert_cmpint(instance_delete(i, &f->problem), ==, 0);
        g_assert_cmpint(blueprint_delete(b, &f->alice, &f->problem), ==, 0);
        g_assert_null(g_hash_table_lookup(f->m->blueprints_by_id, &id));
}

/* --- instances ---------------------------------------------------------- */

static void test_instance_create(Fixture *f, gconstpointer data) {
        Overlay *o = new_overlay(f, &f->alice, "maps", L4M_OVERLAY_ARCHIVE);
        Blueprint *b = new_blueprint(f, &f->alice, "coop", o);
        uint16_t base = set_port_range(f);
        InstanceSettings s = { .max_players = 8 };
        Instance *i;

        assert_refused(f, instance_create(f->m, &f->alice, "Srv", b, &s, NULL, &f->problem), -EINVAL,
                       "Invalid instance name \"Srv\"");
        s.hostname = "a \"quoted\" name";
        assert_refused(f, instance_create(f->m, &f->alice, "srv", b, &s, NULL, &f->problem), -EINVAL,
                       "Hostname refused: a hostname may not contain '\"' or ';'.");
        s.hostname = NULL;
        s.map = "c1m1 hotel";
        assert_refused(f, instance_create(f->m, &f->alice, "srv", b, &s, NULL, &f->problem), -EINVAL,
                       "Invalid map name \"c1m1 hotel\"");
        s.map = NULL;
        s.max_players = 33;
        assert_refused(f, instance_create(f->m, &f->alice, "srv", b, &s, NULL, &f->problem), -EINVAL,
                       "A player limit is 1 to 32, not 33.");
        s.max_players = 8;
        s.port = base + 3;
        assert_refused(f, instance_create(f->m, &f->alice, "srv", b, &s, NULL, &f->problem), -EINVAL,
                       "is not available to game servers");
        g_assert_cmpuint(g_hash_table_size(f->m->instances_by_id), ==, 0);

        /* The lowest free port; the hostname is the name by default. */
        i = new_instance(f, &f->alice, "srv", b, 0);
        g_assert_cmpuint(i->port, ==, base);
        g_assert_cmpstr(i->hostname, ==, "srv");
        g_assert_cmpstr(i->state, ==, INSTANCE_STATE_STOPPED);
        assert_refused(f, instance_create(f->m, &f->alice, "srv", b, &s, NULL, &f->problem), -EEXIST,
                       "Instance \"srv\" already exists.");

        /* A port an instance has: named to whom may see it. */
        s.port = base;
        assert_refused(f, instance_create(f->m, &f->alice, "srv2", b, &s, NULL, &f->problem), -EADDRINUSE,
                       "is in use by instance \"srv\".");
        assert_refused(f, instance_create(f->m, &f->bob_web, "srv2", b, &s, NULL, &f->problem), -EADDRINUSE,
                       "is in use by an instance of another user.");
}

static void test_instance_ports(Fixture *f, gconstpointer data) {
        Overlay *o = new_overlay(f, &f->alice, "maps", L4M_OVERLAY_ARCHIVE);
        Blueprint *b = new_blueprint(f, &f->alice, "coop", o);
        uint16_t base = set_port_range(f);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY), .sin_port = htons(base + 1) };
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        InstanceSettings s = { .port = base + 1, .max_players = 8 };

        /* Something else on the host holds base + 1 (UDP). */
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(bind(fd, (struct sockaddr *) &a, sizeof a), ==, 0);
        assert_refused(f, instance_create(f->m, &f->alice, "held", b, &s, NULL, &f->problem), -EADDRINUSE,
                       "is in use on this host (UDP or TCP).");

        /* Assignment passes it by; then the range is full. */
        g_assert_cmpuint(new_instance(f, &f->alice, "one", b, 0)->port, ==, base);
        g_assert_cmpuint(new_instance(f, &f->alice, "two", b, 0)->port, ==, base + 2);
        assert_refused(f, instance_create(f->m, &f->alice, "three", b, &(InstanceSettings) { .max_players = 8 }, NULL,
                                          &f->problem), -EADDRINUSE, "is free.");
}

static void test_instance_owner_cap(Fixture *f, gconstpointer data) {
        Overlay *o = new_overlay(f, &f->alice, "maps", L4M_OVERLAY_ARCHIVE);
        Blueprint *b = new_blueprint(f, &f->alice, "coop", o);

        set_port_range(f);
        for (unsigned k = 0; k < MANAGER_INSTANCES_PER_OWNER_MAX; k++) {
                g_autofree char *name = g_strdup_printf("i%u", k);
                StoreInstance row = { .id = 100000 + k, .name = name, .owner = "alice", .blueprint_id = b->id,
                                      .rcon_password = "x" };

                g_assert_cmpint(instance_add(f->m, &row, NULL), ==, 0);
        }
        assert_refused(f, instance_create(f->m, &f->alice, "more", b, &(InstanceSettings) { .max_players = 8 }, NULL,
                                          &f->problem), -EDQUOT, "alice already owns 100 instances");
}

static void test_instance_delete(Fixture *f, gconstpointer data) {
        Overlay *o = new_overlay(f, &f->alice, "maps", L4M_OVERLAY_ARCHIVE);
        Blueprint *b = new_blueprint(f, &f->alice, "coop", o);
        StoreInstance row = { .id = 900, .name = "loaded", .owner = "alice", .blueprint_id = b->id, .rcon_password = "x" };
        Instance *i, *loaded;

        set_port_range(f);
        i = new_instance(f, &f->alice, "srv", b, 0);
        set_running(i);
        assert_refused(f, instance_delete(i, &f->problem), -EBUSY, "Instance \"srv\" is running; stop it first.");

        /* Loaded from the store, before systemd said how its unit is. */
        g_assert_cmpint(instance_add(f->m, &row, &loaded), ==, 0);
        assert_refused(f, instance_delete(loaded, &f->problem), -EBUSY,
                       "The state of instance \"loaded\" is not known yet; try again.");

        i->unit_exists = false;
        g_free(i->state);
        i->state = g_strdup(INSTANCE_STATE_STOPPED);
        g_assert_cmpint(instance_delete(i, &f->problem), ==, 0);
        g_assert_null(g_hash_table_lookup(f->m->instances_by_name, "srv"));
}

static void test_instance_setters(Fixture *f, gconstpointer data) {
        Overlay *o = new_overlay(f, &f->alice, "maps", L4M_OVERLAY_ARCHIVE);
        Blueprint *b = new_blueprint(f, &f->alice, "coop", o);
        Blueprint *b2 = new_blueprint(f, &f->alice, "versus", o);
        g_autofree char *long_name = g_strnfill(INSTANCE_HOSTNAME_MAX + 1, 'h');
        Instance *i;

        set_port_range(f);
        i = new_instance(f, &f->alice, "srv", b, 0);
        assert_refused(f, instance_set_hostname(i, long_name, &f->problem), -EINVAL, "at most 64 bytes");
        assert_refused(f, instance_set_hostname(i, "tab\there", &f->problem), -EINVAL, "control characters");
        assert_refused(f, instance_set_start_map(i, "../c1m1", &f->problem), -EINVAL, "Invalid map name");
        assert_refused(f, instance_set_player_limit(i, 0, &f->problem), -EINVAL, "not 0");
        g_assert_cmpstr(i->hostname, ==, "srv");

        g_assert_cmpint(instance_set_hostname(i, "Friday night", &f->problem), ==, 0);
        g_assert_cmpint(instance_set_start_map(i, "", &f->problem), ==, 0);
        g_assert_cmpint(instance_set_player_limit(i, 4, &f->problem), ==, 0);
        g_assert_cmpint(instance_set_blueprint(i, b2, &f->problem), ==, 0);
        g_assert_cmpstr(i->hostname, ==, "Friday night");
        g_assert_cmpuint(i->max_players, ==, 4);
        g_assert_cmpuint(i->blueprint_id, ==, b2->id);
        /* b is free now. */
        g_assert_cmpint(blueprint_delete(b, &f->alice, &f->problem), ==, 0);
}

/* A request that sets only limit k to v. */
static InstanceLimits limits_req(InstanceLimit k, uint64_t v) {
        InstanceLimits req;

        instance_limits_unchanged(&req);
        *instance_limits_field(&req, k) = v;
        return req;
}

static void assert_limits(const Instance *i, uint64_t cpu, uint64_t mem, uint64_t tasks, uint64_t disk) {
        InstanceLimits l;

        g_assert_cmpint(instance_effective_limits(i, &l), ==, 0);
        g_assert_cmpuint(l.cpu_quota_percent, ==, cpu);
        g_assert_cmpuint(l.memory_max, ==, mem);
        g_assert_cmpuint(l.tasks_max, ==, tasks);
        g_assert_cmpuint(l.disk_max, ==, disk);
}

static void test_instance_limits(Fixture *f, gconstpointer data) {
        const uint64_t G = UINT64_C(1) << 30, M = UINT64_C(1) << 20;
        Overlay *o = new_overlay(f, &f->alice, "maps", L4M_OVERLAY_ARCHIVE);
        Blueprint *b = new_blueprint(f, &f->alice, "coop", o);
        InstanceLimits req;
        Instance *i;

        set_port_range(f);
        i = new_instance(f, &f->alice, "srv", b, 0);

        /* A new instance follows the defaults: one CPU, 2G, 256 tasks, 4G. */
        for (int k = 0; k < _INSTANCE_LIMIT_N; k++)
                g_assert_true(instance_limit_is_default(i, k));
        assert_limits(i, 100, 2 * G, 256, 4 * G);

        /* The owner: any value up to the ceiling (8G is MaxMemoryMax), several at once. */
        instance_limits_unchanged(&req);
        req.cpu_quota_percent = 200;
        req.memory_max = 8 * G;
        req.tasks_max = 64;
        g_assert_false(instance_limits_pass_ceiling(f->m, &req));
        g_assert_cmpint(instance_set_limits(i, &req, false, &f->problem), ==, 0);
        assert_limits(i, 200, 8 * G, 64, 4 * G);
        g_assert_false(instance_limit_is_default(i, INSTANCE_LIMIT_MEMORY_MAX));
        g_assert_true(instance_limit_is_default(i, INSTANCE_LIMIT_DISK_MAX));

        /* Above a ceiling: only an admin; nothing of the request is applied. */
        req = limits_req(INSTANCE_LIMIT_TASKS_MAX, 32);
        req.memory_max = 8 * G + 1;
        g_assert_true(instance_limits_pass_ceiling(f->m, &req));
        assert_refused(f, instance_set_limits(i, &req, false, &f->problem), -EPERM, "MaxMemoryMax");
        req = limits_req(INSTANCE_LIMIT_CPU_QUOTA, INSTANCE_LIMIT_INFINITY);
        g_assert_true(instance_limits_pass_ceiling(f->m, &req));
        assert_refused(f, instance_set_limits(i, &req, false, &f->problem), -EPERM, "only an admin");
        assert_limits(i, 200, 8 * G, 64, 4 * G);

        /* An admin passes them. */
        req = limits_req(INSTANCE_LIMIT_CPU_QUOTA, INSTANCE_LIMIT_INFINITY);
        req.disk_max = 100 * G;
        g_assert_cmpint(instance_set_limits(i, &req, true, &f->problem), ==, 0);
        assert_limits(i, INSTANCE_LIMIT_INFINITY, 8 * G, 64, 100 * G);

        /* Invalid values: -EINVAL, for an admin too, and nothing changed. */
        req = limits_req(INSTANCE_LIMIT_TASKS_MAX, 32);
        req.memory_max = 1024;
        assert_refused(f, instance_set_limits(i, &req, true, &f->problem), -EINVAL, "memory_max is 32M to 1T");
        assert_refused(f, instance_set_limits(i, (req = limits_req(INSTANCE_LIMIT_TASKS_MAX, 7), &req), true,
                                              &f->problem), -EINVAL, "tasks_max is 8 to 1000000");
        assert_refused(f, instance_set_limits(i, (req = limits_req(INSTANCE_LIMIT_CPU_QUOTA, 100001), &req), true,
                                              &f->problem), -EINVAL, "cpu_quota is 1% to 100000%");
        assert_refused(f, instance_set_limits(i, (req = limits_req(INSTANCE_LIMIT_DISK_MAX, 15 * M), &req), true,
                                              &f->problem), -EINVAL, "disk_max is 16M to 16T");
        assert_limits(i, INSTANCE_LIMIT_INFINITY, 8 * G, 64, 100 * G);

        /* With no ceiling the owner may ask for infinity. */
        f->m->config->instance_max_tasks_max = UINT64_MAX;
        req = limits_req(INSTANCE_LIMIT_TASKS_MAX, INSTANCE_LIMIT_INFINITY);
        g_assert_false(instance_limits_pass_ceiling(f->m, &req));
        g_assert_cmpint(instance_set_limits(i, &req, false, &f->problem), ==, 0);
        assert_limits(i, INSTANCE_LIMIT_INFINITY, 8 * G, INSTANCE_LIMIT_INFINITY, 100 * G);

        /* "default" is never above a ceiling and follows the defaults in force. */
        req = limits_req(INSTANCE_LIMIT_MEMORY_MAX, INSTANCE_LIMIT_DEFAULT);
        g_assert_false(instance_limits_pass_ceiling(f->m, &req));
        g_assert_cmpint(instance_set_limits(i, &req, false, &f->problem), ==, 0);
        g_assert_true(instance_limit_is_default(i, INSTANCE_LIMIT_MEMORY_MAX));
        assert_limits(i, INSTANCE_LIMIT_INFINITY, 2 * G, INSTANCE_LIMIT_INFINITY, 100 * G);
        f->m->config->instance_default_memory_max = 3 * G;
        assert_limits(i, INSTANCE_LIMIT_INFINITY, 3 * G, INSTANCE_LIMIT_INFINITY, 100 * G);

        /* Stored: values, infinity and default come back as they were set. */
        g_clear_pointer(&f->m, manager_free);
        g_assert_cmpint(manager_new(f->state, f->state, &f->m), ==, 0);
        g_assert_cmpint(manager_load(f->m), ==, 0);
        i = g_hash_table_lookup(f->m->instances_by_name, "srv");
        g_assert_nonnull(i);
        g_assert_cmpuint(i->limits.cpu_quota_percent, ==, INSTANCE_LIMIT_INFINITY);
        g_assert_cmpuint(i->limits.memory_max, ==, INSTANCE_LIMIT_DEFAULT);
        g_assert_cmpuint(i->limits.tasks_max, ==, INSTANCE_LIMIT_INFINITY);
        g_assert_cmpuint(i->limits.disk_max, ==, 100 * G);
        assert_limits(i, INSTANCE_LIMIT_INFINITY, 2 * G, INSTANCE_LIMIT_INFINITY, 100 * G);
}

static void never_done(Instance *i, int r, const char *text, void *userdata) {
        g_assert_not_reached();
}

static void test_instance_start_and_command(Fixture *f, gconstpointer data) {
        Overlay *o = new_overlay(f, &f->alice, "maps", L4M_OVERLAY_ARCHIVE);
        Blueprint *b = new_blueprint(f, &f->alice, "coop", o);
        Instance *i;

        set_port_range(f);
        i = new_instance(f, &f->alice, "srv", b, 0);
        assert_refused(f, instance_start(i, NULL, NULL, &f->problem), -EBUSY,
                       "Overlay \"maps\" of blueprint \"coop\" has never been built.");
        o->last_build = 1;
        /* The state directory has no installation. */
        assert_refused(f, instance_start(i, NULL, NULL, &f->problem), -ENOEXEC, "The game is not installed");

        assert_refused(f, instance_send_command(i, "status\nquit", never_done, NULL,
                                                &f->problem), -EINVAL, "Command refused: a command is one line.");
        assert_refused(f, instance_send_command(i, "status", never_done, NULL, &f->problem),
                       -EBUSY, "Instance \"srv\" is not running (stopped).");
}

typedef struct CommandResult {
        bool done;
        int r;
        char *text;
} CommandResult;

static void command_done(Instance *i, int r, const char *text, void *userdata) {
        CommandResult *c = userdata;

        c->done = true;
        c->r = r;
        c->text = g_strdup(text);
}

/* A failed command reaches whoever waits with its reason. */
static void test_instance_command_fails(Fixture *f, gconstpointer data) {
        Overlay *o = new_overlay(f, &f->alice, "maps", L4M_OVERLAY_ARCHIVE);
        Blueprint *b = new_blueprint(f, &f->alice, "coop", o);
        CommandResult c = { 0 };
        Instance *i;

        set_port_range(f);
        i = new_instance(f, &f->alice, "srv", b, 0);
        set_running(i);
        /* Nothing listens on its port: RCON cannot connect. */
        g_assert_cmpint(instance_send_command(i, "status", command_done, &c, &f->problem), ==, 1);
        for (unsigned k = 0; k < 200 && !c.done; k++)
                g_assert_cmpint(sd_event_run(f->m->event, 100 * 1000), >=, 0);
        g_assert_true(c.done);
        g_assert_cmpint(c.r, ==, -EIO);
        g_assert_nonnull(c.text);
        g_assert_true(g_str_has_prefix(c.text, "RCON failed: "));
        g_free(c.text);
}

/* --- overlay export --------------------------------------------------------- */

/* "path type mode size target-or-sha256" of every entry below dir, sorted. */
static void list_tree(GPtrArray *lines, const char *root, const char *rel) {
        g_autofree char *dir = g_build_filename(root, rel, NULL);
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *name;

        g_assert_nonnull(d);
        while ((name = g_dir_read_name(d))) {
                g_autofree char *path = g_build_filename(dir, name, NULL);
                g_autofree char *sub = *rel ? g_build_filename(rel, name, NULL) : g_strdup(name);
                g_autofree char *what = NULL;
                struct stat st;

                g_assert_cmpint(lstat(path, &st), ==, 0);
                if (S_ISLNK(st.st_mode))
                        what = g_file_read_link(path, NULL);
                else if (S_ISREG(st.st_mode)) {
                        g_autofree char *data = NULL;
                        gsize len;

                        g_assert_true(g_file_get_contents(path, &data, &len, NULL));
                        what = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *) data, len);
                } else
                        what = g_strdup("-");
                g_ptr_array_add(lines, g_strdup_printf("%s %c %o %jd %s", sub, S_ISDIR(st.st_mode) ? 'd' :
                                                       S_ISLNK(st.st_mode) ? 'l' : S_ISREG(st.st_mode) ? 'f' : '?',
                                                       (unsigned) (st.st_mode & 07777),
                                                       S_ISREG(st.st_mode) ? (intmax_t) st.st_size : (intmax_t) 0, what));
                if (S_ISDIR(st.st_mode))
                        list_tree(lines, root, sub);
        }
}

static int compare_lines(gconstpointer a, gconstpointer b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static char *tree_text(const char *root) {
        g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);

        list_tree(lines, root, "");
        g_ptr_array_sort(lines, compare_lines);
        g_ptr_array_add(lines, NULL);
        return g_strjoinv("\n", (char **) lines->pdata);
}

static void run_until_no_exports(Fixture *f, Overlay *o) {
        for (unsigned k = 0; k < 300 && overlay_exports_count(f->m, o->id) > 0; k++)
                g_assert_cmpint(sd_event_run(f->m->event, 100 * 1000), >=, 0);
        g_assert_cmpuint(overlay_exports_count(f->m, o->id), ==, 0);
}

/* An archive overlay's tree comes back from its export through the
 * importer's extractor as it was: names, modes, symlinks, contents; a fifo
 * is left out. While the stream is in flight the overlay takes no change. */
static void test_overlay_export(Fixture *f, gconstpointer data) {
        Overlay *o = new_overlay(f, &f->alice, "maps", L4M_OVERLAY_ARCHIVE);
        Overlay *ws = new_overlay(f, &f->alice, "ws", L4M_OVERLAY_WORKSHOP);
        g_autofree char *src = g_strdup_printf("%s/overlays/%" G_GUINT64_FORMAT, f->state, o->id);
        g_autofree char *dest = g_build_filename(f->state, "exported", NULL);
        g_autofree char *big = g_malloc(1 << 20), *before = NULL, *after = NULL, *message = NULL;
        g_autofree char *fifo = g_build_filename(src, "left4dead2", "fifo", NULL);
        _cleanup_close_ int fd = -1, dest_fd = -1;
        int held[OVERLAY_EXPORTS_PER_CLIENT_MAX], extra = -1;

        for (size_t k = 0; k < (1u << 20); k++)
                big[k] = (char) g_random_int();
        g_assert_cmpint(g_mkdir_with_parents(g_build_filename(src, "left4dead2", "addons", "sub", NULL), 0755), ==, 0);
        g_assert_true(g_file_set_contents(g_build_filename(src, "left4dead2", "addons", "big.vpk", NULL), big, 1 << 20, NULL));
        g_assert_true(g_file_set_contents(g_build_filename(src, "left4dead2", "addons", "sub", "run.sh", NULL), "x\n", 2, NULL));
        g_assert_cmpint(chmod(g_build_filename(src, "left4dead2", "addons", "sub", "run.sh", NULL), 0755), ==, 0);
        g_assert_true(g_file_set_contents(g_build_filename(src, "left4dead2", "Карта ü.txt", NULL), "", 0, NULL));
        g_assert_cmpint(symlink("../big.vpk", g_build_filename(src, "left4dead2", "addons", "sub", "link.vpk", NULL)), ==, 0);
        g_assert_cmpint(symlink("addons/sub", g_build_filename(src, "left4dead2", "dirlink", NULL)), ==, 0);
        g_assert_cmpint(mkfifo(fifo, 0644), ==, 0);

        assert_refused(f, overlay_export_start(ws, &f->alice, &fd, &f->problem), -EINVAL, "rebuilt from Steam");

        g_clear_pointer(&f->problem, g_free);
        g_assert_cmpint(overlay_export_start(o, &f->alice, &fd, &f->problem), ==, 0);
        assert_refused(f, overlay_check_idle(o, &f->problem), -EBUSY, "Overlay \"maps\" is being exported (1 stream).");
        assert_refused(f, overlay_delete(o, &f->alice, &f->problem), -EBUSY, "is being exported");
        assert_refused(f, overlay_submit_job(o, &f->alice, &overlay_wipe_kind, overlay_wipe_new(o), NULL, &f->problem),
                       -EBUSY, "is being exported");

        g_assert_cmpint(mkdir(dest, 0755), ==, 0);
        dest_fd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        g_assert_cmpint(dest_fd, >=, 0);
        g_assert_cmpint(archive_extract(fd, dest_fd, NULL, NULL, NULL, NULL, &message), ==, 0);
        g_assert_cmpint(unlink(fifo), ==, 0);
        before = tree_text(src);
        after = tree_text(dest);
        g_assert_cmpstr(before, ==, after);
        run_until_no_exports(f, o);
        g_assert_cmpint(overlay_check_idle(o, &f->problem), ==, 0);

        /* At most OVERLAY_EXPORTS_PER_CLIENT_MAX per principal; readers
         * that go away end theirs. */
        for (unsigned k = 0; k < OVERLAY_EXPORTS_PER_CLIENT_MAX; k++)
                g_assert_cmpint(overlay_export_start(o, &f->alice, &held[k], &f->problem), ==, 0);
        assert_refused(f, overlay_export_start(o, &f->alice, &extra, &f->problem), -EBUSY, "at most 4 per caller");
        g_assert_cmpint(overlay_export_start(o, &f->bob_web, &extra, &f->problem), ==, 0);
        for (unsigned k = 0; k < OVERLAY_EXPORTS_PER_CLIENT_MAX; k++)
                close(held[k]);
        close(extra);
        run_until_no_exports(f, o);
}

/* --- the Workshop cache and the game -------------------------------------- */

static void test_cache_and_game(Fixture *f, gconstpointer data) {
        uint64_t files = 7, bytes = 7;
        Job *j = NULL;

        g_assert_cmpint(workshop_cache_prune(f->m, &files, &bytes, &f->problem), ==, 0);
        g_assert_cmpuint(files, ==, 0);
        assert_refused(f, game_install_submit(f->m, &f->alice, true, false, false, NULL, &f->problem), -ENOENT,
                       "The game is not installed");
        g_assert_cmpint(job_submit(f->m, &idle_kind, GAME_JOB_TARGET, "alice", g_new0(int, 1), &j), ==, 0);
        assert_refused(f, game_install_submit(f->m, &f->alice, false, false, false, NULL, &f->problem), -EBUSY,
                       "A game install or update is queued or running already.");
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        /* As left4med: a reader gone is EPIPE for an export's thread. */
        (void) signal(SIGPIPE, SIG_IGN);
#define ADD(path, fn) g_test_add("/engine-rules/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
        ADD("overlay/create", test_overlay_create);
        ADD("overlay/create-settings", test_overlay_create_settings);
        ADD("overlay/owner-cap", test_overlay_owner_cap);
        ADD("overlay/delete-in-use", test_overlay_delete_in_use);
        ADD("overlay/mounted", test_overlay_mounted);
        ADD("overlay/busy-with-job", test_overlay_busy_with_job);
        ADD("overlay/setters", test_overlay_setters);
        ADD("blueprint/create", test_blueprint_create);
        ADD("blueprint/delete-and-setters", test_blueprint_delete_and_setters);
        ADD("blueprint/update", test_blueprint_update);
        ADD("instance/create", test_instance_create);
        ADD("instance/ports", test_instance_ports);
        ADD("instance/owner-cap", test_instance_owner_cap);
        ADD("instance/delete", test_instance_delete);
        ADD("instance/setters", test_instance_setters);
        ADD("instance/limits", test_instance_limits);
        ADD("instance/start-and-command", test_instance_start_and_command);
        ADD("instance/command-fails", test_instance_command_fails);
        ADD("overlay/export", test_overlay_export);
        ADD("cache-and-game", test_cache_and_game);
        return g_test_run();
}
