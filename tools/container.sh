# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tools/container.sh — boot a disposable systemd in an nspawn container whose
# root is an overlay of the host's /, and install a left4me build into it.
# Sourced by tools/dev-*, tests/integration/run and tests/bench/run.
#
# The container lives in one private work directory, a tmpfs:
#   $CTR_DIR/upper, $CTR_DIR/work   overlayfs upper and work directories
#   $CTR_DIR/root                   the overlay (lowerdir=/): the container's /
#   $CTR_DIR/state                  bound at /var/lib/left4me (not overlayfs,
#                                   because instances need overlayfs upper
#                                   directories there)
#   $CTR_DIR/nspawn.log             the container's console
# Never boot systemd on the host's real /: it would clean up the host's /tmp
# and run its units.
#
# Functions: ctr_boot, ctr_wait_running, ctr_stop, ctr_cleanup, in_container,
# as_user, ctr_install_build, ctr_add_test_users, ctr_save_state,
# ctr_load_state, ctr_alive. Set CTR_NAME (machine name) before ctr_boot if
# you like. Callers install the cleanup trap: trap ctr_cleanup EXIT. Meant for
# scripts (bash without job control), not for interactive shells.
#
# Environment: CTR_BOOT_TIMEOUT (s, default 90), CTR_STOP_TIMEOUT (s, default
# 30), TMPDIR (where the work directory goes), L4M_NSPAWN_KEEP_UNIT=yes|no
# (default: yes unless the host runs systemd).

L4M_SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export L4M_SRCDIR

# The packages the build, the container and the tests need on the host.
L4M_DEPS=(meson ninja-build pkg-config gcc libsystemd-dev libglib2.0-dev
          libglib2.0-bin libsqlite3-dev libjson-glib-dev libarchive-dev
          libcurl4-openssl-dev libarchive-tools curl systemd-container libnss-systemd e2fsprogs
          polkitd pkexec dbus sqlite3 python3 iproute2 util-linux procps
          python3-dbus python3-gi zip unzip p7zip-full
          bash coreutils tar xz-utils libsodium-dev libsoup-3.0-dev
          glib-networking chromium nodejs wrk socat)

CTR_NAME=${CTR_NAME:-left4me-test}
CTR_BOOT_TIMEOUT=${CTR_BOOT_TIMEOUT:-90}
CTR_STOP_TIMEOUT=${CTR_STOP_TIMEOUT:-30}
CTR_DIR=${CTR_DIR:-}
CTR_NSPAWN_PID=${CTR_NSPAWN_PID:-}
CTR_PID=${CTR_PID:-}
CTR_PATH=/usr/sbin:/usr/bin:/sbin:/bin

ctr_msg() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
ctr_die() { ctr_msg "error: $*"; exit 1; }

ctr_require_root() {
        [[ ${EUID:-$(id -u)} -eq 0 ]] || ctr_die "must run as root (try: sudo $0)"
}

# Runs a command as the user who invoked sudo when that user owns the source
# tree (so that build directories stay theirs), else as ourselves.
l4m_as_invoker() {
        if [[ -n ${SUDO_USER:-} && $SUDO_USER != root &&
              $(stat -c %U "$L4M_SRCDIR") == "$SUDO_USER" ]]; then
                runuser -u "$SUDO_USER" -- "$@"
        else
                "$@"
        fi
}

# Installs those of the given Debian packages that are missing.
ctr_install_packages() {
        local p missing=()
        for p in "$@"; do
                if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
                        missing+=("$p")
                fi
        done
        if ((${#missing[@]} == 0)); then
                return 0
        fi
        ctr_msg "installing: ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -q -y --no-install-recommends "${missing[@]}"
}

# tests/browser's npm packages (playwright-core for the browser test,
# eslint for meson test's ui-lint), exactly as package-lock.json pins them,
# unless they are there already. Debian 12's nodejs has no npm: the npm
# package then.
ctr_install_node_modules() {
        local dir=$L4M_SRCDIR/tests/browser
        if [[ -x $dir/node_modules/.bin/eslint && -f $dir/node_modules/playwright-core/package.json ]]; then
                return 0
        fi
        command -v npm >/dev/null || ctr_install_packages npm
        ctr_msg "npm ci in $dir"
        npm ci --prefix "$dir" --no-audit --no-fund
}

# Installs what L4M_DEPS lists and tests/browser's npm packages, if
# anything is missing.
ctr_install_deps() {
        ctr_install_packages "${L4M_DEPS[@]}"
        ctr_install_node_modules
}

# True while the process exists and is not a zombie.
ctr_pid_alive() {
        local pid=$1 state
        [[ -n $pid && -r /proc/$pid/stat ]] || return 1
        state=$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
        [[ -n $state && $state != Z && $state != X ]]
}

# True if CTR_NSPAWN_PID still is our systemd-nspawn (and not a reused pid).
ctr_nspawn_alive() {
        [[ -n $CTR_NSPAWN_PID && -n $CTR_DIR ]] || return 1
        ctr_pid_alive "$CTR_NSPAWN_PID" || return 1
        [[ $(readlink "/proc/$CTR_NSPAWN_PID/exe" 2>/dev/null) == */systemd-nspawn ]] || return 1
        tr '\0' '\n' <"/proc/$CTR_NSPAWN_PID/cmdline" 2>/dev/null | grep -qxF "$CTR_DIR/root"
}

# True if the container runs and CTR_PID is its systemd.
ctr_alive() {
        local ppid
        ctr_nspawn_alive || return 1
        ctr_pid_alive "$CTR_PID" || return 1
        ppid=$(awk '/^PPid:/ { print $2 }' "/proc/$CTR_PID/status" 2>/dev/null) || return 1
        [[ $ppid == "$CTR_NSPAWN_PID" ]]
}

# Runs a command as root inside the container, with a clean environment.
in_container() {
        [[ -n $CTR_PID && $CTR_PID != 1 ]] || ctr_die "in_container: no container"
        nsenter -t "$CTR_PID" -a -- env -i PATH="$CTR_PATH" HOME=/root USER=root LOGNAME=root \
                LANG=C.UTF-8 SYSTEMD_PAGER='' SYSTEMD_COLORS=0 SYSTEMD_LOG_COLOR=0 "$@"
}

# Runs a command as USER (and USER's groups) inside the container.
as_user() {
        local user=$1
        shift
        [[ -n $CTR_PID && $CTR_PID != 1 ]] || ctr_die "as_user: no container"
        nsenter -t "$CTR_PID" -a -- setpriv --reuid="$user" --regid="$user" --init-groups -- \
                env -i PATH="$CTR_PATH" HOME="/home/$user" USER="$user" LOGNAME="$user" \
                LANG=C.UTF-8 SYSTEMD_PAGER='' SYSTEMD_COLORS=0 SYSTEMD_LOG_COLOR=0 "$@"
}

# in_container with a time limit: in_container_timeout SECS CMD...
in_container_timeout() {
        local secs=$1
        shift
        [[ -n $CTR_PID && $CTR_PID != 1 ]] || ctr_die "in_container_timeout: no container"
        timeout "$secs" nsenter -t "$CTR_PID" -a -- env -i PATH="$CTR_PATH" HOME=/root \
                LANG=C.UTF-8 SYSTEMD_PAGER='' SYSTEMD_COLORS=0 SYSTEMD_LOG_COLOR=0 "$@"
}

ctr_print_diagnostics() {
        ctr_msg "--- container console (last 40 lines of $CTR_DIR/nspawn.log) ---"
        tail -n 40 "$CTR_DIR/nspawn.log" >&2 2>/dev/null || true
        if ctr_alive; then
                ctr_msg "--- systemctl --failed ---"
                in_container_timeout 10 systemctl --failed --no-pager >&2 || true
                ctr_msg "--- journal (last 60 lines) ---"
                in_container_timeout 10 journalctl -b --no-pager -n 60 >&2 || true
        fi
}

# Waits until the container's systemd reports running (or degraded).
ctr_wait_running() {
        local timeout=${1:-$CTR_BOOT_TIMEOUT} deadline state=
        deadline=$((SECONDS + timeout))
        while ((SECONDS < deadline)); do
                if ! ctr_pid_alive "$CTR_NSPAWN_PID"; then
                        ctr_msg "systemd-nspawn exited during boot"
                        ctr_print_diagnostics
                        return 1
                fi
                state=$(timeout 5 nsenter -t "$CTR_PID" -a -- env -i PATH="$CTR_PATH" \
                        systemctl is-system-running 2>/dev/null) || true
                case $state in
                running) return 0 ;;
                degraded)
                        ctr_msg "container is degraded (continuing):"
                        in_container systemctl --failed --no-pager --plain >&2 || true
                        return 0 ;;
                esac
                sleep 0.2
        done
        ctr_msg "container did not reach running within ${timeout}s (state: ${state:-unknown})"
        ctr_print_diagnostics
        return 1
}

# Creates the work directory and the overlay, boots systemd in it and waits
# until it is running. Sets CTR_DIR, CTR_NSPAWN_PID and CTR_PID.
ctr_boot() {
        local deadline pid unit_opts loop_opts node
        [[ -z $CTR_DIR ]] || ctr_die "ctr_boot: a container is already set up in $CTR_DIR"
        ctr_require_root
        # Every step is checked explicitly: callers may run us where set -e
        # is off (ctr_boot || ...), and we must never boot a half-made root.
        CTR_DIR=$(mktemp -d "${TMPDIR:-/tmp}/left4me-ctr.XXXXXXXX") || return 1
        mount -t tmpfs -o mode=0700 left4me-ctr "$CTR_DIR" || return 1
        mkdir "$CTR_DIR"/{upper,work,root,state} || return 1
        chmod 0711 "$CTR_DIR/state" || return 1
        mount -t overlay left4me-ctr-root \
                -o "lowerdir=/,upperdir=$CTR_DIR/upper,workdir=$CTR_DIR/work" "$CTR_DIR/root" || return 1
        mountpoint -q "$CTR_DIR/root" || { ctr_msg "the overlay is not mounted"; return 1; }
        mkdir -p "$CTR_DIR/root/var/lib/left4me" || return 1
        # No configuration of an installation on the host may leak in.
        rm -rf "${CTR_DIR:?}/root/etc/left4me" || return 1

        # Without a systemd on the host, the container's cgroup is the one we
        # run in (--keep-unit); with one, systemd-nspawn asks it for a scope
        # of its own (--keep-unit is refused in a login session).
        unit_opts=(--keep-unit)
        if [[ -d /run/systemd/system ]]; then
                unit_opts=()
        fi
        case ${L4M_NSPAWN_KEEP_UNIT:-} in
        yes) unit_opts=(--keep-unit) ;;
        no) unit_opts=() ;;
        esac

        # Loop devices, for the disk images of instances with a disk_max:
        # /dev/loop-control and the loop nodes that exist now. The kernel
        # makes more on demand (LOOP_CTL_GET_FREE when all are busy), whose
        # nodes the container's /dev does not get: left4me-overlay(8) makes
        # a missing node itself. With a scope of its own (systemd on the
        # host) the container's device policy must allow them too; without
        # one (--keep-unit) there is no device policy of systemd-nspawn's.
        loop_opts=()
        if [[ -c /dev/loop-control ]]; then
                loop_opts+=(--bind=/dev/loop-control)
                for node in /dev/loop[0-9]*; do
                        if [[ -b $node ]]; then
                                loop_opts+=("--bind=$node")
                        fi
                done
                if ((${#unit_opts[@]} == 0)); then
                        loop_opts+=("--property=DeviceAllow=/dev/loop-control rw"
                                    "--property=DeviceAllow=block-loop rwm")
                fi
        fi

        # setsid: the container must not get the caller's terminal signals;
        # a detached dev container outlives the script that started it.
        SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 setsid systemd-nspawn \
                -D "$CTR_DIR/root" -M "$CTR_NAME" --register=no "${unit_opts[@]}" -b \
                --private-network --system-call-filter=bpf --capability=all \
                --console=passive --bind="$CTR_DIR/state:/var/lib/left4me" "${loop_opts[@]}" \
                -- systemd.firstboot=off \
                </dev/null >"$CTR_DIR/nspawn.log" 2>&1 &
        CTR_NSPAWN_PID=$!

        # The container's PID 1 is systemd-nspawn's child.
        deadline=$((SECONDS + 30))
        CTR_PID=
        while ((SECONDS < deadline)); do
                if ! ctr_pid_alive "$CTR_NSPAWN_PID"; then
                        ctr_msg "systemd-nspawn exited at once"
                        ctr_print_diagnostics
                        return 1
                fi
                for pid in $(pgrep -P "$CTR_NSPAWN_PID" 2>/dev/null); do
                        if [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == */systemd ]]; then
                                CTR_PID=$pid
                        fi
                done
                [[ -n $CTR_PID ]] && break
                sleep 0.1
        done
        if [[ -z $CTR_PID ]]; then
                ctr_msg "the container's systemd did not appear"
                ctr_print_diagnostics
                return 1
        fi
        ctr_wait_running "$CTR_BOOT_TIMEOUT"
}

# Powers the container off (killing it if that takes too long) and removes
# the work directory. Idempotent; safe to call from a trap.
ctr_stop() {
        local deadline verified_pid=''
        if ctr_nspawn_alive; then
                if ctr_alive; then
                        verified_pid=$CTR_PID
                        timeout 10 nsenter -t "$CTR_PID" -a -- env -i PATH="$CTR_PATH" \
                                systemctl poweroff --no-block >/dev/null 2>&1 || true
                fi
                deadline=$((SECONDS + CTR_STOP_TIMEOUT))
                while ctr_nspawn_alive && ((SECONDS < deadline)); do
                        sleep 0.1
                done
                if ctr_nspawn_alive; then
                        ctr_msg "container did not power off in ${CTR_STOP_TIMEOUT}s; terminating systemd-nspawn"
                        kill -TERM "$CTR_NSPAWN_PID" 2>/dev/null || true
                        deadline=$((SECONDS + 10))
                        while ctr_nspawn_alive && ((SECONDS < deadline)); do
                                sleep 0.1
                        done
                fi
                if ctr_nspawn_alive; then
                        ctr_msg "killing systemd-nspawn"
                        if [[ -n $verified_pid ]]; then
                                kill -KILL "$verified_pid" 2>/dev/null || true
                        fi
                        kill -KILL "$CTR_NSPAWN_PID" 2>/dev/null || true
                        deadline=$((SECONDS + 10))
                        while ctr_nspawn_alive && ((SECONDS < deadline)); do
                                sleep 0.1
                        done
                fi
        fi
        # Reap it if it is our child (it has exited by now).
        if [[ -n $CTR_NSPAWN_PID ]] && ! ctr_pid_alive "$CTR_NSPAWN_PID"; then
                wait "$CTR_NSPAWN_PID" 2>/dev/null || true
        fi
        if [[ -n $CTR_DIR && -d $CTR_DIR ]]; then
                if mountpoint -q "$CTR_DIR/root"; then
                        umount "$CTR_DIR/root" 2>/dev/null || umount -l "$CTR_DIR/root" || true
                fi
                if mountpoint -q "$CTR_DIR"; then
                        umount "$CTR_DIR" 2>/dev/null || umount -l "$CTR_DIR" || true
                fi
                rmdir "$CTR_DIR" 2>/dev/null || true
        fi
        CTR_DIR='' CTR_PID='' CTR_NSPAWN_PID=''
}

# For traps: keeps the exit status of the script.
ctr_cleanup() {
        local rc=$?
        trap - EXIT INT TERM HUP
        ctr_stop
        exit "$rc"
}

# Installs a configured meson build directory into the container, then does
# what a package's maintainer scripts would: users, directories, reloads.
# Does not start left4me.service: the first bus call activates it.
ctr_install_build() {
        local build=$1
        [[ -f $build/build.ninja ]] || ctr_die "ctr_install_build: $build is not a meson build directory"
        local out
        mountpoint -q "$CTR_DIR/root" || ctr_die "ctr_install_build: no container root"
        meson install -C "$build" --no-rebuild --quiet --destdir "$CTR_DIR/root" >/dev/null || return 1
        out=$(in_container systemd-sysusers left4me.conf 2>&1) || { printf '%s\n' "$out" >&2; return 1; }
        in_container systemd-tmpfiles --create left4me.conf || return 1
        in_container systemctl daemon-reload || return 1
        in_container busctl call org.freedesktop.DBus /org/freedesktop/DBus \
                org.freedesktop.DBus ReloadConfig >/dev/null || return 1
}

# Users the tests (and a developer) use: alice and bob in group left4me,
# carol in left4me-admin, mallory in neither.
ctr_add_test_users() {
        local spec user group
        for spec in alice:left4me bob:left4me carol:left4me-admin mallory:; do
                user=${spec%%:*}
                group=${spec#*:}
                if in_container getent passwd "$user" >/dev/null; then
                        continue
                fi
                if [[ -n $group ]]; then
                        in_container useradd -m -U -s /bin/bash -G "$group" "$user" || return 1
                else
                        in_container useradd -m -U -s /bin/bash "$user" || return 1
                fi
        done
}

# Persists/loads the container's coordinates (for the detached dev container).
ctr_save_state() {
        local dir=$1
        mkdir -p "$dir"
        {
                printf 'CTR_DIR=%q\n' "$CTR_DIR"
                printf 'CTR_NSPAWN_PID=%q\n' "$CTR_NSPAWN_PID"
                printf 'CTR_PID=%q\n' "$CTR_PID"
                printf 'CTR_NAME=%q\n' "$CTR_NAME"
        } >"$dir/container.env.tmp"
        mv "$dir/container.env.tmp" "$dir/container.env"
}

ctr_load_state() {
        local dir=$1
        [[ -r $dir/container.env ]] || return 1
        # shellcheck disable=SC1091
        source "$dir/container.env"
}
