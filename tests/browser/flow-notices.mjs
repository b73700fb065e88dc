// SPDX-License-Identifier: GPL-2.0-or-later
// Notices (issue 16, defect 6): an error shows its sentence and the D-Bus
// error name on a details line, and fits a 375 px phone (no sideways
// scrolling, Dismiss big enough to touch); a success after an error of the
// same form replaces it; a notice does not follow to another page; Dismiss
// removes it. Made on the Users page's "Create a user" form (a password
// that is too short, then a good one); the account it creates is deleted.
//
//   node flow-notices.mjs BASE-URL USER PASSWORD OUTPUT-DIR
//
// Environment: UI_FLOW_PREFIX (default "ui"): the account is PREFIX-notice.

import { runFlow } from './lib/harness.mjs';

const ACCOUNT = `${process.env.UI_FLOW_PREFIX || 'ui'}-notice`;

await runFlow('flow-notices', async (t) => {
        const { page, step, fail, shot, expectText } = t;
        const shown = () => page.locator('#notices .notice');
        // The refused requests of this flow (chromium logs their answers).
        t.allowConsoleError = (text, where) => /Failed to load resource: .* 4\d\d/.test(text) && /\/api\/users$/.test(where);
        page.on('dialog', (d) => d.accept());

        step('log in, the users page');
        await t.login();
        await t.nav('users');
        const form = page.locator('form[aria-label="Create a user"]');

        step('an error: its sentence and the D-Bus name on a details line');
        await form.getByLabel('Name').fill(ACCOUNT);
        await form.getByLabel('Password').fill('short');
        await form.getByRole('button', { name: 'Create user' }).click();
        await expectText(page.locator('#notices .notice.error .notice-text'), /\S/, 'the error notice');
        await expectText(page.locator('#notices .notice.error .notice-details'), /^org\.left4me\.Error\./, 'the error\'s details line');
        const text = await page.locator('#notices .notice.error .notice-text').textContent();
        if (/org\.left4me\./.test(text))
                fail(`the error's sentence names the D-Bus error: "${text}"`);

        step('the notice on a 375 px phone: no sideways scrolling, Dismiss big enough');
        await t.onPhone(async () => {
                await t.checkPhone('an error notice on the phone');
                const box = await page.locator('#notices .notice').first().boundingBox();
                if (!box || box.x < 0 || box.x + box.width > 375 + 1)
                        fail(`the notice is not within the phone's width: ${JSON.stringify(box)}`);
                const dismiss = await page.getByRole('button', { name: 'Dismiss notice' }).first().boundingBox();
                if (!dismiss || dismiss.x + dismiss.width > 375 + 1)
                        fail(`Dismiss is clipped on the phone: ${JSON.stringify(dismiss)}`);
        });
        await shot('notice-error');

        step('a success after the error of the same form shows only the success');
        await form.getByLabel('Name').fill(ACCOUNT);
        await form.getByLabel('Password').fill('a-long-enough-password');
        await form.getByRole('button', { name: 'Create user' }).click();
        await expectText(page.locator('#notices .notice.ok'), new RegExp(`User ${ACCOUNT} created`), 'the success notice');
        if (await shown().count() !== 1)
                fail(`expected the success notice alone, saw ${JSON.stringify(await shown().allTextContents())}`);
        await shot('notice-success');

        step('an error does not follow to another page');
        await form.getByLabel('Name').fill(ACCOUNT);
        await form.getByLabel('Password').fill('a-long-enough-password');
        await form.getByRole('button', { name: 'Create user' }).click();
        await page.locator('#notices .notice.error').waitFor();
        await t.nav('instances');
        if (await shown().count() !== 0)
                fail(`notices followed to the instances page: ${JSON.stringify(await shown().allTextContents())}`);

        step('Dismiss removes a notice');
        await t.nav('users');
        await form.getByLabel('Name').fill(ACCOUNT);
        await form.getByLabel('Password').fill('short');
        await form.getByRole('button', { name: 'Create user' }).click();
        await page.locator('#notices .notice.error').waitFor();
        await page.getByRole('button', { name: 'Dismiss notice' }).first().click();
        await page.locator('#notices .notice').first().waitFor({ state: 'detached' });

        step(`delete ${ACCOUNT}`);
        await page.getByRole('button', { name: `Delete ${ACCOUNT}` }).click();
        await expectText(page.locator('#notices .notice.ok'), new RegExp(`User ${ACCOUNT} deleted`), 'the deletion notice');
        await expectText(page.locator('table.stack tbody td'), new RegExp(`^${t.user}$`), 'the remaining accounts');
        if (await page.locator('table.stack tbody td', { hasText: new RegExp(`^${ACCOUNT}$`) }).count())
                fail(`${ACCOUNT} is still listed`);
});
