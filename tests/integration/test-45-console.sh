# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The console path: left4med reads each server's stdout and stderr from a
# pipe of its own and sends each line on to the journal (OBJECT_SYSTEMD_UNIT=)
# and to the followers of Instance.OpenLog. No line is lost or reordered
# while left4med restarts (systemctl restart, SIGKILL and Restart=) or the
# server crashes and is restarted by systemd, with 100,000 lines flooding;
# a follower sees every line in order while it is connected; a server whose
# reader is gone (left4med stopped) keeps running; a line begun when left4med
# stops reaches the journal in two pieces. The fake server's
# fake_flood prints numbered lines, waiting whenever the pipe is full (the
# server's write fails with EAGAIN then). The instance runs on the fake
# installation of test-23-instances.sh, whose helpers (ins_*) it uses.

CS_NAME=cs-a
CS_UNIT=left4me-server-$CS_NAME.service
CS_FOLLOW_UNIT=cs-follow.service
CS_FLOOD=${L4M_CONSOLE_FLOOD:-100000}

cs_setup() {
        # shellcheck source=test-23-instances.sh
        source "$(dirname "${BASH_SOURCE[0]}")/test-23-instances.sh"
        ins_setup
        ins_remove "$CS_NAME"
        ins_overlay cs-ov 'mkdir -p left4dead2/addons && echo C > left4dead2/addons/cs.vpk' >/dev/null
        ins_delete_blueprint cs-bp
        gcall alice "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "'cs-bp'" "['cs-ov']" '@a{sv} {}'
        expect_ok "alice creates blueprint cs-bp"
        ins_create alice "$CS_NAME" cs-bp "{'port': <uint16 27075>}"
        expect_ok "alice creates instance $CS_NAME"
        ins_call alice "$CS_NAME" Start
        expect_ok "alice starts $CS_NAME"
        ins_wait_state "$CS_NAME" running
        wait_until 20 ins_journal_has "$CS_NAME" "fake srcds: ready" ||
                fail "the server never got ready: $(ins_journal "$CS_NAME" | tail -n 5)"
}

cs_cleanup() {
        in_container systemctl stop "$CS_FOLLOW_UNIT" 2>/dev/null || true
        in_container systemctl reset-failed "$CS_FOLLOW_UNIT" 2>/dev/null || true
        in_container systemctl start left4me.service 2>/dev/null || true
        ins_remove "$CS_NAME" || true
}

cs_server_pid() {
        in_container systemctl show -P MainPID "$CS_UNIT"
}

# cs_flood N TAG: the server prints "flood TAG 1" .. "flood TAG N", "flood TAG done".
cs_flood() {
        ins_call alice "$CS_NAME" SendCommand "$(gv_str "fake_flood $1 $2")"
        expect_ok "alice: fake_flood $1 $2"
}

# cs_last_flood TAG: the number of the last "flood TAG N" line the journal
# has for the unit (0 if none).
cs_last_flood() {
        local n
        n=$(in_container journalctl --no-pager -o cat -u "$CS_UNIT" --grep "^flood $1 [0-9]+\$" -n 1 2>/dev/null |
                awk '{print $3}') || true
        echo "${n:-0}"
}

cs_flood_reached() {
        (($(cs_last_flood "$1") >= $2))
}

cs_flood_done() {
        in_container journalctl --no-pager -o cat -u "$CS_UNIT" --grep "^flood $1 done\$" -n 1 2>/dev/null |
                grep -q 'done'
}

# cs_check_lines TAG FIRST LAST WHAT [FILE]: the "flood TAG N" lines of the
# unit's journal (journalctl -u), or of FILE (a follower's output), are
# FIRST..LAST, each once, in order.
cs_check_lines() {
        local tag=$1 first=$2 last=$3 what=$4 file=${5:-} got
        if [[ -n $file ]]; then
                got=$(in_container sh -c "sed -nE 's/^.*: (flood $tag [0-9]+)\$/\\1/p' '$file' | awk '{print \$3}' |
                        awk -v a=$first -v b=$last 'BEGIN { want = a } \$1 != want { bad++; if (bad < 4) print \"line \" NR \": \" \$1 \" where \" want \" was due\"; want = \$1 } { want++ } END { if (want != b + 1) print \"ended before \" want - 1 \" of \" b; print NR \" lines\" }'")
        else
                got=$(in_container sh -c "journalctl --no-pager -o cat -u '$CS_UNIT' --grep '^flood $tag [0-9]+\$' | awk '{print \$3}' |
                        awk -v a=$first -v b=$last 'BEGIN { want = a } \$1 != want { bad++; if (bad < 4) print \"line \" NR \": \" \$1 \" where \" want \" was due\"; want = \$1 } { want++ } END { if (want != b + 1) print \"ended before \" want - 1 \" of \" b; print NR \" lines\" }'")
        fi
        assert_eq "$((last - first + 1)) lines" "$got" "$what: the 'flood $tag' lines $first..$last, each once and in order"
}

# (a) left4med restarted (systemctl restart) and killed (SIGKILL, then
# Restart=) while 100,000 lines flood: every line once, in order, in
# journalctl -u.
test_cs_daemon_restart() {
        local pid0 pid1 third=$((CS_FLOOD / 3)) server
        trap cs_cleanup EXIT
        cs_setup
        server=$(cs_server_pid)
        assert_eq "1s" "$(unit_prop LogRateLimitIntervalUSec)" "left4me.service's LogRateLimitIntervalSec"
        assert_eq "1000000" "$(unit_prop LogRateLimitBurst)" "left4me.service's LogRateLimitBurst"
        [[ $(unit_prop FileDescriptorStoreMax) -gt 0 ]] || fail "left4me.service has no file descriptor store"
        assert_eq "yes" "$(in_container systemctl show -P IgnoreSIGPIPE "$CS_UNIT")" "the server's IgnoreSIGPIPE"
        [[ $(in_container systemctl show -P NFileDescriptorStore left4me.service) -ge 1 ]] ||
                fail "left4med did not put the console in its store"

        cs_flood "$CS_FLOOD" a
        wait_until 60 cs_flood_reached a "$third" || fail "the flood did not reach line $third (at $(cs_last_flood a))"

        step "systemctl restart left4me in the middle of the flood"
        pid0=$(unit_prop MainPID)
        capture in_container systemctl restart left4me.service
        expect_ok "systemctl restart left4me"
        wait_until 20 mainpid_changed_from "$pid0" || fail "left4me did not come back"
        in_container journalctl --no-pager -o cat _PID="$(unit_prop MainPID)" | grep -qF "Reading on the console of $CS_UNIT" ||
                fail "the new left4med did not take the console back: $(in_container journalctl --no-pager -o cat _PID="$(unit_prop MainPID)" | tail -n 5)"
        wait_until 60 cs_flood_reached a $((2 * third)) || fail "the flood did not reach line $((2 * third)) (at $(cs_last_flood a))"

        step "SIGKILL of left4med in the middle of the flood; Restart= brings it back"
        pid1=$(unit_prop MainPID)
        in_container kill -KILL "$pid1"
        wait_until 30 mainpid_changed_from "$pid1" || fail "left4me did not come back after SIGKILL"
        reset_start_limit
        wait_until 120 cs_flood_done a || fail "the flood did not end (at $(cs_last_flood a))"

        cs_check_lines a 1 "$CS_FLOOD" "across a restart and a SIGKILL of left4med"
        assert_eq "$server" "$(cs_server_pid)" "the server's main process (it ran on throughout)"
}
l4m_test console-daemon-restart test_cs_daemon_restart 600

# (b) The server crashes (SIGKILL of its main process) in the middle of a
# flood: Restart=on-failure starts it again on the same pipe; every line it
# wrote before (most of them still in the pipe when it died: it holds 1 MiB)
# is there once, in order, and so is every line of a flood after.
test_cs_server_crash() {
        local server0 n
        trap cs_cleanup EXIT
        cs_setup
        server0=$(cs_server_pid)
        cs_flood "$CS_FLOOD" b
        # Half a second in: the pipe (1 MiB, about 75,000 of these lines)
        # is full or nearly, and the server is still writing.
        sleep 0.5

        step "the server's main process is killed"
        in_container kill -KILL "$server0"
        wait_until 30 mainpid_is_new "$server0" || fail "systemd did not restart the server: $(ins_unit_status "$CS_NAME")"
        assert_eq 1 "$(in_container systemctl show -P NRestarts "$CS_UNIT")" "the server unit's NRestarts (Restart=on-failure)"
        ins_wait_state "$CS_NAME" running 60
        wait_until 30 ins_journal_has "$CS_NAME" "fake srcds: ready" || fail "the restarted server did not get ready"
        # The lines it wrote before it died, all read out of the pipe
        # before the new server's first ones.
        n=$(cs_last_flood b)
        ((n >= 1)) || fail "the killed server wrote no line"
        note "the killed server's last line: $n of $CS_FLOOD"
        cs_check_lines b 1 "$n" "the lines the killed server wrote"

        step "a flood of the restarted server"
        wait_until 30 ins_state_is "$CS_NAME" running || fail "not running"
        cs_flood "$((CS_FLOOD / 4))" c
        wait_until 120 cs_flood_done c || fail "the second flood did not end (at $(cs_last_flood c))"
        cs_check_lines c 1 "$((CS_FLOOD / 4))" "after the server's restart"
        cs_check_lines b 1 "$n" "the killed server's lines, again"
}
l4m_test console-server-crash test_cs_server_crash 600

# (c) left4med stopped (not restarted): systemd lets go of the read end, the
# server's writes fail with EPIPE and it keeps running; the next left4med
# warns that it has no console of it; the next start has one again.
test_cs_reader_gone() {
        local server pid writes
        trap cs_cleanup EXIT
        cs_setup
        server=$(cs_server_pid)
        writes=$(ins_upper "$CS_NAME")/left4dead2/logs/fake-srcds-writes.txt

        in_container systemctl kill --kill-who=main --signal=SIGUSR2 "$CS_UNIT"
        wait_until 10 lg_like_has "$writes" "1 ok" || fail "the server's first write did not succeed: $(in_container cat "$writes")"
        wait_until 10 ins_journal_has "$CS_NAME" "fake srcds: alive 1" || fail "the journal lacks 'alive 1'"

        step "left4med stopped: the server writes into a pipe nobody reads"
        daemon_stop
        assert_eq 0 "$(in_container systemctl show -P NFileDescriptorStore left4me.service 2>/dev/null || echo 0)" \
                "descriptors in left4me's store after a stop"
        in_container systemctl kill --kill-who=main --signal=SIGUSR2 "$CS_UNIT"
        wait_until 10 lg_like_has "$writes" "2 EPIPE" || fail "the server's write did not fail with EPIPE: $(in_container cat "$writes")"
        sleep 1
        assert_eq "active" "$(in_container systemctl show -P ActiveState "$CS_UNIT")" "the server, its reader gone"
        assert_eq "$server" "$(cs_server_pid)" "the server's main process, its reader gone"

        step "the next left4med warns; the server runs on"
        daemon_up
        pid=$(unit_prop MainPID)
        wait_until 20 cs_warned "$pid" || fail "left4med did not warn about the server without a console"
        ins_wait_state "$CS_NAME" running
        assert_eq "$server" "$(cs_server_pid)" "the server's main process"
        ins_call alice "$CS_NAME" SendCommand "'echo cs-after-gone'"
        expect_ok "RCON to the server whose console is gone"

        step "its next start has a console again"
        ins_call alice "$CS_NAME" Restart
        expect_ok "alice restarts $CS_NAME"
        wait_until 30 mainpid_is_new "$server" || fail "the server did not restart"
        ins_wait_state "$CS_NAME" running
        ins_call alice "$CS_NAME" SendCommand "'echo cs-console-back'"
        expect_ok "alice: echo cs-console-back"
        wait_until 10 ins_journal_has "$CS_NAME" "rcon: echo cs-console-back" ||
                fail "the restarted server's line is not in the journal"
}
l4m_test console-reader-gone test_cs_reader_gone 300

# A line the server has begun but not ended when left4med stops: the
# stopping daemon writes what it took out of the pipe, the next one reads
# the rest; both pieces reach the journal.
test_cs_partial_line() {
        trap cs_cleanup EXIT
        cs_setup
        step "the server begins a line and does not end it"
        ins_call alice "$CS_NAME" SendCommand "'fake_partial cs-partial-begun'"
        expect_ok "alice: fake_partial"
        # Until left4med took it out of the pipe: the reply came after the write.
        sleep 1
        if in_container journalctl --no-pager -o cat -u "$CS_UNIT" | grep -qx 'cs-partial-begun'; then
                fail "an unended line is in the journal already"
        fi

        step "left4med restarts; the server's next line ends the begun one"
        in_container systemctl restart left4me.service
        daemon_up
        ins_wait_state "$CS_NAME" running
        ins_call alice "$CS_NAME" SendCommand "'echo cs-partial-after'"
        expect_ok "alice: echo cs-partial-after"
        wait_until 10 ins_journal_has "$CS_NAME" "rcon: echo cs-partial-after" ||
                fail "the line after the restart is not in the journal"
        in_container journalctl --no-pager -o cat -u "$CS_UNIT" | grep -qx 'cs-partial-begun' ||
                fail "the begun line was lost across the restart: $(ins_journal "$CS_NAME" | tail -n 5)"
        trap - EXIT
        cs_cleanup
}
l4m_test console-partial-line test_cs_partial_line 300

lg_like_has() {
        in_container grep -qxF -- "$2" "$1" 2>/dev/null
}

cs_warned() {
        in_container journalctl --no-pager -o cat _PID="$1" | grep -qF "$CS_UNIT runs, but left4med has no console of it"
}

mainpid_is_new() {
        local p
        p=$(cs_server_pid)
        [[ $p != 0 && $p != "$1" ]]
}

cs_follow_has() {
        in_container grep -qF -- "$2" "$1"
}

# (d) A follower (l4mctl instance logs -f) connected through a flood sees
# every line of it, in order, and the history before it.
test_cs_follower() {
        local follow n=$((CS_FLOOD / 5))
        trap cs_cleanup EXIT
        cs_setup
        follow=$TF_DIR/cs-follow.txt
        ins_call alice "$CS_NAME" SendCommand "'echo cs-before'"
        expect_ok "alice: echo cs-before"
        wait_until 10 ins_journal_has "$CS_NAME" "rcon: echo cs-before" || fail "cs-before is not in the journal"
        capture in_container systemd-run --quiet --unit="$CS_FOLLOW_UNIT" -p User=alice \
                -p StandardOutput="truncate:$follow" -p StandardError="truncate:$follow.err" \
                l4mctl instance logs "$CS_NAME" -f -n 1
        expect_ok "systemd-run of l4mctl instance logs -f"
        wait_until 10 cs_follow_has "$follow" "rcon: echo cs-before" ||
                fail "the follower got no history: $(in_container cat "$follow" "$follow.err")"
        cs_flood "$n" d
        wait_until 120 cs_follow_has "$follow" "flood d done" ||
                fail "the follower did not get to the flood's end: $(in_container tail -n 3 "$follow")"
        cs_check_lines d 1 "$n" "at the follower" "$follow"
        ! cs_follow_has "$follow" "left out here" || fail "the follower was told of lines left out"
        assert_eq 1 "$(in_container grep -c 'rcon: echo cs-before' "$follow")" "the history line at the follower, once"
        cs_check_lines d 1 "$n" "in the journal"
}
l4m_test console-follower test_cs_follower 300
