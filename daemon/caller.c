/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <pwd.h>

#include "caller.h"
#include "l4m-log.h"
#include "l4m-util.h"

#define PASSWD_BUF_MAX (1024 * 1024)

static int user_name_of_uid(uid_t uid, char **ret) {
        size_t size = 1024;

        for (;;) {
                g_autofree char *buf = g_malloc(size);
                struct passwd pw, *result = NULL;
                int r = getpwuid_r(uid, &pw, buf, size, &result);

                if (r == 0) {
                        *ret = result ? g_strdup(pw.pw_name) : g_strdup_printf("uid:%u", (unsigned) uid);
                        return 0;
                }
                if (r != ERANGE || size >= PASSWD_BUF_MAX)
                        return -r;
                size *= 2;
        }
}

int caller_principal(sd_bus_message *m, char **ret) {
        g_autoptr(sd_bus_creds) creds = NULL;
        uid_t uid;
        int r;

        assert(m);
        assert(ret);

        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds);
        if (r < 0)
                return log_error_errno(r, "Cannot get credentials of %s: %s", sd_bus_message_get_sender(m), STRERROR(r));
        r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                return log_error_errno(r, "Bus gave no uid for %s: %s", sd_bus_message_get_sender(m), STRERROR(r));

        return user_name_of_uid(uid, ret);
}
