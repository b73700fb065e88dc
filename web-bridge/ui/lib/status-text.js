// SPDX-License-Identifier: GPL-2.0-or-later
// Pure: what the dashboard, the instance page, the game card and the
// system page say about states (players, ports, saved settings, the
// game). No DOM, no network (unit-tested in tests/status-text.test.mjs).

// Whether an instance's server process is up (or on its way up or down).
export function serverUp(state) {
        return state === 'running' || state === 'starting' || state === 'restarting' || state === 'stopping';
}

// playersText(o): "3/8" while the server runs; "—" when it does not (a
// stopped server has no players, not "0/0").
export function playersText(o) {
        if (!o || o.State !== 'running')
                return '—';
        const max = o.MaxPlayers || o.PlayerLimit || 0;
        return `${o.Players || 0}/${max}`;
}

// portRangeText(m): the ports instances may have, from GET /api/manager
// ("27015–27115"), or "" when the daemon does not say.
export function portRangeText(m) {
        if (!m || !m.InstancePortMin || !m.InstancePortMax)
                return '';
        return `${m.InstancePortMin}–${m.InstancePortMax}`;
}

// settingsSavedText(state, keys): the notice after saving keys (the PATCH
// members) of an instance in state: the server reads them when it starts,
// so a running one gets them at its next start (autostart is about the
// host's start, not the server's).
export function settingsSavedText(state, keys) {
        const startKeys = (keys || []).filter((k) => k !== 'autostart');
        if (!keys || !keys.length)
                return 'Nothing to save: the settings are as they were.';
        if (serverUp(state) && startKeys.length)
                return 'Settings saved. The server is running: they apply at its next start (restart it to apply them now).';
        return 'Settings saved.';
}

// gameStatus(m): what the dashboard says about the game from GET
// /api/manager: {installed, title, text}.
export function gameStatus(m) {
        if (!m || !m.GameInstalled)
                return {
                        installed: false,
                        title: 'The game is not installed',
                        text: 'Left 4 Dead 2\'s dedicated server (Steam app 222860) must be installed before any instance can start.',
                };
        return {
                installed: true,
                title: 'The game is installed',
                text: `Build ${m.GameBuildId || 'unknown'}; game files are downloaded ${m.SteamLogin ? `with the Steam account ${m.SteamLogin}` : 'anonymously'}.`,
        };
}

// quotaText(used, quota): "1.2 GiB of 5.0 GiB (24 %)" or "1.2 GiB (no
// quota)"; fmt formats bytes. quota null or ≥ 2^63 is none.
export function quotaText(used, quota, fmt) {
        if (quota === null || quota === undefined || quota >= 2 ** 63)
                return `${fmt(used)} (no quota)`;
        const pct = quota > 0 ? Math.min(999, Math.round(used / quota * 100)) : 0;
        return `${fmt(used)} of ${fmt(quota)} (${pct} %)`;
}
