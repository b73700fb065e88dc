/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/: mechanisms the domains share: files without following links, workers, libcurl, units. */
#pragma once

/* Libraries that only some requests need (libcurl, libarchive, libsodium)
 * are loaded when first needed, as systemd loads its optional ones: the
 * daemon does not link them, so an idle daemon does not map them (nor what
 * they pull in: OpenSSL, GnuTLS, Kerberos, LDAP, libxml2, ICU, ...). Each
 * dlopen-LIB.h declares sym_NAME, a pointer of NAME's own type, for every
 * function of LIB the daemon calls, and dlopen_LIB(), which must have
 * returned 0 before any sym_NAME is called. */

/* The pointer to NAME, of NAME's type (declared by the library's header). */
#define DLSYM_PROTOTYPE(symbol) typeof(symbol) *sym_##symbol
/* An argument pair of dlopen_many_sym_or_warn(). */
#define DLSYM_ARG(symbol) (void **) &sym_##symbol, #symbol

/* Loads filename (a soname such as "libcurl.so.4") once per process with
 * RTLD_NOW|RTLD_NODELETE, resolves every (void **pointer, const char *name)
 * pair that follows, up to NULL, and publishes the handle in *dlp last.
 * Safe from any thread; a load that worked is never repeated, one that
 * failed is tried again next time. 0 if loaded, or -EOPNOTSUPP (logged,
 * naming the Debian package) if the library or one of its symbols is
 * missing. */
int dlopen_many_sym_or_warn_sentinel(void **dlp, const char *filename, const char *package, ...)
        __attribute__((sentinel));
#define dlopen_many_sym_or_warn(dlp, filename, package, ...) \
        dlopen_many_sym_or_warn_sentinel((dlp), (filename), (package), __VA_ARGS__, NULL)
