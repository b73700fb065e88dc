// SPDX-License-Identifier: GPL-2.0-or-later
// The logged-in account: its password.

import { api, enc, session } from '../lib/api.js';
import { append, dl, field, h, pageHeader } from '../lib/dom.js';
import { onSubmit } from '../lib/form.js';

export function pageAccount(main) {
        const pw = h('input', { name: 'password', type: 'password', required: true, autocomplete: 'new-password' });
        const pw2 = h('input', { name: 'password2', type: 'password', required: true, autocomplete: 'new-password' });
        const form = h('form.card', { 'aria-label': 'Change your password' },
                h('h2', null, 'Change your password'),
                field('New password', pw), field('Repeat it', pw2),
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Change password')));
        onSubmit(form, async () => {
                if (pw.value !== pw2.value) {
                        throw new Error('The two passwords differ.');
                }
                await api('PUT', `/api/users/${enc(session.user)}/password`, { password: pw.value });
                form.reset();
                return 'Password changed.';
        });
        const props = dl([['user', 'User'], ['role', 'Role']]);
        props.values.user.textContent = session.user;
        props.values.role.textContent = session.role;
        append(main, [pageHeader('Account'), h('div.layout', null, h('section.card', { 'aria-label': 'You' }, props), form)]);
}
