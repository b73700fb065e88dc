/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "l4m-log.h"
#include "l4m-util.h"
#include "l4m-web-config.h"
#include "web-generator.h"

/* A systemd generator: left4me-web.socket listens where [Web] Listen= of
 * left4me.conf says. Run by systemd at boot and daemon-reload as
 * left4me-web-generator NORMAL-DIR [EARLY-DIR LATE-DIR]; writes
 * NORMAL-DIR/left4me-web.socket.d/50-listen.conf, or nothing when the key
 * is not set (the unit's own ListenStream= stays). */

int main(int argc, char **argv) {
        L4mWebConfig c;
        g_autofree char *text = NULL, *dir = NULL, *file = NULL, *tmp = NULL;
        const char *config = getenv("L4M_WEB_GENERATOR_CONFIG");  /* tests only */
        int r;

        l4m_log_open("left4me-web-generator");
        l4m_log_use_stream();
        if (argc != 2 && argc != 4) {
                log_error("Usage: %s NORMAL-DIR [EARLY-DIR LATE-DIR]", argv[0]);
                return EXIT_FAILURE;
        }
        l4m_web_config_init(&c);
        l4m_web_config_load(&c, config && *config ? config : NULL);
        text = web_generator_dropin(c.listen);
        l4m_web_config_done(&c);
        if (!text)
                return EXIT_SUCCESS;

        dir = g_build_filename(argv[1], "left4me-web.socket.d", NULL);
        if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
                r = -errno;
                log_error_errno(r, "Cannot create %s: %s", dir, STRERROR(r));
                return EXIT_FAILURE;
        }
        file = g_build_filename(dir, "50-listen.conf", NULL);
        if (!g_file_set_contents_full(file, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, NULL)) {
                log_error("Cannot write %s.", file);
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
