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
        local bpath flag pid out
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

        step "a logged-in session of the account is refused after DeleteUser"
        flag=/var/tmp/l4m-wd-flag
        in_container rm -f "$flag"
        out=$(mktemp)
        { ws_mgr ListOverlays; printf '{"wait_file": "%s", "timeout": 60}\n' "$flag"; ws_mgr ListOverlays; } |
                run_as "$WS_BRIDGE_USER" "$L4M_PY" "$WS_TOOL" --login wd-user delete-pass-1 >"$out" &
        pid=$!
        wait_until 20 grep -q '"call": "ListOverlays"' "$out" || fail "the session did not start: $(cat "$out")"
        delete_overlay root "$bpath"
        gcall root "$L4M_MANAGER" org.left4me.Manager.DeleteUser "'wd-user'"
        expect_ok "DeleteUser after the overlay is gone"
        in_container touch "$flag"
        wait "$pid" || fail "the session failed"
        OUT=$(<"$out")
        rm -f "$out"
        ws_expect_ok 2 "the session's call before DeleteUser"
        ws_expect_error 4 org.freedesktop.DBus.Error.AccessDenied "the session's call after DeleteUser"
        in_container rm -f "$flag"

        ws_session "$WS_BRIDGE_USER" wd-user delete-pass-1 </dev/null
        ws_expect_error 1 org.freedesktop.DBus.Error.AccessDenied "Login of a deleted account"
}
l4m_test web-delete-user test_web_delete_user

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
