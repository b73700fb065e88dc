// SPDX-License-Identifier: GPL-2.0-or-later
// One overlay: its facts, Build/Wipe/Delete, its job, and its type's
// editor (editors/<type>.js).

import * as archive from '../editors/archive.js';
import * as script from '../editors/script.js';
import * as workshop from '../editors/workshop.js';
import { api, enc } from '../lib/api.js';
import { append, badge, button, dl, downloadLink, h, pageHeader, setBadge } from '../lib/dom.js';
import { fmtBytes, fmtTime, jobFor, jobIdOf } from '../lib/format.js';
import { cache, onLive } from '../lib/live.js';
import { notice, showError } from '../lib/notices.js';
import { jobPanel } from './job.js';

// One editor module per overlay type.
export const EDITORS = { workshop, archive, script };

export async function pageOverlay(main, name) {
        let o = await api('GET', `/api/overlays/${enc(name)}`);
        const state = badge(o.State);
        const props = dl([['Type', 'Type'], ['Owner', 'Owner'], ['Size', 'Size'], ['LastBuild', 'Last build'], ['Created', 'Created']]);
        const show = (n) => {
                o = n;
                setBadge(state, n.State);
                props.values.Type.textContent = n.Type;
                props.values.Owner.textContent = n.Owner;
                props.values.Size.textContent = fmtBytes(n.Size);
                props.values.LastBuild.textContent = fmtTime(n.LastBuild);
                props.values.Created.textContent = fmtTime(n.Created);
        };
        show(o);
        // The overlay's jobs are those whose Target is overlay:<Id>.
        const target = 'overlay:' + o.Id;
        const job = jobPanel();
        const startJob = (answer, what) => {
                const id = jobIdOf(answer);
                if (id)
                        job.follow(id);
                return `${what} queued.`;
        };

        // The source editor for the overlay's type.
        const source = (EDITORS[o.Type] || archive).editor(name, o, { show, startJob });

        append(main, [
                pageHeader(name, state),
                h('div.layout', null,
                        h('section.card', { 'aria-label': 'Overlay' },
                                props,
                                h('div.actions', null,
                                        button('Build', async () => startJob(await api('POST', `/api/overlays/${enc(name)}/build`, { options: {} }), 'Build'), 'primary'),
                                        // What an archive or script overlay holds cannot be
                                        // fetched again from anywhere else (a Workshop one is
                                        // rebuilt from Steam).
                                        (o.Type === 'archive' || o.Type === 'script') &&
                                                downloadLink('Download content', `/api/overlays/${enc(name)}/export`, `${name}.tar.zst`),
                                        button('Wipe', async () => {
                                                if (!confirm(`Wipe the content of ${name}?`))
                                                        return;
                                                return startJob(await api('POST', `/api/overlays/${enc(name)}/wipe`), 'Wipe');
                                        }),
                                        button('Delete overlay', async () => {
                                                if (!confirm(`Delete overlay ${name}?`))
                                                        return;
                                                await api('DELETE', `/api/overlays/${enc(name)}`);
                                                notice(`Overlay ${name} deleted.`, 'ok', { carry: true });
                                                location.hash = '#/overlays';
                                        }, 'danger'))),
                        job, source),
        ]);
        onLive((kind, n) => {
                if (kind === 'overlay' && n.Name === name)
                        show(n);
                else if (kind === 'reset')
                        api('GET', `/api/overlays/${enc(name)}`).then(show, showError);
                else if (kind === 'job' && n.Target === target && String(n.Id) !== job.jobId() &&
                         (!job.jobId() || Number(n.Id) > Number(job.jobId())))
                        job.follow(n.Id);  // a newer job on it, started here or elsewhere
        });
        // The job running on it, else its most recent one.
        try {
                const { jobs } = await api('GET', `/api/jobs?target=${enc(target)}&limit=10`);
                const found = jobFor([...cache.jobs.values(), ...jobs], target);
                if (found && !job.jobId())
                        job.follow(found.Id);
        } catch (e) {
                showError(e);
        }
}
