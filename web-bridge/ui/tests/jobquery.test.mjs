// SPDX-License-Identifier: GPL-2.0-or-later
// node --test: the Jobs page's filters and paging (lib/jobquery.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { JOB_PAGE_DEFAULT, jobFilterQuery, jobFiltered, jobMatches, jobsPath, parseJobFilter } from '../lib/jobquery.js';

test('parseJobFilter: the keys it knows, bad values dropped', () => {
        assert.deepEqual(parseJobFilter(''), { target: '', owner: '', kind: '', state: '', before: 0, limit: JOB_PAGE_DEFAULT });
        assert.deepEqual(parseJobFilter('state=active&target=overlay%3A3&before=120&limit=50&x=1'),
                { target: 'overlay:3', owner: '', kind: '', state: 'active', before: 120, limit: 50 });
        const bad = parseJobFilter('state=sleeping&before=-4&limit=7');
        assert.equal(bad.state, '');
        assert.equal(bad.before, 0);
        assert.equal(bad.limit, JOB_PAGE_DEFAULT);
        assert.equal(parseJobFilter('before=1e400').before, 0);
        assert.equal(parseJobFilter('owner=%20web%3Aann%20').owner, 'web:ann');
});

test('jobFilterQuery: fixed order, no empty keys, no default limit', () => {
        assert.equal(jobFilterQuery({ target: '', owner: '', kind: '', state: '', before: 0, limit: JOB_PAGE_DEFAULT }), '');
        assert.equal(jobFilterQuery({ state: 'failed', target: 'game', kind: '', owner: 'web:a', before: 9, limit: 50 }),
                'target=game&owner=web%3Aa&state=failed&limit=50&before=9');
        const f = parseJobFilter('kind=overlay-wipe&before=77');
        assert.deepEqual(parseJobFilter(jobFilterQuery(f)), f);
});

test('jobsPath: always a limit, the cursor when paging', () => {
        assert.equal(jobsPath(parseJobFilter('')), `/api/jobs?limit=${JOB_PAGE_DEFAULT}`);
        assert.equal(jobsPath(parseJobFilter('state=active&before=10&limit=100')), '/api/jobs?state=active&before=10&limit=100');
});

test('jobFiltered: paging alone filters nothing', () => {
        assert.equal(jobFiltered(parseJobFilter('before=4&limit=50')), false);
        assert.equal(jobFiltered(parseJobFilter('kind=game-install')), true);
});

test('jobMatches: as QueryJobs filters', () => {
        const j = { Id: 5, Kind: 'overlay-wipe', Target: 'overlay:2', Owner: 'web:a', State: 'running' };
        assert.equal(jobMatches(parseJobFilter(''), j), true);
        assert.equal(jobMatches(parseJobFilter('state=active'), j), true);
        assert.equal(jobMatches(parseJobFilter('state=finished'), j), false);
        assert.equal(jobMatches(parseJobFilter('state=running&kind=overlay-wipe&target=overlay:2&owner=web:a'), j), true);
        assert.equal(jobMatches(parseJobFilter('target=overlay:20'), j), false);
        assert.equal(jobMatches(parseJobFilter('owner=web:b'), j), false);
        assert.equal(jobMatches(parseJobFilter('kind=game-install'), j), false);
        const done = Object.assign({}, j, { State: 'failed' });
        assert.equal(jobMatches(parseJobFilter('state=active'), done), false);
        assert.equal(jobMatches(parseJobFilter('state=finished'), done), true);
        assert.equal(jobMatches(parseJobFilter('state=failed'), done), true);
        assert.equal(jobMatches(parseJobFilter(''), null), false);
});
