// SPDX-License-Identifier: GPL-2.0-or-later
// The left4me UI in Debian's chromium, driven by playwright-core, the way a
// user goes through it: log in, create a workshop overlay and build it
// (progress to 100 %), create a blueprint and an instance, start it, see
// the server's log in the console, send "status" and see the reply, see
// its use and set a limit, back it up while it runs, download a file it
// wrote from its Files card, stop it, download and restore the backup, create a schedule, run, disable and delete it, log out. Every step asserts what the
// page shows and saves screenshots (lib/harness.mjs: a 1280x800 desktop
// and a 375x812 phone, where the page must not scroll sideways and buttons
// must be big enough to touch; no request may leave the host and the page
// may log no errors).
//
//   node ui-flow.mjs BASE-URL USER PASSWORD OUTPUT-DIR [WORKSHOP-ITEM]
//
// The names it creates: PREFIX-maps, -upload, -bp, -server and -nightly.
// Environment: CHROMIUM (default /usr/bin/chromium), UI_FLOW_PREFIX (names
// of what it creates, default "ui"). Exit status 0 when every step passed.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { runFlow } from './lib/harness.mjs';

const prefix = process.env.UI_FLOW_PREFIX || 'ui';
const OVERLAY = `${prefix}-maps`;
const BLUEPRINT = `${prefix}-bp`;
const INSTANCE = `${prefix}-server`;
const UPLOAD = `${prefix}-upload`;
const SCHEDULE = `${prefix}-nightly`;

// A small tar (left4dead2/cfg/ui-upload.cfg) for the upload step.
function uploadTar() {
        const dir = mkdtempSync(join(tmpdir(), 'l4m-upload-'));
        try {
                mkdirSync(join(dir, 'left4dead2', 'cfg'), { recursive: true });
                writeFileSync(join(dir, 'left4dead2', 'cfg', 'ui-upload.cfg'), 'echo "uploaded through the browser"\n'.repeat(2000));
                return execFileSync('tar', ['-C', dir, '-cf', '-', 'left4dead2']);
        } finally {
                rmSync(dir, { recursive: true, force: true });
        }
}

await runFlow('ui-flow', async (t) => {
        const { page, base, user, password, step, fail, shot, expectText, notices, expectState, nav, createForm } = t;
        const item = t.extra[0] || '29901';

        step('the login page');
        await page.goto(base + '/');
        await page.locator('#login-title').waitFor();
        if (!(await page.locator('#top').isHidden()))
                fail('the header shows before anyone logged in');
        await shot('login');

        step('a wrong password is refused');
        await page.getByLabel('User', { exact: true }).fill(user);
        await page.getByLabel('Password', { exact: true }).fill(password + '-wrong');
        await page.getByRole('button', { name: 'Log in' }).click();
        await expectText(page.locator('.form-error'), /Wrong user name or password|Too many/, 'the login error');
        await shot('login-error');

        step('log in');
        await page.getByLabel('Password', { exact: true }).fill(password);
        await page.getByRole('button', { name: 'Log in' }).click();
        await page.locator('#top').waitFor({ state: 'visible' });
        await page.waitForFunction(() => location.hash === '#/instances');
        if ((await page.locator('#who-user').textContent()) !== user)
                fail('the header does not show the user');
        await page.locator('main h1', { hasText: 'Instances' }).waitFor();
        await expectText(page.locator('section.game-card .card-head .badge'), /^installed$/, 'the game on the dashboard');
        await shot('dashboard');

        step('create a workshop overlay');
        const ovForm = await createForm('overlays', 'an overlay');
        await ovForm.getByLabel('Name', { exact: true }).fill(OVERLAY);
        await ovForm.getByLabel('Type').selectOption('workshop');
        await ovForm.getByLabel('Workshop items').fill(`https://steamcommunity.com/sharedfiles/filedetails/?id=${item}`);
        await shot('overlay-create-form');
        await ovForm.getByRole('button', { name: 'Create overlay' }).click();
        await page.waitForFunction((n) => location.hash === `#/overlays/${n}`, OVERLAY);
        await expectText(page.locator('main h1'), new RegExp(`^${OVERLAY}$`), 'the overlay page');
        await expectState(/^empty$/, 'a new overlay');
        const items = await page.getByRole('textbox', { name: 'Items' }).inputValue();
        if (items.trim() !== item)
                fail(`the overlay's items show "${items}", expected ${item}`);
        await shot('overlay');

        step('build it and watch the progress reach 100 %');
        // Every percentage the page shows while the build runs.
        await page.evaluate(() => {
                window.__seenPct = [];
                const watch = () => {
                        const el = document.querySelector('.job-panel .pct');
                        if (el && window.__seenPct[window.__seenPct.length - 1] !== el.textContent)
                                window.__seenPct.push(el.textContent);
                };
                new MutationObserver(watch).observe(document.getElementById('main'), { subtree: true, childList: true, characterData: true });
        });
        await page.getByRole('button', { name: 'Build', exact: true }).click();
        await page.locator('.job-panel').waitFor({ state: 'visible' });
        await page.waitForFunction(() => {
                const p = document.querySelector('.job-panel progress');
                return p && p.value === 100;
        }, null, { timeout: 60000 }).catch(async () => fail(`the progress bar did not reach 100: ${await page.locator('.job-panel .pct').textContent()}; ${await notices()}`));
        await expectText(page.locator('.job-panel .pct'), /^100 %$/, 'the percentage');
        await expectText(page.locator('.job-panel .card-head .badge'), /^succeeded$/, 'the build job', 60000);
        await expectState(/^ready$/, 'the built overlay', 30000);
        await expectText(page.locator('.job-panel .console div'), /./, 'the build log');
        console.log(`percentages shown: ${JSON.stringify(await page.evaluate(() => window.__seenPct))}`);
        await shot('overlay-built');

        step('the overlay page, opened again, finds its build job (Target overlay:<Id>)');
        await nav('overlays');
        await page.getByRole('link', { name: OVERLAY, exact: true }).click();
        await page.waitForFunction((n) => location.hash === `#/overlays/${n}` && !document.getElementById('main').hasAttribute('aria-busy'), OVERLAY);
        await page.locator('.job-panel').waitFor({ state: 'visible', timeout: 20000 })
                .catch(() => fail('the overlay page shows no job for the overlay'));
        await expectText(page.locator('.job-panel .card-head .badge'), /^succeeded$/, 'the build job found again');
        await expectText(page.locator('.job-panel .console div'), /./, 'the build log found again');

        step('upload an archive into an archive overlay');
        await createForm('overlays', 'an overlay');
        await ovForm.getByLabel('Name', { exact: true }).fill(UPLOAD);
        await ovForm.getByLabel('Type').selectOption('archive');
        await ovForm.getByRole('button', { name: 'Create overlay' }).click();
        await page.waitForFunction((n) => location.hash === `#/overlays/${n}`, UPLOAD);
        await expectState(/^empty$/, 'the archive overlay');
        await page.getByLabel('Archive file').setInputFiles({ name: 'upload.tar', mimeType: 'application/x-tar', buffer: uploadTar() });
        await page.getByRole('button', { name: 'Upload', exact: true }).click();
        await expectText(page.locator('form[aria-label="Upload an archive"] .pct'), /^100 %$/, 'the upload progress');
        await expectText(page.locator('.job-panel .card-head .badge'), /^succeeded$/, 'the import job', 60000);
        await expectState(/^ready$/, 'the imported overlay', 30000);
        await shot('overlay-uploaded');

        step('create a blueprint with it');
        const bpForm = await createForm('blueprints', 'a blueprint');
        await bpForm.getByLabel('Name', { exact: true }).fill(BLUEPRINT);
        await bpForm.getByLabel('Overlay', { exact: true }).selectOption(OVERLAY);
        await bpForm.getByRole('button', { name: 'Add the chosen overlay' }).click();
        await expectText(bpForm.locator('.ordered-name'), new RegExp(`^${OVERLAY}$`), 'the chosen overlays');
        await shot('blueprint-create-form');
        await bpForm.getByRole('button', { name: 'Create blueprint' }).click();
        await page.waitForFunction((n) => location.hash === `#/blueprints/${n}`, BLUEPRINT);
        await expectText(page.locator('main h1'), new RegExp(`^${BLUEPRINT}$`), 'the blueprint page');
        await expectText(page.locator('.ordered-name'), new RegExp(`^${OVERLAY}$`), 'the blueprint\'s overlays');
        await shot('blueprint');

        step('create an instance');
        const insForm = await createForm('instances', 'an instance');
        await insForm.getByLabel('Name', { exact: true }).fill(INSTANCE);
        await insForm.getByLabel('Blueprint', { exact: true }).selectOption(BLUEPRINT);
        await insForm.getByLabel('Hostname', { exact: true }).fill('left4me browser test');
        await insForm.getByRole('button', { name: 'Create instance' }).click();
        const card = page.locator(`li.card.instance[data-name="${INSTANCE}"]`);
        await card.waitFor();
        await expectText(card.locator('.badge'), /^stopped$/, 'the new instance\'s state');
        await shot('dashboard-instance');

        step('start it and see its log in the console');
        await card.getByRole('link', { name: INSTANCE }).click();
        await page.waitForFunction((n) => location.hash === `#/instances/${n}`, INSTANCE);
        await expectState(/^stopped$/, 'the instance page');
        await page.getByRole('button', { name: 'Start', exact: true }).click();
        await expectState(/^running$/, 'the started instance', 60000);
        await expectText(page.locator('.console-card .console div'), /fake srcds: (starting on port|ready)/, 'the console', 30000);
        // The map the server reports (A2S) arrives as a live update.
        await expectText(page.locator('dl.props div').filter({ has: page.locator('dt', { hasText: /^Map$/ }) }).locator('dd'),
                /^[A-Za-z0-9_]+$/, 'the map of the running server', 30000);
        await shot('instance-running');

        step('send status and see the reply');
        await page.getByLabel('Command', { exact: true }).fill('status');
        await page.getByRole('button', { name: 'Send', exact: true }).click();
        await expectText(page.locator('.console-card .console div.cmd'), /^> status$/, 'the command in the console');
        await expectText(page.locator('.console-card .console div.reply'), /^players\s*:/, 'the reply in the console');
        await expectText(page.locator('.console-card .console div.reply'), /^map\s*:/, 'the reply in the console');
        await shot('instance-status');
        const atEnd = await page.locator('.console-card .console').evaluate((el) => el.scrollTop + el.clientHeight >= el.scrollHeight - 8);
        if (!atEnd)
                fail('the console does not show its last lines');

        step('the limits: the use of the running server, a limit set');
        const limitsForm = page.locator('form.limits');
        const limitRow = (label) => limitsForm.locator('dl.props div')
                .filter({ has: page.locator('dt', { hasText: new RegExp(`^${label}$`) }) }).locator('dd');
        await expectText(limitRow('Memory max'), /^[0-9]+[KMGT]? \(default\)$/, 'the default memory limit');
        await expectText(limitRow('Tasks'), /^[0-9]+ of [0-9]+$/, 'the tasks of the running server', 20000);
        await limitsForm.getByLabel('Memory max', { exact: true }).fill('1G');
        await limitsForm.getByRole('button', { name: 'Save limits' }).click();
        await expectText(limitRow('Memory max'), /^1G$/, 'the memory limit after saving');
        await shot('instance-limits');

        step('back it up while it runs');
        const backups = page.locator('section.backups');
        const backupJob = backups.locator('.backup-job .job-message');
        await backups.getByRole('button', { name: 'Back up now' }).click();
        await expectText(backupJob, /instance-backup: succeeded/, 'the backup job', 120000);
        const backupRow = backups.locator('tbody tr').first();
        await expectText(backupRow.locator('td').first(), /^#[0-9]+$/, 'the backup in the list');
        const restore = backupRow.getByRole('button', { name: /^Restore backup / });
        if (!(await restore.isDisabled()))
                fail('Restore is offered while the server runs');
        await shot('instance-backup');

        step('the instance\'s Files card: what the running server wrote (in its disk image), read-only; a file downloads');
        const files = page.locator('section.files-card');
        await files.getByRole('button', { name: 'Open folder left4dead2' }).click();
        await files.getByRole('button', { name: 'Open folder logs' }).click();
        const startLog = files.locator('tr[data-name="fake-srcds-starts.txt"] a');
        await startLog.waitFor();
        const [startsDl] = await Promise.all([page.waitForEvent('download'), startLog.click()]);
        const starts = readFileSync(await startsDl.path()).toString();
        if (startsDl.suggestedFilename() !== 'fake-srcds-starts.txt' || !/ pid [0-9]+ port [0-9]+ map /.test(starts))
                fail(`the server's start log downloaded as ${startsDl.suggestedFilename()}: "${starts}"`);
        await shot('instance-files');

        step('stop it');
        await page.getByRole('button', { name: 'Stop', exact: true }).click();
        await expectState(/^stopped$/, 'the stopped instance', 60000);
        await expectText(page.locator('section.files-card .empty-note'), /can be read only while the server runs/,
                'the Files card of a stopped server with a disk image');
        await shot('instance-stopped');

        step('download the backup and restore it');
        const [download] = await Promise.all([page.waitForEvent('download'),
                backupRow.getByRole('link', { name: /^Download backup / }).click()]);
        const magic = readFileSync(await download.path()).subarray(0, 4).toString('hex');
        if (magic !== '28b52ffd')
                fail(`the downloaded backup does not start like zstd: ${magic}`);
        console.log(`downloaded ${download.suggestedFilename()}`);
        await page.waitForFunction(() => {
                const b = document.querySelector('section.backups tbody tr button[aria-label^="Restore backup"]');
                return b && !b.disabled;
        }).catch(() => fail('Restore stays disabled on a stopped server'));
        page.once('dialog', (d) => d.accept());
        await restore.click();
        await expectText(backupJob, /backup-restore: succeeded/, 'the restore job', 120000);
        await shot('instance-restored');

        step('a schedule: created, run, disabled, deleted');
        const schForm = await createForm('schedules', 'a schedule');
        await schForm.getByLabel('Name', { exact: true }).fill(SCHEDULE);
        await schForm.getByLabel('When', { exact: true }).fill('*-*-* 04:00:00');
        await schForm.getByLabel('Action', { exact: true }).selectOption('restart');
        await schForm.getByLabel('Target', { exact: true }).selectOption(INSTANCE);
        await schForm.getByLabel('Only if the server is running').check();
        await shot('schedule-create-form');
        await schForm.getByRole('button', { name: 'Create schedule' }).click();
        const sch = page.locator(`li.card.schedule[data-name="${SCHEDULE}"]`);
        await expectText(sch.locator('.card-head .badge'), /^enabled$/, 'the new schedule');
        await expectText(sch.locator('dd'), new RegExp(`^restart ${INSTANCE} \\(only if running\\)$`), 'the schedule\'s action');
        await expectText(sch.locator('dd'), /[0-9]/, 'its next run');
        await sch.getByRole('button', { name: 'Run now' }).click();
        await expectText(sch.locator('dd'), /skipped/, 'the result of a run while the server is stopped', 30000);
        await sch.getByRole('button', { name: 'Disable' }).click();
        await expectText(sch.locator('.card-head .badge'), /^disabled$/, 'the disabled schedule');
        await expectText(sch.locator('dd'), /^— \(disabled\)$/, 'the next run of a disabled schedule');
        await shot('schedules');
        page.once('dialog', (d) => d.accept());
        await sch.getByRole('button', { name: 'Delete' }).click();
        await sch.waitFor({ state: 'detached' });

        step('the dashboard follows');
        await nav('instances');
        await expectText(card.locator('.badge'), /^stopped$/, 'the instance on the dashboard');
        await shot('dashboard-stopped');

        step('the jobs page');
        await nav('jobs');
        await expectText(page.locator('li.card.job h2'), /^#[0-9]+ workshop-build$/, 'the build job in the list');
        await expectText(page.locator('li.card.job .badge'), /^succeeded$/, 'the build job\'s state');
        await expectText(page.locator('li.card.job dd a'), new RegExp(`^overlay ${OVERLAY}$`), 'the build job\'s target by name');
        await shot('jobs');

        step('the system page lists the build\'s Workshop file in the cache');
        await nav('system');
        const cacheRow = page.locator('section.cache-card tbody tr').filter({ hasText: new RegExp(`^${item}`) });
        await expectText(cacheRow.locator('td'), /^1 overlay$/, 'the cached item, used by the built overlay');
        await expectText(cacheRow.locator('td'), /^[0-9.]+ (KiB|MiB)$/, 'the cached item\'s size');
        await shot('system');

        step('the users page (an admin\'s)');
        await nav('users');
        await expectText(page.locator('table.stack tbody td'), new RegExp(`^${user}$`), 'the web accounts');
        await shot('users');

        step('the account page');
        await page.locator('#who-account').click();
        await page.waitForFunction(() => location.hash === '#/account');
        await page.getByLabel('New password', { exact: true }).waitFor();
        await shot('account');

        step('log out');
        await page.getByRole('button', { name: 'Log out' }).click();
        await page.locator('#login-title').waitFor();
        await page.waitForFunction(() => location.hash === '#/login');
        if (!(await page.locator('#top').isHidden()))
                fail('the header still shows after logging out');
        await page.reload();
        await page.locator('#login-title').waitFor();
        await shot('logged-out');

}, '[WORKSHOP-ITEM]');
