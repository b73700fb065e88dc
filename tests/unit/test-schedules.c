/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Schedules' pure parts: the actions, the checks of a request, and the
 * store's schedule rows (ids never reused, the consumed elapse kept). */
#include <errno.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "schedule.h"
#include "store.h"

static void test_actions(void) {
        for (int a = 0; a < _SCHEDULE_ACTION_N; a++)
                g_assert_cmpint(schedule_action_from_string(schedule_action_to_string(a)), ==, a);
        g_assert_cmpint(schedule_action_from_string("reboot"), ==, _SCHEDULE_ACTION_INVALID);
        g_assert_cmpint(schedule_action_from_string(NULL), ==, _SCHEDULE_ACTION_INVALID);
        g_assert_null(schedule_action_to_string(_SCHEDULE_ACTION_INVALID));

        g_assert_cmpint(schedule_action_target_kind(SCHEDULE_UPDATE_GAME), ==, SCHEDULE_TARGET_GAME);
        g_assert_cmpint(schedule_action_target_kind(SCHEDULE_BUILD), ==, SCHEDULE_TARGET_OVERLAY);
        g_assert_cmpint(schedule_action_target_kind(SCHEDULE_BACKUP), ==, SCHEDULE_TARGET_INSTANCE);
        g_assert_cmpstr(schedule_action_polkit(SCHEDULE_RESTART), ==, L4M_ACTION_INSTANCE_CONTROL);
        g_assert_cmpstr(schedule_action_polkit(SCHEDULE_BACKUP), ==, L4M_ACTION_INSTANCE_CONTROL);
        g_assert_cmpstr(schedule_action_polkit(SCHEDULE_BUILD), ==, L4M_ACTION_OVERLAY_MANAGE);
        g_assert_cmpstr(schedule_action_polkit(SCHEDULE_UPDATE_GAME), ==, L4M_ACTION_GAME_INSTALL);

        g_autofree char *unit = schedule_unit_name(42, "timer");
        g_assert_cmpstr(unit, ==, "left4me-schedule-42.timer");
}

/* A request that passes; each case changes one thing. */
static ScheduleRequest good(void) {
        return (ScheduleRequest) {
                .name = "nightly", .calendar = "*-*-* 04:00:00", .action = SCHEDULE_RESTART, .target = "srv",
                .enabled = true,
        };
}

static void expect_refused(const ScheduleRequest *req, const char *fragment) {
        g_autofree char *problem = NULL;

        g_assert_cmpint(schedule_check_request(req, &problem), ==, -EINVAL);
        g_assert_nonnull(problem);
        if (!strstr(problem, fragment))
                g_error("problem \"%s\" lacks \"%s\"", problem, fragment);
}

static void test_check_request(void) {
        g_autofree char *long_calendar = g_strnfill(SCHEDULE_CALENDAR_MAX + 1, '*');
        ScheduleRequest r = good();

        g_assert_cmpint(schedule_check_request(&r, NULL), ==, 0);
        r.only_if_running = true;
        g_assert_cmpint(schedule_check_request(&r, NULL), ==, 0);

        r = good(), r.name = "Bad Name";
        expect_refused(&r, "Invalid schedule name");
        r = good(), r.action = _SCHEDULE_ACTION_INVALID;
        expect_refused(&r, "Unknown action");
        r = good(), r.calendar = "";
        expect_refused(&r, "calendar");
        r = good(), r.calendar = "daily\n04:00";
        expect_refused(&r, "calendar");
        r = good(), r.calendar = long_calendar;
        expect_refused(&r, "calendar");

        r = good(), r.action = SCHEDULE_COMMAND;
        expect_refused(&r, "needs the RCON command");
        r.argument = "say hello";
        g_assert_cmpint(schedule_check_request(&r, NULL), ==, 0);
        r.argument = "say\nquit";
        g_assert_cmpint(schedule_check_request(&r, NULL), ==, -EINVAL);
        r = good(), r.argument = "status";
        expect_refused(&r, "Only a command schedule");

        r = good(), r.action = SCHEDULE_START, r.only_if_running = true;
        expect_refused(&r, "only_if_running");
        r = good(), r.restart_instances = true;
        expect_refused(&r, "restart_instances");
        r = good(), r.stop_server = true;
        expect_refused(&r, "stop is for backup");
        r = good(), r.action = SCHEDULE_BACKUP, r.stop_server = true;
        g_assert_cmpint(schedule_check_request(&r, NULL), ==, 0);
        r = good(), r.randomized_delay_usec = SCHEDULE_RANDOMIZED_DELAY_MAX_USEC;
        g_assert_cmpint(schedule_check_request(&r, NULL), ==, 0);
        r.randomized_delay_usec++;
        expect_refused(&r, "24 hours");

        r = good(), r.action = SCHEDULE_UPDATE_GAME, r.target = "", r.restart_instances = true;
        g_assert_cmpint(schedule_check_request(&r, NULL), ==, 0);
        r.target = "game";
        g_assert_cmpint(schedule_check_request(&r, NULL), ==, 0);
        r.target = "srv";
        expect_refused(&r, "update-game");
        r = good(), r.target = "";
        expect_refused(&r, "Invalid target");
        r = good(), r.action = SCHEDULE_BUILD, r.target = "../maps";
        expect_refused(&r, "Invalid target");
}

static int collect(const StoreSchedule *s, void *userdata) {
        g_ptr_array_add(userdata, g_strdup_printf("%" G_GUINT64_FORMAT ":%s:%s:%s:%s:%" G_GUINT64_FORMAT ":%s:%d%d%d:%"
                                                  G_GUINT64_FORMAT ":%d:%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT
                                                  ":%s:%" G_GUINT64_FORMAT,
                                                  s->id, s->name, s->calendar, s->action, s->target, s->target_id,
                                                  s->argument, s->only_if_running, s->restart_instances, s->stop_server,
                                                  s->randomized_delay_usec, s->enabled, s->last_trigger, s->last_run,
                                                  s->last_result, s->last_job));
        return 0;
}

static void test_store(void) {
        g_autoptr(GError) error = NULL;
        g_autofree char *dir = g_dir_make_tmp("l4m-schedules-XXXXXX", &error);
        g_autofree char *path = NULL;
        g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(g_free);
        StoreSchedule s = {
                .name = "nightly", .owner = "alice", .created = 1, .calendar = "daily", .action = "command",
                .target = "srv", .target_id = 7, .argument = "say hi", .only_if_running = true,
                .randomized_delay_usec = 5, .enabled = true,
        };
        sqlite3 *db = NULL;
        uint64_t id, id2, id3;

        g_assert_no_error(error);
        path = g_build_filename(dir, "left4me.db", NULL);
        g_assert_cmpint(store_open(path, &db), ==, 0);

        g_assert_cmpint(store_schedule_insert(db, &s, &id), ==, 0);
        g_assert_cmpint(store_schedule_insert(db, &s, &id2), ==, -EEXIST);
        g_assert_cmpint(store_schedule_set_enabled(db, id, false), ==, 0);
        g_assert_cmpint(store_schedule_set_last_trigger(db, id, 1234), ==, 0);
        g_assert_cmpint(store_schedule_set_last_run(db, id, 1300, "success", 9), ==, 0);
        g_assert_cmpint(store_schedule_set_enabled(db, id + 100, true), ==, -ENOENT);
        g_assert_cmpint(store_schedule_foreach(db, collect, rows), ==, 0);
        g_assert_cmpuint(rows->len, ==, 1);
        g_assert_cmpstr(rows->pdata[0], ==, "1:nightly:daily:command:srv:7:say hi:100:5:0:1234:1300:success:9");

        /* AUTOINCREMENT: a deleted schedule's id (and so its timer's name,
         * whose systemd stamp may remain) is never given again. */
        g_assert_cmpint(store_schedule_delete(db, id), ==, 0);
        g_assert_cmpint(store_schedule_delete(db, id), ==, -ENOENT);
        g_assert_cmpint(store_schedule_insert(db, &s, &id3), ==, 0);
        g_assert_cmpuint(id3, >, id);

        store_close(db);
        g_autofree char *wal = g_strconcat(path, "-wal", NULL);
        g_autofree char *shm = g_strconcat(path, "-shm", NULL);
        g_unlink(wal);
        g_unlink(shm);
        g_unlink(path);
        g_rmdir(dir);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/schedules/actions", test_actions);
        g_test_add_func("/schedules/check-request", test_check_request);
        g_test_add_func("/schedules/store", test_store);
        return g_test_run();
}
