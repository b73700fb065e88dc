# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# CreateOverlay validates names, types and options before anything touches
# disk or the database.

# snapshot: the rows and the directory listing, to compare before/after.
snapshot() {
        printf 'rows:\n%s\ndirs:\n%s\n' "$(rows)" "$(overlay_dirs)"
}

# refuse_each ARG-KIND VALUE...: CreateOverlay with each VALUE as the name
# (ARG-KIND name) or the type (ARG-KIND type) must fail with
# org.left4me.Error.InvalidArgument and change no row and no directory.
refuse_each() {
        local kind=$1 before value args bad=0
        shift
        before=$(snapshot)
        for value in "$@"; do
                if [[ $kind == name ]]; then
                        args=("$(gv_str "$value")" "'workshop'")
                else
                        args=("'typetest'" "$(gv_str "$value")")
                fi
                gcall root "$L4M_MANAGER" org.left4me.Manager.CreateOverlay "${args[@]}" '{}'
                if ((RC == 0)); then
                        echo "reason: $kind '$value' was accepted: $OUT"
                        bad=1
                        in_container busctl call "$L4M_BUS" "$(path_from_output)" org.left4me.Overlay Delete || true
                elif [[ "$OUT$ERR" != *"GDBus.Error:org.left4me.Error.InvalidArgument:"* ]]; then
                        echo "reason: $kind '$value': expected org.left4me.Error.InvalidArgument, got: $ERR"
                        bad=1
                fi
        done
        assert_eq "$before" "$(snapshot)" "rows and directories after the bad ${kind}s"
        ((bad == 0)) || fail "some ${kind}s were not refused with InvalidArgument (see above)"
}

test_bad_names() {
        daemon_up
        refuse_each name "" "../x" "a/b" "A" "$(printf 'a%.0s' {1..49})" "é" "x:y" "x,y" \
                "-x" "_x" "x y" "." ".." "x." "maps\\n" "ab*" \
                "$(printf 'a%.0s' {1..63})é"  # the error quotes 64 bytes: a cut inside 'é'
}
l4m_test bad-names test_bad_names

test_longest_name() {
        local name path id
        name=$(printf 'a%.0s' {1..47})9
        daemon_up
        path=$(create_overlay root "$name" workshop)
        id=$(id_of_path "$path")
        assert_eq "$id" "$(row_id "$name")" "row of the 48-character name"
        dir_exists "$id" || fail "no directory for the 48-character name"
        delete_overlay root "$path"
}
l4m_test longest-name test_longest_name

test_unknown_type() {
        daemon_up
        refuse_each type bogus "" Workshop "workshop " scripts "$(printf 'w%.0s' {1..31})é"
}
l4m_test unknown-type test_unknown_type

test_duplicate_name() {
        local path before
        daemon_up
        path=$(create_overlay root dup1 workshop)
        before=$(snapshot)
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateOverlay "'dup1'" "'workshop'" '{}'
        expect_dbus_error org.left4me.Error.Exists "CreateOverlay(dup1) again"
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateOverlay "'dup1'" "'script'" '{}'
        expect_dbus_error org.left4me.Error.Exists "CreateOverlay(dup1) again with another type"
        gcall alice "$L4M_MANAGER" org.left4me.Manager.CreateOverlay "'dup1'" "'workshop'" '{}'
        expect_dbus_error org.left4me.Error.Exists "alice: CreateOverlay(dup1) (root's name)"
        capture in_container l4mctl overlay create dup1 --type workshop
        expect_exit 6 "l4mctl overlay create dup1 (exists)"
        assert_eq "$before" "$(snapshot)" "rows and directories after the duplicates"
        delete_overlay root "$path"
}
l4m_test duplicate-name test_duplicate_name

test_unknown_option() {
        local before
        daemon_up
        before=$(snapshot)
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateOverlay "'opttest'" "'workshop'" "{'foo': <'bar'>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "CreateOverlay with option foo"
        capture in_container busctl --timeout="$L4M_CALL_TIMEOUT" call "$L4M_BUS" "$L4M_MANAGER" \
                org.left4me.Manager CreateOverlay 'ssa{sv}' opttest archive 1 items as 1 123
        ((RC != 0)) || fail "CreateOverlay of an archive overlay with option 'items' succeeded"
        capture in_container busctl --timeout="$L4M_CALL_TIMEOUT" call "$L4M_BUS" "$L4M_MANAGER" \
                org.left4me.Manager CreateOverlay 'ssa{sv}' opttest workshop 1 items s 123
        ((RC != 0)) || fail "CreateOverlay with option 'items' as a string succeeded"
        assert_eq "$before" "$(snapshot)" "rows and directories after the unknown options"
}
l4m_test unknown-option test_unknown_option

# l4mctl(1): names and types are passed on unchanged and refused by the
# daemon with InvalidArgument, exit status 3.
test_l4mctl_invalid_argument() {
        local before
        daemon_up
        before=$(snapshot)
        capture in_container l4mctl overlay create ../x --type workshop
        expect_exit 3 "l4mctl overlay create ../x --type workshop"
        [[ $ERR == *org.left4me.Error.InvalidArgument* ]] || fail "l4mctl's error does not name InvalidArgument: $ERR"
        capture in_container l4mctl overlay create okname --type bogus
        expect_exit 3 "l4mctl overlay create okname --type bogus"
        assert_eq "$before" "$(snapshot)" "rows and directories after the invalid arguments"
}
l4m_test l4mctl-invalid-argument test_l4mctl_invalid_argument
