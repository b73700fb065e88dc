// SPDX-License-Identifier: GPL-2.0-or-later
// The login page.

import { ApiError, api } from '../lib/api.js';
import { append, field, h } from '../lib/dom.js';
import { clearNotices } from '../lib/notices.js';
import { loggedIn } from '../lib/session.js';

export function pageLogin(main) {
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
