# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck source-path=SCRIPTDIR
#
# What a benchmark script run on its own does (tests/bench/run sources the
# scripts and calls their functions in its own container instead):
#   bench_standalone SCRIPT TITLE FUNCTION COUNT-VARIABLE [ARG...]
# parses ARG... (--build DIR, -n|--count N into COUNT-VARIABLE, -h|--help:
# the comment at the top of SCRIPT), boots a disposable container as the
# integration tests do (tools/container.sh), installs the build into it
# (a fresh one, set up and removed, without --build), prints
# "=== left4me TITLE (revision, CPUs, kernel)" and calls FUNCTION.

bench_standalone() {
        local script=$1 title=$2 func=$3 count_var=$4 build=""
        shift 4
        set -euo pipefail
        # shellcheck source=../../tools/container.sh
        source "$(dirname "${BASH_SOURCE[0]}")/../../tools/container.sh"
        while (($#)); do
                case $1 in
                --build) build=${2:?--build needs a directory}; shift 2 ;;
                -n | --count) printf -v "$count_var" '%s' "${2:?-n needs a number}"; shift 2 ;;
                -h | --help) awk 'NR > 2 && /^#/ { if ($0 !~ /shellcheck/) { sub(/^# ?/, ""); print }; next } NR > 2 { exit }' "$script"; exit 0 ;;
                *) echo "unknown argument: $1" >&2; exit 2 ;;
                esac
        done
        [[ ${!count_var} =~ ^[1-9][0-9]*$ ]] || ctr_die "bad count: ${!count_var}"
        ctr_require_root
        BENCH_OWN_BUILD=
        trap bench_standalone_finish EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM HUP
        ctr_install_deps
        if [[ -z $build ]]; then
                BENCH_OWN_BUILD=$(mktemp -d "${TMPDIR:-/tmp}/left4me-build.XXXXXXXX")
                build=$BENCH_OWN_BUILD
                meson setup "$build" "$L4M_SRCDIR" >/dev/null
        fi
        ninja -C "$build" >/dev/null
        CTR_NAME=${L4M_CTR_NAME:-left4me-bench}
        ctr_boot
        ctr_install_build "$build"
        echo "=== left4me $title ($(git -C "$L4M_SRCDIR" describe --always --dirty 2>/dev/null || echo "unknown revision"), $(nproc) CPUs, kernel $(uname -r))"
        "$func"
}

bench_standalone_finish() {
        local rc=$?
        trap - EXIT INT TERM HUP
        ctr_stop
        [[ -z $BENCH_OWN_BUILD ]] || rm -rf "$BENCH_OWN_BUILD"
        exit "$rc"
}
