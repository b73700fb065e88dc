// SPDX-License-Identifier: GPL-2.0-or-later
// The file browser: a read-only look inside an overlay or an instance's
// upper/ (what its server wrote), through GET /api/{overlays,instances}/
// NAME/files?path= and .../file?path= (web-bridge/API.md). Folders open in
// place with breadcrumbs back; files download; symbolic links are shown
// with where they are, never followed (the daemon refuses to). Used by the
// overlay page and the instance page: filesCard('overlay' | 'instance', name).

import { ApiError, api, enc } from './api.js';
import { button, clear, h } from './dom.js';
import { fmtBytes, fmtTime } from './format.js';
import { showError } from './notices.js';
import { dirSummary, filterEntries, joinPath, pathCrumbs, plural, sortEntries } from './paths.js';

const SHOWN_STEP = 500;        // rows drawn at once; "Show more" draws more

const TYPE_LABEL = { dir: 'folder', file: 'file', symlink: 'link', other: 'other' };

// filesCard(kind, name, opts): the card. opts.title (default "Files"),
// opts.unavailable (a function: a sentence when the files cannot be read
// now, then no request is made), opts.intro (a sentence under the title), opts.emptyText (what an empty
// top says), opts.missingText (what a 404 of the top says: an instance
// whose server never ran has no upper/ yet); an instance's have defaults.
export function filesCard(kind, name, opts) {
        const o = Object.assign(kind === 'instance' ? {
                intro: 'What the server wrote (its own layer above the blueprint\'s overlays), read-only. Folders open in place; a file downloads.',
                emptyText: 'The server has not written anything yet.',
                missingText: 'Nothing to show: the server has not run yet (or, with a disk limit, it is stopped).',
        } : {}, opts || {});
        const base = `/api/${kind === 'instance' ? 'instances' : 'overlays'}/${enc(name)}`;
        const topLabel = kind === 'instance' ? 'upper' : name;
        let path = '';
        let entries = [];
        let shown = SHOWN_STEP;
        let seq = 0;

        const crumbs = h('nav.crumbs', { 'aria-label': 'Folder' });
        const summary = h('p.files-summary', { 'aria-live': 'polite' });
        const filter = h('input.files-filter', { type: 'search', name: 'filter', placeholder: 'Filter this folder', 'aria-label': 'Filter this folder', autocapitalize: 'none', spellcheck: 'false' });
        const tbody = h('tbody');
        const table = h('table.files', null,
                h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Name'), h('th.num', { scope: 'col' }, 'Size'),
                        h('th', { scope: 'col' }, 'Modified'))),
                tbody);
        const note = h('p.empty-note');
        const more = button('Show more', () => {
                shown += SHOWN_STEP;
                draw();
        });
        more.hidden = true;
        const refresh = button('Refresh', () => open(path), 'secondary', { 'aria-label': 'Refresh the file list' });
        const card = h('section.card.files-card', { 'aria-label': o.title || 'Files' },
                h('div.card-head', null, h('h2', null, o.title || 'Files'), refresh),
                o.intro ? h('p.hint', null, o.intro) : null,
                crumbs, h('div.files-tools', null, filter), summary,
                h('div.table-box', null, table), note, more);

        const drawCrumbs = () => {
                clear(crumbs);
                const list = pathCrumbs(path, topLabel);
                list.forEach((c, i) => {
                        if (i)
                                crumbs.append(h('span.crumb-sep', { 'aria-hidden': 'true' }, '/'));
                        if (i === list.length - 1)
                                crumbs.append(h('span.crumb.current', { 'aria-current': 'location' }, c.label));
                        else
                                crumbs.append(button(c.label, () => open(c.path), 'link.crumb', { 'aria-label': `Open ${i ? c.label : 'the top folder'}` }));
                });
        };

        const row = (e) => {
                const full = joinPath(path, e.name);
                let nameCell;
                if (e.type === 'dir')
                        nameCell = button(h('span', null, h('span.ficon.dir', { 'aria-hidden': 'true' }), e.name),
                                () => open(full), 'link.fname', { 'aria-label': `Open folder ${e.name}` });
                else if (e.type === 'file')
                        nameCell = h('a.fname', { href: `${base}/file?path=${enc(full)}`, download: e.name, title: `Download ${e.name}` },
                                h('span.ficon.file', { 'aria-hidden': 'true' }), e.name);
                else
                        nameCell = h('span.fname.inert', { title: e.type === 'symlink' ? 'A symbolic link: shown, never followed' : 'Not a regular file' },
                                h('span.ficon.' + (e.type === 'symlink' ? 'link' : 'other'), { 'aria-hidden': 'true' }), e.name,
                                h('small.ftype', null, e.type === 'symlink' ? ' symbolic link, not followed' : ` ${TYPE_LABEL[e.type] || e.type}`));
                return h('tr', { 'data-type': e.type, 'data-name': e.name },
                        h('td.name', { 'data-label': TYPE_LABEL[e.type] || e.type }, nameCell),
                        h('td.num', { 'data-label': 'Size' }, e.type === 'file' ? fmtBytes(e.size) : '—'),
                        h('td', { 'data-label': 'Modified' }, fmtTime(e.mtime)));
        };

        const draw = (truncated) => {
                clear(tbody);
                const list = filterEntries(entries, filter.value);
                for (const e of list.slice(0, shown))
                        tbody.append(row(e));
                more.hidden = list.length <= shown;
                if (!more.hidden)
                        more.textContent = `Show more (${list.length - shown} not shown)`;
                table.hidden = list.length === 0;
                const s = dirSummary(entries);
                const parts = [];
                if (s.dirs)
                        parts.push(plural(s.dirs, 'folder'));
                if (s.files)
                        parts.push(`${plural(s.files, 'file')} (${fmtBytes(s.bytes)})`);
                if (s.links)
                        parts.push(plural(s.links, 'link'));
                if (s.other)
                        parts.push(plural(s.other, 'other entry', 'other entries'));
                summary.textContent = parts.join(', ');
                if (truncated !== undefined)
                        card.truncated = truncated;
                note.textContent = !entries.length ? (path ? 'This folder is empty.' : (o.emptyText || 'Nothing here yet.')) :
                        !list.length ? 'No name in this folder matches the filter.' :
                        card.truncated ? 'This folder holds more entries than can be listed: only the first 10000 by name are shown.' : '';
                note.hidden = !note.textContent;
        };

        const open = async (p) => {
                const mine = ++seq;
                const why = o.unavailable ? o.unavailable() : null;
                if (why) {
                        // Known beforehand: no request that can only fail.
                        path = '';
                        entries = [];
                        drawCrumbs();
                        draw(false);
                        note.textContent = why;
                        note.hidden = false;
                        summary.textContent = '';
                        return;
                }
                card.setAttribute('aria-busy', 'true');
                summary.textContent = 'Loading…';
                try {
                        const r = await api('GET', `${base}/files?path=${enc(p)}`);
                        if (mine !== seq)
                                return;
                        path = p;
                        entries = sortEntries(r.entries);
                        shown = SHOWN_STEP;
                        filter.value = '';
                        drawCrumbs();
                        draw(!!r.truncated);
                } catch (e) {
                        if (mine !== seq)
                                return;
                        if (e instanceof ApiError && e.status === 404 && p === '') {
                                path = '';
                                entries = [];
                                drawCrumbs();
                                draw(false);
                                note.textContent = o.missingText || 'Nothing here yet.';
                                summary.textContent = '';
                                return;
                        }
                        summary.textContent = '';
                        showError(e);
                } finally {
                        if (mine === seq)
                                card.removeAttribute('aria-busy');
                }
        };
        filter.addEventListener('input', () => {
                shown = SHOWN_STEP;
                draw();
        });
        card.open = open;
        card.path = () => path;
        drawCrumbs();
        open('');
        return card;
}
