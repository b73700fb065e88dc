/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <systemd/sd-event.h>

/* One piece of blocking work (removing a tree, sizing one) on a thread of
 * its own, so that the event loop never waits for the disk: work() runs on
 * the thread, done() on the event loop once it returned, with its result.
 * The caller owns the Worker and frees it in done() or later; freeing it
 * earlier waits for the thread. work() must not touch daemon state. */

typedef struct Worker Worker;
typedef int (*WorkerFunc)(void *userdata);
typedef void (*WorkerDoneFunc)(Worker *w, int result, void *userdata);

int worker_start(sd_event *event, const char *name, WorkerFunc work, WorkerDoneFunc done,
                 void *userdata, Worker **ret);
Worker *worker_free(Worker *w);
