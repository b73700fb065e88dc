// SPDX-License-Identifier: GPL-2.0-or-later
// The job list.

import { api, enc } from '../lib/api.js';
import { append, badge, h, keyedList, pageHeader, progressBar, setBadge } from '../lib/dom.js';
import { noteOverlays, onLive, overlayNames } from '../lib/live.js';
import { showError } from '../lib/notices.js';

// A job's Target as a node: "overlay NAME" (a link) where the overlay is
// known, else the Target as it is.
export function targetNode(target) {
        const m = /^overlay:([0-9]+)$/.exec(target || '');
        const name = m ? overlayNames.get(m[1]) : undefined;
        if (name)
                return h('a', { href: '#/overlays/' + enc(name), title: target }, 'overlay ' + name);
        return document.createTextNode(target || '—');
}

function jobCard(j) {
        const state = badge(j.State);
        const bar = progressBar(`Progress of job ${j.Id}`);
        const msg = h('dd');
        const card = h('li.card.job', { 'data-id': String(j.Id) },
                h('div.card-head', null, h('h2', null, h('a', { href: '#/jobs/' + enc(String(j.Id)) }, `#${j.Id} ${j.Kind}`)), state),
                h('dl.facts', null,
                        h('div', null, h('dt', null, 'Target'), h('dd', null, targetNode(j.Target))),
                        h('div', null, h('dt', null, 'Owner'), h('dd', null, j.Owner || '—')),
                        h('div.wide', null, h('dt', null, 'Message'), msg)),
                bar);
        card.update = (n) => {
                setBadge(state, n.State);
                bar.set(n.State === 'succeeded' ? 1 : n.Progress);
                msg.textContent = n.Message || '—';
        };
        card.update(j);
        return card;
}

export async function pageJobs(main) {
        const ul = h('ul.cards', { 'aria-label': 'Jobs' });
        // Newest first: sort by negative id.
        const list = keyedList(ul, jobCard, (j) => -Number(j.Id), 'No jobs.');
        append(main, [pageHeader('Jobs'), ul]);
        const load = async () => {
                // The overlays first, so that the cards name their targets.
                const [page, overlays] = await Promise.all([api('GET', '/api/jobs'), api('GET', '/api/overlays').catch(() => [])]);
                noteOverlays(overlays);
                list.replace(page.jobs);
        };
        onLive((kind, j) => {
                if (kind === 'job')
                        list.set(j);
                else if (kind === 'job-removed')
                        list.remove(-Number(j.Id));
                else if (kind === 'reset')
                        load().catch(showError);
        });
        await load();
}
