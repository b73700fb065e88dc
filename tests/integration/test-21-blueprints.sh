# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Blueprints: org.left4me.Manager.{List,Create,Get}Blueprint(s), the
# org.left4me.Blueprint objects, who may change them, overlays in use, and
# l4mctl's blueprint verbs.

L4M_BLUEPRINT_PREFIX=/org/left4me/Manager/blueprint

# bp_row_id NAME: the id of blueprint NAME's row (empty if none).
bp_row_id() {
        sql "SELECT id FROM blueprints WHERE name = '$1';"
}

# bp_overlay_rows NAME: the names of NAME's overlays from the store, top
# first, comma-separated.
bp_overlay_rows() {
        sql "SELECT group_concat(name, ',') FROM (SELECT o.name AS name FROM blueprint_overlays bo
             JOIN blueprints b ON b.id = bo.blueprint_id JOIN overlays o ON o.id = bo.overlay_id
             WHERE b.name = '$1' ORDER BY bo.position);"
}

bp_path_from_output() {
        grep -o "$L4M_BLUEPRINT_PREFIX/[0-9]*" <<<"$OUT" | head -n 1
}

# gv_strv WORD...: GVariant text of an array of strings.
gv_strv() {
        local out='' w
        for w in "$@"; do
                out+=${out:+, }$(gv_str "$w")
        done
        if [[ -z $out ]]; then
                printf '@as []'
        else
                printf '[%s]' "$out"
        fi
}

# create_blueprint USER NAME OVERLAY...: CreateBlueprint with gdbus; prints
# the path.
create_blueprint() {
        local user=$1 name=$2 path
        shift 2
        gcall "$user" "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "$(gv_str "$name")" \
                "$(gv_strv "$@")" '@a{sv} {}'
        expect_ok "$user creates blueprint $name"
        path=$(bp_path_from_output)
        [[ -n $path ]] || fail "CreateBlueprint($name) answered no object path: $OUT"
        printf '%s\n' "$path"
}

# delete_blueprint_if_there NAME: as root, ignoring a missing one.
delete_blueprint_if_there() {
        local path
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetBlueprint "$(gv_str "$1")"
        if ((RC == 0)); then
                path=$(bp_path_from_output)
                gcall root "$path" org.left4me.Blueprint.Delete
                expect_ok "root deletes blueprint $1"
        fi
}

# bp_json USER NAME: "l4mctl --json blueprint show NAME" as USER.
bp_json() {
        capture run_as "$1" l4mctl --json blueprint show "$2"
        expect_ok "$1: l4mctl --json blueprint show $2"
        printf '%s\n' "$OUT"
}

bp_overlays_setup() {
        ensure_overlay root bp-top workshop >/dev/null
        ensure_overlay root bp-mid archive >/dev/null
        ensure_overlay alice bp-bottom script >/dev/null
}

test_blueprint_create_show() {
        local path obj id listed
        daemon_up
        bp_overlays_setup
        delete_blueprint_if_there bp-coop

        path=$(create_blueprint root bp-coop bp-top bp-mid bp-bottom)
        id=$(bp_row_id bp-coop)
        assert_eq "$L4M_BLUEPRINT_PREFIX/$id" "$path" "object path of bp-coop (from its row id)"
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetBlueprint "'bp-coop'"
        expect_ok "GetBlueprint(bp-coop)"
        assert_eq "$path" "$(bp_path_from_output)" "GetBlueprint(bp-coop)"

        # Anyone may read: mallory too.
        obj=$(bp_json mallory bp-coop)
        assert_eq root "$(json "d['owner']" <<<"$obj")" "owner of bp-coop"
        assert_eq '["bp-top", "bp-mid", "bp-bottom"]' "$(json "d['overlays']" <<<"$obj")" "overlays of bp-coop"
        assert_eq '' "$(json "d['server_cfg']" <<<"$obj")" "server_cfg of bp-coop"
        assert_eq '[]' "$(json "d['launch_args']" <<<"$obj")" "launch_args of bp-coop"
        assert_eq "bp-top,bp-mid,bp-bottom" "$(bp_overlay_rows bp-coop)" "bp-coop's overlay rows"

        capture in_container l4mctl --json blueprint list
        expect_ok "l4mctl --json blueprint list"
        listed=$(json "next((b for b in d if b['name'] == 'bp-coop'), None)" <<<"$OUT")
        [[ $listed != null ]] || fail "bp-coop is not listed"
        assert_eq '["bp-top", "bp-mid", "bp-bottom"]' "$(json "d['overlays']" <<<"$listed")" "listed overlays of bp-coop"
        assert_eq "$path" "$(json "d['path']" <<<"$listed")" "listed path of bp-coop"

        # The order is kept when set again.
        gcall root "$path" org.left4me.Blueprint.SetOverlays "$(gv_strv bp-bottom bp-top)"
        expect_ok "SetOverlays(bp-bottom, bp-top)"
        obj=$(bp_json root bp-coop)
        assert_eq '["bp-bottom", "bp-top"]' "$(json "d['overlays']" <<<"$obj")" "overlays after SetOverlays"
        assert_eq "bp-bottom,bp-top" "$(bp_overlay_rows bp-coop)" "overlay rows after SetOverlays"

        gcall root "$path" org.left4me.Blueprint.Delete
        expect_ok "Delete(bp-coop)"
        [[ -z $(bp_row_id bp-coop) ]] || fail "bp-coop's row is still there after Delete"
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetBlueprint "'bp-coop'"
        expect_dbus_error org.left4me.Error.NotFound "GetBlueprint(bp-coop) after Delete"
}
l4m_test blueprint-create-show test_blueprint_create_show

test_blueprint_validation() {
        local path before after many=() i big
        daemon_up
        bp_overlays_setup
        delete_blueprint_if_there bp-valid
        delete_blueprint_if_there bp-bad

        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "'bp-bad'" "$(gv_strv bp-top bp-nope)" '@a{sv} {}'
        expect_dbus_error org.left4me.Error.NotFound "CreateBlueprint with a missing overlay"
        [[ $ERR == *bp-nope* ]] || fail "the NotFound error does not name bp-nope: $ERR"
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "'bp-bad'" "$(gv_strv bp-top bp-top)" '@a{sv} {}'
        expect_dbus_error org.left4me.Error.InvalidArgument "CreateBlueprint with a duplicate overlay"
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "'bp-bad'" '@as []' '@a{sv} {}'
        expect_dbus_error org.left4me.Error.InvalidArgument "CreateBlueprint without overlays"
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "'Bad!'" "$(gv_strv bp-top)" '@a{sv} {}'
        expect_dbus_error org.left4me.Error.InvalidArgument "CreateBlueprint with a bad name"
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "'bp-bad'" "$(gv_strv '../x')" '@a{sv} {}'
        expect_dbus_error org.left4me.Error.InvalidArgument "CreateBlueprint with a bad overlay name"
        for ((i = 0; i < 257; i++)); do
                many+=("o$i")
        done
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "'bp-bad'" "$(gv_strv "${many[@]}")" '@a{sv} {}'
        expect_dbus_error org.left4me.Error.InvalidArgument "CreateBlueprint with 257 overlays"
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "'bp-bad'" "$(gv_strv bp-top)" \
                "{'launch_args': <['-tickrate', '-PORT', '27016']>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "CreateBlueprint with launch argument -PORT"
        [[ $ERR == *-PORT* ]] || fail "the error does not name -PORT: $ERR"
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "'bp-bad'" "$(gv_strv bp-top)" \
                "{'colour': <'blue'>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "CreateBlueprint with an unknown option"
        [[ -z $(bp_row_id bp-bad) ]] || fail "a refused CreateBlueprint left a row"
        assert_eq 0 "$(sql "SELECT count(*) FROM blueprint_overlays bo LEFT JOIN blueprints b ON b.id = bo.blueprint_id WHERE b.id IS NULL;")" \
                "blueprint_overlays rows without a blueprint"

        path=$(create_blueprint root bp-valid bp-top bp-mid)
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "'bp-valid'" "$(gv_strv bp-bottom)" '@a{sv} {}'
        expect_dbus_error org.left4me.Error.Exists "CreateBlueprint(bp-valid) a second time"

        gcall root "$path" org.left4me.Blueprint.SetServerCfg "'hostname \"valid\"\nsv_cheats 0\n'"
        expect_ok "SetServerCfg"
        gcall root "$path" org.left4me.Blueprint.SetLaunchArgs "$(gv_strv -tickrate 100 +sv_gametypes coop)"
        expect_ok "SetLaunchArgs"
        before=$(bp_json root bp-valid)

        for a in -game +port -ip +ip -port; do
                gcall root "$path" org.left4me.Blueprint.SetLaunchArgs "$(gv_strv -tickrate "$a")"
                expect_dbus_error org.left4me.Error.InvalidArgument "SetLaunchArgs with $a"
                [[ $ERR == *"\"$a\""* ]] || fail "the error does not name $a: $ERR"
        done
        gcall root "$path" org.left4me.Blueprint.SetLaunchArgs "$(gv_strv $'tab\there')"
        expect_dbus_error org.left4me.Error.InvalidArgument "SetLaunchArgs with a tab"
        gcall root "$path" org.left4me.Blueprint.SetLaunchArgs "$(gv_strv $'bell\ahere')"
        expect_dbus_error org.left4me.Error.InvalidArgument "SetLaunchArgs with a control character"
        # srcds_run joins the arguments and lets the shell split them again:
        # one argument must not smuggle in a reserved one, nor anything the
        # shell would expand.
        gcall root "$path" org.left4me.Blueprint.SetLaunchArgs "$(gv_strv -tickrate 'x +hostport 27020')"
        expect_dbus_error org.left4me.Error.InvalidArgument "SetLaunchArgs with 'x +hostport 27020'"
        [[ $ERR == *"blanks"* ]] || fail "the error does not say why: $ERR"
        # shellcheck disable=SC2016 # '$HOME' is meant literally
        for a in 'a*' 'a?' 'a[b]' 'a"b' "a'b" 'a\b' 'a`b' '$HOME' 'a;b' 'a|b' 'a&b' 'a<b' 'a>b' 'a(b' 'a)b' \
                'a{b' 'a}b' '~' '#x' 'é'; do
                gcall root "$path" org.left4me.Blueprint.SetLaunchArgs "$(gv_strv -tickrate "$a")"
                expect_dbus_error org.left4me.Error.InvalidArgument "SetLaunchArgs with $a"
        done
        assert_eq "$before" "$(bp_json root bp-valid)" "the blueprint after refused launch arguments"
        gcall root "$path" org.left4me.Blueprint.SetLaunchArgs \
                "$(gv_strv +sv_gametypes coop,versus +exec server-2.cfg -maxplayers 8 +x=%@:/.^!_)"
        expect_ok "SetLaunchArgs with punctuation the shell leaves alone"
        gcall root "$path" org.left4me.Blueprint.SetLaunchArgs "$(gv_strv -tickrate 100 +sv_gametypes coop)"
        expect_ok "SetLaunchArgs back"
        gcall root "$path" org.left4me.Blueprint.SetLaunchArgs "$(gv_strv "$(printf 'x%.0s' {1..257})")"
        expect_dbus_error org.left4me.Error.InvalidArgument "SetLaunchArgs with a 257-byte argument"
        many=()
        for ((i = 0; i < 65; i++)); do
                many+=("+a$i")
        done
        gcall root "$path" org.left4me.Blueprint.SetLaunchArgs "$(gv_strv "${many[@]}")"
        expect_dbus_error org.left4me.Error.InvalidArgument "SetLaunchArgs with 65 arguments"
        big=$(head -c 65537 /dev/zero | tr '\0' 'x')
        gcall root "$path" org.left4me.Blueprint.SetServerCfg "'$big'"
        expect_dbus_error org.left4me.Error.InvalidArgument "SetServerCfg with 65537 bytes"
        gcall root "$path" org.left4me.Blueprint.SetOverlays "$(gv_strv bp-top bp-gone)"
        expect_dbus_error org.left4me.Error.NotFound "SetOverlays with a missing overlay"
        [[ $ERR == *bp-gone* ]] || fail "the NotFound error does not name bp-gone: $ERR"
        gcall root "$path" org.left4me.Blueprint.SetOverlays "$(gv_strv bp-mid bp-mid)"
        expect_dbus_error org.left4me.Error.InvalidArgument "SetOverlays with a duplicate"
        gcall root "$path" org.left4me.Blueprint.SetOverlays '@as []'
        expect_dbus_error org.left4me.Error.InvalidArgument "SetOverlays with none"

        after=$(bp_json root bp-valid)
        assert_eq "$before" "$after" "bp-valid after the refused calls"
        assert_eq '["-tickrate", "100", "+sv_gametypes", "coop"]' "$(json "d['launch_args']" <<<"$after")" "launch_args of bp-valid"

        # 65536 bytes are fine.
        big=${big:1}
        gcall root "$path" org.left4me.Blueprint.SetServerCfg "'$big'"
        expect_ok "SetServerCfg with 65536 bytes"
        gcall root "$path" org.left4me.Blueprint.Delete
        expect_ok "Delete(bp-valid)"
}
l4m_test blueprint-validation test_blueprint_validation

test_blueprint_ownership() {
        local path obj
        daemon_up
        bp_overlays_setup
        delete_blueprint_if_there bp-alice

        # Anyone's overlays may be used: root's and alice's.
        capture as_user alice l4mctl blueprint create bp-alice bp-top bp-bottom
        expect_ok "alice: l4mctl blueprint create bp-alice bp-top bp-bottom"
        path=$(bp_path_from_output)
        [[ -n $path ]] || fail "l4mctl blueprint create printed no path: $OUT"
        obj=$(bp_json alice bp-alice)
        assert_eq alice "$(json "d['owner']" <<<"$obj")" "owner of bp-alice"

        capture as_user alice l4mctl blueprint set-args bp-alice -- -tickrate 100
        expect_ok "alice: l4mctl blueprint set-args bp-alice -- -tickrate 100"

        capture as_user bob l4mctl blueprint set-args bp-alice -- -tickrate 30
        expect_exit 5 "bob: l4mctl blueprint set-args on alice's blueprint"
        gcall bob -i "$path" org.left4me.Blueprint.SetServerCfg "'hostname bob'"
        expect_dbus_error org.freedesktop.DBus.Error.AccessDenied "bob: SetServerCfg on alice's blueprint"
        gcall bob -i "$path" org.left4me.Blueprint.SetOverlays "$(gv_strv bp-mid)"
        expect_dbus_error org.freedesktop.DBus.Error.AccessDenied "bob: SetOverlays on alice's blueprint"
        gcall bob -i "$path" org.left4me.Blueprint.Delete
        expect_dbus_error org.freedesktop.DBus.Error.AccessDenied "bob: Delete on alice's blueprint"
        gcall mallory -i "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "'bp-mallory'" "$(gv_strv bp-top)" '@a{sv} {}'
        expect_dbus_error org.freedesktop.DBus.Error.AccessDenied "mallory: CreateBlueprint"
        [[ -z $(bp_row_id bp-mallory) ]] || fail "mallory created a blueprint"

        obj=$(bp_json root bp-alice)
        assert_eq '["-tickrate", "100"]' "$(json "d['launch_args']" <<<"$obj")" "launch_args after bob's attempts"
        assert_eq '' "$(json "d['server_cfg']" <<<"$obj")" "server_cfg after bob's attempts"
        assert_eq '["bp-top", "bp-bottom"]' "$(json "d['overlays']" <<<"$obj")" "overlays after bob's attempts"

        capture as_user carol sh -c 'echo "hostname carol" | l4mctl blueprint set-cfg bp-alice -'
        expect_ok "carol (admin): l4mctl blueprint set-cfg bp-alice -"
        obj=$(bp_json root bp-alice)
        assert_eq $'hostname carol\n|' "$(json "d['server_cfg'] + '|'" <<<"$obj")" "server_cfg after carol's set-cfg"
        capture as_user carol l4mctl blueprint delete bp-alice
        expect_ok "carol (admin): l4mctl blueprint delete bp-alice"
        [[ -z $(bp_row_id bp-alice) ]] || fail "bp-alice's row is still there after carol's delete"
}
l4m_test blueprint-ownership test_blueprint_ownership

test_overlay_in_use_busy() {
        local opath id p1 p2
        daemon_up
        bp_overlays_setup
        delete_blueprint_if_there bp-user1
        delete_blueprint_if_there bp-user2
        opath=$(ensure_overlay root bp-used workshop)
        id=$(id_of_path "$opath")

        p2=$(create_blueprint root bp-user2 bp-top bp-used)
        p1=$(create_blueprint alice bp-user1 bp-used)

        gcall root "$opath" org.left4me.Overlay.Delete
        expect_dbus_error org.left4me.Error.Busy "Delete of an overlay two blueprints use"
        [[ $ERR == *'"bp-user1", "bp-user2"'* ]] || fail "the Busy error does not name both blueprints: $ERR"
        capture in_container l4mctl overlay delete bp-used
        expect_exit 7 "l4mctl overlay delete bp-used (in use)"
        assert_eq "$id" "$(row_id bp-used)" "bp-used's row after the refused deletes"
        dir_exists "$id" || fail "bp-used's directory is gone after the refused deletes"

        gcall root "$p2" org.left4me.Blueprint.SetOverlays "$(gv_strv bp-top)"
        expect_ok "SetOverlays(bp-user2, bp-top)"
        gcall root "$opath" org.left4me.Overlay.Delete
        expect_dbus_error org.left4me.Error.Busy "Delete of an overlay one blueprint uses"
        [[ $ERR == *'"bp-user1"'* && $ERR != *bp-user2* ]] || fail "the Busy error should name only bp-user1: $ERR"

        gcall alice "$p1" org.left4me.Blueprint.Delete
        expect_ok "alice deletes bp-user1"
        gcall root "$opath" org.left4me.Overlay.Delete
        expect_ok "Delete of bp-used once no blueprint uses it"
        [[ -z $(row_id bp-used) ]] || fail "bp-used's row is still there"
        gcall root "$p2" org.left4me.Blueprint.Delete
        expect_ok "Delete(bp-user2)"
}
l4m_test overlay-in-use-busy test_overlay_in_use_busy

test_blueprint_survives_restart() {
        local path before after
        daemon_up
        bp_overlays_setup
        delete_blueprint_if_there bp-persist

        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "'bp-persist'" "$(gv_strv bp-mid bp-bottom bp-top)" \
                "{'server_cfg': <'hostname \"persist\"\nmp_gamemode versus\n'>, 'launch_args': <['-tickrate', '100', '+map', 'c1m1_hotel']>}"
        expect_ok "CreateBlueprint(bp-persist) with options"
        path=$(bp_path_from_output)
        before=$(bp_json root bp-persist)
        assert_eq '["-tickrate", "100", "+map", "c1m1_hotel"]' "$(json "d['launch_args']" <<<"$before")" "launch_args of bp-persist"

        capture in_container systemctl restart left4me.service
        expect_ok "systemctl restart left4me"
        reset_start_limit
        wait_until 10 unit_is_active || fail "left4me.service is not active after the restart"

        after=$(bp_json root bp-persist)
        assert_eq "$before" "$after" "bp-persist after a restart"
        assert_eq "$path" "$(json "d['path']" <<<"$after")" "path of bp-persist after a restart"
        gcall root "$path" org.left4me.Blueprint.Delete
        expect_ok "Delete(bp-persist)"
}
l4m_test blueprint-survives-restart test_blueprint_survives_restart

test_blueprint_interfaces_added_removed() {
        local mon=$L4M_WORK/monitor.json monpid path deadline
        daemon_up
        bp_overlays_setup
        delete_blueprint_if_there bp-signal
        in_container timeout 30 busctl monitor --json=short "$L4M_BUS" >"$mon" 2>"$L4M_WORK/monitor.err" &
        monpid=$!
        deadline=$((SECONDS + 15))
        until grep -q '"member":"Ping"' "$mon" 2>/dev/null; do
                ((SECONDS < deadline)) || fail "busctl monitor did not start: $(cat "$L4M_WORK/monitor.err")"
                in_container busctl call "$L4M_BUS" "$L4M_MANAGER" org.freedesktop.DBus.Peer Ping >/dev/null
                sleep 0.2
        done

        path=$(create_blueprint root bp-signal bp-top bp-mid)
        wait_until 5 grep -q '"member":"InterfacesAdded"' "$mon" || true
        gcall root "$path" org.left4me.Blueprint.Delete
        expect_ok "Delete(bp-signal)"
        wait_until 5 grep -q '"member":"InterfacesRemoved"' "$mon" || true
        kill "$monpid" 2>/dev/null || true
        wait "$monpid" 2>/dev/null || true

        python3 - "$mon" "$path" <<'PY' || fail "the ObjectManager signals are wrong or missing (see above)"
import json, sys
mon, path = sys.argv[1], sys.argv[2]
added = removed = None
for line in open(mon, encoding="utf-8"):
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("type") != "signal" or m.get("interface") != "org.freedesktop.DBus.ObjectManager":
        continue
    data = m.get("payload", {}).get("data", [])
    if m.get("member") == "InterfacesAdded" and data and data[0] == path:
        added = data
    if m.get("member") == "InterfacesRemoved" and data and data[0] == path:
        removed = data
bad = 0
if not added:
    print(f"no InterfacesAdded for {path}"); bad = 1
else:
    bp = added[1].get("org.left4me.Blueprint")
    if bp is None:
        print(f"InterfacesAdded for {path} lacks org.left4me.Blueprint: {list(added[1])}"); bad = 1
    else:
        props = {k: v["data"] for k, v in bp.items()}
        for k, v in {"Name": "bp-signal", "Owner": "root", "Overlays": ["bp-top", "bp-mid"]}.items():
            if props.get(k) != v:
                print(f"InterfacesAdded: {k} is {props.get(k)!r}, expected {v!r}"); bad = 1
if not removed:
    print(f"no InterfacesRemoved for {path}"); bad = 1
elif "org.left4me.Blueprint" not in removed[1]:
    print(f"InterfacesRemoved for {path} does not name org.left4me.Blueprint: {removed[1]}"); bad = 1
sys.exit(bad)
PY
}
l4m_test blueprint-interfaces-added-removed test_blueprint_interfaces_added_removed

test_l4mctl_blueprint() {
        local obj
        daemon_up
        bp_overlays_setup
        delete_blueprint_if_there bp-ctl

        capture in_container l4mctl blueprint create bp-ctl bp-top bp-nope
        expect_exit 4 "l4mctl blueprint create with a missing overlay"
        [[ $ERR == *bp-nope* ]] || fail "l4mctl's error does not name bp-nope: $ERR"
        capture in_container l4mctl blueprint create BAD bp-top
        expect_exit 3 "l4mctl blueprint create BAD"
        capture in_container l4mctl blueprint create bp-ctl
        expect_exit 2 "l4mctl blueprint create without overlays (usage)"

        capture in_container l4mctl --json blueprint create bp-ctl bp-top bp-mid
        expect_ok "l4mctl --json blueprint create bp-ctl bp-top bp-mid"
        assert_eq '["bp-top", "bp-mid"]' "$(json "d['overlays']" <<<"$OUT")" "overlays in create's JSON"
        capture in_container l4mctl blueprint create bp-ctl bp-top
        expect_exit 6 "l4mctl blueprint create bp-ctl again"

        capture in_container l4mctl blueprint list
        expect_ok "l4mctl blueprint list"
        grep -q '^bp-ctl  *root  *bp-top,bp-mid ' <<<"$OUT" || fail "blueprint list does not show bp-ctl: $OUT"

        capture in_container l4mctl blueprint set-overlays bp-ctl bp-bottom bp-top
        expect_ok "l4mctl blueprint set-overlays"
        capture in_container l4mctl blueprint set-overlays bp-ctl bp-nope
        expect_exit 4 "l4mctl blueprint set-overlays with a missing overlay"
        capture in_container sh -c 'printf "sv_cheats 0\nhostname ctl\n" >/tmp/bp-ctl.cfg && l4mctl blueprint set-cfg bp-ctl /tmp/bp-ctl.cfg'
        expect_ok "l4mctl blueprint set-cfg bp-ctl FILE"
        capture in_container l4mctl blueprint set-args bp-ctl -- -tickrate 100 +sv_gametypes versus
        expect_ok "l4mctl blueprint set-args"
        capture in_container l4mctl blueprint set-args bp-ctl -- -game left4dead2
        expect_exit 3 "l4mctl blueprint set-args -game"

        capture in_container l4mctl blueprint show bp-ctl
        expect_ok "l4mctl blueprint show bp-ctl"
        grep -q '^Overlays: bp-bottom bp-top (top first)$' <<<"$OUT" || fail "show: wrong Overlays line: $OUT"
        grep -q '^LaunchArgs: -tickrate 100 +sv_gametypes versus$' <<<"$OUT" || fail "show: wrong LaunchArgs line: $OUT"
        grep -q '^hostname ctl$' <<<"$OUT" || fail "show: the ServerCfg text is missing: $OUT"
        obj=$(bp_json root bp-ctl)
        assert_eq $'sv_cheats 0\nhostname ctl\n|' "$(json "d['server_cfg'] + '|'" <<<"$obj")" "server_cfg of bp-ctl"

        capture in_container l4mctl blueprint set-args bp-ctl
        expect_ok "l4mctl blueprint set-args bp-ctl (none)"
        obj=$(bp_json root bp-ctl)
        assert_eq '[]' "$(json "d['launch_args']" <<<"$obj")" "launch_args after clearing"

        capture in_container l4mctl blueprint delete bp-ctl
        expect_ok "l4mctl blueprint delete bp-ctl"
        capture in_container l4mctl blueprint show bp-ctl
        expect_exit 4 "l4mctl blueprint show bp-ctl after delete"
}
l4m_test l4mctl-blueprint test_l4mctl_blueprint
