// SPDX-License-Identifier: GPL-2.0-or-later
// Unsaved changes: a page that holds some registers guardLeave(dirty,
// what); leaving it then asks first, whether by a link of the app (the
// router calls mayLeave() before it changes pages) or by closing, reloading
// or leaving the site (beforeunload). The guard goes with the page.

import { onPageLeave } from './live.js';

let guard = null;       // {dirty: () => bool, what: string}

function beforeUnload(ev) {
        if (guard && guard.dirty()) {
                ev.preventDefault();
                ev.returnValue = '';
        }
}

// guardLeave(dirty, what): until the page is left, dirty() tells whether
// it holds changes not saved yet; what names them in the question.
export function guardLeave(dirty, what) {
        const mine = { dirty, what };
        guard = mine;
        window.addEventListener('beforeunload', beforeUnload);
        onPageLeave(() => {
                if (guard === mine) {
                        guard = null;
                        window.removeEventListener('beforeunload', beforeUnload);
                }
        });
}

// mayLeave(): whether the page may be left (nothing unsaved, or the person
// said so).
export function mayLeave() {
        if (!guard || !guard.dirty())
                return true;
        return window.confirm(`${guard.what} not saved. Leave this page and lose them?`);
}
