// SPDX-License-Identifier: GPL-2.0-or-later
// Live state: /api/events kept in cache and passed to the page's listeners
// (onLive), per-page event streams (stream), lists that follow the events
// (liveList), and what a page closes when it is left (onPageLeave).

import { ApiError, api, session } from './api.js';
import { showError } from './notices.js';
import { loggedOut } from './session.js';

// What /api/events keeps current, keyed by name (jobs by id).
export const cache = {
        instances: new Map(),
        overlays: new Map(),
        jobs: new Map(),
};

// Overlay names by Id (as text), to name a job's Target ("overlay:<Id>");
// kept from overlay lists and events, and kept after an overlay is deleted
// (its jobs stay in the list).
export const overlayNames = new Map();

const listeners = new Set();   // fn(kind, object) for live updates

let events = null;             // the EventSource of /api/events

let eventsRetry = null;

const pageCleanup = [];        // closes what the current page opened

// stream(path, handlers): an EventSource closed when the page changes.
export function stream(path, handlers) {
        const es = new EventSource(path);
        for (const [name, fn] of Object.entries(handlers)) {
                es.addEventListener(name, (ev) => {
                        let data;
                        try {
                                data = JSON.parse(ev.data);
                        } catch (e) {
                                return;
                        }
                        fn(data, ev, es);
                });
        }
        pageCleanup.push(() => es.close());
        return es;
}

// liveList(list, kind, path): the keyedList follows /api/events (events kind
// and kind-removed, by Name) and is read from path again after a reset;
// returns the function that reads it.
export function liveList(list, kind, path) {
        const load = async () => list.replace(await api('GET', path));
        onLive((k, o) => {
                if (k === kind)
                        list.set(o);
                else if (k === kind + '-removed')
                        list.remove(o.Name);
                else if (k === 'reset')
                        load().catch(showError);
        });
        return load;
}

export function emit(kind, obj) {
        for (const fn of listeners)
                fn(kind, obj);
}

export function onLive(fn) {
        listeners.add(fn);
        pageCleanup.push(() => listeners.delete(fn));
}

export function eventsStart() {
        eventsStop();
        events = new EventSource('/api/events');
        const on = (name, fn) => events.addEventListener(name, (ev) => {
                let data;
                try {
                        data = JSON.parse(ev.data);
                } catch (e) {
                        return;
                }
                fn(data);
        });
        on('instance', (o) => {
                cache.instances.set(o.Name, o);
                emit('instance', o);
        });
        on('instance-removed', (o) => {
                cache.instances.delete(o.Name);
                emit('instance-removed', o);
        });
        on('overlay', (o) => {
                cache.overlays.set(o.Name, o);
                noteOverlays([o]);
                emit('overlay', o);
        });
        on('overlay-removed', (o) => {
                cache.overlays.delete(o.Name);
                emit('overlay-removed', o);
        });
        on('job', (o) => {
                cache.jobs.set(String(o.Id), o);
                emit('job', o);
        });
        on('job-removed', (o) => {
                cache.jobs.delete(String(o.Id));
                emit('job-removed', o);
        });
        on('blueprint', (o) => emit('blueprint', o));
        on('blueprint-removed', (o) => emit('blueprint-removed', o));
        on('schedule', (o) => emit('schedule', o));
        on('schedule-removed', (o) => emit('schedule-removed', o));
        events.addEventListener('reset', () => emit('reset', null));
        events.addEventListener('error', () => {
                // The browser reconnects by itself after network errors; an
                // HTTP error (401 after the session expired) closes it.
                if (events && events.readyState === EventSource.CLOSED)
                        eventsRecover();
        });
}

async function eventsRecover() {
        eventsStop();
        try {
                await api('GET', '/api/session');
        } catch (e) {
                if (e instanceof ApiError && e.status === 401) {
                        loggedOut('Your session has ended. Please log in again.');
                        return;
                }
        }
        eventsRetry = setTimeout(() => {
                eventsRetry = null;
                if (session.user) {
                        eventsStart();
                        emit('reset', null);
                }
        }, 3000);
}

export function eventsStop() {
        if (eventsRetry) {
                clearTimeout(eventsRetry);
                eventsRetry = null;
        }
        if (events) {
                events.close();
                events = null;
        }
}

export function noteOverlays(list) {
        for (const o of list || [])
                if (o && o.Id !== undefined && o.Name)
                        overlayNames.set(String(o.Id), o.Name);
}

// onPageLeave(fn): fn runs when the page changes (closes what it opened).
export function onPageLeave(fn) {
        pageCleanup.push(fn);
}

// leavePage(): runs what the page left registered with onPageLeave.
export function leavePage() {
        for (const fn of pageCleanup.splice(0))
                fn();
}
