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

test_sigterm_clean_stop() {
        local result status code
        daemon_up
        capture in_container systemctl stop left4me.service
        expect_ok "systemctl stop left4me"
        wait_until 20 unit_is_inactive || fail "left4me.service is not inactive after stop"
        result=$(unit_prop Result)
        status=$(unit_prop ExecMainStatus)
        code=$(unit_prop ExecMainCode)
        step "Result=$result ExecMainStatus=$status ExecMainCode=$code"
        assert_eq success "$result" "Result after systemctl stop"
        assert_eq 0 "$status" "ExecMainStatus after SIGTERM (exit status of left4med)"
        assert_eq 1 "$code" "ExecMainCode (1 = exited, 2 = killed by a signal)"
        in_container systemctl reset-failed left4me.service
        daemon_up
}
l4m_test sigterm-clean-stop test_sigterm_clean_stop
