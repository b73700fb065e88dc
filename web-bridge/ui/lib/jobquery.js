// SPDX-License-Identifier: GPL-2.0-or-later
// Pure: the Jobs page's filters and paging over GET /api/jobs (QueryJobs):
// the query a filter makes, the filter a page's address holds, whether a
// job (from the event stream) belongs to a filtered list. No DOM, no
// network (unit-tested in tests/jobquery.test.mjs).

// The job kinds the daemon has (the filter's choices).
export const JOB_KINDS = ['workshop-build', 'archive-import', 'archive-fetch', 'script-build', 'overlay-wipe',
        'game-install', 'instance-backup', 'backup-restore', 'backup-import'];

// The state filter's choices: [value, label].
export const JOB_STATES = [
        ['', 'Any state'],
        ['active', 'Active (queued or running)'],
        ['finished', 'Finished'],
        ['queued', 'Queued'],
        ['running', 'Running'],
        ['succeeded', 'Succeeded'],
        ['failed', 'Failed'],
        ['cancelled', 'Cancelled'],
];

export const JOB_PAGE_SIZES = [25, 50, 100];
export const JOB_PAGE_DEFAULT = 25;

const FILTER_KEYS = ['target', 'owner', 'kind', 'state'];

// parseJobFilter(query): the filter of an address's query ("state=active&
// target=game&before=120&limit=50"): {target, owner, kind, state} (strings,
// "" for none), before (0 for the first page) and limit.
export function parseJobFilter(query) {
        const p = new URLSearchParams(query || '');
        const f = { before: 0, limit: JOB_PAGE_DEFAULT };
        for (const k of FILTER_KEYS)
                f[k] = (p.get(k) || '').trim();
        if (f.state && !JOB_STATES.some(([v]) => v === f.state))
                f.state = '';
        const before = Number(p.get('before'));
        if (Number.isSafeInteger(before) && before > 0)
                f.before = before;
        const limit = Number(p.get('limit'));
        if (JOB_PAGE_SIZES.includes(limit))
                f.limit = limit;
        return f;
}

// jobFilterQuery(f): the query of f, its keys in a fixed order, without
// empty ones (and without the default limit): "" for everything.
export function jobFilterQuery(f) {
        const p = new URLSearchParams();
        for (const k of FILTER_KEYS)
                if (f[k])
                        p.set(k, f[k]);
        if (f.limit && f.limit !== JOB_PAGE_DEFAULT)
                p.set('limit', String(f.limit));
        if (f.before)
                p.set('before', String(f.before));
        return p.toString();
}

// jobsPath(f): the GET /api/jobs path of f (always with its limit).
export function jobsPath(f) {
        const p = new URLSearchParams(jobFilterQuery(Object.assign({}, f, { limit: 0 })));
        p.set('limit', String(f.limit || JOB_PAGE_DEFAULT));
        return '/api/jobs?' + p.toString();
}

// jobFiltered(f): whether f narrows the list at all (before and limit aside).
export function jobFiltered(f) {
        return FILTER_KEYS.some((k) => !!f[k]);
}

// jobMatches(f, j): whether job j belongs to the list of filter f (what
// QueryJobs would answer, paging aside).
export function jobMatches(f, j) {
        if (!j)
                return false;
        if (f.target && j.Target !== f.target)
                return false;
        if (f.owner && j.Owner !== f.owner)
                return false;
        if (f.kind && j.Kind !== f.kind)
                return false;
        const active = j.State === 'queued' || j.State === 'running';
        if (f.state === 'active')
                return active;
        if (f.state === 'finished')
                return !active;
        return !f.state || j.State === f.state;
}
