# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A script's life: RuntimeMaxSec ends it, Cancel stops its unit, what it
# leaves running in the background belongs to it (the job ends only with
# its last process, RuntimeMaxSec ends that too, and a leftover cannot reach
# the next script), a restart of left4me while it runs does not lose it
# (the job ends with the script's real result, whether the script ends
# while the daemon runs again or while it is stopped), and systemd-analyze
# security's exposure figure of a running script unit.

test_script_timeout() {
        local started finished
        sc_setup
        sc_limits "RuntimeMaxSec=2"
        sc_run sc-timeout 60 <<'SH'
echo RUNNING
sleep 60
echo "not reached"
SH
        expect_job failed "a sleep 60 script with RuntimeMaxSec=2"
        assert_eq "Script timed out after 2 s." "$JOB_MSG" "the job's message"
        ! grep -q "not reached" <<<"$SC_LOG" || fail "the script ran to its end"
        started=$(job_prop "$JOB" Started)
        finished=$(job_prop "$JOB" Finished)
        ((finished - started >= 2000000)) || fail "the job ended $(((finished - started) / 1000)) ms after it started (< 2 s)"
        ((finished - started < 15000000)) || fail "the job ended $(((finished - started) / 1000)) ms after it started (RuntimeMaxSec=2)"
        assert_eq failed "$(ov_prop "$SC_PATH" State)" "State after the time-out"
        wait_until 15 sc_unit_gone "$SC_UNIT" || fail "$SC_UNIT is still active after the time-out"
        note "RuntimeMaxSec=2: the job ran $(((finished - started) / 1000)) ms"
}
l4m_test script-timeout test_script_timeout

# rt_main_gone UNIT: the unit has no main process (any more: call it once
# the script has started).
rt_main_gone() {
        [[ $(sc_unit_prop "$1" MainPID) =~ ^0?$ ]]
}

# rt_wait_bash_exited JOB: waits until the script printed "bash-exits" and
# its bash is gone.
rt_wait_bash_exited() {
        sc_wait_log "$1" bash-exits 30
        wait_until 10 rt_main_gone "$(sc_unit "$1")" ||
                fail "bash of $1 still runs after it printed bash-exits (MainPID $(sc_unit_prop "$(sc_unit "$1")" MainPID))"
}

# A script that exits 0 leaving a process behind (which ignores SIGTERM):
# the job goes on until that process ends, and what it wrote counts.
test_script_leftover_waited() {
        local started finished
        sc_setup
        sc_start sc-leftover <<'SH'
rm -f /overlay/late
(trap '' TERM; sleep 3; echo late > /overlay/late) &
echo bash-exits
exit 0
SH
        rt_wait_bash_exited "$JOB"
        sleep 1
        assert_eq running "$(job_prop "$JOB" State)" "the job 1 s after bash exited, its leftover still running"
        assert_eq active "$(sc_unit_prop "$SC_UNIT" ActiveState)" "$SC_UNIT 1 s after bash exited"
        in_container test ! -e "$L4M_OVERLAYS/$SC_ID/late" || fail "the leftover wrote /overlay/late already"
        job_wait "$JOB" 30
        expect_job succeeded "the script whose leftover ends after 3 s"
        assert_eq "Script finished successfully." "$JOB_MSG" "the job's message"
        expect_log "$JOB" bash-exits
        started=$(job_prop "$JOB" Started)
        finished=$(job_prop "$JOB" Finished)
        ((finished - started >= 3000000)) ||
                fail "the job ended $(((finished - started) / 1000)) ms after it started, before its leftover (sleep 3)"
        assert_eq late "$(in_container cat "$L4M_OVERLAYS/$SC_ID/late")" "/overlay/late, written by the leftover"
        assert_eq 5 "$(ov_prop "$SC_PATH" Size)" "Size (the leftover's /overlay/late)"
        assert_eq ready "$(ov_prop "$SC_PATH" State)" "State"
        wait_until 15 sc_unit_gone "$SC_UNIT" || fail "$SC_UNIT is still active after the job"
        note "bash exited at once, the job ran $(((finished - started) / 1000)) ms (its leftover: sleep 3)"
}
l4m_test script-leftover-waited test_script_leftover_waited

# A leftover that would run on: RuntimeMaxSec ends it, and the job fails.
test_script_leftover_timeout() {
        local started finished
        sc_setup
        sc_limits "RuntimeMaxSec=4"
        sc_start sc-leftover-timeout <<'SH'
sleep 100 &
echo bash-exits
exit 0
SH
        rt_wait_bash_exited "$JOB"
        assert_eq running "$(job_prop "$JOB" State)" "the job after bash exited, its sleep 100 still running"
        job_wait "$JOB" 30
        expect_job failed "a script leaving sleep 100 behind, RuntimeMaxSec=4"
        assert_eq "Script timed out after 4 s." "$JOB_MSG" "the job's message"
        started=$(job_prop "$JOB" Started)
        finished=$(job_prop "$JOB" Finished)
        ((finished - started >= 4000000)) || fail "the job ended $(((finished - started) / 1000)) ms after it started (< 4 s)"
        ((finished - started < 20000000)) || fail "the job ended $(((finished - started) / 1000)) ms after it started (RuntimeMaxSec=4)"
        wait_until 15 sc_unit_gone "$SC_UNIT" ||
                fail "$SC_UNIT or a process of a script uid is left after the time-out: $(sc_sandbox_processes | paste -sd '|')"
        assert_eq failed "$(ov_prop "$SC_PATH" State)" "State after the time-out"
        note "RuntimeMaxSec=4, bash exited at once: the job failed after $(((finished - started) / 1000)) ms"
}
l4m_test script-leftover-timeout test_script_leftover_timeout

# alice's script leaves "kill -9 -1" behind; bob's, queued meanwhile
# ([Script] MaxRunning=1), runs as another uid once alice's job is over,
# and ends with its own result.
test_script_leftover_next_script() {
        local pa pb ja jb ua a_fin b_created b_start
        sc_setup
        sc_limits "MaxRunning=1"
        pa=$(sc_overlay alice sc-kill-alice)
        pb=$(sc_overlay bob sc-kill-bob)
        sc_set alice "$pa" <<'SH'
( sleep 2; kill -9 -1; echo alice-killed-all ) &
echo alice-bash-exits
exit 0
SH
        sc_set bob "$pb" <<'SH'
echo BOB-RUNNING
sleep 3
echo BOB-DONE
exit 0
SH
        sc_build alice "$pa"
        ja=$JOB ua=$(sc_unit "$JOB")
        sc_build bob "$pb"
        jb=$JOB
        step "alice's job $ja ($ua), bob's job $jb"
        job_wait "$ja" 30
        note "alice's script (kill -9 -1 left behind): $JOB_STATE: $JOB_MSG"
        job_wait "$jb" 30
        expect_job succeeded "bob's script, queued behind alice's"
        assert_eq "Script finished successfully." "$JOB_MSG" "the message of bob's job"
        expect_log "$jb" BOB-RUNNING BOB-DONE
        # alice's leftover did run its kill -9 -1 (else nothing was tested).
        expect_log "$ja" alice-bash-exits alice-killed-all
        a_fin=$(job_prop "$ja" Finished)
        b_created=$(job_prop "$jb" Created)
        b_start=$(job_prop "$jb" Started)
        ((b_created < a_fin)) || fail "bob's job was made ($b_created) after alice's finished ($a_fin): nothing was tested"
        ((b_start >= a_fin)) || fail "bob's script started ($b_start) before alice's job finished ($a_fin)"
        [[ $(sc_run_uid "$ja") != "$(sc_run_uid "$jb")" ]] ||
                fail "bob's script ran as alice's uid $(sc_run_uid "$ja"), right after hers"
        wait_until 15 sc_no_sandbox_processes || fail "processes of script uids are left: $(sc_sandbox_processes | paste -sd '|')"
}
l4m_test script-leftover-next-script test_script_leftover_next_script

test_script_cancel() {
        local t0 t1
        sc_setup
        sc_start sc-cancel <<'SH'
echo RUNNING
sleep 60
echo "not reached"
SH
        sc_wait_log "$JOB" RUNNING 30
        assert_eq active "$(sc_unit_prop "$SC_UNIT" ActiveState)" "$SC_UNIT while the script runs"
        assert_eq running "$(job_prop "$JOB" State)" "the job while the script runs"
        t0=$(date +%s%N)
        gcall root "$JOB" org.left4me.Job.Cancel
        expect_ok "Cancel() of the running script"
        job_wait "$JOB" 30
        t1=$(date +%s%N)
        expect_job cancelled "the cancelled script"
        wait_until 15 sc_unit_gone "$SC_UNIT" || fail "$SC_UNIT is still there after Cancel: $(sc_unit_prop "$SC_UNIT" ActiveState)"
        wait_until 10 sc_unit_unloaded "$SC_UNIT" ||
                fail "$SC_UNIT is still loaded after Cancel: $(sc_unit_prop "$SC_UNIT" LoadState)/$(sc_unit_prop "$SC_UNIT" ActiveState)"
        ! sc_log_has "$JOB" "not reached" || fail "the script ran to its end"
        note "cancelled in $(((t1 - t0) / 1000000)) ms; $SC_UNIT is gone"
        [[ $(ov_prop "$SC_PATH" State) != building ]] || fail "the overlay is still building after the cancel"
}
l4m_test script-cancel test_script_cancel

# sc_unit_unloaded UNIT: systemd has forgotten the unit.
sc_unit_unloaded() {
        [[ $(sc_unit_prop "$1" LoadState) == not-found ]]
}

# rt_count JOB TEXT: how many lines of the job's log are TEXT.
rt_count() {
        job_log_text "$1" | grep -cxF -- "$2" || true
}

test_script_restart_while_running() {
        local pid
        sc_setup
        sc_start sc-restart <<'SH'
echo RUNNING
sleep 6
echo DONE
exit 3
SH
        sc_wait_log "$JOB" RUNNING 30
        pid=$(unit_prop MainPID)
        capture in_container systemctl restart left4me.service
        expect_ok "systemctl restart left4me while the script runs"
        reset_start_limit
        daemon_up
        [[ $(unit_prop MainPID) != "$pid" ]] || fail "left4med was not restarted"
        assert_eq "active/running" "$(sc_unit_prop "$SC_UNIT" ActiveState)/$(sc_unit_prop "$SC_UNIT" SubState)" \
                "$SC_UNIT after the restart (the script must still run for this test)"
        wait_until 5 sc_job_state_is "$JOB" running ||
                fail "the restarted left4me does not show the job running: $(job_prop "$JOB" State)"
        job_wait "$JOB" 40
        expect_job failed "the script that exits 3 after a restart of left4me"
        assert_eq "Script exited with status 3." "$JOB_MSG" "the job's message"
        assert_eq 1 "$(rt_count "$JOB" RUNNING)" "times the script started (RUNNING lines in the log)"
        assert_eq 1 "$(rt_count "$JOB" DONE)" "DONE lines in the log"
        assert_eq failed "$(ov_prop "$SC_PATH" State)" "State"
        wait_until 15 sc_unit_gone "$SC_UNIT" || fail "$SC_UNIT is still active after the job"
}
l4m_test script-restart-while-running test_script_restart_while_running 120

test_script_ends_while_daemon_stopped() {
        local sub
        sc_setup
        sc_start sc-stopped <<'SH'
echo RUNNING
sleep 4
mkdir -p left4dead2 && head -c 777 /dev/zero > left4dead2/made-while-stopped.bin
echo DONE
SH
        sc_wait_log "$JOB" RUNNING 30
        daemon_stop
        assert_eq active/running "$(sc_unit_prop "$SC_UNIT" ActiveState)/$(sc_unit_prop "$SC_UNIT" SubState)" \
                "$SC_UNIT once left4me has stopped (the script must still run for this test)"
        # The script ends while left4me is down.
        wait_until 20 sc_main_exited "$SC_UNIT" ||
                fail "the script did not end while left4me was stopped ($(sc_unit_prop "$SC_UNIT" ActiveState)/$(sc_unit_prop "$SC_UNIT" SubState))"
        sub=$(sc_unit_prop "$SC_UNIT" ActiveState)/$(sc_unit_prop "$SC_UNIT" SubState)
        unit_is_inactive || fail "left4me was started again meanwhile"
        daemon_up
        job_wait "$JOB" 30
        expect_job succeeded "the script that ended while left4me was stopped"
        assert_eq "Script finished successfully." "$JOB_MSG" "the job's message"
        assert_eq 1 "$(rt_count "$JOB" RUNNING)" "times the script started (RUNNING lines in the log)"
        assert_eq 1 "$(rt_count "$JOB" DONE)" "DONE lines in the log"
        assert_eq ready "$(ov_prop "$SC_PATH" State)" "State"
        assert_eq 777 "$(ov_prop "$SC_PATH" Size)" "Size"
        wait_until 15 sc_unit_gone "$SC_UNIT" || fail "$SC_UNIT is still active after the job"
        note "while left4me was stopped the script's unit was $sub"
}
l4m_test script-ends-while-daemon-stopped test_script_ends_while_daemon_stopped 120

# sc_main_exited UNIT: the unit's main process has exited (the unit is
# active/exited with RemainAfterExit, or no longer active at all).
sc_main_exited() {
        local a s
        a=$(sc_unit_prop "$1" ActiveState)
        s=$(sc_unit_prop "$1" SubState)
        [[ $a/$s == active/exited || $a == inactive || $a == failed || -z $a ]]
}

test_script_security_exposure() {
        local line fig report
        sc_setup
        sc_start sc-exposure <<'SH'
echo RUNNING
sleep 60
SH
        sc_wait_log "$JOB" RUNNING 30
        capture in_container systemd-analyze security --no-pager "$SC_UNIT"
        expect_ok "systemd-analyze security $SC_UNIT"
        report=$OUT
        line=$(grep -E "Overall exposure level for $SC_UNIT: [0-9]+(\.[0-9]+)?" <<<"$report" | head -n 1)
        [[ -n $line ]] || fail "systemd-analyze security printed no overall exposure figure"
        fig=$(grep -oE ': [0-9]+(\.[0-9]+)?' <<<"$line" | head -n 1)
        fig=${fig#: }
        note "${line#→ }"
        grep '✗' <<<"$report" | sed 's/^/  /' >&2 || true
        gcall root "$JOB" org.left4me.Job.Cancel
        awk -v f="$fig" 'BEGIN { exit !(f <= 1.5) }' ||
                fail "exposure $fig > 1.5; the open items: $(grep '✗' <<<"$report" | awk '{ print $2 }' | paste -sd ' ')"
}
l4m_test script-security-exposure test_script_security_exposure
