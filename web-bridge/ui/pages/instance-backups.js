// SPDX-License-Identifier: GPL-2.0-or-later
// The Backups card of the instance page.

import { api, enc } from '../lib/api.js';
import { badge, button, clear, downloadLink, field, h, progressBar, uid } from '../lib/dom.js';
import { uploadForm } from '../lib/form.js';
import { fmtBytes, fmtTime, jobActive, jobIdOf } from '../lib/format.js';
import { onLive } from '../lib/live.js';
import { showError } from '../lib/notices.js';

const BACKUP_JOB_KINDS = new Set(['instance-backup', 'backup-restore', 'backup-import']);

// The Backups card of an instance page: its backups (newest first), "Back up
// now", restore (only while stopped), download, delete and upload. The list
// is read again when a backup job on the instance ends, started here or
// elsewhere (a schedule).
export function backupsCard(name) {
        const target = 'instance:' + name;
        let state = 'stopped';
        let jobId = null;
        const tbody = h('tbody');
        const empty = h('p.empty-note', null, 'No backups yet.');
        const table = h('div.table-box', null, h('table.stack', { 'aria-label': `Backups of ${name}` },
                h('thead', null, h('tr', null, h('th', null, 'Backup'), h('th', null, 'Taken'), h('th', null, 'Size'),
                        h('th', null, 'Consistent'), h('th', null, 'Actions'))),
                tbody));
        const restoreButtons = [];
        const bar = progressBar('Backup job progress');
        const status = h('p.job-message', { 'aria-live': 'polite' });
        const jobLine = h('div.backup-job', null, bar, status);
        jobLine.hidden = true;

        let jobDone = false;
        // The job's state as the page last learnt it (an event, or the
        // answer to a GET that may arrive after a newer event: a finished
        // job never goes back to running).
        const showJob = (j) => {
                if (String(j.Id) !== jobId || (jobDone && jobActive(j)))
                        return;
                bar.set(j.State === 'succeeded' ? 1 : j.Progress);
                clear(status);
                status.append(h('a', { href: '#/jobs/' + enc(String(j.Id)) }, `Job #${j.Id}`), ` ${j.Kind}: `,
                        badge(j.State), j.Message ? ` ${j.Message}` : '');
                if (!jobActive(j) && !jobDone) {
                        jobDone = true;
                        card.refresh().catch(showError);
                }
        };
        // Follows job id (once: its events may have come before the answer
        // that named it).
        const follow = (id, what) => {
                if (!id || String(id) === jobId)
                        return;
                jobId = String(id);
                jobDone = false;
                jobLine.hidden = false;
                bar.set(0);
                clear(status);
                status.append(`${what}: `, h('a', { href: '#/jobs/' + enc(jobId) }, `job #${jobId}`));
                api('GET', `/api/jobs/${enc(jobId)}`).then(showJob, () => {});
        };
        const setRestoreAllowed = () => {
                for (const b of restoreButtons)
                        b.disabled = state !== 'stopped';
        };
        const row = (b) => {
                const restore = button('Restore', async () => {
                        if (!confirm(`Restore backup #${b.id} of ${name}? What the server wrote since is replaced.`))
                                return;
                        const r = await api('POST', `/api/backups/${enc(String(b.id))}/restore`, { options: {} });
                        follow(jobIdOf(r), 'Restore');
                        return `Restore of backup #${b.id} queued.`;
                }, null, { 'aria-label': `Restore backup ${b.id}`, title: 'Only while the server is stopped' });
                restoreButtons.push(restore);
                return h('tr', { 'data-id': String(b.id) },
                        h('td', { 'data-label': 'Backup' }, `#${b.id}`),
                        h('td', { 'data-label': 'Taken' }, fmtTime(b.created)),
                        h('td', { 'data-label': 'Size' }, fmtBytes(b.size)),
                        h('td', { 'data-label': 'Consistent' }, b.consistent ? 'yes' : 'no (copied while running)'),
                        // A box of its own: a flex <td> would leave the table's layout.
                        h('td', { 'data-label': 'Actions' }, h('div.row-actions', null,
                                restore,
                                downloadLink('Download', `/api/backups/${enc(String(b.id))}/download`,
                                        `left4me-backup-${b.id}.tar.zst`, { 'aria-label': `Download backup ${b.id}` }),
                                button('Delete', async () => {
                                        if (!confirm(`Delete backup #${b.id} of ${name}?`))
                                                return;
                                        await api('DELETE', `/api/backups/${enc(String(b.id))}`);
                                        await card.refresh();
                                        return `Backup #${b.id} deleted.`;
                                }, 'danger', { 'aria-label': `Delete backup ${b.id}` }))));
        };

        const stop = h('input', { name: 'stop', type: 'checkbox', id: uid('f') });
        const now = button('Back up now', async () => {
                const r = await api('POST', `/api/instances/${enc(name)}/backup`, { options: { stop: stop.checked } });
                follow(jobIdOf(r), 'Backup');
                return `Backup of ${name} queued.`;
        }, 'primary');
        const file = h('input', { name: 'backup', type: 'file', accept: '.zst,.tar.zst,application/zstd' });
        const up = uploadForm('Upload a backup', 'Upload backup', file,
                [field('Backup file', file, 'a .tar.zst downloaded from left4me: becomes a new backup of this instance')],
                () => `/api/instances/${enc(name)}/backups`,
                (r, form) => {
                        follow(jobIdOf(r), 'Import');
                        form.reset();
                        return 'Upload received; the backup is being checked.';
                });

        const card = h('section.card.backups', { 'aria-label': 'Backups' },
                h('h2', null, 'Backups'),
                h('div.actions.backup-now', null, now,
                        h('div.field.check', null, stop, h('label', { for: stop.id }, 'Stop the server during the backup'))),
                jobLine, table, empty, h('hr'), up);
        card.refresh = async () => {
                const list = await api('GET', `/api/backups?instance=${enc(name)}`);
                restoreButtons.length = 0;
                clear(tbody);
                for (const b of list || [])
                        tbody.append(row(b));
                table.hidden = !tbody.children.length;
                empty.hidden = !!tbody.children.length;
                setRestoreAllowed();
        };
        card.show = (n) => {
                state = n.State;
                setRestoreAllowed();
        };
        onLive((kind, j) => {
                if (kind === 'reset') {
                        card.refresh().catch(() => {});
                        return;
                }
                if (kind !== 'job' || j.Target !== target || !BACKUP_JOB_KINDS.has(j.Kind))
                        return;
                // A newer job on the instance, started here or elsewhere (a schedule).
                if (!jobId || Number(j.Id) > Number(jobId))
                        follow(j.Id, j.Kind);
                showJob(j);
                if (String(j.Id) !== jobId && !jobActive(j))
                        card.refresh().catch(showError);
        });
        return card;
}
