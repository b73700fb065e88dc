// SPDX-License-Identifier: GPL-2.0-or-later
// Notices: short messages above the page. Each belongs to the page that
// made it and goes when the page changes (unless it was made with carry:
// true, for an action that goes to another page: "Instance x deleted." shows
// on the list it leads to, and goes with the navigation after that). A new
// notice replaces the older ones of the same key (a form, a button), so an
// old error never sits above the success that followed it.

import { ApiError, session } from './api.js';
import { h } from './dom.js';
import { loggedOut } from './session.js';

const SHOWN_MAX = 3;

function box() {
        return document.getElementById('notices');
}

function remove(n) {
        clearTimeout(n.timer);
        n.remove();
}

// notice(text, kind, {key, details, carry}): kind 'ok', 'info' or 'error';
// details is a small second line (the D-Bus error name of a failure).
export function notice(text, kind, opts) {
        const o = opts || {};
        kind = kind || 'info';
        const n = h('div.notice.' + kind, { role: kind === 'error' ? 'alert' : 'status' });
        const body = h('div.notice-body', null, h('span.notice-text', null, text));
        if (o.details)
                body.append(h('small.notice-details', null, o.details));
        const dismiss = h('button.icon.notice-dismiss', { type: 'button', 'aria-label': 'Dismiss notice', title: 'Dismiss' }, '✕');
        dismiss.addEventListener('click', () => remove(n));
        n.append(body, dismiss);
        n.noticeKey = o.key || null;
        n.carry = !!o.carry;
        const b = box();
        if (n.noticeKey)
                for (const old of [...b.children])
                        if (old.noticeKey === n.noticeKey)
                                remove(old);
        b.append(n);
        while (b.children.length > SHOWN_MAX)
                remove(b.firstChild);
        if (kind !== 'error')
                n.timer = setTimeout(() => remove(n), 5000);
        return n;
}

// dropNotices(key): the notices of key gone (before a new attempt).
export function dropNotices(key) {
        for (const n of [...box().children])
                if (n.noticeKey === key)
                        remove(n);
}

// On navigation: the notices of the page left go; one carried over stays
// for this page only.
export function pageNotices() {
        for (const n of [...box().children]) {
                if (n.carry)
                        n.carry = false;
                else
                        remove(n);
        }
}

export function clearNotices() {
        for (const n of [...box().children])
                remove(n);
}

// showError(e, opts): e as an error notice: its sentence, and the D-Bus
// error name as the details line. A 401 while logged in ends the session.
export function showError(e, opts) {
        if (e instanceof ApiError) {
                if (e.status === 401 && session.user) {
                        loggedOut('Your session has ended. Please log in again.');
                        return;
                }
                return notice(e.message, 'error', Object.assign({ details: e.error || null }, opts || {}));
        }
        return notice(String(e && e.message ? e.message : e), 'error', opts);
}
