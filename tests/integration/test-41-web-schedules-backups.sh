# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# left4me-web's routes for schedules, backups and overlay export
# (web-bridge/API.md) against the real daemon, over HTTP as web accounts of
# role user: a schedule created (an invalid calendar refused with
# systemd's reason), listed, read, disabled, enabled, run (skipped while
# the server is stopped, an RCON command while it runs), followed on
# /api/events, deleted, its target deleted (TargetMissing, a failed run);
# a backup taken as a job, listed, downloaded (the bytes are the backup
# file's, streamed: the bridge's peak memory stays far below a large
# backup's size), refused to the other account, restored (refused while
# running), uploaded to another instance and restored there, a hostile
# upload refused, deleted; an archive overlay's content exported and
# imported again into another overlay. Instances run tests/fixtures/
# fake-srcds.py (test-23-instances.sh).

# shellcheck source=web-http.sh
source "$(dirname "${BASH_SOURCE[0]}")/web-http.sh"

SEC_CONF=80-web-schedules-backups
SEC_PW=correct-horse-battery-staple
SEC_A=wsb-alice
SEC_B=wsb-bob
SEC_W=wsb-wendy

# wsb_setup: the daemon, the fake installation, the accounts and A's
# archive overlay wsb-ov (imported over HTTP) and blueprint wsb-bp.
wsb_setup() {
        local tar
        # shellcheck source=test-23-instances.sh
        source "$(dirname "${BASH_SOURCE[0]}")/test-23-instances.sh"
        sec_setup
        ins_setup
        trap 'sec_remove_entities wsb-; sec_cleanup' EXIT
        sec_remove_entities wsb-
        sec_login a "$SEC_A"
        sec_login b "$SEC_B"

        tar=$(sec_tar wsb 1)
        sec_archive_overlay a wsb-ov "$tar"
        sec_api a POST /api/blueprints '{"name":"wsb-bp","overlays":["wsb-ov"],"options":{}}'
        expect_http 201 "A creates blueprint wsb-bp"
}

# wsb_instance NAME PORT: A's instance NAME of blueprint wsb-bp.
wsb_instance() {
        sec_api a POST /api/instances "{\"name\":\"$1\",\"blueprint\":\"wsb-bp\",\"options\":{\"port\":$2}}"
        expect_http 201 "A creates instance $1"
}

# wsb_control NAME start|stop: over HTTP, then waits for the state.
wsb_control() {
        sec_api a POST "/api/instances/$1/$2" '{}'
        expect_http 200 "A: $2 $1"
        if [[ $2 == start ]]; then
                ins_wait_state "$1" running 60
        else
                wait_until 60 ins_stopped "$1" || fail "$1 did not stop"
        fi
}

# wsb_write NAME SHELL-COMMANDS: runs the commands (as root) in running
# instance NAME's merged tree: what they write lands in its upper/.
wsb_write() {
        in_container sh -ec "cd '$L4M_RUNTIME/$1/merged' && $2"
}

# wsb_field JSON-EXPRESSION: of the last answer's body (d).
wsb_field() {
        json "$1" <<<"$HTTP_BODY"
}

# wsb_schedule_until NAME PYTHON-CONDITION [SECONDS]: polls GET
# /api/schedules/NAME (as A) until the condition on d holds.
wsb_schedule_until() {
        local i
        for ((i = 0; i < ${3:-20} * 5; i++)); do
                sec_http a GET "/api/schedules/$1" 2>/dev/null
                if [[ $HTTP_CODE == 200 && $(wsb_field "bool($2)") == true ]]; then
                        return 0
                fi
                sleep 0.2
        done
        fail "schedule $1: not ($2) after ${3:-20}s: $HTTP_CODE $HTTP_BODY"
}

# --- schedules ------------------------------------------------------------

test_web_schedules() {
        local now events id
        wsb_setup
        wsb_instance wsb-in 27091
        wsb_instance wsb-in2 27092

        step "an invalid calendar is refused with systemd's reason, and leaves nothing"
        sec_api a POST /api/schedules '{"name":"wsb-bad","calendar":"not a calendar","action":"restart","target":"wsb-in","options":{}}'
        expect_http_error 400 org.left4me.Error.InvalidArgument "a schedule with an invalid calendar"
        [[ -n $(wsb_field 'd["message"]') ]] || fail "the refusal carries no reason: $HTTP_BODY"
        sec_http a GET /api/schedules/wsb-bad
        expect_http 404 "the refused schedule"

        step "types and options are checked before the call"
        sec_api a POST /api/schedules '{"name":"wsb-t","calendar":"daily","action":"restart","target":"wsb-in","options":{"only_if_running":"yes"}}'
        expect_http_error 400 org.left4me.Error.InvalidArgument "only_if_running as a string"
        sec_api a POST /api/schedules '{"name":"wsb-t","calendar":"daily","action":"restart","target":"wsb-in","options":{"nope":true}}'
        expect_http_error 400 org.left4me.Error.InvalidArgument "an unknown option"
        sec_api a POST /api/schedules '{"name":"wsb-t","calendar":"daily","action":"restart","options":{}}'
        expect_http_error 400 org.left4me.Error.InvalidArgument "no target"
        sec_http a GET /api/schedules/wsb-t
        expect_http 404 "a schedule refused by the bridge"

        step "create, list, read"
        now=$(($(date +%s) * 1000000))
        sec_api a POST /api/schedules '{"name":"wsb-nightly","calendar":"*-*-* 04:00:00","action":"restart","target":"wsb-in","options":{"only_if_running":true,"randomized_delay_usec":60000000}}'
        expect_http 201 "A creates schedule wsb-nightly"
        assert_eq "wsb-nightly restart wsb-in True True 60000000 web:$SEC_A" \
                "$(wsb_field '" ".join(str(x) for x in (d["Name"], d["Action"], d["Target"], d["Enabled"], d["OnlyIfRunning"], d["RandomizedDelayUSec"], d["Owner"]))')" \
                "the new schedule's properties"
        id=$(wsb_field 'd["Id"]')
        assert_eq "left4me-schedule-$id.timer" "$(wsb_field 'd["Unit"]')" "the schedule's timer unit"
        # NextElapse is systemd's, read once the timer is in place.
        wsb_schedule_until wsb-nightly "d['NextElapse'] > $now" 10
        sec_api a POST /api/schedules '{"name":"wsb-nightly","calendar":"daily","action":"start","target":"wsb-in","options":{}}'
        expect_http_error 409 org.left4me.Error.Exists "a second schedule of the same name"
        sec_http a GET /api/schedules
        expect_http 200 "A lists schedules"
        [[ $(sec_names <<<"$HTTP_BODY") == *wsb-nightly* ]] || fail "A's list lacks wsb-nightly: $HTTP_BODY"
        sec_http a GET /api/schedules/wsb-nightly
        expect_http 200 "A reads wsb-nightly"
        assert_eq "*-*-* 04:00:00" "$(wsb_field 'd["Calendar"]')" "the calendar read back"

        step "the other account sees and touches nothing of it"
        sec_http b GET /api/schedules
        expect_http 200 "B lists schedules"
        [[ $(sec_names <<<"$HTTP_BODY") != *wsb-nightly* ]] || fail "B's list shows A's schedule: $HTTP_BODY"
        sec_http b GET /api/schedules/wsb-nightly;                   expect_refused "B reads A's schedule"
        sec_api b POST /api/schedules/wsb-nightly/run '{}';           expect_refused "B runs A's schedule"
        sec_api b POST /api/schedules/wsb-nightly/disable '{}';       expect_refused "B disables A's schedule"
        sec_api b DELETE /api/schedules/wsb-nightly;                  expect_refused "B deletes A's schedule"
        sec_api b POST /api/schedules '{"name":"wsb-b","calendar":"daily","action":"stop","target":"wsb-in","options":{}}'
        expect_refused "B schedules a stop of A's instance"

        step "disable and enable, followed on /api/events"
        events=$TF_DIR/events.txt
        capture in_container sh -c '
                curl -sS -N --max-time 8 -b "$1" "$2/api/events" > "$3" &
                sleep 2
                for what in disable enable; do
                        curl -sS -o /dev/null -X POST -b "$1" -H "Origin: $2" -H "X-CSRF-Token: $4" "$2/api/schedules/wsb-nightly/$what"
                        sleep 1
                done
                wait' sh "$TF_DIR/a.jar" "$WEB_ORIGIN" "$events" "$(sec_csrf a)"
        grep -q '^event: schedule$' "$CTR_DIR/root$events" || fail "no schedule event on /api/events: $(head -c 600 "$CTR_DIR/root$events")"
        grep -q '"Enabled":false' "$CTR_DIR/root$events" || fail "no event with Enabled false: $(head -c 600 "$CTR_DIR/root$events")"
        sec_api a POST /api/schedules/wsb-nightly/disable '{}'
        expect_http 200 "A disables wsb-nightly"
        assert_eq "False 0" "$(wsb_field '"%s %s" % (d["Enabled"], d["NextElapse"])')" "a disabled schedule"
        sec_api a POST /api/schedules/wsb-nightly/enable '{}'
        expect_http 200 "A enables wsb-nightly"
        assert_eq true "$(wsb_field 'd["Enabled"]')" "an enabled schedule"

        step "run now: skipped while the server is stopped"
        sec_api a POST /api/schedules/wsb-nightly/run '{}'
        expect_http 200 "A runs wsb-nightly"
        wsb_schedule_until wsb-nightly 'd["LastRun"] > 0 and d["LastResult"].startswith("skipped")'

        step "a command schedule reaches the running server"
        wsb_control wsb-in start
        sec_api a POST /api/schedules '{"name":"wsb-cmd","calendar":"*-01-01 00:00:00","action":"command","target":"wsb-in","options":{"argument":"echo wsb-from-a-schedule","only_if_running":true}}'
        expect_http 201 "A creates command schedule wsb-cmd"
        sec_api a POST /api/schedules/wsb-cmd/run '{}'
        expect_http 200 "A runs wsb-cmd"
        wsb_schedule_until wsb-cmd 'd["LastResult"] == "success"' 30
        wait_until 20 ins_journal_has wsb-in wsb-from-a-schedule || fail "the scheduled command did not reach the server"
        wsb_control wsb-in stop

        step "a deleted target: the schedule stays, shows it, and its runs fail"
        sec_api a POST /api/schedules '{"name":"wsb-orphan","calendar":"daily","action":"start","target":"wsb-in2","options":{}}'
        expect_http 201 "A creates schedule wsb-orphan"
        sec_api a DELETE /api/instances/wsb-in2
        expect_http 204 "A deletes instance wsb-in2"
        wsb_schedule_until wsb-orphan 'd["TargetMissing"]'
        sec_api a POST /api/schedules/wsb-orphan/run '{}'
        expect_http 200 "running a schedule whose target is gone (the run itself fails)"
        wsb_schedule_until wsb-orphan 'd["LastResult"].startswith("failed") and "deleted" in d["LastResult"]'
        sec_http a GET /api/schedules
        [[ $(sec_names <<<"$HTTP_BODY") == *wsb-orphan* ]] || fail "the orphaned schedule left the list: $HTTP_BODY"

        step "delete"
        for id in wsb-nightly wsb-cmd wsb-orphan; do
                sec_api a DELETE "/api/schedules/$id"
                expect_http 204 "A deletes schedule $id"
                sec_http a GET "/api/schedules/$id"
                expect_http 404 "the deleted schedule $id"
        done
        in_container systemctl list-units --all --no-legend 'left4me-schedule-*' >"$TF_HOST/units.txt" 2>&1 || true
        ! grep -q . "$TF_HOST/units.txt" || fail "timers left after deleting every schedule: $(cat "$TF_HOST/units.txt")"
}
l4m_test web-schedules test_web_schedules 300

# --- backups ----------------------------------------------------------------

# wsb_backup_job JAR PATH BODY WHAT: a POST that answers 202 {job}, and the
# job's success.
wsb_backup_job() {
        local job
        sec_api "$1" POST "$2" "$3"
        expect_http 202 "$4"
        job=$(wsb_field 'd["job"]')
        sec_job_wait "$1" "$job" 120
        assert_eq succeeded "$JOB_STATE" "$4 ($JOB_MSG)"
}

# wsb_backups JAR INSTANCE: lists INSTANCE's backups (the answer stays in
# HTTP_BODY); sets BACKUPS, their ids, newest first, one a line.
wsb_backups() {
        sec_http "$1" GET "/api/backups?instance=$2"
        expect_http 200 "$1 lists the backups of $2"
        BACKUPS=$(wsb_field '"\n".join(str(x["id"]) for x in d)')
}

test_web_backups() {
        local id id2 n dl job bad hwm before
        wsb_setup
        wsb_instance wsb-bk 27093
        wsb_instance wsb-bk2 27094
        # By default an instance's files live in a disk image ([Instances]
        # DefaultDiskMax=), which is backed up only while its server runs.
        # The marker is written through the server's merged tree, as the
        # server would write it.
        wsb_control wsb-bk start
        wsb_write wsb-bk "echo wsb-marker-1 > wsb-marker.txt"

        step "option types are checked before the call"
        sec_api a POST /api/instances/wsb-bk/backup '{"options":{"stop":"yes"}}'
        expect_http_error 400 org.left4me.Error.InvalidArgument "stop as a string"
        sec_api a POST /api/instances/wsb-bk/backup '{"options":{"nope":true}}'
        expect_http_error 400 org.left4me.Error.InvalidArgument "an unknown option"

        step "a backup of the running server: a job, then a row in the list"
        wsb_backup_job a /api/instances/wsb-bk/backup '{"options":{}}' "A backs up wsb-bk"
        wsb_backups a wsb-bk
        id=$(head -n 1 <<<"$BACKUPS")
        [[ $id =~ ^[0-9]+$ ]] || fail "no backup of wsb-bk listed: $HTTP_BODY"
        assert_eq "wsb-bk web:$SEC_A" "$(wsb_field '" ".join(str(x) for x in (d[0]["instance"], d[0]["owner"]))')" \
                "the backup's row"
        note "a backup of a running server: consistent $(wsb_field 'd[0]["consistent"]')"
        (($(wsb_field 'd[0]["size"]') > 0)) || fail "the backup's size: $HTTP_BODY"
        sec_http a GET /api/backups
        expect_http 200 "A lists every backup"
        [[ $(wsb_field '" ".join(str(x["id"]) for x in d)') =~ (^| )$id( |$) ]] || fail "backup $id not in A's full list: $HTTP_BODY"

        step "download: the bytes of the backup file"
        sec_http a GET "/api/backups/$id/download"
        expect_http 200 "A downloads backup $id"
        dl=$TF_DIR/download-$id.tar.zst
        in_container cp "$TF_DIR/resp.body" "$dl"
        in_container cmp "$dl" "$L4M_STATE/backups/wsb-bk/$id.tar.zst" ||
                fail "the download differs from backups/wsb-bk/$id.tar.zst"
        [[ $(sed -n 's/^content-type: *//Ip' <<<"$HTTP_HEAD") == application/zstd ]] || fail "Content-Type: $HTTP_HEAD"
        [[ $(sed -n 's/^content-disposition: *//Ip' <<<"$HTTP_HEAD") == "attachment; filename=\"left4me-backup-$id.tar.zst\"" ]] ||
                fail "Content-Disposition: $HTTP_HEAD"
        assert_eq "$(in_container stat -c %s "$L4M_STATE/backups/wsb-bk/$id.tar.zst")" \
                "$(sed -n 's/^content-length: *//Ip' <<<"$HTTP_HEAD")" "the download's Content-Length"
        in_container sh -c "zstd -dc '$dl' | tar -tf - | grep -x 'left4me-backup.json'" >/dev/null ||
                fail "the download is not a tar.zst with left4me-backup.json"
        sec_http a HEAD "/api/backups/$id/download" -I
        expect_http 200 "HEAD of the download"
        sec_http a GET /api/backups/x1/download
        expect_http_error 404 org.left4me.Error.NotFound "a backup id that is no number"

        step "the other account sees and touches none of it"
        sec_http b GET /api/backups
        expect_http 200 "B lists backups"
        [[ ! $(wsb_field '" ".join(str(x["id"]) for x in d)') =~ (^| )$id( |$) ]] || fail "B's list shows A's backup: $HTTP_BODY"
        sec_http b GET "/api/backups/$id/download";                  expect_refused "B downloads A's backup"
        sec_api b POST "/api/backups/$id/restore" '{"options":{}}';  expect_refused "B restores A's backup"
        sec_api b DELETE "/api/backups/$id";                          expect_refused "B deletes A's backup"
        sec_api b POST /api/instances/wsb-bk/backup '{"options":{}}'; expect_refused "B backs up A's instance"
        sec_upload b /api/instances/wsb-bk/backups "$dl";             expect_refused "B uploads a backup into A's instance"

        step "restore: refused while running, then the marker comes back"
        wsb_write wsb-bk "echo wsb-marker-2 > wsb-marker.txt"
        sec_api a POST "/api/backups/$id/restore" '{"options":{}}'
        expect_http_error 409 org.left4me.Error.Busy "a restore while the server runs"
        wsb_control wsb-bk stop
        wsb_backup_job a "/api/backups/$id/restore" '{"options":{}}' "A restores backup $id"
        assert_eq wsb-marker-1 "$(in_container cat "$L4M_RUNTIME/wsb-bk/upper/wsb-marker.txt")" "the marker after the restore"

        step "upload the download to another instance, and restore it there"
        sec_upload a /api/instances/wsb-bk2/backups "$dl"
        expect_http 202 "A uploads the backup to wsb-bk2"
        job=$(wsb_field 'd["job"]')
        sec_job_wait a "$job" 120
        assert_eq succeeded "$JOB_STATE" "the import into wsb-bk2 ($JOB_MSG)"
        wsb_backups a wsb-bk2
        id2=$(head -n 1 <<<"$BACKUPS")
        [[ $id2 =~ ^[0-9]+$ && $id2 != "$id" ]] || fail "no new backup of wsb-bk2: $HTTP_BODY"
        wsb_backup_job a "/api/backups/$id2/restore" '{"options":{}}' "A restores backup $id2 into wsb-bk2"
        assert_eq wsb-marker-1 "$(in_container cat "$L4M_RUNTIME/wsb-bk2/upper/wsb-marker.txt")" "the marker in wsb-bk2"

        step "a hostile upload is refused and changes nothing"
        bad=$TF_DIR/hostile.tar.zst
        # A member climbing out of the tree, and no left4me-backup.json first.
        in_container "$L4M_PY" -c '
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    i = tarfile.TarInfo("../../wsb-evil")
    i.size = 2
    t.addfile(i, io.BytesIO(b"x\n"))' "$TF_DIR/hostile.tar"
        in_container zstd -q -f "$TF_DIR/hostile.tar" -o "$bad"
        wsb_backups a wsb-bk2
        n=$(awk NF <<<"$BACKUPS" | wc -l)
        sec_upload a /api/instances/wsb-bk2/backups "$bad"
        if [[ $HTTP_CODE == 202 ]]; then
                sec_job_wait a "$(wsb_field 'd["job"]')" 60
                assert_eq failed "$JOB_STATE" "the import of a hostile archive"
        else
                [[ $HTTP_CODE == 400 ]] || fail "a hostile upload: $HTTP_CODE $HTTP_BODY"
        fi
        wsb_backups a wsb-bk2
        assert_eq "$n" "$(awk NF <<<"$BACKUPS" | wc -l)" "wsb-bk2's backups after a hostile upload"

        step "delete"
        sec_api a DELETE "/api/backups/$id2"
        expect_http 204 "A deletes backup $id2"
        wsb_backups a wsb-bk2
        [[ -z $BACKUPS ]] || fail "wsb-bk2 still lists backups: $HTTP_BODY"
        sec_http a GET "/api/backups/$id2/download"
        expect_http 404 "the deleted backup's download"

        step "a large download is streamed: the bridge never holds it"
        wsb_control wsb-bk start
        wsb_write wsb-bk "head -c $((128 * 1048576)) /dev/urandom > big.bin"
        wsb_backup_job a /api/instances/wsb-bk/backup '{"options":{}}' "A backs up wsb-bk with 128 MiB"
        wsb_backups a wsb-bk
        id=$(head -n 1 <<<"$BACKUPS")
        sec_restart
        sec_login a "$SEC_A"
        before=$(sec_vm VmHWM)
        # Read slowly at first, so that the bridge has to hold back.
        capture in_container curl -sS --max-time 120 --limit-rate 20M -o /dev/null -w '%{size_download}' \
                -b "$TF_DIR/a.jar" "$WEB_URL/api/backups/$id/download"
        expect_ok "a slow download of backup $id"
        assert_eq "$(in_container stat -c %s "$L4M_STATE/backups/wsb-bk/$id.tar.zst")" "$OUT" "bytes of the slow download"
        hwm=$(sec_vm VmHWM)
        note "the bridge's peak RSS: $before kB before, $hwm kB after a $((OUT / 1048576)) MiB download"
        ((hwm < before + 32768)) || fail "the bridge's peak RSS grew by $((hwm - before)) kB for a download of $OUT bytes"
        wsb_control wsb-bk stop
}
l4m_test web-backups test_web_backups 600

# --- overlay export ------------------------------------------------------------

test_web_overlay_export() {
        local out job id
        wsb_setup
        step "an archive overlay's content, downloaded"
        sec_http a GET /api/overlays/wsb-ov/export
        expect_http 200 "A exports wsb-ov"
        [[ $(sed -n 's/^content-type: *//Ip' <<<"$HTTP_HEAD") == application/zstd ]] || fail "Content-Type: $HTTP_HEAD"
        [[ $(sed -n 's/^content-disposition: *//Ip' <<<"$HTTP_HEAD") == 'attachment; filename="wsb-ov.tar.zst"' ]] ||
                fail "Content-Disposition: $HTTP_HEAD"
        [[ $(sed -n 's/^transfer-encoding: *//Ip' <<<"$HTTP_HEAD") == chunked ]] || fail "not chunked: $HTTP_HEAD"
        out=$TF_DIR/export.tar.zst
        in_container cp "$TF_DIR/resp.body" "$out"
        in_container sh -c "zstd -dc '$out' | tar -tf -" >"$TF_HOST/export.list" || fail "the export is not a tar.zst"
        grep -Eq '(^|/)marker-wsb\.txt$' "$TF_HOST/export.list" || fail "the export lacks marker-wsb.txt: $(head "$TF_HOST/export.list")"
        grep -Eq '(^|/)left4dead2/addons/wsb\.vpk$' "$TF_HOST/export.list" || fail "the export lacks wsb.vpk"

        step "imported again into another archive overlay"
        sec_api a POST /api/overlays '{"name":"wsb-ov2","type":"archive","options":{}}'
        expect_http 201 "A creates overlay wsb-ov2"
        sec_upload a /api/overlays/wsb-ov2/archive "$out"
        expect_http 202 "A uploads the export into wsb-ov2"
        job=$(wsb_field 'd["job"]')
        sec_job_wait a "$job"
        assert_eq succeeded "$JOB_STATE" "the import of the export ($JOB_MSG)"
        sec_http a GET /api/overlays/wsb-ov2
        id=$(wsb_field 'd["Id"]')
        in_container cmp "$L4M_OVERLAYS/$id/left4dead2/addons/wsb.vpk" \
                "$L4M_OVERLAYS/$(sec_http a GET /api/overlays/wsb-ov 2>/dev/null; wsb_field 'd["Id"]')/left4dead2/addons/wsb.vpk" ||
                fail "wsb.vpk differs after export and import"

        step "a Workshop overlay is refused, and the other account gets nothing"
        sec_api a POST /api/overlays '{"name":"wsb-ws","type":"workshop","options":{}}'
        expect_http 201 "A creates workshop overlay wsb-ws"
        sec_http a GET /api/overlays/wsb-ws/export
        expect_http_error 400 org.left4me.Error.InvalidArgument "the export of a Workshop overlay"
        sec_http b GET /api/overlays/wsb-ov/export
        expect_refused "B exports A's overlay"
}
l4m_test web-overlay-export test_web_overlay_export 240
