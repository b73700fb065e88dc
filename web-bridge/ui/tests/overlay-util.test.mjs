// SPDX-License-Identifier: GPL-2.0-or-later
// node --test: the overlay and blueprint pages' pure helpers (lib/overlay-util.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
        addableOverlays, archiveOptions, itemStatusHint, itemStatusLabel, itemsSummary, jobHasProgress, moveItem,
        queryString, sameList, splitArgs, workshopUrl,
} from '../lib/overlay-util.js';

test('jobHasProgress: a script build and a wipe report none', () => {
        assert.equal(jobHasProgress('script-build'), false);
        assert.equal(jobHasProgress('overlay-wipe'), false);
        assert.equal(jobHasProgress('workshop-build'), true);
        assert.equal(jobHasProgress('archive-import'), true);
});

test('item statuses: a label and a sentence for each, unknown ones named as they are', () => {
        assert.equal(itemStatusLabel('other-game'), 'other game');
        assert.equal(itemStatusLabel('ok'), 'ok');
        assert.equal(itemStatusLabel('weird'), 'weird');
        assert.match(itemStatusHint('removed'), /Removed/);
        assert.equal(itemStatusHint('weird'), 'Unknown status');
});

test('itemsSummary: count, bytes of the usable items, items that are not ok', () => {
        assert.deepEqual(itemsSummary(undefined), { count: 0, bytes: 0, problems: 0 });
        assert.deepEqual(itemsSummary([{ size: 10, status: 'ok' }, { size: 1024, status: 'private' }, { size: 5, status: 'ok' }]),
                { count: 3, bytes: 15, problems: 1 });
});

test('workshopUrl: the item\'s page, its id encoded', () => {
        assert.equal(workshopUrl(123), 'https://steamcommunity.com/sharedfiles/filedetails/?id=123');
        assert.equal(workshopUrl('1&x'), 'https://steamcommunity.com/sharedfiles/filedetails/?id=1%26x');
});

test('archiveOptions: only what differs from the default, checked', () => {
        assert.deepEqual(archiveOptions({ subdir: '', strip: '0', mode: 'replace', encoding: '' }), {});
        assert.deepEqual(archiveOptions({ subdir: '/left4dead2/addons/', strip: '1', mode: 'merge', encoding: 'CP936' }),
                { subdir: 'left4dead2/addons', strip_components: 1, mode: 'merge', name_encoding: 'CP936' });
        assert.throws(() => archiveOptions({ subdir: 'a/../b' }), /inside the overlay/);
        assert.throws(() => archiveOptions({ subdir: 'a//b' }), /inside the overlay/);
        assert.throws(() => archiveOptions({ strip: '33' }), /0 to 32/);
        assert.throws(() => archiveOptions({ strip: '-1' }), /0 to 32/);
        assert.throws(() => archiveOptions({ strip: '1.5' }), /0 to 32/);
});

test('queryString: encoded, empty for none', () => {
        assert.equal(queryString({}), '');
        assert.equal(queryString({ subdir: 'a b/c', strip_components: 2 }), '?subdir=a%20b%2Fc&strip_components=2');
});

test('addableOverlays: those not in the stack, by name', () => {
        const all = [{ Name: 'maps' }, { Name: 'base' }, { Name: 'mods' }];
        assert.deepEqual(addableOverlays(all, ['maps']).map((o) => o.Name), ['base', 'mods']);
        assert.deepEqual(addableOverlays(all, ['maps', 'base', 'mods']), []);
        assert.deepEqual(addableOverlays(undefined, []), []);
});

test('sameList, splitArgs, moveItem', () => {
        assert.equal(sameList(['a', 'b'], ['a', 'b']), true);
        assert.equal(sameList(['a', 'b'], ['b', 'a']), false);
        assert.equal(sameList([], ['a']), false);
        assert.deepEqual(splitArgs('  -tickrate 60\t+sv_lan 0 \n'), ['-tickrate', '60', '+sv_lan', '0']);
        assert.deepEqual(splitArgs(''), []);
        assert.deepEqual(moveItem(['a', 'b', 'c'], 2, 0), ['c', 'a', 'b']);
        assert.deepEqual(moveItem(['a', 'b', 'c'], 0, 1), ['b', 'a', 'c']);
        assert.deepEqual(moveItem(['a', 'b'], 0, 5), ['a', 'b']);
});
