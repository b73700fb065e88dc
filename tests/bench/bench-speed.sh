# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by tests/bench/run: bench_speed measures, in one run, every row of
# the speed table (printed at the end by run with goal_row): the console
# path, fan-out of the bridge, the daemon's footprint, lists and instance
# start. Each part lives in the file of its subject; this file only puts
# them in order.

bench_speed() {
        bench_footprint
        bench_instance_start
        bench_console
        bench_web
}
