/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/accounts/: web accounts: password hashes, the login slow-down, calls the web bridge makes for them. */
#pragma once

#include <stdint.h>

#include <glib.h>

/* Slows down guessing passwords: failed logins are counted per key (a web
 * account's name, a bus connection), and once a key has more than a few
 * recent failures, each further attempt for it is answered only after a
 * delay that doubles with every failure, up to a cap. A key's count is
 * forgotten a window after its last failure, or at a success. The table is
 * bounded: when it is full, expired keys go first, then the key whose last
 * failure is oldest. Times are µs on any monotonic clock the caller picks. */

typedef struct LoginThrottle LoginThrottle;

typedef struct LoginThrottleParams {
        unsigned free_failures;         /* failures answered without delay */
        uint64_t base_usec;             /* the delay after the first non-free failure */
        uint64_t max_usec;              /* the cap */
        uint64_t window_usec;           /* a key is forgotten this long after its last failure */
        unsigned keys_max;              /* keys remembered at most */
} LoginThrottleParams;

/* The daemon's: 3 free failures, then 1 s, 2 s, 4 s … capped at 30 s;
 * forgotten 15 min after the last failure. */
#define LOGIN_THROTTLE_FREE_FAILURES 3u
#define LOGIN_THROTTLE_BASE_USEC (1 * G_USEC_PER_SEC)
#define LOGIN_THROTTLE_MAX_USEC (30 * G_USEC_PER_SEC)
#define LOGIN_THROTTLE_WINDOW_USEC (15 * 60 * G_USEC_PER_SEC)
#define LOGIN_THROTTLE_KEYS_MAX 4096u

/* The delay before answering an attempt made after `failures` recent
 * failures. */
uint64_t login_throttle_delay_for(const LoginThrottleParams *p, unsigned failures);

LoginThrottle *login_throttle_new(const LoginThrottleParams *p);
void login_throttle_free(LoginThrottle *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LoginThrottle, login_throttle_free)

/* The delay the next attempt for key gets at time now. */
uint64_t login_throttle_delay(LoginThrottle *t, const char *key, uint64_t now);
/* The failures remembered for key at time now. */
unsigned login_throttle_failures(LoginThrottle *t, const char *key, uint64_t now);
void login_throttle_failure(LoginThrottle *t, const char *key, uint64_t now);
void login_throttle_success(LoginThrottle *t, const char *key);
unsigned login_throttle_size(LoginThrottle *t);
