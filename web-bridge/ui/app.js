// SPDX-License-Identifier: GPL-2.0-or-later
// The left4me browser UI: a hash router over the bridge's JSON API
// (web-bridge/API.md) with live updates from Server-Sent Events.
//
// Everything the server sends (names, logs, RCON replies, messages) is
// untrusted: the DOM is built with createElement and textContent only.

const LOG_LINES_MAX = 5000;

// --- state ----------------------------------------------------------------

const session = { user: null, role: null, csrf: null };

// What /api/events keeps current, keyed by name (jobs by id).
const cache = {
        instances: new Map(),
        overlays: new Map(),
        jobs: new Map(),
};
// Overlay names by Id (as text), to name a job's Target ("overlay:<Id>");
// kept from overlay lists and events, and kept after an overlay is deleted
// (its jobs stay in the list).
const overlayNames = new Map();
const listeners = new Set();   // fn(kind, object) for live updates
let events = null;             // the EventSource of /api/events
let eventsRetry = null;
let pageCleanup = [];          // closes what the current page opened

// --- DOM helpers ------------------------------------------------------------

// h('tag.class', {attr: value, onclick: fn}, child...): an element. Children
// are nodes or strings (as text); null/false children are skipped.
function h(spec, attrs, ...children) {
        const [tag, ...classes] = spec.split('.');
        const el = document.createElement(tag);
        if (classes.length)
                el.className = classes.join(' ');
        for (const [k, v] of Object.entries(attrs || {})) {
                if (v === null || v === undefined || v === false)
                        continue;
                if (k.startsWith('on'))
                        el.addEventListener(k.slice(2), v);
                else if (k === 'value' && tag === 'textarea')
                        el.defaultValue = v;
                else if (k === 'value' || k === 'checked') {
                        // The attribute too: it is what form.reset() returns to.
                        el.setAttribute(k, k === 'checked' ? '' : v);
                        el[k] = v;
                } else if (k === 'textContent')
                        el[k] = v;
                else
                        el.setAttribute(k, v === true ? '' : String(v));
        }
        append(el, children);
        return el;
}

function append(el, children) {
        for (const c of children.flat()) {
                if (c === null || c === undefined || c === false)
                        continue;
                el.append(c instanceof Node ? c : String(c));
        }
        return el;
}

function clear(el) {
        while (el.firstChild)
                el.firstChild.remove();
        return el;
}

let idCounter = 0;
function uid(prefix) {
        idCounter++;
        return `${prefix}-${idCounter}`;
}

// field(label, control, hint): a labelled form row.
function field(label, control, hint) {
        if (!control.id)
                control.id = uid('f');
        const row = h('div.field', null, h('label', { for: control.id }, label), control);
        if (hint) {
                const hid = uid('hint');
                control.setAttribute('aria-describedby', hid);
                row.append(h('small.hint', { id: hid }, hint));
        }
        return row;
}

function button(label, onclick, cls, attrs) {
        const b = h('button' + (cls ? '.' + cls : ''), Object.assign({ type: 'button' }, attrs || {}), label);
        b.addEventListener('click', async (ev) => {
                b.disabled = true;
                try {
                        await onclick(ev);
                } catch (e) {
                        showError(e);
                } finally {
                        if (b.isConnected)
                                b.disabled = false;
                }
        });
        return b;
}

function badge(state) {
        return h('span.badge.state-' + String(state || 'unknown').replace(/[^a-z-]/g, ''), null, state || '—');
}

function setBadge(el, state) {
        el.className = 'badge state-' + String(state || 'unknown').replace(/[^a-z-]/g, '');
        el.textContent = state || '—';
}

function fmtTime(us) {
        if (!us)
                return '—';
        return new Date(us / 1000).toLocaleString();
}

function fmtBytes(n) {
        if (!n)
                return '0 B';
        const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
        let i = 0;
        while (n >= 1024 && i < units.length - 1) {
                n /= 1024;
                i++;
        }
        return (i ? n.toFixed(1) : String(n)) + ' ' + units[i];
}

function fmtPercent(p) {
        return Math.round(Math.max(0, Math.min(1, p || 0)) * 100) + ' %';
}

// A <progress> with its percentage as text next to it.
function progressBar(label) {
        const bar = h('progress', { max: '100', value: '0', 'aria-label': label });
        const pct = h('span.pct', null, '0 %');
        const wrap = h('div.progress', null, bar, pct);
        wrap.set = (p) => {
                bar.value = Math.round(Math.max(0, Math.min(1, p || 0)) * 100);
                pct.textContent = fmtPercent(p);
        };
        return wrap;
}

function dl(pairs) {
        const list = h('dl.props');
        const values = {};
        for (const [key, label] of pairs) {
                const dd = h('dd');
                values[key] = dd;
                list.append(h('div', null, h('dt', null, label), dd));
        }
        list.values = values;
        return list;
}

function pageHeader(title, ...extra) {
        return h('div.page-head', null, h('h1', { tabindex: '-1' }, title), ...extra);
}

// --- notices ------------------------------------------------------------------

function notice(text, kind) {
        const box = document.getElementById('notices');
        const n = h('div.notice.' + (kind || 'info'), { role: kind === 'error' ? 'alert' : 'status' });
        n.append(h('span.notice-text', null, text));
        n.append(button('Dismiss', () => n.remove(), 'link', { 'aria-label': 'Dismiss notice' }));
        n.born = Date.now();
        box.append(n);
        while (box.children.length > 2)
                box.firstChild.remove();
        if (kind !== 'error')
                setTimeout(() => n.remove(), 5000);
        return n;
}

// On a new page: notices from before it (older than the navigation that
// led here) go.
function ageNotices() {
        for (const n of [...document.getElementById('notices').children])
                if (Date.now() - (n.born || 0) > 1500)
                        n.remove();
}

function showError(e) {
        if (e instanceof ApiError) {
                if (e.status === 401 && session.user) {
                        loggedOut('Your session has ended. Please log in again.');
                        return;
                }
                notice(e.message + (e.error ? ` (${e.error})` : ''), 'error');
        } else {
                notice(String(e && e.message ? e.message : e), 'error');
        }
}

function clearNotices() {
        clear(document.getElementById('notices'));
}

// --- the API --------------------------------------------------------------------

class ApiError extends Error {
        constructor(status, error, message) {
                super(message || `HTTP ${status}`);
                this.status = status;
                this.error = error || '';
        }
}

const enc = encodeURIComponent;

async function api(method, path, body) {
        const opts = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
        if (method !== 'GET' && method !== 'HEAD') {
                opts.headers['Content-Type'] = 'application/json';
                if (session.csrf)
                        opts.headers['X-CSRF-Token'] = session.csrf;
                opts.body = JSON.stringify(body === undefined ? {} : body);
        }
        let res;
        try {
                res = await fetch(path, opts);
        } catch (e) {
                throw new ApiError(0, '', 'The server cannot be reached.');
        }
        if (res.status === 204)
                return null;
        let data = null;
        const text = await res.text();
        if (text) {
                try {
                        data = JSON.parse(text);
                } catch (e) {
                        data = null;
                }
        }
        if (!res.ok) {
                let msg = data && typeof data.message === 'string' ? data.message : `${res.status} ${res.statusText}`;
                if (res.status === 429) {
                        const after = res.headers.get('Retry-After');
                        msg = 'Too many attempts; try again' + (after ? ` in ${after} s.` : ' later.') +
                                (data && data.message ? ` ${data.message}` : '');
                }
                throw new ApiError(res.status, data && data.error, msg);
        }
        return data;
}

// upload(path, file, onProgress): POSTs the file as the raw body with upload
// progress events (fetch has none); resolves to the JSON answer.
/* Code pages of archives made by Windows tools that do not store UTF-8
 * names: the value goes to ImportArchive's name_encoding. */
const NAME_ENCODINGS = [
        ['', 'UTF-8 (as stored)'],
        ['CP936', 'Chinese, simplified (GBK, CP936)'],
        ['CP950', 'Chinese, traditional (Big5, CP950)'],
        ['CP1251', 'Cyrillic (Windows, CP1251)'],
        ['CP866', 'Cyrillic (DOS, CP866)'],
        ['CP1252', 'Western European (CP1252)'],
        ['CP437', 'DOS, US (CP437)'],
        ['CP932', 'Japanese (Shift JIS, CP932)'],
        ['CP949', 'Korean (CP949)'],
        ['CP1250', 'Central European (CP1250)'],
];

function upload(path, file, onProgress) {
        return new Promise((resolve, reject) => {
                const xhr = new XMLHttpRequest();
                xhr.open('POST', path);
                xhr.setRequestHeader('Content-Type', 'application/octet-stream');
                xhr.setRequestHeader('X-CSRF-Token', session.csrf || '');
                xhr.upload.addEventListener('progress', (ev) => {
                        if (ev.lengthComputable)
                                onProgress(ev.loaded / ev.total);
                });
                xhr.addEventListener('load', () => {
                        let data = null;
                        try {
                                data = JSON.parse(xhr.responseText);
                        } catch (e) {
                                data = null;
                        }
                        if (xhr.status >= 200 && xhr.status < 300)
                                resolve(data);
                        else
                                reject(new ApiError(xhr.status, data && data.error,
                                        data && data.message ? data.message : `${xhr.status} ${xhr.statusText}`));
                });
                xhr.addEventListener('error', () => reject(new ApiError(0, '', 'The upload failed.')));
                xhr.addEventListener('abort', () => reject(new ApiError(0, '', 'The upload was aborted.')));
                xhr.send(file);
        });
}

// uploadForm(label, buttonLabel, file, fields, path, done): a form of the
// fields (file among them: an <input type=file>) that uploads the chosen
// file to path() with a progress bar, then calls done(answer, form).
function uploadForm(label, buttonLabel, file, fields, path, done) {
        const bar = progressBar('Upload progress');
        bar.hidden = true;
        const form = h('form', { 'aria-label': label }, ...fields, bar,
                h('div.actions', null, h('button', { type: 'submit' }, buttonLabel)));
        form.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                if (!file.files.length) {
                        notice('Choose a file first.', 'error');
                        return;
                }
                bar.hidden = false;
                bar.set(0);
                try {
                        const r = await upload(path(), file.files[0], bar.set);
                        bar.set(1);
                        done(r, form);
                } catch (e) {
                        showError(e);
                }
        });
        return form;
}

// stream(path, handlers): an EventSource closed when the page changes.
function stream(path, handlers) {
        const es = new EventSource(path);
        for (const [name, fn] of Object.entries(handlers)) {
                es.addEventListener(name, (ev) => {
                        let data = null;
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
function liveList(list, kind, path) {
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

// --- live state: /api/events -------------------------------------------------

function emit(kind, obj) {
        for (const fn of listeners)
                fn(kind, obj);
}

function onLive(fn) {
        listeners.add(fn);
        pageCleanup.push(() => listeners.delete(fn));
}

function eventsStart() {
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

function eventsStop() {
        if (eventsRetry) {
                clearTimeout(eventsRetry);
                eventsRetry = null;
        }
        if (events) {
                events.close();
                events = null;
        }
}

// --- session ------------------------------------------------------------------

function loggedIn(s) {
        session.user = s.user;
        session.role = s.role;
        session.csrf = s.csrf;
        document.getElementById('who-user').textContent = s.user;
        setBadge(document.getElementById('who-role'), s.role);
        document.getElementById('nav-users').hidden = s.role !== 'admin';
        document.getElementById('top').hidden = false;
        eventsStart();
}

function loggedOut(message) {
        eventsStop();
        session.user = session.role = session.csrf = null;
        cache.instances.clear();
        cache.overlays.clear();
        cache.jobs.clear();
        overlayNames.clear();
        document.getElementById('top').hidden = true;
        if (message)
                notice(message, 'error');
        if (location.hash !== '#/login')
                location.hash = '#/login';
        else
                route();
}

async function logout() {
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

// --- pages: login ---------------------------------------------------------------

function pageLogin(main) {
        const user = h('input', { name: 'user', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
        const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
        const submit = h('button.primary', { type: 'submit' }, 'Log in');
        const err = h('p.form-error', { role: 'alert', id: 'login-error' });
        const form = h('form.card.login', { 'aria-labelledby': 'login-title' },
                h('h1', { id: 'login-title' }, 'Log in to left4me'),
                field('User', user), field('Password', pass), err, submit);
        form.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                err.textContent = '';
                submit.disabled = true;
                try {
                        const s = await api('POST', '/api/login', { user: user.value, password: pass.value });
                        clearNotices();
                        loggedIn(s);
                        location.hash = '#/instances';
                } catch (e) {
                        pass.value = '';
                        if (e instanceof ApiError && e.status === 401)
                                err.textContent = 'Wrong user name or password.';
                        else if (e instanceof ApiError)
                                err.textContent = e.message + (e.error ? ` (${e.error})` : '');
                        else
                                err.textContent = String(e);
                        pass.focus();
                } finally {
                        submit.disabled = false;
                }
        });
        append(main, [h('div.login-wrap', null, form)]);
        user.focus();
}

// --- pages: instances ---------------------------------------------------------

function instanceLink(name) {
        return h('a', { href: '#/instances/' + enc(name) }, name);
}

async function controlInstance(name, action) {
        const o = await api('POST', `/api/instances/${enc(name)}/${action}`);
        if (o && o.Name) {
                cache.instances.set(o.Name, o);
                emit('instance', o);
        }
        return o;
}

// Start, Stop and Restart; update(state) disables what the state makes
// pointless (starting a running server, stopping a stopped one).
function instanceButtons(name) {
        const start = button('Start', () => controlInstance(name, 'start'), 'primary', { 'data-action': 'start' });
        const stop = button('Stop', () => controlInstance(name, 'stop'), null, { 'data-action': 'stop' });
        const restart = button('Restart', () => controlInstance(name, 'restart'), null, { 'data-action': 'restart' });
        const box = h('div.actions', null, start, stop, restart);
        box.update = (state) => {
                start.disabled = state === 'running' || state === 'starting';
                stop.disabled = state === 'stopped';
        };
        return box;
}

function instanceCard(o) {
        const state = badge(o.State);
        const buttons = instanceButtons(o.Name);
        const map = h('span');
        const players = h('span');
        const port = h('span');
        const card = h('li.card.instance', { 'data-name': o.Name },
                h('div.card-head', null, h('h2', null, instanceLink(o.Name)), state),
                h('dl.facts', null,
                        h('div', null, h('dt', null, 'Map'), h('dd', null, map)),
                        h('div', null, h('dt', null, 'Players'), h('dd', null, players)),
                        h('div', null, h('dt', null, 'Port'), h('dd', null, port))),
                buttons);
        card.update = (n) => {
                setBadge(state, n.State);
                buttons.update(n.State);
                map.textContent = n.Map || n.StartMap || '—';
                players.textContent = `${n.Players || 0}/${n.MaxPlayers || n.PlayerLimit || 0}`;
                port.textContent = String(n.Port || '—');
        };
        card.update(o);
        return card;
}

// keyedList(ul, makeItem, key): keeps one <li> per object, updated in place.
function keyedList(ul, makeItem, key, emptyText) {
        const items = new Map();
        const empty = h('li.empty', null, emptyText);
        const sync = () => {
                if (items.size === 0 && !empty.isConnected)
                        ul.append(empty);
                else if (items.size && empty.isConnected)
                        empty.remove();
        };
        const api = {
                set(o) {
                        const k = key(o);
                        const cur = items.get(k);
                        if (cur) {
                                cur.update(o);
                                return;
                        }
                        const el = makeItem(o);
                        items.set(k, el);
                        // Sorted by key.
                        let before = null;
                        for (const [k2, el2] of items)
                                if (k2 !== k && el2.isConnected && compareKeys(k2, k) > 0 &&
                                    (!before || compareKeys(k2, before.key) < 0))
                                        before = { key: k2, el: el2 };
                        ul.insertBefore(el, before ? before.el : null);
                        sync();
                },
                remove(k) {
                        const el = items.get(k);
                        if (el) {
                                el.remove();
                                items.delete(k);
                        }
                        sync();
                },
                replace(list) {
                        const keep = new Set(list.map(key));
                        for (const k of [...items.keys()])
                                if (!keep.has(k))
                                        api.remove(k);
                        for (const o of list)
                                api.set(o);
                        sync();
                },
        };
        sync();
        return api;
}

function compareKeys(a, b) {
        if (typeof a === 'number' && typeof b === 'number')
                return a - b;
        return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

async function blueprintOptions(select, current) {
        const bps = await api('GET', '/api/blueprints');
        clear(select);
        if (!bps.length)
                select.append(h('option', { value: '' }, '(no blueprints yet)'));
        for (const b of bps)
                select.append(h('option', { value: b.Name, selected: b.Name === current }, b.Name));
        if (current)
                select.value = current;
}

async function pageInstances(main) {
        const ul = h('ul.cards', { 'aria-label': 'Instances' });
        const list = keyedList(ul, instanceCard, (o) => o.Name, 'No instances yet.');

        const name = h('input', { name: 'name', required: true, pattern: '[a-z0-9][a-z0-9_\\-]{0,47}', autocapitalize: 'none', spellcheck: 'false' });
        const bp = h('select', { name: 'blueprint', required: true });
        const port = h('input', { name: 'port', type: 'number', min: '1', max: '65535', inputmode: 'numeric' });
        const hostname = h('input', { name: 'hostname', maxlength: '64' });
        const maxp = h('input', { name: 'max_players', type: 'number', min: '1', max: '32', value: '8', inputmode: 'numeric' });
        const map = h('input', { name: 'map', pattern: '[A-Za-z0-9_\\-]{1,64}', autocapitalize: 'none', spellcheck: 'false' });
        const auto = h('input', { name: 'autostart', type: 'checkbox', id: uid('f') });
        const form = h('form.card.create', { 'aria-label': 'Create an instance' },
                h('h2', null, 'New instance'),
                h('div.grid', null,
                        field('Name', name, 'a-z, 0-9, _ and -'),
                        field('Blueprint', bp),
                        field('Port', port, 'optional: the lowest free one'),
                        field('Hostname', hostname, 'optional: the name'),
                        field('Max players', maxp),
                        field('Start map', map, 'optional, e.g. c1m1_hotel')),
                h('div.field.check', null, auto, h('label', { for: auto.id }, 'Start with the host')),
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Create instance')));
        form.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                const options = { max_players: Number(maxp.value || 8), autostart: auto.checked };
                if (port.value)
                        options.port = Number(port.value);
                if (hostname.value)
                        options.hostname = hostname.value;
                if (map.value)
                        options.map = map.value;
                try {
                        const o = await api('POST', '/api/instances', { name: name.value, blueprint: bp.value, options });
                        list.set(o);
                        notice(`Instance ${o.Name} created.`, 'ok');
                        form.reset();
                } catch (e) {
                        showError(e);
                }
        });

        append(main, [pageHeader('Instances'), ul, h('details.create-box', null, h('summary', null, 'Create an instance'), form)]);

        const load = liveList(list, 'instance', '/api/instances');
        await Promise.all([load(), blueprintOptions(bp)]);
}

// A live console: lines appended at the bottom, kept scrolled to the end
// unless the user scrolled up.
function consoleBox(label) {
        const box = h('div.console', { role: 'log', 'aria-live': 'polite', 'aria-label': label, tabindex: '0' });
        // Whether it follows the end: true until the user scrolls up, again
        // once they scroll back down.
        let stuck = true;
        const toEnd = () => {
                box.scrollTop = box.scrollHeight;
        };
        box.addEventListener('scroll', () => {
                stuck = box.scrollTop + box.clientHeight >= box.scrollHeight - 8;
        });
        // Lines wrap anew when the width changes (a phone turned).
        new ResizeObserver(() => {
                if (stuck)
                        toEnd();
        }).observe(box);
        box.line = (text, cls) => {
                box.append(h('div' + (cls ? '.' + cls : ''), null, text));
                while (box.childElementCount > LOG_LINES_MAX)
                        box.firstElementChild.remove();
                if (stuck)
                        toEnd();
        };
        box.toEnd = () => {
                stuck = true;
                toEnd();
        };
        return box;
}

// --- instance limits --------------------------------------------------------

// The limits as SetLimits names them, their instance properties, labels and
// kinds (how a value is written: "150%", "2G", "256").
const LIMITS = [
        ['cpu_quota', 'CPUQuota', 'CPU quota', 'percent'],
        ['memory_max', 'MemoryMax', 'Memory max', 'size'],
        ['tasks_max', 'TasksMax', 'Tasks max', 'count'],
        ['disk_max', 'DiskMax', 'Disk max', 'size'],
];
// UINT64_MAX (no limit) arrives as a JSON number above 2^63.
const LIMIT_INFINITY = 2 ** 63;
const SIZE_SUFFIXES = ['', 'K', 'M', 'G', 'T'];

// As left4med writes it: "infinity", "150%", "256", or a size with the
// largest 1024-based suffix that divides it ("2G", "1536M").
function fmtLimit(kind, v) {
        if (typeof v !== 'number')
                return '—';
        if (v >= LIMIT_INFINITY)
                return 'infinity';
        if (kind === 'percent')
                return `${v}%`;
        if (kind === 'size' && v > 0) {
                let i = 0;
                while (i < SIZE_SUFFIXES.length - 1 && v % 1024 === 0) {
                        v /= 1024;
                        i++;
                }
                return `${v}${SIZE_SUFFIXES[i]}`;
        }
        return String(v);
}

// What SetLimits gets for what a person typed: "default", "infinity" or a
// number (the daemon checks the range). Throws on anything else.
function parseLimit(label, kind, text) {
        const t = text.trim().toLowerCase();
        if (t === '' || t === 'default')
                return 'default';
        if (t === 'infinity' || t === 'unlimited')
                return 'infinity';
        let m;
        let v = NaN;
        if (kind === 'percent' && (m = /^(\d+)\s*%?$/.exec(t)))
                v = Number(m[1]);
        else if (kind === 'size' && (m = /^(\d+)\s*([kmgt]?)(?:i?b)?$/.exec(t)))
                v = Number(m[1]) * 1024 ** SIZE_SUFFIXES.indexOf(m[2].toUpperCase());
        else if (kind === 'count' && (m = /^(\d+)$/.exec(t)))
                v = Number(m[1]);
        if (!Number.isSafeInteger(v))
                throw new Error(`${label}: "${text}" is not a value (like ${kind === 'percent' ? '150%' : kind === 'size' ? '2G' : '256'}, default or infinity).`);
        return v;
}

// The limits card of an instance page: the effective limits (marked when
// they follow the default), the current use, and a form to change them.
function limitsCard(name) {
        const rows = dl(LIMITS.map(([key, , label]) => [key, label]));
        const use = dl([['memory', 'Memory used'], ['tasks', 'Tasks'], ['disk', 'Disk used'], ['source', 'Measured by']]);
        const inputs = {};
        const form = h('form.card.limits', { 'aria-label': 'Limits' },
                h('h2', null, 'Limits'),
                rows,
                h('h3', null, 'Use'),
                use,
                h('div.grid', null, LIMITS.map(([key, , label, kind]) => {
                        inputs[key] = h('input', {
                                name: key, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false',
                                placeholder: 'default', inputmode: kind === 'count' ? 'numeric' : null,
                        });
                        return field(label, inputs[key]);
                })),
                h('p.hint', null, 'Values like 2G, 150%, 256, default or infinity. They apply at the next start; ' +
                        'above the ceilings of left4me.conf only an admin may set them.'),
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Save limits')));
        let last = null;
        // The form shows what is set: "default" or the value.
        const fill = (o) => {
                for (const [key, prop, , kind] of LIMITS)
                        inputs[key].value = (o.DefaultLimits || []).includes(key) ? 'default' : fmtLimit(kind, o[prop]);
        };
        form.show = (o) => {
                const first = last === null;
                last = o;
                for (const [key, prop, , kind] of LIMITS) {
                        const dflt = (o.DefaultLimits || []).includes(key);
                        rows.values[key].textContent = fmtLimit(kind, o[prop]) + (dflt ? ' (default)' : '');
                }
                if (first)
                        fill(o);
        };
        const against = (v, max, fmt) => {
                if (typeof v !== 'number')
                        return '—';
                return max >= LIMIT_INFINITY ? fmt(v) : `${fmt(v)} of ${fmt(max)}`;
        };
        form.showUsage = (u) => {
                const v = use.values;
                v.memory.textContent = u.running ? against(u.memory_current, u.memory_max, fmtBytes) : '— (stopped)';
                v.tasks.textContent = u.running ? against(u.tasks_current, u.tasks_max, String) : '— (stopped)';
                v.disk.textContent = against(u.disk_used, u.disk_max, fmtBytes);
                v.source.textContent = u.usage_source === 'cgroup.threads'
                        ? 'the unit\'s threads (no cgroup controllers: no memory figure)'
                        : u.usage_source === 'systemd' ? 'systemd' : '—';
        };
        form.refresh = async () => form.showUsage(await api('GET', `/api/instances/${enc(name)}/usage`));
        form.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                const limits = {};
                try {
                        for (const [key, prop, label, kind] of LIMITS) {
                                const v = parseLimit(label, kind, inputs[key].value);
                                const isDefault = (last.DefaultLimits || []).includes(key);
                                const same = v === 'default' ? isDefault
                                        : !isDefault && (v === 'infinity' ? last[prop] >= LIMIT_INFINITY : v === last[prop]);
                                if (!same)
                                        limits[key] = v;
                        }
                } catch (e) {
                        notice(e.message, 'error');
                        return;
                }
                try {
                        const o = await api('PUT', `/api/instances/${enc(name)}/limits`, { limits });
                        last = null;
                        form.show(o);
                        notice('Limits saved. They apply at the next start.', 'ok');
                } catch (e) {
                        showError(e);
                }
        });
        return form;
}

async function pageInstance(main, name) {
        let o = await api('GET', `/api/instances/${enc(name)}`);
        const state = badge(o.State);
        const buttons = instanceButtons(name);
        const props = dl([['Blueprint', 'Blueprint'], ['Port', 'Port'], ['Hostname', 'Hostname'],
                ['Map', 'Map'], ['Players', 'Players'], ['PlayerLimit', 'Player limit'], ['StartMap', 'Start map'],
                ['Autostart', 'Autostart'], ['Owner', 'Owner'], ['MainPID', 'Process'], ['Created', 'Created']]);
        const show = (n) => {
                o = n;
                setBadge(state, n.State);
                buttons.update(n.State);
                const v = props.values;
                v.Blueprint.textContent = n.Blueprint;
                v.Port.textContent = String(n.Port);
                v.Hostname.textContent = n.Hostname;
                v.Map.textContent = n.Map || '—';
                v.Players.textContent = `${n.Players || 0}/${n.MaxPlayers || 0}`;
                v.PlayerLimit.textContent = String(n.PlayerLimit);
                v.StartMap.textContent = n.StartMap || '—';
                v.Autostart.textContent = n.Autostart ? 'yes' : 'no';
                v.Owner.textContent = n.Owner;
                v.MainPID.textContent = n.MainPID ? String(n.MainPID) : '—';
                v.Created.textContent = fmtTime(n.Created);
        };
        const limits = limitsCard(name);
        const backups = backupsCard(name);
        const showAll = (n) => {
                const was = o.State;
                show(n);
                limits.show(n);
                backups.show(n);
                if (n.State !== was)
                        limits.refresh().catch(() => {});
        };
        show(o);
        limits.show(o);
        limits.refresh().catch(showError);
        backups.show(o);
        backups.refresh().catch(showError);
        // The use changes while the server runs.
        const usageTimer = setInterval(() => {
                if (o.State === 'running' && !document.hidden)
                        limits.refresh().catch(() => {});
        }, 10000);
        pageCleanup.push(() => clearInterval(usageTimer));

        // Editing.
        const bp = h('select', { name: 'blueprint' });
        const hostname = h('input', { name: 'hostname', maxlength: '64', value: o.Hostname });
        const limit = h('input', { name: 'limit', type: 'number', min: '1', max: '32', value: String(o.PlayerLimit), inputmode: 'numeric' });
        const map = h('input', { name: 'map', value: o.StartMap || '', autocapitalize: 'none', spellcheck: 'false' });
        const auto = h('input', { name: 'autostart', type: 'checkbox', checked: !!o.Autostart, id: uid('f') });
        const edit = h('form.card', { 'aria-label': 'Settings' },
                h('h2', null, 'Settings'),
                h('div.grid', null, field('Blueprint', bp), field('Hostname', hostname),
                        field('Player limit', limit), field('Start map', map)),
                h('div.field.check', null, auto, h('label', { for: auto.id }, 'Start with the host')),
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Save settings')));
        edit.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                const patch = {};
                if (bp.value && bp.value !== o.Blueprint)
                        patch.blueprint = bp.value;
                if (hostname.value !== o.Hostname)
                        patch.hostname = hostname.value;
                if (Number(limit.value) !== o.PlayerLimit)
                        patch.limit = Number(limit.value);
                if (map.value !== o.StartMap)
                        patch.map = map.value;
                if (auto.checked !== !!o.Autostart)
                        patch.autostart = auto.checked;
                try {
                        showAll(await api('PATCH', `/api/instances/${enc(name)}`, patch));
                        notice('Settings saved.', 'ok');
                } catch (e) {
                        showError(e);
                }
        });

        // The console.
        const con = consoleBox(`Console of ${name}`);
        const cmd = h('input', { name: 'command', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', placeholder: 'status' });
        const send = h('button.primary', { type: 'submit' }, 'Send');
        const cmdForm = h('form.command', { 'aria-label': 'Send a console command' }, field('Command', cmd), send);
        cmdForm.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                const text = cmd.value.trim();
                if (!text)
                        return;
                con.toEnd();
                con.line('> ' + text, 'cmd');
                cmd.value = '';
                send.disabled = true;
                try {
                        const r = await api('POST', `/api/instances/${enc(name)}/command`, { command: text });
                        const reply = (r && r.reply) || '';
                        const lines = reply.replace(/\n$/, '').split('\n');
                        for (const l of lines)
                                con.line(l, 'reply');
                } catch (e) {
                        con.line(`! ${e.message}${e.error ? ` (${e.error})` : ''}`, 'err');
                } finally {
                        send.disabled = false;
                        cmd.focus();
                }
        });

        append(main, [
                pageHeader(name, state),
                h('div.layout', null,
                        h('section.card', { 'aria-label': 'Control' },
                                buttons,
                                props,
                                h('div.actions.danger-zone', null,
                                        button('Delete instance', async () => {
                                                if (!confirm(`Delete instance ${name}? Its runtime files are removed.`))
                                                        return;
                                                await api('DELETE', `/api/instances/${enc(name)}`);
                                                notice(`Instance ${name} deleted.`, 'ok');
                                                location.hash = '#/instances';
                                        }, 'danger'))),
                        h('section.card.console-card', { 'aria-label': 'Console' },
                                h('h2', null, 'Console'), con, cmdForm),
                        edit,
                        limits,
                        backups),
        ]);

        stream(`/api/instances/${enc(name)}/log?lines=200`, {
                log: (d) => con.line(d.line),
                // Lines were lost between a reconnection and what the
                // bridge still holds.
                reset: () => con.line('(some lines were missed)', 'err'),
                // The instance was deleted or the daemon went away.
                end: (d, ev, source) => {
                        source.close();
                        con.line('(the log ended)', 'err');
                },
        });
        onLive((kind, n) => {
                if (kind === 'instance' && n.Name === name)
                        showAll(n);
                else if (kind === 'instance-removed' && n.Name === name)
                        notice(`Instance ${name} was deleted.`, 'error');
                else if (kind === 'reset')
                        api('GET', `/api/instances/${enc(name)}`).then(showAll, showError);
        });
        await blueprintOptions(bp, o.Blueprint);
}

// --- pages: overlays ----------------------------------------------------------

function overlayCard(o) {
        const state = badge(o.State);
        const size = h('span');
        const built = h('span');
        const card = h('li.card.overlay', { 'data-name': o.Name },
                h('div.card-head', null, h('h2', null, h('a', { href: '#/overlays/' + enc(o.Name) }, o.Name)), state),
                h('dl.facts', null,
                        h('div', null, h('dt', null, 'Type'), h('dd', null, o.Type)),
                        h('div', null, h('dt', null, 'Size'), h('dd', null, size)),
                        h('div', null, h('dt', null, 'Owner'), h('dd', null, o.Owner)),
                        h('div', null, h('dt', null, 'Built'), h('dd', null, built))));
        card.update = (n) => {
                setBadge(state, n.State);
                size.textContent = fmtBytes(n.Size);
                built.textContent = fmtTime(n.LastBuild);
        };
        card.update(o);
        return card;
}

function itemsFromText(text) {
        return text.split(/[\s,]+/).map((s) => s.trim()).filter((s) => s.length);
}

async function pageOverlays(main) {
        const ul = h('ul.cards', { 'aria-label': 'Overlays' });
        const list = keyedList(ul, overlayCard, (o) => o.Name, 'No overlays yet.');

        const name = h('input', { name: 'name', required: true, pattern: '[a-z0-9][a-z0-9_\\-]{0,47}', autocapitalize: 'none', spellcheck: 'false' });
        const type = h('select', { name: 'type' },
                h('option', { value: 'workshop' }, 'Workshop items'),
                h('option', { value: 'archive' }, 'Archive'),
                h('option', { value: 'script' }, 'Script'));
        const items = h('textarea', { name: 'items', rows: '4', autocapitalize: 'none', spellcheck: 'false' });
        const url = h('input', { name: 'url', type: 'url', autocapitalize: 'none', spellcheck: 'false' });
        const checksum = h('input', { name: 'checksum', autocapitalize: 'none', spellcheck: 'false' });
        const file = h('input', { name: 'file', type: 'file' });
        const script = h('textarea.code', { name: 'script', rows: '8', spellcheck: 'false' }, '#!/bin/bash\nset -euo pipefail\ncd /overlay\n');
        const parts = {
                workshop: h('div', null, field('Workshop items', items, 'ids or URLs of items or collections, one per line')),
                archive: h('div', null, field('Source URL', url, 'optional: fetched at every build'),
                        field('Checksum', checksum, 'optional, e.g. sha256:…'),
                        field('Or upload a file', file, 'zip, 7z or tar')),
                script: h('div', null, field('Script', script, 'bash; /overlay is the only writable place')),
        };
        const partBox = h('div');
        const showPart = () => {
                clear(partBox).append(parts[type.value]);
        };
        type.addEventListener('change', showPart);
        showPart();
        const bar = progressBar('Upload');
        bar.hidden = true;
        const form = h('form.card.create', { 'aria-label': 'Create an overlay' },
                h('h2', null, 'New overlay'),
                h('div.grid', null, field('Name', name, 'a-z, 0-9, _ and -'), field('Type', type)),
                partBox, bar,
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Create overlay')));
        form.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                const n = name.value;
                try {
                        let o = await api('POST', '/api/overlays', { name: n, type: type.value, options: {} });
                        list.set(o);
                        if (type.value === 'workshop' && items.value.trim())
                                o = await api('PUT', `/api/overlays/${enc(n)}/items`, { items: itemsFromText(items.value) });
                        else if (type.value === 'script')
                                o = await api('PUT', `/api/overlays/${enc(n)}/script`, { script: script.value });
                        else if (type.value === 'archive' && url.value)
                                o = await api('PUT', `/api/overlays/${enc(n)}/source`, { url: url.value, checksum: checksum.value });
                        if (type.value === 'archive' && file.files.length) {
                                bar.hidden = false;
                                await upload(`/api/overlays/${enc(n)}/archive`, file.files[0], bar.set);
                        }
                        list.set(o);
                        notice(`Overlay ${n} created.`, 'ok');
                        location.hash = '#/overlays/' + enc(n);
                } catch (e) {
                        showError(e);
                }
        });

        append(main, [pageHeader('Overlays'), ul, h('details.create-box', null, h('summary', null, 'Create an overlay'), form)]);
        const load = liveList(list, 'overlay', '/api/overlays');
        await load();
}

// jobPanel(): a job's progress bar, state, message and live log; follow(id)
// switches it to another job.
function jobPanel() {
        const bar = progressBar('Job progress');
        const state = badge('');
        const msg = h('p.job-message', { 'aria-live': 'polite' });
        const link = h('a');
        const con = consoleBox('Job log');
        const panel = h('section.card.job-panel', { 'aria-label': 'Job' },
                h('div.card-head', null, h('h2', null, 'Job ', link), state), bar, msg, con);
        let es = null;
        let jobId = null;
        const show = (j) => {
                setBadge(state, j.State);
                bar.set(j.State === 'succeeded' ? 1 : j.Progress);
                msg.textContent = j.Message || '';
        };
        panel.follow = (id) => {
                jobId = String(id);
                link.href = '#/jobs/' + enc(jobId);
                link.textContent = '#' + jobId;
                clear(con);
                bar.set(0);
                panel.hidden = false;
                if (es)
                        es.close();
                es = stream(`/api/jobs/${enc(jobId)}/log`, {
                        log: (d) => con.line(d.line),
                        end: (d, ev, source) => {
                                source.close();
                                setBadge(state, d.State);
                        },
                });
                api('GET', `/api/jobs/${enc(jobId)}`).then(show, () => {});
        };
        panel.jobId = () => jobId;
        onLive((kind, j) => {
                if (kind === 'job' && String(j.Id) === jobId)
                        show(j);
        });
        panel.hidden = true;
        return panel;
}

function jobIdOf(answer) {
        if (answer && answer.job !== undefined) {
                const j = String(answer.job);
                const m = /(\d+)$/.exec(j);
                return m ? m[1] : j;
        }
        return null;
}

function noteOverlays(list) {
        for (const o of list || [])
                if (o && o.Id !== undefined && o.Name)
                        overlayNames.set(String(o.Id), o.Name);
}

// A job's Target as a node: "overlay NAME" (a link) where the overlay is
// known, else the Target as it is.
function targetNode(target) {
        const m = /^overlay:([0-9]+)$/.exec(target || '');
        const name = m ? overlayNames.get(m[1]) : undefined;
        if (name)
                return h('a', { href: '#/overlays/' + enc(name), title: target }, 'overlay ' + name);
        return document.createTextNode(target || '—');
}

function jobActive(j) {
        return j.State === 'queued' || j.State === 'running';
}

// Of the jobs on target: the active one, else the most recent; or null.
function jobFor(jobs, target) {
        let best = null;
        for (const j of jobs) {
                if (!j || j.Target !== target)
                        continue;
                if (!best || (jobActive(j) && !jobActive(best)) ||
                    (jobActive(j) === jobActive(best) && Number(j.Id) > Number(best.Id)))
                        best = j;
        }
        return best;
}

async function pageOverlay(main, name) {
        let o = await api('GET', `/api/overlays/${enc(name)}`);
        const state = badge(o.State);
        const props = dl([['Type', 'Type'], ['Owner', 'Owner'], ['Size', 'Size'], ['LastBuild', 'Last build'], ['Created', 'Created']]);
        const show = (n) => {
                o = n;
                setBadge(state, n.State);
                props.values.Type.textContent = n.Type;
                props.values.Owner.textContent = n.Owner;
                props.values.Size.textContent = fmtBytes(n.Size);
                props.values.LastBuild.textContent = fmtTime(n.LastBuild);
                props.values.Created.textContent = fmtTime(n.Created);
        };
        show(o);
        // The overlay's jobs are those whose Target is overlay:<Id>.
        const target = 'overlay:' + o.Id;
        const job = jobPanel();
        const startJob = (answer, what) => {
                const id = jobIdOf(answer);
                notice(`${what} queued.`, 'ok');
                if (id)
                        job.follow(id);
        };

        // The source editor for the overlay's type.
        let source;
        if (o.Type === 'workshop') {
                const items = h('textarea', { name: 'items', rows: '5', autocapitalize: 'none', spellcheck: 'false' });
                items.value = (o.Items || []).join('\n');
                source = h('form.card', { 'aria-label': 'Workshop items' }, h('h2', null, 'Workshop items'),
                        field('Items', items, 'ids or URLs of items or collections, one per line'),
                        h('div.actions', null, h('button.primary', { type: 'submit' }, 'Save items')));
                source.addEventListener('submit', async (ev) => {
                        ev.preventDefault();
                        try {
                                show(await api('PUT', `/api/overlays/${enc(name)}/items`, { items: itemsFromText(items.value) }));
                                notice('Items saved.', 'ok');
                        } catch (e) {
                                showError(e);
                        }
                });
        } else if (o.Type === 'script') {
                const script = h('textarea.code', { name: 'script', rows: '14', spellcheck: 'false' });
                source = h('form.card', { 'aria-label': 'Script' }, h('h2', null, 'Script'),
                        field('Script', script, 'bash; /overlay is the only writable place'),
                        h('div.actions', null, h('button.primary', { type: 'submit' }, 'Save script')));
                source.addEventListener('submit', async (ev) => {
                        ev.preventDefault();
                        try {
                                show(await api('PUT', `/api/overlays/${enc(name)}/script`, { script: script.value }));
                                notice('Script saved.', 'ok');
                        } catch (e) {
                                showError(e);
                        }
                });
                api('GET', `/api/overlays/${enc(name)}/script`).then((r) => {
                        script.value = (r && r.script) || '';
                }, showError);
        } else {
                const url = h('input', { name: 'url', type: 'url', value: o.SourceUrl || '', autocapitalize: 'none', spellcheck: 'false' });
                const checksum = h('input', { name: 'checksum', value: o.SourceChecksum || '', autocapitalize: 'none', spellcheck: 'false' });
                const form = h('form', { 'aria-label': 'Archive source' },
                        field('Source URL', url, 'fetched at every build'), field('Checksum', checksum, 'optional, e.g. sha256:…'),
                        h('div.actions', null, h('button.primary', { type: 'submit' }, 'Save source')));
                form.addEventListener('submit', async (ev) => {
                        ev.preventDefault();
                        try {
                                show(await api('PUT', `/api/overlays/${enc(name)}/source`, { url: url.value, checksum: checksum.value }));
                                notice('Source saved.', 'ok');
                        } catch (e) {
                                showError(e);
                        }
                });
                const file = h('input', { name: 'file', type: 'file' });
                const encoding = h('select', { name: 'name_encoding' },
                        NAME_ENCODINGS.map(([value, label]) => h('option', { value }, label)));
                const up = uploadForm('Upload an archive', 'Upload', file,
                        [field('Archive file', file, 'zip, 7z, rar or tar: replaces the content'),
                                field('File names', encoding, 'for archives whose names were not stored as UTF-8')],
                        () => `/api/overlays/${enc(name)}/archive` + (encoding.value ? `?name_encoding=${enc(encoding.value)}` : ''),
                        (r) => startJob(r, 'Import'));
                source = h('section.card', { 'aria-label': 'Archive' }, h('h2', null, 'Archive'), form, h('hr'), up);
        }

        append(main, [
                pageHeader(name, state),
                h('div.layout', null,
                        h('section.card', { 'aria-label': 'Overlay' },
                                props,
                                h('div.actions', null,
                                        button('Build', async () => startJob(await api('POST', `/api/overlays/${enc(name)}/build`, { options: {} }), 'Build'), 'primary'),
                                        // What an archive or script overlay holds cannot be
                                        // fetched again from anywhere else (a Workshop one is
                                        // rebuilt from Steam).
                                        (o.Type === 'archive' || o.Type === 'script') &&
                                                downloadLink('Download content', `/api/overlays/${enc(name)}/export`, `${name}.tar.zst`),
                                        button('Wipe', async () => {
                                                if (!confirm(`Wipe the content of ${name}?`))
                                                        return;
                                                startJob(await api('POST', `/api/overlays/${enc(name)}/wipe`), 'Wipe');
                                        }),
                                        button('Delete overlay', async () => {
                                                if (!confirm(`Delete overlay ${name}?`))
                                                        return;
                                                await api('DELETE', `/api/overlays/${enc(name)}`);
                                                notice(`Overlay ${name} deleted.`, 'ok');
                                                location.hash = '#/overlays';
                                        }, 'danger'))),
                        job, source),
        ]);
        onLive((kind, n) => {
                if (kind === 'overlay' && n.Name === name)
                        show(n);
                else if (kind === 'reset')
                        api('GET', `/api/overlays/${enc(name)}`).then(show, showError);
                else if (kind === 'job' && n.Target === target && String(n.Id) !== job.jobId() &&
                         (!job.jobId() || Number(n.Id) > Number(job.jobId())))
                        job.follow(n.Id);  // a newer job on it, started here or elsewhere
        });
        // The job running on it, else its most recent one.
        try {
                const { jobs } = await api('GET', `/api/jobs?target=${encodeURIComponent(target)}&limit=10`);
                const found = jobFor([...cache.jobs.values(), ...jobs], target);
                if (found && !job.jobId())
                        job.follow(found.Id);
        } catch (e) {
                showError(e);
        }
}

// --- pages: blueprints -------------------------------------------------------

async function pageBlueprints(main) {
        const ul = h('ul.cards', { 'aria-label': 'Blueprints' });
        const list = keyedList(ul, (b) => {
                const overlays = h('dd');
                const li = h('li.card', { 'data-name': b.Name },
                        h('div.card-head', null, h('h2', null, h('a', { href: '#/blueprints/' + enc(b.Name) }, b.Name))),
                        h('dl.facts', null,
                                h('div', null, h('dt', null, 'Overlays'), overlays),
                                h('div', null, h('dt', null, 'Owner'), h('dd', null, b.Owner))));
                li.update = (n) => {
                        overlays.textContent = (n.Overlays || []).join(', ') || '—';
                };
                li.update(b);
                return li;
        }, (b) => b.Name, 'No blueprints yet.');

        const name = h('input', { name: 'name', required: true, pattern: '[a-z0-9][a-z0-9_\\-]{0,47}', autocapitalize: 'none', spellcheck: 'false' });
        const editor = overlayListEditor([]);
        const form = h('form.card.create', { 'aria-label': 'Create a blueprint' },
                h('h2', null, 'New blueprint'),
                field('Name', name, 'a-z, 0-9, _ and -'), editor,
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Create blueprint')));
        form.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                try {
                        const b = await api('POST', '/api/blueprints', { name: name.value, overlays: editor.value(), options: {} });
                        notice(`Blueprint ${b.Name} created.`, 'ok');
                        location.hash = '#/blueprints/' + enc(b.Name);
                } catch (e) {
                        showError(e);
                }
        });
        append(main, [pageHeader('Blueprints'), ul, h('details.create-box', null, h('summary', null, 'Create a blueprint'), form)]);
        const load = liveList(list, 'blueprint', '/api/blueprints');
        await Promise.all([load(), editor.load()]);
}

// An ordered overlay list (top first): add from a select, move, remove.
function overlayListEditor(initial) {
        let names = [...initial];
        const ol = h('ol.ordered', { 'aria-label': 'Overlays, top first' });
        const pick = h('select', { name: 'add-overlay' });
        const render = () => {
                clear(ol);
                if (!names.length)
                        ol.append(h('li.empty', null, 'No overlays yet: add one below.'));
                names.forEach((n, i) => {
                        const up = button('↑', () => {
                                [names[i - 1], names[i]] = [names[i], names[i - 1]];
                                render();
                        }, 'icon', { 'aria-label': `Move ${n} up`, disabled: i === 0 });
                        const down = button('↓', () => {
                                [names[i + 1], names[i]] = [names[i], names[i + 1]];
                                render();
                        }, 'icon', { 'aria-label': `Move ${n} down`, disabled: i === names.length - 1 });
                        const rm = button('✕', () => {
                                names.splice(i, 1);
                                render();
                        }, 'icon', { 'aria-label': `Remove ${n}` });
                        ol.append(h('li', null, h('span.ordered-name', null, n), h('span.ordered-buttons', null, up, down, rm)));
                });
        };
        const add = button('Add', () => {
                if (pick.value && !names.includes(pick.value)) {
                        names.push(pick.value);
                        render();
                }
        }, null, { 'aria-label': 'Add the chosen overlay' });
        const box = h('fieldset.overlay-list', null, h('legend', null, 'Overlays (top wins)'), ol,
                h('div.add-row', null, field('Overlay', pick), add));
        box.value = () => [...names];
        box.set = (list) => {
                names = [...list];
                render();
        };
        box.load = async () => {
                const overlays = await api('GET', '/api/overlays');
                clear(pick);
                for (const o of overlays)
                        pick.append(h('option', { value: o.Name }, `${o.Name} (${o.Type}, ${o.State})`));
                if (!overlays.length)
                        pick.append(h('option', { value: '' }, '(no overlays yet)'));
        };
        render();
        return box;
}

async function pageBlueprint(main, name) {
        const b = await api('GET', `/api/blueprints/${enc(name)}`);
        const editor = overlayListEditor(b.Overlays || []);
        const cfg = h('textarea.code', { name: 'server-cfg', rows: '10', spellcheck: 'false' });
        cfg.value = b.ServerCfg || '';
        const args = h('input', { name: 'launch-args', autocapitalize: 'none', spellcheck: 'false', value: (b.LaunchArgs || []).join(' ') });
        const props = dl([['Owner', 'Owner'], ['Created', 'Created']]);
        props.values.Owner.textContent = b.Owner;
        props.values.Created.textContent = fmtTime(b.Created);
        const form = h('form.card', { 'aria-label': 'Blueprint' },
                editor,
                field('server.cfg', cfg),
                field('Launch arguments', args, 'separated by spaces, e.g. -tickrate 60'),
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Save blueprint')));
        form.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                try {
                        await api('PUT', `/api/blueprints/${enc(name)}/overlays`, { overlays: editor.value() });
                        await api('PUT', `/api/blueprints/${enc(name)}/server-cfg`, { text: cfg.value });
                        const nb = await api('PUT', `/api/blueprints/${enc(name)}/launch-args`,
                                { args: args.value.split(/\s+/).filter((s) => s.length) });
                        if (nb && nb.Overlays)
                                editor.set(nb.Overlays);
                        notice('Blueprint saved.', 'ok');
                } catch (e) {
                        showError(e);
                }
        });
        append(main, [
                pageHeader(name),
                h('div.layout', null,
                        h('section.card', { 'aria-label': 'About' }, props,
                                h('div.actions', null, button('Delete blueprint', async () => {
                                        if (!confirm(`Delete blueprint ${name}?`))
                                                return;
                                        await api('DELETE', `/api/blueprints/${enc(name)}`);
                                        notice(`Blueprint ${name} deleted.`, 'ok');
                                        location.hash = '#/blueprints';
                                }, 'danger'))),
                        form),
        ]);
        await editor.load();
}

// --- pages: jobs ----------------------------------------------------------------

function jobCard(j) {
        const state = badge(j.State);
        const bar = progressBar(`Progress of job ${j.Id}`);
        const msg = h('dd');
        const card = h('li.card.job', { 'data-id': String(j.Id) },
                h('div.card-head', null, h('h2', null, h('a', { href: '#/jobs/' + enc(String(j.Id)) }, `#${j.Id} ${j.Kind}`)), state),
                h('dl.facts', null,
                        h('div', null, h('dt', null, 'Target'), h('dd', null, targetNode(j.Target))),
                        h('div', null, h('dt', null, 'Owner'), h('dd', null, j.Owner || '—')),
                        h('div.wide', null, h('dt', null, 'Message'), msg)),
                bar);
        card.update = (n) => {
                setBadge(state, n.State);
                bar.set(n.State === 'succeeded' ? 1 : n.Progress);
                msg.textContent = n.Message || '—';
        };
        card.update(j);
        return card;
}

async function pageJobs(main) {
        const ul = h('ul.cards', { 'aria-label': 'Jobs' });
        // Newest first: sort by negative id.
        const list = keyedList(ul, jobCard, (j) => -Number(j.Id), 'No jobs.');
        append(main, [pageHeader('Jobs'), ul]);
        const load = async () => {
                // The overlays first, so that the cards name their targets.
                const [page, overlays] = await Promise.all([api('GET', '/api/jobs'), api('GET', '/api/overlays').catch(() => [])]);
                noteOverlays(overlays);
                list.replace(page.jobs);
        };
        onLive((kind, j) => {
                if (kind === 'job')
                        list.set(j);
                else if (kind === 'job-removed')
                        list.remove(-Number(j.Id));
                else if (kind === 'reset')
                        load().catch(showError);
        });
        await load();
}

async function pageJob(main, id) {
        const [j, overlays] = await Promise.all([api('GET', `/api/jobs/${enc(id)}`), api('GET', '/api/overlays').catch(() => [])]);
        noteOverlays(overlays);
        const props = dl([['Kind', 'Kind'], ['Target', 'Target'], ['Owner', 'Owner'], ['Created', 'Created'],
                ['Started', 'Started'], ['Finished', 'Finished']]);
        const show = (n) => {
                props.values.Kind.textContent = n.Kind;
                clear(props.values.Target);
                props.values.Target.append(targetNode(n.Target));
                props.values.Owner.textContent = n.Owner;
                props.values.Created.textContent = fmtTime(n.Created);
                props.values.Started.textContent = fmtTime(n.Started);
                props.values.Finished.textContent = fmtTime(n.Finished);
        };
        show(j);
        const panel = jobPanel();
        append(main, [
                pageHeader(`Job #${j.Id}`),
                h('div.layout', null,
                        h('section.card', { 'aria-label': 'About' }, props,
                                h('div.actions', null, button('Cancel job', async () => {
                                        await api('POST', `/api/jobs/${enc(id)}/cancel`);
                                        notice(`Cancelling job ${id}.`, 'ok');
                                }, 'danger'))),
                        panel),
        ]);
        panel.follow(j.Id);
        onLive((kind, n) => {
                if (kind === 'job' && String(n.Id) === String(j.Id))
                        show(n);
        });
}

// --- downloads ------------------------------------------------------------------

// A link that downloads what path answers (a file the bridge streams from
// the daemon), looking like a button.
function downloadLink(label, path, filename, attrs) {
        return h('a.button', Object.assign({ href: path, download: filename }, attrs || {}), label);
}

// --- instance backups ------------------------------------------------------------

const BACKUP_JOB_KINDS = new Set(['instance-backup', 'backup-restore', 'backup-import']);

// The Backups card of an instance page: its backups (newest first), "Back up
// now", restore (only while stopped), download, delete and upload. The list
// is read again when a backup job on the instance ends, started here or
// elsewhere (a schedule).
function backupsCard(name) {
        const target = 'instance:' + name;
        let state = 'stopped';
        let jobId = null;
        const tbody = h('tbody');
        const empty = h('p.empty-note', null, 'No backups yet.');
        const table = h('div.table-box', null, h('table.stack', { 'aria-label': `Backups of ${name}` },
                h('thead', null, h('tr', null, h('th', null, 'Backup'), h('th', null, 'Taken'), h('th', null, 'Size'),
                        h('th', null, 'Consistent'), h('th', null, 'Actions'))),
                tbody));
        const restoreButtons = [];
        const bar = progressBar('Backup job progress');
        const status = h('p.job-message', { 'aria-live': 'polite' });
        const jobLine = h('div.backup-job', null, bar, status);
        jobLine.hidden = true;

        let jobDone = false;
        // The job's state as the page last learnt it (an event, or the
        // answer to a GET that may arrive after a newer event: a finished
        // job never goes back to running).
        const showJob = (j) => {
                if (String(j.Id) !== jobId || (jobDone && jobActive(j)))
                        return;
                bar.set(j.State === 'succeeded' ? 1 : j.Progress);
                clear(status);
                status.append(h('a', { href: '#/jobs/' + enc(String(j.Id)) }, `Job #${j.Id}`), ` ${j.Kind}: `,
                        badge(j.State), j.Message ? ` ${j.Message}` : '');
                if (!jobActive(j) && !jobDone) {
                        jobDone = true;
                        card.refresh().catch(showError);
                }
        };
        // Follows job id (once: its events may have come before the answer
        // that named it).
        const follow = (id, what) => {
                if (!id || String(id) === jobId)
                        return;
                jobId = String(id);
                jobDone = false;
                jobLine.hidden = false;
                bar.set(0);
                clear(status);
                status.append(`${what}: `, h('a', { href: '#/jobs/' + enc(jobId) }, `job #${jobId}`));
                api('GET', `/api/jobs/${enc(jobId)}`).then(showJob, () => {});
        };
        const setRestoreAllowed = () => {
                for (const b of restoreButtons)
                        b.disabled = state !== 'stopped';
        };
        const row = (b) => {
                const restore = button('Restore', async () => {
                        if (!confirm(`Restore backup #${b.id} of ${name}? What the server wrote since is replaced.`))
                                return;
                        const r = await api('POST', `/api/backups/${enc(String(b.id))}/restore`, { options: {} });
                        notice(`Restore of backup #${b.id} queued.`, 'ok');
                        follow(jobIdOf(r), 'Restore');
                }, null, { 'aria-label': `Restore backup ${b.id}`, title: 'Only while the server is stopped' });
                restoreButtons.push(restore);
                return h('tr', { 'data-id': String(b.id) },
                        h('td', { 'data-label': 'Backup' }, `#${b.id}`),
                        h('td', { 'data-label': 'Taken' }, fmtTime(b.created)),
                        h('td', { 'data-label': 'Size' }, fmtBytes(b.size)),
                        h('td', { 'data-label': 'Consistent' }, b.consistent ? 'yes' : 'no (copied while running)'),
                        // A box of its own: a flex <td> would leave the table's layout.
                        h('td', { 'data-label': 'Actions' }, h('div.row-actions', null,
                                restore,
                                downloadLink('Download', `/api/backups/${enc(String(b.id))}/download`,
                                        `left4me-backup-${b.id}.tar.zst`, { 'aria-label': `Download backup ${b.id}` }),
                                button('Delete', async () => {
                                        if (!confirm(`Delete backup #${b.id} of ${name}?`))
                                                return;
                                        await api('DELETE', `/api/backups/${enc(String(b.id))}`);
                                        notice(`Backup #${b.id} deleted.`, 'ok');
                                        await card.refresh();
                                }, 'danger', { 'aria-label': `Delete backup ${b.id}` }))));
        };

        const stop = h('input', { name: 'stop', type: 'checkbox', id: uid('f') });
        const now = button('Back up now', async () => {
                const r = await api('POST', `/api/instances/${enc(name)}/backup`, { options: { stop: stop.checked } });
                notice(`Backup of ${name} queued.`, 'ok');
                follow(jobIdOf(r), 'Backup');
        }, 'primary');
        const file = h('input', { name: 'backup', type: 'file', accept: '.zst,.tar.zst,application/zstd' });
        const up = uploadForm('Upload a backup', 'Upload backup', file,
                [field('Backup file', file, 'a .tar.zst downloaded from left4me: becomes a new backup of this instance')],
                () => `/api/instances/${enc(name)}/backups`,
                (r, form) => {
                        notice('Upload received; the backup is being checked.', 'ok');
                        follow(jobIdOf(r), 'Import');
                        form.reset();
                });

        const card = h('section.card.backups', { 'aria-label': 'Backups' },
                h('h2', null, 'Backups'),
                h('div.actions.backup-now', null, now,
                        h('div.field.check', null, stop, h('label', { for: stop.id }, 'Stop the server during the backup'))),
                jobLine, table, empty, h('hr'), up);
        card.refresh = async () => {
                const list = await api('GET', `/api/backups?instance=${enc(name)}`);
                restoreButtons.length = 0;
                clear(tbody);
                for (const b of list || [])
                        tbody.append(row(b));
                table.hidden = !tbody.children.length;
                empty.hidden = !!tbody.children.length;
                setRestoreAllowed();
        };
        card.show = (n) => {
                state = n.State;
                setRestoreAllowed();
        };
        onLive((kind, j) => {
                if (kind === 'reset') {
                        card.refresh().catch(() => {});
                        return;
                }
                if (kind !== 'job' || j.Target !== target || !BACKUP_JOB_KINDS.has(j.Kind))
                        return;
                // A newer job on the instance, started here or elsewhere (a schedule).
                if (!jobId || Number(j.Id) > Number(jobId))
                        follow(j.Id, j.Kind);
                showJob(j);
                if (String(j.Id) !== jobId && !jobActive(j))
                        card.refresh().catch(showError);
        });
        return card;
}

// --- pages: schedules ------------------------------------------------------------

const SCHEDULE_ACTIONS = [
        ['restart', 'Restart an instance', 'instance'],
        ['start', 'Start an instance', 'instance'],
        ['stop', 'Stop an instance', 'instance'],
        ['command', 'Send a console command', 'instance'],
        ['backup', 'Back up an instance', 'instance'],
        ['build', 'Build an overlay', 'overlay'],
        ['update-game', 'Update the game', 'game'],
];

function scheduleTargetKind(action) {
        const a = SCHEDULE_ACTIONS.find(([value]) => value === action);
        return a ? a[2] : 'instance';
}

// The schedule's target as a node: a link to its instance or overlay.
function scheduleTargetNode(s) {
        const kind = scheduleTargetKind(s.Action);
        if (kind === 'game')
                return document.createTextNode('the game');
        if (s.TargetMissing)
                return h('span.missing', null, `${s.Target} (deleted)`);
        return h('a', { href: `#/${kind}s/` + enc(s.Target) }, s.Target);
}

// "success", "skipped: ...", "failed: ..." as a badge and the reason.
function scheduleResultNode(s) {
        const text = s.LastResult || '';
        if (!text)
                return document.createTextNode('never ran');
        const m = /^(success|skipped|failed)(?::\s*(.*))?$/.exec(text);
        const word = m ? m[1] : 'unknown';
        const el = h('span', null, badge(word === 'success' ? 'succeeded' : word), m && m[2] ? ` ${m[2]}` : (m ? '' : ` ${text}`));
        const job = /\/job\/([0-9]+)$/.exec(s.LastJob || '');
        if (job)
                el.append(' (', h('a', { href: '#/jobs/' + job[1] }, `job #${job[1]}`), ')');
        return el;
}

function scheduleCard(s) {
        const name = s.Name;
        const state = badge('');
        const what = h('dd');
        const when = h('dd');
        const next = h('dd');
        const last = h('dd');
        const result = h('dd');
        const missing = h('p.missing-target', { role: 'status' });
        let enabled = s.Enabled;
        const toggle = button('Disable', async () => {
                const n = await api('POST', `/api/schedules/${enc(name)}/${enabled ? 'disable' : 'enable'}`);
                card.update(n);
        }, null, { 'data-action': 'toggle' });
        const card = h('li.card.schedule', { 'data-name': name },
                h('div.card-head', null, h('h2', null, name), state),
                missing,
                h('dl.facts', null,
                        h('div.wide', null, h('dt', null, 'Action'), what),
                        h('div', null, h('dt', null, 'When'), when),
                        h('div', null, h('dt', null, 'Next run'), next),
                        h('div', null, h('dt', null, 'Last run'), last),
                        h('div.wide', null, h('dt', null, 'Last result'), result)),
                h('div.actions', null,
                        button('Run now', async () => {
                                const n = await api('POST', `/api/schedules/${enc(name)}/run`);
                                card.update(n);
                                notice(`Schedule ${name} started.`, 'ok');
                        }, 'primary', { 'data-action': 'run' }),
                        toggle,
                        button('Delete', async () => {
                                if (!confirm(`Delete schedule ${name}?`))
                                        return;
                                await api('DELETE', `/api/schedules/${enc(name)}`);
                                notice(`Schedule ${name} deleted.`, 'ok');
                                card.remove();
                        }, 'danger', { 'data-action': 'delete' })));
        card.update = (n) => {
                enabled = n.Enabled;
                setBadge(state, n.Enabled ? 'enabled' : 'disabled');
                toggle.textContent = n.Enabled ? 'Disable' : 'Enable';
                clear(what);
                what.append(`${n.Action} `, scheduleTargetNode(n));
                if (n.Argument)
                        what.append(': ', h('code', null, n.Argument));
                const flags = [];
                if (n.OnlyIfRunning)
                        flags.push('only if running');
                if (n.StopServer)
                        flags.push('stops the server');
                if (n.RestartInstances)
                        flags.push('restarts instances');
                if (n.RandomizedDelayUSec)
                        flags.push(`up to ${Math.round(n.RandomizedDelayUSec / 1e6)} s later`);
                if (flags.length)
                        what.append(` (${flags.join(', ')})`);
                when.textContent = n.Calendar;
                next.textContent = n.Enabled ? fmtTime(n.NextElapse) : '— (disabled)';
                last.textContent = fmtTime(n.LastRun);
                clear(result);
                result.append(scheduleResultNode(n));
                missing.textContent = n.TargetMissing ?
                        `Its target ${n.Target} was deleted: every run fails until the schedule is deleted.` : '';
                missing.hidden = !n.TargetMissing;
        };
        card.update(s);
        return card;
}

async function pageSchedules(main) {
        const ul = h('ul.cards', { 'aria-label': 'Schedules' });
        const list = keyedList(ul, scheduleCard, (s) => s.Name, 'No schedules yet.');

        const name = h('input', { name: 'name', required: true, pattern: '[a-z0-9][a-z0-9_\\-]{0,47}', autocapitalize: 'none', spellcheck: 'false' });
        const calendar = h('input', { name: 'calendar', required: true, placeholder: '*-*-* 04:00:00', autocapitalize: 'none', spellcheck: 'false' });
        const action = h('select', { name: 'action' }, SCHEDULE_ACTIONS.map(([value, label]) => h('option', { value }, label)));
        const target = h('select', { name: 'target' });
        const argument = h('input', { name: 'argument', autocapitalize: 'none', spellcheck: 'false', placeholder: 'say Restart in 5 minutes' });
        const delay = h('input', { name: 'randomized_delay', type: 'number', min: '0', max: '86400', inputmode: 'numeric' });
        const onlyIfRunning = h('input', { name: 'only_if_running', type: 'checkbox', id: uid('f') });
        const restartInstances = h('input', { name: 'restart_instances', type: 'checkbox', id: uid('f') });
        const stopServer = h('input', { name: 'stop', type: 'checkbox', id: uid('f') });
        const enabled = h('input', { name: 'enabled', type: 'checkbox', checked: true, id: uid('f') });
        const check = (input, label) => h('div.field.check', null, input, h('label', { for: input.id }, label));
        const targetRow = field('Target', target);
        const argumentRow = field('Command', argument, 'the console command to send');
        const onlyRow = check(onlyIfRunning, 'Only if the server is running');
        const restartRow = check(restartInstances, 'Restart the instances that run');
        const stopRow = check(stopServer, 'Stop the server during the backup');
        const targets = { instance: [], overlay: [] };
        const fillTargets = () => {
                const kind = scheduleTargetKind(action.value);
                const keep = target.value;
                clear(target);
                if (kind !== 'game') {
                        const names = targets[kind];
                        if (!names.length)
                                target.append(h('option', { value: '' }, `(no ${kind}s yet)`));
                        for (const n of names)
                                target.append(h('option', { value: n }, n));
                        if (names.includes(keep))
                                target.value = keep;
                }
                targetRow.hidden = kind === 'game';
                argumentRow.hidden = action.value !== 'command';
                argument.required = action.value === 'command';
                onlyRow.hidden = !['restart', 'stop', 'command', 'backup'].includes(action.value);
                restartRow.hidden = action.value !== 'update-game';
                stopRow.hidden = action.value !== 'backup';
        };
        action.addEventListener('change', fillTargets);
        const form = h('form.card.create', { 'aria-label': 'Create a schedule' },
                h('h2', null, 'New schedule'),
                h('div.grid', null,
                        field('Name', name, 'a-z, 0-9, _ and -'),
                        field('When', calendar, 'systemd calendar syntax: daily, Mon..Fri 04:00, *:0/15'),
                        field('Action', action),
                        targetRow,
                        argumentRow,
                        field('Random delay (seconds)', delay, 'optional: up to this much later, at most a day')),
                onlyRow, restartRow, stopRow,
                check(enabled, 'Enabled'),
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Create schedule')));
        form.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                const options = { enabled: enabled.checked };
                if (!onlyRow.hidden && onlyIfRunning.checked)
                        options.only_if_running = true;
                if (!restartRow.hidden && restartInstances.checked)
                        options.restart_instances = true;
                if (!stopRow.hidden && stopServer.checked)
                        options.stop = true;
                if (!argumentRow.hidden)
                        options.argument = argument.value;
                if (delay.value)
                        options.randomized_delay_usec = Number(delay.value) * 1000000;
                const body = {
                        name: name.value, calendar: calendar.value, action: action.value,
                        target: scheduleTargetKind(action.value) === 'game' ? '' : target.value, options,
                };
                try {
                        const o = await api('POST', '/api/schedules', body);
                        list.set(o);
                        notice(`Schedule ${o.Name} created.`, 'ok');
                        form.reset();
                        fillTargets();
                } catch (e) {
                        showError(e);
                }
        });

        append(main, [pageHeader('Schedules'), ul, h('details.create-box', null, h('summary', null, 'Create a schedule'), form)]);

        const load = liveList(list, 'schedule', '/api/schedules');
        const loadTargets = async () => {
                const [instances, overlays] = await Promise.all([api('GET', '/api/instances'), api('GET', '/api/overlays')]);
                targets.instance = instances.map((i) => i.Name);
                targets.overlay = overlays.map((o) => o.Name);
                fillTargets();
        };
        fillTargets();
        await Promise.all([load(), loadTargets()]);
}

// --- pages: users and account -------------------------------------------------

async function pageUsers(main) {
        if (session.role !== 'admin') {
                append(main, [pageHeader('Users'), h('p', null, 'Only administrators manage web accounts.')]);
                return;
        }
        const tbody = h('tbody');
        const load = async () => {
                const users = await api('GET', '/api/users');
                clear(tbody);
                for (const u of users) {
                        const pw = h('input', { type: 'password', autocomplete: 'new-password', 'aria-label': `New password for ${u.name}` });
                        tbody.append(h('tr', null,
                                h('td', { 'data-label': 'Name' }, u.name),
                                h('td', { 'data-label': 'Role' }, badge(u.role)),
                                h('td', { 'data-label': 'Created' }, fmtTime(u.created)),
                                h('td.row-actions', { 'data-label': 'Password' }, pw,
                                        button('Set', async () => {
                                                await api('PUT', `/api/users/${enc(u.name)}/password`, { password: pw.value });
                                                pw.value = '';
                                                notice(`Password of ${u.name} changed.`, 'ok');
                                        }, null, { 'aria-label': `Set the password of ${u.name}` }),
                                        button('Delete', async () => {
                                                if (!confirm(`Delete web account ${u.name}?`))
                                                        return;
                                                await api('DELETE', `/api/users/${enc(u.name)}`);
                                                notice(`User ${u.name} deleted.`, 'ok');
                                                await load();
                                        }, 'danger', { 'aria-label': `Delete ${u.name}` }))));
                }
        };
        const name = h('input', { name: 'name', required: true, autocapitalize: 'none', spellcheck: 'false' });
        const pw = h('input', { name: 'password', type: 'password', required: true, autocomplete: 'new-password' });
        const role = h('select', { name: 'role' }, h('option', { value: 'user' }, 'user'), h('option', { value: 'admin' }, 'admin'));
        const form = h('form.card.create', { 'aria-label': 'Create a user' },
                h('h2', null, 'New web account'),
                h('div.grid', null, field('Name', name), field('Password', pw), field('Role', role)),
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Create user')));
        form.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                try {
                        await api('POST', '/api/users', { name: name.value, password: pw.value, role: role.value });
                        notice(`User ${name.value} created.`, 'ok');
                        form.reset();
                        await load();
                } catch (e) {
                        showError(e);
                }
        });
        append(main, [pageHeader('Users'),
                h('div.table-box', null, h('table.stack', null,
                        h('thead', null, h('tr', null, h('th', null, 'Name'), h('th', null, 'Role'), h('th', null, 'Created'), h('th', null, 'Password'))),
                        tbody)),
                form]);
        await load();
}

function pageAccount(main) {
        const pw = h('input', { name: 'password', type: 'password', required: true, autocomplete: 'new-password' });
        const pw2 = h('input', { name: 'password2', type: 'password', required: true, autocomplete: 'new-password' });
        const form = h('form.card', { 'aria-label': 'Change your password' },
                h('h2', null, 'Change your password'),
                field('New password', pw), field('Repeat it', pw2),
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Change password')));
        form.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                if (pw.value !== pw2.value) {
                        notice('The two passwords differ.', 'error');
                        return;
                }
                try {
                        await api('PUT', `/api/users/${enc(session.user)}/password`, { password: pw.value });
                        form.reset();
                        notice('Password changed.', 'ok');
                } catch (e) {
                        showError(e);
                }
        });
        const props = dl([['user', 'User'], ['role', 'Role']]);
        props.values.user.textContent = session.user;
        props.values.role.textContent = session.role;
        append(main, [pageHeader('Account'), h('div.layout', null, h('section.card', { 'aria-label': 'You' }, props), form)]);
}

// --- router -------------------------------------------------------------------------

const routes = [
        [/^#\/login$/, pageLogin, null],
        [/^#\/instances$/, pageInstances, 'instances'],
        [/^#\/instances\/([^/]+)$/, pageInstance, 'instances'],
        [/^#\/overlays$/, pageOverlays, 'overlays'],
        [/^#\/overlays\/([^/]+)$/, pageOverlay, 'overlays'],
        [/^#\/blueprints$/, pageBlueprints, 'blueprints'],
        [/^#\/blueprints\/([^/]+)$/, pageBlueprint, 'blueprints'],
        [/^#\/schedules$/, pageSchedules, 'schedules'],
        [/^#\/jobs$/, pageJobs, 'jobs'],
        [/^#\/jobs\/([0-9]+)$/, pageJob, 'jobs'],
        [/^#\/users$/, pageUsers, 'users'],
        [/^#\/account$/, pageAccount, null],
];

let routeSeq = 0;

async function route() {
        const seq = ++routeSeq;
        for (const fn of pageCleanup)
                fn();
        pageCleanup = [];
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
                if (a.dataset.section === section)
                        a.setAttribute('aria-current', 'page');
                else
                        a.removeAttribute('aria-current');
        }
        ageNotices();
        const old = document.getElementById('main');
        const main = h('main', { id: 'main', tabindex: '-1', 'data-page': hash.split('/')[1] || '' });
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
