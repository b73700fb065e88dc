# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Interrupted jobs: an import whose sender stalls (cancel, Busy, stop and
# SIGKILL of the daemon meanwhile), a Workshop build killed twice, an
# archive fetch killed mid-download, and OpenLog's reader limit.

ir_setup() {
        test_files_setup
        IR_DIR=$TF_DIR
        IR_HOST=$TF_HOST
}

# An archive overlay NAME with some content (imported); prints its path.
ir_overlay_with_content() {
        local path
        in_container sh -c "mkdir -p '$IR_DIR/base/left4dead2' && echo base > '$IR_DIR/base/left4dead2/base.txt' &&
                tar -C '$IR_DIR/base' -cf '$IR_DIR/base.tar' ."
        path=$(create_overlay root "$1" archive)
        l4mbus root import "$path" "$IR_DIR/base.tar" >&2
        expect_ok "ImportArchive of base.tar" >&2
        job_wait "$(job_path_from_output)" >&2
        expect_job succeeded "import of base.tar" >&2
        printf '%s\n' "$path"
}

# stalled_import OVERLAY-PATH: starts, as a background process of the test,
# an ImportArchive from a pipe that gets the first 300 kB of a 2 MiB tar and
# then nothing, its write end held open. Sets FEEDER and JOB.
stalled_import() {
        rm -f "$IR_HOST/feeder.job"
        pybus root "$1" "$IR_DIR/feeder.job" >"$L4M_WORK/feeder.log" 2>&1 <<'PY' &
import io, os, sys, tarfile, time
ov, out = sys.argv[1], sys.argv[2]
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    ti = tarfile.TarInfo("left4dead2/big.bin")
    ti.size = 2 << 20
    t.addfile(ti, io.BytesIO(os.urandom(2 << 20)))
data = buf.getvalue()
r, w = os.pipe()
job = call(ov, OVERLAY_IF, "ImportArchive", dbus.types.UnixFd(r), dbus.Dictionary({}, signature="sv"))
os.close(r)
os.write(w, data[:300000])
with open(out + ".tmp", "w") as f:
    f.write(str(job) + "\n")
os.rename(out + ".tmp", out)
time.sleep(300)
PY
        FEEDER=$!
        wait_until 15 test -s "$IR_HOST/feeder.job" || fail "the stalled import did not start: $(cat "$L4M_WORK/feeder.log")"
        JOB=$(<"$IR_HOST/feeder.job")
        wait_until 5 job_is_running "$JOB" || fail "the import job is not running"
}

job_is_running() {
        [[ $(job_prop "$1" State) == running ]]
}

no_staging_left() {
        ! in_container find "$L4M_OVERLAYS" -mindepth 1 -maxdepth 1 -name '.*' | grep -q .
}

test_arch_cancel_stalled_pipe() {
        local path ov before t0 t1
        ir_setup
        path=$(ir_overlay_with_content ir-cancel)
        ov=$(id_of_path "$path")
        before=$(in_container find "$L4M_OVERLAYS/$ov" -printf '%P %y %s\n' | LC_ALL=C sort)
        stalled_import "$path"
        sleep 0.5
        assert_eq running "$(job_prop "$JOB" State)" "the import while its sender stalls"

        l4mbus root import "$path" "$IR_DIR/base.tar"
        expect_dbus_error org.left4me.Error.Busy "a second ImportArchive while one runs"
        gcall root "$path" org.left4me.Overlay.Delete
        expect_dbus_error org.left4me.Error.Busy "Delete() while an import runs"

        t0=$(date +%s%N)
        gcall root "$JOB" org.left4me.Job.Cancel
        expect_ok "Cancel() of the stalled import"
        job_wait "$JOB" 10
        t1=$(date +%s%N)
        expect_job cancelled "the stalled import"
        note "a stalled import was cancelled in $(((t1 - t0) / 1000000)) ms"
        assert_eq "$before" "$(in_container find "$L4M_OVERLAYS/$ov" -printf '%P %y %s\n' | LC_ALL=C sort)" \
                "the overlay after the cancelled import"
        wait_until 5 no_staging_left || fail "a staging directory is left in overlays/: $(in_container ls -A "$L4M_OVERLAYS")"
        assert_eq ready "$(ov_prop "$path" State)" "overlay state after the cancelled import"
        kill_test_child "$FEEDER"
}
l4m_test archive-cancel-stalled-pipe test_arch_cancel_stalled_pipe

test_arch_stop_during_import() {
        local path ov before t0 t1 result
        ir_setup
        path=$(ir_overlay_with_content ir-stop)
        ov=$(id_of_path "$path")
        before=$(in_container find "$L4M_OVERLAYS/$ov" -printf '%P %y %s\n' | LC_ALL=C sort)
        stalled_import "$path"

        t0=$(date +%s%N)
        capture in_container systemctl stop left4me.service
        t1=$(date +%s%N)
        expect_ok "systemctl stop left4me during a stalled import"
        result=$(unit_prop Result)
        note "systemctl stop during a stalled import took $(((t1 - t0) / 1000000)) ms (Result=$result)"
        (((t1 - t0) < 10000000000)) || fail "stopping took $(((t1 - t0) / 1000000)) ms: the import held the daemon up"
        [[ $result == success ]] || fail "left4me did not stop cleanly: Result=$result"
        reset_start_limit
        daemon_up
        job_wait "$JOB" 10
        expect_job failed "the import interrupted by the stop"
        [[ $JOB_MSG == *restart* || $JOB_MSG == *nterrupted* ]] || fail "unclear message: $JOB_MSG"
        assert_eq "$before" "$(in_container find "$L4M_OVERLAYS/$ov" -printf '%P %y %s\n' | LC_ALL=C sort)" \
                "the overlay after the interrupted import"
        no_staging_left || fail "a staging directory is left in overlays/: $(in_container ls -A "$L4M_OVERLAYS")"
        [[ $(ov_prop "$path" State) != building ]] || fail "the overlay is still 'building'"
        kill_test_child "$FEEDER"
}
l4m_test archive-stop-during-import test_arch_stop_during_import

test_arch_kill9_during_import() {
        local path ov before pid
        ir_setup
        path=$(ir_overlay_with_content ir-kill)
        ov=$(id_of_path "$path")
        before=$(in_container find "$L4M_OVERLAYS/$ov" -printf '%P %y %s\n' | LC_ALL=C sort)
        stalled_import "$path"
        pid=$(unit_prop MainPID)
        capture in_container kill -KILL "$pid"
        expect_ok "kill -KILL $pid"
        wait_until 20 mainpid_changed_from "$pid" || true
        reset_start_limit
        daemon_up
        job_wait "$JOB" 15
        expect_job failed "the import interrupted by SIGKILL"
        [[ $JOB_MSG == *restart* ]] || fail "unclear message: $JOB_MSG"
        note "import after SIGKILL: $JOB_MSG"
        assert_eq "$before" "$(in_container find "$L4M_OVERLAYS/$ov" -printf '%P %y %s\n' | LC_ALL=C sort)" \
                "the overlay after the interrupted import"
        no_staging_left || fail "a staging directory is left in overlays/: $(in_container ls -A "$L4M_OVERLAYS")"
        assert_eq failed "$(ov_prop "$path" State)" "overlay state after the interrupted import"
        kill_test_child "$FEEDER"
}
l4m_test archive-kill9-during-import test_arch_kill9_during_import

fx_stalled_times() {
        local n
        n=$(fx_stats "d['items'].get('$1', {}).get('stalled', 0)")
        ((n >= $2))
}

test_ws_kill9_twice() {
        local path ov pid attempts
        daemon_up
        fixture_start '{"items": {
          "82102": {"size": 300000, "stall_seconds": 60, "stall_after": 1000, "stall_times": 5}}}'
        path=$(ws_new ws-kill-twice 82102)
        ov=$(id_of_path "$path")
        ov_build "$path"
        for n in 1 2; do
                wait_until 20 fx_stalled_times 82102 "$n" || fail "attempt $n never reached the stall"
                pid=$(unit_prop MainPID)
                step "SIGKILL $n to left4med ($pid)"
                capture in_container kill -KILL "$pid"
                expect_ok "kill -KILL $pid"
                wait_until 20 mainpid_changed_from "$pid" || true
                reset_start_limit
                daemon_up
        done
        job_wait "$JOB" 20
        attempts=$(sql "SELECT attempts FROM jobs WHERE id = $(job_id_of "$JOB");")
        expect_job failed "a build interrupted twice"
        [[ $JOB_MSG == *restart* ]] || fail "unclear message: $JOB_MSG"
        note "after two kills: $JOB_MSG (attempts $attempts)"
        assert_eq failed "$(ov_prop "$path" State)" "overlay state"
        in_container find "$L4M_OVERLAYS" -name '*.part' | grep -q . && fail ".part files in overlays/"
        return 0
}
l4m_test ws-kill9-twice test_ws_kill9_twice 120

# A plain HTTP server in the container whose first GET of any file sends
# the first 100 kB and then stalls for a minute; sets HTTP_URL.
stalling_http_serve() {
        in_container "$L4M_PY" - "$1" "$1/.port" </dev/null >"$L4M_WORK/http.log" 2>&1 <<'PY' &
import http.server, os, sys, threading, time
d, pf = sys.argv[1], sys.argv[2]
state = {"gets": 0}
lock = threading.Lock()

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with lock:
            state["gets"] += 1
            first = state["gets"] == 1
        path = os.path.join(d, os.path.basename(self.path))
        try:
            data = open(path, "rb").read()
        except OSError:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if first:
            self.wfile.write(data[:100000])
            self.wfile.flush()
            time.sleep(60)
            return
        self.wfile.write(data)

srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
with open(pf + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(pf + ".tmp", pf)
srv.serve_forever()
PY
        wait_until 10 test -s "$CTR_DIR/root$1/.port" || fail "the HTTP server did not start: $(cat "$L4M_WORK/http.log")"
        HTTP_URL=http://127.0.0.1:$(<"$CTR_DIR/root$1/.port")
}

download_started() {
        in_container find "$L4M_OVERLAYS" -maxdepth 1 -name '.download-*' -size +50k | grep -q .
}

test_arch_fetch_kill9() {
        local path ov pid attempts sha
        ir_setup
        in_container sh -c "mkdir -p '$IR_DIR/www' '$IR_DIR/src/left4dead2' && head -c 500000 /dev/urandom > '$IR_DIR/src/left4dead2/f.bin' &&
                tar -C '$IR_DIR/src' -cf '$IR_DIR/www/f.tar' left4dead2"
        stalling_http_serve "$IR_DIR/www"
        sha=$(in_container sha256sum "$IR_DIR/www/f.tar" | cut -d' ' -f1)
        path=$(create_overlay root ir-fetch archive)
        ov=$(id_of_path "$path")
        gcall root "$path" org.left4me.Overlay.SetArchiveSource "$(gv_str "$HTTP_URL/f.tar")" "$(gv_str "sha256:$sha")"
        expect_ok SetArchiveSource
        ov_build "$path"
        wait_until 15 download_started || fail "the fetch never started writing"
        pid=$(unit_prop MainPID)
        capture in_container kill -KILL "$pid"
        expect_ok "kill -KILL $pid"
        wait_until 20 mainpid_changed_from "$pid" || true
        reset_start_limit
        daemon_up
        job_wait "$JOB" 30
        attempts=$(sql "SELECT attempts FROM jobs WHERE id = $(job_id_of "$JOB");")
        note "archive fetch after SIGKILL: $JOB_STATE after $attempts attempt(s): $JOB_MSG"
        case $JOB_STATE in
        succeeded)
                assert_eq 2 "$attempts" "attempts"
                assert_eq "$(in_container sha256sum "$IR_DIR/src/left4dead2/f.bin" | cut -d' ' -f1)" \
                        "$(in_container sha256sum "$L4M_OVERLAYS/$ov/left4dead2/f.bin" | cut -d' ' -f1)" "f.bin in the overlay"
                ;;
        failed) [[ $JOB_MSG == *restart* ]] || fail "unclear message: $JOB_MSG" ;;
        *) fail "the fetch ended $JOB_STATE" ;;
        esac
        no_staging_left || fail "files left in overlays/: $(in_container ls -A "$L4M_OVERLAYS")"
}
l4m_test archive-fetch-kill9 test_arch_fetch_kill9 90

test_jobs_log_reader_limit() {
        local path res
        daemon_up
        fixture_start '{"items": {"82201": {"size": 200000, "stall_seconds": 30, "stall_after": 1000}}}'
        path=$(ws_new jobs-readers 82201)
        ov_build "$path"
        wait_until 15 fx_stalled_times 82201 1 || fail "the download never stalled"
        res=$(pybus root "$JOB" <<'PY'
import json, os, sys, time
job = sys.argv[1]
out = {}
fds = []
try:
    for i in range(64):
        fds.append(open_log(job, True))
    out["opened"] = len(fds)
    try:
        fds.append(open_log(job, True))
        out["65th"] = "ok"
    except dbus.exceptions.DBusException as e:
        out["65th"] = e.get_dbus_name()
    for fd in fds:
        read_fd(fd, timeout=0.05, until_eof=False)
        os.close(fd)
    fds = []
    # The job writes nothing meanwhile (it is stalled): readers that went
    # away must not keep their places.
    deadline = time.monotonic() + 5
    while True:
        try:
            fd = open_log(job, True)
            os.close(fd)
            out["after_close"] = "ok"
            break
        except dbus.exceptions.DBusException as e:
            out["after_close"] = e.get_dbus_name()
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
except dbus.exceptions.DBusException as e:
    out["error"] = "%s: %s" % (e.get_dbus_name(), e.get_dbus_message())
print(json.dumps(out))
PY
        ) || fail "the reader script failed"
        step "readers: $res"
        gcall root "$JOB" org.left4me.Job.Cancel
        job_wait "$JOB" 15
        assert_eq 64 "$(json "d.get('opened')" <<<"$res")" "follow readers opened at once"
        assert_eq org.left4me.Error.Busy "$(json "d.get('65th')" <<<"$res")" "the 65th OpenLog"
        assert_eq ok "$(json "d.get('after_close')" <<<"$res")" \
                "OpenLog after the 64 readers closed their pipes (the job wrote nothing meanwhile)"
}
l4m_test jobs-log-reader-limit test_jobs_log_reader_limit

test_ws_cancel_during_api() {
        local path t0 t1
        daemon_up
        fixture_start '{"items": {"82501": {}}, "collections": {"82590": [82501]},
                        "endpoints": {"GetCollectionDetails": {"stall_seconds": 30}}}'
        path=$(ws_new ws-cancel-api 82590)
        ov_build "$path"
        wait_until 10 api_asked GetCollectionDetails || fail "the build never asked for the collection"
        assert_eq running "$(job_prop "$JOB" State)" "the build while the API stalls"
        t0=$(date +%s%N)
        gcall root "$JOB" org.left4me.Job.Cancel
        expect_ok "Cancel() while waiting for the Steam API"
        job_wait "$JOB" 10
        t1=$(date +%s%N)
        expect_job cancelled "the build cancelled while waiting for the API"
        note "cancelled while waiting for the Steam API in $(((t1 - t0) / 1000000)) ms"
        assert_eq empty "$(ov_prop "$path" State)" "state of the never-built overlay after the cancel"
}
l4m_test ws-cancel-during-api test_ws_cancel_during_api

api_asked() {
        local n
        n=$(fx_stats "d['requests']['$1']")
        ((n >= 1))
}
