// SPDX-License-Identifier: GPL-2.0-or-later
// Pure helpers of the file browser (lib/files.js): paths relative to an
// overlay's or instance's top as ListFiles takes them ("" is the top;
// components never "", "." or ".."), breadcrumbs, the order entries are
// shown in. No DOM, no network (unit-tested in tests/paths.test.mjs).

// joinPath(dir, name): name inside dir ("" + "a" is "a").
export function joinPath(dir, name) {
        return dir ? `${dir}/${name}` : name;
}

// parentPath(path): the directory that holds path ("" for the top's entries).
export function parentPath(path) {
        const i = (path || '').lastIndexOf('/');
        return i < 0 ? '' : path.slice(0, i);
}

// baseName(path): its last component.
export function baseName(path) {
        const i = (path || '').lastIndexOf('/');
        return i < 0 ? path || '' : path.slice(i + 1);
}

// pathCrumbs(path, topLabel): [{label, path}] from the top to path.
export function pathCrumbs(path, topLabel) {
        const crumbs = [{ label: topLabel, path: '' }];
        let cur = '';
        for (const c of (path || '').split('/').filter((s) => s.length)) {
                cur = joinPath(cur, c);
                crumbs.push({ label: c, path: cur });
        }
        return crumbs;
}

const TYPE_ORDER = { dir: 0, file: 1, symlink: 1, other: 1 };

// sortEntries(entries): directories first, then the rest, each by name
// (code point order, as the daemon sorts); a new array.
export function sortEntries(entries) {
        return [...(entries || [])].sort((a, b) => {
                const ta = TYPE_ORDER[a.type] ?? 1;
                const tb = TYPE_ORDER[b.type] ?? 1;
                if (ta !== tb)
                        return ta - tb;
                return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
        });
}

// filterEntries(entries, text): those whose name holds text (any case).
export function filterEntries(entries, text) {
        const t = (text || '').trim().toLowerCase();
        if (!t)
                return entries;
        return entries.filter((e) => e.name.toLowerCase().includes(t));
}

// dirSummary(entries): "3 folders, 12 files, 1.5 MiB" parts as numbers.
export function dirSummary(entries) {
        const s = { dirs: 0, files: 0, links: 0, other: 0, bytes: 0 };
        for (const e of entries || []) {
                if (e.type === 'dir')
                        s.dirs++;
                else if (e.type === 'file') {
                        s.files++;
                        s.bytes += Number(e.size) || 0;
                } else if (e.type === 'symlink')
                        s.links++;
                else
                        s.other++;
        }
        return s;
}

// plural(n, one, many): "1 file", "3 files".
export function plural(n, one, many) {
        return `${n} ${n === 1 ? one : many || one + 's'}`;
}
