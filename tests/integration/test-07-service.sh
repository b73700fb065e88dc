# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# left4me.service as systemd sees it: hardening, readiness, watchdog,
# status, clean stop; l4mctl when the daemon cannot be started.

test_security_exposure() {
        local line
        capture in_container systemd-analyze security --no-pager left4me.service
        expect_ok "systemd-analyze security left4me.service"
        line=$(grep -E 'Overall exposure level for left4me\.service: [0-9]+(\.[0-9]+)?' <<<"$OUT" | head -n 1)
        [[ -n $line ]] || fail "systemd-analyze security printed no overall exposure figure"
        note "${line#→ }"
}
l4m_test security-exposure test_security_exposure

test_service_properties() {
        local type watchdog notify status busname
        daemon_up
        type=$(unit_prop Type)
        watchdog=$(unit_prop WatchdogUSec)
        notify=$(unit_prop NotifyAccess)
        busname=$(unit_prop BusName)
        step "Type=$type WatchdogUSec=$watchdog NotifyAccess=$notify BusName=$busname"
        assert_eq dbus "$type" "Type"
        assert_eq org.left4me.Manager "$busname" "BusName"
        [[ -n $watchdog && $watchdog != 0 && $watchdog != infinity ]] || fail "no watchdog (WatchdogUSec=$watchdog)"
        assert_eq main "$notify" "NotifyAccess"
        # STATUS= may come a moment after the name is taken.
        wait_until 5 test -n "$(unit_prop StatusText)" || true
        status=$(unit_prop StatusText)
        [[ -n $status ]] || fail "StatusText is empty: the daemon sent no STATUS="
        note "WatchdogUSec=$watchdog StatusText=$status"
}
l4m_test service-properties test_service_properties

remove_watchdog_dropin() {
        in_container rm -f /run/systemd/system/left4me.service.d/50-test-watchdog.conf
        in_container systemctl daemon-reload || true
}

# The daemon really pings the watchdog: with WatchdogSec=1s, a daemon that
# did not would be killed with SIGABRT after a second and restarted.
test_watchdog_pings() {
        local pid restarts
        daemon_stop
        trap remove_watchdog_dropin EXIT
        in_container mkdir -p /run/systemd/system/left4me.service.d
        in_container sh -c 'printf "[Service]\nWatchdogSec=1s\n" >/run/systemd/system/left4me.service.d/50-test-watchdog.conf'
        in_container systemctl daemon-reload
        daemon_up
        assert_eq 1s "$(unit_prop WatchdogUSec)" "WatchdogUSec with the test drop-in"
        pid=$(unit_prop MainPID)
        restarts=$(unit_prop NRestarts)
        sleep 4
        step "MainPID $pid -> $(unit_prop MainPID), NRestarts $restarts -> $(unit_prop NRestarts)"
        assert_eq active "$(in_container systemctl is-active left4me.service || true)" "state after 4 watchdog periods"
        assert_eq "$pid" "$(unit_prop MainPID)" "MainPID after 4 watchdog periods"
        assert_eq "$restarts" "$(unit_prop NRestarts)" "NRestarts after 4 watchdog periods"
        [[ -n $(unit_prop WatchdogTimestamp) ]] || fail "no WatchdogTimestamp: no ping was ever received"
        daemon_stop
        remove_watchdog_dropin
        daemon_up
}
l4m_test watchdog-pings test_watchdog_pings

unmask_left4me() {
        in_container systemctl unmask --runtime left4me.service >/dev/null 2>&1 || true
}

# l4mctl(1): exit status 8 when the daemon is unreachable, bus activation
# failures included. A masked unit cannot be activated.
test_unreachable() {
        daemon_up
        daemon_stop
        trap unmask_left4me EXIT
        capture in_container systemctl mask --runtime left4me.service
        expect_ok "systemctl mask --runtime left4me"
        capture in_container l4mctl status
        unmask_left4me
        expect_exit 8 "l4mctl status while left4me.service is masked (cannot be activated)"
}
l4m_test l4mctl-unreachable test_unreachable

# systemd logs this MESSAGE_ID (SD_MESSAGE_UNIT_SUCCESS) when a unit's
# processes all exited cleanly; a main process that failed or was killed
# gets "Failed with result" instead.
SD_MESSAGE_UNIT_SUCCESS=7ad2d189f7e94e70a38c781354912448

test_sigterm_clean_stop() {
        local invocation result entries
        daemon_up
        invocation=$(unit_prop InvocationID)
        [[ -n $invocation ]] || fail "left4me.service has no InvocationID"
        capture in_container systemctl stop left4me.service
        expect_ok "systemctl stop left4me"
        wait_until 20 unit_is_inactive || fail "left4me.service is not inactive after stop"
        # An inactive unit may be unloaded at once, taking ExecMainStatus
        # with it; the journal entries of this invocation remain.
        result=$(unit_prop Result)
        step "Result=$result"
        [[ $result == success ]] || fail "Result after systemctl stop: $result"
        entries=$(in_container journalctl -q --no-pager -o cat \
                INVOCATION_ID="$invocation" MESSAGE_ID="$SD_MESSAGE_UNIT_SUCCESS")
        step "systemd: $entries"
        [[ -n $entries ]] || fail "systemd logged no clean deactivation for invocation $invocation"
        entries=$(in_container journalctl -q --no-pager -o cat \
                _SYSTEMD_INVOCATION_ID="$invocation" --grep "Received Terminated, shutting down")
        [[ -n $entries ]] || fail "left4med did not log that it shut down on SIGTERM"
        entries=$(in_container journalctl -q --no-pager -o cat \
                INVOCATION_ID="$invocation" --grep "Failed with result|Main process exited") || true
        [[ -z $entries ]] || fail "systemd reports a failure: $entries"
        reset_start_limit
        daemon_up
}
l4m_test sigterm-clean-stop test_sigterm_clean_stop
