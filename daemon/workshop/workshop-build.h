/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/workshop/: Workshop overlays: the Steam Web API, the shared download cache, builds linking into it. */
#pragma once

#include "job.h"
#include "overlay.h"

/* The "workshop-build" job: resolves an overlay's Workshop references
 * (collections expanded recursively, cycles cut), asks Steam for the
 * items' details in batches, downloads what the shared cache lacks with
 * libcurl's multi interface on the event loop ([Downloads] MaxParallel at
 * once, transient failures retried with backoff, partial files resumed),
 * then points the overlay's left4dead2/addons/<id>.vpk links at the cache.
 * Nothing in the overlay changes unless every usable item is in the cache.
 * Restartable: it starts over from the overlay's items after a crash. */

typedef struct WorkshopBuild WorkshopBuild;

extern const JobKind workshop_build_kind;

WorkshopBuild *workshop_build_new(Overlay *o);

/* Tries per request or download, and the first backoff. */
#define WORKSHOP_TRIES_MAX 4u
#define WORKSHOP_BACKOFF_USEC (500 * 1000)
