// SPDX-License-Identifier: GPL-2.0-or-later
// One overlay: its facts, Build (with an archive overlay's options) or
// Cancel while its job runs, Download, Wipe, Delete; its job with progress
// and log; its type's editor (editors/<type>.js); its files (lib/files.js).
// While a job works on it, what would answer Busy is disabled.

import * as archive from '../editors/archive.js';
import * as script from '../editors/script.js';
import * as workshop from '../editors/workshop.js';
import { api, enc } from '../lib/api.js';
import { append, badge, button, dl, downloadLink, h, pageHeader, setBadge } from '../lib/dom.js';
import { filesCard } from '../lib/files.js';
import { fmtBytes, fmtTime, jobActive, jobFor, jobIdOf } from '../lib/format.js';
import { jobPanel } from '../lib/job-panel.js';
import { cache, onLive } from '../lib/live.js';
import { dropNotices, notice, showError } from '../lib/notices.js';
import { itemsSummary } from '../lib/overlay-util.js';

// One editor module per overlay type.
export const EDITORS = { workshop, archive, script };

const TYPE_LABEL = { workshop: 'Workshop items', archive: 'Archive', script: 'Script' };
const JOB_WORD = { 'workshop-build': 'Build', 'archive-fetch': 'Build', 'script-build': 'Build', 'archive-import': 'Import', 'overlay-wipe': 'Wipe' };

export async function pageOverlay(main, name) {
        let o = await api('GET', `/api/overlays/${enc(name)}`);
        const state = badge(o.State);
        const rows = [['Type', 'Type'], ['Size', 'Size'], ['LastBuild', 'Last build'], ['Owner', 'Owner'], ['Created', 'Created']];
        if (o.Type === 'workshop')
                rows.splice(1, 0, ['Items', 'Items']);
        else if (o.Type === 'archive')
                rows.splice(1, 0, ['Source', 'Source']);
        const props = dl(rows);
        const noticeKey = 'overlay-job';
        const job = jobPanel();
        let source = null;
        const show = (n) => {
                o = n;
                setBadge(state, n.State);
                props.values.Type.textContent = TYPE_LABEL[n.Type] || n.Type;
                props.values.Owner.textContent = n.Owner;
                props.values.Size.textContent = fmtBytes(n.Size);
                props.values.LastBuild.textContent = n.LastBuild ? fmtTime(n.LastBuild) : 'never';
                props.values.Created.textContent = fmtTime(n.Created);
                if (props.values.Items) {
                        const d = itemsSummary(n.WorkshopItemDetails);
                        const count = (n.Items || []).length;
                        props.values.Items.textContent = `${count} listed` + (d.count ? `, ${d.count} in the last build` +
                                (d.problems ? ` (${d.problems} not usable)` : '') : '');
                }
                if (props.values.Source)
                        props.values.Source.textContent = n.SourceUrl || 'none: upload an archive below';
                if (buildBox)
                        buildBox.hidden = !n.SourceUrl;
                if (source && source.update)
                        source.update(n);
                lock();
        };

        // Build, or Cancel while a job runs; Wipe, Delete and the editors'
        // Save buttons disabled meanwhile (the daemon would answer Busy).
        const buildOpts = o.Type === 'archive' ? archive.archiveOptionFields(false) : null;
        // Only an archive overlay with a source builds (fetches) an archive.
        const buildBox = buildOpts && h('details.options', null, h('summary', null, 'Build options'),
                h('p.hint', null, 'How Build extracts the archive it fetches from the source.'), buildOpts.node);
        // Jobs started on this page: how each ends is told even if the page
        // never saw it active (a refused import can end before its answer).
        const started = new Set();
        // startJob(answer): follows the job a request started (in view).
        const startJob = (answer) => {
                const id = jobIdOf(answer);
                if (id) {
                        started.add(String(id));
                        job.follow(id);
                        job.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
                }
                dropNotices(noticeKey);
                // No "queued" notice: the job panel shows it, and lock() tells
                // how it ended.
                return null;
        };
        const build = async () => {
                const options = buildOpts ? buildOpts.value() : {};
                return startJob(await api('POST', `/api/overlays/${enc(name)}/build`, { options }));
        };
        const buildBtn = button('Build', build, 'primary');
        const cancelBtn = button('Cancel', async () => {
                const id = job.jobId();
                if (!id)
                        return;
                await api('POST', `/api/jobs/${enc(id)}/cancel`);
                return 'Cancelling the job…';
        }, 'danger', { 'aria-label': 'Cancel the running job' });
        cancelBtn.hidden = true;
        const wipeBtn = button('Wipe', async () => {
                if (!confirm(`Wipe the content of ${name}? What is in it is removed.`))
                        return;
                return startJob(await api('POST', `/api/overlays/${enc(name)}/wipe`));
        });
        const deleteBtn = button('Delete overlay', async () => {
                if (!confirm(`Delete overlay ${name} and its content?`))
                        return;
                await api('DELETE', `/api/overlays/${enc(name)}`);
                notice(`Overlay ${name} deleted.`, 'ok', { carry: true });
                location.hash = '#/overlays';
        }, 'danger');
        // What an archive or script overlay holds cannot be fetched again
        // from anywhere else (a Workshop one is rebuilt from Steam).
        const exportPath = `/api/overlays/${enc(name)}/export`;
        const exportLink = (o.Type === 'archive' || o.Type === 'script') &&
                downloadLink('Download content', exportPath, `${name}.tar.zst`);
        const busyNote = h('p.busy-note', { 'aria-live': 'polite' });
        let wasActive = null;           // the job followed was active when last seen
        function lock() {
                const j = job.job();
                const active = (j && jobActive(j)) || o.State === 'building';
                buildBtn.hidden = active;
                cancelBtn.hidden = !(j && jobActive(j));
                busyNote.textContent = active ? `${JOB_WORD[j && j.Kind] || 'A job'} in progress: changes wait until it ends or is cancelled.` : '';
                // Fieldsets: what button() and onSubmit() re-enable after
                // their request stays disabled inside one.
                for (const f of main.querySelectorAll('fieldset.lockable'))
                        f.disabled = active;
                // An export is Busy too: the link goes until the job ends.
                if (exportLink) {
                        if (active)
                                exportLink.removeAttribute('href');
                        else
                                exportLink.href = exportPath;
                        exportLink.setAttribute('aria-disabled', String(active));
                }
                const mine = j && started.has(String(j.Id));
                if (j && !jobActive(j) && (mine || wasActive)) {
                        started.delete(String(j.Id));
                        // How the job ended, as the page's one notice of it.
                        const what = JOB_WORD[j.Kind] || 'The job';
                        if (j.State === 'succeeded')
                                notice(`${what} finished.`, 'ok', { key: noticeKey });
                        else if (j.State === 'cancelled')
                                notice(`${what} cancelled.`, 'info', { key: noticeKey });
                        else if (j.State === 'failed')
                                // The job's own sentence on the details line: it
                                // starts with what failed already.
                                notice(`${what} failed.` + (j.Message ? '' : ' Its log says why.'), 'error',
                                        { key: noticeKey, details: j.Message || null });
                }
                wasActive = !!(j && jobActive(j));
        }
        job.onChange(lock);

        source = (EDITORS[o.Type] || archive).editor(name, o, { show, startJob, build });
        const files = filesCard('overlay', name, {
                intro: 'What the overlay holds, read-only. Folders open in place; a file downloads.' +
                        (o.Type === 'workshop' ? ' Workshop items are links into the shared download cache: listed, not followed.' : ''),
                emptyText: 'The overlay is empty: build it to fill it.',
        });

        const actions = h('div.actions', null, buildBtn, cancelBtn, exportLink,
                h('fieldset.lockable.actions', null, h('legend.sr-only', null, 'Changes'), wipeBtn, deleteBtn));
        append(main, [
                pageHeader(name, state),
                h('div.layout.overlay-layout', null,
                        h('section.card', { 'aria-label': 'Overlay' },
                                props, actions, busyNote,
                                buildBox),
                        job, source, files),
        ]);
        show(o);
        let lastBuild = o.LastBuild;
        onLive((kind, n) => {
                if (kind === 'overlay' && n.Name === name) {
                        show(n);
                        // New content: the file list follows.
                        if (n.LastBuild !== lastBuild || n.State === 'empty') {
                                lastBuild = n.LastBuild;
                                if (n.State !== 'building')
                                        files.open(files.path()).catch(() => {});
                        }
                } else if (kind === 'overlay-removed' && n.Name === name) {
                        notice(`Overlay ${name} was deleted.`, 'info', { carry: true });
                        location.hash = '#/overlays';
                } else if (kind === 'reset')
                        api('GET', `/api/overlays/${enc(name)}`).then(show, showError);
                else if (kind === 'job' && n.Target === 'overlay:' + o.Id && String(n.Id) !== job.jobId() &&
                         (!job.jobId() || Number(n.Id) > Number(job.jobId())))
                        job.follow(n.Id);  // a newer job on it, started here or elsewhere
        });
        // The job running on it, else its most recent one.
        try {
                const { jobs } = await api('GET', `/api/jobs?target=${enc('overlay:' + o.Id)}&limit=1`);
                const found = jobFor([...cache.jobs.values(), ...jobs], 'overlay:' + o.Id);
                if (found && !job.jobId())
                        job.follow(found.Id);
        } catch (e) {
                showError(e);
        }
}
