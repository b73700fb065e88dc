# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Creating, listing and deleting overlays with l4mctl, and who may do what:
# group left4me manages its own overlays, left4me-admin anyone's, a user in
# neither group nothing.

# l4mctl_json_overlay USER NAME: the overlay's object from "l4mctl --json
# overlay list" as run by USER, as JSON ("null" if it is not listed).
l4mctl_json_overlay() {
        capture run_as "$1" l4mctl --json overlay list
        expect_ok "$1: l4mctl --json overlay list"
        json "next((o for o in d if o['name'] == '$2'), None)" <<<"$OUT"
}

test_root_creates_overlay() {
        local obj id path path2 id2
        daemon_up
        if [[ -n $(row_id maps1) ]]; then
                fail "maps1 exists before the test"
        fi
        capture in_container l4mctl overlay create maps1 --type workshop
        expect_ok "root: l4mctl overlay create maps1 --type workshop"

        obj=$(l4mctl_json_overlay root maps1)
        [[ $obj != null ]] || fail "maps1 is not in 'l4mctl --json overlay list'"
        assert_eq root "$(json "d['owner']" <<<"$obj")" "owner of maps1"
        assert_eq workshop "$(json "d['type']" <<<"$obj")" "type of maps1"
        id=$(json "d['id']" <<<"$obj")
        path=$(json "d['path']" <<<"$obj")
        assert_eq "$L4M_OVERLAY_PREFIX/$id" "$path" "object path of maps1 (from its id)"
        assert_eq "$id" "$(row_id maps1)" "id of maps1's database row"
        dir_exists "$id" || fail "maps1's directory $L4M_OVERLAYS/$id does not exist"

        capture in_container systemctl restart left4me.service
        expect_ok "systemctl restart left4me"
        reset_start_limit
        wait_until 10 unit_is_active || fail "left4me.service is not active after the restart"

        obj=$(l4mctl_json_overlay root maps1)
        [[ $obj != null ]] || fail "maps1 is not listed after the restart"
        id2=$(json "d['id']" <<<"$obj")
        path2=$(json "d['path']" <<<"$obj")
        assert_eq "$path" "$path2" "object path of maps1 after the restart"
        assert_eq "$id" "$id2" "id of maps1 after the restart"
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetOverlay "'maps1'"
        expect_ok "GetOverlay(maps1) after the restart"
        assert_eq "$path" "$(path_from_output)" "GetOverlay(maps1) after the restart"
        dir_exists "$id" || fail "maps1's directory is gone after the restart"
}
l4m_test root-creates-overlay test_root_creates_overlay

test_alice_own_overlay() {
        local obj id
        daemon_up
        capture as_user alice l4mctl overlay create alice1 --type script
        expect_ok "alice: l4mctl overlay create alice1 --type script"
        capture as_user alice l4mctl --json overlay show alice1
        expect_ok "alice: l4mctl --json overlay show alice1"
        obj=$OUT
        assert_eq alice "$(json "d['owner']" <<<"$obj")" "owner of alice1"
        assert_eq script "$(json "d['type']" <<<"$obj")" "type of alice1"
        id=$(json "d['id']" <<<"$obj")
        assert_eq "$id" "$(row_id alice1)" "id of alice1's row"
        dir_exists "$id" || fail "alice1's directory $L4M_OVERLAYS/$id does not exist after create"

        capture as_user alice l4mctl overlay delete alice1
        expect_ok "alice: l4mctl overlay delete alice1"
        [[ -z $(row_id alice1) ]] || fail "alice1's row is still there after delete"
        wait_until 5 dir_missing "$id" || fail "alice1's directory $L4M_OVERLAYS/$id is still there after delete"
        gcall alice "$L4M_MANAGER" org.left4me.Manager.GetOverlay "'alice1'"
        expect_dbus_error org.left4me.Error.NotFound "GetOverlay(alice1) after delete"
}
l4m_test alice-own-overlay test_alice_own_overlay

test_alice_cannot_delete_others() {
        local path id
        daemon_up
        path=$(ensure_overlay root maps1 workshop)
        id=$(id_of_path "$path")

        capture as_user alice l4mctl overlay delete maps1
        expect_exit 5 "alice: l4mctl overlay delete maps1 (root's)"
        [[ $ERR == *AccessDenied* || $ERR == *InteractiveAuthorizationRequired* ]] ||
                fail "l4mctl's error does not name the D-Bus error: $ERR"

        gcall alice -i "$path" org.left4me.Overlay.Delete
        expect_dbus_error org.freedesktop.DBus.Error.AccessDenied "alice: Delete() on root's maps1, interactive"
        gcall alice "$path" org.left4me.Overlay.Delete
        expect_dbus_error org.freedesktop.DBus.Error.InteractiveAuthorizationRequired \
                "alice: Delete() on root's maps1, not interactive"

        assert_eq "$id" "$(row_id maps1)" "maps1's row after alice's attempts"
        dir_exists "$id" || fail "maps1's directory is gone after alice's attempts"
}
l4m_test alice-cannot-delete-others test_alice_cannot_delete_others

test_admin_deletes_others() {
        local path id
        daemon_up
        path=$(create_overlay alice alice2 archive)
        id=$(id_of_path "$path")
        dir_exists "$id" || fail "alice2's directory does not exist"

        capture as_user bob l4mctl overlay delete alice2
        expect_exit 5 "bob (group left4me): l4mctl overlay delete alice2 (alice's)"
        [[ -n $(row_id alice2) ]] || fail "bob deleted alice's overlay"

        capture as_user carol l4mctl overlay delete alice2
        expect_ok "carol (left4me-admin): l4mctl overlay delete alice2"
        [[ -z $(row_id alice2) ]] || fail "alice2's row is still there after carol's delete"
        wait_until 5 dir_missing "$id" || fail "alice2's directory is still there after carol's delete"
}
l4m_test admin-deletes-others test_admin_deletes_others

test_mallory_denied() {
        local rows_before dirs_before
        daemon_up
        rows_before=$(rows)
        dirs_before=$(overlay_dirs)

        capture as_user mallory busctl --allow-interactive-authorization=no --timeout="$L4M_CALL_TIMEOUT" \
                call "$L4M_BUS" "$L4M_MANAGER" org.left4me.Manager CreateOverlay 'ssa{sv}' mal1 workshop 0
        ((RC != 0)) || fail "mallory: busctl CreateOverlay mal1 (not interactive) succeeded"
        gcall mallory "$L4M_MANAGER" org.left4me.Manager.CreateOverlay "'mal1'" "'workshop'" '{}'
        expect_dbus_error org.freedesktop.DBus.Error.InteractiveAuthorizationRequired \
                "mallory: CreateOverlay(mal1) without the interactive flag"

        capture as_user mallory l4mctl --no-ask-password overlay create mal2 --type workshop
        expect_exit 5 "mallory: l4mctl --no-ask-password overlay create mal2"

        capture as_user mallory busctl --allow-interactive-authorization=yes --timeout="$L4M_CALL_TIMEOUT" \
                call "$L4M_BUS" "$L4M_MANAGER" org.left4me.Manager CreateOverlay 'ssa{sv}' mal3 workshop 0
        ((RC != 0)) || fail "mallory: busctl CreateOverlay mal3 (interactive) succeeded"
        gcall mallory -i "$L4M_MANAGER" org.left4me.Manager.CreateOverlay "'mal3'" "'workshop'" '{}'
        expect_dbus_error org.freedesktop.DBus.Error.AccessDenied \
                "mallory: CreateOverlay(mal3) with the interactive flag and no agent"

        assert_eq "$rows_before" "$(rows)" "database rows after mallory's attempts"
        assert_eq "$dirs_before" "$(overlay_dirs)" "overlay directories after mallory's attempts"
}
l4m_test mallory-denied test_mallory_denied

# What polkitd is told about a check: the details verb, kind, name (and
# owner for someone else's), which rules can read (action.lookup()) and
# the actions' messages show ($(verb) ...). A rule that decides by them
# shows that they arrive (polkitd runs with its output going nowhere, so
# a rule cannot just log them).
test_polkit_details() {
        local path rules=/etc/polkit-1/rules.d/00-left4me-test-details.rules
        daemon_up
        path=$(ensure_overlay root probe1 archive)
        ensure_overlay root probe2 archive >/dev/null
        in_container sh -c "cat > $rules" <<'RULES'
polkit.addRule(function(action, subject) {
    if (action.id === "org.left4me.admin" && action.lookup("verb") === "delete" &&
        action.lookup("kind") === "overlay" && action.lookup("name") === "probe1" &&
        action.lookup("owner") === "root")
        return polkit.Result.YES;
    if (action.id === "org.left4me.overlay.manage" && action.lookup("verb") === "create" &&
        action.lookup("kind") === "overlay" && action.lookup("name") === "probe-denied" &&
        action.lookup("owner") === undefined)
        return polkit.Result.NO;
    return polkit.Result.NOT_HANDLED;
});
RULES
        # polkitd notices new rules files on its own; try until it has.
        probe_created_denied() {
                gcall alice "$L4M_MANAGER" org.left4me.Manager.CreateOverlay "'probe-denied'" "'archive'" '{}'
                [[ $RC != 0 && $ERR == *AccessDenied* ]]
        }
        wait_until 15 probe_created_denied || {
                in_container rm -f "$rules"
                fail "a rule on verb=create kind=overlay name=probe-denied did not refuse alice: ${ERR:-$OUT}"
        }
        [[ -z $(row_id probe-denied) ]] || fail "probe-denied was created"
        gcall alice "$L4M_MANAGER" org.left4me.Manager.CreateOverlay "'probe-allowed'" "'archive'" '{}'
        expect_ok "alice: CreateOverlay(probe-allowed), which the rule does not refuse"

        gcall alice "$(ensure_overlay root probe2 archive)" org.left4me.Overlay.Delete
        expect_dbus_error org.freedesktop.DBus.Error.InteractiveAuthorizationRequired \
                "alice: Delete() on root's probe2 (the rule allows only probe1)"
        gcall alice "$path" org.left4me.Overlay.Delete
        in_container rm -f "$rules"
        expect_ok "alice: Delete() on root's probe1, allowed by a rule on verb, kind, name and owner"
        [[ -z $(row_id probe1) ]] || fail "probe1 is still there"
}
l4m_test polkit-details test_polkit_details

test_mallory_can_read() {
        local n
        daemon_up
        ensure_overlay root maps1 workshop >/dev/null
        capture as_user mallory l4mctl --json overlay list
        expect_ok "mallory: l4mctl --json overlay list"
        n=$(json "len(d)" <<<"$OUT")
        assert_eq "$(row_count)" "$n" "number of overlays mallory sees"
        gcall mallory "$L4M_MANAGER" org.left4me.Manager.GetOverlay "'maps1'"
        expect_ok "mallory: GetOverlay(maps1)"
}
l4m_test mallory-can-read test_mallory_can_read

test_l4mctl_status() {
        daemon_up
        capture as_user bob l4mctl --json status
        expect_ok "bob: l4mctl --json status"
        assert_eq "$L4M_VERSION" "$(json "d['version']" <<<"$OUT")" "version in l4mctl --json status"
        assert_eq "$(row_count)" "$(json "d['overlays']" <<<"$OUT")" "overlay count in l4mctl --json status"
        capture as_user bob l4mctl status
        expect_ok "bob: l4mctl status"
        [[ $OUT == *"$L4M_VERSION"* ]] || fail "l4mctl status does not show the version"
}
l4m_test l4mctl-status test_l4mctl_status

test_not_found() {
        daemon_up
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetOverlay "'no-such-overlay'"
        expect_dbus_error org.left4me.Error.NotFound "GetOverlay(no-such-overlay)"
        capture in_container l4mctl overlay show no-such-overlay
        expect_exit 4 "l4mctl overlay show no-such-overlay"
        [[ $ERR == *NotFound* ]] || fail "l4mctl's error does not name org.left4me.Error.NotFound: $ERR"
        capture in_container l4mctl overlay delete no-such-overlay
        expect_exit 4 "l4mctl overlay delete no-such-overlay"
        gcall root "$L4M_OVERLAY_PREFIX/999999999" org.freedesktop.DBus.Properties.Get \
                "'org.left4me.Overlay'" "'Name'"
        ((RC != 0)) || fail "a property of a non-existent overlay object could be read: $OUT"
}
l4m_test not-found test_not_found

test_l4mctl_usage() {
        daemon_up
        capture in_container l4mctl overlay create
        expect_exit 2 "l4mctl overlay create (no name)"
        capture in_container l4mctl no-such-verb
        expect_exit 2 "l4mctl no-such-verb"
}
l4m_test l4mctl-usage test_l4mctl_usage
