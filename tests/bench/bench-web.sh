#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck source-path=SCRIPTDIR
#
# tests/bench/bench-web.sh [--build DIR] [--streams N] [--sessions N] [--markers K]
#
# Figures of left4me-web, the HTTP bridge, in a disposable container:
#  - N (default 10000) concurrent Server-Sent Events streams of one running
#    instance's log (GET /api/instances/NAME/log?lines=0) on one bridge
#    process, opened by tests/bench/sse-load.py over SESSIONS (default 20)
#    web sessions from as many loopback addresses (127.0.0.2, ...: the bridge
#    limits logins per address; each session is one bus connection, and
#    dbus-daemon allows 256 per uid). K (default 10) marker lines are then sent through RCON
#    (POST /api/instances/NAME/command "echo MARK <n> <t_send_ns>": the
#    fake srcds prints each command to its log), one after another, and the
#    delivery latency of each marker on each stream is taken (receive time -
#    send time, one clock). Reported: the bridge's VmRSS/VmHWM before and
#    with the streams, RSS per stream, p50/p90/p99/max latency, the bridge's
#    CPU time, how many streams got every marker, and the client's own CPU
#    time (a Python asyncio client: if it is near its wall time, the client
#    is the bottleneck and the latencies are an upper bound). The bridge's
#    CPU per delivered line is its utime+stime (/proc/PID/stat) over the
#    marker rounds divided by the deliveries.
#  - wrk (-t2 -c32 -d10s --latency) of GET /api/instances (logged in, five
#    instances present) against a small static file of the UI served by the
#    same bridge in the same run; requests/s, their ratio, and wrk's latency
#    percentiles. wrk runs in the container's network namespace.
# The instances run on the fake installation of the instance benchmark
# (tests/fixtures/fake-srcds.py as srcds_run). The bench raises the
# bridge's [Web] MaxStreams=/MaxStreamsPerSession=/MaxSessions=/
# MaxSessionsPerUser=/MaxConnections= with a
# drop-in (the unit's LimitNOFILE=65536 suffices; the client raises its own
# soft limit up to the hard one). Prints figures only; no thresholds.
#
# On its own (as root) it boots a container as the integration tests do:
#   --build DIR  an existing meson build directory (built with ninja first);
#                without it a fresh one is set up and removed.
# tests/bench/run sources it and calls bench_web in its own container
# (--only web for just this one; set BW_STREAMS, BW_SESSIONS, BW_MARKERS).

BW_STREAMS=${BW_STREAMS:-10000}
BW_SESSIONS=${BW_SESSIONS:-20}
BW_MARKERS=${BW_MARKERS:-10}
BW_TOOLS=/usr/local/libexec/left4me-tests
BW_USER=bench-web
BW_PW=bench-web-password-1
BW_DIR=/var/tmp/bw
# [Web] UiDir= as installed.
BW_UI_DIR=/usr/share/left4me/ui

# On its own the rows of the speed table are printed as they come.
declare -F goal_row >/dev/null || goal_row() {
        printf 'goal row: %s | %s | %s\n' "$1" "$2" "$3"
}

# bw_port: the bridge's loopback port, from left4me-web.socket's Listen=.
bw_port() {
        in_container systemctl show -P Listen left4me-web.socket |
                sed -n 's/^\(127\.0\.0\.1\|\[::1\]\|localhost\):\([0-9]*\) (Stream)$/\2/p' | head -n 1
}

bw_pid() {
        in_container systemctl show -P MainPID left4me-web.service
}

# bw_wait_state NAME STATE: polls the instance's State for up to 30 s.
bw_wait_state() {
        local i s
        for ((i = 0; i < 300; i++)); do
                s=$(in_container busctl get-property org.left4me.Manager "/org/left4me/Manager/instance/${1//-/_2d}" \
                        org.left4me.Instance State | sed 's/^s "\(.*\)"$/\1/')
                [[ $s == "$2" ]] && return 0
                sleep 0.1
        done
        ctr_die "instance $1 is $s, not $2"
}

# bw_setup: the fake installation, one archive overlay, a blueprint, five
# instances (bw-0 runs), the web account, the bridge's limits raised and
# the bridge (re)started. Sets BW_PORT, BW_URL, BW_ORIGIN.
bw_setup() {
        install -D -m 0755 "$L4M_SRCDIR/tests/bench/sse-load.py" "$CTR_DIR/root$BW_TOOLS/sse-load.py"
        bench_fake_installation "$BW_DIR"
        bench_layer_blueprint "$BW_DIR" bw
        in_container python3 - "$BW_USER" "$BW_PW" <<'PY'
import dbus, sys
bus = dbus.SystemBus()
M = "org.left4me.Manager"
mgr = bus.get_object(M, "/org/left4me/Manager", introspect=False)
mgr.CreateUser(sys.argv[1], sys.argv[2], "admin", dbus_interface=M)
for i in range(5):
    mgr.CreateInstance("bw-%d" % i, "bw-bp", dbus.Dictionary({"port": dbus.UInt16(27100 + i)}, signature="sv"),
                       dbus_interface=M)
PY
        in_container busctl call org.left4me.Manager /org/left4me/Manager/instance/bw_2d0 org.left4me.Instance Start >/dev/null
        bw_wait_state bw-0 running
        in_container mkdir -p /etc/left4me/left4me.conf.d
        # All sessions are one account's, and the client opens every
        # stream at once: lift the per-account session cap and the cap on
        # connections still sending their request.
        printf '[Web]\nMaxStreams=%d\nMaxStreamsPerSession=%d\nMaxSessions=%d\nMaxSessionsPerUser=%d\nMaxConnections=%d\n' \
                $((BW_STREAMS + 1000)) $((BW_STREAMS / BW_SESSIONS + 100)) $((BW_SESSIONS + 8)) $((BW_SESSIONS + 8)) \
                $((BW_STREAMS + 1000)) \
                >"$CTR_DIR/root/etc/left4me/left4me.conf.d/90-bench-web.conf"
        in_container systemctl stop left4me-web.service 2>/dev/null || true
        in_container systemctl start left4me-web.socket
        BW_PORT=$(bw_port)
        [[ -n $BW_PORT ]] || ctr_die "left4me-web.socket listens on no loopback port: $(in_container systemctl show -P Listen left4me-web.socket)"
        BW_URL=http://127.0.0.1:$BW_PORT
        BW_ORIGIN=$BW_URL
        # The first connection starts the bridge.
        in_container curl -sS -o /dev/null --max-time 10 "$BW_URL/" || ctr_die "the bridge does not answer at $BW_URL"
        [[ $(bw_pid) != 0 ]] || ctr_die "left4me-web.service did not start"
}

# bw_sse: the stream benchmark; prints its table.
bw_sse() {
        local out pid
        pid=$(bw_pid)
        out=$(in_container python3 "$BW_TOOLS/sse-load.py" \
                --port "$BW_PORT" --origin "$BW_ORIGIN" --user "$BW_USER" --password "$BW_PW" \
                --instance bw-0 --sessions "$BW_SESSIONS" --streams "$BW_STREAMS" --markers "$BW_MARKERS" \
                --bridge-pid "$pid" --baseline 2>"$CTR_DIR/root$BW_DIR/sse-load.err") ||
                ctr_die "sse-load.py failed: $(tail -n 20 "$CTR_DIR/root$BW_DIR/sse-load.err")"
        printf '%s\n' "$out" >"$CTR_DIR/root$BW_DIR/sse-load.json"
        local p99 cpu mem n
        python3 - "$CTR_DIR/root$BW_DIR/sse-load.json" "$CTR_DIR/root$BW_DIR/sse-goals.txt" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
b0, b1, b2 = d["bridge_before"], d["bridge_open"], d["bridge_after"]
n = d["streams_open"]
lat = d["latency_ms"]
cpu_us = (b2["cpu_s"] - b1["cpu_s"]) * 1e6 / d["deliveries"] if d["deliveries"] else None
def f(x):
    return "-" if x is None else ("%.1f" % x)
rows = [
    ("streams opened / wanted", "%d / %d (statuses %s)" % (n, d["streams_wanted"], d["open_statuses"])),
    ("sessions (bus connections)", "%d, logged in in %.2f s" % (d["sessions"], d["login_s"])),
    ("time to open all streams", "%.1f s" % d["open_s"]),
    ("bridge VmRSS before / with streams", "%d kB / %d kB" % (b0["VmRSS"], b1["VmRSS"])),
    ("bridge VmHWM before / at the end", "%d kB / %d kB" % (b0["VmHWM"], b2["VmHWM"])),
    ("RSS per stream", "%.2f kB" % ((b1["VmRSS"] - b0["VmRSS"]) / n if n else 0)),
    ("bridge fds with streams", "%d" % b1["fds"]),
    ("bridge CPU: opening / markers", "%.2f s / %.2f s" % (b1["cpu_s"] - b0["cpu_s"], b2["cpu_s"] - b1["cpu_s"])),
    ("markers sent", "%d" % d["markers"]),
    ("deliveries / expected", "%d / %d" % (d["deliveries"], d["deliveries_expected"])),
    ("streams with every marker", "%d of %d" % (d["streams_with_all_markers"], n)),
    ("streams closed by the bridge", "%d" % d["streams_closed"]),
    ("latency p50 / p90 / p99 / max", "%s / %s / %s / %s ms" % (f(lat["p50"]), f(lat["p90"]), f(lat["p99"]), f(lat["max"]))),
    ("per marker: p50 (max) ms", " ".join("%s(%s)" % (f(r["p50_ms"]), f(r["max_ms"])) for r in d["rounds"])),
    ("baseline without the bridge: p50 / max", "%s / %s ms (l4mctl instance logs -f: journald and left4med's OpenLog)"
     % (f(d.get("baseline_ms", {}).get("p50")), f(d.get("baseline_ms", {}).get("max")))),
    ("per marker baseline ms", " ".join(f(r.get("baseline_ms")) for r in d["rounds"])),
    ("GET /api/instances with the streams open", "p50 %s ms, max %s ms (%d sequential requests answered 200)"
     % (f(d["api_with_streams_ms"]["p50"]), f(d["api_with_streams_ms"]["max"]), d["api_with_streams_ms"]["n"])),
    ("bridge CPU per delivered line", "%.2f µs" % cpu_us if cpu_us is not None else "-"),
    ("client CPU (Python asyncio)", "%.1f s" % d["client_cpu_s"]),
]
for k, v in rows:
    print("%-38s %s" % (k, v))
with open(sys.argv[2], "w") as g:
    g.write("%s\t%s\t%s\t%d\n" % (f(lat["p99"]), "-" if cpu_us is None else "%.1f" % cpu_us,
                                   "%.1f" % ((b1["VmRSS"] - b0["VmRSS"]) / n) if n else "-", n))
PY
        IFS=$'\t' read -r p99 cpu mem n <"$CTR_DIR/root$BW_DIR/sse-goals.txt"
        goal_row "the same at an SSE client with 10,000 streams open, p99" "$p99 ms ($n streams)" "< 100 ms"
        goal_row "bridge CPU per delivered line / memory per open stream" "$cpu µs / $mem kB ($n streams)" "≤ 5 µs / ≤ 8 kB"
}

# bw_wrk PATH [HEADER]: wrk -t2 -c32 -d10s --latency (with wrk-status.lua,
# which counts the answers by status) in the container's network namespace;
# prints "REQ/S P50 P90 P99 STATUSES" (latencies as wrk prints them,
# STATUSES as "200:N,429:N").
bw_wrk() {
        local out hdr=()
        [[ -z ${2:-} ]] || hdr=(-H "$2")
        out=$(nsenter -t "$CTR_PID" -n wrk -t2 -c32 -d10s --latency -s "$L4M_SRCDIR/tests/bench/wrk-status.lua" \
                "${hdr[@]}" "$BW_URL$1")
        printf '%s\n' "$out" >"$CTR_DIR/root$BW_DIR/wrk-${1//\//_}.txt"
        awk '
                /Requests\/sec:/ { rps = $2 }
                $1 == "50%" { p50 = $2 } $1 == "90%" { p90 = $2 } $1 == "99%" { p99 = $2 }
                $1 == "status" { st = st (st == "" ? "" : ",") $2 $3 }
                END { printf "%s %s %s %s %s\n", rps, p50, p90, p99, st }' <<<"$out"
}

bench_web() {
        echo
        echo "--- left4me-web: $BW_STREAMS concurrent instance-log SSE streams over $BW_SESSIONS sessions, $BW_MARKERS markers; wrk of GET /api/instances against a static file"
        command -v wrk >/dev/null || ctr_die "wrk is not installed"
        bw_setup
        bw_wrk_all
        bw_sse
        bw_teardown
}

# bw_teardown: how long the bridge takes to let go of the streams after
# the client has gone (its descriptors back under 100), and its CPU time
# for that.
bw_teardown() {
        local pid t0 t1 cpu0 cpu1 fds i
        pid=$(bw_pid)
        cpu0=$(bw_cpu "$pid")
        t0=$(date +%s%N)
        for ((i = 0; i < 1200; i++)); do
                fds=$(in_container find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l)
                ((fds < 100)) && break
                sleep 0.1
        done
        t1=$(date +%s%N)
        cpu1=$(bw_cpu "$pid")
        printf '%-38s %s\n' "streams let go after the client left" \
                "$(((t1 - t0) / 1000000)) ms to $fds descriptors (bridge CPU $(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.2f", b - a }') s)"
        echo "bridge VmHWM/VmRSS then: $(in_container sed -n 's/^\(VmRSS\|VmHWM\):[[:space:]]*//p' "/proc/$pid/status" | paste -sd /)"
}

# bw_cpu PID: user + system CPU seconds of a process in the container.
bw_cpu() {
        # shellcheck disable=SC2016 # awk's own fields
        in_container awk -v tck="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / tck }' "/proc/$1/stat"
}

# bw_wrk_all: wrk of GET /api/instances and of a tiny static file, on the
# fresh bridge (before the streams).
bw_wrk_all() {
        local cookie static api st ratio
        # wrk: a fresh session, and a tiny static file in the UI directory.
        in_container sh -ec "printf 'left4me\n' > '$BW_UI_DIR/bench-tiny.txt'"
        cookie=$(in_container curl -sS -D - -o /dev/null -H "Origin: $BW_ORIGIN" -H 'Content-Type: application/json' \
                --data-binary "{\"user\": \"$BW_USER\", \"password\": \"$BW_PW\"}" "$BW_URL/api/login" |
                tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: *\(l4m_session=[^;]*\).*/\1/p')
        [[ -n $cookie ]] || ctr_die "cannot log in for wrk"
        st=$(in_container curl -sS -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$BW_URL/api/instances")
        [[ $st == 200 ]] || ctr_die "GET /api/instances answered $st"
        st=$(in_container curl -sS -o /dev/null -w '%{http_code}' "$BW_URL/bench-tiny.txt")
        [[ $st == 200 ]] || ctr_die "GET /bench-tiny.txt answered $st"
        read -r -a api < <(bw_wrk /api/instances "Cookie: $cookie")
        read -r -a static < <(bw_wrk /bench-tiny.txt)
        printf '%-38s %12s %10s %10s %10s  %s\n' "wrk -t2 -c32 -d10s" "requests/s" p50 p90 p99 "answers by status"
        printf '%-38s %12s %10s %10s %10s  %s\n' "GET /api/instances (5 instances)" "${api[@]}"
        printf '%-38s %12s %10s %10s %10s  %s\n' "GET /bench-tiny.txt (8 bytes)" "${static[@]}"
        ratio=$(awk -v a="${api[0]}" -v s="${static[0]}" 'BEGIN { printf "%.3f", a / s }')
        echo "ratio GET /api/instances to the static file: $ratio"
        goal_row "\`GET /api/instances\` requests/s ÷ a static file's, same bridge, same run" \
                "$ratio (${api[0]} / ${static[0]} requests/s)" "≥ 0.5"
        sed -n 's/^first other: /first answer other than 200 to GET \/api\/instances: /p' "$CTR_DIR/root$BW_DIR/wrk-_api_instances.txt"
}

# On its own: a container of its own.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
        set -euo pipefail
        # shellcheck source=../../tools/container.sh
        source "$(dirname "${BASH_SOURCE[0]}")/../../tools/container.sh"
        # shellcheck source=bench-fixture.sh
        source "$(dirname "${BASH_SOURCE[0]}")/bench-fixture.sh"
        BUILD=
        while (($#)); do
                case $1 in
                --build) BUILD=${2:?--build needs a directory}; shift 2 ;;
                --streams) BW_STREAMS=${2:?--streams needs a number}; shift 2 ;;
                --sessions) BW_SESSIONS=${2:?--sessions needs a number}; shift 2 ;;
                --markers) BW_MARKERS=${2:?--markers needs a number}; shift 2 ;;
                -h | --help) awk 'NR > 2 && /^#/ { if ($0 !~ /shellcheck/) { sub(/^# ?/, ""); print }; next } NR > 2 { exit }' "$0"; exit 0 ;;
                *) echo "unknown argument: $1" >&2; exit 2 ;;
                esac
        done
        for v in "$BW_STREAMS" "$BW_SESSIONS" "$BW_MARKERS"; do
                [[ $v =~ ^[1-9][0-9]*$ ]] || ctr_die "not a positive number: $v"
        done
        ctr_require_root
        OWN_BUILD=
        bw_finish() {
                local rc=$?
                trap - EXIT INT TERM HUP
                ctr_stop
                [[ -z $OWN_BUILD ]] || rm -rf "$OWN_BUILD"
                exit "$rc"
        }
        trap bw_finish EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM HUP
        ctr_install_deps
        if [[ -z $BUILD ]]; then
                OWN_BUILD=$(mktemp -d "${TMPDIR:-/tmp}/left4me-build.XXXXXXXX")
                BUILD=$OWN_BUILD
                meson setup "$BUILD" "$L4M_SRCDIR" >/dev/null
        fi
        ninja -C "$BUILD" >/dev/null
        CTR_NAME=${L4M_CTR_NAME:-left4me-bench}
        ctr_boot
        ctr_install_build "$BUILD"
        echo "=== left4me-web benchmark ($(git -C "$L4M_SRCDIR" describe --always --dirty 2>/dev/null || echo "unknown revision"), $(nproc) CPUs, kernel $(uname -r))"
        bench_web
fi
