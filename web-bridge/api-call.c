/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <unistd.h>

#include "api-call.h"
#include "bridge-internal.h"
#include "l4m-log.h"
#include "l4m-util.h"

/* A session's bus calls in flight at once. dbus-daemon answers
 * LimitsExceeded to a connection with more pending replies than its
 * max_replies_per_connection (128 on the system bus by default), and one
 * list request alone makes a call per entry; so past this many, calls wait
 * in a queue of the session, in order, and past SESSION_CALLS_QUEUED_MAX
 * waiting ones a request is refused (503 org.left4me.Web.Busy). */
#define SESSION_CALLS_IN_FLIGHT_MAX 32
#define SESSION_CALLS_QUEUED_MAX 4096

typedef struct Pending {
        ApiCall *call;
        Session *session;
        ApiCallReply reply;
        unsigned index;
        sd_bus_message *message;  /* while queued */
        bool in_flight;           /* counted in session->calls_in_flight */
} Pending;

static void session_calls_pump(Session *s);

/* A call in flight was answered or cancelled: its place is free. */
static void pending_done(Pending *p) {
        if (!p->in_flight)
                return;
        p->in_flight = false;
        assert(p->session->calls_in_flight > 0);
        p->session->calls_in_flight--;
}

/* The slot's destroy callback: a call cancelled before its answer (its
 * request was answered or the session closed) frees its place too. */
static void pending_destroy(void *userdata) {
        Pending *p = userdata;
        Session *s = p->session;
        bool was_in_flight = p->in_flight;

        pending_done(p);
        g_free(p);
        if (was_in_flight)
                session_calls_pump(s);
}

static void pending_free_queued(Pending *p) {
        sd_bus_message_unref(p->message);
        g_free(p);
}

static void slot_unref(gpointer p) {
        sd_bus_slot_unref(p);
}

static void on_finished(SoupServerMessage *msg, gpointer userdata) {
        ApiCall *c = userdata;

        c->client_gone = true;
}

ApiCall *api_call_new(Session *session, SoupServerMessage *msg) {
        ApiCall *c = g_new0(ApiCall, 1);

        assert(session && !session->closed);
        c->bridge = session->bridge;
        c->session = session_ref(session);
        c->msg = g_object_ref(msg);
        c->slots = g_ptr_array_new_with_free_func(slot_unref);
        c->fd = -1;
        c->finished_id = g_signal_connect(msg, "finished", G_CALLBACK(on_finished), c);
        g_hash_table_add(session->calls, c);
        soup_server_message_pause(msg);
        return c;
}

static void api_call_free(ApiCall *c) {
        GQueue *q = c->session->call_queue;

        /* Drops what still waits, then cancels what is in flight: no
         * callback comes after this. */
        for (GList *l = q->head, *next; l && c->queued > 0; l = next) {
                Pending *p = l->data;

                next = l->next;
                if (p->call != c)
                        continue;
                g_queue_delete_link(q, l);
                pending_free_queued(p);
                c->queued--;
        }
        g_ptr_array_unref(c->slots);
        api_call_end_password_check(c);
        g_hash_table_remove(c->session->calls, c);
        g_signal_handler_disconnect(c->msg, c->finished_id);
        g_object_unref(c->msg);
        session_unref(c->session);
        g_free(c->name);
        g_free(c->path);
        if (c->body)
                json_node_unref(c->body);
        if (c->items)
                g_ptr_array_unref(c->items);
        if (c->queue)
                g_ptr_array_unref(c->queue);
        if (c->fd >= 0)
                close(c->fd);
        g_free(c);
}

void api_call_end_password_check(ApiCall *c) {
        if (!c->check_bus)
                return;
        c->check_slot = sd_bus_slot_unref(c->check_slot);
        c->check_bus = sd_bus_close_unref(c->check_bus);
        assert(c->bridge->password_checks > 0);
        c->bridge->password_checks--;
}

static bool api_call_begin_answer(ApiCall *c) {
        if (c->answered)
                return false;
        c->answered = true;
        return !c->client_gone;
}

static void api_call_end_answer(ApiCall *c, bool answered) {
        if (answered)
                soup_server_message_unpause(c->msg);
        api_call_free(c);
}

void api_call_reply_json(ApiCall *c, guint status, JsonNode *node) {
        bool a = api_call_begin_answer(c);

        if (a) {
                if (node)
                        bridge_reply_json(c->msg, status, node);
                else
                        soup_server_message_set_status(c->msg, status, NULL);
        }
        api_call_end_answer(c, a);
}

void api_call_reply_error(ApiCall *c, guint status, const char *name, const char *message) {
        bool a = api_call_begin_answer(c);

        if (a)
                bridge_reply_error(c->msg, status, name, message);
        api_call_end_answer(c, a);
}

void api_call_reply_bus_error(ApiCall *c, const sd_bus_error *e) {
        bool a;

        /* The left4med that logged the session in is gone (the calls go to
         * its unique name): the login went with it. Closing the session
         * answers every call of it, c included, 401. */
        if (sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER) &&
            !c->session->closed) {
                session_close(c->session, "left4med went away");
                return;
        }
        a = api_call_begin_answer(c);

        /* The bus's limit on pending calls is the bridge's to respect, not
         * the client's rate: 503 (with Retry-After), never 429. */
        if (a && sd_bus_error_has_name(e, SD_BUS_ERROR_LIMITS_EXCEEDED))
                bridge_reply_error(c->msg, SOUP_STATUS_SERVICE_UNAVAILABLE, e->name, e->message);
        else if (a)
                bridge_reply_bus_error(c->msg, e);
        api_call_end_answer(c, a);
}

void api_call_reply_send_error(ApiCall *c, int r) {
        if (r == -EBUSY)
                api_call_reply_error(c, SOUP_STATUS_SERVICE_UNAVAILABLE, "org.left4me.Web.Busy",
                                     "Too many requests of this session wait for left4med.");
        else
                api_call_reply_error(c, SOUP_STATUS_BAD_GATEWAY, "org.left4me.Error.Failed", STRERROR(r));
}

/* The object of a call went away in between (a list's entry deleted). */
static bool error_is_gone(const sd_bus_error *e) {
        return sd_bus_error_has_names(e, SD_BUS_ERROR_UNKNOWN_OBJECT, SD_BUS_ERROR_UNKNOWN_INTERFACE,
                                      SD_BUS_ERROR_UNKNOWN_METHOD, "org.left4me.Error.NotFound");
}

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Pending *p = userdata;
        ApiCall *c = p->call;
        g_autoptr(Session) s = session_ref(c->session);
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        pending_done(p);
        assert(c->pending > 0);
        c->pending--;
        /* Each of these may answer and free c (and p with its slot). */
        if (e && c->error_handler && c->error_handler(c, e)) {
                /* Taken care of (c may be gone). */
        } else if (e && c->tolerate_errors && error_is_gone(e))
                p->reply(c, NULL, p->index);
        else if (e)
                api_call_reply_bus_error(c, e);
        else
                p->reply(c, reply, p->index);
        session_calls_pump(s);
        return 0;
}

int api_call_new_method(ApiCall *c, const char *path, const char *iface, const char *member, sd_bus_message **ret) {
        if (!c->session->bus)
                return -ENOTCONN;
        return sd_bus_message_new_method_call(c->session->bus, ret, c->session->daemon, path, iface, member);
}

/* Sends p's call now; frees p on failure. */
static int pending_send(Pending *p, sd_bus_message *m) {
        ApiCall *c = p->call;
        sd_bus_slot *slot = NULL;
        int r;

        if (!c->session->bus) {
                g_free(p);
                return -ENOTCONN;
        }
        r = sd_bus_call_async(c->session->bus, &slot, m, on_reply, p, BRIDGE_CALL_TIMEOUT_USEC);
        if (r < 0) {
                g_free(p);
                return r;
        }
        /* The Pending goes with the slot. */
        (void) sd_bus_slot_set_destroy_callback(slot, pending_destroy);
        g_ptr_array_add(c->slots, slot);
        p->in_flight = true;
        c->session->calls_in_flight++;
        return 0;
}

/* Sends waiting calls while there is room. A call that cannot be sent
 * answers its request (which drops that request's other calls). */
static void session_calls_pump(Session *s) {
        if (s->pumping_calls || s->closed)
                return;
        s->pumping_calls = true;
        while (s->calls_in_flight < SESSION_CALLS_IN_FLIGHT_MAX && !g_queue_is_empty(s->call_queue)) {
                Pending *p = g_queue_pop_head(s->call_queue);
                ApiCall *c = p->call;
                sd_bus_message *m = g_steal_pointer(&p->message);
                int r;

                assert(c->queued > 0);
                c->queued--;
                r = pending_send(p, m);
                sd_bus_message_unref(m);
                if (r < 0)
                        api_call_reply_send_error(c, r);
        }
        s->pumping_calls = false;
}

int api_call_send(ApiCall *c, sd_bus_message *m, ApiCallReply reply, unsigned index) {
        Session *s = c->session;
        Pending *p;
        int r;

        if (!s->bus)
                return -ENOTCONN;
        p = g_new0(Pending, 1);
        p->call = c;
        p->session = s;
        p->reply = reply;
        p->index = index;
        if (s->calls_in_flight < SESSION_CALLS_IN_FLIGHT_MAX && g_queue_is_empty(s->call_queue)) {
                r = pending_send(p, m);
                if (r < 0)
                        return r;
        } else {
                if (g_queue_get_length(s->call_queue) >= SESSION_CALLS_QUEUED_MAX) {
                        g_free(p);
                        return -EBUSY;
                }
                p->message = sd_bus_message_ref(m);
                g_queue_push_tail(s->call_queue, p);
                c->queued++;
        }
        c->pending++;
        return 0;
}

void api_calls_fail_session(Session *s) {
        g_autoptr(GPtrArray) calls = g_ptr_array_new();
        GHashTableIter it;
        gpointer key;

        g_hash_table_iter_init(&it, s->calls);
        while (g_hash_table_iter_next(&it, &key, NULL))
                g_ptr_array_add(calls, key);
        for (guint i = 0; i < calls->len; i++)
                api_call_reply_error(calls->pdata[i], SOUP_STATUS_UNAUTHORIZED, "org.left4me.Web.Unauthorized",
                                     "The session was closed.");
}
