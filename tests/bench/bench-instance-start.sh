#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck source-path=SCRIPTDIR
#
# tests/bench/bench-instance-start.sh [--build DIR] [-n COUNT]
#
# How long Instance.Start() takes to the fake srcds' first log line ("fake
# srcds: starting on port ..."), with a blueprint of 1 overlay and one of
# 100 overlays (3 and 102 layers with the config layer and the
# installation), against a bare
#   systemd-run -p User=left4me-game -p WorkingDirectory=<installation>
#               <installation>/srcds_run -game left4dead2 -port P
# of the same fake srcds (tests/fixtures/fake-srcds.py as srcds_run of a
# fake installation), measured the same way in the same run: the time just
# before the call (the Start() call as root with busctl, or systemd-run,
# both through nsenter into the container) to the __REALTIME_TIMESTAMP
# journald gave the first line. Two more comparators separate left4med's
# own cost from the server unit's: the same command line started by
# systemd-run with every setting of the real server unit (taken from
# /run/systemd/transient/left4me-server-NAME.service of a first Start(),
# less ExecStartPre=, ExecStopPost=, PermissionsStartOnly= and ExecStart=)
# against a stack mounted by hand beforehand (S: the sandbox alone), and
# the same with the ExecStartPre=/ExecStopPost= helper calls put back (SM:
# everything but left4med); the properties in which they differ from the
# real unit are printed first. COUNT rounds (default 10), each starting
# and stopping all seven once, in turn, after one untimed round; prints
# every figure, the medians, the ratios of Start() to the bare run (the
# target is 1.5 or less: reported, not asserted), to S and to SM.
#
# On its own (as root) it boots a disposable container as the integration
# tests do (tools/container.sh) and installs the build into it:
#   --build DIR  an existing meson build directory (built with ninja first);
#                without it a fresh one is set up and removed.
# tests/bench/run sources it and calls bench_instance_start in its own
# container (--only instances for just this one; -n does not apply: set
# BIS_COUNT). Prints figures only; no thresholds, no pass/fail.

BIS_COUNT=${BIS_COUNT:-10}
BIS_STATE=/var/lib/left4me
BIS_GAME_USER=left4me-game
BIS_BARE_PORT=27093

bis_now_us() { echo $(($(date +%s%N) / 1000)); }
bis_ms() { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'; }

# bis_path NAME: instance NAME's object path (sd_bus_path_encode()).
bis_path() {
        python3 -c '
import sys
print("/org/left4me/Manager/instance/" + "".join(c if c.isalnum() else "_%02x" % ord(c) for c in sys.argv[1]))' "$1"
}

bis_state() {
        in_container busctl get-property org.left4me.Manager "$(bis_path "$1")" org.left4me.Instance State |
                sed 's/^s "\(.*\)"$/\1/'
}

# bis_wait_state NAME STATE: polls State (0.05 s) for up to 30 s.
bis_wait_state() {
        local i
        for ((i = 0; i < 600; i++)); do
                [[ $(bis_state "$1") == "$2" ]] && return 0
                sleep 0.05
        done
        ctr_die "instance $1 did not get $2 (it is $(bis_state "$1"))"
}

# bis_first_line UNIT SINCE-US: the realtime stamp (µs) of the unit's first
# "fake srcds: starting" line at or after SINCE, waiting up to 30 s.
bis_first_line() {
        local i t
        for ((i = 0; i < 300; i++)); do
                t=$(in_container journalctl --no-pager -o json -u "$1" --since "@$(($2 / 1000000))" | python3 -c '
import json, sys
since = int(sys.argv[1])
for line in sys.stdin:
    e = json.loads(line)
    if int(e["__REALTIME_TIMESTAMP"]) >= since and str(e.get("MESSAGE", "")).startswith("fake srcds: starting"):
        print(e["__REALTIME_TIMESTAMP"])
        break' "$2")
                [[ -n $t ]] && { echo "$t"; return 0; }
                sleep 0.1
        done
        ctr_die "no first line from $1"
}

# bis_instance_run NAME: Start() to the first line in µs; then Stop.
bis_instance_run() {
        local path t0 t1
        path=$(bis_path "$1")
        t0=$(bis_now_us)
        in_container busctl call org.left4me.Manager "$path" org.left4me.Instance Start >/dev/null
        t1=$(bis_first_line "left4me-server-$1.service" "$t0")
        bis_wait_state "$1" running
        in_container busctl call org.left4me.Manager "$path" org.left4me.Instance Stop >/dev/null
        bis_wait_state "$1" stopped
        echo $((t1 - t0))
}

# bis_bare_run: a bare systemd-run of the fake srcds to its first line in µs.
bis_bare_run() {
        local unit t0 t1
        unit=bis-bare-$RANDOM$RANDOM.service
        t0=$(bis_now_us)
        in_container systemd-run --quiet --unit="$unit" -p User="$BIS_GAME_USER" \
                -p WorkingDirectory="$BIS_STATE/installation" "$BIS_STATE/installation/srcds_run" \
                -game left4dead2 -port "$BIS_BARE_PORT"
        t1=$(bis_first_line "$unit" "$t0")
        in_container systemctl stop "$unit"
        in_container systemctl reset-failed "$unit" 2>/dev/null || true
        echo $((t1 - t0))
}

# bis_capture NAME: starts instance NAME once and turns its transient unit
# file (/run/systemd/transient/left4me-server-NAME.service) into
# /var/tmp/bis/NAME.unit in the container, one line each: "P KEY=VALUE"
# for every setting but ExecStartPre=, ExecStopPost=,
# PermissionsStartOnly= and ExecStart= (a systemd-run -p), "A ARG" for
# each word of the ExecStart= command line, "H PATH" for the mount
# helper of ExecStartPre=; then stops it.
bis_capture() {
        local path
        path=$(bis_path "$1")
        in_container busctl call org.left4me.Manager "$path" org.left4me.Instance Start >/dev/null
        bis_wait_state "$1" running
        [[ -z ${BIS_DEBUG:-} ]] || in_container cat "/run/systemd/transient/left4me-server-$1.service" >&2
        in_container systemctl show "left4me-server-$1.service" > "$CTR_DIR/root/var/tmp/bis/$1.show"
        in_container python3 - "/run/systemd/transient/left4me-server-$1.service" "/var/tmp/bis/$1.unit" <<'PY'
import shlex, sys
out, helper, argv = [], None, None
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if not line or line.startswith(("#", ";", "[")) or "=" not in line:
        continue
    key, value = line.split("=", 1)
    if key in ("ExecStartPre", "ExecStart"):
        if not value:  # a reset before the command
            continue
        # "[-+:!]*PATH ARG..." or "[-+:!]*@PATH ARGV0 ARG..." (quoted,
        # C-escaped): systemd-run takes PATH ARG....
        prefix = value[:len(value) - len(value.lstrip("@-+:!"))]
        words = shlex.split(value[len(prefix):])
        if "@" in prefix:
            del words[1]
        if key == "ExecStart":
            argv = words
        else:
            helper = words[0]
        continue
    if key in ("ExecStopPost", "PermissionsStartOnly"):
        continue
    # The server's stdout and stderr are left4med's console pipe, which a
    # systemd-run -p cannot hand over: the comparators write to the
    # journal's stream, and the first line is taken where both arrive, in
    # the journal (its __REALTIME_TIMESTAMP, given by journald).
    if key in ("StandardOutput", "StandardError") and value.split(":")[0] == "fd":
        continue
    if key == "RestrictNamespaces" and not value:
        # Written for the mask 0 (no namespace at all), which the file
        # syntax reads as a reset; -p takes "yes" for it.
        line = "RestrictNamespaces=yes"
    out.append("P " + line)
if not argv or not helper:
    raise SystemExit("%s: no ExecStart= or ExecStartPre=" % sys.argv[1])
out += ["A " + w for w in argv] + ["H " + helper]
with open(sys.argv[2], "w") as f:
    f.write("\n".join(out) + "\n")
PY
        in_container busctl call org.left4me.Manager "$path" org.left4me.Instance Stop >/dev/null
        bis_wait_state "$1" stopped
}

# bis_unit_args NAME: the systemd-run arguments of bis_capture's file
# (-p KEY=VALUE for each setting, "--", the command line), one a line.
bis_unit_args() {
        local line props=() words=()
        while IFS= read -r line; do
                case ${line%% *} in
                P) props+=(-p "${line#P }") ;;
                A) words+=("${line#A }") ;;
                esac
        done < "$CTR_DIR/root/var/tmp/bis/$1.unit"
        printf '%s\n' "${props[@]}" -- "${words[@]}"
}

# bis_sandbox_run NAME [mount]: systemd-run of instance NAME's own command
# with its server unit's settings (sandbox and all), without the daemon, to
# the first line in µs. Without "mount" against a stack mounted by hand
# beforehand (left4me-overlay mount NAME, untimed; unmounted after the
# stop); with it, the unit also has the ExecStartPre=/ExecStopPost= helper
# calls of the real unit (PermissionsStartOnly=yes), so the mount is timed:
# everything the server unit does, without left4med.
bis_sandbox_run() {
        local name=$1 with_mount=${2:-} helper cmd unit t0 t1 args=() extra=()
        mapfile -t args < <(bis_unit_args "$name")
        helper=$(sed -n 's/^H //p' "$CTR_DIR/root/var/tmp/bis/$name.unit")
        cmd=$(sed -n '/^A /{s/^A //p;q}' "$CTR_DIR/root/var/tmp/bis/$name.unit")
        unit=bis-sandbox-$RANDOM$RANDOM.service
        if [[ -n $with_mount ]]; then
                extra=(-p PermissionsStartOnly=yes -p "ExecStartPre=$helper mount $name"
                       -p "ExecStopPost=$helper umount $name")
                # systemd-run looks the command up before it sends it, when
                # the stack is not mounted yet: an executable stand-in in
                # the bare mount point, hidden by the mount, removed after.
                in_container install -m 0755 /dev/null "$cmd"
        else
                in_container "$helper" mount "$name" 2>>"$CTR_DIR/root/var/tmp/bis/helper.log"
        fi
        t0=$(bis_now_us)
        in_container systemd-run --quiet --unit="$unit" "${extra[@]}" "${args[@]}"
        t1=$(bis_first_line "$unit" "$t0")
        in_container systemctl stop "$unit"
        in_container systemctl reset-failed "$unit" 2>/dev/null || true
        if [[ -n $with_mount ]]; then
                in_container rm -f "$cmd"
        else
                in_container "$helper" umount "$name" 2>>"$CTR_DIR/root/var/tmp/bis/helper.log"
        fi
        echo $((t1 - t0))
}

# bis_check NAME: starts the sandbox comparator of NAME once (stack
# mounted by hand) and prints the properties in which its unit differs
# from the real server unit (systemctl show of both, running; figures
# that change from run to run left out): what the comparison leaves out.
bis_check() {
        local name=$1 helper unit args=()
        mapfile -t args < <(bis_unit_args "$name")
        helper=$(sed -n 's/^H //p' "$CTR_DIR/root/var/tmp/bis/$name.unit")
        unit=bis-sandbox-check.service
        in_container "$helper" mount "$name" >/dev/null 2>&1
        in_container systemd-run --quiet --unit="$unit" "${args[@]}"
        bis_first_line "$unit" 0 >/dev/null
        in_container systemctl show "$unit" > "$CTR_DIR/root/var/tmp/bis/$name.check"
        in_container systemctl stop "$unit"
        in_container systemctl reset-failed "$unit" 2>/dev/null || true
        in_container "$helper" umount "$name" >/dev/null 2>&1
        python3 - "$CTR_DIR/root/var/tmp/bis/$name.show" "$CTR_DIR/root/var/tmp/bis/$name.check" <<'PY'
import re, sys
skip = re.compile(r"^(Id|Names|Description|InvocationID|.*Timestamp.*|.*PID|ControlGroup.*|"
                  r"Memory.*|CPUUsage.*|Tasks.*|IO.*Bytes|IO.*Operations|IP.*Bytes|IP.*Packets|"
                  r"Exec(Start|StartPre|StopPost|Main).*|StatusText|Effective.*|NRestarts|"
                  r"Invocation.*|StateChange.*|Inactive.*|Active.*|Condition.*|Assert.*|"
                  r"Requires|Wants|After|Before|Conflicts|RequiresMountsFor|References|"
                  r"FragmentPath|SourcePath|DropInPaths|Transient|PermissionsStartOnly)$")
def load(p):
    d = {}
    for line in open(p):
        k, _, v = line.rstrip("\n").partition("=")
        if not skip.match(k):
            d[k] = v
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
print("settings of the server unit that differ in the sandbox comparator (%s, %d of %d compared): %s" % (
    sys.argv[1].rsplit("/", 1)[1][:-5], len(set(a) & set(b)), len(set(a) | set(b)),
    "; ".join("%s: %r vs %r" % (k, a.get(k), b.get(k)) for k in diff) or "none"))
PY
}

bis_median() {
        printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

bis_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "?" }'; }

# The fake installation, 100 built archive overlays (bis-000 … bis-099,
# one small file each) and blueprints bis-bp1 (bis-000) and bis-bp100 (all
# of them, bis-000 on top); instances bis-one and bis-hundred.
bis_setup() {
        # Bus activation, then the daemon sees the installation.
        bench_fake_installation /var/tmp/bis
        in_container python3 - <<'PY'
import dbus, os, time
bus = dbus.SystemBus()
M = "org.left4me.Manager"
mgr = bus.get_object(M, "/org/left4me/Manager", introspect=False)
opts = dbus.Dictionary({}, signature="sv")
def prop(path, iface, name):
    return bus.get_object(M, path, introspect=False).Get(iface, name, dbus_interface="org.freedesktop.DBus.Properties")
jobs, names = [], ["bis-%03d" % i for i in range(100)]
for name in names:
    p = mgr.CreateOverlay(name, "archive", opts, dbus_interface=M)
    fd = os.open("/var/tmp/bis/layer.tar", os.O_RDONLY)
    jobs.append(bus.get_object(M, p, introspect=False).ImportArchive(dbus.types.UnixFd(fd), opts, dbus_interface="org.left4me.Overlay"))
    os.close(fd)
for j in jobs:
    while str(prop(j, "org.left4me.Job", "State")) in ("queued", "running"):
        time.sleep(0.05)
    if str(prop(j, "org.left4me.Job", "State")) != "succeeded":
        raise SystemExit("import job %s: %s" % (j, prop(j, "org.left4me.Job", "Message")))
mgr.CreateBlueprint("bis-bp1", ["bis-000"], opts, dbus_interface=M)
mgr.CreateBlueprint("bis-bp100", names, opts, dbus_interface=M)
mgr.CreateInstance("bis-one", "bis-bp1", dbus.Dictionary({"port": dbus.UInt16(27091)}, signature="sv"), dbus_interface=M)
mgr.CreateInstance("bis-hundred", "bis-bp100", dbus.Dictionary({"port": dbus.UInt16(27092)}, signature="sv"), dbus_interface=M)
PY
}

# bis_list NAME VALUES...: one labelled line of figures in ms.
bis_list() {
        local label=$1 v
        shift
        printf '%-44s' "$label, ms:"
        for v in "$@"; do printf ' %s' "$(bis_ms "$v")"; done
        echo
}

bench_instance_start() {
        local i one=() hundred=() bare=() sbx1=() sbx100=() sbxm1=() sbxm100=()
        local m1 m100 mb ms1 ms100 msm1 msm100
        [[ $BIS_COUNT =~ ^[1-9][0-9]*$ ]] || ctr_die "bad count: $BIS_COUNT"
        echo
        echo "--- Instance.Start() to the fake srcds' first log line: 1 and 100 overlays against a bare systemd-run and the server unit's settings without left4med, $BIS_COUNT rounds"
        bis_setup
        bis_capture bis-one
        bis_capture bis-hundred
        bis_check bis-one
        bis_check bis-hundred
        # One untimed round: first starts (runtime directories, page cache).
        bis_bare_run >/dev/null
        bis_instance_run bis-one >/dev/null
        bis_instance_run bis-hundred >/dev/null
        bis_sandbox_run bis-one >/dev/null
        bis_sandbox_run bis-hundred >/dev/null
        bis_sandbox_run bis-one mount >/dev/null
        bis_sandbox_run bis-hundred mount >/dev/null
        for ((i = 0; i < BIS_COUNT; i++)); do
                bare+=("$(bis_bare_run)")
                one+=("$(bis_instance_run bis-one)")
                hundred+=("$(bis_instance_run bis-hundred)")
                sbx1+=("$(bis_sandbox_run bis-one)")
                sbx100+=("$(bis_sandbox_run bis-hundred)")
                sbxm1+=("$(bis_sandbox_run bis-one mount)")
                sbxm100+=("$(bis_sandbox_run bis-hundred mount)")
        done
        mb=$(bis_median "${bare[@]}")
        m1=$(bis_median "${one[@]}")
        m100=$(bis_median "${hundred[@]}")
        ms1=$(bis_median "${sbx1[@]}")
        ms100=$(bis_median "${sbx100[@]}")
        msm1=$(bis_median "${sbxm1[@]}")
        msm100=$(bis_median "${sbxm100[@]}")
        echo "A  bare systemd-run (no sandbox, no mount)"
        echo "S  systemd-run with the server unit's settings, stack mounted beforehand (sandbox, no mount, no left4med)"
        echo "SM systemd-run with the server unit's settings and its ExecStartPre= mount (everything but left4med)"
        echo "I  Instance.Start() (left4med, sandbox and mount)"
        bis_list "A  bare systemd-run" "${bare[@]}"
        bis_list "S  sandbox, 1 overlay" "${sbx1[@]}"
        bis_list "S  sandbox, 100 overlays" "${sbx100[@]}"
        bis_list "SM sandbox + mount, 1 overlay" "${sbxm1[@]}"
        bis_list "SM sandbox + mount, 100 overlays" "${sbxm100[@]}"
        bis_list "I  Start(), 1 overlay" "${one[@]}"
        bis_list "I  Start(), 100 overlays" "${hundred[@]}"
        echo "medians (N=$BIS_COUNT), ms:     A $(bis_ms "$mb")"
        echo "                  1 overlay:   S $(bis_ms "$ms1"), SM $(bis_ms "$msm1"), I $(bis_ms "$m1")"
        echo "                100 overlays:  S $(bis_ms "$ms100"), SM $(bis_ms "$msm100"), I $(bis_ms "$m100")"
        echo "ratios I/A, Start() to bare systemd-run (target <= 1.5): 1 overlay $(bis_ratio "$m1" "$mb"), 100 overlays $(bis_ratio "$m100" "$mb")"
        echo "ratios I/S, Start() to the sandbox alone:                1 overlay $(bis_ratio "$m1" "$ms1"), 100 overlays $(bis_ratio "$m100" "$ms100")"
        echo "ratios I/SM, Start() to everything but left4med:         1 overlay $(bis_ratio "$m1" "$msm1"), 100 overlays $(bis_ratio "$m100" "$msm100")"
        goal_row "\`Instance.Start()\` → first log line ÷ \`systemd-run\` with the same unit settings" \
                "$(bis_ratio "$m1" "$msm1") (I/SM, 1 overlay; $(bis_ms "$m1") / $(bis_ms "$msm1") ms)" "≤ 1.10"
        echo "differences of medians, ms: I-SM (left4med's own) 1 overlay $(bis_ms $((m1 - msm1))), 100 overlays $(bis_ms $((m100 - msm100))); SM-S (the mount) $(bis_ms $((msm1 - ms1))), $(bis_ms $((msm100 - ms100))); S-A (the sandbox) $(bis_ms $((ms1 - mb))), $(bis_ms $((ms100 - mb)))"
}

# On its own: a container of its own.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
        set -euo pipefail
        # shellcheck source=../../tools/container.sh
        source "$(dirname "${BASH_SOURCE[0]}")/../../tools/container.sh"
        # shellcheck source=bench-fixture.sh
        source "$(dirname "${BASH_SOURCE[0]}")/bench-fixture.sh"
        BUILD=
        while (($#)); do
                case $1 in
                --build) BUILD=${2:?--build needs a directory}; shift 2 ;;
                -n | --count) BIS_COUNT=${2:?-n needs a number}; shift 2 ;;
                -h | --help) awk 'NR > 2 && /^#/ { if ($0 !~ /shellcheck/) { sub(/^# ?/, ""); print }; next } NR > 2 { exit }' "$0"; exit 0 ;;
                *) echo "unknown argument: $1" >&2; exit 2 ;;
                esac
        done
        [[ $BIS_COUNT =~ ^[1-9][0-9]*$ ]] || ctr_die "bad count: $BIS_COUNT"
        ctr_require_root
        OWN_BUILD=
        bis_finish() {
                local rc=$?
                trap - EXIT INT TERM HUP
                ctr_stop
                [[ -z $OWN_BUILD ]] || rm -rf "$OWN_BUILD"
                exit "$rc"
        }
        trap bis_finish EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM HUP
        ctr_install_deps
        if [[ -z $BUILD ]]; then
                OWN_BUILD=$(mktemp -d "${TMPDIR:-/tmp}/left4me-build.XXXXXXXX")
                BUILD=$OWN_BUILD
                meson setup "$BUILD" "$L4M_SRCDIR" >/dev/null
        fi
        ninja -C "$BUILD" >/dev/null
        CTR_NAME=${L4M_CTR_NAME:-left4me-bench}
        ctr_boot
        ctr_install_build "$BUILD"
        echo "=== left4me instance start benchmark ($(git -C "$L4M_SRCDIR" describe --always --dirty 2>/dev/null || echo "unknown revision"), $(nproc) CPUs, kernel $(uname -r))"
        bench_instance_start
fi
