/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include <glib.h>

#include "steamcmd-output.h"

static bool feed_str(SteamCmdOutput *o, const char *s) {
        return steamcmd_output_feed(o, s, strlen(s));
}

/* What an anonymous run prints, in two passes (abridged). */
static const char *const two_passes =
        "Redirecting stderr to '/var/lib/left4me/steam/Steam/logs/stderr.txt'\n"
        "[  0%] Checking for available updates...\n"
        "Steam Console Client (c) Valve Corporation - version 1716584667\n"
        "Logging in user 'anonymous' to Steam Public...OK\n"
        "Waiting for user info...OK\n"
        " Update state (0x3) reconfiguring, progress: 0.00 (0 / 0)\n"
        " Update state (0x61) downloading, progress: 50.00 (500 / 1000)\n"
        "Success! App '222860' fully installed.\n"
        " Update state (0x11) preallocating, progress: 20.00 (200 / 1000)\n"
        " Update state (0x61) downloading, progress: 75.00 (750 / 1000)\n"
        "Success! App '222860' fully installed.\n";

static void test_two_passes(void) {
        SteamCmdOutput o;

        steamcmd_output_init(&o, 2);
        g_assert_cmpfloat(steamcmd_output_progress(&o), ==, 0.0);
        g_assert_true(feed_str(&o, " Update state (0x61) downloading, progress: 50.00 (500 / 1000)\n"));
        g_assert_cmpfloat_with_epsilon(steamcmd_output_progress(&o), 0.25, 1e-9);
        g_assert_true(feed_str(&o, "Success! App '222860' fully installed.\n"));
        g_assert_cmpfloat_with_epsilon(steamcmd_output_progress(&o), 0.5, 1e-9);
        g_assert_false(steamcmd_output_succeeded(&o));  /* one pass of two */
        g_assert_true(feed_str(&o, " Update state (0x61) downloading, progress: 50.00 (500 / 1000)\n"));
        g_assert_cmpfloat_with_epsilon(steamcmd_output_progress(&o), 0.75, 1e-9);
        g_assert_true(feed_str(&o, "Success! App '222860' fully installed.\n"));
        g_assert_cmpfloat_with_epsilon(steamcmd_output_progress(&o), 1.0, 1e-9);
        g_assert_true(steamcmd_output_succeeded(&o));
        g_assert_cmpstr(o.error, ==, "");

        /* The whole transcript at once gives the same. */
        steamcmd_output_init(&o, 2);
        feed_str(&o, two_passes);
        g_assert_true(steamcmd_output_succeeded(&o));
        g_assert_cmpuint(o.passes_done, ==, 2);
}

/* Byte by byte: lines split across reads are put together again. */
static void test_split_reads(void) {
        SteamCmdOutput o;
        double last = 0;

        steamcmd_output_init(&o, 2);
        for (const char *p = two_passes; *p; p++) {
                steamcmd_output_feed(&o, p, 1);
                /* never falls */
                g_assert_cmpfloat(steamcmd_output_progress(&o), >=, last);
                last = steamcmd_output_progress(&o);
        }
        g_assert_true(steamcmd_output_succeeded(&o));
        g_assert_cmpuint(o.passes_done, ==, 2);

        /* A line without its end yet counts for nothing. */
        steamcmd_output_init(&o, 1);
        g_assert_false(feed_str(&o, "Success! App '222860' fully inst"));
        g_assert_false(steamcmd_output_succeeded(&o));
        g_assert_true(feed_str(&o, "alled.\r\n"));
        g_assert_true(steamcmd_output_succeeded(&o));
}

static void test_invalid_platform(void) {
        SteamCmdOutput o;

        steamcmd_output_init(&o, 1);
        feed_str(&o, "Logging in user 'anonymous' to Steam Public...OK\n"
                     " Update state (0x61) downloading, progress: 3.00 (3 / 100)\n"
                     "ERROR! Failed to install app '222860' (Invalid platform)\n");
        g_assert_false(steamcmd_output_succeeded(&o));
        g_assert_cmpuint(o.passes_done, ==, 1);
        g_assert_cmpstr(o.error, ==, "ERROR! Failed to install app '222860' (Invalid platform)");
        g_assert_false(o.login_failed);

        /* Success in the first pass, an error in the last: failed. */
        steamcmd_output_init(&o, 2);
        feed_str(&o, "Success! App '222860' fully installed.\n"
                     "\x1b[0mError! App '222860' state is 0x202 after update job.\n");
        g_assert_false(steamcmd_output_succeeded(&o));
        g_assert_cmpstr(o.error, ==, "Error! App '222860' state is 0x202 after update job.");
}

static void test_login_failure(void) {
        SteamCmdOutput o;

        steamcmd_output_init(&o, 1);
        feed_str(&o, "Logging in user 'someone' to Steam Public...FAILED (Invalid Password)\n"
                     "Success! App '222860' fully installed.\n");
        g_assert_true(o.login_failed);
        g_assert_false(steamcmd_output_succeeded(&o));
        g_assert_cmpstr(o.error, ==, "Logging in user 'someone' to Steam Public...FAILED (Invalid Password)");
        /* The login's line stays, whatever errors follow. */
        feed_str(&o, "ERROR! Not logged on.\n");
        g_assert_cmpstr(o.error, ==, "ERROR! Not logged on.");
        g_assert_cmpstr(o.login_error, ==, "Logging in user 'someone' to Steam Public...FAILED (Invalid Password)");
}

static void test_overlong_lines(void) {
        SteamCmdOutput o;
        g_autofree char *junk = g_strnfill(3 * STEAMCMD_LINE_MAX, 'x');
        g_autofree char *tail = NULL;

        steamcmd_output_init(&o, 1);
        /* An overlong line that ends like a success line is no success. */
        tail = g_strconcat("Success! App '222860' fully installed.", junk, "\n", NULL);
        feed_str(&o, junk);
        feed_str(&o, "Success! App '222860' fully installed.\n");
        g_assert_false(steamcmd_output_succeeded(&o));
        feed_str(&o, tail);
        g_assert_false(steamcmd_output_succeeded(&o));
        /* The next line is read again. */
        feed_str(&o, "Success! App '222860' fully installed.\n");
        g_assert_true(steamcmd_output_succeeded(&o));
}

static void test_marker_and_gap(void) {
        SteamCmdOutput o;

        steamcmd_output_init(&o, 1);
        feed_str(&o, STEAMCMD_PASSES_MARKER "2\n");
        g_assert_cmpuint(o.passes, ==, 2);
        feed_str(&o, STEAMCMD_PASSES_MARKER "999\n");    /* out of range: ignored */
        g_assert_cmpuint(o.passes, ==, 2);
        feed_str(&o, "Success! App '222860' fully installed.\n");
        g_assert_false(steamcmd_output_succeeded(&o));

        /* After lost output, the rest of a line is not taken for a line. */
        feed_str(&o, "Update state (0x61) downloading, progress: 10.0");
        steamcmd_output_gap(&o);
        feed_str(&o, "Success! App '222860' fully installed.\n");
        g_assert_cmpuint(o.passes_done, ==, 1);
        feed_str(&o, "Success! App '222860' fully installed.\n");
        g_assert_true(steamcmd_output_succeeded(&o));
}

static void test_bad_progress(void) {
        SteamCmdOutput o;

        steamcmd_output_init(&o, 1);
        g_assert_false(feed_str(&o, "Update state (0x61) downloading, progress: nan (0 / 0)\n"));
        g_assert_false(feed_str(&o, "Update state (0x61) downloading, progress: 250.0 (0 / 0)\n"));
        g_assert_false(feed_str(&o, "Update state (0x61) downloading, progress: -3 (0 / 0)\n"));
        g_assert_false(feed_str(&o, "someone said progress: 50.0\n"));
        g_assert_cmpfloat(steamcmd_output_progress(&o), ==, 0.0);
        /* A later phase starting at 0 does not move it back. */
        g_assert_true(feed_str(&o, "Update state (0x61) downloading, progress: 60.0 (6 / 10)\n"));
        g_assert_false(feed_str(&o, "Update state (0x81) verifying install, progress: 5.0 (6 / 10)\n"));
        g_assert_cmpfloat_with_epsilon(steamcmd_output_progress(&o), 0.6, 1e-9);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/steamcmd-output/two-passes", test_two_passes);
        g_test_add_func("/steamcmd-output/split-reads", test_split_reads);
        g_test_add_func("/steamcmd-output/invalid-platform", test_invalid_platform);
        g_test_add_func("/steamcmd-output/login-failure", test_login_failure);
        g_test_add_func("/steamcmd-output/overlong-lines", test_overlong_lines);
        g_test_add_func("/steamcmd-output/marker-and-gap", test_marker_and_gap);
        g_test_add_func("/steamcmd-output/bad-progress", test_bad_progress);
        return g_test_run();
}
