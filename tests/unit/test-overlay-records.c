/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "fs-util.h"
#include "l4m-util.h"
#include "manager.h"
#include "overlay.h"

/* Overlay records without a bus: rows and directories move together, and
 * loading sweeps directories that have no row. */

static char *make_state_dir(void) {
        g_autoptr(GError) error = NULL;
        char *d = g_dir_make_tmp("l4m-state-XXXXXX", &error);

        g_assert_no_error(error);
        return d;
}

static bool overlay_dir_exists(const char *state, uint64_t id) {
        g_autofree char *p = g_strdup_printf("%s/overlays/%" G_GUINT64_FORMAT, state, id);
        return g_file_test(p, G_FILE_TEST_IS_DIR);
}

static void remove_state_dir(const char *state) {
        _cleanup_close_ int fd = open(g_get_tmp_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        g_autofree char *base = g_path_get_basename(state);

        g_assert_cmpint(rm_rf_at(fd, base), ==, 0);
}

static int create(Manager *m, const char *name, L4mOverlayType type, const char *owner, Overlay **ret) {
        g_auto(Actor) actor = { NULL };

        actor_init_local(&actor, owner);
        return overlay_create(m, &actor, name, type, NULL, ret, NULL);
}

static void test_create_delete(void) {
        g_auto(Actor) root = { NULL };
        g_autofree char *state = make_state_dir();
        g_autoptr(Manager) m = NULL;
        Overlay *a = NULL, *b = NULL;
        uint64_t a_id;
        struct stat st;
        g_autofree char *a_dir = NULL;

        g_assert_cmpint(manager_new(state, state, &m), ==, 0);
        g_assert_cmpint(manager_load(m), ==, 0);

        g_assert_cmpint(create(m, "maps1", L4M_OVERLAY_WORKSHOP, "root", &a), ==, 0);
        g_assert_cmpint(create(m, "maps2", L4M_OVERLAY_SCRIPT, "alice", &b), ==, 0);
        g_assert_cmpint(create(m, "maps1", L4M_OVERLAY_ARCHIVE, "alice", NULL), ==, -EEXIST);
        g_assert_cmpstr(a->path, ==, "/org/left4me/Manager/overlay/1");
        g_assert_true(manager_find_overlay_by_path(m, a->path) == a);
        g_assert_null(manager_find_overlay_by_path(m, "/org/left4me/Manager/overlay/01"));
        g_assert_cmpuint(manager_count_overlays_of(m, "alice"), ==, 1);

        a_id = a->id;
        g_assert_true(overlay_dir_exists(state, a_id));
        g_assert_true(overlay_dir_exists(state, b->id));
        a_dir = g_strdup_printf("%s/overlays/%" G_GUINT64_FORMAT, state, a_id);
        g_assert_cmpint(g_stat(a_dir, &st), ==, 0);
        g_assert_cmpint(st.st_mode & 07777, ==, 0755);

        actor_init_local(&root, "root");
        g_assert_cmpint(overlay_delete(a, &root, NULL), ==, 0);
        g_assert_false(overlay_dir_exists(state, a_id));
        g_assert_cmpuint(g_hash_table_size(m->overlays_by_name), ==, 1);

        /* The name is free again and gets a new id. */
        g_assert_cmpint(create(m, "maps1", L4M_OVERLAY_WORKSHOP, "root", &a), ==, 0);
        g_assert_cmpuint(a->id, >, a_id);

        g_clear_pointer(&m, manager_free);
        remove_state_dir(state);
}

static void test_reload_and_sweep(void) {
        g_autofree char *state = make_state_dir();
        g_autofree char *outside = g_build_filename(state, "outside", NULL);
        g_autofree char *secret = g_build_filename(outside, "secret", NULL);
        g_autofree char *stray = NULL, *stray_link = NULL, *named = NULL;
        g_autoptr(Manager) m = NULL;
        Overlay *o = NULL;
        uint64_t id;

        g_assert_cmpint(manager_new(state, state, &m), ==, 0);
        g_assert_cmpint(manager_load(m), ==, 0);
        g_assert_cmpint(create(m, "kept", L4M_OVERLAY_ARCHIVE, "bob", &o), ==, 0);
        id = o->id;
        g_clear_pointer(&m, manager_free);

        /* Leftovers of a crash, and things nobody should have put there. */
        g_assert_cmpint(g_mkdir(outside, 0755), ==, 0);
        g_assert_true(g_file_set_contents(secret, "keep me", -1, NULL));
        stray = g_strdup_printf("%s/overlays/%" G_GUINT64_FORMAT, state, id + 1);
        g_assert_cmpint(g_mkdir(stray, 0755), ==, 0);
        stray_link = g_build_filename(stray, "escape", NULL);
        g_assert_cmpint(symlink(outside, stray_link), ==, 0);
        named = g_strdup_printf("%s/overlays/not-an-id", state);
        g_assert_true(g_file_set_contents(named, "", -1, NULL));

        g_assert_cmpint(manager_new(state, state, &m), ==, 0);
        g_assert_cmpint(manager_load(m), ==, 0);
        g_assert_cmpuint(g_hash_table_size(m->overlays_by_id), ==, 1);
        o = g_hash_table_lookup(m->overlays_by_name, "kept");
        g_assert_nonnull(o);
        g_assert_cmpuint(o->id, ==, id);
        g_assert_cmpstr(o->owner, ==, "bob");
        g_assert_cmpint(o->type, ==, L4M_OVERLAY_ARCHIVE);
        g_assert_true(overlay_dir_exists(state, id));
        g_assert_false(g_file_test(stray, G_FILE_TEST_EXISTS));
        g_assert_false(g_file_test(named, G_FILE_TEST_EXISTS));
        g_assert_true(g_file_test(secret, G_FILE_TEST_IS_REGULAR));

        g_clear_pointer(&m, manager_free);
        remove_state_dir(state);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/overlay-records/create-delete", test_create_delete);
        g_test_add_func("/overlay-records/reload-and-sweep", test_reload_and_sweep);
        return g_test_run();
}
