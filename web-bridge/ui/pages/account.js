// SPDX-License-Identifier: GPL-2.0-or-later
// The logged-in account: who it is, and its password (changing it needs
// the current one; the bridge checks it).

import { api, enc, session } from '../lib/api.js';
import { append, dl, field, h, pageHeader } from '../lib/dom.js';
import { onSubmit } from '../lib/form.js';

export function pageAccount(main) {
        const cur = h('input', { name: 'current_password', type: 'password', required: true, autocomplete: 'current-password' });
        const pw = h('input', { name: 'password', type: 'password', required: true, autocomplete: 'new-password', minlength: '8' });
        const pw2 = h('input', { name: 'password2', type: 'password', required: true, autocomplete: 'new-password', minlength: '8' });
        const form = h('form.card', { 'aria-label': 'Change your password' },
                h('h2', null, 'Change your password'),
                // For password managers: the account the form is about.
                h('input', { type: 'text', name: 'username', autocomplete: 'username', value: session.user || '', hidden: true, 'aria-hidden': 'true', tabindex: '-1' }),
                field('Current password', cur),
                field('New password', pw, 'at least 8 characters'), field('Repeat the new password', pw2),
                h('p.hint', null, 'Your other sessions end when the password changes; this one stays.'),
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Change password')));
        onSubmit(form, async () => {
                if (pw.value !== pw2.value)
                        throw new Error('The two new passwords differ.');
                if (pw.value === cur.value)
                        throw new Error('The new password is the current one.');
                await api('PUT', `/api/users/${enc(session.user)}/password`, { password: pw.value, current_password: cur.value });
                form.reset();
                return 'Password changed.';
        });
        const props = dl([['user', 'User'], ['role', 'Role']]);
        props.values.user.textContent = session.user;
        props.values.role.textContent = session.role === 'admin'
                ? 'admin: manages every instance, overlay and blueprint, the game and the web accounts'
                : 'user: manages your own overlays, blueprints and instances';
        append(main, [pageHeader('Account'), h('div.layout', null, h('section.card', { 'aria-label': 'You' }, props), form)]);
}
