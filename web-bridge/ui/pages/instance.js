// SPDX-License-Identifier: GPL-2.0-or-later
// One instance: controls, console, details, settings, limits, backups.

import { api, enc } from '../lib/api.js';
import { append, badge, button, consoleBox, dl, field, h, pageHeader, setBadge, uid } from '../lib/dom.js';
import { onSubmit } from '../lib/form.js';
import { fmtTime } from '../lib/format.js';
import { onLive, onPageLeave, stream } from '../lib/live.js';
import { notice, showError } from '../lib/notices.js';
import { backupsCard } from './instance-backups.js';
import { limitsCard } from './instance-limits.js';
import { blueprintOptions, instanceButtons } from './instances.js';

export async function pageInstance(main, name) {
        let o = await api('GET', `/api/instances/${enc(name)}`);
        const state = badge(o.State);
        const buttons = instanceButtons(name);
        const props = dl([['Blueprint', 'Blueprint'], ['Port', 'Port'], ['Hostname', 'Hostname'],
                ['Map', 'Map'], ['Players', 'Players'], ['PlayerLimit', 'Player limit'], ['StartMap', 'Start map'],
                ['Autostart', 'Autostart'], ['Owner', 'Owner'], ['MainPID', 'Process'], ['Created', 'Created']]);
        const show = (n) => {
                o = n;
                setBadge(state, n.State);
                buttons.update(n.State);
                const v = props.values;
                v.Blueprint.textContent = n.Blueprint;
                v.Port.textContent = String(n.Port);
                v.Hostname.textContent = n.Hostname;
                v.Map.textContent = n.Map || '—';
                v.Players.textContent = `${n.Players || 0}/${n.MaxPlayers || 0}`;
                v.PlayerLimit.textContent = String(n.PlayerLimit);
                v.StartMap.textContent = n.StartMap || '—';
                v.Autostart.textContent = n.Autostart ? 'yes' : 'no';
                v.Owner.textContent = n.Owner;
                v.MainPID.textContent = n.MainPID ? String(n.MainPID) : '—';
                v.Created.textContent = fmtTime(n.Created);
        };
        const limits = limitsCard(name);
        const backups = backupsCard(name);
        const showAll = (n) => {
                const was = o.State;
                show(n);
                limits.show(n);
                backups.show(n);
                if (n.State !== was)
                        limits.refresh().catch(() => {});
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
        const hostname = h('input', { name: 'hostname', maxlength: '64', value: o.Hostname });
        const limit = h('input', { name: 'limit', type: 'number', min: '1', max: '32', value: String(o.PlayerLimit), inputmode: 'numeric' });
        const map = h('input', { name: 'map', value: o.StartMap || '', autocapitalize: 'none', spellcheck: 'false' });
        const auto = h('input', { name: 'autostart', type: 'checkbox', checked: !!o.Autostart, id: uid('f') });
        const edit = h('form.card', { 'aria-label': 'Settings' },
                h('h2', null, 'Settings'),
                h('div.grid', null, field('Blueprint', bp), field('Hostname', hostname),
                        field('Player limit', limit), field('Start map', map)),
                h('div.field.check', null, auto, h('label', { for: auto.id }, 'Start with the host')),
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Save settings')));
        onSubmit(edit, async () => {
                const patch = {};
                if (bp.value && bp.value !== o.Blueprint)
                        patch.blueprint = bp.value;
                if (hostname.value !== o.Hostname)
                        patch.hostname = hostname.value;
                if (Number(limit.value) !== o.PlayerLimit)
                        patch.limit = Number(limit.value);
                if (map.value !== o.StartMap)
                        patch.map = map.value;
                if (auto.checked !== !!o.Autostart)
                        patch.autostart = auto.checked;
                showAll(await api('PATCH', `/api/instances/${enc(name)}`, patch));
                return 'Settings saved.';
        });

        // The console.
        const con = consoleBox(`Console of ${name}`);
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
                        con.line(`! ${e.message}${e.error ? ` (${e.error})` : ''}`, 'err');
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
                                h('h2', null, 'Console'), con, cmdForm),
                        h('section.card', { 'aria-label': 'Details' },
                                h('h2', null, 'Details'),
                                props,
                                h('div.actions.danger-zone', null,
                                        button('Delete instance', async () => {
                                                if (!confirm(`Delete instance ${name}? Its runtime files are removed.`))
                                                        return;
                                                await api('DELETE', `/api/instances/${enc(name)}`);
                                                notice(`Instance ${name} deleted.`, 'ok', { carry: true });
                                                location.hash = '#/instances';
                                        }, 'danger'))),
                        edit,
                        limits,
                        backups),
        ]);

        stream(`/api/instances/${enc(name)}/log?lines=200`, {
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
        onLive((kind, n) => {
                if (kind === 'instance' && n.Name === name)
                        showAll(n);
                else if (kind === 'instance-removed' && n.Name === name)
                        notice(`Instance ${name} was deleted.`, 'error');
                else if (kind === 'reset')
                        api('GET', `/api/instances/${enc(name)}`).then(showAll, showError);
        });
        await blueprintOptions(bp, o.Blueprint);
}
