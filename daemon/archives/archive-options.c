/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/archives/: archive overlays: safe extraction of untrusted archives, the import and fetch jobs. */
#include <string.h>

#include <glib.h>

#include "archive-options.h"

#define SUBDIR_DEPTH_MAX 16u
#define NAME_ENCODING_MAX 32u
#define NAME_ENCODING_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."

bool archive_subdir_is_valid(const char *s) {
        g_auto(GStrv) parts = NULL;

        if (!s || !*s || s[0] == '/' || strlen(s) > 1024 || !g_utf8_validate(s, -1, NULL))
                return false;
        parts = g_strsplit(s, "/", -1);
        if (g_strv_length(parts) > SUBDIR_DEPTH_MAX)
                return false;
        for (size_t i = 0; parts[i]; i++)
                if (!*parts[i] || strcmp(parts[i], ".") == 0 || strcmp(parts[i], "..") == 0 ||
                    strlen(parts[i]) > 255)
                        return false;
        return true;
}

bool archive_name_encoding_is_valid(const char *s) {
        GIConv cd;

        if (!s || !*s || strlen(s) > NAME_ENCODING_MAX || strspn(s, NAME_ENCODING_CHARS) != strlen(s))
                return false;
        cd = g_iconv_open("UTF-8", s);
        if (cd == (GIConv) -1)
                return false;
        g_iconv_close(cd);
        return true;
}
