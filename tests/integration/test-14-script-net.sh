# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The script sandbox's network: it reaches "the public internet" of the
# test network (a network namespace: 198.51.100.1, 2001:db8::1) by name
# through the resolv.conf left4me binds over /etc/resolv.conf, and nothing
# else: not loopback, not 0.0.0.0 or ::, not the host's own addresses
# (198.51.100.2, 2001:db8::2), not RFC 1918, link-local, CGNAT or ULA
# addresses, not IPv4-mapped loopback, and no AF_UNIX socket at all. Each
# refused target is shown to answer the same probe from outside the
# sandbox.

test_script_net_public() {
        local want_sha own_sha name res
        sc_setup
        printf 'hello from the test network\n' | www_put hello.txt
        want_sha=$(in_container sha256sum "$L4M_NET_RESOLV" | cut -d' ' -f1)
        own_sha=$(in_container sh -c 'sha256sum < /etc/resolv.conf 2>/dev/null | cut -d" " -f1' || true)
        [[ $want_sha != "$own_sha" ]] || fail "the container's own /etc/resolv.conf equals the configured one: the test would prove nothing"
        www_log_mark
        sc_run sc-net-public 90 <<'SH'
name=probe-$JOB_ID.example.test
echo "resolv $(sha256sum < /etc/resolv.conf | cut -d' ' -f1)"
echo "resolv-text $(paste -sd '|' /etc/resolv.conf)"
echo "lookup4 $(getent ahostsv4 "$name" | awk 'NR == 1 { print $1 }')"
echo "lookup6 $(getent ahostsv6 "$name" | awk 'NR == 1 { print $1 }')"
echo "fetch4 $(curl -sS -4 -m 10 "http://$name/hello.txt" 2>&1)"
echo "fetch6 $(curl -sS -6 -m 10 "http://$name/hello.txt" 2>&1)"
echo "whoami $(curl -sS -m 10 http://198.51.100.1/whoami 2>&1)"
echo "outside $(getent ahostsv4 "outside-$JOB_ID.example.com" || echo none)"
SH
        expect_job succeeded "the script using the test network"
        name=probe-$(job_id_of "$JOB").$L4M_NET_DOMAIN
        res=$SC_LOG
        grep -qxF "resolv $want_sha" <<<"$res" ||
                fail "/etc/resolv.conf in the sandbox is not the configured file ($L4M_NET_RESOLV): $(grep '^resolv' <<<"$res" | paste -sd ' ')"
        grep -qxF "lookup4 $L4M_NET_PUB4" <<<"$res" || fail "$name did not resolve to $L4M_NET_PUB4: $(grep '^lookup4' <<<"$res")"
        grep -qxF "lookup6 $L4M_NET_PUB6" <<<"$res" || fail "$name did not resolve to $L4M_NET_PUB6: $(grep '^lookup6' <<<"$res")"
        grep -qxF "fetch4 hello from the test network" <<<"$res" || fail "HTTP over IPv4 by name failed: $(grep '^fetch4' <<<"$res")"
        grep -qxF "fetch6 hello from the test network" <<<"$res" || fail "HTTP over IPv6 by name failed: $(grep '^fetch6' <<<"$res")"
        grep -qxF "whoami l4m-net $L4M_NET_PUB4 $L4M_NET_HOST4" <<<"$res" ||
                fail "HTTP to $L4M_NET_PUB4 failed or did not come from $L4M_NET_HOST4: $(grep '^whoami' <<<"$res")"
        (($(dns_queries_for "$name") >= 1)) || fail "the fake DNS server was never asked for $name"
        grep -qxF "outside none" <<<"$res" || fail "a name outside $L4M_NET_DOMAIN resolved: $(grep '^outside' <<<"$res")"
        grep -qF " outside-$(job_id_of "$JOB").example.com NXDOMAIN" "$CTR_DIR/root$L4M_NET_DNS_LOG" ||
                fail "the fake DNS server did not answer NXDOMAIN for a name outside $L4M_NET_DOMAIN"
        # The public web server is another host: the requests came from the
        # container's addresses on the link to it.
        [[ -n $(www_requests "^$L4M_NET_HOST4 GET /hello.txt 200 ") ]] ||
                fail "the web server saw no GET /hello.txt over IPv4 from $L4M_NET_HOST4: $(www_requests)"
        [[ -n $(www_requests "^$L4M_NET_HOST6 GET /hello.txt 200 ") ]] ||
                fail "the web server saw no GET /hello.txt over IPv6 from $L4M_NET_HOST6: $(www_requests)"
        note "$(dns_queries_for "$name") DNS queries for $name; /etc/resolv.conf inside: $(grep '^resolv-text' <<<"$res" | cut -d' ' -f2-)"
}
l4m_test script-net-public test_script_net_public

test_script_net_denied() {
        local targets ctl res labels l r blocked=0 reasons
        sc_setup
        targets=$(net_targets)
        # The control: every target answers from outside the sandbox.
        capture in_container "$L4M_PY" -c "$(net_probe_py)" "$targets" 5
        expect_ok "the probe as root in the container"
        ctl=$(sc_result PROBE-RESULT "$OUT")
        local -A C=() R=()
        json_into C "$ctl"
        labels=$(json "' '.join(t[0] for t in d)" <<<"$targets")
        for l in $labels; do
                r=${C[$l]-missing}
                [[ $r == ok ]] || fail "control: $l does not answer outside the sandbox ($r): the test network is broken"
        done

        # The same probes from a script.
        sc_run sc-net-denied 90 < <(sc_python_script "$(net_probe_py)" "$targets" 3)
        expect_job succeeded "the probing script"
        res=$(sc_result PROBE-RESULT)
        step "from the sandbox: $res"
        json_into R "$res"
        reasons=
        for l in $labels; do
                r=${R[$l]-missing}
                case $l in
                public-*)
                        [[ $r == ok ]] || fail "$l is not reachable from the sandbox: $r" ;;
                unix-*)
                        # No AF_UNIX socket at all (abstract ones would
                        # reach the host's, whatever the file system shows).
                        [[ $r == "fail: socket: "* ]] || fail "the sandbox could make an AF_UNIX socket ($l: $r)"
                        blocked=$((blocked + 1))
                        reasons+="${r#fail: }"$'\n' ;;
                *)
                        [[ $r == fail:* ]] || fail "the sandbox reached $l ($r)"
                        blocked=$((blocked + 1))
                        reasons+="${r#fail: }"$'\n' ;;
                esac
        done
        note "$blocked targets refused from the sandbox ($(sort <<<"${reasons%$'\n'}" | uniq -c | awk '{ c = $1; $1 = ""; printf "%s%s: %d", sep, substr($0, 2), c; sep = ", " }')); each answered from outside"
}
l4m_test script-net-denied test_script_net_denied

# Without [Script] ResolvConf=, the sandbox gets the resolv.conf left4me
# ships (public resolvers).
test_script_resolv_default() {
        local shipped want
        sc_setup
        shipped=$(in_container sh -c 'ls /usr/share/left4me/resolv.conf /usr/local/share/left4me/resolv.conf 2>/dev/null | head -n 1')
        [[ -n $shipped ]] || fail "left4me ships no resolv.conf (looked in /usr/share/left4me and /usr/local/share/left4me)"
        want=$(in_container sha256sum "$shipped" | cut -d' ' -f1)
        l4m_conf_remove 40-script-net
        sc_run sc-resolv-default 60 <<'SH'
echo "resolv $(sha256sum < /etc/resolv.conf | cut -d' ' -f1)"
grep '^nameserver' /etc/resolv.conf | sed 's/^/resolv-line /'
SH
        script_net_setup
        expect_job succeeded "the script reading /etc/resolv.conf"
        grep -qxF "resolv $want" <<<"$SC_LOG" || fail "/etc/resolv.conf in the sandbox is not $shipped: $(grep '^resolv' <<<"$SC_LOG" | paste -sd '|')"
        note "default resolv.conf ($shipped): $(grep '^resolv-line' <<<"$SC_LOG" | cut -d' ' -f2- | paste -sd ';')"
}
l4m_test script-resolv-default test_script_resolv_default
