# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# left4me-web's Server-Sent Events (web-bridge/API.md, "Event streams"),
# read with curl -N inside the container: an instance log line printed
# after subscribing arrives, ids increase and Last-Event-ID gets exactly the
# lines missed; two subscribers share one journal reader in the daemon; a
# job log ends with "end" and resumes from a byte offset; /api/events
# carries instance State changes and a job reaching Progress 1; heartbeats;
# logout ends the session's streams; a user account does not get events of
# an instance it may not see (an admin account does); a client that stops
# reading is cut off while another reads a flood of lines.
#
# The instance runs on the fake installation and fake srcds of
# test-23-instances.sh (helpers ins_*), owned by unix user alice.

# shellcheck source=web-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/web-lib.sh"

EV_CONF=70-web-events
EV_PW=correct-horse-battery-staple
EV_ADMIN=ev-wendy
EV_USER=ev-bob
EV_NAME=ev-a

# ev_setup: the instance helpers, the bridge with one-second heartbeats,
# two web accounts logged in (jars "adm" and "usr"), and alice's stopped
# instance EV_NAME.
ev_setup() {
        # shellcheck source=test-23-instances.sh
        source "$(dirname "${BASH_SOURCE[0]}")/test-23-instances.sh"
        ins_setup
        web_up
        in_container mkdir -p "$L4M_CONF_D"
        printf '[Web]\nHeartbeatSec=1\n' >"$CTR_DIR/root$L4M_CONF_D/$EV_CONF.conf"
        trap ev_cleanup EXIT
        ev_restart
        web_user "$EV_ADMIN" "$EV_PW" admin
        web_user "$EV_USER" "$EV_PW" user
        ev_login adm "$EV_ADMIN"
        ev_login usr "$EV_USER"

        ins_remove "$EV_NAME"
        ins_overlay ev-ov 'mkdir -p left4dead2/addons && echo E > left4dead2/addons/ev.vpk' >/dev/null
        ins_delete_blueprint ev-bp
        gcall alice "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "'ev-bp'" "['ev-ov']" '@a{sv} {}'
        expect_ok "alice creates blueprint ev-bp"
        ins_create alice "$EV_NAME" ev-bp "{'port': <uint16 27071>}"
        expect_ok "alice creates instance $EV_NAME"
}

ev_cleanup() {
        set +e
        ev_stop_all
        ins_remove "$EV_NAME"
        in_container rm -f "$L4M_CONF_D/$EV_CONF.conf"
        in_container systemctl stop left4me-web.service left4me-web.socket 2>/dev/null
        in_container systemctl reset-failed left4me-web.service left4me-web.socket 2>/dev/null
        in_container systemctl start left4me-web.socket 2>/dev/null
        return 0
}

# ev_restart: the bridge with this test's configuration, answering.
# Socket and service both, so that a socket changed on disk (an earlier
# test's Listen=) is bound afresh; the first request starts the bridge.
ev_restart() {
        in_container systemctl stop left4me-web.service left4me-web.socket 2>/dev/null || true
        # Every test restarts the bridge twice: not a start loop.
        in_container systemctl reset-failed left4me-web.service left4me-web.socket 2>/dev/null || true
        capture in_container systemctl start left4me-web.socket
        expect_ok "start left4me-web.socket"
        wait_until 20 in_container curl -sS -o /dev/null "$WEB_ORIGIN/" ||
                fail "left4me-web does not answer: $(in_container journalctl -u left4me-web.service -u left4me-web.socket --no-pager -n 20 | paste -sd '|')"
}

# ev_login JAR USER: a session in cookie jar JAR (of this test's web
# directory); its CSRF token in JAR.csrf.
ev_login() {
        web_login "$2" "$EV_PW"
        web_expect 200 "login of $2"
        cp "$WEB_HOST_DIR/jar" "$WEB_HOST_DIR/$1.jar"
        printf '%s\n' "$WEB_CSRF" >"$WEB_HOST_DIR/$1.csrf"
}

# ev_post JAR PATH: a POST as the page makes it; the status in OUT.
ev_post() {
        capture in_container curl -sS --max-time 30 -o /dev/null -w '%{http_code}' -X POST -b "$WEB_DIR/$1.jar" \
                -H "Origin: $WEB_ORIGIN" -H "X-CSRF-Token: $(cat "$WEB_HOST_DIR/$1.csrf")" "$WEB_ORIGIN$2"
}

# ev_stream NAME JAR PATH [CURL-ARG...]: reads event stream PATH in the
# background into NAME.out (NAME.pid: curl's pid in the container; NAME.done
# once it exited).
ev_stream() {
        local name=$1 jar=$2 path=$3
        shift 3
        rm -f "$WEB_HOST_DIR/$name.out" "$WEB_HOST_DIR/$name.pid" "$WEB_HOST_DIR/$name.done"
        in_container sh -c 'n=$0; curl -sSN --max-time 120 "$@" >"$n.out" 2>"$n.err" & echo $! >"$n.pid"; wait $!; touch "$n.done"' \
                "$WEB_DIR/$name" -b "$WEB_DIR/$jar.jar" "$@" "$WEB_ORIGIN$path" &
        wait_until 10 test -s "$WEB_HOST_DIR/$name.pid" || fail "stream $name did not start"
        printf '%s\n' "$name" >>"$WEB_HOST_DIR/streams"
}

ev_stop() {
        local pid
        pid=$(cat "$WEB_HOST_DIR/$1.pid" 2>/dev/null) || return 0
        [[ -e $WEB_HOST_DIR/$1.done ]] || in_container kill "$pid" 2>/dev/null || true
        wait_until 10 test -e "$WEB_HOST_DIR/$1.done" || true
}

ev_stop_all() {
        local n
        [[ -e $WEB_HOST_DIR/streams ]] || return 0
        while read -r n; do
                ev_stop "$n"
        done <"$WEB_HOST_DIR/streams"
        rm -f "$WEB_HOST_DIR/streams"
}

ev_has() {
        grep -F -- "$2" "$WEB_HOST_DIR/$1.out" >/dev/null 2>&1
}

ev_ended() {
        [[ -e $WEB_HOST_DIR/$1.done ]]
}

# ev_log_events NAME: "ID LINE" per log event of NAME.out.
ev_log_events() {
        python3 - "$WEB_HOST_DIR/$1.out" <<'PY'
import json, sys
ev = {}
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    line = line.rstrip("\n")
    if not line:
        if ev.get("event") == "log":
            print(ev.get("id", "-"), json.loads(ev["data"])["line"])
        ev = {}
    elif not line.startswith(":") and ":" in line:
        k, v = line.split(":", 1)
        ev[k] = v[1:] if v.startswith(" ") else v
PY
}

ev_daemon_fds() {
        local pid
        pid=$(in_container systemctl show -P MainPID left4me.service)
        in_container find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l
}

ev_send() {
        ins_call alice "$EV_NAME" SendCommand "$(gv_str "echo $1")"
        expect_ok "alice: SendCommand echo $1"
}

# --- tests --------------------------------------------------------------

test_ev_instance_log() {
        local ids last head out
        ev_setup
        ins_call alice "$EV_NAME" Start
        expect_ok "alice starts $EV_NAME"
        ins_wait_state "$EV_NAME" running

        step "a user account may not read alice's instance log; no session: 401"
        capture in_container curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -b "$WEB_DIR/usr.jar" \
                "$WEB_ORIGIN/api/instances/$EV_NAME/log"
        [[ $OUT == 404 ]] || fail "$EV_USER reading $EV_NAME's log: HTTP $OUT"
        capture in_container curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "$WEB_ORIGIN/api/instances/$EV_NAME/log"
        [[ $OUT == 401 ]] || fail "no session reading $EV_NAME's log: HTTP $OUT"

        step "a line printed after subscribing arrives"
        ev_stream l1 adm "/api/instances/$EV_NAME/log?lines=5"
        wait_until 10 ev_has l1 'retry: 2000' || fail "no stream: $(cat "$WEB_HOST_DIR/l1.err" "$WEB_HOST_DIR/l1.out")"
        head=$(in_container curl -sS --max-time 2 -b "$WEB_DIR/adm.jar" -D - -o /dev/null \
                "$WEB_ORIGIN/api/instances/$EV_NAME/log" 2>/dev/null | tr -d '\r' || true)
        grep -i '^content-type: text/event-stream' <<<"$head" >/dev/null || fail "headers: $head"
        grep -i '^cache-control: no-store' <<<"$head" >/dev/null || fail "headers: $head"
        ev_send ev-mark-1
        wait_until 15 ev_has l1 'rcon: echo ev-mark-1' || fail "MARK not streamed: $(tail -c 600 "$WEB_HOST_DIR/l1.out")"
        ev_send ev-mark-2
        wait_until 15 ev_has l1 'rcon: echo ev-mark-2' || fail "second MARK not streamed"
        ids=$(ev_log_events l1 | cut -d' ' -f1)
        [[ -n $ids ]] || fail "no log events"
        sort -n -c <<<"$ids" || fail "ids do not increase: $ids"
        [[ $(sort -n -u <<<"$ids" | wc -l) == $(wc -l <<<"$ids") ]] || fail "ids repeat: $ids"
        last=$(ev_log_events l1 | grep 'rcon: echo ev-mark-2' | tail -n 1 | cut -d' ' -f1)
        ev_stop l1

        step "Last-Event-ID $last gets exactly the lines after it"
        ev_send ev-mark-3
        ev_send ev-mark-4
        ev_stream l2 adm "/api/instances/$EV_NAME/log" -H "Last-Event-ID: $last"
        wait_until 15 ev_has l2 'rcon: echo ev-mark-4' || fail "missed lines not replayed: $(tail -c 600 "$WEB_HOST_DIR/l2.out")"
        ev_stop l2
        out=$(ev_log_events l2)
        ! grep -e 'ev-mark-1' -e 'ev-mark-2' <<<"$out" >/dev/null || fail "lines before Last-Event-ID came again: $out"
        ! grep '^event: reset' "$WEB_HOST_DIR/l2.out" >/dev/null || fail "reset instead of a resume"
        [[ $(head -n 1 <<<"$out" | cut -d' ' -f1) == $((last + 1)) ]] || fail "not resumed at $((last + 1)): $out"
        grep 'rcon: echo ev-mark-3' <<<"$out" >/dev/null || fail "ev-mark-3 missing: $out"

        step "Last-Event-ID older than the ring: reset"
        ev_stream l3 adm "/api/instances/$EV_NAME/log" -H "Last-Event-ID: 5"
        wait_until 10 ev_has l3 'event: reset' || fail "no reset for an unknown id"
        ev_stop l3

        step "the instance is deleted: end"
        ev_stream l4 adm "/api/instances/$EV_NAME/log"
        wait_until 10 ev_has l4 'retry: 2000' || fail "no stream"
        ins_remove "$EV_NAME"
        wait_until 15 ev_ended l4 || fail "the log stream outlived its instance"
        ev_has l4 'event: end' || fail "no end event: $(tail -c 600 "$WEB_HOST_DIR/l4.out")"
}

test_ev_shared_feed() {
        local one two
        ev_setup
        ins_call alice "$EV_NAME" Start
        expect_ok "alice starts $EV_NAME"
        ins_wait_state "$EV_NAME" running

        ev_stream s1 adm "/api/instances/$EV_NAME/log"
        wait_until 10 ev_has s1 'retry: 2000' || fail "first stream did not start"
        ev_send ev-shared-1
        wait_until 15 ev_has s1 'ev-shared-1' || fail "first stream got no line"
        one=$(ev_daemon_fds)
        ev_stream s2 adm "/api/instances/$EV_NAME/log"
        wait_until 10 ev_has s2 'retry: 2000' || fail "second stream did not start"
        ev_send ev-shared-2
        wait_until 15 ev_has s2 'ev-shared-2' || fail "second stream got no line"
        wait_until 15 ev_has s1 'ev-shared-2' || fail "first stream lost the line"
        # The subscribers' checks (OpenLog without follow) are closed again.
        wait_until 10 test "$(ev_daemon_fds)" -le "$one" ||
                fail "left4med holds $(ev_daemon_fds) descriptors with two subscribers, $one with one"

        step "the daemon restarts: its logins are gone, so the sessions and their streams end"
        ev_stream e1 adm /api/events
        wait_until 10 ev_has e1 'retry: 2000' || fail "no events stream"
        reset_start_limit
        capture in_container systemctl restart left4me.service
        expect_ok "restart left4me.service"
        wait_until 15 ev_ended s1 || fail "a log stream outlived the daemon's journal reader"
        ! ev_has s1 'event: end' || fail "end sent for an instance that still exists"
        wait_until 15 ev_ended e1 || fail "the events stream outlived the session's login"
        step "logged in again, /api/events follows the new daemon"
        ev_login adm "$EV_ADMIN"
        ev_stream e2 adm /api/events
        wait_until 10 ev_has e2 'retry: 2000' || fail "no events stream after logging in again"
        ins_call alice "$EV_NAME" Stop
        expect_ok "alice stops $EV_NAME"
        wait_until 15 ev_has e2 '"State":"stopped"' || fail "no events after the daemon restarted"
}

test_ev_job_log() {
        local job id first n
        ev_setup
        ev_stream e1 adm /api/events
        wait_until 10 ev_has e1 'retry: 2000' || fail "no events stream"

        step "an import job: its log, then end"
        ins_overlay ev-ov2 'echo x > a.txt && echo y > b.txt' >/dev/null
        job=$(sql "SELECT id FROM jobs ORDER BY id DESC LIMIT 1")
        [[ $job =~ ^[0-9]+$ ]] || fail "no job id: $job"
        ev_stream j1 adm "/api/jobs/$job/log"
        wait_until 15 ev_ended j1 || fail "job log stream did not end: $(tail -c 600 "$WEB_HOST_DIR/j1.out")"
        grep -A2 '^event: end' "$WEB_HOST_DIR/j1.out" | grep '"State":"succeeded"' >/dev/null ||
                fail "no end with State succeeded: $(tail -c 600 "$WEB_HOST_DIR/j1.out")"
        n=$(ev_log_events j1 | wc -l)
        ((n >= 2)) || fail "job log has $n lines: $(cat "$WEB_HOST_DIR/j1.out")"

        step "resumed after its first line"
        first=$(ev_log_events j1 | sed -n 1p | cut -d' ' -f1)
        ev_stream j2 adm "/api/jobs/$job/log" -H "Last-Event-ID: $first"
        wait_until 15 ev_ended j2 || fail "resumed job log did not end"
        [[ $(ev_log_events j2 | wc -l) == $((n - 1)) ]] ||
                fail "resumed log: $(ev_log_events j2 | wc -l) lines, not $((n - 1))"
        [[ "$(ev_log_events j2)" == "$(ev_log_events j1 | tail -n +2)" ]] || fail "resumed log differs"
        grep '^event: end' "$WEB_HOST_DIR/j2.out" >/dev/null || fail "resumed log without end"

        step "/api/events: the job reached Progress 1 and succeeded"
        id=$job
        wait_until 10 ev_has e1 "\"Id\":$id," || fail "no job event for $id: $(tail -c 800 "$WEB_HOST_DIR/e1.out")"
        grep '^data: .*"Id":'"$id"',' "$WEB_HOST_DIR/e1.out" | grep '"State":"succeeded"' | grep '"Progress":1' >/dev/null ||
                fail "no job event with State succeeded and Progress 1: $(grep '"Id":'"$id" "$WEB_HOST_DIR/e1.out" | tail -n 3)"
}

test_ev_state() {
        ev_setup
        ev_stream e1 adm /api/events
        ev_stream e2 usr /api/events
        wait_until 10 ev_has e1 'retry: 2000' || fail "no events stream"
        wait_until 10 ev_has e2 'retry: 2000' || fail "no events stream of the user"

        step "heartbeats on an idle stream"
        wait_until 5 ev_has e2 ': ping' || fail "no heartbeat within 5 s"

        step "start and stop: instance events"
        ins_call alice "$EV_NAME" Start
        expect_ok "alice starts $EV_NAME"
        ins_wait_state "$EV_NAME" running
        wait_until 15 ev_has e1 '"State":"running"' || fail "no running event: $(tail -c 800 "$WEB_HOST_DIR/e1.out")"
        grep -B1 '"State":"running"' "$WEB_HOST_DIR/e1.out" | grep '^event: instance' >/dev/null || fail "not an instance event"
        grep '"State":"running"' "$WEB_HOST_DIR/e1.out" | grep "\"Name\":\"$EV_NAME\"" >/dev/null ||
                fail "the event does not carry the whole instance"
        ins_call alice "$EV_NAME" Stop
        expect_ok "alice stops $EV_NAME"
        wait_until 30 ins_stopped "$EV_NAME" || fail "$EV_NAME did not stop"
        wait_until 15 ev_has e1 '"State":"stopped"' || fail "no stopped event: $(tail -c 800 "$WEB_HOST_DIR/e1.out")"

        step "a user account does not get events of alice's instance"
        ! ev_has e2 "\"Name\":\"$EV_NAME\"" || fail "$EV_USER got events of $EV_NAME"

        step "logout ends the session's streams"
        ev_post usr /api/logout
        [[ $OUT == 204 ]] || fail "logout: $OUT"
        wait_until 10 ev_ended e2 || fail "the stream outlived its session"
        ! ev_ended e1 || fail "another session's stream ended too"
}

# ev_slow_client_py: a stalled and a reading client of one instance log
# (raw sockets with the session cookie of jar adm). The stalled one has a
# tiny receive buffer and stops reading after the stream's first bytes;
# the reader follows every "flood I" line. Writes DIR/ready once both
# streams run, waits for WANT flood lines at the reader (or 90 s), then
# lets the stalled one read to its end, and prints a JSON summary.
ev_slow_client_py() {
        cat <<'PY'
import json, re, socket, sys, time
port, path, jar, want, outdir = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
cookie = [l.split("\t") for l in open(jar) if "\tl4m_session\t" in l][0][6].strip()
def open_stream(rcvbuf):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", port))
    s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nCookie: l4m_session=%s\r\n\r\n" % (path, port, cookie)).encode())
    return s
stalled = open_stream(2048)
head = b""
while b"retry:" not in head:
    head += stalled.recv(256)
reader = open_stream(0)
buf = b""
while b"retry:" not in buf:
    buf += reader.recv(65536)
open(outdir + "/ready", "w").close()
got, first_t, last_t, in_order = [], None, None, True
reader.settimeout(1)
deadline = time.monotonic() + 90
while len(got) < want and time.monotonic() < deadline:
    try:
        data = reader.recv(1 << 20)
    except socket.timeout:
        continue
    if not data:
        break
    buf += data
    while b"\n\n" in buf:
        ev, buf = buf.split(b"\n\n", 1)
        for line in ev.split(b"\n"):
            if line.startswith(b"data: "):
                m = re.search(r"\bflood (\d+) x", json.loads(line[6:])["line"])
                if m:
                    i = int(m.group(1))
                    in_order = in_order and i == len(got)
                    got.append(i)
                    last_t = time.monotonic()
                    first_t = first_t or last_t
# The stalled client reads now: what the bridge still sent it, then the end.
stalled.settimeout(10)
stalled_bytes, stalled_end = 0, "timeout"
try:
    while True:
        data = stalled.recv(1 << 20)
        if not data:
            stalled_end = "eof"
            break
        stalled_bytes += len(data)
except socket.timeout:
    pass
except ConnectionResetError:
    stalled_end = "reset"
print(json.dumps({"reader_lines": len(got), "in_order": in_order,
                  "reader_span_s": (last_t - first_t) if got else None,
                  "stalled_end": stalled_end, "stalled_bytes": stalled_bytes}))
PY
}

# A slow client is cut off without slowing the others: one stream of the
# instance log never reads while another reads a flood of 2000 lines of
# 3000 bytes in bursts (6 MB, past the 1 MiB a client may fall behind plus what the
# sockets hold); the reader gets every line in order, the stalled one is
# disconnected, and the bridge is the same process and answers.
test_ev_slow_client() {
        local pid out want=2000
        ev_setup
        ins_call alice "$EV_NAME" Start
        expect_ok "alice starts $EV_NAME"
        ins_wait_state "$EV_NAME" running
        pid=$(in_container systemctl show -P MainPID left4me-web.service)
        ev_slow_client_py >"$WEB_HOST_DIR/slow.py"
        rm -f "$WEB_HOST_DIR/ready" "$WEB_HOST_DIR/slow.json"
        in_container sh -c 'python3 "$1/slow.py" "$2" "$3" "$1/adm.jar" "$4" "$1" >"$1/slow.json" 2>"$1/slow.err"' \
                sh "$WEB_DIR" "$WEB_PORT" "/api/instances/$EV_NAME/log?lines=0" "$want" &
        wait_until 20 test -e "$WEB_HOST_DIR/ready" || fail "the clients did not start: $(cat "$WEB_HOST_DIR/slow.err")"

        # In bursts of 250 lines (750 kB): left4med lets a follower of the
        # log fall 1 MiB behind, and the bridge's feed is one; a single 6 MB
        # burst outruns it on a loaded machine, whatever the bridge does.
        step "a flood of $want lines in bursts"
        local first
        for ((first = 0; first < want; first += 250)); do
                ins_call alice "$EV_NAME" SendCommand "$(gv_str "fake_flood_wide 250 3000 $first")"
                expect_ok "alice: SendCommand fake_flood_wide"
                sleep 0.5
        done
        wait_until 150 test -s "$WEB_HOST_DIR/slow.json" || fail "the clients did not finish: $(cat "$WEB_HOST_DIR/slow.err")"
        wait
        out=$(cat "$WEB_HOST_DIR/slow.json")
        echo "clients: $out"
        [[ $(json 'd["reader_lines"]' <<<"$out") == "$want" ]] || fail "the reader did not get every line: $out"
        [[ $(json 'd["in_order"]' <<<"$out") == true ]] || fail "the reader's lines are out of order: $out"
        [[ $(json 'd["stalled_end"]' <<<"$out") != timeout ]] || fail "the stalled client was not disconnected: $out"
        (($(json 'd["stalled_bytes"]' <<<"$out") < want * 3000)) || fail "the stalled client got everything: $out"

        step "the bridge logged the drop and still serves"
        in_container journalctl -u left4me-web.service --no-pager -o cat | grep 'bytes behind, dropping it' >/dev/null ||
                fail "no message about the dropped client"
        [[ $(in_container systemctl show -P MainPID left4me-web.service) == "$pid" ]] || fail "the bridge restarted"
        capture in_container curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -b "$WEB_DIR/adm.jar" "$WEB_ORIGIN/api/session"
        [[ $OUT == 200 ]] || fail "GET /api/session after the flood: HTTP $OUT"
}

l4m_test web-events-instance-log test_ev_instance_log 240
l4m_test web-events-shared-feed test_ev_shared_feed 240
l4m_test web-events-job-log test_ev_job_log 240
l4m_test web-events-state test_ev_state 240
l4m_test web-events-slow-client test_ev_slow_client 300
