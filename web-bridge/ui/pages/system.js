// SPDX-License-Identifier: GPL-2.0-or-later
// The system page: what `l4mctl status` shows (GET /api/status: version,
// counts, the configuration's problems, storage per owner), the game, and
// the shared Workshop cache (`l4mctl cache list`/`prune`).

import { api } from '../lib/api.js';
import { append, button, clear, dl, h, pageHeader } from '../lib/dom.js';
import { fmtBytes, fmtTime } from '../lib/format.js';
import { showError } from '../lib/notices.js';
import { gameStatus, quotaText } from '../lib/status-text.js';

// A cache file's name is "<time_updated>.vpk" (µs: s × 10^6), or
// "….vpk.part" while it downloads.
function cacheFileTime(file) {
        const m = /^([0-9]+)\.vpk$/.exec(file || '');
        return m ? fmtTime(Number(m[1]) * 1e6) : (/\.part$/.test(file || '') ? 'downloading' : '—');
}

function storageRow(s) {
        const limited = s.quota !== null && s.quota !== undefined && s.quota < 2 ** 63 && s.quota > 0;
        const meter = limited ? h('meter', { min: '0', max: String(s.quota), value: String(Math.min(s.used, s.quota)),
                high: String(s.quota * 0.9), 'aria-label': `Storage of ${s.owner}` }) : null;
        return h('tr', null,
                h('td', { 'data-label': 'Owner' }, s.owner),
                h('td', { 'data-label': 'Overlays hold' }, h('div.usage', null, quotaText(s.used, s.quota, fmtBytes), meter)));
}

export async function pageSystem(main) {
        const props = dl([['version', 'left4med version'], ['game', 'Game'], ['overlays', 'Overlays'],
                ['instances', 'Instances']]);
        const warnings = h('div.config-warnings');
        const storage = h('tbody');
        const cacheBody = h('tbody');
        const cacheSum = h('p.hint');

        const loadStatus = async () => {
                const [s, m] = await Promise.all([api('GET', '/api/status'), api('GET', '/api/manager')]);
                const v = props.values;
                v.version.textContent = s.version || '—';
                const g = gameStatus(m);
                clear(v.game).append(g.installed ? `installed, build ${m.GameBuildId || 'unknown'}` : 'not installed: ',
                        g.installed ? '' : h('a', { href: '#/instances' }, 'install it from the dashboard'));
                v.overlays.textContent = String(s.overlays);
                v.instances.textContent = `${s.instances} (${s.instances_running} running)`;
                clear(warnings);
                const w = s.config_warnings || [];
                if (!w.length)
                        warnings.append(h('p.ok-note', null, 'The configuration has no problems.'));
                else
                        warnings.append(h('p.bad-note', null, `The configuration has ${w.length} problem${w.length > 1 ? 's' : ''} ` +
                                '(each key named keeps its default or an earlier value):'),
                        h('ul.warning-list', null, w.map((x) => h('li', null, h('code', null, x)))));
                clear(storage);
                for (const r of s.storage || [])
                        storage.append(storageRow(r));
                if (!(s.storage || []).length)
                        storage.append(h('tr', null, h('td', { colspan: '2' }, 'No overlays hold any storage yet.')));
        };
        const loadCache = async () => {
                const rows = await api('GET', '/api/cache');
                clear(cacheBody);
                let bytes = 0;
                let unused = 0;
                for (const c of rows) {
                        bytes += c.size || 0;
                        if (!c.overlays)
                                unused++;
                        cacheBody.append(h('tr', null,
                                h('td', { 'data-label': 'Item' }, String(c.item)),
                                h('td', { 'data-label': 'Updated' }, cacheFileTime(c.file)),
                                h('td', { 'data-label': 'Size' }, fmtBytes(c.size)),
                                h('td', { 'data-label': 'Used by' }, c.overlays ? `${c.overlays} overlay${c.overlays > 1 ? 's' : ''}` : 'no overlay')));
                }
                if (!rows.length)
                        cacheBody.append(h('tr', null, h('td', { colspan: '4' }, 'The cache is empty.')));
                cacheSum.textContent = rows.length
                        ? `${rows.length} file${rows.length > 1 ? 's' : ''}, ${fmtBytes(bytes)}; ` +
                                (unused ? `${unused} not used by any overlay (Prune removes ${unused > 1 ? 'them' : 'it'}).` : 'every one in use.')
                        : 'Workshop builds keep the files they download here, shared by every overlay.';
        };

        const prune = button('Prune unused files', async () => {
                if (!confirm('Remove every cached Workshop file that no overlay\'s last build uses?'))
                        return null;
                const r = await api('POST', '/api/cache/prune');
                await loadCache();
                return `Pruned ${r.files} file${r.files === 1 ? '' : 's'} (${fmtBytes(r.bytes)}).`;
        }, 'danger');

        append(main, [
                pageHeader('System'),
                h('div.layout.system', null,
                        h('section.card', { 'aria-label': 'Status' },
                                h('h2', null, 'Status'), props, warnings),
                        h('section.card', { 'aria-label': 'Storage' },
                                h('h2', null, 'Storage of overlays'),
                                h('div.table-box', null, h('table.stack', null,
                                        h('thead', null, h('tr', null, h('th', null, 'Owner'), h('th', null, 'Overlays hold'))),
                                        storage))),
                        h('section.card.cache-card', { 'aria-label': 'Workshop cache' },
                                h('div.card-head', null, h('h2', null, 'Workshop cache'), prune),
                                cacheSum,
                                h('div.table-box', null, h('table.stack', null,
                                        h('thead', null, h('tr', null, h('th', null, 'Item'), h('th', null, 'Updated'),
                                                h('th', null, 'Size'), h('th', null, 'Used by'))),
                                        cacheBody)))),
        ]);
        await Promise.all([loadStatus(), loadCache().catch(showError)]);
}
