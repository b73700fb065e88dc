# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The configuration's problems: left4med --check-config on a good and a bad
# directory, and the problems of the configuration in force in
# ConfigWarnings and `l4mctl status` after a reload, gone once fixed.

CC_LEFT4MED=/usr/libexec/left4med

# cc_warnings: ConfigWarnings, one line each.
cc_warnings() {
        in_container busctl --json=short --timeout="$L4M_CALL_TIMEOUT" get-property "$L4M_BUS" "$L4M_MANAGER" \
                org.left4me.Manager ConfigWarnings | json "'\\n'.join(d['data'])"
}

test_cc_check_config() {
        local dir=/var/tmp/l4m-cc-check expected

        trap "in_container rm -rf '$dir'" EXIT
        in_container rm -rf "$dir"
        in_container mkdir -p "$dir/good/left4me.conf.d" "$dir/bad/left4me.conf.d"
        in_container sh -ec "printf '[Jobs]\nMaxRunning=3\n\n[Web]\nMaxUploadBytes=2G\n' >'$dir/good/left4me.conf'
                printf '[Archive]\nMaxBytes=16G\n' >'$dir/good/left4me.conf.d/10-archive.conf'
                printf '[Jobs]\nMaxRunning=0\n[Web]\nMaxBodyBytes=12Q\n[Nonsense]\nKey=1\n' >'$dir/bad/left4me.conf'
                printf '# broken\nthis is not a key file\n' >'$dir/bad/left4me.conf.d/10-broken.conf'
                printf '[Script]\nMemoryMax=1M\nNoSuchKey=1\n' >'$dir/bad/left4me.conf.d/20-script.conf'"

        step "a good directory"
        capture in_container "$CC_LEFT4MED" --check-config "$dir/good"
        expect_ok "left4med --check-config on a good directory"
        assert_eq "" "$OUT" "what --check-config prints for a good directory"

        step "a bad directory"
        capture in_container "$CC_LEFT4MED" --check-config "$dir/bad"
        expect_exit 1 "left4med --check-config on a bad directory"
        expected="$dir/bad/left4me.conf:2: [Jobs] MaxRunning=: invalid value \"0\", ignored: expected a whole number from 1 to 64
$dir/bad/left4me.conf:4: [Web] MaxBodyBytes=: invalid value \"12Q\", ignored: expected a size from 1K to 64M (bytes, or a number with K, M, G or T)
$dir/bad/left4me.conf:5: [Nonsense]: unknown section, ignored
$dir/bad/left4me.conf.d/10-broken.conf:2: not a [Section], Key=value or # comment line, file ignored
$dir/bad/left4me.conf.d/20-script.conf:2: [Script] MemoryMax=: invalid value \"1M\", ignored: expected a size from 32M to 1T (bytes, or a number with K, M, G or T), or infinity
$dir/bad/left4me.conf.d/20-script.conf:3: [Script] NoSuchKey=: unknown key, ignored"
        assert_eq "$expected" "$OUT" "the problems --check-config prints"

        step "as an unprivileged user, without the bus"
        capture as_user mallory env DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent "$CC_LEFT4MED" --check-config "$dir/bad"
        expect_exit 1 "left4med --check-config as mallory without a bus"
        assert_eq "$expected" "$OUT" "the problems --check-config prints as mallory"

        capture in_container "$CC_LEFT4MED" --check-config "$dir/nonexistent"
        expect_exit 1 "left4med --check-config on a directory that is not there"
        [[ -z $OUT && $ERR == *"$dir/nonexistent"* ]] || fail "a missing directory is not named on stderr: $ERR"
        capture in_container "$CC_LEFT4MED" --check-config "$dir/good" extra
        expect_exit 1 "left4med --check-config with two directories"

        # The host's own configuration, as the test suite left it.
        capture in_container "$CC_LEFT4MED" --check-config
        expect_ok "left4med --check-config on /etc/left4me"
}
l4m_test check-config test_cc_check_config

test_cc_warnings_in_force() {
        local dropin=$L4M_CONF_D/32-cc-bad.conf line pid

        trap "rm -f '$CTR_DIR/root$dropin'; daemon_reload_config" EXIT
        daemon_up
        pid=$(unit_prop MainPID)
        capture cc_warnings
        expect_ok "reading ConfigWarnings"
        assert_eq "" "$OUT" "ConfigWarnings before the bad drop-in"
        capture as_user bob l4mctl status
        expect_ok "bob: l4mctl status"
        [[ $OUT == *"Configuration: no problems"* ]] || fail "l4mctl status does not say the configuration has no problems"

        l4m_conf 32-cc-bad "[Jobs]
MaxRunning=0
[Web]
HeartbeatSec=forever"
        line="$dropin:2: [Jobs] MaxRunning=: invalid value \"0\", ignored: expected a whole number from 1 to 64"
        capture cc_warnings
        expect_ok "reading ConfigWarnings"
        assert_eq "$line
$dropin:4: [Web] HeartbeatSec=: invalid value \"forever\", ignored: expected whole seconds from 1 to 3600" \
                "$OUT" "ConfigWarnings with the bad drop-in"

        capture as_user bob l4mctl status
        expect_ok "bob: l4mctl status"
        [[ $OUT == *"Configuration: 2 problem(s)"* ]] || fail "l4mctl status does not count the problems: $OUT"
        [[ $OUT == *"  $line"* ]] || fail "l4mctl status does not show the problem line"
        capture as_user bob l4mctl status --json
        expect_ok "bob: l4mctl status --json"
        assert_eq "$line" "$(json "d['config_warnings'][0]" <<<"$OUT")" "status --json config_warnings[0]"
        assert_eq 2 "$(json "len(d['config_warnings'])" <<<"$OUT")" "status --json config_warnings length"

        step "fixed"
        l4m_conf 32-cc-bad "[Jobs]
MaxRunning=2"
        capture cc_warnings
        assert_eq "" "$OUT" "ConfigWarnings once the drop-in is fixed"
        capture as_user bob l4mctl status
        [[ $OUT == *"Configuration: no problems"* ]] || fail "l4mctl status still shows problems after the fix: $OUT"
        # Each reload changed the list, so each announced it: the same daemon did.
        assert_eq "$pid" "$(unit_prop MainPID)" "left4med's MainPID after the reloads"
}
l4m_test config-warnings-in-force test_cc_warnings_in_force
