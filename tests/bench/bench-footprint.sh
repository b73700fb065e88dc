#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck source-path=SCRIPTDIR
#
# tests/bench/bench-footprint.sh [--build DIR] [-n ITEMS]
#
# left4med's resident memory at rest: with 10 overlays (Workshop, no items),
# a blueprint and 2 instances (stopped) in its store, the daemon is
# restarted, activated by one call, left alone FP_IDLE seconds (default 5)
# and its VmRSS read; then where it goes (/proc/PID/smaps, Rss summed by
# mapped file, the largest first, anonymous memory as [anon] and [heap]).
# Then the same after a Workshop build of FP_ITEMS small items (default 3)
# from the fake Steam API on loopback (libcurl and its TLS library in use)
# and after an ImportArchive of a small tar (libarchive in use), so the cost
# of what is loaded on demand shows. Its own objects (fp-*) are deleted at
# the end. Figures only; no thresholds, no pass/fail.
#
# On its own (as root) it boots a disposable container as the integration
# tests do (tools/container.sh) and installs the build into it:
#   --build DIR  an existing meson build directory (built with ninja first);
#                without it a fresh one is set up and removed.
#   -n ITEMS     the Workshop build's items (FP_ITEMS).
# tests/bench/run sources it; bench_footprint is one of the rows of
# --only speed.

FP_IDLE=${FP_IDLE:-5}
FP_ITEMS=${FP_ITEMS:-3}
FP_DIR=/var/lib/left4me/bench-footprint
FP_TOOLS=/usr/local/libexec/left4me-tests
FP_CONF=/etc/left4me/left4me.conf.d/50-bench-footprint.conf

fp_pid() { in_container systemctl show -P MainPID left4me.service; }

fp_rss_kb() {
        in_container sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$(fp_pid)/status"
}

# fp_mb KB: MiB, as /proc counts (kB there is KiB).
fp_mb() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }

# fp_breakdown: left4med's Rss by mapping (smaps), summed per file, the
# largest 14 and the rest, in kB.
fp_breakdown() {
        in_container cat "/proc/$(fp_pid)/smaps" | awk '
                /^[0-9a-f]+-[0-9a-f]+ / {
                        name = $6
                        if (name == "") name = "[anon]"
                        sub(/.*\//, "", name)
                        next
                }
                /^Rss:/ { rss[name] += $2; total += $2 }
                END {
                        for (n in rss) if (rss[n] > 0) printf "%d %s\n", rss[n], n
                        printf "%d =total\n", total
                }' | sort -rn | awk '
                $2 == "=total" { total = $1; next }
                NR <= 15 { printf "    %6d kB  %s\n", $1, $2; shown += $1; next }
                { rest += $1; others++ }
                END { printf "    %6d kB  (%d other mappings)\n    %6d kB  Rss in all\n", rest, others, total }'
}

fp_call() {
        in_container busctl call org.left4me.Manager "$@"
}

# fp_path GETTER NAME: the object path Manager.GETTER gives for NAME.
fp_path() {
        fp_call /org/left4me/Manager org.left4me.Manager "$1" s "$2" | sed 's/^o "\(.*\)"$/\1/'
}

# fp_count LISTER: how many entries Manager.LISTER returns.
fp_count() {
        fp_call /org/left4me/Manager org.left4me.Manager "$1" | awk '{ print $2 }'
}

# The python (python3-dbus) part: runs a method returning a job on overlay
# PATH and waits for the job to end; prints its result.
fp_job_py() {
        cat <<'PY'
import dbus, os, sys, time
bus = dbus.SystemBus()
M = "org.left4me.Manager"
what, path = sys.argv[1], sys.argv[2]
ov = bus.get_object(M, path, introspect=False)
opts = dbus.Dictionary({}, signature="sv")
if what == "build":
    job = ov.Build(opts, dbus_interface="org.left4me.Overlay", timeout=60)
else:
    fd = os.open(sys.argv[3], os.O_RDONLY)
    job = ov.ImportArchive(dbus.types.UnixFd(fd), opts, dbus_interface="org.left4me.Overlay", timeout=60)
    os.close(fd)
props = bus.get_object(M, job, introspect=False)
for _ in range(1200):
    state = str(props.Get("org.left4me.Job", "State", dbus_interface="org.freedesktop.DBus.Properties"))
    if state not in ("queued", "running"):
        break
    time.sleep(0.05)
print(state)
PY
}

fp_cleanup() {
        local pidfile=${CTR_DIR:-/nonexistent}/state/bench-footprint/fixture.pid
        if [[ -s $pidfile ]] && ctr_alive; then
                in_container kill "$(<"$pidfile")" 2>/dev/null || true
                rm -f "$pidfile"
        fi
}

bench_footprint() {
        local i ov port kb result ids
        echo
        echo "--- left4med's resident memory: idle after activation with 10 overlays and 2 instances; after a Workshop build; after an archive import"
        in_container mkdir -p "$FP_DIR" "$FP_TOOLS"
        install -m 0755 "$L4M_SRCDIR/tests/fixtures/fake-steam-api.py" "$CTR_DIR/root$FP_TOOLS/fake-steam-api.py"
        python3 - "$FP_ITEMS" >"$CTR_DIR/state/bench-footprint/fixture.json" <<'PY'
import json, sys
print(json.dumps({"items": {str(8000001 + i): {"size": 4096 + i} for i in range(int(sys.argv[1]))}}))
PY
        in_container sh -c "echo \$\$ > $FP_DIR/fixture.pid && exec /usr/bin/python3 $FP_TOOLS/fake-steam-api.py \
                --listen 127.0.0.1:0 --port-file $FP_DIR/port --config $FP_DIR/fixture.json" </dev/null >/dev/null 2>&1 &
        for _ in $(seq 100); do
                [[ -s $CTR_DIR/state/bench-footprint/port ]] && break
                sleep 0.1
        done
        port=$(<"$CTR_DIR/state/bench-footprint/port")
        in_container mkdir -p "${FP_CONF%/*}"
        printf '[Steam]\nApiUrl=http://127.0.0.1:%s/\n' "$port" >"$CTR_DIR/root$FP_CONF"
        in_container sh -ec "rm -rf $FP_DIR/t && mkdir -p $FP_DIR/t/left4dead2/cfg &&
                echo footprint > $FP_DIR/t/left4dead2/cfg/footprint.cfg && tar -C $FP_DIR/t -cf $FP_DIR/layer.tar ."

        # The objects, made by a daemon that is then restarted.
        fp_call /org/left4me/Manager org.freedesktop.DBus.Peer Ping >/dev/null
        for i in $(seq -w 0 9); do
                fp_call /org/left4me/Manager org.left4me.Manager CreateOverlay 'ssa{sv}' "fp-$i" workshop 0 >/dev/null
        done
        fp_call /org/left4me/Manager org.left4me.Manager CreateBlueprint 'sasa{sv}' fp-bp 2 fp-0 fp-1 0 >/dev/null
        fp_call /org/left4me/Manager org.left4me.Manager CreateInstance 'ssa{sv}' fp-a fp-bp 0 >/dev/null
        fp_call /org/left4me/Manager org.left4me.Manager CreateInstance 'ssa{sv}' fp-b fp-bp 0 >/dev/null
        in_container systemctl stop left4me.service
        in_container systemctl reset-failed left4me.service 2>/dev/null || true
        fp_call /org/left4me/Manager org.freedesktop.DBus.Properties Get ss org.left4me.Manager Version >/dev/null
        sleep "$FP_IDLE"
        kb=$(fp_rss_kb)
        echo "idle RSS after activation ($(fp_count ListOverlays) overlays, $(fp_count ListInstances) instances in all), ${FP_IDLE} s: $kb kB; by mapping:"
        fp_breakdown
        goal_row "left4med idle RSS (after activation, 10 overlays, 2 instances)" "$(fp_mb "$kb") MiB ($kb kB)" "< 8 MB"

        ov=$(fp_path GetOverlay fp-9)
        ids=$(seq -f "'%.0f'" 8000001 $((8000000 + FP_ITEMS)) | paste -sd ,)
        in_container gdbus call --system --dest org.left4me.Manager --object-path "$ov" \
                --method org.left4me.Overlay.SetWorkshopItems "[$ids]" >/dev/null
        result=$(in_container /usr/bin/python3 -c "$(fp_job_py)" build "$ov")
        sleep 1
        echo "RSS after a Workshop build of $FP_ITEMS items ($result): $(fp_rss_kb) kB"

        ov=$(fp_call /org/left4me/Manager org.left4me.Manager CreateOverlay 'ssa{sv}' fp-archive archive 0 |
                sed 's/^o "\(.*\)"$/\1/')
        result=$(in_container /usr/bin/python3 -c "$(fp_job_py)" import "$ov" "$FP_DIR/layer.tar")
        sleep 1
        echo "RSS after an archive import ($result): $(fp_rss_kb) kB; by mapping:"
        fp_breakdown

        fp_cleanup
        for i in fp-a fp-b; do
                fp_call "$(fp_path GetInstance "$i")" org.left4me.Instance Delete >/dev/null || true
        done
        fp_call "$(fp_path GetBlueprint fp-bp)" \
                org.left4me.Blueprint Delete >/dev/null || true
        for i in $(seq -w 0 9) archive; do
                fp_call "$(fp_path GetOverlay "fp-$i")" \
                        org.left4me.Overlay Delete >/dev/null || true
        done
        rm -f "$CTR_DIR/root$FP_CONF"
        in_container rm -rf "$FP_DIR"
        in_container systemctl restart left4me.service
}

# On its own: a container of its own.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
        # shellcheck source=standalone.sh
        source "$(dirname "${BASH_SOURCE[0]}")/standalone.sh"
        goal_row() { printf '| %s | %s | %s |\n' "$1" "$2" "$3"; }
        bench_standalone "$0" "footprint benchmark" bench_footprint FP_ITEMS "$@"
fi
