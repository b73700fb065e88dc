# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Sourced by tests/bench/run: bench_console measures the console path, the
# time from an RCON "echo" to its line at an 'l4mctl instance logs -f'
# client, one subscriber: BC_MARKERS (default 60) lines "echo BCMARK <k>"
# sent one after another with Instance.SendCommand (what 'l4mctl instance
# rcon' calls) from one bus connection, each after the last one arrived;
# the clock starts just before the call (made from a thread, so that the
# RCON reply's own round trip is not waited for) and stops when the
# follower's line with the marker is read (one clock, in the container). The same again
# through 'l4mctl instance rcon', a process each, for comparison. Prints
# every figure, p50, p99 and max, and the row of the speed table. Runs on the fake installation of the instance
# benchmark (tests/fixtures/fake-srcds.py as srcds_run), with an instance
# of its own (bc-one). Prints figures only; no thresholds.

BC_MARKERS=${BC_MARKERS:-60}

# bc_setup: the fake installation (if none yet), an overlay, a blueprint and
# the running instance bc-one.
bc_setup() {
        bench_fake_installation /var/tmp/bc
        bench_layer_blueprint /var/tmp/bc bc
        in_container python3 - <<'PY'
import dbus, time
bus = dbus.SystemBus()
M = "org.left4me.Manager"
mgr = bus.get_object(M, "/org/left4me/Manager", introspect=False)
def prop(path, iface, name):
    return bus.get_object(M, path, introspect=False).Get(iface, name, dbus_interface="org.freedesktop.DBus.Properties")
i = mgr.CreateInstance("bc-one", "bc-bp", dbus.Dictionary({"port": dbus.UInt16(27095)}, signature="sv"),
                       dbus_interface=M)
bus.get_object(M, i, introspect=False).Start(dbus_interface="org.left4me.Instance")
for _ in range(300):
    if str(prop(i, "org.left4me.Instance", "State")) == "running":
        break
    time.sleep(0.1)
else:
    raise SystemExit("bc-one did not start")
PY
}

bench_console() {
        local out p50 p99 max
        echo
        echo "--- the console path: RCON echo to its line at 'l4mctl instance logs -f', one subscriber, $BC_MARKERS lines"
        bc_setup
        out=$(in_container python3 - "$BC_MARKERS" <<'PY'
import select, subprocess, sys, threading, time
n = int(sys.argv[1])
f = subprocess.Popen(["l4mctl", "instance", "logs", "bc-one", "-f", "-n", "0"], stdout=subprocess.PIPE, bufsize=0)
buf = b""
def wait_for(mark, timeout=10.0):
    global buf
    end = time.monotonic() + timeout
    while True:
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.endswith(mark):
                return time.monotonic_ns()
        left = end - time.monotonic()
        if left <= 0 or not select.select([f.stdout], [], [], left)[0]:
            raise SystemExit("no line %r within %.0f s" % (mark, timeout))
        chunk = f.stdout.read(65536)
        if not chunk:
            raise SystemExit("the follower ended")
        buf += chunk
import dbus
bus = dbus.SystemBus()
M = "org.left4me.Manager"
inst = bus.get_object(M, bus.get_object(M, "/org/left4me/Manager", introspect=False)
                      .GetInstance("bc-one", dbus_interface=M), introspect=False)
def send(k):
    inst.SendCommand("echo BCMARK %s" % k, dbus_interface="org.left4me.Instance")
def send_l4mctl(k):
    subprocess.run(["l4mctl", "instance", "rcon", "bc-one", "echo BCMARK %s" % k], check=True,
                   stdout=subprocess.DEVNULL)
# Untimed: the stream is open and live once the first marker is through.
for _ in range(3):
    try:
        send("warm")
        wait_for(b"rcon: echo BCMARK warm", 5.0)
        break
    except SystemExit:
        continue
# The call is made from a thread: the clock stops at the line, whether or
# not the RCON reply (a round trip of its own) came back by then.
def run(how, first):
    lat = []
    for k in range(first, first + n):
        t = threading.Thread(target=how, args=(k,))
        t0 = time.monotonic_ns()
        t.start()
        t1 = wait_for(b"rcon: echo BCMARK %d" % k)
        t.join()
        lat.append((t1 - t0) / 1e6)
    return lat
def pct(s, p):
    return s[min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))]
def summary(lat):
    s = sorted(lat)
    return "%.1f %.1f %.1f" % (pct(s, 50), pct(s, 99), s[-1])
bus_lat = run(send, 0)
ctl_lat = run(send_l4mctl, n)
f.kill()
print("ms: " + " ".join("%.1f" % v for v in bus_lat))
print("l4mctl " + summary(ctl_lat))
print(summary(bus_lat))
PY
        ) || ctr_die "the console benchmark failed: $out"
        echo "$out" | head -n 1
        read -r _ p50 p99 max <<<"$(sed -n 2p <<<"$out")"
        echo "through 'l4mctl instance rcon' (a process each, its start-up and polkit check included): p50 $p50 ms, p99 $p99 ms, max $max ms"
        read -r p50 p99 max <<<"$(tail -n 1 <<<"$out")"
        echo "through SendCommand on one bus connection: p50 $p50 ms, p99 $p99 ms, max $max ms"
        goal_row "RCON \`echo\` → line at an \`l4mctl instance logs -f\` client, one subscriber, p50 / p99" \
                "$p50 / $p99 ms" "< 5 ms / < 20 ms"
        in_container l4mctl instance stop bc-one >/dev/null || true
}
