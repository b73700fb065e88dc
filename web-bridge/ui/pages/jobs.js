// SPDX-License-Identifier: GPL-2.0-or-later
// The job list: one page of GET /api/jobs at a time (newest first), by
// target, owner, kind and state, with "Older" following the cursor the
// daemon answers. The filter and the page are in the address
// (#/jobs?state=active&before=120), so a reload or a link shows the same
// list. The visible page follows the event stream: its jobs change in
// place, a new one that fits the filter comes on top of the first page.

import { api, enc, session } from '../lib/api.js';
import { append, badge, button, clear, field, h, keyedList, pageHeader, progressBar, setBadge } from '../lib/dom.js';
import { fmtTime, jobActive } from '../lib/format.js';
import { JOB_KINDS, JOB_PAGE_SIZES, JOB_STATES, jobFilterQuery, jobFiltered, jobMatches, jobsPath, parseJobFilter } from '../lib/jobquery.js';
import { noteOverlays, onLive, overlayNames } from '../lib/live.js';
import { showError } from '../lib/notices.js';

// A job's Target as a node: "overlay NAME" (a link) where the overlay is
// known, "instance NAME" (a link), "the game", else the Target as it is.
export function targetNode(target) {
        const m = /^overlay:([0-9]+)$/.exec(target || '');
        const name = m ? overlayNames.get(m[1]) : undefined;
        if (name)
                return h('a', { href: '#/overlays/' + enc(name), title: target }, 'overlay ' + name);
        const i = /^instance:(.+)$/.exec(target || '');
        if (i)
                return h('a', { href: '#/instances/' + enc(i[1]), title: target }, 'instance ' + i[1]);
        if (target === 'game')
                return document.createTextNode('the game');
        return document.createTextNode(target || '—');
}

// The hash of the jobs page of filter f.
export function jobsHash(f) {
        const q = jobFilterQuery(f);
        return '#/jobs' + (q ? '?' + q : '');
}

function cancelJob(id) {
        return api('POST', `/api/jobs/${enc(String(id))}/cancel`).then(() => `Cancelling job ${id}.`);
}

// An owner as words: "web:name" may wrap after its colon, not inside the
// name (a narrow column broke "web:webadmin" as "web:webadmi / n").
function ownerNode(owner) {
        const colon = (owner || '').indexOf(':');
        if (colon < 0)
                return owner || '—';
        return [owner.slice(0, colon + 1), h('wbr'), owner.slice(colon + 1)];
}

function jobCard(j) {
        const state = badge(j.State);
        const bar = progressBar(`Progress of job ${j.Id}`);
        const msg = h('dd');
        const when = h('dd');
        const cancel = button('Cancel', () => cancelJob(j.Id), 'danger', { 'aria-label': `Cancel job ${j.Id}` });
        const card = h('li.card.job', { 'data-id': String(j.Id) },
                h('div.card-head', null, h('h2', null, h('a', { href: '#/jobs/' + enc(String(j.Id)) }, `#${j.Id} ${j.Kind}`)), state),
                h('dl.facts', null,
                        h('div', null, h('dt', null, 'Target'), h('dd', null, targetNode(j.Target))),
                        h('div', null, h('dt', null, 'Owner'), h('dd', null, ownerNode(j.Owner))),
                        h('div', null, h('dt', null, 'Created'), when),
                        h('div.wide', null, h('dt', null, 'Message'), msg)),
                bar,
                h('div.actions.job-actions', null, cancel));
        card.update = (n) => {
                setBadge(state, n.State);
                bar.set(n.State === 'succeeded' ? 1 : n.Progress);
                msg.textContent = n.Message || '—';
                when.textContent = fmtTime(n.Created || j.Created);
                // Only a queued or running job can be cancelled.
                cancel.parentElement.hidden = !jobActive(n);
        };
        card.update(j);
        return card;
}

// The target filter's choices: the game, the overlays, the instances, and
// the current value if it is none of them (a deleted overlay's jobs).
async function targetChoices(select, current) {
        const [overlays, instances] = await Promise.all([
                api('GET', '/api/overlays').catch(() => []),
                api('GET', '/api/instances').catch(() => []),
        ]);
        noteOverlays(overlays);
        clear(select);
        const opts = [['', 'Any target'], ['game', 'The game']];
        for (const o of overlays)
                opts.push([`overlay:${o.Id}`, `Overlay ${o.Name}`]);
        for (const i of instances)
                opts.push([`instance:${i.Name}`, `Instance ${i.Name}`]);
        if (current && !opts.some(([v]) => v === current))
                opts.push([current, current]);
        for (const [v, label] of opts)
                select.append(h('option', { value: v }, label));
        select.value = current || '';
}

export async function pageJobs(main) {
        let f = parseJobFilter(location.hash.split('?')[1] || '');
        // The cursors of the newer pages seen, to go back to them.
        const newer = [];
        let next = 0;
        const shown = new Set();

        const ul = h('ul.cards.job-list', { 'aria-label': 'Jobs' });
        // Newest first: sorted by negative id.
        const list = keyedList(ul, jobCard, (j) => -Number(j.Id), 'No jobs.');

        const target = h('select', { name: 'target' });
        const owner = h('input', { name: 'owner', list: 'job-owners', autocapitalize: 'none', spellcheck: 'false', placeholder: 'web:name' });
        const owners = h('datalist', { id: 'job-owners' });
        const kind = h('select', { name: 'kind' }, h('option', { value: '' }, 'Any kind'),
                JOB_KINDS.map((k) => h('option', { value: k }, k)));
        const state = h('select', { name: 'state' }, JOB_STATES.map(([v, label]) => h('option', { value: v }, label)));
        const limit = h('select', { name: 'limit' }, JOB_PAGE_SIZES.map((n) => h('option', { value: String(n) }, `${n} a page`)));
        const clearBtn = h('button', { type: 'button' }, 'Clear filters');
        // Open on a desktop; on a phone folded unless a filter is set (the
        // list first).
        const filterTitle = h('summary', null, 'Filters');
        const filterBox = h('details.filter-box', { open: window.matchMedia('(min-width: 720px)').matches || jobFiltered(f) },
                filterTitle,
                h('div.filter-grid', null,
                        field('Target', target), field('Kind', kind), field('State', state),
                        field('Owner', owner), field('Shown', limit)),
                owners,
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Filter'), clearBtn));
        const form = h('form.card.job-filter', { 'aria-label': 'Filter the jobs', role: 'search' }, filterBox);
        const summary = h('p.page-summary', { 'aria-live': 'polite' });
        const newest = h('button', { type: 'button' }, 'Newest');
        const newerBtn = h('button', { type: 'button' }, '← Newer');
        const older = h('button', { type: 'button' }, 'Older →');
        const pager = h('nav.pager', { 'aria-label': 'Pages of jobs' }, newest, newerBtn, older);

        const fill = () => {
                const set = ['target', 'owner', 'kind', 'state'].filter((k) => f[k]).length;
                filterTitle.textContent = set ? `Filters (${set} set)` : 'Filters';
                kind.value = f.kind;
                state.value = f.state;
                owner.value = f.owner;
                limit.value = String(f.limit);
                if ([...target.options].some((o) => o.value === f.target))
                        target.value = f.target;
        };
        const pagerState = () => {
                newest.hidden = !f.before;
                newerBtn.hidden = !f.before;
                newerBtn.disabled = !newer.length;
                older.hidden = !next;
                pager.hidden = !f.before && !next;
                const ids = [...shown].sort((a, b) => b - a);
                if (!ids.length)
                        summary.textContent = jobFiltered(f) ? 'No job fits these filters.' : (f.before ? 'No older jobs.' : '');
                else
                        summary.textContent = `Jobs #${ids[0]} to #${ids[ids.length - 1]}` +
                                (f.before ? ', older ones' : ', the newest') + (jobFiltered(f) ? ' that fit the filters' : '') +
                                (next ? '; there are older ones.' : '.');
        };
        const load = async () => {
                main.setAttribute('aria-busy', 'true');
                try {
                        const r = await api('GET', jobsPath(f));
                        next = r.next || 0;
                        shown.clear();
                        for (const j of r.jobs)
                                shown.add(Number(j.Id));
                        list.replace(r.jobs);
                        for (const j of r.jobs)
                                if (j.Owner && ![...owners.options].some((o) => o.value === j.Owner))
                                        owners.append(h('option', { value: j.Owner }));
                        pagerState();
                        head.hidden = !r.jobs.length;
                } finally {
                        main.removeAttribute('aria-busy');
                }
        };
        // go(nf): shows the list of nf, as a new entry of the history (Back
        // returns to the previous list).
        const go = async (nf, push) => {
                f = nf;
                if (push !== false)
                        history.pushState(null, '', jobsHash(f));
                fill();
                await load();
        };
        const fromForm = () => Object.assign(parseJobFilter(''), {
                target: target.value, owner: owner.value.trim(), kind: kind.value, state: state.value,
                limit: Number(limit.value),
        });
        form.addEventListener('submit', (ev) => {
                ev.preventDefault();
                newer.length = 0;
                go(fromForm()).catch(showError);
        });
        // A choice in a list applies at once; the owner on Filter or Enter.
        for (const s of [target, kind, state, limit])
                s.addEventListener('change', () => {
                        newer.length = 0;
                        go(fromForm()).catch(showError);
                });
        clearBtn.addEventListener('click', () => {
                newer.length = 0;
                go(parseJobFilter('')).catch(showError);
        });
        older.addEventListener('click', () => {
                newer.push(f.before);
                go(Object.assign({}, f, { before: next })).then(() => older.hidden || older.focus(), showError);
        });
        newerBtn.addEventListener('click', () => {
                const before = newer.pop() || 0;
                go(Object.assign({}, f, { before })).catch(showError);
        });
        newest.addEventListener('click', () => {
                newer.length = 0;
                go(Object.assign({}, f, { before: 0 })).catch(showError);
        });

        // The columns' titles above the rows (a desktop's; on a phone each
        // card labels its facts).
        const head = h('div.job-list-head', { 'aria-hidden': 'true' }, h('span', null, 'Job and state'),
                h('span.cols', null, h('span', null, 'Target'), h('span', null, 'Owner'), h('span', null, 'Created'), h('span', null, 'Message')),
                h('span', null, 'Progress'), h('span', null, ''));
        append(main, [pageHeader('Jobs'), form, summary, head, ul, pager]);
        fill();

        onLive((k, j) => {
                if (k === 'job') {
                        const id = Number(j.Id);
                        if (shown.has(id)) {
                                if (jobMatches(f, j))
                                        list.set(j);
                                else {
                                        // It no longer fits (an active job that finished).
                                        shown.delete(id);
                                        list.remove(-id);
                                        pagerState();
                                }
                        } else if (!f.before && jobMatches(f, j) && (!shown.size || id > Math.min(...shown))) {
                                // A new job on the first page: on top; the page
                                // keeps its size, the oldest goes to "Older".
                                shown.add(id);
                                list.set(j);
                                if (shown.size > f.limit) {
                                        const last = Math.min(...shown);
                                        shown.delete(last);
                                        list.remove(-last);
                                        next = Math.min(...shown);
                                }
                                pagerState();
                        }
                } else if (k === 'job-removed') {
                        shown.delete(Number(j.Id));
                        list.remove(-Number(j.Id));
                        pagerState();
                } else if (k === 'reset')
                        load().catch(showError);
        });
        await targetChoices(target, f.target);
        if (session.role === 'admin')
                api('GET', '/api/users').then((us) => {
                        for (const u of us)
                                owners.append(h('option', { value: `web:${u.name}` }));
                }, () => {});
        await load();
}
