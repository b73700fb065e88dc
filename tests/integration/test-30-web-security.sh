# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# left4me-web's defences, from the outside, over HTTP (web-bridge/API.md):
# no session → 401 on every route family; CSRF token, Origin,
# Sec-Fetch-Site and Host checks → 403; the session cookie's flags over
# plain HTTP and over TLS; web accounts of role user seeing and touching
# only their own overlays, blueprints, instances, jobs and events (an admin
# account everything); body caps (413) on JSON and on archive uploads,
# which stream (the bridge's peak RSS stays far below the upload's size);
# path traversal and symbolic links out of the UI directory; slow clients
# and unread event streams not blocking anyone else; login rate limits,
# idle expiry, logout and the bound on sessions.
#
# Requests are made with curl (python3 for raw sockets) inside the
# container against the bridge on loopback. Each test writes its own [Web]
# drop-in and restarts the bridge, so that sessions and rate limits of one
# test never reach the next.

# shellcheck source=web-http.sh
source "$(dirname "${BASH_SOURCE[0]}")/web-http.sh"

SEC_CONF=70-web-security
# [Web] UiDir= as installed.
SEC_UI_DIR=/usr/share/left4me/ui
SEC_PW=correct-horse-battery-staple
# Web accounts: two of role user, one admin.
SEC_A=sec-alice
SEC_B=sec-bob
SEC_W=sec-wendy

# --- no session: 401 everywhere ------------------------------------------

test_sec_no_session() {
        local method path body n=0
        sec_setup
        # A session of someone else's exists, so that "no session" is not
        # "no sessions at all"; its token is never sent.
        sec_login other "$SEC_A"
        while read -r method path body; do
                [[ -n $method ]] || continue
                # Same-origin and a token: only the session is missing.
                sec_http "" "$method" "$path" -H "Origin: $WEB_ORIGIN" -H 'X-CSRF-Token: 00' \
                        -H 'Content-Type: application/json' ${body:+--data-binary "$body"}
                expect_http_error 401 org.left4me.Web.Unauthorized "$method $path without a session"
                # A made-up cookie is no session either.
                sec_http "" "$method" "$path" -H "Origin: $WEB_ORIGIN" -H 'X-CSRF-Token: 00' \
                        -H "Cookie: l4m_session=$(printf '%064d' 7)" \
                        -H 'Content-Type: application/json' ${body:+--data-binary "$body"}
                expect_http_error 401 org.left4me.Web.Unauthorized "$method $path with a made-up session cookie"
                n=$((n + 1))
        done <<'ROUTES'
GET /api/session
POST /api/logout {}
GET /api/manager
POST /api/game/install {"options":{}}
POST /api/game/update {"options":{}}
PUT /api/game/steam-login {"user":"u","password":"p"}
GET /api/overlays
POST /api/overlays {"name":"sec-nosession","type":"workshop","options":{}}
GET /api/overlays/sec-nosession
DELETE /api/overlays/sec-nosession
PUT /api/overlays/sec-nosession/items {"items":[]}
GET /api/overlays/sec-nosession/script
GET /api/overlays/sec-nosession/export
PUT /api/overlays/sec-nosession/script {"script":"true"}
POST /api/overlays/sec-nosession/build {"options":{}}
POST /api/overlays/sec-nosession/wipe {}
POST /api/overlays/sec-nosession/archive x
GET /api/blueprints
POST /api/blueprints {"name":"sec-nosession","overlays":[],"options":{}}
GET /api/blueprints/sec-nosession
PUT /api/blueprints/sec-nosession {"settings":{"server_cfg":""}}
PUT /api/blueprints/sec-nosession/server-cfg {"text":""}
DELETE /api/blueprints/sec-nosession
GET /api/instances
POST /api/instances {"name":"sec-nosession","blueprint":"x","options":{}}
GET /api/instances/sec-nosession
PATCH /api/instances/sec-nosession {"hostname":"x"}
POST /api/instances/sec-nosession/start {}
POST /api/instances/sec-nosession/command {"command":"status"}
DELETE /api/instances/sec-nosession
GET /api/instances/sec-nosession/log?lines=0
POST /api/instances/sec-nosession/backup {"options":{}}
POST /api/instances/sec-nosession/backups x
GET /api/backups
GET /api/backups?instance=sec-nosession
POST /api/backups/1/restore {"options":{}}
DELETE /api/backups/1
GET /api/backups/1/download
GET /api/schedules
POST /api/schedules {"name":"sec-nosession","calendar":"daily","action":"start","target":"x","options":{}}
GET /api/schedules/sec-nosession
POST /api/schedules/sec-nosession/enable {}
POST /api/schedules/sec-nosession/disable {}
POST /api/schedules/sec-nosession/run {}
DELETE /api/schedules/sec-nosession
GET /api/jobs
GET /api/jobs/1
POST /api/jobs/1/cancel {}
GET /api/jobs/1/log
GET /api/cache
POST /api/cache/prune {}
GET /api/storage
GET /api/status
GET /api/users
POST /api/users {"name":"sec-nosession","password":"xxxxxxxxxx","role":"admin"}
PUT /api/users/sec-alice/password {"password":"xxxxxxxxxx","current_password":"xxxxxxxxxx"}
DELETE /api/users/sec-alice
GET /api/events
ROUTES
        note "$n routes answer 401 org.left4me.Web.Unauthorized without a session"
        # Nothing happened on the way.
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetOverlay "'sec-nosession'"
        expect_dbus_error org.left4me.Error.NotFound "an overlay created without a session"
        sec_login a "$SEC_A"
        sec_http a GET /api/session
        expect_http 200 "the account whose deletion was tried without a session still logs in"
}
l4m_test web-sec-no-session test_sec_no_session 240

# --- CSRF, Origin, Sec-Fetch-Site, Host ----------------------------------

test_sec_csrf_origin_host() {
        local body='{"name":"sec-csrf","type":"workshop","options":{}}' tok
        sec_setup
        sec_remove_entities sec-csrf
        sec_login a "$SEC_A"
        tok=$(sec_csrf a)
        local json=(-H 'Content-Type: application/json' --data-binary "$body")

        sec_http a POST /api/overlays -H "Origin: $WEB_ORIGIN" "${json[@]}"
        expect_http_error 403 org.left4me.Web.Forbidden "POST without X-CSRF-Token"
        sec_http a POST /api/overlays -H "Origin: $WEB_ORIGIN" -H "X-CSRF-Token: ${tok%?}x" "${json[@]}"
        expect_http_error 403 org.left4me.Web.Forbidden "POST with a wrong X-CSRF-Token"
        sec_http a POST /api/overlays -H "Origin: $WEB_ORIGIN" -H 'X-CSRF-Token: ' "${json[@]}"
        expect_http_error 403 org.left4me.Web.Forbidden "POST with an empty X-CSRF-Token"
        # Another session's token is not this session's.
        sec_login b "$SEC_A"
        sec_http a POST /api/overlays -H "Origin: $WEB_ORIGIN" -H "X-CSRF-Token: $(sec_csrf b)" "${json[@]}"
        expect_http_error 403 org.left4me.Web.Forbidden "POST with another session's CSRF token"

        sec_http a POST /api/overlays -H 'Origin: https://evil.example' -H "X-CSRF-Token: $tok" "${json[@]}"
        expect_http_error 403 org.left4me.Web.Forbidden "POST with a cross-site Origin"
        sec_http a POST /api/overlays -H "Origin: http://127.0.0.1:$((WEB_PORT + 1))" -H "X-CSRF-Token: $tok" "${json[@]}"
        expect_http_error 403 org.left4me.Web.Forbidden "POST with an Origin on another port"
        sec_http a POST /api/overlays -H 'Origin: null' -H "X-CSRF-Token: $tok" "${json[@]}"
        expect_http_error 403 org.left4me.Web.Forbidden "POST with Origin: null"
        sec_http a POST /api/overlays -H 'Sec-Fetch-Site: cross-site' -H "X-CSRF-Token: $tok" "${json[@]}"
        expect_http_error 403 org.left4me.Web.Forbidden "POST without Origin, Sec-Fetch-Site: cross-site"
        sec_http a POST /api/overlays -H 'Sec-Fetch-Site: same-site' -H "X-CSRF-Token: $tok" "${json[@]}"
        expect_http_error 403 org.left4me.Web.Forbidden "POST without Origin, Sec-Fetch-Site: same-site"
        sec_http a POST /api/overlays -H "X-CSRF-Token: $tok" "${json[@]}"
        expect_http_error 403 org.left4me.Web.Forbidden "POST with neither Origin nor Sec-Fetch-Site"
        sec_http a DELETE /api/users/sec-bob -H 'Origin: https://evil.example' -H "X-CSRF-Token: $tok"
        expect_http_error 403 org.left4me.Web.Forbidden "DELETE with a cross-site Origin"

        # DNS rebinding: a valid session and token, but a Host we do not
        # serve. (curl picks cookies by the Host header: the cookie is
        # given by hand.)
        local cookie
        cookie="Cookie: l4m_session=$(sec_cookie_value a)"
        sec_http "" GET /api/instances -H 'Host: evil.example' -H "$cookie"
        expect_http_error 403 org.left4me.Web.Forbidden "GET with Host: evil.example"
        sec_http "" GET /api/session -H "Host: evil.example:$WEB_PORT" -H "$cookie"
        expect_http_error 403 org.left4me.Web.Forbidden "GET with Host: evil.example:PORT"
        sec_http "" POST /api/overlays -H 'Host: evil.example' -H 'Origin: http://evil.example' -H "$cookie" \
                -H "X-CSRF-Token: $tok" "${json[@]}"
        expect_http_error 403 org.left4me.Web.Forbidden "POST with Host and Origin evil.example"
        sec_http "" GET / -H 'Host: evil.example'
        expect_http 403 "the UI with Host: evil.example"

        # Login itself from another site.
        sec_http "" POST /api/login -H 'Origin: https://evil.example' -H 'Content-Type: application/json' \
                --data-binary "{\"user\": \"$SEC_A\", \"password\": \"$SEC_PW\"}"
        expect_http_error 403 org.left4me.Web.Forbidden "login from a cross-site Origin"
        [[ $HTTP_HEAD != *l4m_session=* ]] || fail "a refused login set a session cookie: $HTTP_HEAD"
        sec_http "" POST /api/login -H 'Sec-Fetch-Site: cross-site' -H 'Content-Type: application/json' \
                --data-binary "{\"user\": \"$SEC_A\", \"password\": \"$SEC_PW\"}"
        expect_http_error 403 org.left4me.Web.Forbidden "login with Sec-Fetch-Site: cross-site"
        sec_http "" POST /api/login -H 'Host: evil.example' -H 'Origin: http://evil.example' \
                -H 'Content-Type: application/json' --data-binary "{\"user\": \"$SEC_A\", \"password\": \"$SEC_PW\"}"
        expect_http_error 403 org.left4me.Web.Forbidden "login with Host: evil.example"

        gcall root "$L4M_MANAGER" org.left4me.Manager.GetOverlay "'sec-csrf'"
        expect_dbus_error org.left4me.Error.NotFound "an overlay created by a refused request"
        gcall root "$L4M_MANAGER" org.left4me.Manager.ListUsers
        [[ $OUT == *"'$SEC_B'"* ]] || fail "a refused DELETE removed $SEC_B: $OUT"

        # The same request done right goes through (so the refusals above
        # were about what they changed), from localhost too.
        sec_api a POST /api/overlays "$body"
        expect_http 201 "POST with token and same-origin Origin"
        assert_eq sec-csrf "$(json 'd["Name"]' <<<"$HTTP_BODY")" "the created overlay's Name"
        sec_http a DELETE /api/overlays/sec-csrf -H 'Sec-Fetch-Site: same-origin' -H "X-CSRF-Token: $tok"
        expect_http 204 "DELETE with token and Sec-Fetch-Site: same-origin (no Origin)"
        sec_http "" GET /api/session -H "Host: localhost:$WEB_PORT" -H "$cookie"
        expect_http 200 "GET with Host: localhost:PORT"
        # The same session with an allowed Host: the refusals above were the Host's.
        sec_http "" GET /api/instances -H "$cookie"
        expect_http 200 "GET /api/instances with the hand-given cookie and Host 127.0.0.1"
}
l4m_test web-sec-csrf-origin-host test_sec_csrf_origin_host 180

# --- cookie flags, plain HTTP and TLS --------------------------------------

# sec_cookie_line: the Set-Cookie header of l4m_session in HTTP_HEAD.
sec_cookie_line() {
        grep -i '^set-cookie: *l4m_session=' <<<"$HTTP_HEAD" | head -n 1
}

# sec_expect_cookie_flags LINE SECURE(yes|no)
sec_expect_cookie_flags() {
        local line=$1 attrs value
        [[ -n $line ]] || fail "login set no l4m_session cookie: $HTTP_HEAD"
        value=$(sed -E 's/^[^=]*=([^;]*).*/\1/' <<<"$line")
        [[ $value =~ ^[0-9A-Za-z_-]{43,}$ ]] || fail "the session token does not look like 256 random bits: '$value'"
        attrs=$(tr ';' '\n' <<<"${line#*;}" | sed 's/^ *//; s/ *$//' | tr '[:upper:]' '[:lower:]')
        grep -x httponly <<<"$attrs" >/dev/null || fail "no HttpOnly: $line"
        grep -x 'samesite=strict' <<<"$attrs" >/dev/null || fail "no SameSite=Strict: $line"
        grep -x 'path=/' <<<"$attrs" >/dev/null || fail "no Path=/: $line"
        ! grep '^domain=' <<<"$attrs" >/dev/null || fail "a Domain attribute: $line"
        if [[ $2 == yes ]]; then
                grep -x secure <<<"$attrs" >/dev/null || fail "no Secure over TLS: $line"
        else
                ! grep -x secure <<<"$attrs" >/dev/null || fail "Secure over plain HTTP (the browser would drop it): $line"
        fi
}

test_sec_cookies() {
        local line d=/etc/left4me/web-test-tls plain_url
        sec_setup
        plain_url=$WEB_URL
        sec_login a "$SEC_A"
        line=$(sec_cookie_line)
        step "plain HTTP: $line"
        sec_expect_cookie_flags "$line" no
        sec_http a GET /api/session
        expect_http 200 "the cookie works over plain HTTP"
        assert_eq "$SEC_A" "$(json 'd["user"]' <<<"$HTTP_BODY")" "the session's user"
        assert_eq "$(sec_csrf a)" "$(json 'd["csrf"]' <<<"$HTTP_BODY")" "the session's CSRF token"

        # TLS: a self-signed certificate for localhost/127.0.0.1.
        in_container sh -ec "rm -rf '$d' && mkdir -m 0755 '$d' && cd '$d' &&
                openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
                        -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' \
                        -keyout key.pem -out cert.pem 2>/dev/null &&
                chgrp left4me-web key.pem && chmod 0640 key.pem && chmod 0644 cert.pem"
        sec_conf "Certificate=$d/cert.pem
Key=$d/key.pem" tls
        sec_http "" GET /api/session --cacert "$d/cert.pem"
        expect_http_error 401 org.left4me.Web.Unauthorized "GET /api/session over TLS without a session"
        rm -f "$TF_HOST/t.jar"
        sec_http t POST /api/login --cacert "$d/cert.pem" -H "Origin: $WEB_ORIGIN" \
                -H 'Content-Type: application/json' --data-binary "{\"user\": \"$SEC_A\", \"password\": \"$SEC_PW\"}"
        expect_http 200 "login over TLS"
        line=$(sec_cookie_line)
        step "TLS: $line"
        sec_expect_cookie_flags "$line" yes
        json 'd["csrf"]' <<<"$HTTP_BODY" >"$TF_HOST/t.csrf"
        sec_api t POST /api/overlays '{"name":"sec-tls","type":"workshop","options":{}}' --cacert "$d/cert.pem"
        expect_http 201 "a POST over TLS with https Origin"
        sec_api t DELETE /api/overlays/sec-tls "" --cacert "$d/cert.pem"
        expect_http 204 "DELETE over TLS"
        # Plain HTTP to the TLS port gets no session.
        WEB_URL=$plain_url
        sec_http "" GET /api/session
        [[ $HTTP_CODE != 200 ]] || fail "plain HTTP answered 200 on the TLS port"
}
l4m_test web-sec-cookies test_sec_cookies 180

# --- ownership: user A, user B, admin W ----------------------------------

# sec_events_start JAR NAME: GET /api/events in the background (curl -N),
# its output in TF_HOST/NAME.events; sets SEC_EV_PID.
sec_events_start() {
        : >"$TF_HOST/$2.events"
        in_container curl -sS -N --max-time 120 -b "$TF_DIR/$1.jar" -o "$TF_DIR/$2.events" \
                "$WEB_URL/api/events" </dev/null 2>"$TF_HOST/$2.events.err" &
        SEC_EV_PID=$!
}

sec_events_has() {
        grep -F -- "$2" "$TF_HOST/$1.events" >/dev/null
}

test_sec_ownership() {
        local tar job pids=() names what
        # shellcheck source=test-23-instances.sh
        source "$(dirname "${BASH_SOURCE[0]}")/test-23-instances.sh"
        sec_setup
        ins_setup
        trap 'kill_test_child "${pids[0]:-}"; kill_test_child "${pids[1]:-}"; sec_remove_entities sec-own-; sec_cleanup' EXIT
        sec_remove_entities sec-own-
        sec_login a "$SEC_A"
        sec_login b "$SEC_B"
        sec_login w "$SEC_W"

        # A's overlay (imported), blueprint and instance, all over HTTP.
        tar=$(sec_tar own 1)
        sec_archive_overlay a sec-own-ov "$tar"
        job=$SEC_JOB
        sec_api a POST /api/overlays '{"name":"sec-own-sc","type":"script","options":{}}'
        expect_http 201 "A creates script overlay sec-own-sc"
        sec_api a POST /api/blueprints '{"name":"sec-own-bp","overlays":["sec-own-ov"],"options":{}}'
        expect_http 201 "A creates blueprint sec-own-bp"
        sec_api a POST /api/instances '{"name":"sec-own-in","blueprint":"sec-own-bp","options":{"port":27081}}'
        expect_http 201 "A creates instance sec-own-in"
        # B's own things, for B's lists not to be empty and B's events.
        sec_api b POST /api/overlays '{"name":"sec-own-b1","type":"workshop","options":{}}'
        expect_http 201 "B creates overlay sec-own-b1"

        # Owners as the daemon sees them: the web principal.
        sec_http a GET /api/overlays/sec-own-ov
        expect_http 200 "A GET A's overlay"
        assert_eq "web:$SEC_A" "$(json 'd["Owner"]' <<<"$HTTP_BODY")" "Owner of A's overlay"

        # B's lists do not show A's things.
        for what in overlays blueprints instances; do
                sec_http b GET "/api/$what"
                expect_http 200 "B lists $what"
                names=$(sec_names <<<"$HTTP_BODY")
                [[ $names != *sec-own-ov* && $names != *sec-own-sc* && $names != *sec-own-bp* && $names != *sec-own-in* ]] ||
                        fail "B's $what list shows A's: $(paste -sd ' ' <<<"$names")"
        done
        sec_http b GET /api/overlays
        [[ $(sec_names <<<"$HTTP_BODY") == *sec-own-b1* ]] || fail "B's overlay list lacks B's own overlay: $HTTP_BODY"
        sec_http b GET /api/jobs
        expect_http 200 "B lists jobs"
        json '[x for x in d["jobs"] if str(x.get("Id", x.get("id", ""))) == "'"$job"'"]' <<<"$HTTP_BODY" | grep -x '\[\]' >/dev/null ||
                fail "B's job list shows A's import job $job: $HTTP_BODY"

        # B can neither read nor touch them.
        sec_http b GET /api/overlays/sec-own-ov;                expect_refused "B GET A's overlay"
        sec_http b GET /api/overlays/sec-own-sc/script;         expect_refused "B GET A's script"
        sec_api b PUT /api/overlays/sec-own-sc/script '{"script":"echo pwned"}'; expect_refused "B PUT A's script"
        sec_api b PUT /api/overlays/sec-own-ov/source '{"url":"https://example.test/x.zip","checksum":""}'; expect_refused "B PUT A's archive source"
        sec_api b POST /api/overlays/sec-own-ov/build '{"options":{}}'; expect_refused "B builds A's overlay"
        sec_api b POST /api/overlays/sec-own-ov/wipe '{}';      expect_refused "B wipes A's overlay"
        sec_http b POST /api/overlays/sec-own-ov/archive -H "Origin: $WEB_ORIGIN" -H "X-CSRF-Token: $(sec_csrf b)" \
                -H 'Content-Type: application/x-tar' --data-binary "@$tar"
        expect_refused "B uploads into A's overlay"
        sec_api b DELETE /api/overlays/sec-own-ov;              expect_refused "B deletes A's overlay"
        sec_http b GET /api/blueprints/sec-own-bp;              expect_refused "B GET A's blueprint"
        sec_api b PUT /api/blueprints/sec-own-bp/server-cfg '{"text":"rcon_password x"}'; expect_refused "B sets A's server.cfg"
        sec_api b PUT /api/blueprints/sec-own-bp/overlays '{"overlays":["sec-own-b1"]}'; expect_refused "B sets A's blueprint's overlays"
        sec_api b DELETE /api/blueprints/sec-own-bp;            expect_refused "B deletes A's blueprint"
        sec_http b GET /api/instances/sec-own-in;               expect_refused "B GET A's instance"
        sec_api b PATCH /api/instances/sec-own-in '{"hostname":"pwned"}'; expect_refused "B PATCH A's instance"
        sec_api b POST /api/instances/sec-own-in/start '{}';   expect_refused "B starts A's instance"
        sec_api b POST /api/instances/sec-own-in/command '{"command":"status"}'; expect_refused "B sends A's instance a command"
        sec_api b DELETE /api/instances/sec-own-in;             expect_refused "B deletes A's instance"
        sec_http b GET "/api/instances/sec-own-in/log?lines=10" --max-time 10; expect_refused "B reads A's instance log"
        sec_http b GET "/api/jobs/$job";                        expect_refused "B GET A's job"
        sec_http b GET "/api/jobs/$job/log" --max-time 10;      expect_refused "B reads A's job log"
        # Nor use A's overlay in a blueprint of B's.
        sec_api b POST /api/blueprints '{"name":"sec-own-bbp","overlays":["sec-own-ov"],"options":{}}'
        [[ $HTTP_CODE == 4* && $HTTP_CODE != 401 ]] || fail "B made a blueprint of A's overlay: $HTTP_CODE $HTTP_BODY"
        # Nor make itself admin.
        sec_api b POST /api/users "{\"name\":\"sec-own-evil\",\"password\":\"$SEC_PW\",\"role\":\"admin\"}"
        expect_refused "B creates an admin account"
        sec_http b GET /api/users;                              expect_refused "B lists web accounts"

        # Everything is as A left it.
        sec_http a GET /api/instances/sec-own-in
        expect_http 200 "A GET A's instance"
        [[ $(json 'd.get("Hostname", "")' <<<"$HTTP_BODY") != pwned ]] || fail "B's PATCH changed A's instance"
        assert_eq stopped "$(json 'd["State"]' <<<"$HTTP_BODY")" "A's instance after B's start"
        sec_http a GET /api/overlays/sec-own-sc/script
        expect_http 200 "A reads A's script"
        [[ $HTTP_BODY != *pwned* ]] || fail "B's PUT changed A's script"
        sec_http a GET /api/blueprints/sec-own-bp
        expect_http 200 "A GET A's blueprint"

        # Events: B's stream never carries A's instance; W's does. B's own
        # change, made after A's, marks the point by which A's would have come.
        sec_events_start b ev-b
        pids+=("$SEC_EV_PID")
        sec_events_start w ev-w
        pids+=("$SEC_EV_PID")
        wait_until 10 sec_events_has ev-b retry: || fail "B's event stream did not open: $(cat "$TF_HOST/ev-b.events.err")"
        wait_until 10 sec_events_has ev-w retry: || fail "W's event stream did not open: $(cat "$TF_HOST/ev-w.events.err")"
        sec_api a PATCH /api/instances/sec-own-in '{"hostname":"Sec Own Renamed"}'
        expect_http 200 "A renames A's instance"
        wait_until 15 sec_events_has ev-w 'Sec Own Renamed' || fail "W's event stream did not show A's change: $(tail -c 600 "$TF_HOST/ev-w.events")"
        sec_api b PUT /api/overlays/sec-own-b1/items '{"items":["123"]}'
        expect_http 200 "B changes B's own overlay"
        wait_until 15 sec_events_has ev-b sec-own-b1 || fail "B's event stream did not show B's own change: $(tail -c 600 "$TF_HOST/ev-b.events")"
        ! sec_events_has ev-b sec-own-in || fail "B's event stream shows A's instance: $(grep -F sec-own-in "$TF_HOST/ev-b.events" | head -n 3)"
        ! sec_events_has ev-b 'Sec Own Renamed' || fail "B's event stream shows A's change"

        # W sees and acts on A's things.
        for what in overlays blueprints instances; do
                sec_http w GET "/api/$what"
                expect_http 200 "W lists $what"
                names=$(sec_names <<<"$HTTP_BODY")
                [[ $names == *sec-own-* ]] || fail "W's $what list lacks A's: $(paste -sd ' ' <<<"$names")"
        done
        sec_http w GET "/api/jobs/$job"
        expect_http 200 "W GET A's job"
        sec_api w POST /api/instances/sec-own-in/start '{}'
        expect_http 200 "W starts A's instance"
        ins_wait_state sec-own-in running
        # A stream: curl ends it at --max-time, having got its start.
        sec_http w GET "/api/instances/sec-own-in/log?lines=50" --max-time 3
        [[ $HTTP_BODY == *retry:* || $HTTP_BODY == *'event: log'* ]] ||
                fail "W cannot read A's instance log: $HTTP_CODE $HTTP_BODY"
        sec_api w POST /api/instances/sec-own-in/stop '{}'
        expect_http 200 "W stops A's instance"
        sec_api w DELETE /api/blueprints/sec-own-bp
        [[ $HTTP_CODE == 204 || $HTTP_CODE == 409 ]] || fail "W deletes A's blueprint (in use: 409 is fine): $HTTP_CODE $HTTP_BODY"
        sec_api w DELETE /api/overlays/sec-own-sc
        expect_http 204 "W deletes A's script overlay"

        # Unix users over the bus as before: they list every overlay, and
        # may not delete what they do not own (a web account's here).
        gcall alice "$L4M_MANAGER" org.left4me.Manager.ListOverlays
        expect_ok "alice (a unix user) lists overlays over the bus"
        [[ $OUT == *"'web:$SEC_A'"* ]] || fail "alice's ListOverlays lacks the web account's overlay: $OUT"
        gcall alice "$(grep -o "$L4M_OVERLAY_PREFIX/[0-9]*', 'sec-own-ov'" <<<"$OUT" | cut -d"'" -f1)" org.left4me.Overlay.Delete
        ins_expect_denied "alice deletes a web account's overlay"
}
l4m_test web-sec-ownership test_sec_ownership 300

# --- body caps -----------------------------------------------------------

test_sec_body_limits() {
        local big tar job n0 n1 ov hwm0 hwm1
        sec_setup 'MaxBodyBytes=65536
MaxUploadBytes=1048576'
        trap 'sec_remove_entities sec-lim-; sec_cleanup' EXIT
        sec_remove_entities sec-lim-
        sec_login a "$SEC_A"
        # A JSON body one byte over, with Content-Length and chunked.
        python3 -c 'import sys; n = int(sys.argv[1]); s = "{\"name\":\"sec-lim-big\",\"type\":\"script\",\"options\":{},\"x\":\""; sys.stdout.write(s + "a" * (n - len(s) - 2) + "\"}")' 65537 \
                >"$TF_HOST/big.json"
        big=$TF_DIR/big.json
        sec_http a POST /api/overlays -H "Origin: $WEB_ORIGIN" -H "X-CSRF-Token: $(sec_csrf a)" \
                -H 'Content-Type: application/json' --data-binary "@$big"
        expect_http_error 413 org.left4me.Web.PayloadTooLarge "a JSON body of 65537 bytes with Content-Length"
        sec_http a POST /api/overlays -H "Origin: $WEB_ORIGIN" -H "X-CSRF-Token: $(sec_csrf a)" \
                -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary "@$big"
        expect_http_error 413 org.left4me.Web.PayloadTooLarge "a chunked JSON body of 65537 bytes"
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetOverlay "'sec-lim-big'"
        expect_dbus_error org.left4me.Error.NotFound "an overlay from an oversized body"
        # A body just under the cap is fine.
        sec_api a POST /api/overlays '{"name":"sec-lim-ok","type":"script","options":{}}'
        expect_http 201 "a small JSON body after the refusals"
        python3 -c 'import json, sys; print(json.dumps({"script": "#" + "s" * 60000 + "\n"}))' >"$TF_HOST/script.json"
        sec_http a PUT /api/overlays/sec-lim-ok/script -H "Origin: $WEB_ORIGIN" -H "X-CSRF-Token: $(sec_csrf a)" \
                -H 'Content-Type: application/json' --data-binary "@$TF_DIR/script.json"
        expect_http 200 "a JSON body of 60 kB (under the cap)"

        # Uploads: over MaxUploadBytes → 413 and nothing imported.
        sec_api a POST /api/overlays '{"name":"sec-lim-ar","type":"archive","options":{}}'
        expect_http 201 "create archive overlay sec-lim-ar"
        sec_http a GET /api/jobs
        n0=$(json 'len(d["jobs"])' <<<"$HTTP_BODY")
        tar=$(sec_tar lim 2)
        sec_http a POST /api/overlays/sec-lim-ar/archive -H "Origin: $WEB_ORIGIN" -H "X-CSRF-Token: $(sec_csrf a)" \
                -H 'Content-Type: application/x-tar' -T "$tar"
        expect_http_error 413 org.left4me.Web.PayloadTooLarge "an upload of 2 MiB (cap 1 MiB) with Content-Length"
        sec_http a POST /api/overlays/sec-lim-ar/archive -H "Origin: $WEB_ORIGIN" -H "X-CSRF-Token: $(sec_csrf a)" \
                -H 'Content-Type: application/x-tar' -H 'Transfer-Encoding: chunked' -T "$tar"
        # Chunked: the import may have started before the cap was reached;
        # then the answer is the 413 or a job that must fail.
        if [[ $HTTP_CODE == 202 ]]; then
                job=$(json 'd["job"]' <<<"$HTTP_BODY")
                sec_job_wait a "$job"
                [[ $JOB_STATE != succeeded ]] || fail "a chunked upload over the cap was imported (job $job)"
                note "chunked upload over the cap: 202, then job $JOB_STATE ($JOB_MSG)"
        else
                expect_http_error 413 org.left4me.Web.PayloadTooLarge "a chunked upload of 2 MiB (cap 1 MiB)"
        fi
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetOverlay "'sec-lim-ar'"
        expect_ok "GetOverlay sec-lim-ar"
        ov=$(path_from_output)
        if in_container test -e "$L4M_OVERLAYS/$(id_of_path "$ov")/marker-lim.txt"; then
                fail "an upload over the cap left files in the overlay"
        fi
        sec_http a GET /api/overlays/sec-lim-ar
        expect_http 200 "GET sec-lim-ar"
        step "sec-lim-ar after the refused uploads: $HTTP_BODY"
        sec_http a GET /api/jobs
        n1=$(json 'len([x for x in d["jobs"] if x.get("State") == "succeeded"])' <<<"$HTTP_BODY")
        step "jobs before: $n0; succeeded now: $n1"
        # Under the cap it works.
        tar=$(sec_tar lok 0)
        sec_http a POST /api/overlays/sec-lim-ar/archive -H "Origin: $WEB_ORIGIN" -H "X-CSRF-Token: $(sec_csrf a)" \
                -H 'Content-Type: application/x-tar' -T "$tar"
        expect_http 202 "an upload under the cap"
        job=$(json 'd["job"]' <<<"$HTTP_BODY")
        sec_job_wait a "$job"
        assert_eq succeeded "$JOB_STATE" "the import under the cap ($JOB_MSG)"
        in_container test -f "$L4M_OVERLAYS/$(id_of_path "$ov")/marker-lok.txt" || fail "the upload under the cap is not in the overlay"
}
l4m_test web-sec-body-limits test_sec_body_limits 180

# JSON bodies far over the cap, declared by Content-Length or chunked.
test_sec_huge_body() {
        local mode hwm0 hwm1 problems=()
        sec_setup 'MaxBodyBytes=65536
MaxUploadBytes=1048576'
        # A huge body, declared (Content-Length: 10 GB; with a session and
        # without) or chunked, to a JSON route and to the archive upload: the
        # client sends up to 64 MiB of it. The bridge's peak RSS must stay
        # (nothing past the cap is kept); a declared length over the cap is
        # answered 413 at once, without reading the body, and a chunked body
        # is cut off with a 413 as soon as it passes the cap.
        sec_python bigbody <<'PY' >/dev/null
import select, socket, sys, time
host, port, cookie, csrf, origin, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
s = socket.create_connection((host, port), timeout=10)
framing = "Transfer-Encoding: chunked" if mode.endswith("chunked") else "Content-Length: 10000000000"
session = "" if mode.endswith("-nosession") else "Cookie: l4m_session=%s\r\nX-CSRF-Token: %s\r\n" % (cookie, csrf)
path, ctype = "/api/overlays", "application/json"
if mode.startswith("upload-"):
    path, ctype = "/api/overlays/sec-huge/archive", "application/x-tar"
s.sendall(("POST %s HTTP/1.1\r\nHost: %s:%d\r\n%s"
           "Origin: %s\r\nContent-Type: %s\r\n%s\r\n\r\n"
           % (path, host, port, session, origin, ctype, framing)).encode())
s.setblocking(False)
chunk = b"a" * 65536
if mode.endswith("chunked"):
    chunk = b"10000\r\n" + chunk + b"\r\n"
sent, data, limit = 0, b"", 64 << 20
deadline = time.monotonic() + 30
while time.monotonic() < deadline and b"\r\n" not in data:
    r, w, _ = select.select([s], [s] if sent < limit else [], [], 1)
    if r:
        try:
            b = s.recv(4096)
        except OSError:
            break
        if not b:
            break
        data += b
    elif w:
        try:
            sent += s.send(chunk)
        except BlockingIOError:
            pass
        except OSError:
            break
print("%s|%d" % (data.split(b"\r\n", 1)[0].decode(errors="replace"), sent))
PY
        for mode in chunked declared declared-nosession upload-chunked upload-declared upload-declared-nosession; do
                # A fresh bridge each, so that each peak is its own.
                sec_restart
                sec_login a "$SEC_A"
                hwm0=$(sec_vm VmHWM)
                capture in_container python3 "$TF_DIR/bigbody.py" 127.0.0.1 "$WEB_PORT" "$(sec_cookie_value a)" \
                        "$(sec_csrf a)" "$WEB_ORIGIN" "$mode"
                expect_ok "the client of a $mode huge body"
                hwm1=$(sec_vm VmHWM)
                note "$mode huge body: answer '${OUT%|*}' after ${OUT##*|} bytes sent; bridge VmHWM ${hwm0} → ${hwm1} kB"
                if [[ $mode != *-nosession && ${OUT%|*} != *" 413 "* ]]; then
                        problems+=("$mode: expected 413 before 64 MiB were sent, got '${OUT%|*}' after ${OUT##*|} bytes")
                fi
                if [[ $mode == *-nosession && ${OUT%|*} != *" 413 "* && ${OUT%|*} != *" 401 "* ]]; then
                        problems+=("$mode: expected 413 or 401 before 64 MiB were sent, got '${OUT%|*}' after ${OUT##*|} bytes")
                fi
                if ((${OUT##*|} >= 64 << 20)); then
                        problems+=("$mode: the client could send all 64 MiB before an answer")
                fi
                if ((hwm1 - hwm0 >= 32768)); then
                        problems+=("$mode: the bridge's peak RSS grew by $((hwm1 - hwm0)) kB")
                fi
        done
        ((${#problems[@]} == 0)) || fail "huge bodies: $(printf '%s; ' "${problems[@]}")"
        sec_http a GET /api/session
        expect_http 200 "the session after the huge bodies"
}
l4m_test web-sec-huge-body test_sec_huge_body 180

# sec_cookie_value JAR: the session token in JAR.
sec_cookie_value() {
        awk '$6 == "l4m_session" { print $7 }' "$TF_HOST/$1.jar" | tail -n 1
}

# An upload of 200 MiB streams: the import succeeds, and the bridge's peak
# RSS grows by far less than the upload.
test_sec_upload_streams() {
        local tar job hwm0 hwm1 rss1 ov size
        sec_setup 'MaxUploadBytes=268435456'
        trap 'sec_remove_entities sec-up-; sec_cleanup' EXIT
        sec_remove_entities sec-up-
        sec_login a "$SEC_A"
        sec_api a POST /api/overlays '{"name":"sec-up","type":"archive","options":{}}'
        expect_http 201 "create archive overlay sec-up"
        tar=$(sec_tar up 200)
        size=$(in_container stat -c %s "$tar")
        hwm0=$(sec_vm VmHWM)
        sec_http a POST /api/overlays/sec-up/archive -H "Origin: $WEB_ORIGIN" -H "X-CSRF-Token: $(sec_csrf a)" \
                -H 'Content-Type: application/x-tar' -T "$tar" --max-time 120
        expect_http 202 "an upload of $size bytes"
        job=$(json 'd["job"]' <<<"$HTTP_BODY")
        sec_job_wait a "$job" 120
        assert_eq succeeded "$JOB_STATE" "the import of 200 MiB ($JOB_MSG)"
        hwm1=$(sec_vm VmHWM)
        rss1=$(sec_vm VmRSS)
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetOverlay "'sec-up'"
        ov=$(id_of_path "$(path_from_output)")
        assert_eq $((200 * 1048576)) "$(in_container stat -c %s "$L4M_OVERLAYS/$ov/left4dead2/addons/up.vpk")" \
                "size of the imported file"
        note "upload of $((size / 1048576)) MiB: bridge VmHWM ${hwm0} kB before, ${hwm1} kB after (VmRSS ${rss1} kB)"
        ((hwm1 - hwm0 < 51200)) || fail "the bridge's peak RSS grew by $((hwm1 - hwm0)) kB for a 200 MiB upload: it does not stream"
        # The same with chunked transfer encoding.
        hwm0=$hwm1
        sec_http a POST /api/overlays/sec-up/archive -H "Origin: $WEB_ORIGIN" -H "X-CSRF-Token: $(sec_csrf a)" \
                -H 'Content-Type: application/x-tar' -H 'Transfer-Encoding: chunked' -T "$tar" --max-time 120
        expect_http 202 "a chunked upload of $size bytes"
        job=$(json 'd["job"]' <<<"$HTTP_BODY")
        sec_job_wait a "$job" 120
        assert_eq succeeded "$JOB_STATE" "the chunked import of 200 MiB ($JOB_MSG)"
        hwm1=$(sec_vm VmHWM)
        note "chunked upload: bridge VmHWM ${hwm1} kB after"
        ((hwm1 - hwm0 < 51200)) || fail "the bridge's peak RSS grew by $((hwm1 - hwm0)) kB for a chunked 200 MiB upload"
}
l4m_test web-sec-upload-streams test_sec_upload_streams 300

# --- static files ----------------------------------------------------------

test_sec_static() {
        local p ui
        sec_setup
        ui=$SEC_UI_DIR
        trap 'in_container rm -rf "$SEC_UI_DIR/sec-link" "$SEC_UI_DIR/sec-dirlink" "$SEC_UI_DIR/sec-dir"; sec_cleanup' EXIT
        sec_http "" GET /
        expect_http 200 "GET / (the UI)"
        [[ $HTTP_BODY == *"<html"* || $HTTP_BODY == *"<!DOCTYPE"* || $HTTP_BODY == *"<!doctype"* ]] || fail "GET / is not HTML: $(head -c 200 <<<"$HTTP_BODY")"
        grep -i '^content-type: *text/html' <<<"$HTTP_HEAD" >/dev/null || fail "GET / has no text/html Content-Type: $HTTP_HEAD"
        grep -i '^x-content-type-options: *nosniff' <<<"$HTTP_HEAD" >/dev/null || note "GET / has no X-Content-Type-Options: nosniff"

        in_container sh -ec "ln -sfn /etc/passwd '$ui/sec-link' && ln -sfn /etc '$ui/sec-dirlink' &&
                mkdir -p '$ui/sec-dir' && echo inner > '$ui/sec-dir/sec-inner.txt'"
        for p in /../etc/passwd /../../../../etc/passwd /%2e%2e/%2e%2e/etc/passwd '/%2e%2e%2f%2e%2e%2fetc%2fpasswd' \
                '/ui/..%2f..%2fetc/passwd' '/..%2f..%2f..%2f..%2fetc%2fpasswd' '/..%5c..%5cetc%5cpasswd' \
                '/%252e%252e/%252e%252e/etc/passwd' '/.%2e/.%2e/etc/passwd' '//etc/passwd' '/sec-link' \
                '/sec-dirlink/passwd' '/sec-dir/../sec-link' '/index.html%00.txt' '/index.html%00' '/%00' \
                '/api/../../etc/passwd' '/sec-dir/' '/sec-dir' '/.' '/./sec-dir/'; do
                sec_http "" GET "$p"
                [[ $HTTP_BODY != *root:*:0:0:* ]] || fail "GET $p served /etc/passwd"
                [[ $HTTP_BODY != *sec-inner.txt* ]] || fail "GET $p listed a directory: $(head -c 300 <<<"$HTTP_BODY")"
                case $p in
                /sec-dir/ | /sec-dir | /. | /./sec-dir/)
                        # A directory: the UI's index or a refusal, never a listing.
                        [[ $HTTP_CODE == 200 || $HTTP_CODE == 30? || $HTTP_CODE == 4?? ]] || fail "GET $p: $HTTP_CODE" ;;
                *)
                        [[ $HTTP_CODE == 4?? ]] || fail "GET $p: expected a 4xx refusal, got $HTTP_CODE: $(head -c 200 <<<"$HTTP_BODY")" ;;
                esac
        done
        # A file in a subdirectory is served (the refusals were not of everything).
        sec_http "" GET /sec-dir/sec-inner.txt
        expect_http 200 "GET /sec-dir/sec-inner.txt"
        assert_eq inner "$HTTP_BODY" "the body of /sec-dir/sec-inner.txt"
        # A raw NUL and a raw .. in the request line (curl cannot send them).
        sec_python rawpath <<'PY' >/dev/null
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
for path in (b"/index.html\x00.txt", b"/../../etc/passwd", b"/..\\..\\etc\\passwd", b"/sec-dir/../../../etc/passwd"):
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: " + ("%s:%d" % (host, port)).encode() + b"\r\nConnection: close\r\n\r\n")
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except socket.timeout:
        pass
    s.close()
    status = data.split(b"\r\n", 1)[0].decode(errors="replace")
    leaked = b"root:x:0:0" in data
    print("%r %s%s" % (path, status, " LEAK" if leaked else ""))
PY
        capture in_container python3 "$TF_DIR/rawpath.py" 127.0.0.1 "$WEB_PORT"
        expect_ok "raw request lines"
        [[ $OUT != *LEAK* ]] || fail "a raw request line served /etc/passwd: $OUT"
        while read -r line; do
                [[ $line == *" 200 "* ]] && fail "a raw request was answered 200: $line"
        done <<<"$OUT"
        sec_http "" GET /
        expect_http 200 "GET / after the raw requests"
}
l4m_test web-sec-static test_sec_static 120

# --- slow clients ------------------------------------------------------------

test_sec_slow_clients() {
        local i prog rss0 rss1 t0 t1 cookies=()
        sec_setup 'MaxStreams=200
MaxStreamsPerSession=20'
        for i in 1 2 3 4 5; do
                sec_login "s$i" "$SEC_B"
                cookies+=("$(sec_cookie_value "s$i")")
        done
        rss0=$(sec_vm VmRSS)
        prog=$(sec_python slow <<'PY'
# Opens N half requests that stall and M event streams whose client never
# reads (tiny receive buffers); writes READY N M to the ready file when all
# are open, then holds them until the stop file appears (or 120 s pass).
import os, socket, sys, time
host, port, n, m = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
cookies, ready, stop = sys.argv[5].split(","), sys.argv[6], sys.argv[7]
held = []
for i in range(n):
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(("GET /api/instances HTTP/1.1\r\nHost: %s:%d\r\nCookie: l4m_se" % (host, port)).encode())
    held.append(s)
opened = 0
for i in range(m):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    s.settimeout(10)
    s.connect((host, port))
    s.sendall(("GET /api/events HTTP/1.1\r\nHost: %s:%d\r\nCookie: l4m_session=%s\r\n"
               "Accept: text/event-stream\r\n\r\n" % (host, port, cookies[i % len(cookies)])).encode())
    # Read just the status line, then never again.
    head = s.recv(64)
    if b" 200 " in head.split(b"\r\n", 1)[0]:
        opened += 1
    held.append(s)
with open(ready + ".tmp", "w") as f:
    f.write("READY %d %d\n" % (n, opened))
os.rename(ready + ".tmp", ready)
deadline = time.monotonic() + 120
while not os.path.exists(stop) and time.monotonic() < deadline:
    time.sleep(0.2)
PY
)
        rm -f "$TF_HOST/slow.ready" "$TF_HOST/slow.stop"
        in_container python3 "$prog" 127.0.0.1 "$WEB_PORT" 100 50 "$(IFS=,; echo "${cookies[*]}")" \
                "$TF_DIR/slow.ready" "$TF_DIR/slow.stop" </dev/null >"$TF_HOST/slow.log" 2>&1 &
        SEC_SLOW_PID=$!
        trap 'touch "$TF_HOST/slow.stop"; kill_test_child "${SEC_SLOW_PID:-}"; sec_cleanup' EXIT
        wait_until 60 test -s "$TF_HOST/slow.ready" || fail "the slow clients did not connect: $(cat "$TF_HOST/slow.log")"
        assert_eq "READY 100 50" "$(cat "$TF_HOST/slow.ready")" "slow clients open (half requests, streams answered 200)"
        # Events for the unread streams to pile up: B changes an overlay a few times.
        sec_login b "$SEC_B"
        sec_api b POST /api/overlays '{"name":"sec-slow","type":"script","options":{}}'
        for i in $(seq 1 20); do
                sec_api b PUT /api/overlays/sec-slow/script "{\"script\":\"echo $i $(printf '%0500d' 0)\"}" >/dev/null 2>&1
        done
        # Someone else logs in and lists instances, promptly.
        t0=$(date +%s%N)
        sec_http c POST /api/login -H "Origin: $WEB_ORIGIN" -H 'Content-Type: application/json' \
                --data-binary "{\"user\": \"$SEC_A\", \"password\": \"$SEC_PW\"}" --max-time 5
        expect_http 200 "a login while 100 half requests and 50 unread streams are open"
        sec_http c GET /api/instances --max-time 5
        expect_http 200 "GET /api/instances while slow clients are open"
        sec_http "" GET / --max-time 5
        expect_http 200 "GET / while slow clients are open"
        t1=$(date +%s%N)
        rss1=$(sec_vm VmRSS)
        note "login + GET /api/instances + GET / took $(((t1 - t0) / 1000000)) ms with 100 stalled requests and 50 unread streams; bridge VmRSS ${rss0} → ${rss1} kB"
        (((t1 - t0) < 5000000000)) || fail "the three requests took $(((t1 - t0) / 1000000)) ms"
        ((rss1 - rss0 < 65536)) || fail "the bridge's RSS grew by $((rss1 - rss0)) kB with 150 slow clients"
        touch "$TF_HOST/slow.stop"
        wait "$SEC_SLOW_PID" 2>/dev/null || true
        sec_api b DELETE /api/overlays/sec-slow >/dev/null 2>&1 || true
}
l4m_test web-sec-slow-clients test_sec_slow_clients 180

# --- login rate limit, expiry, logout, session bound --------------------------

test_sec_login_limit() {
        local i got429='' retry t0
        sec_setup
        # Wrong logins from one client, each for another (unknown) account
        # name: the daemon slows failures down per account and per bus
        # connection, so only the bridge's own limit per client can stop
        # these. (Not SEC_A's wrong passwords: the daemon would slow SEC_A's
        # logins down for the tests after this one.)
        t0=$(date +%s)
        for ((i = 0; i < 60 && $(date +%s) - t0 < 90; i++)); do
                sec_http "" POST /api/login -H "Origin: $WEB_ORIGIN" -H 'Content-Type: application/json' \
                        --data-binary "{\"user\": \"sec-nobody-$i\", \"password\": \"wrong-password-$i\"}" --max-time 40
                if [[ $HTTP_CODE == 429 ]]; then
                        got429=$i
                        break
                fi
                expect_http_error 401 org.left4me.Web.Unauthorized "wrong login $i"
        done
        [[ -n $got429 ]] || fail "no 429 after $i wrong logins from one client in $(($(date +%s) - t0)) s"
        expect_http_error 429 org.left4me.Web.TooManyRequests "the limited login"
        retry=$(grep -i '^retry-after:' <<<"$HTTP_HEAD" | sed 's/^[^:]*: *//' | head -n 1)
        [[ $retry =~ ^[1-9][0-9]*$ ]] || fail "429 without a positive Retry-After: '$retry' ($HTTP_HEAD)"
        note "429 after $got429 wrong logins from one client, Retry-After: $retry"
        [[ $HTTP_HEAD != *l4m_session=* ]] || fail "a limited login set a session cookie"
}
l4m_test web-sec-login-limit test_sec_login_limit 180

test_sec_expiry_logout() {
        local i
        # 60 s is the least SessionIdleSec= takes. Session a stays idle for
        # longer than that; session b is used every 20 s meanwhile. Every
        # request refreshes a session, so a is only looked at the end.
        sec_setup 'SessionIdleSec=60'
        sec_login a "$SEC_A"
        sec_login b "$SEC_A"
        sec_http a GET /api/session
        expect_http 200 "a fresh session"
        for i in 1 2 3; do
                sleep 22
                sec_http b GET /api/session
                expect_http 200 "session b, used every 22 s, after $((i * 22)) s"
        done
        sec_http a GET /api/session
        expect_http_error 401 org.left4me.Web.Unauthorized "session a, idle for 66 s (SessionIdleSec=60)"
        sec_api a POST /api/overlays '{"name":"sec-exp","type":"workshop","options":{}}'
        expect_http_error 401 org.left4me.Web.Unauthorized "a POST on an idle session"

        sec_conf ''
        sec_login a "$SEC_A"
        cp "$TF_HOST/a.jar" "$TF_HOST/kept.jar"
        cp "$TF_HOST/a.csrf" "$TF_HOST/kept.csrf"
        sec_api a POST /api/logout
        expect_http 204 "logout"
        # The old cookie (kept aside; the browser would have dropped it).
        sec_http kept GET /api/session
        expect_http_error 401 org.left4me.Web.Unauthorized "GET with the cookie of a logged-out session"
        sec_api kept POST /api/overlays '{"name":"sec-exp","type":"workshop","options":{}}'
        expect_http_error 401 org.left4me.Web.Unauthorized "POST with the cookie and token of a logged-out session"
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetOverlay "'sec-exp'"
        expect_dbus_error org.left4me.Error.NotFound "an overlay created on a closed session"
}
l4m_test web-sec-expiry-logout test_sec_expiry_logout 240

test_sec_max_sessions() {
        local i
        sec_setup 'MaxSessions=3'
        for i in 1 2 3; do
                sec_login "m$i" "$SEC_A"
        done
        sec_http m4 POST /api/login -H "Origin: $WEB_ORIGIN" -H 'Content-Type: application/json' \
                --data-binary "{\"user\": \"$SEC_B\", \"password\": \"$SEC_PW\"}"
        [[ $HTTP_CODE == 429 || $HTTP_CODE == 503 ]] || fail "a fourth session (MaxSessions=3): expected 429 or 503, got $HTTP_CODE: $HTTP_BODY"
        json 'd["error"] + ": " + d["message"]' <<<"$HTTP_BODY" >/dev/null 2>&1 || fail "the refusal has no JSON error: $HTTP_BODY"
        [[ -n $(json 'd["message"]' <<<"$HTTP_BODY") ]] || fail "the refusal has an empty message"
        note "fourth session: $HTTP_CODE $(json 'd["error"] + ": " + d["message"]' <<<"$HTTP_BODY")"
        [[ $HTTP_HEAD != *l4m_session=* ]] || fail "the refused login set a session cookie"
        # The three sessions still work; one logs out and a new one fits.
        for i in 1 2 3; do
                sec_http "m$i" GET /api/session
                expect_http 200 "session m$i"
        done
        sec_api m2 POST /api/logout
        expect_http 204 "logout of m2"
        sec_login m4 "$SEC_B"
        sec_http m4 GET /api/session
        expect_http 200 "a new session after a logout"
}
l4m_test web-sec-max-sessions test_sec_max_sessions 120
