/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/: mechanisms the domains share: files without following links, workers, libcurl, units. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "fs-util.h"
#include "l4m-util.h"
#include "userdb-record.h"

char *userdb_record_name(uid_t uid) {
        return g_strdup_printf("left4me-%u", (unsigned) uid);
}

static char *record_text(uid_t uid, const char *name, const char *description, bool group) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonGenerator) gen = json_generator_new();
        g_autoptr(JsonNode) root = NULL;
        g_autofree char *text = NULL;

        json_builder_begin_object(b);
        json_builder_set_member_name(b, group ? "groupName" : "userName");
        json_builder_add_string_value(b, name);
        if (!group) {
                json_builder_set_member_name(b, "uid");
                json_builder_add_int_value(b, uid);
        }
        json_builder_set_member_name(b, "gid");
        json_builder_add_int_value(b, uid);
        if (!group) {
                json_builder_set_member_name(b, "realName");
                json_builder_add_string_value(b, description);
                json_builder_set_member_name(b, "homeDirectory");
                json_builder_add_string_value(b, "/");
                json_builder_set_member_name(b, "shell");
                json_builder_add_string_value(b, "/usr/sbin/nologin");
                json_builder_set_member_name(b, "locked");
                json_builder_add_boolean_value(b, TRUE);
        }
        json_builder_set_member_name(b, "disposition");
        json_builder_add_string_value(b, "system");
        json_builder_end_object(b);
        root = json_builder_get_root(b);
        json_generator_set_root(gen, root);
        text = json_generator_to_data(gen, NULL);
        return g_strconcat(text, "\n", NULL);
}

int userdb_record_write(const char *dir, uid_t uid, const char *description) {
        g_autofree char *name = userdb_record_name(uid);
        _cleanup_close_ int fd = -1;

        assert(dir);
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (int group = 0; group <= 1; group++) {
                const char *suffix = group ? "group" : "user";
                g_autofree char *text = record_text(uid, name, description, group);
                g_autofree char *by_name = g_strdup_printf("%s.%s", name, suffix);
                g_autofree char *by_id = g_strdup_printf("%u.%s", (unsigned) uid, suffix);
                int r;

                r = write_file_atomic_at(fd, by_name, text, strlen(text), 0644, 0, 0, false);
                if (r >= 0)
                        r = write_file_atomic_at(fd, by_id, text, strlen(text), 0644, 0, 0, false);
                if (r < 0)
                        return r;
        }
        return 0;
}

int userdb_record_remove(const char *dir, uid_t uid) {
        g_autofree char *name = userdb_record_name(uid);
        _cleanup_close_ int fd = -1;
        int r = 0;

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        for (int group = 0; group <= 1; group++) {
                const char *suffix = group ? "group" : "user";
                g_autofree char *by_name = g_strdup_printf("%s.%s", name, suffix);
                g_autofree char *by_id = g_strdup_printf("%u.%s", (unsigned) uid, suffix);

                if (unlinkat(fd, by_name, 0) < 0 && errno != ENOENT && r == 0)
                        r = -errno;
                if (unlinkat(fd, by_id, 0) < 0 && errno != ENOENT && r == 0)
                        r = -errno;
        }
        return r;
}
