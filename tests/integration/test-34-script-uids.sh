# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A uid per script run ([Script] FirstUID= to LastUID=, MaxRunning=): two
# script builds of two owners run at once, each as a uid of its own (the
# units' User= and the kernel's view of their processes agree); one's
# "kill -9 -1" kills its own background process but nothing of the other,
# which completes; a third build waits while two run; MaxRunning=1 in a
# drop-in makes them run one at a time; and a script that runs on through
# a restart of left4med keeps its uid, which the next run does not get.

# su_go OVERLAY-ID: lets a script waiting for /overlay/go go on.
su_go() {
        in_container touch "$L4M_OVERLAYS/$1/go"
}

# su_proc_uid PID: the real uid of a process, as the kernel has it.
su_proc_uid() {
        # shellcheck disable=SC2016 # awk's
        in_container awk '/^Uid:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true
}

# su_alive PID: the process exists and is not a zombie.
su_alive() {
        local st
        # shellcheck disable=SC2016 # awk's
        st=$(in_container awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true)
        [[ -n $st && $st != Z ]]
}

# su_log_value JOB TAG: the word after "TAG " in the job's log.
su_log_value() {
        job_log_text "$1" | sed -n "s/^$2 \([0-9]*\)\$/\1/p" | head -n 1
}

test_script_uids_parallel() {
        local pa pb pc ja jb jc ua ub uc ida idb uid_a uid_b uid_c sb pid a_fin b_fin c_start
        sc_setup
        # Room in the job engine: only the script rule bounds them.
        l4m_conf 60-script-limits "[Jobs]
MaxRunning=4"
        pa=$(sc_overlay alice su-alice) ida=$(id_of_path "$pa")
        pb=$(sc_overlay bob su-bob) idb=$(id_of_path "$pb")
        pc=$(sc_overlay root su-third)
        in_container rm -f "$L4M_OVERLAYS/$ida/go" "$L4M_OVERLAYS/$idb/go"
        # Both wait for /overlay/go, so that the test sees both running.
        sc_set alice "$pa" <<'SH'
sleep 300 &
s=$!
echo "A-SLEEPER $s"
echo A-RUNNING
while [ ! -e /overlay/go ]; do sleep 0.2; done
(
        kill -9 -1
        echo A-KILLED-ALL
        sleep 1
        st=$(sed -n 's/^State:\t\([A-Z]\).*/\1/p' /proc/$s/status 2>/dev/null)
        if [ -z "$st" ] || [ "$st" = Z ]; then echo A-SLEEPER-DEAD; else echo "A-SLEEPER-ALIVE $st"; fi
)
echo A-BASH-SURVIVED
SH
        sc_set bob "$pb" <<'SH'
sleep 300 &
s=$!
echo "B-SLEEPER $s"
echo B-RUNNING
while [ ! -e /overlay/go ]; do sleep 0.2; done
sleep 4
if kill -0 $s 2>/dev/null; then echo B-SLEEPER-ALIVE; else echo B-SLEEPER-DEAD; fi
kill $s
echo B-DONE
SH
        sc_set root "$pc" <<'SH'
echo C-RUNNING
SH
        sc_build alice "$pa"
        ja=$JOB ua=$(sc_unit "$JOB")
        sc_build bob "$pb"
        jb=$JOB ub=$(sc_unit "$JOB")
        step "alice's job $ja ($ua), bob's job $jb ($ub)"
        sc_wait_log "$ja" A-RUNNING 30
        sc_wait_log "$jb" B-RUNNING 30

        # Both at once, as two uids of the range.
        assert_eq active "$(sc_unit_prop "$ua" ActiveState)" "$ua while $ub runs"
        assert_eq active "$(sc_unit_prop "$ub" ActiveState)" "$ub while $ua runs"
        uid_a=$(sc_unit_prop "$ua" User) uid_b=$(sc_unit_prop "$ub" User)
        sc_is_script_uid "$uid_a" || fail "User= of $ua is '$uid_a', not a script uid"
        sc_is_script_uid "$uid_b" || fail "User= of $ub is '$uid_b', not a script uid"
        [[ $uid_a != "$uid_b" ]] || fail "both scripts run as uid $uid_a"
        assert_eq "$uid_a" "$(sc_unit_prop "$ua" Group)" "Group= of $ua"
        assert_eq "$uid_a" "$(sc_run_uid "$ja")" "the uid alice's job log names"
        assert_eq "$uid_b" "$(sc_run_uid "$jb")" "the uid bob's job log names"
        for pid in $(sc_unit_prop "$ua" MainPID) "$(su_log_value "$ja" A-SLEEPER)"; do
                assert_eq "$uid_a" "$(su_proc_uid "$pid")" "the uid of process $pid of $ua"
        done
        sb=$(su_log_value "$jb" B-SLEEPER)
        for pid in $(sc_unit_prop "$ub" MainPID) "$sb"; do
                assert_eq "$uid_b" "$(su_proc_uid "$pid")" "the uid of process $pid of $ub"
        done
        # What the overlays hold belongs to their runs.
        assert_eq "$uid_a:$uid_a" "$(in_container stat -c %u:%g "$L4M_OVERLAYS/$ida")" "owner of alice's overlay directory"
        assert_eq "$uid_b:$uid_b" "$(in_container stat -c %u:%g "$L4M_OVERLAYS/$idb")" "owner of bob's overlay directory"

        # A third waits while two run ([Script] MaxRunning=2 by default).
        sc_build root "$pc"
        jc=$JOB uc=$(sc_unit "$JOB")
        sleep 2
        assert_eq queued "$(job_prop "$jc" State)" "a third script's job while two run"
        [[ -z $(sc_unit_prop "$uc" ActiveState) || $(sc_unit_prop "$uc" ActiveState) == inactive ]] ||
                fail "$uc is $(sc_unit_prop "$uc" ActiveState) while two scripts run"

        # alice kills everything she may signal.
        su_go "$ida"
        job_wait "$ja" 30
        expect_job failed "alice's script, killed by its own kill -9 -1"
        assert_eq "Script was killed by signal SIGKILL." "$JOB_MSG" "the message of alice's job"
        expect_log "$ja" A-KILLED-ALL A-SLEEPER-DEAD
        ! sc_log_has "$ja" A-BASH-SURVIVED || fail "alice's bash survived her kill -9 -1: the kill did nothing"
        # bob's processes were not touched: his sleeper lives on.
        assert_eq active "$(sc_unit_prop "$ub" ActiveState)" "$ub after alice's kill -9 -1"
        su_alive "$sb" || fail "bob's sleeper $sb died with alice's kill -9 -1"
        su_go "$idb"
        job_wait "$jb" 30
        expect_job succeeded "bob's script, running while alice's killed all she could"
        expect_log "$jb" B-SLEEPER-ALIVE B-DONE

        # The third ran once one of the two had ended, as yet another uid.
        job_wait "$jc" 30
        expect_job succeeded "the third script"
        uid_c=$(sc_run_uid "$jc")
        sc_is_script_uid "$uid_c" || fail "the third job's log names no script uid: '$uid_c'"
        [[ $uid_c != "$uid_a" && $uid_c != "$uid_b" ]] ||
                fail "the third script got uid $uid_c of a run just before (alice $uid_a, bob $uid_b): not round robin"
        a_fin=$(job_prop "$ja" Finished) b_fin=$(job_prop "$jb" Finished) c_start=$(job_prop "$jc" Started)
        ((c_start >= a_fin || c_start >= b_fin)) || fail "the third script started ($c_start) while two ran"
        note "uids: alice $uid_a, bob $uid_b, third $uid_c"
        wait_until 15 sc_no_sandbox_processes || fail "processes of script uids are left: $(sc_sandbox_processes | paste -sd '|')"
        delete_overlay alice "$pa"
        delete_overlay bob "$pb"
        delete_overlay root "$pc"
}
l4m_test script-uids-parallel test_script_uids_parallel 150

# [Script] MaxRunning=1 in a drop-in: a second script waits for the first.
test_script_max_running_one() {
        local a b ja jb ida a_fin b_start
        sc_setup
        # Room for both in the job engine: only the script rule holds B.
        l4m_conf 60-script-limits "[Jobs]
MaxRunning=4
[Script]
MaxRunning=1"
        in_container rm -f "$L4M_OVERLAYS/$(id_of_path "$(sc_overlay root sc-serial-a)")/go"
        sc_start sc-serial-a <<'SH'
echo A-RUNNING
while [ ! -e /overlay/go ]; do sleep 0.2; done
echo A-DONE
SH
        a=$SC_UNIT ja=$JOB ida=$SC_ID
        sc_wait_log "$ja" A-RUNNING 30
        sc_start sc-serial-b <<'SH'
echo B-RUNNING
SH
        b=$SC_UNIT jb=$JOB
        sleep 1
        assert_eq running "$(job_prop "$ja" State)" "the first script's job"
        assert_eq queued "$(job_prop "$jb" State)" "the second script's job while the first runs"
        [[ $(sc_unit_prop "$b" ActiveState) != active ]] || fail "$b runs while $a runs"
        su_go "$ida"
        job_wait "$ja" 30
        expect_job succeeded "the first script"
        job_wait "$jb" 30
        expect_job succeeded "the second script"
        a_fin=$(job_prop "$ja" Finished)
        b_start=$(job_prop "$jb" Started)
        ((b_start >= a_fin)) || fail "the second script started ($b_start) before the first finished ($a_fin)"
        expect_log "$jb" B-RUNNING
        [[ $(sc_run_uid "$ja") != "$(sc_run_uid "$jb")" ]] || fail "the second script got the first one's uid"
}
l4m_test script-max-running-one test_script_max_running_one

# A script running on through a restart of left4med keeps its uid: the
# restarted daemon learns it from the unit and gives the next run another.
test_script_uid_after_restart() {
        local pa pb ja jb ua uid_a pid i u
        sc_setup
        # Three uids: a few runs go round them all.
        sc_limits "FirstUID=61100
LastUID=61102"
        pa=$(sc_overlay root su-restart-a)
        pb=$(sc_overlay root su-restart-b)
        in_container rm -f "$L4M_OVERLAYS/$(id_of_path "$pa")/go"
        sc_set root "$pa" <<'SH'
echo A-RUNNING
while [ ! -e /overlay/go ]; do sleep 0.2; done
echo A-DONE
SH
        sc_set root "$pb" <<'SH'
echo B-RUNNING
SH
        sc_build root "$pa"
        ja=$JOB ua=$(sc_unit "$JOB")
        sc_wait_log "$ja" A-RUNNING 30
        uid_a=$(sc_unit_prop "$ua" User)
        pid=$(unit_prop MainPID)
        capture in_container systemctl restart left4me.service
        expect_ok "systemctl restart left4me while the script runs"
        reset_start_limit
        daemon_up
        [[ $(unit_prop MainPID) != "$pid" ]] || fail "left4med was not restarted"
        assert_eq active "$(sc_unit_prop "$ua" ActiveState)" "$ua after the restart (must still run for this test)"
        { sc_is_script_uid "$uid_a" && ((uid_a <= 61102)); } || fail "User= of $ua is '$uid_a', not of 61100-61102"
        # Round the three uids twice: none of the runs may get the held one.
        for ((i = 0; i < 4; i++)); do
                sc_build root "$pb"
                jb=$JOB
                job_wait "$jb" 30
                expect_job succeeded "run $i of the second script"
                u=$(sc_run_uid "$jb")
                [[ $u != "$uid_a" ]] || fail "run $i of the second script got uid $u, which $ua still holds"
        done
        su_go "$(id_of_path "$pa")"
        job_wait "$ja" 30
        expect_job succeeded "the script that ran through the restart"
        note "the script through the restart kept uid $uid_a; 4 runs after it got the other two"
        delete_overlay root "$pa"
        delete_overlay root "$pb"
}
l4m_test script-uid-after-restart test_script_uid_after_restart 180
