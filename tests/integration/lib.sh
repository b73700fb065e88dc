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

# l4m_tools_install: puts the fake Steam API and the bus helper (l4m_bus.py,
# below) into the container; cheap and idempotent.
l4m_tools_install() {
        local dir=$CTR_DIR/root$L4M_TOOLS
        [[ -n ${CTR_DIR:-} && -d $CTR_DIR/root ]] || fail "l4m_tools_install: no container root"
        mkdir -p "$dir"
        if [[ ! -f $dir/fake-steam-api.py ||
              $L4M_SRCDIR/tests/fixtures/fake-steam-api.py -nt $dir/fake-steam-api.py ]]; then
                install -m 0755 "$L4M_SRCDIR/tests/fixtures/fake-steam-api.py" "$dir/fake-steam-api.py.tmp"
                mv "$dir/fake-steam-api.py.tmp" "$dir/fake-steam-api.py"
        fi
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
