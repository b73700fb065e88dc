/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stddef.h>

/* The most bytes org.left4me.Overlay.SetScript takes (the daemon's limit);
 * 'overlay set-script' refuses more before it calls. */
#define SCRIPT_SIZE_MAX ((size_t) 262144)

/* Whether the size bytes of text can go over D-Bus as a string: no NUL
 * byte, valid UTF-8, and no code point that sd-bus refuses (surrogates,
 * U+FDD0..U+FDEF and the U+xxFFFE/U+xxFFFF noncharacters). Returns 0, or
 * -EINVAL with *ret_problem (g_free() it) saying what is wrong and on
 * which line (from 1), e.g. "line 3: contains a NUL byte". */
int script_text_check(const char *text, size_t size, char **ret_problem);
