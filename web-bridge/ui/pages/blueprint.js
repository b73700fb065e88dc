// SPDX-License-Identifier: GPL-2.0-or-later
// One blueprint: its overlays (reordered in place), server.cfg and launch
// arguments, saved together by one PUT /api/blueprints/NAME (all checked
// before any changes: a refused one changes nothing). Unsaved changes are
// marked, can be reverted, and leaving the page with them asks first.

import { api, enc } from '../lib/api.js';
import { append, button, dl, field, h, pageHeader } from '../lib/dom.js';
import { onSubmit } from '../lib/form.js';
import { fmtTime } from '../lib/format.js';
import { guardLeave } from '../lib/leave-guard.js';
import { onLive } from '../lib/live.js';
import { notice } from '../lib/notices.js';
import { sameList, splitArgs } from '../lib/overlay-util.js';
import { overlayListEditor } from './blueprints.js';

export async function pageBlueprint(main, name) {
        let b = await api('GET', `/api/blueprints/${enc(name)}`);
        const editor = overlayListEditor(b.Overlays || []);
        const cfg = h('textarea.code', { name: 'server-cfg', rows: '10', spellcheck: 'false', autocapitalize: 'none' });
        const args = h('input', { name: 'launch-args', autocapitalize: 'none', spellcheck: 'false' });
        const props = dl([['Owner', 'Owner'], ['Created', 'Created'], ['Used', 'Used by']]);
        props.values.Owner.textContent = b.Owner;
        props.values.Created.textContent = fmtTime(b.Created);
        props.values.Used.textContent = '…';

        const dirtyNote = h('span.dirty-note', { 'aria-live': 'polite' });
        const revert = h('button.secondary', { type: 'button' }, 'Revert');
        const save = h('button.primary', { type: 'submit' }, 'Save blueprint');
        const fill = (n) => {
                b = n;
                editor.set(n.Overlays || []);
                cfg.value = n.ServerCfg || '';
                args.value = (n.LaunchArgs || []).join(' ');
                sync();
        };
        const dirty = () => !sameList(editor.value(), b.Overlays || []) || cfg.value !== (b.ServerCfg || '') ||
                !sameList(splitArgs(args.value), b.LaunchArgs || []);
        function sync() {
                const d = dirty();
                dirtyNote.textContent = d ? 'Unsaved changes' : '';
                revert.hidden = !d;
                form.classList.toggle('dirty', d);
        }
        revert.addEventListener('click', () => fill(b));
        editor.onChange(() => sync());
        cfg.addEventListener('input', sync);
        args.addEventListener('input', sync);
        const form = h('form.card', { 'aria-label': 'Blueprint' },
                editor,
                field('server.cfg', cfg, 'the servers\' left4dead2/cfg/server.cfg'),
                field('Launch arguments', args, 'separated by spaces, e.g. -tickrate 60'),
                h('div.actions.save-row', null, save, revert, dirtyNote));
        onSubmit(form, async () => {
                const nb = await api('PUT', `/api/blueprints/${enc(name)}`, {
                        settings: { overlays: editor.value(), server_cfg: cfg.value, launch_args: splitArgs(args.value) },
                });
                fill(nb);
                return 'Blueprint saved. Instances use it from their next start.';
        });
        fill(b);
        guardLeave(dirty, 'Changes to this blueprint are');

        append(main, [
                pageHeader(name),
                h('div.layout', null,
                        h('section.card', { 'aria-label': 'About' }, props,
                                h('div.actions', null, button('Delete blueprint', async () => {
                                        if (!confirm(`Delete blueprint ${name}?`))
                                                return;
                                        await api('DELETE', `/api/blueprints/${enc(name)}`);
                                        notice(`Blueprint ${name} deleted.`, 'ok', { carry: true });
                                        location.hash = '#/blueprints';
                                }, 'danger'))),
                        form),
        ]);
        onLive((kind, n) => {
                // Changed elsewhere: shown unless this page holds changes.
                if (kind === 'blueprint' && n.Name === name && !dirty())
                        fill(n);
        });
        const usedBy = async () => {
                const list = (await api('GET', '/api/instances')).filter((i) => i.Blueprint === name);
                const dd = props.values.Used;
                dd.replaceChildren();
                if (!list.length)
                        dd.textContent = 'no instance';
                list.forEach((i, k) => {
                        if (k)
                                dd.append(', ');
                        dd.append(h('a', { href: '#/instances/' + enc(i.Name) }, i.Name));
                });
        };
        await Promise.all([editor.load(), usedBy().catch(() => {
                props.values.Used.textContent = '—';
        })]);
}
