// SPDX-License-Identifier: GPL-2.0-or-later
// The editor of a script overlay: the bash script a build runs.

import { api, enc } from '../lib/api.js';
import { field, h } from '../lib/dom.js';
import { onSubmit } from '../lib/form.js';
import { showError } from '../lib/notices.js';

const SCRIPT_HINT = 'bash; /overlay is the only writable place';
const SCRIPT_START = '#!/bin/bash\nset -euo pipefail\ncd /overlay\n';

// The type's part of the "New overlay" form (see editors/workshop.js).
export function createPart() {
        const script = h('textarea.code', { name: 'script', rows: '8', spellcheck: 'false' }, SCRIPT_START);
        return {
                node: h('div', null, field('Script', script, SCRIPT_HINT)),
                apply: (name) => api('PUT', `/api/overlays/${enc(name)}/script`, { script: script.value }),
        };
}

// The card of the overlay page (see editors/workshop.js).
export function editor(name, o, ctx) {
        const script = h('textarea.code', { name: 'script', rows: '14', spellcheck: 'false' });
        const form = h('form.card', { 'aria-label': 'Script' }, h('h2', null, 'Script'),
                field('Script', script, SCRIPT_HINT),
                h('div.actions', null, h('button.primary', { type: 'submit' }, 'Save script')));
        onSubmit(form, async () => {
                ctx.show(await api('PUT', `/api/overlays/${enc(name)}/script`, { script: script.value }));
                return 'Script saved.';
        });
        api('GET', `/api/overlays/${enc(name)}/script`).then((r) => {
                script.value = (r && r.script) || '';
        }, showError);
        return form;
}
