// SPDX-License-Identifier: GPL-2.0-or-later
// The bridge's JSON API (web-bridge/API.md): the session, api(), upload().

export const session = { user: null, role: null, csrf: null };

export class ApiError extends Error {
        constructor(status, error, message) {
                super(message || `HTTP ${status}`);
                this.status = status;
                this.error = error || '';
        }
}

export const enc = encodeURIComponent;

export async function api(method, path, body) {
        const opts = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
        if (method !== 'GET' && method !== 'HEAD') {
                opts.headers['Content-Type'] = 'application/json';
                if (session.csrf)
                        opts.headers['X-CSRF-Token'] = session.csrf;
                opts.body = JSON.stringify(body === undefined ? {} : body);
        }
        let res;
        try {
                res = await fetch(path, opts);
        } catch (e) {
                throw new ApiError(0, '', 'The server cannot be reached.');
        }
        if (res.status === 204)
                return null;
        let data = null;
        const text = await res.text();
        if (text) {
                try {
                        data = JSON.parse(text);
                } catch (e) {
                        data = null;
                }
        }
        if (!res.ok) {
                let msg = data && typeof data.message === 'string' ? data.message : `${res.status} ${res.statusText}`;
                if (res.status === 429) {
                        const after = res.headers.get('Retry-After');
                        msg = 'Too many attempts; try again' + (after ? ` in ${after} s.` : ' later.') +
                                (data && data.message ? ` ${data.message}` : '');
                }
                throw new ApiError(res.status, data && data.error, msg);
        }
        return data;
}

export function upload(path, file, onProgress) {
        return new Promise((resolve, reject) => {
                const xhr = new XMLHttpRequest();
                xhr.open('POST', path);
                xhr.setRequestHeader('Content-Type', 'application/octet-stream');
                xhr.setRequestHeader('X-CSRF-Token', session.csrf || '');
                xhr.upload.addEventListener('progress', (ev) => {
                        if (ev.lengthComputable)
                                onProgress(ev.loaded / ev.total);
                });
                xhr.addEventListener('load', () => {
                        let data;
                        try {
                                data = JSON.parse(xhr.responseText);
                        } catch (e) {
                                data = null;
                        }
                        if (xhr.status >= 200 && xhr.status < 300)
                                resolve(data);
                        else
                                reject(new ApiError(xhr.status, data && data.error,
                                        data && data.message ? data.message : `${xhr.status} ${xhr.statusText}`));
                });
                xhr.addEventListener('error', () => reject(new ApiError(0, '', 'The upload failed.')));
                xhr.addEventListener('abort', () => reject(new ApiError(0, '', 'The upload was aborted.')));
                xhr.send(file);
        });
}
