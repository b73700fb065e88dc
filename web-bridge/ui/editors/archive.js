// SPDX-License-Identifier: GPL-2.0-or-later
// The editor of an archive overlay: its source URL (fetched at every build)
// and the upload of an archive file.

import { api, enc, upload } from '../lib/api.js';
import { field, h, progressBar } from '../lib/dom.js';
import { onSubmit, uploadForm } from '../lib/form.js';

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

// The type's part of the "New overlay" form (see editors/workshop.js): the
// source, or a file uploaded once the overlay exists.
export function createPart() {
        const url = h('input', { name: 'url', type: 'url', autocapitalize: 'none', spellcheck: 'false' });
        const checksum = h('input', { name: 'checksum', autocapitalize: 'none', spellcheck: 'false' });
        const file = h('input', { name: 'file', type: 'file' });
        const bar = progressBar('Upload');
        bar.hidden = true;
        return {
                node: h('div', null, field('Source URL', url, 'optional: fetched at every build'),
                        field('Checksum', checksum, 'optional, e.g. sha256:…'),
                        field('Or upload a file', file, 'zip, 7z or tar'), bar),
                async apply(name) {
                        let o = null;
                        if (url.value)
                                o = await api('PUT', `/api/overlays/${enc(name)}/source`, { url: url.value, checksum: checksum.value });
                        if (file.files.length) {
                                bar.hidden = false;
                                await upload(`/api/overlays/${enc(name)}/archive`, file.files[0], bar.set);
                        }
                        return o;
                },
        };
}

// The card of the overlay page (see editors/workshop.js); ctx.startJob(answer,
// what) follows the import an upload started and returns its notice.
export function editor(name, o, ctx) {
        const url = h('input', { name: 'url', type: 'url', value: o.SourceUrl || '', autocapitalize: 'none', spellcheck: 'false' });
        const checksum = h('input', { name: 'checksum', value: o.SourceChecksum || '', autocapitalize: 'none', spellcheck: 'false' });
        const form = h('form', { 'aria-label': 'Archive source' },
                field('Source URL', url, 'fetched at every build'), field('Checksum', checksum, 'optional, e.g. sha256:…'),
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Save source')));
        onSubmit(form, async () => {
                ctx.show(await api('PUT', `/api/overlays/${enc(name)}/source`, { url: url.value, checksum: checksum.value }));
                return 'Source saved.';
        });
        const file = h('input', { name: 'file', type: 'file' });
        const encoding = h('select', { name: 'name_encoding' },
                NAME_ENCODINGS.map(([value, label]) => h('option', { value }, label)));
        const up = uploadForm('Upload an archive', 'Upload', file,
                [field('Archive file', file, 'zip, 7z, rar or tar: replaces the content'),
                        field('File names', encoding, 'for archives whose names were not stored as UTF-8')],
                () => `/api/overlays/${enc(name)}/archive` + (encoding.value ? `?name_encoding=${enc(encoding.value)}` : ''),
                (r) => ctx.startJob(r, 'Import'));
        return h('section.card', { 'aria-label': 'Archive' }, h('h2', null, 'Archive'), form, h('hr'), up);
}
