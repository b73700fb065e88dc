/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "event-ring.h"
#include "event-streams.h"
#include "l4m-bus-names.h"
#include "json-bus.h"
#include "l4m-bus-properties.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "sse-format.h"
#include "state-events-throttle.h"

/* /api/events: one set of bus matches on the bridge's own connection for
 * every stream. A cache of each object's properties (all of them at start
 * from GetManagedObjects, then from InterfacesAdded, PropertiesChanged,
 * or a GetAll for an object first seen changing) lets every event carry
 * the whole object. Each event is formatted once and kept in a ring for
 * Last-Event-ID. An admin session sees every event; a user session sees
 * an object's events only if the daemon shows that object to the
 * session's own connection, asked once per stream and object. Job
 * progress is coalesced to one event per job per STATE_JOB_INTERVAL_USEC,
 * the last state always sent. */

#define STATE_RING_EVENTS 1024u
#define STATE_RING_BYTES (1024u * 1024u)
#define STATE_JOB_INTERVAL_USEC (200 * 1000)
/* Visibility answers a stream keeps; beyond, it asks again. */
#define STATE_VISIBLE_MAX 4096u

typedef struct StateObject {
        char *path;
        const char *kind;               /* "instance", "overlay", "blueprint", "job", "schedule" */
        const char *interface;
        JsonObject *props;
        sd_bus_slot *get_all;           /* loading it; changes meanwhile wait for it */
} StateObject;

struct StateEvents {
        Bridge *bridge;
        sd_bus_slot *match_changed, *match_added, *match_removed, *match_job_removed, *match_owner, *managed;
        GHashTable *objects;            /* path → StateObject* */
        EventRing *ring;                /* entries' data: RingEvent* */
        uint64_t next_id;
        GQueue streams;
        Throttle *throttle;
        sd_event_source *throttle_timer;
};

typedef struct RingEvent {
        char *path;
        bool removal;
} RingEvent;

enum { VIS_PENDING = 1, VIS_SHOWN, VIS_HIDDEN };

typedef struct StateSub {
        StateEvents *owner;
        Stream *st;
        bool admin;
        GHashTable *visible;            /* path → VIS_* */
        GHashTable *held;               /* path → GBytes*: the latest event waiting for its check */
        GHashTable *checks;             /* path → VisCheck* */
} StateSub;

typedef struct VisCheck {
        StateSub *sub;
        char *path;
        sd_bus_slot *slot;
        bool removed;   /* the object went away while the check was pending */
        bool readded;   /* ... and an object of the same path came after: the answer may be stale */
} VisCheck;

static void ring_event_free(void *p) {
        RingEvent *e = p;
        g_free(e->path);
        g_free(e);
}

static void vis_check_free(VisCheck *c) {
        sd_bus_slot_unref(c->slot);
        g_free(c->path);
        g_free(c);
}

static void state_object_free(StateObject *o) {
        sd_bus_slot_unref(o->get_all);
        if (o->props)
                json_object_unref(o->props);
        g_free(o->path);
        g_free(o);
}

static bool kind_of(const char *path, const char **ret_kind, const char **ret_interface) {
        static const struct {
                const char *prefix, *kind, *interface;
        } kinds[] = {
                { L4M_INSTANCE_PATH_PREFIX "/", "instance", L4M_INSTANCE_INTERFACE },
                { L4M_OVERLAY_PATH_PREFIX "/", "overlay", L4M_OVERLAY_INTERFACE },
                { L4M_BLUEPRINT_PATH_PREFIX "/", "blueprint", L4M_BLUEPRINT_INTERFACE },
                { L4M_JOB_PATH_PREFIX "/", "job", L4M_JOB_INTERFACE },
                { L4M_SCHEDULE_PATH_PREFIX "/", "schedule", L4M_SCHEDULE_INTERFACE },
        };

        for (size_t i = 0; i < L4M_ELEMENTSOF(kinds); i++)
                if (g_str_has_prefix(path, kinds[i].prefix) && !strchr(path + strlen(kinds[i].prefix), '/')) {
                        *ret_kind = kinds[i].kind;
                        *ret_interface = kinds[i].interface;
                        return true;
                }
        return false;
}

/* One value of a message as JSON; what has no JSON form here is null. */
static int read_value(sd_bus_message *m, JsonNode **ret) {
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r <= 0)
                return r < 0 ? r : -EBADMSG;
        if (type == 'a' && contents[0] == '{')
                type = 'e';     /* a dictionary: not among the properties */
        switch (type) {
        case 's': case 'o': case 'g': {
                const char *s;
                r = sd_bus_message_read_basic(m, type, &s);
                if (r < 0)
                        return r;
                *ret = json_node_init_string(json_node_alloc(), s);
                return 0;
        }
        case 'b': {
                int b;
                r = sd_bus_message_read_basic(m, type, &b);
                if (r < 0)
                        return r;
                *ret = json_node_init_boolean(json_node_alloc(), b);
                return 0;
        }
        case 'y': case 'n': case 'q': case 'i': case 'u': case 'x': case 't': {
                union { uint8_t y; int16_t n; uint16_t q; int32_t i; uint32_t u; int64_t x; uint64_t t; } v;
                gint64 n;
                r = sd_bus_message_read_basic(m, type, &v);
                if (r < 0)
                        return r;
                n = type == 'y' ? v.y : type == 'n' ? v.n : type == 'q' ? v.q : type == 'i' ? v.i :
                    type == 'u' ? v.u : type == 'x' ? v.x : (gint64) v.t;
                *ret = json_node_init_int(json_node_alloc(), n);
                return 0;
        }
        case 'd': {
                double d;
                r = sd_bus_message_read_basic(m, type, &d);
                if (r < 0)
                        return r;
                *ret = json_node_init_double(json_node_alloc(), d);
                return 0;
        }
        case 'v':
                r = sd_bus_message_enter_container(m, type, contents);
                if (r >= 0)
                        r = read_value(m, ret);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                return r;
        case 'a': {
                        g_autoptr(JsonArray) a = json_array_new();
                        r = sd_bus_message_enter_container(m, type, contents);
                        if (r < 0)
                                return r;
                        while ((r = sd_bus_message_at_end(m, false)) == 0) {
                                JsonNode *e;
                                r = read_value(m, &e);
                                if (r < 0)
                                        return r;
                                json_array_add_element(a, e);
                        }
                        if (r < 0)
                                return r;
                        r = sd_bus_message_exit_container(m);
                        if (r < 0)
                                return r;
                        *ret = json_node_init_array(json_node_alloc(), a);
                        return 0;
        }
        default:
                r = sd_bus_message_skip(m, NULL);
                if (r < 0)
                        return r;
                *ret = json_node_init_null(json_node_alloc());
                return 0;
        }
}

/* One property, whatever its name, into the object's properties. */
static int read_property(sd_bus_message *m, const char *name, void *userdata) {
        StateObject *o = userdata;
        g_autoptr(JsonBuilder) b = json_builder_new();
        JsonNode *value;
        int r;

        r = json_bus_read_named_property(m, name, b);
        if (r < 0)
                return r;
        if (r > 0) {
                json_object_set_member(o->props, name, json_builder_get_root(b));
                return 0;
        }
        r = read_value(m, &value);
        if (r < 0)
                return r;
        json_object_set_member(o->props, name, value);
        return 0;
}

/* a{sv} into the object's properties: all of them, as JSON, so there is no
 * table of names; the shared reader only walks the dictionary. */
static int read_properties(sd_bus_message *m, StateObject *o) {
        return l4m_bus_map_properties(m, NULL, 0, read_property, o, NULL);
}

static char *object_json(JsonObject *obj) {
        g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), obj);
        return json_to_string(node, FALSE);
}

static void sub_send_held(StateSub *sub, const char *path) {
        g_autoptr(GBytes) frame = NULL;

        /* Taken out first: sending may end the stream, and free sub. */
        if (!g_hash_table_steal_extended(sub->held, path, NULL, (gpointer *) &frame))
                return;
        if (GPOINTER_TO_INT(g_hash_table_lookup(sub->visible, path)) == VIS_SHOWN)
                stream_send(sub->st, frame);
}

static void sub_deliver(StateSub *sub, const char *path, bool removal, GBytes *frame);

static int on_visibility(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        VisCheck *c = userdata;
        StateSub *sub = c->sub;
        g_autofree char *path = g_strdup(c->path);
        g_autoptr(GBytes) frame = NULL;
        bool removed = c->removed, readded = c->readded;
        int vis = sd_bus_message_is_method_error(reply, NULL) ? VIS_HIDDEN : VIS_SHOWN;

        g_hash_table_remove(sub->checks, path);        /* frees c and its slot */
        if (!removed) {
                g_hash_table_insert(sub->visible, g_strdup(path), GINT_TO_POINTER(vis));
                sub_send_held(sub, path);              /* last: may free sub */
                return 0;
        }
        /* Instance paths are reused by name: what was decided about the
         * removed object must not stick to the path. */
        g_hash_table_remove(sub->visible, path);
        (void) g_hash_table_steal_extended(sub->held, path, NULL, (gpointer *) &frame);
        if (!frame)
                return 0;
        if (readded)
                sub_deliver(sub, path, false, frame);  /* asks again, about the new object; may free sub */
        else if (vis == VIS_SHOWN)
                stream_send(sub->st, frame);           /* the removal; may free sub */
        return 0;
}

/* An event about path for one stream: sent, held for a check, or not. */
static void sub_deliver(StateSub *sub, const char *path, bool removal, GBytes *frame) {
        StateObject *o = g_hash_table_lookup(sub->owner->objects, path);
        Stream *st = sub->st;
        sd_bus *bus = stream_bus(st);
        VisCheck *c;
        int vis;

        if (sub->admin) {
                stream_send(st, frame);
                return;
        }
        vis = GPOINTER_TO_INT(g_hash_table_lookup(sub->visible, path));
        if (vis == VIS_SHOWN) {
                stream_send(st, frame);
                if (st->ended)
                        return;         /* dropped: sub is gone */
        }
        if (vis == VIS_PENDING) {
                VisCheck *pending = g_hash_table_lookup(sub->checks, path);

                g_hash_table_insert(sub->held, g_strdup(path), g_bytes_ref(frame));
                if (pending && removal) {
                        pending->removed = true;
                        pending->readded = false;
                } else if (pending && pending->removed)
                        pending->readded = true;
        }
        if (removal) {
                if (vis != VIS_PENDING)
                        g_hash_table_remove(sub->visible, path);
                return;
        }
        if (vis != 0 || !o || !bus)
                return;

        if (g_hash_table_size(sub->visible) >= STATE_VISIBLE_MAX) {
                GHashTableIter iter;
                gpointer v;
                g_hash_table_iter_init(&iter, sub->visible);
                while (g_hash_table_iter_next(&iter, NULL, &v))
                        if (GPOINTER_TO_INT(v) != VIS_PENDING)
                                g_hash_table_iter_remove(&iter);
        }
        c = g_new0(VisCheck, 1);
        c->sub = sub;
        c->path = g_strdup(path);
        if (sd_bus_call_method_async(bus, &c->slot, st->session->daemon, path, "org.freedesktop.DBus.Properties", "GetAll",
                                     on_visibility, c, "s", o->interface) < 0) {
                vis_check_free(c);
                return;
        }
        g_hash_table_insert(sub->checks, c->path, c);
        g_hash_table_insert(sub->visible, g_strdup(path), GINT_TO_POINTER(VIS_PENDING));
        g_hash_table_insert(sub->held, g_strdup(path), g_bytes_ref(frame));
}

static void publish(StateEvents *se, const char *path, bool removal, const char *event, const char *json) {
        g_autoptr(GBytes) frame = sse_event_bytes(se->next_id, event, json);
        RingEvent *e = g_new0(RingEvent, 1);
        GList *l, *next;

        e->path = g_strdup(path);
        e->removal = removal;
        event_ring_push(se->ring, se->next_id++, frame, e);
        for (l = se->streams.head; l; l = next) {
                next = l->next;
                sub_deliver(((Stream *) l->data)->feed, path, removal, frame);
        }
}

static void publish_object(StateEvents *se, StateObject *o) {
        g_autofree char *json = object_json(o->props);
        publish(se, o->path, false, o->kind, json);
}

static void publish_removal(StateEvents *se, StateObject *o) {
        g_autoptr(JsonObject) obj = json_object_new();
        g_autofree char *event = g_strconcat(o->kind, "-removed", NULL);
        g_autofree char *json = NULL;
        const char *key = strcmp(o->kind, "job") == 0 ? "Id" : "Name";

        if (json_object_has_member(o->props, key))
                json_object_set_member(obj, key, json_node_copy(json_object_get_member(o->props, key)));
        json = object_json(obj);
        publish(se, o->path, true, event, json);
}

static int on_throttle_timer(sd_event_source *s, uint64_t usec, void *userdata);

static void arm_throttle_timer(StateEvents *se) {
        uint64_t due = throttle_next_due(se->throttle);

        if (due == UINT64_MAX) {
                (void) sd_event_source_set_enabled(se->throttle_timer, SD_EVENT_OFF);
                return;
        }
        if (!se->throttle_timer) {
                if (sd_event_add_time(se->bridge->event, &se->throttle_timer, CLOCK_MONOTONIC, due, 0,
                                      on_throttle_timer, se) < 0)
                        return;
        } else
                (void) sd_event_source_set_time(se->throttle_timer, due);
        (void) sd_event_source_set_enabled(se->throttle_timer, SD_EVENT_ONESHOT);
}

static int on_throttle_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        StateEvents *se = userdata;
        g_auto(GStrv) due = throttle_take_due(se->throttle, usec);

        for (char **p = due; *p; p++) {
                StateObject *o = g_hash_table_lookup(se->objects, *p);
                if (o)
                        publish_object(se, o);
        }
        arm_throttle_timer(se);
        return 0;
}

/* A change of o: an event now, or for a job's progress maybe a bit later. */
static void object_changed(StateEvents *se, StateObject *o, bool force) {
        uint64_t now;

        if (strcmp(o->kind, "job") != 0) {
                publish_object(se, o);
                return;
        }
        (void) sd_event_now(se->bridge->event, CLOCK_MONOTONIC, &now);
        if (throttle_offer(se->throttle, o->path, now, force))
                publish_object(se, o);
        else
                arm_throttle_timer(se);
}

static StateObject *object_add(StateEvents *se, const char *path) {
        StateObject *o = g_hash_table_lookup(se->objects, path);
        const char *kind, *interface;

        if (o)
                return o;
        if (!kind_of(path, &kind, &interface))
                return NULL;
        o = g_new0(StateObject, 1);
        o->path = g_strdup(path);
        o->kind = kind;
        o->interface = interface;
        o->props = json_object_new();
        g_hash_table_insert(se->objects, o->path, o);
        return o;
}

typedef struct GetAllCall {
        StateEvents *se;
        char *path;
} GetAllCall;

static int on_object_loaded(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        GetAllCall *call = userdata;
        StateEvents *se = call->se;
        StateObject *o = g_hash_table_lookup(se->objects, call->path);

        if (!o)
                return 0;
        o->get_all = sd_bus_slot_unref(o->get_all);     /* frees call */
        if (!sd_bus_message_is_method_error(reply, NULL) && read_properties(reply, o) >= 0)
                object_changed(se, o, true);
        return 0;
}

static void get_all_call_free(void *p) {
        GetAllCall *call = p;
        g_free(call->path);
        g_free(call);
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        StateEvents *se = userdata;
        const char *path = sd_bus_message_get_path(m), *interface;
        StateObject *o;
        bool force;
        int r;

        if (!path)
                return 0;
        o = g_hash_table_lookup(se->objects, path);
        if (!o) {
                GetAllCall *call;

                o = object_add(se, path);
                if (!o)
                        return 0;
                /* First sight: the whole object, then its events. */
                call = g_new0(GetAllCall, 1);
                call->se = se;
                call->path = g_strdup(path);
                r = sd_bus_call_method_async(se->bridge->bus, &o->get_all, L4M_BUS_NAME, path,
                                             "org.freedesktop.DBus.Properties", "GetAll", on_object_loaded, call,
                                             "s", o->interface);
                if (r < 0) {
                        get_all_call_free(call);
                        return 0;
                }
                (void) sd_bus_slot_set_destroy_callback(o->get_all, get_all_call_free);
                return 0;
        }
        if (o->get_all)
                return 0;       /* the GetAll answer has it */

        r = sd_bus_message_read(m, "s", &interface);
        if (r < 0 || strcmp(interface, o->interface) != 0)
                return 0;
        force = false;
        {
                /* A new State is never held back. */
                JsonNode *old = json_object_get_member(o->props, "State");
                g_autofree char *before = old ? g_strdup(json_node_get_string(old)) : NULL;
                JsonNode *now;

                if (read_properties(m, o) < 0)
                        return 0;
                now = json_object_get_member(o->props, "State");
                force = now && (!before || g_strcmp0(before, json_node_get_string(now)) != 0);
        }
        object_changed(se, o, force);
        return 0;
}

/* a{sa{sv}}: the interfaces of path with their properties. */
static int read_interfaces(StateEvents *se, sd_bus_message *m, const char *path, bool publish_it) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
                const char *interface, *kind, *want;
                StateObject *o;

                r = sd_bus_message_read(m, "s", &interface);
                if (r < 0)
                        return r;
                if (!kind_of(path, &kind, &want) || strcmp(interface, want) != 0) {
                        r = sd_bus_message_skip(m, "a{sv}");
                } else {
                        o = object_add(se, path);
                        r = read_properties(m, o);
                        if (r >= 0 && publish_it)
                                object_changed(se, o, true);
                }
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int on_interfaces_added(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        const char *path;

        if (sd_bus_message_read(m, "o", &path) >= 0)
                (void) read_interfaces(userdata, m, path, true);
        return 0;
}

static int on_interfaces_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        StateEvents *se = userdata;
        const char *path;
        StateObject *o;

        if (sd_bus_message_read(m, "o", &path) < 0)
                return 0;
        o = g_hash_table_lookup(se->objects, path);
        if (!o)
                return 0;
        throttle_forget(se->throttle, path);
        publish_removal(se, o);
        g_hash_table_remove(se->objects, path);
        return 0;
}

/* A job ended: its last state goes out now, whatever the throttle says. */
static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        StateEvents *se = userdata;
        const char *path;
        uint64_t id;
        StateObject *o;

        if (sd_bus_message_read(m, "to", &id, &path) < 0)
                return 0;
        o = g_hash_table_lookup(se->objects, path);
        if (o && !o->get_all)
                object_changed(se, o, true);
        return 0;
}

static int on_managed_objects(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        StateEvents *se = userdata;
        int r;

        se->managed = sd_bus_slot_unref(se->managed);
        if (sd_bus_message_is_method_error(reply, NULL)) {
                log_warning("Cannot list the daemon's objects: %s", sd_bus_message_get_error(reply)->message);
                return 0;
        }
        r = sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}")) > 0) {
                const char *path;

                r = sd_bus_message_read(reply, "o", &path);
                if (r >= 0)
                        r = read_interfaces(se, reply, path, false);
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        if (r < 0)
                log_warning_errno(r, "Cannot parse the daemon's objects: %s", STRERROR(r));
        return 0;
}

static int load_objects(StateEvents *se) {
        se->managed = sd_bus_slot_unref(se->managed);
        return sd_bus_call_method_async(se->bridge->bus, &se->managed, L4M_BUS_NAME, L4M_MANAGER_PATH,
                                        "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
                                        on_managed_objects, se, NULL);
}

/* The daemon (re)started: the cache and the ring may be stale, and
 * changes made meanwhile were not seen. Start over, and every stream is
 * told to refetch. */
static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        StateEvents *se = userdata;
        const char *name, *old_owner, *new_owner;
        GList *l, *next;
        int r;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || !new_owner[0])
                return 0;
        g_hash_table_remove_all(se->objects);
        throttle_free(se->throttle);
        se->throttle = throttle_new(STATE_JOB_INTERVAL_USEC);
        event_ring_free(se->ring);
        se->ring = event_ring_new(STATE_RING_EVENTS, STATE_RING_BYTES, ring_event_free);
        for (l = se->streams.head; l; l = next) {
                next = l->next;
                stream_send_event(l->data, 0, "reset", "{}");
        }
        r = load_objects(se);
        if (r < 0)
                log_warning_errno(r, "Cannot list the daemon's objects: %s", STRERROR(r));
        return 0;
}

int state_events_new(Bridge *b, StateEvents **ret) {
        StateEvents *se = g_new0(StateEvents, 1);
        int r;

        se->bridge = b;
        se->objects = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify) state_object_free);
        se->ring = event_ring_new(STATE_RING_EVENTS, STATE_RING_BYTES, ring_event_free);
        se->next_id = (uint64_t) g_get_real_time();
        se->throttle = throttle_new(STATE_JOB_INTERVAL_USEC);
        g_queue_init(&se->streams);

        r = sd_bus_add_match_async(b->bus, &se->match_changed,
                                   "type='signal',sender='" L4M_BUS_NAME "',interface='org.freedesktop.DBus.Properties',"
                                   "member='PropertiesChanged',path_namespace='" L4M_MANAGER_PATH "'",
                                   on_properties_changed, NULL, se);
        if (r >= 0)
                r = sd_bus_match_signal_async(b->bus, &se->match_added, L4M_BUS_NAME, L4M_MANAGER_PATH,
                                              "org.freedesktop.DBus.ObjectManager", "InterfacesAdded",
                                              on_interfaces_added, NULL, se);
        if (r >= 0)
                r = sd_bus_match_signal_async(b->bus, &se->match_removed, L4M_BUS_NAME, L4M_MANAGER_PATH,
                                              "org.freedesktop.DBus.ObjectManager", "InterfacesRemoved",
                                              on_interfaces_removed, NULL, se);
        if (r >= 0)
                r = sd_bus_match_signal_async(b->bus, &se->match_job_removed, L4M_BUS_NAME, L4M_MANAGER_PATH,
                                              L4M_MANAGER_INTERFACE, "JobRemoved", on_job_removed, NULL, se);
        if (r >= 0)
                r = sd_bus_add_match_async(b->bus, &se->match_owner,
                                           "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
                                           "interface='org.freedesktop.DBus',member='NameOwnerChanged',"
                                           "arg0='" L4M_BUS_NAME "'",
                                           on_owner_changed, NULL, se);
        if (r >= 0)
                r = load_objects(se);
        if (r < 0) {
                state_events_free(se);
                return log_error_errno(r, "Cannot watch the daemon's objects: %s", STRERROR(r));
        }
        *ret = se;
        return 0;
}

void state_events_free(StateEvents *se) {
        if (!se)
                return;
        assert(g_queue_is_empty(&se->streams));
        sd_bus_slot_unref(se->match_changed);
        sd_bus_slot_unref(se->match_added);
        sd_bus_slot_unref(se->match_removed);
        sd_bus_slot_unref(se->match_job_removed);
        sd_bus_slot_unref(se->match_owner);
        sd_bus_slot_unref(se->managed);
        sd_event_source_disable_unref(se->throttle_timer);
        throttle_free(se->throttle);
        event_ring_free(se->ring);
        g_hash_table_unref(se->objects);
        g_free(se);
}

static void state_sub_detach(Stream *st) {
        StateSub *sub = st->feed;

        g_queue_unlink(&sub->owner->streams, &st->feed_link);
        g_hash_table_unref(sub->checks);
        g_hash_table_unref(sub->held);
        g_hash_table_unref(sub->visible);
        g_free(sub);
        st->feed = NULL;
}

void state_events_subscribe(StateEvents *se, Stream *st) {
        StateSub *sub = g_new0(StateSub, 1);
        GList *l = NULL;

        sub->owner = se;
        sub->st = st;
        sub->admin = g_strcmp0(st->session->role, "admin") == 0;
        sub->visible = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        sub->held = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);
        sub->checks = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify) vis_check_free);
        st->feed = sub;
        st->detach = state_sub_detach;
        g_queue_push_tail_link(&se->streams, &st->feed_link);

        stream_start(st);
        if (st->has_last_id) {
                if (!event_ring_after(se->ring, st->last_id, &l))
                        stream_send_event(st, 0, "reset", "{}");
                for (; l && !st->ended; l = l->next) {
                        EventRingEntry *e = l->data;
                        RingEvent *re = e->data;
                        sub_deliver(sub, re->path, re->removal, e->frame);
                }
        }
}
