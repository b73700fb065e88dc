// SPDX-License-Identifier: GPL-2.0-or-later
// The instance list and the "New instance" form; the Start/Stop/Restart
// buttons shared with the instance page.

import { api, enc } from '../lib/api.js';
import { append, badge, button, clear, field, h, keyedList, pageHeader, setBadge, uid } from '../lib/dom.js';
import { onSubmit } from '../lib/form.js';
import { cache, emit, liveList, onLive } from '../lib/live.js';
import { showError } from '../lib/notices.js';
import { playersText, portRangeText } from '../lib/status-text.js';
import { gameCard } from './game.js';

function instanceLink(name) {
        return h('a', { href: '#/instances/' + enc(name) }, name);
}

async function controlInstance(name, action) {
        const o = await api('POST', `/api/instances/${enc(name)}/${action}`);
        if (o && o.Name) {
                cache.instances.set(o.Name, o);
                emit('instance', o);
        }
        return o;
}

// Start, Stop and Restart; update(state) disables what the state makes
// pointless (starting a running server, stopping a stopped one).
export function instanceButtons(name) {
        const start = button('Start', () => controlInstance(name, 'start'), 'primary', { 'data-action': 'start' });
        const stop = button('Stop', () => controlInstance(name, 'stop'), null, { 'data-action': 'stop' });
        const restart = button('Restart', () => controlInstance(name, 'restart'), null, { 'data-action': 'restart' });
        const box = h('div.actions', null, start, stop, restart);
        box.update = (state) => {
                start.disabled = state === 'running' || state === 'starting';
                stop.disabled = state === 'stopped';
        };
        return box;
}

function instanceCard(o) {
        const state = badge(o.State);
        const buttons = instanceButtons(o.Name);
        const map = h('span');
        const players = h('span');
        const port = h('span');
        const card = h('li.card.instance', { 'data-name': o.Name },
                h('div.card-head', null, h('h2', null, instanceLink(o.Name)), state),
                h('dl.facts', null,
                        h('div.map', null, h('dt', null, 'Map'), h('dd', null, map)),
                        h('div', null, h('dt', null, 'Players'), h('dd', null, players)),
                        h('div', null, h('dt', null, 'Port'), h('dd', null, port))),
                buttons);
        card.update = (n) => {
                setBadge(state, n.State);
                buttons.update(n.State);
                map.textContent = n.Map || n.StartMap || '—';
                players.textContent = playersText(n);
                port.textContent = String(n.Port || '—');
        };
        card.update(o);
        return card;
}

export async function blueprintOptions(select, current) {
        const bps = await api('GET', '/api/blueprints');
        clear(select);
        if (!bps.length)
                select.append(h('option', { value: '' }, '(no blueprints yet)'));
        for (const b of bps)
                select.append(h('option', { value: b.Name, selected: b.Name === current }, b.Name));
        if (current)
                select.value = current;
        return bps.length;
}

export async function pageInstances(main) {
        const ul = h('ul.cards', { 'aria-label': 'Instances' });
        const list = keyedList(ul, instanceCard, (o) => o.Name, 'No instances yet.');

        const name = h('input', { name: 'name', required: true, pattern: '[a-z0-9][a-z0-9_\\-]{0,47}', autocapitalize: 'none', spellcheck: 'false' });
        const bp = h('select', { name: 'blueprint', required: true });
        const port = h('input', { name: 'port', type: 'number', min: '1', max: '65535', inputmode: 'numeric' });
        const portHint = h('span', null, 'optional: the lowest free one');
        const hostname = h('input', { name: 'hostname', maxlength: '64' });
        const maxp = h('input', { name: 'max_players', type: 'number', min: '1', max: '32', value: '8', inputmode: 'numeric' });
        const map = h('input', { name: 'map', pattern: '[A-Za-z0-9_\\-]{1,64}', autocapitalize: 'none', spellcheck: 'false' });
        const auto = h('input', { name: 'autostart', type: 'checkbox', id: uid('f') });
        const form = h('form.card.create', { 'aria-label': 'Create an instance' },
                h('h2', null, 'New instance'),
                h('div.grid', null,
                        field('Name', name, 'a-z, 0-9, _ and -'),
                        field('Blueprint', bp),
                        field('Port', port, portHint),
                        field('Hostname', hostname, 'optional: the instance\'s name when empty'),
                        field('Max players', maxp),
                        field('Start map', map, 'optional, e.g. c1m1_hotel')),
                h('div.field.check', null, auto, h('label', { for: auto.id }, 'Start with the host')),
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Create instance')));
        onSubmit(form, async () => {
                const options = { max_players: Number(maxp.value || 8), autostart: auto.checked };
                if (port.value)
                        options.port = Number(port.value);
                if (hostname.value)
                        options.hostname = hostname.value;
                if (map.value)
                        options.map = map.value;
                const o = await api('POST', '/api/instances', { name: name.value, blueprint: bp.value, options });
                list.set(o);
                form.reset();
                return `Instance ${o.Name} created.`;
        });

        const steps = h('ol.steps');
        const start = h('section.card.getting-started', { 'aria-label': 'Getting started', hidden: true },
                h('h2', null, 'Getting started'), steps);
        const counts = { instances: null, blueprints: null, game: null };
        const showSteps = () => {
                const { instances, blueprints, game } = counts;
                if (instances === null || blueprints === null || game === null)
                        return;
                start.hidden = instances > 0 && game;
                clear(steps);
                const step = (done, text, link) => steps.append(h('li' + (done ? '.done' : ''), null,
                        h('span.step-mark', { 'aria-hidden': 'true' }, done ? '✓' : ''),
                        h('span', null, link && !done ? h('a', { href: link[0] }, link[1]) : text, done ? ' (done)' : '')));
                step(game, 'Install the game (above).', null);
                step(blueprints > 0, 'Create a blueprint: the overlays (maps, mods, configs) a server runs with.', ['#/blueprints', 'Create a blueprint: the overlays (maps, mods, configs) a server runs with.']);
                step(instances > 0, 'Create an instance from it, below, and start it.', null);
        };
        const game = gameCard((m) => {
                counts.game = !!m.GameInstalled;
                showSteps();
                const range = portRangeText(m);
                if (range) {
                        port.min = String(m.InstancePortMin);
                        port.max = String(m.InstancePortMax);
                        port.placeholder = String(m.InstancePortMin);
                        portHint.textContent = `optional: the lowest free one of ${range}`;
                }
        });
        const count = () => {
                counts.instances = ul.querySelectorAll('li.card.instance').length;
                showSteps();
        };
        // After the list took the event in.
        onLive((k) => {
                if (k === 'instance' || k === 'instance-removed')
                        queueMicrotask(count);
        });

        append(main, [pageHeader('Instances'), game, start, ul, h('details.create-box', null, h('summary', null, 'Create an instance'), form)]);

        const load = liveList(list, 'instance', '/api/instances');
        const loadInstances = async () => {
                await load();
                count();
        };
        await Promise.all([
                loadInstances(),
                blueprintOptions(bp).then((n) => {
                        counts.blueprints = n;
                        showSteps();
                }),
                game.refresh(),
                game.findJob().catch(showError),
        ]);
}
