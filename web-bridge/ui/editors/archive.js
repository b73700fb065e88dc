// SPDX-License-Identifier: GPL-2.0-or-later
// The editor of an archive overlay: its source URL (fetched at every
// build), the upload of an archive file, and the options of both (where to
// extract, leading folders to drop, replace or merge, the names' code page).

import { api, enc } from '../lib/api.js';
import { field, h } from '../lib/dom.js';
import { onSubmit, uploadForm } from '../lib/form.js';
import { archiveOptions, queryString } from '../lib/overlay-util.js';

/* Code pages of archives made by Windows tools that do not store UTF-8
 * names: the value goes to ImportArchive's name_encoding. */
const NAME_ENCODINGS = [
        ['', 'UTF-8 (as stored)'],
        ['CP936', 'Chinese, simplified (GBK, CP936)'],
        ['CP950', 'Chinese, traditional (Big5, CP950)'],
        ['CP1251', 'Cyrillic (Windows, CP1251)'],
        ['CP866', 'Cyrillic (DOS, CP866)'],
        ['CP1252', 'Western European (CP1252)'],
        ['CP437', 'DOS, US (CP437)'],
        ['CP932', 'Japanese (Shift JIS, CP932)'],
        ['CP949', 'Korean (CP949)'],
        ['CP1250', 'Central European (CP1250)'],
];

// archiveOptionFields(withEncoding): the fields of ImportArchive's options
// (and of an archive overlay's Build: no name encoding there); value() is
// what the bridge takes (lib/overlay-util.js archiveOptions, which throws a
// sentence on a bad value).
export function archiveOptionFields(withEncoding) {
        const subdir = h('input', { name: 'subdir', autocapitalize: 'none', spellcheck: 'false', placeholder: 'left4dead2/addons' });
        const strip = h('input', { name: 'strip_components', type: 'number', min: '0', max: '32', step: '1', value: '0', inputmode: 'numeric' });
        const mode = h('select', { name: 'mode' },
                h('option', { value: 'replace' }, 'Replace the content'),
                h('option', { value: 'merge' }, 'Merge into the content'));
        const encoding = withEncoding ? h('select', { name: 'name_encoding' },
                NAME_ENCODINGS.map(([value, label]) => h('option', { value }, label))) : null;
        const node = h('div.grid.archive-options', null,
                field('Extract into', subdir, 'a folder of the overlay; empty: its top'),
                field('Leading folders to drop', strip, 'e.g. 1 for an archive that holds everything in one folder'),
                field('Existing content', mode, 'merge keeps files the archive does not have'),
                encoding && field('File names', encoding, 'for archives whose names were not stored as UTF-8'));
        return {
                node,
                value: () => archiveOptions({ subdir: subdir.value, strip: strip.value, mode: mode.value, encoding: encoding ? encoding.value : '' }),
        };
}

// The type's part of the "New overlay" form (see editors/workshop.js): the
// source, checked with the rest before anything is created. A file is
// uploaded on the overlay's page once it exists.
export function createPart() {
        const url = h('input', { name: 'url', type: 'url', autocapitalize: 'none', spellcheck: 'false', placeholder: 'https://example.org/maps.zip' });
        const checksum = h('input', { name: 'checksum', autocapitalize: 'none', spellcheck: 'false', placeholder: 'sha256:…' });
        return {
                node: h('div', null,
                        h('div.grid', null, field('Source URL', url, 'optional: https or http, fetched at every build'),
                                field('Checksum', checksum, 'optional: sha256: and 64 hex digits')),
                        h('p.hint', null, 'Without a source, upload an archive file (zip, 7z, rar or tar) on the overlay\'s page once it exists.')),
                options() {
                        const o = {};
                        if (url.value.trim())
                                o.source = url.value.trim();
                        if (checksum.value.trim())
                                o.checksum = checksum.value.trim();
                        return o;
                },
        };
}

// The card of the overlay page (see editors/workshop.js); ctx.startJob(answer)
// follows the import an upload started.
export function editor(name, o, ctx) {
        const url = h('input', { name: 'url', type: 'url', value: o.SourceUrl || '', autocapitalize: 'none', spellcheck: 'false' });
        const checksum = h('input', { name: 'checksum', value: o.SourceChecksum || '', autocapitalize: 'none', spellcheck: 'false' });
        const form = h('form', { 'aria-label': 'Archive source' },
                h('div.grid', null, field('Source URL', url, 'fetched at every build'), field('Checksum', checksum, 'optional: sha256: and 64 hex digits')),
                h('fieldset.lockable.actions', null, h('legend.sr-only', null, 'Save'), h('button.primary', { type: 'submit' }, 'Save source')));
        onSubmit(form, async () => {
                ctx.show(await api('PUT', `/api/overlays/${enc(name)}/source`, { url: url.value.trim(), checksum: checksum.value.trim() }));
                return url.value.trim() ? 'Source saved: Build fetches it.' : 'Source removed.';
        });
        const file = h('input', { name: 'file', type: 'file', accept: '.zip,.7z,.rar,.tar,.tgz,.gz,.bz2,.xz,.zst,.tbz2,.txz' });
        const opts = archiveOptionFields(true);
        // path() checks the options (a bad one is the form's error) before
        // the upload starts.
        const up = uploadForm('Upload an archive', 'Upload', file,
                [field('Archive file', file, 'zip, 7z, rar or tar (gzip, bzip2, xz, zstd)'),
                        h('details.options', null, h('summary', null, 'Import options'), opts.node)],
                () => `/api/overlays/${enc(name)}/archive${queryString(opts.value())}`,
                (r) => ctx.startJob(r));
        return h('section.card.archive-card', { 'aria-label': 'Archive' }, h('h2', null, 'Archive'), form, h('hr'),
                h('h3', null, 'Upload an archive'), h('fieldset.lockable', null, h('legend.sr-only', null, 'Upload'), up));
}
