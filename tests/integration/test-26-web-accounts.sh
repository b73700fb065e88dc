# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Web accounts: CreateUser/SetPassword/DeleteUser/ListUsers, Login by the
# bridge's user and the web principal it gives a connection, the slow-down
# of failed logins, what a web user may see and touch, revocation, and
# l4mctl's user verbs.

WS_TOOL=$L4M_TOOLS/web-session.py
WS_BRIDGE_USER=left4me-web

# ws_setup: left4me running and web-session.py in the container.
ws_setup() {
        daemon_up
        mkdir -p "$CTR_DIR/root$L4M_TOOLS"
        install -m 0755 "$L4M_SRCDIR/tests/integration/web-session.py" "$CTR_DIR/root$WS_TOOL"
}

# ws_session RUN-AS USER PASSWORD < CALLS: one connection, as unix user
# RUN-AS, that logs in as web account USER and makes CALLS (JSON lines,
# see web-session.py); sets RC/OUT/ERR. USER "" skips Login.
ws_session() {
        local as=$1 user=$2 pw=$3
        if [[ -z $user ]]; then
                capture run_as "$as" "$L4M_PY" "$WS_TOOL"
        else
                capture run_as "$as" "$L4M_PY" "$WS_TOOL" --login "$user" "$pw"
        fi
        expect_ok "web-session.py as $as"
}

# ws_line N: the Nth JSON line of OUT (0: the unique name, 1: Login with
# --login, then one per call).
ws_line() {
        sed -n "$(($1 + 1))p" <<<"$OUT"
}

# ws_field N EXPR: json EXPR on line N.
ws_field() {
        ws_line "$1" | json "$2"
}

# ws_expect_error N NAME WHAT
ws_expect_error() {
        local got
        got=$(ws_field "$1" "d.get('error', 'success')")
        [[ $got == "$2" ]] || fail "$3: expected $2, got $got: $(ws_line "$1")"
}

# ws_expect_ok N WHAT
ws_expect_ok() {
        local got
        got=$(ws_field "$1" "d.get('error', 'ok')")
        [[ $got == ok ]] || fail "$2: expected success, got $got: $(ws_line "$1")"
}

# ws_mgr METHOD [SIG ARG-JSON...]: a JSON call line on the Manager.
ws_mgr() {
        local method=$1 sig=${2:-} args
        shift 2 || shift $#
        args=$(IFS=,; printf '%s' "$*")
        if [[ -n $sig ]]; then
                printf '{"method": "%s", "sig": "%s", "args": [%s]}\n' "$method" "$sig" "$args"
        else
                printf '{"method": "%s"}\n' "$method"
        fi
}

# ws_obj PATH IFACE METHOD [SIG ARG-JSON...]: a JSON call line on an object.
ws_obj() {
        local path=$1 iface=$2 method=$3 sig=${4:-} args
        shift 4 || shift $#
        args=$(IFS=,; printf '%s' "$*")
        printf '{"path": "%s", "iface": "%s", "method": "%s"' "$path" "$iface" "$method"
        if [[ -n $sig ]]; then
                printf ', "sig": "%s", "args": [%s]' "$sig" "$args"
        fi
        printf '}\n'
}

# ws_user NAME PASSWORD ROLE: creates web account NAME as root unless it
# exists.
ws_user() {
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateUser "$(gv_str "$1")" "$(gv_str "$2")" "$(gv_str "$3")"
        if ((RC != 0)) && [[ $OUT$ERR != *org.left4me.Error.Exists* ]]; then
                fail "CreateUser $1: $ERR"
        fi
}

# ws_delete_overlay_if_there NAME: as root.
ws_delete_overlay_if_there() {
        local path
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetOverlay "$(gv_str "$1")"
        if ((RC == 0)); then
                path=$(path_from_output)
                delete_overlay root "$path"
        fi
}

test_web_accounts_admin_only() {
        local m hash
        ws_setup

        step "a user without org.left4me.admin can do none of it"
        for m in "CreateUser 'wa-x' 'password-x' 'user'" "SetPassword 'wa-x' 'password-y'" "DeleteUser 'wa-x'" "ListUsers"; do
                # shellcheck disable=SC2086
                gcall alice "$L4M_MANAGER" org.left4me.Manager.$m
                ((RC != 0)) || fail "alice: $m succeeded"
                [[ $OUT$ERR == *org.freedesktop.DBus.Error.AccessDenied* ||
                   $OUT$ERR == *org.freedesktop.DBus.Error.InteractiveAuthorizationRequired* ]] ||
                        fail "alice: $m: expected a polkit refusal, got: $ERR"
        done

        step "root creates, lists and changes a web account"
        gcall root "$L4M_MANAGER" org.left4me.Manager.DeleteUser "'wa-one'" || true
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateUser "'wa-one'" "'S3cret-first-pass'" "'user'"
        expect_ok "root: CreateUser wa-one"
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateUser "'wa-one'" "'S3cret-first-pass'" "'user'"
        expect_dbus_error org.left4me.Error.Exists "CreateUser wa-one again"
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateUser "'wa-two'" "'short'" "'user'"
        expect_dbus_error org.left4me.Error.InvalidArgument "CreateUser with a 5-byte password"
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateUser "'wa-two'" "'long-enough'" "'root'"
        expect_dbus_error org.left4me.Error.InvalidArgument "CreateUser with role root"
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateUser "'Wa/two'" "'long-enough'" "'user'"
        expect_dbus_error org.left4me.Error.InvalidArgument "CreateUser with a bad name"

        gcall root "$L4M_MANAGER" org.left4me.Manager.ListUsers
        expect_ok "root: ListUsers"
        [[ $OUT == *"('wa-one', 'user', uint64 "* ]] || fail "ListUsers does not list wa-one as user: $OUT"

        hash=$(sql "SELECT password_hash FROM web_users WHERE name = 'wa-one';")
        [[ $hash == '$argon2id$'* ]] || fail "stored hash is not argon2id: $hash"

        gcall root "$L4M_MANAGER" org.left4me.Manager.SetPassword "'wa-one'" "'S3cret-second-pass'"
        expect_ok "root: SetPassword wa-one"
        [[ $(sql "SELECT password_hash FROM web_users WHERE name = 'wa-one';") != "$hash" ]] ||
                fail "SetPassword left the hash as it was"
        gcall root "$L4M_MANAGER" org.left4me.Manager.SetPassword "'wa-nobody'" "'S3cret-second-pass'"
        expect_dbus_error org.left4me.Error.NotFound "SetPassword of an unknown account"

        step "the passwords are nowhere in the database"
        capture in_container sh -c "cat $L4M_STATE/db/left4me.db* | grep -a -c -e S3cret-first-pass -e S3cret-second-pass"
        assert_eq 0 "$OUT" "lines of the database files holding a password"

        gcall root "$L4M_MANAGER" org.left4me.Manager.DeleteUser "'wa-one'"
        expect_ok "root: DeleteUser wa-one"
        gcall root "$L4M_MANAGER" org.left4me.Manager.DeleteUser "'wa-one'"
        expect_dbus_error org.left4me.Error.NotFound "DeleteUser wa-one again"
        [[ -z $(sql "SELECT name FROM web_users WHERE name = 'wa-one';") ]] || fail "wa-one's row is still there"
}
l4m_test web-accounts-admin-only test_web_accounts_admin_only

test_web_login() {
        local role owner
        ws_setup
        ws_user wl-user 'login-pass-1' user
        ws_delete_overlay_if_there wl-ov

        step "Login needs org.left4me.delegate: alice may not"
        ws_session alice wl-user login-pass-1 < <(ws_mgr ListOverlays)
        [[ $(ws_field 1 "d.get('error')") =~ ^org\.freedesktop\.DBus\.Error\.(AccessDenied|InteractiveAuthorizationRequired)$ ]] ||
                fail "alice: Login: expected a polkit refusal, got $(ws_line 1)"

        step "the bridge logs in; the connection acts as web:wl-user"
        ws_session "$WS_BRIDGE_USER" wl-user login-pass-1 < <(
                ws_mgr CreateOverlay '(ssa{sv})' '"wl-ov"' '"workshop"' '{}'
                ws_mgr Login '(ss)' '"wl-user"' '"login-pass-1"')
        ws_expect_ok 1 "bridge: Login wl-user"
        role=$(ws_field 1 "d['ok'][0]")
        assert_eq user "$role" "the role Login answers"
        ws_expect_ok 2 "web:wl-user: CreateOverlay"
        ws_expect_error 3 org.left4me.Error.InvalidArgument "a second Login on the same connection"
        owner=$(sql "SELECT owner FROM overlays WHERE name = 'wl-ov';")
        assert_eq web:wl-user "$owner" "owner of the overlay a web session made"

        step "a web account named root is not the unix user root"
        ws_user root 'root-web-pass' user
        ws_session "$WS_BRIDGE_USER" root root-web-pass < <(ws_mgr ListOverlays)
        ws_expect_ok 1 "bridge: Login as web account root"
        [[ $(ws_field 2 "[o[1] for o in d['ok'][0]]") != *wl-ov* ]] ||
                fail "web account root sees web:wl-user's overlay"
        gcall root "$L4M_MANAGER" org.left4me.Manager.DeleteUser "'root'"
        expect_ok "DeleteUser root (the web account)"

        step "wrong password and unknown account: the same refusal"
        ws_session "$WS_BRIDGE_USER" wl-user wrong-password </dev/null
        ws_expect_error 1 org.freedesktop.DBus.Error.AccessDenied "Login with a wrong password"
        assert_eq "Wrong user name or password." "$(ws_field 1 "d['message']")" "the refusal's text"
        ws_session "$WS_BRIDGE_USER" wl-nobody wrong-password </dev/null
        ws_expect_error 1 org.freedesktop.DBus.Error.AccessDenied "Login as an unknown account"
        assert_eq "Wrong user name or password." "$(ws_field 1 "d['message']")" "the refusal's text for an unknown account"
        ws_session "$WS_BRIDGE_USER" wl-user wrong-password < <(ws_mgr CreateOverlay '(ssa{sv})' '"wl-ov2"' '"workshop"' '{}')
        [[ $(ws_field 2 "d.get('error')") =~ ^org\.freedesktop\.DBus\.Error\.(AccessDenied|InteractiveAuthorizationRequired)$ ]] ||
                fail "CreateOverlay after a failed Login (the bridge's own rights): expected a polkit refusal, got $(ws_line 2)"

        ws_delete_overlay_if_there wl-ov
}
l4m_test web-login test_web_login

test_web_login_slowdown() {
        local i ms calls
        ws_setup
        ws_user ws-slow 'slow-pass-1' user
        ws_user ws-other 'other-pass-1' user

        step "per account: 3 free failures (each on a new connection), then a delay"
        for i in 1 2 3; do
                ws_session "$WS_BRIDGE_USER" ws-slow wrong-password </dev/null
                ws_expect_error 1 org.freedesktop.DBus.Error.AccessDenied "failed login $i"
                ms=$(ws_field 1 "int(d['ms'])")
                ((ms < 1000)) || fail "failed login $i took $ms ms; the first 3 are not delayed"
        done
        ws_session "$WS_BRIDGE_USER" ws-slow wrong-password </dev/null
        ws_expect_error 1 org.freedesktop.DBus.Error.AccessDenied "failed login 4"
        ms=$(ws_field 1 "int(d['ms'])")
        ((ms >= 1000)) || fail "failed login 4 took $ms ms, expected at least 1000 (the delay)"
        ws_session "$WS_BRIDGE_USER" ws-slow wrong-password </dev/null
        ms=$(ws_field 1 "int(d['ms'])")
        ((ms >= 2000)) || fail "failed login 5 took $ms ms, expected at least 2000 (doubled)"

        step "another account on another connection is not slowed"
        ws_session "$WS_BRIDGE_USER" ws-other other-pass-1 </dev/null
        ws_expect_ok 1 "Login ws-other"
        ms=$(ws_field 1 "int(d['ms'])")
        ((ms < 1000)) || fail "Login of ws-other took $ms ms"

        step "the right password for the slowed account still works, after the delay, and resets it"
        ws_session "$WS_BRIDGE_USER" ws-slow slow-pass-1 </dev/null
        ws_expect_ok 1 "Login ws-slow with the right password"
        ms=$(ws_field 1 "int(d['ms'])")
        ((ms >= 4000)) || fail "the right password was answered in $ms ms despite 5 failures"
        ws_session "$WS_BRIDGE_USER" ws-slow wrong-password </dev/null
        ms=$(ws_field 1 "int(d['ms'])")
        ((ms < 1000)) || fail "a failure after a success took $ms ms: the success did not reset the count"

        step "per connection: one connection trying many accounts is slowed too"
        calls=$(for i in 1 2 3 4; do ws_mgr Login '(ss)' "\"ws-conn-$i\"" '"wrong-password"'; done)
        ws_session "$WS_BRIDGE_USER" "" "" <<<"$calls"
        for i in 1 2 3; do
                ws_expect_error "$i" org.freedesktop.DBus.Error.AccessDenied "connection: failed login $i"
                ms=$(ws_field "$i" "int(d['ms'])")
                ((ms < 1000)) || fail "connection: failed login $i took $ms ms"
        done
        ws_expect_error 4 org.freedesktop.DBus.Error.AccessDenied "connection: failed login 4"
        ms=$(ws_field 4 "int(d['ms'])")
        ((ms >= 1000)) || fail "connection: failed login 4 took $ms ms, expected at least 1000"
}
l4m_test web-login-slowdown test_web_login_slowdown 180

test_web_visibility() {
        local bpath
        ws_setup
        ws_user wv-a 'pass-of-a-1' user
        ws_user wv-b 'pass-of-b-1' user
        ws_user wv-admin 'pass-of-admin-1' admin
        ws_delete_overlay_if_there wv-ov-b

        step "B makes an overlay"
        ws_session "$WS_BRIDGE_USER" wv-b pass-of-b-1 < <(ws_mgr CreateOverlay '(ssa{sv})' '"wv-ov-b"' '"workshop"' '{}')
        ws_expect_ok 2 "B: CreateOverlay"
        bpath=$(ws_field 2 "d['ok'][0]")

        step "A cannot see or touch it"
        ws_session "$WS_BRIDGE_USER" wv-a pass-of-a-1 < <(
                ws_mgr ListOverlays
                ws_mgr GetOverlay '(s)' '"wv-ov-b"'
                ws_obj "$bpath" org.freedesktop.DBus.Properties GetAll '(s)' '"org.left4me.Overlay"'
                ws_obj "$bpath" org.left4me.Overlay Delete
                ws_mgr CreateBlueprint '(sasa{sv})' '"wv-bp-a"' '["wv-ov-b"]' '{}'
                ws_mgr ListUsers
                ws_obj "$L4M_MANAGER" org.freedesktop.DBus.ObjectManager GetManagedObjects)
        ws_expect_ok 2 "A: ListOverlays"
        [[ $(ws_field 2 "[o[1] for o in d['ok'][0]]") != *wv-ov-b* ]] || fail "A's ListOverlays shows B's overlay"
        ws_expect_error 3 org.left4me.Error.NotFound "A: GetOverlay of B's overlay"
        ws_expect_error 4 org.freedesktop.DBus.Error.UnknownObject "A: Properties.GetAll on B's overlay"
        ws_expect_error 5 org.freedesktop.DBus.Error.UnknownObject "A: Delete of B's overlay"
        ws_expect_error 6 org.left4me.Error.NotFound "A: CreateBlueprint with B's overlay"
        ws_expect_error 7 org.freedesktop.DBus.Error.AccessDenied "A (role user): ListUsers"
        ws_expect_ok 8 "A: GetManagedObjects"
        [[ $(ws_field 8 "list(d['ok'][0].keys())") != *"$bpath"* ]] || fail "A's GetManagedObjects shows B's overlay"
        [[ -n $(sql "SELECT id FROM overlays WHERE name = 'wv-ov-b';") ]] || fail "B's overlay is gone after A's Delete"

        step "a web admin sees it and may use admin-only methods"
        ws_session "$WS_BRIDGE_USER" wv-admin pass-of-admin-1 < <(
                ws_mgr ListOverlays
                ws_mgr GetOverlay '(s)' '"wv-ov-b"'
                ws_obj "$bpath" org.freedesktop.DBus.Properties Get '(ss)' '"org.left4me.Overlay"' '"Owner"'
                ws_mgr ListUsers)
        ws_expect_ok 1 "Login wv-admin"
        assert_eq admin "$(ws_field 1 "d['ok'][0]")" "the role Login answers for an admin"
        [[ $(ws_field 2 "[o[1] for o in d['ok'][0]]") == *wv-ov-b* ]] || fail "the web admin does not see B's overlay"
        ws_expect_ok 3 "admin: GetOverlay of B's overlay"
        assert_eq web:wv-b "$(ws_field 4 "d['ok'][0]")" "Owner of B's overlay as the web admin reads it"
        ws_expect_ok 5 "admin: ListUsers"

        step "a unix user still sees everything"
        gcall alice "$L4M_MANAGER" org.left4me.Manager.GetOverlay "'wv-ov-b'"
        expect_ok "alice: GetOverlay of a web user's overlay"

        step "the web admin deletes it"
        ws_session "$WS_BRIDGE_USER" wv-admin pass-of-admin-1 < <(ws_obj "$bpath" org.left4me.Overlay Delete)
        ws_expect_ok 2 "admin: Delete of B's overlay"
}
l4m_test web-visibility test_web_visibility

test_web_delete_user() {
        local bpath pid out
        ws_setup
        ws_user wd-user 'delete-pass-1' user
        ws_delete_overlay_if_there wd-ov

        ws_session "$WS_BRIDGE_USER" wd-user delete-pass-1 < <(ws_mgr CreateOverlay '(ssa{sv})' '"wd-ov"' '"workshop"' '{}')
        ws_expect_ok 2 "wd-user: CreateOverlay"
        bpath=$(ws_field 2 "d['ok'][0]")

        step "DeleteUser while the account owns an overlay: Busy"
        gcall root "$L4M_MANAGER" org.left4me.Manager.DeleteUser "'wd-user'"
        expect_dbus_error org.left4me.Error.Busy "DeleteUser of an account owning an overlay"
        [[ $ERR == *"1 overlay(s)"* ]] || fail "the Busy error does not say what is owned: $ERR"

        step "a logged-in session of the account is refused after DeleteUser, and told so by SessionsRevoked"
        out=$(mktemp)
        { ws_mgr ListOverlays; printf '{"wait_signal": "SessionsRevoked", "timeout": 30}\n'; ws_mgr ListOverlays; } |
                run_as "$WS_BRIDGE_USER" "$L4M_PY" "$WS_TOOL" --login wd-user delete-pass-1 >"$out" &
        pid=$!
        wait_until 20 grep -q '"call": "ListOverlays"' "$out" || fail "the session did not start: $(cat "$out")"
        delete_overlay root "$bpath"
        gcall root "$L4M_MANAGER" org.left4me.Manager.DeleteUser "'wd-user'"
        expect_ok "DeleteUser after the overlay is gone"
        wait "$pid" || fail "the session failed"
        OUT=$(<"$out")
        rm -f "$out"
        ws_expect_ok 2 "the session's call before DeleteUser"
        assert_eq "$(ws_field 0 "json.dumps(['wd-user', [d['unique_name']]])")" "$(ws_field 3 "json.dumps(d.get('args'))")" \
                "SessionsRevoked (user, connections) after DeleteUser"
        ws_expect_error 4 org.freedesktop.DBus.Error.AccessDenied "the session's call after DeleteUser"

        ws_session "$WS_BRIDGE_USER" wd-user delete-pass-1 </dev/null
        ws_expect_error 1 org.freedesktop.DBus.Error.AccessDenied "Login of a deleted account"
}
l4m_test web-delete-user test_web_delete_user

# ws_background OUT-FILE USER PASSWORD < CALLS: ws_session in the
# background, as the bridge's user, its output to OUT-FILE; sets WS_PID.
ws_background() {
        # stdin named: a background command's would be /dev/null.
        run_as "$WS_BRIDGE_USER" "$L4M_PY" "$WS_TOOL" --login "$2" "$3" <&0 >"$1" &
        WS_PID=$!
}

test_web_password_revokes() {
        local out pid_b name_a name_b
        ws_setup
        ws_user wr-user 'revoke-pass-1' user

        step "two sessions of one account; one changes the password"
        out=$(mktemp)
        ws_background "$out" wr-user revoke-pass-1 < <(
                ws_mgr ListOverlays
                printf '{"wait_signal": "SessionsRevoked", "timeout": 30}\n'
                ws_mgr ListOverlays)
        pid_b=$WS_PID
        wait_until 20 grep '"call": "ListOverlays"' "$out" || fail "session B did not start: $(cat "$out")"
        ws_session "$WS_BRIDGE_USER" wr-user revoke-pass-1 < <(
                ws_mgr SetPassword '(ss)' '"wr-user"' '"revoke-pass-2"'
                ws_mgr ListOverlays)
        name_a=$(ws_field 0 "d['unique_name']")
        ws_expect_ok 2 "session A: SetPassword of its own account"
        ws_expect_ok 3 "session A: a call after its own SetPassword"
        wait "$pid_b" || fail "session B failed"
        OUT=$(<"$out")
        rm -f "$out"
        name_b=$(ws_field 0 "d['unique_name']")
        ws_expect_ok 2 "session B: the call before the SetPassword"
        assert_eq "$(json "json.dumps(['wr-user', ['$name_b']])" <<<'{}')" "$(ws_field 3 "json.dumps(d.get('args'))")" \
                "SessionsRevoked (user, connections) after A's SetPassword (A $name_a keeps its session)"
        ws_expect_error 4 org.freedesktop.DBus.Error.AccessDenied "session B: a call after A's SetPassword"

        step "the old password is refused, the new one works"
        ws_session "$WS_BRIDGE_USER" wr-user revoke-pass-1 </dev/null
        ws_expect_error 1 org.freedesktop.DBus.Error.AccessDenied "Login with the old password"
        ws_session "$WS_BRIDGE_USER" wr-user revoke-pass-2 </dev/null
        ws_expect_ok 1 "Login with the new password"

        step "root resetting the password revokes every session of the account"
        out=$(mktemp)
        ws_background "$out" wr-user revoke-pass-2 < <(
                ws_mgr ListOverlays
                printf '{"wait_signal": "SessionsRevoked", "timeout": 30}\n'
                ws_mgr ListOverlays)
        pid_b=$WS_PID
        wait_until 20 grep '"call": "ListOverlays"' "$out" || fail "the session did not start: $(cat "$out")"
        gcall root "$L4M_MANAGER" org.left4me.Manager.SetPassword "'wr-user'" "'revoke-pass-3'"
        expect_ok "root: SetPassword wr-user"
        wait "$pid_b" || fail "the session failed"
        OUT=$(<"$out")
        rm -f "$out"
        assert_eq "$(ws_field 0 "json.dumps(['wr-user', [d['unique_name']]])")" "$(ws_field 3 "json.dumps(d.get('args'))")" \
                "SessionsRevoked after root's SetPassword"
        ws_expect_error 4 org.freedesktop.DBus.Error.AccessDenied "the session's call after root's SetPassword"

        gcall root "$L4M_MANAGER" org.left4me.Manager.DeleteUser "'wr-user'"
        expect_ok "DeleteUser wr-user"
}
l4m_test web-password-revokes test_web_password_revokes

test_web_login_busy_per_account() {
        local i out pid busy=0 denied=0 ms err
        local outs=() pids=()
        ws_setup
        ws_user wp-busy 'busy-pass-1' user
        ws_user wp-other 'other-pass-1' user

        step "6 failures: the next attempt for the account waits 8 s"
        for i in 1 2 3 4 5 6; do
                ws_session "$WS_BRIDGE_USER" wp-busy wrong-password </dev/null
                ws_expect_error 1 org.freedesktop.DBus.Error.AccessDenied "failed login $i"
        done

        step "3 attempts at once: 2 wait, the third is Busy at once"
        for i in 1 2 3; do
                out=$(mktemp)
                outs+=("$out")
                ws_background "$out" wp-busy wrong-password </dev/null
                pids+=("$WS_PID")
        done
        wait_until 10 grep -h '"error": "org.left4me.Error.Busy"' "${outs[@]}" ||
                fail "no attempt was Busy: $(cat "${outs[@]}")"

        step "meanwhile another account logs in at once"
        ws_session "$WS_BRIDGE_USER" wp-other other-pass-1 </dev/null
        ws_expect_ok 1 "Login wp-other while wp-busy's attempts wait"
        ms=$(ws_field 1 "int(d['ms'])")
        ((ms < 1000)) || fail "Login of wp-other took $ms ms"

        for pid in "${pids[@]}"; do
                wait "$pid" || fail "a login attempt failed"
        done
        for out in "${outs[@]}"; do
                OUT=$(<"$out")
                rm -f "$out"
                err=$(ws_field 1 "d.get('error', 'ok')")
                ms=$(ws_field 1 "int(d['ms'])")
                case $err in
                org.left4me.Error.Busy)
                        busy=$((busy + 1))
                        ((ms < 1000)) || fail "the Busy answer took $ms ms"
                        [[ $(ws_field 1 "d['message']") == "Too many login attempts for this account; try again in 8 s." ]] ||
                                fail "the Busy text: $(ws_line 1)"
                        ;;
                org.freedesktop.DBus.Error.AccessDenied)
                        denied=$((denied + 1))
                        ((ms >= 7000)) || fail "a waiting attempt was answered in $ms ms, before its delay"
                        ;;
                *) fail "unexpected answer: $(ws_line 1)" ;;
                esac
        done
        assert_eq 1 "$busy" "attempts answered Busy"
        assert_eq 2 "$denied" "attempts answered after the delay"
}
l4m_test web-login-busy-per-account test_web_login_busy_per_account 180

# ws_delete_blueprint_if_there NAME: as root.
ws_delete_blueprint_if_there() {
        local path
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetBlueprint "$(gv_str "$1")"
        if ((RC == 0)); then
                path=$(grep -o '/org/left4me/Manager/blueprint/[0-9]*' <<<"$OUT")
                gcall root "$path" org.left4me.Blueprint.Delete
                expect_ok "root: Delete blueprint $1"
        fi
}

test_web_error_names() {
        local opath
        ws_setup
        ws_user wn-a 'names-pass-a' user
        ws_user wn-admin 'names-pass-admin' admin
        ws_delete_blueprint_if_there wn-bp-root
        ws_delete_blueprint_if_there wn-bp-a
        ws_delete_overlay_if_there wn-ov

        step "A's overlay, used by A's blueprint and by one of root's"
        ws_session "$WS_BRIDGE_USER" wn-a names-pass-a < <(
                ws_mgr CreateOverlay '(ssa{sv})' '"wn-ov"' '"workshop"' '{}'
                ws_mgr CreateBlueprint '(sasa{sv})' '"wn-bp-a"' '["wn-ov"]' '{}')
        ws_expect_ok 2 "A: CreateOverlay"
        ws_expect_ok 3 "A: CreateBlueprint"
        opath=$(ws_field 2 "d['ok'][0]")
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "'wn-bp-root'" "['wn-ov']" "@a{sv} {}"
        expect_ok "root: CreateBlueprint with A's overlay"

        step "A deleting it: Busy naming A's blueprint, only counting root's"
        ws_session "$WS_BRIDGE_USER" wn-a names-pass-a < <(ws_obj "$opath" org.left4me.Overlay Delete)
        ws_expect_error 2 org.left4me.Error.Busy "A: Delete of an overlay blueprints use"
        assert_eq 'Overlay "wn-ov" is used by blueprint(s) "wn-bp-a" and 1 of other users.' \
                "$(ws_field 2 "d['message']")" "the Busy text A gets"

        step "a web admin and root get every name"
        ws_session "$WS_BRIDGE_USER" wn-admin names-pass-admin < <(ws_obj "$opath" org.left4me.Overlay Delete)
        ws_expect_error 2 org.left4me.Error.Busy "admin: Delete of an overlay blueprints use"
        assert_eq 'Overlay "wn-ov" is used by blueprint(s) "wn-bp-a", "wn-bp-root".' \
                "$(ws_field 2 "d['message']")" "the Busy text a web admin gets"

        ws_delete_blueprint_if_there wn-bp-root
        ws_delete_blueprint_if_there wn-bp-a
        delete_overlay root "$opath"
}
l4m_test web-error-names test_web_error_names

# ws_journal_has SINCE TEXT: left4me.service logged a line holding TEXT
# (fixed string) since SINCE (seconds since the epoch).
ws_journal_has() {
        in_container journalctl --no-pager -q -o cat -u left4me.service --since "@$1" | grep -F -- "$2" >/dev/null
}

test_web_login_log_escaped() {
        local since
        ws_setup
        since=$(in_container date +%s)

        step "a failed login's name is logged cut to 64 bytes and escaped"
        ws_session "$WS_BRIDGE_USER" $'wx-evil\nFORGED LINE' wrong-password </dev/null
        ws_expect_error 1 org.freedesktop.DBus.Error.AccessDenied "Login with a name holding a newline"
        wait_until 10 ws_journal_has "$since" 'Failed web login as "wx-evil\nFORGED LINE" (not a valid account name)' ||
                fail "no escaped log line for the name: $(in_container journalctl --no-pager -q -o cat -u left4me.service --since "@$since")"
        ws_session "$WS_BRIDGE_USER" "wx-long-$(printf 'y%.0s' {1..100})" wrong-password </dev/null
        wait_until 10 ws_journal_has "$since" "Failed web login as \"wx-long-$(printf 'y%.0s' {1..56})\" (not" ||
                fail "the long name is not logged cut to 64 bytes"
        capture in_container journalctl --no-pager -q -o cat -u left4me.service --since "@$since"
        ! grep '^FORGED LINE' <<<"$OUT" >/dev/null || fail "the name's newline reached the log"
}
l4m_test web-login-log-escaped test_web_login_log_escaped

test_web_l4mctl_user() {
        ws_setup
        in_container l4mctl user delete wc-user >/dev/null 2>&1 || true

        capture in_container sh -c "printf 'ctl-pass-1\n' | l4mctl user add wc-user --role admin"
        expect_ok "l4mctl user add wc-user --role admin (password on stdin)"
        capture in_container l4mctl --json user list
        expect_ok "l4mctl --json user list"
        assert_eq admin "$(json "next(u['role'] for u in d if u['name'] == 'wc-user')" <<<"$OUT")" "wc-user's role in the list"
        capture in_container l4mctl user list
        expect_ok "l4mctl user list"
        grep -E '^wc-user +admin' <<<"$OUT" >/dev/null || fail "the table does not list wc-user: $OUT"

        ws_session "$WS_BRIDGE_USER" wc-user ctl-pass-1 </dev/null
        ws_expect_ok 1 "Login with the password l4mctl set"

        capture in_container sh -c "printf 'ctl-pass-2\n' | l4mctl user passwd wc-user"
        expect_ok "l4mctl user passwd wc-user"
        ws_session "$WS_BRIDGE_USER" wc-user ctl-pass-2 </dev/null
        ws_expect_ok 1 "Login with the new password"

        capture run_as alice l4mctl --no-ask-password user list
        ((RC != 0)) || fail "alice: l4mctl user list succeeded"

        capture in_container l4mctl user delete wc-user
        expect_ok "l4mctl user delete wc-user"
        [[ -z $(sql "SELECT name FROM web_users WHERE name = 'wc-user';") ]] || fail "wc-user is still stored"
}
l4m_test web-l4mctl-user test_web_l4mctl_user
