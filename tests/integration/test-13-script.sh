# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Script overlays, the basics: SetScript/GetScript/ScriptSize and who may
# use them, the size cap and the overlay type, the script's environment,
# output and exit status in its job, files it writes landing in the
# overlay, Busy while a script runs, one script at a time, l4mctl
# (set-script, script, build --wait streaming the log live, job cancel,
# wipe), and a script flooding its log.

# sc_sha FILE-IN-CONTAINER: "LENGTH SHA256" of a file, like sc_get prints.
sc_sha() {
        in_container sh -c "printf '%s %s\n' \"\$(stat -c %s '$1')\" \"\$(sha256sum < '$1' | cut -d' ' -f1)\""
}

test_script_access() {
        local path f1 f2 want1 want2 secret
        sc_setup
        path=$(create_overlay alice sc-access script)
        assert_eq 0 "$(ov_prop "$path" ScriptSize)" "ScriptSize of a new script overlay"

        secret="secret-marker-$RANDOM$RANDOM"
        # shellcheck disable=SC2016 # $GAME_DIR is the script's
        f1=$(printf '#!/bin/bash\n# %s\necho "alice'\''s script: \\"quoted\\" $GAME_DIR"\n# ünïcödé ✓\n' "$secret" | sc_file)
        want1=$(sc_sha "$f1")
        sc_set_file alice "$path" "$f1"
        expect_ok "alice: SetScript on her own overlay"
        assert_eq "${want1%% *}" "$(ov_prop "$path" ScriptSize)" "ScriptSize (bytes of the UTF-8 text)"
        sc_get alice "$path"
        expect_ok "alice: GetScript on her own overlay"
        assert_eq "$want1" "$OUT" "length and sha256 of the script alice reads back"

        # Other users: neither the script nor its text in the properties.
        gcall bob -i "$path" org.left4me.Overlay.GetScript
        expect_dbus_error org.freedesktop.DBus.Error.AccessDenied "bob (group left4me): GetScript on alice's overlay, interactive"
        gcall bob "$path" org.left4me.Overlay.GetScript
        if [[ "$OUT$ERR" != *GDBus.Error:org.freedesktop.DBus.Error.AccessDenied:* ]]; then
                expect_dbus_error org.freedesktop.DBus.Error.InteractiveAuthorizationRequired \
                        "bob: GetScript on alice's overlay (AccessDenied or InteractiveAuthorizationRequired)"
        fi
        note "bob's GetScript without the interactive flag: $(grep -o 'GDBus\.Error:[A-Za-z.]*' <<<"$OUT$ERR" | head -n 1)"
        [[ "$OUT$ERR" != *"$secret"* ]] || fail "bob's refused GetScript shows the script"
        gcall mallory -i "$path" org.left4me.Overlay.GetScript
        expect_dbus_error org.freedesktop.DBus.Error.AccessDenied "mallory (no group): GetScript on alice's overlay"
        gcall bob "$path" org.freedesktop.DBus.Properties.GetAll "'org.left4me.Overlay'"
        expect_ok "bob: GetAll on alice's overlay"
        [[ $OUT != *"$secret"* ]] || fail "the overlay's properties show the script's text: $OUT"
        [[ $OUT == *"'ScriptSize': <uint64 ${want1%% *}>"* ]] || fail "GetAll lacks ScriptSize ${want1%% *}: $OUT"

        gcall bob -i "$path" org.left4me.Overlay.SetScript "'echo bob was here'"
        expect_dbus_error org.freedesktop.DBus.Error.AccessDenied "bob: SetScript on alice's overlay"
        gcall mallory -i "$path" org.left4me.Overlay.SetScript "'echo mallory was here'"
        expect_dbus_error org.freedesktop.DBus.Error.AccessDenied "mallory: SetScript on alice's overlay"
        gcall bob -i "$path" org.left4me.Overlay.Build '{}'
        expect_dbus_error org.freedesktop.DBus.Error.AccessDenied "bob: Build on alice's overlay"
        sc_get alice "$path"
        assert_eq "$want1" "$OUT" "alice's script after bob's and mallory's attempts"
        assert_eq "${want1%% *}" "$(ov_prop "$path" ScriptSize)" "ScriptSize after the refused SetScript calls"

        # An administrator may read and change it.
        sc_get carol "$path"
        expect_ok "carol (left4me-admin): GetScript on alice's overlay"
        assert_eq "$want1" "$OUT" "the script carol reads"
        sc_get root "$path"
        expect_ok "root: GetScript on alice's overlay"
        assert_eq "$want1" "$OUT" "the script root reads"
        f2=$(printf 'echo "carol changed this"\nexit 0\n' | sc_file)
        want2=$(sc_sha "$f2")
        sc_set_file carol "$path" "$f2"
        expect_ok "carol: SetScript on alice's overlay"
        sc_get alice "$path"
        assert_eq "$want2" "$OUT" "the script alice reads after carol's change"
        assert_eq "${want2%% *}" "$(ov_prop "$path" ScriptSize)" "ScriptSize after carol's change"

        # alice runs it (org.left4me.script.run from her group).
        sc_build alice "$path"
        job_wait "$JOB" 60
        expect_job succeeded "alice's build of her script overlay"
        assert_eq alice "$(job_prop "$JOB" Owner)" "owner of the job"
        expect_log "$JOB" "carol changed this"
        delete_overlay alice "$path"
}
l4m_test script-access test_script_access

test_script_size_and_type() {
        local path ws ar f size p
        sc_setup
        path=$(create_overlay root sc-size script)

        # Build without a script.
        gcall root "$path" org.left4me.Overlay.Build '{}'
        expect_dbus_error org.left4me.Error.InvalidArgument "Build() on a script overlay without a script"

        # Exactly at the cap, one byte over, and over in bytes but not in
        # characters.
        f=$(in_container "$L4M_PY" -c '
import sys
n = int(sys.argv[1])
s = "# " + "x" * (n - 3) + "\n"
assert len(s.encode()) == n
sys.stdout.write(s)' "$L4M_SCRIPT_MAX" | sc_file)
        sc_set_file root "$path" "$f"
        expect_ok "SetScript with $L4M_SCRIPT_MAX bytes"
        assert_eq "$L4M_SCRIPT_MAX" "$(ov_prop "$path" ScriptSize)" "ScriptSize at the cap"
        f=$(in_container "$L4M_PY" -c '
import sys
n = int(sys.argv[1]) + 1
sys.stdout.write("# " + "y" * (n - 3) + "\n")' "$L4M_SCRIPT_MAX" | sc_file)
        size=$(in_container stat -c %s "$f")
        assert_eq "$((L4M_SCRIPT_MAX + 1))" "$size" "size of the oversize script"
        sc_set_file root "$path" "$f"
        expect_dbus_error org.left4me.Error.InvalidArgument "SetScript with $((L4M_SCRIPT_MAX + 1)) bytes"
        f=$(in_container "$L4M_PY" -c '
import sys
n = int(sys.argv[1])
sys.stdout.write("#" + "é" * (n // 2))' "$L4M_SCRIPT_MAX" | sc_file)
        sc_set_file root "$path" "$f"
        expect_dbus_error org.left4me.Error.InvalidArgument "SetScript with $((L4M_SCRIPT_MAX / 2 + 1)) characters in $((L4M_SCRIPT_MAX + 1)) bytes"
        assert_eq "$L4M_SCRIPT_MAX" "$(ov_prop "$path" ScriptSize)" "ScriptSize after the refused scripts"

        # Other overlay types have no script.
        ws=$(create_overlay root sc-size-ws workshop)
        ar=$(create_overlay root sc-size-ar archive)
        for p in "$ws" "$ar"; do
                gcall root "$p" org.left4me.Overlay.SetScript "'echo hi'"
                expect_dbus_error org.left4me.Error.InvalidArgument "SetScript on a $(ov_prop "$p" Type) overlay"
                assert_eq 0 "$(ov_prop "$p" ScriptSize)" "ScriptSize of a $(ov_prop "$p" Type) overlay"
        done
        delete_overlay root "$ws"
        delete_overlay root "$ar"
        delete_overlay root "$path"
}
l4m_test script-size-and-type test_script_size_and_type

test_script_output_env() {
        local run_uid ov d log
        sc_setup
        sc_run sc-env 60 <<'SH'
echo "env OVERLAY=$OVERLAY GAME_DIR=$GAME_DIR OVERLAY_NAME=$OVERLAY_NAME JOB_ID=$JOB_ID"
echo "env HOME=$HOME TMPDIR=$TMPDIR LANG=$LANG PATH=$PATH"
echo "cwd $(pwd)"
echo "user $(id -u) $(id -g) $(id -G)"
echo "this goes to stderr" >&2
mkdir -p "$GAME_DIR/addons" "$GAME_DIR/cfg"
head -c 12345 /dev/zero | tr '\0' a > "$GAME_DIR/addons/made.vpk"
printf 'sv_cheats 0\n' > "$GAME_DIR/cfg/made.cfg"
ln -s made.vpk "$GAME_DIR/addons/link.vpk"
echo "tmp $(echo t > /tmp/t && cat /tmp/t)"
echo "script done"
SH
        expect_job succeeded "a script that writes files"
        assert_eq "Script finished successfully." "$JOB_MSG" "the job's message"
        assert_eq script-build "$(job_prop "$JOB" Kind)" "the job's Kind"
        assert_eq "overlay:$SC_ID" "$(job_prop "$JOB" Target)" "the job's Target"
        log=$SC_LOG
        run_uid=$(sc_run_uid "$JOB")
        sc_is_script_uid "$run_uid" || fail "the job's log names no uid of the script range: '$run_uid'"
        for want in "env OVERLAY=/overlay GAME_DIR=left4dead2 OVERLAY_NAME=sc-env JOB_ID=$(job_id_of "$JOB")" \
                "env HOME=/tmp TMPDIR=/tmp LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin:/bin" \
                "cwd /overlay" "user $run_uid $run_uid $run_uid" "this goes to stderr" "tmp t" "script done"; do
                grep -qF -- "$want" <<<"$log" ||
                        fail "the job log lacks '$want'; it is: $(paste -sd '|' <<<"$log" | cut -c 1-600)"
        done
        ov=$SC_ID
        d=$L4M_OVERLAYS/$ov/left4dead2
        assert_eq "12345 $(head -c 12345 /dev/zero | tr '\0' a | sha256sum | cut -d' ' -f1)" \
                "$(in_container sh -c "stat -c %s '$d/addons/made.vpk' && sha256sum < '$d/addons/made.vpk' | cut -d' ' -f1" | paste -sd ' ')" \
                "size and sha256 of left4dead2/addons/made.vpk in the overlay"
        assert_eq "sv_cheats 0" "$(in_container cat "$d/cfg/made.cfg")" "left4dead2/cfg/made.cfg in the overlay"
        assert_eq made.vpk "$(in_container readlink "$d/addons/link.vpk")" "the symlink the script made"
        assert_eq ready "$(ov_prop "$SC_PATH" State)" "State after a successful build"
        assert_eq 12357 "$(ov_prop "$SC_PATH" Size)" "Size (bytes of regular files: 12345 + 12)"
        note "files the script made are owned by $(in_container stat -c %U:%G "$d/addons/made.vpk") in the overlay"
}
l4m_test script-output-env test_script_output_env

test_script_exit_status() {
        sc_setup
        sc_run sc-status 60 <<'SH'
echo "about to fail"
echo "stderr before failing" >&2
exit 3
SH
        expect_job failed "a script that exits 3"
        assert_eq "Script exited with status 3." "$JOB_MSG" "the job's message"
        expect_log "$JOB" "about to fail" "stderr before failing"
        assert_eq failed "$(ov_prop "$SC_PATH" State)" "State after a failed build"

        sc_run sc-status 60 <<'SH'
echo "about to be killed"
kill -KILL $$
SH
        expect_job failed "a script that SIGKILLs itself"
        assert_eq "Script was killed by signal SIGKILL." "$JOB_MSG" "the job's message"

        sc_run sc-status 60 <<'SH'
mkdir -p left4dead2 && echo ok > left4dead2/ok.txt
SH
        expect_job succeeded "the script fixed"
        assert_eq ready "$(ov_prop "$SC_PATH" State)" "State after the fixed build"
        assert_eq "Script finished successfully." "$JOB_MSG" "the job's message"
}
l4m_test script-exit-status test_script_exit_status

test_script_busy() {
        local job
        sc_setup
        sc_start sc-busy <<'SH'
echo RUNNING
sleep 60
SH
        job=$JOB
        sc_wait_log "$job" RUNNING 30
        gcall root "$SC_PATH" org.left4me.Overlay.SetScript "'echo changed'"
        expect_dbus_error org.left4me.Error.Busy "SetScript while the script runs"
        gcall root "$SC_PATH" org.left4me.Overlay.Build '{}'
        expect_dbus_error org.left4me.Error.Busy "Build while the script runs"
        gcall root "$SC_PATH" org.left4me.Overlay.Wipe
        expect_dbus_error org.left4me.Error.Busy "Wipe while the script runs"
        gcall root "$SC_PATH" org.left4me.Overlay.Delete
        expect_dbus_error org.left4me.Error.Busy "Delete while the script runs"
        gcall root "$job" org.left4me.Job.Cancel
        expect_ok "Cancel of the running script"
        job_wait "$job" 30
        expect_job cancelled "the cancelled script"
        sc_set root "$SC_PATH" <<<'echo changed'
        sc_get root "$SC_PATH"
        assert_eq "13 $(printf 'echo changed\n' | sha256sum | cut -d' ' -f1)" "$OUT" "the script set after the cancel"
}
l4m_test script-busy test_script_busy

# l4mctl_job_of OVERLAY-NAME: the id of the overlay's newest job.
l4mctl_job_of() {
        sql "SELECT max(id) FROM jobs WHERE target = 'overlay:$(row_id "$1")';"
}

# l4mctl_bg USER OUTFILE ARGS...: runs l4mctl ARGS as USER in the
# background, stdout and stderr to OUTFILE (on the host); sets BG_PID.
l4mctl_bg() {
        local user=$1 out=$2
        shift 2
        run_as "$user" l4mctl "$@" </dev/null >"$out" 2>&1 &
        BG_PID=$!
}

test_script_l4mctl() {
        local f1 f2 id out rc ov
        sc_setup
        capture as_user alice l4mctl overlay create sc-ctl --type script
        expect_ok "alice: l4mctl overlay create sc-ctl --type script"
        ov=$(row_id sc-ctl)

        # set-script FILE, script, set-script - (standard input).
        f1=$(sc_file <<'SH'
#!/bin/bash
echo "MARKER-ONE from $OVERLAY_NAME"
sleep 4
echo "MARKER-TWO"
mkdir -p left4dead2 && echo streamed > left4dead2/streamed.txt
SH
)
        capture as_user alice l4mctl overlay set-script sc-ctl "$f1"
        expect_ok "alice: l4mctl overlay set-script sc-ctl FILE"
        capture as_user alice l4mctl overlay script sc-ctl
        expect_ok "alice: l4mctl overlay script sc-ctl"
        assert_eq "$(in_container cat "$f1")" "$OUT" "the script l4mctl prints"
        f2=$(printf 'echo from stdin\n' | sc_file)
        capture as_user alice sh -c "l4mctl overlay set-script sc-ctl - < '$f2'"
        expect_ok "alice: l4mctl overlay set-script sc-ctl -"
        capture as_user alice l4mctl overlay script sc-ctl
        assert_eq "echo from stdin" "$OUT" "the script after set-script -"
        capture as_user bob l4mctl overlay script sc-ctl
        ((RC != 0)) || fail "bob: l4mctl overlay script sc-ctl (alice's) succeeded: $OUT"
        [[ $OUT != *"from stdin"* ]] || fail "bob's l4mctl printed alice's script"

        # build --wait streams the log while the job runs.
        capture as_user alice l4mctl overlay set-script sc-ctl "$f1"
        expect_ok "alice: l4mctl overlay set-script sc-ctl FILE (again)"
        out=$L4M_WORK/build-wait.out
        l4mctl_bg alice "$out" overlay build sc-ctl --wait
        wait_until 30 grep -q MARKER-ONE "$out" ||
                fail "l4mctl overlay build --wait did not show the first marker within 30 s: $(cat "$out")"
        id=$(l4mctl_job_of sc-ctl)
        assert_eq running "$(job_prop "$L4M_JOB_PREFIX/$id" State)" "the job when l4mctl showed the first marker"
        ! grep -q MARKER-TWO "$out" || fail "the second marker was there at once: the log was not streamed"
        if wait "$BG_PID"; then rc=0; else rc=$?; fi
        step "l4mctl overlay build --wait: exit $rc: $(paste -sd '|' "$out")"
        assert_eq 0 "$rc" "exit status of l4mctl overlay build --wait (succeeded)"
        grep -q "MARKER-ONE from sc-ctl" "$out" || fail "l4mctl's output lacks the first marker: $(cat "$out")"
        grep -q MARKER-TWO "$out" || fail "l4mctl's output lacks the second marker: $(cat "$out")"
        assert_eq streamed "$(in_container cat "$L4M_OVERLAYS/$ov/left4dead2/streamed.txt")" "the file the script wrote"

        # A failing script: exit status 1.
        capture as_user alice sh -c "printf 'echo failing\nexit 3\n' | l4mctl overlay set-script sc-ctl -"
        expect_ok "alice: set-script (a failing script)"
        capture as_user alice l4mctl overlay build sc-ctl --wait
        expect_exit 1 "alice: l4mctl overlay build --wait of a failing script"
        [[ "$OUT$ERR" == *failing* ]] || fail "l4mctl's output lacks the script's output"
        id=$(l4mctl_job_of sc-ctl)
        capture as_user alice l4mctl job show "$id"
        expect_ok "alice: l4mctl job show $id"
        [[ $OUT == *"Script exited with status 3."* ]] || fail "l4mctl job show lacks the message: $OUT"

        # Cancelled: exit status 9.
        capture as_user alice sh -c "printf 'echo WAITING\nsleep 60\n' | l4mctl overlay set-script sc-ctl -"
        expect_ok "alice: set-script (a sleeping script)"
        out=$L4M_WORK/build-cancel.out
        l4mctl_bg alice "$out" overlay build sc-ctl --wait
        wait_until 30 grep -q WAITING "$out" || fail "the sleeping script did not start: $(cat "$out")"
        id=$(l4mctl_job_of sc-ctl)
        capture as_user alice l4mctl job cancel "$id"
        expect_ok "alice: l4mctl job cancel $id"
        if wait "$BG_PID"; then rc=0; else rc=$?; fi
        assert_eq 9 "$rc" "exit status of l4mctl overlay build --wait (cancelled)"
        capture as_user alice l4mctl job show "$id"
        [[ $OUT == *cancelled* ]] || fail "l4mctl job show $id does not say cancelled: $OUT"
        wait_until 15 sc_unit_gone "left4me-script-$id.service" || fail "left4me-script-$id.service is still running"

        # wipe --wait.
        capture as_user alice l4mctl overlay wipe sc-ctl --wait
        expect_ok "alice: l4mctl overlay wipe sc-ctl --wait"
        assert_eq "" "$(in_container find "$L4M_OVERLAYS/$ov" -mindepth 1 -printf '%P\n')" "the overlay's directory after wipe"
        assert_eq empty "$(ov_prop "$L4M_OVERLAY_PREFIX/$ov" State)" "State after wipe"
        assert_eq 0 "$(ov_prop "$L4M_OVERLAY_PREFIX/$ov" Size)" "Size after wipe"
        capture as_user alice l4mctl overlay delete sc-ctl
        expect_ok "alice: l4mctl overlay delete sc-ctl"
}
l4m_test script-l4mctl test_script_l4mctl 150

# sc_log_alloc JOB: bytes the job's log file takes on disk now.
sc_log_alloc() {
        in_container stat -c '%b %B' "$L4M_JOBS/$(job_id_of "$1").log" 2>/dev/null | awk '{ print $1 * $2 }'
}

# sc_log_settled JOB: the log file ends with the job's last line.
sc_log_settled() {
        in_container tail -n 1 "$L4M_JOBS/$(job_id_of "$1").log" | grep -q '^Finished: '
}

# A script that writes 64 MB of output (unit and daemon share the file):
# the log stays bounded on disk while it runs and ends as a cut file of
# about 1 MiB that keeps the end of the output.
test_script_log_flood() {
        local peak=0 a size first
        sc_setup
        sc_start sc-flood <<'SH'
echo FLOOD-START
python3 -c '
import sys, time
line = b"flood 0123456789 abcdefghijklmnopqrstuvwxyz 0123456789 abcdefghijklmnopqrstuvwxyz\n"
chunk = line * (65536 // len(line))
for i in range(1000):
    sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()
    time.sleep(0.002)
'
echo FLOOD-END
SH
        while sc_job_state_is "$JOB" running || sc_job_state_is "$JOB" queued; do
                a=$(sc_log_alloc "$JOB")
                ((${a:-0} > peak)) && peak=$a
                sleep 0.1
        done
        job_wait "$JOB" 60
        expect_job succeeded "the flooding script"
        wait_until 10 sc_log_settled "$JOB" || fail "the log does not end with the job's last line"
        size=$(in_container stat -c %s "$L4M_JOBS/$(job_id_of "$JOB").log")
        first=$(in_container head -n 1 "$L4M_JOBS/$(job_id_of "$JOB").log")
        ((size <= 1024 * 1024 + 4096)) || fail "the job log is $size bytes after 64 MB of output"
        [[ $first == *"bytes of earlier output dropped"* ]] || fail "the cut log does not start with a marker: $first"
        expect_log "$JOB" FLOOD-END "Finished: succeeded"
        ((peak <= 8 * 1024 * 1024)) || fail "the log took $peak bytes on disk while the script wrote"
        note "64 MB of output: at most $((peak / 1024)) KiB on disk meanwhile, $size bytes at the end; $first"
}
l4m_test script-log-flood test_script_log_flood
