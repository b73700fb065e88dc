/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <stdarg.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bus-error.h"
#include "bus-properties.h"
#include "exit-codes.h"
#include "format-util.h"
#include "job-follow.h"
#include "json-output.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "overlay-info.h"
#include "overlay-table.h"
#include "storage-usage.h"
#include "read-input.h"
#include "script-text.h"
#include "table.h"
#include "time-util.h"
#include "verbs.h"
#include "write-output.h"

/* 'overlay set-items NAME -': what standard input may hold. The daemon
 * takes at most 4096 entries; a line is a reference or a URL. */
#define STDIN_REFS_MAX 4096
#define STDIN_LINE_MAX 4096
/* ... and at most this many bytes in all: every reference on a line of its
 * own at the longest. */
#define STDIN_SIZE_MAX ((size_t) STDIN_REFS_MAX * (STDIN_LINE_MAX + 1))

/* Properties.GetAll(org.left4me.Overlay) on path; the reply owns the
 * strings in *info. Returns 0, a negative errno (logged) or an exit code
 * (logged, with what as the context). */
static int get_overlay_info(sd_bus *bus, const char *path, const char *what,
                            sd_bus_message **ret_reply, OverlayInfo *info) {
        g_autoptr(sd_bus_message) reply = NULL;
        int r;

        r = bus_get_all_properties(bus, path, L4M_OVERLAY_INTERFACE, what, &reply);
        if (r != 0)
                return r;

        *info = (OverlayInfo) { .path = path };
        r = overlay_info_from_properties(reply, info);
        if (r < 0)
                return bus_log_parse_error(r);

        *ret_reply = g_steal_pointer(&reply);
        return 0;
}

/* Manager.GetOverlay(name): the overlay's object path, owned by *ret_reply. */
static int get_overlay_path(sd_bus *bus, const char *name, const char *what,
                            sd_bus_message **ret_reply, const char **ret_path) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        int r;

        r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE,
                               "GetOverlay", &error, &reply, "s", name);
        if (r < 0)
                return log_bus_error(&error, r, "%s", what);
        r = sd_bus_message_read(reply, "o", ret_path);
        if (r < 0)
                return bus_log_parse_error(r);

        *ret_reply = g_steal_pointer(&reply);
        return 0;
}

/* Looks the overlay up and calls member on it with the given arguments;
 * errors are logged with what as the context. The reply (if asked for)
 * goes to *ret_reply. Returns 0 or the exit code to use. */
static int call_on_overlay(sd_bus *bus, const char *name, const char *what, const char *member,
                           sd_bus_message **ret_reply, const char *types, ...) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) path_reply = NULL, reply = NULL;
        const char *path;
        va_list ap;
        int r;

        r = get_overlay_path(bus, name, what, &path_reply, &path);
        if (r != 0)
                return r;

        va_start(ap, types);
        r = sd_bus_call_methodv(bus, L4M_BUS_NAME, path, L4M_OVERLAY_INTERFACE, member,
                                &error, &reply, types, ap);
        va_end(ap);
        if (r < 0)
                return log_bus_error(&error, r, "%s", what);
        if (ret_reply)
                *ret_reply = g_steal_pointer(&reply);
        return 0;
}

static int print_overlay_json(const OverlayInfo *info) {
        g_autoptr(Table) table = overlay_table_new(true);

        overlay_table_add(table, info);
        return table_output(table, TABLE_OBJECT, TABLE_JSON);
}

/* l4mctl overlay list */
int verb_overlay_list(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(GArray) overlays = NULL, usage = NULL;
        g_autoptr(Table) table = NULL;
        int r;

        assert(bus);
        assert(args);

        r = overlay_list_fetch_sized(bus, &reply, &overlays);
        if (r == 1)
                r = overlay_list_fetch(bus, &reply, &overlays);
        if (r != 0)
                return r;

        r = storage_usage_fetch(bus, &usage);
        if (r != 0)
                return r;

        table = overlay_table_new(false);
        for (guint i = 0; i < overlays->len; i++) {
                OverlayInfo *info = &g_array_index(overlays, OverlayInfo, i);
                g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;

                /* ListOverlays does not carry it (ListObjects does); an
                 * overlay deleted meanwhile shows none. */
                if (info->path && !info->have_size && sd_bus_get_property_trivial(bus, L4M_BUS_NAME, info->path, L4M_OVERLAY_INTERFACE,
                                                              "Size", &error, 't', &info->size) >= 0)
                        info->have_size = true;
                overlay_table_add(table, info);
        }
        r = table_output(table, TABLE_ROWS, table_flags(args));
        if (r != 0 || args->json)
                return r;
        /* Each owner's use against [Overlays] OwnerMaxBytes=: a Workshop
         * cache file counts once for all of an owner's overlays, so the
         * sizes above may add up to more. */
        for (guint i = 0; i < usage->len; i++) {
                const StorageUsage *u = &g_array_index(usage, StorageUsage, i);
                char text[STORAGE_USAGE_FORMAT_MAX];

                printf("%s %s: %s\n", i == 0 ? "\nStorage" : "       ", u->owner,
                       storage_usage_format(text, sizeof text, u));
        }
        return 0;
}

/* l4mctl overlay create NAME --type TYPE. The name and type go to the
 * daemon as given: it is the one that validates them. */
int verb_overlay_create(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL, props = NULL;
        g_autofree char *what = NULL;
        const char *name = argv[0], *path;
        OverlayInfo info;
        int r;

        assert(bus);
        assert(args);
        assert(name);
        assert(args->type);

        what = g_strdup_printf("cannot create overlay \"%s\"", name);

        r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE,
                               "CreateOverlay", &error, &reply, "ssa{sv}", name, args->type, 0);
        if (r < 0)
                return log_bus_error(&error, r, "%s", what);
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return bus_log_parse_error(r);

        if (!args->json) {
                printf("%s\n", path);
                return 0;
        }

        g_free(what);
        what = g_strdup_printf("overlay \"%s\" was created as %s, but cannot read it back", name, path);
        r = get_overlay_info(bus, path, what, &props, &info);
        if (r != 0)
                return r;
        return print_overlay_json(&info);
}

/* WorkshopItemDetails, one item a line: what the last build found. */
static int print_item_details(sd_bus *bus, const char *path) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        const char *title, *status;
        uint64_t id, bytes, updated;
        unsigned n = 0;
        int r;

        r = sd_bus_get_property(bus, L4M_BUS_NAME, path, L4M_OVERLAY_INTERFACE, "WorkshopItemDetails", &error, &reply,
                                "a(tstts)");
        if (r < 0)
                return log_bus_error(&error, r, "cannot read the item details");
        r = sd_bus_message_enter_container(reply, 'a', "(tstts)");
        if (r < 0)
                return bus_log_parse_error(r);
        while ((r = sd_bus_message_read(reply, "(tstts)", &id, &title, &bytes, &updated, &status)) > 0) {
                char size[FORMAT_BYTES_MAX], when[TIMESTAMP_MAX];

                if (n++ == 0)
                        printf("Last build's items:\n");
                printf("  %" PRIu64 " %s %s %s %s\n", id, status, format_bytes(size, sizeof size, bytes),
                       format_timestamp(when, sizeof when, updated), *title ? title : "-");
        }
        if (r < 0)
                return bus_log_parse_error(r);
        return 0;
}

/* l4mctl overlay show NAME */
int verb_overlay_show(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_autoptr(sd_bus_message) path_reply = NULL, props = NULL;
        g_autofree char *what = NULL;
        const char *name = argv[0], *path;
        char created[TIMESTAMP_MAX], last_build[TIMESTAMP_MAX], size[FORMAT_BYTES_MAX];
        OverlayInfo info;
        uint64_t id;
        int r;

        assert(bus);
        assert(args);
        assert(name);

        what = g_strdup_printf("cannot show overlay \"%s\"", name);
        r = get_overlay_path(bus, name, what, &path_reply, &path);
        if (r != 0)
                return r;
        r = get_overlay_info(bus, path, what, &props, &info);
        if (r != 0)
                return r;

        if (args->json)
                return print_overlay_json(&info);

#define FIELD(s) ((s) && (s)[0] ? (s) : "-")
        printf("Name: %s\n", FIELD(info.name));
        if (overlay_id_from_path(path, &id) >= 0)
                printf("Id: %" PRIu64 "\n", id);
        else
                printf("Id: -\n");
        printf("Type: %s\n", FIELD(info.type));
        printf("Owner: %s\n", FIELD(info.owner));
        printf("State: %s\n", FIELD(info.state));
        printf("Created: %s\n", format_timestamp(created, sizeof created, info.created));
        printf("LastBuild: %s\n", info.have_last_build ?
               format_timestamp(last_build, sizeof last_build, info.last_build) : "-");
        if (info.have_size)
                printf("Size: %" PRIu64 " (%s)\n", info.size,
                       format_bytes(size, sizeof size, info.size));
        else
                printf("Size: -\n");
        printf("Items:");
        for (size_t i = 0; i < info.items.n; i++)
                printf(" %" PRIu64, info.items.values[i]);
        printf("%s\n", info.items.n > 0 ? "" : " -");
        if (info.type && strcmp(info.type, "workshop") == 0) {
                r = print_item_details(bus, path);
                if (r != 0)
                        return r;
        }
        if (info.type && strcmp(info.type, "script") == 0) {
                if (info.have_script_size && info.script_size > 0)
                        printf("Script: %" PRIu64 " bytes\n", info.script_size);
                else
                        printf("Script: -\n");
        }
        printf("Path: %s\n", path);
#undef FIELD
        return 0;
}

/* l4mctl overlay delete NAME */
int verb_overlay_delete(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_autofree char *what = NULL;

        assert(bus);
        assert(args);
        assert(argv[0]);

        what = g_strdup_printf("cannot delete overlay \"%s\"", argv[0]);
        return call_on_overlay(bus, argv[0], what, "Delete", NULL, NULL);
}

/* Read references from standard input: one a line, surrounding blanks
 * ignored, blank lines and lines starting with '#' skipped. Returns 0, or
 * the exit code (logged): L4M_EXIT_USAGE if the input is over the limits or
 * not text. */
static int read_refs_from_stdin(GPtrArray *refs) {
        g_autofree char *text = NULL;
        const char *p, *end;
        unsigned long line_no = 0;
        size_t size = 0;
        int r;

        r = read_input("-", STDIN_SIZE_MAX, NULL, "a list of references", &text, &size);
        if (r != 0)
                return r;

        for (p = text, end = text + size; p < end; ) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t len = (nl ? nl : end) - p;
                g_autofree char *line = NULL;

                line_no++;
                /* The first problem on the line is named: a NUL byte before
                 * the length, if it comes within STDIN_LINE_MAX + 1 bytes. */
                if (memchr(p, '\0', MIN(len, (size_t) STDIN_LINE_MAX + 1))) {
                        log_error("standard input, line %lu: contains a NUL byte", line_no);
                        return L4M_EXIT_USAGE;
                }
                if (len > STDIN_LINE_MAX) {
                        log_error("standard input, line %lu: longer than %u bytes",
                                  line_no, STDIN_LINE_MAX);
                        return L4M_EXIT_USAGE;
                }
                line = g_strndup(p, len);
                p += len + (nl ? 1 : 0);

                g_strstrip(line);
                if (line[0] == '\0' || line[0] == '#')
                        continue;
                if (!g_utf8_validate(line, -1, NULL)) {
                        log_error("standard input, line %lu: not valid UTF-8", line_no);
                        return L4M_EXIT_USAGE;
                }
                if (refs->len >= STDIN_REFS_MAX) {
                        log_error("standard input holds more than %u references", STDIN_REFS_MAX);
                        return L4M_EXIT_USAGE;
                }
                g_ptr_array_add(refs, g_steal_pointer(&line));
        }

        return 0;
}

/* l4mctl overlay set-items NAME REF... | NAME -. The references go to
 * the daemon as given: it validates them and names a bad one. */
int verb_overlay_set_items(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) path_reply = NULL, m = NULL;
        g_autoptr(GPtrArray) refs = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *what = NULL;
        const char *name = argv[0], *path;
        int r;

        assert(bus);
        assert(args);
        assert(name);
        assert(argv[1]);

        if (strcmp(argv[1], "-") == 0) {
                r = read_refs_from_stdin(refs);
                if (r != 0)
                        return r;
        } else
                for (size_t i = 1; argv[i]; i++)
                        g_ptr_array_add(refs, g_strdup(argv[i]));
        g_ptr_array_add(refs, NULL);

        what = g_strdup_printf("cannot set the items of overlay \"%s\"", name);
        r = get_overlay_path(bus, name, what, &path_reply, &path);
        if (r != 0)
                return r;

        r = sd_bus_message_new_method_call(bus, &m, L4M_BUS_NAME, path, L4M_OVERLAY_INTERFACE,
                                           "SetWorkshopItems");
        if (r < 0)
                return bus_log_create_error(r);
        r = sd_bus_message_append_strv(m, (char **) refs->pdata);
        if (r < 0)
                return bus_log_create_error(r);

        r = sd_bus_call(bus, m, 0, &error, NULL);
        if (r < 0)
                return log_bus_error(&error, r, "%s", what);
        return 0;
}

/* l4mctl overlay set-source NAME URL [CHECKSUM]: where an archive overlay's
 * Build fetches from; an empty URL removes it. The daemon validates both. */
int verb_overlay_set_source(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_autofree char *what = NULL;

        assert(bus);
        assert(args);
        assert(argv[0] && argv[1]);

        what = g_strdup_printf("cannot set the source of overlay \"%s\"", argv[0]);
        return call_on_overlay(bus, argv[0], what, "SetArchiveSource", NULL,
                               "ss", argv[1], argv[2] ? argv[2] : "");
}

/* Calls member (Build, Wipe) on overlay name, which answers a job's path;
 * then reports or follows the job. verb says what failed ("build"). */
static int start_overlay_job(sd_bus *bus, const CtlArgs *args, const char *name, const char *verb,
                             const char *member, bool with_options) {
        g_autoptr(sd_bus_message) reply = NULL;
        g_autofree char *what = g_strdup_printf("cannot %s overlay \"%s\"", verb, name);
        const char *job_path;
        int r;

        if (with_options)
                r = call_on_overlay(bus, name, what, member, &reply, "a{sv}", 0);
        else
                r = call_on_overlay(bus, name, what, member, &reply, NULL);
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "o", &job_path);
        if (r < 0)
                return bus_log_parse_error(r);

        return job_queued(bus, args, job_path);
}

static int append_import_options(sd_bus_message *m, const CtlArgs *args) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        if (args->subdir) {
                r = sd_bus_message_append(m, "{sv}", "subdir", "s", args->subdir);
                if (r < 0)
                        return r;
        }
        if (args->have_strip_components) {
                r = sd_bus_message_append(m, "{sv}", "strip_components", "u", args->strip_components);
                if (r < 0)
                        return r;
        }
        if (args->merge) {
                r = sd_bus_message_append(m, "{sv}", "mode", "s", "merge");
                if (r < 0)
                        return r;
        }
        if (args->name_encoding) {
                r = sd_bus_message_append(m, "{sv}", "name_encoding", "s", args->name_encoding);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

/* l4mctl overlay build NAME [--subdir DIR] [--strip-components N] [--merge]
 * [--wait]: the options are for an archive overlay's fetched archive (the
 * daemon refuses them for other types). */
int verb_overlay_build(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) path_reply = NULL, call = NULL, reply = NULL;
        g_autofree char *what = NULL;
        const char *path, *job_path;
        int r;

        assert(bus);
        assert(args);
        assert(argv[0]);

        what = g_strdup_printf("cannot build overlay \"%s\"", argv[0]);
        r = get_overlay_path(bus, argv[0], what, &path_reply, &path);
        if (r != 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &call, L4M_BUS_NAME, path, L4M_OVERLAY_INTERFACE, "Build");
        if (r >= 0)
                r = append_import_options(call, args);
        if (r < 0)
                return log_error_errno(r, "Cannot build the Build call: %s", STRERROR(r));
        r = sd_bus_call(bus, call, 0, &error, &reply);
        if (r < 0)
                return log_bus_error(&error, r, "%s", what);
        r = sd_bus_message_read(reply, "o", &job_path);
        if (r < 0)
                return bus_log_parse_error(r);
        return job_queued(bus, args, job_path);
}

/* l4mctl overlay import NAME FILE|- [--subdir DIR] [--strip-components N]
 * [--merge] [--name-encoding CHARSET] [--wait]. The daemon reads the archive from the descriptor we
 * pass, at its own pace; the file need not be readable by it. */
int verb_overlay_import(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_autoptr(sd_bus_message) path_reply = NULL, m = NULL;
        _cleanup_close_ int file_fd = -1;
        g_autofree char *what = NULL;
        const char *name = argv[0], *file = argv[1], *path;
        int r;

        assert(bus);
        assert(args);
        assert(name);
        assert(file);

        what = g_strdup_printf("cannot import into overlay \"%s\"", name);

        file_fd = input_open(file, what);
        if (file_fd < 0)
                return file_fd;

        r = get_overlay_path(bus, name, what, &path_reply, &path);
        if (r != 0)
                return r;

        r = sd_bus_message_new_method_call(bus, &m, L4M_BUS_NAME, path, L4M_OVERLAY_INTERFACE,
                                           "ImportArchive");
        if (r < 0)
                return bus_log_create_error(r);
        r = sd_bus_message_append(m, "h", file_fd);
        if (r < 0)
                return bus_log_create_error(r);
        r = append_import_options(m, args);
        if (r < 0)
                return bus_log_create_error(r);

        return job_call_with_input(bus, args, &m, &file_fd, what);
}

/* Read the script that 'overlay set-script' sends from file ("-":
 * standard input) and check that it can go: at most SCRIPT_SIZE_MAX bytes,
 * UTF-8 without NUL bytes. Returns 0, or the exit code (logged with what
 * as the context): 1 if it cannot be read, L4M_EXIT_USAGE if it is not
 * acceptable. */
static int read_script(const char *file, const char *what, char **ret) {
        g_autofree char *text = NULL, *problem = NULL;
        size_t size = 0;
        int r;

        r = read_input(file, SCRIPT_SIZE_MAX, what, "a script", &text, &size);
        if (r != 0)
                return r;

        r = script_text_check(text, size, &problem);
        if (r < 0) {
                log_error("%s: %s, %s (a script must be UTF-8 text)", what, input_name(file), problem);
                return L4M_EXIT_USAGE;
        }

        *ret = g_steal_pointer(&text);
        return 0;
}

/* l4mctl overlay set-script NAME FILE|-: the script goes to the daemon
 * exactly as read (the daemon checks the type and the size again). */
int verb_overlay_set_script(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_autofree char *what = NULL, *text = NULL;
        int r;

        assert(bus);
        assert(args);
        assert(argv[0] && argv[1]);

        what = g_strdup_printf("cannot set the script of overlay \"%s\"", argv[0]);
        r = read_script(argv[1], what, &text);
        if (r != 0)
                return r;

        return call_on_overlay(bus, argv[0], what, "SetScript", NULL, "s", text);
}

/* l4mctl overlay script NAME: the stored script, byte for byte. */
int verb_overlay_script(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_autoptr(sd_bus_message) reply = NULL;
        g_autofree char *what = NULL;
        const char *text;
        size_t size;
        int r;

        assert(bus);
        assert(args);
        assert(argv[0]);

        what = g_strdup_printf("cannot read the script of overlay \"%s\"", argv[0]);
        r = call_on_overlay(bus, argv[0], what, "GetScript", &reply, NULL);
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "s", &text);
        if (r < 0)
                return bus_log_parse_error(r);

        size = strlen(text);
        if (size > 0 && fwrite(text, 1, size, stdout) != size) {
                r = errno > 0 ? -errno : -EIO;
                return log_error_errno(r, "cannot write output: %s", STRERROR(r));
        }
        return 0;
}

/* l4mctl overlay wipe NAME [--wait] */
int verb_overlay_wipe(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        assert(bus);
        assert(args);
        assert(argv[0]);

        return start_overlay_job(bus, args, argv[0], "wipe", "Wipe", false);
}

/* l4mctl overlay export NAME FILE|-: the daemon streams the overlay's
 * content (a tar.zst) through the descriptor it returns; FILE appears only
 * once the stream has ended. */
int verb_overlay_export(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_autoptr(sd_bus_message) reply = NULL;
        g_autofree char *what = NULL;
        int fd, r;

        assert(bus);
        assert(args);
        assert(argv[0] && argv[1]);

        what = g_strdup_printf("cannot export overlay \"%s\"", argv[0]);
        r = call_on_overlay(bus, argv[0], what, "Export", &reply, NULL);
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "h", &fd);
        if (r < 0)
                return bus_log_parse_error(r);

        {
                ZstdFrames frames;

                zstd_frames_init(&frames);
                return output_copy_fd(fd, argv[1], what, &frames);
        }
}
