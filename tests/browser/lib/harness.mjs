// SPDX-License-Identifier: GPL-2.0-or-later
// What every browser test of the left4me UI shares: Debian's chromium
// driven by playwright-core with a fresh profile, a 1280x800 desktop and a
// 375x812 phone, and checks that fail the run: the phone view scrolling
// sideways, a console or page error, a touch target under 40 px, a request
// to a non-local host. Screenshots of both go to OUTPUT-DIR.
//
// A flow file (ui-flow.mjs, flow-*.mjs) is
//
//   import { runFlow } from './lib/harness.mjs';
//   await runFlow('flow-example', async (t) => {
//           t.step('the instances page');
//           await t.login();
//           await t.nav('instances');
//           await t.shot('instances');
//   });
//
// and runs as: node FLOW BASE-URL USER PASSWORD OUTPUT-DIR [EXTRA...]
// (tests/integration/test-29-web-browser.sh runs each one in its own case).
// Its last line is "NAME: every step passed; N screenshots in DIR" and its
// exit status 0, or "NAME: FAILED: ..." and 1.
// Environment: CHROMIUM (default /usr/bin/chromium).

import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 812 };
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
export const TOUCH_MIN = 40;

// The phone view's sideways overflow: document and client width and the
// first elements that stick out (in the page, evaluated by the browser).
function sidewaysOverflow() {
        const doc = document.documentElement;
        const wide = [];
        if (doc.scrollWidth > doc.clientWidth + 1)
                for (const el of document.querySelectorAll('body *')) {
                        const r = el.getBoundingClientRect();
                        if (r.width && r.right > doc.clientWidth + 1 && !el.closest('.table-box, .console, nav'))
                                wide.push(`${el.tagName.toLowerCase()}.${el.className} right=${Math.round(r.right)}`);
                }
        return { scroll: doc.scrollWidth, client: doc.clientWidth, wide: wide.slice(0, 5) };
}

// Buttons, navigation links and summaries smaller than min px (in the page).
function smallTargets(min) {
        const out = [];
        for (const el of document.querySelectorAll('button, nav a, summary')) {
                const r = el.getBoundingClientRect();
                if (r.width === 0 || r.height === 0)
                        continue;
                if (r.height < min || r.width < min)
                        out.push(`${el.tagName.toLowerCase()} "${el.textContent.trim()}" ${Math.round(r.width)}x${Math.round(r.height)}`);
        }
        return out;
}

// runFlow(name, body, usageExtra): parses the arguments, starts the
// browser, runs await body(t) with the harness t, checks what the page did,
// prints the result and exits.
export async function runFlow(name, body, usageExtra) {
        const [base, user, password, outDir, ...extra] = process.argv.slice(2);
        if (!base || !user || !password || !outDir) {
                console.error(`usage: ${name}.mjs BASE-URL USER PASSWORD OUTPUT-DIR${usageExtra ? ' ' + usageExtra : ''}`);
                process.exit(2);
        }
        mkdirSync(outDir, { recursive: true });
        const profile = mkdtempSync(join(tmpdir(), 'l4m-chromium-'));
        const context = await chromium.launchPersistentContext(profile, {
                executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
                args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                        '--disable-background-networking', '--disable-component-update', '--disable-sync',
                        '--disable-default-apps', '--disable-extensions'],
                viewport: DESKTOP,
                colorScheme: 'light',
        });
        const page = context.pages()[0] || await context.newPage();
        const t = harness({ name, page, context, base, user, password, outDir, extra });
        let exitCode = 0;
        try {
                await body(t);
                t.step('the whole run');
                if (t.problems.length)
                        t.fail(t.problems.join('\n  '));
                console.log(`${name}: every step passed; ${t.shots * 2} screenshots in ${outDir}`);
        } catch (e) {
                console.error(`${name}: FAILED: ${e.message}`);
                for (const p of t.problems)
                        console.error(`  ${p}`);
                exitCode = 1;
                await page.screenshot({ path: join(outDir, 'failure.png'), fullPage: true }).catch(() => {});
        } finally {
                await context.close();
                rmSync(profile, { recursive: true, force: true });
        }
        process.exit(exitCode);
}

// The harness of one page: its checks and the helpers flows use.
export function harness({ name, page, context, base, user, password, outDir, extra }) {
        const t = {
                name, page, context, base, user, password, outDir, extra: extra || [],
                problems: [],
                shots: 0,
                stepName: '',
        };
        page.setDefaultTimeout(20000);
        page.on('request', (req) => {
                const url = new URL(req.url());
                if (url.protocol === 'data:')
                        return;
                if (!LOCAL_HOSTS.has(url.hostname))
                        t.problems.push(`request to a non-local host: ${req.url()}`);
        });
        page.on('pageerror', (err) => t.problems.push(`page error: ${err.message}`));
        page.on('console', (msg) => {
                if (msg.type() !== 'error')
                        return;
                // Chromium reports every HTTP error answer to a fetch; the UI
                // expects these two (not logged in yet, wrong password).
                const where = msg.location().url || '';
                if (/Failed to load resource: .* 401/.test(msg.text()) &&
                    (where.endsWith('/api/session') || where.endsWith('/api/login')))
                        return;
                if (t.allowConsoleError && t.allowConsoleError(msg.text(), where))
                        return;
                t.problems.push(`console error: ${msg.text()} (${where})`);
        });

        t.fail = (msg) => {
                throw new Error(`${t.stepName}: ${msg}`);
        };
        t.step = (s) => {
                t.stepName = s;
                console.log(`--- ${s}`);
        };

        // checkPhone(what): at the phone's width now, nothing sticks out
        // sideways and every touch target is big enough.
        t.checkPhone = async (what) => {
                const over = await page.evaluate(sidewaysOverflow);
                if (over.scroll > over.client + 1)
                        t.problems.push(`${what}: the phone view scrolls sideways (${over.scroll} > ${over.client}): ${over.wide.join(', ')}`);
                const small = await page.evaluate(smallTargets, TOUCH_MIN);
                if (small.length)
                        t.problems.push(`${what}: touch targets smaller than ${TOUCH_MIN} px on the phone: ${small.join('; ')}`);
                return over.scroll <= over.client + 1 && !small.length;
        };
        // onPhone(fn): await fn() with the phone's viewport, then the desktop's again.
        t.onPhone = async (fn) => {
                await page.setViewportSize(PHONE);
                try {
                        return await fn();
                } finally {
                        await page.setViewportSize(DESKTOP);
                }
        };
        // shot(name): desktop and phone screenshots of the current page, with
        // the phone checks.
        t.shot = async (shotName) => {
                t.shots++;
                const n = String(t.shots).padStart(2, '0');
                await page.evaluate(() => window.scrollTo(0, 0));
                await page.screenshot({ path: join(outDir, `${n}-${shotName}-desktop.png`), fullPage: true });
                await t.onPhone(async () => {
                        await t.checkPhone(shotName);
                        await page.screenshot({ path: join(outDir, `${n}-${shotName}-phone.png`), fullPage: true });
                });
        };

        t.expectText = async (locator, re, what, timeout) => {
                try {
                        await locator.filter({ hasText: re }).first().waitFor({ state: 'visible', timeout: timeout || 20000 });
                } catch (e) {
                        const seen = await locator.allTextContents().catch(() => []);
                        t.fail(`${what}: expected ${re}, saw ${JSON.stringify(seen.slice(0, 5))}`);
                }
        };
        // The error notices shown, as one line.
        t.notices = async () => (await page.locator('#notices .notice.error').allTextContents()).join(' | ');

        // Waits until the page header's badge shows state (failing early on
        // an error notice).
        t.expectState = async (re, what, timeout) => {
                const deadline = Date.now() + (timeout || 30000);
                for (;;) {
                        const s = (await page.locator('.page-head .badge').first().textContent()) || '';
                        if (re.test(s.trim()))
                                return;
                        if (Date.now() > deadline)
                                t.fail(`${what}: the state is "${s}", expected ${re}; notices: ${await t.notices()}`);
                        await page.waitForTimeout(200);
                }
        };
        // Waits until the page of hash is shown and loaded.
        t.waitPage = (hash) => page.waitForFunction((want) => location.hash === want &&
                !document.getElementById('main').hasAttribute('aria-busy'), hash);
        t.nav = async (section) => {
                await page.locator(`#nav a[data-section="${section}"]`).click();
                await t.waitPage(`#/${section}`);
        };
        // createForm(section, what): the section's page with its "Create WHAT" form open.
        t.createForm = async (section, what) => {
                await t.nav(section);
                await page.locator('summary', { hasText: `Create ${what}` }).click();
                return page.locator(`form[aria-label="Create ${what}"]`);
        };
        // login(): from the login page to the instances, as USER.
        t.login = async () => {
                await page.goto(base + '/');
                await page.locator('#login-title').waitFor();
                await page.getByLabel('User', { exact: true }).fill(user);
                await page.getByLabel('Password', { exact: true }).fill(password);
                await page.getByRole('button', { name: 'Log in' }).click();
                await t.waitPage('#/instances');
        };
        return t;
}
