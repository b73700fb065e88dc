// SPDX-License-Identifier: GPL-2.0-or-later
// One job, and the job panel (progress, state, live log) that the overlay
// page shows too.

import { api, enc } from '../lib/api.js';
import { append, badge, button, clear, consoleBox, dl, h, pageHeader, progressBar, setBadge } from '../lib/dom.js';
import { fmtTime, jobActive } from '../lib/format.js';
import { parseJobFilter } from '../lib/jobquery.js';
import { noteOverlays, onLive, stream } from '../lib/live.js';
import { jobsHash, targetNode } from './jobs.js';

// jobPanel(): a job's progress bar, state, message and live log; follow(id)
// switches it to another job.
export function jobPanel() {
        const bar = progressBar('Job progress');
        const state = badge('');
        const msg = h('p.job-message', { 'aria-live': 'polite' });
        const link = h('a');
        const con = consoleBox('Job log');
        const panel = h('section.card.job-panel', { 'aria-label': 'Job' },
                h('div.card-head', null, h('h2', null, 'Job ', link), state), bar, msg, con);
        let es = null;
        let jobId = null;
        const show = (j) => {
                setBadge(state, j.State);
                bar.set(j.State === 'succeeded' ? 1 : j.Progress);
                msg.textContent = j.Message || '';
        };
        panel.follow = (id) => {
                jobId = String(id);
                link.href = '#/jobs/' + enc(jobId);
                link.textContent = '#' + jobId;
                clear(con);
                bar.set(0);
                panel.hidden = false;
                if (es)
                        es.close();
                es = stream(`/api/jobs/${enc(jobId)}/log`, {
                        log: (d) => con.line(d.line),
                        end: (d, ev, source) => {
                                source.close();
                                setBadge(state, d.State);
                        },
                });
                api('GET', `/api/jobs/${enc(jobId)}`).then(show, () => {});
        };
        panel.jobId = () => jobId;
        onLive((kind, j) => {
                if (kind === 'job' && String(j.Id) === jobId)
                        show(j);
        });
        panel.hidden = true;
        return panel;
}

export async function pageJob(main, id) {
        const [j, overlays] = await Promise.all([api('GET', `/api/jobs/${enc(id)}`), api('GET', '/api/overlays').catch(() => [])]);
        noteOverlays(overlays);
        const props = dl([['Kind', 'Kind'], ['Target', 'Target'], ['Owner', 'Owner'], ['Created', 'Created'],
                ['Started', 'Started'], ['Finished', 'Finished']]);
        // Cancel only while the job can still be cancelled (queued or running).
        const cancel = button('Cancel job', async () => {
                await api('POST', `/api/jobs/${enc(id)}/cancel`);
                return `Cancelling job ${id}.`;
        }, 'danger');
        const actions = h('div.actions', null, cancel,
                h('a.button', { href: jobsHash(Object.assign(parseJobFilter(''), { target: j.Target })) }, 'Jobs of this target'));
        const show = (n) => {
                props.values.Kind.textContent = n.Kind;
                clear(props.values.Target);
                props.values.Target.append(targetNode(n.Target));
                props.values.Owner.textContent = n.Owner;
                props.values.Created.textContent = fmtTime(n.Created);
                props.values.Started.textContent = fmtTime(n.Started);
                props.values.Finished.textContent = fmtTime(n.Finished);
                cancel.hidden = !jobActive(n);
        };
        show(j);
        const panel = jobPanel();
        append(main, [
                pageHeader(`Job #${j.Id}`),
                h('div.layout', null,
                        h('section.card', { 'aria-label': 'About' }, props, actions),
                        panel),
        ]);
        panel.follow(j.Id);
        onLive((kind, n) => {
                if (kind === 'job' && String(n.Id) === String(j.Id))
                        show(n);
        });
}
