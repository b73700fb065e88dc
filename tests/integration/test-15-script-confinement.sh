# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The script sandbox's walls: no reading the database, other overlays,
# homes or the state directory; no writing anywhere but /overlay and /tmp;
# no seeing the host's /tmp or other users' processes; no namespaces, mounts, bpf, ptrace,
# personality changes, keyrings, W+X memory, memfd_create, set-uid bits or
# programs run from /tmp or /overlay; no capabilities. Where a probe could
# succeed at all, the same probe run as root outside the sandbox shows that
# it does. And a script that opens its overlay to everyone (chmod 0777)
# opens it to nobody: overlays/ is root's alone.

L4M_SUID_ID=/usr/local/bin/l4m-suid-id

# json_get JSON EXPRESSION: json with d bound to JSON.
json_get() {
        json "$2" <<<"$1"
}

test_script_fs_confinement() {
        local other other_id bob_pid daemon_pid spec res d r name writes=() f spec_dir p
        sc_setup
        other=$(ensure_overlay alice sc-fs-other archive)
        other_id=$(id_of_path "$other")
        in_container sh -c "echo secret-of-another-overlay > '$L4M_OVERLAYS/$other_id/secret.txt' &&
                echo root-secret > /root/l4m-secret.txt && chmod 0644 /root/l4m-secret.txt &&
                echo alice-secret > /home/alice/l4m-secret.txt && chmod 0644 /home/alice/l4m-secret.txt &&
                echo host-tmp > /tmp/l4m-host-tmp-canary && chmod 0644 /tmp/l4m-host-tmp-canary"
        in_container systemctl stop l4m-test-bob-sleep.service >/dev/null 2>&1 || true
        capture in_container systemd-run --quiet --unit=l4m-test-bob-sleep --collect --uid=bob sleep 300
        expect_ok "a long-running process of bob's"
        bob_pid=$(in_container systemctl show -P MainPID l4m-test-bob-sleep.service)
        daemon_pid=$(unit_prop MainPID)
        ((bob_pid > 0 && daemon_pid > 0)) || fail "no pid for bob's sleep ($bob_pid) or left4med ($daemon_pid)"

        # Write probes: every directory that exists in the container.
        for d in / /etc /etc/left4me /usr /usr/bin /usr/local /usr/local/bin /var /var/tmp /var/lib \
                "$L4M_STATE" "$L4M_OVERLAYS" "$L4M_OVERLAYS/$other_id" "$L4M_JOBS" /run /run/left4me /run/dbus \
                /dev /dev/shm /dev/mqueue /home /home/alice /root /srv /opt /mnt /media /boot /sys/fs/cgroup; do
                if in_container test -d "$d"; then
                        writes+=("$d")
                fi
        done
        writes+=(/tmp /overlay)
        spec=$(python3 -c 'import json, sys; print(json.dumps({"read": sys.argv[1].split("\n"), "list": sys.argv[2].split("\n"),
                "write": sys.argv[3].split("\n"), "pids": [int(p) for p in sys.argv[4].split()]}))' \
                "$L4M_DB
$L4M_OVERLAYS/$other_id/secret.txt
/root/l4m-secret.txt
/home/alice/l4m-secret.txt
/tmp/l4m-host-tmp-canary
/etc/shadow
/etc/left4me/left4me.conf.d/40-script-net.conf
/proc/$bob_pid/cmdline
/proc/$daemon_pid/environ
/proc/1/cmdline" "/home
/root
/tmp
/var/lib
$L4M_STATE
$L4M_STATE/db
$L4M_OVERLAYS
$L4M_JOBS" "$(printf '%s\n' "${writes[@]}")" "$bob_pid $daemon_pid 1")
        name=l4m-sbx-probe-$RANDOM
        sc_run sc-fs 90 < <(sc_python_script "$(fs_probe_py)" "$spec" "$name")
        expect_job succeeded "the probing script"
        res=$(sc_result FS-RESULT)
        step "from the sandbox: $res"
        local -A R=()
        json_into R "$res"

        for f in $(json_get "$spec" "' '.join(d['read'])"); do
                r=${R[read|$f]-missing}
                [[ $r == fail:* ]] || fail "the sandbox read $f ($r)"
        done
        # A listing may be refused or show nothing secret.
        for spec_dir in "/home alice" "/root l4m-secret.txt" "/tmp l4m-host-tmp-canary" "/var/lib left4me" \
                "$L4M_STATE db" "$L4M_STATE overlays" "$L4M_STATE/db left4me.db" "$L4M_OVERLAYS $other_id" "$L4M_JOBS"; do
                d=${spec_dir%% *}
                r=${R[list|$d]-missing}
                [[ $r != missing ]] || fail "no listing of $d"
                [[ $r != fail:* ]] || continue
                if [[ $spec_dir == *" "* ]]; then
                        [[ $r != *"\"${spec_dir#* }\""* ]] || fail "the sandbox sees ${spec_dir#* } in $d: $r"
                else
                        assert_eq "[]" "$r" "what the sandbox sees in $d"
                fi
        done
        for d in "${writes[@]}"; do
                r=${R[write|$d]-missing}
                case $d in
                /tmp | /overlay)
                        assert_eq "file ok, directory ok" "$r" "the sandbox writing to $d" ;;
                *)
                        [[ $r != missing && $r != *" ok"* ]] || fail "the sandbox wrote to $d ($r)" ;;
                esac
        done
        # shellcheck disable=SC2016 # expanded by that sh
        r=$(in_container sh -c 'n=$1; shift; for d; do [ ! -e "$d/$n" ] || echo "$d/$n"; done' sh "$name" "${writes[@]}")
        [[ -z $r ]] || fail "what the script wrote is in the container: $r"
        # Processes: other users' are hidden, its own are not.
        assert_eq true "${R[own_pid_visible]-}" "the script sees its own pid in /proc"
        for p in "$bob_pid" "$daemon_pid" 1; do
                assert_eq hidden "${R[pids|$p]-}" "pid $p (bob's sleep $bob_pid, left4med $daemon_pid, init 1) in the sandbox's /proc"
        done
        for f in /proc/sys/kernel/hostname /proc/kallsyms; do
                r=${R[proc|$f]-missing}
                [[ $r == fail:* ]] || fail "the sandbox read $f ($r)"
        done
        note "the sandbox's /proc lists ${R[proc|pids_listed]} pid(s); /home: ${R[list|/home]}; /var/lib/left4me: ${R[list|$L4M_STATE]}"
        # What /overlay held went to the overlay.
        assert_eq "secret-of-another-overlay" "$(in_container cat "$L4M_OVERLAYS/$other_id/secret.txt")" "the other overlay's file"
        in_container systemctl stop l4m-test-bob-sleep.service || true
        in_container rm -f /root/l4m-secret.txt /home/alice/l4m-secret.txt /tmp/l4m-host-tmp-canary
}
l4m_test script-fs-confinement test_script_fs_confinement 120

test_script_syscalls() {
        local ctl res sandbox_uid l r fails=
        sc_setup
        in_container install -m 4755 -o root -g root /usr/bin/id "$L4M_SUID_ID"
        capture as_user bob "$L4M_SUID_ID" -u
        expect_ok "bob runs $L4M_SUID_ID"
        assert_eq 0 "$OUT" "the effective uid bob gets from the set-uid copy of id (the control)"

        # The control: root outside the sandbox can do all of it.
        capture in_container env OVERLAY="$TF_DIR" "$L4M_PY" -c "$(syscall_probe_py)" "$L4M_SUID_ID"
        expect_ok "the probe as root in the container"
        ctl=$(sc_result SYSCALL-RESULT "$OUT")
        local -A C=() R=()
        json_into C "$ctl"
        for l in unshare-user unshare-mount unshare-net unshare-command mount bpf ptrace-child personality \
                mmap-wx memfd_create chmod-suid exec-tmp exec-overlay chroot; do
                r=${C[$l]-missing}
                [[ $r == ok* ]] || fail "control: $l fails as root outside the sandbox ($r): the probe is broken"
        done
        note "outside (root): keyctl: ${C[keyctl]}, add_key: ${C[add_key]}"

        sc_run sc-syscalls 90 < <(sc_python_script "$(syscall_probe_py)" "$L4M_SUID_ID")
        expect_job succeeded "the probing script"
        res=$(sc_result SYSCALL-RESULT)
        step "from the sandbox: $res"
        json_into R "$res"
        for l in unshare-user unshare-mount unshare-net unshare-command mount umount-resolv.conf bpf ptrace-child \
                personality keyctl add_key mmap-wx memfd_create chmod-suid exec-tmp exec-overlay chroot setuid-0; do
                r=${R[$l]-missing}
                [[ $r == fail:* ]] || fail "$l works in the sandbox ($r)"
                fails+="$l ${r#fail: }, "
        done
        # Refused by the filter (SystemCallErrorNumber=EPERM), not merely failing.
        assert_eq "fail: EPERM" "${R[memfd_create]-}" "memfd_create in the sandbox"
        sandbox_uid=$(sc_run_uid "$JOB")
        sc_is_script_uid "$sandbox_uid" || fail "the job's log names no uid of the script range: '$sandbox_uid'"
        assert_eq "ok: euid $sandbox_uid" "${R[suid-id]-}" "the set-uid copy of id run in the sandbox"
        assert_eq "$sandbox_uid $sandbox_uid" "${R[uid]-}" "real and effective uid of the script"
        for l in CapInh CapPrm CapEff CapBnd CapAmb; do
                assert_eq 0000000000000000 "${R[status|$l]-}" "$l of the script"
        done
        assert_eq 1 "${R[status|NoNewPrivs]-}" "NoNewPrivs of the script"
        assert_eq 2 "${R[status|Seccomp]-}" "Seccomp mode of the script (filter)"
        note "in the sandbox: ${fails%, }"
        in_container rm -f "$L4M_SUID_ID"
}
l4m_test script-syscalls test_script_syscalls 120

# os_refused USER CMD...: CMD run as USER fails (sets RC, OUT, ERR: capture).
os_refused() {
        local user=$1
        shift
        capture as_user "$user" "$@"
        ((RC != 0)) || fail "$user could: $* ($OUT)"
}

test_script_overlays_private() {
        local ov pub u
        sc_setup
        # A failed check must not leave overlays/ open (the control opens it).
        trap 'in_container chmod 0700 "$L4M_OVERLAYS" || true; sc_cleanup' EXIT
        sc_run sc-open 60 <<'SH'
set -e
chmod 0777 /overlay
mkdir -p -m 0777 /overlay/pub
chmod 0777 /overlay/pub
echo "opened $(stat -c %a /overlay) $(stat -c %a /overlay/pub)"
SH
        expect_job succeeded "the script opening its overlay to everyone"
        expect_log "$JOB" "opened 777 777"
        ov=$L4M_OVERLAYS/$SC_ID
        pub=$ov/pub
        assert_eq "777 777" "$(in_container stat -c %a "$ov" "$pub" | paste -sd ' ')" "modes of the overlay and its pub/ in the container"
        assert_eq 700 "$(in_container stat -c %a "$L4M_OVERLAYS")" "mode of $L4M_OVERLAYS"
        for u in mallory bob; do
                os_refused "$u" sh -c "echo $u > '$pub/$u.txt'"
                os_refused "$u" mkdir "$pub/$u.d"
                os_refused "$u" ls "$L4M_OVERLAYS"
                os_refused "$u" ls "$pub"
        done
        assert_eq "" "$(in_container find "$pub" -mindepth 1 -printf '%P\n')" "what pub/ holds after mallory's and bob's attempts"

        # The control: with overlays/ at 0711 (as before) mallory gets in.
        in_container chmod 0711 "$L4M_OVERLAYS"
        capture as_user mallory sh -c "echo mallory > '$pub/mallory.txt'"
        expect_ok "mallory: a file in $pub with $L4M_OVERLAYS at 0711 (the control)"
        in_container rm -f "$pub/mallory.txt"
        # ... and left4me closes it again when it starts.
        capture in_container systemctl restart left4me.service
        expect_ok "systemctl restart left4me"
        reset_start_limit
        daemon_up
        assert_eq 700 "$(in_container stat -c %a "$L4M_OVERLAYS")" "mode of $L4M_OVERLAYS after left4me started with it at 0711"
        os_refused mallory sh -c "echo mallory > '$pub/mallory.txt'"
        delete_overlay root "$SC_PATH"
}
l4m_test script-overlays-private test_script_overlays_private
