// SPDX-License-Identifier: GPL-2.0-or-later
// The editor of a Workshop overlay: its items (ids or URLs of items and
// collections), and what the last build found of each (title, size, last
// update, status: WorkshopItemDetails).

import { api, enc } from '../lib/api.js';
import { clear, field, h } from '../lib/dom.js';
import { onSubmit } from '../lib/form.js';
import { guardLeave } from '../lib/leave-guard.js';
import { fmtBytes, fmtTime, itemsFromText } from '../lib/format.js';
import { itemStatusHint, itemStatusLabel, itemsSummary, workshopUrl } from '../lib/overlay-util.js';

const ITEMS_HINT = 'Ids or Workshop URLs of items or collections, one per line (a collection brings all its items).';

// The type's part of the "New overlay" form: node, and options(), what
// CreateOverlay gets for it (checked by the daemon with the rest, before
// anything is created).
export function createPart() {
        const items = h('textarea', { name: 'items', rows: '4', autocapitalize: 'none', spellcheck: 'false',
                placeholder: '123456789\nhttps://steamcommunity.com/sharedfiles/filedetails/?id=…' });
        return {
                node: h('div', null, field('Workshop items', items, ITEMS_HINT + ' Optional: they can be added later.')),
                options() {
                        const list = itemsFromText(items.value);
                        return list.length ? { items: list } : {};
                },
        };
}

// The table of WorkshopItemDetails (or why there is none).
function detailsTable(o) {
        const details = o.WorkshopItemDetails || [];
        if (!details.length)
                return h('p.empty-note', null, o.LastBuild ? 'The last build found no items.' :
                        'Build the overlay to see each item\'s title, size, last update and status.');
        const s = itemsSummary(details);
        const rows = details.map((d) => h('tr', { 'data-id': String(d.id), 'data-status': d.status },
                h('td.item-title', { 'data-label': 'Item' },
                        h('a', { href: workshopUrl(d.id), target: '_blank', rel: 'noopener noreferrer', title: 'Its Workshop page (steamcommunity.com)' },
                                d.title || `Item ${d.id}`),
                        h('small.item-id', null, String(d.id))),
                h('td.num', { 'data-label': 'Size' }, d.size ? fmtBytes(d.size) : '—'),
                h('td', { 'data-label': 'Updated' }, fmtTime(d.updated)),
                h('td', { 'data-label': 'Status' }, h('span.badge.state-' + String(d.status).replace(/[^a-z-]/g, ''),
                        { title: itemStatusHint(d.status) }, itemStatusLabel(d.status)))));
        return h('div', null,
                h('p.items-summary', null, `${s.count} item${s.count === 1 ? '' : 's'}: ` +
                        (s.problems ? `${s.count - s.problems} usable (${fmtBytes(s.bytes)}), ${s.problems} not (see Status).` :
                                `all usable, ${fmtBytes(s.bytes)}.`),
                o.LastBuild ? ` As the build of ${fmtTime(o.LastBuild)} found them.` : ''),
                h('div.table-box', null, h('table.stack.items', null,
                        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Item'), h('th.num', { scope: 'col' }, 'Size'),
                                h('th', { scope: 'col' }, 'Last update'), h('th', { scope: 'col' }, 'Status'))),
                        h('tbody', null, rows))));
}

// The card of the overlay page: ctx.show(overlay) shows what a change
// answered, ctx.build() starts a build; the card's update(overlay) redraws
// the items table.
export function editor(name, o, ctx) {
        const items = h('textarea', { name: 'items', rows: '5', autocapitalize: 'none', spellcheck: 'false' });
        items.value = (o.Items || []).join('\n');
        let saved = itemsFromText(items.value).join('\n');
        guardLeave(() => itemsFromText(items.value).join('\n') !== saved, 'Changes to the Workshop items are');
        const form = h('form', { 'aria-label': 'Workshop items' },
                field('Items', items, ITEMS_HINT),
                h('fieldset.lockable.actions', null, h('legend.sr-only', null, 'Save'), h('button.primary', { type: 'submit' }, 'Save items'),
                        h('button', { type: 'submit', name: 'and-build' }, 'Save and build')));
        onSubmit(form, async (ev) => {
                const list = itemsFromText(items.value);
                ctx.show(await api('PUT', `/api/overlays/${enc(name)}/items`, { items: list }));
                saved = list.join('\n');
                if (ev.submitter && ev.submitter.name === 'and-build')
                        return ctx.build();
                return 'Items saved. Build the overlay to download them.';
        });
        const table = h('div.items-box');
        let last = null;
        const card = h('section.card.workshop-card', { 'aria-label': 'Workshop items' }, h('h2', null, 'Workshop items'),
                form, h('h3', null, 'Last build'), table);
        card.update = (n) => {
                const key = JSON.stringify([n.WorkshopItemDetails || [], n.LastBuild]);
                if (key === last)
                        return;
                last = key;
                clear(table).append(detailsTable(n));
        };
        card.update(o);
        return card;
}
