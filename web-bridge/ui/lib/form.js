// SPDX-License-Identifier: GPL-2.0-or-later
// Form submission: one helper for what every form does (no page reload,
// its buttons disabled while the request is in flight, one notice of the
// form on the page: its success or its error, the newer replacing the older).

import { upload } from './api.js';
import { h, progressBar, uid } from './dom.js';
import { dropNotices, notice, showError } from './notices.js';

// The key of the notices of form (or button): one per element.
export function noticeKey(el) {
        if (!el.dataset.noticeKey)
                el.dataset.noticeKey = uid('notice');
        return el.dataset.noticeKey;
}

// onSubmit(form, action): on submit, runs await action(ev, form). What it
// returns is the success notice: a string, or {text, carry} (carry: true
// when the action goes to another page, where the notice is to show); a
// throw shows the error instead (an Error's message, an ApiError's sentence
// with its D-Bus name). Either replaces the form's previous notice.
export function onSubmit(form, action) {
        const key = noticeKey(form);
        form.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                const buttons = [...form.querySelectorAll('button, input[type="submit"]')].filter((b) => !b.disabled);
                for (const b of buttons)
                        b.disabled = true;
                dropNotices(key);
                try {
                        const done = await action(ev, form);
                        const text = typeof done === 'string' ? done : done && done.text;
                        if (text)
                                notice(text, 'ok', { key, carry: !!(done && done.carry) });
                } catch (e) {
                        showError(e, { key });
                } finally {
                        for (const b of buttons)
                                b.disabled = false;
                }
        });
        return form;
}

// uploadForm(label, buttonLabel, file, fields, path, done): a form of the
// fields (file among them: an <input type=file>) that uploads the chosen
// file to path() with a progress bar, then returns done(answer, form) (the
// success notice, as for onSubmit).
export function uploadForm(label, buttonLabel, file, fields, path, done) {
        const bar = progressBar('Upload progress');
        bar.hidden = true;
        const form = h('form', { 'aria-label': label }, ...fields, bar,
                h('div.actions', null, h('button', { type: 'submit' }, buttonLabel)));
        return onSubmit(form, async () => {
                if (!file.files.length)
                        throw new Error('Choose a file first.');
                bar.hidden = false;
                bar.set(0);
                const r = await upload(path(), file.files[0], bar.set);
                bar.set(1);
                return done(r, form);
        });
}
