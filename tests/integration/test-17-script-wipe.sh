# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What a script leaves in its overlay is hostile input for everything the
# daemon later does there as root: symlinks to /etc/shadow, /root, / and
# the state directory, a relative link climbing out, a fifo, directories
# of mode 000, a tree 5000 levels deep. Builds (their Size), Wipe and
# Delete must neither read nor write through the links and must leave
# nothing behind. Also: Wipe() on an archive overlay and who may wipe, and
# Wipe with mounts inside the overlay.

# wp_snapshot: what must not change: /etc/shadow and /etc/passwd (hash,
# size, mode, links, mtime), /root two levels deep and the canary directory
# in it, the names in / and in the state directory, the database file.
# One name in / is systemd's, not ours: the empty mount point /overlay it
# makes for the sandbox's bind the first time a script runs (left4med(8));
# wp_mount_point_empty checks that it is no more than that.
wp_snapshot() {
        in_container sh -c '
                sha256sum /etc/shadow /etc/passwd &&
                stat -c "%n %s %a %h %Y %U" /etc/shadow /etc/passwd &&
                find /root -maxdepth 2 -printf "%p %y %s %m %T@\n" | LC_ALL=C sort &&
                find /root/l4m-canary-dir -printf "%p %y %s %m %T@\n" 2>/dev/null | LC_ALL=C sort;
                ls -A / | grep -vx overlay | paste -sd " " &&
                stat -c "%n %F" /var/lib/left4me/db/left4me.db &&
                ls -A /var/lib/left4me | paste -sd " "'
}

wp_mount_point_empty() {
        if in_container test -e /overlay; then
                assert_eq "directory root" "$(in_container stat -c '%F %U' /overlay)" \
                        "the host's /overlay (the sandbox's mount point)"
                assert_eq "" "$(in_container find /overlay -mindepth 1 -maxdepth 1)" "entries in the host's /overlay"
        fi
}

wp_expect_unchanged() {
        local now
        wp_mount_point_empty
        now=$(wp_snapshot)
        if [[ $1 != "$now" ]]; then
                diff <(printf '%s\n' "$1") <(printf '%s\n' "$now") | head -n 20 | sed 's/^/  diff: /' >&2
                fail "files outside the overlay changed $2 (see the diff in the log)"
        fi
}

test_script_symlinks_wipe() {
        local before path ov d f job n
        sc_setup
        in_container sh -c 'mkdir -p /root/l4m-canary-dir && echo keep > /root/l4m-canary-dir/keep.txt &&
                echo keep > /root/l4m-canary.txt'
        before=$(wp_snapshot)
        f=$(sc_file <<'SH'
set -e
mkdir -p left4dead2/addons left4dead2/maps
ln -sfn /etc/shadow left4dead2/addons/x.vpk
ln -sfn /root left4dead2/cfg
ln -sfn / left4dead2/rootfs
ln -sfn /var/lib/left4me left4dead2/state
ln -sfn ../../../../../../../etc/passwd left4dead2/addons/rel.vpk
ln -sfn /root/l4m-canary-dir left4dead2/maps/canary
[ -p left4dead2/addons/fifo.vpk ] || mkfifo left4dead2/addons/fifo.vpk
head -c 1000 /dev/zero > left4dead2/maps/real.bsp
if [ ! -d left4dead2/locked ]; then
        mkdir -p left4dead2/locked/inner && head -c 24 /dev/zero > left4dead2/locked/inner/f.bin
        chmod 000 left4dead2/locked/inner left4dead2/locked
fi
echo LINKS-MADE
SH
)
        path=$(create_overlay root sc-links script)
        ov=$(id_of_path "$path")
        d=$L4M_OVERLAYS/$ov/left4dead2
        sc_set_file root "$path" "$f"
        expect_ok "SetScript"

        for n in 1 2; do
                sc_build root "$path"
                job_wait "$JOB" 60
                expect_job succeeded "build $n of the script leaving links"
                expect_log "$JOB" LINKS-MADE
                assert_eq /etc/shadow "$(in_container readlink "$d/addons/x.vpk")" "the link to /etc/shadow (build $n)"
                assert_eq /root "$(in_container readlink "$d/cfg")" "the link to /root (build $n)"
                assert_eq ready "$(ov_prop "$path" State)" "State after build $n"
                assert_eq 1024 "$(ov_prop "$path" Size)" "Size after build $n (real.bsp and locked/inner/f.bin; nothing through the links)"
                wp_expect_unchanged "$before" "by build $n"
        done

        gcall root "$path" org.left4me.Overlay.Wipe
        expect_ok "Wipe()"
        job=$(job_path_from_output)
        [[ -n $job ]] || fail "Wipe() answered no job path: $OUT"
        job_wait "$job" 60
        expect_job succeeded "the wipe"
        assert_eq overlay-wipe "$(job_prop "$job" Kind)" "the wipe job's Kind"
        assert_eq "" "$(in_container find "$L4M_OVERLAYS/$ov" -mindepth 1 -printf '%P\n')" "the overlay's directory after Wipe"
        in_container test -d "$L4M_OVERLAYS/$ov" || fail "Wipe removed the overlay's directory itself"
        assert_eq empty "$(ov_prop "$path" State)" "State after Wipe"
        assert_eq 0 "$(ov_prop "$path" Size)" "Size after Wipe"
        wp_expect_unchanged "$before" "by Wipe"
        assert_eq keep "$(in_container cat /root/l4m-canary-dir/keep.txt)" "/root/l4m-canary-dir/keep.txt after Wipe"

        # Once more, then Delete with the links in place.
        sc_build root "$path"
        job_wait "$JOB" 60
        expect_job succeeded "build 3"
        wp_expect_unchanged "$before" "by build 3"
        delete_overlay root "$path"
        [[ -z $(row_id sc-links) ]] || fail "the row is still there after Delete"
        wait_until 10 dir_missing "$ov" || fail "the overlay's directory is still there after Delete"
        wp_expect_unchanged "$before" "by Delete"
        daemon_up
        in_container rm -rf /root/l4m-canary-dir /root/l4m-canary.txt
}
l4m_test script-symlinks-wipe test_script_symlinks_wipe 150

test_overlay_wipe_archive() {
        local path ov job
        sc_setup
        in_container sh -c "mkdir -p '$TF_DIR/src/left4dead2/maps' && head -c 5000 /dev/urandom > '$TF_DIR/src/left4dead2/maps/m.bsp' &&
                tar -C '$TF_DIR/src' -cf '$TF_DIR/a.tar' left4dead2"
        path=$(create_overlay alice sc-wipe-archive archive)
        ov=$(id_of_path "$path")
        l4mbus alice import "$path" "$TF_DIR/a.tar"
        expect_ok "alice: ImportArchive"
        job_wait "$(job_path_from_output)" 60
        expect_job succeeded "the import"
        assert_eq 5000 "$(ov_prop "$path" Size)" "Size after the import"

        gcall bob -i "$path" org.left4me.Overlay.Wipe
        expect_dbus_error org.freedesktop.DBus.Error.AccessDenied "bob: Wipe() of alice's overlay"
        gcall mallory -i "$path" org.left4me.Overlay.Wipe
        expect_dbus_error org.freedesktop.DBus.Error.AccessDenied "mallory: Wipe() of alice's overlay"
        in_container test -f "$L4M_OVERLAYS/$ov/left4dead2/maps/m.bsp" || fail "the refused wipes removed files"

        gcall alice "$path" org.left4me.Overlay.Wipe
        expect_ok "alice: Wipe() of her archive overlay"
        job=$(job_path_from_output)
        job_wait "$job" 60
        expect_job succeeded "the wipe"
        assert_eq alice "$(job_prop "$job" Owner)" "owner of the wipe job"
        assert_eq "" "$(in_container find "$L4M_OVERLAYS/$ov" -mindepth 1 -printf '%P\n')" "the overlay after Wipe"
        assert_eq empty "$(ov_prop "$path" State)" "State after Wipe"
        assert_eq 0 "$(ov_prop "$path" Size)" "Size after Wipe"
        delete_overlay alice "$path"
}
l4m_test overlay-wipe-archive test_overlay_wipe_archive

# Wipe does not cross mounts: a bind mount of a directory of the same file
# system (the state directory) and one of another file system inside the
# overlay keep their content, whatever the job's outcome.
test_overlay_wipe_mounts() {
        local path ov d canary1=$L4M_STATE/l4m-wipe-canary canary2=/root/l4m-wipe-canary job before after left mounts
        sc_setup
        path=$(create_overlay root sc-wipe-mounts script)
        ov=$(id_of_path "$path")
        d=$L4M_OVERLAYS/$ov/left4dead2
        in_container sh -c "set -e
                for c in '$canary1' '$canary2'; do
                        mkdir -p \$c/sub && echo keep > \$c/keep.txt && echo keep > \$c/sub/keep.txt
                done
                mkdir -p '$d/same-fs' '$d/other-fs' && echo gone > '$d/plain.txt'
                mount --bind '$canary1' '$d/same-fs'
                mount --bind '$canary2' '$d/other-fs'"
        before=$(in_container sh -c "find '$canary1' '$canary2' -printf '%p %y %s\n' | LC_ALL=C sort")
        gcall root "$path" org.left4me.Overlay.Wipe
        expect_ok "Wipe() with mounts inside the overlay"
        job=$(job_path_from_output)
        job_wait "$job" 60
        after=$(in_container sh -c "find '$canary1' '$canary2' -printf '%p %y %s\n' | LC_ALL=C sort")
        left=$(in_container findmnt -rn -o TARGET | grep "^$L4M_OVERLAYS/" | LC_ALL=C sort -r || true)
        # Whatever is still mounted (wherever Wipe moved it) goes now.
        if [[ -n $left ]]; then
                mapfile -t mounts <<<"$left"
                in_container umount -l "${mounts[@]}"
        fi
        assert_eq "$before" "$after" "the bind-mounted directories after Wipe (job $JOB_STATE: $JOB_MSG)"
        if [[ $JOB_STATE == succeeded ]]; then
                assert_eq "" "$(in_container find "$L4M_OVERLAYS/$ov" -mindepth 1 -printf '%P\n')" "the overlay after a successful Wipe"
        fi
        note "Wipe with two bind mounts inside: $JOB_STATE: $JOB_MSG; mounts left at: $(paste -sd ' ' <<<"${left:-none}")"
        in_container sh -c "rm -rf '$canary1' '$canary2'; for x in '$L4M_OVERLAYS'/.wipe-*; do [ ! -d \"\$x\" ] || rm -rf --one-file-system \"\$x\"; done"
        gcall root "$path" org.left4me.Overlay.Wipe
        expect_ok "Wipe() once the mounts are gone"
        job_wait "$(job_path_from_output)" 60
        expect_job succeeded "the wipe without mounts"
        assert_eq "" "$(in_container find "$L4M_OVERLAYS/$ov" -mindepth 1 -printf '%P\n')" "the overlay after the second Wipe"
        delete_overlay root "$path"
}
l4m_test overlay-wipe-mounts test_overlay_wipe_mounts

# wp_no_deep_leftovers: no trace of script-deep-tree's tree in overlays/:
# no tree moved aside for removal (.trash-*) is left, and the leaf is gone.
# (find alone can miss the leaf while the removal moves directories.)
wp_no_deep_leftovers() {
        no_trash_left && [[ -z $(wp_leftovers l4m-deep-leaf.bin) ]]
}

# wp_leftovers NAME: entries called NAME anywhere under overlays/ (found
# without recursion limits: find handles any depth).
wp_leftovers() {
        in_container find "$L4M_OVERLAYS" -name "$1" -printf '%h\n' | cut -c 1-120 | head -n 3
}

# A script can nest directories deeper than any fixed limit of a walker
# (5000 levels, a file at the bottom). The build must say it cannot use such
# a tree, and Wipe and Delete must leave nothing of it behind in overlays/.
test_script_deep_tree() {
        local path ov job left problems=()
        sc_setup
        sc_run sc-deep 120 <<'SH'
mkdir -p left4dead2 && head -c 7 /dev/zero > left4dead2/top.bin
cd left4dead2
python3 -c '
import os
for i in range(5000):
    os.mkdir("d")
    os.chdir("d")
with open("l4m-deep-leaf.bin", "wb") as f:
    f.write(b"x" * 1000)
'
echo DEEP-DONE
SH
        path=$SC_PATH ov=$SC_ID
        expect_log "$JOB" DEEP-DONE
        # Each part is checked (and reported) even when an earlier one failed.
        # The daemon walks trees at most 256 levels deep: the build must say so.
        if [[ $JOB_STATE != failed ||
              $JOB_MSG != "Script left directories nested more than 256 deep; wipe the overlay and keep it flatter." ]]; then
                problems+=("the build of a 5000-level tree ended $JOB_STATE: $JOB_MSG")
        fi
        [[ $(ov_prop "$path" State) == failed ]] || problems+=("State is $(ov_prop "$path" State) after the build, not failed")

        gcall root "$path" org.left4me.Overlay.Wipe
        expect_ok "Wipe() of the deep tree"
        job=$(job_path_from_output)
        job_wait "$job" 120
        expect_job succeeded "the wipe of the deep tree"
        assert_eq "" "$(in_container find "$L4M_OVERLAYS/$ov" -mindepth 1 -maxdepth 1 -printf '%P\n')" "the overlay after Wipe"
        left=$(wp_leftovers l4m-deep-leaf.bin)
        [[ -z $left ]] || problems+=("Wipe reported '$JOB_MSG' but the old content is still in overlays/: ${left%%/d/d/d/*}/d/d/d/…")

        # Once more, then Delete.
        sc_build root "$path"
        job_wait "$JOB" 120
        delete_overlay root "$path"
        wait_until 10 dir_missing "$ov" || problems+=("the overlay's directory is still there after Delete")
        # Delete removes the moved-aside tree on a thread: give it time.
        wait_until 60 wp_no_deep_leftovers || true
        left=$(wp_leftovers l4m-deep-leaf.bin | grep -v '/\.wipe-' || true)
        [[ -z $left ]] || problems+=("Delete left the deep tree in overlays/: ${left%%/d/d/d/*}/d/d/d/…")
        if ((${#problems[@]})); then
                fail "$(printf '%s; ' "${problems[@]}")"
        fi
}
l4m_test script-deep-tree test_script_deep_tree 240
