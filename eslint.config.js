// SPDX-License-Identifier: GPL-2.0-or-later
// eslint's flat config for the browser UI (web-bridge/ui) and the browser
// tests (tests/browser): run by meson test (web-bridge/ui/meson.build) with
// the eslint pinned in tests/browser/package.json.
// Its plugins are tests/browser's packages (npm ci there), found from here.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const browserTests = createRequire(new URL('./tests/browser/package.json', import.meta.url));
const load = async (name) => (await import(pathToFileURL(browserTests.resolve(name)).href)).default;
const js = await load('@eslint/js');
const globals = await load('globals');

export default [
        {
                ignores: ['**/node_modules/**', 'build*/**', '_build/**'],
        },
        js.configs.recommended,
        {
                files: ['web-bridge/ui/**/*.js'],
                languageOptions: {
                        ecmaVersion: 2024,
                        sourceType: 'module',
                        globals: { ...globals.browser },
                },
        },
        {
                files: ['web-bridge/ui/tests/**/*.mjs', 'tests/browser/**/*.mjs', 'eslint.config.js'],
                languageOptions: {
                        ecmaVersion: 2024,
                        sourceType: 'module',
                        globals: { ...globals.node, ...globals.browser },
                },
        },
        {
                rules: {
                        'no-unused-vars': ['error', { caughtErrors: 'none' }],
                        'no-shadow': 'error',
                        eqeqeq: ['error', 'always'],
                        'no-var': 'error',
                        'prefer-const': 'error',
                },
        },
];
