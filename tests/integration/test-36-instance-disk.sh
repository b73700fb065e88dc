# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# disk_max enforced by the kernel: an instance with disk_max=32M keeps its
# upper/ in runtime/NAME/disk.img, an ext4 image that left4me-overlay(8)
# mounts on a loop device; the server's uid, writing 64 MiB into its
# merged tree from its own mount namespace, gets ENOSPC near 32 MiB, while
# another instance (no disk_max) writes on. The files of a plain upper/
# move into the image; the limit survives a restart of the server and of
# the daemon; disk_max cannot go below what the image holds, nor back to
# none; growing it to 64M keeps the content and allows more; a stopped
# server leaves no mount and no loop device behind. The server itself sees
# no loop device. Exposure figures of both units in the notes.
# Uses test-23's ins_* helpers (the fake srcds, its blueprint).
#
# Loop devices: tools/container.sh binds /dev/loop-control and the host's
# loop nodes (loop0..loop7 here) into the container. When every one is
# busy the kernel makes loop8 and on, whose nodes the container's /dev
# lacks: the helper then makes the node itself (mknod, from
# /sys/devices/virtual/block/loopN/dev; the unit's DeviceAllow=block-loop
# rwm allows it), so a test run does not depend on how many the host has
# free.

DK_MIB=$((1024 * 1024))

# dk_set NAME KEY=VALUE: l4mctl instance set as root.
dk_set() {
        capture in_container l4mctl instance set "$1" "$2"
}

# dk_server_sh NAME SHELL-COMMANDS: runs the commands with the server's uid
# and gid, in its mount namespace, in merged/left4dead2 (as a plugin of the
# server would).
dk_server_sh() {
        local name=$1 pid ids
        pid=$(ins_prop "$name" MainPID)
        ((pid > 0)) || fail "$name has no MainPID"
        ids=$(in_container stat -c '%u %g' "/proc/$pid")
        capture in_container nsenter -t "$pid" -m -- setpriv --reuid="${ids% *}" --regid="${ids#* }" --clear-groups -- \
                sh -c "cd '$L4M_RUNTIME/$name/merged/left4dead2' && $2"
}

# dk_fill NAME FILE MIB: the server writes MIB MiB into FILE; DK_SIZE gets
# the size FILE has then, DK_RC dd's exit status, DK_ERR what it said.
dk_fill() {
        dk_server_sh "$1" "dd if=/dev/zero of='$2' bs=1M count=$3 conv=fsync 2>&1; echo rc=\$?; stat -c %s '$2'"
        DK_RC=$(grep -o '^rc=[0-9]*' <<<"$OUT" | cut -d= -f2)
        DK_SIZE=$(tail -n 1 <<<"$OUT")
        DK_ERR=$OUT
        [[ $DK_SIZE =~ ^[0-9]+$ ]] || fail "no size of $2 in $1: $OUT $ERR"
        step "$1 wrote $((DK_SIZE / DK_MIB)) MiB of $3 into $2 (dd: rc $DK_RC)"
}

# dk_expect_limited NAME FILE: writing 64 MiB stops with ENOSPC at 24..33 MiB.
dk_expect_limited() {
        dk_fill "$1" "$2" 64
        [[ $DK_RC != 0 ]] || fail "$1 wrote 64 MiB past disk_max=32M: $DK_ERR"
        [[ $DK_ERR == *"No space left on device"* ]] || fail "$1's write did not end with ENOSPC: $DK_ERR"
        ((DK_SIZE >= 24 * DK_MIB && DK_SIZE <= 33 * DK_MIB)) ||
                fail "$1 wrote $DK_SIZE bytes before ENOSPC, not 24 to 33 MiB"
}

dk_mount_line() {
        in_container awk -v p="$L4M_RUNTIME/$1/disk" '$5 == p' /proc/self/mountinfo
}

# dk_no_loop_for NAME: no loop device is attached to NAME's image.
dk_no_loop_for() {
        [[ -z $(in_container losetup -n -O NAME -j "$L4M_RUNTIME/$1/disk.img" 2>/dev/null) ]]
}

# dk_security UNIT: systemd-analyze security's overall figure.
dk_security() {
        in_container systemd-analyze security --no-pager "$1" 2>/dev/null |
                awk '/Overall exposure level/ { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+$/) { print $i; exit } }'
}

dk_usage_disk() {
        ins_call root "$1" GetUsage
        expect_ok "GetUsage $1"
        grep -o "'disk_used': <uint64 [0-9]*>" <<<"$OUT" | grep -o '[0-9]*>$' | tr -d '>'
}

test_disk_max() {
        local a=dk-a b=dk-b img line used sa sb
        # shellcheck source=test-23-instances.sh
        source "$(dirname "${BASH_SOURCE[0]}")/test-23-instances.sh"
        trap 'ins_remove dk-a; ins_remove dk-b' EXIT
        ins_setup
        ins_three
        ins_remove "$a"
        ins_remove "$b"
        ins_create root "$a" ins-bp "{'port': <uint16 27080>}"
        expect_ok "CreateInstance $a"
        ins_create root "$b" ins-bp "{'port': <uint16 27081>}"
        expect_ok "CreateInstance $b"
        img=$L4M_RUNTIME/$a/disk.img
        # No disk_max at first (the [Instances] default may be finite).
        dk_set "$a" disk_max=infinity
        expect_ok "l4mctl instance set $a disk_max=infinity"
        dk_set "$b" disk_max=infinity
        expect_ok "l4mctl instance set $b disk_max=infinity"

        step "a plain upper/ first, with files of the server's"
        ins_call root "$a" Start
        expect_ok "Start $a (no disk_max)"
        ins_wait_state "$a" running
        dk_server_sh "$a" "mkdir -p keep && echo kept > keep/file.txt"
        expect_ok "the server writes keep/file.txt"
        ins_call root "$a" Stop
        expect_ok "Stop $a"
        ins_wait_state "$a" stopped
        in_container test -f "$L4M_RUNTIME/$a/upper/left4dead2/keep/file.txt" || fail "keep/file.txt is not in the plain upper/"
        in_container test ! -e "$img" || fail "an image without a disk_max"

        step "disk_max=32M: the image, the files moved into it"
        dk_set "$a" disk_max=32M
        expect_ok "l4mctl instance set $a disk_max=32M"
        ins_call root "$a" Start
        expect_ok "Start $a (disk_max=32M)"
        ins_wait_state "$a" running
        assert_eq "-rw------- root 33554432" "$(in_container stat -c '%A %U %s' "$img")" "mode, owner and size of disk.img"
        in_container test ! -e "$L4M_RUNTIME/$a/upper" || fail "the plain upper/ is still there"
        in_container test ! -e "$L4M_RUNTIME/$a/disk-seed" || fail "disk-seed/ is still there"
        line=$(dk_mount_line "$a")
        step "mountinfo: $line"
        [[ $line == *" - ext4 /dev/loop"* ]] || fail "runtime/$a/disk is not an ext4 on a loop device: $line"
        [[ $(cut -d' ' -f6 <<<"$line") == *nosuid*nodev* || $(cut -d' ' -f6 <<<"$line") == *nodev*nosuid* ]] ||
                fail "runtime/$a/disk without nosuid,nodev: $line"
        dk_server_sh "$a" "cat keep/file.txt"
        expect_ok "the server reads keep/file.txt"
        assert_eq kept "$OUT" "keep/file.txt after the move into the image"
        in_container test -s "$L4M_RUNTIME/$a/disk/upper/left4dead2/keep/file.txt" || fail "the file is not in disk/upper"
        # The server sees no loop device (and could not make one).
        dk_server_sh "$a" "ls /dev | grep -c loop || true"
        assert_eq 0 "$OUT" "loop nodes in the server's /dev"

        step "the server writes 64 MiB: ENOSPC near 32"
        dk_expect_limited "$a" fill
        note "$a (disk_max=32M) wrote $((DK_SIZE / 1024)) KiB of 64 MiB before ENOSPC"
        used=$(dk_usage_disk "$a")
        ((used >= 24 * DK_MIB && used <= 32 * DK_MIB)) || fail "GetUsage disk_used of $a is $used, not 24..32 MiB"

        step "another instance (no disk_max) still writes"
        ins_call root "$b" Start
        expect_ok "Start $b"
        ins_wait_state "$b" running
        dk_fill "$b" fill 40
        assert_eq 0 "$DK_RC" "dd's status in $b ($DK_ERR)"
        assert_eq $((40 * DK_MIB)) "$DK_SIZE" "what $b wrote"
        dk_server_sh "$b" "rm -f fill"
        in_container test ! -e "$L4M_RUNTIME/$b/disk.img" || fail "$b (no disk_max) got an image"

        step "exposure"
        sa=$(dk_security "left4me-server-$a.service")
        sb=$(dk_security "left4me-server-$b.service")
        note "systemd-analyze security: left4me-server-$a.service (disk image) $sa, left4me-server-$b.service $sb"
        note "DeviceAllow= as systemd-analyze rates it: $a: $(in_container systemd-analyze security --no-pager "left4me-server-$a.service" 2>/dev/null | grep -m1 'DeviceAllow=' | tr -s ' ' | cut -c1-120); $b: $(in_container systemd-analyze security --no-pager "left4me-server-$b.service" 2>/dev/null | grep -m1 'DeviceAllow=' | tr -s ' ' | cut -c1-120)"
        [[ -n $sa && -n $sb ]] || fail "no exposure figures ($sa, $sb)"
        awk -v a="$sa" -v b="$sb" 'BEGIN { exit !(a <= 1.7 && b <= 1.7) }' || fail "exposure above 1.7: $sa, $sb"
        line=$(in_container systemctl show -P DeviceAllow "left4me-server-$a.service" | paste -sd " ")
        [[ " $line " == *" /dev/loop-control rw "* && " $line " == *" block-loop rwm "* ]] ||
                fail "DeviceAllow of $a lacks the loop devices: $line"
        line=$(in_container systemctl show -P DeviceAllow "left4me-server-$b.service" | paste -sd " ")
        [[ $line != *loop* ]] || fail "DeviceAllow of $b (no image) has loop devices: $line"

        step "disk_max below the use, or none: refused"
        dk_set "$a" disk_max=16M
        ((RC != 0)) || fail "disk_max=16M below what $a holds was taken"
        [[ $ERR == *"raise disk_max"* ]] || fail "the refusal does not say what to do: $ERR"
        dk_set "$a" disk_max=infinity
        ((RC != 0)) || fail "disk_max=infinity with an image was taken"
        [[ $ERR == *"disk image"* ]] || fail "the refusal does not name the image: $ERR"

        step "the limit survives a restart of the server"
        ins_call root "$a" Restart
        expect_ok "Restart $a"
        wait_until 30 ins_state_is "$a" running || fail "$a is not running again after Restart"
        dk_server_sh "$a" "rm -f fill"
        expect_ok "rm fill"
        dk_expect_limited "$a" fill

        step "... and of the daemon"
        capture in_container systemctl restart left4me.service
        expect_ok "systemctl restart left4me"
        reset_start_limit
        daemon_up
        ins_call root "$a" Stop
        expect_ok "Stop $a"
        ins_wait_state "$a" stopped
        [[ -z $(dk_mount_line "$a") ]] || fail "runtime/$a/disk is still mounted after Stop"
        wait_until 10 dk_no_loop_for "$a" || fail "a loop device still holds $img: $(in_container losetup -j "$img")"
        ins_call root "$a" Start
        expect_ok "Start $a after the daemon's restart"
        ins_wait_state "$a" running
        dk_server_sh "$a" "rm -f fill"
        dk_expect_limited "$a" fill

        step "disk_max=64M: the content stays, more fits"
        ins_call root "$a" Stop
        expect_ok "Stop $a"
        ins_wait_state "$a" stopped
        dk_set "$a" disk_max=64M
        expect_ok "l4mctl instance set $a disk_max=64M"
        ins_call root "$a" Start
        expect_ok "Start $a (disk_max=64M)"
        ins_wait_state "$a" running
        assert_eq 67108864 "$(in_container stat -c %s "$img")" "size of disk.img"
        dk_server_sh "$a" "cat keep/file.txt; stat -c %s fill"
        expect_ok "the content after growing"
        assert_eq "kept $DK_SIZE" "$(paste -sd ' ' <<<"$OUT")" "keep/file.txt and fill after growing"
        dk_fill "$a" more 24
        assert_eq 0 "$DK_RC" "dd's status after growing ($DK_ERR)"
        assert_eq $((24 * DK_MIB)) "$DK_SIZE" "what $a wrote after growing"
        in_container journalctl --no-pager -o cat -u left4me.service | grep -q "resized its disk image" ||
                fail "the daemon did not log the resize"

        ins_call root "$a" Stop
        expect_ok "Stop $a"
        ins_wait_state "$a" stopped
        wait_until 10 dk_no_loop_for "$a" || fail "a loop device still holds $img after Stop"
}
l4m_test instance-disk test_disk_max 420
