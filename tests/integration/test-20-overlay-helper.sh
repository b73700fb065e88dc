# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# left4me-overlay, the root helper that mounts an instance's overlayfs
# stack (run here by hand as root, as systemd will run it): layer order,
# writes landing in upper/, idempotent umount and re-mount, 100 layers on
# the new mount API and on the legacy mount(2) path, mount options, and
# refusals of tampered instance.env files and bad names (exit 1, one line,
# nothing mounted).

# ovh_fill OVERLAY-ID SHELL-COMMANDS: runs the commands as root in overlays/ID.
ovh_fill() {
        in_container sh -ec "cd '$L4M_OVERLAYS/$1' && $2"
}

# ovh_expect_options NAME: the mount at runtime/NAME/merged is overlayfs
# with nosuid, nodev and redirect_dir=nofollow, and without userxattr.
ovh_expect_options() {
        local line
        line=$(runtime_mounts "$1")
        [[ -n $line ]] || fail "nothing is mounted at runtime/$1/merged"
        [[ $(wc -l <<<"$line") == 1 ]] || fail "more than one mount at runtime/$1/merged: $line"
        step "mountinfo: ${line:0:400}"
        [[ " $line " == *" - overlay "* ]] || fail "not an overlayfs mount: $line"
        [[ $(cut -d' ' -f6 <<<"$line") == *nosuid* ]] || fail "mount without nosuid: $line"
        [[ $(cut -d' ' -f6 <<<"$line") == *nodev* ]] || fail "mount without nodev: $line"
        [[ $line == *,redirect_dir=nofollow* ]] || fail "mount without redirect_dir=nofollow: $line"
        [[ $line != *userxattr* ]] || fail "mount with userxattr: $line"
}

# ovh_expect_refused NAME TEXT WHAT: the last ovh_run exited 1 with one line
# on stderr containing TEXT, and nothing is mounted at runtime/NAME/merged.
ovh_expect_refused() {
        expect_exit 1 "$3"
        [[ $ERR == *"$2"* ]] || fail "$3: the message lacks '$2': $ERR"
        [[ $(wc -l <<<"$ERR") == 1 ]] || fail "$3: more than one line on stderr: $ERR"
        [[ -z $(runtime_mounts "$1") ]] || fail "$3: something got mounted: $(runtime_mounts "$1")"
        note "$3: $ERR"
}

# ovh_clean_installation: removes what these tests put into installation/
# (and the overlays ovh_three made); never fails.
ovh_clean_installation() {
        in_container sh -c "cd '$L4M_STATE/installation' && rm -f common.txt inst-only.txt layer.txt left4dead2/addons/base.vpk &&
                rmdir left4dead2/addons left4dead2" 2>/dev/null || true
        ovh_delete_overlays ovh3
}

# The three-layer stack of the first tests: A over B over C, then the
# config layer and the installation, all holding common.txt.
ovh_three() {
        local name=$1 ids a b c
        daemon_up
        ids=$(ovh_overlays ovh3 3)
        read -r a b c <<<"$(paste -sd ' ' <<<"$ids")"
        ovh_fill "$a" 'rm -rf ./* && mkdir -p left4dead2/addons && echo A > common.txt && echo A > left4dead2/addons/a.vpk && echo A > ab.txt'
        ovh_fill "$b" 'rm -rf ./* && mkdir -p left4dead2/addons && echo B > common.txt && echo B > left4dead2/addons/b.vpk && echo B > ab.txt && echo B > b-only.txt'
        ovh_fill "$c" 'rm -rf ./* && echo C > common.txt && echo C > c-only.txt'
        ovh_instance "$name"
        in_container sh -ec "cd '$L4M_RUNTIME/$name/config' && mkdir -p left4dead2/cfg &&
                echo 'hostname test' > left4dead2/cfg/server.cfg && echo CFG > common.txt"
        in_container sh -ec "cd '$L4M_STATE/installation' && mkdir -p left4dead2/addons &&
                echo INST > common.txt && echo INST > inst-only.txt && echo INST > left4dead2/addons/base.vpk"
        ovh_env "$name" "overlays/$a:overlays/$b:overlays/$c:runtime/$name/config:installation"
        OVH_A=$a OVH_B=$b OVH_C=$c
}

test_ovh_stack() {
        local name=ovh-stack m
        trap 'ovh_cleanup ovh-stack; ovh_clean_installation' EXIT
        ovh_three "$name"
        ovh_run mount "$name"
        expect_ok "mount $name"
        m=$L4M_RUNTIME/$name/merged
        assert_eq A "$(in_container cat "$m/common.txt")" "common.txt (in every layer: the top one's)"
        assert_eq A "$(in_container cat "$m/ab.txt")" "ab.txt (in A and B)"
        assert_eq B "$(in_container cat "$m/b-only.txt")" "b-only.txt"
        assert_eq C "$(in_container cat "$m/c-only.txt")" "c-only.txt"
        assert_eq "hostname test" "$(in_container cat "$m/left4dead2/cfg/server.cfg")" "server.cfg from the config layer"
        assert_eq INST "$(in_container cat "$m/inst-only.txt")" "inst-only.txt from the installation"
        assert_eq "a.vpk b.vpk base.vpk" "$(in_container ls "$m/left4dead2/addons" | paste -sd ' ')" \
                "addons/ merged from A, B and the installation"
        ovh_expect_options "$name"
        note "$ERR"
        ovh_run umount "$name"
        expect_ok "umount $name"
}
l4m_test overlay-helper-stack test_ovh_stack

test_ovh_writes() {
        local name=ovh-writes m u
        trap 'ovh_cleanup ovh-writes; ovh_clean_installation' EXIT
        ovh_three "$name"
        ovh_run mount "$name"
        expect_ok "mount $name"
        m=$L4M_RUNTIME/$name/merged
        u=$L4M_RUNTIME/$name/upper
        # The game user writes a new file; root changes and deletes lower ones.
        capture as_user "$L4M_GAME_USER" sh -c "echo new > '$m/new.txt' && mkdir -p '$m/logs' && echo log > '$m/logs/l.log'"
        expect_ok "$L4M_GAME_USER writes into merged/"
        in_container sh -ec "echo changed > '$m/common.txt' && rm '$m/c-only.txt' && echo more >> '$m/left4dead2/addons/b.vpk'"
        assert_eq new "$(in_container cat "$u/new.txt")" "upper/new.txt"
        assert_eq "$L4M_GAME_USER" "$(in_container stat -c %U "$u/new.txt")" "owner of upper/new.txt"
        assert_eq log "$(in_container cat "$u/logs/l.log")" "upper/logs/l.log"
        assert_eq changed "$(in_container cat "$u/common.txt")" "upper/common.txt (copied up)"
        assert_eq "B more" "$(in_container cat "$u/left4dead2/addons/b.vpk" | paste -sd ' ')" "upper/left4dead2/addons/b.vpk"
        [[ $(in_container stat -c %F "$u/c-only.txt") == "character special file" ]] ||
                fail "no whiteout for the deleted c-only.txt in upper/"
        assert_eq changed "$(in_container cat "$m/common.txt")" "merged/common.txt after the write"
        in_container test ! -e "$m/c-only.txt" || fail "c-only.txt still shows in merged/"
        # The lower layers did not change.
        assert_eq A "$(in_container cat "$L4M_OVERLAYS/$OVH_A/common.txt")" "overlays/A/common.txt"
        assert_eq C "$(in_container cat "$L4M_OVERLAYS/$OVH_C/c-only.txt")" "overlays/C/c-only.txt"
        assert_eq B "$(in_container cat "$L4M_OVERLAYS/$OVH_B/left4dead2/addons/b.vpk")" "overlays/B/…/b.vpk"
        in_container test ! -e "$L4M_OVERLAYS/$OVH_A/new.txt" || fail "new.txt reached overlays/A"
        # upper/ survives a remount.
        ovh_run umount "$name"
        expect_ok "umount $name"
        ovh_run mount "$name"
        expect_ok "mount $name again"
        assert_eq changed "$(in_container cat "$m/common.txt")" "merged/common.txt after a remount"
        ovh_run umount "$name"
        expect_ok "umount $name"
}
l4m_test overlay-helper-writes test_ovh_writes

test_ovh_umount() {
        local name=ovh-umount
        trap 'ovh_cleanup ovh-umount; ovh_clean_installation' EXIT
        ovh_three "$name"
        ovh_run mount "$name"
        expect_ok "mount $name"
        [[ -n $(runtime_mounts "$name") ]] || fail "nothing mounted after mount"
        # A second mount replaces the first: still exactly one mount.
        ovh_run mount "$name"
        expect_ok "mount $name a second time"
        [[ $ERR == *"stale mount"* ]] || fail "the second mount did not say it replaced the first: $ERR"
        ovh_expect_options "$name"
        ovh_run umount "$name"
        expect_ok "umount $name"
        [[ -z $(runtime_mounts) ]] || fail "left4me mounts remain after umount: $(runtime_mounts)"
        in_container test -d "$L4M_RUNTIME/$name/merged" || fail "merged/ is gone"
        ovh_run umount "$name"
        expect_ok "a second umount of $name"
        [[ $ERR == *"Nothing mounted"* ]] || fail "the second umount did not say nothing was mounted: $ERR"
        ovh_run umount ovh-never-made
        expect_ok "umount of an instance without runtime/"
        # Two mounts stacked by hand on merged/ are both taken off.
        in_container mount -t tmpfs ovh-extra "$L4M_RUNTIME/$name/merged"
        in_container mount -t tmpfs ovh-extra "$L4M_RUNTIME/$name/merged"
        ovh_run umount "$name"
        expect_ok "umount of two stacked mounts"
        [[ -z $(runtime_mounts) ]] || fail "mounts remain after umount: $(runtime_mounts)"
        # umount does not need (or trust) instance.env.
        in_container rm "$L4M_RUNTIME/$name/instance.env"
        ovh_run umount "$name"
        expect_ok "umount without instance.env"
}
l4m_test overlay-helper-umount test_ovh_umount

# ovh_hundred NAME API: 98 overlays + config + installation = 100 layers,
# mounted with --mount-api=API; each overlay i holds layer.txt ("i") and
# only-i.txt.
ovh_hundred() {
        local name=$1 api=$2 ids layers='' i=0 id m line t0 t1
        daemon_up
        ids=$(ovh_overlays ovh100 98)
        assert_eq 98 "$(wc -l <<<"$ids")" "number of overlays made"
        in_container sh -ec "i=0; for id in $(paste -sd ' ' <<<"$ids"); do
                d='$L4M_OVERLAYS'/\$id; rm -rf \"\$d\"/*; echo \$i > \"\$d/layer.txt\"; echo \$i > \"\$d/only-\$i.txt\"; i=\$((i + 1)); done"
        for id in $ids; do
                layers+="overlays/$id:"
        done
        ovh_instance "$name"
        in_container sh -ec "echo cfg > '$L4M_RUNTIME/$name/config/layer.txt' && echo inst > '$L4M_STATE/installation/layer.txt'"
        ovh_env "$name" "${layers}runtime/$name/config:installation"
        t0=$(date +%s%N)
        ovh_run --mount-api="$api" mount "$name"
        t1=$(date +%s%N)
        expect_ok "mount $name with 100 layers (--mount-api=$api)"
        note "$api: $ERR ($(((t1 - t0) / 1000000)) ms)"
        [[ $ERR == *"Mounted 100 layers"* ]] || fail "the helper did not report 100 layers: $ERR"
        m=$L4M_RUNTIME/$name/merged
        assert_eq 0 "$(in_container cat "$m/layer.txt")" "layer.txt (the top overlay's)"
        for i in 0 1 50 97; do
                assert_eq "$i" "$(in_container cat "$m/only-$i.txt")" "only-$i.txt"
        done
        assert_eq 98 "$(in_container sh -c "ls '$m' | grep -c '^only-'")" "only-*.txt files in merged/"
        ovh_expect_options "$name"
        line=$(runtime_mounts "$name")
        OVH_LINE=$line
}

test_ovh_hundred_new() {
        trap 'ovh_cleanup ovh-100-new; ovh_delete_overlays ovh100; ovh_clean_installation' EXIT
        ovh_hundred ovh-100-new new
        [[ $ERR == *"with the new mount API"* ]] || fail "not mounted with the new mount API: $ERR"
        assert_eq 100 "$(grep -o 'lowerdir+=' <<<"$OVH_LINE" | wc -l)" "lowerdir+= options in mountinfo"
        ovh_run umount ovh-100-new
        expect_ok "umount"
        [[ -z $(runtime_mounts) ]] || fail "mounts remain: $(runtime_mounts)"
}
l4m_test overlay-helper-100-layers-new-api test_ovh_hundred_new 180

test_ovh_hundred_legacy() {
        trap 'ovh_cleanup ovh-100-legacy; ovh_delete_overlays ovh100; ovh_clean_installation' EXIT
        ovh_hundred ovh-100-legacy legacy
        [[ $ERR == *"with mount(2) (legacy"* ]] || fail "not mounted on the legacy path: $ERR"
        # The option string holds the relative paths, as given.
        [[ $OVH_LINE == *" lowerdir=overlays/"*":runtime/ovh-100-legacy/config:installation,upperdir=runtime/ovh-100-legacy/upper,workdir=runtime/ovh-100-legacy/work"* ||
           $OVH_LINE == *",lowerdir=overlays/"*":runtime/ovh-100-legacy/config:installation,upperdir=runtime/ovh-100-legacy/upper,workdir=runtime/ovh-100-legacy/work"* ]] ||
                fail "mountinfo does not show the relative lowerdir= option: ${OVH_LINE:0:300}"
        [[ $OVH_LINE != *"lowerdir+="* ]] || fail "lowerdir+ in a legacy mount: ${OVH_LINE:0:300}"
        ovh_run umount ovh-100-legacy
        expect_ok "umount"
        [[ -z $(runtime_mounts) ]] || fail "mounts remain: $(runtime_mounts)"
}
l4m_test overlay-helper-100-layers-legacy test_ovh_hundred_legacy 180

# The default (auto) path on this kernel, and --mount-api= checks.
test_ovh_auto() {
        local name=ovh-auto
        trap 'ovh_cleanup ovh-auto; ovh_clean_installation' EXIT
        ovh_three "$name"
        ovh_run --mount-api=bogus mount "$name"
        ovh_expect_refused "$name" "--mount-api=" "--mount-api=bogus"
        ovh_run mount "$name"
        expect_ok "mount $name"
        note "uname -r $(in_container uname -r): $ERR"
        ovh_expect_options "$name"
        ovh_run umount "$name"
        expect_ok "umount"
}
l4m_test overlay-helper-auto test_ovh_auto

test_ovh_tampered() {
        local name=ovh-tamper d ok_layers etc_before
        trap 'ovh_cleanup ovh-tamper; ovh_clean_installation; in_container rm -rf "$L4M_OVERLAYS/999999" /var/tmp/ovh-env 2>/dev/null || true' EXIT
        ovh_three "$name"
        d=$L4M_RUNTIME/$name
        ok_layers="overlays/$OVH_A:runtime/$name/config:installation"
        etc_before=$(in_container ls -la /etc | md5sum)

        ovh_env "$name" "/etc:installation"
        ovh_run mount "$name"
        ovh_expect_refused "$name" "layer '/etc' is an absolute path" "LAYERS=/etc:installation"

        ovh_env "$name" "overlays/../../..:installation"
        ovh_run mount "$name"
        ovh_expect_refused "$name" "overlays/../../.." "LAYERS=overlays/../../..:installation"

        ovh_env "$name" "overlays/$OVH_A/../..:installation"
        ovh_run mount "$name"
        ovh_expect_refused "$name" "overlays/$OVH_A/../.." "LAYERS=overlays/ID/../..:installation"

        ovh_env "$name" "overlays/0$OVH_A:installation"
        ovh_run mount "$name"
        ovh_expect_refused "$name" "overlays/0$OVH_A" "a non-canonical overlay id"

        ovh_env "$name" "runtime/ovh-other/config:installation"
        ovh_run mount "$name"
        ovh_expect_refused "$name" "not this instance's config layer" "another instance's config layer"

        ovh_env "$name" "installation:overlays/$OVH_A"
        ovh_run mount "$name"
        ovh_expect_refused "$name" "not installation" "installation not last"

        # The config layer replaced by a symlink to /etc.
        ovh_env "$name" "$ok_layers"
        in_container sh -ec "mv '$d/config' '$d/config.real' && ln -s /etc '$d/config'"
        ovh_run mount "$name"
        ovh_expect_refused "$name" "runtime/$name/config: it is (or passes through) a symbolic link" "config/ a symlink to /etc"
        in_container sh -ec "rm '$d/config' && mv '$d/config.real' '$d/config'"

        # An overlays/<id> that is a symlink to /etc.
        in_container ln -s /etc "$L4M_OVERLAYS/999999"
        ovh_env "$name" "overlays/999999:installation"
        ovh_run mount "$name"
        ovh_expect_refused "$name" "overlays/999999: it is (or passes through) a symbolic link" "overlays/999999 a symlink to /etc"
        in_container rm "$L4M_OVERLAYS/999999"

        # upper/ a symlink.
        ovh_env "$name" "$ok_layers"
        in_container sh -ec "mv '$d/upper' '$d/upper.real' && ln -s upper.real '$d/upper'"
        ovh_run mount "$name"
        ovh_expect_refused "$name" "runtime/$name/upper: it is (or passes through) a symbolic link" "upper/ a symlink"
        in_container sh -ec "rm '$d/upper' && mv '$d/upper.real' '$d/upper'"

        # instance.env itself: group-writable, world-writable, not root's,
        # a symlink (to a file that would pass), a fifo, too big.
        ovh_env "$name" "$ok_layers" 0664
        ovh_run mount "$name"
        ovh_expect_refused "$name" "mode 0664: group- or world-writable" "a group-writable instance.env"
        ovh_env "$name" "$ok_layers" 0646
        ovh_run mount "$name"
        ovh_expect_refused "$name" "mode 0646" "a world-writable instance.env"
        ovh_env "$name" "$ok_layers"
        in_container chown "$L4M_GAME_USER" "$d/instance.env"
        ovh_run mount "$name"
        ovh_expect_refused "$name" "is owned by uid" "an instance.env owned by $L4M_GAME_USER"
        in_container sh -ec "printf 'NAME=$name\nLAYERS=$ok_layers\n' > /var/tmp/ovh-env && chmod 0644 /var/tmp/ovh-env &&
                rm '$d/instance.env' && ln -s /var/tmp/ovh-env '$d/instance.env'"
        ovh_run mount "$name"
        ovh_expect_refused "$name" "instance.env is a symbolic link" "a symlinked instance.env"
        in_container sh -ec "rm '$d/instance.env' && mkfifo -m 0644 '$d/instance.env'"
        ovh_run mount "$name"
        ovh_expect_refused "$name" "not a regular file" "a fifo as instance.env"
        in_container sh -ec "rm '$d/instance.env' && head -c 70000 /dev/zero | tr '\\0' '#' > '$d/instance.env'"
        ovh_run mount "$name"
        ovh_expect_refused "$name" "more than 65536" "a 70000-byte instance.env"
        in_container rm "$d/instance.env"
        ovh_run mount "$name"
        ovh_expect_refused "$name" "cannot open instance.env" "no instance.env"

        # Content: NAME mismatch, two LAYERS lines, CR.
        in_container sh -ec "printf 'NAME=ovh-other\nLAYERS=installation\n' > '$d/instance.env'"
        ovh_run mount "$name"
        ovh_expect_refused "$name" "NAME=ovh-other, but the instance is $name" "NAME mismatch"
        in_container sh -ec "printf 'NAME=$name\nLAYERS=installation\nLAYERS=/etc:installation\n' > '$d/instance.env'"
        ovh_run mount "$name"
        ovh_expect_refused "$name" "LAYERS appears twice" "two LAYERS lines"
        in_container sh -ec "printf 'NAME=$name\r\nLAYERS=installation\r\n' > '$d/instance.env'"
        ovh_run mount "$name"
        ovh_expect_refused "$name" "control byte 0x0d" "CRLF lines"

        # runtime/NAME not root's.
        ovh_env "$name" "$ok_layers"
        in_container chown "$L4M_GAME_USER" "$d"
        ovh_run mount "$name"
        ovh_expect_refused "$name" "Refusing runtime/$name: owned by uid" "runtime/NAME owned by $L4M_GAME_USER"
        in_container chown root "$d"

        # And after all that, the good file mounts.
        ovh_run mount "$name"
        expect_ok "mount with a good instance.env"
        ovh_run umount "$name"
        expect_ok "umount"
        [[ $(in_container ls -la /etc | md5sum) == "$etc_before" ]] || fail "/etc changed"
        [[ -z $(runtime_mounts) ]] || fail "mounts remain: $(runtime_mounts)"
}
l4m_test overlay-helper-tampered test_ovh_tampered

test_ovh_bad_names() {
        local n before
        before=$(in_container cat /proc/self/mountinfo | wc -l)
        for n in "../x" "A" "" "a/b" "-x" "x y" ".." "ovh-$(printf 'a%.0s' {1..60})"; do
                ovh_run mount "$n"
                expect_exit 1 "mount '$n'"
                [[ $ERR == *"Refusing instance name"* ]] || fail "mount '$n': $ERR"
                [[ $(wc -l <<<"$ERR") == 1 ]] || fail "mount '$n': more than one line: $ERR"
                ovh_run umount "$n"
                expect_exit 1 "umount '$n'"
                [[ $ERR == *"Refusing instance name"* ]] || fail "umount '$n': $ERR"
        done
        note "$ERR"
        ovh_run mount
        expect_exit 1 "no arguments"
        ovh_run remount ovh-x
        expect_exit 1 "an unknown verb"
        ovh_run mount a b
        expect_exit 1 "two names"
        assert_eq "$before" "$(in_container cat /proc/self/mountinfo | wc -l)" "number of mounts"
        # Not root: refused before anything is touched.
        capture as_user "$L4M_GAME_USER" "$L4M_OVERLAY_HELPER" umount ovh-x
        expect_exit 1 "umount as $L4M_GAME_USER"
        [[ $ERR == *"must run as root"* ]] || fail "as $L4M_GAME_USER: $ERR"
}
l4m_test overlay-helper-bad-names test_ovh_bad_names

# The new mount API with layers passed by path (what kernels 6.8 to 6.12,
# without lowerdir+ by file descriptor, get).
test_ovh_hundred_by_path() {
        trap 'ovh_cleanup ovh-100-path; ovh_delete_overlays ovh100; ovh_clean_installation' EXIT
        ovh_hundred ovh-100-path new-by-path
        [[ $ERR == *"with the new mount API (lowerdir+ by path)"* ]] || fail "not mounted with the new API by path: $ERR"
        assert_eq 100 "$(grep -o 'lowerdir+=' <<<"$OVH_LINE" | wc -l)" "lowerdir+= options in mountinfo"
        ovh_run umount ovh-100-path
        expect_ok "umount"
        [[ -z $(runtime_mounts) ]] || fail "mounts remain: $(runtime_mounts)"
}
l4m_test overlay-helper-100-layers-new-api-by-path test_ovh_hundred_by_path 180

# Started inside a private mount namespace (as systemd 252 starts a '+'
# command of a unit with TemporaryFileSystem=, BindPaths=, ProtectSystem=),
# the helper mounts and unmounts in PID 1's namespace all the same; one
# that may not join it (no CAP_SYS_ADMIN) says so and mounts nothing.
test_ovh_private_namespace() {
        local name=ovh-ns m
        trap 'ovh_cleanup ovh-ns; ovh_clean_installation' EXIT
        ovh_three "$name"
        m=$L4M_RUNTIME/$name/merged
        capture in_container unshare -m --propagation private "$L4M_OVERLAY_HELPER" mount "$name"
        expect_ok "mount $name from a private mount namespace"
        ovh_expect_options "$name"
        assert_eq A "$(in_container cat "$m/common.txt")" "merged/common.txt seen from PID 1's namespace"
        in_container findmnt -n "$m" >/dev/null || fail "findmnt in PID 1's namespace does not see $m"
        capture in_container unshare -m --propagation private "$L4M_OVERLAY_HELPER" umount "$name"
        expect_ok "umount $name from a private mount namespace"
        [[ $ERR == *"Unmounted runtime/$name/merged"* ]] || fail "the umount did not unmount in PID 1's namespace: $ERR"
        [[ -z $(runtime_mounts) ]] || fail "mounts remain after umount: $(runtime_mounts)"

        capture in_container unshare -m --propagation private setpriv --inh-caps=-sys_admin --bounding-set=-sys_admin \
                "$L4M_OVERLAY_HELPER" mount "$name"
        ovh_expect_refused "$name" "Cannot join PID 1's mount namespace" "mount without CAP_SYS_ADMIN in a private namespace"
}
l4m_test overlay-helper-private-namespace test_ovh_private_namespace
