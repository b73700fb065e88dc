# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# MetaMod:Source and SourceMod as archive overlays (examples/sourcemod.md),
# with archives of the real layout made here (addons/metamod.vdf,
# addons/metamod/, addons/sourcemod/{bin,plugins,configs,data,logs}) and
# served by a local web server: examples/sourcemod-overlays.sh refuses to
# run without pinned checksums and imports nothing when one does not match;
# with them, a blueprint stacking the two gives a server that sees them
# (fake-srcds.py plays SourceMod loading), whose SourceMod logs/ and data/
# land in the instance's upper/, survive a restart and come back through
# backup and restore. Overlay.Export: an archive overlay exported (to a
# file and through a pipe) and imported into new overlays gives the same
# tree (names, modes, symlinks, contents); who may export; a Workshop
# overlay is refused; an export in flight keeps jobs off the overlay and
# ends when its reader goes away.

SM_EXAMPLE=examples/sourcemod-overlays.sh

# The helpers of the instance tests (ins_setup, ins_create, ...) and of the
# archive tests (http_serve, tree_of).
sm_helpers() {
        # shellcheck source=test-23-instances.sh
        source "$L4M_SRCDIR/tests/integration/test-23-instances.sh"
        # shellcheck source=test-09-archive.sh
        source "$L4M_SRCDIR/tests/integration/test-09-archive.sh"
}

# sm_archives DIR: writes DIR/www/mms.tar.gz and DIR/www/sm.tar.gz laid out
# as the MetaMod:Source and SourceMod Linux builds are (addons/... at the
# top), with two plugins in SourceMod's plugins/.
sm_archives() {
        in_container sh -ec "
                cd '$1' && rm -rf mms sm www && mkdir -p www
                mkdir -p mms/addons/metamod/bin sm/addons/sourcemod/bin sm/addons/sourcemod/plugins/disabled \
                        sm/addons/sourcemod/configs sm/addons/sourcemod/data sm/addons/sourcemod/logs \
                        sm/addons/sourcemod/gamedata
                printf '\"Plugin\"\n{\n\t\"file\"\t\"../left4dead2/addons/metamod/bin/server\"\n}\n' > mms/addons/metamod.vdf
                head -c 30000 /dev/urandom > mms/addons/metamod/bin/server.so
                head -c 20000 /dev/urandom > mms/addons/metamod/bin/metamod.2.l4d2.so
                printf '\"Metamod Plugins\"\n{\n\t\"sourcemod\"\t\"addons/sourcemod/bin/sourcemod_mm\"\n}\n' > mms/addons/metamod/sourcemod.vdf
                head -c 40000 /dev/urandom > sm/addons/sourcemod/bin/sourcemod_mm_i486.so
                head -c 3000 /dev/urandom > sm/addons/sourcemod/plugins/admin-flatfile.smx
                head -c 3000 /dev/urandom > sm/addons/sourcemod/plugins/basecommands.smx
                head -c 3000 /dev/urandom > sm/addons/sourcemod/plugins/disabled/mapchooser.smx
                printf '\"Core\"\n{\n\t\"Logging\"\t\"on\"\n}\n' > sm/addons/sourcemod/configs/core.cfg
                printf '// admins\n' > sm/addons/sourcemod/configs/admins_simple.ini
                printf '\"Games\"\n{\n}\n' > sm/addons/sourcemod/gamedata/core.games.txt
                chmod 0755 mms/addons/metamod/bin/*.so sm/addons/sourcemod/bin/*.so
                tar -C mms -czf www/mms.tar.gz addons
                tar -C sm -czf www/sm.tar.gz addons"
}

# sm_sha FILE: its sha256 in the container.
sm_sha() {
        in_container sha256sum "$1" | cut -d' ' -f1
}

# sm_example [VAR=VALUE...]: runs the example script as root with these
# variables (and the local URLs); sets RC, OUT, ERR.
sm_example() {
        capture in_container env MMS_URL="$HTTP_URL/mms.tar.gz" SM_URL="$HTTP_URL/sm.tar.gz" \
                MMS_OVERLAY=sm-metamod SM_OVERLAY=sm-sourcemod "$@" bash "$L4M_TOOLS/sourcemod-overlays.sh"
}

sm_overlay_exists() {
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetOverlay "$(gv_str "$1")"
        ((RC == 0))
}

# sm_upper_file NAME PATH: the file at PATH (below left4dead2/addons/sourcemod)
# in instance NAME's upper/, while it runs.
sm_upper_file() {
        printf '%s/left4dead2/addons/sourcemod/%s\n' "$(ins_upper "$1")" "$2"
}

# sm_lines NAME PATH: lines of that file in upper/ (0 if missing).
sm_lines() {
        in_container sh -c "cat '$(sm_upper_file "$1" "$2")' 2>/dev/null | wc -l"
}

# sm_started NAME N: instance NAME runs and SourceMod has logged N starts.
sm_started() {
        ins_state_is "$1" running && [[ $(sm_lines "$1" data/fake-sm-starts.txt) == "$2" ]]
}

# sm_setup: the fake installation, the example script, the archives, the
# two overlays made by the script, the blueprint sm-bp (SourceMod above
# MetaMod:Source); sets SM_MMS and SM_SM (their ids) and SM_DIR.
sm_setup() {
        sm_helpers
        ins_setup
        [[ -f $L4M_SRCDIR/$SM_EXAMPLE ]] || fail "$SM_EXAMPLE is missing"
        install -m 0755 "$L4M_SRCDIR/$SM_EXAMPLE" "$CTR_DIR/root$L4M_TOOLS/sourcemod-overlays.sh"
        SM_DIR=$TF_DIR/sm
        in_container mkdir -p "$SM_DIR"
        sm_archives "$SM_DIR"
        http_serve "$SM_DIR/www"
        SM_MMS_SHA=$(sm_sha "$SM_DIR/www/mms.tar.gz")
        SM_SM_SHA=$(sm_sha "$SM_DIR/www/sm.tar.gz")
}

sm_cleanup() {
        ins_remove sm-run
        ins_delete_blueprint sm-bp
        local o
        for o in sm-sourcemod sm-metamod; do
                if sm_overlay_exists "$o"; then
                        gcall root "$(path_from_output)" org.left4me.Overlay.Delete
                fi
        done
}

# sm_install: the overlays and blueprint, through the example script.
sm_install() {
        sm_example MMS_SHA256="$SM_MMS_SHA" SM_SHA256="$SM_SM_SHA"
        expect_exit 0 "$SM_EXAMPLE with the right checksums"
        SM_OUT=$OUT
        SM_MMS=$(id_of_path "$(ensure_overlay root sm-metamod archive)")
        SM_SM=$(id_of_path "$(ensure_overlay root sm-sourcemod archive)")
        ins_blueprint sm-bp sm-sourcemod sm-metamod
}

test_sm_example() {
        local o
        trap sm_cleanup EXIT
        sm_setup
        sm_cleanup

        # No checksum, or a malformed one: refused before any download.
        sm_example
        expect_exit 2 "$SM_EXAMPLE without checksums"
        [[ $ERR == *"MMS_SHA256 is not set"* ]] || fail "the refusal does not name MMS_SHA256: $ERR"
        sm_example MMS_SHA256="$SM_MMS_SHA"
        expect_exit 2 "$SM_EXAMPLE without SM_SHA256"
        [[ $ERR == *"SM_SHA256 is not set"* ]] || fail "the refusal does not name SM_SHA256: $ERR"
        sm_example MMS_SHA256="$SM_MMS_SHA" SM_SHA256=1234
        expect_exit 2 "$SM_EXAMPLE with a short SM_SHA256"
        # A checksum that does not match: nothing is imported, not even
        # the archive that matched.
        sm_example MMS_SHA256="$SM_MMS_SHA" SM_SHA256="${SM_MMS_SHA}"
        expect_exit 1 "$SM_EXAMPLE with the wrong SM_SHA256"
        [[ $ERR == *"not the pinned"* ]] || fail "the refusal does not say the checksum differs: $ERR"
        for o in sm-metamod sm-sourcemod; do
                ! sm_overlay_exists "$o" || fail "overlay $o was made although a checksum did not match"
        done

        sm_install
        [[ $SM_OUT == *"Importing into overlay sm-sourcemod"* ]] || fail "the script did not say what it imported: $SM_OUT"
        # The layout: addons/ below left4dead2/, modes as packed.
        in_container test -f "$L4M_OVERLAYS/$SM_MMS/left4dead2/addons/metamod.vdf" ||
                fail "metamod.vdf is not in left4dead2/addons/ of the overlay: $(tree_of "$SM_MMS" | head -n 20)"
        in_container test -d "$L4M_OVERLAYS/$SM_SM/left4dead2/addons/sourcemod/logs" ||
                fail "sourcemod/logs is not in the overlay: $(tree_of "$SM_SM" | head -n 30)"
        assert_eq 755 "$(in_container stat -c %a "$L4M_OVERLAYS/$SM_SM/left4dead2/addons/sourcemod/bin/sourcemod_mm_i486.so")" \
                "mode of sourcemod_mm_i486.so"
        assert_eq "$SM_SM_SHA" "$(sm_sha "$SM_DIR/www/sm.tar.gz")" "the served archive (unchanged)"

        # Run again (an upgrade): the content is replaced, the ids stay.
        sm_example MMS_SHA256="${SM_MMS_SHA^^}" SM_SHA256="$SM_SM_SHA"
        expect_exit 0 "$SM_EXAMPLE again (upper-case checksum)"
        assert_eq "$SM_SM" "$(id_of_path "$(ensure_overlay root sm-sourcemod archive)")" "the overlay's id after a rerun"
}
l4m_test sourcemod-example test_sm_example 240

test_sm_stack() {
        local name=sm-run u uid before
        trap sm_cleanup EXIT
        sm_setup
        sm_cleanup
        sm_install
        ins_create root "$name" sm-bp "{'port': <uint16 27090>, 'hostname': <'SM Server'>}"
        expect_ok "CreateInstance $name"
        ins_call root "$name" Start
        expect_ok "Start $name"
        ins_wait_state "$name" running
        wait_until 20 ins_journal_has "$name" "fake srcds: ready" || fail "the server never got ready: $(ins_journal "$name" | tail -n 5)"

        # The server sees both in its stack, SourceMod's plugins included.
        for a in "addon: metamod.vdf" "addon: metamod " "addon: sourcemod " "addon: base.vpk" \
                "sourcemod: 2 plugins (admin-flatfile.smx basecommands.smx)"; do
                ins_journal_has "$name" "$a" || fail "the server did not print '$a': $(ins_journal "$name" | grep -E 'addon:|sourcemod' | paste -sd '|')"
        done
        ins_journal_has "$name" "sourcemod: cannot write" && fail "SourceMod could not write: $(ins_journal "$name" | grep sourcemod | paste -sd '|')"

        # What SourceMod writes lands in upper/, as the server's uid; the
        # overlays do not change.
        uid=$(ins_prop "$name" UID)
        u=$(ins_upper "$name")
        wait_until 10 sm_started "$name" 1 || fail "data/fake-sm-starts.txt in upper/ has $(sm_lines "$name" data/fake-sm-starts.txt) lines, not 1"
        in_container sh -c "ls '$u/left4dead2/addons/sourcemod/logs/'L*.log" >/dev/null 2>&1 ||
                fail "no SourceMod log in upper/: $(in_container find "$u" | head -n 30)"
        assert_eq "$uid" "$(in_container stat -c %u "$(sm_upper_file "$name" data/fake-sm-starts.txt)")" "owner of SourceMod's data file"
        in_container sh -c "find '$L4M_OVERLAYS/$SM_SM/left4dead2/addons/sourcemod/logs' '$L4M_OVERLAYS/$SM_SM/left4dead2/addons/sourcemod/data' -type f | grep -q ." &&
                fail "SourceMod wrote into overlays/$SM_SM"

        # A restart keeps it, and SourceMod appends.
        before=$(in_container cat "$(sm_upper_file "$name" data/fake-sm-starts.txt)")
        ins_call root "$name" Restart
        expect_ok "Restart $name"
        wait_until 30 sm_started "$name" 2 || fail "after the restart data/fake-sm-starts.txt has $(sm_lines "$name" data/fake-sm-starts.txt) lines, not 2"
        assert_eq "$before" "$(in_container head -n 1 "$(sm_upper_file "$name" data/fake-sm-starts.txt)")" "the first start's line after a restart"
        # ... and so does a stop and a start.
        ins_call root "$name" Stop
        expect_ok "Stop $name"
        ins_wait_state "$name" stopped
        ins_call root "$name" Start
        expect_ok "Start $name again"
        wait_until 30 sm_started "$name" 3 || fail "after a stop and a start data/fake-sm-starts.txt has $(sm_lines "$name" data/fake-sm-starts.txt) lines, not 3"
}
l4m_test sourcemod-stack test_sm_stack 300

# sm_backup_id NAME: the newest backup of instance NAME (ListBackups).
sm_backup_id() {
        gcall root "$L4M_MANAGER" org.left4me.Manager.ListBackups "$(gv_str "$1")"
        expect_ok "ListBackups $1"
        grep -o '(uint64 [0-9]*' <<<"$OUT" | head -n 1 | grep -o '[0-9]*$'
}

# sm_backup_case [SETLIMITS-ARG]: SourceMod's files through a backup of the
# running server and a restore, with the default disk_max (a disk image) or
# the limits given.
sm_backup_case() {
        local name=sm-run data logs id lines job backup_log
        trap sm_cleanup EXIT
        sm_setup
        sm_cleanup
        sm_install
        ins_create root "$name" sm-bp "{'port': <uint16 27091>}"
        expect_ok "CreateInstance $name"
        if [[ -n ${1:-} ]]; then
                ins_call root "$name" SetLimits "$1"
                expect_ok "SetLimits $1"
        fi
        ins_call root "$name" Start
        expect_ok "Start $name"
        wait_until 30 sm_started "$name" 1 || fail "SourceMod did not log its start"
        ins_call root "$name" Restart
        expect_ok "Restart $name"
        wait_until 30 sm_started "$name" 2 || fail "SourceMod did not log its second start"
        data=$(in_container cat "$(sm_upper_file "$name" data/fake-sm-starts.txt)")
        logs=$(in_container sh -c "cat '$(sm_upper_file "$name" logs)'/L*.log")

        # A backup of the running server.
        capture in_container l4mctl instance backup "$name" --wait
        expect_exit 0 "l4mctl instance backup $name --wait"
        job=$(grep -o 'Job [0-9]*' <<<"$ERR" | head -n 1 | cut -d' ' -f2)
        capture in_container l4mctl job log "$job"
        backup_log=$OUT
        capture in_container l4mctl backup list "$name"
        expect_exit 0 "l4mctl backup list $name"
        id=$(sm_backup_id "$name")
        [[ -n $id ]] || fail "ListBackups($name) lists no backup: $OUT"

        # SourceMod's files go (removed through the running stack: whiteouts
        # in upper/), then the server is stopped and the backup restored.
        in_container rm -rf "$L4M_RUNTIME/$name/merged/left4dead2/addons/sourcemod/data" \
                "$L4M_RUNTIME/$name/merged/left4dead2/addons/sourcemod/logs"
        in_container test ! -e "$L4M_RUNTIME/$name/merged/left4dead2/addons/sourcemod/data/fake-sm-starts.txt" ||
                fail "the data file is still there after rm"
        ins_call root "$name" Stop
        expect_ok "Stop $name"
        ins_wait_state "$name" stopped
        capture in_container l4mctl backup restore "$id" --wait
        expect_exit 0 "l4mctl backup restore $id --wait"

        # Back: the two starts' lines, then the third start's.
        ins_call root "$name" Start
        expect_ok "Start $name after the restore"
        wait_until 30 sm_started "$name" 3 ||
                fail "after the restore data/fake-sm-starts.txt has $(sm_lines "$name" data/fake-sm-starts.txt) lines, not 3 (2 restored + 1); the backup's log: $(paste -sd '|' <<<"$backup_log")"
        assert_eq "$data" "$(in_container head -n 2 "$(sm_upper_file "$name" data/fake-sm-starts.txt)")" "SourceMod's data after the restore"
        lines=$(wc -l <<<"$logs")
        assert_eq "$logs" "$(in_container sh -c "cat '$(sm_upper_file "$name" logs)'/L*.log" | head -n "$lines")" \
                "SourceMod's logs after the restore"
}

test_sm_backup() {
        sm_backup_case
}
l4m_test sourcemod-backup test_sm_backup 300

test_sm_backup_plain() {
        sm_backup_case "{'disk_max': <'infinity'>}"
}
l4m_test sourcemod-backup-plain test_sm_backup_plain 300

# --- Overlay.Export --------------------------------------------------------

# exp_tree OVERLAY-ID: "path type mode size link-target" of every entry, then
# the sha256 of every file.
exp_tree() {
        in_container sh -c "cd '$L4M_OVERLAYS/$1' && find . -mindepth 1 -printf '%P %y %m %s %l\n' | LC_ALL=C sort &&
                find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum"
}

# exp_tree_files OVERLAY-ID: as exp_tree, without the modes of directories.
exp_tree_files() {
        in_container sh -c "cd '$L4M_OVERLAYS/$1' && find . -mindepth 1 ! -type d -printf '%P %y %m %s %l\n' | LC_ALL=C sort &&
                find . -mindepth 1 -type d -printf '%P\n' | LC_ALL=C sort &&
                find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum"
}

# exp_threads: the daemon's threads named overlay-export.
exp_threads() {
        # shellcheck disable=SC2016 # expanded in the container
        in_container sh -c 'cat /proc/$(systemctl show -P MainPID left4me.service)/task/*/comm' | grep -c '^overlay-export' || true
}

exp_no_threads() {
        [[ $(exp_threads) == 0 ]]
}

# exp_hold N: N exports of exp-src as root whose readers (sleep) never read,
# background processes of this test; the readers' pids (in the container)
# go to $TF_DIR/exp-holders.
exp_hold() {
        local i before
        before=$(exp_holders)
        for ((i = 0; i < $1; i++)); do
                in_container sh -c "l4mctl overlay export exp-src - 2>/dev/null |
                        sh -c 'echo \$\$ >> $TF_DIR/exp-holders; exec sleep 600' >/dev/null 2>&1" </dev/null >/dev/null 2>&1 &
        done
        wait_until 10 exp_at_least exp_holders $((before + $1)) || fail "the export readers did not start"
}

# exp_at_least COMMAND N: COMMAND prints a number of at least N (for
# wait_until, which runs it again each time).
exp_at_least() {
        (($($1) >= $2))
}

exp_holders() {
        in_container sh -c "cat '$TF_DIR/exp-holders' 2>/dev/null | wc -l"
}

# exp_release: ends the readers exp_hold started.
exp_release() {
        in_container sh -c "[ ! -s '$TF_DIR/exp-holders' ] || kill \$(cat '$TF_DIR/exp-holders'); rm -f '$TF_DIR/exp-holders'" || true
}

exp_cleanup() {
        local o
        exp_release
        for o in exp-src exp-file exp-pipe exp-alice exp-ws exp-script exp-from-script; do
                gcall root "$L4M_MANAGER" org.left4me.Manager.GetOverlay "$(gv_str "$o")"
                if ((RC == 0)); then
                        gcall root "$(path_from_output)" org.left4me.Overlay.Delete
                fi
        done
}

test_overlay_export() {
        local src file pipe ws dir
        trap exp_cleanup EXIT
        sm_helpers
        test_files_setup
        exp_cleanup
        dir=$TF_DIR/exp

        # A tree with what an archive overlay can hold: nested directories,
        # modes, an empty file, a name outside ASCII, symlinks to a file and
        # to a directory inside, and a file larger than a pipe holds.
        in_container sh -ec "
                mkdir -p '$dir/t/left4dead2/addons/sub/deeper' '$dir/t/left4dead2/cfg' '$dir/t/empty-dir'
                cd '$dir/t'
                head -c 3000000 /dev/urandom > left4dead2/addons/big.vpk
                echo 'sv_cheats 0' > left4dead2/cfg/server-extra.cfg
                : > left4dead2/addons/empty.txt
                echo run > left4dead2/addons/sub/tool.sh && chmod 0755 left4dead2/addons/sub/tool.sh
                echo deep > left4dead2/addons/sub/deeper/x.txt
                echo utf > 'left4dead2/addons/sub/Карта ü.txt'
                ln -s ../big.vpk left4dead2/addons/sub/link.vpk
                ln -s sub/deeper left4dead2/addons/deeper-link
                tar --format=pax -czf '$dir/src.tar.gz' ."
        src=$(create_overlay root exp-src archive)
        capture in_container l4mctl overlay import exp-src "$dir/src.tar.gz" --wait
        expect_exit 0 "import of the source tree"

        # To a file, and back into a new overlay: the same tree.
        capture in_container l4mctl overlay export exp-src "$dir/exp.tar.zst"
        expect_exit 0 "l4mctl overlay export exp-src FILE"
        capture in_container zstd -t "$dir/exp.tar.zst"
        expect_exit 0 "zstd -t of the export"
        in_container sh -c "ls -a '$dir'" | grep -q '^\.exp\.tar\.zst\.' && fail "a temporary file was left next to the export"
        file=$(create_overlay root exp-file archive)
        capture in_container l4mctl overlay import exp-file "$dir/exp.tar.zst" --wait
        expect_exit 0 "import of the export"
        assert_eq "$(exp_tree "$(id_of_path "$src")")" "$(exp_tree "$(id_of_path "$file")")" "the tree after export and import"

        # Through a pipe, straight into an import.
        pipe=$(create_overlay root exp-pipe archive)
        capture in_container sh -c "l4mctl overlay export exp-src - | l4mctl overlay import exp-pipe - --wait"
        expect_exit 0 "l4mctl overlay export exp-src - | l4mctl overlay import exp-pipe - --wait"
        assert_eq "$(exp_tree "$(id_of_path "$src")")" "$(exp_tree "$(id_of_path "$pipe")")" "the tree after a piped export and import"
        wait_until 10 exp_no_threads || fail "export threads left: $(exp_threads)"

        # A script overlay's content (files of the script run's uid, as its
        # umask made them) comes back the same, directories aside (an
        # archive overlay's are the servers' group's, 0775).
        create_overlay root exp-script script >/dev/null
        capture in_container sh -c "printf '%s\n' 'set -e' 'mkdir -p /overlay/left4dead2/addons/x' \
                'head -c 200000 /dev/urandom > /overlay/left4dead2/addons/x/s.vpk' 'echo cfg > /overlay/left4dead2/s.cfg' \
                'chmod 0755 /overlay/left4dead2/s.cfg' 'ln -s addons/x/s.vpk /overlay/left4dead2/s-link' |
                l4mctl overlay set-script exp-script -"
        expect_exit 0 "set-script exp-script"
        capture in_container l4mctl overlay build exp-script --wait
        expect_exit 0 "build of exp-script"
        create_overlay root exp-from-script archive >/dev/null
        capture in_container sh -c "l4mctl overlay export exp-script - | l4mctl overlay import exp-from-script - --wait"
        expect_exit 0 "export of a script overlay into an import"
        assert_eq "$(exp_tree_files "$(id_of_path "$(ensure_overlay root exp-script script)")")" \
                "$(exp_tree_files "$(id_of_path "$(ensure_overlay root exp-from-script archive)")")" \
                "a script overlay's tree after export and import"

        # A Workshop overlay is refused, saying why.
        ws=$(create_overlay root exp-ws workshop)
        gcall root "$ws" org.left4me.Overlay.Export
        expect_dbus_error org.left4me.Error.InvalidArgument "Export of a Workshop overlay"
        [[ $ERR == *"rebuilt from Steam"* ]] || fail "the refusal does not say why: $ERR"
        capture in_container l4mctl overlay export exp-ws "$dir/ws.tar.zst"
        expect_exit 3 "l4mctl overlay export of a Workshop overlay"
        in_container test ! -e "$dir/ws.tar.zst" || fail "a file was made for a refused export"

        # Others' overlays: admin only. Alice exports her own.
        gcall alice "$src" org.left4me.Overlay.Export
        ins_expect_denied "alice exports root's overlay"
        gcall mallory "$src" org.left4me.Overlay.Export
        ins_expect_denied "mallory exports root's overlay"
        create_overlay alice exp-alice archive >/dev/null
        capture as_user alice sh -c "l4mctl overlay import exp-alice - --wait < '$dir/src.tar.gz'"
        expect_exit 0 "alice imports into her overlay"
        capture as_user alice sh -c "l4mctl overlay export exp-alice - | zstd -dc | tar -tf - | LC_ALL=C sort"
        expect_exit 0 "alice exports her overlay"
        [[ $OUT == *"left4dead2/addons/big.vpk"* ]] || fail "alice's export lacks big.vpk: $OUT"
        capture as_user carol sh -c "l4mctl overlay export exp-alice - | wc -c"
        expect_exit 0 "carol (an admin) exports alice's overlay"

        # An export in flight keeps jobs and changes off the overlay; it ends
        # when its reader goes away, and the overlay is free again.
        exp_hold 1
        wait_until 10 exp_at_least exp_threads 1 || fail "no export thread while a reader holds the stream"
        gcall root "$src" org.left4me.Overlay.Wipe
        expect_dbus_error org.left4me.Error.Busy "Wipe while an export is in flight"
        [[ $ERR == *"being exported"* ]] || fail "the Busy does not say the overlay is being exported: $ERR"
        gcall root "$src" org.left4me.Overlay.Delete
        expect_dbus_error org.left4me.Error.Busy "Delete while an export is in flight"
        exp_release
        wait_until 15 exp_no_threads || fail "the export thread did not end when its reader went away: $(exp_threads)"
        gcall root "$src" org.left4me.Overlay.SetArchiveSource "''" "''"
        expect_ok "SetArchiveSource after the reader went away"

        # At most 4 in flight per caller.
        exp_hold 4
        wait_until 10 exp_at_least exp_threads 4 || fail "not 4 export threads: $(exp_threads)"
        gcall root "$src" org.left4me.Overlay.Export
        expect_dbus_error org.left4me.Error.Busy "a fifth export in flight"
        [[ $ERR == *"at most 4 per caller"* ]] || fail "the Busy does not give the bound: $ERR"
        exp_release
        wait_until 15 exp_no_threads || fail "export threads left after the readers went away: $(exp_threads)"
}
l4m_test overlay-export test_overlay_export 240
