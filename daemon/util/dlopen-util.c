/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/: mechanisms the domains share: files without following links, workers, libcurl, units. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>

#include "dlopen-util.h"
#include "l4m-log.h"

/* Loads are rare (once per library and process): one lock for them all. */
static pthread_mutex_t dlopen_lock = PTHREAD_MUTEX_INITIALIZER;

int dlopen_many_sym_or_warn_sentinel(void **dlp, const char *filename, const char *package, ...) {
        void **fn;
        void *dl;
        va_list ap;
        int r = 0;

        /* Pairs with the release store below: the pointers are set. */
        if (__atomic_load_n(dlp, __ATOMIC_ACQUIRE))
                return 0;

        pthread_mutex_lock(&dlopen_lock);
        if (*dlp)
                goto out;

        dl = dlopen(filename, RTLD_NOW | RTLD_NODELETE);
        if (!dl) {
                const char *e = dlerror();

                r = log_error_errno(EOPNOTSUPP, "%s cannot be loaded (%s); it is in the Debian package %s.",
                                    filename, e ? e : "unknown error", package);
                goto out;
        }

        va_start(ap, package);
        while ((fn = va_arg(ap, void **))) {
                const char *name = va_arg(ap, const char *);

                *fn = dlsym(dl, name);
                if (!*fn) {
                        r = log_error_errno(EOPNOTSUPP, "%s has no function %s; the Debian package %s is too old.",
                                            filename, name, package);
                        break;
                }
        }
        va_end(ap);
        if (r < 0) {
                (void) dlclose(dl);
                goto out;
        }

        log_debug("Loaded %s.", filename);
        __atomic_store_n(dlp, dl, __ATOMIC_RELEASE);
out:
        pthread_mutex_unlock(&dlopen_lock);
        return r;
}
