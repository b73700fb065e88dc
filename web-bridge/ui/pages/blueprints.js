// SPDX-License-Identifier: GPL-2.0-or-later
// The blueprint list, the "New blueprint" form, and the ordered overlay list
// editor shared with the blueprint page.

import { api, enc } from '../lib/api.js';
import { append, button, clear, field, h, keyedList, pageHeader } from '../lib/dom.js';
import { onSubmit } from '../lib/form.js';
import { liveList } from '../lib/live.js';

// An ordered overlay list (top first): add from a select, move, remove.
export function overlayListEditor(initial) {
        let names = [...initial];
        const ol = h('ol.ordered', { 'aria-label': 'Overlays, top first' });
        const pick = h('select', { name: 'add-overlay' });
        const render = () => {
                clear(ol);
                if (!names.length)
                        ol.append(h('li.empty', null, 'No overlays yet: add one below.'));
                names.forEach((n, i) => {
                        const up = button('↑', () => {
                                [names[i - 1], names[i]] = [names[i], names[i - 1]];
                                render();
                        }, 'icon', { 'aria-label': `Move ${n} up`, disabled: i === 0 });
                        const down = button('↓', () => {
                                [names[i + 1], names[i]] = [names[i], names[i + 1]];
                                render();
                        }, 'icon', { 'aria-label': `Move ${n} down`, disabled: i === names.length - 1 });
                        const rm = button('✕', () => {
                                names.splice(i, 1);
                                render();
                        }, 'icon', { 'aria-label': `Remove ${n}` });
                        ol.append(h('li', null, h('span.ordered-name', null, n), h('span.ordered-buttons', null, up, down, rm)));
                });
        };
        const add = button('Add', () => {
                if (pick.value && !names.includes(pick.value)) {
                        names.push(pick.value);
                        render();
                }
        }, null, { 'aria-label': 'Add the chosen overlay' });
        const box = h('fieldset.overlay-list', null, h('legend', null, 'Overlays (top wins)'), ol,
                h('div.add-row', null, field('Overlay', pick), add));
        box.value = () => [...names];
        box.set = (list) => {
                names = [...list];
                render();
        };
        box.load = async () => {
                const overlays = await api('GET', '/api/overlays');
                clear(pick);
                for (const o of overlays)
                        pick.append(h('option', { value: o.Name }, `${o.Name} (${o.Type}, ${o.State})`));
                if (!overlays.length)
                        pick.append(h('option', { value: '' }, '(no overlays yet)'));
        };
        render();
        return box;
}

export async function pageBlueprints(main) {
        const ul = h('ul.cards', { 'aria-label': 'Blueprints' });
        const list = keyedList(ul, (b) => {
                const overlays = h('dd');
                const li = h('li.card', { 'data-name': b.Name },
                        h('div.card-head', null, h('h2', null, h('a', { href: '#/blueprints/' + enc(b.Name) }, b.Name))),
                        h('dl.facts', null,
                                h('div', null, h('dt', null, 'Overlays'), overlays),
                                h('div', null, h('dt', null, 'Owner'), h('dd', null, b.Owner))));
                li.update = (n) => {
                        overlays.textContent = (n.Overlays || []).join(', ') || '—';
                };
                li.update(b);
                return li;
        }, (b) => b.Name, 'No blueprints yet.');

        const name = h('input', { name: 'name', required: true, pattern: '[a-z0-9][a-z0-9_\\-]{0,47}', autocapitalize: 'none', spellcheck: 'false' });
        const editor = overlayListEditor([]);
        const form = h('form.card.create', { 'aria-label': 'Create a blueprint' },
                h('h2', null, 'New blueprint'),
                field('Name', name, 'a-z, 0-9, _ and -'), editor,
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Create blueprint')));
        onSubmit(form, async () => {
                const b = await api('POST', '/api/blueprints', { name: name.value, overlays: editor.value(), options: {} });
                location.hash = '#/blueprints/' + enc(b.Name);
                return { text: `Blueprint ${b.Name} created.`, carry: true };
        });
        append(main, [pageHeader('Blueprints'), ul, h('details.create-box', null, h('summary', null, 'Create a blueprint'), form)]);
        const load = liveList(list, 'blueprint', '/api/blueprints');
        await Promise.all([load(), editor.load()]);
}
