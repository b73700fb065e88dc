/* SPDX-License-Identifier: GPL-2.0-or-later */
/* [Overlays] OwnerMaxBytes=: how an owner's storage use is counted (a
 * Workshop cache file once per owner, archive and script content fully)
 * and what a Workshop build's check says, on a Manager over a temporary
 * state directory. Enforcement against the real daemon: test-37. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "actor.h"
#include "fs-util.h"
#include "l4m-util.h"
#include "manager.h"
#include "overlay.h"
#include "owner-quota.h"
#include "store.h"

typedef struct Fixture {
        char *state;
        Manager *m;
        Actor alice, bob;
        char *problem;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;

        f->state = g_dir_make_tmp("l4m-quota-XXXXXX", &error);
        g_assert_no_error(error);
        g_assert_cmpint(manager_new(f->state, f->state, &f->m), ==, 0);
        g_assert_cmpint(manager_load(f->m), ==, 0);
        actor_init_local(&f->alice, "alice");
        actor_init_local(&f->bob, "bob");
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
        _cleanup_close_ int fd = open(g_get_tmp_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        g_autofree char *base = g_path_get_basename(f->state);

        g_clear_pointer(&f->m, manager_free);
        g_assert_cmpint(rm_rf_at(fd, base), ==, 0);
        actor_done(&f->alice);
        actor_done(&f->bob);
        g_free(f->problem);
        g_free(f->state);
}

static Overlay *new_overlay(Fixture *f, const Actor *a, const char *name, L4mOverlayType type) {
        Overlay *o = NULL;

        g_assert_cmpint(overlay_create(f->m, a, name, type, NULL, &o, &f->problem), ==, 0);
        return o;
}

#define LINK(id, time, bytes) ((StoreWorkshopLink) { .published_id = (id), .time_updated = (time), .size = (bytes) })

/* What a Workshop build leaves: its links and, as Size, their sum. */
static void set_links(Fixture *f, Overlay *o, const StoreWorkshopLink *links, size_t n) {
        uint64_t sum = 0;

        g_assert_cmpint(store_workshop_links_set(f->m->db, o->id, links, n), ==, 0);
        for (size_t i = 0; i < n; i++)
                sum += links[i].size;
        overlay_set_state(o, OVERLAY_STATE_READY, 1, sum);
}

static uint64_t usage(Fixture *f, const char *owner, uint64_t exclude) {
        uint64_t n = UINT64_MAX;

        g_assert_cmpint(owner_quota_usage(f->m, owner, exclude, &n), ==, 0);
        return n;
}

/* alice: ws1 and ws2 both link the shared file (100) and one of their
 * own (5, 7); an archive overlay of 1000 and a script overlay of 30. bob:
 * one Workshop overlay linking the shared file too. */
static void populate(Fixture *f, Overlay **ret_ws1, Overlay **ret_maps) {
        Overlay *ws1 = new_overlay(f, &f->alice, "ws1", L4M_OVERLAY_WORKSHOP);
        Overlay *ws2 = new_overlay(f, &f->alice, "ws2", L4M_OVERLAY_WORKSHOP);
        Overlay *maps = new_overlay(f, &f->alice, "maps", L4M_OVERLAY_ARCHIVE);
        Overlay *sync = new_overlay(f, &f->alice, "sync", L4M_OVERLAY_SCRIPT);
        Overlay *bws = new_overlay(f, &f->bob, "bws", L4M_OVERLAY_WORKSHOP);

        set_links(f, ws1, (StoreWorkshopLink[]) { LINK(1, 10, 100), LINK(2, 20, 5) }, 2);
        set_links(f, ws2, (StoreWorkshopLink[]) { LINK(1, 10, 100), LINK(3, 30, 7) }, 2);
        set_links(f, bws, (StoreWorkshopLink[]) { LINK(1, 10, 100) }, 1);
        overlay_set_state(maps, OVERLAY_STATE_READY, 1, 1000);
        overlay_set_state(sync, OVERLAY_STATE_READY, 1, 30);
        if (ret_ws1)
                *ret_ws1 = ws1;
        if (ret_maps)
                *ret_maps = maps;
}

static void test_shared_file_once_per_owner(Fixture *f, gconstpointer data) {
        Overlay *ws1, *maps;

        populate(f, &ws1, &maps);
        /* The shared file once for alice, although two overlays link it. */
        g_assert_cmpuint(usage(f, "alice", 0), ==, 100 + 5 + 7 + 1000 + 30);
        /* ... and once for bob, who links it too. */
        g_assert_cmpuint(usage(f, "bob", 0), ==, 100);
        g_assert_cmpuint(usage(f, "carol", 0), ==, 0);
        /* Without ws1 the shared file still counts: ws2 links it. */
        g_assert_cmpuint(usage(f, "alice", ws1->id), ==, 100 + 7 + 1000 + 30);
        /* Without the archive overlay, its content is out. */
        g_assert_cmpuint(usage(f, "alice", maps->id), ==, 100 + 5 + 7 + 30);
}

static void test_version_counts_apart(Fixture *f, gconstpointer data) {
        Overlay *a = new_overlay(f, &f->alice, "old", L4M_OVERLAY_WORKSHOP);
        Overlay *b = new_overlay(f, &f->alice, "new", L4M_OVERLAY_WORKSHOP);

        /* Two versions of one item are two cache files. */
        set_links(f, a, (StoreWorkshopLink[]) { LINK(1, 10, 100) }, 1);
        set_links(f, b, (StoreWorkshopLink[]) { LINK(1, 11, 120) }, 1);
        g_assert_cmpuint(usage(f, "alice", 0), ==, 220);
}

static void test_room(Fixture *f, gconstpointer data) {
        Overlay *ws1, *maps;
        uint64_t room = 0;

        populate(f, &ws1, &maps);
        g_assert_cmpint(owner_quota_room(maps, &room), ==, 0);
        g_assert_cmpuint(room, ==, UINT64_MAX);         /* no quota by default */

        f->m->config->overlays_owner_max_bytes = 1200;
        g_assert_cmpint(owner_quota_room(maps, &room), ==, 0);
        g_assert_cmpuint(room, ==, 1200 - (100 + 5 + 7 + 30));
        /* Above the quota already: no room at all, never a wrap. */
        f->m->config->overlays_owner_max_bytes = 100;
        g_assert_cmpint(owner_quota_room(maps, &room), ==, 0);
        g_assert_cmpuint(room, ==, 0);
}

static void test_check_links(Fixture *f, gconstpointer data) {
        Overlay *ws1, *maps;

        populate(f, &ws1, &maps);
        /* No quota: anything goes. */
        g_assert_cmpint(owner_quota_check_links(ws1, (StoreWorkshopLink[]) { LINK(9, 90, 1u << 30) }, 1, &f->problem), ==, 0);

        f->m->config->overlays_owner_max_bytes = 100 + 5 + 7 + 1000 + 30;      /* exactly at the quota */
        /* The same links again fit. */
        g_assert_cmpint(owner_quota_check_links(ws1, (StoreWorkshopLink[]) { LINK(1, 10, 100), LINK(2, 20, 5) }, 2,
                                                &f->problem), ==, 0);
        /* Files ws2 links add nothing; dropping one of its own makes room. */
        g_assert_cmpint(owner_quota_check_links(ws1, (StoreWorkshopLink[]) { LINK(1, 10, 100), LINK(3, 30, 7) }, 2,
                                                &f->problem), ==, 0);
        g_assert_cmpint(owner_quota_check_links(ws1, (StoreWorkshopLink[]) { LINK(4, 40, 5) }, 1, &f->problem), ==, 0);
        /* One byte more than ws1 holds is refused, and the text says why. */
        g_assert_cmpint(owner_quota_check_links(ws1, (StoreWorkshopLink[]) { LINK(4, 40, 6) }, 1, &f->problem), ==,
                        -EDQUOT);
        g_assert_nonnull(f->problem);
        g_assert_nonnull(strstr(f->problem, "Storage quota exceeded: alice's overlays use 1.1 KiB of "
                                            "the 1.1 KiB they may hold; this build needs 6 bytes"));
        g_assert_nonnull(strstr(f->problem, "overlay ws1 may hold 5 bytes"));
        /* A file linked twice in the build counts once. */
        g_clear_pointer(&f->problem, g_free);
        g_assert_cmpint(owner_quota_check_links(ws1, (StoreWorkshopLink[]) { LINK(4, 40, 5), LINK(4, 40, 5) }, 2,
                                                &f->problem), ==, 0);
        /* bob's use is his own. */
        g_assert_cmpuint(usage(f, "bob", 0), ==, 100);
}

static void test_measure_links(Fixture *f, gconstpointer data) {
        Overlay *o = new_overlay(f, &f->alice, "ws", L4M_OVERLAY_WORKSHOP);
        _cleanup_close_ int dir = -1;

        /* A link from before sizes were kept, its file in the cache. */
        set_links(f, o, (StoreWorkshopLink[]) { LINK(5, 50, 0), LINK(6, 60, 0) }, 2);
        g_assert_cmpint(mkdirat(f->m->cache_fd, "5", 0755), ==, 0);
        dir = openat(f->m->cache_fd, "5", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        g_assert_cmpint(dir, >=, 0);
        {
                _cleanup_close_ int fd = openat(dir, "50.vpk", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                g_assert_cmpint(fd, >=, 0);
                g_assert_cmpint(write(fd, "abc", 3), ==, 3);
        }
        g_assert_cmpuint(usage(f, "alice", 0), ==, 0);
        owner_quota_measure_links(f->m);
        /* Measured; the link whose file is gone counts as nothing. */
        g_assert_cmpuint(usage(f, "alice", 0), ==, 3);
}

static void test_format(Fixture *f, gconstpointer data) {
        static const struct { uint64_t n; const char *text; } cases[] = {
                { 0, "0 bytes" }, { 1023, "1023 bytes" }, { 1024, "1 KiB" }, { 1536, "1.5 KiB" },
                { 200u << 20, "200 MiB" }, { UINT64_C(3) << 30, "3 GiB" },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *s = owner_quota_format_bytes(cases[i].n);
                g_assert_cmpstr(s, ==, cases[i].text);
        }
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add("/owner-quota/shared-file-once-per-owner", Fixture, NULL, fixture_setup,
                   test_shared_file_once_per_owner, fixture_teardown);
        g_test_add("/owner-quota/version-counts-apart", Fixture, NULL, fixture_setup, test_version_counts_apart,
                   fixture_teardown);
        g_test_add("/owner-quota/room", Fixture, NULL, fixture_setup, test_room, fixture_teardown);
        g_test_add("/owner-quota/check-links", Fixture, NULL, fixture_setup, test_check_links, fixture_teardown);
        g_test_add("/owner-quota/measure-links", Fixture, NULL, fixture_setup, test_measure_links, fixture_teardown);
        g_test_add("/owner-quota/format", Fixture, NULL, fixture_setup, test_format, fixture_teardown);
        return g_test_run();
}
