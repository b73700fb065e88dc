// SPDX-License-Identifier: GPL-2.0-or-later
// node --test: the pure formatting and parsing of lib/format.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
        LIMIT_INFINITY, fmtBytes, fmtLimit, fmtPercent, fmtTime, itemsFromText, jobActive, jobFor, jobIdOf, parseLimit,
} from '../lib/format.js';

test('fmtBytes: binary units, one decimal above bytes', () => {
        assert.equal(fmtBytes(0), '0 B');
        assert.equal(fmtBytes(undefined), '0 B');
        assert.equal(fmtBytes(1023), '1023 B');
        assert.equal(fmtBytes(1024), '1.0 KiB');
        assert.equal(fmtBytes(1536), '1.5 KiB');
        assert.equal(fmtBytes(5 * 1024 ** 3), '5.0 GiB');
        assert.equal(fmtBytes(3 * 1024 ** 5), '3072.0 TiB');
});

test('fmtTime: µs since the epoch, a dash for none', () => {
        assert.equal(fmtTime(0), '—');
        assert.equal(fmtTime(undefined), '—');
        const us = Date.UTC(2026, 0, 2, 3, 4, 5) * 1000;
        assert.equal(fmtTime(us), new Date(Date.UTC(2026, 0, 2, 3, 4, 5)).toLocaleString());
});

test('fmtPercent: clamped to 0..100, rounded', () => {
        assert.equal(fmtPercent(0), '0 %');
        assert.equal(fmtPercent(undefined), '0 %');
        assert.equal(fmtPercent(0.504), '50 %');
        assert.equal(fmtPercent(1), '100 %');
        assert.equal(fmtPercent(7), '100 %');
        assert.equal(fmtPercent(-1), '0 %');
});

test('fmtLimit: as left4med writes limits', () => {
        assert.equal(fmtLimit('size', LIMIT_INFINITY), 'infinity');
        assert.equal(fmtLimit('size', 2 ** 64), 'infinity');
        assert.equal(fmtLimit('size', 2 * 1024 ** 3), '2G');
        assert.equal(fmtLimit('size', 1536 * 1024 ** 2), '1536M');
        assert.equal(fmtLimit('size', 1000), '1000');
        assert.equal(fmtLimit('percent', 150), '150%');
        assert.equal(fmtLimit('count', 256), '256');
        assert.equal(fmtLimit('count', undefined), '—');
});

test('parseLimit: what a person types', () => {
        assert.equal(parseLimit('Memory', 'size', ''), 'default');
        assert.equal(parseLimit('Memory', 'size', ' Default '), 'default');
        assert.equal(parseLimit('Memory', 'size', 'infinity'), 'infinity');
        assert.equal(parseLimit('Memory', 'size', 'unlimited'), 'infinity');
        assert.equal(parseLimit('Memory', 'size', '2G'), 2 * 1024 ** 3);
        assert.equal(parseLimit('Memory', 'size', '512 MiB'), 512 * 1024 ** 2);
        assert.equal(parseLimit('Memory', 'size', '4096'), 4096);
        assert.equal(parseLimit('CPU', 'percent', '150%'), 150);
        assert.equal(parseLimit('CPU', 'percent', '80'), 80);
        assert.equal(parseLimit('Tasks', 'count', '256'), 256);
        assert.throws(() => parseLimit('Tasks', 'count', '2G'), /Tasks: "2G" is not a value \(like 256/);
        assert.throws(() => parseLimit('CPU', 'percent', '-5%'), /like 150%/);
        assert.throws(() => parseLimit('Memory', 'size', '2X'), /like 2G/);
        assert.throws(() => parseLimit('Memory', 'size', '99999999999999999999T'), /not a value/);
});

test('itemsFromText: ids and URLs split on space, comma and newline', () => {
        assert.deepEqual(itemsFromText(' 104, 105\n\nhttps://steamcommunity.com/x?id=7 '),
                ['104', '105', 'https://steamcommunity.com/x?id=7']);
        assert.deepEqual(itemsFromText(''), []);
});

test('jobIdOf, jobActive, jobFor', () => {
        assert.equal(jobIdOf({ job: '/org/left4me/job/42' }), '42');
        assert.equal(jobIdOf({ job: 7 }), '7');
        assert.equal(jobIdOf({}), null);
        assert.equal(jobIdOf(null), null);
        assert.ok(jobActive({ State: 'queued' }));
        assert.ok(jobActive({ State: 'running' }));
        assert.ok(!jobActive({ State: 'failed' }));
        const jobs = [
                { Id: 3, Target: 'overlay:1', State: 'succeeded' },
                { Id: 5, Target: 'overlay:1', State: 'failed' },
                { Id: 4, Target: 'overlay:1', State: 'running' },
                { Id: 9, Target: 'overlay:2', State: 'running' },
        ];
        assert.equal(jobFor(jobs, 'overlay:1').Id, 4);
        assert.equal(jobFor(jobs.filter((j) => j.State !== 'running'), 'overlay:1').Id, 5);
        assert.equal(jobFor(jobs, 'overlay:3'), null);
});
