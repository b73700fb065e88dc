# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers of the HTTP tests of left4me-web (test-30, test-31): each test
# writes its own [Web] drop-in, restarts the bridge and makes requests with
# curl inside the container. The sourcing file sets SEC_CONF (the drop-in's
# name), SEC_PW (the web accounts' password) and SEC_A, SEC_B (role user)
# and SEC_W (role admin), the accounts sec_setup makes.

# shellcheck source=web-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/web-lib.sh"

# sec_setup [WEB-CONFIG-LINES]: left4me up, this test's directory, the
# bridge restarted with [Web] settings (default none beyond the defaults)
# and the web accounts in place. The EXIT trap removes the drop-in again.
sec_setup() {
        test_files_setup
        sec_conf "${1:-}"
        trap sec_cleanup EXIT
        sec_user "$SEC_A" user
        sec_user "$SEC_B" user
        sec_user "$SEC_W" admin
}

sec_cleanup() {
        set +e
        rm -f "$CTR_DIR/root$L4M_CONF_D/$SEC_CONF.conf"
        sec_restart >/dev/null 2>&1
        return 0
}

# sec_conf LINES [tls]: the [Web] drop-in of this test (no lines: none) and
# a restarted bridge, answering (over TLS with "tls").
sec_conf() {
        if [[ -n $1 ]]; then
                in_container mkdir -p "$L4M_CONF_D"
                printf '[Web]\n%s\n' "$1" >"$CTR_DIR/root$L4M_CONF_D/.$SEC_CONF.conf.tmp"
                mv "$CTR_DIR/root$L4M_CONF_D/.$SEC_CONF.conf.tmp" "$CTR_DIR/root$L4M_CONF_D/$SEC_CONF.conf"
                step "web drop-in: $(paste -sd ' ' <<<"$1")"
        else
                rm -f "$CTR_DIR/root$L4M_CONF_D/$SEC_CONF.conf"
        fi
        sec_restart "${2:-}"
}

# sec_restart [tls]: a fresh bridge process (new configuration, no
# sessions, no rate limit state), answering on WEB_PORT (web-lib.sh); sets
# WEB_URL and WEB_ORIGIN (https with "tls").
sec_restart() {
        local scheme=http
        [[ ${1:-} != tls ]] || scheme=https
        WEB_URL=$scheme://127.0.0.1:$WEB_PORT
        WEB_ORIGIN=$WEB_URL
        in_container systemctl stop left4me-web.service
        in_container systemctl reset-failed left4me-web.service left4me-web.socket 2>/dev/null || true
        capture in_container systemctl start left4me-web.socket
        expect_ok "start left4me-web.socket"
        wait_until 20 in_container curl -sSk -o /dev/null --max-time 5 "$WEB_URL/" ||
                fail "left4me-web does not answer on $WEB_URL"
}

# sec_user NAME ROLE: web account NAME with ROLE and password SEC_PW (an
# earlier test of this file made it already with the same ROLE).
sec_user() {
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateUser "$(gv_str "$1")" "$(gv_str "$SEC_PW")" "$(gv_str "$2")"
        if [[ "$OUT$ERR" == *GDBus.Error:org.left4me.Error.Exists:* ]]; then
                gcall root "$L4M_MANAGER" org.left4me.Manager.SetPassword "$(gv_str "$1")" "$(gv_str "$SEC_PW")"
        fi
        expect_ok "web account $1 ($2)"
}

# sec_web_pid: the bridge's main process.
sec_web_pid() {
        local pid
        pid=$(in_container systemctl show -P MainPID left4me-web.service)
        ((pid > 0)) || fail "left4me-web.service has no main process"
        printf '%s\n' "$pid"
}

# sec_vm FIELD: VmRSS or VmHWM of the bridge, in kB.
sec_vm() {
        in_container sed -n "s/^$1:[[:space:]]*\\([0-9]*\\) kB/\\1/p" "/proc/$(sec_web_pid)/status"
}

# sec_http JAR METHOD PATH [CURL-ARG...]: one request with curl in the
# container (JAR: a cookie jar name of this test, or "" for none); sets
# HTTP_CODE (000 if curl failed), HTTP_BODY and HTTP_HEAD (the response
# headers, CRs removed).
sec_http() {
        local jar=$1 method=$2 path=$3 jarargs=() rc=0
        shift 3
        if [[ -n $jar ]]; then
                jarargs=(-b "$TF_DIR/$jar.jar" -c "$TF_DIR/$jar.jar")
        fi
        rm -f "$TF_HOST/resp.body" "$TF_HOST/resp.head"
        HTTP_CODE=$(in_container curl -sS --path-as-is --max-time 60 -o "$TF_DIR/resp.body" \
                -D "$TF_DIR/resp.head" -w '%{http_code}' -X "$method" "${jarargs[@]}" "$@" \
                "$WEB_URL$path" 2>"$TF_HOST/resp.err") || rc=$?
        ((rc == 0)) || HTTP_CODE=000
        HTTP_BODY=$(cat "$TF_HOST/resp.body" 2>/dev/null || true)
        HTTP_HEAD=$(tr -d '\r' <"$TF_HOST/resp.head" 2>/dev/null || true)
        printf '%s %s -> %s %s\n' "$method" "$path" "$HTTP_CODE" "$(head -c 300 <<<"$HTTP_BODY")" >&2
        if ((rc != 0)); then
                printf '  curl: %s\n' "$(cat "$TF_HOST/resp.err")" >&2
        fi
}

# sec_csrf JAR: the CSRF token of the session in JAR.
sec_csrf() {
        cat "$TF_HOST/$1.csrf" 2>/dev/null || true
}

# sec_api JAR METHOD PATH [JSON] [CURL-ARG...]: a request as the page
# would make it: same-origin Origin, the session's CSRF token, JSON body.
sec_api() {
        local jar=$1 method=$2 path=$3 body=${4:-}
        shift 3
        (($# == 0)) || shift
        local args=(-H "Origin: $WEB_ORIGIN" -H "X-CSRF-Token: $(sec_csrf "$jar")")
        if [[ -n $body ]]; then
                args+=(-H 'Content-Type: application/json' --data-binary "$body")
        fi
        sec_http "$jar" "$method" "$path" "${args[@]}" "$@"
}

# sec_login JAR USER [PASSWORD]: POST /api/login, which must answer 200;
# keeps the cookie in JAR and the CSRF token beside it.
sec_login() {
        local jar=$1 user=$2 pw=${3:-$SEC_PW}
        rm -f "$TF_HOST/$jar.jar" "$TF_HOST/$jar.csrf"
        sec_http "$jar" POST /api/login -H "Origin: $WEB_ORIGIN" -H 'Content-Type: application/json' \
                --data-binary "{\"user\": \"$user\", \"password\": \"$pw\"}"
        expect_http 200 "login as $user"
        json 'd["csrf"]' <<<"$HTTP_BODY" >"$TF_HOST/$jar.csrf"
        [[ -s $TF_HOST/$jar.csrf ]] || fail "login as $user answered no CSRF token: $HTTP_BODY"
}

# expect_http CODE WHAT: the last request answered CODE.
expect_http() {
        [[ $HTTP_CODE == "$1" ]] || fail "$2: expected HTTP $1, got $HTTP_CODE: $(head -c 400 <<<"$HTTP_BODY")"
}

# expect_http_error CODE ERROR-NAME WHAT: the last request answered CODE
# with {"error": ERROR-NAME, "message": ...}.
expect_http_error() {
        local got
        expect_http "$1" "$3"
        got=$(json 'd.get("error", "")' <<<"$HTTP_BODY" 2>/dev/null) || fail "$3: the body is not JSON: $HTTP_BODY"
        assert_eq "$2" "$got" "$3: the error name"
}

# sec_python NAME < PROGRAM: stores a python program in this test's
# directory; prints its path in the container.
sec_python() {
        cat >"$TF_HOST/$1.py"
        printf '%s\n' "$TF_DIR/$1.py"
}

# --- shared by test-30 and test-41 ------------------------------------

# expect_refused WHAT: the last request was refused as not found or not
# allowed (403 or 404), with a JSON error.
expect_refused() {
        [[ $HTTP_CODE == 403 || $HTTP_CODE == 404 ]] ||
                fail "$1: expected 403 or 404, got $HTTP_CODE: $(head -c 400 <<<"$HTTP_BODY")"
        json 'd["error"]' <<<"$HTTP_BODY" >/dev/null 2>&1 || fail "$1: no JSON error in the answer: $HTTP_BODY"
}

# sec_names JSON-ARRAY: the "Name" of every object in it, one a line.
sec_names() {
        json '"\n".join(x["Name"] for x in d)'
}

# sec_job_wait JAR JOB-ID [SECONDS]: polls GET /api/jobs/ID until the job
# has finished; sets JOB_STATE and JOB_MSG.
sec_job_state() {
        sec_http "$1" GET "/api/jobs/$2"
        [[ $HTTP_CODE == 200 ]] || return 1
        JOB_STATE=$(json 'd["State"]' <<<"$HTTP_BODY")
        JOB_MSG=$(json 'd.get("Message", "")' <<<"$HTTP_BODY")
        [[ $JOB_STATE == succeeded || $JOB_STATE == failed || $JOB_STATE == cancelled ]]
}

sec_job_wait() {
        local i
        for ((i = 0; i < ${3:-60} * 5; i++)); do
                if sec_job_state "$1" "$2" 2>/dev/null; then
                        step "job $2: $JOB_STATE: $JOB_MSG"
                        return 0
                fi
                sleep 0.2
        done
        fail "job $2 did not finish in ${3:-60}s (last answer $HTTP_CODE: $HTTP_BODY)"
}

# sec_tar NAME SIZE-MIB: a tar in this test's directory holding
# left4dead2/addons/NAME.vpk of SIZE MiB of random bytes (and a small
# marker file); prints its path in the container.
sec_tar() {
        local d=$TF_DIR/tar-$1
        in_container sh -ec "rm -rf '$d' && mkdir -p '$d/t/left4dead2/addons' && cd '$d/t' &&
                head -c $(($2 * 1048576)) /dev/urandom > left4dead2/addons/$1.vpk &&
                echo '$1' > marker-$1.txt && tar -C '$d/t' -cf '$d/x.tar' . && rm -rf '$d/t'"
        printf '%s\n' "$d/x.tar"
}

# sec_remove_entities PREFIX: deletes (as root, over the bus) schedules,
# instances (their backups with them), blueprints and overlays whose names
# start with PREFIX; never fails.
sec_remove_entities() {
        capture pybus root "$1" <<'PY' || true
prefix = sys.argv[1]
def each(method):
    try:
        return call(MGR, MANAGER_IF, method)
    except dbus.exceptions.DBusException:
        return []
# In this order: a schedule names its target, an instance its blueprint,
# a blueprint its overlays.
for lister, interface, methods in (("ListSchedules", "org.left4me.Schedule", ("Delete",)),
                                   ("ListInstances", "org.left4me.Instance", ("Stop", "Delete")),
                                   ("ListBlueprints", "org.left4me.Blueprint", ("Delete",)),
                                   ("ListOverlays", OVERLAY_IF, ("Delete",))):
    for row in each(lister):
        if not str(row[1]).startswith(prefix):
            continue
        for m in methods:
            try:
                call(str(row[0]), interface, m)
            except dbus.exceptions.DBusException:
                pass
            if len(methods) > 1:
                time.sleep(0.5)
PY
}

# sec_upload JAR PATH FILE: POSTs FILE (in the container) as the raw body,
# as the page uploads a file.
sec_upload() {
        sec_http "$1" POST "$2" -H "Origin: $WEB_ORIGIN" -H "X-CSRF-Token: $(sec_csrf "$1")" \
                -H 'Content-Type: application/octet-stream' --data-binary "@$3"
}

# sec_archive_overlay JAR NAME TAR: archive overlay NAME of the session in
# JAR, created and filled with TAR (a file in the container) over HTTP;
# SEC_JOB is the import job's id.
sec_archive_overlay() {
        sec_api "$1" POST /api/overlays "{\"name\":\"$2\",\"type\":\"archive\",\"options\":{}}"
        expect_http 201 "$1 creates overlay $2"
        sec_upload "$1" "/api/overlays/$2/archive" "$3"
        expect_http 202 "$1 uploads an archive into $2"
        SEC_JOB=$(json 'd["job"]' <<<"$HTTP_BODY")
        sec_job_wait "$1" "$SEC_JOB"
        assert_eq succeeded "$JOB_STATE" "the import into $2 ($JOB_MSG)"
}
