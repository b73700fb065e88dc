/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "blueprint.h"
#include "bus-util.h"
#include "caller.h"
#include "instance.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "list-objects.h"
#include "manager.h"
#include "overlay.h"
#include "polkit.h"
#include "schedule.h"

/* The kinds ListObjects answers: their objects are in a table of the
 * Manager, each with a name (the order of List*), a path and an owner.
 * Jobs are not here: QueryJobs already answers pages of them with their
 * values. */
typedef struct ListedKind {
        const char *interface;
        const sd_bus_vtable *vtable;
        size_t table_offset;            /* GHashTable* in Manager, id → object */
        size_t name_offset, path_offset, owner_offset;  /* char* in the object */
} ListedKind;

#define LISTED_KIND(iface, vt, table, type) \
        { iface, vt, offsetof(Manager, table), offsetof(type, name), offsetof(type, path), offsetof(type, owner) }

static const ListedKind listed_kinds[] = {
        LISTED_KIND(L4M_OVERLAY_INTERFACE, overlay_vtable, overlays_by_id, Overlay),
        LISTED_KIND(L4M_BLUEPRINT_INTERFACE, blueprint_vtable, blueprints_by_id, Blueprint),
        LISTED_KIND(L4M_INSTANCE_INTERFACE, instance_vtable, instances_by_id, Instance),
        LISTED_KIND(L4M_SCHEDULE_INTERFACE, schedule_vtable, schedules_by_id, Schedule),
};

static const char *string_at(const void *object, size_t offset) {
        return *(char *const *) ((const uint8_t *) object + offset);
}

/* A property without a getter, read as sd-bus reads it
 * (bus-objects.c, invoke_property_get()). */
static int append_default_property(sd_bus_message *reply, const char *signature, void *p) {
        const char *s;

        if (strcmp(signature, "as") == 0)
                return sd_bus_message_append_strv(reply, *(char ***) p);
        switch (signature[0]) {
        case 's':
        case 'g':
                s = *(char **) p;
                return sd_bus_message_append_basic(reply, signature[0], s ? s : "");
        case 'o':
                s = *(char **) p;
                return s ? sd_bus_message_append_basic(reply, 'o', s) : -EINVAL;
        default:
                return sd_bus_message_append_basic(reply, signature[0], p);
        }
}

int bus_append_vtable_properties(sd_bus_message *reply, const char *path, const char *interface,
                                 const sd_bus_vtable *vtable, void *object, sd_bus_error *error) {
        size_t step = vtable[0].x.start.element_size;
        int r;

        assert(vtable[0].type == _SD_BUS_VTABLE_START);
        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        for (const sd_bus_vtable *v = (const void *) ((const uint8_t *) vtable + step);
             r >= 0 && v->type != _SD_BUS_VTABLE_END; v = (const void *) ((const uint8_t *) v + step)) {
                void *p = (uint8_t *) object + v->x.property.offset;

                if (v->type != _SD_BUS_VTABLE_PROPERTY && v->type != _SD_BUS_VTABLE_WRITABLE_PROPERTY)
                        continue;
                if (v->flags & (SD_BUS_VTABLE_HIDDEN | SD_BUS_VTABLE_PROPERTY_EXPLICIT))
                        continue;
                r = sd_bus_message_open_container(reply, 'e', "sv");
                if (r >= 0)
                        r = sd_bus_message_append_basic(reply, 's', v->x.property.member);
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'v', v->x.property.signature);
                if (r >= 0 && v->x.property.get)
                        r = v->x.property.get(sd_bus_message_get_bus(reply), path, interface, v->x.property.member,
                                              reply, p, error);
                else if (r >= 0)
                        r = append_default_property(reply, v->x.property.signature, p);
                if (r >= 0 && sd_bus_error_is_set(error))
                        r = -sd_bus_error_get_errno(error);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

static int measure(sd_bus_message *m, uint64_t *size, unsigned depth) {
        int r;

        /* The types of our own messages nest a few levels; D-Bus allows 64. */
        if (depth > 64)
                return -EBADMSG;
        for (;;) {
                const char *contents;
                char type;

                r = sd_bus_message_peek_type(m, &type, &contents);
                if (r <= 0)
                        return r;
                if (strchr("arve", type)) {
                        /* Length or alignment, and a variant's signature. */
                        *size += 8 + (type == 'v' ? strlen(contents) + 2 : 0);
                        r = sd_bus_message_enter_container(m, type, contents);
                        if (r >= 0)
                                r = measure(m, size, depth + 1);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                } else {
                        union {
                                uint64_t u;
                                double d;
                                const char *s;
                                int fd;
                        } value;

                        r = sd_bus_message_read_basic(m, type, &value);
                        /* Every value padded to 8; a string's length, text and NUL. */
                        if (r >= 0)
                                *size += 8 + (strchr("sog", type) ? strlen(value.s) + 1 : 0);
                }
                if (r < 0)
                        return r;
        }
}

int bus_message_measure(sd_bus_message *m, uint64_t *size) {
        return measure(m, size, 0);
}

static gint compare_names_at(gconstpointer a, gconstpointer b, gpointer userdata) {
        size_t offset = GPOINTER_TO_SIZE(userdata);

        return strcmp(string_at(*(void *const *) a, offset), string_at(*(void *const *) b, offset));
}

/* One object's (o, a{sv}) into a message of its own, measured, then
 * copied onto the reply while the total stays within budget. */
static int append_object(sd_bus_message *reply, const ListedKind *k, void *object, uint64_t *total,
                         sd_bus_error *error) {
        g_autoptr(sd_bus_message) one = NULL;
        const char *path = string_at(object, k->path_offset);
        uint64_t size = 0;
        int r;

        r = sd_bus_message_new_method_call(sd_bus_message_get_bus(reply), &one, NULL, "/", NULL, "Measure");
        if (r >= 0)
                r = sd_bus_message_open_container(one, 'r', "oa{sv}");
        if (r >= 0)
                r = sd_bus_message_append_basic(one, 'o', path);
        if (r >= 0)
                r = bus_append_vtable_properties(one, path, k->interface, k->vtable, object, error);
        if (r >= 0)
                r = sd_bus_message_close_container(one);
        if (r >= 0)
                r = sd_bus_message_seal(one, 1, 0);
        if (r >= 0)
                r = sd_bus_message_rewind(one, true);
        if (r >= 0)
                r = bus_message_measure(one, &size);
        if (r < 0)
                return r;
        if (*total + size > LIST_OBJECTS_REPLY_MAX)
                return sd_bus_error_setf(error, L4M_ERROR_BUSY,
                                         "The list of %s objects would pass %" PRIu64 " MiB; list them with the "
                                         "List* method and read each with Properties.GetAll.",
                                         k->interface, LIST_OBJECTS_REPLY_MAX >> 20);
        *total += size;
        r = sd_bus_message_rewind(one, true);
        if (r >= 0)
                r = sd_bus_message_copy(reply, one, true);
        return r;
}

static int method_list_objects(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(GPtrArray) sorted = NULL;
        const ListedKind *k = NULL;
        const char *interface;
        GHashTableIter it;
        gpointer value;
        uint64_t total = 0;
        int r;

        r = sd_bus_message_read(msg, "s", &interface);
        if (r < 0)
                return r;
        for (size_t i = 0; i < L4M_ELEMENTSOF(listed_kinds); i++)
                if (strcmp(listed_kinds[i].interface, interface) == 0)
                        k = &listed_kinds[i];
        if (!k)
                return bus_error_setf_valid(error, L4M_ERROR_INVALID_ARGUMENT,
                                            "ListObjects lists " L4M_OVERLAY_INTERFACE ", " L4M_BLUEPRINT_INTERFACE
                                            ", " L4M_INSTANCE_INTERFACE " or " L4M_SCHEDULE_INTERFACE
                                            " objects, not \"%.64s\" (jobs: QueryJobs).", interface);

        r = polkit_verify(m->polkit, msg, L4M_ACTION_READ, error);
        if (r <= 0)
                return r < 0 ? r : 1;

        sorted = g_ptr_array_new();
        g_hash_table_iter_init(&it, *(GHashTable **) ((uint8_t *) m + k->table_offset));
        while (g_hash_table_iter_next(&it, NULL, &value))
                g_ptr_array_add(sorted, value);
        g_ptr_array_sort_with_data(sorted, compare_names_at, GSIZE_TO_POINTER(k->name_offset));
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(oa{sv})");
        for (guint i = 0; r >= 0 && i < sorted->len; i++) {
                if (!caller_sees(m, msg, string_at(sorted->pdata[i], k->owner_offset)))
                        continue;
                r = append_object(reply, k, sorted->pdata[i], &total, error);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return sd_bus_error_is_set(error) ? r : bus_error_internal(error, r, "ListObjects");
        return sd_bus_send(NULL, reply, NULL);
}

const sd_bus_vtable list_objects_manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("ListObjects", SD_BUS_ARGS("s", interface), SD_BUS_RESULT("a(oa{sv})", objects),
                                method_list_objects, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};
