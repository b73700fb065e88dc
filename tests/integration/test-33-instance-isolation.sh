# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Instances kept apart by uid: two instances of two owners run at once as
# uids of their own; a process with one's uid, in its mount namespace,
# cannot read the other's server.cfg through /proc/<pid>/root, list its
# upper/, signal it, trace it or use its RCON with its own password (each
# shown first to work with the other's uid, so that the test can fail).
# A squatter on an instance's port never gets an RCON password: Start is
# refused while it holds the port, and while the server runs without TCP
# the daemon refuses to authenticate to the squatter's socket (the peer
# check itself). Files of another uid (left4me-game, as before uids) are
# handed over at the next start without following links, and a uid whose
# files remain in a tree being removed is not given out again. A server's
# uid, with the game group it is given, writes into the installation's
# directories and files in its own stack; the changes land in its upper/
# alone.

# The helpers of the instance tests (ins_setup, ins_create, ...).
iso_helpers() {
        # shellcheck source=test-23-instances.sh
        source "$L4M_SRCDIR/tests/integration/test-23-instances.sh"
}

# Where mallory may read it and write what it got.
ISO_DIR=/var/tmp/l4m-iso
ISO_SQUATTER=$ISO_DIR/iso-squatter.py
# Run inside servers' namespaces, whose /var/tmp is private.
ISO_RCON=$L4M_TOOLS/iso-rcon.py
# What the squatter (mallory) records.
ISO_SQUAT=$ISO_DIR/squat/got

# The test tools: a squatter that listens on 127.0.0.1:PORT (TCP) and
# records every connection and every byte it receives, and an RCON client
# that authenticates with the password in a server.cfg.
iso_tools() {
        in_container sh -ec "mkdir -p '$ISO_DIR/squat' '$L4M_TOOLS' && chmod 0755 '$ISO_DIR' && chown mallory '$ISO_DIR/squat'"
        cat >"$CTR_DIR/root$ISO_SQUATTER" <<'PY'
import socket, sys, threading
port, log = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
# As the daemon's own port check: a connection of an earlier server on
# the port in TIME_WAIT does not hold it, a listener does.
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(8)
open(log + ".ready", "w").close()
def serve(c):
    with c:
        while True:
            b = c.recv(4096)
            if not b:
                return
            with open(log, "ab") as f:
                f.write(b)
while True:
    c, _ = s.accept()
    with open(log + ".connections", "a") as f:
        f.write("connection\n")
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
        cat >"$CTR_DIR/root$ISO_RCON" <<'PY'
import socket, struct, sys
port, cfg = int(sys.argv[1]), sys.argv[2]
pw = None
for line in open(cfg, encoding="utf-8"):
    if line.startswith("rcon_password "):
        pw = line.split('"')[1]
s = socket.create_connection(("127.0.0.1", port), timeout=5)
body = pw.encode() + b"\0\0"
s.sendall(struct.pack("<iii", len(body) + 8, 7, 3) + body)
buf = b""
while True:
    while len(buf) < 4 or len(buf) < 4 + struct.unpack("<i", buf[:4])[0]:
        d = s.recv(4096)
        if not d:
            print("closed"); sys.exit(1)
        buf += d
    size, rid, rtype = struct.unpack("<iii", buf[:12])
    buf = buf[4 + size:]
    if rtype == 2:
        print("authenticated" if rid == 7 else "refused")
        sys.exit(0 if rid == 7 else 1)
PY
        chmod 0755 "$CTR_DIR/root$ISO_SQUATTER" "$CTR_DIR/root$ISO_RCON"
}

# iso_pid NAME: the MainPID of instance NAME.
iso_pid() {
        ins_prop "$1" MainPID
}

# iso_as UID NAME CMD...: runs CMD with uid and gid UID (no other groups) in
# the mount namespace of instance NAME's server; NAME "-" for the
# container's own. Sets RC, OUT, ERR.
iso_as() {
        local uid=$1 name=$2 ns=()
        shift 2
        [[ $name == - ]] || ns=(nsenter -t "$(iso_pid "$name")" -m --)
        capture in_container "${ns[@]}" setpriv --reuid="$uid" --regid="$uid" --clear-groups -- "$@"
}

# iso_as_server NAME CMD...: runs CMD as instance NAME's server does (its
# uid, gid and supplementary groups) in its mount namespace. Sets RC, OUT,
# ERR.
iso_as_server() {
        local name=$1 pid groups uid opt=(--clear-groups)
        shift
        pid=$(iso_pid "$name")
        uid=$(ins_prop "$name" UID)
        groups=$(in_container awk '/^Groups:/ { $1 = ""; sub(/^ +/, ""); gsub(/ +/, ","); print }' "/proc/$pid/status")
        [[ -z $groups ]] || opt=(--groups="$groups")
        capture in_container nsenter -t "$pid" -m -- setpriv --reuid="$uid" --regid="$uid" "${opt[@]}" -- "$@"
}

# iso_uid_of_pid PID: the uids of PID (real, effective, saved, fs).
iso_uid_of_pid() {
        in_container awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$1/status"
}

iso_remove_all() {
        ins_remove iso-a
        ins_remove iso-b
        ins_remove iso-sq
        ins_remove iso-hand
        in_container systemctl stop iso-squatter.service 2>/dev/null || true
        in_container systemctl reset-failed iso-squatter.service 2>/dev/null || true
        in_container rm -rf "$L4M_RUNTIME/.trash-iso-held-0000beef"
}

# iso_blueprints: iso-ov (an overlay of root's), blueprints iso-alice-bp and
# iso-bob-bp of alice and bob over it, and iso-norcon-bp (root's, the fake
# server without TCP).
iso_blueprints() {
        local owner bp
        ins_overlay iso-ov 'mkdir -p left4dead2/addons && echo iso > left4dead2/addons/iso.vpk' >/dev/null
        for owner in alice bob; do
                bp=iso-$owner-bp
                gcall root "$L4M_MANAGER" org.left4me.Manager.GetBlueprint "$(gv_str "$bp")"
                if ((RC != 0)); then
                        gcall "$owner" "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "$(gv_str "$bp")" "['iso-ov']" '@a{sv} {}'
                        expect_ok "$owner creates $bp"
                fi
        done
        ins_delete_blueprint iso-norcon-bp
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "'iso-norcon-bp'" "['iso-ov']" \
                "{'launch_args': <['-fake_no_rcon']>}"
        expect_ok "create iso-norcon-bp"
}

# iso_begin: what every case starts with: the fixtures and tools, no
# instance of an earlier run, the blueprints; the instances go at the end.
iso_begin() {
        trap 'iso_remove_all' EXIT
        iso_helpers
        ins_setup
        iso_tools
        iso_remove_all
        iso_blueprints
}

# iso_start_two: alice's iso-a and bob's iso-b created, started and
# serving; sets the caller's ua and ub to their uids.
iso_start_two() {
        ins_create alice iso-a iso-alice-bp
        expect_ok "alice creates iso-a"
        ins_create bob iso-b iso-bob-bp
        expect_ok "bob creates iso-b"
        ins_call alice iso-a Start
        expect_ok "alice starts iso-a"
        ins_call bob iso-b Start
        expect_ok "bob starts iso-b"
        ins_wait_state iso-a running
        ins_wait_state iso-b running
        wait_until 20 ins_journal_has iso-a "fake srcds: ready" || fail "iso-a never got ready"
        wait_until 20 ins_journal_has iso-b "fake srcds: ready" || fail "iso-b never got ready"
        ua=$(ins_prop iso-a UID)
        ub=$(ins_prop iso-b UID)
}

test_iso_two() {
        local ua ub pa pb pid_a pid_b cfg_b upper_b st
        iso_begin

        step "two instances of two owners, two uids"
        iso_start_two
        note "uids: iso-a $ua, iso-b $ub"
        ((ua >= 60600 && ua <= 61099 && ub >= 60600 && ub <= 61099)) || fail "uids outside 60600-61099: $ua, $ub"
        ((ua != ub)) || fail "both instances have uid $ua"
        assert_eq "$ua" "$(sql "SELECT uid FROM instances WHERE name = 'iso-a';")" "iso-a's stored uid"
        assert_eq "$ua" "$(in_container systemctl show -P User left4me-server-iso-a.service)" "User of iso-a's unit"
        assert_eq "$ub" "$(in_container systemctl show -P Group left4me-server-iso-b.service)" "Group of iso-b's unit"
        pid_a=$(iso_pid iso-a)
        pid_b=$(iso_pid iso-b)
        assert_eq "$ua $ua $ua $ua" "$(iso_uid_of_pid "$pid_a")" "uids of iso-a's server (/proc/$pid_a/status)"
        assert_eq "$ub $ub $ub $ub" "$(iso_uid_of_pid "$pid_b")" "uids of iso-b's server (/proc/$pid_b/status)"
        capture in_container l4mctl instance show iso-a
        expect_ok "l4mctl instance show iso-a"
        grep -Eq "^ *UID: +$ua\$" <<<"$OUT" || fail "instance show does not say UID $ua: $OUT"
        # What the server may write is its uid's; its config root's, its group's to read.
        # (in its disk image, mounted while it runs, with the default disk_max)
        upper_b=$(ins_upper iso-b)
        assert_eq "700 $ub $ub" "$(in_container stat -c '%a %u %g' "$upper_b")" "iso-b's upper/"
        assert_eq "700 $ub $ub" "$(in_container stat -c '%a %u %g' "${upper_b%/upper}/work")" "iso-b's work/"
        iso_as "$ub" iso-b sh -c "echo x > '$L4M_RUNTIME/iso-b/merged/left4dead2/iso-probe.txt'"
        expect_ok "iso-b's uid writes into its stack"
        assert_eq "$ub $ub" "$(in_container stat -c '%u %g' "$upper_b/left4dead2/iso-probe.txt")" "owner of what iso-b's uid wrote"
        assert_eq "640 0 $ub" "$(in_container stat -c '%a %u %g' "$L4M_RUNTIME/iso-b/config/left4dead2/cfg/server.cfg")" "iso-b's server.cfg"
        st=$(in_container systemd-analyze security --no-pager left4me-server-iso-a.service 2>&1 | tail -n 1 || true)
        note "systemd-analyze security left4me-server-iso-a.service: $st"
        st=$(grep -Eo '[0-9]+\.[0-9]+' <<<"$st" | head -n 1)
        awk -v e="$st" 'BEGIN { exit !(e != "" && e <= 1.7) }' || fail "exposure of the server unit is $st, above 1.7"

        cfg_b=/proc/$pid_b/root$L4M_RUNTIME/iso-b/merged/left4dead2/cfg/server.cfg
        step "read B's server.cfg through /proc/<B>/root"
        iso_as "$ub" iso-a cat "$cfg_b"
        expect_ok "B's uid (in A's namespace) reads $cfg_b"
        [[ $OUT == *rcon_password* ]] || fail "what B's uid read is not the server.cfg: $OUT"
        iso_as "$ua" iso-a cat "$cfg_b"
        ((RC != 0)) || fail "A's uid read B's server.cfg through /proc/$pid_b/root: $OUT"
        iso_as "$ua" - cat "$cfg_b"
        ((RC != 0)) || fail "A's uid (in the container's namespace) read B's server.cfg: $OUT"

        step "list B's upper/"
        iso_as "$ub" - ls "$upper_b"
        expect_ok "B's uid lists $upper_b"
        [[ $OUT == *left4dead2* ]] || fail "B's upper/ as B's uid lists: $OUT"
        iso_as "$ua" - ls "$upper_b"
        ((RC != 0)) || fail "A's uid lists B's upper/: $OUT"
        iso_as "$ua" iso-a ls "$upper_b"
        ((RC != 0)) || fail "A's uid (in A's namespace) lists B's upper/: $OUT"

        step "signal B"
        iso_as "$ub" iso-a kill -0 "$pid_b"
        expect_ok "B's uid signals B (kill -0)"
        iso_as "$ub" iso-a kill -CONT "$pid_b"
        expect_ok "B's uid sends B SIGCONT"
        iso_as "$ua" iso-a kill -0 "$pid_b"
        ((RC != 0)) || fail "A's uid may signal B (kill -0)"
        iso_as "$ua" iso-a kill -STOP "$pid_b"
        ((RC != 0)) || fail "A's uid stopped B (kill -STOP)"
        [[ $(in_container awk '/^State:/ { print $2 }' "/proc/$pid_b/status") != T ]] || fail "B is stopped"

        step "ptrace B"
        iso_as "$ub" iso-a "$L4M_PY" -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
pid = int(sys.argv[1])
if libc.ptrace(16, pid, None, None) != 0:
    print("attach: " + os.strerror(ctypes.get_errno())); sys.exit(1)
os.waitpid(pid, 0)
libc.ptrace(17, pid, None, None)
print("attached")' "$pid_b"
        expect_ok "B's uid attaches to B with ptrace ($OUT)"
        iso_as "$ua" iso-a "$L4M_PY" -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
pid = int(sys.argv[1])
if libc.ptrace(16, pid, None, None) != 0:
    print("attach: " + os.strerror(ctypes.get_errno())); sys.exit(1)
os.waitpid(pid, 0)
libc.ptrace(17, pid, None, None)
print("attached")' "$pid_b"
        ((RC != 0)) || fail "A's uid attached to B with ptrace"
        [[ $OUT == *"Operation not permitted"* ]] || fail "ptrace of B by A's uid failed otherwise: $OUT"

        step "B's RCON with A's password"
        pa=$(ins_prop iso-a Port)
        pb=$(ins_prop iso-b Port)
        iso_as "$ub" iso-b "$L4M_PY" "$ISO_RCON" "$pb" "$L4M_RUNTIME/iso-b/merged/left4dead2/cfg/server.cfg"
        expect_ok "B's uid authenticates to B's RCON with B's password ($OUT)"
        iso_as "$ua" iso-a "$L4M_PY" "$ISO_RCON" "$pa" "$L4M_RUNTIME/iso-a/merged/left4dead2/cfg/server.cfg"
        expect_ok "A's uid authenticates to A's RCON with A's password ($OUT)"
        iso_as "$ua" iso-a "$L4M_PY" "$ISO_RCON" "$pb" "$L4M_RUNTIME/iso-a/merged/left4dead2/cfg/server.cfg"
        ((RC != 0)) || fail "A's password opened B's RCON"
        assert_eq refused "$OUT" "B's RCON with A's password"

        # The daemon's own RCON still reaches both.
        wait_until 15 ins_rcon_ok iso-a || fail "RCON of iso-a: $ERR"
        wait_until 15 ins_rcon_ok iso-b || fail "RCON of iso-b: $ERR"
}
l4m_test instance-isolation test_iso_two 300

# iso_squat PORT: mallory listens on 127.0.0.1:PORT (TCP), recording into
# $ISO_SQUAT.
iso_squat() {
        in_container rm -f "$ISO_SQUAT" "$ISO_SQUAT.ready" "$ISO_SQUAT.connections"
        in_container systemd-run --unit=iso-squatter --service-type=exec -p User=mallory "$L4M_PY" "$ISO_SQUATTER" "$1" "$ISO_SQUAT"
        wait_until 10 in_container test -e "$ISO_SQUAT.ready" ||
                fail "the squatter did not listen: $(in_container journalctl --no-pager -o cat -u iso-squatter.service | tail -n 5 | paste -sd '|')"
}

iso_squat_got_nothing() {
        local got
        got=$(in_container sh -c "od -An -c '$ISO_SQUAT' 2>/dev/null | head -c 400" || true)
        [[ -z $got ]] || fail "the squatter received: $got"
}

test_iso_squatter() {
        local port out
        iso_begin

        step "a squatter on the port before the start"
        ins_create root iso-sq iso-norcon-bp
        expect_ok "create iso-sq"
        port=$(ins_prop iso-sq Port)
        iso_squat "$port"
        ins_call root iso-sq Start
        expect_dbus_error org.left4me.Error.Busy "Start while mallory holds port $port"
        [[ $ERR == *"Port $port is in use"* ]] || fail "the refusal does not name the port: $ERR"
        iso_squat_got_nothing
        in_container systemctl stop iso-squatter.service

        step "a squatter on the TCP port of a server without RCON"
        ins_call root iso-sq Start
        expect_ok "Start iso-sq (no squatter)"
        ins_wait_state iso-sq running
        wait_until 20 ins_journal_has iso-sq "fake srcds: no RCON" || fail "iso-sq's server did not close its TCP port"
        in_container systemctl reset-failed iso-squatter.service 2>/dev/null || true
        iso_squat "$port"
        capture in_container l4mctl instance rcon iso-sq status
        ((RC != 0)) || fail "l4mctl instance rcon to the squatter succeeded: $OUT"
        note "l4mctl instance rcon with a squatter: $ERR"
        [[ $ERR == *"RCON refused"* && $ERR == *"127.0.0.1:$port"* && $ERR == *"iso-sq"* ]] ||
                fail "the refusal does not say why: $ERR"
        [[ $ERR == *"belongs to uid $(in_container id -u mallory)"* ]] || fail "the refusal does not name mallory's uid: $ERR"
        # The daemon did connect (so the check, not chance, kept the password).
        [[ $(in_container cat "$ISO_SQUAT.connections" 2>/dev/null) == *connection* ]] ||
                fail "the daemon never connected to the squatter"
        iso_squat_got_nothing
        out=$(ins_journal iso-sq | grep -c 'rcon:' || true)
        assert_eq 0 "$out" "RCON commands the server got"
        in_container systemctl stop iso-squatter.service
}
l4m_test instance-squatter test_iso_squatter 240

test_iso_handover() {
        local u held next got
        iso_begin

        step "a uid whose files remain is not given out"
        ins_create root iso-hand iso-alice-bp
        expect_ok "create iso-hand"
        u=$(ins_prop iso-hand UID)
        ins_call root iso-hand Delete
        expect_ok "delete iso-hand"
        # The lowest free uid now; leave a tree of it being removed.
        held=$u
        in_container sh -ec "mkdir -p '$L4M_RUNTIME/.trash-iso-held-0000beef/upper/d' &&
                chown -R $held:$held '$L4M_RUNTIME/.trash-iso-held-0000beef/upper'"
        ins_create root iso-hand iso-alice-bp
        expect_ok "create iso-hand again"
        # Plain upper/ and work/ (no disk image): what instances of before
        # uids have, and what is handed over.
        ins_call root iso-hand SetLimits "{'disk_max': <'infinity'>}"
        expect_ok "iso-hand without a disk_max"
        next=$(ins_prop iso-hand UID)
        ((next != held)) || fail "uid $held was given out while runtime/.trash-iso-held-0000beef/upper is its"
        in_container rm -rf "$L4M_RUNTIME/.trash-iso-held-0000beef"
        u=$next

        step "files of left4me-game are handed over at the next start"
        ins_call root iso-hand Start
        expect_ok "Start iso-hand"
        ins_wait_state iso-hand running
        ins_call root iso-hand Stop
        expect_ok "Stop iso-hand"
        ins_wait_state iso-hand stopped
        # As before uids: the game user's, with a link it planted to a
        # file elsewhere, and root's copy-up that must stay root's.
        in_container sh -ec "
                cd '$L4M_RUNTIME/iso-hand'
                mkdir -p upper/left4dead2/deep/er
                echo x > upper/left4dead2/deep/er/f
                echo root > upper/left4dead2/rootfile
                echo t > /var/tmp/iso-target && chown root:root /var/tmp/iso-target
                ln -sfn /var/tmp/iso-target upper/left4dead2/deep/link
                chown -R $L4M_GAME_USER:$L4M_GAME_USER upper work
                chown root:root upper/left4dead2/rootfile
                chmod 0755 upper work"
        # The row of before uids, too: uid 0 until the daemon gives one.
        daemon_stop
        in_container sqlite3 "$L4M_DB" "UPDATE instances SET uid = 0 WHERE name = 'iso-hand';"
        daemon_up
        wait_until 10 ins_state_is iso-hand stopped || fail "iso-hand after the restart: $(ins_prop iso-hand State)"
        u=$(ins_prop iso-hand UID)
        ((u >= 60600 && u <= 61099)) || fail "the row without a uid got $u"
        ins_call root iso-hand Start
        expect_ok "Start iso-hand (handover)"
        ins_wait_state iso-hand running
        got=$(in_container sh -c "cd '$L4M_RUNTIME/iso-hand' && stat -c '%n %u %g' upper work upper/left4dead2/deep upper/left4dead2/deep/er/f upper/left4dead2/rootfile && stat -c '%n %u' upper/left4dead2/deep/link /var/tmp/iso-target")
        assert_eq "upper $u $u
work $u $u
upper/left4dead2/deep $u $u
upper/left4dead2/deep/er/f $u $u
upper/left4dead2/rootfile 0 0
upper/left4dead2/deep/link $u
/var/tmp/iso-target 0" "$got" "owners after the handover"
        in_container rm -f /var/tmp/iso-target
        assert_eq "$u $u $u $u" "$(iso_uid_of_pid "$(iso_pid iso-hand)")" "uids of iso-hand's server"
}
l4m_test instance-uid-handover test_iso_handover 240

# What is not group-writable in the installation (directories and files).
iso_installation_not_gw() {
        in_container find "$L4M_STATE/installation" \( -type d -o -type f \) ! -perm -g+w
}

iso_installation_gw() {
        [[ -z $(iso_installation_not_gw) ]]
}

test_iso_game_dirs() {
        local ua ub ma mb upper_a upper_b game_gid got inst_before
        iso_begin

        step "an installation of before (0755/0644) is made group-writable at the daemon's start"
        in_container sh -ec "cd '$L4M_STATE/installation' && chmod 0755 . && find . -type d -exec chmod 0755 {} + &&
                find . -type f -exec chmod go-w {} +"
        [[ -n $(iso_installation_not_gw) ]] || fail "the installation is group-writable before the test"
        daemon_stop
        daemon_up
        wait_until 20 iso_installation_gw || fail "not group-writable after the daemon's start: $(iso_installation_not_gw | head -n 5 | paste -sd ' ')"
        game_gid=$(in_container getent group "$L4M_GAME_USER" | cut -d: -f3)
        assert_eq "775 $L4M_GAME_USER $L4M_GAME_USER" "$(in_container stat -c '%a %U %G' "$L4M_STATE/installation/left4dead2/cfg")" \
                "mode and owner of installation/left4dead2/cfg"
        assert_eq "664" "$(in_container stat -c '%a' "$L4M_STATE/installation/left4dead2/addons/base.vpk")" \
                "mode of installation/left4dead2/addons/base.vpk"

        step "two servers with the game group"
        iso_start_two
        got=$(in_container awk '/^Groups:/ { $1 = ""; print }' "/proc/$(iso_pid iso-a)/status")
        [[ " $got " == *" $game_gid "* ]] || fail "iso-a's server is not in group $L4M_GAME_USER ($game_gid): Groups:$got"
        assert_eq "$ua $ua $ua $ua" "$(iso_uid_of_pid "$(iso_pid iso-a)")" "uids of iso-a's server"

        ma=$L4M_RUNTIME/iso-a/merged
        mb=$L4M_RUNTIME/iso-b/merged
        upper_a=$(ins_upper iso-a)
        upper_b=$(ins_upper iso-b)
        # What earlier tests left in the installation (its logs/, say) is
        # not the server's doing: compare with what is there now.
        inst_before=$(in_container sh -c "cd '$L4M_STATE/installation/left4dead2' && find . | sort")
        step "iso-a's server creates files in the installation's directories"
        iso_as_server iso-a sh -ec "echo 'banid 0 STEAM_1:0:1' > '$ma/left4dead2/cfg/banned_user.cfg'
                mkdir -p '$ma/left4dead2/logs' '$ma/left4dead2/downloads' && echo log > '$ma/left4dead2/logs/L0001.log'"
        expect_ok "iso-a's server creates left4dead2/cfg/banned_user.cfg, logs/ and downloads/ ($ERR)"
        # maps/ is the installation's alone (no overlay, no config layer):
        # its mode and group decide.
        iso_as_server iso-a sh -ec "echo nav > '$ma/left4dead2/maps/c1m1_hotel.nav'"
        expect_ok "iso-a's server creates left4dead2/maps/c1m1_hotel.nav in the installation's maps/ ($ERR)"
        step "iso-a's server changes a file of the installation"
        iso_as_server iso-a sh -ec "echo changed >> '$ma/left4dead2/addons/base.vpk'"
        expect_ok "iso-a's server appends to left4dead2/addons/base.vpk ($ERR)"
        iso_as_server iso-a cat "$ma/left4dead2/addons/base.vpk"
        assert_eq "base
changed" "$OUT" "base.vpk as iso-a's server reads it"

        step "the changes are in iso-a's upper/ alone"
        assert_eq "base
changed" "$(in_container cat "$upper_a/left4dead2/addons/base.vpk")" "iso-a's upper/left4dead2/addons/base.vpk"
        assert_eq "$ua" "$(in_container stat -c '%u' "$upper_a/left4dead2/cfg/banned_user.cfg")" "owner of iso-a's banned_user.cfg"
        in_container test -f "$upper_a/left4dead2/logs/L0001.log" || fail "no logs/L0001.log in iso-a's upper/"
        in_container test -f "$upper_a/left4dead2/maps/c1m1_hotel.nav" || fail "no maps/c1m1_hotel.nav in iso-a's upper/"
        note "copied up into iso-a's upper/: $(in_container stat -c '%n %a %U:%G' "$upper_a/left4dead2/cfg" "$upper_a/left4dead2/addons/base.vpk" | paste -sd ',')"
        assert_eq base "$(in_container cat "$L4M_STATE/installation/left4dead2/addons/base.vpk")" "the installation's base.vpk"
        got=$(in_container sh -c "cd '$L4M_STATE/installation/left4dead2' && ls -d cfg/banned_user.cfg maps/c1m1_hotel.nav logs/L0001.log 2>/dev/null" || true)
        assert_eq "" "$got" "what iso-a's server made, in the installation"
        assert_eq "$inst_before" "$(in_container sh -c "cd '$L4M_STATE/installation/left4dead2' && find . | sort")" \
                "the installation's tree after iso-a's writes"
        iso_as_server iso-b sh -c "cat '$mb/left4dead2/addons/base.vpk'; ls -A '$mb/left4dead2/cfg'"
        expect_ok "iso-b's server looks at its stack"
        assert_eq "base
server.cfg" "$OUT" "base.vpk and cfg/ of iso-b's stack"
        in_container test ! -e "$upper_b/left4dead2/cfg/banned_user.cfg" || fail "iso-a's banned_user.cfg is in iso-b's upper/"

        step "the shared group does not open iso-a's files to iso-b"
        iso_as_server iso-b ls "$upper_a"
        ((RC != 0)) || fail "iso-b's server lists iso-a's upper/: $OUT"
        iso_as_server iso-b cat "/proc/$(iso_pid iso-a)/root$ma/left4dead2/cfg/banned_user.cfg"
        ((RC != 0)) || fail "iso-b's server reads iso-a's banned_user.cfg through /proc/<pid>/root: $OUT"
        iso_as_server iso-b sh -c "echo x > '$L4M_STATE/installation/left4dead2/cfg/x'"
        ((RC != 0)) || fail "iso-b's server writes into the installation itself"
        in_container test ! -e "$L4M_STATE/installation/left4dead2/cfg/x" || fail "installation/left4dead2/cfg/x exists"
}
l4m_test instance-writes-game-dirs test_iso_game_dirs 300
