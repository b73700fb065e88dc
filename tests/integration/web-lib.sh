# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Helpers for the tests of left4me-web (test-27-web-api.sh and later ones),
# sourced after lib.sh. HTTP requests are made with curl inside the
# container (its network is private), each test with its own cookie jar:
#
#   web_up                       left4me-web.socket started, the bridge answers
#   web_user NAME PASS [ROLE]    a web account (root's CreateUser), made anew
#   web_login USER PASS          logs in; sets WEB_CSRF (and the jar's cookie)
#   web_call METHOD PATH [BODY]  a same-origin request with the session's
#                                cookie and CSRF token; sets WEB_STATUS,
#                                WEB_BODY, WEB_HEADERS
#   web_req [CURL-ARG...] URL-PATH   a bare request (no cookie, no token,
#                                no Origin unless given); same variables
#   web_expect STATUS [ERROR-NAME] WHAT   asserts the last answer
#
# WEB_ORIGIN is the origin the bridge is reached under by default.

WEB_PORT=${WEB_PORT:-8480}
WEB_ORIGIN=http://127.0.0.1:$WEB_PORT
WEB_CSRF=

# web_files: this test's directory for jars and answers (in the container).
web_files() {
        if [[ -z ${TF_DIR:-} ]]; then
                test_files_setup
        fi
        WEB_DIR=$TF_DIR/web
        WEB_HOST_DIR=$TF_HOST/web
        mkdir -p "$WEB_HOST_DIR"
        chmod 0755 "$TF_HOST" "$WEB_HOST_DIR"
}

web_up() {
        web_files
        capture in_container systemctl start left4me-web.socket
        expect_ok "start left4me-web.socket"
        wait_until 20 in_container curl -sS -o /dev/null "$WEB_ORIGIN/" ||
                fail "left4me-web does not answer on $WEB_ORIGIN"
}

# web_user NAME PASSWORD [ROLE]: deletes NAME if it exists, creates it.
web_user() {
        gcall root "$L4M_MANAGER" org.left4me.Manager.DeleteUser "$(gv_str "$1")"
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateUser "$(gv_str "$1")" "$(gv_str "$2")" \
                "$(gv_str "${3:-user}")"
        expect_ok "CreateUser $1"
}

# _web_curl CURL-ARG...: runs curl in the container; the status goes to
# WEB_STATUS, the body to WEB_BODY, the response headers to WEB_HEADERS.
_web_curl() {
        local out=$WEB_DIR/body hdr=$WEB_DIR/headers
        rm -f "$WEB_HOST_DIR/body" "$WEB_HOST_DIR/headers"
        capture in_container curl -sS --max-time 30 -o "$out" -D "$hdr" -w '%{http_code}' "$@"
        WEB_STATUS=$OUT
        WEB_BODY=$(cat "$WEB_HOST_DIR/body" 2>/dev/null || true)
        WEB_HEADERS=$(tr -d '\r' <"$WEB_HOST_DIR/headers" 2>/dev/null || true)
        printf '  -> HTTP %s %s\n' "$WEB_STATUS" "$(head -c 300 <<<"$WEB_BODY")" >&2
}

web_req() {
        local args=("$@") path=${args[-1]}
        unset 'args[-1]'
        _web_curl "${args[@]}" "$WEB_ORIGIN$path"
}

web_login() {
        local body
        body=$(python3 -c 'import json,sys; print(json.dumps({"user": sys.argv[1], "password": sys.argv[2]}))' "$1" "$2")
        rm -f "$WEB_HOST_DIR/jar"
        _web_curl -c "$WEB_DIR/jar" -b "$WEB_DIR/jar" -H "Origin: $WEB_ORIGIN" \
                -H 'Content-Type: application/json' --data-binary "$body" "$WEB_ORIGIN/api/login"
        WEB_CSRF=
        if [[ $WEB_STATUS == 200 ]]; then
                WEB_CSRF=$(json 'd["csrf"]' <<<"$WEB_BODY")
        fi
}

web_call() {
        local method=$1 path=$2 args=()
        if (($# >= 3)); then
                args=(-H 'Content-Type: application/json' --data-binary "$3")
        fi
        _web_curl -b "$WEB_DIR/jar" -X "$method" -H "Origin: $WEB_ORIGIN" -H "X-CSRF-Token: $WEB_CSRF" \
                "${args[@]}" "$WEB_ORIGIN$path"
}

# web_error: the "error" member of the last answer's body.
web_error() {
        json 'd.get("error", "")' <<<"$WEB_BODY" 2>/dev/null || true
}

web_expect() {
        local status=$1 name=${2:-} what=${*:3}
        if (($# == 2)); then
                what=$2
                name=
        fi
        [[ $WEB_STATUS == "$status" ]] || fail "$what: expected HTTP $status, got $WEB_STATUS: $WEB_BODY"
        if [[ -n $name ]]; then
                [[ $(web_error) == "$name" ]] || fail "$what: expected error $name, got: $WEB_BODY"
        fi
}

# web_header NAME: the (first) value of a response header of the last answer.
web_header() {
        awk -v n="$(tr '[:upper:]' '[:lower:]' <<<"$1")" -F': ' \
                'tolower($1) == n { sub(/^[^:]*: /, ""); print; exit }' <<<"$WEB_HEADERS"
}
