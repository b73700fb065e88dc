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
                        printf '%s\n' "$OUT" | head -n 20 | cut -c 1-300 | sed 's/^/  stdout: /'
                fi
                if [[ -n $ERR ]]; then
                        printf '%s\n' "$ERR" | head -n 20 | cut -c 1-300 | sed 's/^/  stderr: /'
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
