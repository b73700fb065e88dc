// SPDX-License-Identifier: GPL-2.0-or-later
// One instance: controls, console, details, settings, limits, backups.

import { api, enc } from '../lib/api.js';
import { append, badge, button, clear, consoleBox, dl, field, h, pageHeader, setBadge, uid } from '../lib/dom.js';
import { onSubmit } from '../lib/form.js';
import { LIMIT_INFINITY, fmtTime } from '../lib/format.js';
import { filesCard } from '../lib/files.js';
import { onLive, onPageLeave, stream } from '../lib/live.js';
import { notice, showError } from '../lib/notices.js';
import { playersText, serverUp, settingsSavedText } from '../lib/status-text.js';
import { backupsCard } from './instance-backups.js';
import { limitsCard } from './instance-limits.js';
import { blueprintOptions, instanceButtons } from './instances.js';
import { jobsHash } from './jobs.js';
import { parseJobFilter } from '../lib/jobquery.js';

// How many lines of the server's log the console starts with (the bridge
// holds the last 1000).
const HISTORY_CHOICES = [100, 200, 500, 1000];

export async function pageInstance(main, name) {
        let o = await api('GET', `/api/instances/${enc(name)}`);
        const state = badge(o.State);
        const buttons = instanceButtons(name);
        const props = dl([['Blueprint', 'Blueprint'], ['Port', 'Port'], ['Hostname', 'Hostname'],
                ['Map', 'Map'], ['Players', 'Players'], ['PlayerLimit', 'Player limit'], ['StartMap', 'Start map'],
                ['Autostart', 'Autostart'], ['Owner', 'Owner'], ['MainPID', 'Process'], ['Created', 'Created']]);
        const runningNote = h('p.hint.applies-note', { role: 'note' },
                'The server is running: saved settings apply at its next start.');
        const show = (n) => {
                o = n;
                setBadge(state, n.State);
                buttons.update(n.State);
                const v = props.values;
                v.Blueprint.textContent = n.Blueprint;
                v.Port.textContent = String(n.Port);
                // "" is the default, the instance's name (older daemons said "").
                v.Hostname.textContent = n.Hostname || n.Name;
                v.Map.textContent = n.Map || '—';
                v.Players.textContent = playersText(n);
                v.PlayerLimit.textContent = String(n.PlayerLimit);
                v.StartMap.textContent = n.StartMap || '—';
                v.Autostart.textContent = n.Autostart ? 'yes' : 'no';
                v.Owner.textContent = n.Owner;
                v.MainPID.textContent = n.MainPID ? String(n.MainPID) : '—';
                v.Created.textContent = fmtTime(n.Created);
                runningNote.hidden = !serverUp(n.State);
        };
        const limits = limitsCard(name);
        const backups = backupsCard(name);
        // With a disk limit the server's files live in its disk image, which
        // is mounted only while the server runs (not yet while it starts,
        // no more once it stops).
        const files = filesCard('instance', name, {
                unavailable: () => o.State !== 'running' && o.DiskMax < LIMIT_INFINITY ?
                        'This server keeps its files in its disk image, which can be read only while the server runs.' : null,
        });
        const showAll = (n) => {
                const was = o.State;
                show(n);
                limits.show(n);
                backups.show(n);
                if (n.State !== was) {
                        limits.refresh().catch(() => {});
                        // A server that starts or stops changes what it wrote
                        // (and a disk image is readable only while it runs).
                        files.open(files.path());
                }
        };
        show(o);
        limits.show(o);
        limits.refresh().catch(showError);
        backups.show(o);
        backups.refresh().catch(showError);
        // The use changes while the server runs.
        const usageTimer = setInterval(() => {
                if (o.State === 'running' && !document.hidden)
                        limits.refresh().catch(() => {});
        }, 10000);
        onPageLeave(() => clearInterval(usageTimer));

        // Editing.
        const bp = h('select', { name: 'blueprint' });
        const hostname = h('input', { name: 'hostname', maxlength: '64', value: o.Hostname || o.Name, placeholder: name });

        const limit = h('input', { name: 'limit', type: 'number', min: '1', max: '32', value: String(o.PlayerLimit), inputmode: 'numeric' });
        const map = h('input', { name: 'map', value: o.StartMap || '', autocapitalize: 'none', spellcheck: 'false' });
        const auto = h('input', { name: 'autostart', type: 'checkbox', checked: !!o.Autostart, id: uid('f') });
        const edit = h('form.card', { 'aria-label': 'Settings' },
                h('h2', null, 'Settings'),
                runningNote,
                h('div.grid', null, field('Blueprint', bp), field('Hostname', hostname, 'empty: the instance\'s name'),
                        field('Player limit', limit), field('Start map', map)),
                h('div.field.check', null, auto, h('label', { for: auto.id }, 'Start with the host')),
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Save settings')));
        onSubmit(edit, async () => {
                const patch = {};
                if (bp.value && bp.value !== o.Blueprint)
                        patch.blueprint = bp.value;
                const host = hostname.value.trim();
                if (host !== (o.Hostname || o.Name))
                        patch.hostname = host;
                if (Number(limit.value) !== o.PlayerLimit)
                        patch.limit = Number(limit.value);
                if (map.value !== o.StartMap)
                        patch.map = map.value;
                if (auto.checked !== !!o.Autostart)
                        patch.autostart = auto.checked;
                const keys = Object.keys(patch);
                if (!keys.length)
                        return settingsSavedText(o.State, keys);
                const n = await api('PATCH', `/api/instances/${enc(name)}`, patch);
                showAll(n);
                hostname.value = n.Hostname || n.Name;
                return settingsSavedText(n.State, keys);
        });

        // The console.
        let deleting = false;
        const con = consoleBox(`Console of ${name}`);
        const historySel = h('select', { name: 'history', 'aria-label': 'Lines of history' },
                HISTORY_CHOICES.map((n) => h('option', { value: String(n), selected: n === 200 }, `last ${n} lines`)));
        const cmd = h('input', { name: 'command', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', placeholder: 'status' });
        const send = h('button.primary', { type: 'submit' }, 'Send');
        const cmdForm = h('form.command', { 'aria-label': 'Send a console command' }, field('Command', cmd), send);
        cmdForm.addEventListener('submit', async (ev) => {
                ev.preventDefault();
                const text = cmd.value.trim();
                if (!text)
                        return;
                con.toEnd();
                con.line('> ' + text, 'cmd');
                cmd.value = '';
                send.disabled = true;
                try {
                        const r = await api('POST', `/api/instances/${enc(name)}/command`, { command: text });
                        const reply = (r && r.reply) || '';
                        const lines = reply.replace(/\n$/, '').split('\n');
                        for (const l of lines)
                                con.line(l, 'reply');
                } catch (e) {
                        // The sentence; the D-Bus name stays out of the console.
                        con.line(`! ${e.message}`, 'err');
                } finally {
                        send.disabled = false;
                        cmd.focus();
                }
        });

        append(main, [
                pageHeader(name, state),
                h('div.layout', null,
                        // The controls and the console first (on a phone too),
                        // the long cards after them.
                        h('section.card.control-card', { 'aria-label': 'Control' }, buttons),
                        h('section.card.console-card', { 'aria-label': 'Console' },
                                h('div.card-head', null, h('h2', null, 'Console'), historySel), con, cmdForm),
                        h('section.card', { 'aria-label': 'Details' },
                                h('h2', null, 'Details'),
                                props,
                                h('p', null, h('a', { href: jobsHash(Object.assign(parseJobFilter(''), { target: `instance:${name}` })) },
                                        'Jobs of this instance (backups, restores)')),
                                h('div.actions.danger-zone', null,
                                        button('Delete instance', async () => {
                                                if (!confirm(`Delete instance ${name}? Its runtime files are removed.`))
                                                        return;
                                                deleting = true;
                                                try {
                                                        await api('DELETE', `/api/instances/${enc(name)}`);
                                                } catch (e) {
                                                        deleting = false;
                                                        throw e;
                                                }
                                                notice(`Instance ${name} deleted.`, 'ok', { carry: true });
                                                location.hash = '#/instances';
                                        }, 'danger'))),
                        edit,
                        limits,
                        backups,
                        files),
        ]);

        // The log: the last `lines` lines, then new ones; a new choice of
        // history reads it again.
        let logStream = null;
        const openLog = (lines) => {
                if (logStream)
                        logStream.close();
                clear(con);
                logStream = stream(`/api/instances/${enc(name)}/log?lines=${lines}`, {
                        log: (d) => con.line(d.line),
                        // Lines were lost between a reconnection and what the
                        // bridge still holds.
                        reset: () => con.line('(some lines were missed)', 'err'),
                        // The instance was deleted or the daemon went away.
                        end: (d, ev, source) => {
                                source.close();
                                con.line('(the log ended)', 'err');
                        },
                });
                con.toEnd();
        };
        historySel.addEventListener('change', () => openLog(Number(historySel.value)));
        openLog(Number(historySel.value));
        onLive((kind, n) => {
                if (kind === 'instance' && n.Name === name)
                        showAll(n);
                else if (kind === 'instance-removed' && n.Name === name && !deleting)
                        notice(`Instance ${name} was deleted.`, 'error');
                else if (kind === 'reset')
                        api('GET', `/api/instances/${enc(name)}`).then(showAll, showError);
        });
        await blueprintOptions(bp, o.Blueprint);
}
