# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The job engine: ListJobs/GetJob, JobNew/JobRemoved, OpenLog with and
# without follow, who may cancel, [Jobs] MaxRunning and RetainDays.

# jobs_setup: left4me running; JB_DIR (container) / JB_HOST (host) for files.
jobs_setup() {
        test_files_setup
        JB_DIR=$TF_DIR
        JB_HOST=$TF_HOST
}

# small_import NAME: imports a small tar into a new archive overlay NAME as
# root and waits; JOB is the job.
small_import() {
        local path
        in_container sh -c "mkdir -p '$JB_DIR/t-$1' && echo '$1' > '$JB_DIR/t-$1/f.txt' &&
                tar -C '$JB_DIR/t-$1' -cf '$JB_DIR/$1.tar' ."
        path=$(create_overlay root "$1" archive)
        l4mbus root import "$path" "$JB_DIR/$1.tar"
        expect_ok "ImportArchive into $1"
        JOB=$(job_path_from_output)
        job_wait "$JOB"
        expect_job succeeded "import into $1"
}

fx_stalled_item() {
        local n
        n=$(fx_stats "d['items'].get('$1', {}).get('stalled', 0)")
        ((n >= 1))
}

test_jobs_list_get() {
        local id row
        jobs_setup
        small_import jobs-list
        id=$(job_id_of "$JOB")
        capture in_container busctl --json=short call "$L4M_BUS" "$L4M_MANAGER" org.left4me.Manager ListJobs
        expect_ok ListJobs
        row=$(json "next((j for j in d['data'][0] if j[0] == $id), None)" <<<"$OUT")
        [[ $row != null ]] || fail "job $id is not in ListJobs"
        assert_eq "[$id, \"archive-import\", \"overlay:$(row_id jobs-list)\", \"root\", \"succeeded\", 1.0, \"$JOB\"]" \
                "$row" "job $id in ListJobs"
        assert_eq true "$(json "[j[0] for j in d['data'][0]] == sorted(j[0] for j in d['data'][0])" <<<"$OUT")" \
                "ListJobs is ordered by id"

        gcall mallory "$L4M_MANAGER" org.left4me.Manager.GetJob "uint64 $id"
        expect_ok "mallory: GetJob($id)"
        [[ $OUT == *"'$JOB'"* ]] || fail "GetJob($id) answered $OUT, not $JOB"
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetJob "uint64 999999999"
        expect_dbus_error org.left4me.Error.NotFound "GetJob(999999999)"
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetJob "uint64 0"
        expect_dbus_error org.left4me.Error.NotFound "GetJob(0)"

        capture in_container busctl --json=short call "$L4M_BUS" "$JOB" org.freedesktop.DBus.Properties GetAll s org.left4me.Job
        expect_ok "GetAll of the job"
        local props
        props=$OUT
        assert_eq "$id archive-import root succeeded 1.0" \
                "$(json "' '.join(str(d['data'][0][k]['data']) for k in ('Id', 'Kind', 'Owner', 'State', 'Progress'))" <<<"$props")" \
                "Id, Kind, Owner, State, Progress of the job"
        json "(lambda p: 0 < p['Created'] <= p['Started'] <= p['Finished'])({k: v['data'] for k, v in d['data'][0].items()})" \
                <<<"$props" | grep -qx true || fail "Created <= Started <= Finished does not hold: $props"
        [[ $(json "d['data'][0]['Message']['data']" <<<"$props") == Imported* ]] || fail "unexpected Message: $props"
}
l4m_test jobs-list-get test_jobs_list_get

test_jobs_signals() {
        local path res
        jobs_setup
        in_container sh -c "mkdir -p '$JB_DIR/t' && echo x > '$JB_DIR/t/x' && tar -C '$JB_DIR/t' -cf '$JB_DIR/x.tar' ."
        path=$(create_overlay root jobs-signals archive)
        res=$(pybus root "$path" "$JB_DIR/x.tar" <<'PY'
import json, os, sys
from gi.repository import GLib
b = bus(mainloop=True)
ov, archive = sys.argv[1], sys.argv[2]
seen = {"new": [], "removed": [], "added": []}
loop = GLib.MainLoop()
b.add_signal_receiver(lambda i, p: seen["new"].append([int(i), str(p)]), "JobNew", MANAGER_IF, BUS, MGR)

def removed(i, p, r):
    seen["removed"].append([int(i), str(p), str(r)])
    GLib.timeout_add(200, loop.quit)
b.add_signal_receiver(removed, "JobRemoved", MANAGER_IF, BUS, MGR)
b.add_signal_receiver(lambda p, ifs: seen["added"].append([str(p), sorted(str(k) for k in ifs)]),
                      "InterfacesAdded", "org.freedesktop.DBus.ObjectManager", BUS, MGR)
fd = os.open(archive, os.O_RDONLY)
seen["job"] = str(call(ov, OVERLAY_IF, "ImportArchive", dbus.types.UnixFd(fd), dbus.Dictionary({}, signature="sv")))
os.close(fd)
GLib.timeout_add(30000, loop.quit)
loop.run()
print(json.dumps(seen))
PY
        ) || fail "the signal monitor failed"
        step "signals: $res"
        local job id
        job=$(json "d['job']" <<<"$res")
        id=$(job_id_of "$job")
        assert_eq "[[$id, \"$job\"]]" "$(json "[x for x in d['new'] if x[1] == '$job']" <<<"$res")" "JobNew for the import"
        assert_eq "[[$id, \"$job\", \"succeeded\"]]" "$(json "[x for x in d['removed'] if x[1] == '$job']" <<<"$res")" \
                "JobRemoved for the import"
        assert_eq '[["org.left4me.Job"]]' "$(json "[[i for i in x[1] if not i.startswith('org.freedesktop')] for x in d['added'] if x[0] == '$job']" <<<"$res")" \
                "InterfacesAdded for the job object"
        delete_overlay root "$path"
}
l4m_test jobs-signals test_jobs_signals

test_jobs_openlog() {
        local path res file
        jobs_setup
        small_import jobs-log
        # Without follow: the whole log, as in jobs/<id>.log.
        l4mbus root log "$JOB" --timeout 10
        expect_ok "OpenLog(false) of a finished job"
        file=$(job_log_text "$JOB")
        assert_eq "$file" "$OUT" "OpenLog(false) against jobs/$(job_id_of "$JOB").log"
        grep -q '^Started (attempt 1)\.$' <<<"$OUT" || fail "the log lacks 'Started (attempt 1).'"
        grep -q '^Finished: succeeded: ' <<<"$OUT" || fail "the log lacks its 'Finished: succeeded' line"
        l4mbus alice log "$JOB" --timeout 10
        expect_dbus_error org.freedesktop.DBus.Error.InteractiveAuthorizationRequired "alice: OpenLog of root's job"

        # With follow, on a running build: what comes after opening arrives,
        # and the pipe ends when the job does.
        fixture_start '{"items": {"81701": {"size": 200000, "stall_seconds": 3, "stall_after": 50000}}}'
        path=$(ws_new jobs-follow 81701)
        ov_build "$path"
        wait_until 15 fx_stalled_item 81701 || fail "the download never stalled"
        res=$(pybus root "$JOB" <<'PY'
import json, sys, time
job = sys.argv[1]
fd = open_log(job, True)
first, _ = read_fd(fd, timeout=0.5, until_eof=False)
state_at_open = str(prop(job, JOB_IF, "State"))
rest, eof = read_fd(fd, timeout=30)
print(json.dumps({"first": first.decode(), "rest": rest.decode(), "eof": eof, "state_at_open": state_at_open,
                  "state_at_eof": str(prop(job, JOB_IF, "State"))}))
PY
        ) || fail "the follow reader failed"
        step "follow: $res"
        assert_eq running "$(json "d['state_at_open']" <<<"$res")" "job state when the log was opened"
        json "'Item 81701: downloaded' not in d['first']" <<<"$res" | grep -qx true ||
                fail "the download had finished before the log was opened: the test proves nothing"
        json "'Item 81701: downloaded (200000 bytes).' in d['rest']" <<<"$res" | grep -qx true ||
                fail "a line written after OpenLog(true) did not arrive: $(json "d['rest']" <<<"$res")"
        json "'Finished: succeeded' in d['rest']" <<<"$res" | grep -qx true || fail "the Finished line did not arrive"
        assert_eq true "$(json "d['eof']" <<<"$res")" "the followed log ends (EOF) when the job ends"
        assert_eq succeeded "$(json "d['state_at_eof']" <<<"$res")" "job state at EOF"
        assert_eq "$(job_log_text "$JOB")" "$(json "d['first'] + d['rest']" <<<"$res")" \
                "everything read from the followed log against the log file"
}
l4m_test jobs-openlog test_jobs_openlog

test_jobs_cancel_permissions() {
        local path job mine
        jobs_setup
        fixture_start '{"items": {"81801": {"size": 200000, "stall_seconds": 30, "stall_after": 1000},
                                  "81802": {"size": 200000, "stall_seconds": 30, "stall_after": 1000}}}'
        path=$(ws_new jobs-cancel 81801)
        ov_build "$path"
        job=$JOB
        wait_until 15 fx_stalled_item 81801 || fail "the download never stalled"

        gcall alice "$job" org.left4me.Job.Cancel
        expect_dbus_error org.freedesktop.DBus.Error.InteractiveAuthorizationRequired "alice: Cancel of root's job"
        gcall alice -i "$job" org.left4me.Job.Cancel
        expect_dbus_error org.freedesktop.DBus.Error.AccessDenied "alice: Cancel of root's job, interactive"
        gcall mallory "$job" org.left4me.Job.Cancel
        expect_dbus_error org.freedesktop.DBus.Error.InteractiveAuthorizationRequired "mallory: Cancel of root's job"
        assert_eq running "$(job_prop "$job" State)" "root's job after the refused cancels"

        gcall carol "$job" org.left4me.Job.Cancel
        expect_ok "carol (left4me-admin): Cancel of root's job"
        job_wait "$job" 15
        expect_job cancelled "root's job cancelled by carol"
        gcall root "$job" org.left4me.Job.Cancel
        expect_dbus_error org.left4me.Error.InvalidArgument "Cancel of a finished job"

        # alice cancels her own.
        mine=$(create_overlay alice jobs-cancel-alice workshop)
        gcall alice "$mine" org.left4me.Overlay.SetWorkshopItems "['81802']"
        expect_ok "alice: SetWorkshopItems on her overlay"
        gcall alice "$mine" org.left4me.Overlay.Build '{}'
        expect_ok "alice: Build of her overlay"
        JOB=$(job_path_from_output)
        assert_eq alice "$(job_prop "$JOB" Owner)" "Owner of alice's job"
        wait_until 15 fx_stalled_item 81802 || fail "alice's download never stalled"
        gcall bob "$JOB" org.left4me.Job.Cancel
        expect_dbus_error org.freedesktop.DBus.Error.InteractiveAuthorizationRequired "bob: Cancel of alice's job"
        gcall alice "$JOB" org.left4me.Job.Cancel
        expect_ok "alice: Cancel of her own job"
        job_wait "$JOB" 15
        expect_job cancelled "alice's job"
        delete_overlay alice "$mine"
        delete_overlay root "$path"
}
l4m_test jobs-cancel-permissions test_jobs_cancel_permissions

remove_jobs_dropin() {
        l4m_conf_remove 60-jobs || true
}

test_jobs_max_running() {
        local a b c job_a job_b job_c st_a fin_a start_b
        jobs_setup
        # The first build stalls long enough for the eight calls below to
        # see it running, even when each takes a while on a loaded machine.
        fixture_start '{"items": {"81901": {"size": 100000, "stall_seconds": 6, "stall_after": 1000},
                                  "81902": {"size": 100000, "stall_seconds": 2, "stall_after": 1000}}}'
        trap remove_jobs_dropin EXIT
        l4m_conf 60-jobs "[Jobs]
MaxRunning=1"
        a=$(ws_new jobs-max-a 81901)
        b=$(ws_new jobs-max-b 81902)
        c=$(ws_new jobs-max-c 81902)
        ov_build "$a"
        job_a=$JOB
        ov_build "$b"
        job_b=$JOB
        ov_build "$c"
        job_c=$JOB
        sleep 1
        st_a=$(job_prop "$job_a" State)
        assert_eq running "$st_a" "the first job's state"
        assert_eq queued "$(job_prop "$job_b" State)" "the second job's state while the first runs (MaxRunning=1)"
        assert_eq queued "$(job_prop "$job_c" State)" "the third job's state"

        # A queued job: Delete of its overlay is Busy; Cancel ends it at once.
        gcall root "$c" org.left4me.Overlay.Delete
        expect_dbus_error org.left4me.Error.Busy "Delete() of an overlay with a queued job"
        gcall root "$job_c" org.left4me.Job.Cancel
        expect_ok "Cancel() of the queued job"
        assert_eq cancelled "$(job_prop "$job_c" State)" "the queued job right after Cancel()"
        assert_eq 0 "$(job_prop "$job_c" Started)" "Started of the job cancelled while queued"
        assert_eq running "$(job_prop "$job_a" State)" "the first job after the third was cancelled"
        job_wait "$job_a" 30
        expect_job succeeded "the first build"
        job_wait "$job_b" 30
        expect_job succeeded "the second build"
        fin_a=$(job_prop "$job_a" Finished)
        start_b=$(job_prop "$job_b" Started)
        ((start_b >= fin_a)) || fail "the second job started ($start_b) before the first finished ($fin_a)"
        note "second job started $(((start_b - fin_a) / 1000)) ms after the first finished"
}
l4m_test jobs-max-running test_jobs_max_running

test_jobs_retain_prune() {
        local id ids n
        jobs_setup
        small_import jobs-retain
        id=$(job_id_of "$JOB")
        ids=$(sql "SELECT id FROM jobs WHERE state IN ('succeeded', 'failed', 'cancelled') ORDER BY id;")
        [[ -n $ids ]] || fail "no finished jobs before the restart"
        in_container test -f "$L4M_JOBS/$id.log" || fail "jobs/$id.log does not exist before the restart"

        trap remove_jobs_dropin EXIT
        l4m_conf 60-jobs "[Jobs]
RetainDays=0"
        daemon_stop
        daemon_up
        n=$(sql "SELECT count(*) FROM jobs WHERE state IN ('succeeded', 'failed', 'cancelled');")
        assert_eq 0 "$n" "finished job rows after a restart with RetainDays=0"
        for id in $ids; do
                in_container test ! -e "$L4M_JOBS/$id.log" || fail "jobs/$id.log is still there after pruning"
        done
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetJob "uint64 $id"
        expect_dbus_error org.left4me.Error.NotFound "GetJob($id) after pruning"
        capture in_container busctl --json=short call "$L4M_BUS" "$L4M_MANAGER" org.left4me.Manager ListJobs
        expect_ok ListJobs
        assert_eq 0 "$(json "len([j for j in d['data'][0] if j[4] in ('succeeded', 'failed', 'cancelled')])" <<<"$OUT")" \
                "finished jobs listed after pruning"
        note "pruned $(wc -w <<<"$ids") finished job(s)"
        remove_jobs_dropin
        trap - EXIT
}
l4m_test jobs-retain-prune test_jobs_retain_prune

test_jobs_log_bounded() {
        local path cfg size first last log
        jobs_setup
        # 4 collections of 4500 items Steam calls removed: a line each, more
        # than 1 MiB of log in all.
        cfg=$(python3 -c '
import json
colls = {str(8300000 + c): [str(9000000 + c * 4500 + i) for i in range(4500)] for c in range(4)}
print(json.dumps({"items": {}, "collections": colls}))')
        fixture_start "$cfg"
        path=$(ws_new jobs-biglog 8300000 8300001 8300002 8300003)
        ov_build_wait "$path" 90
        expect_job failed "a build where none of 18000 items is usable"
        size=$(in_container stat -c %s "$L4M_JOBS/$(job_id_of "$JOB").log")
        log=$(job_log_text "$JOB")
        first=$(sed -n 1p <<<"$log")
        last=$(tail -n 1 <<<"$log")
        note "log of 18000 unusable items: $size bytes; first line: $first"
        ((size <= 1024 * 1024 + 4096)) || fail "the job log is $size bytes, more than about 1 MiB"
        [[ $first == *"bytes of earlier output dropped"* ]] || fail "the cut log does not start with a marker: $first"
        [[ $last == "Finished: failed: "* ]] || fail "the log does not end with its Finished line: $last"
        grep -q '^Item 9017999: not used: removed' <<<"$log" || fail "the last item's line is not in the log"
        l4mbus root log "$JOB" --timeout 10
        expect_ok "OpenLog(false) of the cut log"
        # The reader says "[… N bytes of output dropped …]" where the file
        # says "… of earlier output …": the same N, the same lines after it.
        [[ $(sed -n 1p <<<"$OUT") =~ ^\[…\ ${first//[^0-9]/}\ bytes\ of\ (earlier\ )?output\ dropped\ …\]$ ]] ||
                fail "OpenLog(false) does not start with the marker of the cut log: $(sed -n 1p <<<"$OUT")"
        if [[ $(sed 1d <<<"$OUT") != "$(sed 1d <<<"$log")" ]]; then
                local d
                d=$(diff <(printf '%s\n' "$log") <(printf '%s\n' "$OUT") || true)
                fail "OpenLog(false) differs from the log file: $(head -n 6 <<<"$d" | paste -sd ' ')"
        fi
}
l4m_test jobs-log-bounded test_jobs_log_bounded 120
