# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Server instances: org.left4me.Manager.{List,Create,Get}Instance(s) and
# org.left4me.Instance on a fake installation whose srcds_run is
# tests/fixtures/fake-srcds.py. The overlayfs stack (top overlay wins,
# writes in upper/, nothing left mounted after Stop, 100 layers), the
# transient unit (hardening, crash restarts, a tampered instance.env), the
# state followed from systemd across daemon restarts, RCON and A2S, ports,
# names and owners, what a running instance keeps busy (the overlays it
# mounted, whatever its blueprint says now), autostart, Start right after
# CreateInstance, a fresh RCON password per start, and the removal of
# runtime directories (in the background at Delete, swept at start).

L4M_INSTANCE_PREFIX=/org/left4me/Manager/instance
INS_SRCDS=$L4M_TOOLS/fake-srcds.py
INS_AUTOSTART_MARKER=/run/left4me/autostart-done

# ins_setup: the daemon up, the test tools and the fake installation in
# place (srcds_run = fake-srcds.py, an app manifest, left4me-game's).
ins_setup() {
        test_files_setup
        install -m 0755 "$L4M_SRCDIR/tests/fixtures/fake-srcds.py" "$CTR_DIR/root$INS_SRCDS"
        in_container sh -ec "
                cd '$L4M_STATE/installation'
                install -m 0755 '$INS_SRCDS' srcds_run
                mkdir -p left4dead2/addons left4dead2/cfg left4dead2/maps steamapps
                echo base > left4dead2/addons/base.vpk
                printf '\"AppState\"\n{\n\t\"appid\"\t\t\"222860\"\n\t\"buildid\"\t\t\"1\"\n}\n' > steamapps/appmanifest_222860.acf
                chown -R $L4M_GAME_USER:$L4M_GAME_USER ."
}

# ins_path NAME: the object path of instance NAME (sd_bus_path_encode).
ins_path() {
        python3 -c '
import sys
s = sys.argv[1]
print(sys.argv[2] + "/" + "".join(c if c.isalnum() else "_%02x" % ord(c) for c in s))' "$1" "$L4M_INSTANCE_PREFIX"
}

# ins_prop NAME PROPERTY: a property of instance NAME, bare.
ins_prop() {
        in_container busctl --timeout="$L4M_CALL_TIMEOUT" get-property "$L4M_BUS" "$(ins_path "$1")" \
                org.left4me.Instance "$2" | cut -d' ' -f2- | sed 's/^"\(.*\)"$/\1/'
}

ins_state_is() {
        [[ $(ins_prop "$1" State) == "$2" ]]
}

# ins_wait_state NAME STATE [SECONDS]
ins_wait_state() {
        wait_until "${3:-30}" ins_state_is "$1" "$2" ||
                fail "instance $1 is $(ins_prop "$1" State), not $2, after ${3:-30}s ($(ins_unit_status "$1"); $(ins_journal "$1" | tail -n 12 | paste -sd '|'))"
}

ins_unit_status() {
        in_container systemctl show -P ActiveState,SubState,Result "left4me-server-$1.service" 2>/dev/null | paste -sd ' ' || true
}

# ins_overlay NAME CONTENT-COMMANDS: an archive overlay built by importing a
# tar made by the shell commands (run in an empty directory); prints its id.
ins_overlay() {
        local name=$1 cmds=$2 path job dir=$TF_DIR/src-$1
        path=$(ensure_overlay root "$name" archive)
        in_container sh -ec "rm -rf '$dir' && mkdir -p '$dir/t' && cd '$dir/t' && $cmds && tar -C '$dir/t' -cf '$dir/x.tar' ."
        l4mbus root import "$path" "$dir/x.tar"
        expect_ok "ImportArchive into $name"
        job=$(job_path_from_output)
        job_wait "$job"
        assert_eq succeeded "$JOB_STATE" "the import into $name ($JOB_MSG)"
        id_of_path "$path"
}

# ins_delete_blueprint NAME: deletes blueprint NAME as root if it exists.
ins_delete_blueprint() {
        local path
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetBlueprint "$(gv_str "$1")"
        ((RC == 0)) || return 0
        path=$(grep -o "$L4M_MANAGER/blueprint/[0-9]*" <<<"$OUT" | head -n 1)
        gcall root "$path" org.left4me.Blueprint.Delete
        expect_ok "root deletes blueprint $1"
}

# ins_blueprint NAME OVERLAY...: (re)creates blueprint NAME as root.
ins_blueprint() {
        local name=$1
        shift
        ins_delete_blueprint "$name"
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "$(gv_str "$name")" "$(gv_strv "$@")" \
                "{'server_cfg': <'sv_cheats 0\nrcon_password \"from-the-blueprint\"\nhostname \"from-the-blueprint\"'>}"
        expect_ok "create blueprint $name"
}

# ins_create USER NAME BLUEPRINT [GVARIANT-OPTIONS]: CreateInstance.
ins_create() {
        local opts=${4:-}
        [[ -n $opts ]] || opts='@a{sv} {}'
        gcall "$1" "$L4M_MANAGER" org.left4me.Manager.CreateInstance "$(gv_str "$2")" "$(gv_str "$3")" "$opts"
}

# ins_bp_path NAME: the object path of blueprint NAME.
ins_bp_path() {
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetBlueprint "$(gv_str "$1")"
        expect_ok "GetBlueprint $1"
        grep -o "$L4M_MANAGER/blueprint/[0-9]*" <<<"$OUT" | head -n 1
}

# ins_expect_denied WHAT: the last gcall was refused by polkit (without the
# interactive flag: InteractiveAuthorizationRequired or AccessDenied).
ins_expect_denied() {
        if [[ "$OUT$ERR" != *GDBus.Error:org.freedesktop.DBus.Error.AccessDenied:* ]]; then
                expect_dbus_error org.freedesktop.DBus.Error.InteractiveAuthorizationRequired "$1"
        fi
}

# ins_call USER NAME METHOD [ARG...]
ins_call() {
        local user=$1 name=$2 method=$3
        shift 3
        gcall "$user" "$(ins_path "$name")" "org.left4me.Instance.$method" "$@"
}

# ins_remove NAME: stops and deletes instance NAME if it exists; never fails.
ins_remove() {
        local path
        path=$(ins_path "$1")
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetInstance "$(gv_str "$1")"
        ((RC == 0)) || return 0
        gcall root "$path" org.left4me.Instance.Stop
        wait_until 30 ins_stopped "$1" || true
        gcall root "$path" org.left4me.Instance.Delete
}

ins_stopped() {
        local s
        s=$(ins_prop "$1" State)
        [[ $s == stopped || $s == failed ]]
}

# ins_journal NAME: what the server printed (its unit's journal).
# ins_upper NAME: runtime/NAME's upper directory while it runs: disk/upper
# in its disk image (a finite disk_max, left4med(8)), else upper/.
ins_upper() {
        if in_container test -e "$L4M_RUNTIME/$1/disk.img"; then
                echo "$L4M_RUNTIME/$1/disk/upper"
        else
                echo "$L4M_RUNTIME/$1/upper"
        fi
}

ins_journal() {
        in_container journalctl --no-pager -o cat -u "left4me-server-$1.service" 2>/dev/null || true
}

ins_journal_has() {
        ins_journal "$1" | grep -qF -- "$2"
}

ins_rcon() {
        ins_call root "$1" SendCommand "$(gv_str "$2")"
}

# The three overlays of the stack tests: common.vpk in all three (and in
# the installation) with different sizes: the top one's has 1 byte.
ins_three() {
        INS_A=$(ins_overlay ins-a 'mkdir -p left4dead2/addons && printf A > left4dead2/addons/common.vpk && echo A > left4dead2/addons/a.vpk && echo A > common.txt')
        INS_B=$(ins_overlay ins-b 'mkdir -p left4dead2/addons && printf BB > left4dead2/addons/common.vpk && echo B > left4dead2/addons/b.vpk && echo B > common.txt')
        INS_C=$(ins_overlay ins-c 'mkdir -p left4dead2/addons && printf CCC > left4dead2/addons/common.vpk && echo C > c-only.txt')
        # As a Workshop overlay has them: a symbolic link into the shared cache.
        in_container sh -ec "mkdir -p '$L4M_CACHE/990001' && printf WSWS > '$L4M_CACHE/990001/1.vpk' &&
                chmod 0644 '$L4M_CACHE/990001/1.vpk' &&
                ln -sfn '$L4M_CACHE/990001/1.vpk' '$L4M_OVERLAYS/$INS_A/left4dead2/addons/990001.vpk'"
        ins_blueprint ins-bp ins-a ins-b ins-c
}

test_ins_validation() {
        local p1 p2 bp bad
        trap 'ins_remove ins-v1; ins_remove ins-v2; ins_remove ins-v3; in_container systemctl stop ins-portblock.service 2>/dev/null || true' EXIT
        ins_setup
        ins_three
        ins_remove ins-v1
        ins_remove ins-v2
        ins_remove ins-v3

        for bad in "" "-x" "Upper" "a/b" "x.y" "$(printf 'a%.0s' {1..49})"; do
                ins_create root "$bad" ins-bp
                expect_dbus_error org.left4me.Error.InvalidArgument "CreateInstance with the name '$bad'"
        done
        ins_create root ins-v1 no-such-bp
        expect_dbus_error org.left4me.Error.NotFound "CreateInstance from a blueprint that does not exist"
        ins_create root ins-v1 ins-bp "{'port': <uint16 80>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "port 80 (outside 27015-27115)"
        ins_create root ins-v1 ins-bp "{'port': <uint32 70000>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "port 70000"
        ins_create root ins-v1 ins-bp "{'port': <'27020'>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "port as a string"
        ins_create root ins-v1 ins-bp "{'colour': <'red'>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "an unknown option"
        ins_create root ins-v1 ins-bp "{'map': <'c1m1 hotel'>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "a map name with a space"
        ins_create root ins-v1 ins-bp "{'max_players': <uint32 0>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "max_players 0"
        ins_create root ins-v1 ins-bp "{'hostname': <'a \"quoted\" name'>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "a hostname with quotes"
        gcall root "$L4M_MANAGER" org.left4me.Manager.ListInstances
        expect_ok ListInstances
        [[ $OUT != *ins-v1* ]] || fail "a refused CreateInstance left an instance: $OUT"

        # Automatic ports: the lowest free one, and the next.
        ins_create root ins-v1 ins-bp
        expect_ok "CreateInstance without a port"
        p1=$(ins_prop ins-v1 Port)
        ins_create root ins-v2 ins-bp
        expect_ok "a second CreateInstance without a port"
        p2=$(ins_prop ins-v2 Port)
        ((p1 >= 27015 && p1 <= 27115 && p2 > p1)) || fail "automatic ports $p1 and $p2"
        note "automatic ports: $p1, $p2"
        ins_create root ins-v3 ins-bp "{'port': <uint16 $p1>}"
        expect_dbus_error org.left4me.Error.Busy "the port of ins-v1"
        [[ $ERR == *ins-v1* ]] || fail "the Busy does not name ins-v1: $ERR"
        ins_create root ins-v1 ins-bp
        expect_dbus_error org.left4me.Error.Exists "a name in use"

        # A port something else on the host has.
        in_container systemd-run --unit=ins-portblock --service-type=exec "$L4M_PY" -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 27110)); time.sleep(600)'
        wait_until 10 in_container sh -c "ss -Hlun | grep -q ':27110 '" || fail "the port blocker did not bind"
        ins_create root ins-v3 ins-bp "{'port': <uint16 27110>}"
        expect_dbus_error org.left4me.Error.Busy "a port in use on the host"
        [[ $ERR == *"in use on this host"* ]] || fail "the Busy does not say the host uses it: $ERR"

        # The store holds what the bus said.
        assert_eq "$p1|root|ins-bp" "$(sql "SELECT i.port || '|' || i.owner || '|' || b.name FROM instances i JOIN blueprints b ON b.id = i.blueprint_id WHERE i.name = 'ins-v1';")" "ins-v1's row"
        assert_eq 32 "$(sql "SELECT length(rcon_password) FROM instances WHERE name = 'ins-v1';")" "length of the generated RCON password"
        # A blueprint an instance uses cannot go.
        bp=$(ins_bp_path ins-bp)
        gcall root "$bp" org.left4me.Blueprint.Delete
        expect_dbus_error org.left4me.Error.Busy "deleting a blueprint instances use"
        [[ $ERR == *'"ins-v1", "ins-v2"'* ]] || fail "the Busy does not name the instances: $ERR"
        # Start refuses an overlay that was never built.
        ensure_overlay root ins-empty archive >/dev/null
        ins_blueprint ins-bp-empty ins-empty ins-a
        ins_create root ins-v3 ins-bp-empty
        expect_ok "CreateInstance over an overlay never built"
        ins_call root ins-v3 Start
        expect_dbus_error org.left4me.Error.Busy "Start with an overlay never built"
        [[ $ERR == *ins-empty* ]] || fail "the Busy does not name ins-empty: $ERR"
        ins_call root ins-v3 Delete
        expect_ok "Delete ins-v3"
        ins_delete_blueprint ins-bp-empty
}
l4m_test instances-validation test_ins_validation 240

test_ins_run() {
        local name=ins-run m u pid pid2 st ov a
        trap 'ins_remove ins-run' EXIT
        ins_setup
        ins_three
        ins_remove "$name"
        ins_create root "$name" ins-bp "{'port': <uint16 27050>, 'hostname': <'Ins Run Server'>, 'max_players': <uint32 6>, 'map': <'c1m1_hotel'>}"
        expect_ok "CreateInstance $name"
        assert_eq "$(ins_path "$name")" "$(grep -o "$L4M_INSTANCE_PREFIX/[0-9A-Za-z_]*" <<<"$OUT")" "the object path"
        assert_eq stopped "$(ins_prop "$name" State)" "State of a new instance"
        assert_eq "left4me-server-$name.service" "$(ins_prop "$name" Unit)" "Unit"

        ins_call root "$name" Start
        expect_ok "Start $name"
        ins_wait_state "$name" running
        wait_until 20 ins_journal_has "$name" "fake srcds: ready" || fail "the server never got ready: $(ins_journal "$name" | tail -n 5)"
        pid=$(ins_prop "$name" MainPID)
        ((pid > 0)) || fail "MainPID $pid"
        assert_eq "$pid" "$(in_container systemctl show -P MainPID "left4me-server-$name.service")" "MainPID against systemd's"

        # The stack: the top overlay's common.vpk (1 byte) over B's, C's and the installation's.
        ins_journal_has "$name" "addon: common.vpk (1 bytes)" || fail "the server did not see the top overlay's common.vpk: $(ins_journal "$name" | grep addon: | paste -sd ' ')"
        ins_journal_has "$name" "addon: 990001.vpk (4 bytes)" || fail "the server cannot read an addon linked into the Workshop cache: $(ins_journal "$name" | grep addon: | paste -sd ' ')"
        for a in a.vpk b.vpk base.vpk; do
                ins_journal_has "$name" "addon: $a" || fail "the server did not see $a"
        done
        ins_journal_has "$name" "map: c1m1_hotel" || fail "the server did not start on c1m1_hotel"
        m=$L4M_RUNTIME/$name/merged
        u=$(ins_upper "$name")
        assert_eq A "$(in_container cat "$m/common.txt")" "merged/common.txt"
        assert_eq C "$(in_container cat "$m/c-only.txt")" "merged/c-only.txt"
        # Its writes land in upper/, the layers do not change.
        in_container test -s "$u/left4dead2/logs/fake-srcds-starts.txt" || fail "the server's start log is not in upper/"
        assert_eq "$(ins_prop "$name" UID)" "$(in_container stat -c %u "$u/left4dead2/logs/fake-srcds-starts.txt")" "owner of the server's log (its uid)"
        in_container test ! -e "$L4M_OVERLAYS/$INS_A/left4dead2/logs" || fail "the server wrote into overlays/$INS_A"
        # The generated server.cfg: the blueprint's text, then left4me's lines.
        st=$(in_container cat "$m/left4dead2/cfg/server.cfg")
        [[ $(tail -n 1 <<<"$st") == "rcon_password \""????????????????????????????????"\"" ]] || fail "server.cfg does not end with the generated rcon_password: $st"
        [[ $(tail -n 2 <<<"$st" | head -n 1) == 'hostname "Ins Run Server"' ]] || fail "server.cfg lacks the hostname before it: $st"
        [[ $st == *"sv_cheats 0"* ]] || fail "server.cfg lacks the blueprint's text: $st"
        assert_eq "-rw-r----- 0 $(ins_prop "$name" UID)" "$(in_container stat -c '%A %u %g' "$L4M_RUNTIME/$name/config/left4dead2/cfg/server.cfg")" "mode of the generated server.cfg (root, the instance's group)"

        # RCON and A2S.
        ins_rcon "$name" status
        expect_ok "SendCommand status"
        [[ $OUT == *"Ins Run Server"* ]] || fail "status does not name the hostname: $OUT"
        wait_until 15 ins_state_prop_is "$name" Map c1m1_hotel || fail "Map is '$(ins_prop "$name" Map)', not c1m1_hotel"
        assert_eq 6 "$(ins_prop "$name" MaxPlayers)" "MaxPlayers (A2S)"
        ins_rcon "$name" "changelevel c2m1_highway"
        expect_ok "SendCommand changelevel"
        wait_until 15 ins_state_prop_is "$name" Map c2m1_highway || fail "Map did not follow the changelevel: $(ins_prop "$name" Map)"
        ins_rcon "$name" "fake_players 3"
        expect_ok "SendCommand fake_players 3"
        wait_until 15 ins_state_prop_is "$name" Players 3 || fail "Players is $(ins_prop "$name" Players), not 3"
        ins_rcon "$name" "$(printf 'echo a\nb')"
        expect_dbus_error org.left4me.Error.InvalidArgument "a command of two lines"

        # What a running instance keeps busy.
        ins_call root "$name" Delete
        expect_dbus_error org.left4me.Error.Busy "Delete while running"
        ins_call root "$name" Start
        expect_dbus_error org.left4me.Error.Busy "Start while running"
        ov=$(ensure_overlay root ins-b archive)
        gcall root "$ov" org.left4me.Overlay.Wipe
        expect_dbus_error org.left4me.Error.Busy "Wipe of an overlay a running instance uses"
        [[ $ERR == *"$name"* ]] || fail "the Busy does not name $name: $ERR"

        # The unit's hardening.
        st=$(in_container systemd-analyze security --no-pager "left4me-server-$name.service" 2>&1 | tail -n 1 || true)
        note "systemd-analyze security left4me-server-$name.service: $st"
        assert_eq "" "$(in_container systemctl show -P CapabilityBoundingSet "left4me-server-$name.service")" "CapabilityBoundingSet"
        assert_eq "$(ins_prop "$name" UID)" "$(in_container systemctl show -P User "left4me-server-$name.service")" "User"

        # kill -9: systemd restarts it, State follows, a new MainPID.
        in_container kill -9 "$pid"
        wait_until 10 ins_state_is "$name" restarting || fail "State did not go restarting after kill -9 (now $(ins_prop "$name" State))"
        ins_wait_state "$name" running
        pid2=$(ins_prop "$name" MainPID)
        ((pid2 > 0 && pid2 != pid)) || fail "MainPID after the restart: $pid2 (before $pid)"
        # RCON reconnects to the restarted server.
        wait_until 15 ins_rcon_ok "$name" || fail "RCON after the restart: $ERR"

        # A daemon restart changes nothing for the server.
        capture in_container systemctl restart left4me.service
        expect_ok "systemctl restart left4me"
        reset_start_limit
        daemon_up
        wait_until 10 ins_state_is "$name" running || fail "State after a daemon restart: $(ins_prop "$name" State)"
        assert_eq "$pid2" "$(ins_prop "$name" MainPID)" "MainPID after a daemon restart"
        wait_until 15 ins_rcon_ok "$name" || fail "RCON after a daemon restart: $ERR"

        # A daemon-reload (package upgrades run one) re-reads the transient
        # unit from its file: the unmount at Stop must survive it.
        capture in_container systemctl daemon-reload
        expect_ok "systemctl daemon-reload"

        # Stop: nothing of left4me stays mounted.
        ins_call root "$name" Stop
        expect_ok "Stop $name"
        ins_wait_state "$name" stopped
        assert_eq 0 "$(ins_prop "$name" MainPID)" "MainPID after Stop"
        assert_eq "" "$(ins_prop "$name" Map)" "Map after Stop"
        [[ -z $(runtime_mounts) ]] || fail "mounts left under runtime/: $(runtime_mounts)"
        [[ -z $(in_container findmnt -rn -t overlay -o TARGET | grep "$L4M_STATE" || true) ]] || fail "an overlay mount of left4me remains"
        ins_rcon "$name" status
        expect_dbus_error org.left4me.Error.Busy "SendCommand while stopped"

        # Delete: the row and runtime/<name> go.
        ins_call root "$name" Delete
        expect_ok "Delete $name"
        in_container test ! -e "$L4M_RUNTIME/$name" || fail "runtime/$name is still there"
        assert_eq 0 "$(sql "SELECT count(*) FROM instances WHERE name = '$name';")" "rows of $name"
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetInstance "'$name'"
        expect_dbus_error org.left4me.Error.NotFound "GetInstance after Delete"
}
l4m_test instances-run test_ins_run 300

ins_state_prop_is() {
        [[ $(ins_prop "$1" "$2") == "$3" ]]
}

ins_rcon_ok() {
        ins_rcon "$1" "echo ping"
        ((RC == 0)) && [[ $OUT == *ping* ]]
}

test_ins_two() {
        local p1 p2
        trap 'ins_remove ins-two-a; ins_remove ins-two-b' EXIT
        ins_setup
        ins_three
        ins_remove ins-two-a
        ins_remove ins-two-b
        ins_create root ins-two-a ins-bp "{'hostname': <'first'>}"
        expect_ok "create ins-two-a"
        ins_create root ins-two-b ins-bp "{'hostname': <'second'>}"
        expect_ok "create ins-two-b"
        ins_call root ins-two-a Start
        expect_ok "Start ins-two-a"
        ins_call root ins-two-b Start
        expect_ok "Start ins-two-b"
        ins_wait_state ins-two-a running
        ins_wait_state ins-two-b running
        p1=$(ins_prop ins-two-a Port)
        p2=$(ins_prop ins-two-b Port)
        [[ $p1 != "$p2" ]] || fail "both on port $p1"
        wait_until 15 ins_rcon_ok ins-two-a || fail "RCON of ins-two-a: $ERR"
        ins_rcon ins-two-a status
        [[ $OUT == *first* ]] || fail "ins-two-a's status: $OUT"
        ins_rcon ins-two-b status
        [[ $OUT == *second* ]] || fail "ins-two-b's status: $OUT"
        in_container sh -c "ss -Hlun | grep -q ':$p1 ' && ss -Hlun | grep -q ':$p2 '" || fail "not both UDP ports are bound"
        ins_isolation ins-two-a ins-two-b
}
l4m_test instances-two test_ins_two 240

# ins_in_server NAME COMMAND...: runs COMMAND as instance NAME's uid in the
# mount namespace of its server (what its files look like to it).
ins_in_server() {
        local pid uid
        pid=$(ins_prop "$1" MainPID)
        uid=$(ins_prop "$1" UID)
        shift
        capture in_container nsenter -t "$pid" -m -- setpriv --reuid="$uid" --regid="$uid" --clear-groups -- "$@"
}

# ins_isolation A B: instance A's server sees its own stack and the
# Workshop cache, but not B's runtime directory nor the rest of the state
# directory (test-33 shows that A's uid cannot reach B's files either).
ins_isolation() {
        local a=$1 b=$2 d ub
        ins_in_server "$a" cat "$L4M_RUNTIME/$a/merged/common.txt"
        expect_ok "$a's server reads its own merged/common.txt"
        assert_eq A "$OUT" "$a's merged/common.txt from inside"
        ins_in_server "$a" sh -c "echo x > '$L4M_RUNTIME/$a/merged/isolation-probe.txt'"
        expect_ok "$a's server writes into its own stack"
        ins_in_server "$a" cat "$L4M_CACHE/990001/1.vpk"
        expect_ok "$a's server reads the Workshop cache"
        ins_in_server "$a" sh -c "echo x > '$L4M_CACHE/990001/1.vpk'"
        ((RC != 0)) || fail "$a's server wrote into the Workshop cache"
        ub=$(ins_upper "$b")
        capture in_container setpriv --reuid="$(ins_prop "$b" UID)" --regid="$(ins_prop "$b" UID)" --clear-groups -- \
                sh -c "echo x > '$ub/isolation-probe.txt' && rm '$ub/isolation-probe.txt'"
        expect_ok "on the host, $b's uid may write $b's upper (what the sandbox must hide)"
        for d in "$L4M_RUNTIME/$b/merged" "$ub" "$L4M_RUNTIME/$b" "$L4M_STATE/db" \
                "$L4M_STATE/installation" "$L4M_STATE/jobs" "$L4M_OVERLAYS"; do
                ins_in_server "$a" test -e "$d"
                ((RC != 0)) || fail "$a's server sees $d"
        done
        ins_in_server "$a" sh -c "echo x > '$ub/isolation-probe.txt'"
        ((RC != 0)) || fail "$a's server wrote into $b's upper"
        in_container test ! -e "$ub/isolation-probe.txt" || fail "$b's upper got $a's file"
        ins_in_server "$a" ls "$L4M_STATE"
        expect_ok "ls $L4M_STATE inside $a's server"
        assert_eq "runtime workshop_cache" "$(paste -sd ' ' <<<"$OUT")" "what $a's server sees of $L4M_STATE"
}

# ins_first_line_usec UNIT SINCE-USEC: when UNIT's server printed its first
# line ("fake srcds: starting") after SINCE-USEC, in µs (the journal's clock).
ins_first_line_usec() {
        in_container journalctl --no-pager -o json -u "$1" | "$L4M_PY" -c '
import json, sys
since = int(sys.argv[1])
first = None
for line in sys.stdin:  # all of it: journalctl must not die of SIGPIPE
    e = json.loads(line)
    t = int(e["__REALTIME_TIMESTAMP"])
    if first is None and t >= since and str(e.get("MESSAGE", "")).startswith("fake srcds: starting"):
        first = t
if first is not None:
    print(first)' "$2"
}

ins_has_first_line() {
        [[ -n $(ins_first_line_usec "$1" "$2") ]]
}

# ins_bench NAME: Start() of instance NAME to its server's first line, in µs.
ins_bench() {
        local t0 t1 path
        path=$(ins_path "$1")   # not timed: a python3 start the bare run has not
        t0=$(($(date +%s%N) / 1000))
        gcall root "$path" org.left4me.Instance.Start
        expect_ok "Start $1"
        wait_until 30 ins_has_first_line "left4me-server-$1.service" "$t0" || fail "no first line from $1"
        t1=$(ins_first_line_usec "left4me-server-$1.service" "$t0")
        ins_wait_state "$1" running
        ins_call root "$1" Stop
        expect_ok "Stop $1"
        ins_wait_state "$1" stopped
        echo $((t1 - t0))
}

# ins_bench_bare: a bare systemd-run of the same fake srcds to its first line, in µs.
ins_bench_bare() {
        local t0 t1 unit=ins-bare-$RANDOM.service
        t0=$(($(date +%s%N) / 1000))
        in_container systemd-run --quiet --unit="$unit" -p User="$L4M_GAME_USER" \
                -p WorkingDirectory="$L4M_STATE/installation" "$L4M_STATE/installation/srcds_run" \
                -norestart -game left4dead2 -port 27099 +maxplayers 8
        wait_until 30 ins_has_first_line "$unit" "$t0" || fail "no first line from the bare $unit"
        t1=$(ins_first_line_usec "$unit" "$t0")
        in_container systemctl stop "$unit"
        echo $((t1 - t0))
}

test_ins_hundred() {
        local name=ins-hundred ids layers=() id t0 t1
        trap 'ins_remove ins-hundred; ins_delete_blueprint ins-bp100' EXIT
        ins_setup
        ins_remove "$name"
        # 98 overlays, each built by an import: with the config layer and
        # the installation, 100 layers.
        in_container sh -ec "mkdir -p '$TF_DIR/h/t/left4dead2/addons' && echo h > '$TF_DIR/h/t/layer.txt' && tar -C '$TF_DIR/h/t' -cf '$TF_DIR/h.tar' ."
        capture pybus root "$TF_DIR/h.tar" <<'PY'
import os, time
tar = sys.argv[1]
opts = dbus.Dictionary({}, signature="sv")
jobs = []
for i in range(98):
    name = "ins100-%03d" % i
    try:
        p = str(call(MGR, MANAGER_IF, "GetOverlay", name))
    except dbus.exceptions.DBusException:
        p = str(call(MGR, MANAGER_IF, "CreateOverlay", name, "archive", opts))
    if int(prop(p, OVERLAY_IF, "LastBuild")) == 0:
        fd = os.open(tar, os.O_RDONLY)
        jobs.append(str(call(p, OVERLAY_IF, "ImportArchive", dbus.types.UnixFd(fd), opts)))
        os.close(fd)
for j in jobs:
    while str(prop(j, JOB_IF, "State")) in ("queued", "running"):
        time.sleep(0.1)
    if str(prop(j, JOB_IF, "State")) != "succeeded":
        raise SystemExit("job %s: %s" % (j, prop(j, JOB_IF, "Message")))
print(len(jobs))
PY
        expect_ok "98 overlays built"
        for ((id = 0; id < 98; id++)); do
                layers+=("$(printf 'ins100-%03d' "$id")")
        done
        ins_delete_blueprint ins-bp100
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "'ins-bp100'" "$(gv_strv "${layers[@]}")" '@a{sv} {}'
        expect_ok "a blueprint of 98 overlays"
        ins_create root "$name" ins-bp100
        expect_ok "create $name"
        t0=$(date +%s%N)
        ins_call root "$name" Start
        expect_ok "Start with 100 layers"
        wait_until 30 ins_journal_has "$name" "fake srcds: starting" || fail "no first line from the server: $(ins_unit_status "$name")"
        t1=$(date +%s%N)
        ins_wait_state "$name" running
        note "Start() to the first line with 100 layers: $(((t1 - t0) / 1000000)) ms"
        wait_until 10 ins_journal_has "$name" "Mounted 100 layers" ||
                fail "the helper did not report 100 layers: $(ins_journal "$name" | grep -i mount | paste -sd ' ')"
        ids=$(ins_journal "$name" | grep -o 'Mounted 100 layers[^.]*' | head -n 1)
        note "helper: $ids"
        ins_call root "$name" Stop
        expect_ok "Stop $name"
        ins_wait_state "$name" stopped
        [[ -z $(runtime_mounts "$name") ]] || fail "still mounted after Stop"

        # Figures (not assertions): Start() to the first line with 100
        # layers and with 3 (one overlay), against a bare systemd-run.
        local one hundred bare
        ins_overlay ins-one 'echo one > one.txt' >/dev/null
        ins_delete_blueprint ins-bp1
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "'ins-bp1'" "['ins-one']" '@a{sv} {}'
        expect_ok "a blueprint of one overlay"
        ins_remove ins-one-layer
        ins_create root ins-one-layer ins-bp1
        expect_ok "create ins-one-layer"
        bare=$(ins_bench_bare)
        one=$(ins_bench ins-one-layer)
        hundred=$(ins_bench "$name")
        bare=$(( (bare + $(ins_bench_bare)) / 2 ))
        note "Start() to the first line: 3 layers $((one / 1000)) ms, 100 layers $((hundred / 1000)) ms, bare systemd-run $((bare / 1000)) ms; ratios $(awk -v a="$one" -v b="$hundred" -v c="$bare" 'BEGIN { printf "%.2f and %.2f", a / c, b / c }')"
        ins_remove ins-one-layer
        ins_delete_blueprint ins-bp1
}
l4m_test instances-hundred test_ins_hundred 300

test_ins_tamper() {
        local name=ins-tamper pid
        trap 'ins_remove ins-tamper' EXIT
        ins_setup
        ins_three
        ins_remove "$name"
        ins_create root "$name" ins-bp
        expect_ok "create $name"
        ins_call root "$name" Start
        expect_ok "Start $name"
        ins_wait_state "$name" running
        pid=$(ins_prop "$name" MainPID)
        # The next mount (after the crash) reads an instance.env naming a
        # layer outside the allowed roots: every restart fails, nothing is
        # mounted, the unit ends failed.
        in_container sh -ec "printf 'NAME=%s\nLAYERS=../../../etc:installation\n' '$name' > '$L4M_RUNTIME/$name/instance.env'"
        in_container kill -9 "$pid"
        ins_wait_state "$name" failed 40
        [[ -z $(runtime_mounts "$name") ]] || fail "something is mounted: $(runtime_mounts "$name")"
        ins_journal "$name" | grep -q "Refusing" || fail "the helper's refusal is not in the journal: $(ins_journal "$name" | tail -n 5 | paste -sd ' ')"
        note "helper: $(ins_journal "$name" | grep Refusing | head -n 1)"
        # Start writes instance.env afresh (and resets the failed unit).
        ins_call root "$name" Start
        expect_ok "Start after the failure"
        ins_wait_state "$name" running
}
l4m_test instances-tamper test_ins_tamper 240

test_ins_owners() {
        local bp
        trap 'ins_remove ins-alice' EXIT
        ins_setup
        ins_remove ins-alice
        ins_overlay ins-own 'echo x > x.txt' >/dev/null
        gcall alice "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "'ins-alice-bp'" "['ins-own']" '@a{sv} {}'
        if ((RC != 0)); then
                expect_dbus_error org.left4me.Error.Exists "alice's blueprint"
        fi
        ins_create alice ins-alice ins-bp
        ins_expect_denied "alice: an instance of root's blueprint"
        ins_create alice ins-alice ins-alice-bp
        expect_ok "alice creates an instance of her blueprint"
        assert_eq alice "$(ins_prop ins-alice Owner)" "Owner"
        ins_call bob ins-alice Start
        ins_expect_denied "bob starts alice's instance"
        ins_call bob ins-alice SetHostname "'bob was here'"
        ins_expect_denied "bob renames alice's instance"
        ins_call carol ins-alice Start
        expect_ok "carol (admin) starts alice's instance"
        ins_wait_state ins-alice running
        ins_call alice ins-alice SendCommand "'echo mine'"
        expect_ok "alice's RCON on her instance"
        ins_call bob ins-alice SendCommand "'echo theirs'"
        ins_expect_denied "bob's RCON on alice's instance"
        ins_call alice ins-alice Stop
        expect_ok "alice stops her instance"
        ins_wait_state ins-alice stopped
        ins_call alice ins-alice Delete
        expect_ok "alice deletes her instance"
        bp=$(ins_bp_path ins-alice-bp)
        gcall alice "$bp" org.left4me.Blueprint.Delete
        expect_ok "alice deletes her blueprint"
}
l4m_test instances-owners test_ins_owners 180

test_ins_autostart() {
        trap 'ins_remove ins-auto; ins_remove ins-manual' EXIT
        ins_setup
        ins_three
        ins_remove ins-auto
        ins_remove ins-manual
        ins_create root ins-auto ins-bp "{'autostart': <true>}"
        expect_ok "create ins-auto"
        ins_create root ins-manual ins-bp
        expect_ok "create ins-manual"
        assert_eq true "$(ins_prop ins-auto Autostart)" "Autostart of ins-auto"
        # A daemon restart with the marker there starts nothing.
        in_container test -e "$INS_AUTOSTART_MARKER" || fail "no $INS_AUTOSTART_MARKER after the daemon started"
        capture in_container systemctl restart left4me.service
        expect_ok "restart left4me"
        reset_start_limit
        daemon_up
        ins_wait_state ins-auto stopped 5
        # As after a boot: no marker.
        daemon_stop
        in_container rm -f "$INS_AUTOSTART_MARKER"
        daemon_up
        ins_wait_state ins-auto running
        assert_eq stopped "$(ins_prop ins-manual State)" "ins-manual after the autostart"
        wait_until 5 in_container test -e "$INS_AUTOSTART_MARKER" || fail "the marker was not made again"
}
l4m_test instances-autostart test_ins_autostart 180

# l4mctl's instance verbs, and the introspection XML of org.left4me.Instance.
test_ins_l4mctl() {
        local live path pid
        trap 'ins_remove ins-ctl' EXIT
        ins_setup
        ins_three
        ins_remove ins-ctl
        capture in_container l4mctl instance create ins-ctl ins-bp --port 27060 --hostname 'Ctl Server' --max-players 4 --map c2m1_highway
        expect_ok "l4mctl instance create"
        assert_eq "$(ins_path ins-ctl)" "$OUT" "the printed object path"
        capture in_container l4mctl instance create ins-ctl2 ins-bp --port 99999
        expect_exit 2 "l4mctl instance create --port 99999"
        capture in_container l4mctl instance create ins-ctl ins-bp
        expect_exit 6 "l4mctl instance create of an existing name"
        capture in_container l4mctl --json instance show ins-ctl
        expect_ok "l4mctl --json instance show"
        assert_eq 27060 "$(json "d['port']" <<<"$OUT")" "port in the JSON"
        assert_eq "Ctl Server" "$(json "d['hostname']" <<<"$OUT")" "hostname in the JSON"
        assert_eq 4 "$(json "d['player_limit']" <<<"$OUT")" "player_limit in the JSON"
        assert_eq c2m1_highway "$(json "d['start_map']" <<<"$OUT")" "start_map in the JSON"
        assert_eq stopped "$(json "d['state']" <<<"$OUT")" "state in the JSON"
        capture in_container l4mctl instance set ins-ctl hostname='Renamed Server' max_players=5 autostart=yes
        expect_ok "l4mctl instance set"
        assert_eq "Renamed Server" "$(ins_prop ins-ctl Hostname)" "Hostname after set"
        assert_eq 5 "$(ins_prop ins-ctl PlayerLimit)" "PlayerLimit after set"
        assert_eq true "$(ins_prop ins-ctl Autostart)" "Autostart after set"
        capture in_container l4mctl instance set ins-ctl colour=red
        expect_exit 2 "l4mctl instance set colour=red"
        capture in_container l4mctl instance start ins-ctl
        expect_ok "l4mctl instance start"
        ins_wait_state ins-ctl running
        capture in_container l4mctl instance list
        expect_ok "l4mctl instance list"
        grep -Eq '^ins-ctl +root +ins-bp +27060 +running' <<<"$OUT" || fail "list: no running ins-ctl line: $OUT"
        wait_until 15 ins_rcon_ok ins-ctl || fail "RCON: $ERR"
        capture in_container l4mctl instance rcon ins-ctl status
        expect_ok "l4mctl instance rcon status"
        [[ $OUT == *"Renamed Server"* ]] || fail "the rcon status does not show the hostname set before the start: $OUT"
        # A reply's control characters (player names) reach a terminal as
        # '?', a pipe as they are.
        capture in_container script -qec 'l4mctl instance rcon ins-ctl echo "$(printf "a\033[31mb")"' /dev/null
        expect_ok "l4mctl instance rcon on a terminal"
        [[ $OUT == *'a?[31mb'* && $OUT != *$'\033'* ]] || fail "an escape sequence reached the terminal: $(printf %q "$OUT")"
        capture in_container sh -c 'l4mctl instance rcon ins-ctl echo "$(printf "a\033[31mb")" | od -An -tx1'
        [[ $OUT == *'61 1b 5b 33 31 6d 62'* ]] || fail "the piped reply is not as the server sent it: $OUT"
        capture in_container l4mctl instance delete ins-ctl
        expect_exit 7 "l4mctl instance delete while running"
        capture in_container l4mctl status
        expect_ok "l4mctl status"
        [[ $OUT == *"Instances: "*"running)"* ]] || fail "l4mctl status does not count instances: $OUT"

        # The live introspection against dbus/org.left4me.Instance.xml.
        path=$(ins_path ins-ctl)
        live=$L4M_WORK/org.left4me.Instance.live.xml
        in_container busctl --timeout="$L4M_CALL_TIMEOUT" introspect --xml-interface "$L4M_BUS" "$path" >"$live"
        capture python3 "$L4M_SRCDIR/tests/integration/check-introspection.py" "$L4M_SRCDIR/dbus/org.left4me.Instance.xml" "$live"
        expect_ok "the introspection of $path matches dbus/org.left4me.Instance.xml"

        # --wait: restart returns with the new server running, stop with
        # the server down (so that delete can follow at once).
        pid=$(ins_prop ins-ctl MainPID)
        capture in_container l4mctl instance restart ins-ctl --wait
        expect_ok "l4mctl instance restart --wait"
        assert_eq running "$(ins_prop ins-ctl State)" "State right after restart --wait"
        [[ $(ins_prop ins-ctl MainPID) != "$pid" ]] || fail "restart --wait returned with the old server ($pid)"
        capture in_container sh -c 'l4mctl instance stop ins-ctl --wait && l4mctl instance delete ins-ctl'
        expect_ok "l4mctl instance stop --wait && l4mctl instance delete"
        # A server that cannot start: --wait ends when systemd gives up.
        ins_delete_blueprint ins-bp-bad
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "'ins-bp-bad'" "['ins-a']" \
                "{'launch_args': <['+fake_exit', '3']>}"
        expect_ok "a blueprint whose server exits at once"
        capture in_container sh -c 'l4mctl instance create ins-ctl ins-bp-bad >/dev/null && l4mctl instance start ins-ctl --wait'
        expect_exit 1 "l4mctl instance start --wait of a server that exits at once"
        [[ $ERR == *"is failed, not running"* ]] || fail "start --wait does not say the server failed: $ERR"
        assert_eq failed "$(ins_prop ins-ctl State)" "State after the failed start"
        capture in_container sh -c 'l4mctl instance stop ins-ctl --wait && l4mctl instance delete ins-ctl'
        expect_ok "stop --wait and delete of the failed instance"
        ins_delete_blueprint ins-bp-bad
        capture in_container l4mctl instance show ins-ctl
        expect_exit 4 "l4mctl instance show after delete"
}
l4m_test instances-l4mctl test_ins_l4mctl 180

# ins_busy_names WHAT NAME: the last call answered Busy naming instance NAME.
ins_busy_names() {
        expect_dbus_error org.left4me.Error.Busy "$1"
        [[ $ERR == *"\"$2\""* ]] || fail "$1: the Busy does not name instance $2: $ERR"
}

# An overlay stays busy while a running instance has it mounted, whatever
# its blueprint says now: the stack that counts is the one in the
# instance's instance.env (what the helper mounted), also after a restart
# of the daemon and after the instance moved to another blueprint.
test_ins_stacked() {
        local name=ins-stk x y bp tar job
        trap 'ins_remove ins-stk; ins_delete_blueprint ins-bp-stk; ins_delete_blueprint ins-bp-stk2' EXIT
        ins_setup
        tar=$TF_DIR/stk.tar
        ins_remove "$name"
        ins_overlay ins-stk-x 'echo x > x.txt' >/dev/null
        ins_overlay ins-stk-y 'echo y > y.txt' >/dev/null
        x=$(ensure_overlay root ins-stk-x archive)
        y=$(ensure_overlay root ins-stk-y archive)
        in_container sh -ec "mkdir -p '$TF_DIR/stk' && echo z > '$TF_DIR/stk/z.txt' && tar -C '$TF_DIR/stk' -cf '$tar' ."
        # An archive overlay builds from a URL: one that is never reached.
        gcall root "$x" org.left4me.Overlay.SetArchiveSource "'http://198.51.100.1/stk.tar'" "''"
        expect_ok "SetArchiveSource of ins-stk-x"
        ins_blueprint ins-bp-stk ins-stk-x
        ins_blueprint ins-bp-stk2 ins-stk-y
        ins_create root "$name" ins-bp-stk
        expect_ok "create $name"
        ins_call root "$name" Start
        expect_ok "Start $name"
        ins_wait_state "$name" running
        in_container test -e "$L4M_RUNTIME/$name/merged/x.txt" || fail "ins-stk-x is not in the stack"

        step "the blueprint no longer names the mounted overlay"
        bp=$(ins_bp_path ins-bp-stk)
        gcall root "$bp" org.left4me.Blueprint.SetOverlays "['ins-stk-y']"
        expect_ok "SetOverlays of the running instance's blueprint"
        gcall root "$x" org.left4me.Overlay.Build '@a{sv} {}'
        ins_busy_names "Build of an overlay a running instance mounted" "$name"
        gcall root "$x" org.left4me.Overlay.Wipe
        ins_busy_names "Wipe of an overlay a running instance mounted" "$name"
        l4mbus root import "$x" "$tar"
        ins_busy_names "ImportArchive into an overlay a running instance mounted" "$name"
        gcall root "$x" org.left4me.Overlay.Delete
        ins_busy_names "Delete of an overlay a running instance mounted" "$name"
        # Not mounted (yet): the blueprint's new overlay is free to change.
        l4mbus root import "$y" "$tar"
        expect_ok "ImportArchive into the blueprint's new overlay, not mounted"
        job=$(job_path_from_output)
        job_wait "$job"
        assert_eq succeeded "$JOB_STATE" "the import into ins-stk-y ($JOB_MSG)"

        step "the instance on another blueprint, the daemon restarted"
        ins_call root "$name" SetBlueprint "'ins-bp-stk2'"
        expect_ok "SetBlueprint of the running instance"
        capture in_container systemctl restart left4me.service
        expect_ok "restart left4me"
        reset_start_limit
        daemon_up
        gcall root "$x" org.left4me.Overlay.Delete
        ins_busy_names "Delete of the mounted overlay after a daemon restart" "$name"
        ins_wait_state "$name" running 10
        gcall root "$x" org.left4me.Overlay.Wipe
        ins_busy_names "Wipe of the mounted overlay after a daemon restart" "$name"

        step "after Stop, the overlay is free"
        ins_call root "$name" Stop
        expect_ok "Stop $name"
        ins_wait_state "$name" stopped
        gcall root "$x" org.left4me.Overlay.Wipe
        expect_ok "Wipe once the instance stopped"
        job=$(job_path_from_output)
        job_wait "$job"
        assert_eq succeeded "$JOB_STATE" "the wipe of ins-stk-x ($JOB_MSG)"
        gcall root "$x" org.left4me.Overlay.Delete
        expect_ok "Delete once the instance stopped"
}
l4m_test instances-stacked-overlays test_ins_stacked 240

# Create and Start back to back, on one connection: a new instance's state
# is known at once (stopped), the tracker's first answer is not waited for.
test_ins_create_start() {
        local i
        trap 'ins_remove ins-cs; in_container systemctl stop left4me-server-ins-cs2.service 2>/dev/null || true; ins_remove ins-cs2' EXIT
        ins_setup
        ins_three
        ins_remove ins-cs
        capture pybus root "$(ins_path ins-cs)" <<'PY'
import time
path = sys.argv[1]
INST_IF = "org.left4me.Instance"

def state():
    return str(prop(path, INST_IF, "State"))

for n in range(20):
    call(MGR, MANAGER_IF, "CreateInstance", "ins-cs", "ins-bp", dbus.Dictionary({}, signature="sv"))
    try:
        call(path, INST_IF, "Start")
    except dbus.exceptions.DBusException as e:
        raise SystemExit("round %d: Start right after CreateInstance: %s: %s" % (n, e.get_dbus_name(), e.get_dbus_message()))
    call(path, INST_IF, "Stop")
    deadline = time.monotonic() + 30
    while state() not in ("stopped", "failed"):
        if time.monotonic() > deadline:
            raise SystemExit("round %d: still %s 30 s after Stop" % (n, state()))
        time.sleep(0.05)
    call(path, INST_IF, "Delete")
print("20 rounds")
PY
        expect_ok "CreateInstance, then Start at once, 20 times"

        step "l4mctl instance create, then start, 20 times"
        for ((i = 0; i < 20; i++)); do
                capture in_container sh -c 'l4mctl instance create ins-cs ins-bp >/dev/null && l4mctl instance start ins-cs'
                expect_ok "round $i: l4mctl instance create ins-cs && l4mctl instance start ins-cs"
                ins_call root ins-cs Stop
                expect_ok "round $i: Stop"
                wait_until 30 ins_stopped ins-cs || fail "round $i: ins-cs is $(ins_prop ins-cs State) after Stop"
                ins_call root ins-cs Delete
                expect_ok "round $i: Delete"
        done

        step "systemd's answer still corrects the state of a new instance"
        # A stale unit of the name, left running: the instance shows it.
        ins_remove ins-cs2
        capture in_container systemd-run --unit=left4me-server-ins-cs2.service sleep 600
        expect_ok "a stale unit named like the new instance's"
        ins_create root ins-cs2 ins-bp
        expect_ok "create ins-cs2"
        ins_wait_state ins-cs2 running 10
        ins_call root ins-cs2 Start
        expect_dbus_error org.left4me.Error.Busy "Start while the stale unit runs"
        in_container systemctl stop left4me-server-ins-cs2.service
        ins_wait_state ins-cs2 stopped 10
}
l4m_test instances-create-start test_ins_create_start 300

ins_cfg_password() {
        in_container sed -n 's/^rcon_password "\(.*\)"$/\1/p' "$L4M_RUNTIME/$1/config/left4dead2/cfg/server.cfg" | tail -n 1
}

# A fresh RCON password at each start, stored, used by SendCommand (also
# after a restart of the daemon).
test_ins_rcon_password() {
        local name=ins-pw p1 p2 p3
        trap 'ins_remove ins-pw' EXIT
        ins_setup
        ins_three
        ins_remove "$name"
        ins_create root "$name" ins-bp
        expect_ok "create $name"
        ins_call root "$name" Start
        expect_ok "Start $name"
        ins_wait_state "$name" running
        wait_until 15 ins_rcon_ok "$name" || fail "RCON after the first start: $ERR"
        p1=$(ins_cfg_password "$name")
        [[ $p1 =~ ^[A-Za-z0-9]{32}$ ]] || fail "the first start's password: '$p1'"
        assert_eq "$p1" "$(sql "SELECT rcon_password FROM instances WHERE name = '$name';")" "the stored password after the first start"

        ins_call root "$name" Stop
        expect_ok "Stop $name"
        ins_wait_state "$name" stopped
        ins_call root "$name" Start
        expect_ok "Start $name again"
        ins_wait_state "$name" running
        p2=$(ins_cfg_password "$name")
        [[ $p2 =~ ^[A-Za-z0-9]{32}$ && $p2 != "$p1" ]] || fail "the second start's password '$p2' (the first's '$p1')"
        assert_eq "$p2" "$(sql "SELECT rcon_password FROM instances WHERE name = '$name';")" "the stored password after the second start"
        wait_until 15 ins_rcon_ok "$name" || fail "RCON after the second start: $ERR"

        ins_call root "$name" Restart
        expect_ok "Restart $name"
        wait_until 30 ins_cfg_password_is_not "$name" "$p2" || fail "Restart made no new password"
        ins_wait_state "$name" running
        p3=$(ins_cfg_password "$name")
        [[ $p3 =~ ^[A-Za-z0-9]{32}$ && $p3 != "$p1" ]] || fail "the password after Restart: '$p3'"
        wait_until 15 ins_rcon_ok "$name" || fail "RCON after Restart: $ERR"

        capture in_container systemctl restart left4me.service
        expect_ok "restart left4me"
        reset_start_limit
        daemon_up
        wait_until 10 ins_state_is "$name" running || fail "State after a daemon restart: $(ins_prop "$name" State)"
        assert_eq "$p3" "$(ins_cfg_password "$name")" "the running server's password after a daemon restart"
        wait_until 15 ins_rcon_ok "$name" || fail "RCON after a daemon restart: $ERR"
}
l4m_test instances-rcon-password test_ins_rcon_password 240

ins_cfg_password_is_not() {
        [[ $(ins_cfg_password "$1") != "$2" ]]
}

ins_no_trash_of() {
        [[ -z $(in_container find "$L4M_RUNTIME" -mindepth 1 -maxdepth 1 -name ".trash-$1-*") ]]
}

ins_runtime_absent() {
        in_container test ! -e "$L4M_RUNTIME/$1"
}

# ins_daemon_logged TEXT: left4me's journal has a line holding TEXT.
ins_daemon_logged() {
        in_container journalctl --no-pager -o cat -u left4me.service | grep -F -- "$1" >/dev/null
}

# Delete moves runtime/<name> out of the way at once and removes it in the
# background; at start the daemon sweeps what has no row (a removal a
# restart interrupted, a deleted instance's directory), but never a
# directory with a stack still mounted.
test_ins_runtime_sweep() {
        local name=ins-sweep
        trap 'in_container umount "$L4M_RUNTIME/ins-ghost-mnt/merged" 2>/dev/null || true; in_container rm -rf "$L4M_RUNTIME/ins-ghost-mnt"; ins_remove ins-sweep' EXIT
        ins_setup
        ins_three
        ins_remove "$name"
        ins_create root "$name" ins-bp
        expect_ok "create $name"
        ins_call root "$name" Start
        expect_ok "Start $name"
        ins_wait_state "$name" running
        ins_call root "$name" Stop
        expect_ok "Stop $name"
        ins_wait_state "$name" stopped
        # What the server left in upper/: many files.
        in_container sh -ec "mkdir -p '$L4M_RUNTIME/$name/upper/many' && cd '$L4M_RUNTIME/$name/upper/many' && seq 1 5000 | xargs touch"
        ins_call root "$name" Delete
        expect_ok "Delete $name"
        in_container test ! -e "$L4M_RUNTIME/$name" || fail "runtime/$name is still there after Delete"
        wait_until 20 ins_no_trash_of "$name" || fail "the removed runtime/$name is still there: $(in_container ls -a "$L4M_RUNTIME")"

        step "the start-up sweep"
        in_container sh -ec "
                mkdir -p '$L4M_RUNTIME/.trash-ins-old-0000abcd/upper/x' '$L4M_RUNTIME/ins-ghost/upper' '$L4M_RUNTIME/ins-ghost-mnt/merged'
                echo x > '$L4M_RUNTIME/.trash-ins-old-0000abcd/upper/x/f'
                echo x > '$L4M_RUNTIME/ins-ghost/upper/f'
                mount -t tmpfs ins-ghost '$L4M_RUNTIME/ins-ghost-mnt/merged'
                echo x > '$L4M_RUNTIME/ins-ghost-mnt/merged/f'"
        capture in_container systemctl restart left4me.service
        expect_ok "restart left4me"
        reset_start_limit
        daemon_up
        wait_until 20 ins_runtime_absent .trash-ins-old-0000abcd || fail "an interrupted removal was not swept"
        wait_until 20 ins_runtime_absent ins-ghost || fail "runtime/ins-ghost (no row) was not swept"
        in_container test -e "$L4M_RUNTIME/ins-ghost-mnt/merged/f" || fail "the sweep removed a directory with a mounted merged/"
        # (Logged after the rename the wait above saw: give journald a moment.)
        wait_until 10 ins_daemon_logged "Removing runtime/ins-ghost: no instance row" ||
                fail "the sweep did not log runtime/ins-ghost"
        in_container umount "$L4M_RUNTIME/ins-ghost-mnt/merged"
        in_container rm -rf "$L4M_RUNTIME/ins-ghost-mnt"
}
l4m_test instances-runtime-sweep test_ins_runtime_sweep 240
