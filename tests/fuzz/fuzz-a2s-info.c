/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "a2s.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whatever answers on a game server's port: parsed without crashing, and
 * what comes out is bounded UTF-8 that can go on the bus as it is. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_auto(A2sInfo) info = { 0 };

        if (size > A2S_PACKET_MAX)
                return 0;
        if (a2s_info_parse(data, size, &info) < 0) {
                g_assert(!info.name && !info.map && !info.folder && !info.game);
                return 0;
        }
        const char *strings[] = { info.name, info.map, info.folder, info.game };
        for (size_t i = 0; i < G_N_ELEMENTS(strings); i++) {
                g_assert(strings[i]);
                g_assert(g_utf8_validate(strings[i], -1, NULL));
                /* Each byte of the reply becomes at most one U+FFFD (3 bytes). */
                g_assert(strlen(strings[i]) <= 3 * A2S_STRING_MAX);
        }
        return 0;
}
