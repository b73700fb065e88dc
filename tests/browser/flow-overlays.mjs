// SPDX-License-Identifier: GPL-2.0-or-later
// Overlays, blueprints and the file browser (issue 16, defects 1, 2, 5, 9,
// 10, 11), each as steps that would have caught it, on desktop and phone:
//
//  1  a Workshop overlay with a bad item and an archive overlay with an ftp://
//     source are refused next to the form, nothing is created, and a retry
//     with the same name works;
//  5  while a build runs the overlay page offers Cancel instead of Build and
//     Wipe/Delete/Save are disabled; a long script build is cancelled;
//  9  an upload takes strip-components (and the other import options); a
//     failed import leaves the overlay "ready"; the script hint names
//     $GAME_DIR; a script build's bar is indeterminate, not "0 %";
//  11 the Workshop items show title, size, last update and status;
//  the file browser lists folders and files with sizes, downloads a file,
//     shows a symbolic link (a Workshop item's link into the cache, one an
//     archive brought) without following it;
//  10 the blueprint's add list offers only overlays not in it; a reorder is
//     marked unsaved and leaving asks first;
//  2  a save with a refused launch argument changes nothing; a good one
//     saves overlays, server.cfg and arguments at once.
//
//   node flow-overlays.mjs BASE-URL USER PASSWORD OUTPUT-DIR OK PRIVATE REMOVED OTHER
//
// OK..OTHER: Workshop ids the fake Steam API answers as a public item
// (titled "uia ok map", updated in 2023, OK-SIZE bytes: the 9th argument),
// a private one, a removed one and one of another game. Environment: UI_FLOW_PREFIX
// (default "uia") names what the flow creates; it deletes it at the end.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { runFlow } from './lib/harness.mjs';

const P = process.env.UI_FLOW_PREFIX || 'uia';
const WS = `${P}-ws`;
const ARC = `${P}-arc`;
const SCR = `${P}-script`;
const BP = `${P}-bp`;
const CFG_TEXT = 'sv_allow_lobby_connect_only 0\n';

// A tar holding pkg/left4dead2/cfg/uia.cfg and a symbolic link next to it
// (pkg/ is what strip_components 1 drops).
function packageTar() {
        const dir = mkdtempSync(join(tmpdir(), 'l4m-uia-'));
        try {
                mkdirSync(join(dir, 'pkg', 'left4dead2', 'cfg'), { recursive: true });
                writeFileSync(join(dir, 'pkg', 'left4dead2', 'cfg', 'uia.cfg'), CFG_TEXT);
                symlinkSync('uia.cfg', join(dir, 'pkg', 'left4dead2', 'cfg', 'uia-link.cfg'));
                return execFileSync('tar', ['-C', dir, '-cf', '-', 'pkg']);
        } finally {
                rmSync(dir, { recursive: true, force: true });
        }
}

const SCRIPT = `#!/bin/bash
set -euo pipefail
echo "building $OVERLAY_NAME into $GAME_DIR"
sleep 3
mkdir -p "$OVERLAY/$GAME_DIR/cfg"
echo 'sv_cheats 0' > "$OVERLAY/$GAME_DIR/cfg/${P}-script.cfg"
echo "script done"
`;

await runFlow('flow-overlays', async (t) => {
        const { page, step, fail, shot, expectText, expectState } = t;
        const [okId, privateId, removedId, otherId, okSize] = t.extra;
        if (!otherId)
                fail('usage: four Workshop ids (ok, private, removed, other game) and the ok one\'s size');

        // Refusals this flow provokes on purpose (chromium logs each answer).
        t.allowConsoleError = (text, where) => /Failed to load resource: .* (400|404|409)/.test(text) &&
                /\/api\/(overlays|blueprints\/[^/?]+)(\/[^/?]+)?(\?.*)?$/.test(where);
        let answer = true;
        const dialogs = [];
        page.on('dialog', (d) => {
                dialogs.push(d.message());
                if (answer)
                        d.accept();
                else
                        d.dismiss();
        });
        // The bridge's answer to GET path, as the page's session sees it.
        const get = (path) => page.evaluate(async (p) => {
                const r = await fetch(p, { headers: { Accept: 'application/json' } });
                return { status: r.status, body: r.ok ? await r.json() : null };
        }, path);
        const call = (method, path, body) => page.evaluate(async ([m, p, b]) => {
                const s = await (await fetch('/api/session')).json();
                const r = await fetch(p, { method: m, headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf }, body: JSON.stringify(b || {}) });
                return r.status;
        }, [method, path, body]);
        const form = page.locator('form[aria-label="Create an overlay"]');
        const formError = form.locator('.form-error');
        const openCreate = async () => {
                await t.nav('overlays');
                const box = page.locator('details.create-box');
                if (!(await box.evaluate((d) => d.open)))
                        await page.locator('summary', { hasText: 'Create an overlay' }).click();
        };
        const createRefused = async (name, what) => {
                await form.getByRole('button', { name: 'Create overlay' }).click();
                await expectText(formError, /\S/, `${what}: the error next to the form`);
                const text = await formError.locator('span').first().textContent();
                if (/org\.left4me\.|SetWorkshopItems|SetArchiveSource/.test(text))
                        fail(`${what}: the error shows internals: "${text}"`);
                if ((await page.evaluate(() => location.hash)) !== '#/overlays')
                        fail(`${what}: the page left the overlay list`);
                const r = await get(`/api/overlays/${name}`);
                if (r.status !== 404)
                        fail(`${what}: a refused create left overlay ${name} behind (GET answered ${r.status})`);
                console.log(`${what}: refused with "${text}"`);
        };
        const jobBadge = page.locator('.job-panel .card-head .badge');
        const upForm = page.locator('form[aria-label="Upload an archive"]');
        const cancelBtn = page.getByRole('button', { name: 'Cancel the running job' });
        const filesCard = page.locator('section.files-card');
        const openFolder = async (name) => {
                await filesCard.getByRole('button', { name: `Open folder ${name}` }).click();
                await expectText(filesCard.locator('.crumb.current'), new RegExp(`^${name}$`), `the folder ${name}`);
        };
        const download = async (name) => {
                const [d] = await Promise.all([page.waitForEvent('download'),
                        filesCard.locator(`tr[data-name="${name}"] a.fname`).click()]);
                const buf = readFileSync(await d.path());
                console.log(`downloaded ${d.suggestedFilename()}: ${buf.length} bytes`);
                return { name: d.suggestedFilename(), buf };
        };

        step('log in; nothing of this flow is left from an earlier run');
        await t.login();
        for (const n of [WS, ARC, SCR])
                if ((await get(`/api/overlays/${n}`)).status !== 404)
                        fail(`overlay ${n} exists already`);

        step('defect 1: a Workshop overlay with a bad item is refused whole, next to the form');
        await openCreate();
        await form.getByLabel('Name', { exact: true }).fill(WS);
        await form.getByLabel('Type').selectOption('workshop');
        await form.getByLabel('Workshop items').fill('104 not-an-id');
        await createRefused(WS, 'items "104 not-an-id"');
        await shot('overlay-create-refused');

        step('defect 1: the same name again, with good items, is created with them');
        await form.getByLabel('Workshop items').fill([okId, privateId, removedId, otherId].join('\n'));
        await form.getByRole('button', { name: 'Create overlay' }).click();
        await t.waitPage(`#/overlays/${WS}`);
        await expectState(/^empty$/, 'the new Workshop overlay');
        const items = await page.getByRole('textbox', { name: 'Items' }).inputValue();
        if (items.split('\n').length !== 4)
                fail(`the overlay's items are "${items}", expected the four ids`);

        step('defect 5: while the build runs, Cancel instead of Build; Wipe, Delete and Save disabled');
        await page.getByRole('button', { name: 'Build', exact: true }).click();
        await cancelBtn.waitFor({ state: 'visible' }).catch(() => fail('no Cancel while the build runs'));
        for (const b of ['Wipe', 'Delete overlay', 'Save items'])
                if (!(await page.getByRole('button', { name: b, exact: true }).isDisabled()))
                        fail(`"${b}" is enabled while the build runs`);
        if (await page.getByRole('button', { name: 'Build', exact: true }).isVisible())
                fail('Build is offered while the build runs');
        await expectText(jobBadge, /^succeeded$/, 'the build', 60000);
        await expectState(/^ready$/, 'the built overlay');
        await page.getByRole('button', { name: 'Build', exact: true }).waitFor({ state: 'visible' });
        if (await cancelBtn.isVisible())
                fail('Cancel is still offered after the build ended');
        if (await page.getByRole('button', { name: 'Wipe', exact: true }).isDisabled())
                fail('Wipe stays disabled after the build ended');

        step('defect 11: each item\'s title, size, last update and status');
        const rows = page.locator('table.items tbody tr');
        await expectText(rows, /uia ok map/, 'the ok item\'s title');
        const statuses = await rows.evaluateAll((trs) => trs.map((tr) => [tr.dataset.id, tr.dataset.status,
                tr.querySelector('.badge').textContent]));
        const want = [[okId, 'ok', 'ok'], [privateId, 'private', 'private'], [removedId, 'removed', 'removed'], [otherId, 'other-game', 'other game']];
        if (JSON.stringify(statuses) !== JSON.stringify(want))
                fail(`item statuses ${JSON.stringify(statuses)}, expected ${JSON.stringify(want)}`);
        const cells = await rows.first().locator('td').allTextContents();
        const kib = `${(Number(okSize) / 1024).toFixed(1)} KiB`;
        if (cells[1] !== kib || !/2023/.test(cells[2]))
                fail(`the ok item's size and last update are "${cells[1]}", "${cells[2]}", expected ${kib} and a day of 2023`);
        await shot('overlay-workshop-items');

        step('the file browser: folders; a Workshop item is a link into the cache, listed, not followed');
        await filesCard.locator('tr[data-name="left4dead2"]').waitFor();
        await openFolder('left4dead2');
        await openFolder('addons');
        const vpk = filesCard.locator(`tr[data-name="${okId}.vpk"]`);
        await vpk.waitFor();
        if (await vpk.getAttribute('data-type') !== 'symlink' || await vpk.locator('a, button').count())
                fail('the item\'s link can be followed or downloaded');
        await expectText(filesCard.locator('.files-summary'), /^1 link$/, 'the folder summary');
        await shot('overlay-files');
        await filesCard.getByRole('button', { name: 'Open the top folder' }).click();
        await filesCard.locator('tr[data-name="left4dead2"]').waitFor();

        step('defect 1: an archive overlay with an ftp:// source is refused whole');
        await openCreate();
        await form.getByLabel('Name', { exact: true }).fill(ARC);
        await form.getByLabel('Type').selectOption('archive');
        await form.getByLabel('Source URL').fill('ftp://example.org/maps.zip');
        await createRefused(ARC, 'source ftp://');

        step('defect 1: the same name without a source is created');
        await form.getByLabel('Source URL').fill('');
        await form.getByRole('button', { name: 'Create overlay' }).click();
        await t.waitPage(`#/overlays/${ARC}`);
        await expectState(/^empty$/, 'the new archive overlay');

        step('defect 9: an upload with "leading folders to drop" 1');
        await upForm.getByLabel('Archive file').setInputFiles({ name: 'package.tar', mimeType: 'application/x-tar', buffer: packageTar() });
        await upForm.locator('summary', { hasText: 'Import options' }).click();
        await upForm.getByLabel('Leading folders to drop').fill('1');
        await page.getByRole('button', { name: 'Upload', exact: true }).click();
        await expectText(jobBadge, /^succeeded$/, 'the import', 60000);
        await expectState(/^ready$/, 'the imported overlay');
        await filesCard.locator('tr[data-name="left4dead2"]').waitFor();
        if (await filesCard.locator('tr[data-name="pkg"]').count())
                fail('pkg/ was not dropped');

        step('the file browser: a symbolic link is shown, not followed; a file downloads');
        await openFolder('left4dead2');
        await openFolder('cfg');
        const link = filesCard.locator('tr[data-name="uia-link.cfg"]');
        await link.waitFor();
        if (await link.getAttribute('data-type') !== 'symlink')
                fail('uia-link.cfg is not shown as a symbolic link');
        if (await link.locator('a, button').count())
                fail('the symbolic link can be opened or downloaded');
        await expectText(link, /not followed/, 'the link\'s note');
        const cfg = await download('uia.cfg');
        if (cfg.name !== 'uia.cfg' || cfg.buf.toString() !== CFG_TEXT)
                fail(`downloaded ${cfg.name}: "${cfg.buf.toString()}"`);

        step('defect 9: a failed import leaves the overlay "ready", and says why');
        await upForm.getByLabel('Archive file').setInputFiles({ name: 'broken.zip', mimeType: 'application/zip', buffer: Buffer.from('PK\x03\x04 this is not a zip file at all') });
        await upForm.getByLabel('Leading folders to drop').fill('0');
        await page.getByRole('button', { name: 'Upload', exact: true }).click();
        await expectText(jobBadge, /^failed$/, 'the broken import', 60000);
        await expectText(page.locator('#notices .notice.error'), /^Import failed/, 'the failure notice');
        await expectText(page.locator('#notices .notice.error .notice-details'), /archive/i, 'the failure\'s reason');
        await expectState(/^ready$/, 'the overlay after a failed import');
        if (await page.locator('#notices .notice', { hasText: /queued|Import (started|finished)/ }).count())
                fail(`a notice of the import's start stays after its failure: ${await page.locator('#notices .notice').allTextContents()}`);
        await shot('overlay-import-failed');

        step('defect 9: a script overlay; its hint names $GAME_DIR');
        await openCreate();
        await form.getByLabel('Name', { exact: true }).fill(SCR);
        await form.getByLabel('Type').selectOption('script');
        await expectText(form.locator('.hint'), /\$GAME_DIR/, 'the script hint');
        await form.getByLabel('Script').fill(SCRIPT);
        await form.getByRole('button', { name: 'Create overlay' }).click();
        await t.waitPage(`#/overlays/${SCR}`);
        await expectState(/^empty$/, 'the new script overlay');
        await page.locator('textarea[name="script"]:not([aria-busy])').waitFor();
        if ((await page.getByRole('textbox', { name: 'Script' }).inputValue()) !== SCRIPT)
                fail('the script was not stored with the overlay');

        step('defect 9: the script build\'s bar is indeterminate while it runs; its log shows');
        await page.getByRole('button', { name: 'Build', exact: true }).click();
        await expectText(jobBadge, /^running$/, 'the script build', 30000);
        const bar = await page.locator('.job-panel progress').evaluate((p) => ({ has: p.hasAttribute('value'), pct: p.parentElement.querySelector('.pct').textContent }));
        if (bar.has || /%/.test(bar.pct))
                fail(`the script build's bar claims a percentage: ${JSON.stringify(bar)}`);
        await expectText(page.locator('.job-panel .console div'), new RegExp(`building ${SCR} into left4dead2`), 'the build log');
        await expectText(jobBadge, /^succeeded$/, 'the script build', 60000);
        await expectText(page.locator('.job-panel .console div'), /script done/, 'the end of the log');
        await expectState(/^ready$/, 'the built script overlay');
        await openFolder('left4dead2');
        await openFolder('cfg');
        const made = await download(`${SCR}.cfg`);
        if (made.buf.toString() !== 'sv_cheats 0\n')
                fail(`the script's file downloads as "${made.buf.toString()}"`);

        step('defect 5: "Save and build" a long script, then Cancel it');
        await page.getByRole('textbox', { name: 'Script' }).fill('#!/bin/bash\necho "a long one"\nsleep 600\n');
        await page.getByRole('button', { name: 'Save and build' }).click();
        await cancelBtn.waitFor({ state: 'visible' }).catch(() => fail('no Cancel while the script runs'));
        await expectText(page.locator('.job-panel .console div'), /a long one/, 'the long script\'s log', 30000);
        for (const b of ['Save script', 'Save and build', 'Wipe'])
                if (!(await page.getByRole('button', { name: b, exact: true }).isDisabled()))
                        fail(`"${b}" is enabled while the script runs`);
        await shot('overlay-script-running');
        await cancelBtn.click();
        await expectText(jobBadge, /^cancelled$/, 'the cancelled build', 30000);
        await expectText(page.locator('#notices .notice'), /Build cancelled/, 'the cancel notice');
        await page.getByRole('button', { name: 'Build', exact: true }).waitFor({ state: 'visible' });
        if (await page.getByRole('button', { name: 'Save script', exact: true }).isDisabled())
                fail('Save script stays disabled after the cancel');

        step('defect 10: the add list offers only overlays not in the blueprint yet');
        await t.nav('blueprints');
        await page.locator('summary', { hasText: 'Create a blueprint' }).click();
        const bpForm = page.locator('form[aria-label="Create a blueprint"]');
        await bpForm.getByLabel('Name', { exact: true }).fill(BP);
        const pick = bpForm.getByLabel('Overlay', { exact: true });
        const offer = () => pick.locator('option').evaluateAll((os) => os.map((o) => o.value));
        await page.waitForFunction(() => !/Loading/.test(document.querySelector('form[aria-label="Create a blueprint"] select').textContent));
        if (!(await offer()).includes(WS))
                fail(`the add list lacks ${WS}: ${JSON.stringify(await offer())}`);
        await pick.selectOption(WS);
        await bpForm.getByRole('button', { name: 'Add the chosen overlay' }).click();
        await pick.selectOption(ARC);
        await bpForm.getByRole('button', { name: 'Add the chosen overlay' }).click();
        const offered = await offer();
        if (offered.includes(WS) || offered.includes(ARC))
                fail(`the add list still offers what is in the blueprint: ${JSON.stringify(offered)}`);
        await bpForm.getByRole('button', { name: 'Create blueprint' }).click();
        await t.waitPage(`#/blueprints/${BP}`);
        const names = () => page.locator('ol.ordered li .ordered-name').allTextContents();
        if (JSON.stringify(await names()) !== JSON.stringify([WS, ARC]))
                fail(`the blueprint's overlays are ${JSON.stringify(await names())}`);

        step('defect 10: a reorder is marked unsaved, and leaving asks first');
        await page.getByLabel('Overlay', { exact: true }).selectOption(SCR);
        await page.getByRole('button', { name: 'Add the chosen overlay' }).click();
        await page.getByRole('button', { name: `Move ${SCR} up` }).click();
        await page.getByRole('button', { name: `Move ${WS} down` }).click();
        const expectOrder = [SCR, WS, ARC];
        if (JSON.stringify(await names()) !== JSON.stringify(expectOrder))
                fail(`after the moves: ${JSON.stringify(await names())}, expected ${JSON.stringify(expectOrder)}`);
        await expectText(page.locator('.dirty-note'), /Unsaved changes/, 'the unsaved mark');
        answer = false;
        const asked = dialogs.length;
        await page.locator('#nav a[data-section="overlays"]').click();
        await page.waitForTimeout(300);
        answer = true;
        if (dialogs.length !== asked + 1 || !/not saved/.test(dialogs[dialogs.length - 1]))
                fail(`leaving with unsaved changes did not ask: ${JSON.stringify(dialogs.slice(asked))}`);
        if ((await page.evaluate(() => location.hash)) !== `#/blueprints/${BP}` ||
            JSON.stringify(await names()) !== JSON.stringify(expectOrder))
                fail('the page or its unsaved order was lost after "stay"');
        await shot('blueprint-unsaved');

        step('defect 2: a refused launch argument saves nothing');
        await page.getByLabel('server.cfg').fill('hostname "uia"\n');
        await page.getByLabel('Launch arguments').fill('-tickrate 60 -port 27020');
        await page.getByRole('button', { name: 'Save blueprint' }).click();
        await expectText(page.locator('#notices .notice.error'), /./, 'the refusal');
        let b = (await get(`/api/blueprints/${BP}`)).body;
        if (JSON.stringify(b.Overlays) !== JSON.stringify([WS, ARC]) || (b.ServerCfg || '') !== '' || (b.LaunchArgs || []).length)
                fail(`a refused save changed the blueprint: ${JSON.stringify(b)}`);
        await expectText(page.locator('.dirty-note'), /Unsaved changes/, 'the changes kept in the page');

        step('defect 2: a good save stores overlays, server.cfg and arguments at once');
        await page.getByLabel('Launch arguments').fill('-tickrate 60');
        await page.getByRole('button', { name: 'Save blueprint' }).click();
        await expectText(page.locator('#notices .notice.ok'), /Blueprint saved/, 'the save');
        b = (await get(`/api/blueprints/${BP}`)).body;
        if (JSON.stringify(b.Overlays) !== JSON.stringify(expectOrder) || b.ServerCfg !== 'hostname "uia"\n' ||
            JSON.stringify(b.LaunchArgs) !== JSON.stringify(['-tickrate', '60']))
                fail(`the saved blueprint: ${JSON.stringify(b)}`);
        if (await page.locator('.dirty-note').textContent())
                fail('still marked unsaved after the save');
        const before = dialogs.length;
        await t.nav('overlays');
        if (dialogs.length !== before)
                fail('leaving after the save asked');

        step('clean up: the blueprint, then the overlays (one through its Delete button)');
        if (await call('DELETE', `/api/blueprints/${BP}`) !== 204)
                fail(`DELETE blueprint ${BP} failed`);
        await page.getByRole('link', { name: SCR, exact: true }).click();
        await t.waitPage(`#/overlays/${SCR}`);
        await page.getByRole('button', { name: 'Delete overlay' }).click();
        await t.waitPage('#/overlays');
        await expectText(page.locator('#notices .notice.ok'), new RegExp(`Overlay ${SCR} deleted`), 'the deletion');
        for (const n of [WS, ARC])
                if (await call('DELETE', `/api/overlays/${n}`) !== 204)
                        fail(`DELETE overlay ${n} failed`);
});
