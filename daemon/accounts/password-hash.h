/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/accounts/: web accounts: password hashes, the login slow-down, calls the web bridge makes for them. */
#pragma once

#include <stdbool.h>

#include <glib.h>
#include <systemd/sd-event.h>

/* Web account passwords: argon2id through libsodium's crypto_pwhash_str()
 * (OPSLIMIT/MEMLIMIT_INTERACTIVE: some 50-100 ms and 64 MiB each). Hashing
 * and verifying run on worker threads, never on the event loop, at most
 * PASSWORD_HASH_RUNNING_MAX at once; further requests wait in a queue of
 * PASSWORD_HASH_QUEUED_MAX, and beyond that are refused (-EBUSY). */

#define PASSWORD_MIN_CHARS 8
#define PASSWORD_MAX_BYTES 1024
#define PASSWORD_HASH_RUNNING_MAX 2u
#define PASSWORD_HASH_QUEUED_MAX 32u

/* Why a password cannot be used (too short or long, not UTF-8, holds a
 * NUL), NULL if it can. len is its length in bytes; the shortest is
 * counted in characters. */
const char *password_problem(const char *password, size_t len);

typedef struct PasswordHasher PasswordHasher;

/* For hashing: result 0 and the hash, or < 0. For verifying: result 1 if
 * the password matches, 0 if not (hash NULL), < 0 on failure. */
typedef void (*PasswordDoneFunc)(int result, const char *hash, void *userdata);

/* libsodium is loaded (dlopen-sodium.h) and initialised on the first
 * password hashed or verified. */
int password_hasher_new(sd_event *event, PasswordHasher **ret);
/* Waits for the hashes running; none of the pending done() is called, but
 * every free_userdata() is. */
void password_hasher_free(PasswordHasher *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PasswordHasher, password_hasher_free)

/* The password is copied (and wiped when done). On success, done() is called
 * later, on the event loop, then free_userdata(userdata); on failure
 * (-EBUSY when the queue is full) neither is. */
int password_hash_async(PasswordHasher *h, const char *password, PasswordDoneFunc done, void *userdata,
                        GDestroyNotify free_userdata);
/* hash NULL: verify against a fixed hash of a password nobody knows, so that
 * an unknown account costs as much time as a known one. */
int password_verify_async(PasswordHasher *h, const char *hash, const char *password, PasswordDoneFunc done,
                          void *userdata, GDestroyNotify free_userdata);

unsigned password_hasher_pending(PasswordHasher *h);
