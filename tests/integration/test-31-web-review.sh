# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# left4me-web against what a security review of it found: deeply nested
# JSON (which json-glib parses recursively) refused before parsing, also
# before any login; sessions fail closed when left4med restarts (its logins
# are in memory) and end when the daemon revokes their logins (account
# deleted, password set); the login rate limit keyed by an IPv6 client's
# /64, logins in flight not counted as sessions, sessions per account
# bounded; one upload per session; connections that never complete a
# request closed after a while, and a bound on them.
#
# Requests are made with curl (python3 for raw sockets) inside the
# container against the bridge on loopback. Each test writes its own [Web]
# drop-in and restarts the bridge.

# shellcheck source=web-http.sh
source "$(dirname "${BASH_SOURCE[0]}")/web-http.sh"

SEC_CONF=71-web-review
SEC_PW=correct-horse-battery-staple
SEC_A=rv-alice
SEC_B=rv-bob
SEC_W=rv-wendy

# --- helpers ------------------------------------------------------------

# rv_setup [WEB-CONFIG-LINES]: left4me up, this test's directory, the bridge
# restarted with [Web] settings and the web accounts in place (web-http.sh).
rv_setup() {
        daemon_up
        sec_setup "${1:-}"
}

# rv_events_start JAR NAME: GET /api/events in the background (curl -N), its
# output in TF_HOST/NAME.events; sets RV_EV_PID.
rv_events_start() {
        : >"$TF_HOST/$2.events"
        in_container curl -sS -N --max-time 120 -b "$TF_DIR/$1.jar" -o "$TF_DIR/$2.events" \
                "$WEB_URL/api/events" </dev/null 2>"$TF_HOST/$2.events.err" &
        RV_EV_PID=$!
}

rv_events_has() {
        grep -F -- "$2" "$TF_HOST/$1.events" >/dev/null
}

# rv_session_closed JAR: GET /api/session with JAR answers 401 (the signal
# that closes a session may come a moment after the bus call's answer).
rv_session_closed() {
        sec_http "$1" GET /api/session 2>/dev/null
        [[ $HTTP_CODE == 401 ]]
}

# rv_pid_gone PID: the background process has exited (gone, or a zombie
# that this shell has not reaped yet).
rv_pid_gone() {
        local state
        state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 0
        [[ -z $state || $state == Z ]]
}

# --- 1: deeply nested JSON ----------------------------------------------

# rv_deep FILE N [PREFIX]: N '[' after PREFIX, in this test's directory.
rv_deep() {
        python3 -c 'import sys; sys.stdout.write(sys.argv[2] + "[" * int(sys.argv[1]))' "$2" "${3:-}" >"$TF_HOST/$1"
}

test_rv_deep_json() {
        local pid0
        rv_setup
        pid0=$(sec_web_pid)

        # Before any login: 150,000 levels are over the login body cap; 4,000
        # (under it) and 33 are too deep.
        rv_deep deep150k 150000
        sec_http "" POST /api/login -H "Origin: $WEB_ORIGIN" -H 'Content-Type: application/json' \
                --data-binary "@$TF_DIR/deep150k"
        expect_http_error 413 org.left4me.Web.PayloadTooLarge "150,000 levels of '[' to /api/login"
        rv_deep deep4k 4000 '{"user":'
        sec_http "" POST /api/login -H "Origin: $WEB_ORIGIN" -H 'Content-Type: application/json' \
                --data-binary "@$TF_DIR/deep4k"
        expect_http_error 400 org.left4me.Web.BadRequest "4,000 levels to /api/login"
        python3 -c 'import sys; sys.stdout.write("{\"user\":" + "[" * 33 + "]" * 33 + ",\"password\":\"x\"}")' \
                >"$TF_HOST/deep33"
        sec_http "" POST /api/login -H "Origin: $WEB_ORIGIN" -H 'Content-Type: application/json' \
                --data-binary "@$TF_DIR/deep33"
        expect_http_error 400 org.left4me.Web.BadRequest "33 closed levels to /api/login"
        assert_eq "$pid0" "$(sec_web_pid)" "the bridge's process after deep JSON to /api/login"

        # Logged in: 150,000 levels (150 KB, under MaxBodyBytes) to API routes.
        sec_login a "$SEC_A"
        rv_deep deepapi 150000 '{"name":"rv-deep","type":"script","options":'
        sec_api a POST /api/overlays "@$TF_DIR/deepapi"
        expect_http_error 400 org.left4me.Web.BadRequest "150,000 levels to POST /api/overlays"
        rv_deep deepuser 150000
        sec_api a POST /api/users "@$TF_DIR/deepuser"
        expect_http_error 400 org.left4me.Web.BadRequest "150,000 levels to POST /api/users"
        assert_eq "$pid0" "$(sec_web_pid)" "the bridge's process after deep JSON to API routes"
        sec_http a GET /api/session
        expect_http 200 "the session after deep JSON"
        # 32 levels are fine as far as depth goes (the route refuses the type).
        python3 -c 'import sys; sys.stdout.write("{\"name\":\"rv-deep\",\"type\":\"script\",\"options\":{\"x\":" + "[" * 30 + "]" * 30 + "}}")' \
                >"$TF_HOST/deep32"
        sec_api a POST /api/overlays "@$TF_DIR/deep32"
        [[ $HTTP_CODE == 400 ]] || fail "32 levels with an unknown option: expected 400, got $HTTP_CODE"
        [[ $HTTP_BODY != *"nests too deeply"* ]] || fail "32 levels were refused as too deep: $HTTP_BODY"
}
l4m_test web-rv-deep-json test_rv_deep_json 120

# --- 2: a daemon restart ends every session -----------------------------

test_rv_daemon_restart() {
        local ov
        rv_setup
        sec_login a "$SEC_A"
        sec_login w "$SEC_W"
        rv_events_start w ev-w
        wait_until 10 rv_events_has ev-w retry: || fail "W's event stream did not open: $(cat "$TF_HOST/ev-w.events.err")"
        ov=$(ensure_overlay root rv-root-only)
        sec_http a GET /api/overlays
        expect_http 200 "A lists overlays before the restart"
        [[ $HTTP_BODY != *rv-root-only* ]] || fail "A sees root's overlay before the restart"

        capture in_container systemctl restart left4me.service
        expect_ok "systemctl restart left4me"
        reset_start_limit
        wait_until 10 unit_is_active || fail "left4me.service is not active after the restart"

        sec_http a GET /api/overlays
        [[ $HTTP_BODY != *rv-root-only* ]] || fail "A's old session lists root's overlay after a daemon restart: $HTTP_BODY"
        expect_http_error 401 org.left4me.Web.Unauthorized "A's old session after a daemon restart"
        sec_http w GET /api/session
        expect_http_error 401 org.left4me.Web.Unauthorized "W's old session after a daemon restart"
        wait_until 10 rv_pid_gone "$RV_EV_PID" || fail "W's event stream is still open after a daemon restart"
        # A logs in again and sees only A's own overlays.
        sec_login a "$SEC_A"
        sec_http a GET /api/overlays
        expect_http 200 "A lists overlays after logging in again"
        [[ $HTTP_BODY != *rv-root-only* ]] || fail "A sees root's overlay after logging in again"
        delete_overlay root "$ov"
}
l4m_test web-rv-daemon-restart test_rv_daemon_restart 120

# --- 3: revoked logins end their sessions --------------------------------

test_rv_revoked() {
        rv_setup
        sec_user rv-gone admin
        sec_login g rv-gone
        sec_login g2 rv-gone
        sec_login a "$SEC_A"
        sec_login a2 "$SEC_A"
        sec_login b "$SEC_B"
        rv_events_start g ev-g
        wait_until 10 rv_events_has ev-g retry: || fail "the admin's event stream did not open: $(cat "$TF_HOST/ev-g.events.err")"

        gcall root "$L4M_MANAGER" org.left4me.Manager.DeleteUser "'rv-gone'"
        expect_ok "DeleteUser(rv-gone)"
        wait_until 10 rv_session_closed g || true
        wait_until 10 rv_pid_gone "$RV_EV_PID" || fail "the deleted admin's event stream is still open"
        sec_http g GET /api/session
        expect_http_error 401 org.left4me.Web.Unauthorized "a session of a deleted account"
        sec_http g2 GET /api/users
        expect_http_error 401 org.left4me.Web.Unauthorized "another session of the deleted account"

        gcall root "$L4M_MANAGER" org.left4me.Manager.SetPassword "$(gv_str "$SEC_A")" "'another-password-entirely'"
        expect_ok "SetPassword($SEC_A)"
        wait_until 10 rv_session_closed a || true
        sec_http a GET /api/session
        expect_http_error 401 org.left4me.Web.Unauthorized "A's session after SetPassword"
        sec_http a2 GET /api/overlays
        expect_http_error 401 org.left4me.Web.Unauthorized "A's other session after SetPassword"
        sec_http b GET /api/session
        expect_http 200 "B's session after A's SetPassword"
        sec_login a "$SEC_A" another-password-entirely
        sec_user "$SEC_A" user
}
l4m_test web-rv-revoked test_rv_revoked 120

# --- 4: sessions per account ---------------------------------------------

test_rv_sessions_per_user() {
        rv_setup 'MaxSessionsPerUser=2'
        sec_login a1 "$SEC_A"
        sec_login b1 "$SEC_B"
        sec_login a2 "$SEC_A"
        sec_login a3 "$SEC_A"
        sec_http a1 GET /api/session
        expect_http_error 401 org.left4me.Web.Unauthorized "A's oldest session after a third login (MaxSessionsPerUser=2)"
        sec_http a2 GET /api/session
        expect_http 200 "A's second session"
        sec_http a3 GET /api/session
        expect_http 200 "A's third session"
        sec_http b1 GET /api/session
        expect_http 200 "B's session, untouched by A's logins"
}
l4m_test web-rv-sessions-per-user test_rv_sessions_per_user 120

# --- 5: one upload per session -------------------------------------------

test_rv_upload_per_session() {
        local slow_pid
        rv_setup
        sec_login a "$SEC_A"
        sec_login b "$SEC_B"
        sec_api a POST /api/overlays '{"name":"rv-up-a","type":"archive","options":{}}'
        [[ $HTTP_CODE == 201 || $HTTP_CODE == 409 ]] || fail "create rv-up-a: $HTTP_CODE $HTTP_BODY"
        sec_api b POST /api/overlays '{"name":"rv-up-b","type":"archive","options":{}}'
        [[ $HTTP_CODE == 201 || $HTTP_CODE == 409 ]] || fail "create rv-up-b: $HTTP_CODE $HTTP_BODY"
        in_container sh -c "head -c 8388608 /dev/zero > '$TF_DIR/big.bin' && head -c 1024 /dev/zero > '$TF_DIR/small.bin'"
        # A slow upload of A's: 8 MiB at 64 KiB/s, given up by curl after 20 s.
        # Its "100 Continue" says the bridge has taken it on (and counted it).
        in_container curl -sS -v --max-time 20 --limit-rate 64K -o /dev/null -b "$TF_DIR/a.jar" \
                -H "Origin: $WEB_ORIGIN" -H "X-CSRF-Token: $(sec_csrf a)" -H 'Content-Type: application/octet-stream' \
                -H 'Expect: 100-continue' \
                --data-binary "@$TF_DIR/big.bin" "$WEB_URL/api/overlays/rv-up-a/archive" </dev/null \
                >"$TF_HOST/slow.out" 2>&1 &
        slow_pid=$!
        trap 'kill_test_child "${slow_pid:-}"; sec_cleanup' EXIT
        wait_until 10 grep -F '100 Continue' "$TF_HOST/slow.out" ||
                fail "the slow upload was not taken on: $(cat "$TF_HOST/slow.out")"
        # While it goes on, another of A's is refused.
        wait_until 5 rv_upload_refused a rv-up-a ||
                fail "a second upload of the same session was not refused: $HTTP_CODE $HTTP_BODY"
        expect_http_error 429 org.left4me.Web.TooManyRequests "a second upload of one session"
        rv_pid_gone "$slow_pid" && fail "the slow upload ended early: $(cat "$TF_HOST/slow.out")"
        # B's upload is B's own.
        sec_api b POST /api/overlays/rv-up-b/archive '' -H 'Content-Type: application/octet-stream' \
                --data-binary "@$TF_DIR/small.bin"
        [[ $HTTP_CODE != 429 ]] || fail "B's upload was refused while A's went on: $HTTP_BODY"
        wait_until 40 rv_pid_gone "$slow_pid" || fail "the slow upload's curl did not give up"
        # With A's upload over (its client gone), A may upload again.
        wait_until 20 rv_upload_not_refused a rv-up-a || fail "A's next upload was still refused: $HTTP_BODY"
}
l4m_test web-rv-upload-per-session test_rv_upload_per_session 180

# Four uploads at most go on at once in all, whoever makes them: four slow
# ones from four sessions, and a fifth session's upload is refused until
# they are over.
test_rv_uploads_in_all() {
        local pids=() i
        rv_setup
        for i in 1 2 3 4 5; do
                sec_login "s$i" "$SEC_A"
        done
        sec_api s1 POST /api/overlays '{"name":"rv-up-all","type":"archive","options":{}}'
        [[ $HTTP_CODE == 201 || $HTTP_CODE == 409 ]] || fail "create rv-up-all: $HTTP_CODE $HTTP_BODY"
        in_container sh -c "head -c 8388608 /dev/zero > '$TF_DIR/big.bin' && head -c 1024 /dev/zero > '$TF_DIR/small.bin'"
        trap 'for p in "${pids[@]}"; do kill_test_child "$p"; done; sec_cleanup' EXIT
        for i in 1 2 3 4; do
                in_container curl -sS -v --max-time 25 --limit-rate 64K -o /dev/null -b "$TF_DIR/s$i.jar" \
                        -H "Origin: $WEB_ORIGIN" -H "X-CSRF-Token: $(sec_csrf "s$i")" \
                        -H 'Content-Type: application/octet-stream' -H 'Expect: 100-continue' \
                        --data-binary "@$TF_DIR/big.bin" "$WEB_URL/api/overlays/rv-up-all/archive" </dev/null \
                        >"$TF_HOST/slow$i.out" 2>&1 &
                pids+=($!)
        done
        for i in 1 2 3 4; do
                wait_until 10 grep -F '100 Continue' "$TF_HOST/slow$i.out" ||
                        fail "slow upload $i was not taken on: $(cat "$TF_HOST/slow$i.out")"
        done
        rv_upload_refused s5 rv-up-all || fail "a fifth upload at once was not refused: $HTTP_CODE $HTTP_BODY"
        expect_http_error 429 org.left4me.Web.TooManyRequests "a fifth upload at once"
        for i in 0 1 2 3; do
                rv_pid_gone "${pids[i]}" && fail "slow upload $((i + 1)) ended early: $(cat "$TF_HOST/slow$((i + 1)).out")"
        done
        # curl gives up after its 25 s (killing in_container would leave
        # the curl inside the container running).
        for i in 0 1 2 3; do
                wait_until 40 rv_pid_gone "${pids[i]}" || fail "slow upload $((i + 1))'s curl did not give up"
        done
        # With their clients gone, the fifth session's upload goes through.
        wait_until 20 rv_upload_not_refused s5 rv-up-all || fail "the fifth upload was still refused: $HTTP_BODY"
}
l4m_test web-rv-uploads-in-all test_rv_uploads_in_all 180

# rv_upload_refused JAR OVERLAY: a small upload answers 429.
rv_upload_refused() {
        sec_api "$1" POST "/api/overlays/$2/archive" '' -H 'Content-Type: application/octet-stream' \
                --data-binary "@$TF_DIR/small.bin"
        [[ $HTTP_CODE == 429 ]]
}

rv_upload_not_refused() {
        sec_api "$1" POST "/api/overlays/$2/archive" '' -H 'Content-Type: application/octet-stream' \
                --data-binary "@$TF_DIR/small.bin"
        [[ $HTTP_CODE != 429 && $HTTP_CODE != 000 ]]
}

# --- 6: connections without a request ------------------------------------

test_rv_request_timeout() {
        local prog
        rv_setup 'RequestTimeoutSec=2
MaxConnections=3'
        prog=$(sec_python idle <<'PY'
# A half request line is closed after the timeout; a complete request on a
# fresh connection is answered; past MaxConnections= waiting connections a
# new one is closed at once, and once they are gone new ones work again.
import socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])

def closed_within(s, limit):
    s.settimeout(limit)
    t0 = time.monotonic()
    try:
        data = s.recv(4096)
    except socket.timeout:
        return None
    except ConnectionResetError:
        data = b""
    if data:
        return "data:" + data[:40].decode(errors="replace")
    return time.monotonic() - t0

def get(s):
    s.sendall(("GET / HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n" % (host, port)).encode())
    s.settimeout(10)
    return s.recv(64).split(b"\r\n", 1)[0].decode(errors="replace")

half = socket.create_connection((host, port), timeout=10)
half.sendall(b"GET / HT")
t = closed_within(half, 20)
print("half", "open" if t is None else (t if isinstance(t, str) else "%.1f" % t))

print("full", get(socket.create_connection((host, port), timeout=10)))

idle = [socket.create_connection((host, port), timeout=10) for _ in range(3)]
time.sleep(0.5)  # the bridge accepts them (not an assertion: the next line is)
extra = socket.create_connection((host, port), timeout=10)
try:
    extra.sendall(("GET / HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (host, port)).encode())
except OSError:
    pass
t = closed_within(extra, 1.5)
print("extra", "open" if t is None else (t if isinstance(t, str) else "closed"))
for s in idle:
    s.close()
time.sleep(0.5)
print("after", get(socket.create_connection((host, port), timeout=10)))
PY
)
        capture in_container python3 "$prog" 127.0.0.1 "$WEB_PORT"
        expect_ok "the idle-connection client"
        step "$OUT"
        local half full extra after
        half=$(awk '$1 == "half" { print $2 }' <<<"$OUT")
        full=$(awk '$1 == "full" { $1 = ""; print }' <<<"$OUT")
        extra=$(awk '$1 == "extra" { print $2 }' <<<"$OUT")
        after=$(awk '$1 == "after" { $1 = ""; print }' <<<"$OUT")
        [[ $half =~ ^[0-9.]+$ ]] || fail "a half request line was not closed within 20 s (RequestTimeoutSec=2): $half"
        python3 -c 'import sys; t = float(sys.argv[1]); sys.exit(0 if 1.0 <= t <= 6.0 else 1)' "$half" ||
                fail "a half request line was closed after $half s, not about 2 s"
        [[ $full == *" 200 "* || $full == *" 200" ]] || fail "a complete request was not answered 200: $full"
        assert_eq closed "$extra" "a fourth connection waiting for a request (MaxConnections=3)"
        [[ $after == *" 200"* ]] || fail "a request after the waiting connections closed: $after"
}
l4m_test web-rv-request-timeout test_rv_request_timeout 120

# --- 7: the unit starts without /etc/left4me -----------------------------

test_rv_no_conf_dir() {
        test_files_setup
        daemon_up
        in_container test -d /etc/left4me || in_container mkdir -p /etc/left4me
        in_container mv /etc/left4me /etc/left4me.rv-away
        trap 'in_container sh -c "rm -rf /etc/left4me; mv /etc/left4me.rv-away /etc/left4me"; sec_restart >/dev/null 2>&1' EXIT
        sec_restart
        sec_http "" GET /api/session
        expect_http_error 401 org.left4me.Web.Unauthorized "the bridge without /etc/left4me"
        assert_eq active "$(in_container systemctl is-active left4me-web.service)" "left4me-web.service without /etc/left4me"
}
l4m_test web-rv-no-conf-dir test_rv_no_conf_dir 60
