// SPDX-License-Identifier: GPL-2.0-or-later
// The schedules: list, run, enable/disable, delete, and the "New schedule" form.

import { api, enc } from '../lib/api.js';
import { append, badge, button, clear, field, h, keyedList, pageHeader, setBadge, uid } from '../lib/dom.js';
import { onSubmit } from '../lib/form.js';
import { fmtTime } from '../lib/format.js';
import { liveList } from '../lib/live.js';

const SCHEDULE_ACTIONS = [
        ['restart', 'Restart an instance', 'instance'],
        ['start', 'Start an instance', 'instance'],
        ['stop', 'Stop an instance', 'instance'],
        ['command', 'Send a console command', 'instance'],
        ['backup', 'Back up an instance', 'instance'],
        ['build', 'Build an overlay', 'overlay'],
        ['update-game', 'Update the game', 'game'],
];

function scheduleTargetKind(action) {
        const a = SCHEDULE_ACTIONS.find(([value]) => value === action);
        return a ? a[2] : 'instance';
}

// The schedule's target as a node: a link to its instance or overlay.
function scheduleTargetNode(s) {
        const kind = scheduleTargetKind(s.Action);
        if (kind === 'game')
                return document.createTextNode('the game');
        if (s.TargetMissing)
                return h('span.missing', null, `${s.Target} (deleted)`);
        return h('a', { href: `#/${kind}s/` + enc(s.Target) }, s.Target);
}

// "success", "skipped: ...", "failed: ..." as a badge and the reason.
function scheduleResultNode(s) {
        const text = s.LastResult || '';
        if (!text)
                return document.createTextNode('never ran');
        const m = /^(success|skipped|failed)(?::\s*(.*))?$/.exec(text);
        const word = m ? m[1] : 'unknown';
        const el = h('span', null, badge(word === 'success' ? 'succeeded' : word), m && m[2] ? ` ${m[2]}` : (m ? '' : ` ${text}`));
        const job = /\/job\/([0-9]+)$/.exec(s.LastJob || '');
        if (job)
                el.append(' (', h('a', { href: '#/jobs/' + job[1] }, `job #${job[1]}`), ')');
        return el;
}

function scheduleCard(s) {
        const name = s.Name;
        const state = badge('');
        const what = h('dd');
        const when = h('dd');
        const next = h('dd');
        const last = h('dd');
        const result = h('dd');
        const missing = h('p.missing-target', { role: 'status' });
        let enabled = s.Enabled;
        const toggle = button('Disable', async () => {
                const n = await api('POST', `/api/schedules/${enc(name)}/${enabled ? 'disable' : 'enable'}`);
                card.update(n);
        }, null, { 'data-action': 'toggle' });
        const card = h('li.card.schedule', { 'data-name': name },
                h('div.card-head', null, h('h2', null, name), state),
                missing,
                h('dl.facts', null,
                        h('div.wide', null, h('dt', null, 'Action'), what),
                        h('div', null, h('dt', null, 'When'), when),
                        h('div', null, h('dt', null, 'Next run'), next),
                        h('div', null, h('dt', null, 'Last run'), last),
                        h('div.wide', null, h('dt', null, 'Last result'), result)),
                h('div.actions', null,
                        button('Run now', async () => {
                                const n = await api('POST', `/api/schedules/${enc(name)}/run`);
                                card.update(n);
                                return `Schedule ${name} started.`;
                        }, 'primary', { 'data-action': 'run' }),
                        toggle,
                        button('Delete', async () => {
                                if (!confirm(`Delete schedule ${name}?`))
                                        return;
                                await api('DELETE', `/api/schedules/${enc(name)}`);
                                card.remove();
                                return `Schedule ${name} deleted.`;
                        }, 'danger', { 'data-action': 'delete' })));
        card.update = (n) => {
                enabled = n.Enabled;
                setBadge(state, n.Enabled ? 'enabled' : 'disabled');
                toggle.textContent = n.Enabled ? 'Disable' : 'Enable';
                clear(what);
                what.append(`${n.Action} `, scheduleTargetNode(n));
                if (n.Argument)
                        what.append(': ', h('code', null, n.Argument));
                const flags = [];
                if (n.OnlyIfRunning)
                        flags.push('only if running');
                if (n.StopServer)
                        flags.push('stops the server');
                if (n.RestartInstances)
                        flags.push('restarts instances');
                if (n.RandomizedDelayUSec)
                        flags.push(`up to ${Math.round(n.RandomizedDelayUSec / 1e6)} s later`);
                if (flags.length)
                        what.append(` (${flags.join(', ')})`);
                when.textContent = n.Calendar;
                next.textContent = n.Enabled ? fmtTime(n.NextElapse) : '— (disabled)';
                last.textContent = fmtTime(n.LastRun);
                clear(result);
                result.append(scheduleResultNode(n));
                missing.textContent = n.TargetMissing ?
                        `Its target ${n.Target} was deleted: every run fails until the schedule is deleted.` : '';
                missing.hidden = !n.TargetMissing;
        };
        card.update(s);
        return card;
}

export async function pageSchedules(main) {
        const ul = h('ul.cards', { 'aria-label': 'Schedules' });
        const list = keyedList(ul, scheduleCard, (s) => s.Name, 'No schedules yet.');

        const name = h('input', { name: 'name', required: true, pattern: '[a-z0-9][a-z0-9_\\-]{0,47}', autocapitalize: 'none', spellcheck: 'false' });
        const calendar = h('input', { name: 'calendar', required: true, placeholder: '*-*-* 04:00:00', autocapitalize: 'none', spellcheck: 'false' });
        const action = h('select', { name: 'action' }, SCHEDULE_ACTIONS.map(([value, label]) => h('option', { value }, label)));
        const target = h('select', { name: 'target' });
        const argument = h('input', { name: 'argument', autocapitalize: 'none', spellcheck: 'false', placeholder: 'say Restart in 5 minutes' });
        const delay = h('input', { name: 'randomized_delay', type: 'number', min: '0', max: '86400', inputmode: 'numeric' });
        const onlyIfRunning = h('input', { name: 'only_if_running', type: 'checkbox', id: uid('f') });
        const restartInstances = h('input', { name: 'restart_instances', type: 'checkbox', id: uid('f') });
        const stopServer = h('input', { name: 'stop', type: 'checkbox', id: uid('f') });
        const enabled = h('input', { name: 'enabled', type: 'checkbox', checked: true, id: uid('f') });
        const check = (input, label) => h('div.field.check', null, input, h('label', { for: input.id }, label));
        const targetRow = field('Target', target);
        const argumentRow = field('Command', argument, 'the console command to send');
        const onlyRow = check(onlyIfRunning, 'Only if the server is running');
        const restartRow = check(restartInstances, 'Restart the instances that run');
        const stopRow = check(stopServer, 'Stop the server during the backup');
        const targets = { instance: [], overlay: [] };
        const fillTargets = () => {
                const kind = scheduleTargetKind(action.value);
                const keep = target.value;
                clear(target);
                if (kind !== 'game') {
                        const names = targets[kind];
                        if (!names.length)
                                target.append(h('option', { value: '' }, `(no ${kind}s yet)`));
                        for (const n of names)
                                target.append(h('option', { value: n }, n));
                        if (names.includes(keep))
                                target.value = keep;
                }
                targetRow.hidden = kind === 'game';
                argumentRow.hidden = action.value !== 'command';
                argument.required = action.value === 'command';
                onlyRow.hidden = !['restart', 'stop', 'command', 'backup'].includes(action.value);
                restartRow.hidden = action.value !== 'update-game';
                stopRow.hidden = action.value !== 'backup';
        };
        action.addEventListener('change', fillTargets);
        const form = h('form.card.create', { 'aria-label': 'Create a schedule' },
                h('h2', null, 'New schedule'),
                h('div.grid', null,
                        field('Name', name, 'a-z, 0-9, _ and -'),
                        field('When', calendar, 'systemd calendar syntax: daily, Mon..Fri 04:00, *:0/15'),
                        field('Action', action),
                        targetRow,
                        argumentRow,
                        field('Random delay (seconds)', delay, 'optional: up to this much later, at most a day')),
                onlyRow, restartRow, stopRow,
                check(enabled, 'Enabled'),
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Create schedule')));
        onSubmit(form, async () => {
                const options = { enabled: enabled.checked };
                if (!onlyRow.hidden && onlyIfRunning.checked)
                        options.only_if_running = true;
                if (!restartRow.hidden && restartInstances.checked)
                        options.restart_instances = true;
                if (!stopRow.hidden && stopServer.checked)
                        options.stop = true;
                if (!argumentRow.hidden)
                        options.argument = argument.value;
                if (delay.value)
                        options.randomized_delay_usec = Number(delay.value) * 1000000;
                const body = {
                        name: name.value, calendar: calendar.value, action: action.value,
                        target: scheduleTargetKind(action.value) === 'game' ? '' : target.value, options,
                };
                const o = await api('POST', '/api/schedules', body);
                list.set(o);
                form.reset();
                fillTargets();
                return `Schedule ${o.Name} created.`;
        });

        append(main, [pageHeader('Schedules'), ul, h('details.create-box', null, h('summary', null, 'Create a schedule'), form)]);

        const load = liveList(list, 'schedule', '/api/schedules');
        const loadTargets = async () => {
                const [instances, overlays] = await Promise.all([api('GET', '/api/instances'), api('GET', '/api/overlays')]);
                targets.instance = instances.map((i) => i.Name);
                targets.overlay = overlays.map((o) => o.Name);
                fillTargets();
        };
        fillTargets();
        await Promise.all([load(), loadTargets()]);
}
