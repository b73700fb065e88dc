# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Resource limits per instance: SetLimits within the ceilings as the owner,
# above them only as an admin, invalid values refused with nothing changed,
# "default" following [Instances] Default*= across a reload, the limits kept
# across a daemon restart, l4mctl instance set/show, GetUsage; and what the
# server unit gets: CPUQuotaPerSecUSec, MemoryMax, TasksMax from systemd's
# unit properties, and the rlimits that hold without cgroup controllers
# (LimitNPROC: a fork of the server fails with EAGAIN near tasks_max;
# LimitDATA: an allocation above memory_max fails), plus the cgroup limits
# where the container has the controllers. The web API: the limits in the
# instance's JSON, PUT .../limits as the web owner (within the ceilings),
# refused above them and for another account, an admin account above them,
# bad values 400 with nothing changed, GET .../usage. Uses test-23's helpers.

LIM_CONF=/etc/left4me/left4me.conf.d/50-test-limits.conf

lim_conf() {
        in_container sh -ec "mkdir -p /etc/left4me/left4me.conf.d && printf '%s' '$1' > '$LIM_CONF'"
}

LIM_WPW=limits-web-password
LIM_WOWNER=lim-wendy
LIM_WOTHER=lim-walter
LIM_WADMIN=lim-wanda

# lim_web JAR METHOD PATH [BODY]: web_call in the session of cookie jar
# JAR (lim_web_login's); sets WEB_STATUS, WEB_BODY.
lim_web() {
        local jar=$1
        shift
        cp "$WEB_HOST_DIR/$jar.jar" "$WEB_HOST_DIR/jar"
        WEB_CSRF=$(cat "$WEB_HOST_DIR/$jar.csrf")
        web_call "$@"
}

lim_web_login() {
        web_user "$2" "$LIM_WPW" "$3"
        web_login "$2" "$LIM_WPW"
        web_expect 200 "login of $2"
        cp "$WEB_HOST_DIR/jar" "$WEB_HOST_DIR/$1.jar"
        printf '%s\n' "$WEB_CSRF" >"$WEB_HOST_DIR/$1.csrf"
}

# lim_web_expect CPU MEM TASKS DISK DEFAULTS WHAT: the limits in the
# instance JSON of the last answer.
lim_web_expect() {
        local got
        got=$(json '"%s %s %s %s %s" % (d["CPUQuota"], d["MemoryMax"], d["TasksMax"], d["DiskMax"], ",".join(d["DefaultLimits"]))' <<<"$WEB_BODY")
        assert_eq "$1 $2 $3 $4 $5" "$got" "$6"
}

# lim_web_remove: the web owner's instance, blueprint and overlay, gone.
lim_web_remove() {
        ins_remove lim-w
        ins_delete_blueprint lim-wbp
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetOverlay "$(gv_str lim-wov)"
        if ((RC == 0)); then
                delete_overlay root "$(path_from_output)"
        fi
}

lim_cleanup() {
        ins_remove lim-a
        lim_web_remove
        in_container rm -f "$LIM_CONF"
        daemon_reload_config || true
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetBlueprint "$(gv_str lim-bp)"
        if ((RC == 0)); then
                gcall alice "$(grep -o "$L4M_MANAGER/blueprint/[0-9]*" <<<"$OUT" | head -n 1)" org.left4me.Blueprint.Delete
        fi
        gcall root "$L4M_MANAGER" org.left4me.Manager.GetOverlay "$(gv_str lim-ov)"
        if ((RC == 0)); then
                delete_overlay alice "$(path_from_output)"
        fi
}

lim_prop() {
        ins_prop lim-a "$1"
}

# lim_expect CPU MEM TASKS DISK WHAT: the effective limits (properties).
lim_expect() {
        assert_eq "$1" "$(lim_prop CPUQuota)" "$5: CPUQuota"
        assert_eq "$2" "$(lim_prop MemoryMax)" "$5: MemoryMax"
        assert_eq "$3" "$(lim_prop TasksMax)" "$5: TasksMax"
        assert_eq "$4" "$(lim_prop DiskMax)" "$5: DiskMax"
}

lim_set() {
        local user=$1
        shift
        ins_call "$user" lim-a SetLimits "$@"
}

test_instance_limits() {
        local m64=$((64 << 20)) m128=$((128 << 20)) m256=$((256 << 20)) g1=$((1 << 30)) g2=$((2 << 30))
        local pid limits out n cg controllers used bad ovpath job inf=18446744073709551615
        # shellcheck source=test-23-instances.sh
        source "$L4M_SRCDIR/tests/integration/test-23-instances.sh"
        # shellcheck source=web-lib.sh
        source "$L4M_SRCDIR/tests/integration/web-lib.sh"
        trap 'lim_cleanup' EXIT
        ins_setup
        daemon_up
        lim_conf '[Instances]
DefaultCPUQuota=50%
MaxCPUQuota=150%
DefaultMemoryMax=256M
MaxMemoryMax=1G
DefaultTasksMax=64
MaxTasksMax=256
DefaultDiskMax=1G
MaxDiskMax=2G
'
        daemon_reload_config
        ins_remove lim-a
        lim_web_remove
        ovpath=$(ensure_overlay alice lim-ov archive)
        in_container sh -ec "rm -rf '$TF_DIR/lim' && mkdir -p '$TF_DIR/lim/t' && echo x > '$TF_DIR/lim/t/lim.txt' &&
                tar -C '$TF_DIR/lim/t' -cf '$TF_DIR/lim/x.tar' . && chmod -R a+rX '$TF_DIR/lim'"
        l4mbus alice import "$ovpath" "$TF_DIR/lim/x.tar"
        expect_ok "ImportArchive into lim-ov"
        job=$(job_path_from_output)
        job_wait "$job"
        assert_eq succeeded "$JOB_STATE" "the import into lim-ov ($JOB_MSG)"
        gcall alice "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "$(gv_str lim-bp)" "$(gv_strv lim-ov)" '@a{sv} {}'
        expect_ok "alice creates blueprint lim-bp"
        ins_create alice lim-a lim-bp
        expect_ok "alice creates instance lim-a"

        step "a new instance follows the defaults"
        lim_expect 50 $m256 64 $g1 "defaults"
        assert_eq '4 "cpu_quota" "memory_max" "tasks_max" "disk_max"' "$(lim_prop DefaultLimits)" \
                "DefaultLimits of a new instance"

        step "the owner sets values up to the ceilings, several at once"
        lim_set alice "{'cpu_quota': <uint64 150>, 'memory_max': <uint64 $m128>, 'tasks_max': <uint64 48>, 'disk_max': <uint64 $g2>}"
        expect_ok "alice sets limits within the ceilings"
        lim_expect 150 $m128 48 $g2 "after alice's SetLimits"

        step "above a ceiling: refused for the owner, nothing changed"
        lim_set alice "{'tasks_max': <uint64 40>, 'memory_max': <uint64 $g2>}"
        ins_expect_denied "alice sets memory_max above MaxMemoryMax"
        lim_set alice "{'cpu_quota': <'infinity'>}"
        ins_expect_denied "alice sets cpu_quota=infinity under a finite MaxCPUQuota"
        lim_expect 150 $m128 48 $g2 "after refused SetLimits"
        lim_set bob "{'tasks_max': <uint64 40>}"
        ins_expect_denied "bob sets the limits of alice's instance"

        step "invalid values: InvalidArgument, nothing changed"
        for bad in "{'tasks_max': <uint64 40>, 'memory_max': <uint64 1024>}" \
                "{'tasks_max': <uint64 40>, 'cpu_quota': <uint64 0>}" \
                "{'tasks_max': <uint64 2000000>}" \
                "{'tasks_max': <uint64 40>, 'disk_max': <'lots'>}" \
                "{'tasks_max': <uint32 40>}" \
                "{'tasks_max': <uint64 40>, 'colour': <'red'>}"; do
                lim_set alice "$bad"
                expect_dbus_error org.left4me.Error.InvalidArgument "SetLimits $bad"
        done
        lim_set carol "{'memory_max': <uint64 16>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "carol sets memory_max=16"
        lim_expect 150 $m128 48 $g2 "after invalid SetLimits"

        step "an admin passes the ceilings"
        lim_set carol "{'disk_max': <uint64 $((4 << 30))>, 'cpu_quota': <'infinity'>}"
        expect_ok "carol sets limits above the ceilings"
        lim_expect 18446744073709551615 $m128 48 $((4 << 30)) "after carol's SetLimits"

        step "the web API: the limits in the instance JSON, set by an admin account"
        web_up
        lim_web_login adm "$LIM_WADMIN" admin
        lim_web_login own "$LIM_WOWNER" user
        lim_web_login oth "$LIM_WOTHER" user
        lim_web adm GET /api/instances/lim-a
        web_expect 200 "GET lim-a as the admin account"
        lim_web_expect "$(python3 -c 'print(float(2**64-1))')" $m128 48 $((4 << 30)) "" "lim-a's JSON"
        lim_web adm PUT /api/instances/lim-a/limits "{\"limits\": {\"memory_max\": $g2, \"cpu_quota\": \"infinity\", \"tasks_max\": 100}}"
        web_expect 200 "the admin account sets limits above the ceilings"
        lim_web_expect "$(python3 -c 'print(float(2**64-1))')" $g2 100 $((4 << 30)) "" "the answer of PUT .../limits"
        lim_expect $inf $g2 100 $((4 << 30)) "after the admin account's PUT"
        for bad in '{"limits": {"memory_max": true}}' '{"limits": {"colour": 1}}' '{"limits": [1]}' \
                '{"limits": {"memory_max": -5}}' '{"limits": {"tasks_max": 40, "memory_max": "lots"}}' \
                '{"limits": {"tasks_max": 40, "memory_max": 1024}}' '{"limits": {"tasks_max": 0}}'; do
                lim_web adm PUT /api/instances/lim-a/limits "$bad"
                web_expect 400 org.left4me.Error.InvalidArgument "PUT .../limits $bad"
        done
        lim_expect $inf $g2 100 $((4 << 30)) "after the refused PUTs"
        lim_web adm PUT /api/instances/lim-a/limits '{"limits": {"cpu_quota": "default", "memory_max": "default", "tasks_max": "default"}}'
        web_expect 200 "the admin account sets the limits back to the defaults"
        lim_web_expect 50 $m256 64 $((4 << 30)) cpu_quota,memory_max,tasks_max "after PUT default"
        lim_web oth PUT /api/instances/lim-a/limits '{"limits": {"tasks_max": 40}}'
        web_expect 404 org.left4me.Error.NotFound "another web account sets lim-a's limits"

        step "the web API: the owner within the ceilings, refused above them"
        lim_web own POST /api/overlays '{"name":"lim-wov","type":"archive","options":{}}'
        web_expect 201 "the web owner creates overlay lim-wov"
        _web_curl -b "$WEB_DIR/own.jar" -X POST -H "Origin: $WEB_ORIGIN" -H "X-CSRF-Token: $(cat "$WEB_HOST_DIR/own.csrf")" \
                -H 'Content-Type: application/octet-stream' --data-binary "@$TF_DIR/lim/x.tar" \
                "$WEB_ORIGIN/api/overlays/lim-wov/archive"
        web_expect 202 "the web owner uploads into lim-wov"
        job_wait "$L4M_MANAGER/job/$(json 'd["job"]' <<<"$WEB_BODY")"
        assert_eq succeeded "$JOB_STATE" "the upload into lim-wov ($JOB_MSG)"
        lim_web own POST /api/blueprints '{"name":"lim-wbp","overlays":["lim-wov"],"options":{}}'
        web_expect 201 "the web owner creates blueprint lim-wbp"
        lim_web own POST /api/instances '{"name":"lim-w","blueprint":"lim-wbp","options":{}}'
        web_expect 201 "the web owner creates instance lim-w"
        lim_web own PUT /api/instances/lim-w/limits "{\"limits\": {\"memory_max\": $g1, \"cpu_quota\": 150, \"disk_max\": \"default\"}}"
        web_expect 200 "the web owner sets limits up to the ceilings"
        lim_web_expect 150 $g1 64 $g1 tasks_max,disk_max "the web owner's limits"
        lim_web own PUT /api/instances/lim-w/limits "{\"limits\": {\"tasks_max\": 40, \"memory_max\": $g2}}"
        web_expect 403 org.freedesktop.DBus.Error.AccessDenied "the web owner sets memory_max above the ceiling"
        lim_web own PUT /api/instances/lim-w/limits '{"limits": {"cpu_quota": "infinity"}}'
        web_expect 403 org.freedesktop.DBus.Error.AccessDenied "the web owner sets cpu_quota=infinity"
        lim_web own GET /api/instances/lim-w
        lim_web_expect 150 $g1 64 $g1 tasks_max,disk_max "lim-w after the refused PUTs"
        lim_web own GET /api/instances/lim-w/usage
        web_expect 200 "GET .../usage of a stopped instance"
        out=$(json '"%s %s %s %s" % (d["running"], d["disk_used"], d["memory_max"], "memory_current" in d)' <<<"$WEB_BODY")
        assert_eq "False 0 $g1 False" "$out" "the usage of stopped lim-w"
        lim_web oth GET /api/instances/lim-w/usage
        web_expect 404 org.left4me.Error.NotFound "another web account reads lim-w's usage"

        step "l4mctl: set and show, back to the default"
        capture run_as alice l4mctl instance set lim-a cpu_quota=120% memory_max=64M tasks_max=32 disk_max=default
        expect_ok "l4mctl instance set (limits)"
        lim_expect 120 $m64 32 $g1 "after l4mctl instance set"
        capture run_as alice l4mctl instance set lim-a tasks_max=lots
        expect_exit 2 "l4mctl instance set tasks_max=lots"
        capture run_as alice l4mctl instance set lim-a memory_max=4G hostname=not-applied
        ((RC != 0)) || fail "l4mctl set memory_max=4G as alice succeeded"
        [[ $(lim_prop Hostname) != not-applied ]] || fail "a refused limit let the other settings through"
        capture run_as alice l4mctl instance show lim-a
        expect_ok "l4mctl instance show"
        grep -q '^ *CPU quota: 120%$' <<<"$OUT" || fail "show lacks 'CPU quota: 120%': $OUT"
        grep -q '^ *Memory max: 64.0M$' <<<"$OUT" || fail "show lacks 'Memory max: 64.0M': $OUT"
        grep -q '^ *Disk max: 1.0G (default)$' <<<"$OUT" || fail "show lacks 'Disk max: 1.0G (default)': $OUT"
        grep -q '^ *Disk used: ' <<<"$OUT" || fail "show lacks the disk use: $OUT"
        capture run_as alice l4mctl --json instance show lim-a
        expect_ok "l4mctl --json instance show"
        out=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["cpu_quota"], d["memory_max"], d["tasks_max"], d["disk_max"], ",".join(d["default_limits"]))' <<<"$OUT")
        assert_eq "120 $m64 32 $g1 disk_max" "$out" "the limits in JSON"

        step "the limits survive a daemon restart"
        capture in_container systemctl restart left4me.service
        expect_ok "restart left4me"
        reset_start_limit
        daemon_up
        lim_expect 120 $m64 32 $g1 "after a daemon restart"

        step "default follows a changed [Instances] Default*= after a reload"
        lim_set alice "{'memory_max': <'default'>, 'tasks_max': <uint64 40>}"
        expect_ok "alice sets memory_max back to the default"
        lim_expect 120 $m256 40 $g1 "memory_max back to the default"
        lim_conf '[Instances]
DefaultCPUQuota=50%
MaxCPUQuota=150%
DefaultMemoryMax=192M
MaxMemoryMax=1G
DefaultTasksMax=64
MaxTasksMax=256
DefaultDiskMax=1536M
MaxDiskMax=2G
'
        daemon_reload_config
        lim_expect 120 $((192 << 20)) 40 $((1536 << 20)) "after the defaults changed"

        step "the unit gets the limits at the next start"
        lim_set alice "{'memory_max': <uint64 $m128>, 'tasks_max': <uint64 32>, 'cpu_quota': <uint64 120>}"
        expect_ok "alice sets the limits to start with"
        ins_call alice lim-a Start
        expect_ok "Start lim-a"
        ins_wait_state lim-a running
        # 1.2 s of CPU time per second, as this systemd prints it.
        out=$(in_container systemctl show -P CPUQuotaPerSecUSec left4me-server-lim-a.service)
        [[ $out == 1.200000s || $out == 1.2s || $out == 1200ms ]] || fail "CPUQuotaPerSecUSec is $out, not 1.2s"
        assert_eq $m128 "$(in_container systemctl show -P MemoryMax left4me-server-lim-a.service)" MemoryMax
        assert_eq 32 "$(in_container systemctl show -P TasksMax left4me-server-lim-a.service)" TasksMax
        assert_eq 32 "$(in_container systemctl show -P LimitNPROC left4me-server-lim-a.service)" LimitNPROC
        assert_eq $m128 "$(in_container systemctl show -P LimitDATA left4me-server-lim-a.service)" LimitDATA
        pid=$(lim_prop MainPID)
        [[ $pid != 0 ]] || fail "lim-a has no MainPID"
        # The fake server runs under srcds_run's process: the rlimits are
        # inherited, so every process of the unit has them.
        limits=$(in_container cat "/proc/$pid/limits")
        grep -Eq '^Max processes +32 +32 ' <<<"$limits" || fail "the server's RLIMIT_NPROC is not 32: $limits"
        grep -Eq "^Max data size +$m128 +$m128 " <<<"$limits" || fail "the server's RLIMIT_DATA is not 128M: $limits"

        step "the server unit's exposure with the limits"
        out=$(in_container systemd-analyze security --no-pager left4me-server-lim-a.service 2>/dev/null |
                sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
        note "systemd-analyze security left4me-server-lim-a.service (limits set): ${out:-none}"
        [[ -n $out ]] || fail "systemd-analyze security printed no overall exposure figure"
        python3 -c 'import sys; sys.exit(float(sys.argv[1]) > 1.7)' "$out" ||
                fail "the server unit's exposure is $out, above 1.7"

        step "enforcement through the rlimits (no controllers needed)"
        # RLIMIT_NPROC counts every process and thread of the server's uid:
        # the fake server's own threads and its children.
        wait_until 20 ins_rcon_ok lim-a || fail "RCON of lim-a does not answer"
        ins_rcon lim-a "fake_fork 64"
        expect_ok "fake_fork 64"
        out=$(grep -o 'fake_fork: [0-9]* of 64[^\\]*' <<<"$OUT")
        [[ $out == *", then EAGAIN" ]] || fail "64 forks under tasks_max=32 did not fail with EAGAIN: $OUT"
        n=${out#fake_fork: }
        n=${n%% *}
        ((n >= 16 && n < 32)) || fail "the server forked $n children under tasks_max=32"
        ins_rcon lim-a "fake_alloc $((8 << 20))"
        [[ $OUT == *"fake_alloc: ok"* ]] || fail "an 8M allocation under memory_max=128M failed: $OUT"
        ins_rcon lim-a "fake_alloc $m256"
        [[ $OUT == *"fake_alloc: MemoryError"* ]] || fail "a 256M allocation under LimitDATA=128M worked: $OUT"

        step "enforcement through the cgroup, where the controllers exist"
        controllers=$(in_container sh -c "cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null" || true)
        note "cgroup controllers in the container: ${controllers:-none}"
        cg=$(in_container systemctl show -P ControlGroup left4me-server-lim-a.service)
        if [[ " $controllers " == *" pids "* ]] && in_container test -e "/sys/fs/cgroup$cg/pids.max"; then
                assert_eq 32 "$(in_container cat "/sys/fs/cgroup$cg/pids.max")" "pids.max of the server's cgroup"
        fi
        if [[ " $controllers " == *" memory "* ]] && in_container test -e "/sys/fs/cgroup$cg/memory.max"; then
                assert_eq $m128 "$(in_container cat "/sys/fs/cgroup$cg/memory.max")" "memory.max of the server's cgroup"
        fi
        if [[ " $controllers " == *" cpu "* ]] && in_container test -e "/sys/fs/cgroup$cg/cpu.max"; then
                assert_eq "120000 100000" "$(in_container cat "/sys/fs/cgroup$cg/cpu.max")" "cpu.max of the server's cgroup"
        fi

        step "GetUsage"
        in_container sh -ec "head -c 3000000 /dev/zero > '$(ins_upper lim-a)/written.bin'"
        ins_call alice lim-a GetUsage
        expect_ok "GetUsage as the owner"
        [[ $OUT == *"'running': <true>"* ]] || fail "GetUsage of a running server: $OUT"
        used=$(grep -o "'disk_used': <uint64 [0-9]*>" <<<"$OUT" | grep -o '[0-9]*>' | tr -d '>')
        ((used >= 3000000)) || fail "disk_used is ${used:-missing}, the server wrote 3000000 bytes: $OUT"
        [[ $OUT == *"'memory_max': <uint64 $m128>"* ]] || fail "GetUsage lacks memory_max: $OUT"
        if [[ " $controllers " == *" memory "* ]]; then
                [[ $OUT == *"'memory_current': <uint64 "* ]] || fail "GetUsage lacks memory_current: $OUT"
        fi
        [[ $OUT == *"'tasks_current': <uint64 "* ]] || fail "GetUsage of a running server lacks tasks_current: $OUT"
        if [[ " $controllers " == *" pids "* ]]; then
                [[ $OUT == *"'usage_source': <'systemd'>"* ]] || fail "usage_source with the pids controller: $OUT"
        else
                [[ $OUT == *"'usage_source': <'cgroup.threads'>"* ]] || fail "usage_source without the pids controller: $OUT"
        fi
        n=$(grep -o "'tasks_current': <uint64 [0-9]*>" <<<"$OUT" | grep -o '[0-9]*>' | tr -d '>')
        # srcds_run's shell and the fake server with its threads.
        ((n >= 2 && n <= 32)) || fail "tasks_current of the running server is $n"
        ins_call mallory lim-a GetUsage
        ((RC != 0)) || fail "mallory read the use of alice's instance"
        # The daemon restarted since the login: its sessions ended.
        lim_web_login adm "$LIM_WADMIN" admin
        lim_web adm GET /api/instances/lim-a/usage
        web_expect 200 "GET .../usage of the running lim-a"
        out=$(json '"%s %s %s" % (d["running"], d["disk_used"] >= 3000000, d["memory_max"])' <<<"$WEB_BODY")
        assert_eq "True True $m128" "$out" "the usage of running lim-a over the web"

        ins_call alice lim-a Stop
        expect_ok "Stop lim-a"
        ins_wait_state lim-a stopped
}
l4m_test instance-limits test_instance_limits 600

ins_rcon_ok() {
        ins_rcon "$1" "echo up"
        ((RC == 0))
}
