/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Runs a fuzz target once on each file or directory of files given, so that
 * the seed corpora run in every `meson test` without libFuzzer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run_file(const char *path) {
        g_autofree char *data = NULL;
        g_autoptr(GError) error = NULL;
        gsize size;

        if (!g_file_get_contents(path, &data, &size, &error)) {
                fprintf(stderr, "%s\n", error->message);
                exit(EXIT_FAILURE);
        }
        LLVMFuzzerTestOneInput((const uint8_t *) data, size);
        printf("ok %s\n", path);
}

int main(int argc, char **argv) {
        unsigned n = 0;

        for (int i = 1; i < argc; i++) {
                g_autoptr(GDir) d = g_dir_open(argv[i], 0, NULL);
                const char *name;

                if (!d) {
                        run_file(argv[i]);
                        n++;
                        continue;
                }
                while ((name = g_dir_read_name(d))) {
                        g_autofree char *path = g_build_filename(argv[i], name, NULL);
                        run_file(path);
                        n++;
                }
        }
        printf("%u input(s) ran\n", n);
        return n > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
