// SPDX-License-Identifier: GPL-2.0-or-later
// The Limits card of the instance page.

import { api, enc } from '../lib/api.js';
import { dl, field, h } from '../lib/dom.js';
import { onSubmit } from '../lib/form.js';
import { LIMITS, LIMIT_INFINITY, fmtBytes, fmtLimit, parseLimit } from '../lib/format.js';

// The limits card of an instance page: the effective limits (marked when
// they follow the default), the current use, and a form to change them.
export function limitsCard(name) {
        const rows = dl(LIMITS.map(([key, , label]) => [key, label]));
        const use = dl([['memory', 'Memory used'], ['tasks', 'Tasks'], ['disk', 'Disk used'], ['source', 'Measured by']]);
        const inputs = {};
        const form = h('form.card.limits', { 'aria-label': 'Limits' },
                h('h2', null, 'Limits'),
                rows,
                h('h3', null, 'Use'),
                use,
                h('div.grid', null, LIMITS.map(([key, , label, kind]) => {
                        inputs[key] = h('input', {
                                name: key, autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false',
                                placeholder: 'default', inputmode: kind === 'count' ? 'numeric' : null,
                        });
                        return field(label, inputs[key]);
                })),
                h('p.hint', null, 'Values like 2G, 150%, 256, default or infinity. They apply at the next start; ' +
                        'above the ceilings of left4me.conf only an admin may set them.'),
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Save limits')));
        let last = null;
        // The form shows what is set: "default" or the value.
        const fill = (o) => {
                for (const [key, prop, , kind] of LIMITS)
                        inputs[key].value = (o.DefaultLimits || []).includes(key) ? 'default' : fmtLimit(kind, o[prop]);
        };
        form.show = (o) => {
                const first = last === null;
                last = o;
                for (const [key, prop, , kind] of LIMITS) {
                        const dflt = (o.DefaultLimits || []).includes(key);
                        rows.values[key].textContent = fmtLimit(kind, o[prop]) + (dflt ? ' (default)' : '');
                }
                if (first)
                        fill(o);
        };
        const against = (v, max, fmt) => {
                if (typeof v !== 'number')
                        return '—';
                return max >= LIMIT_INFINITY ? fmt(v) : `${fmt(v)} of ${fmt(max)}`;
        };
        form.showUsage = (u) => {
                const v = use.values;
                v.memory.textContent = u.running ? against(u.memory_current, u.memory_max, fmtBytes) : '— (stopped)';
                v.tasks.textContent = u.running ? against(u.tasks_current, u.tasks_max, String) : '— (stopped)';
                v.disk.textContent = against(u.disk_used, u.disk_max, fmtBytes);
                v.source.textContent = u.usage_source === 'cgroup.threads'
                        ? 'the unit\'s threads (no cgroup controllers: no memory figure)'
                        : u.usage_source === 'systemd' ? 'systemd' : '—';
        };
        form.refresh = async () => form.showUsage(await api('GET', `/api/instances/${enc(name)}/usage`));
        onSubmit(form, async () => {
                const limits = {};
                for (const [key, prop, label, kind] of LIMITS) {
                        const v = parseLimit(label, kind, inputs[key].value);
                        const isDefault = (last.DefaultLimits || []).includes(key);
                        const same = v === 'default' ? isDefault
                                : !isDefault && (v === 'infinity' ? last[prop] >= LIMIT_INFINITY : v === last[prop]);
                        if (!same)
                                limits[key] = v;
                }
                const o = await api('PUT', `/api/instances/${enc(name)}/limits`, { limits });
                last = null;
                form.show(o);
                return 'Limits saved. They apply at the next start.';
        });
        return form;
}
