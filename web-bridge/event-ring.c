/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>

#include "event-ring.h"

EventRing *event_ring_new(size_t max_entries, size_t max_bytes, GDestroyNotify free_data) {
        EventRing *r = g_new0(EventRing, 1);

        assert(max_entries > 0);
        g_queue_init(&r->entries);
        r->max_entries = max_entries;
        r->max_bytes = max_bytes;
        r->free_data = free_data;
        return r;
}

static void entry_free(EventRing *r, EventRingEntry *e) {
        g_bytes_unref(e->frame);
        if (e->data && r->free_data)
                r->free_data(e->data);
        g_free(e);
}

static void drop_oldest(EventRing *r) {
        EventRingEntry *e = g_queue_pop_head(&r->entries);

        r->bytes -= g_bytes_get_size(e->frame);
        entry_free(r, e);
}

void event_ring_free(EventRing *r) {
        if (!r)
                return;
        while (!g_queue_is_empty(&r->entries))
                drop_oldest(r);
        g_free(r);
}

void event_ring_push(EventRing *r, uint64_t id, GBytes *frame, void *data) {
        EventRingEntry *e;

        assert(r);
        assert(frame);
        assert(id > event_ring_last_id(r));

        e = g_new0(EventRingEntry, 1);
        e->id = id;
        e->frame = g_bytes_ref(frame);
        e->data = data;
        g_queue_push_tail(&r->entries, e);
        r->bytes += g_bytes_get_size(frame);

        while (r->entries.length > r->max_entries ||
               (r->bytes > r->max_bytes && r->entries.length > 1))
                drop_oldest(r);
}

uint64_t event_ring_first_id(const EventRing *r) {
        const EventRingEntry *e = g_queue_peek_head((GQueue *) &r->entries);
        return e ? e->id : 0;
}

uint64_t event_ring_last_id(const EventRing *r) {
        const EventRingEntry *e = g_queue_peek_tail((GQueue *) &r->entries);
        return e ? e->id : 0;
}

bool event_ring_after(const EventRing *r, uint64_t after, GList **ret) {
        uint64_t first = event_ring_first_id(r), last = event_ring_last_id(r);

        assert(ret);

        *ret = NULL;
        if (first == 0 || after > last)
                return false;
        if (after == last)
                return true;
        if (after + 1 < first)
                return false;
        /* Ids are consecutive: count from whichever end is nearer. */
        if (after + 1 - first <= last - after) {
                GList *l = r->entries.head;
                for (uint64_t id = first; id <= after; id++)
                        l = l->next;
                *ret = l;
        } else {
                GList *l = r->entries.tail;
                for (uint64_t id = last; id > after + 1; id--)
                        l = l->prev;
                *ret = l;
        }
        return true;
}

GList *event_ring_last(const EventRing *r, size_t n) {
        GList *l = r->entries.tail;

        if (n == 0 || !l)
                return NULL;
        for (size_t i = 1; i < n && l->prev; i++)
                l = l->prev;
        return l;
}
