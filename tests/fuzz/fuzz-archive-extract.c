/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "archive-extract.h"
#include "fs-util.h"
#include "l4m-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int top_fd = -1;

/* Any bytes as an archive: extracted into a fresh directory inside a
 * private parent, which must afterwards hold nothing but that directory
 * (nothing escaped), with small caps so bombs end quickly. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ArchiveExtractOptions opts = {
                .limits = { .max_bytes = 4 << 20, .max_entries = 1000, .max_entry_bytes = 1 << 20 },
        };
        _cleanup_close_ int in = -1, dest = -1;
        g_autofree char *error = NULL;
        g_autoptr(GDir) d = NULL;
        const char *name;
        ssize_t written;
        int r;

        if (top_fd < 0) {
                g_autofree char *top = g_dir_make_tmp("l4m-fuzz-XXXXXX", NULL);
                g_assert(top);
                top_fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                g_assert(top_fd >= 0);
        }

        in = memfd_create("archive", MFD_CLOEXEC);
        g_assert(in >= 0);
        written = write(in, data, size);
        g_assert(written == (ssize_t) size);
        r = (int) lseek(in, 0, SEEK_SET);
        g_assert(r == 0);

        r = mkdirat(top_fd, "dest", 0755);
        g_assert(r == 0);
        dest = openat(top_fd, "dest", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        g_assert(dest >= 0);

        if (archive_extract(in, dest, &opts, NULL, NULL, NULL, &error) < 0)
                g_assert(error && g_utf8_validate(error, -1, NULL));

        {
                /* Nothing but dest next to dest. */
                _cleanup_close_ int dup_fd = fcntl(top_fd, F_DUPFD_CLOEXEC, 3);
                g_autofree char *path = g_strdup_printf("/proc/self/fd/%d", dup_fd);
                d = g_dir_open(path, 0, NULL);
                g_assert(d);
                while ((name = g_dir_read_name(d)))
                        g_assert_cmpstr(name, ==, "dest");
        }
        r = rm_rf_at(top_fd, "dest");
        g_assert(r == 0);
        return 0;
}
