# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Workshop overlays against the fake Steam API (tests/fixtures), run in the
# container on loopback: collections, the shared cache, links, per-item
# outcomes, transfer faults, cancel, a crash mid-build, Busy, the cache
# methods and SetWorkshopItems validation.
#
# The cache is shared by the whole suite, so every test uses item ids of its
# own (81xx, 82xx, …, 81xxx) and its own overlays.

# ws_setup CONFIG-JSON: left4me running and pointed at a fresh fixture.
ws_setup() {
        daemon_up
        fixture_start "$1"
}

# ov_id PATH: the overlay id of an object path.
ov_id() {
        id_of_path "$1"
}

# link_inodes OVERLAY-ID: "name inode" of the links in addons/ (the links
# themselves, not their targets), sorted.
link_inodes() {
        in_container sh -c "cd '$(addons_dir "$1")' && find . -mindepth 1 -maxdepth 1 -type l -printf '%f %i\n'" |
                LC_ALL=C sort
}

fx_stalled() {
        local n
        n=$(fx_stats "d['items'].get('$1', {}).get('stalled', 0)")
        ((n >= 1))
}

# part_size_at_least ID TIME_UPDATED BYTES
part_size_at_least() {
        local n
        n=$(in_container stat -c %s "$L4M_CACHE/$1/$2.vpk.part" 2>/dev/null) || return 1
        ((n >= $3))
}

test_ws_nested_collection() {
        local path ov stats
        ws_setup '{
          "items": {
            "8101": {"size": 120000}, "8102": {"size": 50000}, "8103": {"size": 70001},
            "8104": {"size": 1}, "8105": {"size": 300000, "time_updated": 1700000005}
          },
          "collections": {
            "8190": [8101, 8102, "8191"],
            "8191": [8102, 8103, {"id": 8192, "filetype": 2}],
            "8192": [8103, 8104, "8190"]
          }
        }'
        path=$(ws_new ws-nested 8190 "https://steamcommunity.com/sharedfiles/filedetails/?id=8105" 8101 8191)
        ov=$(ov_id "$path")
        ov_build_wait "$path" 45
        expect_job succeeded "build of a nested collection with a cycle"

        stats=$(fx_stats)
        step "fixture stats: $(json "{k: d[k] for k in ('requests', 'bytes', 'downloads')}" <<<"$stats")"
        assert_eq 5 "$(json "d['requests']['files']" <<<"$stats")" "file requests (5 distinct items)"
        for i in 8101 8102 8103 8104 8105; do
                assert_eq 1 "$(json "d['items']['$i']['downloads']" <<<"$stats")" "downloads of item $i"
                assert_eq 1 "$(json "d['details_ids'].get('$i', 0)" <<<"$stats")" "times item $i was asked for details"
        done
        for c in 8190 8191 8192; do
                assert_eq 1 "$(json "d['collection_ids'].get('$c', 0)" <<<"$stats")" "times collection $c was asked for"
                assert_eq 0 "$(json "d['details_ids'].get('$c', 0)" <<<"$stats")" "collection $c asked for as an item"
        done
        expect_links "$ov" 8101:1600000000 8102:1600000000 8103:1600000000 8104:1600000000 8105:1700000005
        expect_cache_file 8101 1600000000 120000
        expect_cache_file 8103 1600000000 70001
        expect_cache_file 8104 1600000000 1
        expect_cache_file 8105 1700000005 300000
        expect_log "$JOB" "5 Workshop item(s) after expanding collections." "Links: 5 in place, 5 new or changed, 0 removed." \
                "link cut (cycle)."
        assert_eq ready "$(ov_prop "$path" State)" "overlay state after the build"
        assert_eq $((120000 + 50000 + 70001 + 1 + 300000)) "$(ov_prop "$path" Size)" "overlay Size"
        [[ $(ov_prop "$path" LastBuild) != 0 ]] || fail "LastBuild is still 0 after a successful build"
}
l4m_test ws-nested-collection test_ws_nested_collection 90

test_ws_rebuild_downloads_nothing() {
        local path ov before after t0 t1
        ws_setup '{
          "items": {"8201": {"size": 200000}, "8202": {"size": 10000}, "8203": {"size": 30000}},
          "collections": {"8290": [8202, 8203]}
        }'
        path=$(ws_new ws-rebuild 8290 8201)
        ov=$(ov_id "$path")
        ov_build_wait "$path"
        expect_job succeeded "first build"
        before=$(link_inodes "$ov")

        fx_reset_stats
        t0=$(date +%s%N)
        ov_build_wait "$path"
        t1=$(date +%s%N)
        expect_job succeeded "second build, nothing changed"
        assert_eq 0 "$(fx_stats "d['requests']['files']")" "file requests of the second build"
        assert_eq 0 "$(fx_stats "d['bytes']")" "file bytes served for the second build"
        after=$(link_inodes "$ov")
        assert_eq "$before" "$after" "the links (names and inodes) after a build with nothing changed"
        expect_links "$ov" 8201:1600000000 8202:1600000000 8203:1600000000
        expect_log "$JOB" "3 in the cache, 0 to download" "Links: 3 in place, 0 new or changed, 0 removed."
        note "no-change rebuild of 3 items: $(((t1 - t0) / 1000000)) ms (Build call to finished state, polled)"
}
l4m_test ws-rebuild-downloads-nothing test_ws_rebuild_downloads_nothing

test_ws_changed_item() {
        local path ov before after
        local cfg='{"items": {"8301": {"size": 5000}, "8302": {"size": 6000, "time_updated": TU}, "8303": {"size": 7000}}}'
        ws_setup "${cfg/TU/1600000000}"
        path=$(ws_new ws-changed 8301 8302 8303)
        ov=$(ov_id "$path")
        ov_build_wait "$path"
        expect_job succeeded "first build"
        before=$(link_inodes "$ov")

        cfg=${cfg/TU/1600000100}
        fixture_config "${cfg/\"size\": 6000/\"size\": 6100}"
        fx_reset_stats
        ov_build_wait "$path"
        expect_job succeeded "build after item 8302 changed"
        assert_eq 1 "$(fx_stats "d['requests']['files']")" "file requests after one item changed"
        assert_eq '["8302"]' "$(fx_stats "sorted(d['items'])")" "items downloaded after 8302 changed"
        assert_eq 1 "$(fx_item_downloads 8302)" "downloads of 8302"
        expect_links "$ov" 8301:1600000000 8302:1600000100 8303:1600000000
        expect_cache_file 8302 1600000100 6100
        after=$(link_inodes "$ov")
        assert_eq "$(grep -v '^8302' <<<"$before")" "$(grep -v '^8302' <<<"$after")" \
                "links of the unchanged items (names and inodes)"
        expect_log "$JOB" "Links: 3 in place, 1 new or changed, 0 removed."
}
l4m_test ws-changed-item test_ws_changed_item

test_ws_shared_cache() {
        local a b job_a job_b ino_a ino_b files
        # 8402 is slow, so that both builds want it at the same time.
        ws_setup '{"items": {
          "8401": {"size": 100000},
          "8402": {"size": 400000, "stall_seconds": 1.5, "stall_after": 100000, "stall_times": 1},
          "8403": {"size": 50000}}}'
        a=$(ws_new ws-share-a 8401 8402)
        b=$(ws_new ws-share-b 8402 8403)
        ov_build "$a"
        job_a=$JOB
        ov_build "$b"
        job_b=$JOB
        job_wait "$job_a"
        expect_job succeeded "build of ws-share-a"
        job_wait "$job_b"
        expect_job succeeded "build of ws-share-b (at the same time)"

        for i in 8401 8402 8403; do
                assert_eq 1 "$(fx_item_downloads "$i")" "complete downloads of item $i"
        done
        expect_links "$(ov_id "$a")" 8401:1600000000 8402:1600000000
        expect_links "$(ov_id "$b")" 8402:1600000000 8403:1600000000
        ino_a=$(in_container stat -L -c '%d:%i' "$(addons_dir "$(ov_id "$a")")/8402.vpk")
        ino_b=$(in_container stat -L -c '%d:%i' "$(addons_dir "$(ov_id "$b")")/8402.vpk")
        assert_eq "$ino_a" "$ino_b" "the file both overlays' 8402.vpk links resolve to (device:inode)"
        files=$(in_container ls -A "$L4M_CACHE/8402")
        assert_eq 1600000000.vpk "$files" "files in workshop_cache/8402"
        expect_cache_file 8402 1600000000 400000

        capture in_container busctl --json=short call "$L4M_BUS" "$L4M_MANAGER" org.left4me.Manager ListCache
        expect_ok ListCache
        assert_eq 2 "$(json "[e[3] for e in d['data'][0] if e[0] == 8402 and e[1] == '1600000000.vpk'][0]" <<<"$OUT")" \
                "ListCache: overlays linking to 8402/1600000000.vpk"
}
l4m_test ws-shared-cache test_ws_shared_cache

test_ws_stale_and_foreign_links() {
        local path ov addons before_foreign after_foreign
        ws_setup '{"items": {"8501": {}, "8502": {}, "8503": {}, "8504": {}}}'
        path=$(ws_new ws-stale 8501 8502 8503)
        ov=$(ov_id "$path")
        ov_build_wait "$path"
        expect_job succeeded "first build"
        expect_links "$ov" 8501:1600000000 8502:1600000000 8503:1600000000

        # Things left4me did not make: a file, a symlink with an item-like
        # name pointing elsewhere, a regular file with an item-like name, a
        # symlink into the cache under another name, and a regular file
        # where a link of the next build would go.
        addons=$(addons_dir "$ov")
        in_container sh -c "cd '$addons' && echo mine > custom.vpk && ln -s /etc/hostname 8599.vpk &&
                echo also-mine > 8598.vpk && ln -s $L4M_CACHE/8502/1600000000.vpk mylink.vpk &&
                echo not-a-link > 8504.vpk"
        before_foreign=$(in_container sh -c "cd '$addons' && for f in custom.vpk 8599.vpk 8598.vpk mylink.vpk 8504.vpk; do
                printf '%s %s %s\n' \$f \$(stat -c '%F:%i' \$f) \$(readlink \$f || md5sum < \$f); done")

        ws_set "$path" 8501 8504
        ov_build_wait "$path"
        expect_job succeeded "build with 8502 and 8503 dropped and 8504 added"
        expect_links "$ov" 8501:1600000000
        after_foreign=$(in_container sh -c "cd '$addons' && for f in custom.vpk 8599.vpk 8598.vpk mylink.vpk 8504.vpk; do
                printf '%s %s %s\n' \$f \$(stat -c '%F:%i' \$f) \$(readlink \$f || md5sum < \$f); done")
        assert_eq "$before_foreign" "$after_foreign" "files in addons/ that left4me did not make"
        in_container test ! -e "$addons/8502.vpk" -a ! -L "$addons/8502.vpk" || fail "the stale link 8502.vpk is still there"
        in_container test ! -L "$addons/8503.vpk" || fail "the stale link 8503.vpk is still there"
        expect_log "$JOB" "Removed left4dead2/addons/8502.vpk" "Removed left4dead2/addons/8503.vpk" \
                "left4dead2/addons/8504.vpk exists and was not made by left4me: left alone."
}
l4m_test ws-stale-and-foreign-links test_ws_stale_and_foreign_links

test_ws_unusable_items_reported() {
        local path ov
        ws_setup '{"items": {"8601": {"size": 3000}, "8602": {"private": true}, "8603": {"removed": true},
                             "8604": {"app": 730}}}'
        path=$(ws_new ws-unusable 8601 8602 8603 8604)
        ov=$(ov_id "$path")
        ov_build_wait "$path"
        expect_job succeeded "build with one usable item and three unusable ones"
        [[ $JOB_MSG == *"3 not usable"* ]] || fail "the job's message does not count the 3 unusable items: $JOB_MSG"
        expect_log "$JOB" "Item 8602: not used: private" "Item 8603: not used: removed" "Item 8604: not used: wrong-game"
        expect_links "$ov" 8601:1600000000
        assert_eq '["8601"]' "$(fx_stats "sorted(d['items'])")" "items whose files were requested"
}
l4m_test ws-unusable-items-reported test_ws_unusable_items_reported

test_ws_all_unusable_fails() {
        local path ov before
        ws_setup '{"items": {"8704": {"size": 2000}, "8701": {"private": true}, "8702": {"removed": true},
                             "8703": {"app": 730}}}'
        path=$(ws_new ws-none-usable 8704)
        ov=$(ov_id "$path")
        ov_build_wait "$path"
        expect_job succeeded "first build (8704)"
        before=$(addons_listing "$ov")

        ws_set "$path" 8701 8702 8703
        ov_build_wait "$path"
        expect_job failed "build where no item is usable"
        [[ $JOB_MSG == *"None of the 3 item(s) can be used"* ]] || fail "unclear failure message: $JOB_MSG"
        expect_log "$JOB" "Item 8701: not used: private" "Item 8702: not used: removed" "Item 8703: not used: wrong-game"
        assert_eq "$before" "$(addons_listing "$ov")" "addons/ after the failed build (the previous build's links)"
        # Nothing was relinked: the previous build's content stands, and so does State.
        assert_eq ready "$(ov_prop "$path" State)" "overlay state after the failed build"
}
l4m_test ws-all-unusable-fails test_ws_all_unusable_fails

test_ws_retry_after_500() {
        local path ov
        ws_setup '{"items": {"8801": {"size": 80000, "fail_first_n": 2, "fail_status": 500}},
                   "endpoints": {"GetPublishedFileDetails": {"fail_first_n": 1, "fail_status": 503}}}'
        path=$(ws_new ws-retry 8801)
        ov=$(ov_id "$path")
        ov_build_wait "$path"
        expect_job succeeded "build with two HTTP 500 answers for the file and one 503 from the API"
        assert_eq 2 "$(fx_stats "d['items']['8801']['failures']")" "failed file requests the fixture answered"
        assert_eq 1 "$(fx_item_downloads 8801)" "complete downloads of 8801"
        (($(fx_stats "d['requests']['GetPublishedFileDetails']") >= 2)) ||
                fail "GetPublishedFileDetails was not asked again after the 503"
        expect_links "$ov" 8801:1600000000
        expect_cache_file 8801 1600000000 80000
        expect_log "$JOB" "trying again"
}
l4m_test ws-retry-after-500 test_ws_retry_after_500

test_ws_resume_truncated() {
        local path ov
        ws_setup '{"items": {
          "8901": {"size": 300000, "truncate_at": 100000, "truncate_times": 1},
          "8902": {"size": 200000, "truncate_at": 50000, "truncate_times": 1, "ignore_range": true}}}'
        path=$(ws_new ws-resume 8901 8902)
        ov=$(ov_id "$path")
        ov_build_wait "$path"
        expect_job succeeded "build with truncated bodies"
        assert_eq 1 "$(fx_stats "d['items']['8901']['truncated']")" "truncated answers for 8901"
        (($(fx_stats "d['items']['8901']['ranges']") >= 1)) || fail "8901 was not resumed with a Range request"
        assert_eq 300000 "$(fx_stats "d['items']['8901']['bytes']")" \
                "bytes served for 8901 (100000 before the cut + 200000 resumed, nothing twice)"
        expect_cache_file 8901 1600000000 300000
        # A server that ignores Range answers 200 with everything: the
        # partial file must be started over, not appended to.
        expect_cache_file 8902 1600000000 200000
        expect_links "$ov" 8901:1600000000 8902:1600000000
        expect_log "$JOB" "Item 8901: downloaded (300000 bytes, resumed)."
}
l4m_test ws-resume-truncated test_ws_resume_truncated

test_ws_lying_size() {
        local path ov before lie
        local cfg='{"items": {"81001": {"size": 1000}, "81002": {"size": 2000, "time_updated": TU LIE}}}'
        ws_setup "$(sed -e 's/TU/1600000000/' -e 's/LIE//' <<<"$cfg")"
        path=$(ws_new ws-lying 81001 81002)
        ov=$(ov_id "$path")
        ov_build_wait "$path"
        expect_job succeeded "first build"
        before=$(addons_listing "$ov")

        for lie in 5000 500; do
                step "item 81002 announced as $lie bytes, served 2000"
                fixture_config "$(sed -e 's/TU/1600000200/' -e "s/LIE/, \"lie_size\": $lie/" <<<"$cfg")"
                ov_build_wait "$path" 45
                expect_job failed "build where Steam announces $lie bytes for a 2000-byte file"
                [[ $JOB_MSG == *81002* ]] || fail "the failure message does not name item 81002: $JOB_MSG"
                assert_eq "$before" "$(addons_listing "$ov")" "addons/ after the failed build (size $lie)"
                in_container test ! -e "$L4M_CACHE/81002/1600000200.vpk" ||
                        fail "a wrong-size file was put into the cache as 81002/1600000200.vpk"
        done
        expect_links "$ov" 81001:1600000000 81002:1600000000
        expect_cache_file 81002 1600000000 2000
}
l4m_test ws-lying-size test_ws_lying_size 120

test_ws_cancel_mid_download() {
        local path ov before parts
        local cfg='{"items": {"81101": {"size": 1000}, "81102": {"size": 400000 STALL}}}'
        local stall=', "stall_seconds": 30, "stall_after": 100000'
        ws_setup "${cfg/STALL/$stall}"
        path=$(ws_new ws-cancel 81101)
        ov=$(ov_id "$path")
        ov_build_wait "$path"
        expect_job succeeded "first build"
        before=$(addons_listing "$ov")

        ws_set "$path" 81101 81102
        ov_build "$path"
        wait_until 15 fx_stalled 81102 || fail "the download of 81102 never reached the stall"
        wait_until 10 part_size_at_least 81102 1600000000 100000 ||
                fail "workshop_cache/81102/1600000000.vpk.part did not get the first 100000 bytes"
        assert_eq running "$(job_prop "$JOB" State)" "job state while the download stalls"
        gcall root "$JOB" org.left4me.Job.Cancel
        expect_ok "Cancel() of the running build"
        job_wait "$JOB" 15
        expect_job cancelled "the cancelled build"

        parts=$(in_container find "$L4M_OVERLAYS" -name '*.part')
        [[ -z $parts ]] || fail ".part files in overlays/: $parts"
        assert_eq "$before" "$(addons_listing "$ov")" "addons/ after the cancelled build"
        assert_eq ready "$(ov_prop "$path" State)" "overlay state after the cancelled build"
        in_container test -f "$L4M_CACHE/81102/1600000000.vpk.part" || fail "the partial download is not kept in the cache"
        in_container test ! -e "$L4M_CACHE/81102/1600000000.vpk" || fail "a complete cache file exists for 81102"

        # The next build continues the partial file.
        fixture_config "${cfg/STALL/}"
        fx_reset
        ov_build_wait "$path"
        expect_job succeeded "build after the cancel"
        (($(fx_stats "d['items']['81102']['ranges']") >= 1)) || fail "the partial download was not resumed"
        expect_cache_file 81102 1600000000 400000
        expect_links "$ov" 81101:1600000000 81102:1600000000
}
l4m_test ws-cancel-mid-download test_ws_cancel_mid_download

test_ws_kill9_mid_build() {
        local path ov pid1 pid2 attempts parts
        ws_setup '{"items": {"81201": {"size": 1000},
          "81202": {"size": 300000, "stall_seconds": 60, "stall_after": 100000, "stall_times": 1}}}'
        path=$(ws_new ws-kill9 81201 81202)
        ov=$(ov_id "$path")
        ov_build "$path"
        wait_until 15 fx_stalled 81202 || fail "the download of 81202 never reached the stall"
        wait_until 10 part_size_at_least 81202 1600000000 100000 || fail "the .part did not get the first 100000 bytes"
        pid1=$(unit_prop MainPID)
        step "SIGKILL to left4med ($pid1) while job $JOB downloads"
        capture in_container kill -KILL "$pid1"
        expect_ok "kill -KILL $pid1"

        # systemd restarts it (Restart=on-failure); a bus call would too.
        wait_until 20 mainpid_changed_from "$pid1" || true
        reset_start_limit
        daemon_up
        pid2=$(unit_prop MainPID)
        [[ $pid2 != "$pid1" ]] || fail "left4med's MainPID is still $pid1"

        job_wait "$JOB" 45
        attempts=$(sql "SELECT attempts FROM jobs WHERE id = $(job_id_of "$JOB");")
        note "after SIGKILL: job $JOB $JOB_STATE after $attempts attempt(s): $JOB_MSG"
        case $JOB_STATE in
        succeeded)
                assert_eq 2 "$attempts" "attempts of the job recorded in the database"
                expect_log "$JOB" "The daemon restarted; queued again." "Started (attempt 2)."
                expect_links "$ov" 81201:1600000000 81202:1600000000
                expect_cache_file 81202 1600000000 300000
                assert_eq ready "$(ov_prop "$path" State)" "overlay state after the resumed build"
                ;;
        failed)
                [[ $JOB_MSG == *restart* ]] || fail "the job failed after the restart without saying why: $JOB_MSG"
                ;;
        *) fail "job $JOB ended $JOB_STATE after the restart" ;;
        esac
        parts=$(in_container find "$L4M_OVERLAYS" -name '*.part')
        [[ -z $parts ]] || fail ".part files in overlays/: $parts"
}
l4m_test ws-kill9-mid-build test_ws_kill9_mid_build 120

test_ws_busy_while_building() {
        local path job
        ws_setup '{"items": {"81301": {"size": 200000, "stall_seconds": 30, "stall_after": 1000}}}'
        path=$(ws_new ws-busy 81301)
        ov_build "$path"
        job=$JOB
        wait_until 15 fx_stalled 81301 || fail "the download never reached the stall"

        gcall root "$path" org.left4me.Overlay.Build '{}'
        expect_dbus_error org.left4me.Error.Busy "a second Build() while one runs"
        gcall root "$path" org.left4me.Overlay.Delete
        expect_dbus_error org.left4me.Error.Busy "Delete() while building"
        gcall root "$path" org.left4me.Overlay.SetWorkshopItems "['81302']"
        expect_dbus_error org.left4me.Error.Busy "SetWorkshopItems() while building"
        gcall root "$L4M_MANAGER" org.left4me.Manager.PruneCache
        expect_dbus_error org.left4me.Error.Busy "PruneCache() while a Workshop build runs"
        assert_eq "[81301]" "$(in_container busctl --json=short get-property "$L4M_BUS" "$path" org.left4me.Overlay Items |
                json "d['data']")" "Items after the refused SetWorkshopItems"
        [[ -n $(row_id ws-busy) ]] || fail "the overlay's row is gone after the refused Delete"

        gcall root "$job" org.left4me.Job.Cancel
        expect_ok "Cancel()"
        job_wait "$job" 15
        expect_job cancelled "the build"
        delete_overlay root "$path"
}
l4m_test ws-busy-while-building test_ws_busy_while_building

# cache_entries: ListCache as "id/name size links" lines, sorted.
cache_entries() {
        in_container busctl --json=short call "$L4M_BUS" "$L4M_MANAGER" org.left4me.Manager ListCache |
                json "'\n'.join('%d/%s %d %d' % tuple(e) for e in d['data'][0])" | LC_ALL=C sort
}

test_ws_cache_list_prune() {
        local p r before unref after files bytes want_files want_bytes e
        local cfg='{"items": {"81401": {"size": 1000}, "81402": {"size": 2000, "time_updated": TU}, "81404": {"size": 4000}}}'
        ws_setup "${cfg/TU/1600000000}"
        p=$(ws_new ws-prune-p 81401 81402)
        ov_build_wait "$p"
        expect_job succeeded "build of ws-prune-p"
        fixture_config "${cfg/TU/1600000300}"
        ov_build_wait "$p"
        expect_job succeeded "rebuild of ws-prune-p after 81402 changed"
        r=$(ws_new ws-prune-r 81404)
        ov_build_wait "$r"
        expect_job succeeded "build of ws-prune-r"
        delete_overlay root "$r"
        # A partial download nobody finished.
        in_container sh -c "mkdir -p $L4M_CACHE/81403 && head -c 777 /dev/zero > $L4M_CACHE/81403/1600000000.vpk.part"

        capture as_user alice busctl call "$L4M_BUS" "$L4M_MANAGER" org.left4me.Manager ListCache
        expect_ok "alice: ListCache"
        before=$(cache_entries)
        printf '%s\n' "$before" | sed 's/^/  cache: /' >&2
        for e in "81401/1600000000.vpk 1000 1" "81402/1600000300.vpk 2000 1" "81402/1600000000.vpk 2000 0" \
                "81403/1600000000.vpk.part 777 0" "81404/1600000000.vpk 4000 0"; do
                grep -qxF "$e" <<<"$before" || fail "ListCache lacks '$e'"
        done
        unref=$(awk '$3 == 0' <<<"$before")
        want_files=$(grep -c . <<<"$unref" || true)
        want_bytes=$(awk '{ s += $2 } END { print s + 0 }' <<<"$unref")

        gcall mallory "$L4M_MANAGER" org.left4me.Manager.PruneCache
        expect_dbus_error org.freedesktop.DBus.Error.InteractiveAuthorizationRequired "mallory: PruneCache"
        assert_eq "$before" "$(cache_entries)" "the cache after mallory's PruneCache"

        gcall root "$L4M_MANAGER" org.left4me.Manager.PruneCache
        expect_ok PruneCache
        read -r files bytes < <(tr -d '(),' <<<"$OUT" | sed 's/uint64 //g')
        assert_eq "$want_files $want_bytes" "$files $bytes" "PruneCache's (files, bytes) against ListCache's unreferenced entries"
        after=$(cache_entries)
        assert_eq "$(awk '$3 != 0' <<<"$before")" "$after" "ListCache after PruneCache (only the referenced files)"
        in_container test ! -e "$L4M_CACHE/81403" || fail "the empty directory workshop_cache/81403 was kept"
        expect_links "$(ov_id "$p")" 81401:1600000000 81402:1600000300
        in_container test -f "$L4M_CACHE/81402/1600000300.vpk" || fail "a referenced cache file was pruned"
}
l4m_test ws-cache-list-prune test_ws_cache_list_prune

# items_of PATH: the Items property as JSON.
items_of() {
        in_container busctl --json=short get-property "$L4M_BUS" "$1" org.left4me.Overlay Items | json "d['data']"
}

test_ws_set_items_validation() {
        local path before bad many arch
        daemon_up
        path=$(create_overlay root ws-items workshop)
        ws_set "$path" 81501 "https://steamcommunity.com/sharedfiles/filedetails/?id=81502" \
                "http://www.steamcommunity.com/workshop/filedetails/?id=81503&searchtext=x" 81501
        assert_eq "[81501, 81502, 81503]" "$(items_of "$path")" "Items from ids and URLs (a duplicate dropped)"
        before=$(items_of "$path")

        for bad in "https://evil.example/?id=1" "12ab" "0" "-1" " 123" "123 " \
                "https://steamcommunity.com.evil.example/sharedfiles/filedetails/?id=1" \
                "https://steamcommunity.com/sharedfiles/filedetails/?id=1&id=2" \
                "ftp://steamcommunity.com/sharedfiles/filedetails/?id=1" "99999999999999999999999"; do
                gcall root "$path" org.left4me.Overlay.SetWorkshopItems "$(gv_strv 81504 "$bad")"
                expect_dbus_error org.left4me.Error.InvalidArgument "SetWorkshopItems with '$bad'"
                [[ $ERR == *"\"$bad\""* ]] || fail "the error for '$bad' does not name it: $ERR"
        done
        gcall root "$path" org.left4me.Overlay.SetWorkshopItems "['']"
        expect_dbus_error org.left4me.Error.InvalidArgument "SetWorkshopItems with an empty entry"
        assert_eq "$before" "$(items_of "$path")" "Items after the refused calls"

        many=$(python3 -c 'print("[" + ", ".join("\x27%d\x27" % (1000000 + i) for i in range(5000)) + "]")')
        gcall root "$path" org.left4me.Overlay.SetWorkshopItems "$many"
        expect_dbus_error org.left4me.Error.InvalidArgument "SetWorkshopItems with 5000 entries"
        assert_eq "$before" "$(items_of "$path")" "Items after 5000 entries were refused"
        many=$(python3 -c 'print("[" + ", ".join("\x27%d\x27" % (1000000 + i) for i in range(4096)) + "]")')
        gcall root "$path" org.left4me.Overlay.SetWorkshopItems "$many"
        expect_ok "SetWorkshopItems with 4096 entries (the documented maximum)"
        assert_eq 4096 "$(items_of "$path" | json 'len(d)')" "number of Items after 4096 entries"

        gcall root "$path" org.left4me.Overlay.Build "{'bogus': <1>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "Build() with an unknown option"
        gcall root "$path" org.left4me.Overlay.SetWorkshopItems "@as []"
        expect_ok "SetWorkshopItems([])"
        gcall root "$path" org.left4me.Overlay.Build '{}'
        expect_dbus_error org.left4me.Error.InvalidArgument "Build() without items"

        arch=$(create_overlay root ws-items-arch archive)
        gcall root "$arch" org.left4me.Overlay.SetWorkshopItems "['123']"
        expect_dbus_error org.left4me.Error.InvalidArgument "SetWorkshopItems on an archive overlay"
        gcall bob "$path" org.left4me.Overlay.SetWorkshopItems "['123']"
        expect_dbus_error org.freedesktop.DBus.Error.InteractiveAuthorizationRequired "bob: SetWorkshopItems on root's overlay"
        delete_overlay root "$path"
        delete_overlay root "$arch"
}
l4m_test ws-set-items-validation test_ws_set_items_validation

test_ws_progress_signals() {
        local path cfg i
        cfg='{"items": {'
        for i in 1 2 3 4 5 6; do
                cfg+="\"8160$i\": {\"size\": 400000, \"stall_seconds\": 1, \"stall_after\": $((i * 50000))}"
                ((i < 6)) && cfg+=', '
        done
        cfg+='}}'
        ws_setup "$cfg"
        path=$(ws_new ws-progress 81601 81602 81603 81604 81605 81606)
        pybus root "$path" >"$L4M_WORK/progress.json" <<'PY' || fail "the progress monitor failed (see the log)"
import json, sys, time
from gi.repository import GLib
b = bus(mainloop=True)
path = sys.argv[1]
events, state = [], {"job": None, "removed": None}
loop = GLib.MainLoop()

def changed(iface, changed, invalidated, path=None):
    if iface == JOB_IF:
        events.append((time.monotonic(), path, {str(k): (float(v) if k == "Progress" else str(v))
                                                for k, v in changed.items()}))

def removed(jid, jpath, result):
    if str(jpath) == state["job"]:
        state["removed"] = str(result)
        GLib.timeout_add(300, loop.quit)

b.add_signal_receiver(changed, "PropertiesChanged", PROPS, BUS, None, path_keyword="path")
b.add_signal_receiver(removed, "JobRemoved", MANAGER_IF, BUS, MGR)

def started(job):
    state["job"] = str(job)

def failed(e):
    print("Build failed: %s" % e, file=sys.stderr)
    loop.quit()

method(path, OVERLAY_IF, "Build")(dbus.Dictionary({}, signature="sv"),
                                  reply_handler=started, error_handler=failed)
GLib.timeout_add(60000, loop.quit)
t0 = time.monotonic()
loop.run()
mine = [(t - t0, p) for t, jp, p in events if jp == state["job"]]
progress = [(t, p["Progress"]) for t, p in mine if "Progress" in p]
times = [t for t, _ in progress]
window = max((sum(1 for u in times if t <= u < t + 1.0) for t in times), default=0)
final = float(prop(state["job"], JOB_IF, "Progress")) if state["job"] else None
print(json.dumps({"job": state["job"], "result": state["removed"], "progress": progress,
                  "max_per_second": window, "final": final,
                  "duration": (times[-1] - times[0]) if times else 0}))
PY
        step "monitor: $(cut -c 1-600 "$L4M_WORK/progress.json")"
        local res
        res=$(<"$L4M_WORK/progress.json")
        JOB=$(json "d['job']" <<<"$res")
        assert_eq succeeded "$(json "d['result']" <<<"$res")" "the build's result (JobRemoved)"
        local n maxw last mono dur
        n=$(json "len(d['progress'])" <<<"$res")
        maxw=$(json "d['max_per_second']" <<<"$res")
        last=$(json "d['progress'][-1][1] if d['progress'] else -1" <<<"$res")
        mono=$(json "all(a[1] <= b[1] for a, b in zip(d['progress'], d['progress'][1:]))" <<<"$res")
        dur=$(json "round(d['duration'], 2)" <<<"$res")
        note "Progress: $n PropertiesChanged signals over ${dur} s, at most $maxw in one second, last value $last"
        ((n >= 3)) || fail "only $n Progress changes were signalled for a build of several seconds"
        ((maxw <= 11)) || fail "$maxw Progress signals within one second (at most about 10 allowed)"
        assert_eq true "$mono" "Progress values never go down"
        assert_eq 1.0 "$last" "the last Progress value signalled"
        assert_eq 1.0 "$(json "d['final']" <<<"$res")" "Progress after the job succeeded"
}
l4m_test ws-progress-signals test_ws_progress_signals 90

test_ws_api_garbage() {
        local path ov before
        ws_setup '{"items": {"82301": {"size": 3000}}}'
        path=$(ws_new ws-garbage 82301)
        ov=$(ov_id "$path")
        ov_build_wait "$path"
        expect_job succeeded "first build"
        before=$(addons_listing "$ov")

        fixture_config '{"items": {"82301": {"size": 3000}},
                         "endpoints": {"GetPublishedFileDetails": {"raw_body": "<html>not json</html>"}}}'
        ov_build_wait "$path"
        expect_job failed "build while the API answers HTML"
        [[ $JOB_MSG == *"make no sense"* ]] || fail "unclear message for an answer that is not JSON: $JOB_MSG"
        assert_eq "$before" "$(addons_listing "$ov")" "addons/ after the failed build"

        fixture_config '{"items": {"82301": {"size": 3000}},
                         "endpoints": {"GetCollectionDetails": {"truncate_at": 5}}}'
        ov_build_wait "$path" 45
        expect_job failed "build while the API's answers are cut short"
        [[ $JOB_MSG == *"Steam API"* ]] || fail "unclear message for cut answers: $JOB_MSG"
        note "cut API answers: $JOB_MSG"
        assert_eq "$before" "$(addons_listing "$ov")" "addons/ after the second failed build"
}
l4m_test ws-api-garbage test_ws_api_garbage 90

# Details with hostile values: a file: URL to /etc/shadow, another scheme,
# an absurd size. They are reported as unusable, per item; nothing of
# /etc/shadow may reach the cache. Malformed values (a string or a negative
# number where an integer belongs) make the whole answer unusable: the build
# fails naming the item and the field, and the overlay stays as it was.
test_ws_hostile_details() {
        local path ov shadow_size base before leaked field
        shadow_size=$(in_container stat -c %s /etc/shadow)
        base="\"82401\": {\"size\": 3000},
          \"82402\": {\"size\": $shadow_size, \"extra\": {\"file_url\": \"file:///etc/shadow\"}},
          \"82403\": {\"extra\": {\"file_url\": \"ftp://127.0.0.1/x.vpk\"}},
          \"82404\": {\"extra\": {\"file_size\": 999999999999999}}"
        ws_setup "{\"items\": {$base}}"
        path=$(ws_new ws-hostile 82401 82402 82403 82404 82405)
        ov=$(ov_id "$path")
        ov_build_wait "$path" 60
        expect_job succeeded "build with hostile details for some items"
        expect_links "$ov" 82401:1600000000
        expect_log "$JOB" "Item 82402: not used: bad" "Item 82403: not used: bad" "Item 82404: not used: bad" \
                "Item 82405: not used: removed"
        leaked=$(in_container sh -c "sha=\$(sha256sum < /etc/shadow); find $L4M_CACHE -type f -exec sha256sum {} + | grep \"\${sha%% *}\" || true")
        [[ -z $leaked ]] || fail "/etc/shadow's content is in the cache: $leaked"
        for i in 82402 82403 82404; do
                [[ -z $(in_container find "$L4M_CACHE" -path "$L4M_CACHE/$i/*") ]] || fail "workshop_cache/$i has files"
        done
        before=$(addons_listing "$ov")

        for field in '"time_updated": "soon"' '"file_size": -5' '"consumer_app_id": "550"'; do
                fixture_config "{\"items\": {$base, \"82405\": {\"extra\": {$field}}}}"
                ov_build_wait "$path" 60
                expect_job failed "build with $field for item 82405"
                [[ $JOB_MSG == *"Item 82405"* && $JOB_MSG == *"${field%%:*}"* ]] ||
                        fail "the failure for $field does not name the item and the field: $JOB_MSG"
                assert_eq "$before" "$(addons_listing "$ov")" "addons/ after the build with $field"
        done
        note "a malformed value for one item fails the whole build: $JOB_MSG"
}
l4m_test ws-hostile-details test_ws_hostile_details 90

# Collections nested 20 deep: what lies below the documented depth is not
# followed, and the build says so and still links the rest.
test_ws_deep_collections() {
        local path ov cfg n
        cfg=$(python3 -c '
import json
colls = {str(84000 + k): [84100 + k] + ([84000 + k + 1] if k < 20 else []) for k in range(1, 21)}
print(json.dumps({"items": {str(84100 + k): {"size": 100} for k in range(1, 21)}, "collections": colls}))')
        ws_setup "$cfg"
        path=$(ws_new ws-deep 84001)
        ov=$(ov_id "$path")
        ov_build_wait "$path" 60
        expect_job succeeded "build of collections nested 20 deep"
        expect_log "$JOB" "deep: not followed."
        n=$(addons_listing "$ov" | grep -c ' l ' || true)
        note "20 nested collections: $n items linked; $(job_log_text "$JOB" | grep -m 1 'not followed')"
        ((n >= 15 && n <= 17)) || fail "$n items linked from 20 nested collections (about 16 expected)"
        in_container test -L "$(addons_dir "$ov")/84101.vpk" || fail "the top collection's item is not linked"
        in_container test ! -e "$(addons_dir "$ov")/84120.vpk" || fail "the item 20 levels down was linked"
        assert_eq 0 "$(fx_stats "max(d['collection_ids'].values()) - 1")" "collections asked for more than once"
}
l4m_test ws-deep-collections test_ws_deep_collections

# A file URL that answers 404: the build fails naming the item and the
# status (a download that cannot succeed is not reported per item), and the
# overlay keeps its links.
test_ws_missing_file() {
        local path ov before
        ws_setup '{"items": {"84201": {"size": 2000}, "84202": {"size": 3000}}}'
        path=$(ws_new ws-missing 84201)
        ov=$(ov_id "$path")
        ov_build_wait "$path"
        expect_job succeeded "first build"
        before=$(addons_listing "$ov")
        fixture_config "{\"items\": {\"84201\": {\"size\": 2000},
                \"84202\": {\"size\": 3000, \"file_url\": \"$FX_URL/files/84202/1.vpk\"}}}"
        ws_set "$path" 84201 84202
        ov_build_wait "$path" 45
        note "a file answering 404: $JOB_STATE: $JOB_MSG"
        expect_job failed "build with a file answering 404"
        [[ $JOB_MSG == *84202* && $JOB_MSG == *404* ]] || fail "the failure does not name item 84202 and HTTP 404: $JOB_MSG"
        assert_eq "$before" "$(addons_listing "$ov")" "addons/ after the failed build"
}
l4m_test ws-missing-file test_ws_missing_file
