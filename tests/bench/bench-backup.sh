#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck source-path=SCRIPTDIR
#
# tests/bench/bench-backup.sh [--build DIR] [-n COUNT]
#
# Instance.Backup and RestoreBackup of a 1 GiB upper/ against GNU tar
# --zstd -cf and -xf of the same tree, in the same run and container. The
# tree (runtime/bb/upper of an instance that is never started) is 32 files
# of 16 MiB of random bytes (demos, what does not compress), 32 files of
# 16 MiB of log-like text (what does) and 2048 small files of a few KiB
# (configs, plugin data). Each round times, from the outside:
#   B  l4mctl instance backup bb --wait (the job: the tree read, each file
#      checked for changes, written as tar.zst, synced, recorded)
#   T  tar --zstd -cf FILE -C runtime/bb upper, then sync -f FILE
#   R  l4mctl backup restore ID --wait (the job: extracted with the
#      hostile-archive rules into staging, handed to the instance's uid,
#      synced, swapped in)
#   X  tar --zstd -xf FILE -C a fresh directory, then sync -f
# COUNT rounds (default 3), B T R X in turn; prints every figure, the
# medians, the sizes of both archives and the ratios B/T and R/X.
#
# On its own (as root) it boots a disposable container as the integration
# tests do (tools/container.sh) and installs the build into it:
#   --build DIR  an existing meson build directory (built with ninja first);
#                without it a fresh one is set up and removed.
# tests/bench/run sources it and calls bench_backup in its own container
# (--only backups for just this one; -n does not apply: set BB_COUNT).
# Prints figures only; no thresholds, no pass/fail. Needs about 4 GiB of
# memory for the container's tmpfs.

BB_COUNT=${BB_COUNT:-3}
BB_STATE=/var/lib/left4me
BB_NAME=bb

bb_now_us() { echo $(($(date +%s%N) / 1000)); }
bb_s() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000000 }'; }

bb_median() {
        printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

bb_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# bb_time CMD...: runs CMD in the container, prints the wall time in µs.
bb_time() {
        local t0 t1
        t0=$(bb_now_us)
        in_container "$@" >/dev/null
        t1=$(bb_now_us)
        echo $((t1 - t0))
}

# bb_setup: an overlay, a blueprint, the instance and its 1 GiB upper/.
bb_setup() {
        local ov=bb-ov uid
        # After the bus benchmark root has the most overlays one may own:
        # its first one will do (the instance never starts).
        in_container busctl call org.left4me.Manager /org/left4me/Manager org.left4me.Manager \
                CreateOverlay 'ssa{sv}' "$ov" archive 0 >/dev/null 2>&1 || ov=bench
        in_container busctl call org.left4me.Manager /org/left4me/Manager org.left4me.Manager \
                CreateBlueprint 'sasa{sv}' bb-bp 1 "$ov" 0 >/dev/null
        in_container busctl call org.left4me.Manager /org/left4me/Manager org.left4me.Manager \
                CreateInstance 'ssa{sv}' "$BB_NAME" bb-bp 0 >/dev/null
        in_container python3 - "$BB_STATE/runtime/$BB_NAME/upper" <<'PY'
import os, random, sys
top = sys.argv[1]
os.makedirs(top, mode=0o700, exist_ok=True)
rnd = random.Random(15)
words = ["connected", "map", "c1m1_hotel", "player", "STEAM_1:0:12345", "disconnect", "L 12/07/2026", "say", "sm_plugin"]
for d in ("left4dead2/demos", "left4dead2/logs", "left4dead2/addons/sourcemod/data"):
    os.makedirs(os.path.join(top, d), exist_ok=True)
for i in range(32):
    with open(os.path.join(top, "left4dead2/demos/d%02d.dem" % i), "wb") as f:
        f.write(os.urandom(16 << 20))
for i in range(32):
    with open(os.path.join(top, "left4dead2/logs/L%04d.log" % i), "w") as f:
        n = 0
        while n < (16 << 20):
            line = " ".join(rnd.choice(words) for _ in range(8)) + " %d\n" % rnd.randrange(1 << 30)
            f.write(line)
            n += len(line)
for i in range(2048):
    with open(os.path.join(top, "left4dead2/addons/sourcemod/data/f%04d.cfg" % i), "w") as f:
        f.write(("key%d \"value %d\"\n" % (i, rnd.randrange(1 << 20))) * rnd.randrange(50, 200))
PY
        uid=$(in_container busctl get-property org.left4me.Manager "/org/left4me/Manager/instance/$BB_NAME" \
                org.left4me.Instance UID | cut -d' ' -f2)
        in_container chown -R "$uid:$uid" "$BB_STATE/runtime/$BB_NAME/upper"
}

bb_last_id() {
        in_container l4mctl backup list "$BB_NAME" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])'
}

bench_backup() {
        local i id b t r x size tree bsize tsize backup=() tars=() restore=() untar=()
        echo
        echo "--- Backup and RestoreBackup of a 1 GiB upper/ against tar --zstd (BB_COUNT=$BB_COUNT)"
        bb_setup
        tree=$(in_container du -sb "$BB_STATE/runtime/$BB_NAME/upper" | cut -f1)
        echo "tree: $tree bytes in $(in_container find "$BB_STATE/runtime/$BB_NAME/upper" -type f | wc -l) files"
        # KeepPerInstance= (7 by default) does not prune within the rounds.
        for ((i = 1; i <= BB_COUNT; i++)); do
                b=$(bb_time l4mctl instance backup "$BB_NAME" --wait)
                id=$(bb_last_id)
                t=$(bb_time sh -c "rm -f /var/tmp/bb.tar.zst && tar --zstd -cf /var/tmp/bb.tar.zst -C '$BB_STATE/runtime/$BB_NAME' upper && sync -f /var/tmp/bb.tar.zst")
                r=$(bb_time l4mctl backup restore "$id" --wait)
                x=$(bb_time sh -c "rm -rf /var/tmp/bb-x && mkdir /var/tmp/bb-x && tar --zstd -xf /var/tmp/bb.tar.zst -C /var/tmp/bb-x && sync -f /var/tmp/bb-x")
                backup+=("$b") tars+=("$t") restore+=("$r") untar+=("$x")
                echo "round $i: B $(bb_s "$b") s, T $(bb_s "$t") s, R $(bb_s "$r") s, X $(bb_s "$x") s"
                # The old tree a restore swapped out is removed in the
                # background: let it go before the next round.
                sleep 2
        done
        bsize=$(in_container stat -c %s "$BB_STATE/backups/$BB_NAME/$id.tar.zst")
        tsize=$(in_container stat -c %s /var/tmp/bb.tar.zst)
        b=$(bb_median "${backup[@]}") t=$(bb_median "${tars[@]}") r=$(bb_median "${restore[@]}") x=$(bb_median "${untar[@]}")
        echo "medians: Backup $(bb_s "$b") s, tar --zstd -cf $(bb_s "$t") s, RestoreBackup $(bb_s "$r") s, tar --zstd -xf $(bb_s "$x") s"
        echo "archive sizes: backup $bsize bytes, tar.zst $tsize bytes (tree $tree bytes)"
        echo "ratios: Backup/tar -cf $(bb_ratio "$b" "$t"), RestoreBackup/tar -xf $(bb_ratio "$r" "$x")"
        in_container rm -rf /var/tmp/bb-x /var/tmp/bb.tar.zst
        size=$(in_container du -sb "$BB_STATE/runtime/$BB_NAME/upper" | cut -f1)
        [[ $size == "$tree" ]] || echo "note: upper/ holds $size bytes after the restores, $tree before"
}

# On its own: a container of its own.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
        # shellcheck source=standalone.sh
        source "$(dirname "${BASH_SOURCE[0]}")/standalone.sh"
        bench_standalone "$0" "backup benchmark" bench_backup BB_COUNT "$@"
fi
