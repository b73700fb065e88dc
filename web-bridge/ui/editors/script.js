// SPDX-License-Identifier: GPL-2.0-or-later
// The editor of a script overlay: the bash script a build runs, and what
// its sandbox offers (daemon/scripts/script-unit.c, README "Script
// overlays", left4med(8)).

import { api, enc } from '../lib/api.js';
import { field, h } from '../lib/dom.js';
import { onSubmit } from '../lib/form.js';
import { guardLeave } from '../lib/leave-guard.js';
import { showError } from '../lib/notices.js';

const SCRIPT_HINT = 'Run by bash in /overlay ($OVERLAY), which keeps what earlier runs left. ' +
        'Files for the game go below $OVERLAY/$GAME_DIR/ ($GAME_DIR is left4dead2), e.g. $GAME_DIR/addons/x.vpk.';
const SCRIPT_START = '#!/bin/bash\nset -euo pipefail\nmkdir -p "$OVERLAY/$GAME_DIR/cfg"\n' +
        'echo "// made by $OVERLAY_NAME" > "$OVERLAY/$GAME_DIR/cfg/$OVERLAY_NAME.cfg"\n';

// What the sandbox offers, for the card (all of it true of script-unit.c).
function sandboxFacts() {
        return h('details.sandbox', null, h('summary', null, 'What a script can use'),
                h('ul', null,
                        h('li', null, h('code', null, '$OVERLAY'), ' = /overlay (read-write, the working directory), ',
                                h('code', null, '$GAME_DIR'), ' = left4dead2, ', h('code', null, '$OVERLAY_NAME'), ', ',
                                h('code', null, '$JOB_ID'), '; ', h('code', null, '$HOME'), ' and ', h('code', null, '$TMPDIR'),
                                ' = a private /tmp removed after the run.'),
                        h('li', null, 'Everything else is read-only. /overlay and /tmp are noexec: a downloaded program cannot be run.'),
                        h('li', null, 'Network: the public internet only (no loopback, LAN or the host).'),
                        h('li', null, 'Tools: bash, coreutils, curl, 7z, unzip, tar, xz.'),
                        h('li', null, 'Its output is the build\'s log; exit status 0 means success. Builds have a time and memory limit.')));
}

// The type's part of the "New overlay" form (see editors/workshop.js).
export function createPart() {
        const script = h('textarea.code', { name: 'script', rows: '8', spellcheck: 'false', autocapitalize: 'none' }, SCRIPT_START);
        return {
                node: h('div', null, field('Script', script, SCRIPT_HINT), sandboxFacts()),
                options: () => (script.value.trim() ? { script: script.value } : {}),
        };
}

// The card of the overlay page (see editors/workshop.js).
export function editor(name, o, ctx) {
        // Read-only until the stored script is there: nothing typed is lost
        // to it.
        const script = h('textarea.code', { name: 'script', rows: '14', spellcheck: 'false', autocapitalize: 'none',
                'aria-busy': 'true', readonly: true, placeholder: 'Loading…' });
        let saved = null;
        const state = h('span.dirty-note', { 'aria-live': 'polite' });
        const syncDirty = () => {
                state.textContent = saved !== null && script.value !== saved ? 'Unsaved changes' : '';
        };
        script.addEventListener('input', syncDirty);
        const form = h('form.card', { 'aria-label': 'Script' }, h('h2', null, 'Script'),
                field('Script', script, SCRIPT_HINT), sandboxFacts(),
                h('fieldset.lockable.actions', null, h('legend.sr-only', null, 'Save'), h('button.primary', { type: 'submit' }, 'Save script'),
                        h('button', { type: 'submit', name: 'and-build' }, 'Save and build'), state));
        onSubmit(form, async (ev) => {
                const text = script.value;
                ctx.show(await api('PUT', `/api/overlays/${enc(name)}/script`, { script: text }));
                saved = text;
                syncDirty();
                if (ev.submitter && ev.submitter.name === 'and-build')
                        return ctx.build();
                return 'Script saved.';
        });
        guardLeave(() => saved !== null && script.value !== saved, 'Changes to the script are');
        api('GET', `/api/overlays/${enc(name)}/script`).then((r) => {
                script.value = saved = (r && r.script) || '';
                script.removeAttribute('aria-busy');
                script.readOnly = false;
                script.placeholder = '';
                syncDirty();
        }, showError);
        return form;
}
