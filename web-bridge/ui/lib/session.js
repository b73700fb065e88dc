// SPDX-License-Identifier: GPL-2.0-or-later
// Logging in and out: the header, the event stream, the caches.

import { ApiError, api, session } from './api.js';
import { setBadge } from './dom.js';
import { cache, eventsStart, eventsStop, overlayNames } from './live.js';
import { clearNotices, notice } from './notices.js';

export function loggedIn(s) {
        session.user = s.user;
        session.role = s.role;
        session.csrf = s.csrf;
        document.getElementById('who-user').textContent = s.user;
        setBadge(document.getElementById('who-role'), s.role);
        document.getElementById('nav-users').hidden = s.role !== 'admin';
        document.getElementById('top').hidden = false;
        eventsStart();
}

export function loggedOut(message) {
        eventsStop();
        session.user = session.role = session.csrf = null;
        cache.instances.clear();
        cache.overlays.clear();
        cache.jobs.clear();
        overlayNames.clear();
        document.getElementById('top').hidden = true;
        if (message)
                notice(message, 'error', { carry: true });
        if (location.hash !== '#/login')
                location.hash = '#/login';
        else
                window.dispatchEvent(new HashChangeEvent('hashchange'));
}

export async function logout() {
        // Closed first: the bridge ends the stream with the session.
        eventsStop();
        try {
                await api('POST', '/api/logout');
        } catch (e) {
                if (!(e instanceof ApiError && e.status === 401))
                        throw e;
        }
        clearNotices();
        loggedOut(null);
}
