// SPDX-License-Identifier: GPL-2.0-or-later
// The overlay list and the "New overlay" form (its type's part from
// editors/<type>.js).

import { api, enc } from '../lib/api.js';
import { append, badge, clear, field, h, keyedList, pageHeader, setBadge } from '../lib/dom.js';
import { onSubmit } from '../lib/form.js';
import { fmtBytes, fmtTime } from '../lib/format.js';
import { liveList } from '../lib/live.js';
import { EDITORS } from './overlay.js';

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

export async function pageOverlays(main) {
        const ul = h('ul.cards', { 'aria-label': 'Overlays' });
        const list = keyedList(ul, overlayCard, (o) => o.Name, 'No overlays yet: create the first one below.');

        const name = h('input', { name: 'name', required: true, pattern: '[a-z0-9][a-z0-9_\\-]{0,47}', autocapitalize: 'none', spellcheck: 'false' });
        const type = h('select', { name: 'type' },
                h('option', { value: 'workshop' }, 'Workshop items'),
                h('option', { value: 'archive' }, 'Archive'),
                h('option', { value: 'script' }, 'Script'));
        // Each type's part of the form, from its editor.
        const parts = Object.fromEntries(Object.entries(EDITORS).map(([k, ed]) => [k, ed.createPart()]));
        const partBox = h('div');
        const showPart = () => {
                clear(partBox).append(parts[type.value].node);
        };
        type.addEventListener('change', showPart);
        showPart();
        const form = h('form.card.create', { 'aria-label': 'Create an overlay' },
                h('h2', null, 'New overlay'),
                h('div.grid', null, field('Name', name, 'a-z, 0-9, _ and -'), field('Type', type)),
                partBox,
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Create overlay')));
        // The error of a refused create shows next to the form (and nothing
        // was created: the daemon checks every option first).
        const err = h('div.form-error', { role: 'alert', 'aria-live': 'assertive' });
        form.querySelector('.actions').before(err);
        onSubmit(form, async () => {
                err.replaceChildren();
                const n = name.value;
                try {
                        const o = await api('POST', '/api/overlays', { name: n, type: type.value, options: parts[type.value].options() });
                        list.set(o);
                } catch (e) {
                        if (e.status === 401)
                                throw e;        // the session ended: showError logs out
                        err.append(h('span', null, e.message), e.error ? h('small.notice-details', null, e.error) : null);
                        name.focus();
                        return null;
                }
                location.hash = '#/overlays/' + enc(n);
                return { text: `Overlay ${n} created.` + (type.value === 'workshop' || type.value === 'script' ? ' Build it to fill it.' : ''), carry: true };
        });

        const box = h('details.create-box', null, h('summary', null, 'Create an overlay'), form);
        append(main, [pageHeader('Overlays'), ul, box]);
        const load = liveList(list, 'overlay', '/api/overlays');
        await load();
}
