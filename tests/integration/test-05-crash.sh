# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Crash consistency: a SIGKILL in the middle of a stream of creates (from four
# clients at once, with calls in flight) leaves every row with its directory
# and every directory with its row; at start the daemon removes directories
# that have no row.

# consistency_check: rows and directories match one to one, and the daemon's
# objects match the rows.
consistency_check() {
        local ids dirs listed
        ids=$(sql 'SELECT id FROM overlays ORDER BY id;' | LC_ALL=C sort)
        dirs=$(overlay_dirs)
        if [[ $ids != "$dirs" ]]; then
                echo "rows without a directory: $(comm -23 <(echo "$ids") <(echo "$dirs") | tr '\n' ' ')"
                echo "directories without a row: $(comm -13 <(echo "$ids") <(echo "$dirs") | tr '\n' ' ')"
                fail "database rows and overlay directories differ"
        fi
        capture in_container busctl --json=short --timeout="$L4M_CALL_TIMEOUT" call "$L4M_BUS" "$L4M_MANAGER" \
                org.left4me.Manager ListOverlays
        expect_ok "ListOverlays"
        listed=$(json "'\n'.join(sorted((o[0].rsplit('/', 1)[1] for o in d['data'][0]), key=str))" <<<"$OUT")
        if [[ $listed != "$ids" ]]; then
                echo "listed by the daemon: $(echo "$listed" | tr '\n' ' ')"
                echo "rows:                 $(echo "$ids" | tr '\n' ' ')"
                fail "ListOverlays and the database differ"
        fi
}

crash_loop_stop() {
        in_container touch /run/left4me-crash-test.stop 2>/dev/null || true
        if [[ -n ${CRASH_LOOP_PID:-} ]]; then
                kill "$CRASH_LOOP_PID" 2>/dev/null || true
        fi
}

test_crash_consistency() {
        local log=$L4M_WORK/creates.log pid1 pid2 n deadline killed_at succeeded failed lost
        daemon_up
        pid1=$(unit_prop MainPID)
        [[ $pid1 != 0 ]] || fail "left4me.service has no MainPID"

        in_container rm -f /run/left4me-crash-test.stop
        # Four clients at once, so that the kill finds calls in flight.
        # shellcheck disable=SC2016
        in_container bash -c '
                worker() {
                        for i in $(seq "$1" 4 199); do
                                [ -e /run/left4me-crash-test.stop ] && return 1
                                n=$(printf "crash-%03d" "$i")
                                if out=$(busctl --timeout=30 call org.left4me.Manager /org/left4me/Manager \
                                                org.left4me.Manager CreateOverlay "ssa{sv}" "$n" workshop 0 2>&1); then
                                        echo "ok $n $out"
                                else
                                        echo "fail $n $(echo "$out" | tr "\n" " ")"
                                fi
                        done
                }
                worker 0 & worker 1 & worker 2 & worker 3 &
                wait' >"$log" 2>&1 &
        CRASH_LOOP_PID=$!
        trap crash_loop_stop EXIT

        deadline=$((SECONDS + 60))
        while :; do
                n=$(grep -c '^ok ' "$log" || true)
                ((n >= 50)) && break
                ((SECONDS < deadline)) || fail "only $n creates succeeded in 60 s"
                kill -0 "$CRASH_LOOP_PID" 2>/dev/null || fail "the create loop ended after $n creates, before the kill"
                sleep 0.01
        done
        # Freeze it first so that calls pile up in flight, then kill it: a
        # crash with requests half done, not between two of them.
        capture in_container kill -STOP "$pid1"
        expect_ok "kill -STOP $pid1 (left4med)"
        sleep 0.5
        killed_at=$(grep -c '' "$log" || true)
        capture in_container kill -KILL "$pid1"
        expect_ok "kill -KILL $pid1 (left4med)"

        deadline=$((SECONDS + 300))
        while kill -0 "$CRASH_LOOP_PID" 2>/dev/null; do
                ((SECONDS < deadline)) || fail "the create loop did not finish in 300 s"
                sleep 0.2
        done
        wait "$CRASH_LOOP_PID" || true
        CRASH_LOOP_PID=
        reset_start_limit

        daemon_up
        pid2=$(unit_prop MainPID)
        [[ $pid2 != "$pid1" ]] || fail "left4me's MainPID did not change ($pid1): was it killed at all?"

        succeeded=$(grep -c '^ok ' "$log" || true)
        failed=$(grep -c '^fail ' "$log" || true)
        note "$succeeded of 200 creates succeeded, $failed failed; SIGSTOP+SIGKILL after $killed_at calls had returned"
        grep '^fail ' "$log" | head -n 5 | sed 's/^/first failures: /' >&2 || true
        if ((failed > 0)); then
                note "a failed call: $(grep -m 1 '^fail ' "$log" | cut -d' ' -f 2- | cut -c 1-160)"
        fi
        ((succeeded + failed == 200)) || fail "the loop reported $((succeeded + failed)) results, not 200"

        # What the daemon acknowledged must have survived the crash.
        lost=$(awk '/^ok / { print $2 }' "$log" | while read -r n; do
                [[ -n $(row_id "$n") ]] || echo "$n"
        done)
        [[ -z $lost ]] || fail "acknowledged creates without a row after the crash: $(echo "$lost" | tr '\n' ' ')"

        consistency_check
        note "$(row_count) rows, all with their directories"
}
l4m_test crash-consistency test_crash_consistency 400

test_sweep_stray_directory() {
        local etc_before etc_after since
        daemon_up
        daemon_stop

        [[ -z $(sql 'SELECT id FROM overlays WHERE id = 999999;') ]] || fail "a row with id 999999 exists"
        in_container sh -c "mkdir -p $L4M_OVERLAYS/999999/left4dead2/addons &&
                echo stray > $L4M_OVERLAYS/999999/left4dead2/addons/file.txt &&
                ln -s /etc $L4M_OVERLAYS/999999/etc-link &&
                ln -s /etc/passwd $L4M_OVERLAYS/999999/left4dead2/passwd-link"
        etc_before=$(in_container sh -c 'ls -A /etc | wc -l; stat -c %s /etc/passwd; test -f /etc/os-release && echo os-release')

        since=$(date +%s)
        sleep 1
        daemon_up
        wait_until 10 dir_missing 999999 || fail "the stray directory $L4M_OVERLAYS/999999 is still there after start"

        etc_after=$(in_container sh -c 'ls -A /etc | wc -l; stat -c %s /etc/passwd; test -f /etc/os-release && echo os-release')
        assert_eq "$etc_before" "$etc_after" "/etc (entries, size of passwd, os-release) after the sweep"

        capture in_container journalctl --no-pager -o cat -u left4me.service --since "@$since"
        grep -q 999999 <<<"$OUT" || fail "left4me's journal does not mention removing overlays/999999"
        note "journal: $(grep 999999 <<<"$OUT" | head -n 1)"
        # left4med(8): the sweep is logged with L4M_EVENT=overlay-dir-swept.
        capture in_container journalctl --no-pager -o cat -u left4me.service --since "@$since" \
                L4M_EVENT=overlay-dir-swept
        grep -q 999999 <<<"$OUT" || fail "no journal entry with L4M_EVENT=overlay-dir-swept names overlays/999999"
        consistency_check
}
l4m_test sweep-stray-directory test_sweep_stray_directory
