/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/blueprints/: blueprints: the stacks of overlays, server.cfg and launch arguments a server is made of. */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "blueprint.h"
#include "fs-util.h"
#include "instance.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-names.h"
#include "l4m-util.h"
#include "overlay.h"
#include "problem.h"

/* What left4me puts on every server's command line itself: a blueprint
 * must not change where the server listens or what game it runs, nor the
 * RCON password left4me talks to it with. */
static const char *const reserved_args[] = {
        "-game", "-port", "+port", "-ip", "+ip", "+hostport", "+hostip", "+clientport",
        "+rcon_password", "-console", "+log",
};

/* Valve's srcds_run joins its arguments into one string with blanks and
 * runs that unquoted: the shell splits it into words again and expands
 * patterns in it, so "x +hostport 27020" would become three arguments that
 * the check against reserved_args never saw. An argument is therefore one
 * word of printable ASCII without any character a shell treats specially
 * (quotes, escapes, expansions, patterns, redirections, separators, and
 * ~ and # at the start of a word). */
#define SHELL_SPECIAL "*?[]\"'\\`$;|&<>(){}~#"

const char *blueprint_launch_arg_problem(const char *arg) {
        if (!arg || !*arg)
                return "an argument may not be empty";
        if (strlen(arg) > BLUEPRINT_LAUNCH_ARG_MAX)
                return "an argument has at most 256 bytes";
        for (const unsigned char *p = (const unsigned char *) arg; *p; p++) {
                if (*p == ' ' || *p == '\t')
                        return "an argument may not contain blanks (srcds_run would split it into several); "
                               "pass each word as an argument of its own";
                if (*p < 0x20 || *p == 0x7f)
                        return "an argument may not contain control characters";
                if (*p >= 0x80)
                        return "an argument may only contain ASCII characters";
                if (strchr(SHELL_SPECIAL, *p))
                        return "an argument may not contain any of * ? [ ] \" ' \\ ` $ ; | & < > ( ) { } ~ # "
                               "(srcds_run hands its command line to the shell unquoted)";
        }
        for (size_t i = 0; i < L4M_ELEMENTSOF(reserved_args); i++)
                if (g_ascii_strcasecmp(arg, reserved_args[i]) == 0)
                        return "left4me sets this argument itself";
        return NULL;
}

const char *blueprint_server_cfg_problem(const char *text) {
        if (strlen(text) > BLUEPRINT_SERVER_CFG_MAX)
                return "ServerCfg has at most 65536 bytes";
        if (!g_utf8_validate(text, -1, NULL))
                return "ServerCfg must be valid UTF-8";
        return NULL;
}

char *blueprint_launch_args_join(char *const *args) {
        return g_strjoinv("\n", (char **) args);
}

char **blueprint_launch_args_split(const char *text) {
        if (!text || !*text)
                return g_new0(char *, 1);
        return g_strsplit(text, "\n", -1);
}

void blueprint_free(Blueprint *b) {
        if (!b)
                return;
        g_free(b->name);
        g_free(b->owner);
        if (b->overlays)
                g_array_unref(b->overlays);
        g_free(b->server_cfg);
        g_strfreev(b->launch_args);
        g_free(b->path);
        g_free(b);
}

int blueprint_add(Manager *m, const StoreBlueprint *row, Blueprint **ret) {
        Blueprint *b;

        if (!l4m_name_is_valid(row->name))
                return log_error_errno(EINVAL, "Blueprint %" G_GUINT64_FORMAT " has an invalid name.", row->id);
        if (g_hash_table_contains(m->blueprints_by_id, &row->id) ||
            g_hash_table_contains(m->blueprints_by_name, row->name))
                return -EEXIST;

        b = g_new0(Blueprint, 1);
        b->manager = m;
        b->id = row->id;
        b->name = g_strdup(row->name);
        b->owner = g_strdup(row->owner);
        b->created = row->created;
        b->overlays = g_array_new(FALSE, FALSE, sizeof(uint64_t));
        b->server_cfg = g_strdup(row->server_cfg ? row->server_cfg : "");
        b->launch_args = blueprint_launch_args_split(row->launch_args);
        /* Stored before the check became stricter: kept (the owner decides),
         * but said. */
        for (size_t i = 0; b->launch_args[i]; i++) {
                const char *problem = blueprint_launch_arg_problem(b->launch_args[i]);

                if (problem)
                        log_warning("Blueprint %s: launch argument %zu would now be refused (%s); set them again.",
                                    b->name, i + 1, problem);
        }
        b->path = g_strdup_printf(L4M_BLUEPRINT_PATH_PREFIX "/%" G_GUINT64_FORMAT, row->id);

        g_hash_table_insert(m->blueprints_by_id, &b->id, b);
        g_hash_table_insert(m->blueprints_by_name, b->name, b);
        if (ret)
                *ret = b;
        return 0;
}

int blueprint_check_name(const char *name, char **ret_problem) {
        if (!l4m_name_is_valid(name))
                return problem_setf(ret_problem, -EINVAL,
                                    "Invalid blueprint name \"%.64s\": names are 1-%d characters of a-z, 0-9, '_' and '-', starting with a letter or digit.",
                                    name, L4M_NAME_MAX);
        return 0;
}

int blueprint_check_launch_args(char *const *args, char **ret_problem) {
        size_t n = args ? g_strv_length((char **) args) : 0;

        if (n > BLUEPRINT_LAUNCH_ARGS_MAX)
                return problem_setf(ret_problem, -EINVAL, "Too many launch arguments (%zu): at most %u.", n,
                                    BLUEPRINT_LAUNCH_ARGS_MAX);
        for (size_t i = 0; i < n; i++) {
                const char *problem = blueprint_launch_arg_problem(args[i]);

                if (problem)
                        return problem_setf(ret_problem, -EINVAL, "Launch argument %zu \"%.80s\" is refused: %s.", i + 1,
                                            args[i], problem);
        }
        return 0;
}

int blueprint_check_server_cfg(const char *text, char **ret_problem) {
        const char *problem = blueprint_server_cfg_problem(text);

        if (problem)
                return problem_setf(ret_problem, -EINVAL, "%s (it has %zu bytes).", problem, strlen(text));
        return 0;
}

int blueprint_check_overlay_count(size_t n, char **ret_problem) {
        if (n == 0)
                return problem_setf(ret_problem, -EINVAL, "A blueprint needs at least one overlay.");
        if (n > BLUEPRINT_OVERLAYS_MAX)
                return problem_setf(ret_problem, -EINVAL, "Too many overlays (%zu): a blueprint has at most %u.", n,
                                    BLUEPRINT_OVERLAYS_MAX);
        return 0;
}

/* Count, each once, and every id an overlay's (the store's RESTRICT keeps
 * them so). */
static int check_overlays(Manager *m, const uint64_t *overlay_ids, size_t n, char **ret_problem) {
        int r = blueprint_check_overlay_count(n, ret_problem);

        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                Overlay *o = g_hash_table_lookup(m->overlays_by_id, &overlay_ids[i]);

                if (!o)
                        return problem_setf(ret_problem, -ENOENT, "An overlay was deleted meanwhile.");
                for (size_t k = 0; k < i; k++)
                        if (overlay_ids[k] == overlay_ids[i])
                                return problem_setf(ret_problem, -EINVAL, "Overlay \"%s\" is listed more than once.",
                                                    o->name);
        }
        return 0;
}

static void emit_changed(Blueprint *b, const char *property) {
        manager_emit_properties_changed(b->manager, b->path, L4M_BLUEPRINT_INTERFACE, property, NULL);
}

int blueprint_create(Manager *m, const Actor *actor, const char *name, const uint64_t *overlay_ids, size_t n,
                     const char *server_cfg, char *const *launch_args, Blueprint **ret, char **ret_problem) {
        g_autofree char *args = blueprint_launch_args_join(launch_args);
        const char *owner = actor->principal;
        StoreBlueprint row = {
                .name = name,
                .owner = owner,
                .created = (uint64_t) g_get_real_time(),
                .server_cfg = server_cfg,
                .launch_args = args,
        };
        Blueprint *b = NULL;
        int r;

        r = blueprint_check_name(name, ret_problem);
        if (r >= 0)
                r = check_overlays(m, overlay_ids, n, ret_problem);
        if (r >= 0)
                r = blueprint_check_server_cfg(server_cfg, ret_problem);
        if (r >= 0)
                r = blueprint_check_launch_args(launch_args, ret_problem);
        if (r < 0)
                return r;
        if (g_hash_table_contains(m->blueprints_by_name, name))
                return problem_setf(ret_problem, -EEXIST, "Blueprint \"%s\" already exists.", name);
        if (manager_count_blueprints_of(m, owner) >= MANAGER_BLUEPRINTS_PER_OWNER_MAX)
                return problem_setf(ret_problem, -EDQUOT, "%s already owns %u blueprints, the most one may own.", owner,
                                    MANAGER_BLUEPRINTS_PER_OWNER_MAX);

        r = store_blueprint_insert(m->db, &row, overlay_ids, n, &row.id);
        if (r == -EEXIST)
                return problem_setf(ret_problem, r, "Blueprint \"%s\" already exists.", name);
        if (r == -ENOENT)
                return problem_setf(ret_problem, r, "An overlay was deleted meanwhile.");
        if (r < 0)
                return r;

        r = blueprint_add(m, &row, &b);
        assert(r >= 0);
        g_array_append_vals(b->overlays, overlay_ids, (guint) n);
        manager_emit_object_added(m, b->path);

        log_struct_errno(LOG_INFO, 0,
                         ((const char *[]) { "L4M_EVENT=blueprint-created", NULL }),
                         "Blueprint %s (id %" G_GUINT64_FORMAT ", %zu overlay(s)) created for %s.",
                         name, row.id, n, owner);
        if (ret)
                *ret = b;
        return 0;
}

int blueprint_delete(Blueprint *b, const Actor *actor, char **ret_problem) {
        Manager *m = b->manager;
        g_autofree char *name = g_strdup(b->name);
        g_autofree char *path = g_strdup(b->path);
        g_autoptr(GPtrArray) users = NULL;
        uint64_t id = b->id;
        int r;

        /* The store would refuse too (RESTRICT); say who uses it. */
        users = manager_instances_using_blueprint(m, b->id);
        if (users) {
                g_autofree char *list = actor_names_join(actor, users, m->instances_by_name, offsetof(Instance, owner));

                return problem_setf(ret_problem, -EBUSY, "Blueprint \"%s\" is used by instance(s) %s.", b->name, list);
        }

        /* Announce while the object still resolves; again if it stays. */
        manager_emit_object_removed(m, path);
        r = store_blueprint_delete(m->db, b->id);
        if (r < 0) {
                manager_emit_object_added(m, path);
                return r;
        }

        g_hash_table_remove(m->blueprints_by_name, b->name);
        g_hash_table_remove(m->blueprints_by_id, &b->id);     /* frees b */

        log_struct_errno(LOG_INFO, 0,
                         ((const char *[]) { "L4M_EVENT=blueprint-deleted", NULL }),
                         "Blueprint %s (id %" G_GUINT64_FORMAT ") deleted.", name, id);
        return 0;
}

int blueprint_set_overlays(Blueprint *b, const uint64_t *overlay_ids, size_t n, char **ret_problem) {
        int r;

        r = check_overlays(b->manager, overlay_ids, n, ret_problem);
        if (r < 0)
                return r;
        r = store_blueprint_set_overlays(b->manager->db, b->id, overlay_ids, n);
        if (r == -ENOENT)
                return problem_setf(ret_problem, r, "An overlay was deleted meanwhile.");
        if (r < 0)
                return r;
        g_array_set_size(b->overlays, 0);
        g_array_append_vals(b->overlays, overlay_ids, (guint) n);
        emit_changed(b, "Overlays");
        return 0;
}

int blueprint_set_server_cfg(Blueprint *b, const char *server_cfg, char **ret_problem) {
        int r;

        r = blueprint_check_server_cfg(server_cfg, ret_problem);
        if (r < 0)
                return r;
        r = store_blueprint_set_server_cfg(b->manager->db, b->id, server_cfg);
        if (r < 0)
                return r;
        g_free(b->server_cfg);
        b->server_cfg = g_strdup(server_cfg);
        emit_changed(b, "ServerCfg");
        return 0;
}

int blueprint_set_launch_args(Blueprint *b, char *const *launch_args, char **ret_problem) {
        g_autofree char *text = NULL;
        int r;

        r = blueprint_check_launch_args(launch_args, ret_problem);
        if (r < 0)
                return r;
        text = blueprint_launch_args_join(launch_args);
        r = store_blueprint_set_launch_args(b->manager->db, b->id, text);
        if (r < 0)
                return r;
        g_strfreev(b->launch_args);
        b->launch_args = g_strdupv((char **) launch_args);
        emit_changed(b, "LaunchArgs");
        return 0;
}

int blueprint_update(Blueprint *b, const BlueprintChanges *c, char **ret_problem) {
        g_autofree char *args = NULL;
        const char *changed[3];
        size_t n = 0;
        int r = 0;

        assert(b);
        assert(c);

        if (c->overlay_ids)
                r = check_overlays(b->manager, c->overlay_ids, c->n_overlays, ret_problem);
        if (r >= 0 && c->server_cfg)
                r = blueprint_check_server_cfg(c->server_cfg, ret_problem);
        if (r >= 0 && c->launch_args)
                r = blueprint_check_launch_args(c->launch_args, ret_problem);
        if (r < 0)
                return r;
        if (!c->overlay_ids && !c->server_cfg && !c->launch_args)
                return 0;

        if (c->launch_args)
                args = blueprint_launch_args_join(c->launch_args);
        r = store_blueprint_update(b->manager->db, b->id, c->overlay_ids, c->n_overlays, c->server_cfg, args);
        if (r == -ENOENT)
                return problem_setf(ret_problem, r, "An overlay was deleted meanwhile.");
        if (r < 0)
                return r;

        if (c->overlay_ids) {
                g_array_set_size(b->overlays, 0);
                g_array_append_vals(b->overlays, c->overlay_ids, (guint) c->n_overlays);
                changed[n++] = "Overlays";
        }
        if (c->server_cfg) {
                g_free(b->server_cfg);
                b->server_cfg = g_strdup(c->server_cfg);
                changed[n++] = "ServerCfg";
        }
        if (c->launch_args) {
                g_strfreev(b->launch_args);
                b->launch_args = g_strdupv((char **) c->launch_args);
                changed[n++] = "LaunchArgs";
        }
        manager_emit_properties_changed(b->manager, b->path, L4M_BLUEPRINT_INTERFACE, changed[0],
                                        n > 1 ? changed[1] : NULL, n > 2 ? changed[2] : NULL, NULL);
        return 0;
}

Blueprint *manager_find_blueprint_by_path(Manager *m, const char *path) {
        const char *p;
        uint64_t id;

        p = g_str_has_prefix(path, L4M_BLUEPRINT_PATH_PREFIX "/") ? path + strlen(L4M_BLUEPRINT_PATH_PREFIX "/") : NULL;
        if (!p || parse_id(p, &id) < 0)
                return NULL;
        return g_hash_table_lookup(m->blueprints_by_id, &id);
}

static int load_blueprint_row(const StoreBlueprint *row, void *userdata) {
        int r = blueprint_add(userdata, row, NULL);

        if (r < 0)
                log_error_errno(r, "Skipping blueprint row %" G_GUINT64_FORMAT " (%s): %s", row->id, row->name, STRERROR(r));
        return 0;
}

static int load_blueprint_overlay(uint64_t blueprint_id, uint64_t overlay_id, void *userdata) {
        Blueprint *b = g_hash_table_lookup(((Manager *) userdata)->blueprints_by_id, &blueprint_id);

        if (b && b->overlays->len < BLUEPRINT_OVERLAYS_MAX)
                g_array_append_val(b->overlays, overlay_id);
        return 0;
}

int manager_load_blueprints(Manager *m) {
        int r;

        r = store_blueprint_foreach(m->db, load_blueprint_row, m);
        if (r < 0)
                return log_error_errno(r, "Cannot load blueprints: %s", STRERROR(r));
        r = store_blueprint_overlays_foreach(m->db, load_blueprint_overlay, m);
        if (r < 0)
                return log_error_errno(r, "Cannot load blueprint overlays: %s", STRERROR(r));
        return 0;
}

unsigned manager_count_blueprints_of(Manager *m, const char *owner) {
        GHashTableIter it;
        gpointer value;
        unsigned n = 0;

        g_hash_table_iter_init(&it, m->blueprints_by_id);
        while (g_hash_table_iter_next(&it, NULL, &value))
                if (strcmp(((Blueprint *) value)->owner, owner) == 0)
                        n++;
        return n;
}

static gint compare_strings(gconstpointer a, gconstpointer b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

GPtrArray *manager_blueprints_using_overlay(Manager *m, uint64_t overlay_id) {
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        GHashTableIter it;
        gpointer value;

        g_hash_table_iter_init(&it, m->blueprints_by_id);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                const Blueprint *b = value;

                for (guint i = 0; i < b->overlays->len; i++)
                        if (g_array_index(b->overlays, uint64_t, i) == overlay_id) {
                                g_ptr_array_add(names, g_strdup(b->name));
                                break;
                        }
        }
        if (names->len == 0)
                return NULL;
        g_ptr_array_sort(names, compare_strings);
        return g_steal_pointer(&names);
}
