// SPDX-License-Identifier: GPL-2.0-or-later
// The editor of a Workshop overlay: its items (ids or URLs of items and
// collections).

import { api, enc } from '../lib/api.js';
import { field, h } from '../lib/dom.js';
import { onSubmit } from '../lib/form.js';
import { itemsFromText } from '../lib/format.js';

const ITEMS_HINT = 'ids or URLs of items or collections, one per line';

// The type's part of the "New overlay" form: node, and apply(name), which
// gives the new overlay what was typed (resolves to the overlay or null).
export function createPart() {
        const items = h('textarea', { name: 'items', rows: '4', autocapitalize: 'none', spellcheck: 'false' });
        return {
                node: h('div', null, field('Workshop items', items, ITEMS_HINT)),
                async apply(name) {
                        if (!items.value.trim())
                                return null;
                        return api('PUT', `/api/overlays/${enc(name)}/items`, { items: itemsFromText(items.value) });
                },
        };
}

// The card of the overlay page: ctx.show(overlay) shows what a change answered.
export function editor(name, o, ctx) {
        const items = h('textarea', { name: 'items', rows: '5', autocapitalize: 'none', spellcheck: 'false' });
        items.value = (o.Items || []).join('\n');
        const form = h('form.card', { 'aria-label': 'Workshop items' }, h('h2', null, 'Workshop items'),
                field('Items', items, ITEMS_HINT),
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Save items')));
        return onSubmit(form, async () => {
                ctx.show(await api('PUT', `/api/overlays/${enc(name)}/items`, { items: itemsFromText(items.value) }));
                return 'Items saved.';
        });
}
