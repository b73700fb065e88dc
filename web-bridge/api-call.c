/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <unistd.h>

#include "api-call.h"
#include "bridge-internal.h"
#include "l4m-log.h"
#include "l4m-util.h"

typedef struct Pending {
        ApiCall *call;
        ApiCallReply reply;
        unsigned index;
} Pending;

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
        /* Cancels what is still in flight: no callback comes after this. */
        g_ptr_array_unref(c->slots);
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
        bool a = api_call_begin_answer(c);

        if (a)
                bridge_reply_bus_error(c->msg, e);
        api_call_end_answer(c, a);
}

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Pending *p = userdata;
        ApiCall *c = p->call;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        assert(c->pending > 0);
        c->pending--;
        if (e && c->tolerate_errors) {
                p->reply(c, NULL, p->index);
                return 0;
        }
        if (e) {
                api_call_reply_bus_error(c, e);
                return 0;
        }
        p->reply(c, reply, p->index);  /* may answer and free c */
        return 0;
}

int api_call_new_method(ApiCall *c, const char *path, const char *iface, const char *member, sd_bus_message **ret) {
        if (!c->session->bus)
                return -ENOTCONN;
        return sd_bus_message_new_method_call(c->session->bus, ret, L4M_BUS_NAME, path, iface, member);
}

int api_call_send(ApiCall *c, sd_bus_message *m, ApiCallReply reply, unsigned index) {
        sd_bus_slot *slot = NULL;
        Pending *p;
        int r;

        if (!c->session->bus)
                return -ENOTCONN;
        p = g_new0(Pending, 1);
        p->call = c;
        p->reply = reply;
        p->index = index;
        r = sd_bus_call_async(c->session->bus, &slot, m, on_reply, p, BRIDGE_CALL_TIMEOUT_USEC);
        if (r < 0) {
                g_free(p);
                return r;
        }
        /* The Pending goes with the slot. */
        (void) sd_bus_slot_set_destroy_callback(slot, g_free);
        g_ptr_array_add(c->slots, slot);
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
