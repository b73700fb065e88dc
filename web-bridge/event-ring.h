/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

/* The recent events of a feed, as formatted frames, so that a client that
 * reconnects with Last-Event-ID gets exactly what it missed while the ring
 * still holds it. Ids increase by one per event. Bounded by a number of
 * events and by their bytes; the oldest go first. */

typedef struct EventRingEntry {
        uint64_t id;
        GBytes *frame;          /* the text/event-stream frame */
        void *data;             /* the feeder's, freed with the ring's free_data */
} EventRingEntry;

typedef struct EventRing {
        GQueue entries;         /* EventRingEntry*, oldest first */
        size_t bytes;
        size_t max_entries, max_bytes;
        GDestroyNotify free_data;
} EventRing;

EventRing *event_ring_new(size_t max_entries, size_t max_bytes, GDestroyNotify free_data);
void event_ring_free(EventRing *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(EventRing, event_ring_free)

/* Appends an event (a new reference to frame is taken; data is the
 * ring's now), then drops the oldest beyond the bounds; the newest stays
 * even when it alone is over max_bytes. id must be above every id held. */
void event_ring_push(EventRing *r, uint64_t id, GBytes *frame, void *data);

/* The first id held and the last; 0 when empty. */
uint64_t event_ring_first_id(const EventRing *r);
uint64_t event_ring_last_id(const EventRing *r);

/* Where a client that saw up to `after` goes on: true with *ret the first
 * entry after it (NULL: it has seen all there is); false when events after
 * it were dropped already, or `after` is not an id this ring handed out
 * (above the last): the client has to start over. */
bool event_ring_after(const EventRing *r, uint64_t after, GList **ret);

/* The link of the last n entries' first (NULL for n == 0 or an empty ring). */
GList *event_ring_last(const EventRing *r, size_t n);
