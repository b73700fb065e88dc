/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <glib.h>

#include "login-throttle.h"

#define SEC G_USEC_PER_SEC

static const LoginThrottleParams params = {
        .free_failures = 3,
        .base_usec = 1 * SEC,
        .max_usec = 30 * SEC,
        .window_usec = 15 * 60 * SEC,
        .keys_max = 4,
};

static void test_delay_for(void) {
        g_assert_cmpuint(login_throttle_delay_for(&params, 0), ==, 0);
        g_assert_cmpuint(login_throttle_delay_for(&params, 2), ==, 0);
        g_assert_cmpuint(login_throttle_delay_for(&params, 3), ==, 1 * SEC);
        g_assert_cmpuint(login_throttle_delay_for(&params, 4), ==, 2 * SEC);
        g_assert_cmpuint(login_throttle_delay_for(&params, 5), ==, 4 * SEC);
        g_assert_cmpuint(login_throttle_delay_for(&params, 7), ==, 16 * SEC);
        /* Capped, and no overflow however many failures there were. */
        g_assert_cmpuint(login_throttle_delay_for(&params, 8), ==, 30 * SEC);
        g_assert_cmpuint(login_throttle_delay_for(&params, 1000), ==, 30 * SEC);
        g_assert_cmpuint(login_throttle_delay_for(&params, G_MAXUINT), ==, 30 * SEC);
}

static void test_counts_and_reset(void) {
        g_autoptr(LoginThrottle) t = login_throttle_new(&params);
        uint64_t now = 1000 * SEC;

        for (unsigned k = 0; k < 3; k++) {
                g_assert_cmpuint(login_throttle_delay(t, "alice", now), ==, 0);
                login_throttle_failure(t, "alice", now);
        }
        g_assert_cmpuint(login_throttle_failures(t, "alice", now), ==, 3);
        g_assert_cmpuint(login_throttle_delay(t, "alice", now), ==, 1 * SEC);
        login_throttle_failure(t, "alice", now);
        g_assert_cmpuint(login_throttle_delay(t, "alice", now), ==, 2 * SEC);
        /* Another key is not affected. */
        g_assert_cmpuint(login_throttle_delay(t, "bob", now), ==, 0);

        login_throttle_success(t, "alice");
        g_assert_cmpuint(login_throttle_failures(t, "alice", now), ==, 0);
        g_assert_cmpuint(login_throttle_delay(t, "alice", now), ==, 0);
}

static void test_window(void) {
        g_autoptr(LoginThrottle) t = login_throttle_new(&params);
        uint64_t now = 1000 * SEC;

        for (unsigned k = 0; k < 5; k++)
                login_throttle_failure(t, "alice", now + k * SEC);
        now += 4 * SEC;
        /* Still remembered just before the window ends after the last failure. */
        g_assert_cmpuint(login_throttle_failures(t, "alice", now + params.window_usec - 1), ==, 5);
        g_assert_cmpuint(login_throttle_failures(t, "alice", now + params.window_usec), ==, 0);
        g_assert_cmpuint(login_throttle_size(t), ==, 0);
        /* A failure after expiry starts counting again. */
        login_throttle_failure(t, "alice", now + params.window_usec + 1);
        g_assert_cmpuint(login_throttle_failures(t, "alice", now + params.window_usec + 1), ==, 1);
}

static void test_bounded(void) {
        g_autoptr(LoginThrottle) t = login_throttle_new(&params);
        uint64_t now = 1000 * SEC;
        char key[16];

        for (unsigned k = 0; k < 100; k++) {
                g_snprintf(key, sizeof key, "k%u", k);
                login_throttle_failure(t, key, now + k);
                g_assert_cmpuint(login_throttle_size(t), <=, params.keys_max);
        }
        /* The newest keys stay; the oldest went first. */
        g_assert_cmpuint(login_throttle_failures(t, "k99", now + 100), ==, 1);
        g_assert_cmpuint(login_throttle_failures(t, "k96", now + 100), ==, 1);
        g_assert_cmpuint(login_throttle_failures(t, "k0", now + 100), ==, 0);

        /* Expired keys make room before live ones are dropped. */
        login_throttle_failure(t, "live", now + 200);
        login_throttle_failure(t, "late", now + params.window_usec + 150);
        g_assert_cmpuint(login_throttle_failures(t, "live", now + params.window_usec + 150), ==, 1);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/login-throttle/delay-for", test_delay_for);
        g_test_add_func("/login-throttle/counts-and-reset", test_counts_and_reset);
        g_test_add_func("/login-throttle/window", test_window);
        g_test_add_func("/login-throttle/bounded", test_bounded);
        return g_test_run();
}
