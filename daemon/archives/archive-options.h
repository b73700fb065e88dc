/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/archives/: archive overlays: safe extraction of untrusted archives, the import and fetch jobs. */
#pragma once

#include <stdbool.h>

/* Checks of ImportArchive's options, done before a job is queued. */

/* subdir: a relative UTF-8 path of at most 16 components (1024 bytes),
 * none empty, "." or "..", each at most 255 bytes. */
bool archive_subdir_is_valid(const char *s);

/* name_encoding: the iconv name of a character set (CP936, windows-1251,
 * ISO-8859-2), at most 32 characters of A-Z a-z 0-9 - _ ., that iconv can
 * convert to UTF-8. */
bool archive_name_encoding_is_valid(const char *s);
