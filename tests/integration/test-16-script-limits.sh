# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The script sandbox's limits ([Script] RuntimeMaxSec=, MemoryMax=,
# CPUQuota=, TasksMax=): the unit's properties read back from systemd over
# the bus equal the configuration; a fork bomb and a memory hog end with
# the job failed, the daemon answering throughout and no process of a
# script uid left. Where the container has no cgroup controllers (the
# usual case in nspawn), the unit's rlimits (LimitNPROC=, LimitDATA=) are
# what contains them; cgroup enforcement is asserted only where the
# controller exists. And the default limits leave room for ordinary
# multi-threaded programs.

SL_TASKS=64
SL_MEM=67108864
SL_RUNTIME=10

sl_limits() {
        sc_limits "RuntimeMaxSec=$SL_RUNTIME
MemoryMax=64M
CPUQuota=50%
TasksMax=$SL_TASKS"
}

# sl_controllers: the cgroup controllers the container's systemd has.
sl_controllers() {
        in_container cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null || true
}

sl_has_controller() {
        [[ " $(sl_controllers) " == *" $1 "* ]]
}

# sl_unit_path UNIT: systemd's object path of a loaded unit.
sl_unit_path() {
        local out
        out=$(in_container busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
                org.freedesktop.systemd1.Manager GetUnit s "$1") || return 1
        out=${out#o \"}
        printf '%s\n' "${out%\"}"
}

# sl_service_prop UNIT-PATH PROPERTY: a property of org.freedesktop.systemd1.Service (value only).
sl_service_prop() {
        local out
        out=$(in_container busctl get-property org.freedesktop.systemd1 "$1" org.freedesktop.systemd1.Service "$2") ||
                fail "cannot read $2 of $1"
        printf '%s\n' "${out#* }"
}

test_script_limit_properties() {
        local upath p want got
        sc_setup
        sl_limits
        sc_start sc-limits <<'SH'
echo RUNNING
sleep 60
SH
        sc_wait_log "$JOB" RUNNING 30
        upath=$(sl_unit_path "$SC_UNIT") || fail "$SC_UNIT is not loaded while the script runs"
        for p in TasksMax:$SL_TASKS MemoryMax:$SL_MEM CPUQuotaPerSecUSec:500000 RuntimeMaxUSec:$((SL_RUNTIME * 1000000)); do
                want=${p#*:}
                got=$(sl_service_prop "$upath" "${p%%:*}")
                assert_eq "$want" "$got" "${p%%:*} of $SC_UNIT (over the bus)"
        done
        # Without the controllers, rlimits stand in for them.
        sl_has_controller pids || assert_eq "$SL_TASKS" "$(sl_service_prop "$upath" LimitNPROC)" \
                "LimitNPROC of $SC_UNIT (no pids controller in the container)"
        sl_has_controller memory || assert_eq "$SL_MEM" "$(sl_service_prop "$upath" LimitDATA)" \
                "LimitDATA of $SC_UNIT (no memory controller in the container)"
        sc_is_script_uid "$(sc_unit_prop "$SC_UNIT" User)" ||
                fail "User of $SC_UNIT is '$(sc_unit_prop "$SC_UNIT" User)', not a script uid"
        assert_eq "$(sc_unit_prop "$SC_UNIT" User)" "$(sc_unit_prop "$SC_UNIT" Group)" "Group of $SC_UNIT"
        note "cgroup controllers in the container: '$(sl_controllers)'; LimitNPROC=$(sl_service_prop "$upath" LimitNPROC) LimitDATA=$(sl_service_prop "$upath" LimitDATA)"
        gcall root "$JOB" org.left4me.Job.Cancel
        expect_ok "Cancel"
        job_wait "$JOB" 30
        expect_job cancelled "the script"
}
l4m_test script-limit-properties test_script_limit_properties

# sl_sandbox_count: processes of script uids now.
sl_sandbox_count() {
        sc_sandbox_processes | wc -l
}

# sl_host_fine: left4me answers and no sandbox process is left (waits).
sl_host_fine() {
        gcall root "$L4M_MANAGER" org.freedesktop.DBus.Properties.Get "'org.left4me.Manager'" "'Version'"
        expect_ok "left4me answers after the job"
        wait_until 20 sc_no_sandbox_processes ||
                fail "processes of script uids are left after the job: $(sc_sandbox_processes | head -n 5 | paste -sd '|')"
        wait_until 10 sc_unit_gone "$SC_UNIT" || fail "$SC_UNIT is still active after the job"
}

test_script_fork_bomb() {
        local n peak=0 t0 t1 ping_ms max_ping=0 mech
        sc_setup
        sl_limits
        # The main shell stays (in a builtin read on a fifo nobody writes)
        # while the bomb goes off in the background.
        sc_start sc-forkbomb <<'SH'
mkfifo /tmp/never && exec 3<>/tmp/never
echo BOMB-START
bomb() { bomb | bomb & }
bomb
read -r -t 120 -u 3
echo "the main shell's read returned $?"
SH
        t0=$(date +%s)
        sc_wait_log "$JOB" BOMB-START 30
        # Watch it for a few seconds; the daemon must keep answering.
        for _ in $(seq 1 20); do
                n=$(sl_sandbox_count)
                ((n > peak)) && peak=$n
                t1=$(date +%s%N)
                gcall root "$L4M_MANAGER" org.freedesktop.DBus.Peer.Ping
                expect_ok "left4me answers during the fork bomb"
                ping_ms=$((($(date +%s%N) - t1) / 1000000))
                ((ping_ms > max_ping)) && max_ping=$ping_ms
                [[ $(job_prop "$JOB" State) == running ]] || break
                sleep 0.25
        done
        job_wait "$JOB" $((SL_RUNTIME + 60))
        t1=$(date +%s)
        expect_job failed "the fork bomb"
        [[ $JOB_MSG == "Script timed out after $SL_RUNTIME s." || $JOB_MSG =~ ^Script\ (exited\ with\ status\ [0-9]+|was\ killed\ by\ signal\ SIG[A-Z0-9]+)\.$ ]] ||
                fail "unexpected message for the fork bomb: $JOB_MSG"
        sl_host_fine
        ((peak <= SL_TASKS)) || fail "the fork bomb had $peak processes at once (TasksMax=$SL_TASKS)"
        ((peak >= 8)) || fail "the fork bomb never got going (at most $peak processes): the test proves nothing"
        if sl_has_controller pids; then
                mech="the cgroup pids controller (TasksMax=$SL_TASKS)"
        else
                mech="RLIMIT_NPROC (LimitNPROC=$SL_TASKS; no pids controller)"
        fi
        note "fork bomb: at most $peak processes, held by $mech; ended after $((t1 - t0)) s: $JOB_MSG; slowest Ping meanwhile ${max_ping} ms"
}
l4m_test script-fork-bomb test_script_fork_bomb 150

test_script_memory_hog() {
        local line mib
        sc_setup
        sl_limits
        sc_start sc-memhog <<'SH'
echo HOG-START
exec python3 - <<'PY'
import sys
chunks = []
try:
    while len(chunks) < 512:     # 2 GiB: give up rather than eat the host
        chunks.append(b"\x01" * (4 << 20))
        print("HOG %d MiB" % (len(chunks) * 4), flush=True)
except MemoryError:
    print("HOG-MEMORYERROR after %d MiB" % (len(chunks) * 4), flush=True)
    sys.exit(5)
print("HOG-UNLIMITED", flush=True)
PY
SH
        job_wait "$JOB" $((SL_RUNTIME + 60))
        SC_LOG=$(job_log_text "$JOB")
        ! grep -q HOG-UNLIMITED <<<"$SC_LOG" || fail "the script got 2 GiB (MemoryMax=64M)"
        expect_job failed "the memory hog"
        sl_host_fine
        line=$(grep -a '^HOG' <<<"$SC_LOG" | tail -n 1)
        if sl_has_controller memory && [[ $JOB_MSG == "Script ran out of memory (MemoryMax=$SL_MEM bytes)." ]]; then
                note "memory hog: killed by the cgroup memory controller: $JOB_MSG (last: $line)"
        elif sl_has_controller memory && [[ $JOB_MSG != "Script exited with status 5." ]]; then
                fail "unexpected message for the memory hog (memory controller present): $JOB_MSG"
        else
                assert_eq "Script exited with status 5." "$JOB_MSG" "the memory hog's message (stopped by an rlimit: python's MemoryError)"
                [[ $line =~ ^HOG-MEMORYERROR\ after\ ([0-9]+)\ MiB$ ]] || fail "the hog did not report a MemoryError: $line"
                mib=${BASH_REMATCH[1]}
                ((mib <= SL_MEM / 1048576)) || fail "the hog got $mib MiB (MemoryMax=64M)"
                note "memory hog: malloc failed after $mib MiB: held by the per-process rlimit (LimitDATA=)$(sl_has_controller memory || printf '; no memory controller'); $JOB_MSG"
        fi
}
l4m_test script-memory-hog test_script_memory_hog 120

# Under the default limits, ordinary multi-threaded programs work: the
# limits are about memory, not address space (glibc reserves 64 MiB of
# address space per malloc arena and 8 MiB per thread stack, most of it
# never touched).
test_script_threads_default_limits() {
        sc_setup
        sc_run sc-threads 60 <<'SH'
exec python3 - <<'PY'
import threading
ev = threading.Event()
threads = [threading.Thread(target=ev.wait) for _ in range(32)]
try:
    for t in threads:
        t.start()
    print("THREADS-STARTED %d" % len(threads), flush=True)
finally:
    ev.set()
PY
SH
        expect_job succeeded "a python script with 32 threads under the default limits"
        expect_log "$JOB" "THREADS-STARTED 32"
}
l4m_test script-threads-default-limits test_script_threads_default_limits
