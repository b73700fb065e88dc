# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# CreateOverlay's options (all or nothing: a refused create leaves no row,
# no directory, no object and the name free), Build's archive options,
# WorkshopItemDetails after a build against the fake Steam API, State kept
# when a failed import leaves the content as it was, and the read-only file
# browser (Overlay/Instance ListFiles and OpenFile, l4mctl and the bridge):
# links are listed, never followed, and others' files stay closed.

# shellcheck source=web-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/web-lib.sh"

OCF_INSTANCE_PREFIX=/org/left4me/Manager/instance

# ocf_snapshot: the overlay rows and directories, to compare before/after.
ocf_snapshot() {
        printf 'rows:\n%s\ndirs:\n%s\n' "$(rows)" "$(overlay_dirs)"
}

# ocf_gone NAME: no overlay NAME is on the bus.
ocf_gone() {
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetOverlay "$(gv_str "$1")"
        expect_dbus_error org.left4me.Error.NotFound "GetOverlay($1) after the refused create"
}

# ocf_refused NAME TYPE OPTIONS WHAT: CreateOverlay must be InvalidArgument
# and leave nothing behind; REFUSAL is its message.
ocf_refused() {
        local before
        before=$(ocf_snapshot)
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateOverlay "$(gv_str "$1")" "$(gv_str "$2")" "$3"
        expect_dbus_error org.left4me.Error.InvalidArgument "$4"
        REFUSAL=$OUT$ERR
        assert_eq "$before" "$(ocf_snapshot)" "rows and directories after: $4"
        ocf_gone "$1"
}

# ocf_delete NAME: deletes overlay NAME as root if it exists.
ocf_delete() {
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetOverlay "$(gv_str "$1")"
        ((RC == 0)) || return 0
        gcall root "$(path_from_output)" org.left4me.Overlay.Delete
}

# ocf_prop_json PATH INTERFACE PROPERTY: the property's value as JSON.
ocf_prop_json() {
        in_container busctl --json=short --timeout="$L4M_CALL_TIMEOUT" get-property "$L4M_BUS" "$1" "$2" "$3" |
                json 'd["data"]'
}

test_ocf_create_all_or_nothing() {
        local path before
        daemon_up
        for n in ocf-ws ocf-ar ocf-sc; do ocf_delete "$n"; done

        step "a Workshop overlay with a bad item is not created, and the name stays free"
        ocf_refused ocf-ws workshop "{'items': <['104', 'not-an-id']>}" "items 104 not-an-id"
        [[ $REFUSAL == *"not-an-id"* ]] || fail "the refusal does not name the bad item: $REFUSAL"
        ocf_refused ocf-ws workshop "{'source': <'https://example.org/a.zip'>}" "a source on a Workshop overlay"
        ocf_refused ocf-ws workshop "{'script': <'echo hi'>}" "a script on a Workshop overlay"
        ocf_refused ocf-ws workshop "{'items': <'104'>}" "items as a string"
        ocf_refused ocf-ws workshop "{'colour': <'red'>}" "an unknown option"
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateOverlay "'ocf-ws'" "'workshop'" \
                "{'items': <['104', 'https://steamcommunity.com/sharedfiles/filedetails/?id=105', '104']>}"
        expect_ok "the retry with good items"
        path=$(path_from_output)
        assert_eq "[104,105]" "$(ocf_prop_json "$path" org.left4me.Overlay Items | tr -d ' ')" "Items of the new overlay"
        assert_eq 104,105 "$(sql "SELECT group_concat(published_id) FROM (SELECT published_id FROM overlay_items
                WHERE overlay_id = $(id_of_path "$path") ORDER BY position);")" "items in the store"
        assert_eq "[]" "$(ocf_prop_json "$path" org.left4me.Overlay WorkshopItemDetails)" "details before a build"

        step "an archive overlay with an ftp source or a bad checksum is not created"
        ocf_refused ocf-ar archive "{'source': <'ftp://example.org/a.zip'>}" "source ftp://"
        [[ $REFUSAL == *"is not usable: give an http:// or https:// address"* ]] || fail "not a sentence: $REFUSAL"
        ocf_refused ocf-ar archive "{'source': <'https://example.org/a.zip'>, 'checksum': <'md5:xyz'>}" "checksum md5:xyz"
        ocf_refused ocf-ar archive "{'items': <['104']>}" "items on an archive overlay"
        ocf_refused ocf-ar archive "{'items': <@as []>}" "no items, but given, on an archive overlay"
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateOverlay "'ocf-ar'" "'archive'" \
                "{'source': <'https://example.org/a.zip'>, 'checksum': <'sha256:$(printf 'a%.0s' {1..64})'>}"
        expect_ok "the archive overlay with a good source"
        path=$(path_from_output)
        assert_eq https://example.org/a.zip "$(ov_prop "$path" SourceUrl)" "SourceUrl"
        assert_eq "sha256:$(printf 'a%.0s' {1..64})" "$(ov_prop "$path" SourceChecksum)" "SourceChecksum"

        step "a script overlay takes its script, not too big"
        before=$(ocf_snapshot)
        capture pybus root <<'PY'
try:
    call(MGR, MANAGER_IF, "CreateOverlay", "ocf-sc", "script",
         dbus.Dictionary({"script": dbus.String("x" * 262145)}, signature="sv"))
    print("created")
except dbus.exceptions.DBusException as e:
    print(e.get_dbus_name(), e.get_dbus_message())
PY
        [[ $OUT == "org.left4me.Error.InvalidArgument The script has 262145 bytes"* ]] || fail "a script over 256 KiB: $OUT"
        assert_eq "$before" "$(ocf_snapshot)" "rows and directories after the script over 256 KiB"
        ocf_gone ocf-sc
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateOverlay "'ocf-sc'" "'script'" "{'script': <'echo hi'>}"
        expect_ok "the script overlay with a script"
        path=$(path_from_output)
        assert_eq 7 "$(ov_prop "$path" ScriptSize)" "ScriptSize"

        step "Build: archive options only on archive overlays, checked"
        gcall root "$path" org.left4me.Overlay.Build "{'subdir': <'x'>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "Build with subdir on a script overlay"
        gcall root "$(ocf_path ocf-ar)" org.left4me.Overlay.Build "{'mode': <'sideways'>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "Build with mode sideways"
        gcall root "$(ocf_path ocf-ar)" org.left4me.Overlay.Build "{'name_encoding': <'CP936'>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "Build with name_encoding"
        gcall root "$(ocf_path ocf-ws)" org.left4me.Overlay.Build "{'strip_components': <uint32 1>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "Build with strip_components on a Workshop overlay"

        step "messages are sentences"
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateOverlay "'ocf-empty'" "'workshop'" '@a{sv} {}'
        expect_ok "an overlay without items"
        gcall root "$(path_from_output)" org.left4me.Overlay.Build '@a{sv} {}'
        expect_dbus_error org.left4me.Error.InvalidArgument "Build without items"
        [[ $OUT$ERR == *"has no Workshop items yet: add some first."* && $OUT$ERR != *SetWorkshopItems* ]] ||
                fail "not a sentence for people: $OUT$ERR"
        for n in ocf-ws ocf-ar ocf-sc ocf-empty; do ocf_delete "$n"; done
}
l4m_test overlay-create-all-or-nothing test_ocf_create_all_or_nothing

# ocf_path NAME: the object path of overlay NAME.
ocf_path() {
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetOverlay "$(gv_str "$1")"
        expect_ok "GetOverlay($1)"
        path_from_output
}

test_ocf_item_details() {
        local path details
        daemon_up
        fixture_start '{"items": {
          "4201": {"size": 3000, "title": "Good Map", "time_updated": 1700000001},
          "4202": {"private": true, "title": "Hidden"},
          "4203": {"removed": true},
          "4204": {"app": 730, "title": "Counter-Strike thing"},
          "4205": {"size": 2000, "lie_size": 2500, "title": "Liar"}}}'
        ocf_delete ocf-details
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateOverlay "'ocf-details'" "'workshop'" \
                "{'items': <['4201', '4202', '4203', '4204']>}"
        expect_ok "create ocf-details with its items"
        path=$(path_from_output)
        ov_build_wait "$path"
        expect_job succeeded "a build with one usable item of four"
        details=$(ocf_prop_json "$path" org.left4me.Overlay WorkshopItemDetails)
        step "details: $details"
        assert_eq '[4201, 4202, 4203, 4204]' "$(json '[e[0] for e in d]' <<<"$details")" "ids, in item order"
        assert_eq '["ok", "private", "removed", "other-game"]' "$(json '[e[4] for e in d]' <<<"$details")" "statuses"
        assert_eq 'Good Map' "$(json 'd[0][1]' <<<"$details")" "title of 4201"
        assert_eq 3000 "$(json 'd[0][2]' <<<"$details")" "size of 4201"
        assert_eq 1700000001000000 "$(json 'd[0][3]' <<<"$details")" "time updated of 4201 (µs)"
        assert_eq 4 "$(sql "SELECT count(*) FROM overlay_item_details WHERE overlay_id = $(id_of_path "$path");")" \
                "detail rows in the store (migration 14)"

        capture in_container l4mctl overlay show ocf-details
        expect_ok "l4mctl overlay show"
        [[ $OUT == *"4201 ok "*"Good Map"* && $OUT == *"4204 other-game "* ]] || fail "overlay show lacks the details: $OUT"

        step "kept across a restart of the daemon"
        daemon_stop
        daemon_up
        assert_eq "$details" "$(ocf_prop_json "$path" org.left4me.Overlay WorkshopItemDetails)" "details after a restart"

        step "a build where nothing is usable: State stays ready, the details say why"
        ws_set "$path" 4202 4203
        ov_build_wait "$path"
        expect_job failed "a build with no usable item"
        assert_eq ready "$(ov_prop "$path" State)" "State after a build that changed nothing"
        assert_eq '["private", "removed"]' \
                "$(ocf_prop_json "$path" org.left4me.Overlay WorkshopItemDetails | json '[e[4] for e in d]')" \
                "statuses of the last build"

        step "an item whose download fails is failed, and the old content stays"
        ws_set "$path" 4201 4205
        ov_build_wait "$path"
        expect_job failed "a build with an item whose size Steam misstates"
        assert_eq ready "$(ov_prop "$path" State)" "State after the failed download"
        assert_eq '["ok", "failed"]' \
                "$(ocf_prop_json "$path" org.left4me.Overlay WorkshopItemDetails | json '[e[4] for e in d]')" \
                "statuses after the failed download"

        step "a wipe empties the details with the content"
        gcall root "$path" org.left4me.Overlay.Wipe
        expect_ok "Wipe"
        job_wait "$(job_path_from_output)"
        expect_job succeeded "the wipe"
        assert_eq "[]" "$(ocf_prop_json "$path" org.left4me.Overlay WorkshopItemDetails)" "details after the wipe"
        assert_eq 0 "$(sql "SELECT count(*) FROM overlay_item_details WHERE overlay_id = $(id_of_path "$path");")" \
                "detail rows after the wipe"
        ocf_delete ocf-details
}
l4m_test overlay-workshop-item-details test_ocf_item_details 120

# ocf_tar NAME COMMANDS: a tar made by the shell commands in an empty
# directory; prints its path in the container.
ocf_tar() {
        local dir=$TF_DIR/tar-$1
        in_container sh -ec "rm -rf '$dir' && mkdir -p '$dir/t' && cd '$dir/t' && $2 && tar -C '$dir/t' -cf '$dir/x.tar' ."
        printf '%s\n' "$dir/x.tar"
}

# ocf_import PATH FILE: ImportArchive and wait; JOB_STATE, JOB_MSG.
ocf_import() {
        l4mbus root import "$1" "$2"
        expect_ok "ImportArchive $2"
        job_wait "$(job_path_from_output)"
}

# ocf_listing JSON: "name type size" lines of a ListFiles answer (busctl --json).
ocf_names() {
        json '" ".join("%s:%s" % (e[0], e[1]) for e in d["data"][0]) + (" truncated" if d["data"][1] else "")'
}

ocf_list() {
        capture in_container busctl --json=short --timeout="$L4M_CALL_TIMEOUT" call "$L4M_BUS" "$1" "$2" ListFiles s "$3"
}

test_ocf_overlay_files() {
        local path tar bad ov before
        test_files_setup
        ocf_delete ocf-files
        path=$(create_overlay root ocf-files archive)
        ov=$(id_of_path "$path")
        tar=$(ocf_tar files "mkdir -p cfg maps/sub && printf 'hostname x\n' > cfg/server.cfg && echo map > maps/c1.bsp &&
                ln -s cfg/server.cfg cfg-link && ln -s maps maps-link")
        ocf_import "$path" "$tar"
        expect_job succeeded "import of the tree"

        step "a failed import keeps the content and State"
        before=$(in_container find "$L4M_OVERLAYS/$ov" -printf '%P %y %s\n' | LC_ALL=C sort)
        bad=$TF_DIR/not-an-archive
        in_container sh -c "head -c 4096 /dev/urandom > '$bad'"
        ocf_import "$path" "$bad"
        expect_job failed "the import of random bytes"
        assert_eq ready "$(ov_prop "$path" State)" "State after the refused import"
        assert_eq "$before" "$(in_container find "$L4M_OVERLAYS/$ov" -printf '%P %y %s\n' | LC_ALL=C sort)" \
                "the content after the refused import"

        step "ListFiles: sorted, typed, links listed but never entered"
        ocf_list "$path" org.left4me.Overlay ""
        expect_ok "ListFiles of the top"
        assert_eq "cfg:dir cfg-link:symlink maps:dir maps-link:symlink" "$(ocf_names <<<"$OUT")" "the top"
        ocf_list "$path" org.left4me.Overlay "cfg"
        expect_ok "ListFiles cfg"
        assert_eq "server.cfg:file" "$(ocf_names <<<"$OUT")" "cfg/"
        assert_eq 11 "$(json 'd["data"][0][0][2]' <<<"$OUT")" "size of cfg/server.cfg"
        gcall root "$path" org.left4me.Overlay.ListFiles "'maps-link'"
        expect_dbus_error org.left4me.Error.InvalidArgument "ListFiles through a symlink"
        [[ $OUT$ERR == *"symbolic link"* ]] || fail "the refusal does not say symbolic link: $OUT$ERR"
        gcall root "$path" org.left4me.Overlay.ListFiles "'maps-link/sub'"
        expect_dbus_error org.left4me.Error.InvalidArgument "ListFiles below a symlink"
        gcall root "$path" org.left4me.Overlay.ListFiles "'nope'"
        expect_dbus_error org.left4me.Error.NotFound "ListFiles of a missing directory"
        for bad in ../x /etc cfg/../.. cfg//x cfg/ . ./cfg; do
                gcall root "$path" org.left4me.Overlay.ListFiles "$(gv_str "$bad")"
                expect_dbus_error org.left4me.Error.InvalidArgument "ListFiles($bad)"
        done

        step "OpenFile and l4mctl"
        capture in_container l4mctl overlay cat ocf-files cfg/server.cfg
        expect_ok "l4mctl overlay cat"
        assert_eq "hostname x" "$OUT" "the file's content"
        capture in_container l4mctl overlay cat ocf-files cfg-link
        ((RC != 0)) || fail "l4mctl overlay cat of a symlink succeeded: $OUT"
        [[ $ERR == *"symbolic link"* ]] || fail "unclear refusal: $ERR"
        gcall root "$path" org.left4me.Overlay.OpenFile "'cfg'"
        expect_dbus_error org.left4me.Error.InvalidArgument "OpenFile of a directory"
        capture in_container l4mctl overlay files ocf-files maps
        expect_ok "l4mctl overlay files"
        [[ $OUT == *c1.bsp* && $OUT == *sub* ]] || fail "l4mctl overlay files maps: $OUT"

        step "names that are not UTF-8 or hold control characters, devices and FIFOs"
        in_container sh -ec "cd '$L4M_OVERLAYS/$ov' && mkdir odd && cd odd &&
                : > \"\$(printf 'caf\\351')\" && : > \"\$(printf 'esc\\033]0;owned\\007')\" &&
                mkfifo fifo && printf 'a\\033[2Jb\\n' > ansi.txt"
        # An overlayfs whiteout (as an instance's upper/ has them): the device 0:0.
        local whiteout=""
        if in_container mknod "$L4M_OVERLAYS/$ov/odd/whiteout" c 0 0; then
                whiteout=" whiteout:other"
        else
                note "mknod refused in the container: no device to try"
        fi
        ocf_list "$path" org.left4me.Overlay "odd"
        expect_ok "ListFiles of a directory with a name that is not UTF-8"
        assert_eq $'ansi.txt:file esc\e]0;owned\a:file fifo:other'"$whiteout" "$(ocf_names <<<"$OUT")" \
                "odd/ (the name that is not UTF-8 left out)"
        if [[ -n $whiteout ]]; then
                gcall root "$path" org.left4me.Overlay.OpenFile "'odd/whiteout'"
                expect_dbus_error org.left4me.Error.InvalidArgument "OpenFile of a device"
                [[ $OUT$ERR == *"not a regular file"* ]] || fail "unclear refusal of a device: $OUT$ERR"
        fi
        gcall root "$path" org.left4me.Overlay.OpenFile "'odd/fifo'"
        expect_dbus_error org.left4me.Error.InvalidArgument "OpenFile of a FIFO"
        capture in_container l4mctl overlay files ocf-files odd
        expect_ok "l4mctl overlay files odd"
        [[ $OUT == *'esc\x1b]0;owned\x07'* && $OUT != *$'\e'* ]] || fail "a control character reached the table: $OUT"
        capture in_container sh -c "l4mctl overlay cat ocf-files odd/ansi.txt | od -An -c | tr -s ' '"
        expect_ok "l4mctl overlay cat into a pipe"
        [[ $OUT == *'a 033 [ 2 J b'* ]] || fail "the bytes into a pipe are not as they are: $OUT"
        if in_container sh -c 'command -v script' >/dev/null 2>&1; then
                capture in_container script -qec "l4mctl overlay cat ocf-files odd/ansi.txt" /dev/null
                expect_ok "l4mctl overlay cat on a terminal"
                [[ $OUT == *'a?[2Jb'* ]] || fail "the escape reached the terminal: $(od -c <<<"$OUT")"
        else
                note "no script(1) in the container: cat on a terminal not tried"
        fi

        step "others may not look"
        gcall bob "$path" org.left4me.Overlay.ListFiles "''"
        ((RC != 0)) || fail "bob listed root's overlay: $OUT"
        gcall mallory "$path" org.left4me.Overlay.OpenFile "'cfg/server.cfg'"
        ((RC != 0)) || fail "mallory opened a file of root's overlay: $OUT"
        capture run_as bob l4mctl overlay cat ocf-files cfg/server.cfg
        ((RC != 0)) || fail "bob read root's overlay with l4mctl: $OUT"
        ocf_delete ocf-files
}
l4m_test overlay-files test_ocf_overlay_files 90

# ocf_ins_path NAME: the object path of instance NAME (sd_bus_path_encode).
ocf_ins_path() {
        python3 -c '
import sys
s = sys.argv[1]
print(sys.argv[2] + "/" + "".join(c if c.isalnum() else "_%02x" % ord(c) for c in s))' "$1" "$OCF_INSTANCE_PREFIX"
}

# ocf_delete_blueprint NAME: deletes blueprint NAME as root if it exists.
ocf_delete_blueprint() {
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetBlueprint "$(gv_str "$1")"
        ((RC == 0)) || return 0
        gcall root "$(grep -o "$L4M_MANAGER/blueprint/[0-9]*" <<<"$OUT" | head -n 1)" org.left4me.Blueprint.Delete
}

test_ocf_instance_files() {
        local ipath upper
        test_files_setup
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetInstance "'ocf-ins'"
        if ((RC == 0)); then
                gcall root "$(ocf_ins_path ocf-ins)" org.left4me.Instance.Delete
        fi
        ocf_delete_blueprint ocf-bp
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetOverlay "'ocf-alice'"
        if ((RC == 0)); then
                gcall root "$(path_from_output)" org.left4me.Overlay.Delete
        fi
        create_overlay alice ocf-alice archive >/dev/null
        gcall alice "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "'ocf-bp'" "['ocf-alice']" '@a{sv} {}'
        expect_ok "alice creates blueprint ocf-bp"
        gcall alice "$L4M_MANAGER" org.left4me.Manager.CreateInstance "'ocf-ins'" "'ocf-bp'" '@a{sv} {}'
        expect_ok "alice creates instance ocf-ins"
        ipath=$(ocf_ins_path ocf-ins)

        gcall alice "$ipath" org.left4me.Instance.ListFiles "''"
        expect_ok "ListFiles of the top before the server ever ran"
        assert_eq "(@a(sstt) [], false)" "$OUT" "the top of a server that never ran"
        gcall alice "$ipath" org.left4me.Instance.ListFiles "'left4dead2'"
        expect_dbus_error org.left4me.Error.NotFound "ListFiles below the top before the server ever ran"
        gcall alice "$ipath" org.left4me.Instance.OpenFile "'server.cfg'"
        expect_dbus_error org.left4me.Error.NotFound "OpenFile before the server ever ran"

        step "what a server wrote, with a link to /etc/shadow and a FIFO planted in upper/"
        upper=$L4M_RUNTIME/ocf-ins/upper
        in_container sh -ec "mkdir -p '$upper/left4dead2/cfg' && echo 'sv_cheats 0' > '$upper/left4dead2/cfg/server.cfg' &&
                ln -sfn /etc/shadow '$upper/shadow' && ln -sfn /etc '$upper/etc' && mkfifo '$upper/fifo'"
        ocf_list "$ipath" org.left4me.Instance ""
        expect_ok "alice's ListFiles of upper/ (as root)"
        assert_eq "etc:symlink fifo:other left4dead2:dir shadow:symlink" "$(ocf_names <<<"$OUT")" "upper/"
        capture run_as alice l4mctl instance cat ocf-ins left4dead2/cfg/server.cfg
        expect_ok "alice: l4mctl instance cat"
        assert_eq "sv_cheats 0" "$OUT" "the server's file"
        for p in shadow etc/shadow fifo; do
                gcall alice "$ipath" org.left4me.Instance.OpenFile "$(gv_str "$p")"
                expect_dbus_error org.left4me.Error.InvalidArgument "OpenFile($p) in upper/"
        done
        gcall alice "$ipath" org.left4me.Instance.ListFiles "'etc'"
        expect_dbus_error org.left4me.Error.InvalidArgument "ListFiles through the planted /etc link"
        capture run_as alice l4mctl instance files ocf-ins left4dead2/cfg
        expect_ok "alice: l4mctl instance files"
        [[ $OUT == *server.cfg* ]] || fail "l4mctl instance files: $OUT"

        step "bob is not the owner; carol is an admin"
        gcall bob "$ipath" org.left4me.Instance.ListFiles "''"
        ((RC != 0)) || fail "bob listed alice's instance: $OUT"
        gcall bob "$ipath" org.left4me.Instance.OpenFile "'left4dead2/cfg/server.cfg'"
        ((RC != 0)) || fail "bob opened a file of alice's instance: $OUT"
        capture run_as carol l4mctl instance cat ocf-ins left4dead2/cfg/server.cfg
        expect_ok "carol (admin): l4mctl instance cat"

        gcall root "$ipath" org.left4me.Instance.Delete
        expect_ok "delete ocf-ins"
        ocf_delete_blueprint ocf-bp
        ocf_delete ocf-alice
}
l4m_test instance-files test_ocf_instance_files 90

test_ocf_web() {
        local body
        web_up
        web_user ocfadmin 'a-long-password' admin
        web_login ocfadmin 'a-long-password'
        web_expect 200 "login"
        ocf_delete ocf-web
        ocf_delete ocf-web2

        step "POST /api/overlays is all or nothing"
        web_call POST /api/overlays '{"name": "ocf-web", "type": "workshop", "options": {"items": ["104", "not-an-id"]}}'
        web_expect 400 org.left4me.Error.InvalidArgument "create with a bad item"
        [[ $(json 'd["message"]' <<<"$WEB_BODY") != *"(org.left4me"* ]] || fail "the message carries the error name: $WEB_BODY"
        web_call GET /api/overlays/ocf-web
        web_expect 404 "the overlay after the refused create"
        web_call POST /api/overlays '{"name": "ocf-web", "type": "archive", "options": {"source": "ftp://example.org/a.zip"}}'
        web_expect 400 org.left4me.Error.InvalidArgument "create with an ftp source"
        web_call POST /api/overlays '{"name": "ocf-web", "type": "workshop", "options": {"items": ["104"]}}'
        web_expect 201 "the retry"
        assert_eq "[104]" "$(json 'd["Items"]' <<<"$WEB_BODY")" "Items"
        assert_eq "[]" "$(json 'd["WorkshopItemDetails"]' <<<"$WEB_BODY")" "WorkshopItemDetails before a build"
        web_call POST /api/overlays/ocf-web/build '{"options": {"subdir": "x"}}'
        web_expect 400 org.left4me.Error.InvalidArgument "build options on a Workshop overlay"

        step "files and file"
        web_call POST /api/overlays '{"name": "ocf-web2", "type": "archive", "options": {}}'
        web_expect 201 "an archive overlay"
        ocf_import "$(ocf_path ocf-web2)" "$(ocf_tar web "mkdir d && printf 'abc' > 'd/we ird\"name.txt' && ln -s d link")"
        expect_job succeeded "import into ocf-web2"
        web_call GET '/api/overlays/ocf-web2/files'
        web_expect 200 "files of the top"
        body=$WEB_BODY
        assert_eq '""' "$(json 'json.dumps(d["path"])' <<<"$body")" "path"
        assert_eq '[["d", "dir"], ["link", "symlink"]]' "$(json '[[e["name"], e["type"]] for e in d["entries"]]' <<<"$body")" "entries"
        assert_eq false "$(json 'd["truncated"]' <<<"$body")" "truncated"
        web_call GET '/api/overlays/ocf-web2/files?path=d'
        web_expect 200 "files of d"
        assert_eq 3 "$(json 'd["entries"][0]["size"]' <<<"$WEB_BODY")" "size"
        web_call GET '/api/overlays/ocf-web2/file?path=d%2Fwe%20ird%22name.txt'
        web_expect 200 "the file"
        assert_eq abc "$WEB_BODY" "the file's bytes"
        assert_eq 3 "$(web_header Content-Length)" "Content-Length"
        assert_eq application/octet-stream "$(web_header Content-Type)" "Content-Type"
        [[ $(web_header Content-Disposition) == 'attachment; filename="we_ird_name.txt"; filename*=UTF-8'"''"'we%20ird%22name.txt' ]] ||
                fail "Content-Disposition: $(web_header Content-Disposition)"
        web_call GET '/api/overlays/ocf-web2/file?path=link'
        web_expect 400 org.left4me.Error.InvalidArgument "a symlink"
        web_call GET '/api/overlays/ocf-web2/files?path=..'
        web_expect 400 org.left4me.Error.InvalidArgument "path .."

        step "a role-user account sees neither root's files nor its instances'"
        web_user ocfuser 'a-long-password' user
        web_login ocfuser 'a-long-password'
        web_call GET '/api/overlays/ocf-web2/files'
        [[ $WEB_STATUS == 403 || $WEB_STATUS == 404 ]] || fail "a user listed root's overlay: $WEB_STATUS $WEB_BODY"
        web_call GET '/api/overlays/ocf-web2/file?path=d%2Fwe%20ird%22name.txt'
        [[ $WEB_STATUS == 403 || $WEB_STATUS == 404 ]] || fail "a user read root's file: $WEB_STATUS $WEB_BODY"
        ocf_delete ocf-web
        ocf_delete ocf-web2
}
l4m_test web-overlay-create-files test_ocf_web 120

# ocf_http_serve DIR: a static HTTP server on loopback in the container for
# DIR (this test's background process); sets OCF_URL.
ocf_http_serve() {
        in_container "$L4M_PY" - "$1" "$1/.port" </dev/null >"$L4M_WORK/http.log" 2>&1 <<'PY' &
import functools, http.server, os, sys
d, pf = sys.argv[1], sys.argv[2]
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                      functools.partial(http.server.SimpleHTTPRequestHandler, directory=d))
with open(pf + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(pf + ".tmp", pf)
srv.serve_forever()
PY
        wait_until 10 test -s "$CTR_DIR/root$1/.port" || fail "the HTTP server did not start: $(cat "$L4M_WORK/http.log")"
        OCF_URL=http://127.0.0.1:$(<"$CTR_DIR/root$1/.port")
}

test_ocf_build_options() {
        local path ov www
        test_files_setup
        www=$TF_DIR/www
        in_container sh -ec "rm -rf '$www' '$TF_DIR/pkg' && mkdir -p '$www' '$TF_DIR/pkg/maps' && echo map > '$TF_DIR/pkg/maps/u.bsp' &&
                tar -C '$TF_DIR' -czf '$www/pkg.tar.gz' pkg"
        ocf_http_serve "$www"
        ocf_delete ocf-fetch
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateOverlay "'ocf-fetch'" "'archive'" \
                "{'source': <$(gv_str "$OCF_URL/pkg.tar.gz")>}"
        expect_ok "create an archive overlay with its source"
        path=$(path_from_output)
        ov=$(id_of_path "$path")

        gcall root "$path" org.left4me.Overlay.Build "{'subdir': <'left4dead2'>, 'strip_components': <uint32 1>}"
        expect_ok "Build with subdir and strip_components"
        JOB=$(job_path_from_output)
        job_wait "$JOB"
        expect_job succeeded "the placed fetch"
        assert_eq archive-fetch-placed "$(job_prop "$JOB" Kind)" "Kind of a fetch with options"
        in_container test -f "$L4M_OVERLAYS/$ov/left4dead2/maps/u.bsp" ||
                fail "u.bsp is not where the options put it: $(in_container find "$L4M_OVERLAYS/$ov")"

        ov_build_wait "$path"
        expect_job succeeded "a fetch without options"
        assert_eq archive-fetch "$(job_prop "$JOB" Kind)" "Kind of a fetch without options"
        in_container test -f "$L4M_OVERLAYS/$ov/pkg/maps/u.bsp" || fail "the plain fetch did not replace the content"
        in_container test ! -e "$L4M_OVERLAYS/$ov/left4dead2" || fail "the plain fetch kept the placed content"
        ocf_delete ocf-fetch
}
l4m_test overlay-build-options test_ocf_build_options 90
