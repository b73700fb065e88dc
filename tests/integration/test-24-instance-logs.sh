# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Instance logs: org.left4me.Instance.OpenLog (the unit's journal, read by
# left4med with sd-journal, then, following, the server's lines as left4med
# reads them from its console) and 'l4mctl instance logs'. History with -n,
# following with -f (a line the server prints later arrives), who may read,
# lines of other units (and forged UNIT= fields) never showing, the stream
# going away with its reader (the daemon's descriptors return to what they
# were), Ctrl-C ending 'logs -f' cleanly, and the bound on open streams.
# The instance runs on the fake installation of test-23-instances.sh, whose
# helpers (ins_*) it uses.

LG_NAME=lg-a
LG_UNIT=left4me-server-$LG_NAME.service
LG_FOLLOW_UNIT=lg-follow.service

# lg_setup: the helpers of the instance tests, the fake installation, and
# alice's instance lg-a (stopped, fresh) on her blueprint lg-bp.
lg_setup() {
        # shellcheck source=test-23-instances.sh
        source "$(dirname "${BASH_SOURCE[0]}")/test-23-instances.sh"
        ins_setup
        ins_remove "$LG_NAME"
        ins_overlay lg-ov 'mkdir -p left4dead2/addons && echo L > left4dead2/addons/lg.vpk' >/dev/null
        ins_delete_blueprint lg-bp
        gcall alice "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "'lg-bp'" "['lg-ov']" '@a{sv} {}'
        expect_ok "alice creates blueprint lg-bp"
        ins_create alice "$LG_NAME" lg-bp "{'port': <uint16 27070>}"
        expect_ok "alice creates instance $LG_NAME"
}

lg_cleanup() {
        in_container systemctl stop "$LG_FOLLOW_UNIT" 2>/dev/null || true
        in_container systemctl reset-failed "$LG_FOLLOW_UNIT" 2>/dev/null || true
        ins_remove "$LG_NAME" || true
}

# lg_daemon_fds: how many descriptors left4med has open.
lg_daemon_fds() {
        local pid
        pid=$(in_container systemctl show -P MainPID left4me.service)
        ((pid > 0)) || fail "left4me.service has no main process"
        in_container find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l
}

# lg_fds_at_most N: left4med holds no more than N descriptors (a reader
# that went away left none behind; an unrelated one, such as a journal
# file rotated meanwhile, may have closed too).
lg_fds_at_most() {
        (($(lg_daemon_fds) <= $1))
}

# The messages of 'logs' output: the text after "TIMESTAMP IDENT[PID]: ".
lg_messages() {
        sed -E 's/^[^ ]+ [^ :]+(\[[0-9]+\])?: //'
}

lg_file_has() {
        in_container grep -qF -- "$2" "$1"
}

lg_file_lines() {
        in_container sh -c "wc -l < '$1'"
}

# The follower's unit has RemainAfterExit=yes, so that its exit status
# stays readable (a unit that exits cleanly is otherwise unloaded, and one
# killed by SIGINT counts as clean).
lg_follow_ended() {
        local s
        s=$(in_container systemctl show -P SubState "$LG_FOLLOW_UNIT" 2>/dev/null) || true
        [[ $s == exited || $s == dead || $s == failed ]]
}

lg_forged_in_journal() {
        in_container journalctl --no-pager -o cat "UNIT=$LG_UNIT" | grep -x lg-forged-line >/dev/null
}

lg_stopped_in_journal() {
        in_container journalctl --no-pager -o cat -u "$LG_UNIT" | grep '^Stopped ' >/dev/null
}

# lg_unit_quiet: the unit's journal has not grown for half a second. The
# server's output (the stop helper's too) reaches the journal through
# left4med, systemd's lines about the unit straight: those may come before
# the last of the output.
lg_unit_quiet() {
        local a b
        a=$(in_container journalctl --no-pager -q --show-cursor -n 1 -u "$LG_UNIT" | tail -n 1)
        sleep 0.5
        b=$(in_container journalctl --no-pager -q --show-cursor -n 1 -u "$LG_UNIT" | tail -n 1)
        [[ $a == "$b" ]]
}

test_lg_logs() {
        local out fds0 fds1 n expected got follow
        trap lg_cleanup EXIT
        lg_setup

        step "a new instance has no history"
        capture as_user alice l4mctl instance logs "$LG_NAME"
        expect_ok "alice: l4mctl instance logs $LG_NAME (never started)"
        assert_eq "" "$OUT" "the log of an instance that never ran"

        step "who may read it"
        for u in bob mallory; do
                capture as_user "$u" l4mctl --no-ask-password instance logs "$LG_NAME"
                expect_exit 5 "$u: l4mctl instance logs of alice's instance"
                ins_call "$u" "$LG_NAME" OpenLog true "uint64 10"
                ins_expect_denied "$u: OpenLog of alice's instance"
        done

        ins_call alice "$LG_NAME" Start
        expect_ok "alice starts $LG_NAME"
        ins_wait_state "$LG_NAME" running
        wait_until 20 ins_journal_has "$LG_NAME" "fake srcds: ready" ||
                fail "the server never got ready: $(ins_journal "$LG_NAME" | tail -n 5)"
        # The RCON connection stays open from now on: counted in the baseline.
        ins_call alice "$LG_NAME" SendCommand "'status'"
        expect_ok "alice: SendCommand status"
        capture as_user carol l4mctl instance logs "$LG_NAME" -n 5
        expect_ok "carol (admin): l4mctl instance logs of alice's instance"
        [[ $OUT == *"fake srcds: ready"* ]] || fail "carol's view lacks the server's lines: $OUT"

        step "logs -f as a unit of its own, started first"
        fds0=$(lg_daemon_fds)
        follow=$TF_DIR/follow.txt
        capture in_container systemd-run --quiet --unit="$LG_FOLLOW_UNIT" -p User=alice -p RemainAfterExit=yes \
                -p StandardOutput="truncate:$follow" -p StandardError="truncate:$follow.err" \
                l4mctl instance logs "$LG_NAME" -f -n 1
        expect_ok "systemd-run of l4mctl instance logs -f"
        # Its one line of history shows that the stream is open.
        wait_until 10 lg_file_has "$follow" "rcon: status" ||
                fail "logs -f -n 1 printed no history: $(in_container cat "$follow" "$follow.err")"
        fds1=$(lg_daemon_fds)
        ((fds1 > fds0)) || fail "left4med holds no more descriptors with a stream open ($fds0, then $fds1)"

        step "lines of other units, and forged UNIT= fields, stay out"
        capture in_container systemd-run --quiet --wait --unit=lg-other -p User=alice echo lg-other-unit-line
        expect_ok "a unit of alice's printing a line"
        # Any process may log a UNIT= field; only systemd's (_PID=1) count.
        # As the game user (another instance's server, say): a system user's
        # lines go to the system journal, which is what the daemon reads.
        capture in_container sh -c "printf 'MESSAGE=lg-forged-line\nUNIT=$LG_UNIT\n' |
                setpriv --reuid=$L4M_GAME_USER --regid=$L4M_GAME_USER --init-groups logger --journald"
        expect_ok "the game user logs a forged UNIT= line"
        wait_until 10 lg_forged_in_journal ||
                fail "the forged line is not in the journal (the test would prove nothing)"

        step "a line the server prints now reaches the follower"
        ins_call alice "$LG_NAME" SendCommand "'echo marker-XYZ'"
        expect_ok "alice: SendCommand echo marker-XYZ"
        wait_until 10 lg_file_has "$follow" "rcon: echo marker-XYZ" ||
                fail "the follower did not get the marker: $(in_container tail -n 5 "$follow")"
        out=$(in_container cat "$follow")
        [[ $out != *lg-other-unit-line* ]] || fail "a line of another unit reached the follower: $out"
        [[ $out != *lg-forged-line* ]] || fail "a forged UNIT= line reached the follower: $out"
        # One message a line, each "TIMESTAMP IDENT[PID]: MESSAGE".
        grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}[+-][0-9]{4} [^ ]+\[[0-9]+\]: rcon: echo marker-XYZ$' <<<"$out" ||
                fail "the marker line is not 'TIMESTAMP IDENT[PID]: MESSAGE': $(grep marker <<<"$out")"

        step "Ctrl-C ends logs -f with exit 0; the daemon frees the stream"
        in_container systemctl kill --signal=SIGINT "$LG_FOLLOW_UNIT"
        wait_until 10 lg_follow_ended || fail "l4mctl instance logs -f did not end on SIGINT"
        # ExecMainCode 1 is CLD_EXITED: it exited, was not killed.
        assert_eq "1 0" "$(in_container systemctl show -P ExecMainCode,ExecMainStatus "$LG_FOLLOW_UNIT" | paste -sd ' ')" \
                "how logs -f ended after SIGINT (ExecMainCode ExecMainStatus)"
        assert_eq "" "$(in_container cat "$follow.err")" "stderr of logs -f"
        wait_until 10 lg_fds_at_most "$fds0" ||
                fail "left4med's descriptors did not return to $fds0 after the reader went away (now $(lg_daemon_fds))"
        in_container systemctl stop "$LG_FOLLOW_UNIT"

        step "history after the server stopped: -n N gives the last N lines"
        ins_call alice "$LG_NAME" Stop
        expect_ok "alice stops $LG_NAME"
        ins_wait_state "$LG_NAME" stopped
        # systemd's own lines about the unit come in too ("Stopped ...").
        wait_until 10 lg_stopped_in_journal ||
                fail "systemd's 'Stopped' line is not in the unit's journal"
        wait_until 10 lg_unit_quiet || fail "the unit's journal is still growing"
        for n in 1 3 7; do
                capture as_user alice l4mctl instance logs "$LG_NAME" -n "$n"
                expect_ok "alice: l4mctl instance logs -n $n"
                assert_eq "$n" "$(wc -l <<<"$OUT")" "lines of logs -n $n"
                got=$(lg_messages <<<"$OUT")
                expected=$(in_container journalctl --no-pager -o cat -u "$LG_UNIT" -n "$n")
                assert_eq "$expected" "$got" "logs -n $n against journalctl -u -n $n"
        done
        grep -q 'systemd\[1\]: Stopped ' <<<"$OUT" || fail "systemd's 'Stopped' line is not among the last 7: $OUT"
        capture as_user alice l4mctl instance logs "$LG_NAME" -n 0
        expect_ok "alice: l4mctl instance logs -n 0"
        assert_eq "" "$OUT" "logs -n 0"
        # Without -n: the last 50 (there are fewer), the server's whole run.
        capture as_user alice l4mctl instance logs "$LG_NAME"
        expect_ok "alice: l4mctl instance logs"
        assert_eq "$(in_container journalctl --no-pager -o cat -u "$LG_UNIT" -n 50 | wc -l)" "$(wc -l <<<"$OUT")" "lines of logs without -n"
        [[ $OUT == *"fake srcds: starting on port 27070"* && $OUT == *"rcon: echo marker-XYZ"* ]] ||
                fail "logs lacks the server's lines: $OUT"
        [[ $OUT != *lg-forged-line* && $OUT != *lg-other-unit-line* ]] || fail "logs shows lines not of the unit: $OUT"
        capture as_user alice l4mctl instance logs "$LG_NAME" -n 10001
        expect_exit 2 "logs -n 10001"

        step "a new instance of the same name does not see the old one's log"
        ins_call alice "$LG_NAME" Delete
        expect_ok "alice deletes $LG_NAME"
        ins_create alice "$LG_NAME" lg-bp "{'port': <uint16 27070>}"
        expect_ok "alice creates $LG_NAME again"
        capture as_user alice l4mctl instance logs "$LG_NAME" -n 100
        expect_ok "alice: l4mctl instance logs of the new $LG_NAME"
        assert_eq "" "$OUT" "the log of the new $LG_NAME"
}
l4m_test instance-logs test_lg_logs 300

# The bound on open streams: 16 per caller, then Busy; closing them all
# gives their descriptors back.
test_lg_logs_bound() {
        local fds0 out
        trap lg_cleanup EXIT
        lg_setup
        ins_call alice "$LG_NAME" OpenLog false "uint64 10"
        expect_ok "OpenLog before any is held"
        fds0=$(lg_daemon_fds)
        out=$(pybus alice "$(ins_path "$LG_NAME")" <<'PY'
import dbus
obj = dbus.SystemBus().get_object("org.left4me.Manager", sys.argv[1])
held = []
for i in range(16):
    held.append(obj.OpenLog(True, dbus.UInt64(0), dbus_interface="org.left4me.Instance"))
try:
    obj.OpenLog(True, dbus.UInt64(0), dbus_interface="org.left4me.Instance")
    print("17th: ok")
except dbus.exceptions.DBusException as e:
    print("17th: " + e.get_dbus_name())
PY
        )
        assert_eq "17th: org.left4me.Error.Busy" "$out" "the 17th OpenLog of one caller"
        # The python process is gone with its 16 read ends.
        wait_until 10 lg_fds_at_most "$fds0" ||
                fail "left4med's descriptors did not return to $fds0 after 16 readers went away (now $(lg_daemon_fds))"
        ins_call alice "$LG_NAME" OpenLog true "uint64 0"
        expect_ok "OpenLog once the others are closed"
}
l4m_test instance-logs-bound test_lg_logs_bound 240

lg_file_exists() {
        in_container test -e "$1"
}

# A follower of a deleted instance sees its stream end at Delete: a new
# instance of the same name (someone else's, say) must not reach it.
test_lg_logs_delete() {
        local out
        trap lg_cleanup EXIT
        lg_setup
        out=$TF_DIR/lg-delete.out
        # Says "open" once it has the stream, reads it to its end, then
        # says how many bytes it got.
        capture in_container systemd-run --quiet --unit="$LG_FOLLOW_UNIT" -p User=alice -p RemainAfterExit=yes \
                -p StandardOutput="truncate:$out" -p StandardError="truncate:$out.err" "$L4M_PY" -c '
import dbus, os, sys
obj = dbus.SystemBus().get_object("org.left4me.Manager", sys.argv[1])
fd = obj.OpenLog(True, dbus.UInt64(0), dbus_interface="org.left4me.Instance").take()
print("open", flush=True)
n = 0
while True:
    chunk = os.read(fd, 65536)
    if not chunk:
        break
    n += len(chunk)
print("end of file after %d bytes" % n, flush=True)' "$(ins_path "$LG_NAME")"
        expect_ok "a follower of $LG_NAME"
        wait_until 10 lg_file_has "$out" open || fail "the follower did not open the log: $(in_container cat "$out" "$out.err")"
        ! lg_file_has "$out" "end of file" || fail "the follow stream ended before Delete: $(in_container cat "$out")"
        ins_call alice "$LG_NAME" Delete
        expect_ok "alice deletes $LG_NAME"
        wait_until 10 lg_file_has "$out" "end of file" ||
                fail "the follower of the deleted $LG_NAME got no end of file: $(in_container cat "$out" "$out.err")"

        step "a new instance of the name does not reach the old follower"
        ins_create alice "$LG_NAME" lg-bp "{'port': <uint16 27070>}"
        expect_ok "alice creates $LG_NAME again"
        ins_call alice "$LG_NAME" Start
        expect_ok "Start the new $LG_NAME"
        ins_wait_state "$LG_NAME" running
        assert_eq "open|end of file after 0 bytes" "$(in_container cat "$out" | paste -sd '|')" "what the old follower got"
}
l4m_test instance-logs-delete test_lg_logs_delete 240
