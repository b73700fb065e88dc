// SPDX-License-Identifier: GPL-2.0-or-later
// The admin's side of the UI (issue 16, defects 3, 4, 5, 7, 8 and 12), each
// defect a step that would have caught it, on a 1280x800 desktop and a
// 375x812 phone (lib/harness.mjs):
//   - a new admin sees that the game is missing and installs it from the
//     dashboard, with the job's progress and log; sets and clears a Steam
//     login (defect 3);
//   - the Jobs page with 130+ jobs stays a bounded page, pages with Older/
//     Newer by cursor, filters by kind, state and target, follows a new job
//     live; Cancel only on active jobs, there and on a job page (4, 5);
//   - a new instance: the port field takes the daemon's range, a stopped
//     server shows no "0/0" players, an empty hostname shows the instance's
//     name, settings saved on a running server say they apply at the next
//     start, the console's history length (8);
//   - users: one's own password needs the current one (a wrong one is a
//     sentence, the D-Bus name only on the details line: 7), no Delete of
//     one's own account (and the daemon's refusal), Delete in its column
//     (8, 12);
//   - the System page (status, storage, cache and its prune);
//   - a role-user account's view: no Users, no Steam login.
//
//   node flow-admin.mjs BASE-URL USER PASSWORD OUTPUT-DIR OTHER-USER OTHER-PASSWORD BLUEPRINT INSTANCE
//
// USER is an admin; OTHER-USER a role-user account; BLUEPRINT exists;
// INSTANCE does not (the flow creates it, the case deletes it). The game
// is not installed when it starts; 120 or more finished jobs exist.

import { runFlow } from './lib/harness.mjs';

await runFlow('flow-admin', async (t) => {
        const { page, step, fail, shot, expectText, nav, notices } = t;
        const [otherUser, otherPassword, blueprint, instance] = t.extra;
        if (!instance)
                fail('usage: the other account, its password, the blueprint and the instance name are needed');
        // The refusals this flow provokes on purpose (chromium logs their answers).
        t.allowConsoleError = (text, where) => /Failed to load resource: .* 4\d\d/.test(text) &&
                (/\/api\/users\/[^/]+(\/password)?$/.test(where));
        page.on('dialog', (d) => d.accept());
        const errorText = () => page.locator('#notices .notice.error .notice-text').first().textContent();
        const okNotice = (re, what, timeout) => expectText(page.locator('#notices .notice.ok .notice-text'), re, what, timeout);
        const pageHeight = () => page.evaluate(() => document.documentElement.scrollHeight);
        // A request from the page with its session (what a script could send
        // past what the UI offers): {status, body}.
        const apiCall = (method, path, body) => page.evaluate(async ([m, p, b]) => {
                const s = await (await fetch('/api/session')).json();
                const r = await fetch(p, { method: m, headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf },
                        body: b === undefined ? undefined : JSON.stringify(b) });
                const text = await r.text();
                let data;
                try {
                        data = JSON.parse(text);
                } catch (e) {
                        data = text;
                }
                return { status: r.status, body: data };
        }, [method, path, body]);

        step('defect 3: the dashboard says the game is missing');
        await t.login();
        const game = page.locator('section.game-card');
        await expectText(game.locator('.card-head .badge'), /^missing$/, 'the game\'s state');
        await expectText(game.locator('h2'), /The game is not installed/, 'the game card\'s title');
        await expectText(page.locator('section.getting-started li'), /Install the game/, 'the getting-started list');
        if (!(await game.evaluate((el) => el.classList.contains('attention'))))
                fail('the missing game is not set apart');
        await shot('dashboard-no-game');

        step('defect 3: install it from the dashboard, with progress and log');
        await game.getByRole('button', { name: 'Install the game' }).click();
        await okNotice(/Installing the game/, 'the install\'s notice');
        const panel = game.locator('.job-panel');
        await panel.waitFor({ state: 'visible' });
        await expectText(game.locator('.card-head .badge'), /^(queued|installing)$/, 'the game while it installs');
        // Progress on its way (the fake steamcmd reports it in steps).
        await page.waitForFunction(() => {
                const p = document.querySelector('.game-card .job-panel progress');
                return p && p.value > 0 && p.value < 100;
        }, null, { timeout: 60000 }).catch(() => fail('no progress between 0 and 100 % was shown'));
        if (!(await game.getByRole('button', { name: 'Cancel the game job' }).isVisible()))
                fail('no Cancel while the game installs');
        await shot('dashboard-game-installing');
        await expectText(panel.locator('.card-head .badge'), /^succeeded$/, 'the install job', 120000);
        await expectText(panel.locator('.console div'), /Success! App '222860'|Update state/, 'the install\'s log');
        await expectText(game.locator('.card-head .badge'), /^installed$/, 'the game after the install', 30000);
        await expectText(game.locator('.game-text'), /Build 1000001/, 'the build id');
        if (await game.getByRole('button', { name: 'Cancel the game job' }).isVisible())
                fail('Cancel is still offered after the install finished');
        await shot('dashboard-game-installed');

        step('defect 3: the Steam login, set and back to anonymous');
        await game.locator('summary', { hasText: 'Steam login' }).click();
        await game.getByLabel('Steam user').fill('uibsteam');
        await game.getByLabel('Steam password').fill('a-steam-password');
        await game.getByRole('button', { name: 'Save the Steam login' }).click();
        await okNotice(/log in as uibsteam/, 'the Steam login notice');
        await expectText(game.locator('.game-text'), /Steam account uibsteam/, 'the game card with the login');
        await game.getByRole('button', { name: 'Use anonymous login' }).click();
        await okNotice(/anonymously/, 'the anonymous login notice');
        await expectText(game.locator('.game-text'), /anonymously/, 'the game card without a login');

        step('defect 3: update with validate: a new job, its log, the build');
        await game.locator('summary', { hasText: 'Update or validate' }).click();
        await game.locator('form.game-update').getByLabel('Check every file (validate)').check();
        const installJob = await panel.locator('h2 a').textContent();
        await game.getByRole('button', { name: 'Update the game' }).click();
        await okNotice(/Updating the game/, 'the update\'s notice');
        await page.waitForFunction((old) => {
                const a = document.querySelector('.game-card .job-panel h2 a');
                return a && a.textContent !== old;
        }, installJob).catch(() => fail('the panel does not follow the update job'));
        await expectText(panel.locator('.card-head .badge'), /^succeeded$/, 'the update job', 120000);
        await expectText(panel.locator('.console div'), /validate/, 'the update\'s log (steamcmd validates)');
        await expectText(game.locator('.card-head .badge'), /^installed$/, 'the game after the update', 30000);

        step('defect 8: the port field takes the daemon\'s range');
        const m = await page.evaluate(async () => (await fetch('/api/manager')).json());
        if (!m.InstancePortMin || !m.InstancePortMax)
                fail(`GET /api/manager has no port range: ${JSON.stringify(m)}`);
        await page.locator('summary', { hasText: 'Create an instance' }).click();
        const insForm = page.locator('form[aria-label="Create an instance"]');
        const port = insForm.getByLabel('Port', { exact: true });
        const [min, max] = [await port.getAttribute('min'), await port.getAttribute('max')];
        if (min !== String(m.InstancePortMin) || max !== String(m.InstancePortMax))
                fail(`the port field offers ${min}–${max}, the daemon takes ${m.InstancePortMin}–${m.InstancePortMax}`);
        await expectText(insForm.locator('.hint'), new RegExp(`${m.InstancePortMin}–${m.InstancePortMax}`), 'the port hint');
        await port.fill('80');
        if (await insForm.evaluate((f) => f.checkValidity()))
                fail('port 80 passes the form although the daemon refuses it');
        await port.fill('');

        step('defect 8: a new instance; stopped, it shows no players');
        await insForm.getByLabel('Name', { exact: true }).fill(instance);
        await insForm.getByLabel('Blueprint', { exact: true }).selectOption(blueprint);
        await insForm.getByRole('button', { name: 'Create instance' }).click();
        const card = page.locator(`li.card.instance[data-name="${instance}"]`);
        await expectText(card.locator('.badge'), /^stopped$/, 'the new instance');
        const players = await card.locator('dl.facts div').filter({ has: page.locator('dt', { hasText: /^Players$/ }) }).locator('dd').textContent();
        if (players.trim() !== '—')
                fail(`a stopped instance shows players "${players}"`);
        if (await page.locator('section.getting-started').isVisible())
                fail('the getting-started list stays with the game installed and an instance made');
        await shot('dashboard-instance');

        step('defect 8: the hostname is never blank; empty means the instance\'s name');
        await card.getByRole('link', { name: instance }).click();
        await t.waitPage(`#/instances/${instance}`);
        const prop = (label) => page.locator('dl.props div').filter({ has: page.locator('dt', { hasText: new RegExp(`^${label}$`) }) }).locator('dd').first();
        await expectText(prop('Hostname'), new RegExp(`^${instance}$`), 'the default hostname');
        const settings = page.locator('form[aria-label="Settings"]');
        await settings.getByLabel('Hostname', { exact: true }).fill('');
        await settings.getByLabel('Player limit', { exact: true }).fill('6');
        await settings.getByRole('button', { name: 'Save settings' }).click();
        await okNotice(/^Settings saved\.$/, 'the notice of a stopped server\'s settings');
        await expectText(prop('Hostname'), new RegExp(`^${instance}$`), 'the hostname after saving it empty');
        if ((await settings.getByLabel('Hostname', { exact: true }).inputValue()) === '')
                fail('the hostname field is blank');
        await expectText(prop('Players'), /^—$/, 'the players of the stopped server');

        step('defect 8: settings saved on a running server apply at its next start');
        await page.getByRole('button', { name: 'Start', exact: true }).click();
        await t.expectState(/^running$/, 'the started instance', 60000);
        await settings.locator('.applies-note').waitFor({ state: 'visible' })
                .catch(() => fail('the settings form does not say that they apply at the next start'));
        await settings.getByLabel('Hostname', { exact: true }).fill('uib running host');
        await settings.getByRole('button', { name: 'Save settings' }).click();
        await okNotice(/apply at its next start/, 'the notice of a running server\'s settings');
        await expectText(prop('Players'), /^[0-9]+\/[0-9]+$/, 'the players of the running server', 30000);

        step('the console: how many lines of history');
        await expectText(page.locator('.console-card .console div'), /./, 'the console');
        await page.getByLabel('Lines of history').selectOption('1000');
        await expectText(page.locator('.console-card .console div'), /fake srcds/, 'the console with 1000 lines of history', 20000);
        await shot('instance-running-settings');
        await page.getByRole('button', { name: 'Stop', exact: true }).click();
        await t.expectState(/^stopped$/, 'the stopped instance', 60000);
        if (await settings.locator('.applies-note').isVisible())
                fail('the "next start" note stays on a stopped server');

        step('defect 4: the Jobs page with many jobs is one bounded page');
        await nav('jobs');
        const jobCards = page.locator('li.card.job');
        await jobCards.first().waitFor();
        const n1 = await jobCards.count();
        if (n1 !== 25)
                fail(`the first page shows ${n1} jobs, expected 25`);
        const h1 = await pageHeight();
        if (h1 > 8000)
                fail(`the jobs page is ${h1} px high`);
        const ids = async () => (await jobCards.evaluateAll((els) => els.map((e) => Number(e.dataset.id))));
        const first = await ids();
        if (first.some((id, i) => i && id > first[i - 1]))
                fail(`the jobs are not newest first: ${first.join(',')}`);
        await shot('jobs-first-page');

        step('defect 5: no Cancel on finished jobs');
        if (await page.getByRole('button', { name: /^Cancel job / }).count() !== 0) {
                const shown = await page.locator('li.card.job').filter({ has: page.getByRole('button', { name: /^Cancel job / }) })
                        .locator('.badge').allTextContents();
                if (shown.some((s) => !/^(queued|running)$/.test(s)))
                        fail(`Cancel shows on finished jobs: ${shown.join(',')}`);
        }

        step('defect 4: Older and Newer follow the cursor');
        await page.getByRole('button', { name: 'Older →' }).click();
        await page.waitForFunction((top) => {
                const el = document.querySelector('li.card.job');
                return el && Number(el.dataset.id) < top;
        }, Math.min(...first));
        const second = await ids();
        if (second.length !== 25 || Math.max(...second) >= Math.min(...first))
                fail(`the second page is not the next 25 older jobs: ${second.join(',')}`);
        if (!/before=/.test(await page.evaluate(() => location.hash)))
                fail('the page is not in the address');
        await expectText(page.locator('.page-summary'), /older ones/, 'the summary of the second page');
        await page.getByRole('button', { name: '← Newer' }).click();
        await page.waitForFunction((top) => Number(document.querySelector('li.card.job').dataset.id) === top, first[0]);

        step('defect 4: filters by kind, state and target');
        await page.getByLabel('Kind', { exact: true }).selectOption('game-install');
        await page.waitForFunction(() => [...document.querySelectorAll('li.card.job h2')].every((e) => / game-install$/.test(e.textContent)) &&
                document.querySelectorAll('li.card.job').length > 0);
        if (!/kind=game-install/.test(await page.evaluate(() => location.hash)))
                fail('the filter is not in the address');
        await expectText(page.locator('li.card.job dd'), /^the game$/, 'the game job\'s target');
        await shot('jobs-filtered');
        await page.getByLabel('Kind', { exact: true }).selectOption('overlay-wipe');
        await page.getByLabel('State', { exact: true }).selectOption('active');
        await expectText(page.locator('.page-summary'), /No job fits these filters/, 'the active wipes (none)');
        await page.getByRole('button', { name: 'Clear filters' }).click();
        await page.getByLabel('Target', { exact: true }).selectOption({ label: 'Overlay uib-empty' });
        await page.waitForFunction(() => {
                const hs = [...document.querySelectorAll('li.card.job h2')];
                return hs.length === 25 && hs.every((e) => / overlay-wipe$/.test(e.textContent));
        }).catch(() => fail('the target filter does not show only the overlay\'s wipes'));

        step('defect 4: the first page follows a new job live');
        await page.getByRole('button', { name: 'Clear filters' }).click();
        await page.waitForFunction((top) => Number(document.querySelector('li.card.job').dataset.id) === top, first[0]);
        const wipe = await apiCall('POST', '/api/overlays/uib-empty/wipe', {});
        if (wipe.status !== 202)
                fail(`a wipe was refused: ${JSON.stringify(wipe)}`);
        const newId = Number(String(wipe.body.job).replace(/.*\//, ''));
        await page.waitForFunction((id) => Number(document.querySelector('li.card.job').dataset.id) === id, newId)
                .catch(() => fail(`the new job ${newId} did not come on top`));
        await expectText(page.locator(`li.card.job[data-id="${newId}"] .badge`), /^succeeded$/, 'the new job\'s end', 30000);
        if (await jobCards.count() !== 25)
                fail(`the page grew to ${await jobCards.count()} jobs`);

        step('defect 5: a finished job\'s page offers no Cancel');
        await page.locator(`li.card.job[data-id="${newId}"] h2 a`).click();
        await t.waitPage(`#/jobs/${newId}`);
        await expectText(page.locator('.job-panel .card-head .badge'), /^succeeded$/, 'the job page');
        if (await page.getByRole('button', { name: 'Cancel job' }).isVisible())
                fail('"Cancel job" shows on a finished job');
        await shot('job-finished');

        step('defects 8, 12: users: no Delete of oneself, Delete in its column');
        await nav('users');
        const own = page.locator(`tr[data-user="${t.user}"]`);
        await own.waitFor();
        if (await own.getByRole('button', { name: /^Delete / }).count())
                fail('Delete is offered on one\'s own account');
        if (await own.getByRole('textbox').count())
                fail('one\'s own password is settable without the current one');
        await expectText(own.locator('td.col-actions'), /You \(logged in\)/, 'one\'s own row');
        const other = page.locator(`tr[data-user="${otherUser}"]`);
        const del = await other.getByRole('button', { name: `Delete ${otherUser}` }).boundingBox();
        const th = await page.locator('th.col-actions').boundingBox();
        const pwTh = await page.locator('th', { hasText: /^Password$/ }).boundingBox();
        if (!del || !th || del.x < th.x - 1 || del.x + del.width > th.x + th.width + 1 || del.x < pwTh.x + pwTh.width)
                fail(`Delete is not in the Actions column: ${JSON.stringify({ del, th, pwTh })}`);
        const self = await apiCall('DELETE', `/api/users/${t.user}`);
        if (self.status !== 409 || !/cannot delete the account you are logged in with/.test(self.body.message))
                fail(`deleting one's own account was not refused as it should: ${JSON.stringify(self)}`);
        await shot('users');

        step('defects 7, 8: one\'s own password needs the current one');
        await own.getByRole('link', { name: 'Change on your account page' }).click();
        await t.waitPage('#/account');
        const acc = page.locator('form[aria-label="Change your password"]');
        await acc.getByLabel('Current password').fill('not-the-password');
        await acc.getByLabel('New password', { exact: true }).fill('another-password-1');
        await acc.getByLabel('Repeat the new password').fill('another-password-1');
        await acc.getByRole('button', { name: 'Change password' }).click();
        await expectText(page.locator('#notices .notice.error .notice-text'), /current password is wrong/i, 'the refusal');
        const refusal = await errorText();
        if (/org\.left4me|org\.freedesktop|\(|\[/.test(refusal))
                fail(`the refusal shows internals: "${refusal}"`);
        await expectText(page.locator('#notices .notice.error .notice-details'), /^org\.freedesktop\.DBus\.Error\.AccessDenied$/, 'the details line');
        await shot('account-wrong-current');
        await acc.getByLabel('Current password').fill(t.password);
        await acc.getByRole('button', { name: 'Change password' }).click();
        await okNotice(/^Password changed\.$/, 'the changed password');
        // Back to the first one (the case's account keeps its password).
        await acc.getByLabel('Current password').fill('another-password-1');
        await acc.getByLabel('New password', { exact: true }).fill(t.password);
        await acc.getByLabel('Repeat the new password').fill(t.password);
        await acc.getByRole('button', { name: 'Change password' }).click();
        await okNotice(/^Password changed\.$/, 'the password changed back');

        step('the System page: status, storage, the cache and its prune');
        await nav('system');
        const props = page.locator('dl.props div');
        await expectText(props.filter({ hasText: 'Game' }).locator('dd'), /installed, build 1000001/, 'the game on the system page');
        await expectText(props.filter({ hasText: 'Instances' }).locator('dd'), /^1 \(0 running\)$|^[0-9]+ \([0-9]+ running\)$/, 'the instance count');
        await expectText(page.locator('section[aria-label="Status"]'), /no problems|problem/, 'the configuration check');
        await expectText(page.locator('section[aria-label="Storage"] td'), /./, 'the storage table');
        await page.getByRole('button', { name: 'Prune unused files' }).click();
        await okNotice(/^Pruned [0-9]+ files? /, 'the prune\'s notice');
        await shot('system');

        step('a role-user account\'s view: no Users, no Steam login, no System prune refused');
        await page.getByRole('button', { name: 'Log out' }).click();
        await page.locator('#login-title').waitFor();
        await page.getByLabel('User', { exact: true }).fill(otherUser);
        await page.getByLabel('Password', { exact: true }).fill(otherPassword);
        await page.getByRole('button', { name: 'Log in' }).click();
        await t.waitPage('#/instances');
        if (await page.locator('#nav a[data-section="users"]').isVisible())
                fail('a role-user account is offered the Users page');
        await expectText(page.locator('section.game-card .card-head .badge'), /^installed$/, 'the game for a user');
        if (await page.locator('section.game-card summary', { hasText: 'Steam login' }).isVisible())
                fail('a role-user account is offered the Steam login');
        if (await page.locator(`li.card.instance[data-name="${instance}"]`).count())
                fail('a role-user account sees the admin\'s instance');
        await shot('user-dashboard');
        await nav('jobs');
        await expectText(page.locator('li.empty'), /No jobs/, 'a user\'s jobs (none of the admin\'s)');
        if (await page.locator('li.card.job').count())
                fail('a role-user account sees others\' jobs');
        await page.evaluate(() => {
                location.hash = '#/users';
        });
        await t.waitPage('#/users');
        await expectText(page.locator('main p'), /Only administrators/, 'the users page for a user');
        await shot('user-users');
        if (await notices())
                fail(`error notices in a user's view: ${await notices()}`);
}, 'OTHER-USER OTHER-PASSWORD BLUEPRINT INSTANCE');
