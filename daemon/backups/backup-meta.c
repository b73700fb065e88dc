/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/backups/: backups of instances: records and rules, the writer, restore, import and export. */
#include <errno.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "backup.h"
#include "dlopen-archive.h"

#define TAR_BLOCK 512u
#define TAR_END_BYTES (2u * TAR_BLOCK)
#define ZSTD_SKIPPABLE_MAGIC 0x184D2A50u
#define ZSTD_SKIPPABLE_HEADER 8u

void backup_meta_clear(BackupMeta *meta) {
        g_free(meta->instance);
        g_free(meta->owner);
        g_free(meta->hostname);
        g_free(meta->blueprint);
        g_free(meta->start_map);
        *meta = (BackupMeta) { NULL };
}

static void add_string(JsonBuilder *b, const char *key, const char *value) {
        json_builder_set_member_name(b, key);
        json_builder_add_string_value(b, value ? value : "");
}

static void add_int(JsonBuilder *b, const char *key, gint64 value) {
        json_builder_set_member_name(b, key);
        json_builder_add_int_value(b, value);
}

static void add_boolean(JsonBuilder *b, const char *key, bool value) {
        json_builder_set_member_name(b, key);
        json_builder_add_boolean_value(b, value);
}

char *backup_meta_to_json(const BackupMeta *meta) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonGenerator) gen = json_generator_new();
        g_autoptr(JsonNode) root = NULL;

        json_builder_begin_object(b);
        add_int(b, "format", BACKUP_FORMAT);
        add_string(b, "instance", meta->instance);
        add_string(b, "owner", meta->owner);
        add_string(b, "hostname", meta->hostname);
        add_int(b, "port", meta->port);
        add_string(b, "blueprint", meta->blueprint);
        add_int(b, "player_limit", meta->player_limit);
        add_string(b, "start_map", meta->start_map);
        add_boolean(b, "autostart", meta->autostart);
        json_builder_set_member_name(b, "limits");
        json_builder_begin_object(b);
        for (int k = 0; k < _INSTANCE_LIMIT_N; k++) {
                if (meta->limits[k] == INSTANCE_LIMIT_DEFAULT)
                        add_string(b, instance_limit_key(k), "default");
                else if (meta->limits[k] == INSTANCE_LIMIT_INFINITY)
                        add_string(b, instance_limit_key(k), "infinity");
                else
                        add_int(b, instance_limit_key(k), (gint64) meta->limits[k]);
        }
        json_builder_end_object(b);
        add_int(b, "created", (gint64) meta->created);
        add_boolean(b, "consistent", meta->consistent);
        json_builder_end_object(b);

        root = json_builder_get_root(b);
        json_generator_set_root(gen, root);
        json_generator_set_pretty(gen, TRUE);
        return json_generator_to_data(gen, NULL);
}

static char *member_string(JsonObject *o, const char *name) {
        JsonNode *n = json_object_get_member(o, name);

        if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
                return NULL;
        return g_strdup(json_node_get_string(n));
}

static gint64 member_int(JsonObject *o, const char *name) {
        JsonNode *n = json_object_get_member(o, name);

        if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
                return -1;
        return json_node_get_int(n);
}

int backup_meta_from_json(const char *json, size_t size, BackupMeta *ret, char **ret_error) {
        g_autoptr(JsonParser) parser = json_parser_new();
        g_auto(BackupMeta) meta = { NULL };
        JsonObject *o;
        JsonNode *root;
        gint64 v;

        if (!json_parser_load_from_data(parser, json, (gssize) size, NULL) ||
            !(root = json_parser_get_root(parser)) || !JSON_NODE_HOLDS_OBJECT(root)) {
                *ret_error = g_strdup(BACKUP_META_NAME " is not a JSON object");
                return -EBADMSG;
        }
        o = json_node_get_object(root);
        v = member_int(o, "format");
        if (v != BACKUP_FORMAT) {
                *ret_error = g_strdup_printf(BACKUP_META_NAME " has format %" G_GINT64_FORMAT ", not %d", v, BACKUP_FORMAT);
                return -EBADMSG;
        }
        meta.instance = member_string(o, "instance");
        meta.owner = member_string(o, "owner");
        meta.hostname = member_string(o, "hostname");
        meta.blueprint = member_string(o, "blueprint");
        meta.start_map = member_string(o, "start_map");
        if (!meta.instance || !meta.owner) {
                *ret_error = g_strdup(BACKUP_META_NAME " names no instance or owner");
                return -EBADMSG;
        }
        v = member_int(o, "port");
        meta.port = v > 0 && v <= 65535 ? (uint32_t) v : 0;
        v = member_int(o, "player_limit");
        meta.player_limit = v > 0 && v <= UINT32_MAX ? (uint32_t) v : 0;
        v = member_int(o, "created");
        meta.created = v > 0 ? (uint64_t) v : 0;
        meta.autostart = json_object_has_member(o, "autostart") && json_object_get_boolean_member(o, "autostart");
        meta.consistent = json_object_has_member(o, "consistent") && json_object_get_boolean_member(o, "consistent");
        *ret = meta;
        meta = (BackupMeta) { NULL };
        return 0;
}

/* Writes through libarchive into memory: a tar entry (format pax) or a
 * zstd frame of data (format raw). */
static int write_memory(bool raw, const char *name, const void *data, size_t size, uint64_t mtime_usec,
                        void *buf, size_t buf_size, size_t *ret_used, char **ret_error) {
        struct archive *a = sym_archive_write_new();
        struct archive_entry *e = sym_archive_entry_new();
        int r = 0;

        if (!a || !e) {
                r = -ENOMEM;
                goto finish;
        }
        if ((raw ? sym_archive_write_set_format_raw(a) : sym_archive_write_set_format_pax_restricted(a)) != ARCHIVE_OK ||
            (raw && sym_archive_write_add_filter_zstd(a) != ARCHIVE_OK) ||
            sym_archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
            sym_archive_write_open_memory(a, buf, buf_size, ret_used) != ARCHIVE_OK)
                goto fail;
        sym_archive_entry_set_pathname(e, name);
        sym_archive_entry_set_filetype(e, AE_IFREG);
        sym_archive_entry_set_perm(e, 0644);
        sym_archive_entry_set_size(e, (la_int64_t) size);
        sym_archive_entry_set_mtime(e, (time_t) (mtime_usec / G_USEC_PER_SEC), 0);
        if (sym_archive_write_header(a, e) != ARCHIVE_OK ||
            sym_archive_write_data(a, data, size) != (la_ssize_t) size ||
            sym_archive_write_close(a) != ARCHIVE_OK)
                goto fail;
        goto finish;
fail:
        *ret_error = g_strdup_printf("cannot write the backup's header: %s", sym_archive_error_string(a));
        r = -EIO;
finish:
        sym_archive_entry_free(e);
        sym_archive_write_free(a);
        return r;
}

int backup_meta_header(const char *json, uint64_t mtime_usec, size_t room, void **ret, char **ret_error) {
        size_t tar_size = strlen(json) + 4 * TAR_BLOCK + TAR_END_BYTES, tar_used = 0, frame_used = 0;
        g_autofree uint8_t *tar = g_malloc0(tar_size);
        g_autofree uint8_t *out = g_malloc0(room);
        uint32_t skip;
        int r;

        r = dlopen_archive();
        if (r < 0) {
                *ret_error = g_strdup("cannot write the backup's header: libarchive cannot be loaded");
                return r;
        }
        r = write_memory(false, BACKUP_META_NAME, json, strlen(json), mtime_usec, tar, tar_size, &tar_used, ret_error);
        if (r < 0)
                return r;
        if (tar_used < TAR_END_BYTES + TAR_BLOCK) {
                *ret_error = g_strdup("cannot write the backup's header: too short");
                return -EIO;
        }
        /* Without the end-of-archive blocks: upper/ follows. */
        r = write_memory(true, "data", tar, tar_used - TAR_END_BYTES, mtime_usec, out, room - ZSTD_SKIPPABLE_HEADER,
                         &frame_used, ret_error);
        if (r < 0)
                return r == -EIO ? -E2BIG : r;
        skip = (uint32_t) (room - frame_used - ZSTD_SKIPPABLE_HEADER);
        for (unsigned k = 0; k < 4; k++) {
                out[frame_used + k] = (uint8_t) (ZSTD_SKIPPABLE_MAGIC >> (8 * k));
                out[frame_used + 4 + k] = (uint8_t) (skip >> (8 * k));
        }
        *ret = g_steal_pointer(&out);
        return 0;
}
