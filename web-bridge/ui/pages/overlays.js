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
        const list = keyedList(ul, overlayCard, (o) => o.Name, 'No overlays yet.');

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
        onSubmit(form, async () => {
                const n = name.value;
                let o = await api('POST', '/api/overlays', { name: n, type: type.value, options: {} });
                list.set(o);
                o = (await parts[type.value].apply(n)) || o;
                list.set(o);
                location.hash = '#/overlays/' + enc(n);
                return { text: `Overlay ${n} created.`, carry: true };
        });

        append(main, [pageHeader('Overlays'), ul, h('details.create-box', null, h('summary', null, 'Create an overlay'), form)]);
        const load = liveList(list, 'overlay', '/api/overlays');
        await load();
}
