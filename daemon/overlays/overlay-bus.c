/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/overlays/: overlays: their records and rules, their bus objects, and wiping one. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include "archive-import.h"
#include "archive-options.h"
#include "blueprint.h"
#include "bus-util.h"
#include "authorize.h"
#include "caller.h"
#include "file-browse.h"
#include "instance.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "job.h"
#include "overlay.h"
#include "overlay-export.h"
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

/* Every method that acts on an overlay: its owner needs owner_action,
 * anyone else org.left4me.admin (authorize.h). */
static int authorize(Overlay *o, sd_bus_message *msg, const char *owner_action, const char *verb, Actor *ret_actor,
                     sd_bus_error *error) {
        return authorize_call(o->manager, msg, &(AuthorizeRequest) {
                                      .action = owner_action,
                                      .verb = verb,
                                      .kind = "overlay",
                                      .name = o->name,
                                      .owners = { o->owner },
                              }, ret_actor, error);
}


static int method_delete(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_auto(Actor) actor = { NULL };
        g_autofree char *problem = NULL;
        Overlay *o = userdata;
        int r;

        RETURN_UNLESS_AUTHORIZED(authorize(o, msg, L4M_ACTION_OVERLAY_MANAGE, "delete", &actor, error));
        r = overlay_delete(o, &actor, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Deleting the overlay");
        return sd_bus_reply_method_return(msg, NULL);
}

static int property_get_items(sd_bus *bus, const char *path, const char *interface,
                              const char *property, sd_bus_message *reply, void *userdata,
                              sd_bus_error *error) {
        Overlay *o = userdata;
        return sd_bus_message_append_array(reply, 't', o->items->data, o->items->len * sizeof(uint64_t));
}

/* Reads an array of Workshop references (ids or URLs) into ids, without
 * duplicates (the first place counts): InvalidArgument naming a bad one. */
static int read_workshop_refs(sd_bus_message *msg, GArray *ids, sd_bus_error *error) {
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
        const char *ref;
        unsigned index = 0;
        int r;

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
                                                    "Item %u \"%.80s\" is neither a Workshop id nor a Steam Workshop address.",
                                                    index + 1, ref);
                index++;
                if (g_hash_table_contains(seen, &id))
                        continue;
                g_array_append_val(ids, id);
                g_hash_table_add(seen, g_memdup2(&id, sizeof id));
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(msg);
}

static int property_get_item_details(sd_bus *bus, const char *path, const char *interface,
                                     const char *property, sd_bus_message *reply, void *userdata,
                                     sd_bus_error *error) {
        Overlay *o = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(tstts)");
        for (guint i = 0; r >= 0 && i < o->item_details->len; i++) {
                const OverlayItemDetail *d = &g_array_index(o->item_details, OverlayItemDetail, i);
                r = sd_bus_message_append(reply, "(tstts)", d->id, d->title, d->size, d->updated, d->status);
        }
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int method_set_workshop_items(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(uint64_t));
        g_autofree char *problem = NULL;
        Overlay *o = userdata;
        int r;

        r = overlay_check_items(o, 0, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Checking the overlay");
        r = read_workshop_refs(msg, ids, error);
        if (r < 0)
                return r;

        RETURN_UNLESS_AUTHORIZED(authorize(o, msg, L4M_ACTION_OVERLAY_MANAGE, "change", NULL, error));
        r = overlay_set_items(o, (const uint64_t *) ids->data, ids->len, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Storing the items");
        return sd_bus_reply_method_return(msg, NULL);
}

static int reply_job(sd_bus_message *msg, Overlay *o, const Actor *actor, const JobKind *kind, void *data,
                     sd_bus_error *error) {
        g_autofree char *problem = NULL;
        Job *j;
        int r;

        r = overlay_submit_job(o, actor, kind, data, &j, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Queuing the job");
        return sd_bus_reply_method_return(msg, "o", j->path);
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
                if (!archive_subdir_is_valid(s))
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
                if (!archive_name_encoding_is_valid(s))
                        return bus_error_setf_valid(error, L4M_ERROR_INVALID_ARGUMENT,
                                                    "Unknown name_encoding \"%.40s\": the name of a character set, "
                                                    "such as CP936, CP1251 or ISO-8859-2.", s);
                g_free(o->name_encoding);
                o->name_encoding = g_strdup(s);
                return 1;
        }
        return 0;
}

/* Build's options: those of ImportArchive that shape where the fetched
 * archive goes (not name_encoding: a source is fetched again by schedules
 * and restarts, which do not know one). */
static int build_option(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error) {
        if (strcmp(key, "name_encoding") == 0)
                return 0;
        return import_option(msg, key, userdata, error);
}

int overlay_submit_build(Overlay *o, const Actor *actor, const ArchiveImportOptions *archive_options, Job **ret,
                         char **ret_problem) {
        int r;

        r = overlay_check_buildable(o, ret_problem);
        if (r < 0)
                return r;
        switch (o->type) {
        case L4M_OVERLAY_ARCHIVE:
                return overlay_submit_job(o, actor, archive_fetch_kind_for(archive_options),
                                          archive_fetch_new(o, archive_options), ret, ret_problem);
        case L4M_OVERLAY_SCRIPT:
                return overlay_submit_job(o, actor, &script_build_kind, script_build_new(o), ret, ret_problem);
        default:
                return overlay_submit_job(o, actor, &workshop_build_kind, workshop_build_new(o), ret, ret_problem);
        }
}

const char *overlay_build_action(const Overlay *o) {
        /* Running a script is an action of its own: it is code, run on the host. */
        return o->type == L4M_OVERLAY_SCRIPT ? L4M_ACTION_SCRIPT_RUN : L4M_ACTION_OVERLAY_MANAGE;
}

static int method_build(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_auto(ImportOptions) options = { .subdir = NULL };
        g_auto(Actor) actor = { NULL };
        g_autofree char *problem = NULL;
        Overlay *o = userdata;
        Job *j;
        int r;

        /* Only an archive's build has options (where its content goes). */
        if (o->type == L4M_OVERLAY_ARCHIVE)
                r = bus_message_read_options(msg, build_option, &options, error);
        else
                r = bus_message_refuse_options(msg, error);
        if (r < 0)
                return r;
        r = overlay_check_buildable(o, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Checking the overlay");

        RETURN_UNLESS_AUTHORIZED(authorize(o, msg, overlay_build_action(o), "build", &actor, error));
        r = overlay_submit_build(o, &actor, &(ArchiveImportOptions) {
                                         .subdir = options.subdir,
                                         .strip_components = options.strip,
                                         .merge = options.merge,
                                 }, &j, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Queuing the job");
        return sd_bus_reply_method_return(msg, "o", j->path);
}

static int method_wipe(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_auto(Actor) actor = { NULL };
        Overlay *o = userdata;

        RETURN_UNLESS_AUTHORIZED(authorize(o, msg, L4M_ACTION_OVERLAY_MANAGE, "wipe", &actor, error));
        return reply_job(msg, o, &actor, &overlay_wipe_kind, overlay_wipe_new(o), error);
}

static int method_set_script(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autofree char *problem = NULL;
        Overlay *o = userdata;
        const char *script;
        int r;

        r = sd_bus_message_read(msg, "s", &script);
        if (r < 0)
                return r;
        r = overlay_check_script(o, script, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Checking the script");

        RETURN_UNLESS_AUTHORIZED(authorize(o, msg, L4M_ACTION_OVERLAY_MANAGE, "change", NULL, error));
        r = overlay_set_script(o, script, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Storing the script");
        return sd_bus_reply_method_return(msg, NULL);
}

/* The script is for its owner's eyes (and administrators'): it may hold
 * anything, a download token say. */
static int method_get_script(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autofree char *script = NULL, *problem = NULL;
        Overlay *o = userdata;
        int r;

        r = overlay_check_script(o, NULL, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Checking the overlay");
        RETURN_UNLESS_AUTHORIZED(authorize(o, msg, L4M_ACTION_READ, "read the script of", NULL, error));

        r = overlay_get_script(o, &script, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Reading the script");
        return sd_bus_reply_method_return(msg, "s", script);
}

static int method_set_archive_source(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_autofree char *problem = NULL;
        Overlay *o = userdata;
        const char *url, *checksum;
        int r;

        r = sd_bus_message_read(msg, "ss", &url, &checksum);
        if (r < 0)
                return r;
        r = overlay_check_source(o, url, checksum, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Checking the source");

        RETURN_UNLESS_AUTHORIZED(authorize(o, msg, L4M_ACTION_OVERLAY_MANAGE, "change", NULL, error));
        r = overlay_set_source(o, url, checksum, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Storing the source");
        return sd_bus_reply_method_return(msg, NULL);
}

/* The content of an archive or script overlay as a tar.zst stream
 * (overlay-export.h): for its owner's eyes, like the script. */
static int method_export(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_auto(Actor) actor = { NULL };
        g_autofree char *problem = NULL;
        _cleanup_close_ int fd = -1;
        Overlay *o = userdata;
        int r;

        if (o->type != L4M_OVERLAY_ARCHIVE && o->type != L4M_OVERLAY_SCRIPT)
                return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT,
                                         "Overlay \"%s\" is a Workshop overlay: a Workshop overlay is rebuilt from Steam.",
                                         o->name);
        RETURN_UNLESS_AUTHORIZED(authorize(o, msg, L4M_ACTION_READ, "export", &actor, error));

        r = overlay_export_start(o, &actor, &fd, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Exporting the overlay");
        return sd_bus_reply_method_return(msg, "h", fd);
}

static int method_import_archive(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_auto(ImportOptions) options = { .subdir = NULL };
        g_auto(Actor) actor = { NULL };
        g_autofree char *problem = NULL;
        _cleanup_close_ int fd = -1;
        Overlay *o = userdata;
        int passed, r;

        r = sd_bus_message_read(msg, "h", &passed);
        if (r < 0)
                return r;
        r = bus_message_read_options(msg, import_option, &options, error);
        if (r < 0)
                return r;
        r = overlay_check_type(o, L4M_OVERLAY_ARCHIVE, "archives go into archive overlays", &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Checking the overlay");

        r = bus_check_input_fd(passed, error);
        if (r < 0)
                return r;

        RETURN_UNLESS_AUTHORIZED(authorize(o, msg, L4M_ACTION_OVERLAY_MANAGE, "import an archive into", &actor, error));

        /* The message owns the passed descriptor; the job keeps a copy. */
        fd = fcntl(passed, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return bus_error_internal(error, -errno, "Keeping the passed file descriptor");

        return reply_job(msg, o, &actor, &archive_import_kind,
                         archive_import_new(o, l4m_take_fd(&fd), &(ArchiveImportOptions) {
                                                 .subdir = options.subdir,
                                                 .strip_components = options.strip,
                                                 .merge = options.merge,
                                                 .name_encoding = options.name_encoding,
                                         }), error);
}

/* ListFiles, OpenFile: the overlay's tree, read-only, for whoever may
 * read the overlay. */
static int method_files(sd_bus_message *msg, Overlay *o, bool open, sd_bus_error *error) {
        g_autofree char *problem = NULL, *what = NULL, *dir = NULL;
        _cleanup_close_ int fd = -1;
        const char *path;
        int r;

        r = sd_bus_message_read(msg, "s", &path);
        if (r < 0)
                return r;
        r = file_browse_check_path(path, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Checking the path");
        RETURN_UNLESS_AUTHORIZED(authorize(o, msg, L4M_ACTION_READ, "read the files of", NULL, error));

        dir = g_strdup_printf("%" G_GUINT64_FORMAT, o->id);
        fd = openat(o->manager->overlays_fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return bus_error_internal(error, -errno, "Opening the overlay's directory");
        what = g_strdup_printf("overlay \"%s\"", o->name);
        return open ? file_browse_reply_open(msg, fd, path, what, error)
                    : file_browse_reply_list(msg, fd, path, what, error);
}

static int method_list_files(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return method_files(msg, userdata, false, error);
}

static int method_open_file(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return method_files(msg, userdata, true, error);
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
        SD_BUS_PROPERTY("WorkshopItemDetails", "a(tstts)", property_get_item_details, 0,
                        SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
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
        SD_BUS_METHOD_WITH_ARGS("Export",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("h", archive),
                                method_export, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListFiles",
                                SD_BUS_ARGS("s", path),
                                SD_BUS_RESULT("a(sstt)", entries, "b", truncated),
                                method_list_files, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("OpenFile",
                                SD_BUS_ARGS("s", path),
                                SD_BUS_RESULT("h", fd, "t", size),
                                method_open_file, SD_BUS_VTABLE_UNPRIVILEGED),
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

/* --- org.left4me.Manager's overlay methods ------------------------------ */

static int append_overlay_entry(sd_bus_message *reply, const void *value, void *userdata) {
        const Overlay *o = value;
        const CallerView *view = userdata;

        if (!caller_sees(view->manager, view->call, o->owner))
                return 0;
        return sd_bus_message_append(reply, "(osssst)", o->path, o->name, l4m_overlay_type_to_string(o->type),
                                     o->owner, o->state, o->created);
}

static int method_list_overlays(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = polkit_verify(m->polkit, msg, L4M_ACTION_READ, error);
        if (r <= 0)
                return r < 0 ? r : 1;
        return bus_reply_list_by_name(msg, m->overlays_by_id, offsetof(Overlay, name), "(osssst)",
                                      append_overlay_entry, &(CallerView) { m, msg });
}

typedef struct CreateOptions {
        GArray *items;                  /* uint64_t; NULL: not given */
        char *source_url;
        char *source_checksum;
        char *script;
} CreateOptions;

static void create_options_clear(CreateOptions *o) {
        if (o->items)
                g_array_unref(o->items);
        g_free(o->source_url);
        g_free(o->source_checksum);
        g_free(o->script);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CreateOptions, create_options_clear)

static int read_string_option(sd_bus_message *msg, const char *key, char **ret, sd_bus_error *error) {
        const char *s;
        int r;

        r = sd_bus_message_read(msg, "v", "s", &s);
        if (r < 0)
                return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT, "Option %s takes a string.", key);
        g_free(*ret);
        *ret = g_strdup(s);
        return 1;
}

/* The values are read here; whether they suit the type, and their rules,
 * are overlay_create()'s, which checks them all before it makes anything. */
static int create_option(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error) {
        CreateOptions *o = userdata;
        int r;

        if (strcmp(key, "items") == 0) {
                r = sd_bus_message_enter_container(msg, 'v', "as");
                if (r < 0)
                        return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT,
                                                "Option items takes an array of strings.");
                if (o->items)
                        g_array_set_size(o->items, 0);
                else
                        o->items = g_array_new(FALSE, FALSE, sizeof(uint64_t));
                r = read_workshop_refs(msg, o->items, error);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(msg);
                return r < 0 ? r : 1;
        }
        if (strcmp(key, "source") == 0)
                return read_string_option(msg, key, &o->source_url, error);
        if (strcmp(key, "checksum") == 0)
                return read_string_option(msg, key, &o->source_checksum, error);
        if (strcmp(key, "script") == 0)
                return read_string_option(msg, key, &o->script, error);
        return 0;
}

static int method_create_overlay(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        g_auto(CreateOptions) options = { .items = NULL };
        g_autofree char *problem = NULL;
        g_auto(Actor) actor = { NULL };
        Manager *m = userdata;
        const char *name, *type_str;
        OverlaySettings settings;
        L4mOverlayType type;
        Overlay *o;
        int r;

        r = sd_bus_message_read(msg, "ss", &name, &type_str);
        if (r < 0)
                return r;
        r = overlay_check_name(name, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Checking the name");
        type = l4m_overlay_type_from_string(type_str);
        if (type < 0)
                return bus_error_setf_valid(error, L4M_ERROR_INVALID_ARGUMENT,
                                            "Invalid overlay type \"%.32s\": expected workshop, script or archive.", type_str);
        r = bus_message_read_options(msg, create_option, &options, error);
        if (r < 0)
                return r;
        settings = (OverlaySettings) {
                .items = options.items ? (const uint64_t *) options.items->data : NULL,
                .n_items = options.items ? options.items->len : 0,
                .source_url = options.source_url,
                .source_checksum = options.source_checksum,
                .script = options.script,
        };
        /* Refuse a bad setting before polkit is asked (and before anything
         * is made): overlay_create() checks again. */
        r = overlay_check_settings(type, &settings, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Checking the options");

        r = authorize_call(m, msg, &(AuthorizeRequest) {
                                   .action = L4M_ACTION_OVERLAY_MANAGE,
                                   .verb = "create",
                                   .kind = "overlay",
                                   .name = name,
                           }, &actor, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        r = overlay_create(m, &actor, name, type, &settings, &o, &problem);
        if (r < 0)
                return bus_error_from_problem(error, r, problem, "Creating the overlay");
        return sd_bus_reply_method_return(msg, "o", o->path);
}

static int method_get_overlay(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        return caller_reply_path_by_name(msg, m, m->overlays_by_name, offsetof(Overlay, path), offsetof(Overlay, owner),
                                         "overlay", error);
}

const sd_bus_vtable overlay_manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("ListOverlays",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(osssst)", overlays),
                                method_list_overlays, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateOverlay",
                                SD_BUS_ARGS("s", name, "s", type, "a{sv}", options),
                                SD_BUS_RESULT("o", overlay),
                                method_create_overlay, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetOverlay",
                                SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("o", overlay),
                                method_get_overlay, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};
