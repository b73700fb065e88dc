// SPDX-License-Identifier: GPL-2.0-or-later
// node --test: what the pages say about states (lib/status-text.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { gameStatus, playersText, portRangeText, quotaText, serverUp, settingsSavedText } from '../lib/status-text.js';

test('playersText: a dash unless the server runs', () => {
        assert.equal(playersText({ State: 'stopped', Players: 0, MaxPlayers: 0 }), '—');
        assert.equal(playersText({ State: 'starting', Players: 0, MaxPlayers: 0, PlayerLimit: 8 }), '—');
        assert.equal(playersText({ State: 'running', Players: 3, MaxPlayers: 8 }), '3/8');
        assert.equal(playersText({ State: 'running', Players: 0, MaxPlayers: 0, PlayerLimit: 4 }), '0/4');
        assert.equal(playersText(null), '—');
});

test('portRangeText: the configured range, or nothing', () => {
        assert.equal(portRangeText({ InstancePortMin: 27015, InstancePortMax: 27115 }), '27015–27115');
        assert.equal(portRangeText({}), '');
        assert.equal(portRangeText(null), '');
});

test('settingsSavedText: a running server gets them at its next start', () => {
        assert.match(settingsSavedText('running', ['hostname']), /apply at its next start/);
        assert.match(settingsSavedText('starting', ['map', 'autostart']), /next start/);
        assert.equal(settingsSavedText('running', ['autostart']), 'Settings saved.');
        assert.equal(settingsSavedText('stopped', ['hostname', 'limit']), 'Settings saved.');
        assert.match(settingsSavedText('stopped', []), /^Nothing to save/);
        assert.equal(serverUp('failed'), false);
        assert.equal(serverUp('stopping'), true);
});

test('gameStatus: missing, or the build and the login', () => {
        assert.equal(gameStatus({ GameInstalled: false }).installed, false);
        assert.match(gameStatus(null).title, /not installed/);
        const g = gameStatus({ GameInstalled: true, GameBuildId: '1000001', SteamLogin: '' });
        assert.equal(g.installed, true);
        assert.match(g.text, /Build 1000001/);
        assert.match(g.text, /anonymously/);
        assert.match(gameStatus({ GameInstalled: true, GameBuildId: '7', SteamLogin: 'ann' }).text, /Steam account ann/);
});

test('quotaText: with and without a quota', () => {
        const f = (n) => `${n} B`;
        assert.equal(quotaText(5, 2 ** 64 - 1, f), '5 B (no quota)');
        assert.equal(quotaText(5, null, f), '5 B (no quota)');
        assert.equal(quotaText(25, 100, f), '25 B of 100 B (25 %)');
        assert.equal(quotaText(1, 0, f), '1 B of 0 B (0 %)');
});
