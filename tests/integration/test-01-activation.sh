# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Bus activation: nothing runs until the first call, which starts left4me.

test_activation() {
        local state t0 t1
        state=$(in_container systemctl is-active left4me.service) || true
        step "before any call left4me.service is '$state'"
        [[ $state != active && $state != activating && $state != reloading ]] ||
                fail "left4me.service is $state before any bus call (it must be bus-activated)"

        t0=$(date +%s%N)
        capture in_container busctl --timeout="$L4M_CALL_TIMEOUT" call "$L4M_BUS" "$L4M_MANAGER" \
                org.freedesktop.DBus.Properties Get ss org.left4me.Manager Version
        t1=$(date +%s%N)
        expect_ok "the first call (Properties.Get Version)"
        assert_eq "v s \"$L4M_VERSION\"" "$OUT" "Version property (the project's version)"
        note "first (activating) call took $(((t1 - t0) / 1000000)) ms"

        wait_until 10 unit_is_active ||
                fail "left4me.service is $(in_container systemctl is-active left4me.service || true) after the first call, expected active"
        [[ $(unit_prop MainPID) != 0 ]] || fail "left4me.service is active but has no MainPID"
}
l4m_test activation test_activation
