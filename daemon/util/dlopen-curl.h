/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/: mechanisms the domains share: files without following links, workers, libcurl, units. */
#pragma once

#include <curl/curl.h>

#include "dlopen-util.h"

/* libcurl, loaded on first use (dlopen-util.h). dlopen_curl() must have
 * returned 0 before any sym_ below is called: 0, or -EOPNOTSUPP (logged)
 * if libcurl.so.4 (Debian: libcurl4) is missing. */
int dlopen_curl(void);

extern DLSYM_PROTOTYPE(curl_easy_cleanup);
extern DLSYM_PROTOTYPE(curl_easy_getinfo);
extern DLSYM_PROTOTYPE(curl_easy_init);
extern DLSYM_PROTOTYPE(curl_easy_setopt);
extern DLSYM_PROTOTYPE(curl_easy_strerror);
extern DLSYM_PROTOTYPE(curl_global_init);
extern DLSYM_PROTOTYPE(curl_multi_add_handle);
extern DLSYM_PROTOTYPE(curl_multi_cleanup);
extern DLSYM_PROTOTYPE(curl_multi_info_read);
extern DLSYM_PROTOTYPE(curl_multi_init);
extern DLSYM_PROTOTYPE(curl_multi_remove_handle);
extern DLSYM_PROTOTYPE(curl_multi_setopt);
extern DLSYM_PROTOTYPE(curl_multi_socket_action);
extern DLSYM_PROTOTYPE(curl_multi_strerror);
