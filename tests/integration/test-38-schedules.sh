# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Schedules (org.left4me.Schedule, docs/ARCHITECTURE.md "Schedules"): first
# what left4med relies on in systemd's timers, then schedules firing through
# their transient timers: a restart every 5 s changing the server's MainPID
# with LastRun/LastResult following, disabling stopping it, an invalid
# calendar refused with systemd's reason and nothing left, one elapse run
# once across a daemon restart and a missed one run once after left4me was
# stopped (Persistent=), a command reaching the server over RCON, a deleted
# target reported, l4mctl's verbs, and the introspection of a schedule
# against dbus/org.left4me.Schedule.xml. The instances run on the fake
# installation of test-23-instances.sh, whose helpers (ins_*) it uses.

SC_INSTANCE=sc-a

# --- what the design relies on in systemd ---------------------------------
#
# sf_start NAME CALENDAR: a transient timer NAME.timer like left4med's
# (OnCalendar=, Persistent=yes, AccuracySec=1s) with its oneshot NAME.service
# as an auxiliary unit of the same StartTransientUnit call.
sf_start() {
        capture in_container busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
                org.freedesktop.systemd1.Manager StartTransientUnit 'ssa(sv)a(sa(sv))' \
                "$1.timer" fail 3 TimersCalendar 'a(ss)' 1 OnCalendar "$2" Persistent b true AccuracyUSec t 1000000 \
                1 "$1.service" 2 Type s oneshot ExecStart 'a(sasb)' 1 /bin/true 1 /bin/true false
}

# sf_prop NAME PROPERTY: a property of NAME.timer, in µs.
sf_prop() {
        in_container busctl get-property org.freedesktop.systemd1 \
                "/org/freedesktop/systemd1/unit/${1//-/_2d}_2etimer" \
                org.freedesktop.systemd1.Timer "$2" | cut -d' ' -f2
}

sf_stop() {
        in_container systemctl stop "$1.timer" 2>/dev/null || true
        wait_until 10 sf_unit_gone "$1.timer" || true
}

# sf_unit_gone UNIT: systemd has no such unit (any more).
sf_unit_gone() {
        [[ $(in_container systemctl show -P LoadState "$1") == not-found ]]
}

sf_seconds_below() {
        (($(sf_seconds_into_minute) < $1))
}

sf_elapsed_once() {
        (($(sf_prop "$1" LastTriggerUSec) > 0))
}

sf_runs_above() {
        (($(sf_runs "$1") > $2))
}

# sf_runs NAME: how often NAME.service ran.
sf_runs() {
        in_container journalctl --no-pager -o cat -u "$1.service" | grep -c '^Finished ' || true
}

# sf_seconds_into_minute: the container's clock, seconds past the minute.
sf_seconds_into_minute() {
        echo $((10#$(in_container date +%S)))
}

test_schedule_systemd_facts() {
        local rt mono n before
        step "an invalid calendar: refused with systemd's reason, no unit made"
        sf_start sf-bad 'not a calendar'
        ((RC != 0)) || fail "systemd accepted an invalid calendar"
        [[ $ERR == *"Invalid calendar"* ]] || fail "systemd's reason: $ERR"
        note "systemd's answer to an invalid OnCalendar=: $ERR"
        [[ $(in_container systemctl show -P LoadState sf-bad.timer) == not-found ]] || fail "a refused timer exists"
        [[ $(in_container systemctl show -P LoadState sf-bad.service) == not-found ]] || fail "its service exists"

        step "a timer that never elapsed, made again: LastTriggerUSec is the stamp's time, the monotonic one 0"
        sf_start sf-never '2099-01-01'
        expect_ok "a transient timer with an aux service"
        [[ $(sf_prop sf-never LastTriggerUSec) == 0 ]] || fail "a new timer has a LastTriggerUSec"
        sleep 1
        sf_stop sf-never
        sf_start sf-never '2099-01-01'
        expect_ok "made again"
        rt=$(sf_prop sf-never LastTriggerUSec)
        mono=$(sf_prop sf-never LastTriggerUSecMonotonic)
        note "never elapsed, made again: LastTriggerUSec $rt, LastTriggerUSecMonotonic $mono"
        ((rt > 0 && mono == 0)) || fail "expected a stamp time and no monotonic time, got $rt/$mono"
        sf_stop sf-never

        step "each elapse: LastTriggerUSec and its monotonic time, announced by PropertiesChanged"
        in_container timeout 4 busctl monitor --match \
                "type='signal',path='/org/freedesktop/systemd1/unit/sf_2da_2etimer',member='PropertiesChanged'" \
                >"$L4M_WORK/monitor.txt" 2>&1 &
        sleep 0.5
        sf_start sf-a '*:*:*'
        expect_ok "every second"
        wait
        grep -q LastTriggerUSec "$L4M_WORK/monitor.txt" || fail "no PropertiesChanged with LastTriggerUSec"
        (($(sf_prop sf-a LastTriggerUSecMonotonic) > 0)) || fail "an elapse without a monotonic time"
        sf_stop sf-a

        step "stopped over a minute boundary and made again: one elapse at once (Persistent=)"
        wait_until 62 sf_seconds_below 45 || true
        sf_start sf-b '*:*:00'
        expect_ok "per minute"
        wait_until 62 sf_elapsed_once sf-b ||
                fail "sf-b never elapsed"
        sf_stop sf-b
        before=$(sf_runs sf-b)
        sleep $((62 - $(sf_seconds_into_minute) + 2))
        sf_start sf-b '*:*:00'
        expect_ok "made again after a missed elapse"
        wait_until 5 sf_runs_above sf-b "$before" ||
                fail "no elapse at once after a missed one"
        sleep 2
        n=$(sf_runs sf-b)
        ((n == before + 1)) || fail "the missed elapse ran $((n - before)) times"
        (($(sf_prop sf-b LastTriggerUSecMonotonic) > 0)) || fail "the catch-up has no monotonic time"
        note "a missed per-minute elapse ran once when the timer was made again"
        sf_stop sf-b
}
l4m_test schedule-systemd-facts test_schedule_systemd_facts 300

# --- schedules ---------------------------------------------------------------

sc_setup() {
        # shellcheck source=test-23-instances.sh
        source "$(dirname "${BASH_SOURCE[0]}")/test-23-instances.sh"
        ins_setup
        sc_delete_all
        ins_remove "$SC_INSTANCE"
        ins_overlay sc-ov 'mkdir -p left4dead2/addons && echo S > left4dead2/addons/sc.vpk' >/dev/null
        ins_delete_blueprint sc-bp
        gcall alice "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "'sc-bp'" "['sc-ov']" '@a{sv} {}'
        expect_ok "alice creates blueprint sc-bp"
        ins_create alice "$SC_INSTANCE" sc-bp "{'port': <uint16 27080>}"
        expect_ok "alice creates instance $SC_INSTANCE"
}

sc_cleanup() {
        sc_delete_all
        ins_remove "$SC_INSTANCE" || true
}

# sc_delete_all: deletes every schedule (as root).
sc_delete_all() {
        local p
        for p in $(in_container busctl --timeout="$L4M_CALL_TIMEOUT" call "$L4M_BUS" "$L4M_MANAGER" \
                org.left4me.Manager ListSchedules 2>/dev/null | grep -o "$L4M_MANAGER/schedule/[0-9]*" || true); do
                gcall root "$p" org.left4me.Schedule.Delete
        done
}

# sc_create USER NAME CALENDAR ACTION TARGET [GVARIANT-OPTIONS]: CreateSchedule;
# SC_PATH is the new object's path.
sc_create() {
        local opts=${6:-}
        [[ -n $opts ]] || opts='@a{sv} {}'
        gcall "$1" "$L4M_MANAGER" org.left4me.Manager.CreateSchedule "$(gv_str "$2")" "$(gv_str "$3")" \
                "$(gv_str "$4")" "$(gv_str "$5")" "$opts"
        SC_PATH=$(grep -o "$L4M_MANAGER/schedule/[0-9]*" <<<"$OUT" | head -n 1 || true)
}

# sc_prop PATH PROPERTY: a property of a schedule, bare.
sc_prop() {
        in_container busctl --timeout="$L4M_CALL_TIMEOUT" get-property "$L4M_BUS" "$1" org.left4me.Schedule "$2" |
                cut -d' ' -f2- | sed 's/^"\(.*\)"$/\1/'
}

sc_last_run_after() {
        (($(sc_prop "$1" LastRun) > $2))
}

# sc_runs NAME SINCE: how often left4med ran schedule NAME since SINCE
# (seconds since the epoch), from its journal.
sc_runs() {
        in_container journalctl --no-pager -o cat -u left4me.service --since "@$2" |
                grep -c "^Schedule $1 (elapsed): running " || true
}

sc_runs_above() {
        (($(sc_runs "$1" "$2") > $3))
}

# sc_result_is PATH PATTERN: LastResult matches the glob PATTERN.
sc_result_is() {
        # shellcheck disable=SC2053
        [[ $(sc_prop "$1" LastResult) == $2 ]]
}

sc_unit_active() {
        [[ $(in_container systemctl is-active "$1") == active ]]
}

sc_mainpid_changed() {
        local p
        p=$(ins_prop "$SC_INSTANCE" MainPID)
        [[ $p != 0 && $p != "$1" ]]
}

test_sc_restart() {
        local pid run path unit
        sc_setup
        ins_call alice "$SC_INSTANCE" Start
        expect_ok "start $SC_INSTANCE"
        ins_wait_state "$SC_INSTANCE" running

        step "a restart every 5 s changes MainPID within 15 s; LastRun and LastResult follow"
        sc_create alice sc-restart '*:*:0/5' restart "$SC_INSTANCE"
        expect_ok "alice creates a restart schedule"
        path=$SC_PATH
        unit=$(sc_prop "$path" Unit)
        assert_eq "left4me-schedule-$(basename "$path").timer" "$unit" "Unit"
        [[ $(in_container systemctl is-active "$unit") == active ]] || fail "$unit is not active"
        (($(sc_prop "$path" NextElapse) > 0)) || fail "no NextElapse"
        pid=$(ins_prop "$SC_INSTANCE" MainPID)
        wait_until 15 sc_mainpid_changed "$pid" || fail "MainPID is still $pid after 15 s"
        wait_until 10 sc_last_run_after "$path" 0 || fail "LastRun did not follow"
        wait_until 10 sc_result_is "$path" success ||
                fail "LastResult is $(sc_prop "$path" LastResult)"
        assert_eq / "$(sc_prop "$path" LastJob)" "LastJob of a restart"

        step "disabled: no more restarts"
        gcall alice "$path" org.left4me.Schedule.SetEnabled true
        expect_ok "enable (no change)"
        gcall alice "$path" org.left4me.Schedule.SetEnabled false
        expect_ok "alice disables it"
        assert_eq 0 "$(sc_prop "$path" NextElapse)" "NextElapse while disabled"
        ins_wait_state "$SC_INSTANCE" running
        sleep 1
        pid=$(ins_prop "$SC_INSTANCE" MainPID)
        run=$(sc_prop "$path" LastRun)
        sleep 12
        assert_eq "$pid" "$(ins_prop "$SC_INSTANCE" MainPID)" "MainPID after 12 s disabled"
        assert_eq "$run" "$(sc_prop "$path" LastRun)" "LastRun after 12 s disabled"

        step "bob may not touch alice's schedule; mallory may not create one on alice's instance"
        gcall bob "$path" org.left4me.Schedule.SetEnabled true
        ins_expect_denied "bob enables alice's schedule"
        sc_create mallory sc-mallory '*:*:0/5' stop "$SC_INSTANCE"
        ins_expect_denied "mallory schedules a stop of alice's instance"

        step "deleted: the timer goes"
        gcall alice "$path" org.left4me.Schedule.Delete
        expect_ok "alice deletes it"
        wait_until 10 sf_unit_gone "$unit" ||
                fail "$unit is still there"
        assert_eq 0 "$(sql "SELECT count(*) FROM schedules WHERE name = 'sc-restart';")" "rows left"
        sc_cleanup
}
l4m_test schedules-restart test_sc_restart 180

test_sc_invalid() {
        local units_before
        sc_setup
        units_before=$(in_container systemctl list-units --all --plain --no-legend 'left4me-schedule-*' | wc -l)

        step "an invalid calendar: InvalidArgument with systemd's reason, nothing left"
        sc_create alice sc-bad 'every other tuesday' restart "$SC_INSTANCE"
        expect_dbus_error org.left4me.Error.InvalidArgument "an invalid calendar"
        [[ $ERR == *"Invalid calendar"* ]] || fail "not systemd's reason: $ERR"
        note "CreateSchedule with an invalid calendar: $ERR"
        gcall alice "$L4M_MANAGER" org.left4me.Manager.GetSchedule "'sc-bad'"
        expect_dbus_error org.left4me.Error.NotFound "GetSchedule of the refused one"
        assert_eq 0 "$(sql "SELECT count(*) FROM schedules;")" "rows after the refusal"
        assert_eq "$units_before" "$(in_container systemctl list-units --all --plain --no-legend 'left4me-schedule-*' | wc -l)" \
                "schedule units after the refusal"

        step "checks before anything else"
        sc_create alice 'Bad Name' '*:*:0/5' restart "$SC_INSTANCE"
        expect_dbus_error org.left4me.Error.InvalidArgument "a bad name"
        sc_create alice sc-x '*:*:0/5' explode "$SC_INSTANCE"
        expect_dbus_error org.left4me.Error.InvalidArgument "an unknown action"
        sc_create alice sc-x '*:*:0/5' restart no-such-instance
        expect_dbus_error org.left4me.Error.NotFound "an unknown instance"
        sc_create alice sc-x '*:*:0/5' build no-such-overlay
        expect_dbus_error org.left4me.Error.NotFound "an unknown overlay"
        sc_create alice sc-x '*:*:0/5' command "$SC_INSTANCE"
        expect_dbus_error org.left4me.Error.InvalidArgument "a command without argument"
        sc_create alice sc-x '*:*:0/5' restart "$SC_INSTANCE" "{'argument': <'status'>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "an argument for a restart"
        sc_create alice sc-x '*:*:0/5' restart "$SC_INSTANCE" "{'colour': <'red'>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "an unknown option"
        sc_create alice sc-x '*:*:0/5' restart "$SC_INSTANCE" "{'randomized_delay_usec': <uint64 86400000001>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "a delay over 24 h"
        sc_create alice sc-x '*:*:0/5' start "$SC_INSTANCE" "{'only_if_running': <true>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "only_if_running for start"

        step "a name in use: Exists"
        sc_create alice sc-x 'daily' restart "$SC_INSTANCE" "{'enabled': <false>}"
        expect_ok "alice creates sc-x"
        sc_create alice sc-x 'daily' restart "$SC_INSTANCE"
        expect_dbus_error org.left4me.Error.Exists "the same name again"
        sc_cleanup
}
l4m_test schedules-invalid test_sc_invalid 180

test_sc_persistent() {
        local path t0 t1 n
        sc_setup
        ins_call alice "$SC_INSTANCE" Start
        expect_ok "start $SC_INSTANCE"
        ins_wait_state "$SC_INSTANCE" running

        step "a per-minute command schedule; its first elapse"
        wait_until 62 sf_seconds_below 40 || true
        sc_create alice sc-minute '*:*:00' command "$SC_INSTANCE" "{'argument': <'say minute'>}"
        expect_ok "alice creates a per-minute schedule"
        path=$SC_PATH
        t0=$(in_container date +%s)
        wait_until 70 sc_last_run_after "$path" 0 || fail "it never ran"
        assert_eq 1 "$(sc_runs sc-minute "$t0")" "runs of the first elapse"

        step "a daemon restart right after: the elapse is not run again"
        # The journal's --since counts whole seconds: a second after the run's line.
        sleep 1.1
        t1=$(in_container date +%s)
        capture in_container systemctl restart left4me.service
        expect_ok "restart left4me"
        reset_start_limit
        daemon_up
        wait_until 10 sc_unit_active "$(sc_prop "$path" Unit)" ||
                fail "the timer was not made again"
        sleep 3
        assert_eq 1 "$(sc_runs sc-minute "$t0")" "runs after a daemon restart"
        assert_eq 0 "$(sc_runs sc-minute "$t1")" "runs since the daemon restart"

        step "left4me stopped over the next elapse: it runs once at the next start"
        daemon_stop
        wait_until 10 sf_unit_gone "left4me-schedule-$(basename "$path").timer" ||
                fail "the timer outlived left4me (PartOf=)"
        sleep $((62 - $(sf_seconds_into_minute) + 3))
        t1=$(in_container date +%s)
        daemon_up
        wait_until 15 sc_runs_above sc-minute "$t1" 0 ||
                fail "the missed elapse did not run"
        sleep 5
        n=$(sc_runs sc-minute "$t1")
        # Unless the next minute came meanwhile (the start took long).
        if (($(sf_seconds_into_minute) > 10)); then
                assert_eq 1 "$n" "runs of the missed elapse"
        fi
        (($(sc_prop "$path" LastRun) / 1000000 >= t1)) || fail "LastRun is not the missed elapse's run"
        note "missed per-minute elapse: ran $n time(s) after left4me started again"
        sc_cleanup
}
l4m_test schedules-persistent test_sc_persistent 300

test_sc_command() {
        local path
        sc_setup
        step "a command schedule on a stopped instance is skipped"
        sc_create alice sc-cmd '*:*:0/5' command "$SC_INSTANCE" "{'argument': <'say from-a-schedule'>}"
        expect_ok "alice creates a command schedule"
        path=$SC_PATH
        gcall alice "$path" org.left4me.Schedule.Run
        expect_ok "Run"
        wait_until 5 sc_result_is "$path" 'skipped:*' ||
                fail "LastResult is $(sc_prop "$path" LastResult)"

        step "it reaches the running server over RCON"
        ins_call alice "$SC_INSTANCE" Start
        expect_ok "start $SC_INSTANCE"
        ins_wait_state "$SC_INSTANCE" running
        wait_until 15 ins_journal_has "$SC_INSTANCE" "rcon: say from-a-schedule" ||
                fail "the server got no command ($(ins_journal "$SC_INSTANCE" | tail -n 5 | paste -sd '|'))"
        wait_until 10 sc_result_is "$path" success ||
                fail "LastResult is $(sc_prop "$path" LastResult)"
        sc_cleanup
}
l4m_test schedules-command test_sc_command 180

test_sc_target_deleted() {
        local path
        sc_setup
        sc_create alice sc-gone 'daily' start "$SC_INSTANCE"
        expect_ok "alice creates a schedule"
        path=$SC_PATH
        assert_eq false "$(sc_prop "$path" TargetMissing)" "TargetMissing before"

        step "the instance is deleted: the schedule says so"
        ins_call alice "$SC_INSTANCE" Delete
        expect_ok "alice deletes $SC_INSTANCE"
        assert_eq true "$(sc_prop "$path" TargetMissing)" "TargetMissing"
        gcall alice "$path" org.left4me.Schedule.Run
        expect_ok "Run"
        wait_until 5 sc_result_is "$path" "failed: instance*$SC_INSTANCE*was deleted" ||
                fail "LastResult is $(sc_prop "$path" LastResult)"
        capture as_user alice l4mctl schedule list
        expect_ok "l4mctl schedule list"
        [[ $OUT == *sc-gone*"was deleted"* ]] || fail "the list does not show it: $OUT"

        step "after a daemon restart still"
        daemon_stop
        daemon_up
        assert_eq true "$(sc_prop "$path" TargetMissing)" "TargetMissing after a restart"
        sc_cleanup
}
l4m_test schedules-target-deleted test_sc_target_deleted 180

test_sc_l4mctl() {
        local path live
        sc_setup
        step "l4mctl schedule create, list, show, disable, enable, run, delete"
        capture as_user alice l4mctl schedule create sc-cli 'daily' command "$SC_INSTANCE" 'say hi' --only-if-running --randomized-delay=60
        expect_ok "schedule create"
        gcall alice "$L4M_MANAGER" org.left4me.Manager.GetSchedule "'sc-cli'"
        expect_ok "GetSchedule"
        path=$(grep -o "$L4M_MANAGER/schedule/[0-9]*" <<<"$OUT")
        assert_eq 60000000 "$(sc_prop "$path" RandomizedDelayUSec)" "RandomizedDelayUSec"
        assert_eq true "$(sc_prop "$path" OnlyIfRunning)" "OnlyIfRunning"
        assert_eq "say hi" "$(sc_prop "$path" Argument)" "Argument"
        capture as_user alice l4mctl schedule list
        expect_ok "schedule list"
        [[ $OUT == *sc-cli*daily*command*"$SC_INSTANCE"* ]] || fail "list: $OUT"
        capture as_user alice l4mctl schedule list --json
        expect_ok "schedule list --json"
        json '[s["name"] for s in d]' <<<"$OUT" | grep -q sc-cli || fail "list --json: $OUT"
        capture as_user alice l4mctl schedule show sc-cli
        expect_ok "schedule show"
        [[ $OUT == *"say hi"* ]] || fail "show: $OUT"
        capture as_user alice l4mctl schedule disable sc-cli
        expect_ok "schedule disable"
        assert_eq false "$(sc_prop "$path" Enabled)" "Enabled after disable"
        capture as_user alice l4mctl schedule enable sc-cli
        expect_ok "schedule enable"
        assert_eq true "$(sc_prop "$path" Enabled)" "Enabled after enable"
        capture as_user alice l4mctl schedule run sc-cli
        expect_ok "schedule run"
        wait_until 5 sc_result_is "$path" 'skipped:*' ||
                fail "LastResult is $(sc_prop "$path" LastResult)"

        step "the object's introspection is dbus/org.left4me.Schedule.xml"
        live=$L4M_WORK/schedule.live.xml
        in_container busctl --timeout="$L4M_CALL_TIMEOUT" introspect --xml-interface "$L4M_BUS" "$path" >"$live"
        capture python3 "$L4M_SRCDIR/tests/integration/check-introspection.py" "$L4M_SRCDIR/dbus/org.left4me.Schedule.xml" "$live"
        expect_ok "introspection of a schedule"
        in_container busctl --timeout="$L4M_CALL_TIMEOUT" introspect --xml-interface "$L4M_BUS" "$L4M_MANAGER" >"$live"
        capture python3 "$L4M_SRCDIR/tests/integration/check-introspection.py" "$L4M_SRCDIR/dbus/org.left4me.Manager.xml" "$live"
        expect_ok "introspection of the manager"

        capture as_user alice l4mctl schedule delete sc-cli
        expect_ok "schedule delete"
        capture as_user alice l4mctl schedule show sc-cli
        ((RC != 0)) || fail "show of a deleted schedule succeeded"
        sc_cleanup
}
l4m_test schedules-l4mctl test_sc_l4mctl 180
