// SPDX-License-Identifier: GPL-2.0-or-later
// Pure helpers of the overlay and blueprint pages: job kinds that report
// no progress, Workshop item statuses, archive options as the bridge takes
// them, the blueprint's overlay stack and launch arguments. No DOM, no
// network (unit-tested in tests/overlay-util.test.mjs).

// Job kinds whose Progress stays 0 until they end (a script cannot tell
// how far it is): their bar is indeterminate while they run, not "0 %".
const NO_PROGRESS_KINDS = new Set(['script-build', 'overlay-wipe']);

export function jobHasProgress(kind) {
        return !NO_PROGRESS_KINDS.has(kind);
}

// What a Workshop item's status (WorkshopItemDetails) means to a person.
export const ITEM_STATUS = {
        ok: ['ok', 'Downloaded'],
        private: ['private', 'Private or unlisted: Steam does not let it be downloaded'],
        removed: ['removed', 'Removed from the Workshop (deleted or banned)'],
        'other-game': ['other game', 'An item of another game, not Left 4 Dead 2'],
        failed: ['failed', 'Nothing usable was downloaded'],
};

export function itemStatusLabel(status) {
        return (ITEM_STATUS[status] || [status || 'unknown'])[0];
}

export function itemStatusHint(status) {
        return (ITEM_STATUS[status] || [null, 'Unknown status'])[1];
}

// itemsSummary(details): {count, bytes, problems} of WorkshopItemDetails:
// bytes of the usable (ok) items only, problems the others.
export function itemsSummary(details) {
        const s = { count: 0, bytes: 0, problems: 0 };
        for (const d of details || []) {
                s.count++;
                if (d.status === 'ok')
                        s.bytes += Number(d.size) || 0;
                else
                        s.problems++;
        }
        return s;
}

// The Workshop page of an item (a link for people; never fetched by the UI).
export function workshopUrl(id) {
        return `https://steamcommunity.com/sharedfiles/filedetails/?id=${encodeURIComponent(String(id))}`;
}

// archiveOptions({subdir, strip, mode, encoding}): the options of an
// import or an archive overlay's build as the bridge takes them (only
// those that differ from the default); throws a sentence on a bad value.
export function archiveOptions(v) {
        const o = {};
        const subdir = (v.subdir || '').trim().replace(/^\/+|\/+$/g, '');
        if (subdir) {
                if (subdir.split('/').some((c) => c === '' || c === '.' || c === '..'))
                        throw new Error('The folder must be a path inside the overlay, like left4dead2/addons, without "." or "..".');
                o.subdir = subdir;
        }
        const strip = String(v.strip ?? '').trim();
        if (strip && strip !== '0') {
                if (!/^\d+$/.test(strip) || Number(strip) > 32)
                        throw new Error('Leading folders to drop must be a number from 0 to 32.');
                o.strip_components = Number(strip);
        }
        if (v.mode && v.mode !== 'replace')
                o.mode = v.mode;
        if (v.encoding)
                o.name_encoding = v.encoding;
        return o;
}

// queryString(options): "?a=1&b=x" of the options (empty: "").
export function queryString(options) {
        const parts = Object.entries(options).map(([k, val]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(val))}`);
        return parts.length ? '?' + parts.join('&') : '';
}

// addableOverlays(all, stack): the overlays not in the stack yet, by name.
export function addableOverlays(all, stack) {
        const inStack = new Set(stack);
        return (all || []).filter((o) => !inStack.has(o.Name))
                .sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
}

export function sameList(a, b) {
        return a.length === b.length && a.every((x, i) => x === b[i]);
}

// splitArgs(text): launch arguments separated by white space.
export function splitArgs(text) {
        return (text || '').split(/\s+/).filter((s) => s.length);
}

// moveItem(list, from, to): a new list with list[from] moved to index to.
export function moveItem(list, from, to) {
        const out = [...list];
        if (from < 0 || from >= out.length || to < 0 || to >= out.length)
                return out;
        const [x] = out.splice(from, 1);
        out.splice(to, 0, x);
        return out;
}
