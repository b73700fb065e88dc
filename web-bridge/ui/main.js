// SPDX-License-Identifier: GPL-2.0-or-later
// The left4me browser UI: the entry point and the hash router over the pages
// (pages/*.js). Everything the server sends (names, logs, RCON replies,
// messages) is untrusted: the DOM is built with createElement and
// textContent only (lib/dom.js).

import { ApiError, api, session } from './lib/api.js';
import { append, h, pageHeader } from './lib/dom.js';
import { mayLeave } from './lib/leave-guard.js';
import { leavePage } from './lib/live.js';
import { pageNotices, showError } from './lib/notices.js';
import { loggedIn, logout } from './lib/session.js';
import { pageAccount } from './pages/account.js';
import { pageBlueprint } from './pages/blueprint.js';
import { pageBlueprints } from './pages/blueprints.js';
import { pageInstance } from './pages/instance.js';
import { pageInstances } from './pages/instances.js';
import { pageJob } from './pages/job.js';
import { pageJobs } from './pages/jobs.js';
import { pageLogin } from './pages/login.js';
import { pageOverlay } from './pages/overlay.js';
import { pageOverlays } from './pages/overlays.js';
import { pageSchedules } from './pages/schedules.js';
import { pageSystem } from './pages/system.js';
import { pageUsers } from './pages/users.js';

const routes = [
        [/^#\/login$/, pageLogin, null],
        [/^#\/instances$/, pageInstances, 'instances'],
        [/^#\/instances\/([^/]+)$/, pageInstance, 'instances'],
        [/^#\/overlays$/, pageOverlays, 'overlays'],
        [/^#\/overlays\/([^/]+)$/, pageOverlay, 'overlays'],
        [/^#\/blueprints$/, pageBlueprints, 'blueprints'],
        [/^#\/blueprints\/([^/]+)$/, pageBlueprint, 'blueprints'],
        [/^#\/schedules$/, pageSchedules, 'schedules'],
        // The filter and page of the list in a query (pages/jobs.js reads it).
        [/^#\/jobs(?:\?[^/]*)?$/, pageJobs, 'jobs'],
        [/^#\/jobs\/([0-9]+)$/, pageJob, 'jobs'],
        [/^#\/system$/, pageSystem, 'system'],
        [/^#\/users$/, pageUsers, 'users'],
        [/^#\/account$/, pageAccount, null],
];

let routeSeq = 0;
let shownHash = null;   // the hash of the page shown

async function route() {
        // A page with unsaved changes asks first; kept, the address goes
        // back to it (replaceState: no hashchange, no second entry).
        if (session.user && shownHash !== null && location.hash !== shownHash && !mayLeave()) {
                history.replaceState(null, '', shownHash);
                return;
        }
        shownHash = location.hash;
        const seq = ++routeSeq;
        leavePage();
        let hash = location.hash || '#/instances';
        if (!session.user && hash !== '#/login') {
                location.hash = '#/login';
                return;
        }
        if (session.user && hash === '#/login')
                hash = '#/instances';
        let page = null;
        let args = [];
        let section = null;
        for (const [re, fn, sec] of routes) {
                const m = re.exec(hash);
                if (m) {
                        page = fn;
                        section = sec;
                        try {
                                args = m.slice(1).map(decodeURIComponent);
                        } catch (e) {
                                page = null;
                        }
                        break;
                }
        }
        for (const a of document.querySelectorAll('#nav a')) {
                if (a.dataset.section === section) {
                        a.setAttribute('aria-current', 'page');
                        // On a phone the navigation scrolls sideways: the
                        // current section in view.
                        a.scrollIntoView({ block: 'nearest', inline: 'nearest' });
                } else
                        a.removeAttribute('aria-current');
        }
        pageNotices();
        const old = document.getElementById('main');
        const main = h('main', { id: 'main', tabindex: '-1', 'data-page': (hash.split('/')[1] || '').split('?')[0] });
        old.replaceWith(main);
        if (!page) {
                append(main, [pageHeader('Not found'), h('p', null, 'There is no such page. ', h('a', { href: '#/instances' }, 'Go to the instances.'))]);
                return;
        }
        main.setAttribute('aria-busy', 'true');
        try {
                await page(main, ...args);
        } catch (e) {
                if (seq === routeSeq) {
                        if (e instanceof ApiError && e.status === 404)
                                append(main, [pageHeader('Not found'), h('p', null, e.message),
                                        h('p', null, h('a', { href: '#/instances' }, 'Go to the instances.'))]);
                        else
                                showError(e);
                }
        } finally {
                main.removeAttribute('aria-busy');
        }
        if (seq === routeSeq) {
                const h1 = main.querySelector('h1');
                document.title = (h1 ? h1.textContent + ' · ' : '') + 'left4me';
        }
}

async function start() {
        document.getElementById('logout').addEventListener('click', () => logout().catch(showError));
        try {
                loggedIn(await api('GET', '/api/session'));
        } catch (e) {
                if (!(e instanceof ApiError && e.status === 401))
                        showError(e);
        }
        window.addEventListener('hashchange', route);
        route();
}

start();
