# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Transfer benchmarks, sourced by tests/bench/run and run in its container
# (left4me installed, in_container working):
#   1. a Workshop build of BENCH_ITEMS items (about BENCH_ITEM_BYTES each)
#      from the fake Steam API (tests/fixtures) on container loopback: wall
#      time of the job against curl --parallel --parallel-max N fetching the
#      same file URLs in the same run (N = [Downloads] MaxParallel), and
#      left4med's peak RSS (VmHWM, reset before) during the build;
#   2. the no-change rebuild: wall time and what the fixture served;
#   3. ImportArchive of a zip of about BENCH_ZIP_MB MiB (stored random and
#      deflated low-entropy entries) against bsdtar -xf of the same file into
#      a directory on the same file system, and the peak RSS meanwhile.
# Figures only, no thresholds. Everything goes under /var/lib/left4me/bench
# (the state directory's file system, where the cache and overlays live).

BENCH_ITEMS=${BENCH_ITEMS:-500}
BENCH_ITEM_BYTES=${BENCH_ITEM_BYTES:-1000000}
BENCH_PARALLEL=${BENCH_PARALLEL:-4}
BENCH_ZIP_MB=${BENCH_ZIP_MB:-1024}
BENCH_DIR=/var/lib/left4me/bench
# (/var/lib/left4me is $CTR_DIR/state seen from the host.)
BENCH_TOOLS=/usr/local/libexec/left4me-tests

bt_ms() { awk -v ns="$1" 'BEGIN { printf "%.0f", ns / 1000000 }'; }
bt_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "?" }'; }
bt_mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1000000 }'; }

bt_pid() { in_container systemctl show -P MainPID left4me.service; }

# Resets left4med's peak RSS (VmHWM) so that the next reading covers what
# follows only; prints nothing. Harmless if the kernel refuses.
bt_reset_hwm() {
        in_container sh -c "echo 5 > /proc/$(bt_pid)/clear_refs" 2>/dev/null || true
}

bt_hwm_kb() {
        in_container sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$(bt_pid)/status"
}

# The python (python3-dbus) part: runs a method returning a job, waits for
# JobRemoved, prints "SECONDS RESULT JOB".
bt_job_py() {
        cat <<'PY'
import dbus, os, sys, time
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib
DBusGMainLoop(set_as_default=True)
bus = dbus.SystemBus()
what, target = sys.argv[1], sys.argv[2]
st = {}
loop = GLib.MainLoop()

def removed(i, path, result):
    if str(path) == st.get("job"):
        st["t1"], st["result"] = time.monotonic(), str(result)
        loop.quit()

bus.add_signal_receiver(removed, "JobRemoved", "org.left4me.Manager", "org.left4me.Manager", "/org/left4me/Manager")
ov = bus.get_object("org.left4me.Manager", target, introspect=False)
opts = dbus.Dictionary({}, signature="sv")
if what == "build":
    st["t0"] = time.monotonic()
    st["job"] = str(ov.Build(opts, dbus_interface="org.left4me.Overlay", timeout=60))
else:
    fd = os.open(sys.argv[3], os.O_RDONLY)
    st["t0"] = time.monotonic()
    st["job"] = str(ov.ImportArchive(dbus.types.UnixFd(fd), opts, dbus_interface="org.left4me.Overlay", timeout=60))
    os.close(fd)
GLib.timeout_add(3600 * 1000, loop.quit)
loop.run()
print("%.3f %s %s" % (st.get("t1", time.monotonic()) - st["t0"], st.get("result", "timeout"), st["job"]))
PY
}

# The overlays and jobs belong to user l4mbench (group left4me), so that
# the bus benchmark's 1000 overlays of root do not count against them.
BT_USER=l4mbench

bt_as() {
        as_user "$BT_USER" "$@"
}

bt_job() {
        bt_as /usr/bin/python3 -c "$(bt_job_py)" "$@"
}

bt_create_overlay() {
        bt_as busctl call org.left4me.Manager /org/left4me/Manager org.left4me.Manager \
                CreateOverlay 'ssa{sv}' "$1" "$2" 0 | sed 's/^o "\(.*\)"$/\1/'
}

# Ends the fixture if it runs (also from the caller's exit trap).
bt_cleanup() {
        local pidfile=${CTR_DIR:-/nonexistent}/state/bench/fixture.pid
        if [[ -s $pidfile ]] && ctr_alive; then
                in_container kill "$(<"$pidfile")" 2>/dev/null || true
                rm -f "$pidfile"
        fi
}

bt_stats() {
        in_container curl -sS "$BT_URL/_stats" | python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"
}

bench_transfers() {
        local port ov ids secs result t0 t1 curl_ns hwm0 hwm rebuild_s zip zipsize i best_curl
        echo
        echo "--- transfers: $BENCH_ITEMS Workshop items of about $BENCH_ITEM_BYTES bytes, MaxParallel $BENCH_PARALLEL; a ${BENCH_ZIP_MB} MiB zip"
        in_container mkdir -p "$BENCH_DIR" "$BENCH_TOOLS"
        in_container chmod 0755 "$BENCH_DIR"
        in_container getent passwd "$BT_USER" >/dev/null ||
                in_container useradd -m -U -s /bin/bash -G left4me "$BT_USER"
        install -m 0755 "$L4M_SRCDIR/tests/fixtures/fake-steam-api.py" "$CTR_DIR/root$BENCH_TOOLS/fake-steam-api.py"

        # The fixture's items: ids 7000001…, sizes varying a little.
        python3 - "$BENCH_ITEMS" "$BENCH_ITEM_BYTES" >"$CTR_DIR/state/bench/fixture.json" <<'PY'
import json, sys
n, size = int(sys.argv[1]), int(sys.argv[2])
print(json.dumps({"items": {str(7000001 + i): {"size": size + 7 * i} for i in range(n)}}))
PY
        # Its pid (in the container) goes to a file: it is ended by that pid.
        in_container sh -c "echo \$\$ > $BENCH_DIR/fixture.pid && exec /usr/bin/python3 $BENCH_TOOLS/fake-steam-api.py \
                --listen 127.0.0.1:0 --port-file $BENCH_DIR/port --config $BENCH_DIR/fixture.json" </dev/null >/dev/null 2>&1 &
        BT_FIXTURE_PID=$!
        for _ in $(seq 100); do
                [[ -s $CTR_DIR/state/bench/port ]] && break
                sleep 0.1
        done
        port=$(<"$CTR_DIR/state/bench/port")
        BT_URL=http://127.0.0.1:$port
        in_container mkdir -p /etc/left4me/left4me.conf.d
        printf '[Steam]\nApiUrl=%s/\n[Downloads]\nMaxParallel=%s\n' "$BT_URL" "$BENCH_PARALLEL" \
                >"$CTR_DIR/root/etc/left4me/left4me.conf.d/50-bench.conf"
        in_container systemctl restart left4me.service
        in_container busctl call org.left4me.Manager /org/left4me/Manager org.freedesktop.DBus.Peer Ping >/dev/null

        # curl: the same URLs, N at a time, into files on the same file system.
        python3 - "$BENCH_ITEMS" "$BT_URL" "$BENCH_DIR/curl" >"$CTR_DIR/state/bench/curl.cfg" <<'PY'
import sys
n, url, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
for i in range(n):
    print('url = "%s/files/%d/1600000000.vpk"\noutput = "%s/%d.vpk"' % (url, 7000001 + i, out, 7000001 + i))
PY
        bt_curl() {
                in_container rm -rf "$BENCH_DIR/curl"
                in_container mkdir -p "$BENCH_DIR/curl"
                t0=$(date +%s%N)
                in_container curl --parallel --parallel-max "$BENCH_PARALLEL" --no-progress-meter --fail -K "$BENCH_DIR/curl.cfg"
                t1=$(date +%s%N)
                echo $((t1 - t0))
        }
        # Two rounds of curl then build, the cache emptied in between (the
        # overlay deleted, PruneCache); the best of each counts.
        local curl_list=() build_list=() round
        for round in 1 2; do
                curl_ns=$(bt_curl)
                curl_list+=("$curl_ns")
                in_container curl -sS -X POST -d '' "$BT_URL/_reset_stats" >/dev/null
                if [[ $round == 2 ]]; then
                        bt_as busctl call org.left4me.Manager "$ov" org.left4me.Overlay Delete >/dev/null
                        bt_as busctl call org.left4me.Manager /org/left4me/Manager org.left4me.Manager PruneCache >/dev/null
                fi
                ov=$(bt_create_overlay "bench-ws-$round" workshop)
                ids=$(seq -f "'%.0f'" 7000001 $((7000000 + BENCH_ITEMS)) | paste -sd ,)
                bt_as gdbus call --system --dest org.left4me.Manager --object-path "$ov" \
                        --method org.left4me.Overlay.SetWorkshopItems "[$ids]" >/dev/null
                bt_reset_hwm
                hwm0=$(bt_hwm_kb)
                read -r secs result _ < <(bt_job build "$ov")
                hwm=$(bt_hwm_kb)
                build_list+=("$(awk -v s="$secs" 'BEGIN { printf "%.0f", s * 1e9 }')")
                echo "round $round: curl --parallel --parallel-max $BENCH_PARALLEL $(bt_ms "$curl_ns") ms;" \
                        "Workshop build $(bt_ms "${build_list[-1]}") ms ($result, $(bt_mb "$(bt_stats "d['bytes']")") MB fetched," \
                        "$(bt_stats "d['downloads']") files); left4med peak RSS $hwm kB (reset to $hwm0 kB before)"
        done
        best_curl=$(printf '%s\n' "${curl_list[@]}" | sort -n | head -n 1)
        local best_build
        best_build=$(printf '%s\n' "${build_list[@]}" | sort -n | head -n 1)
        echo "=> Workshop build / curl (best of 2 each): $(bt_ratio "$best_build" "$best_curl")  (target <= 1.2); peak RSS $hwm kB"

        in_container curl -sS -X POST -d '' "$BT_URL/_reset_stats" >/dev/null
        read -r rebuild_s result _ < <(bt_job build "$ov")
        echo "=> no-change rebuild: $(awk -v s="$rebuild_s" 'BEGIN { printf "%.0f", s * 1000 }') ms ($result), fetched $(bt_stats "d['bytes']") bytes in $(bt_stats "d['requests']['files']") file requests, $(bt_stats "d['requests']['GetPublishedFileDetails']") details requests  (target: 0 bytes, < 1 s)"
        bt_cleanup
        wait "$BT_FIXTURE_PID" 2>/dev/null || true
        in_container rm -rf "$BENCH_DIR/curl"

        # The zip: entries of 4 MiB, alternately stored random bytes and
        # deflated bytes of a 16-symbol alphabet (about 2:1).
        zip=$BENCH_DIR/bench.zip
        t0=$(date +%s%N)
        in_container /usr/bin/python3 - "$zip" "$BENCH_ZIP_MB" <<'PY'
import os, sys, zipfile
out, mb = sys.argv[1], int(sys.argv[2])
entry = 4 << 20
table = bytes((b & 15) + 65 for b in range(256))
with zipfile.ZipFile(out, "w", allowZip64=True) as z:
    i = 0
    while os.path.getsize(out) < (mb << 20) - entry:
        if i % 2 == 0:
            z.writestr(zipfile.ZipInfo("data/stored/%05d.bin" % i), os.urandom(entry), zipfile.ZIP_STORED)
        else:
            z.writestr(zipfile.ZipInfo("data/deflated/%05d.txt" % i), os.urandom(entry).translate(table),
                       zipfile.ZIP_DEFLATED, 1)
        i += 1
        z.fp.flush()
PY
        t1=$(date +%s%N)
        zipsize=$(in_container stat -c %s "$zip")
        echo "made $zip: $(bt_mb "$zipsize") MB, $(in_container unzip -Z1 "$zip" | wc -l) entries, in $(bt_ms $((t1 - t0))) ms"

        local bsd_ns=() imp_s=() out_bytes
        for i in 1 2; do
                in_container rm -rf "$BENCH_DIR/bsdtar"
                in_container mkdir -p "$BENCH_DIR/bsdtar"
                t0=$(date +%s%N)
                in_container bsdtar -xf "$zip" -C "$BENCH_DIR/bsdtar"
                t1=$(date +%s%N)
                bsd_ns+=($((t1 - t0)))
                out_bytes=$(in_container du -sb "$BENCH_DIR/bsdtar" | cut -f1)
                in_container rm -rf "$BENCH_DIR/bsdtar"

                ov=$(bt_create_overlay "bench-zip-$i" archive)
                bt_reset_hwm
                read -r secs result _ < <(bt_job import "$ov" "$zip")
                hwm=$(bt_hwm_kb)
                imp_s+=("$secs")
                echo "run $i: bsdtar -xf $(bt_ms "${bsd_ns[-1]}") ms ($(bt_mb "$out_bytes") MB written); ImportArchive $(awk -v s="$secs" 'BEGIN { printf "%.0f", s * 1000 }') ms ($result), peak RSS $hwm kB"
                bt_as busctl call org.left4me.Manager "$ov" org.left4me.Overlay Delete >/dev/null
        done
        local best_bsd best_imp
        best_bsd=$(printf '%s\n' "${bsd_ns[@]}" | sort -n | head -n 1)
        best_imp=$(printf '%s\n' "${imp_s[@]}" | sort -n | head -n 1)
        echo "=> import / bsdtar (best of 2 each): $(bt_ratio "$(awk -v s="$best_imp" 'BEGIN { print s * 1e9 }')" "$best_bsd")  (target <= 1.25)"
        in_container rm -rf "$BENCH_DIR"
        rm -f "$CTR_DIR/root/etc/left4me/left4me.conf.d/50-bench.conf"
}
