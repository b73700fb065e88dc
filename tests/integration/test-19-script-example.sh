# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# examples/l4d2center-sync.sh run for real in the sandbox against a fake
# l4d2center index on the test network: archives made here with 7z and
# zip; an entry with a wrong md5 fails the run (the others are installed);
# a second run with everything right fetches only what changed; a third
# updates one map, removes one that left the index and leaves a file it
# did not install alone.

EX_SCRIPT=examples/l4d2center-sync.sh

# ex_index NAME:FILE:ARCHIVE:MD5...: writes the index (JSON) to the web
# server as $EX_WEB/index.json.
ex_index() {
        local spec n a m out="[" sep=""
        for spec in "$@"; do
                IFS=: read -r n _ a m <<<"$spec"
                out+="$sep{\"name\": \"$n\", \"download_link\": \"$EX_URL/$a\", \"md5\": \"$m\", \"size\": 1}"
                sep=', '
        done
        printf '%s]\n' "$out" | www_put "$EX_WEB/index.json"
}

# ex_md5 FILE-IN-CONTAINER
ex_md5() {
        in_container md5sum "$1" | cut -d' ' -f1
}

# ex_run: builds the overlay; sets JOB, JOB_STATE, JOB_MSG, SC_LOG and
# EX_GETS (the paths the web server was asked for, sorted, one a line).
ex_run() {
        www_log_mark
        sc_build root "$SC_PATH"
        job_wait "$JOB" 120
        SC_LOG=$(job_log_text "$JOB")
        EX_GETS=$(www_requests " GET /$EX_WEB/" | awk '{ print $3 }' | sed "s|^/$EX_WEB/||" | LC_ALL=C sort)
        step "fetched: $(paste -sd ' ' <<<"$EX_GETS")"
}

ex_log_has() {
        grep -qF -- "$1" <<<"$SC_LOG" || fail "the script's output lacks '$1': $(paste -sd '|' <<<"$SC_LOG" | cut -c 1-800)"
}

# ex_overlay_size: bytes of the regular files in the overlay now.
ex_overlay_size() {
        in_container find "$L4M_OVERLAYS/$SC_ID" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'
}

test_script_example_l4d2center() {
        local src addons md5a md5b md5c md5a2 f
        sc_setup
        [[ -f $L4M_SRCDIR/$EX_SCRIPT ]] || fail "$EX_SCRIPT is missing"
        EX_WEB=l4d2c-$(basename "$L4M_WORK" .work)
        EX_URL=http://maps.$L4M_NET_DOMAIN/$EX_WEB
        src=$TF_DIR/maps
        f=$CTR_DIR/root$L4M_NET_WWW/$EX_WEB
        rm -rf "$f"
        mkdir -p "$f"
        in_container sh -c "set -e; mkdir -p '$src/a' '$src/b' '$src/c' '$src/a2/sub'
                head -c 300000 /dev/urandom > '$src/a/a.vpk'
                head -c 200000 /dev/urandom > '$src/b/b.vpk'
                head -c 100000 /dev/urandom > '$src/c/c.vpk'
                head -c 250000 /dev/urandom > '$src/a2/sub/a.vpk'
                echo 'a readme' > '$src/a/readme.txt'
                cd '$src/a' && 7z a -bd -y '$L4M_NET_WWW/$EX_WEB/a.7z' a.vpk readme.txt >/dev/null
                cd '$src/b' && zip -q '$L4M_NET_WWW/$EX_WEB/b.zip' b.vpk
                cd '$src/c' && 7z a -bd -y '$L4M_NET_WWW/$EX_WEB/c.7z' c.vpk >/dev/null
                cd '$src/a2' && 7z a -bd -y '$L4M_NET_WWW/$EX_WEB/a2.7z' sub >/dev/null"
        md5a=$(ex_md5 "$src/a/a.vpk")
        md5b=$(ex_md5 "$src/b/b.vpk")
        md5c=$(ex_md5 "$src/c/c.vpk")
        md5a2=$(ex_md5 "$src/a2/sub/a.vpk")

        sed "s|^INDEX_URL=.*|INDEX_URL=\"$EX_URL/index.json\"|" "$L4M_SRCDIR/$EX_SCRIPT" >"$TF_HOST/sync.sh"
        grep -qxF "INDEX_URL=\"$EX_URL/index.json\"" "$TF_HOST/sync.sh" || fail "could not point $EX_SCRIPT at the test index"
        chmod 0644 "$TF_HOST/sync.sh"
        SC_PATH=$(create_overlay root sc-l4d2center script)
        SC_ID=$(id_of_path "$SC_PATH")
        addons=$L4M_OVERLAYS/$SC_ID/left4dead2/addons
        sc_set_file root "$SC_PATH" "$TF_DIR/sync.sh"
        expect_ok "SetScript($EX_SCRIPT)"

        # 1: c.vpk's md5 is wrong.
        ex_index "a.vpk:a:a.7z:$md5a" "b.vpk:b:b.zip:$md5b" "c.vpk:c:c.7z:0123456789abcdef0123456789abcdef"
        ex_run
        expect_job failed "run 1 (c.vpk's md5 is wrong)"
        assert_eq "Script exited with status 1." "$JOB_MSG" "run 1's message"
        ex_log_has "a.vpk: installed"
        ex_log_has "b.vpk: installed"
        ex_log_has "c.vpk: FAILED: md5 mismatch"
        ex_log_has "Summary: 2 installed, 0 updated, 0 up to date, 0 removed, 1 failed."
        assert_eq "$md5a" "$(ex_md5 "$addons/a.vpk")" "md5 of addons/a.vpk after run 1"
        assert_eq "$md5b" "$(ex_md5 "$addons/b.vpk")" "md5 of addons/b.vpk after run 1"
        ! in_container test -e "$addons/c.vpk" || fail "addons/c.vpk was installed despite the wrong md5"
        assert_eq "$(printf '%s\n' a.7z b.zip c.7z index.json)" "$EX_GETS" "what run 1 fetched"
        assert_eq failed "$(ov_prop "$SC_PATH" State)" "State after run 1"

        # A file the script did not install.
        in_container sh -c "echo 'not from the index' > '$addons/foreign.vpk'"

        # 2: everything right: only c.7z is fetched.
        ex_index "a.vpk:a:a.7z:$md5a" "b.vpk:b:b.zip:$md5b" "c.vpk:c:c.7z:$md5c"
        ex_run
        expect_job succeeded "run 2"
        assert_eq "Script finished successfully." "$JOB_MSG" "run 2's message"
        ex_log_has "a.vpk: up to date"
        ex_log_has "b.vpk: up to date"
        ex_log_has "c.vpk: installed"
        ex_log_has "Summary: 1 installed, 0 updated, 2 up to date, 0 removed, 0 failed."
        assert_eq "$(printf '%s\n' c.7z index.json)" "$EX_GETS" "what run 2 fetched (unchanged files are skipped)"
        assert_eq "$md5c" "$(ex_md5 "$addons/c.vpk")" "md5 of addons/c.vpk after run 2"
        assert_eq ready "$(ov_prop "$SC_PATH" State)" "State after run 2"
        assert_eq "$(ex_overlay_size)" "$(ov_prop "$SC_PATH" Size)" "Size after run 2 (the regular files in the overlay)"

        # 3: a.vpk changes (its archive has it in a subdirectory), b.vpk
        # leaves the index.
        ex_index "a.vpk:a2:a2.7z:$md5a2" "c.vpk:c:c.7z:$md5c"
        ex_run
        expect_job succeeded "run 3"
        ex_log_has "a.vpk: updated"
        ex_log_has "c.vpk: up to date"
        ex_log_has "b.vpk: removed"
        assert_eq "$(printf '%s\n' a2.7z index.json)" "$EX_GETS" "what run 3 fetched"
        assert_eq "$md5a2" "$(ex_md5 "$addons/a.vpk")" "md5 of addons/a.vpk after run 3"
        ! in_container test -e "$addons/b.vpk" || fail "addons/b.vpk is still there after it left the index"
        assert_eq "not from the index" "$(in_container cat "$addons/foreign.vpk")" "the file the script did not install"
        assert_eq "" "$(in_container find "$addons" -name '.l4d2center-sync.part*')" "temporary files left in addons/"
        assert_eq "$(ex_overlay_size)" "$(ov_prop "$SC_PATH" Size)" "Size after run 3"
        note "3 runs of $EX_SCRIPT: $(grep -h '^Summary' <<<"$SC_LOG")"
        delete_overlay root "$SC_PATH"
}
l4m_test script-example-l4d2center test_script_example_l4d2center 240
