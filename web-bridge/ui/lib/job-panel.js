// SPDX-License-Identifier: GPL-2.0-or-later
// The job panel of a page that starts jobs (the overlay page): the job's
// state, progress (indeterminate for kinds that report none, such as a
// script build, rather than a "0 %" that never moves), message and live
// log. follow(id) switches it to another job; onChange(fn) tells the page
// about every change, so that it can offer Cancel and lock its buttons
// while the job is active.

import { api, enc } from './api.js';
import { badge, clear, consoleBox, h, progressBar, setBadge } from './dom.js';
import { fmtTime, jobActive } from './format.js';
import { onLive, stream } from './live.js';
import { jobHasProgress } from './overlay-util.js';

export function jobPanel() {
        const bar = progressBar('Job progress');
        const meter = bar.querySelector('progress');
        const pct = bar.querySelector('.pct');
        const state = badge('');
        const msg = h('p.job-message', { 'aria-live': 'polite' });
        const link = h('a');
        const kind = h('span.job-kind');
        const when = h('small.job-when');
        const con = consoleBox('Job log');
        const panel = h('section.card.job-panel', { 'aria-label': 'Job' },
                h('div.card-head', null, h('h2', null, 'Job ', link, ' ', kind), state), when, bar, msg, con);
        const listeners = [];
        let es = null;
        let jobId = null;
        let job = null;
        // A job only moves forward (queued, running, an end state): an answer
        // to a GET that crossed newer events must not take it back.
        const stage = (j) => (j.State === 'queued' ? 0 : j.State === 'running' ? 1 : 2);
        const show = (j) => {
                if (job && String(job.Id) === String(j.Id) && stage(j) < stage(job))
                        return;
                job = j;
                setBadge(state, j.State);
                kind.textContent = j.Kind || '';
                if (jobActive(j) && !jobHasProgress(j.Kind)) {
                        // No value: the browser draws a bar that moves without
                        // claiming how far the job is.
                        meter.removeAttribute('value');
                        pct.textContent = j.State === 'queued' ? 'queued' : 'working…';
                } else
                        bar.set(j.State === 'succeeded' ? 1 : j.Progress);
                msg.textContent = j.Message || '';
                when.textContent = j.Finished ? `Finished ${fmtTime(j.Finished)}` :
                        j.Started ? `Started ${fmtTime(j.Started)}` : j.Created ? `Queued ${fmtTime(j.Created)}` : '';
                for (const fn of listeners)
                        fn(j);
        };
        panel.follow = (id) => {
                jobId = String(id);
                job = null;
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
                                // The final state, if the event stream has not told yet.
                                if (job && jobActive(job))
                                        api('GET', `/api/jobs/${enc(jobId)}`).then(show, () => {});
                        },
                });
                api('GET', `/api/jobs/${enc(jobId)}`).then((j) => {
                        if (String(j.Id) === jobId)
                                show(j);
                }, () => {});
        };
        panel.jobId = () => jobId;
        panel.job = () => job;
        panel.onChange = (fn) => listeners.push(fn);
        onLive((k, j) => {
                if (k === 'job' && String(j.Id) === jobId)
                        show(j);
        });
        panel.hidden = true;
        return panel;
}
