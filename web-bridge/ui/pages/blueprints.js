// SPDX-License-Identifier: GPL-2.0-or-later
// The blueprint list, the "New blueprint" form, and the ordered overlay list
// editor shared with the blueprint page.

import { api, enc } from '../lib/api.js';
import { append, badge, button, clear, field, h, keyedList, pageHeader } from '../lib/dom.js';
import { onSubmit } from '../lib/form.js';
import { liveList } from '../lib/live.js';
import { addableOverlays, moveItem, splitArgs } from '../lib/overlay-util.js';

// An ordered overlay list (top first): add from a select that offers only
// the overlays not in it yet, move, remove. onChange(fn) is told of every
// change; value() is the list, set(list) replaces it.
export function overlayListEditor(initial) {
        let names = [...initial];
        let known = new Map();          // name -> overlay, from load()
        let loaded = false;
        const changed = [];
        const ol = h('ol.ordered', { 'aria-label': 'Overlays, top first' });
        const pick = h('select', { name: 'add-overlay' });
        const add = button('Add', () => {
                if (pick.value && !names.includes(pick.value)) {
                        names.push(pick.value);
                        render();
                        pick.focus();
                }
        }, null, { 'aria-label': 'Add the chosen overlay' });
        const fillPick = () => {
                clear(pick);
                const free = addableOverlays([...known.values()], names);
                for (const o of free)
                        pick.append(h('option', { value: o.Name }, `${o.Name} (${o.Type}, ${o.State})`));
                if (!free.length)
                        pick.append(h('option', { value: '' }, !loaded ? 'Loading…' : known.size ? '(all are in the list)' : '(no overlays yet)'));
                pick.disabled = add.disabled = !free.length;
        };
        const move = (i, j) => {
                names = moveItem(names, i, j);
                render();
                // Keep the focus on the moved overlay's button.
                const li = ol.children[j];
                const again = li && li.querySelector(j < i ? 'button[data-move="up"]' : 'button[data-move="down"]');
                if (again && !again.disabled)
                        again.focus();
                else if (li)
                        li.querySelector('button')?.focus();
        };
        const render = () => {
                clear(ol);
                if (!names.length)
                        ol.append(h('li.empty', null, 'No overlays yet: add one below. The server then runs the plain game.'));
                names.forEach((n, i) => {
                        const o = known.get(n);
                        const up = button('↑', () => move(i, i - 1), 'icon', { 'aria-label': `Move ${n} up`, 'data-move': 'up', disabled: i === 0 });
                        const down = button('↓', () => move(i, i + 1), 'icon', { 'aria-label': `Move ${n} down`, 'data-move': 'down', disabled: i === names.length - 1 });
                        const rm = button('✕', () => {
                                names.splice(i, 1);
                                render();
                        }, 'icon', { 'aria-label': `Remove ${n}` });
                        ol.append(h('li', { 'data-name': n },
                                h('span.ordered-main', null, h('span.ordered-name', null, n),
                                        o ? h('small.ordered-meta', null, o.Type) : loaded ? h('small.ordered-meta.missing', null, 'not found') : null,
                                        o ? badge(o.State) : null),
                                h('span.ordered-buttons', null, up, down, rm)));
                });
                fillPick();
                for (const fn of changed)
                        fn();
        };
        const box = h('fieldset.overlay-list', null, h('legend', null, 'Overlays (the top one wins)'),
                h('p.hint', null, 'A file in an overlay hides the same file in those below it and in the game.'), ol,
                h('div.add-row', null, field('Overlay', pick), add));
        box.value = () => [...names];
        box.set = (list) => {
                names = [...list];
                render();
        };
        box.onChange = (fn) => changed.push(fn);
        box.load = async () => {
                const overlays = await api('GET', '/api/overlays');
                known = new Map(overlays.map((o) => [o.Name, o]));
                loaded = true;
                render();
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
        }, (b) => b.Name, 'No blueprints yet: create the first one below.');

        const name = h('input', { name: 'name', required: true, pattern: '[a-z0-9][a-z0-9_\\-]{0,47}', autocapitalize: 'none', spellcheck: 'false' });
        const editor = overlayListEditor([]);
        const cfg = h('textarea.code', { name: 'server-cfg', rows: '4', spellcheck: 'false', autocapitalize: 'none' });
        const args = h('input', { name: 'launch-args', autocapitalize: 'none', spellcheck: 'false' });
        const form = h('form.card.create', { 'aria-label': 'Create a blueprint' },
                h('h2', null, 'New blueprint'),
                field('Name', name, 'a-z, 0-9, _ and -'), editor,
                h('details.options', null, h('summary', null, 'server.cfg and launch arguments'),
                        field('server.cfg', cfg, 'optional: the servers\' left4dead2/cfg/server.cfg'),
                        field('Launch arguments', args, 'optional, separated by spaces, e.g. -tickrate 60')),
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Create blueprint')));
        onSubmit(form, async () => {
                const options = {};
                if (cfg.value)
                        options.server_cfg = cfg.value;
                if (splitArgs(args.value).length)
                        options.launch_args = splitArgs(args.value);
                const b = await api('POST', '/api/blueprints', { name: name.value, overlays: editor.value(), options });
                location.hash = '#/blueprints/' + enc(b.Name);
                return { text: `Blueprint ${b.Name} created.`, carry: true };
        });
        append(main, [pageHeader('Blueprints'), ul, h('details.create-box', null, h('summary', null, 'Create a blueprint'), form)]);
        const load = liveList(list, 'blueprint', '/api/blueprints');
        await Promise.all([load(), editor.load()]);
}
