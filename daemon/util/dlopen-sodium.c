/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/: mechanisms the domains share: files without following links, workers, libcurl, units. */
#include "dlopen-sodium.h"

DLSYM_PROTOTYPE(crypto_pwhash_str) = NULL;
DLSYM_PROTOTYPE(crypto_pwhash_str_verify) = NULL;
DLSYM_PROTOTYPE(sodium_init) = NULL;

int dlopen_sodium(void) {
        static void *dl = NULL;

        return dlopen_many_sym_or_warn(&dl, "libsodium.so.23", "libsodium23",
                                       DLSYM_ARG(crypto_pwhash_str),
                                       DLSYM_ARG(crypto_pwhash_str_verify),
                                       DLSYM_ARG(sodium_init));
}
