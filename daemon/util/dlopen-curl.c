/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/: mechanisms the domains share: files without following links, workers, libcurl, units. */
#include "dlopen-curl.h"

DLSYM_PROTOTYPE(curl_easy_cleanup) = NULL;
DLSYM_PROTOTYPE(curl_easy_getinfo) = NULL;
DLSYM_PROTOTYPE(curl_easy_init) = NULL;
DLSYM_PROTOTYPE(curl_easy_setopt) = NULL;
DLSYM_PROTOTYPE(curl_easy_strerror) = NULL;
DLSYM_PROTOTYPE(curl_global_init) = NULL;
DLSYM_PROTOTYPE(curl_multi_add_handle) = NULL;
DLSYM_PROTOTYPE(curl_multi_cleanup) = NULL;
DLSYM_PROTOTYPE(curl_multi_info_read) = NULL;
DLSYM_PROTOTYPE(curl_multi_init) = NULL;
DLSYM_PROTOTYPE(curl_multi_remove_handle) = NULL;
DLSYM_PROTOTYPE(curl_multi_setopt) = NULL;
DLSYM_PROTOTYPE(curl_multi_socket_action) = NULL;
DLSYM_PROTOTYPE(curl_multi_strerror) = NULL;

int dlopen_curl(void) {
        static void *dl = NULL;

        return dlopen_many_sym_or_warn(&dl, "libcurl.so.4", "libcurl4",
                                       DLSYM_ARG(curl_easy_cleanup),
                                       DLSYM_ARG(curl_easy_getinfo),
                                       DLSYM_ARG(curl_easy_init),
                                       DLSYM_ARG(curl_easy_setopt),
                                       DLSYM_ARG(curl_easy_strerror),
                                       DLSYM_ARG(curl_global_init),
                                       DLSYM_ARG(curl_multi_add_handle),
                                       DLSYM_ARG(curl_multi_cleanup),
                                       DLSYM_ARG(curl_multi_info_read),
                                       DLSYM_ARG(curl_multi_init),
                                       DLSYM_ARG(curl_multi_remove_handle),
                                       DLSYM_ARG(curl_multi_setopt),
                                       DLSYM_ARG(curl_multi_socket_action),
                                       DLSYM_ARG(curl_multi_strerror));
}
