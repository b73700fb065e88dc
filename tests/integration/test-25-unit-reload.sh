# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A server's transient unit after a daemon-reload (package upgrades run
# one): systemd then reads the unit back from the file it wrote for it, and
# every later (re)start of the server runs with what it read. Each setting
# left4me gave the unit must come back as it was.

# The settings of the server unit that a reload must keep (systemctl show).
RL_PROPERTIES=User,Group,SupplementaryGroups,WorkingDirectory,PermissionsStartOnly,Restart,RestartUSec,StartLimitBurst,StartLimitIntervalUSec,UMask,ProtectSystem,ProtectHome,PrivateTmp,PrivateDevices,DevicePolicy,PrivateIPC,ProtectProc,ProcSubset,TemporaryFileSystem,BindPaths,BindReadOnlyPaths,ProtectKernelTunables,ProtectKernelModules,ProtectKernelLogs,ProtectControlGroups,ProtectClock,ProtectHostname,KeyringMode,NoNewPrivileges,CapabilityBoundingSet,AmbientCapabilities,RestrictNamespaces,RestrictSUIDSGID,RestrictRealtime,LockPersonality,SystemCallArchitectures,SystemCallFilter,SystemCallErrorNumber,RestrictAddressFamilies,LimitCORE,ExecStartPre,ExecStart,ExecStopPost

# rl_settings UNIT: those settings, the Exec* ones without their run-time
# fields (pid, times, status), one per line.
rl_settings() {
        in_container systemctl show -p "$RL_PROPERTIES" "$1" |
                sed -E 's/ *; *(start_time|stop_time|pid|code|status)=[^;}]*//g' | sort
}

# rl_security UNIT: systemd-analyze security's overall figure for UNIT.
rl_security() {
        in_container systemd-analyze security --no-pager "$1" 2>/dev/null |
                sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'
}

test_rl_server_unit_reload() {
        local name=rl-srv unit=left4me-server-rl-srv.service before after score pid pid2 st
        # shellcheck source=test-23-instances.sh
        source "$L4M_SRCDIR/tests/integration/test-23-instances.sh"
        trap 'ins_remove rl-srv' EXIT
        ins_setup
        ins_three
        ins_remove "$name"
        ins_create root "$name" ins-bp "{'port': <uint16 27060>}"
        expect_ok "CreateInstance $name"
        ins_call root "$name" Start
        expect_ok "Start $name"
        ins_wait_state "$name" running
        wait_until 20 ins_journal_has "$name" "fake srcds: ready" || fail "the server never got ready"

        before=$(rl_settings "$unit")
        [[ $before == *"RestrictNamespaces="* && $before == *"ProtectSystem=strict"* ]] ||
                fail "systemctl show gave too little: $before"
        score=$(rl_security "$unit")
        [[ -n $score ]] || fail "no figure from systemd-analyze security"

        capture in_container systemctl daemon-reload
        expect_ok "systemctl daemon-reload"
        after=$(rl_settings "$unit")
        if [[ $before != "$after" ]]; then
                diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | sed 's/^/  diff: /' >&2
                fail "the server unit's settings changed across a daemon-reload (see the diff in the log)"
        fi
        assert_eq "$score" "$(rl_security "$unit")" "systemd-analyze security after the reload"

        # A crash now restarts the server from what systemd read back.
        pid=$(ins_prop "$name" MainPID)
        in_container kill -9 "$pid"
        wait_until 30 ins_state_prop_is "$name" State running || fail "no restart after kill -9: $(ins_unit_status "$name")"
        wait_until 10 eval '[[ $(ins_prop "$name" MainPID) != "$pid" && $(ins_prop "$name" MainPID) != 0 ]]' ||
                fail "MainPID did not change after kill -9"
        pid2=$(ins_prop "$name" MainPID)
        st=$(in_container grep -E '^(Uid|NoNewPrivs|Seccomp|CapBnd):' "/proc/$pid2/status" | tr -s '\t ' ' ' | paste -sd ' ')
        [[ $st == *"NoNewPrivs: 1"* && $st == *"Seccomp: 2"* && $st == *"CapBnd: 0000000000000000"* ]] ||
                fail "the restarted server runs with less confinement: $st"
        assert_eq "$after" "$(rl_settings "$unit")" "settings after the restart"
        note "settings kept across daemon-reload and a crash restart; exposure $score"
}
l4m_test server-unit-reload test_rl_server_unit_reload 240

# Stop() answers with systemd's answer: a stop systemd refuses (here
# RefuseManualStop= from a drop-in an operator might add) is an error, and
# the server goes on running.
test_rl_stop_refused() {
        local name=rl-refuse unit=left4me-server-rl-refuse.service dropin pid
        # shellcheck source=test-23-instances.sh
        source "$L4M_SRCDIR/tests/integration/test-23-instances.sh"
        dropin=/run/systemd/system/$unit.d
        # shellcheck disable=SC2064  # the drop-in's path, now
        trap "in_container rm -rf '$dropin'; in_container systemctl daemon-reload; ins_remove rl-refuse" EXIT
        ins_setup
        ins_three
        ins_remove "$name"
        ins_create root "$name" ins-bp "{'port': <uint16 27061>}"
        expect_ok "CreateInstance $name"
        ins_call root "$name" Start
        expect_ok "Start $name"
        ins_wait_state "$name" running
        pid=$(ins_prop "$name" MainPID)

        in_container sh -ec "mkdir -p '$dropin' && printf '[Unit]\nRefuseManualStop=yes\n' > '$dropin/50-refuse.conf'
                systemctl daemon-reload"
        assert_eq yes "$(in_container systemctl show -P RefuseManualStop "$unit")" "RefuseManualStop from the drop-in"
        ins_call root "$name" Stop
        expect_dbus_error org.left4me.Error.Failed "Stop refused by systemd"
        [[ $ERR == *"refused to stop $unit"* ]] || fail "the error does not say systemd refused: $ERR"
        ins_wait_state "$name" running
        assert_eq "$pid" "$(ins_prop "$name" MainPID)" "MainPID after the refused stop"

        in_container sh -ec "rm -rf '$dropin' && systemctl daemon-reload"
        ins_call root "$name" Stop
        expect_ok "Stop once systemd allows it"
        ins_wait_state "$name" stopped
}
l4m_test server-stop-refused test_rl_stop_refused 240
