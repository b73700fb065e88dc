/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/: mechanisms the domains share: files without following links, workers, libcurl, units. */
#pragma once

#include <stdbool.h>

#include <glib.h>
#include <systemd/sd-event.h>

/* The one way the daemon runs blocking work (extracting an archive,
 * removing or sizing a tree, hashing a password) without the event loop
 * waiting for the disk or the CPU: work() runs on a thread of its own,
 * done() on the event loop once it returned, with its result (a negative
 * errno or what work() says it means). Anything else work() produces goes
 * through userdata: written by the thread, read in done(). work() must not
 * touch daemon state.
 *
 * The caller owns the Worker and frees it in done() or later. Freeing it
 * earlier cancels it (see worker_cancel()) and waits for the thread; done()
 * is then never called. That is also what happens at shutdown: the owners
 * (jobs, the password hasher) are freed with the Manager after the event
 * loop returned, so the daemon exits only once every Worker's thread has
 * ended, having asked those that look at worker_cancelled() to stop early. */

typedef struct Worker Worker;
typedef int (*WorkerFunc)(void *userdata);
typedef void (*WorkerDoneFunc)(Worker *w, int result, void *userdata);

/* Starts work(userdata) on a thread called name. *ret is set before work()
 * can run, so work() may reach its Worker through userdata (to look at
 * worker_cancelled()). -EAGAIN if no thread could be started. */
int worker_start(sd_event *event, const char *name, WorkerFunc work, WorkerDoneFunc done,
                 void *userdata, Worker **ret);

/* Asks work() to stop early; from the event loop. work() stops only if it
 * looks (worker_cancelled(), or worker_cancel_flag() handed to code that
 * polls an int); done() is called all the same, with what work() returned. */
void worker_cancel(Worker *w);
/* For work(), on its thread: has worker_cancel() been called? */
bool worker_cancelled(const Worker *w);
/* The same, as the int that polling code (archive_extract()) watches:
 * non-zero once cancelled. */
const volatile int *worker_cancel_flag(const Worker *w);

/* Cancels the work and waits for its thread if it still runs. */
Worker *worker_free(Worker *w);

/* Fire and forget: work(userdata) on a thread called name, then
 * free_userdata(userdata) (if not NULL) on the same thread. What work()
 * returns goes nowhere: it reports its own failures. Nobody is told when
 * it ends and nobody waits for it: at exit the process ends the thread
 * wherever it is, so work() must only do what a restart can finish (the
 * removal of a tree already moved out of the way, say). -EAGAIN if no
 * thread could be started; userdata is then still the caller's. */
int worker_start_detached(const char *name, WorkerFunc work, void *userdata, GDestroyNotify free_userdata);
