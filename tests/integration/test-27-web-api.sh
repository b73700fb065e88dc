# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# left4me-web, the HTTP bridge: socket activation, static files and their
# path checks, sessions (cookie flags, CSRF token, Origin/Sec-Fetch-Site,
# Host, logout, rate limit), the JSON API on a session's own bus connection
# (an overlay created, listed and read back; types checked against the
# method's signature; bus errors mapped to statuses), body size limits,
# archive upload, and the generator's socket drop-in.

# shellcheck source=web-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/web-lib.sh"

WEB_UI=/usr/share/left4me/ui

test_web_static() {
        web_up
        step "socket activation and the UI"
        [[ $(in_container systemctl is-active left4me-web.service) == active ]] ||
                fail "left4me-web.service did not start on the first connection"
        [[ $(in_container systemctl show -P User left4me-web.service) == left4me-web ]] ||
                fail "left4me-web does not run as left4me-web"
        web_req /
        web_expect 200 "GET /"
        [[ $WEB_BODY == *"<html"* ]] || fail "GET / is not the UI's index.html: $WEB_BODY"
        [[ $(web_header Content-Type) == "text/html; charset=utf-8" ]] || fail "Content-Type of /: $(web_header Content-Type)"
        [[ $(web_header Content-Security-Policy) == *"default-src 'self'"*"frame-ancestors 'none'"* ]] ||
                fail "no or a weak Content-Security-Policy: $WEB_HEADERS"
        [[ $(web_header X-Content-Type-Options) == nosniff ]] || fail "no X-Content-Type-Options: nosniff"
        [[ $(web_header Referrer-Policy) == no-referrer ]] || fail "no Referrer-Policy: no-referrer"
        local etag
        etag=$(web_header ETag)
        [[ -n $etag ]] || fail "no ETag on /"
        web_req -H "If-None-Match: $etag" /
        web_expect 304 "GET / with its ETag"

        step "the UI's modules"
        # Its ES modules, in subdirectories: a module script with
        # another Content-Type is not run.
        local module
        for module in /main.js /lib/dom.js /pages/instances.js /editors/workshop.js; do
                web_req "$module"
                web_expect 200 "GET $module"
                [[ $(web_header Content-Type) == "text/javascript; charset=utf-8" ]] ||
                        fail "Content-Type of $module: $(web_header Content-Type)"
        done

        step "path traversal"
        # A file next to the UI directory: what a traversal would reach.
        in_container sh -c "echo SECRET > '$WEB_UI/../secret.txt'"
        local p
        for p in /../secret.txt /%2e%2e/secret.txt /.%2e/secret.txt /..%2fsecret.txt /%2e%2e%2fsecret.txt \
                 /ui/..%5csecret.txt /../../../etc/passwd; do
                web_req --path-as-is "$p"
                [[ $WEB_STATUS == 400 || $WEB_STATUS == 404 ]] || fail "GET $p: HTTP $WEB_STATUS"
                [[ $WEB_BODY != *SECRET* && $WEB_BODY != *root:* ]] || fail "GET $p was served: $WEB_BODY"
        done
        in_container rm -f "$WEB_UI/../secret.txt"
        web_req --path-as-is /..%2f..%2fetc%2fpasswd
        web_expect 400 "percent-encoded slashes"
        web_req /.hidden
        web_expect 400 "a hidden file name"
        in_container ln -sfn /etc/passwd "$WEB_UI/evil-link"
        in_container ln -sfn /etc "$WEB_UI/evil-dir"
        web_req /evil-link
        web_expect 404 "a symlink in the UI directory"
        web_req /evil-dir/passwd
        web_expect 404 "a path through a symlinked directory"
        in_container rm -f "$WEB_UI/evil-link" "$WEB_UI/evil-dir"
        in_container mkdir -p "$WEB_UI/somedir"
        web_req /somedir
        web_expect 404 "a directory (never listed)"
        in_container rmdir "$WEB_UI/somedir"
        web_req /no-such-file.js
        web_expect 404 "a missing file"

        step "Host check"
        web_req -H 'Host: evil.example:8480' /
        web_expect 403 "GET / with a foreign Host"
        web_req -H 'Host: evil.example' /api/session
        web_expect 403 org.left4me.Web.Forbidden "GET /api/session with a foreign Host"
        web_req -H 'Host: localhost:8480' /
        web_expect 200 "GET / as localhost"
}
l4m_test web-static test_web_static 120

test_web_session() {
        web_up
        web_user webalice 'correct horse battery' user

        step "no session"
        web_req /api/overlays
        web_expect 401 org.left4me.Web.Unauthorized "GET /api/overlays without a session"
        [[ $(web_header Cache-Control) == no-store ]] || fail "no Cache-Control: no-store on /api"
        web_req -H "Cookie: l4m_session=$(printf '%064d' 0)" /api/session
        web_expect 401 org.left4me.Web.Unauthorized "a made-up session token"

        step "login"
        web_login webalice 'wrong password'
        web_expect 401 org.left4me.Web.Unauthorized "login with a wrong password"
        web_req -H "Origin: http://evil.example" -H 'Content-Type: application/json' \
                --data-binary '{"user":"webalice","password":"correct horse battery"}' /api/login
        web_expect 403 org.left4me.Web.Forbidden "login from a foreign Origin (login CSRF)"
        web_req -H 'Sec-Fetch-Site: cross-site' -H 'Content-Type: application/json' \
                --data-binary '{"user":"webalice","password":"correct horse battery"}' /api/login
        web_expect 403 org.left4me.Web.Forbidden "login with Sec-Fetch-Site: cross-site"
        web_req -H "Origin: $WEB_ORIGIN" --data-binary '{"user": 5}' /api/login
        web_expect 400 org.left4me.Web.BadRequest "login with a malformed body"
        web_login webalice 'correct horse battery'
        web_expect 200 "login"
        [[ $(json 'd["user"]' <<<"$WEB_BODY") == webalice && $(json 'd["role"]' <<<"$WEB_BODY") == user ]] ||
                fail "login answered $WEB_BODY"
        [[ $WEB_CSRF =~ ^[0-9a-f]{64}$ ]] || fail "CSRF token '$WEB_CSRF' is not 256 bits of hex"
        local cookie
        cookie=$(web_header Set-Cookie)
        [[ $cookie =~ ^l4m_session=[0-9a-f]{64}\; ]] || fail "session cookie: $cookie"
        [[ $cookie == *"HttpOnly"* && $cookie == *"SameSite=Strict"* && $cookie == *"Path=/"* ]] ||
                fail "session cookie flags: $cookie"
        [[ $cookie != *Secure* ]] || fail "a Secure cookie over plain HTTP: $cookie"

        web_call GET /api/session
        web_expect 200 "GET /api/session"
        [[ $(json 'd["user"]' <<<"$WEB_BODY") == webalice && $(json 'd["csrf"]' <<<"$WEB_BODY") == "$WEB_CSRF" ]] ||
                fail "/api/session answered $WEB_BODY"

        step "CSRF and Origin on state-changing requests"
        local body='{"name":"web-ov1","type":"workshop"}'
        _web_curl -b "$WEB_DIR/jar" -H "Origin: $WEB_ORIGIN" -H 'Content-Type: application/json' \
                --data-binary "$body" "$WEB_ORIGIN/api/overlays"
        web_expect 403 org.left4me.Web.Forbidden "POST without X-CSRF-Token"
        _web_curl -b "$WEB_DIR/jar" -H "Origin: $WEB_ORIGIN" -H "X-CSRF-Token: $(printf 'f%.0s' {1..64})" \
                -H 'Content-Type: application/json' --data-binary "$body" "$WEB_ORIGIN/api/overlays"
        web_expect 403 org.left4me.Web.Forbidden "POST with a wrong X-CSRF-Token"
        _web_curl -b "$WEB_DIR/jar" -H "Origin: http://evil.example" -H "X-CSRF-Token: $WEB_CSRF" \
                -H 'Content-Type: application/json' --data-binary "$body" "$WEB_ORIGIN/api/overlays"
        web_expect 403 org.left4me.Web.Forbidden "POST from a foreign Origin"
        _web_curl -b "$WEB_DIR/jar" -H "Origin: http://127.0.0.1:9999" -H "X-CSRF-Token: $WEB_CSRF" \
                -H 'Content-Type: application/json' --data-binary "$body" "$WEB_ORIGIN/api/overlays"
        web_expect 403 org.left4me.Web.Forbidden "POST from another port"
        _web_curl -b "$WEB_DIR/jar" -H "X-CSRF-Token: $WEB_CSRF" -H 'Sec-Fetch-Site: same-site' \
                -H 'Content-Type: application/json' --data-binary "$body" "$WEB_ORIGIN/api/overlays"
        web_expect 403 org.left4me.Web.Forbidden "POST without Origin, Sec-Fetch-Site: same-site"
        _web_curl -b "$WEB_DIR/jar" -H "X-CSRF-Token: $WEB_CSRF" \
                -H 'Content-Type: application/json' --data-binary "$body" "$WEB_ORIGIN/api/overlays"
        web_expect 403 org.left4me.Web.Forbidden "POST without Origin and Sec-Fetch-Site"
        [[ -z $(row_id web-ov1) ]] || fail "a refused request created the overlay"

        step "logout"
        web_call POST /api/logout
        web_expect 204 "logout"
        web_call GET /api/session
        web_expect 401 org.left4me.Web.Unauthorized "the session after logout"
        web_call GET /api/overlays
        web_expect 401 org.left4me.Web.Unauthorized "GET /api/overlays after logout"
}
l4m_test web-session test_web_session 120

test_web_login_rate() {
        local codes
        web_up
        # A fresh bridge: its login buckets start full (10, then one more
        # every 6 s). Eleven logins sent together all arrive before a token
        # can come back, however slowly the daemon checks passwords: ten
        # reach it, the eleventh is 429 at once. Each names another unknown
        # account, as one account may have only two logins waiting.
        capture in_container systemctl restart left4me-web.service
        expect_ok "restart left4me-web"
        capture in_container sh -c '
                for i in $(seq 11); do
                        curl -sS --max-time 60 -o /dev/null -D "$1/h$i" -w "%{http_code}\n" -H "Origin: $2" \
                                -H "Content-Type: application/json" \
                                --data-binary "{\"user\": \"nobody$i\", \"password\": \"wrong\"}" "$2/api/login" &
                done
                wait' sh "$WEB_DIR" "$WEB_ORIGIN"
        expect_ok "eleven logins at once"
        codes=$(sort <<<"$OUT" | uniq -c | awk '{ printf "%s×%s ", $2, $1 }')
        assert_eq "401×10 429×1 " "$codes" "answers to eleven logins at once from one address"
        in_container sh -c 'grep -il "^Retry-After: [0-9][0-9]*" "$1"/h*' sh "$WEB_DIR" >/dev/null ||
                fail "no Retry-After on the 429"
        capture in_container systemctl restart left4me-web.service
}
l4m_test web-login-rate test_web_login_rate 120

# web_idle_cleanup: the bridge with its usual idle time again.
web_idle_cleanup() {
        in_container rm -f "$L4M_CONF_D/50-web-idle.conf"
        capture in_container systemctl restart left4me-web.service
}

test_web_idle() {
        web_up
        web_user webalice 'correct horse battery' user
        in_container mkdir -p "$L4M_CONF_D"
        # Removed on failure too: every later web case would lose its
        # sessions. Long enough that a loaded machine still answers a
        # request of a session in use in time.
        trap web_idle_cleanup EXIT
        printf '[Web]\nSessionIdleSec=6\n' >"$CTR_DIR/root$L4M_CONF_D/50-web-idle.conf"
        capture in_container systemctl restart left4me-web.service
        expect_ok "restart left4me-web"
        web_login webalice 'correct horse battery'
        web_expect 200 "login"
        web_call GET /api/session
        web_expect 200 "a session in use"
        sleep 8
        web_call GET /api/session
        web_expect 401 org.left4me.Web.Unauthorized "a session idle for longer than SessionIdleSec="
        trap - EXIT
        web_idle_cleanup
}
l4m_test web-idle test_web_idle 60

test_web_unit() {
        local p
        web_up
        for p in NoNewPrivileges=yes ProtectSystem=strict PrivateNetwork=yes PrivateTmp=yes \
                 ProtectHome=yes MemoryDenyWriteExecute=yes CapabilityBoundingSet= UMask=0077; do
                [[ $(in_container systemctl show -P "${p%%=*}" left4me-web.service) == "${p#*=}" ]] ||
                        fail "left4me-web.service: ${p%%=*}=$(in_container systemctl show -P "${p%%=*}" left4me-web.service)"
        done
        capture in_container systemd-analyze security --no-pager left4me-web.service
        note "systemd-analyze security left4me-web.service: $(grep -o 'Overall exposure level.*' <<<"$OUT")"
}
l4m_test web-unit test_web_unit 60

# web_upload FILE OVERLAY [QUERY]: uploads $WEB_DIR/FILE into OVERLAY on
# the session of the jar.
web_upload() {
        _web_curl -b "$WEB_DIR/jar" -H "Origin: $WEB_ORIGIN" -H "X-CSRF-Token: $WEB_CSRF" \
                -H 'Content-Type: application/octet-stream' --data-binary "@$WEB_DIR/$1" \
                "$WEB_ORIGIN/api/overlays/$2/archive${3:-}"
}

# web_upload_wait WHAT: the job an upload just answered ({"job": N}) must
# succeed within 20 s.
web_upload_wait() {
        local job state=
        job=$(json 'd["job"]' <<<"$WEB_BODY")
        [[ $job =~ ^[0-9]+$ ]] || fail "upload answered $WEB_BODY"
        for _ in $(seq 100); do
                web_call GET "/api/jobs/$job"
                state=$(json 'd["State"]' <<<"$WEB_BODY")
                [[ $state == succeeded || $state == failed || $state == cancelled ]] && break
                sleep 0.2
        done
        [[ $state == succeeded ]] || fail "$1 ended $state: $WEB_BODY"
}

test_web_api() {
        local id
        web_up
        web_user webalice 'correct horse battery' user
        delete_overlay_named() {
                local p
                gcall root "$L4M_MANAGER" org.left4me.Manager.GetOverlay "$(gv_str "$1")"
                if ((RC == 0)); then
                        p=$(path_from_output)
                        delete_overlay root "$p"
                fi
        }
        delete_overlay_named web-ov2
        web_login webalice 'correct horse battery'
        web_expect 200 "login"

        step "create, list, show an overlay"
        web_call POST /api/overlays '{"name":"web-ov2","type":"workshop"}'
        web_expect 201 "POST /api/overlays"
        [[ $(json 'd["Name"]' <<<"$WEB_BODY") == web-ov2 && $(json 'd["Type"]' <<<"$WEB_BODY") == workshop ]] ||
                fail "the created overlay: $WEB_BODY"
        id=$(row_id web-ov2)
        [[ -n $id ]] || fail "no row for web-ov2"
        web_call GET /api/overlays
        web_expect 200 "GET /api/overlays"
        [[ $(json '[o["Name"] for o in d if o["Name"] == "web-ov2"]' <<<"$WEB_BODY") == '["web-ov2"]' ]] ||
                fail "web-ov2 is not listed: $WEB_BODY"
        web_call GET /api/overlays/web-ov2
        web_expect 200 "GET /api/overlays/web-ov2"
        [[ $(json 'd["Items"]' <<<"$WEB_BODY") == '[]' ]] || fail "GET /api/overlays/web-ov2: $WEB_BODY"
        web_call PUT /api/overlays/web-ov2/items '{"items":["123456"]}'
        web_expect 200 "PUT items"
        [[ $(json 'd["Items"]' <<<"$WEB_BODY") == '[123456]' ]] || fail "items after PUT: $WEB_BODY"

        step "types by the method's signature"
        web_call POST /api/overlays '{"name":5,"type":"workshop"}'
        web_expect 400 org.left4me.Error.InvalidArgument "a number for a string"
        web_call POST /api/overlays '{"name":"web-ov3"}'
        web_expect 400 org.left4me.Error.InvalidArgument "a missing argument"
        web_call POST /api/overlays '{"name":"web-ov3","type":"workshop","options":{"bogus":1}}'
        web_expect 400 org.left4me.Error.InvalidArgument "an unknown option"
        web_call PUT /api/overlays/web-ov2/items '{"items":"123"}'
        web_expect 400 org.left4me.Error.InvalidArgument "a string for an array"
        web_call POST /api/overlays '{"name":'
        web_expect 400 org.left4me.Web.BadRequest "malformed JSON"
        web_call POST /api/overlays '[1]'
        web_expect 400 org.left4me.Web.BadRequest "not an object"
        [[ -z $(row_id web-ov3) ]] || fail "a refused request created web-ov3"

        step "bus errors"
        web_call POST /api/overlays '{"name":"web-ov2","type":"workshop"}'
        web_expect 409 org.left4me.Error.Exists "a name in use"
        web_call POST /api/overlays '{"name":"Bad Name","type":"workshop"}'
        web_expect 400 org.left4me.Error.InvalidArgument "an invalid name"
        web_call GET /api/overlays/no-such-overlay
        web_expect 404 org.left4me.Error.NotFound "a missing overlay"

        step "routes"
        web_call GET /api/no-such-thing
        web_expect 404 org.left4me.Web.NotFound "an unknown API path"
        web_call PATCH /api/overlays
        web_expect 405 org.left4me.Web.MethodNotAllowed "a wrong method"
        [[ $(web_header Allow) == *GET* && $(web_header Allow) == *POST* ]] || fail "Allow: $(web_header Allow)"
        web_call GET /api/overlays/web%2fov2
        web_expect 404 org.left4me.Web.NotFound "an encoded slash in a name"

        step "size limits"
        head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$WEB_HOST_DIR/big.json"
        _web_curl -b "$WEB_DIR/jar" -H "Origin: $WEB_ORIGIN" -H "X-CSRF-Token: $WEB_CSRF" \
                -H 'Content-Type: application/json' --data-binary "@$WEB_DIR/big.json" "$WEB_ORIGIN/api/overlays"
        web_expect 413 org.left4me.Web.PayloadTooLarge "a 2 MiB body"
        _web_curl -b "$WEB_DIR/jar" -H "Origin: $WEB_ORIGIN" -H "X-CSRF-Token: $WEB_CSRF" \
                -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/json' \
                --data-binary "@$WEB_DIR/big.json" "$WEB_ORIGIN/api/overlays"
        web_expect 413 org.left4me.Web.PayloadTooLarge "a 2 MiB chunked body"
        web_call GET /api/session
        web_expect 200 "the session after refused bodies"

        step "archive upload"
        delete_overlay_named web-arc
        web_call POST /api/overlays '{"name":"web-arc","type":"archive"}'
        web_expect 201 "create web-arc"
        mkdir -p "$WEB_HOST_DIR/tree/left4dead2/addons"
        echo hello >"$WEB_HOST_DIR/tree/left4dead2/addons/web.txt"
        tar -C "$WEB_HOST_DIR/tree" -czf "$WEB_HOST_DIR/a.tar.gz" left4dead2
        web_upload a.tar.gz web-arc
        web_expect 202 "upload an archive"
        web_upload_wait "the import job"
        [[ $(in_container cat "$L4M_OVERLAYS/$(row_id web-arc)/left4dead2/addons/web.txt") == hello ]] ||
                fail "the uploaded archive's file is not in the overlay"
        web_req -H "Origin: $WEB_ORIGIN" --data-binary "@$WEB_DIR/a.tar.gz" /api/overlays/web-arc/archive
        web_expect 401 org.left4me.Web.Unauthorized "an upload without a session"

        # name_encoding reaches the daemon: a tar whose names are CP1251
        # bytes arrives as UTF-8; an unknown encoding is refused.
        python3 -c 'import io, sys, tarfile
with tarfile.open(sys.argv[1], "w:gz", format=tarfile.GNU_FORMAT, encoding="cp1251") as t:
    ti = tarfile.TarInfo("left4dead2/maps/Карта.bsp")
    ti.size = 4
    t.addfile(ti, io.BytesIO(b"bsp\n"))' "$WEB_HOST_DIR/cp1251.tar.gz"
        web_upload cp1251.tar.gz web-arc "?name_encoding=NOPE"
        web_expect 400 org.left4me.Error.InvalidArgument "an upload with name_encoding NOPE"
        web_upload cp1251.tar.gz web-arc "?name_encoding=CP1251"
        web_expect 202 "upload a CP1251 archive with name_encoding CP1251"
        web_upload_wait "the CP1251 import job"
        [[ $(in_container cat "$L4M_OVERLAYS/$(row_id web-arc)/left4dead2/maps/Карта.bsp") == bsp ]] ||
                fail "Карта.bsp (a CP1251 name) is not in the overlay as UTF-8"

        web_call DELETE /api/overlays/web-ov2
        web_expect 204 "DELETE /api/overlays/web-ov2"
        [[ -z $(row_id web-ov2) ]] || fail "web-ov2 is still there"
}
l4m_test web-api test_web_api 180

# A list answer makes one bus call per entry, all on the session's one bus
# connection, and dbus-daemon refuses a connection more than 128 pending
# replies (max_replies_per_connection) with LimitsExceeded. 64 requests,
# 32 at a time, for a list of 40 overlays (over 2,600 calls) must all be
# answered 200 with every overlay: the bridge keeps its calls in flight
# below the limit.
test_web_list_fanout() {
        local i n=40 cookie
        web_up
        web_user webfan 'correct horse battery' user
        web_login webfan 'correct horse battery'
        web_expect 200 "login"
        for ((i = 0; i < n; i++)); do
                web_call POST /api/overlays "{\"name\":\"web-fan-$i\",\"type\":\"workshop\"}"
                [[ $WEB_STATUS == 201 || $(web_error) == org.left4me.Error.Exists ]] ||
                        fail "create web-fan-$i: HTTP $WEB_STATUS $WEB_BODY"
        done
        cookie=$(awk '$6 == "l4m_session" { print $7 }' "$WEB_HOST_DIR/jar" | tail -n 1)
        [[ -n $cookie ]] || fail "no session cookie in the jar"
        cat >"$WEB_HOST_DIR/fanout.py" <<'PY'
import collections, concurrent.futures, http.client, json, sys
port, cookie, path, total, width = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
def get(_):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("GET", path, headers={"Cookie": "l4m_session=" + cookie})
    r = c.getresponse()
    body = r.read()
    c.close()
    if r.status != 200:
        return "%d %s" % (r.status, body[:200].decode(errors="replace"))
    return "200 %d" % len([o for o in json.loads(body) if o["Name"].startswith("web-fan-")])
with concurrent.futures.ThreadPoolExecutor(width) as pool:
    answers = collections.Counter(pool.map(get, range(total)))
for answer, count in sorted(answers.items()):
    print("%d x %s" % (count, answer))
PY
        step "64 concurrent GET /api/overlays, 32 at a time, of $n overlays"
        capture in_container python3 "$WEB_DIR/fanout.py" "$WEB_PORT" "$cookie" /api/overlays 64 32
        expect_ok "the concurrent requests"
        note "answers: $(paste -sd ';' <<<"$OUT")"
        assert_eq "64 x 200 $n" "$OUT" "the answers of 64 concurrent list requests"
        if in_container sh -c 'command -v wrk' >/dev/null 2>&1; then
                # The same under load: wrk, 32 connections, one session.
                cp "$(dirname "${BASH_SOURCE[0]}")/../bench/wrk-status.lua" "$WEB_HOST_DIR/wrk-status.lua"
                capture in_container wrk -t2 -c32 -d5s -s "$WEB_DIR/wrk-status.lua" \
                        -H "Cookie: l4m_session=$cookie" "$WEB_ORIGIN/api/overlays"
                expect_ok "wrk of GET /api/overlays"
                note "wrk -t2 -c32 -d5s GET /api/overlays ($n overlays): $(grep -E '^(Requests/sec|status )' <<<"$OUT" | paste -sd ' ')"
                grep -E '^status 200: [1-9]' <<<"$OUT" >/dev/null || fail "wrk saw no 200 answers: $OUT"
                if grep -E '^status ' <<<"$OUT" | grep -v '^status 200:' >/dev/null; then
                        fail "wrk saw answers other than 200: $(grep -E '^(status |first other)' <<<"$OUT" | paste -sd ' ')"
                fi
        fi
        web_call GET /api/session
        web_expect 200 "the session after the concurrent requests"
        for ((i = 0; i < n; i++)); do
                web_call DELETE "/api/overlays/web-fan-$i"
                web_expect 204 "DELETE web-fan-$i"
        done
}
l4m_test web-list-fanout test_web_list_fanout 180

test_web_generator() {
        local gen dir
        web_files
        gen=$(in_container sh -c 'ls /usr/lib/systemd/system-generators/left4me-web-generator /lib/systemd/system-generators/left4me-web-generator 2>/dev/null | head -n 1')
        [[ -n $gen ]] || fail "left4me-web-generator is not installed"
        dir=$WEB_DIR/gen
        in_container rm -rf "$dir"
        in_container mkdir -p "$dir"
        capture in_container "$gen" "$dir" "$dir" "$dir"
        expect_ok "generator without Listen="
        in_container test ! -e "$dir/left4me-web.socket.d" || fail "a drop-in without [Web] Listen="

        in_container mkdir -p "$L4M_CONF_D"
        printf '[Web]\nListen=127.0.0.1:8481 [::1]:8481\n' >"$CTR_DIR/root$L4M_CONF_D/50-web-test.conf"
        capture in_container systemctl daemon-reload
        expect_ok "daemon-reload"
        capture in_container systemctl show -P Listen left4me-web.socket
        in_container rm -f "$L4M_CONF_D/50-web-test.conf"
        [[ $OUT == *"127.0.0.1:8481"* && $OUT == *"[::1]:8481"* && $OUT != *"8480"* ]] ||
                { in_container systemctl daemon-reload; fail "the socket listens on: $OUT"; }

        printf '[Web]\nListen=localhost:80\n' >"$CTR_DIR/root$L4M_CONF_D/50-web-test.conf"
        capture in_container "$gen" "$dir" "$dir" "$dir"
        in_container rm -f "$L4M_CONF_D/50-web-test.conf"
        in_container test ! -e "$dir/left4me-web.socket.d" || fail "a drop-in from an invalid Listen="
        capture in_container systemctl daemon-reload
        capture in_container systemctl show -P Listen left4me-web.socket
        [[ $OUT == *"127.0.0.1:8480"* ]] || fail "the socket did not go back to 127.0.0.1:8480: $OUT"
}
l4m_test web-generator test_web_generator 120
