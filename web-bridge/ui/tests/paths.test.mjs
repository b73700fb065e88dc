// SPDX-License-Identifier: GPL-2.0-or-later
// node --test: the file browser's pure path helpers (lib/paths.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { baseName, dirSummary, filterEntries, joinPath, parentPath, pathCrumbs, plural, sortEntries } from '../lib/paths.js';

test('joinPath, parentPath, baseName: "" is the top', () => {
        assert.equal(joinPath('', 'a'), 'a');
        assert.equal(joinPath('a/b', 'c'), 'a/b/c');
        assert.equal(parentPath('a'), '');
        assert.equal(parentPath('a/b/c'), 'a/b');
        assert.equal(parentPath(''), '');
        assert.equal(baseName('a/b/c.vpk'), 'c.vpk');
        assert.equal(baseName('x'), 'x');
        assert.equal(baseName(''), '');
});

test('pathCrumbs: the top, then each folder down to the path', () => {
        assert.deepEqual(pathCrumbs('', 'top'), [{ label: 'top', path: '' }]);
        assert.deepEqual(pathCrumbs('left4dead2/addons', 'maps'), [
                { label: 'maps', path: '' },
                { label: 'left4dead2', path: 'left4dead2' },
                { label: 'addons', path: 'left4dead2/addons' },
        ]);
});

test('sortEntries: folders first, then by name in code point order; the input is kept', () => {
        const input = [
                { name: 'b.vpk', type: 'file' }, { name: 'Z', type: 'dir' }, { name: 'a', type: 'symlink' },
                { name: 'a', type: 'dir' }, { name: 'B.cfg', type: 'file' },
        ];
        const copy = JSON.parse(JSON.stringify(input));
        assert.deepEqual(sortEntries(input).map((e) => `${e.type}:${e.name}`),
                ['dir:Z', 'dir:a', 'file:B.cfg', 'symlink:a', 'file:b.vpk']);
        assert.deepEqual(input, copy);
        assert.deepEqual(sortEntries(undefined), []);
});

test('filterEntries: any case, blank keeps all', () => {
        const e = [{ name: 'Maps.vpk' }, { name: 'server.cfg' }];
        assert.equal(filterEntries(e, '  '), e);
        assert.deepEqual(filterEntries(e, 'MAP').map((x) => x.name), ['Maps.vpk']);
        assert.deepEqual(filterEntries(e, 'nothing'), []);
});

test('dirSummary and plural: counts and bytes of regular files only', () => {
        assert.deepEqual(dirSummary([
                { type: 'dir', size: 4096 }, { type: 'file', size: 10 }, { type: 'file', size: 5 },
                { type: 'symlink', size: 7 }, { type: 'other', size: 0 },
        ]), { dirs: 1, files: 2, links: 1, other: 1, bytes: 15 });
        assert.equal(plural(1, 'file'), '1 file');
        assert.equal(plural(0, 'file'), '0 files');
        assert.equal(plural(2, 'other entry', 'other entries'), '2 other entries');
});
