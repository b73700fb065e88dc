// SPDX-License-Identifier: GPL-2.0-or-later
// One blueprint: its overlays, server.cfg and launch arguments.

import { api, enc } from '../lib/api.js';
import { append, button, dl, field, h, pageHeader } from '../lib/dom.js';
import { onSubmit } from '../lib/form.js';
import { fmtTime } from '../lib/format.js';
import { notice } from '../lib/notices.js';
import { overlayListEditor } from './blueprints.js';

export async function pageBlueprint(main, name) {
        const b = await api('GET', `/api/blueprints/${enc(name)}`);
        const editor = overlayListEditor(b.Overlays || []);
        const cfg = h('textarea.code', { name: 'server-cfg', rows: '10', spellcheck: 'false' });
        cfg.value = b.ServerCfg || '';
        const args = h('input', { name: 'launch-args', autocapitalize: 'none', spellcheck: 'false', value: (b.LaunchArgs || []).join(' ') });
        const props = dl([['Owner', 'Owner'], ['Created', 'Created']]);
        props.values.Owner.textContent = b.Owner;
        props.values.Created.textContent = fmtTime(b.Created);
        const form = h('form.card', { 'aria-label': 'Blueprint' },
                editor,
                field('server.cfg', cfg),
                field('Launch arguments', args, 'separated by spaces, e.g. -tickrate 60'),
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Save blueprint')));
        onSubmit(form, async () => {
                await api('PUT', `/api/blueprints/${enc(name)}/overlays`, { overlays: editor.value() });
                await api('PUT', `/api/blueprints/${enc(name)}/server-cfg`, { text: cfg.value });
                const nb = await api('PUT', `/api/blueprints/${enc(name)}/launch-args`,
                        { args: args.value.split(/\s+/).filter((s) => s.length) });
                if (nb && nb.Overlays)
                        editor.set(nb.Overlays);
                return 'Blueprint saved.';
        });
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
        await editor.load();
}
