# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The browser UI end to end: tests/browser/ui-flow.mjs drives Debian's
# chromium with playwright-core against left4me-web (socket-activated) and
# left4med in the container, with the fake Steam API (test-08's fixture) and
# the fake srcds installation (test-23's). It logs in as a web admin,
# creates and builds a workshop overlay, uploads an archive into another,
# creates a blueprint and an instance,
# starts it, reads its console, sends "status", sees its use and sets a
# memory limit, backs it up while it runs, stops it, downloads and restores
# the backup, creates a schedule, runs, disables and deletes it, and logs
# out;
# screenshots of every page (desktop and phone) go to $L4M_OUTPUT.
#
# Every tests/browser/flow-NAME.mjs (built on tests/browser/lib/harness.mjs)
# runs in a case of its own, web-browser-NAME, with wb_flow: add the file,
# then its two lines at the end of this file (see web-browser-notices).

WB_ITEM=29901
WB_USER=webadmin
WB_PASSWORD=browser-test-password

# wb_overlay_path NAME: the object path of overlay NAME, empty if none.
wb_overlay_path() {
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetOverlay "$(gv_str "$1")"
        ((RC != 0)) || path_from_output
}

# wb_cleanup: what ui-flow.mjs creates, gone (as root, an admin).
wb_cleanup() {
        local path ov
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetSchedule "$(gv_str ui-nightly)"
        if ((RC == 0)); then
                gcall root "$(grep -o "$L4M_MANAGER/schedule/[0-9]*" <<<"$OUT" | head -n 1)" org.left4me.Schedule.Delete
        fi
        ins_remove ui-server
        ins_delete_blueprint ui-bp
        for ov in ui-maps ui-upload; do
                path=$(wb_overlay_path "$ov")
                if [[ -n $path ]]; then
                        delete_overlay root "$path"
                fi
        done
}

# wb_browser_files: tests/browser (the flows, lib/ and node_modules: npm ci
# on the host when missing), copied into the container's own filesystem;
# prints the directory (in the container).
wb_browser_files() {
        local src=$L4M_SRCDIR/tests/browser dir
        if [[ ! -f $src/node_modules/playwright-core/package.json ]]; then
                step "npm ci in $src"
                npm ci --prefix "$src" --no-audit --no-fund >&2 || fail "npm ci --prefix $src failed"
        fi
        dir=/var/tmp/l4m-tests/$(basename "$L4M_WORK" .work)/browser
        rm -rf "$CTR_DIR/root$dir"
        mkdir -p "$CTR_DIR/root$dir"
        cp -a "$src/package.json" "$src"/*.mjs "$src/lib" "$src/node_modules" "$CTR_DIR/root$dir/"
        printf '%s\n' "$dir"
}

# wb_run_flow DIR FLOW TIMEOUT [ARG...]: node DIR/FLOW.mjs in the container
# (the origin, user, password and screenshot directory first, then ARGs);
# its output goes to the log, its screenshots to $L4M_OUTPUT; fails unless
# it reports that every step passed.
wb_run_flow() {
        local dir=$1 flow=$2 timeout=$3 shots=$1/screenshots-$2 rc
        shift 3
        step "$flow.mjs in the container"
        if in_container_timeout "$timeout" node "$dir/$flow.mjs" "$WEB_ORIGIN" "$WB_USER" "$WB_PASSWORD" "$shots" "$@" \
                >"$L4M_WORK/$flow.log" 2>&1; then
                rc=0
        else
                rc=$?
        fi
        sed "s/^/  $flow: /" "$L4M_WORK/$flow.log" >&2
        if [[ -d $CTR_DIR/root$shots ]]; then
                cp -a "$CTR_DIR/root$shots/." "$L4M_OUTPUT/"
        fi
        ((rc == 0)) || fail "$flow.mjs failed (exit $rc): $(grep -A5 'FAILED' "$L4M_WORK/$flow.log" | head -n 8 | paste -sd '|')"
        grep -x "$flow: every step passed; .*" "$L4M_WORK/$flow.log" >/dev/null ||
                fail "$flow.mjs did not report that every step passed"
        note "$(find "$L4M_OUTPUT" -name '*.png' | wc -l) screenshots"
}

# wb_flow FLOW [TIMEOUT [ARG...]]: the case of tests/browser/FLOW.mjs: the
# web admin $WB_USER, left4me-web, then the flow (which cleans up after
# itself) with the ARGs after its usual ones.
wb_flow() {
        # shellcheck source=web-lib.sh
        source "$L4M_SRCDIR/tests/integration/web-lib.sh"
        command -v node >/dev/null || fail "node is not installed"
        [[ -x /usr/bin/chromium ]] || fail "chromium is not installed"
        step "the web account $WB_USER (admin), left4me-web.socket"
        web_user "$WB_USER" "$WB_PASSWORD" admin
        web_up
        wb_run_flow "$(wb_browser_files)" "$1" "${2:-240}" "${@:3}"
}

test_web_browser() {
        # shellcheck source=test-23-instances.sh
        source "$L4M_SRCDIR/tests/integration/test-23-instances.sh"
        # shellcheck source=web-lib.sh
        source "$L4M_SRCDIR/tests/integration/web-lib.sh"
        command -v node >/dev/null || fail "node is not installed"
        [[ -x /usr/bin/chromium ]] || fail "chromium is not installed"

        ins_setup
        # The fake installation was laid out behind the daemon's back: read
        # as at boot, so that the dashboard shows the game installed.
        daemon_stop
        daemon_up
        # One item, big enough that the build takes a moment, with a
        # short stall half-way so that the page shows progress on its way.
        fixture_start "{\"items\": {\"$WB_ITEM\": {\"size\": 2000000, \"stall_after\": 1000000,
                \"stall_seconds\": 2, \"stall_times\": 1, \"title\": \"browser test map\"}}}"
        wb_cleanup
        trap wb_cleanup EXIT

        step "the web account $WB_USER (admin), left4me-web.socket"
        web_user "$WB_USER" "$WB_PASSWORD" admin
        web_up

        wb_run_flow "$(wb_browser_files)" ui-flow 420 "$WB_ITEM"
        note "$(grep '^percentages shown' "$L4M_WORK/ui-flow.log")"

        # What the UI did is what the daemon has.
        assert_eq ready "$(ov_prop "$(wb_overlay_path ui-maps)" State)" "the overlay built through the UI"
        assert_eq ready "$(ov_prop "$(wb_overlay_path ui-upload)" State)" "the overlay uploaded through the UI"
        in_container grep -c 'uploaded through the browser' \
                "$L4M_OVERLAYS/$(id_of_path "$(wb_overlay_path ui-upload)")/left4dead2/cfg/ui-upload.cfg" >/dev/null ||
                fail "the uploaded file is not in the overlay"
        assert_eq stopped "$(ins_prop ui-server State)" "the instance stopped through the UI"
        assert_eq "web:$WB_USER" "$(ins_prop ui-server Owner)" "the instance's owner"
        gcall root "$L4M_MANAGER" org.left4me.Manager.ListBackups "$(gv_str ui-server)"
        expect_ok "ListBackups ui-server"
        [[ $OUT == *"'ui-server'"* ]] || fail "no backup of ui-server after the UI's backup: $OUT"
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetSchedule "$(gv_str ui-nightly)"
        expect_dbus_error org.left4me.Error.NotFound "the schedule deleted through the UI"

        trap - EXIT
        wb_cleanup
}
l4m_test web-browser test_web_browser 600

# The flows of tests/browser/flow-*.mjs, a case each.
test_web_browser_notices() { wb_flow flow-notices; }
l4m_test web-browser-notices test_web_browser_notices 300

# The admin's side of the UI (tests/browser/flow-admin.mjs): a container
# whose game is NOT installed (test-22's gm_setup: the fake steamcmd, an
# empty installation), installed from the dashboard; 130 finished jobs (wipes
# of an empty overlay) for the Jobs page's filters and paging; a blueprint
# for the instance the flow creates; a role-user account for its view.
WBA_USER=uib-user
WBA_PASSWORD=uib-user-password
WBA_BLUEPRINT=uib-bp
WBA_INSTANCE=uib-server

wba_cleanup() {
        local path ov
        ins_remove "$WBA_INSTANCE"
        ins_delete_blueprint "$WBA_BLUEPRINT"
        for ov in uib-empty uib-cfg; do
                path=$(wb_overlay_path "$ov")
                if [[ -n $path ]]; then
                        delete_overlay root "$path"
                fi
        done
        gcall root "$L4M_MANAGER" org.left4me.Manager.DeleteUser "$(gv_str "$WBA_USER")"
}

test_web_browser_admin() {
        # shellcheck source=test-22-game.sh
        source "$L4M_SRCDIR/tests/integration/test-22-game.sh"
        # shellcheck source=test-23-instances.sh
        source "$L4M_SRCDIR/tests/integration/test-23-instances.sh"
        # shellcheck source=web-lib.sh
        source "$L4M_SRCDIR/tests/integration/web-lib.sh"
        command -v node >/dev/null || fail "node is not installed"
        [[ -x /usr/bin/chromium ]] || fail "chromium is not installed"

        wba_cleanup
        # What the flow made is removed on failure too: the next flows make
        # the web account $WB_USER again, which its instance would refuse.
        trap wba_cleanup EXIT
        step "no game: the fake steamcmd, an empty installation"
        gm_setup
        # Slow enough that the dashboard shows the install's progress on its way.
        gm_config '{"buildid": "1000001", "delay": 0.4, "steps": 6}'
        [[ $(gm_prop GameInstalled) == false ]] || fail "the game is installed before the flow"

        step "an overlay and a blueprint for the instance"
        ins_overlay uib-cfg 'mkdir -p left4dead2/cfg && echo "echo uib" > left4dead2/cfg/uib.cfg' >/dev/null
        ins_blueprint "$WBA_BLUEPRINT" uib-cfg

        step "130 finished jobs: wipes of an empty overlay"
        ensure_overlay root uib-empty archive >/dev/null
        capture in_container sh -ec 'for i in $(seq 130); do l4mctl overlay wipe uib-empty --wait >/dev/null; done'
        expect_ok "130 wipes"

        step "the web accounts $WB_USER (admin) and $WBA_USER (user)"
        web_user "$WB_USER" "$WB_PASSWORD" admin
        web_user "$WBA_USER" "$WBA_PASSWORD" user
        web_up

        wb_run_flow "$(wb_browser_files)" flow-admin 600 "$WBA_USER" "$WBA_PASSWORD" "$WBA_BLUEPRINT" "$WBA_INSTANCE"

        # What the UI did is what the daemon has.
        [[ $(gm_prop GameInstalled) == true ]] || fail "the game is not installed after the flow installed it"
        assert_eq 1000001 "$(gm_prop GameBuildId)" "the build installed through the UI"
        assert_eq "" "$(gm_prop SteamLogin)" "the Steam login, back to anonymous through the UI"
        assert_eq "web:$WB_USER" "$(ins_prop "$WBA_INSTANCE" Owner)" "the instance made through the UI"
        trap - EXIT
        wba_cleanup
}
l4m_test web-browser-admin test_web_browser_admin 900

# Overlays, blueprints and the file browser (tests/browser/flow-overlays.mjs):
# four Workshop items the fake Steam API answers as public (big enough, with
# a stall, that the build runs for a moment), private, removed and of
# another game; script builds run in their sandbox as in test-13.
WB_OV_ITEMS=(29911 29912 29913 29914)
WB_OV_SIZE=300000
test_web_browser_overlays() {
        local n path
        # shellcheck source=test-23-instances.sh
        source "$L4M_SRCDIR/tests/integration/test-23-instances.sh"
        # First: web_up would empty the test's directory, the fixture's among it.
        test_files_setup
        fixture_start "{\"items\": {
                \"${WB_OV_ITEMS[0]}\": {\"size\": $WB_OV_SIZE, \"title\": \"uia ok map\", \"time_updated\": 1700000000,
                        \"stall_after\": 100000, \"stall_seconds\": 3, \"stall_times\": 1},
                \"${WB_OV_ITEMS[1]}\": {\"private\": true, \"title\": \"uia hidden\"},
                \"${WB_OV_ITEMS[2]}\": {\"removed\": true},
                \"${WB_OV_ITEMS[3]}\": {\"app\": 730, \"title\": \"uia other game\"}}}"
        ins_delete_blueprint uia-bp
        for n in uia-ws uia-arc uia-script; do
                path=$(wb_overlay_path "$n")
                [[ -z $path ]] || delete_overlay root "$path"
        done
        wb_flow flow-overlays 420 "${WB_OV_ITEMS[@]}" "$WB_OV_SIZE"
}
l4m_test web-browser-overlays test_web_browser_overlays 600
