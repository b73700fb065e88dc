# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Helpers for the integration tests (tests/integration/test-*.sh). Sourced by
# tests/integration/run, and again by every test process it starts: each test
# is one bash function run in its own process under `timeout`, with
# set -Eeuo pipefail, so an unexpected failing command fails the test too.
#
# A test reports what went wrong with `fail REASON` (or an assertion below),
# and adds lines to the summary printed after ok/FAIL with `note TEXT`.
# Everything the helpers log goes to stderr, so that functions can return
# values on stdout; the runner keeps both in the test's log.
#
# Tests register themselves, in the order they run:
#   l4m_test NAME FUNCTION [TIMEOUT-SECONDS]

# shellcheck disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/../../tools/container.sh"

L4M_BUS=org.left4me.Manager
L4M_MANAGER=/org/left4me/Manager
L4M_OVERLAY_PREFIX=/org/left4me/Manager/overlay
L4M_STATE=/var/lib/left4me
L4M_DB=$L4M_STATE/db/left4me.db
L4M_OVERLAYS=$L4M_STATE/overlays
L4M_CALL_TIMEOUT=${L4M_CALL_TIMEOUT:-30}

L4M_TEST_NAMES=()
L4M_TEST_FUNCS=()
L4M_TEST_TIMEOUTS=()

l4m_test() {
        L4M_TEST_NAMES+=("$1")
        L4M_TEST_FUNCS+=("$2")
        L4M_TEST_TIMEOUTS+=("${3:-120}")
}

# --- reporting ---------------------------------------------------------

fail() {
        printf 'reason: %s\n' "$*" >&2
        exit 1
}

note() {
        printf '%s\n' "$*" >>"${L4M_NOTES:-/dev/null}"
        printf 'note: %s\n' "$*" >&2
}

# Shows a step in the test's log (printed only when the test fails).
step() {
        printf -- '--- %s\n' "$*" >&2
}

# --- running things ----------------------------------------------------

# run_as USER CMD...: runs CMD in the container as USER (root: as root).
run_as() {
        local user=$1
        shift
        if [[ $user == root ]]; then
                in_container "$@"
        else
                as_user "$user" "$@"
        fi
}

# capture CMD...: runs CMD, never failing; sets RC, OUT (stdout), ERR (stderr).
capture() {
        local o e
        o=$(mktemp) e=$(mktemp)
        if "$@" >"$o" 2>"$e"; then
                RC=0
        else
                RC=$?
        fi
        OUT=$(<"$o")
        ERR=$(<"$e")
        rm -f "$o" "$e"
        {
                printf '$ %s\n  -> exit %s\n' "$*" "$RC"
                if [[ -n $OUT ]]; then
                        head -n 20 <<<"$OUT" | cut -c 1-300 | sed 's/^/  stdout: /'
                fi
                if [[ -n $ERR ]]; then
                        head -n 20 <<<"$ERR" | cut -c 1-300 | sed 's/^/  stderr: /'
                fi
        } >&2
}

# wait_until SECONDS CMD...: polls CMD every 0.1 s until it succeeds.
wait_until() {
        local secs=$1 deadline
        shift
        deadline=$(($(date +%s%N) + secs * 1000000000))
        while (($(date +%s%N) < deadline)); do
                if "$@" >/dev/null 2>&1; then
                        return 0
                fi
                sleep 0.1
        done
        "$@" >/dev/null 2>&1
}

# GVariant text for a string.
gv_str() {
        local s=${1//\\/\\\\}
        s=${s//\'/\\\'}
        printf "'%s'" "$s"
}

# gcall USER [-i] PATH INTERFACE.METHOD [GVARIANT-ARG...]: a method call on
# left4me with gdbus, which (unlike busctl) prints the D-Bus error name:
# "GDBus.Error:NAME: message". -i sets the allow-interactive-authorization
# flag. Sets RC, OUT, ERR like capture.
gcall() {
        local user=$1 interactive=()
        shift
        if [[ $1 == -i ]]; then
                interactive=(--interactive)
                shift
        fi
        local path=$1 method=$2
        shift 2
        capture run_as "$user" gdbus call --system --timeout "$L4M_CALL_TIMEOUT" \
                "${interactive[@]}" --dest "$L4M_BUS" --object-path "$path" --method "$method" "$@"
}

# expect_ok WHAT: the last capture/gcall succeeded.
expect_ok() {
        ((RC == 0)) || fail "$1: expected success, got exit $RC: ${ERR:-$OUT}"
}

# expect_dbus_error NAME WHAT: the last gcall failed with D-Bus error NAME.
expect_dbus_error() {
        local name=$1 what=$2 got
        if ((RC == 0)); then
                fail "$what: expected $name, got success: $OUT"
        fi
        if [[ "$OUT$ERR" != *"GDBus.Error:$name:"* ]]; then
                got=$(grep -o 'GDBus\.Error:[A-Za-z0-9_.]*' <<<"$OUT$ERR" | head -n 1)
                fail "$what: expected $name, got ${got#GDBus.Error:}${got:+ }(${ERR:-$OUT})"
        fi
}

# expect_exit CODE WHAT: the last capture exited with CODE.
expect_exit() {
        ((RC == $1)) || fail "$2: expected exit $1, got exit $RC: ${ERR:-$OUT}"
}

assert_eq() {
        [[ $1 == "$2" ]] || fail "$3: expected '$1', got '$2'"
}

# --- left4me specifics -----------------------------------------------------

# Makes sure left4me runs (activating it by a call if needed).
daemon_up() {
        local state
        capture in_container busctl --timeout="$L4M_CALL_TIMEOUT" call "$L4M_BUS" "$L4M_MANAGER" \
                org.freedesktop.DBus.Peer Ping
        ((RC == 0)) || fail "cannot reach left4me: $ERR"
        if ! wait_until 10 unit_is_active; then
                state=$(in_container systemctl is-active left4me.service || true)
                fail "left4me.service is $state after a successful call"
        fi
}

# Stops left4me and waits until it is inactive. Then resets the unit's start
# rate limit (5 starts in 10 s by default), which the tests' deliberate
# restarts would otherwise hit; read Result= etc. before calling this.
daemon_stop() {
        capture in_container systemctl stop left4me.service
        expect_ok "systemctl stop left4me"
        wait_until 20 unit_is_inactive || fail "left4me.service did not stop"
        reset_start_limit
}

# Forgets left4me.service's start rate limit. An inactive unit may already
# have been unloaded (garbage-collected), and its counters with it: then
# there is nothing to reset and systemctl says "not loaded", which is fine.
reset_start_limit() {
        in_container systemctl reset-failed left4me.service 2>/dev/null || true
}

unit_is_active() {
        [[ $(in_container systemctl is-active left4me.service) == active ]]
}

unit_is_inactive() {
        local s
        s=$(in_container systemctl is-active left4me.service) || true
        [[ $s == inactive || $s == failed ]]
}

# unit_prop PROPERTY: the value of a property of left4me.service.
unit_prop() {
        in_container systemctl show -P "$1" left4me.service
}

# sql QUERY: runs QUERY read-only on left4me's database, '|'-separated rows.
sql() {
        in_container sqlite3 -readonly -batch -noheader "$L4M_DB" "$1"
}

row_count() {
        sql 'SELECT count(*) FROM overlays;'
}

# The rows as "id|name|type|owner", ordered by id.
rows() {
        sql "SELECT id || '|' || name || '|' || type || '|' || owner FROM overlays ORDER BY id;"
}

# row_id NAME: the id of the row called NAME (empty if none).
row_id() {
        sql "SELECT id FROM overlays WHERE name = '$1';"
}

# The directories in overlays/, one a line, sorted.
overlay_dirs() {
        in_container find "$L4M_OVERLAYS" -mindepth 1 -maxdepth 1 -printf '%f\n' | LC_ALL=C sort
}

dir_exists() {
        in_container test -d "$L4M_OVERLAYS/$1"
}

dir_missing() {
        ! in_container test -e "$L4M_OVERLAYS/$1"
}

# id_of_path OBJECT-PATH: the overlay id at the end of an object path.
id_of_path() {
        local id=${1##*/}
        [[ $1 == "$L4M_OVERLAY_PREFIX/"* && $id =~ ^[0-9]+$ ]] || fail "not an overlay object path: '$1'"
        printf '%s\n' "$id"
}

# path_from_output: the first overlay object path in OUT.
path_from_output() {
        grep -o "$L4M_OVERLAY_PREFIX/[0-9A-Za-z_]*" <<<"$OUT" | head -n 1
}

# create_overlay USER NAME [TYPE]: creates it with gdbus; prints the path.
create_overlay() {
        local path
        gcall "$1" "$L4M_MANAGER" org.left4me.Manager.CreateOverlay "$(gv_str "$2")" \
                "$(gv_str "${3:-workshop}")" '{}'
        expect_ok "$1 creates overlay $2"
        path=$(path_from_output)
        [[ -n $path ]] || fail "CreateOverlay($2) answered no object path: $OUT"
        printf '%s\n' "$path"
}

# ensure_overlay USER NAME [TYPE]: creates it unless it exists; prints the path.
ensure_overlay() {
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetOverlay "$(gv_str "$2")"
        if ((RC == 0)); then
                path_from_output
        else
                create_overlay "$@"
        fi
}

# delete_overlay USER OBJECT-PATH
delete_overlay() {
        gcall "$1" "$2" org.left4me.Overlay.Delete
        expect_ok "$1 deletes $2"
}

# json PYTHON-EXPRESSION: evaluates the expression with `d` bound to the JSON
# document on stdin and prints the result (strings bare, the rest as JSON).
json() {
        python3 -c '
import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1])
print(v if isinstance(v, str) else json.dumps(v))
' "$1"
}

# --- jobs, fixtures and bus helpers (Workshop, archive and job tests) ------

L4M_JOB_PREFIX=/org/left4me/Manager/job
L4M_CACHE=$L4M_STATE/workshop_cache
L4M_JOBS=$L4M_STATE/jobs
L4M_CONF_D=/etc/left4me/left4me.conf.d
# Where the test tools live inside the container (its root is written to
# from the host through $CTR_DIR/root).
L4M_TOOLS=/usr/local/libexec/left4me-tests
L4M_PY=/usr/bin/python3

# test_files_setup: left4me running and the test tools installed; sets
# TF_DIR (a fresh directory in the container for this test's files) and
# TF_HOST (the same directory seen from the host).
test_files_setup() {
        daemon_up
        l4m_tools_install
        TF_DIR=/var/tmp/l4m-tests/$(basename "$L4M_WORK" .work)
        TF_HOST=$CTR_DIR/root$TF_DIR
        rm -rf "$TF_HOST"
        mkdir -p "$TF_HOST"
}

# l4m_tools_install: puts the fake Steam API, the RAR 5 writer and the bus
# helper (l4m_bus.py, below) into the container; cheap and idempotent.
l4m_tools_install() {
        local dir=$CTR_DIR/root$L4M_TOOLS f
        [[ -n ${CTR_DIR:-} && -d $CTR_DIR/root ]] || fail "l4m_tools_install: no container root"
        mkdir -p "$dir"
        for f in fake-steam-api.py make-rar.py; do
                if [[ ! -f $dir/$f || $L4M_SRCDIR/tests/fixtures/$f -nt $dir/$f ]]; then
                        install -m 0755 "$L4M_SRCDIR/tests/fixtures/$f" "$dir/$f.tmp"
                        mv "$dir/$f.tmp" "$dir/$f"
                fi
        done
        if [[ ! -f $dir/l4m_bus.py ]]; then
                l4m_bus_py >"$dir/l4m_bus.py.tmp"
                chmod 0755 "$dir/l4m_bus.py.tmp"
                mv "$dir/l4m_bus.py.tmp" "$dir/l4m_bus.py"
        fi
}

# l4m_bus_py: the text of l4m_bus.py, a python3-dbus helper run inside the
# container. As a program:
#   l4m_bus.py import OVERLAY FILE [--options JSON] [--fd-kind KIND]
#       ImportArchive with FILE passed as a file descriptor; KIND is file
#       (default), pipe (FILE fed through a pipe), dir (FILE is a directory,
#       opened O_DIRECTORY), socket (a fresh unconnected socket) or wronly
#       (FILE opened write-only). JSON maps option names to [signature,
#       value]. Prints the job's object path.
#   l4m_bus.py wait JOB [--timeout S]   waits until the job has finished;
#       prints "STATE<tab>MESSAGE"; exit 2 on time-out. Rides out a daemon
#       restart.
#   l4m_bus.py log JOB [--follow] [--timeout S]   OpenLog; copies it to stdout.
# OVERLAY is a name or an object path. D-Bus errors are printed as
# "GDBus.Error:NAME: message" on stderr (exit 3), like gdbus, so that
# expect_dbus_error works. Tests' own python (pybus) imports it.
l4m_bus_py() {
        cat <<'PY'
#!/usr/bin/python3
"""left4me integration test helper (python3-dbus); see tests/integration/lib.sh."""
import json, os, select, socket, sys, threading, time
import dbus

BUS = "org.left4me.Manager"
MGR = "/org/left4me/Manager"
PROPS = "org.freedesktop.DBus.Properties"
MANAGER_IF = "org.left4me.Manager"
OVERLAY_IF = "org.left4me.Overlay"
JOB_IF = "org.left4me.Job"
FINAL = ("succeeded", "failed", "cancelled")
_bus = None


def bus(mainloop=False):
    global _bus
    if _bus is None:
        if mainloop:
            from dbus.mainloop.glib import DBusGMainLoop
            DBusGMainLoop(set_as_default=True)
        _bus = dbus.SystemBus()
    return _bus


def method(path, iface, name):
    return bus().get_object(BUS, path, introspect=False).get_dbus_method(name, iface)


def call(path, iface, name, *args, timeout=30):
    return method(path, iface, name)(*args, timeout=timeout)


def prop(path, iface, name):
    return call(path, PROPS, "Get", iface, name)


def props(path, iface):
    return {str(k): v for k, v in call(path, PROPS, "GetAll", iface).items()}


def overlay_path(name_or_path):
    if name_or_path.startswith("/"):
        return name_or_path
    return str(call(MGR, MANAGER_IF, "GetOverlay", name_or_path))


def options(spec):
    d = dbus.Dictionary({}, signature="sv")
    for k, (sig, v) in (json.loads(spec) if spec else {}).items():
        conv = {"s": dbus.String, "u": dbus.UInt32, "t": dbus.UInt64, "i": dbus.Int32,
                "b": dbus.Boolean, "as": lambda x: dbus.Array(x, signature="s")}[sig]
        d[k] = conv(v)
    return d


def import_archive(overlay, path, opts=None, fd_kind="file"):
    """ImportArchive; returns the job path. Raises DBusException."""
    feeder = None
    if fd_kind == "file":
        fd = os.open(path, os.O_RDONLY)
    elif fd_kind == "wronly":
        fd = os.open(path, os.O_WRONLY)
    elif fd_kind == "dir":
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    elif fd_kind == "socket":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        fd = os.dup(s.fileno())
        s.close()
    elif fd_kind == "pipe":
        fd, w = os.pipe()

        def feed():
            with open(path, "rb") as f, os.fdopen(w, "wb") as out:
                while True:
                    b = f.read(65536)
                    if not b:
                        break
                    try:
                        out.write(b)
                    except BrokenPipeError:
                        break
        feeder = threading.Thread(target=feed, daemon=True)
    else:
        raise ValueError(fd_kind)
    try:
        job = call(overlay_path(overlay), OVERLAY_IF, "ImportArchive",
                   dbus.types.UnixFd(fd), opts if opts is not None else dbus.Dictionary({}, signature="sv"))
    finally:
        os.close(fd)
    if feeder:
        feeder.start()
        feeder.join(120)
    return str(job)


def job_wait(job, timeout=60.0):
    """(state, message) once finished; None on time-out. Survives restarts."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            st = str(prop(job, JOB_IF, "State"))
            if st in FINAL:
                return st, str(prop(job, JOB_IF, "Message"))
        except dbus.exceptions.DBusException:
            pass
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.1)


def open_log(job, follow=False):
    fd = call(job, JOB_IF, "OpenLog", dbus.Boolean(follow))
    return fd.take() if hasattr(fd, "take") else os.dup(fd)


def read_fd(fd, timeout=30.0, until_eof=True):
    """Reads until EOF (or until nothing comes for `timeout` s); (bytes, eof)."""
    data = b""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return data, False
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            return data, False
        b = os.read(fd, 65536)
        if not b:
            return data, True
        data += b
        if not until_eof:
            deadline = time.monotonic() + timeout


def dbus_error_exit(e):
    sys.stderr.write("GDBus.Error:%s: %s\n" % (e.get_dbus_name(), e.get_dbus_message()))
    sys.exit(3)


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(prog="l4m_bus.py")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("import")
    p.add_argument("overlay")
    p.add_argument("file")
    p.add_argument("--options", default="")
    p.add_argument("--fd-kind", default="file")
    p = sub.add_parser("wait")
    p.add_argument("job")
    p.add_argument("--timeout", type=float, default=60)
    p = sub.add_parser("log")
    p.add_argument("job")
    p.add_argument("--follow", action="store_true")
    p.add_argument("--timeout", type=float, default=30)
    a = ap.parse_args(argv)
    try:
        if a.cmd == "import":
            print(import_archive(a.overlay, a.file, options(a.options), a.fd_kind))
        elif a.cmd == "wait":
            res = job_wait(a.job, a.timeout)
            if res is None:
                print("timeout\t")
                return 2
            print("%s\t%s" % res)
        elif a.cmd == "log":
            fd = open_log(a.job, a.follow)
            data, eof = read_fd(fd, a.timeout)
            sys.stdout.buffer.write(data)
            if not eof:
                sys.stderr.write("log: no end of file after %s s\n" % a.timeout)
                return 2
    except dbus.exceptions.DBusException as e:
        dbus_error_exit(e)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
PY
}

# l4mbus USER ARGS...: runs l4m_bus.py in the container as USER; sets RC,
# OUT, ERR like capture.
l4mbus() {
        local user=$1
        shift
        l4m_tools_install
        capture run_as "$user" "$L4M_PY" "$L4M_TOOLS/l4m_bus.py" "$@"
}

# pybus USER [ARG...] <<'PY' ... PY: runs a python script from standard input
# in the container as USER with l4m_bus imported (from l4m_bus import *).
pybus() {
        local user=$1 script
        shift
        l4m_tools_install
        script="import sys; sys.path.insert(0, '$L4M_TOOLS'); from l4m_bus import *"$'\n'$(cat)
        run_as "$user" "$L4M_PY" -c "$script" "$@"
}

# job_path_from_output: the first job object path in OUT.
job_path_from_output() {
        grep -o "$L4M_JOB_PREFIX/[0-9]*" <<<"$OUT" | head -n 1
}

# job_id_of PATH: the job's id.
job_id_of() {
        printf '%s\n' "${1##*/}"
}

# job_wait JOB [TIMEOUT]: waits until JOB has finished; sets JOB_STATE and
# JOB_MSG. Fails the test on time-out.
job_wait() {
        local job=$1 limit=${2:-60}
        l4mbus root wait "$job" --timeout "$limit"
        ((RC == 0)) || fail "job $job did not finish in ${limit}s (state $(job_prop "$job" State || true))"
        JOB_STATE=${OUT%%$'\t'*}
        JOB_MSG=${OUT#*$'\t'}
        step "job $job: $JOB_STATE: $JOB_MSG"
}

# expect_job STATE WHAT: the last job_wait ended in STATE.
expect_job() {
        [[ $JOB_STATE == "$1" ]] || fail "$2: expected the job to end $1, it ended $JOB_STATE: $JOB_MSG"
}

# job_prop JOB PROPERTY: the value of a property of a job (strings bare).
job_prop() {
        local out
        out=$(in_container busctl --timeout="$L4M_CALL_TIMEOUT" get-property "$L4M_BUS" "$1" org.left4me.Job "$2") || return 1
        out=${out#* }
        out=${out#\"}
        printf '%s\n' "${out%\"}"
}

# ov_prop PATH PROPERTY: the value of a property of an overlay (strings bare).
ov_prop() {
        local out
        out=$(in_container busctl --timeout="$L4M_CALL_TIMEOUT" get-property "$L4M_BUS" "$1" org.left4me.Overlay "$2") || return 1
        out=${out#* }
        out=${out#\"}
        printf '%s\n' "${out%\"}"
}

# job_log_text JOB: the job's log file as the daemon wrote it.
job_log_text() {
        in_container cat "$L4M_JOBS/$(job_id_of "$1").log"
}

# expect_log JOB TEXT...: the job's log contains every TEXT (fixed strings).
expect_log() {
        local job=$1 log t
        shift
        log=$(job_log_text "$job")
        for t in "$@"; do
                grep -qF -- "$t" <<<"$log" || {
                        printf '%s\n' "$log" | tail -n 30 | sed 's/^/  job log: /' >&2
                        fail "the log of $job lacks '$t'"
                }
        done
}

# ov_build PATH: Build(); sets JOB to the job's path.
ov_build() {
        gcall root "$1" org.left4me.Overlay.Build '{}'
        expect_ok "Build() on $1"
        JOB=$(job_path_from_output)
        [[ -n $JOB ]] || fail "Build() answered no job path: $OUT"
}

# ov_build_wait PATH [TIMEOUT]: Build() and job_wait; JOB, JOB_STATE, JOB_MSG.
ov_build_wait() {
        ov_build "$1"
        job_wait "$JOB" "${2:-60}"
}

# gv_strv S...: GVariant text for an array of strings.
gv_strv() {
        local out='[' s sep=''
        for s in "$@"; do
                out+=$sep$(gv_str "$s")
                sep=', '
        done
        printf '%s]' "$out"
}

# ws_set PATH REF...: SetWorkshopItems as root, which must succeed.
ws_set() {
        local path=$1
        shift
        gcall root "$path" org.left4me.Overlay.SetWorkshopItems "$(gv_strv "$@")"
        expect_ok "SetWorkshopItems($*) on $path"
}

# ws_new NAME REF...: a new Workshop overlay owned by root with these items;
# prints its path.
ws_new() {
        local name=$1 path
        shift
        path=$(create_overlay root "$name" workshop)
        ws_set "$path" "$@" >&2
        printf '%s\n' "$path"
}

# addons_dir OVERLAY-ID
addons_dir() {
        printf '%s\n' "$L4M_OVERLAYS/$1/left4dead2/addons"
}

# addons_listing OVERLAY-ID: "name type target" of addons/, sorted.
addons_listing() {
        in_container sh -c "cd '$(addons_dir "$1")' 2>/dev/null && find . -mindepth 1 -maxdepth 1 -printf '%f %y %l\n'" |
                LC_ALL=C sort
}

# expect_links OVERLAY-ID ID:TIME_UPDATED...: addons/ holds exactly these
# links (each pointing at the cache file) and no other "<digits>.vpk" link
# into the cache.
expect_links() {
        local ov=$1 want='' got spec
        shift
        for spec in "$@"; do
                want+="${spec%%:*}.vpk l $L4M_CACHE/${spec%%:*}/${spec#*:}.vpk"$'\n'
        done
        want=$(printf '%s' "$want" | LC_ALL=C sort)
        got=$(addons_listing "$ov" | grep -E "^[0-9]+\.vpk l $L4M_CACHE/" || true)
        [[ $want == "$got" ]] || fail "links of overlay $ov: expected [$(paste -sd ';' <<<"$want")], got [$(paste -sd ';' <<<"$got")]"
}

# fx_content_sha256 ID TIME_UPDATED SIZE: sha256 of what the fake Steam API
# serves for that file (its deterministic content).
fx_content_sha256() {
        "$L4M_PY" - "$@" <<'PY'
import hashlib, sys
i, tu, size = (int(x) for x in sys.argv[1:4])
P = 65521
block = b"".join(hashlib.sha256(b"%d:%d:%d" % (i, tu, k)).digest() for k in range((P + 31) // 32))[:P]
h = hashlib.sha256()
left = size
while left > 0:
    n = min(left, P)
    h.update(block[:n])
    left -= n
print(h.hexdigest())
PY
}

# expect_cache_file ID TIME_UPDATED SIZE: the cache holds the right bytes.
expect_cache_file() {
        local f=$L4M_CACHE/$1/$2.vpk want got size
        size=$(in_container stat -c %s "$f" 2>/dev/null) || fail "cache file $f is missing"
        assert_eq "$3" "$size" "size of $f"
        want=$(fx_content_sha256 "$1" "$2" "$3")
        got=$(in_container sha256sum "$f" | cut -d' ' -f1)
        assert_eq "$want" "$got" "sha256 of $f (the fixture's content)"
}

# fixture_start [CONFIG-JSON]: starts the fake Steam API (tests/fixtures)
# in the container on loopback as this test's background process (it dies
# with the test) and points left4me at it with a drop-in, reloading the
# configuration. Sets FX_DIR (in the container), FX_HOST_DIR (the same
# directory from the host), FX_PORT and FX_URL.
fixture_start() {
        local cfg=${1:-'{}'} name
        l4m_tools_install
        name=$(basename "$L4M_WORK" .work)
        FX_DIR=/var/tmp/l4m-tests/$name/fixture
        FX_HOST_DIR=$CTR_DIR/root$FX_DIR
        rm -rf "$FX_HOST_DIR"
        mkdir -p "$FX_HOST_DIR"
        fixture_config "$cfg"
        in_container "$L4M_PY" "$L4M_TOOLS/fake-steam-api.py" --listen 127.0.0.1:0 \
                --port-file "$FX_DIR/port" --config "$FX_DIR/config.json" \
                </dev/null >"$L4M_WORK/fixture.log" 2>&1 &
        # shellcheck disable=SC2034 # for tests that want to stop it early
        FX_PID=$!
        wait_until 10 test -s "$FX_HOST_DIR/port" || fail "the fake Steam API did not start: $(cat "$L4M_WORK/fixture.log")"
        FX_PORT=$(<"$FX_HOST_DIR/port")
        FX_URL=http://127.0.0.1:$FX_PORT
        step "fake Steam API at $FX_URL (config $FX_DIR/config.json)"
        l4m_conf 50-test "[Steam]
ApiUrl=$FX_URL/"
}

# fixture_config JSON: replaces the fixture's configuration (read by it on
# every request).
fixture_config() {
        printf '%s\n' "$1" >"$FX_HOST_DIR/config.json.tmp"
        mv "$FX_HOST_DIR/config.json.tmp" "$FX_HOST_DIR/config.json"
}

# fx_stats [PYTHON-EXPRESSION]: the fixture's /_stats (as JSON), or the
# expression evaluated on it (d = the stats), like json.
fx_stats() {
        local s
        s=$(in_container curl -sS --max-time 10 "$FX_URL/_stats") || fail "cannot read the fixture's /_stats"
        if (($#)); then
                json "$1" <<<"$s"
        else
                printf '%s\n' "$s"
        fi
}

# fx_reset_stats, fx_reset: zero the counters (fx_reset re-arms faults too).
fx_reset_stats() {
        in_container curl -sS --max-time 10 -X POST -d '' "$FX_URL/_reset_stats" >/dev/null ||
                fail "cannot reset the fixture's counters"
}
fx_reset() {
        in_container curl -sS --max-time 10 -X POST -d '' "$FX_URL/_reset" >/dev/null ||
                fail "cannot reset the fixture"
}

# fx_item_downloads ID: complete downloads of item ID the fixture served.
fx_item_downloads() {
        fx_stats "d['items'].get('$1', {}).get('downloads', 0)"
}

# l4m_conf NAME TEXT: writes /etc/left4me/left4me.conf.d/NAME.conf and makes
# a running left4me re-read its configuration (systemctl reload, then waits
# for its "Configuration reloaded" line). Remove it with l4m_conf_remove.
l4m_conf() {
        in_container mkdir -p "$L4M_CONF_D"
        printf '%s\n' "$2" >"$CTR_DIR/root$L4M_CONF_D/.$1.conf.tmp"
        mv "$CTR_DIR/root$L4M_CONF_D/.$1.conf.tmp" "$CTR_DIR/root$L4M_CONF_D/$1.conf"
        step "config drop-in $1.conf: $(paste -sd ' ' <<<"$2")"
        daemon_reload_config
}

l4m_conf_remove() {
        rm -f "$CTR_DIR/root$L4M_CONF_D/$1.conf"
        daemon_reload_config
}

# daemon_reload_config: systemctl reload (SIGHUP) if left4me runs, and waits
# until it says it has re-read the configuration.
daemon_reload_config() {
        local since
        unit_is_active || return 0
        since=$(date +%s.%N)
        capture in_container systemctl reload left4me.service
        expect_ok "systemctl reload left4me"
        wait_until 10 config_reloaded_since "$since" || fail "left4me did not log that it re-read its configuration"
}

config_reloaded_since() {
        in_container journalctl --no-pager -q -o cat -u left4me.service --since "@$1" \
                --grep 'Configuration reloaded' | grep -q .
}

# mainpid_changed_from PID: left4me runs with another main process.
mainpid_changed_from() {
        local p
        p=$(unit_prop MainPID)
        [[ $p != 0 && $p != "$1" ]]
}

# kill_test_child PID: ends a background process this test started.
kill_test_child() {
        [[ -n ${1:-} ]] || return 0
        kill "$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
}

# no_trash_left: no tree the daemon moved aside to remove in the background
# (overlays/.trash-*) is left.
no_trash_left() {
        [[ -z $(in_container find "$L4M_OVERLAYS" -mindepth 1 -maxdepth 1 -name '.trash-*') ]]
}

# state_snapshot: what must not change when an archive is refused: every
# entry of /var/lib/left4me (except the job logs and the database) with
# type, size, mode and link count, files' sha256, /etc/passwd and
# /etc/shadow (hash, link count) and the names in / and /etc.
state_snapshot() {
        in_container sh -c '
                cd /var/lib/left4me &&
                find . \( -path ./jobs -o -path ./db \) -prune -o -printf "%p %y %s %m %n %l\n" | LC_ALL=C sort &&
                find . \( -path ./jobs -o -path ./db \) -prune -o -type f -print0 | LC_ALL=C sort -z |
                        xargs -0r sha256sum &&
                sha256sum /etc/passwd /etc/shadow && stat -c "%n %h %s %a" /etc/passwd /etc/shadow &&
                ls -A / | paste -sd " " && ls -A /etc | paste -sd " "'
}

# --- script overlays: the test network, sandbox scripts and their jobs -----
#
# Script overlays run a bash script in a hardened transient unit
# (left4me-script-<job>.service, as a uid of [Script] FirstUID= to LastUID=
# of its own). The container has no
# network of its own (--private-network), so script_net_setup makes "the
# public internet" inside it: a separate host, the network namespace
# l4m-inet, joined to the container by a veth pair (l4m-pub in the
# container, 198.51.100.2/24 and 2001:db8::2/64; l4m-inet0 in the
# namespace, 198.51.100.1/24 and 2001:db8::1/64). The namespace runs a web
# server on port 80 and a fake DNS server (tests/fixtures/fake-dns.py) on
# 198.51.100.1:53 that answers every name under example.test with its
# addresses. The public servers must not run on an address of the container
# itself: left4me denies a script every address of the host's own
# interfaces. What must stay unreachable runs in the container's own
# namespace: the same web server on loopback, on 0.0.0.0:8081 and [::]:8082
# (so also on the container's own public addresses, 198.51.100.2 and
# 2001:db8::2), and on a link l4m-priv with RFC 1918, link-local, CGNAT and
# ULA addresses. The servers run as transient units of the container's
# systemd (l4m-inet-www.service and l4m-inet-dns.service join the namespace
# by NetworkNamespacePath=; l4m-test-www.service), so they outlive the test
# that started them; script_net_setup starts them again if they are gone.
# All web servers log to one access log, all in the container's file
# system. left4me is pointed at a resolv.conf naming the fake DNS server by
# a drop-in.
#
# A script test calls sc_setup first, then sc_start/sc_run NAME <<'SH' (a
# root-owned script overlay runs the script; JOB, SC_PATH, SC_ID, SC_UNIT,
# SC_LOG), sc_set/sc_get/sc_build for other users. The probes a script can
# run (net_probe_py, fs_probe_py, syscall_probe_py; wrapped into a script by
# sc_python_script) print one "TAG {json}" line, read with sc_result and
# json_into; each also runs outside the sandbox as the control.

L4M_NET_DIR=/var/tmp/l4m-net
L4M_NET_WWW=$L4M_NET_DIR/www
L4M_NET_WWW_LOG=$L4M_NET_DIR/www-access.log
L4M_NET_DNS_LOG=$L4M_NET_DIR/dns.log
L4M_NET_DOMAIN=example.test
# The public internet: the namespace and its addresses; the container's own
# addresses on the link to it.
L4M_NET_NS=l4m-inet
L4M_NET_PUB4=198.51.100.1
L4M_NET_PUB6=2001:db8::1
L4M_NET_HOST4=198.51.100.2
L4M_NET_HOST6=2001:db8::2
L4M_NET_RESOLV=/etc/left4me/test-resolv.conf
# [Script] FirstUID= and LastUID= by default: the uids script runs get.
L4M_SCRIPT_FIRST_UID=61100
L4M_SCRIPT_LAST_UID=61183
# shellcheck disable=SC2034 # for the tests
L4M_SCRIPT_MAX=262144

# The addresses of l4m-priv (each also gets a web server on port 80).
L4M_NET_PRIV4=(10.77.0.1/16 172.16.77.1/24 192.168.77.1/24 169.254.77.1/16 100.64.77.1/24)
L4M_NET_PRIV6=(fc00::77/64 fd77::1/64 fe80::77/64)

# net_link NAME: a link that carries local addresses: a dummy interface, or
# where the kernel has no dummy driver, a veth pair (NAME and NAME-p).
net_link() {
        if in_container ip link show "$1" >/dev/null 2>&1; then
                return 0
        fi
        if ! in_container ip link add "$1" type dummy 2>/dev/null; then
                in_container ip link add "$1" type veth peer name "$1-p" ||
                        fail "cannot create a link $1 in the container (neither dummy nor veth)"
                in_container ip link set "$1-p" up
        fi
        in_container ip link set "$1" up
}

# net_unit [--netns NS] NAME CMD...: runs CMD as transient unit NAME
# (Type=notify: it is up once the command says READY=1), in the network
# namespace NS (ip netns) if given, unless NAME is active already.
net_unit() {
        local unit props=()
        if [[ $1 == --netns ]]; then
                props=(-p "NetworkNamespacePath=/run/netns/$2")
                shift 2
        fi
        unit=$1
        shift
        if [[ $(in_container systemctl is-active "$unit" 2>/dev/null) == active ]]; then
                return 0
        fi
        in_container systemctl reset-failed "$unit" >/dev/null 2>&1 || true
        capture in_container timeout 30 systemd-run --quiet --unit="$unit" -p Type=notify \
                -p NotifyAccess=main "${props[@]}" --collect -- "$@"
        ((RC == 0)) || fail "cannot start $unit: ${ERR:-$OUT} $(in_container journalctl -q -n 20 -u "$unit" 2>&1 || true)"
}

# net_inet: the network namespace L4M_NET_NS (the public internet) and the
# veth pair joining it to the container (l4m-pub here, l4m-inet0 there),
# with their addresses. Made again if the namespace or the pair is gone or
# not as it should be; the public servers are stopped then (they would be
# in the old namespace).
net_inet() {
        local ns=$L4M_NET_NS
        if ! in_container ip -n "$ns" link show l4m-inet0 >/dev/null 2>&1 ||
                [[ $(in_container ip -o link show l4m-pub 2>/dev/null) != *"l4m-pub@if"* ]]; then
                in_container systemctl stop l4m-inet-www.service l4m-inet-dns.service >/dev/null 2>&1 || true
                # l4m-pub may be a link of an earlier layout: deleting one
                # end of a veth pair deletes both.
                in_container ip link del l4m-pub >/dev/null 2>&1 || true
                if ! in_container ip -n "$ns" link show lo >/dev/null 2>&1; then
                        in_container ip netns del "$ns" >/dev/null 2>&1 || true
                        in_container ip netns add "$ns" || fail "cannot create the network namespace $ns in the container"
                fi
                in_container ip -n "$ns" link del l4m-inet0 >/dev/null 2>&1 || true
                in_container ip link add l4m-pub type veth peer name l4m-inet0 ||
                        fail "cannot create the veth pair l4m-pub/l4m-inet0 in the container"
                in_container ip link set l4m-inet0 netns "$ns"
        fi
        in_container ip -n "$ns" link set lo up
        in_container ip -n "$ns" addr replace "$L4M_NET_PUB4/24" dev l4m-inet0
        in_container ip -n "$ns" -6 addr replace "$L4M_NET_PUB6/64" dev l4m-inet0 nodad
        in_container ip -n "$ns" link set l4m-inet0 up
        in_container ip addr replace "$L4M_NET_HOST4/24" dev l4m-pub
        in_container ip -6 addr replace "$L4M_NET_HOST6/64" dev l4m-pub nodad
        in_container ip link set l4m-pub up
}

# net_tools_install: fake-dns.py and the web server into the container.
net_tools_install() {
        local dir=$CTR_DIR/root$L4M_TOOLS
        l4m_tools_install
        if [[ ! -f $dir/fake-dns.py || $L4M_SRCDIR/tests/fixtures/fake-dns.py -nt $dir/fake-dns.py ]]; then
                install -m 0755 "$L4M_SRCDIR/tests/fixtures/fake-dns.py" "$dir/fake-dns.py.tmp"
                mv "$dir/fake-dns.py.tmp" "$dir/fake-dns.py"
        fi
        if [[ ! -f $dir/l4m-www.py ]]; then
                l4m_www_py >"$dir/l4m-www.py.tmp"
                chmod 0755 "$dir/l4m-www.py.tmp"
                mv "$dir/l4m-www.py.tmp" "$dir/l4m-www.py"
        fi
}

# script_net_setup: the test network, its servers and left4me's resolv.conf
# drop-in; idempotent and cheap when all is in place. Also waits until
# left4me runs. Sets NET_PRIV_IFINDEX (l4m-priv's interface index, for
# fe80:: addresses).
script_net_setup() {
        local a listen=() want
        daemon_up
        net_tools_install
        mkdir -p "$CTR_DIR/root$L4M_NET_WWW"
        net_inet
        net_link l4m-priv
        for a in "${L4M_NET_PRIV4[@]}"; do
                in_container ip addr replace "$a" dev l4m-priv
        done
        for a in "${L4M_NET_PRIV6[@]}"; do
                in_container ip -6 addr replace "$a" dev l4m-priv nodad
        done
        NET_PRIV_IFINDEX=$(in_container cat /sys/class/net/l4m-priv/ifindex)
        [[ $NET_PRIV_IFINDEX =~ ^[0-9]+$ ]] || fail "no interface index of l4m-priv"

        # The public internet's servers, in its namespace.
        net_unit --netns "$L4M_NET_NS" l4m-inet-www "$L4M_PY" "$L4M_TOOLS/l4m-www.py" --root "$L4M_NET_WWW" \
                --log "$L4M_NET_WWW_LOG" --listen "$L4M_NET_PUB4:80" --listen "[$L4M_NET_PUB6]:80"
        net_unit --netns "$L4M_NET_NS" l4m-inet-dns "$L4M_PY" "$L4M_TOOLS/fake-dns.py" --listen "$L4M_NET_PUB4:53" \
                --domain "$L4M_NET_DOMAIN" --address "$L4M_NET_PUB4" --address6 "$L4M_NET_PUB6" \
                --log "$L4M_NET_DNS_LOG"
        # What a script must not reach, in the container's own namespace.
        listen=(--listen 127.0.0.1:80 --listen '[::1]:80' --listen 0.0.0.0:8081 --listen '[::]:8082')
        for a in "${L4M_NET_PRIV4[@]}" "${L4M_NET_PRIV6[@]}"; do
                if [[ $a == fe80:* ]]; then
                        listen+=(--listen "[${a%/*}%l4m-priv]:80")
                else
                        listen+=(--listen "$(net_hostport "${a%/*}" 80)")
                fi
        done
        net_unit l4m-test-www "$L4M_PY" "$L4M_TOOLS/l4m-www.py" --root "$L4M_NET_WWW" \
                --log "$L4M_NET_WWW_LOG" "${listen[@]}"

        want="# left4me integration tests: the fake DNS server on the test network
nameserver $L4M_NET_PUB4
options timeout:2 attempts:2"
        if [[ ! -f $CTR_DIR/root$L4M_NET_RESOLV || $(<"$CTR_DIR/root$L4M_NET_RESOLV") != "$want" ]]; then
                mkdir -p "$CTR_DIR/root${L4M_NET_RESOLV%/*}"
                printf '%s\n' "$want" >"$CTR_DIR/root$L4M_NET_RESOLV"
        fi
        want="[Script]
ResolvConf=$L4M_NET_RESOLV"
        if [[ ! -f $CTR_DIR/root$L4M_CONF_D/40-script-net.conf ||
              $(<"$CTR_DIR/root$L4M_CONF_D/40-script-net.conf") != "$want" ]]; then
                l4m_conf 40-script-net "$want"
        fi
}

# net_hostport ADDRESS PORT: "a.b.c.d:PORT" or "[v6]:PORT".
net_hostport() {
        if [[ $1 == *:* ]]; then
                printf '[%s]:%s\n' "$1" "$2"
        else
                printf '%s:%s\n' "$1" "$2"
        fi
}

# www_put NAME < DATA: a file the web server serves as /NAME.
www_put() {
        local f=$CTR_DIR/root$L4M_NET_WWW/$1
        mkdir -p "${f%/*}"
        cat >"$f.tmp"
        mv "$f.tmp" "$f"
}

# www_requests [PATTERN]: the web server's access log lines since the last
# www_log_mark ("PEER METHOD PATH STATUS BYTES"), optionally only those
# matching the extended regex PATTERN.
www_log_mark() {
        WWW_LOG_OFFSET=$(stat -c %s "$CTR_DIR/root$L4M_NET_WWW_LOG" 2>/dev/null || echo 0)
}
www_requests() {
        local f=$CTR_DIR/root$L4M_NET_WWW_LOG
        [[ -f $f ]] || return 0
        tail -c +"$((${WWW_LOG_OFFSET:-0} + 1))" "$f" | cut -d' ' -f2- | grep -E -- "${1:-.}" || true
}

# dns_queries_for NAME: how often the fake DNS server was asked for NAME.
dns_queries_for() {
        grep -c -F " $1 " "$CTR_DIR/root$L4M_NET_DNS_LOG" 2>/dev/null || true
}

# l4m_www_py: the text of l4m-www.py, the test network's web server: serves
# the files under --root (GET, HEAD), and /whoami ("l4m-net LOCAL PEER"),
# on every --listen ADDRESS:PORT ("[fe80::1%ifname]:80" for link-local),
# logs "TIME PEER METHOD PATH STATUS BYTES" to --log, and says READY=1 to
# systemd once every socket listens.
l4m_www_py() {
        cat <<'PY'
#!/usr/bin/python3
"""left4me integration tests: the test network's web server (see lib.sh)."""
import argparse, http.server, os, socket, socketserver, sys, threading, time, urllib.parse

lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "l4m-www/1"

    def log_message(self, fmt, *args):
        pass

    def _log(self, status, size):
        with lock, open(self.server.logfile, "a") as f:
            f.write("%.3f %s %s %s %d %d\n" % (time.time(), self.client_address[0], self.command,
                                               self.path, status, size))

    def _send(self, status, body, ctype="application/octet-stream"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self._log(status, len(body))

    def do_GET(self):
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        if path == "/whoami":
            local = self.connection.getsockname()[0]
            return self._send(200, ("l4m-net %s %s\n" % (local, self.client_address[0])).encode(), "text/plain")
        rel = os.path.normpath(path).lstrip("/")
        if rel.startswith("..") or not rel:
            return self._send(404, b"not found\n", "text/plain")
        try:
            with open(os.path.join(self.server.root, rel), "rb") as f:
                body = f.read()
        except OSError:
            return self._send(404, b"not found\n", "text/plain")
        self._send(200, body)

    do_HEAD = do_GET


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, family, sockaddr, root, logfile):
        self.address_family = family
        self.root, self.logfile = root, logfile
        socketserver.TCPServer.__init__(self, sockaddr, Handler, bind_and_activate=False)
        if family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        try:
            self.server_bind()
            self.server_activate()
        except BaseException:
            self.server_close()
            raise

    def server_bind(self):
        # No getfqdn(): the container has no resolver.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "l4m-www", self.server_address[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--listen", action="append", required=True)
    a = ap.parse_args()
    servers = []
    for spec in a.listen:
        host, _, port = spec.rpartition(":")
        host = host.strip("[]")
        info = socket.getaddrinfo(host, int(port), 0, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)[0]
        servers.append(Server(info[0], info[4], a.root, a.log))
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    ns = os.environ.get("NOTIFY_SOCKET")
    if ns:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as u:
            u.connect("\0" + ns[1:] if ns.startswith("@") else ns)
            u.sendall(b"READY=1")
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
PY
}

# net_targets: the probe targets of the test network as JSON: [label, host,
# port, scope id] for TCP (each answers "GET /whoami"), [label, "unix",
# path] for AF_UNIX. "public-*" (the public internet's namespace) must be
# reachable from a script, the rest not; "host-own-*" are the container's
# own addresses on the link to it (the 0.0.0.0:8081 and [::]:8082
# listeners). Needs NET_PRIV_IFINDEX (script_net_setup).
net_targets() {
        local ll=$NET_PRIV_IFINDEX
        cat <<EOT | paste -sd ' '
[["public-v4", "$L4M_NET_PUB4", 80, 0], ["public-v6", "$L4M_NET_PUB6", 80, 0],
 ["loopback-127.0.0.1", "127.0.0.1", 80, 0], ["loopback-::1", "::1", 80, 0],
 ["unspecified-0.0.0.0", "0.0.0.0", 8081, 0], ["unspecified-::", "::", 8082, 0],
 ["host-own-$L4M_NET_HOST4", "$L4M_NET_HOST4", 8081, 0], ["host-own-$L4M_NET_HOST6", "$L4M_NET_HOST6", 8082, 0],
 ["rfc1918-10.77.0.1", "10.77.0.1", 80, 0], ["rfc1918-172.16.77.1", "172.16.77.1", 80, 0],
 ["rfc1918-192.168.77.1", "192.168.77.1", 80, 0], ["link-local-169.254.77.1", "169.254.77.1", 80, 0],
 ["cgnat-100.64.77.1", "100.64.77.1", 80, 0], ["ula-fc00::77", "fc00::77", 80, 0],
 ["ula-fd77::1", "fd77::1", 80, 0], ["link-local-fe80::77", "fe80::77", 80, $ll],
 ["v4mapped-::ffff:127.0.0.1", "::ffff:127.0.0.1", 80, 0],
 ["v4mapped-::ffff:10.77.0.1", "::ffff:10.77.0.1", 80, 0],
 ["unix-system-bus", "unix", "/run/dbus/system_bus_socket"]]
EOT
}

# net_probe_py: a python program that tries every target of its first
# argument (net_targets' JSON) at once (non-blocking sockets, one thread)
# with a time-out of its second (s) and prints "PROBE-RESULT {label: "ok" |
# "fail: reason"}" on one line ("fail: socket: reason" when not even the
# socket could be made). A TCP target is "ok" once it answered GET /whoami.
net_probe_py() {
        cat <<'PY'
import errno, json, selectors, socket, sys, time
targets, limit = json.loads(sys.argv[1]), float(sys.argv[2])
res, sel = {}, selectors.DefaultSelector()

def name(e):
    return errno.errorcode.get(e, str(e))

for t in targets:
    label = t[0]
    if t[1] == "unix":
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        except OSError as e:
            res[label] = "fail: socket: " + name(e.errno)
            continue
        try:
            s.settimeout(limit)
            s.connect(t[2])
            res[label] = "ok"
        except OSError as e:
            res[label] = "fail: " + (name(e.errno) if e.errno else repr(e))
        s.close()
        continue
    fam = socket.AF_INET6 if ":" in t[1] else socket.AF_INET
    try:
        s = socket.socket(fam, socket.SOCK_STREAM)
    except OSError as e:
        res[label] = "fail: socket: " + name(e.errno)
        continue
    s.setblocking(False)
    rc = s.connect_ex((t[1], t[2], 0, t[3]) if fam == socket.AF_INET6 else (t[1], t[2]))
    if rc not in (0, errno.EINPROGRESS):
        res[label] = "fail: " + name(rc)
        s.close()
        continue
    sel.register(s, selectors.EVENT_WRITE, [label, "connecting", b""])

deadline = time.monotonic() + limit
while sel.get_map() and time.monotonic() < deadline:
    for key, _ in sel.select(max(0.0, deadline - time.monotonic())):
        s, st = key.fileobj, key.data
        if st[1] == "connecting":
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                res[st[0]] = "fail: " + name(err)
                sel.unregister(s)
                s.close()
                continue
            s.sendall(b"GET /whoami HTTP/1.0\r\n\r\n")
            st[1] = "reading"
            sel.modify(s, selectors.EVENT_READ, st)
            continue
        try:
            b = s.recv(4096)
        except OSError as e:
            res[st[0]] = "fail: " + name(e.errno)
            b = None
        if b:
            st[2] += b
            continue
        if b is not None:
            res[st[0]] = "ok" if b"l4m-net" in st[2] else "fail: unexpected answer %r" % st[2][:80]
        sel.unregister(s)
        s.close()
for key in list(sel.get_map().values()):
    res[key.data[0]] = "fail: timed out" + (" (connected, no answer)" if key.data[1] == "reading" else "")
    key.fileobj.close()
print("PROBE-RESULT " + json.dumps(res, sort_keys=True), flush=True)
PY
}

# syscall_probe_py: a python program that tries what a script must not be
# able to do, each in a child process (a seccomp filter may kill it), and
# prints "SYSCALL-RESULT {label: "ok[: detail]" | "fail: reason"}". Its
# argument is the path of a setuid-root copy of id(1) ("" for none).
syscall_probe_py() {
        cat <<'PY'
import ctypes, errno, json, os, platform, shutil, signal, subprocess, sys, tempfile, time
suid_id = sys.argv[1] if len(sys.argv) > 1 else ""
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
NR = {"x86_64": {"bpf": 321, "keyctl": 250, "add_key": 248},
      "aarch64": {"bpf": 280, "keyctl": 219, "add_key": 217}}[platform.machine()]
CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET = 0x00020000, 0x10000000, 0x40000000
MS_REC, MS_PRIVATE = 0x4000, 0x40000

def err(rc):
    e = ctypes.get_errno()
    return "fail: %s" % errno.errorcode.get(e, e) if rc == -1 else "ok: %d" % rc

def in_child(fn):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            res = fn()
        except BaseException as e:
            res = "fail: %s" % (errno.errorcode.get(e.errno, e.errno) if isinstance(e, OSError) and e.errno else repr(e))
        os.write(w, res.encode())
        os._exit(0)
    os.close(w)
    data = b""
    while True:
        b = os.read(r, 4096)
        if not b:
            break
        data += b
    os.close(r)
    _, st = os.waitpid(pid, 0)
    if os.WIFSIGNALED(st):
        return "fail: killed by %s" % signal.Signals(os.WTERMSIG(st)).name
    return data.decode() or "fail: no answer (exit %d)" % os.waitstatus_to_exitcode(st)

def unshare(flag):
    return lambda: err(libc.unshare(flag))

def mount():
    d = tempfile.mkdtemp()
    if libc.unshare(CLONE_NEWNS) == 0:
        libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None)
    return err(libc.mount(b"none", d.encode(), b"tmpfs", 0, None))

def umount_resolv():
    return err(libc.umount2(b"/etc/resolv.conf", 2))

def bpf():
    attr = (ctypes.c_uint32 * 32)(2, 4, 4, 1)   # BPF_MAP_TYPE_ARRAY, key 4, value 4, 1 entry
    return err(libc.syscall(NR["bpf"], 0, ctypes.byref(attr), ctypes.sizeof(attr)))

def ptrace_child():
    pid = os.fork()
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    try:
        rc = libc.ptrace(16, pid, None, None)        # PTRACE_ATTACH
        res = err(rc)
        if rc == 0:
            os.waitpid(pid, 0)
            libc.ptrace(17, pid, None, None)          # PTRACE_DETACH
        return res
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)

def personality():
    return err(libc.personality(0x0400000))           # READ_IMPLIES_EXEC

def keyctl():
    return err(libc.syscall(NR["keyctl"], 1, None))   # KEYCTL_JOIN_SESSION_KEYRING

def add_key():
    return err(libc.syscall(NR["add_key"], b"user", b"l4m", b"x", 1, -2))  # KEY_SPEC_PROCESS_KEYRING

def mmap_wx():
    p = libc.mmap(None, 4096, 7, 0x22, -1, 0)        # RWX, MAP_PRIVATE|MAP_ANONYMOUS
    return "fail: %s" % errno.errorcode.get(ctypes.get_errno()) if p in (None, 2**64 - 1) else "ok"

def memfd():
    os.close(os.memfd_create("x"))                   # runs code from memory past noexec
    return "ok"

def chmod_suid():
    fd, f = tempfile.mkstemp()
    os.close(fd)
    try:
        os.chmod(f, 0o4755)
        return "ok: mode %o" % os.stat(f).st_mode
    finally:
        os.unlink(f)

def exec_tmp():
    d = tempfile.mkdtemp()
    f = os.path.join(d, "true")
    shutil.copy("/bin/true", f)
    os.chmod(f, 0o755)
    subprocess.run([f], check=True)
    return "ok"

def exec_overlay():
    d = os.environ.get("OVERLAY")
    if not d:
        return "fail: no $OVERLAY"
    f = os.path.join(d, ".l4m-true")
    shutil.copy("/bin/true", f)
    os.chmod(f, 0o755)
    try:
        subprocess.run([f], check=True)
        return "ok"
    finally:
        os.unlink(f)

def chroot():
    os.chroot("/tmp")
    return "ok"

def setuid0():
    os.setuid(0)
    return "ok"

def unshare_cmd():
    p = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "true"], capture_output=True)
    return "ok" if p.returncode == 0 else "fail: exit %d: %s" % (p.returncode, p.stderr.decode().strip()[:100])

def suid():
    if not suid_id:
        return "fail: no binary"
    p = subprocess.run([suid_id, "-u"], capture_output=True)
    return "ok: euid %s" % p.stdout.decode().strip() if p.returncode == 0 else "fail: exit %d" % p.returncode

probes = {"unshare-user": unshare(CLONE_NEWUSER), "unshare-mount": unshare(CLONE_NEWNS),
          "unshare-net": unshare(CLONE_NEWNET), "unshare-command": unshare_cmd, "mount": mount,
          "umount-resolv.conf": umount_resolv, "bpf": bpf, "ptrace-child": ptrace_child,
          "personality": personality, "keyctl": keyctl, "add_key": add_key, "mmap-wx": mmap_wx,
          "memfd_create": memfd, "chmod-suid": chmod_suid, "exec-tmp": exec_tmp, "exec-overlay": exec_overlay,
          "chroot": chroot, "setuid-0": setuid0, "suid-id": suid}
res = {k: in_child(f) for k, f in probes.items()}
st = {}
for line in open("/proc/self/status"):
    k, _, v = line.partition(":")
    if k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"):
        st[k] = v.strip()
res["status"] = st
res["uid"] = "%d %d" % (os.getuid(), os.geteuid())
print("SYSCALL-RESULT " + json.dumps(res, sort_keys=True), flush=True)
PY
}

# fs_probe_py: a python program that takes a JSON object {"read": [files],
# "list": [directories], "write": [directories], "pids": [pids]} and prints
# "FS-RESULT {"read": {file: "ok: N bytes" | "fail: E"}, "list": {dir:
# [names] | "fail: E"}, "write": {dir: "file ok|fail: E, directory ok|fail:
# E"}, "pids": {pid: "visible" | "hidden"}, "own_pid_visible": bool, "proc":
# {...}}". Writes create a file, then a directory, called NAME (the second
# argument) in each directory and remove them again.
fs_probe_py() {
        cat <<'PY'
import errno, json, os, sys
spec, name = json.loads(sys.argv[1]), sys.argv[2]
out = {"read": {}, "list": {}, "write": {}, "pids": {}, "proc": {}}

def why(e):
    return "fail: %s" % (errno.errorcode.get(e.errno, e.errno) if isinstance(e, OSError) and e.errno else repr(e))

for f in spec["read"]:
    try:
        with open(f, "rb") as fh:
            out["read"][f] = "ok: %d bytes" % len(fh.read())
    except Exception as e:
        out["read"][f] = why(e)
for d in spec["list"]:
    try:
        out["list"][d] = sorted(os.listdir(d))
    except Exception as e:
        out["list"][d] = why(e)
for d in spec["write"]:
    p = os.path.join(d, name)
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, b"x")
        os.close(fd)
        fr = "ok"
        os.unlink(p)
    except Exception as e:
        fr = why(e)
    try:
        os.mkdir(p)
        dr = "ok"
        os.rmdir(p)
    except Exception as e:
        dr = why(e)
    out["write"][d] = "file %s, directory %s" % (fr, dr)
try:
    listed = set(os.listdir("/proc"))
except Exception as e:
    listed = set()
    out["proc"]["listdir"] = why(e)
for pid in spec["pids"]:
    pid = str(pid)
    vis = pid in listed or os.path.exists("/proc/%s/status" % pid)
    out["pids"][pid] = "visible" if vis else "hidden"
out["own_pid_visible"] = str(os.getpid()) in listed
out["proc"]["pids_listed"] = len([p for p in listed if p.isdigit()])
for p in ("/proc/sys/kernel/hostname", "/proc/kallsyms", "/proc/net/tcp", "/proc/1/environ"):
    try:
        with open(p, "rb") as fh:
            fh.read(16)
        out["proc"][p] = "ok"
    except Exception as e:
        out["proc"][p] = why(e)
print("FS-RESULT " + json.dumps(out, sort_keys=True), flush=True)
PY
}

# sc_setup: for every script test: left4me running, the test tools, this
# test's file directory (TF_DIR, TF_HOST: test_files_setup), the test
# network (script_net_setup), no script job of an earlier test left
# running, and an EXIT trap (sc_cleanup) that cancels this test's script
# jobs and removes the limits drop-in (60-script-limits) if it set one.
sc_setup() {
        test_files_setup
        script_net_setup
        sc_cancel_script_jobs
        trap sc_cleanup EXIT
}

sc_cleanup() {
        set +e
        sc_cancel_script_jobs
        if [[ -f $CTR_DIR/root$L4M_CONF_D/60-script-limits.conf ]]; then
                rm -f "$CTR_DIR/root$L4M_CONF_D/60-script-limits.conf"
                daemon_reload_config >/dev/null 2>&1
        fi
        return 0
}

# sc_cancel_script_jobs: cancels every queued or running script build and
# waits (up to 20 s) until no process of a script uid is left.
sc_cancel_script_jobs() {
        local j
        for j in $(sql "SELECT id FROM jobs WHERE kind = 'script-build' AND state IN ('queued', 'running');" 2>/dev/null); do
                gcall root "$L4M_JOB_PREFIX/$j" org.left4me.Job.Cancel >/dev/null 2>&1
        done
        wait_until 20 sc_no_sandbox_processes || true
}

# sc_sandbox_processes: "PID UID ARGS" of each process of a script uid.
sc_sandbox_processes() {
        in_container ps -eo pid=,uid=,args= |
                awk -v lo="$L4M_SCRIPT_FIRST_UID" -v hi="$L4M_SCRIPT_LAST_UID" '$2 >= lo && $2 <= hi { $1 = $1; print }'
}

# sc_no_sandbox_processes: no process of a script uid is running.
sc_no_sandbox_processes() {
        [[ -z $(sc_sandbox_processes) ]]
}

# sc_is_script_uid UID: UID is one of the script runs' range.
sc_is_script_uid() {
        [[ $1 =~ ^[0-9]+$ ]] && (($1 >= L4M_SCRIPT_FIRST_UID && $1 <= L4M_SCRIPT_LAST_UID))
}

# sc_run_uid JOB: the uid the job's script ran as (from the job's log).
sc_run_uid() {
        job_log_text "$1" | sed -n 's/^.* as uid \([0-9]*\) (RuntimeMaxSec=.*$/\1/p' | head -n 1
}

# sc_limits TEXT: the [Script] limits drop-in (60-script-limits.conf) for
# this test; sc_cleanup removes it.
sc_limits() {
        l4m_conf 60-script-limits "[Script]
$1"
}

# sc_overlay USER NAME: a script overlay NAME owned by USER (created unless
# it exists); prints its path.
sc_overlay() {
        ensure_overlay "$1" "$2" script
}

# sc_file < TEXT: stores TEXT as a new file (mode 0644) in this test's
# directory; prints its path in the container.
sc_file() {
        local f
        f=$(mktemp "$TF_HOST/script.XXXXXX")
        cat >"$f"
        chmod 0644 "$f"
        printf '%s\n' "$TF_DIR/${f##*/}"
}

# sc_set_file USER OVERLAY-PATH FILE: SetScript(FILE's text) as USER; sets
# RC, OUT, ERR (D-Bus errors as "GDBus.Error:NAME: message").
sc_set_file() {
        capture pybus "$1" "$2" "$3" <<'PY'
ov, f = sys.argv[1], sys.argv[2]
try:
    call(ov, OVERLAY_IF, "SetScript", dbus.String(open(f, encoding="utf-8").read()))
except dbus.exceptions.DBusException as e:
    dbus_error_exit(e)
PY
}

# sc_set USER OVERLAY-PATH < SCRIPT: SetScript, which must succeed.
sc_set() {
        local f
        f=$(sc_file)
        sc_set_file "$1" "$2" "$f"
        expect_ok "$1: SetScript on $2"
}

# sc_get USER OVERLAY-PATH: GetScript as USER; sets RC, OUT ("LENGTH SHA256"
# of the UTF-8 text), ERR.
sc_get() {
        capture pybus "$1" "$2" <<'PY'
import hashlib
try:
    s = str(call(sys.argv[1], OVERLAY_IF, "GetScript")).encode()
except dbus.exceptions.DBusException as e:
    dbus_error_exit(e)
print(len(s), hashlib.sha256(s).hexdigest())
PY
}

# sc_build USER OVERLAY-PATH: Build({}) as USER, which must succeed; sets JOB.
sc_build() {
        gcall "$1" "$2" org.left4me.Overlay.Build '{}'
        expect_ok "$1: Build() on $2"
        JOB=$(job_path_from_output)
        [[ -n $JOB ]] || fail "Build() answered no job path: $OUT"
}

# sc_start NAME < SCRIPT: a root-owned script overlay NAME (created unless
# it exists) gets SCRIPT and is built; sets SC_PATH, SC_ID, JOB, SC_UNIT.
sc_start() {
        local f
        f=$(sc_file)
        SC_PATH=$(sc_overlay root "$1")
        SC_ID=$(id_of_path "$SC_PATH")
        sc_set_file root "$SC_PATH" "$f"
        expect_ok "SetScript on $1"
        sc_build root "$SC_PATH"
        SC_UNIT=$(sc_unit "$JOB")
        step "script of $1 (overlay $SC_ID) runs as job $JOB in $SC_UNIT"
}

# sc_run NAME [TIMEOUT] < SCRIPT: sc_start and job_wait; also sets SC_LOG
# (the job's log).
sc_run() {
        sc_start "$1"
        job_wait "$JOB" "${2:-60}"
        SC_LOG=$(job_log_text "$JOB")
}

# sc_unit JOB: the name of the job's unit.
sc_unit() {
        printf 'left4me-script-%s.service\n' "$(job_id_of "$1")"
}

# sc_job_state_is JOB STATE
sc_job_state_is() {
        [[ $(job_prop "$1" State 2>/dev/null) == "$2" ]]
}

# sc_unit_prop UNIT PROPERTY: a property of a unit ("" if not loaded).
sc_unit_prop() {
        in_container systemctl show -P "$2" "$1" 2>/dev/null || true
}

# sc_unit_gone UNIT: the unit is not running any more (unloaded, inactive or
# failed) and no process of a script uid is left.
sc_unit_gone() {
        local s
        s=$(sc_unit_prop "$1" ActiveState)
        [[ -z $s || $s == inactive || $s == failed ]] && sc_no_sandbox_processes
}

# sc_log_has JOB TEXT: the job's log contains TEXT (a fixed string).
sc_log_has() {
        job_log_text "$1" 2>/dev/null | grep -qF -- "$2"
}

# sc_wait_log JOB TEXT [SECONDS]: waits until the job's log contains TEXT.
sc_wait_log() {
        wait_until "${3:-30}" sc_log_has "$1" "$2" ||
                fail "the log of $1 did not show '$2' within ${3:-30}s (state $(job_prop "$1" State || true)): $(job_log_text "$1" 2>/dev/null | tail -n 5 | paste -sd '|')"
}

# sc_result TAG [LOG]: the JSON after the last "TAG " line of LOG (default
# SC_LOG).
sc_result() {
        local line
        line=$(grep -a "^$1 " <<<"${2-$SC_LOG}" | tail -n 1)
        [[ -n $line ]] || fail "the script printed no '$1' line; its log ends: $(tail -n 5 <<<"${2-$SC_LOG}" | paste -sd '|')"
        printf '%s\n' "${line#"$1 "}"
}

# sc_python_script PYTHON-PROGRAM ARG...: a bash script running the program
# with python3 with these arguments (on stdout).
sc_python_script() {
        local prog=$1 a
        shift
        printf 'exec python3 -'
        for a in "$@"; do
                printf ' %q' "$a"
        done
        printf " <<'L4M_PY_END'\n%s\nL4M_PY_END\n" "$prog"
}

# json_flat: the JSON object on stdin as lines "KEY<tab>VALUE", nested
# objects' keys joined with "|" ("write|/tmp"), strings bare, other values
# as JSON. Read it into an associative array with json_into.
json_flat() {
        python3 -c '
import json, sys
def walk(prefix, v):
    if isinstance(v, dict):
        for k, x in v.items():
            walk(prefix + [str(k)], x)
    else:
        s = v if isinstance(v, str) else json.dumps(v)
        print("|".join(prefix) + "\t" + s.replace("\n", " "))
walk([], json.load(sys.stdin))'
}

# json_into ARRAY-NAME JSON: fills the (declared) associative array with
# json_flat's pairs.
json_into() {
        local -n _ji_arr=$1
        local k v
        while IFS=$'\t' read -r k v; do
                _ji_arr["$k"]=$v
        done < <(json_flat <<<"$2")
}

# --- left4me-overlay, the instance mount helper (test-20) ------------------

L4M_OVERLAY_HELPER=/usr/libexec/left4me-overlay
L4M_RUNTIME=$L4M_STATE/runtime
L4M_GAME_USER=left4me-game

# runtime_mounts [NAME]: the mountinfo lines (container namespace) of mounts
# under runtime/ (of instance NAME's merged/ only, with NAME).
runtime_mounts() {
        local where=$L4M_RUNTIME/
        if [[ -n ${1:-} ]]; then
                where=$L4M_RUNTIME/$1/merged
                in_container awk -v p="$where" '$5 == p' /proc/self/mountinfo
        else
                in_container awk -v p="$where" 'index($5, p) == 1' /proc/self/mountinfo
        fi
}

# ovh_run ARG...: runs the helper as root in the container; sets RC/OUT/ERR.
ovh_run() {
        capture in_container "$L4M_OVERLAY_HELPER" "$@"
}

# ovh_instance NAME: a fresh runtime/NAME as the daemon makes it: root
# 0755, upper/ and work/ owned by left4me-game, config/ and merged/ root's.
# Whatever an earlier run left there is unmounted and removed first.
ovh_instance() {
        local d=$L4M_RUNTIME/$1
        ovh_cleanup "$1"
        in_container sh -ec "
                [ -d '$L4M_RUNTIME' ] || mkdir -m 0711 '$L4M_RUNTIME'
                mkdir -m 0755 '$d' '$d/merged' '$d/config'
                mkdir -m 0755 '$d/upper' '$d/work'
                chown $L4M_GAME_USER:$L4M_GAME_USER '$d/upper' '$d/work'"
}

# ovh_env NAME LAYERS [MODE]: writes runtime/NAME/instance.env (root's).
ovh_env() {
        in_container sh -ec "
                printf '# test\nNAME=%s\nLAYERS=%s\n' '$1' '$2' >'$L4M_RUNTIME/$1/instance.env'
                chmod ${3:-0644} '$L4M_RUNTIME/$1/instance.env'"
}

# ovh_cleanup NAME: unmounts runtime/NAME/merged (all of it) and removes
# runtime/NAME; never fails.
ovh_cleanup() {
        local i
        for i in 1 2 3; do
                [[ -n $(runtime_mounts "$1" 2>/dev/null) ]] || break
                in_container umount -l "$L4M_RUNTIME/$1/merged" 2>/dev/null || true
        done
        in_container rm -rf "$L4M_RUNTIME/$1" 2>/dev/null || true
}

# ovh_overlays PREFIX COUNT: COUNT archive overlays PREFIX-000… (made
# through the bus unless they exist, so that the daemon's start-up sweep
# keeps their directories); prints their ids, one a line, in name order.
ovh_overlays() {
        capture pybus root "$1" "$2" <<'PY'
prefix, n = sys.argv[1], int(sys.argv[2])
opts = dbus.Dictionary({}, signature="sv")
for i in range(n):
    name = "%s-%03d" % (prefix, i)
    try:
        p = str(call(MGR, MANAGER_IF, "GetOverlay", name))
    except dbus.exceptions.DBusException:
        p = str(call(MGR, MANAGER_IF, "CreateOverlay", name, "archive", opts))
    print(p.rsplit("/", 1)[1])
PY
        expect_ok "creating overlays $1-*"
        printf '%s\n' "$OUT"
}

# ovh_delete_overlays PREFIX: deletes the overlays PREFIX-*; never fails.
ovh_delete_overlays() {
        capture pybus root "$1" <<'PY' || true
prefix = sys.argv[1] + "-"
for row in call(MGR, MANAGER_IF, "ListOverlays"):
    if str(row[1]).startswith(prefix):
        try:
            call(str(row[0]), OVERLAY_IF, "Delete")
        except dbus.exceptions.DBusException:
            pass
PY
}
