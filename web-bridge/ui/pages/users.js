// SPDX-License-Identifier: GPL-2.0-or-later
// Web accounts (admins only).

import { api, enc, session } from '../lib/api.js';
import { append, badge, button, clear, field, h, pageHeader } from '../lib/dom.js';
import { onSubmit } from '../lib/form.js';
import { fmtTime } from '../lib/format.js';

export async function pageUsers(main) {
        if (session.role !== 'admin') {
                append(main, [pageHeader('Users'), h('p', null, 'Only administrators manage web accounts.')]);
                return;
        }
        const tbody = h('tbody', null, h('tr', null, h('td.loading', { colspan: '5' }, 'Loading…')));
        const load = async () => {
                const users = await api('GET', '/api/users');
                clear(tbody);
                for (const u of users) {
                        const self = u.name === session.user;
                        const pw = h('input', { type: 'password', autocomplete: 'new-password', 'aria-label': `New password for ${u.name}` });
                        // One's own password needs the current one: on the account page.
                        const password = self
                                ? h('div.row-actions', null, h('a.button', { href: '#/account' }, 'Change on your account page'))
                                : h('div.row-actions', null, pw,
                                        button('Set', async () => {
                                                if (!pw.value)
                                                        throw new Error(`Type the new password of ${u.name} first.`);
                                                await api('PUT', `/api/users/${enc(u.name)}/password`, { password: pw.value });
                                                pw.value = '';
                                                return `Password of ${u.name} changed.`;
                                        }, null, { 'aria-label': `Set the password of ${u.name}` }));
                        // No deleting the account one is logged in with (the
                        // daemon refuses it too).
                        const actions = self
                                ? h('div.row-actions', null, h('span.hint', { title: 'You cannot delete the account you are logged in with.' },
                                        'You (logged in)'))
                                : h('div.row-actions', null, button('Delete', async () => {
                                        if (!confirm(`Delete web account ${u.name}? Its sessions end at once.`))
                                                return;
                                        await api('DELETE', `/api/users/${enc(u.name)}`);
                                        await load();
                                        return `User ${u.name} deleted.`;
                                }, 'danger', { 'aria-label': `Delete ${u.name}` }));
                        tbody.append(h('tr', { 'data-user': u.name },
                                h('td', { 'data-label': 'Name' }, u.name),
                                h('td', { 'data-label': 'Role' }, badge(u.role)),
                                h('td', { 'data-label': 'Created' }, fmtTime(u.created)),
                                // Boxes of their own: a flex <td> would leave the table's layout.
                                h('td', { 'data-label': 'Password' }, password),
                                h('td.col-actions', { 'data-label': 'Actions' }, actions)));
                }
        };
        const name = h('input', { name: 'name', required: true, autocapitalize: 'none', spellcheck: 'false' });
        const pw = h('input', { name: 'password', type: 'password', required: true, autocomplete: 'new-password' });
        const role = h('select', { name: 'role' }, h('option', { value: 'user' }, 'user'), h('option', { value: 'admin' }, 'admin'));
        const form = h('form.card.create', { 'aria-label': 'Create a user' },
                h('h2', null, 'New web account'),
                h('div.grid', null, field('Name', name), field('Password', pw, 'at least 8 characters'), field('Role', role)),
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Create user')));
        onSubmit(form, async () => {
                const user = name.value;
                await api('POST', '/api/users', { name: user, password: pw.value, role: role.value });
                form.reset();
                await load();
                return `User ${user} created.`;
        });
        append(main, [pageHeader('Users'),
                h('div.table-box', null, h('table.stack', null,
                        h('thead', null, h('tr', null, h('th', null, 'Name'), h('th', null, 'Role'), h('th', null, 'Created'), h('th', null, 'Password'), h('th.col-actions', null, 'Actions'))),
                        tbody)),
                form]);
        await load();
}
