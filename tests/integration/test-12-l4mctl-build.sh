# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# l4mctl overlay build NAME --wait against the fake Steam API: the job's log
# is streamed, the exit status is the job's result (l4mctl(1): 0 succeeded,
# 1 failed).

test_l4mctl_build_wait() {
        local id
        daemon_up
        fixture_start '{"items": {"83101": {"size": 150000}, "83102": {"private": true}}}'
        capture as_user alice l4mctl overlay create ctl-build --type workshop
        expect_ok "alice: l4mctl overlay create ctl-build --type workshop"
        capture as_user alice l4mctl overlay set-items ctl-build \
                "https://steamcommunity.com/sharedfiles/filedetails/?id=83101"
        expect_ok "alice: l4mctl overlay set-items ctl-build URL"

        capture as_user alice l4mctl overlay build ctl-build --wait
        expect_exit 0 "alice: l4mctl overlay build ctl-build --wait"
        [[ "$OUT$ERR" == *"Item 83101: downloaded (150000 bytes)."* ]] ||
                fail "the streamed log lacks the download of 83101"
        [[ $ERR =~ Job\ ([0-9]+)\ succeeded ]] || fail "l4mctl did not say that the job succeeded: $ERR"
        id=${BASH_REMATCH[1]}
        assert_eq alice "$(sql "SELECT owner FROM jobs WHERE id = $id;")" "owner of job $id"
        expect_links "$(row_id ctl-build)" 83101:1600000000

        capture as_user alice l4mctl overlay set-items ctl-build 83102
        expect_ok "alice: l4mctl overlay set-items ctl-build 83102 (a private item)"
        capture as_user alice l4mctl overlay build ctl-build --wait
        expect_exit 1 "alice: l4mctl overlay build ctl-build --wait, nothing usable"
        [[ "$OUT$ERR" == *"Item 83102: not used: private"* ]] || fail "the streamed log lacks the private item"
        [[ $ERR == *failed* ]] || fail "l4mctl did not say that the job failed: $ERR"
        expect_links "$(row_id ctl-build)" 83101:1600000000

        capture as_user alice l4mctl overlay delete ctl-build
        expect_ok "alice: l4mctl overlay delete ctl-build"
}
l4m_test l4mctl-build-wait test_l4mctl_build_wait
