# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Manager.QueryJobs on the bus (busctl, gdbus), through l4mctl job list and
# GET /api/jobs: each filter key, newest first, paging with the cursor
# reaching every job exactly once, refused filters, and a web user seeing
# only what ListJobs shows it. Blueprint.Update (bus and PUT
# /api/blueprints/NAME) with a bad launch argument changes nothing.
# Through the bridge: one's own password needs the current one, the account
# one is logged in with cannot be deleted; GET /api/manager carries the
# port range and GET /api/status what l4mctl status shows; an empty
# hostname is the instance's name.

# shellcheck source=web-http.sh
source "$(dirname "${BASH_SOURCE[0]}")/web-http.sh"

SEC_CONF=80-jobs-query
SEC_PW=correct-horse-battery-staple
SEC_A=jq-alice
SEC_B=jq-bob
SEC_W=jq-wendy

# qj GVARIANT-DICT [USER]: QueryJobs with gdbus (which names D-Bus errors).
qj() {
        gcall "${2:-root}" "$L4M_MANAGER" org.left4me.Manager.QueryJobs "$1"
}

# qj_json BUSCTL-DICT-ARGS...: QueryJobs as root with busctl --json; OUT is
# {"type": ..., "data": [[job...], next]}.
qj_json() {
        capture in_container busctl --json=short --timeout="$L4M_CALL_TIMEOUT" call "$L4M_BUS" "$L4M_MANAGER" \
                org.left4me.Manager QueryJobs 'a{sv}' "$@"
        expect_ok "QueryJobs $*"
}

# jq_wipe PATH: a wipe job on the overlay as root, waited for.
jq_wipe() {
        gcall root "$1" org.left4me.Overlay.Wipe
        expect_ok "Wipe $1"
        job_wait "$(job_path_from_output)"
        expect_job succeeded "wipe of $1"
}

# jq_setup: accounts, root's overlays jq-one and jq-two with 4 and 3
# finished wipe jobs, and alice's overlay jq-web with 2 (over HTTP).
jq_setup() {
        local one two i
        sec_setup
        trap 'sec_remove_entities jq-; sec_cleanup' EXIT
        sec_remove_entities jq-
        one=$(create_overlay root jq-one archive)
        two=$(create_overlay root jq-two archive)
        JQ_ONE=overlay:$(id_of_path "$one")
        JQ_TWO=overlay:$(id_of_path "$two")
        for i in 1 2 3 4; do
                jq_wipe "$one"
                ((i == 4)) || jq_wipe "$two"
        done
        sec_login a "$SEC_A"
        sec_api a POST /api/overlays '{"name":"jq-web","type":"archive","options":{}}'
        expect_http 201 "alice creates jq-web"
        for i in 1 2; do
                sec_api a POST /api/overlays/jq-web/wipe '{}'
                expect_http 202 "alice wipes jq-web"
                sec_job_wait a "$(json 'd["job"]' <<<"$HTTP_BODY")"
                assert_eq succeeded "$JOB_STATE" "alice's wipe ($JOB_MSG)"
        done
}

test_jobs_query_bus() {
        local ids all pages next seen
        jq_setup

        step "no filter: newest first, the same jobs as ListJobs"
        qj_json 0
        ids=$(json '[j[0] for j in d["data"][0]]' <<<"$OUT")
        assert_eq true "$(json '[j[0] for j in d["data"][0]] == sorted((j[0] for j in d["data"][0]), reverse=True)' <<<"$OUT")" \
                "QueryJobs is newest first"
        capture in_container busctl --json=short call "$L4M_BUS" "$L4M_MANAGER" org.left4me.Manager ListJobs
        expect_ok ListJobs
        all=$(json 'sorted((j[0] for j in d["data"][0]), reverse=True)' <<<"$OUT")
        if (($(json 'len(d)' <<<"$all") <= 100)); then
                assert_eq "$all" "$ids" "QueryJobs {} lists what ListJobs lists"
        fi

        step "each filter key"
        qj_json 1 target s "$JQ_ONE"
        assert_eq 4 "$(json 'len(d["data"][0])' <<<"$OUT")" "jobs on $JQ_ONE"
        assert_eq "[\"$JQ_ONE\"]" "$(json 'sorted(set(j[2] for j in d["data"][0]))' <<<"$OUT")" "target filter"
        assert_eq '["overlay-wipe"]' "$(json 'sorted(set(j[1] for j in d["data"][0]))' <<<"$OUT")" "their kind"
        assert_eq 0 "$(json 'd["data"][1]' <<<"$OUT")" "next of a complete page"
        assert_eq true "$(json 'all(j[6] != "" and j[7] > 0 and j[8] >= j[7] and j[9] >= j[8] and j[10].startswith("/org/left4me/Manager/job/") for j in d["data"][0])' <<<"$OUT")" \
                "each job carries its message, times and path"
        qj_json 2 target s "$JQ_TWO" kind s overlay-wipe
        assert_eq 3 "$(json 'len(d["data"][0])' <<<"$OUT")" "jobs on $JQ_TWO of kind overlay-wipe"
        qj_json 1 kind s no-such-kind
        assert_eq 0 "$(json 'len(d["data"][0])' <<<"$OUT")" "jobs of an unknown kind"
        qj_json 1 owner s "web:$SEC_A"
        assert_eq 2 "$(json 'len(d["data"][0])' <<<"$OUT")" "alice's jobs"
        assert_eq "[\"web:$SEC_A\"]" "$(json 'sorted(set(j[3] for j in d["data"][0]))' <<<"$OUT")" "owner filter"
        qj_json 2 owner s root state s succeeded
        assert_eq '["succeeded"]' "$(json 'sorted(set(j[4] for j in d["data"][0]))' <<<"$OUT")" "state succeeded"
        (($(json 'len(d["data"][0])' <<<"$OUT") >= 7)) || fail "root's succeeded jobs: $OUT"
        qj_json 2 target s "$JQ_ONE" state s active
        assert_eq 0 "$(json 'len(d["data"][0])' <<<"$OUT")" "active jobs on $JQ_ONE"
        qj_json 2 target s "$JQ_ONE" state s finished
        assert_eq 4 "$(json 'len(d["data"][0])' <<<"$OUT")" "finished jobs on $JQ_ONE"
        qj_json 1 state s active
        assert_eq true "$(json 'all(j[4] in ("queued", "running") for j in d["data"][0])' <<<"$OUT")" "state active"

        # Paged through the jobs of this test's own overlay: root's jobs grow
        # with every test run before this one (hundreds in the whole suite).
        step "paging by 1 through the jobs on $JQ_ONE: every one exactly once"
        qj_json 2 target s "$JQ_ONE" limit u 1000
        all=$(json '[j[0] for j in d["data"][0]]' <<<"$OUT")
        seen='[]' next=0 pages=0
        while :; do
                if ((next == 0)); then
                        qj_json 2 target s "$JQ_ONE" limit u 1
                else
                        qj_json 3 target s "$JQ_ONE" limit u 1 before t "$next"
                fi
                (($(json 'len(d["data"][0])' <<<"$OUT") <= 1)) || fail "a page of more than 1 job: $OUT"
                seen=$(json "$seen + [j[0] for j in d['data'][0]]" <<<"$OUT")
                next=$(json 'd["data"][1]' <<<"$OUT")
                ((next == 0)) || assert_eq "$next" "$(json 'd["data"][0][-1][0]' <<<"$OUT")" "next is the page's last id"
                ((++pages < 1000)) || fail "paging does not end"
                ((next != 0)) || break
        done
        assert_eq "$all" "$seen" "the pages together"
        assert_eq 4 "$pages" "pages of one job on $JQ_ONE"

        step "refused filters"
        qj "{'colour': <'red'>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "an unknown key"
        [[ $OUT$ERR == *'Unknown option "colour"'* ]] || fail "the refusal does not name the key: $OUT$ERR"
        qj "{'target': <uint32 3>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "target of another type"
        qj "{'limit': <'10'>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "limit as a string"
        qj "{'limit': <uint32 0>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "limit 0"
        qj "{'limit': <uint32 1001>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "limit 1001"
        [[ $OUT$ERR == *"A page holds 1 to 1000 jobs, not 1001."* ]] || fail "the limit's refusal: $OUT$ERR"
        qj "{'state': <'done'>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "an unknown state"
        [[ $OUT$ERR == *'"done" is not a job state'* ]] || fail "the state's refusal: $OUT$ERR"
        qj "{'owner': <''>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "an empty owner"
        qj "{'before': <uint32 5>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "before of another type"
        qj "{'limit': <uint32 1000>}" mallory
        expect_ok "mallory: QueryJobs (org.left4me.read)"

        step "l4mctl job list"
        capture in_container l4mctl job list --json "--target=$JQ_ONE"
        expect_ok "l4mctl job list --target"
        assert_eq 4 "$(json 'len(d)' <<<"$OUT")" "l4mctl: jobs on $JQ_ONE"
        assert_eq true "$(json '[j["id"] for j in d] == sorted((j["id"] for j in d), reverse=True) and all(j["message"] and j["finished"] for j in d)' <<<"$OUT")" \
                "l4mctl: newest first, with message and times"
        capture in_container l4mctl job list --owner=root --kind=overlay-wipe --state=finished --limit=2
        expect_ok "l4mctl job list --limit=2"
        assert_eq 3 "$(wc -l <<<"$OUT")" "l4mctl: a legend and two jobs"
        [[ $ERR == *"--before="* ]] || fail "l4mctl does not say how to get the next page: $ERR"
        next=$(grep -o -- '--before=[0-9]*' <<<"$ERR" | cut -d= -f2)
        capture in_container l4mctl job list --owner=root --kind=overlay-wipe --limit=2 "--before=$next" --no-legend
        expect_ok "l4mctl job list --before"
        assert_eq true "$(awk -v n="$next" '$1 >= n { bad = 1 } END { print bad ? "false" : "true" }' <<<"$OUT")" \
                "l4mctl --before: only older jobs"
        capture in_container l4mctl job list --state=bogus
        expect_exit 3 "l4mctl job list --state=bogus (InvalidArgument)"
        capture in_container l4mctl job list --limit=0
        expect_exit 2 "l4mctl job list --limit=0 (a usage error)"
}
l4m_test jobs-query-bus test_jobs_query_bus 300

test_jobs_query_web() {
        local ids mine next seen pages
        jq_setup

        step "GET /api/jobs as alice: only what ListJobs shows her"
        sec_http a GET /api/jobs
        expect_http 200 "alice: GET /api/jobs"
        ids=$(json 'sorted(j["Id"] for j in d["jobs"])' <<<"$HTTP_BODY")
        assert_eq 0 "$(json 'd["next"]' <<<"$HTTP_BODY")" "alice's one page"
        assert_eq '["Created", "Finished", "Id", "Kind", "Message", "Owner", "Progress", "Started", "State", "Target"]' \
                "$(json 'sorted(d["jobs"][0].keys())' <<<"$HTTP_BODY")" "a job's members"
        assert_eq "[\"web:$SEC_A\"]" "$(json 'sorted(set(j["Owner"] for j in d["jobs"]))' <<<"$HTTP_BODY")" \
                "alice sees only her jobs"
        capture pybus root "$SEC_A" "$SEC_PW" <<'PY'
# ListJobs on a connection logged in as the web account.
conn = dbus.SystemBus(private=True)
mgr = dbus.Interface(conn.get_object(BUS, MGR), MANAGER_IF)
mgr.Login(sys.argv[1], sys.argv[2])
print(json.dumps(sorted(int(j[0]) for j in mgr.ListJobs())))
PY
        expect_ok "ListJobs as alice's web session"
        mine=$(tail -n 1 <<<"$OUT")
        assert_eq "$mine" "$ids" "GET /api/jobs and ListJobs as alice"
        sec_http a GET "/api/jobs?owner=root"
        expect_http 200 "alice: GET /api/jobs?owner=root"
        assert_eq 0 "$(json 'len(d["jobs"])' <<<"$HTTP_BODY")" "alice asking for root's jobs"

        step "GET /api/jobs as the admin: filters and paging"
        sec_login w "$SEC_W"
        sec_http w GET "/api/jobs?target=$JQ_ONE&state=finished&kind=overlay-wipe&owner=root"
        expect_http 200 "wendy: the jobs on $JQ_ONE"
        assert_eq 4 "$(json 'len(d["jobs"])' <<<"$HTTP_BODY")" "wendy: jobs on $JQ_ONE"
        sec_http w GET "/api/jobs?owner=root&target=$JQ_ONE&limit=1000"
        ids=$(json '[j["Id"] for j in d["jobs"]]' <<<"$HTTP_BODY")
        seen='[]' next=0 pages=0
        while :; do
                sec_http w GET "/api/jobs?owner=root&limit=3&before=$((next == 0 ? 0 : next))&target=$JQ_ONE"
                expect_http 200 "a page of root's jobs on $JQ_ONE"
                seen=$(json "$seen + [j['Id'] for j in d['jobs']]" <<<"$HTTP_BODY")
                next=$(json 'd["next"]' <<<"$HTTP_BODY")
                ((++pages < 1000)) || fail "paging does not end"
                ((next != 0)) || break
        done
        assert_eq "$ids" "$seen" "the pages of GET /api/jobs together"
        assert_eq 2 "$pages" "pages of at most 3 of the 4 jobs on $JQ_ONE"

        step "refused queries"
        sec_http w GET "/api/jobs?state=bogus"
        expect_http_error 400 org.left4me.Error.InvalidArgument "state=bogus"
        sec_http w GET "/api/jobs?limit=0"
        expect_http_error 400 org.left4me.Error.InvalidArgument "limit=0"
        sec_http w GET "/api/jobs?limit=ten"
        expect_http_error 400 org.left4me.Error.InvalidArgument "limit=ten"
        sec_http w GET "/api/jobs?before=-1"
        expect_http_error 400 org.left4me.Error.InvalidArgument "before=-1"
        sec_http w GET "/api/jobs?colour=red"
        expect_http_error 400 org.left4me.Error.InvalidArgument "an unknown parameter"

        step "GET /api/manager and GET /api/status"
        sec_http w GET /api/manager
        expect_http 200 "GET /api/manager"
        assert_eq "27015 27115" "$(json '"%d %d" % (d["InstancePortMin"], d["InstancePortMax"])' <<<"$HTTP_BODY")" \
                "the port range in /api/manager"
        sec_http a GET /api/status
        expect_http 200 "alice: GET /api/status"
        assert_eq '["config_warnings", "instances", "instances_running", "overlays", "storage", "version"]' \
                "$(json 'sorted(d.keys())' <<<"$HTTP_BODY")" "the members of /api/status"
        assert_eq 1 "$(json 'd["overlays"]' <<<"$HTTP_BODY")" "alice's overlays in /api/status"
}
l4m_test jobs-query-web test_jobs_query_web 300

test_blueprint_update() {
        local bp
        jq_setup

        step "Update with a refused launch argument changes nothing"
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "'jq-bp'" "['jq-one']" '{}'
        expect_ok "CreateBlueprint jq-bp"
        bp=$(grep -o "/org/left4me/Manager/blueprint/[0-9]*" <<<"$OUT")
        gcall root "$bp" org.left4me.Blueprint.Update \
                "{'overlays': <['jq-two', 'jq-one']>, 'server_cfg': <'sv_cheats 0'>, 'launch_args': <['+sv_lan', '+hostport', '27020']>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "Update with +hostport"
        [[ $OUT$ERR == *"left4me sets this argument itself"* ]] || fail "the refusal does not say why: $OUT$ERR"
        capture in_container busctl --json=short get-property "$L4M_BUS" "$bp" org.left4me.Blueprint Overlays ServerCfg LaunchArgs
        expect_ok "the blueprint's properties"
        assert_eq '[["jq-one"], "", []]' "$(json '[x["data"] for x in d]' <<<"$(jq_lines_to_json "$OUT")")" \
                "after the refused Update"
        gcall root "$bp" org.left4me.Blueprint.Update "{'overlays': <['jq-two', 'jq-nosuch']>, 'server_cfg': <'x'>}"
        expect_dbus_error org.left4me.Error.NotFound "Update naming a missing overlay"
        gcall root "$bp" org.left4me.Blueprint.Update "{'colour': <'red'>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "Update with an unknown key"
        gcall root "$bp" org.left4me.Blueprint.Update "{'server_cfg': <uint32 1>}"
        expect_dbus_error org.left4me.Error.InvalidArgument "Update with server_cfg of another type"
        gcall root "$bp" org.left4me.Blueprint.Update '@a{sv} {}'
        expect_ok "Update with nothing"

        step "a good Update changes all three"
        gcall root "$bp" org.left4me.Blueprint.Update \
                "{'overlays': <['jq-two', 'jq-one']>, 'server_cfg': <'sv_cheats 0'>, 'launch_args': <['+sv_lan', '1']>}"
        expect_ok "Update"
        capture in_container busctl --json=short get-property "$L4M_BUS" "$bp" org.left4me.Blueprint Overlays ServerCfg LaunchArgs
        assert_eq '[["jq-two", "jq-one"], "sv_cheats 0", ["+sv_lan", "1"]]' \
                "$(json '[x["data"] for x in d]' <<<"$(jq_lines_to_json "$OUT")")" "after the Update"
        gcall mallory "$bp" org.left4me.Blueprint.Update "{'server_cfg': <'x'>}"
        ((RC != 0)) || fail "mallory updated root's blueprint"

        step "PUT /api/blueprints/NAME"
        sec_api a POST /api/blueprints '{"name":"jq-webbp","overlays":["jq-web"],"options":{}}'
        expect_http 201 "alice creates jq-webbp"
        sec_api a PUT /api/blueprints/jq-webbp '{"settings":{"server_cfg":"sv_cheats 0","launch_args":["+sv_lan","-ip","1.2.3.4"]}}'
        expect_http_error 400 org.left4me.Error.InvalidArgument "PUT with -ip"
        sec_http a GET /api/blueprints/jq-webbp
        assert_eq '"" []' "$(json '"%s %s" % (json.dumps(d["ServerCfg"]), json.dumps(d["LaunchArgs"]))' <<<"$HTTP_BODY")" \
                "jq-webbp after the refused PUT"
        sec_api a PUT /api/blueprints/jq-webbp '{"settings":{"colour":"red"}}'
        expect_http 400 "PUT with an unknown key"
        sec_api a PUT /api/blueprints/jq-webbp '{"settings":{"server_cfg":"sv_cheats 0","launch_args":["+sv_lan","1"]}}'
        expect_http 200 "PUT jq-webbp"
        assert_eq '"sv_cheats 0" ["+sv_lan", "1"]' \
                "$(json '"%s %s" % (json.dumps(d["ServerCfg"]), json.dumps(d["LaunchArgs"]))' <<<"$HTTP_BODY")" \
                "the blueprint answered by PUT"
        sec_login b "$SEC_B"
        sec_api b PUT /api/blueprints/jq-webbp '{"settings":{"server_cfg":""}}'
        expect_refused "bob updates alice's blueprint"
}
l4m_test blueprint-update test_blueprint_update 300

# jq_lines_to_json: busctl --json=short get-property prints one JSON
# document a line; as one array.
jq_lines_to_json() {
        python3 -c 'import json, sys; print(json.dumps([json.loads(l) for l in sys.stdin if l.strip()]))' <<<"$1"
}

test_web_own_account() {
        jq_setup
        sec_user jq-victim user
        sec_login w "$SEC_W"

        step "one's own password needs the current one"
        sec_api w PUT "/api/users/$SEC_W/password" '{"password":"a-new-password-1"}'
        expect_http_error 400 org.left4me.Error.InvalidArgument "own password without the current one"
        sec_api w PUT "/api/users/$SEC_W/password" '{"password":"a-new-password-1","current_password":"wrong-one-xx"}'
        expect_http_error 403 org.freedesktop.DBus.Error.AccessDenied "own password with a wrong current one"
        assert_eq "The current password is wrong." "$(json 'd["message"]' <<<"$HTTP_BODY")" "the refusal's text"
        sec_api w PUT "/api/users/$SEC_W/password" "{\"password\":\"a-new-password-1\",\"current_password\":\"$SEC_PW\"}"
        expect_http 204 "own password with the current one"
        sec_http w GET /api/session
        expect_http 200 "the session that changed its password goes on"
        sec_login w2 "$SEC_W" a-new-password-1

        step "an admin sets another's password without a current one"
        sec_api w PUT /api/users/jq-victim/password '{"password":"another-pass-2"}'
        expect_http 204 "wendy sets jq-victim's password"
        sec_login v jq-victim another-pass-2
        sec_api v PUT /api/users/jq-victim/password '{"password":"a"}'
        expect_http_error 400 org.left4me.Error.InvalidArgument "a user's own password without the current one"
        sec_api v PUT /api/users/jq-victim/password '{"password":"short","current_password":"another-pass-2"}'
        expect_http_error 400 org.left4me.Error.InvalidArgument "a too short new password"
        assert_eq "A password needs at least 8 characters." "$(json 'd["message"]' <<<"$HTTP_BODY")" \
                "the short password's text"

        step "the account one is logged in with cannot be deleted"
        sec_api w DELETE "/api/users/$SEC_W"
        expect_http_error 409 org.left4me.Error.Busy "wendy deletes her own account"
        assert_eq "You cannot delete the account you are logged in with." "$(json 'd["message"]' <<<"$HTTP_BODY")" \
                "the refusal's text"
        sec_http w GET /api/session
        expect_http 200 "wendy's session after the refusal"
        sec_api w DELETE /api/users/jq-victim
        expect_http 204 "wendy deletes jq-victim"

        step "the port message is a sentence"
        sec_api a POST /api/blueprints '{"name":"jq-portbp","overlays":["jq-web"],"options":{}}'
        expect_http 201 "alice creates jq-portbp"
        sec_api a POST /api/instances '{"name":"jq-port","blueprint":"jq-portbp","options":{"port":80}}'
        expect_http_error 400 org.left4me.Error.InvalidArgument "an instance on port 80"
        assert_eq "Port 80 is not available to game servers: choose one from 27015 to 27115." \
                "$(json 'd["message"]' <<<"$HTTP_BODY")" "the port's refusal"

        step "an empty hostname is the instance's name"
        sec_api a POST /api/instances '{"name":"jq-host","blueprint":"jq-portbp","options":{"hostname":""}}'
        expect_http 201 "alice creates jq-host with an empty hostname"
        assert_eq jq-host "$(json 'd["Hostname"]' <<<"$HTTP_BODY")" "Hostname after creation with \"\""
        sec_api a PATCH /api/instances/jq-host '{"hostname":"Alice Server"}'
        expect_http 200 "alice names jq-host"
        assert_eq "Alice Server" "$(json 'd["Hostname"]' <<<"$HTTP_BODY")" "Hostname set"
        sec_api a PATCH /api/instances/jq-host '{"hostname":"   "}'
        expect_http 200 "alice blanks jq-host's hostname"
        assert_eq jq-host "$(json 'd["Hostname"]' <<<"$HTTP_BODY")" "Hostname after a blank one"

        # The password of SEC_W is set back by the next sec_setup.
}
l4m_test web-own-account test_web_own_account 300
