/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdbool.h>

#include <glib.h>

#include "web-generator.h"

char *web_generator_dropin(char *const *listen) {
        GString *s;

        if (!listen || !listen[0])
                return NULL;
        s = g_string_new("# Written by left4me-web-generator from [Web] Listen= of left4me.conf.\n"
                         "[Socket]\n"
                         "ListenStream=\n");
        for (size_t i = 0; listen[i]; i++)
                g_string_append_printf(s, "ListenStream=%s\n", listen[i]);
        return g_string_free(s, false);
}
