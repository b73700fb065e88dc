# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Backups (left4med(8), BACKUPS): a backup of a running instance holds what
# its server wrote (a marker file, and the server's own start log); the
# marker removed, RestoreBackup puts it back, owned by the instance's uid;
# the file's first entry is left4me-backup.json and GNU tar reads it; a
# file the server keeps appending to makes the backup "not consistent",
# named in the job's log. A
# SIGKILL of the daemon in the middle of a backup leaves nothing that
# ListBackups shows, and the partial file is swept at the next start; a
# cancelled backup leaves nothing. A backup exported and imported into
# another instance restores there. Hostile archives given to ImportBackup
# (an absolute path, "..", a link out of the tree, a device node, not a
# backup at all) are refused with nothing changed. [Backups]
# KeepPerInstance= prunes the oldest; DeleteBackup and the instance's
# deletion remove the files; Start is Busy while a restore runs; --stop
# restarts the server. backups-disk: an instance with a disk image. Uses test-23's ins_* helpers and test-36's
# dk_server_sh (the server's uid in its mount namespace).

BK_CONF=70-backups
BK_A=bk-a
BK_B=bk-b

bk_dir() {
        printf '%s\n' "$L4M_STATE/backups/$1"
}

# bk_ctl ARG...: l4mctl as root in the container.
bk_ctl() {
        capture in_container l4mctl "$@"
}

# bk_ids INSTANCE: the ids of its backups, newest first, one a line.
bk_ids() {
        bk_ctl backup list "$1" --json
        expect_ok "backup list $1"
        "$L4M_PY" -c 'import json, sys; [print(b["id"]) for b in json.load(sys.stdin)]' <<<"$OUT"
}

bk_count() {
        bk_ids "$1" | grep -c . || true
}

# bk_files INSTANCE: the names in backups/INSTANCE/, sorted.
bk_files() {
        in_container sh -c "ls -A '$(bk_dir "$1")' 2>/dev/null | LC_ALL=C sort"
}

# bk_backup NAME [l4mctl OPTION...]: a backup, waited for; BK_ID its id,
# BK_JOB its job's path.
bk_backup() {
        local name=$1
        shift
        bk_ctl instance backup "$name" --wait "$@"
        expect_ok "instance backup $name $* ($ERR)"
        BK_JOB=$(grep -o 'Job [0-9]* queued' <<<"$ERR" | grep -o '[0-9]*')
        BK_JOB=$L4M_JOB_PREFIX/$BK_JOB
        BK_ID=$(bk_ids "$name")
        BK_ID=${BK_ID%%$'\n'*}
        [[ -n $BK_ID ]] || fail "no backup of $name listed after the job"
}

# bk_job_start ARG...: l4mctl ARG... --json (a job queued); BK_JOB its path.
bk_job_start() {
        bk_ctl "$@" --json
        expect_ok "l4mctl $*"
        BK_JOB=$(job_path_from_output)
        [[ -n $BK_JOB ]] || fail "l4mctl $* answered no job: $OUT"
}

# bk_hostile FILE KIND: a tar at FILE with a valid left4me-backup.json and
# upper/, and one hostile entry of KIND.
bk_hostile() {
        in_container "$L4M_PY" - "$@" <<'PY'
import io, json, sys, tarfile
path, kind = sys.argv[1], sys.argv[2]
def add(t, name, data=b"", type=tarfile.REGTYPE, link=""):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.size, ti.linkname = type, 0o644, len(data), link
    t.addfile(ti, io.BytesIO(data) if data else None)
meta = json.dumps({"format": 1, "instance": "elsewhere", "owner": "mallory", "consistent": True}).encode()
with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
    if kind != "nometa":
        add(t, "left4me-backup.json", meta)
    add(t, "upper/", type=tarfile.DIRTYPE)
    if kind == "absolute":
        add(t, "/tmp/bk-evil", b"evil")
    elif kind == "dotdot":
        add(t, "upper/../../bk-evil", b"evil")
    elif kind == "symlink":
        add(t, "upper/esc", type=tarfile.SYMTYPE, link="../../../../../tmp")
        add(t, "upper/esc/bk-evil", b"evil")
    elif kind == "device":
        ti = tarfile.TarInfo("upper/null")
        ti.type, ti.devmajor, ti.devminor = tarfile.CHRTYPE, 1, 3
        t.addfile(ti)
    elif kind == "extra":
        add(t, "etc/passwd", b"evil")
    add(t, "upper/fine.txt", b"fine")
PY
}

bk_cleanup() {
        set +e
        rm -f "$CTR_DIR/root$L4M_CONF_D/$BK_CONF.conf"
        daemon_reload_config >/dev/null 2>&1
        ins_remove "$BK_A"
        ins_remove "$BK_B"
        return 0
}

# bk_files_are NAME LIST: backups/NAME/ holds exactly LIST (bk_files).
bk_files_are() {
        [[ $(bk_files "$1") == "$2" ]]
}

bk_dir_gone() {
        ! in_container test -e "$(bk_dir "$1")"
}

# bk_partial_appears NAME: a .partial- file is in backups/NAME/.
bk_partial_appears() {
        bk_files "$1" | grep -q '^\.partial-'
}

# bk_when_partial NAME COMMAND: runs the shell COMMAND in the container as
# soon as a partial file is in backups/NAME/ (polled there, without a
# round trip per look), at most 30 s.
bk_when_partial() {
        capture in_container timeout 30 sh -c "until ls -A '$(bk_dir "$1")' 2>/dev/null | grep -q '^\.partial-'; do :; done; $2"
}

test_backups() {
        local ua ub id files before pid job size used
        # shellcheck source=test-23-instances.sh
        source "$(dirname "${BASH_SOURCE[0]}")/test-23-instances.sh"
        # shellcheck source=test-36-instance-disk.sh
        source "$(dirname "${BASH_SOURCE[0]}")/test-36-instance-disk.sh"
        trap bk_cleanup EXIT
        ins_setup
        ins_three
        ins_remove "$BK_A"
        ins_remove "$BK_B"
        ins_create root "$BK_A" ins-bp "{'port': <uint16 27092>}"
        expect_ok "CreateInstance $BK_A"
        ins_create root "$BK_B" ins-bp "{'port': <uint16 27093>}"
        expect_ok "CreateInstance $BK_B"
        for n in "$BK_A" "$BK_B"; do
                bk_ctl instance set "$n" disk_max=infinity
                expect_ok "instance set $n disk_max=infinity"
        done

        step "an instance that never ran has nothing to back up"
        bk_ctl instance backup "$BK_A" --wait
        ((RC != 0)) || fail "a backup of an instance that never ran succeeded"
        assert_eq 0 "$(bk_count "$BK_A")" "backups of $BK_A"

        step "a backup of a running server with a marker it wrote"
        ins_call root "$BK_A" Start
        expect_ok "Start $BK_A"
        ins_wait_state "$BK_A" running
        dk_server_sh "$BK_A" "mkdir -p bk && echo marker-1 > bk/marker.txt && ln -s marker.txt bk/link && ln -s /etc/passwd bk/abs"
        expect_ok "the server writes bk/marker.txt ($ERR)"
        ua=$(ins_prop "$BK_A" UID)
        bk_backup "$BK_A"
        id=$BK_ID
        assert_eq "$BK_A" "$(in_container l4mctl backup list --json | "$L4M_PY" -c 'import json,sys; print([b["instance"] for b in json.load(sys.stdin) if b["id"] == '"$id"'][0])')" \
                "the instance of backup $id"
        assert_eq "$id.tar.zst" "$(bk_files "$BK_A")" "backups/$BK_A after the backup"
        assert_eq "600 root" "$(in_container stat -c '%a %U' "$(bk_dir "$BK_A")/$id.tar.zst")" "mode and owner of the file"
        assert_eq "700 root" "$(in_container stat -c '%a %U' "$L4M_STATE/backups")" "mode and owner of backups/"
        capture in_container tar --zstd -tf "$(bk_dir "$BK_A")/$id.tar.zst"
        expect_ok "GNU tar reads backup $id ($ERR)"
        assert_eq left4me-backup.json "$(head -n 1 <<<"$OUT")" "the first entry"
        grep -qx 'upper/left4dead2/bk/marker.txt' <<<"$OUT" || fail "no marker in the backup: $OUT"
        grep -qx 'upper/left4dead2/bk/link' <<<"$OUT" || fail "the relative link is not in the backup: $OUT"
        ! grep -q 'bk/abs' <<<"$OUT" || fail "the absolute link is in the backup (a restore would refuse it)"
        capture in_container sh -c "tar --zstd -xOf '$(bk_dir "$BK_A")/$id.tar.zst' left4me-backup.json"
        expect_ok "tar -xO left4me-backup.json"
        [[ $OUT == *'"format" : 1'* && $OUT == *"\"instance\" : \"$BK_A\""* && $OUT == *'"consistent" : true'* ]] ||
                fail "left4me-backup.json: $OUT"

        step "RestoreBackup of a running instance is Busy; of an unknown backup NotFound"
        gcall root "$L4M_MANAGER" org.left4me.Manager.RestoreBackup "uint64 $id" '@a{sv} {}'
        expect_dbus_error org.left4me.Error.Busy "RestoreBackup while $BK_A runs"
        gcall root "$L4M_MANAGER" org.left4me.Manager.RestoreBackup "uint64 999999" '@a{sv} {}'
        expect_dbus_error org.left4me.Error.NotFound "RestoreBackup of an unknown backup"
        gcall root "$L4M_MANAGER" org.left4me.Manager.RestoreBackup "uint64 $id" "{'colour': <'red'>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "RestoreBackup with an unknown option"

        step "the marker removed, the backup restored: the marker is back"
        ins_call root "$BK_A" Stop
        expect_ok "Stop $BK_A"
        ins_wait_state "$BK_A" stopped
        in_container rm -rf "$L4M_RUNTIME/$BK_A/upper/left4dead2/bk"
        in_container sh -c "echo after > '$L4M_RUNTIME/$BK_A/upper/after-backup.txt'"
        bk_ctl backup restore "$id" --wait
        expect_ok "backup restore $id ($ERR)"
        assert_eq marker-1 "$(in_container cat "$L4M_RUNTIME/$BK_A/upper/left4dead2/bk/marker.txt")" "the restored marker"
        in_container test ! -e "$L4M_RUNTIME/$BK_A/upper/after-backup.txt" || fail "a file of after the backup survived the restore"
        assert_eq "$ua $ua 700" "$(in_container stat -c '%u %g %a' "$L4M_RUNTIME/$BK_A/upper")" "owner and mode of upper/"
        assert_eq "$ua" "$(in_container stat -c '%u' "$L4M_RUNTIME/$BK_A/upper/left4dead2/bk/marker.txt")" "owner of the marker"
        ins_call root "$BK_A" Start
        expect_ok "Start $BK_A after the restore"
        ins_wait_state "$BK_A" running
        dk_server_sh "$BK_A" "cat bk/marker.txt"
        expect_ok "the server reads its restored marker"
        assert_eq marker-1 "$OUT" "the marker as the server sees it"

        step "export, then import into $BK_B and restore there"
        bk_ctl backup export "$id" /tmp/bk-export.tar.zst
        expect_ok "backup export $id ($ERR)"
        assert_eq "$(in_container stat -c %s "$(bk_dir "$BK_A")/$id.tar.zst")" "$(in_container stat -c %s /tmp/bk-export.tar.zst)" \
                "the size of the export"
        capture in_container sh -c "l4mctl backup export $id - | cmp - '$(bk_dir "$BK_A")/$id.tar.zst'"
        expect_ok "backup export $id - is the file"
        bk_ctl backup import "$BK_B" /tmp/bk-export.tar.zst --wait
        expect_ok "backup import $BK_B ($ERR)"
        assert_eq 1 "$(bk_count "$BK_B")" "backups of $BK_B after the import"
        ub=$(ins_prop "$BK_B" UID)
        id=$(bk_ids "$BK_B")
        bk_ctl backup restore "${id%%$'\n'*}" --wait
        expect_ok "restore the import into $BK_B ($ERR)"
        assert_eq marker-1 "$(in_container cat "$L4M_RUNTIME/$BK_B/upper/left4dead2/bk/marker.txt")" "the marker in $BK_B"
        ub=$(ins_prop "$BK_B" UID)
        [[ $ub != 0 ]] || fail "$BK_B got no uid at its restore"
        assert_eq "$ub" "$(in_container stat -c '%u' "$L4M_RUNTIME/$BK_B/upper/left4dead2/bk/marker.txt")" "owner in $BK_B"
        step "l4mctl backup import - from a pipe"
        capture in_container sh -c "cat /tmp/bk-export.tar.zst | l4mctl backup import '$BK_B' - --wait"
        expect_ok "backup import from a pipe ($ERR)"
        assert_eq 2 "$(bk_count "$BK_B")" "backups of $BK_B after two imports"

        step "hostile archives are refused, nothing changes"
        before=$(bk_files "$BK_B")
        for kind in absolute dotdot symlink device extra nometa; do
                bk_hostile "/tmp/bk-$kind.tar" "$kind"
                bk_ctl backup import "$BK_B" "/tmp/bk-$kind.tar" --wait
                ((RC != 0)) || fail "the $kind archive was imported"
                step "$kind: $ERR"
                assert_eq 2 "$(bk_count "$BK_B")" "backups of $BK_B after the $kind archive"
                wait_until 10 bk_files_are "$BK_B" "$before" ||
                        fail "backups/$BK_B changed with the $kind archive: $(bk_files "$BK_B")"
        done
        in_container test ! -e /tmp/bk-evil || fail "a hostile archive wrote /tmp/bk-evil"
        in_container test ! -e "$L4M_STATE/backups/bk-evil" || fail "a hostile archive wrote backups/bk-evil"

        step "a file the server keeps changing: the backup is not consistent and says which"
        dk_server_sh "$BK_A" "head -c 48M /dev/urandom > churn.bin &&
                (while :; do echo x >> churn.bin; done) </dev/null >/dev/null 2>&1 & echo \$!"
        expect_ok "the server starts appending to churn.bin ($ERR)"
        pid=${OUT##*$'\n'}
        [[ $pid =~ ^[0-9]+$ ]] || fail "no pid of the appending loop: $OUT"
        bk_backup "$BK_A"
        capture in_container kill "$pid"
        in_container rm -f "$L4M_RUNTIME/$BK_A/upper/left4dead2/churn.bin"
        expect_log "$BK_JOB" "Still changing after 4 reads: upper/left4dead2/churn.bin" "NOT consistent"
        bk_ctl backup list "$BK_A" --json
        [[ $OUT == *"\"id\":$BK_ID,"*'"consistent":false'* ]] || fail "backup $BK_ID is not listed as not consistent: $OUT"
        capture in_container sh -c "tar --zstd -xOf '$(bk_dir "$BK_A")/$BK_ID.tar.zst' left4me-backup.json"
        [[ $OUT == *'"consistent" : false'* ]] || fail "left4me-backup.json of backup $BK_ID: $OUT"
        bk_ctl backup delete "$BK_ID"
        expect_ok "backup delete $BK_ID"

        step "a cancelled backup leaves nothing"
        # A large upper: the backup takes long enough to be caught.
        dk_server_sh "$BK_A" "mkdir -p big && for i in \$(seq 1 24); do head -c 16M /dev/urandom > big/f\$i; done &&
                for i in \$(seq 1 16); do head -c 24M /dev/urandom | base64 > big/t\$i.log; done"
        expect_ok "the server writes about 900 MiB ($ERR)"
        before=$(bk_count "$BK_A")
        bk_ctl instance backup "$BK_A" --json
        expect_ok "instance backup $BK_A"
        BK_JOB=$(job_path_from_output)
        bk_when_partial "$BK_A" "l4mctl job cancel $(job_id_of "$BK_JOB")"
        expect_ok "job cancel while the partial file is there ($ERR; job $(job_prop "$BK_JOB" State): $(job_prop "$BK_JOB" Message))"
        job_wait "$BK_JOB" 60
        expect_job cancelled "the cancelled backup"
        assert_eq "$before" "$(bk_count "$BK_A")" "backups of $BK_A after the cancel"
        bk_partial_appears "$BK_A" && fail "a partial file is left after the cancel: $(bk_files "$BK_A")"

        step "SIGKILL of the daemon during a backup: nothing listed, the partial swept"
        pid=$(unit_prop MainPID)
        bk_ctl instance backup "$BK_A" --json
        expect_ok "instance backup $BK_A"
        job=$(job_path_from_output)
        bk_when_partial "$BK_A" "kill -KILL $pid"
        expect_ok "kill -KILL $pid (left4med) while the partial file is there ($ERR)"
        wait_until 20 unit_is_inactive || true
        files=$(bk_files "$BK_A")
        step "after the kill: $files"
        daemon_up
        assert_eq "$before" "$(bk_count "$BK_A")" "backups of $BK_A after the kill"
        bk_partial_appears "$BK_A" && fail "the partial file was not swept: $(bk_files "$BK_A")"
        assert_eq failed "$(job_prop "$job" State)" "the killed backup's job"
        ins_wait_state "$BK_A" running
        note "a backup killed with the daemon: backups/$BK_A right after the kill (systemd may have started left4med again already): $(paste -sd ' ' <<<"$files")"

        step "a consistent backup of the large upper, timed"
        size=$(date +%s.%N)
        bk_backup "$BK_A"
        note "backup of $BK_A (about 900 MiB, server running): $(awk -v s="$size" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f s", e - s }')"

        step "Start is Busy while a restore runs"
        ins_call root "$BK_A" Stop
        expect_ok "Stop $BK_A"
        ins_wait_state "$BK_A" stopped
        bk_job_start backup restore "$BK_ID"
        ins_call root "$BK_A" Start
        expect_dbus_error org.left4me.Error.Busy "Start of $BK_A while its restore runs"
        job_wait "$BK_JOB" 120
        expect_job succeeded "the restore of the large backup"
        ins_call root "$BK_A" Start
        expect_ok "Start $BK_A after the restore"
        ins_wait_state "$BK_A" running

        step "[Backups] KeepPerInstance=2 prunes the oldest"
        mkdir -p "$CTR_DIR/root$L4M_CONF_D"
        printf '[Backups]\nKeepPerInstance=2\n' >"$CTR_DIR/root$L4M_CONF_D/$BK_CONF.conf"
        daemon_reload_config
        before=$(bk_ids "$BK_B" | tail -n 1)
        ins_call root "$BK_B" Start
        expect_ok "Start $BK_B"
        ins_wait_state "$BK_B" running
        pid=$(ins_prop "$BK_B" MainPID)
        bk_backup "$BK_B" --stop
        assert_eq 2 "$(bk_count "$BK_B")" "backups of $BK_B after a third"
        expect_log "$BK_JOB" "Stopping the server for the backup." "its server is stopped" \
                "Starting the server again."
        ins_wait_state "$BK_B" running
        [[ $(ins_prop "$BK_B" MainPID) != "$pid" ]] || fail "$BK_B's server was not restarted by the backup with --stop"
        grep -qx "$before" <<<"$(bk_ids "$BK_B")" && fail "the oldest backup of $BK_B ($before) was kept"
        assert_eq 2 "$(bk_files "$BK_B" | grep -c 'tar.zst$')" "files in backups/$BK_B"

        step "backups count in their owner's storage use"
        size=$(in_container l4mctl backup list --json | "$L4M_PY" -c 'import json,sys; print(sum(b["size"] for b in json.load(sys.stdin) if b["owner"] == "root"))')
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetStorageUsage "$(gv_str root)"
        expect_ok "GetStorageUsage(root)"
        used=$(grep -oE 'uint64 [0-9]+' <<<"$OUT" | cut -d' ' -f2)
        used=${used%%$'\n'*}
        ((used >= size)) || fail "root's storage use ($used) is less than its backups' ($size)"

        step "DeleteBackup"
        bk_ctl backup delete "$BK_ID"
        expect_ok "backup delete $BK_ID"
        in_container test ! -e "$(bk_dir "$BK_B")/$BK_ID.tar.zst" || fail "the deleted backup's file is there"
        bk_ctl backup delete "$BK_ID"
        expect_exit 4 "backup delete of a deleted backup"

        step "deleting the instance deletes its backups"
        ins_remove "$BK_B"
        wait_until 10 bk_dir_gone "$BK_B" || fail "backups/$BK_B is still there"
        assert_eq 0 "$(in_container l4mctl backup list --json | "$L4M_PY" -c 'import json,sys; print(sum(1 for b in json.load(sys.stdin) if b["instance"] == "'"$BK_B"'"))')" \
                "rows of $BK_B"
}
l4m_test backups test_backups 600

# An instance with a disk image (disk_max): backed up while it runs (its
# image mounted), refused stopped and with --stop; a restore gives it a
# plain upper/ and retires the image, and the next start seeds a new image
# from the restored files.
test_backups_disk() {
        local name=bk-disk id img
        # shellcheck source=test-23-instances.sh
        source "$(dirname "${BASH_SOURCE[0]}")/test-23-instances.sh"
        # shellcheck source=test-36-instance-disk.sh
        source "$(dirname "${BASH_SOURCE[0]}")/test-36-instance-disk.sh"
        trap 'ins_remove bk-disk' EXIT
        ins_setup
        ins_three
        ins_remove "$name"
        ins_create root "$name" ins-bp "{'port': <uint16 27094>}"
        expect_ok "CreateInstance $name"
        bk_ctl instance set "$name" disk_max=32M
        expect_ok "instance set $name disk_max=32M"
        img=$L4M_RUNTIME/$name/disk.img
        ins_call root "$name" Start
        expect_ok "Start $name"
        ins_wait_state "$name" running
        in_container test -f "$img" || fail "no disk image"
        dk_server_sh "$name" "mkdir -p bk && echo disk-marker > bk/marker.txt"
        expect_ok "the server writes its marker"

        step "with --stop: refused, the server keeps running"
        bk_ctl instance backup "$name" --stop --wait
        ((RC != 0)) || fail "a backup with --stop of an instance with a disk image succeeded"
        [[ "$OUT$ERR" == *"disk image"* ]] || fail "the refusal does not name the disk image: $OUT $ERR"
        ins_wait_state "$name" running

        step "while it runs: the image's upper/"
        bk_backup "$name"
        id=$BK_ID
        capture in_container tar --zstd -tf "$(bk_dir "$name")/$id.tar.zst"
        grep -qx 'upper/left4dead2/bk/marker.txt' <<<"$OUT" || fail "no marker in the backup of the image: $OUT"

        step "stopped: refused, naming the image"
        ins_call root "$name" Stop
        expect_ok "Stop $name"
        ins_wait_state "$name" stopped
        bk_ctl instance backup "$name" --wait
        ((RC != 0)) || fail "a backup of a stopped instance with a disk image succeeded"
        [[ "$OUT$ERR" == *"disk image"* ]] || fail "the refusal does not name the disk image: $OUT $ERR"

        step "restore: a plain upper/, the image retired, a new one at the next start"
        bk_ctl backup restore "$id" --wait
        expect_ok "backup restore $id ($ERR)"
        wait_until 10 in_container test ! -e "$img" || fail "the disk image is still there after the restore"
        assert_eq disk-marker "$(in_container cat "$L4M_RUNTIME/$name/upper/left4dead2/bk/marker.txt")" "the plain upper/'s marker"
        ins_call root "$name" Start
        expect_ok "Start $name after the restore"
        ins_wait_state "$name" running
        in_container test -f "$img" || fail "no new disk image after the start"
        in_container test ! -e "$L4M_RUNTIME/$name/upper" || fail "the plain upper/ stayed beside the new image"
        dk_server_sh "$name" "cat bk/marker.txt"
        expect_ok "the server reads its marker from the new image"
        assert_eq disk-marker "$OUT" "the marker in the new image"
}
l4m_test backups-disk test_backups_disk 300
