// SPDX-License-Identifier: GPL-2.0-or-later
// The game card of the dashboard: whether Left 4 Dead 2's dedicated server
// is installed (and which build), Install or Update with their options,
// the game job's progress and log (as a build's), Cancel while it runs,
// and the Steam login game jobs use (admins).

import { api, enc, session } from '../lib/api.js';
import { badge, button, field, h, setBadge, uid } from '../lib/dom.js';
import { onSubmit } from '../lib/form.js';
import { jobActive, jobIdOf } from '../lib/format.js';
import { onLive } from '../lib/live.js';
import { showError } from '../lib/notices.js';
import { gameStatus } from '../lib/status-text.js';
import { jobPanel } from './job.js';

function check(name, label) {
        const box = h('input', { name, type: 'checkbox', id: uid('f') });
        const row = h('div.field.check', null, box, h('label', { for: box.id }, label));
        row.box = box;
        return row;
}

// gameCard(onChange): the card; onChange(manager) runs whenever the game's
// state is read again (the dashboard's getting-started list follows it).
export function gameCard(onChange) {
        let m = null;
        let job = null;        // the game job shown (the active one, else the last)
        const state = badge('');
        const title = h('h2', null, 'Game');
        const text = h('p.game-text');
        const panel = jobPanel();

        // Install (not installed yet).
        const validateNew = check('validate', 'Check every file (validate)');
        const install = h('form.game-install', { 'aria-label': 'Install the game' },
                validateNew,
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Install the game')));
        onSubmit(install, async () => {
                const r = await api('POST', '/api/game/install', { options: { validate: validateNew.box.checked } });
                follow(jobIdOf(r));
                return 'Installing the game: its progress and log are below.';
        });

        // Update (installed).
        const validate = check('validate', 'Check every file (validate)');
        const restart = check('restart_instances', 'Stop running servers for the update and start them again after it');
        const update = h('form.game-update', { 'aria-label': 'Update the game' },
                validate, restart,
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Update the game')));
        onSubmit(update, async () => {
                const r = await api('POST', '/api/game/update', {
                        options: { validate: validate.box.checked, restart_instances: restart.box.checked },
                });
                follow(jobIdOf(r));
                return 'Updating the game: its progress and log are below.';
        });
        const updateBox = h('details.game-more', null, h('summary', null, 'Update or validate'), update);

        const cancel = button('Cancel the game job', async () => {
                if (!job)
                        return null;
                await api('POST', `/api/jobs/${enc(String(job.Id))}/cancel`);
                return `Cancelling job ${job.Id}.`;
        }, 'danger');

        // The Steam login (admins): anonymous, or an account that owns the game.
        const suser = h('input', { name: 'user', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', maxlength: '64' });
        const spass = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', maxlength: '128' });
        const login = h('form.steam-login', { 'aria-label': 'Steam login' },
                h('p.hint', null, 'Game files download anonymously unless an account that owns the game is set. ' +
                        'Its password is kept by the daemon for steamcmd only and never shown again.'),
                h('div.grid', null, field('Steam user', suser), field('Steam password', spass)),
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Save the Steam login'),
                        button('Use anonymous login', async () => {
                                await api('PUT', '/api/game/steam-login', { user: '', password: '' });
                                suser.value = '';
                                spass.value = '';
                                await refresh();
                                return 'Game jobs log in anonymously now.';
                        })));
        onSubmit(login, async () => {
                const user = suser.value.trim();
                if (!user || !spass.value)
                        throw new Error('Give the Steam user and its password (or use the anonymous login).');
                await api('PUT', '/api/game/steam-login', { user, password: spass.value });
                spass.value = '';
                await refresh();
                return `Game jobs log in as ${user} now.`;
        });
        const loginBox = h('details.game-more', null, h('summary', null, 'Steam login'), login);

        const card = h('section.card.game-card', { 'aria-label': 'Game' },
                h('div.card-head', null, title, state),
                text, install, updateBox, loginBox, h('div.actions', null, cancel), panel);

        const show = () => {
                const g = gameStatus(m);
                const busy = job && jobActive(job);
                card.classList.toggle('attention', !g.installed);
                setBadge(state, busy ? (job.State === 'queued' ? 'queued' : 'installing') : g.installed ? 'installed' : 'missing');
                title.textContent = busy ? 'Installing the game…' : g.title;
                text.textContent = busy ? 'steamcmd is downloading the game; servers cannot start until it is done.' : g.text;
                install.hidden = g.installed || !!busy;
                updateBox.hidden = !g.installed || !!busy;
                loginBox.hidden = session.role !== 'admin' || !!busy;
                cancel.parentElement.hidden = !busy;
                if (m && m.SteamLogin && !suser.value)
                        suser.value = m.SteamLogin;
        };
        const follow = (id) => {
                if (!id)
                        return;
                job = { Id: Number(id), State: 'queued' };
                panel.follow(id);
                show();
        };
        const refresh = async () => {
                m = await api('GET', '/api/manager');
                show();
                if (onChange)
                        onChange(m);
                return m;
        };
        card.refresh = refresh;
        // The game's last job (the active one comes first: newest first).
        card.findJob = async () => {
                const r = await api('GET', '/api/jobs?target=game&limit=1');
                const j = r && r.jobs && r.jobs[0];
                if (j) {
                        job = j;
                        panel.follow(j.Id);
                        // A finished job's panel only while it is recent news.
                        panel.hidden = !jobActive(j) && j.State === 'succeeded';
                }
                show();
        };
        onLive((k, j) => {
                if (k === 'job' && j.Target === 'game') {
                        const wasActive = job && jobActive(job) && String(job.Id) === String(j.Id);
                        if (!job || Number(j.Id) >= Number(job.Id)) {
                                if (!job || String(job.Id) !== String(j.Id))
                                        panel.follow(j.Id);
                                job = j;
                                panel.hidden = false;
                        }
                        show();
                        if (wasActive && !jobActive(j))
                                refresh().catch(showError);
                } else if (k === 'reset')
                        refresh().catch(showError);
        });
        show();
        return card;
}
