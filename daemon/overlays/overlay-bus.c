/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "archive-import.h"
#include "blueprint.h"
#include "bus-util.h"
#include "caller.h"
#include "instance.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "job.h"
#include "overlay.h"
#include "overlay-wipe.h"
#include "script-build.h"
#include "steam-api.h"
#include "store.h"
#include "workshop-build.h"

static int property_get_type(sd_bus *bus, const char *path, const char *interface,
                             const char *property, sd_bus_message *reply, void *userdata,
                             sd_bus_error *error) {
        Overlay *o = userdata;
        return sd_bus_message_append(reply, "s", l4m_overlay_type_to_string(o->type));
}

/* Owners act on their own overlays with owner_action; anything else is
 * administration. */
static int verify_overlay_access(Overlay *o, sd_bus_message *msg, const char *owner_action, sd_bus_error *error) {
        g_autofree char *caller = NULL;
        int r;

        r = caller_principal(o->manager, msg, &caller);
        if (r < 0)
                return bus_error_internal(error, r, "Identifying the caller");
        return polkit_verify(o->manager->polkit, msg,
                             strcmp(caller, o->owner) == 0 ? owner_action : L4M_ACTION_ADMIN, error);
}

static int refuse_if_busy(Overlay *o, sd_bus_error *error) {
        g_autofree char *target = overlay_job_target(o);
        Job *j = manager_find_active_job_for(o->manager, target);

        if (!j)
                return 0;
        return sd_bus_error_setf(error, L4M_ERROR_BUSY, "Overlay \"%s\" has job %" G_GUINT64_FORMAT " (%s) %s.",
                                 o->name, j->id, j->kind_name, job_state_to_string(j->state));
}

/* For every method that changes an overlay: authorised (> 0), pending
 * polkit (0, return 1), or refused (< 0), including Busy while a job works
 * on it. */
static int authorize_action(Overlay *o, sd_bus_message *msg, const char *owner_action, sd_bus_error *error) {
        int r = verify_overlay_access(o, msg, owner_action, error);

        if (r <= 0)
                return r;
        r = refuse_if_busy(o, error);
        return r < 0 ? r : 1;
}

static int authorize_change(Overlay *o, sd_bus_message *msg, sd_bus_error *error) {
        return authorize_action(o, msg, L4M_ACTION_OVERLAY_MANAGE, error);
}

static int method_delete(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Overlay *o = userdata;
        Manager *m = o->manager;
        g_autoptr(GPtrArray) users = NULL;
        g_autofree char *path = NULL;
        int r;

        r = authorize_change(o, msg, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        /* The store would refuse too (RESTRICT); say who uses it. */
        users = manager_blueprints_using_overlay(m, o->id);
        if (users) {
                g_autofree char *list = caller_names_join(m, msg, users, m->blueprints_by_name,
                                                          offsetof(Blueprint, owner));

                return sd_bus_error_setf(error, L4M_ERROR_BUSY, "Overlay \"%s\" is used by blueprint(s) %s.",
                                         o->name, list);
        }
        /* No blueprint names it any more, but a running server may still
         * have it mounted (its stack is the one it started with). */
        users = manager_instances_using_overlay(m, o->id);
        if (users) {
                g_autofree char *list = caller_names_join(m, msg, users, m->instances_by_name,
                                                          offsetof(Instance, owner));

                return sd_bus_error_setf(error, L4M_ERROR_BUSY,
                                         "Overlay \"%s\" is mounted by running instance(s) %s; stop them first.",
                                         o->name, list);
        }

        /* Announce while the object still resolves, then drop it. */
        path = g_strdup(o->path);
        r = sd_bus_emit_object_removed(m->bus, path);
        if (r < 0)
                log_warning_errno(r, "Cannot announce removal of %s: %s", path, STRERROR(r));

        r = overlay_delete(o);
        if (r < 0) {
                (void) sd_bus_emit_object_added(m->bus, path);
                return bus_error_internal(error, r, "Deleting the overlay");
        }

        return sd_bus_reply_method_return(msg, NULL);
}

static int property_get_items(sd_bus *bus, const char *path, const char *interface,
                              const char *property, sd_bus_message *reply, void *userdata,
                              sd_bus_error *error) {
        Overlay *o = userdata;
        return sd_bus_message_append_array(reply, 't', o->items->data, o->items->len * sizeof(uint64_t));
}

static int method_set_workshop_items(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(uint64_t));
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
        Overlay *o = userdata;
        const char *ref;
        unsigned index = 0;
        int r;

        if (o->type != L4M_OVERLAY_WORKSHOP)
                return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT,
                                         "Overlay \"%s\" is a %s overlay; only Workshop overlays have items.",
                                         o->name, l4m_overlay_type_to_string(o->type));

        r = sd_bus_message_enter_container(msg, 'a', "s");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(msg, "s", &ref)) > 0) {
                uint64_t id;

                if (index >= OVERLAY_ITEMS_MAX)
                        return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT,
                                                 "Too many items: at most %u.", OVERLAY_ITEMS_MAX);
                if (workshop_ref_parse(ref, &id) < 0)
                        return bus_error_setf_valid(error, L4M_ERROR_INVALID_ARGUMENT,
                                                    "Item %u \"%.80s\" is neither a Workshop id nor a Steam Workshop URL.",
                                                    index + 1, ref);
                index++;
                /* Duplicates add nothing; the first place counts. */
                if (g_hash_table_contains(seen, &id))
                        continue;
                g_array_append_val(ids, id);
                g_hash_table_add(seen, g_memdup2(&id, sizeof id));
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(msg);
        if (r < 0)
                return r;

        r = authorize_change(o, msg, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = overlay_set_items(o, (const uint64_t *) ids->data, ids->len);
        if (r < 0)
                return bus_error_internal(error, r, "Storing the items");
        (void) sd_bus_emit_properties_changed(o->manager->bus, o->path, L4M_OVERLAY_INTERFACE, "Items", NULL);
        return sd_bus_reply_method_return(msg, NULL);
}

static int reply_job(sd_bus_message *msg, Overlay *o, const JobKind *kind, void *data, sd_bus_error *error) {
        g_autofree char *target = overlay_job_target(o);
        g_autofree char *caller = NULL;
        g_autoptr(GPtrArray) users = NULL;
        Job *j;
        int r;

        /* Lower layers must not change under a mounted stack
         * (docs/ARCHITECTURE.md, "Authorisation"):
         * Build, Wipe and ImportArchive wait until its servers stopped. */
        users = manager_instances_using_overlay(o->manager, o->id);
        if (users) {
                g_autofree char *list = caller_names_join(o->manager, msg, users, o->manager->instances_by_name,
                                                          offsetof(Instance, owner));
                kind->free_data(data);
                return sd_bus_error_setf(error, L4M_ERROR_BUSY, "Overlay \"%s\" is in use by running instance(s) %s; stop them first.",
                                         o->name, list);
        }
        r = caller_principal(o->manager, msg, &caller);
        if (r < 0) {
                kind->free_data(data);
                return bus_error_internal(error, r, "Identifying the caller");
        }
        r = job_submit(o->manager, kind, target, caller, data, &j);
        if (r == -EBUSY)
                return refuse_if_busy(o, error);
        if (r < 0)
                return bus_error_internal(error, r, "Queuing the job");
        return sd_bus_reply_method_return(msg, "o", j->path);
}

static int method_build(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Overlay *o = userdata;
        int r;

        r = bus_message_refuse_options(msg, error);
        if (r < 0)
                return r;
        switch (o->type) {
        case L4M_OVERLAY_WORKSHOP:
                if (o->items->len == 0)
                        return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT,
                                                 "Overlay \"%s\" has no items: set some with SetWorkshopItems first.", o->name);
                break;
        case L4M_OVERLAY_ARCHIVE:
                if (!*o->source_url)
                        return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT,
                                                 "Overlay \"%s\" has no source URL: set one with SetArchiveSource, or use ImportArchive.",
                                                 o->name);
                break;
        case L4M_OVERLAY_SCRIPT:
                if (o->script_size == 0)
                        return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT,
                                                 "Overlay \"%s\" has no script: set one with SetScript first.", o->name);
                break;
        default:
                return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT,
                                         "Building %s overlays is not supported.", l4m_overlay_type_to_string(o->type));
        }

        /* Running a script is an action of its own: it is code, run on the host. */
        r = authorize_action(o, msg, o->type == L4M_OVERLAY_SCRIPT ? L4M_ACTION_SCRIPT_RUN : L4M_ACTION_OVERLAY_MANAGE,
                             error);
        if (r <= 0)
                return r < 0 ? r : 1;

        switch (o->type) {
        case L4M_OVERLAY_ARCHIVE:
                return reply_job(msg, o, &archive_fetch_kind, archive_fetch_new(o), error);
        case L4M_OVERLAY_SCRIPT:
                return reply_job(msg, o, &script_build_kind, script_build_new(o), error);
        default:
                return reply_job(msg, o, &workshop_build_kind, workshop_build_new(o), error);
        }
}

static int method_wipe(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Overlay *o = userdata;
        int r;

        r = authorize_change(o, msg, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return reply_job(msg, o, &overlay_wipe_kind, overlay_wipe_new(o), error);
}

static int method_set_script(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Overlay *o = userdata;
        const char *script;
        int r;

        r = sd_bus_message_read(msg, "s", &script);
        if (r < 0)
                return r;
        if (o->type != L4M_OVERLAY_SCRIPT)
                return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT,
                                         "Overlay \"%s\" is a %s overlay; only script overlays have a script.",
                                         o->name, l4m_overlay_type_to_string(o->type));
        if (strlen(script) > OVERLAY_SCRIPT_MAX)
                return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT,
                                         "The script has %zu bytes; at most %u are allowed.", strlen(script), OVERLAY_SCRIPT_MAX);

        r = authorize_change(o, msg, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = overlay_set_script(o, script);
        if (r < 0)
                return bus_error_internal(error, r, "Storing the script");
        (void) sd_bus_emit_properties_changed(o->manager->bus, o->path, L4M_OVERLAY_INTERFACE, "ScriptSize", NULL);
        return sd_bus_reply_method_return(msg, NULL);
}

/* The script is for its owner's eyes (and administrators'): it may hold
 * anything, a download token say. */
static int method_get_script(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autofree char *script = NULL;
        Overlay *o = userdata;
        int r;

        if (o->type != L4M_OVERLAY_SCRIPT)
                return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT,
                                         "Overlay \"%s\" is a %s overlay; only script overlays have a script.",
                                         o->name, l4m_overlay_type_to_string(o->type));
        r = verify_overlay_access(o, msg, L4M_ACTION_READ, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = store_overlay_get_script(o->manager->db, o->id, &script);
        if (r < 0)
                return bus_error_internal(error, r, "Reading the script");
        return sd_bus_reply_method_return(msg, "s", script);
}

static bool is_hex(const char *s, size_t len) {
        if (strlen(s) != len)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!g_ascii_isxdigit(s[i]))
                        return false;
        return true;
}

static bool checksum_is_valid(const char *s) {
        return !*s ||
               (g_str_has_prefix(s, "md5:") && is_hex(s + 4, 32)) ||
               (g_str_has_prefix(s, "sha256:") && is_hex(s + 7, 64));
}

/* An http(s) URL of printable ASCII, without user:password@: properties
 * and job messages are readable by every local user, so no secret may
 * ride along in it. */
static bool source_url_is_valid(const char *s) {
        const char *authority, *end;

        if (g_str_has_prefix(s, "http://"))
                authority = s + strlen("http://");
        else if (g_str_has_prefix(s, "https://"))
                authority = s + strlen("https://");
        else
                return false;
        if (strlen(s) > 2048)
                return false;
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p <= ' ' || (unsigned char) *p >= 0x7f)
                        return false;
        end = authority + strcspn(authority, "/?#");
        return !memchr(authority, '@', (size_t) (end - authority));
}

static int method_set_archive_source(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Overlay *o = userdata;
        const char *url, *checksum;
        int r;

        r = sd_bus_message_read(msg, "ss", &url, &checksum);
        if (r < 0)
                return r;
        if (o->type != L4M_OVERLAY_ARCHIVE)
                return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT,
                                         "Overlay \"%s\" is a %s overlay; only archive overlays have a source URL.",
                                         o->name, l4m_overlay_type_to_string(o->type));
        if (*url && !source_url_is_valid(url))
                return bus_error_setf_valid(error, L4M_ERROR_INVALID_ARGUMENT,
                                            "Invalid source URL \"%.80s\": an http or https URL of printable ASCII, without user:password@.", url);
        if (!checksum_is_valid(checksum))
                return bus_error_setf_valid(error, L4M_ERROR_INVALID_ARGUMENT,
                                            "Invalid checksum \"%.80s\": empty, md5:<32 hex digits> or sha256:<64 hex digits>.", checksum);

        r = authorize_change(o, msg, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = overlay_set_source(o, url, checksum);
        if (r < 0)
                return bus_error_internal(error, r, "Storing the source");
        (void) sd_bus_emit_properties_changed(o->manager->bus, o->path, L4M_OVERLAY_INTERFACE,
                                              "SourceUrl", "SourceChecksum", NULL);
        return sd_bus_reply_method_return(msg, NULL);
}

#define SUBDIR_DEPTH_MAX 16u
#define NAME_ENCODING_MAX 32u
#define NAME_ENCODING_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."

/* A relative path of at most SUBDIR_DEPTH_MAX plain components, for the
 * subdir option. */
static bool subdir_is_valid(const char *s) {
        g_auto(GStrv) parts = NULL;

        if (!s || !*s || s[0] == '/' || strlen(s) > 1024 || !g_utf8_validate(s, -1, NULL))
                return false;
        parts = g_strsplit(s, "/", -1);
        if (g_strv_length(parts) > SUBDIR_DEPTH_MAX)
                return false;
        for (size_t i = 0; parts[i]; i++)
                if (!*parts[i] || strcmp(parts[i], ".") == 0 || strcmp(parts[i], "..") == 0 ||
                    strlen(parts[i]) > 255)
                        return false;
        return true;
}

/* An iconv name of a character set (CP936, windows-1251, ISO-8859-2)
 * that iconv can convert to UTF-8, for the name_encoding option. */
static bool name_encoding_is_valid(const char *s) {
        GIConv cd;

        if (!s || !*s || strlen(s) > NAME_ENCODING_MAX || strspn(s, NAME_ENCODING_CHARS) != strlen(s))
                return false;
        cd = g_iconv_open("UTF-8", s);
        if (cd == (GIConv) -1)
                return false;
        g_iconv_close(cd);
        return true;
}

typedef struct ImportOptions {
        char *subdir;
        unsigned strip;
        bool merge;
        char *name_encoding;
} ImportOptions;

static void import_options_clear(ImportOptions *o) {
        g_free(o->subdir);
        g_free(o->name_encoding);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(ImportOptions, import_options_clear)

static int import_option(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error) {
        ImportOptions *o = userdata;
        const char *s;
        uint32_t u;
        int r;

        if (strcmp(key, "subdir") == 0) {
                r = sd_bus_message_read(msg, "v", "s", &s);
                if (r < 0)
                        return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT, "Option subdir takes a string.");
                if (!subdir_is_valid(s))
                        return bus_error_setf_valid(error, L4M_ERROR_INVALID_ARGUMENT,
                                                    "Invalid subdir \"%.80s\": a relative path without \".\" or \"..\".", s);
                g_free(o->subdir);
                o->subdir = g_strdup(s);
                return 1;
        }
        if (strcmp(key, "strip_components") == 0) {
                r = sd_bus_message_read(msg, "v", "u", &u);
                if (r < 0)
                        return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT, "Option strip_components takes a uint32.");
                if (u > ARCHIVE_IMPORT_STRIP_MAX)
                        return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT,
                                                 "strip_components is at most %u.", ARCHIVE_IMPORT_STRIP_MAX);
                o->strip = u;
                return 1;
        }
        if (strcmp(key, "mode") == 0) {
                r = sd_bus_message_read(msg, "v", "s", &s);
                if (r < 0)
                        return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT, "Option mode takes a string.");
                if (strcmp(s, "replace") == 0)
                        o->merge = false;
                else if (strcmp(s, "merge") == 0)
                        o->merge = true;
                else
                        return bus_error_setf_valid(error, L4M_ERROR_INVALID_ARGUMENT,
                                                    "Invalid mode \"%.32s\": replace or merge.", s);
                return 1;
        }
        if (strcmp(key, "name_encoding") == 0) {
                r = sd_bus_message_read(msg, "v", "s", &s);
                if (r < 0)
                        return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT, "Option name_encoding takes a string.");
                if (!name_encoding_is_valid(s))
                        return bus_error_setf_valid(error, L4M_ERROR_INVALID_ARGUMENT,
                                                    "Unknown name_encoding \"%.40s\": the name of a character set, "
                                                    "such as CP936, CP1251 or ISO-8859-2.", s);
                g_free(o->name_encoding);
                o->name_encoding = g_strdup(s);
                return 1;
        }
        return 0;
}

static int method_import_archive(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_auto(ImportOptions) options = { .subdir = NULL };
        _cleanup_close_ int fd = -1;
        Overlay *o = userdata;
        struct stat st;
        int passed, flags, r;

        r = sd_bus_message_read(msg, "h", &passed);
        if (r < 0)
                return r;
        r = bus_message_read_options(msg, import_option, &options, error);
        if (r < 0)
                return r;
        if (o->type != L4M_OVERLAY_ARCHIVE)
                return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT,
                                         "Overlay \"%s\" is a %s overlay; archives go into archive overlays.",
                                         o->name, l4m_overlay_type_to_string(o->type));

        /* A readable regular file or a pipe; nothing else is an archive. */
        if (fstat(passed, &st) < 0)
                return bus_error_internal(error, -errno, "Inspecting the passed file descriptor");
        if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))
                return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT,
                                         "The passed file descriptor is a %s, not a file or a pipe.",
                                         S_ISDIR(st.st_mode) ? "directory" : S_ISSOCK(st.st_mode) ? "socket" :
                                         S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "device" : "special file");
        /* A file on a FUSE mount can block a read forever, beyond the reach
         * of cancellation: its owner controls the server. */
        if (S_ISREG(st.st_mode)) {
                struct statfs sfs;
                if (fstatfs(passed, &sfs) < 0)
                        return bus_error_internal(error, -errno, "Inspecting the passed file descriptor");
                if (sfs.f_type == FUSE_SUPER_MAGIC)
                        return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT,
                                                "The passed file is on a FUSE file system; pass it through a pipe instead.");
        }
        flags = fcntl(passed, F_GETFL);
        if (flags < 0 || (flags & O_ACCMODE) == O_WRONLY || (flags & O_PATH))
                return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT, "The passed file descriptor is not open for reading.");

        r = authorize_change(o, msg, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        /* The message owns the passed descriptor; the job keeps a copy. */
        fd = fcntl(passed, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return bus_error_internal(error, -errno, "Keeping the passed file descriptor");

        return reply_job(msg, o, &archive_import_kind,
                         archive_import_new(o, l4m_take_fd(&fd), &(ArchiveImportOptions) {
                                                 .subdir = options.subdir,
                                                 .strip_components = options.strip,
                                                 .merge = options.merge,
                                                 .name_encoding = options.name_encoding,
                                         }), error);
}

const sd_bus_vtable overlay_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "t", NULL, offsetof(Overlay, id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Name", "s", NULL, offsetof(Overlay, name), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Type", "s", property_get_type, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Owner", "s", NULL, offsetof(Overlay, owner), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", NULL, offsetof(Overlay, state), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Created", "t", NULL, offsetof(Overlay, created), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Items", "at", property_get_items, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Size", "t", NULL, offsetof(Overlay, size), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("LastBuild", "t", NULL, offsetof(Overlay, last_build), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("SourceUrl", "s", NULL, offsetof(Overlay, source_url), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("SourceChecksum", "s", NULL, offsetof(Overlay, source_checksum), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("ScriptSize", "t", NULL, offsetof(Overlay, script_size), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD("Delete", "", "", method_delete, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetWorkshopItems",
                                SD_BUS_ARGS("as", items),
                                SD_BUS_NO_RESULT,
                                method_set_workshop_items, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetArchiveSource",
                                SD_BUS_ARGS("s", url, "s", checksum),
                                SD_BUS_NO_RESULT,
                                method_set_archive_source, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Build",
                                SD_BUS_ARGS("a{sv}", options),
                                SD_BUS_RESULT("o", job),
                                method_build, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetScript",
                                SD_BUS_ARGS("s", script),
                                SD_BUS_NO_RESULT,
                                method_set_script, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetScript",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("s", script),
                                method_get_script, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Wipe",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("o", job),
                                method_wipe, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ImportArchive",
                                SD_BUS_ARGS("h", archive, "a{sv}", options),
                                SD_BUS_RESULT("o", job),
                                method_import_archive, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

int overlay_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                        void **ret_found, sd_bus_error *error) {
        Overlay *o = manager_find_overlay_by_path(userdata, path);

        if (!o || !caller_sees_object(userdata, bus, path, o->owner))
                return 0;
        *ret_found = o;
        return 1;
}

int overlay_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***ret_nodes,
                            sd_bus_error *error) {
        return caller_enumerate_objects(userdata, bus, ((Manager *) userdata)->overlays_by_id, offsetof(Overlay, path),
                                        offsetof(Overlay, owner), ret_nodes);
}
