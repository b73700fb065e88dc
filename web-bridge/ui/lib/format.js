// SPDX-License-Identifier: GPL-2.0-or-later
// Pure formatting and parsing: no DOM, no network (unit-tested with node
// --test in tests/format.test.mjs).

export function fmtTime(us) {
        if (!us)
                return '—';
        return new Date(us / 1000).toLocaleString();
}

export function fmtBytes(n) {
        if (!n)
                return '0 B';
        const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
        let i = 0;
        while (n >= 1024 && i < units.length - 1) {
                n /= 1024;
                i++;
        }
        return (i ? n.toFixed(1) : String(n)) + ' ' + units[i];
}

export function fmtPercent(p) {
        return Math.round(Math.max(0, Math.min(1, p || 0)) * 100) + ' %';
}

// The limits as SetLimits names them, their instance properties, labels and
// kinds (how a value is written: "150%", "2G", "256").
export const LIMITS = [
        ['cpu_quota', 'CPUQuota', 'CPU quota', 'percent'],
        ['memory_max', 'MemoryMax', 'Memory max', 'size'],
        ['tasks_max', 'TasksMax', 'Tasks max', 'count'],
        ['disk_max', 'DiskMax', 'Disk max', 'size'],
];

// UINT64_MAX (no limit) arrives as a JSON number above 2^63.
export const LIMIT_INFINITY = 2 ** 63;

const SIZE_SUFFIXES = ['', 'K', 'M', 'G', 'T'];

// As left4med writes it: "infinity", "150%", "256", or a size with the
// largest 1024-based suffix that divides it ("2G", "1536M").
export function fmtLimit(kind, v) {
        if (typeof v !== 'number')
                return '—';
        if (v >= LIMIT_INFINITY)
                return 'infinity';
        if (kind === 'percent')
                return `${v}%`;
        if (kind === 'size' && v > 0) {
                let i = 0;
                while (i < SIZE_SUFFIXES.length - 1 && v % 1024 === 0) {
                        v /= 1024;
                        i++;
                }
                return `${v}${SIZE_SUFFIXES[i]}`;
        }
        return String(v);
}

// What SetLimits gets for what a person typed: "default", "infinity" or a
// number (the daemon checks the range). Throws on anything else.
export function parseLimit(label, kind, text) {
        const t = text.trim().toLowerCase();
        if (t === '' || t === 'default')
                return 'default';
        if (t === 'infinity' || t === 'unlimited')
                return 'infinity';
        let m;
        let v = NaN;
        if (kind === 'percent' && (m = /^(\d+)\s*%?$/.exec(t)))
                v = Number(m[1]);
        else if (kind === 'size' && (m = /^(\d+)\s*([kmgt]?)(?:i?b)?$/.exec(t)))
                v = Number(m[1]) * 1024 ** SIZE_SUFFIXES.indexOf(m[2].toUpperCase());
        else if (kind === 'count' && (m = /^(\d+)$/.exec(t)))
                v = Number(m[1]);
        if (!Number.isSafeInteger(v))
                throw new Error(`${label}: "${text}" is not a value (like ${kind === 'percent' ? '150%' : kind === 'size' ? '2G' : '256'}, default or infinity).`);
        return v;
}

export function itemsFromText(text) {
        return text.split(/[\s,]+/).map((s) => s.trim()).filter((s) => s.length);
}

export function jobIdOf(answer) {
        if (answer && answer.job !== undefined) {
                const j = String(answer.job);
                const m = /(\d+)$/.exec(j);
                return m ? m[1] : j;
        }
        return null;
}

export function jobActive(j) {
        return j.State === 'queued' || j.State === 'running';
}

// Of the jobs on target: the active one, else the most recent; or null.
export function jobFor(jobs, target) {
        let best = null;
        for (const j of jobs) {
                if (!j || j.Target !== target)
                        continue;
                if (!best || (jobActive(j) && !jobActive(best)) ||
                    (jobActive(j) === jobActive(best) && Number(j.Id) > Number(best.Id)))
                        best = j;
        }
        return best;
}
