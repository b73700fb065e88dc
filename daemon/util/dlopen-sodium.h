/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/: mechanisms the domains share: files without following links, workers, libcurl, units. */
#pragma once

#include <sodium.h>

#include "dlopen-util.h"

/* libsodium, loaded on first use (dlopen-util.h). dlopen_sodium() must have
 * returned 0 before any sym_ below is called: 0, or -EOPNOTSUPP (logged)
 * if libsodium.so.23 (Debian: libsodium23) is missing. */
int dlopen_sodium(void);

extern DLSYM_PROTOTYPE(crypto_pwhash_str);
extern DLSYM_PROTOTYPE(crypto_pwhash_str_verify);
extern DLSYM_PROTOTYPE(sodium_init);
