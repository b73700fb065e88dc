# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installing and updating the game: Manager.InstallGame/UpdateGame run the
# fake steamcmd (tests/fixtures/fake-steamcmd) in a transient unit as
# left4me-game; GameInstalled, GameBuildId, SteamLogin; SetSteamLogin and
# where the password must never show; cancel, daemon restart, Busy; and
# l4mctl's game verbs. Updates while server instances run: Busy naming them,
# or (restart_instances) stopped, updated and started again, across a
# cancel and a daemon restart.

GM_CONFIG=/etc/left4me-tests/fake-steamcmd.json
GM_INSTALLATION=$L4M_STATE/installation
GM_PASSWORD='s3cr3t-Pa55-xyzzy'

# gm_setup: left4me with [Steam] SteamCmd= pointing at the fake, which (with
# fake-srcds.py next to it, when the tree has one) is in the container;
# anonymous login, an empty installation, and the fake's default config.
gm_setup() {
        local dir=$CTR_DIR/root$L4M_TOOLS
        test_files_setup
        install -m 0755 "$L4M_SRCDIR/tests/fixtures/fake-steamcmd" "$dir/fake-steamcmd.tmp"
        mv "$dir/fake-steamcmd.tmp" "$dir/fake-steamcmd"
        if [[ -f $L4M_SRCDIR/tests/fixtures/fake-srcds.py ]]; then
                install -m 0755 "$L4M_SRCDIR/tests/fixtures/fake-srcds.py" "$dir/fake-srcds.py.tmp"
                mv "$dir/fake-srcds.py.tmp" "$dir/fake-srcds.py"
        fi
        gm_config '{"buildid": "1000001", "delay": 0.05, "steps": 4}'
        l4m_conf 60-game "[Steam]
SteamCmd=$L4M_TOOLS/fake-steamcmd"
        gm_cancel_game_jobs
        in_container rm -f "$L4M_STATE/steam-login"
        in_container find "$GM_INSTALLATION" -mindepth 1 -delete
        daemon_stop
        daemon_up
        trap gm_cleanup EXIT
}

gm_cleanup() {
        set +e
        gm_cancel_game_jobs
        return 0
}

# gm_config JSON: the fake steamcmd's config (readable by left4me-game).
gm_config() {
        mkdir -p "$CTR_DIR/root${GM_CONFIG%/*}"
        printf '%s\n' "$1" >"$CTR_DIR/root$GM_CONFIG.tmp"
        chmod 0644 "$CTR_DIR/root$GM_CONFIG.tmp"
        mv "$CTR_DIR/root$GM_CONFIG.tmp" "$CTR_DIR/root$GM_CONFIG"
}

gm_cancel_game_jobs() {
        local j
        for j in $(sql "SELECT id FROM jobs WHERE kind = 'game-install' AND state IN ('queued', 'running');" 2>/dev/null); do
                gcall root "$L4M_JOB_PREFIX/$j" org.left4me.Job.Cancel >/dev/null 2>&1
                l4mbus root wait "$L4M_JOB_PREFIX/$j" --timeout 30 >/dev/null 2>&1
        done
}

# gm_prop PROPERTY: a game property of the manager, strings bare.
gm_prop() {
        local out
        out=$(in_container busctl --timeout="$L4M_CALL_TIMEOUT" get-property "$L4M_BUS" "$L4M_MANAGER" \
                org.left4me.Manager "$1") || return 1
        out=${out#* }
        out=${out#\"}
        printf '%s\n' "${out%\"}"
}

# gm_install USER METHOD [OPTIONS]: InstallGame/UpdateGame, which must
# succeed; sets JOB and GM_UNIT.
gm_install() {
        gcall "$1" "$L4M_MANAGER" "org.left4me.Manager.$2" "${3:-@a{sv\} {\}}"
        expect_ok "$1: $2"
        JOB=$(job_path_from_output)
        [[ -n $JOB ]] || fail "$2 answered no job path: $OUT"
        GM_UNIT=left4me-game-install-$(job_id_of "$JOB").service
        step "$2 runs as job $JOB in $GM_UNIT"
}

# gm_unit_prop UNIT PROPERTY: a unit property ("" if not loaded).
gm_unit_prop() {
        in_container systemctl show -P "$2" "$1" 2>/dev/null || true
}

gm_unit_gone() {
        local s
        s=$(gm_unit_prop "$1" ActiveState)
        [[ -z $s || $s == inactive ]] && ! in_container pgrep -u left4me-game -f fake-steamcmd >/dev/null
}

gm_unit_running() {
        [[ $(gm_unit_prop "$1" SubState) == running ]]
}

gm_log_has() {
        job_log_text "$1" 2>/dev/null | grep -F -- "$2" >/dev/null
}

# gm_monitor_start FILE: records the manager's and jobs' bus signals into
# FILE (host path) until gm_monitor_stop.
gm_monitor_start() {
        in_container timeout 120 stdbuf -oL gdbus monitor --system --dest "$L4M_BUS" >"$1" 2>&1 &
        GM_MONITOR=$!
        sleep 0.5       # gdbus subscribes before anything it must see happens
}

gm_monitor_stop() {
        kill "$GM_MONITOR" 2>/dev/null || true
        wait "$GM_MONITOR" 2>/dev/null || true
}

test_game_anonymous_install() {
        local mon log progress owner
        gm_setup
        assert_eq false "$(gm_prop GameInstalled)" "GameInstalled before any install"
        assert_eq "" "$(gm_prop GameBuildId)" "GameBuildId before any install"
        assert_eq "" "$(gm_prop SteamLogin)" "SteamLogin when anonymous"

        mon=$TF_HOST/monitor.txt
        gm_monitor_start "$mon"
        gm_install alice InstallGame
        job_wait "$JOB" 60
        gm_monitor_stop
        expect_job succeeded "anonymous install"
        assert_eq "Game installed (build 1000001)." "$JOB_MSG" "the job's message"

        log=$(job_log_text "$JOB")
        grep -qF -- "+login anonymous +@sSteamCmdForcePlatformType windows +app_update 222860 +@sSteamCmdForcePlatformType linux +app_update 222860 +quit" <<<"$log" ||
                fail "the fake's argv in the log is not the anonymous two-pass command line"
        (($(grep -c "^Success! App '222860' fully installed." <<<"$log") == 2)) ||
                fail "the log does not show two successful passes"
        assert_eq 1.0 "$(job_prop "$JOB" Progress | sed 's/^1$/1.0/')" "Progress at the end"
        # Progress rose through values between 0 and 1 while it ran.
        progress=$(grep -o "'Progress': <[0-9.e-]*>" "$mon" | grep -o '[0-9][0-9.e-]*' | sort -u | paste -sd ' ')
        step "Progress values seen: $progress"
        grep -qE '(^| )0\.[0-9]*[1-9]' <<<"$progress" || fail "no Progress between 0 and 1 was announced: $progress"

        assert_eq true "$(gm_prop GameInstalled)" "GameInstalled after the install"
        assert_eq 1000001 "$(gm_prop GameBuildId)" "GameBuildId after the install"
        grep -q "'GameBuildId': <'1000001'>" "$mon" || fail "no PropertiesChanged announced GameBuildId"
        grep -q "'GameInstalled': <true>" "$mon" || fail "no PropertiesChanged announced GameInstalled"

        # The fake chmods srcds_run 0755 itself (no umask applies): the
        # daemon's walk after the run makes it, as everything, g+w.
        owner=$(in_container stat -c '%U %G %a' "$GM_INSTALLATION/srcds_run")
        assert_eq "left4me-game left4me-game 775" "$owner" "srcds_run's owner, group and mode"
        owner=$(in_container find "$GM_INSTALLATION" \( -type d -o -type f \) ! -perm -g+w)
        assert_eq "" "$owner" "what is not group-writable in the installation"
        grep -q "^Made [1-9][0-9]* entries of the installation group-writable.$" <<<"$log" ||
                fail "the job's log does not say that the installation was made group-writable"
        in_container test -f "$GM_INSTALLATION/left4dead2/maps/c1m1_hotel.bsp" || fail "no c1m1_hotel.bsp installed"
        in_container test -f "$GM_INSTALLATION/srcds.exe" || fail "the Windows pass left no srcds.exe"
        wait_until 10 gm_unit_gone "$GM_UNIT" || fail "$GM_UNIT is still there after the job"
}
l4m_test game-anonymous-install test_game_anonymous_install 120

test_game_update() {
        gm_setup
        gm_install root InstallGame
        job_wait "$JOB" 60
        expect_job succeeded "install before the update"

        gcall root "$L4M_MANAGER" org.left4me.Manager.UpdateGame "{'bogus': <true>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "UpdateGame with an unknown option"
        gcall root "$L4M_MANAGER" org.left4me.Manager.UpdateGame "{'validate': <'yes'>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "UpdateGame with validate not a boolean"
        gcall root "$L4M_MANAGER" org.left4me.Manager.InstallGame "{'restart_instances': <true>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "InstallGame with restart_instances"

        gm_config '{"buildid": "1000002", "delay": 0.02, "steps": 3}'
        gm_install alice UpdateGame "{'validate': <true>, 'restart_instances': <false>}"
        job_wait "$JOB" 60
        expect_job succeeded "the update"
        assert_eq "Game updated (build 1000002)." "$JOB_MSG" "the update's message"
        expect_log "$JOB" "+app_update 222860 validate +quit" "verifying install"
        assert_eq 1000002 "$(gm_prop GameBuildId)" "GameBuildId after the update"

        # Not installed: UpdateGame refuses.
        in_container find "$GM_INSTALLATION" -mindepth 1 -delete
        gcall root "$L4M_MANAGER" org.left4me.Manager.UpdateGame '@a{sv} {}'
        expect_dbus_error org.left4me.Error.NotFound "UpdateGame without an installation"
        assert_eq false "$(gm_prop GameInstalled)" "GameInstalled once the installation is gone"
}
l4m_test game-update test_game_update 120

test_game_invalid_platform() {
        gm_setup
        # Every pass fails as an anonymous Linux-only one does, and the fake
        # exits 0 as steamcmd often does: the text decides.
        gm_config '{"buildid": "1000003", "delay": 0.02, "fail": "invalid-platform", "exit_zero": true}'
        gm_install root InstallGame
        job_wait "$JOB" 60
        expect_job failed "an install steamcmd reports Invalid platform for"
        [[ $JOB_MSG == *"ERROR! Failed to install app '222860' (Invalid platform)"* ]] ||
                fail "the message does not quote steamcmd's error: $JOB_MSG"
        assert_eq false "$(gm_prop GameInstalled)" "GameInstalled after the failed install"

        gm_config '{"buildid": "1000003", "delay": 0.02, "fail": "state"}'
        gm_install root InstallGame
        job_wait "$JOB" 60
        expect_job failed "an install that ends in state 0x202"
        [[ $JOB_MSG == *"state is 0x202 after update job"* && $JOB_MSG == *"status 8"* ]] ||
                fail "the message does not say steamcmd's status and error: $JOB_MSG"
        wait_until 10 gm_unit_gone "$GM_UNIT" || fail "$GM_UNIT is still there after the failed job"
        [[ -z $(gm_unit_prop "$GM_UNIT" LoadState | grep -v not-found) ]] ||
                fail "the failed unit $GM_UNIT was not reset"
}
l4m_test game-invalid-platform test_game_invalid_platform 120

# gm_probe LOG PATH: the fake's probe line for PATH in the job log LOG.
gm_probe() {
        grep -F "fake-steamcmd probe $2: " <<<"$1" | head -n 1 | sed 's/^.*: //'
}

gm_sandbox_cleanup() {
        set +e
        gm_cancel_game_jobs
        in_container rm -f "$L4M_RUNTIME/gm-probe-secret.cfg"
        return 0
}

# What steamcmd sees of the state directory: its HOME and the installation,
# writable, and nothing else; not even a file of the game user's group
# under runtime/ (as a server's server.cfg with its rcon_password is).
test_game_sandbox() {
        local log line p home=$L4M_STATE/steam secret=$L4M_RUNTIME/gm-probe-secret.cfg
        local hidden=("$L4M_RUNTIME" "$L4M_STATE/db" "$L4M_STATE/jobs" "$L4M_STATE/overlays"
                "$L4M_STATE/workshop_cache" "$secret")
        gm_setup
        trap gm_sandbox_cleanup EXIT
        in_container sh -ec "printf 'rcon_password \"probe\"\n' > '$secret'
                chown root:$L4M_GAME_USER '$secret'; chmod 0640 '$secret'"
        gm_config "{\"buildid\": \"1000008\", \"delay\": 0.02, \"steps\": 2,
                \"probe_paths\": [$(printf '"%s", ' "${hidden[@]}" "$home")\"$GM_INSTALLATION\"]}"
        gm_install root InstallGame
        job_wait "$JOB" 60
        expect_job succeeded "an install that probes its sandbox"
        log=$(job_log_text "$JOB")
        # The probe must be able to see a secret: the file is there, and
        # the game user can read it outside the unit.
        in_container setpriv --reuid="$L4M_GAME_USER" --regid="$L4M_GAME_USER" --init-groups cat "$secret" >/dev/null ||
                fail "the game user cannot read $secret outside the unit: the probe proves nothing"
        for p in "${hidden[@]}"; do
                line=$(gm_probe "$log" "$p")
                assert_eq "exists=no readable=no writable=no" "$line" "steamcmd's view of $p"
        done
        for p in "$home" "$GM_INSTALLATION"; do
                line=$(gm_probe "$log" "$p")
                assert_eq "exists=yes readable=yes writable=yes" "$line" "steamcmd's view of $p"
        done
        step "steamcmd sees only its HOME and the installation of $L4M_STATE"
        gm_sandbox_cleanup
}
l4m_test game-sandbox test_game_sandbox 120

# gm_set_login USER [-i] ACCOUNT PASSWORD: SetSteamLogin as USER.
gm_set_login() {
        local user=$1 interactive=()
        shift
        if [[ $1 == -i ]]; then
                interactive=(-i)
                shift
        fi
        gcall "$user" "${interactive[@]}" "$L4M_MANAGER" org.left4me.Manager.SetSteamLogin "$(gv_str "$1")" "$(gv_str "$2")"
}

test_game_login() {
        local pid env show journal log mode unit_obj cred
        gm_setup
        gm_config "{\"buildid\": \"1000004\", \"delay\": 0.3, \"steps\": 6, \"accounts\": {\"gamer_1\": \"$GM_PASSWORD\"}}"

        gm_set_login alice -i gamer_1 "$GM_PASSWORD"
        expect_dbus_error org.freedesktop.DBus.Error.AccessDenied "alice sets the Steam login"
        gm_set_login carol 'bad name' "$GM_PASSWORD"
        expect_dbus_error org.left4me.Error.InvalidArgument "a Steam account name with a space"
        gm_set_login carol gamer_1 'a"b'
        expect_dbus_error org.left4me.Error.InvalidArgument "a password with a quote"
        gm_set_login carol gamer_1 ''
        expect_dbus_error org.left4me.Error.InvalidArgument "an empty password"
        gm_set_login carol '' 'x'
        expect_dbus_error org.left4me.Error.InvalidArgument "a password without a user"
        assert_eq "" "$(gm_prop SteamLogin)" "SteamLogin after refused calls"

        gm_set_login carol gamer_1 "$GM_PASSWORD"
        expect_ok "carol (left4me-admin) sets the Steam login"
        assert_eq gamer_1 "$(gm_prop SteamLogin)" "SteamLogin after SetSteamLogin"
        mode=$(in_container stat -c '%U %a' "$L4M_STATE/steam-login")
        assert_eq "root 600" "$mode" "the stored login's owner and mode"

        gm_install root InstallGame
        wait_until 20 gm_unit_running "$GM_UNIT" || fail "$GM_UNIT did not run"
        wait_until 20 gm_log_has "$JOB" "Logging in user 'gamer_1'" || fail "the fake did not log in"
        # While it runs: its environment, and what systemd shows of the unit.
        pid=$(gm_unit_prop "$GM_UNIT" MainPID)
        env=$(in_container cat "/proc/$pid/environ" | tr '\0' '\n')
        show=$(in_container systemctl show --all "$GM_UNIT")
        unit_obj=$(in_container busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
                org.freedesktop.systemd1.Manager GetUnit s "$GM_UNIT" | awk '{ print $2 }' | tr -d '"')
        cred=$(in_container busctl get-property org.freedesktop.systemd1 "$unit_obj" \
                org.freedesktop.systemd1.Service LoadCredential)
        job_wait "$JOB" 60
        expect_job succeeded "an install with the stored login"
        log=$(job_log_text "$JOB")
        journal=$(in_container journalctl --no-pager -o verbose -u "$GM_UNIT" 2>&1 || true)

        grep -q "^fake-steamcmd argv: .* +runscript /run/credentials/$GM_UNIT/steam-login +app_update 222860 +quit" <<<"$log" ||
                fail "steamcmd did not get +runscript with the credential's path: $(grep argv <<<"$log")"
        grep -qF "login anonymous" <<<"$log" && fail "the login install also logged in anonymously"
        grep -qF "Logging in user 'gamer_1' to Steam Public...OK" <<<"$log" || fail "the fake did not accept the login"
        [[ -n $env && -n $show ]] || fail "could not read the unit's environment or properties"
        assert_eq 'a(ss) 1 "steam-login" "/var/lib/left4me/steam-login"' "$cred" "the unit's LoadCredential="
        for what in log env show cred journal; do
                if grep -qF -- "$GM_PASSWORD" <<<"${!what}"; then
                        fail "the password shows in the $what"
                fi
        done
        step "the password is in none of: job log, unit environment, systemctl show, journal"

        # A wrong password: the job fails and says so.
        gm_set_login carol gamer_1 'wrong-password'
        expect_ok "carol sets a wrong password"
        gm_config '{"buildid": "1000004", "delay": 0.02, "accounts": {"gamer_1": "right"}}'
        gm_install root InstallGame
        job_wait "$JOB" 60
        expect_job failed "an install with a wrong password"
        [[ $JOB_MSG == "Steam login failed: "*"FAILED (Invalid Password)"* ]] ||
                fail "the message does not say the login failed: $JOB_MSG"

        gm_set_login carol '' ''
        expect_ok "carol goes back to anonymous"
        assert_eq "" "$(gm_prop SteamLogin)" "SteamLogin after going back to anonymous"
        in_container test ! -e "$L4M_STATE/steam-login" || fail "the stored login is still there"
}
l4m_test game-login test_game_login 150

test_game_cancel_busy() {
        gm_setup
        gm_config '{"buildid": "1000005", "delay": 0.5, "steps": 40}'
        gm_install root InstallGame
        wait_until 20 gm_unit_running "$GM_UNIT" || fail "$GM_UNIT did not run"

        gcall alice "$L4M_MANAGER" org.left4me.Manager.InstallGame '@a{sv} {}'
        expect_dbus_error org.left4me.Error.Busy "a second InstallGame while one runs"
        gcall root "$L4M_MANAGER" org.left4me.Manager.UpdateGame '@a{sv} {}'
        [[ $OUT$ERR == *"org.left4me.Error."* ]] || fail "UpdateGame while one runs did not fail: $OUT"

        wait_until 20 gm_log_has "$JOB" "Update state (0x61) downloading" || fail "no progress in the log"
        gcall root "$JOB" org.left4me.Job.Cancel
        expect_ok "Cancel"
        job_wait "$JOB" 40
        expect_job cancelled "a cancelled install"
        wait_until 20 gm_unit_gone "$GM_UNIT" || fail "$GM_UNIT or steamcmd is still there after the cancel"
}
l4m_test game-cancel-busy test_game_cancel_busy 120

test_game_daemon_restart() {
        gm_setup
        gm_config '{"buildid": "1000006", "delay": 0.4, "steps": 8}'
        gm_install root InstallGame
        wait_until 20 gm_log_has "$JOB" "Success! App '222860' fully installed." ||
                fail "the first pass did not end"
        daemon_stop
        gm_unit_running "$GM_UNIT" || fail "$GM_UNIT stopped with the daemon"
        daemon_up
        job_wait "$JOB" 60
        expect_job succeeded "an install the daemon restarted during"
        expect_log "$JOB" "picked the job up again" "Game installed (build 1000006)."
        assert_eq 1000006 "$(gm_prop GameBuildId)" "GameBuildId after the restart"
        wait_until 10 gm_unit_gone "$GM_UNIT" || fail "$GM_UNIT is still there after the job"
}
l4m_test game-daemon-restart test_game_daemon_restart 120

# gm_json_get JSON KEY: a top-level value of a JSON object.
gm_json_get() {
        json_flat <<<"$1" | awk -F '\t' -v k="$2" '$1 == k { print $2 }'
}

test_game_l4mctl() {
        local json
        gm_setup
        gm_config '{"buildid": "1000007", "delay": 0.02, "steps": 3, "accounts": {"ctl_user": "pw-from-stdin"}}'

        capture as_user alice l4mctl game status
        expect_ok "l4mctl game status"
        grep -q 'Installed: *no' <<<"$OUT" || fail "game status does not say not installed: $OUT"

        capture as_user alice l4mctl game install --wait
        expect_ok "l4mctl game install --wait"
        grep -qF "Success! App '222860' fully installed." <<<"$OUT" || fail "--wait did not print the log"
        capture as_user alice l4mctl --json game status
        expect_ok "l4mctl --json game status"
        json=$OUT
        assert_eq true "$(gm_json_get "$json" installed)" "status --json installed"
        assert_eq 1000007 "$(gm_json_get "$json" build_id)" "status --json build_id"
        assert_eq "" "$(gm_json_get "$json" steam_login)" "status --json steam_login"

        capture as_user carol l4mctl game login ctl_user <<<"pw-from-stdin"
        expect_ok "l4mctl game login (password from stdin)"
        assert_eq ctl_user "$(gm_prop SteamLogin)" "SteamLogin after l4mctl game login"
        capture as_user alice l4mctl game update --wait --validate --restart-instances
        expect_ok "l4mctl game update --wait with the login"
        grep -qF "Logging in user 'ctl_user' to Steam Public...OK" <<<"$OUT" || fail "the update did not log in"
        capture as_user carol l4mctl game logout
        expect_ok "l4mctl game logout"
        assert_eq "" "$(gm_prop SteamLogin)" "SteamLogin after l4mctl game logout"
}
l4m_test game-l4mctl test_game_l4mctl 120

# --- updates while server instances run (test-23-instances.sh's helpers,
# sourced when this file runs on its own) ------------------------------------

GMR_NAME=gmr-alice
GMR_PORT=27071

gmr_cleanup() {
        set +e
        gm_cancel_game_jobs
        ins_remove "$GMR_NAME"
        return 0
}

# gmr_setup: the game installed by the fake (build 1000020, srcds_run being
# fake-srcds.py), and alice's instance GMR_NAME on her blueprint, running.
gmr_setup() {
        if ! declare -F ins_remove >/dev/null; then
                # shellcheck source=test-23-instances.sh
                source "$L4M_SRCDIR/tests/integration/test-23-instances.sh"
        fi
        gm_setup
        trap gmr_cleanup EXIT
        ins_remove "$GMR_NAME"
        [[ -f $CTR_DIR/root$L4M_TOOLS/fake-srcds.py ]] || fail "no fake-srcds.py for the fake steamcmd to install"
        gm_config '{"buildid": "1000020", "delay": 0.02, "steps": 3}'
        gm_install root InstallGame
        job_wait "$JOB" 60
        expect_job succeeded "the install before the instances"
        ins_overlay gmr-ov 'echo gmr > gmr.txt' >/dev/null
        gcall alice "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "'gmr-bp'" "['gmr-ov']" '@a{sv} {}'
        if ((RC != 0)); then
                expect_dbus_error org.left4me.Error.Exists "alice's blueprint gmr-bp"
        fi
        ins_create alice "$GMR_NAME" gmr-bp "{'port': <uint16 $GMR_PORT>}"
        expect_ok "alice creates $GMR_NAME"
        ins_call alice "$GMR_NAME" Start
        expect_ok "alice starts $GMR_NAME"
        ins_wait_state "$GMR_NAME" running
}

# gmr_build_seen NAME BUILD: the instance's merged game root shows the
# installation's manifest of BUILD.
gmr_build_seen() {
        in_container grep -q "\"buildid\"[[:space:]]*\"$2\"" "$L4M_RUNTIME/$1/merged/steamapps/appmanifest_222860.acf"
}

gmr_pid_not() {
        local pid
        pid=$(ins_prop "$1" MainPID)
        [[ -n $pid && $pid != 0 && $pid != "$2" ]]
}

test_game_update_instances() {
        local pid log
        gmr_setup
        gmr_build_seen "$GMR_NAME" 1000020 || fail "$GMR_NAME does not run on build 1000020"
        pid=$(ins_prop "$GMR_NAME" MainPID)

        # Without restart_instances: Busy naming it; nothing changes.
        gcall alice "$L4M_MANAGER" org.left4me.Manager.UpdateGame '@a{sv} {}'
        expect_dbus_error org.left4me.Error.Busy "UpdateGame while $GMR_NAME runs"
        [[ $OUT$ERR == *"\"$GMR_NAME\""* ]] || fail "the Busy error does not name $GMR_NAME: $OUT$ERR"
        gcall root "$L4M_MANAGER" org.left4me.Manager.InstallGame '@a{sv} {}'
        expect_dbus_error org.left4me.Error.Busy "InstallGame while $GMR_NAME runs"
        [[ $OUT$ERR == *"\"$GMR_NAME\""* ]] || fail "InstallGame's Busy error does not name $GMR_NAME: $OUT$ERR"
        gcall alice "$L4M_MANAGER" org.left4me.Manager.UpdateGame "{'restart_instances': <false>}"
        expect_dbus_error org.left4me.Error.Busy "UpdateGame with restart_instances false while $GMR_NAME runs"
        assert_eq 0 "$(sql "SELECT count(*) FROM jobs WHERE kind = 'game-install' AND state IN ('queued', 'running');")" \
                "active game jobs after the refusals"

        # bob is neither its owner nor an admin.
        gcall bob "$L4M_MANAGER" org.left4me.Manager.UpdateGame "{'restart_instances': <true>}"
        ins_expect_denied "bob restarts alice's instance for an update"
        [[ $OUT$ERR == *"\"$GMR_NAME\""* ]] || fail "bob's refusal does not name $GMR_NAME: $OUT$ERR"

        # alice, with restart_instances: stopped, updated, started again.
        gm_config '{"buildid": "1000021", "delay": 0.25, "steps": 6}'
        gm_install alice UpdateGame "{'restart_instances': <true>}"
        ins_wait_state "$GMR_NAME" stopped 30
        [[ -z $(runtime_mounts "$GMR_NAME") ]] || fail "the stack of $GMR_NAME is still mounted during the update"
        ins_call alice "$GMR_NAME" Start
        expect_dbus_error org.left4me.Error.Busy "Start while the game is updated"
        job_wait "$JOB" 90
        expect_job succeeded "the update with restart_instances"
        assert_eq "Game updated (build 1000021). Started again: \"$GMR_NAME\"." "$JOB_MSG" "the job's message"
        log=$(job_log_text "$JOB")
        grep -qF "Stopping \"$GMR_NAME\" for the update" <<<"$log" || fail "the log does not say it stopped $GMR_NAME"
        grep -qF "Starting instance \"$GMR_NAME\" again." <<<"$log" || fail "the log does not say it started $GMR_NAME"
        # steamcmd ran only once the instance was down.
        (($(grep -n "Stopped \"$GMR_NAME\"; updating." <<<"$log" | cut -d: -f1) < $(grep -n "^fake-steamcmd argv" <<<"$log" | head -n 1 | cut -d: -f1))) ||
                fail "steamcmd ran before $GMR_NAME was down"
        assert_eq 1000021 "$(gm_prop GameBuildId)" "GameBuildId after the update"
        ins_wait_state "$GMR_NAME" running
        wait_until 10 gmr_pid_not "$GMR_NAME" "$pid" || fail "MainPID is still $pid"
        gmr_build_seen "$GMR_NAME" 1000021 || fail "$GMR_NAME does not run on the new build"

        # l4mctl, and a daemon restart while steamcmd runs: the daemon
        # remembers what the job stopped.
        gm_config '{"buildid": "1000022", "delay": 0.02, "steps": 3}'
        capture as_user alice l4mctl game update --restart-instances --wait
        expect_ok "l4mctl game update --restart-instances --wait"
        grep -qF "Starting instance \"$GMR_NAME\" again." <<<"$OUT" || fail "--wait did not print the restart: $OUT"
        ins_wait_state "$GMR_NAME" running
        gmr_build_seen "$GMR_NAME" 1000022 || fail "$GMR_NAME does not run on build 1000022"

        gm_config '{"buildid": "1000023", "delay": 0.4, "steps": 8}'
        gm_install alice UpdateGame "{'restart_instances': <true>}"
        wait_until 20 gm_unit_running "$GM_UNIT" || fail "$GM_UNIT did not run"
        assert_eq stopped "$(ins_prop "$GMR_NAME" State)" "$GMR_NAME while steamcmd runs"
        daemon_stop
        daemon_up
        job_wait "$JOB" 90
        expect_job succeeded "an update with restart_instances the daemon restarted during"
        expect_log "$JOB" "picked the job up again" "Starting instance \"$GMR_NAME\" again."
        ins_wait_state "$GMR_NAME" running
        gmr_build_seen "$GMR_NAME" 1000023 || fail "$GMR_NAME does not run on build 1000023"
        in_container sh -c 'ls /run/left4me/game-job-* 2>/dev/null' && fail "the job's record of stopped instances is left in /run/left4me"
        return 0
}
l4m_test game-update-instances test_game_update_instances 300

# A server that takes 4 s to stop: a srcds_run in a top overlay that shuts
# down slowly on SIGTERM. Its sleep ignores SIGTERM: systemd signals every
# process of the cgroup, and on a busy machine its sweep can still catch a
# sleep the trap has just started.
GMR_SLOW_SRCDS='#!/bin/sh
echo "slow srcds: up"
trap "trap \"\" TERM; echo slow srcds: stopping; sleep 4; echo slow srcds: down; exit 0" TERM
while :; do sleep 0.2; done
'

test_game_update_cancel() {
        local slow=gmr-slow b64 log
        gmr_setup
        trap 'gmr_cleanup; ins_remove gmr-slow' EXIT
        ins_remove "$slow"
        b64=$(printf '%s' "$GMR_SLOW_SRCDS" | base64 -w0)
        ins_overlay gmr-slow-ov "echo $b64 | base64 -d > srcds_run && chmod 0755 srcds_run" >/dev/null
        gcall alice "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "'gmr-slow-bp'" "['gmr-slow-ov', 'gmr-ov']" '@a{sv} {}'
        if ((RC != 0)); then
                expect_dbus_error org.left4me.Error.Exists "alice's blueprint gmr-slow-bp"
        fi
        ins_create alice "$slow" gmr-slow-bp "{'port': <uint16 $((GMR_PORT + 1))>}"
        expect_ok "alice creates $slow"
        ins_call alice "$slow" Start
        expect_ok "alice starts $slow"
        ins_wait_state "$slow" running
        wait_until 10 ins_journal_has "$slow" "slow srcds: up" || fail "the slow server did not come up"

        gm_config '{"buildid": "1000030", "delay": 0.02, "steps": 3}'
        gm_install alice UpdateGame "{'restart_instances': <true>}"
        ins_wait_state "$slow" stopping 10
        gcall alice "$JOB" org.left4me.Job.Cancel
        expect_ok "Cancel while the instances stop"
        job_wait "$JOB" 60
        expect_job cancelled "an update cancelled while the instances stopped"
        assert_eq "Cancelled before steamcmd ran. Started again: \"$GMR_NAME\", \"$slow\"." "$JOB_MSG" "the job's message"
        log=$(job_log_text "$JOB")
        grep -q "^fake-steamcmd argv" <<<"$log" && fail "steamcmd ran after the cancel"
        ins_journal_has "$slow" "slow srcds: down" || fail "$slow was started again before its old server was down"
        ins_wait_state "$GMR_NAME" running
        ins_wait_state "$slow" running
        assert_eq 1000020 "$(gm_prop GameBuildId)" "GameBuildId after the cancelled update"
        return 0
}
l4m_test game-update-cancel test_game_update_cancel 300

# --- the daemon's following of a unit when systemd does not answer ----------

GMT_POLICY=/etc/dbus-1/system.d/zz-left4me-test-deny-getunit.conf

# gmt_policy deny|allow: whether the bus refuses everyone's
# org.freedesktop.systemd1.Manager.GetUnit (root's systemctl talks to
# systemd over its private socket and is not affected).
gmt_policy() {
        local f=$CTR_DIR/root$GMT_POLICY
        if [[ $1 == deny ]]; then
                cat >"$f.tmp" <<'XML'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <policy context="mandatory">
    <deny send_destination="org.freedesktop.systemd1"
          send_interface="org.freedesktop.systemd1.Manager" send_member="GetUnit"/>
  </policy>
</busconfig>
XML
                mv "$f.tmp" "$f"
        else
                rm -f "$f"
        fi
        in_container busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig >/dev/null
}

gmt_get_unit_denied() {
        local err
        err=$(in_container busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
                org.freedesktop.systemd1.Manager GetUnit s left4me.service 2>&1 >/dev/null) && return 1
        [[ $err == *"ccess denied"* || $err == *AccessDenied* ]]
}

# gmt_journal_has SINCE REGEX: left4me logged a line matching REGEX since
# SINCE (seconds since the epoch).
gmt_journal_has() {
        in_container journalctl --no-pager -q -o cat -u left4me.service --since "@$1" | grep -E -- "$2" >/dev/null
}

gmt_cleanup() {
        set +e
        gmt_policy allow
        gmr_cleanup
        return 0
}

# The daemon starts while systemd's GetUnit is refused (as it is, in
# effect, while systemd re-executes or is too busy to answer): the running
# instance's state cannot be learnt, and no signal will come to make the
# daemon look again, for the unit does not change. It must try again on its
# own, waiting longer each time, and learn the state once GetUnit answers.
test_game_tracker_retry() {
        local pid since unit=left4me-server-$GMR_NAME.service
        gmr_setup
        trap gmt_cleanup EXIT
        pid=$(ins_prop "$GMR_NAME" MainPID)
        [[ $pid =~ ^[1-9][0-9]*$ ]] || fail "no MainPID for the running $GMR_NAME: '$pid'"

        gmt_policy deny
        gmt_get_unit_denied || fail "the policy drop-in does not make the bus refuse GetUnit"
        since=$(date +%s.%N)
        daemon_stop
        daemon_up
        # Two failed tries at least: 1 s, then 2 s, then 4 s.
        wait_until 15 gmt_journal_has "$since" "Cannot look up $unit: .*; trying again in 4 s\." ||
                fail "left4me did not log its retries: $(in_container journalctl --no-pager -q -o cat -u left4me.service --since "@$since" | grep -F "$unit" | tail -n 5)"
        gmt_journal_has "$since" "Cannot look up $unit: .*; trying again in 1 s\." || fail "the first retry was not after 1 s"
        ins_call alice "$GMR_NAME" Start
        expect_dbus_error org.left4me.Error.Busy "Start while the state of $GMR_NAME cannot be learnt"
        [[ $ERR == *"not known yet"* ]] || fail "Start is Busy for another reason: $ERR"
        [[ $(ins_prop "$GMR_NAME" State) != running ]] || fail "$GMR_NAME is running although GetUnit is refused"
        step "GetUnit refused: the state is unknown and left4me keeps trying"

        gmt_policy allow
        ins_wait_state "$GMR_NAME" running 20
        assert_eq "$pid" "$(ins_prop "$GMR_NAME" MainPID)" "MainPID once the state is known"
        gmt_journal_has "$since" "The state of $unit is known again\." || fail "left4me did not log that it knows the state again"
        ins_call alice "$GMR_NAME" Start
        expect_dbus_error org.left4me.Error.Busy "Start of the running $GMR_NAME"
        [[ $ERR == *"not known yet"* ]] && fail "the state is still not known: $ERR"
        step "GetUnit answers again: the state converged without any signal"
        return 0
}
l4m_test game-tracker-retry test_game_tracker_retry 240
