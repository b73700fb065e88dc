# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# [Overlays] OwnerMaxBytes=, the storage quota per owner. alice is brought
# to exactly her quota (a drop-in, the daemon reloaded); then an import that
# would pass it is refused naming the quota and leaves the old content as
# it was; a Workshop build that would pass it fails before any download,
# while one linking a cache file another of her overlays links already
# succeeds (a file counts once per owner); an import that shrinks an
# overlay fits; a script writing past what its overlay may hold has its
# single file cut at the room (LimitFSIZE=) and is stopped; bob, under the
# same quota, imports as before. GetStorageUsage, l4mctl status and
# overlay list show the use against the quota.

# shellcheck source=web-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/web-lib.sh"

OQ_CONF=70-owner-quota
OQ_ITEM_SHARED=3700001
OQ_ITEM_NEW=3700002

# oq_archive FILE NAME:BYTES...: a tar.gz at FILE (in the container) with
# files of random content (incompressible: the ratio cap never applies).
oq_archive() {
        in_container "$L4M_PY" - "$@" <<'PY'
import io, os, sys, tarfile
with tarfile.open(sys.argv[1], "w:gz", compresslevel=1) as t:
    for spec in sys.argv[2:]:
        name, size = spec.rsplit(":", 1)
        data = os.urandom(int(size))
        ti = tarfile.TarInfo(name)
        ti.size, ti.mode = len(data), 0o644
        t.addfile(ti, io.BytesIO(data))
PY
}

# oq_usage OWNER: "USED QUOTA" from GetStorageUsage.
oq_usage() {
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetStorageUsage "$(gv_str "$1")"
        expect_ok "GetStorageUsage($1)"
        grep -oE 'uint64 [0-9]+' <<<"$OUT" | cut -d' ' -f2 | paste -sd ' '
}

oq_used() {
        local u
        u=$(oq_usage "$1")
        printf '%s\n' "${u%% *}"
}

# oq_import USER OVERLAY FILE: ImportArchive as USER and wait for the job.
oq_import() {
        l4mbus "$1" import "$2" "$3" --options "" --fd-kind file
        expect_ok "$1: ImportArchive of $3"
        JOB=$(job_path_from_output)
        [[ -n $JOB ]] || fail "ImportArchive answered no job path: $OUT"
        job_wait "$JOB" 90
}

# oq_tree OVERLAY-PATH: "path type mode size" and the sha256 of every file.
oq_tree() {
        in_container sh -c "cd '$L4M_OVERLAYS/$(id_of_path "$1")' && find . -mindepth 1 -printf '%P %y %m %s\n' | LC_ALL=C sort &&
                find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum"
}

oq_cleanup() {
        set +e
        sc_cleanup
        rm -f "$CTR_DIR/root$L4M_CONF_D/$OQ_CONF.conf"
        daemon_reload_config >/dev/null 2>&1
        return 0
}

test_owner_quota() {
        local maps bobov pad ws1 ws2 sc f before_tree before_size used_a used_b quota room line json
        sc_setup
        trap oq_cleanup EXIT
        fixture_start "{\"items\": {\"$OQ_ITEM_SHARED\": {\"size\": 262144}, \"$OQ_ITEM_NEW\": {\"size\": 1048576}}}"
        # No quota configured: none reported.
        assert_eq 18446744073709551615 "$(oq_usage nobody-here | cut -d' ' -f2)" "the quota without OwnerMaxBytes="
        assert_eq 0 "$(oq_used nobody-here)" "the use of an owner without overlays"

        step "alice: an archive overlay with 1 MiB, a Workshop overlay linking a 256 KiB item; bob: an overlay"
        maps=$(create_overlay alice oq-maps archive)
        oq_archive "$TF_DIR/old.tar.gz" left4dead2/addons/old.vpk:1048576
        oq_import alice "$maps" "$TF_DIR/old.tar.gz"
        expect_job succeeded "alice's first import"
        assert_eq 1048576 "$(ov_prop "$maps" Size)" "Size of oq-maps (bytes in files)"
        ws1=$(create_overlay alice oq-ws1 workshop)
        ws_set "$ws1" "$OQ_ITEM_SHARED"
        ov_build_wait "$ws1"
        expect_job succeeded "alice's Workshop build of oq-ws1"
        bobov=$(create_overlay bob oq-bob archive)

        # alice exactly at her quota, bob well under it: pad alice up.
        used_a=$(oq_used alice)
        used_b=$(oq_used bob)
        quota=$((used_b + 8 * 1048576))
        ((quota > used_a)) || quota=$used_a
        if ((quota > used_a)); then
                pad=$(create_overlay alice oq-pad archive)
                oq_archive "$TF_DIR/pad.tar.gz" pad.bin:$((quota - used_a))
                oq_import alice "$pad" "$TF_DIR/pad.tar.gz"
                expect_job succeeded "alice's padding import"
        fi
        assert_eq "$quota" "$(oq_used alice)" "alice's use after padding"
        l4m_conf "$OQ_CONF" "[Overlays]
OwnerMaxBytes=$quota"
        assert_eq "$quota $quota" "$(oq_usage alice)" "GetStorageUsage(alice): used and quota"

        step "an import that would pass the quota is refused; the old content stays"
        before_tree=$(oq_tree "$maps")
        before_size=$(ov_prop "$maps" Size)
        oq_archive "$TF_DIR/new.tar.gz" left4dead2/addons/new.vpk:2097152
        oq_import alice "$maps" "$TF_DIR/new.tar.gz"
        expect_job failed "alice's import past her quota"
        [[ $JOB_MSG == "Storage quota exceeded: alice's overlays use "*" of the "*" they may hold; this import needs more than the 1 MiB overlay oq-maps may hold."* ]] ||
                fail "the refusal does not name the quota and its use: $JOB_MSG"
        note "import refused: $JOB_MSG"
        wait_until 60 no_trash_left || fail "the refused staging tree is still there after 60 s"
        assert_eq "$before_tree" "$(oq_tree "$maps")" "oq-maps' files after the refused import"
        assert_eq "$before_size" "$(ov_prop "$maps" Size)" "oq-maps' Size after the refused import"
        assert_eq "$quota" "$(oq_used alice)" "alice's use after the refused import"
        # The same through l4mctl: exit status and the message.
        capture as_user alice l4mctl overlay import oq-maps "$TF_DIR/new.tar.gz" --wait
        expect_exit 1 "alice: l4mctl overlay import past the quota"
        [[ "$OUT$ERR" == *"Storage quota exceeded: alice's overlays use"* ]] || fail "l4mctl does not show the quota's message: $ERR"

        step "a Workshop build that would pass the quota fails before downloading"
        fx_reset_stats
        ws2=$(create_overlay alice oq-ws2 workshop)
        ws_set "$ws2" "$OQ_ITEM_SHARED" "$OQ_ITEM_NEW"
        ov_build_wait "$ws2"
        expect_job failed "alice's Workshop build past her quota"
        [[ $JOB_MSG == "Storage quota exceeded: alice's overlays use "*" of the "*" they may hold; this build needs 1 MiB of files not linked by the owner's other overlays, overlay oq-ws2 may hold 0 bytes."* ]] ||
                fail "the build's refusal does not name the quota: $JOB_MSG"
        note "build refused: $JOB_MSG"
        assert_eq 0 "$(fx_item_downloads "$OQ_ITEM_NEW")" "downloads of item $OQ_ITEM_NEW"
        assert_eq "" "$(in_container find "$L4M_CACHE/$OQ_ITEM_NEW" -type f 2>/dev/null)" "cache files of item $OQ_ITEM_NEW"
        # A file another of alice's overlays links adds nothing: it fits.
        ws_set "$ws2" "$OQ_ITEM_SHARED"
        ov_build_wait "$ws2"
        expect_job succeeded "alice's Workshop build of a file oq-ws1 links already"
        expect_links "$(id_of_path "$ws2")" "$OQ_ITEM_SHARED:1600000000"
        assert_eq 262144 "$(ov_prop "$ws2" Size)" "Size of oq-ws2 (the file it links)"
        assert_eq "$quota" "$(oq_used alice)" "alice's use with the file linked twice"

        step "the display: l4mctl status and overlay list"
        capture as_user alice l4mctl status
        expect_ok "alice: l4mctl status"
        line=$(grep -E '^  alice: ' <<<"$OUT") || fail "l4mctl status has no line for alice: $OUT"
        [[ $line == *" of "*"(100%)" ]] || fail "l4mctl status does not show alice's use against the quota: $line"
        note "l4mctl status: $line"
        capture as_user alice l4mctl --json status
        expect_ok "alice: l4mctl --json status"
        assert_eq "[$quota, $quota]" "$(json "[[s['used'], s['quota']] for s in d['storage'] if s['owner'] == 'alice'][0]" <<<"$OUT")" \
                "alice's use and quota in l4mctl --json status"
        capture as_user alice l4mctl overlay list
        expect_ok "alice: l4mctl overlay list"
        grep -qE '^NAME +TYPE +OWNER +STATE +CREATED +SIZE' <<<"$OUT" || fail "overlay list has no SIZE column: $(head -n 1 <<<"$OUT")"
        grep -qE '^(Storage| {7}) alice: .* of .*\(100%\)' <<<"$OUT" || fail "overlay list does not show alice's total against the quota: $OUT"
        capture as_user alice l4mctl --json overlay list
        expect_ok "alice: l4mctl --json overlay list"
        assert_eq "$before_size" "$(json "[o['size'] for o in d if o['name'] == 'oq-maps'][0]" <<<"$OUT")" "size of oq-maps in overlay list"

        step "the web API: GET /api/storage answers a web user its own use only"
        web_up
        web_user oq-web oq-web-secret-pass
        web_login oq-web oq-web-secret-pass
        web_expect 200 "oq-web logs in"
        web_call POST /api/overlays '{"name":"oq-web","type":"archive","options":{}}'
        web_expect 201 "oq-web creates an overlay"
        web_call GET /api/storage
        web_expect 200 "GET /api/storage as oq-web"
        assert_eq "[[\"web:oq-web\", 0, $quota]]" "$(json '[[s["owner"], s["used"], s["quota"]] for s in d]' <<<"$WEB_BODY")" \
                "GET /api/storage as the web user oq-web"
        web_call DELETE /api/overlays/oq-web
        web_expect 204 "oq-web deletes its overlay"
        gcall root "$L4M_MANAGER" org.left4me.Manager.DeleteUser "$(gv_str oq-web)"

        step "bob, under the same quota, is not affected"
        oq_archive "$TF_DIR/bob.tar.gz" left4dead2/addons/bob.vpk:2097152
        oq_import bob "$bobov" "$TF_DIR/bob.tar.gz"
        expect_job succeeded "bob's import under the quota alice is at"
        assert_eq $((used_b + 2097152)) "$(oq_used bob)" "bob's use after his import"

        step "an import that shrinks an overlay fits"
        oq_archive "$TF_DIR/small.tar.gz" left4dead2/addons/small.vpk:524288
        oq_import alice "$maps" "$TF_DIR/small.tar.gz"
        expect_job succeeded "alice's import of less than oq-maps held"
        assert_eq 524288 "$(ov_prop "$maps" Size)" "Size of oq-maps after the smaller import"
        assert_eq $((quota - 1048576 + 524288)) "$(oq_used alice)" "alice's use after the smaller import"

        step "a script writing past its room: its file is cut at the room, then it is stopped"
        room=$((quota - $(oq_used alice)))
        sc=$(create_overlay alice oq-script script)
        f=$(sc_file <<'SH'
#!/bin/bash
if head -c 4194304 /dev/zero > /overlay/big.bin; then echo "BIG ok"; else echo "BIG cut $(stat -c %s /overlay/big.bin)"; fi
rm -f /overlay/big.bin
for i in $(seq 1 60); do head -c 131072 /dev/zero > "/overlay/f$i.bin"; sleep 0.25; done
echo "SCRIPT DONE"
SH
)
        sc_set_file alice "$sc" "$f"
        expect_ok "alice: SetScript on oq-script"
        sc_build alice "$sc"
        job_wait "$JOB" 90
        expect_job failed "alice's script past her quota"
        [[ $JOB_MSG == "Storage quota exceeded: alice's overlays use "*" of the "*" they may hold; the script was stopped: overlay oq-script held "*", it may hold 512 KiB."* ]] ||
                fail "the script's failure does not name the quota: $JOB_MSG"
        note "script stopped: $JOB_MSG"
        assert_eq 524288 "$room" "the room alice's script overlay had"
        expect_log "$JOB" "BIG cut $room" "Storage quota: the overlay may hold 512 KiB" "stopping left4me-script-"
        sc_log_has "$JOB" "SCRIPT DONE" && fail "the script ran to its end although it passed the quota"
        json=$(ov_prop "$sc" Size)
        ((json > room)) || fail "oq-script's Size ($json) is not past its room ($room): was the run stopped for another reason?"
        ((json < 4 * 1048576)) || fail "oq-script's Size ($json): the script was stopped late"
        wait_until 20 sc_unit_gone "$(sc_unit "$JOB")" || fail "the stopped script's unit is still there"

        step "Wipe brings alice back under the quota"
        gcall root "$sc" org.left4me.Overlay.Wipe
        expect_ok "Wipe on oq-script"
        job_wait "$(job_path_from_output)" 60
        expect_job succeeded "Wipe of oq-script"
        (($(oq_used alice) <= quota)) || fail "alice is still above her quota after the wipe"

        for f in "$maps" "$ws1" "$ws2" "$sc" "$bobov" ${pad:+"$pad"}; do
                delete_overlay root "$f"
        done
}
l4m_test owner-quota test_owner_quota 300
