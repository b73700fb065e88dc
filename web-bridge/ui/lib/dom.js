// SPDX-License-Identifier: GPL-2.0-or-later
// DOM helpers: elements, form rows, buttons, badges, progress bars, lists
// kept in place (keyedList), the live console box.

import { fmtPercent } from './format.js';
import { dropNotices, notice, showError } from './notices.js';

const LOG_LINES_MAX = 5000;

// h('tag.class', {attr: value, onclick: fn}, child...): an element. Children
// are nodes or strings (as text); null/false children are skipped.
export function h(spec, attrs, ...children) {
        const [tag, ...classes] = spec.split('.');
        const el = document.createElement(tag);
        if (classes.length)
                el.className = classes.join(' ');
        for (const [k, v] of Object.entries(attrs || {})) {
                if (v === null || v === undefined || v === false)
                        continue;
                if (k.startsWith('on'))
                        el.addEventListener(k.slice(2), v);
                else if (k === 'value' && tag === 'textarea')
                        el.defaultValue = v;
                else if (k === 'value' || k === 'checked') {
                        // The attribute too: it is what form.reset() returns to.
                        el.setAttribute(k, k === 'checked' ? '' : v);
                        el[k] = v;
                } else if (k === 'textContent')
                        el[k] = v;
                else
                        el.setAttribute(k, v === true ? '' : String(v));
        }
        append(el, children);
        return el;
}

export function append(el, children) {
        for (const c of children.flat()) {
                if (c === null || c === undefined || c === false)
                        continue;
                el.append(c instanceof Node ? c : String(c));
        }
        return el;
}

export function clear(el) {
        while (el.firstChild)
                el.firstChild.remove();
        return el;
}

let idCounter = 0;

export function uid(prefix) {
        idCounter++;
        return `${prefix}-${idCounter}`;
}

// field(label, control, hint): a labelled form row.
export function field(label, control, hint) {
        if (!control.id)
                control.id = uid('f');
        const row = h('div.field', null, h('label', { for: control.id }, label), control);
        if (hint) {
                const hid = uid('hint');
                control.setAttribute('aria-describedby', hid);
                row.append(h('small.hint', { id: hid }, hint));
        }
        return row;
}

// button(label, onclick, cls, attrs): a button that runs await onclick(ev),
// disabled meanwhile. What onclick returns is its success notice (a string,
// or {text, carry}); an error it throws is shown instead. The button's
// notices replace each other.
export function button(label, onclick, cls, attrs) {
        const b = h('button' + (cls ? '.' + cls : ''), Object.assign({ type: 'button' }, attrs || {}), label);
        const key = uid('notice');
        b.addEventListener('click', async (ev) => {
                b.disabled = true;
                dropNotices(key);
                try {
                        const done = await onclick(ev);
                        const text = typeof done === 'string' ? done : done && done.text;
                        if (text)
                                notice(text, 'ok', { key, carry: !!(done && done.carry) });
                } catch (e) {
                        showError(e, { key });
                } finally {
                        if (b.isConnected)
                                b.disabled = false;
                }
        });
        return b;
}

export function badge(state) {
        return h('span.badge.state-' + String(state || 'unknown').replace(/[^a-z-]/g, ''), null, state || '—');
}

export function setBadge(el, state) {
        el.className = 'badge state-' + String(state || 'unknown').replace(/[^a-z-]/g, '');
        el.textContent = state || '—';
}

// A <progress> with its percentage as text next to it.
export function progressBar(label) {
        const bar = h('progress', { max: '100', value: '0', 'aria-label': label });
        const pct = h('span.pct', null, '0 %');
        const wrap = h('div.progress', null, bar, pct);
        wrap.set = (p) => {
                bar.value = Math.round(Math.max(0, Math.min(1, p || 0)) * 100);
                pct.textContent = fmtPercent(p);
        };
        return wrap;
}

export function dl(pairs) {
        const list = h('dl.props');
        const values = {};
        for (const [key, label] of pairs) {
                const dd = h('dd');
                values[key] = dd;
                list.append(h('div', null, h('dt', null, label), dd));
        }
        list.values = values;
        return list;
}

export function pageHeader(title, ...extra) {
        return h('div.page-head', null, h('h1', { tabindex: '-1' }, title), ...extra);
}

// keyedList(ul, makeItem, key): keeps one <li> per object, updated in place.
// Until the first replace() (the list's first answer) its empty line says
// "Loading…", not emptyText.
export function keyedList(ul, makeItem, key, emptyText) {
        const items = new Map();
        const empty = h('li.empty', null, 'Loading…');
        const sync = () => {
                if (items.size === 0 && !empty.isConnected)
                        ul.append(empty);
                else if (items.size && empty.isConnected)
                        empty.remove();
        };
        const api = {
                set(o) {
                        const k = key(o);
                        const cur = items.get(k);
                        if (cur) {
                                cur.update(o);
                                return;
                        }
                        const el = makeItem(o);
                        items.set(k, el);
                        // Sorted by key.
                        let before = null;
                        for (const [k2, el2] of items)
                                if (k2 !== k && el2.isConnected && compareKeys(k2, k) > 0 &&
                                    (!before || compareKeys(k2, before.key) < 0))
                                        before = { key: k2, el: el2 };
                        ul.insertBefore(el, before ? before.el : null);
                        sync();
                },
                remove(k) {
                        const el = items.get(k);
                        if (el) {
                                el.remove();
                                items.delete(k);
                        }
                        sync();
                },
                replace(list) {
                        empty.textContent = emptyText;
                        const keep = new Set(list.map(key));
                        for (const k of [...items.keys()])
                                if (!keep.has(k))
                                        api.remove(k);
                        for (const o of list)
                                api.set(o);
                        sync();
                },
        };
        sync();
        return api;
}

function compareKeys(a, b) {
        if (typeof a === 'number' && typeof b === 'number')
                return a - b;
        return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

// A live console: lines appended at the bottom, kept scrolled to the end
// unless the user scrolled up.
export function consoleBox(label) {
        const box = h('div.console', { role: 'log', 'aria-live': 'polite', 'aria-label': label, tabindex: '0' });
        // Whether it follows the end: true until the user scrolls up, again
        // once they scroll back down.
        let stuck = true;
        const toEnd = () => {
                box.scrollTop = box.scrollHeight;
        };
        box.addEventListener('scroll', () => {
                stuck = box.scrollTop + box.clientHeight >= box.scrollHeight - 8;
        });
        // Lines wrap anew when the width changes (a phone turned).
        new ResizeObserver(() => {
                if (stuck)
                        toEnd();
        }).observe(box);
        box.line = (text, cls) => {
                box.append(h('div' + (cls ? '.' + cls : ''), null, text));
                while (box.childElementCount > LOG_LINES_MAX)
                        box.firstElementChild.remove();
                if (stuck)
                        toEnd();
        };
        box.toEnd = () => {
                stuck = true;
                toEnd();
        };
        return box;
}

// A link that downloads what path answers (a file the bridge streams from
// the daemon), looking like a button.
export function downloadLink(label, path, filename, attrs) {
        return h('a.button', Object.assign({ href: path, download: filename }, attrs || {}), label);
}
