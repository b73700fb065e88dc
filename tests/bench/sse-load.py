#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Many concurrent Server-Sent Events streams of one instance's log against
left4me-web, and the delivery latency of marker lines through them.

Logs in SESSIONS web sessions, opens STREAMS streams of
GET /api/instances/NAME/log?lines=0 spread over them (raw sockets, one
asyncio loop), then sends MARKERS commands "echo MARK <n> <t_send_ns>"
through POST /api/instances/NAME/command (the fake srcds prints every RCON
command to its log) one after the other, each once every stream has the
one before (or after --marker-timeout). Per stream and marker it records
receive time - send time (CLOCK_REALTIME of this one process). With
--bridge-pid it samples the bridge's VmRSS/VmHWM and CPU time from /proc
before the streams, with them all open, and at the end.

Prints one JSON object (the figures) on stdout; progress on stderr.
Used by tests/bench/bench-web.sh; runs inside the container as root.
"""
import argparse
import asyncio
import json
import os
import re
import resource
import sys
import time

MARK_RE = re.compile(rb"MARK (\d+) (\d+)")


def log(msg):
    sys.stderr.write("sse-load: %s\n" % msg)
    sys.stderr.flush()


def proc_sample(pid):
    """VmRSS, VmHWM (kB) and CPU seconds (user + system) of pid."""
    if not pid:
        return None
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0])
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    out["cpu_s"] = (int(fields[11]) + int(fields[12])) / tick
    out["fds"] = len(os.listdir("/proc/%d/fd" % pid))
    return out


async def http_request(host, port, method, path, headers, body=b"", source=None):
    """One request on a fresh connection (Connection: close) from source
    (an address, or None); returns (status, headers dict with lower-case
    names, body)."""
    r, w = await asyncio.open_connection(host, port, local_addr=(source, 0) if source else None)
    head = "%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\nContent-Length: %d\r\n" % (
        method, path, host, port, len(body))
    for k, v in headers.items():
        head += "%s: %s\r\n" % (k, v)
    w.write(head.encode() + b"\r\n" + body)
    await w.drain()
    data = await r.read()
    w.close()
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs.setdefault(k.strip().lower(), []).append(v.strip())
    if "chunked" in ",".join(hdrs.get("transfer-encoding", [])):
        body, rest2 = b"", rest
        while rest2:
            size_s, _, rest2 = rest2.partition(b"\r\n")
            size = int(size_s.split(b";")[0], 16)
            if size == 0:
                break
            body += rest2[:size]
            rest2 = rest2[size + 2:]
        rest = body
    return status, hdrs, rest


def source_of(a, i):
    """Session i's client address: 127.0.0.(2 + i) when the bridge is on
    loopback (the bridge limits logins per address; these are as many
    clients), else the default."""
    return "127.0.0.%d" % (2 + i) if a.host.startswith("127.") else None


async def login(a, i):
    status, hdrs, body = await http_request(
        a.host, a.port, "POST", "/api/login",
        {"Origin": a.origin, "Content-Type": "application/json"},
        json.dumps({"user": a.user, "password": a.password}).encode(), source_of(a, i))
    if status != 200:
        raise SystemExit("login %d: HTTP %d: %s" % (i, status, body[:200]))
    cookie = None
    for c in hdrs.get("set-cookie", []):
        if c.startswith("l4m_session="):
            cookie = c.split(";", 1)[0]
    if not cookie:
        raise SystemExit("login %d: no l4m_session cookie" % i)
    return {"cookie": cookie, "csrf": json.loads(body)["csrf"], "source": source_of(a, i)}


class Stream(asyncio.Protocol):
    """One event stream: waits for the status line, then scans what comes
    for MARK lines (a line is never split by the marker search: the
    unsearched tail of the buffer is kept)."""

    def __init__(self, opened):
        self.opened = opened
        self.status = None
        self.buf = b""
        self.got = {}          # marker n -> latency ns
        self.closed = False
        self.bytes = 0

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        now = time.time_ns()
        self.bytes += len(data)
        if self.status is None:
            self.buf += data
            if b"\r\n" not in self.buf:
                return
            line = self.buf.split(b"\r\n", 1)[0]
            parts = line.split()
            self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1
            if not self.opened.done():
                self.opened.set_result(self.status)
            data, self.buf = self.buf, b""
        buf = self.buf + data
        if b"MARK " in buf:
            for m in MARK_RE.finditer(buf):
                n = int(m.group(1))
                if n not in self.got:
                    self.got[n] = now - int(m.group(2))
            cut = buf.rfind(b"\n")
            buf = buf[cut + 1:] if cut >= 0 else buf
        self.buf = buf[-256:]

    def connection_lost(self, exc):
        self.closed = True
        if not self.opened.done():
            self.opened.set_result(-1)


async def open_stream(a, sess, loop, sem, path):
    async with sem:
        opened = loop.create_future()
        tr, proto = await loop.create_connection(lambda: Stream(opened), a.host, a.port,
                                                 local_addr=(sess["source"], 0) if sess["source"] else None)
        req = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nCookie: %s\r\nAccept: text/event-stream\r\n\r\n"
               % (path, a.host, a.port, sess["cookie"])).encode()
        tr.write(req)
        try:
            status = await asyncio.wait_for(opened, 30)
        except asyncio.TimeoutError:
            status = -2
        return proto, status


def pct(values, p):
    if not values:
        return None
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100.0 * len(values) + 0.5)) - 1))
    return values[k]


async def main(a):
    loop = asyncio.get_running_loop()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = a.streams + 1024
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(want, soft), hard), hard))
    res = {"streams_wanted": a.streams, "sessions": a.sessions, "markers": a.markers}
    res["bridge_before"] = proc_sample(a.bridge_pid)

    t0 = time.monotonic()
    sessions = []
    for i in range(a.sessions):
        sessions.append(await login(a, i))
    res["login_s"] = round(time.monotonic() - t0, 3)
    log("%d sessions logged in" % len(sessions))

    path = "/api/instances/%s/log?lines=0" % a.instance
    sem = asyncio.Semaphore(a.connect_parallel)
    t0 = time.monotonic()
    results = await asyncio.gather(*(open_stream(a, sessions[i % len(sessions)], loop, sem, path)
                                     for i in range(a.streams)), return_exceptions=True)
    res["open_s"] = round(time.monotonic() - t0, 3)
    streams, statuses = [], {}
    for r in results:
        if isinstance(r, BaseException):
            statuses[type(r).__name__] = statuses.get(type(r).__name__, 0) + 1
            continue
        proto, status = r
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        if status == 200:
            streams.append(proto)
    res["open_statuses"] = statuses
    res["streams_open"] = len(streams)
    log("%d streams open in %.1f s (statuses %s)" % (len(streams), res["open_s"], statuses))
    # Let the bridge settle (the streams' first bytes), then sample.
    await asyncio.sleep(a.settle)
    res["bridge_open"] = proc_sample(a.bridge_pid)
    res["streams_closed_before_markers"] = sum(1 for s in streams if s.closed)

    # The baseline: the same log read without the bridge (the daemon's
    # OpenLog through l4mctl), journald's and left4med's share of the latency.
    base = None
    if a.baseline:
        base = Stream(loop.create_future())
        base.status = 200
        base_proc = await asyncio.create_subprocess_exec(
            "l4mctl", "instance", "logs", a.instance, "-f", "-n", "0",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)

        async def pump():
            while True:
                b = await base_proc.stdout.read(65536)
                if not b:
                    return
                base.data_received(b)
        base_task = asyncio.ensure_future(pump())
        await asyncio.sleep(1)

    cmd_sess = sessions[0]
    cmd_path = "/api/instances/%s/command" % a.instance
    marker_rounds = []
    for n in range(1, a.markers + 1):
        t_send = time.time_ns()
        body = json.dumps({"command": "echo MARK %d %d" % (n, t_send)}).encode()
        status, _, rbody = await http_request(
            a.host, a.port, "POST", cmd_path,
            {"Origin": a.origin, "X-CSRF-Token": cmd_sess["csrf"], "Cookie": cmd_sess["cookie"],
             "Content-Type": "application/json"}, body, cmd_sess["source"])
        if status != 200:
            raise SystemExit("command %d: HTTP %d: %s" % (n, status, rbody[:200]))
        deadline = time.monotonic() + a.marker_timeout
        while time.monotonic() < deadline:
            missing = sum(1 for s in streams if n not in s.got)
            if missing == 0:
                break
            await asyncio.sleep(0.01)
        got = [s.got[n] for s in streams if n in s.got]
        if base:
            deadline = time.monotonic() + 5
            while n not in base.got and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        marker_rounds.append({"n": n, "delivered": len(got),
                              "baseline_ms": base.got[n] / 1e6 if base and n in base.got else None,
                              "p50_ms": pct(got, 50) / 1e6 if got else None,
                              "max_ms": max(got) / 1e6 if got else None})
        log("marker %d: %d/%d streams, p50 %s ms, max %s ms" % (
            n, len(got), len(streams), marker_rounds[-1]["p50_ms"], marker_rounds[-1]["max_ms"]))
        await asyncio.sleep(a.interval)
    res["bridge_after"] = proc_sample(a.bridge_pid)
    # The API with all the streams open: sequential GET /api/instances.
    api = []
    for i in range(20):
        t0 = time.monotonic_ns()
        status, _, _ = await http_request(a.host, a.port, "GET", "/api/instances",
                                          {"Cookie": cmd_sess["cookie"]}, b"", cmd_sess["source"])
        if status == 200:
            api.append(time.monotonic_ns() - t0)
    res["api_with_streams_ms"] = {"n": len(api), "p50": pct(api, 50) / 1e6 if api else None,
                                  "max": max(api) / 1e6 if api else None}
    all_lat = [v for s in streams for v in s.got.values()]
    res["deliveries"] = len(all_lat)
    res["deliveries_expected"] = len(streams) * a.markers
    res["streams_with_all_markers"] = sum(1 for s in streams if len(s.got) == a.markers)
    res["streams_closed"] = sum(1 for s in streams if s.closed)
    res["latency_ms"] = {
        "p50": pct(all_lat, 50) / 1e6 if all_lat else None,
        "p90": pct(all_lat, 90) / 1e6 if all_lat else None,
        "p99": pct(all_lat, 99) / 1e6 if all_lat else None,
        "max": max(all_lat) / 1e6 if all_lat else None,
        "min": min(all_lat) / 1e6 if all_lat else None,
    }
    res["rounds"] = marker_rounds
    if base:
        bl = list(base.got.values())
        res["baseline_ms"] = {"p50": pct(bl, 50) / 1e6 if bl else None, "max": max(bl) / 1e6 if bl else None,
                              "n": len(bl)}
        base_proc.terminate()
        await base_proc.wait()
        base_task.cancel()
    res["client_cpu_s"] = round(sum(os.times()[:2]), 2)
    for s in streams:
        s.transport.close()
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--origin", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--instance", required=True)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--streams", type=int, default=10000)
    ap.add_argument("--markers", type=int, default=10)
    ap.add_argument("--interval", type=float, default=0.5)
    ap.add_argument("--marker-timeout", type=float, default=30)
    ap.add_argument("--connect-parallel", type=int, default=256)
    ap.add_argument("--settle", type=float, default=2)
    ap.add_argument("--bridge-pid", type=int, default=0)
    ap.add_argument("--baseline", action="store_true",
                    help="also follow the log with l4mctl instance logs -f (no bridge)")
    args = ap.parse_args()
    if not (1 <= args.streams <= 100000 and 1 <= args.sessions <= 240 and 1 <= args.markers <= 1000):
        raise SystemExit("bad counts")
    asyncio.run(main(args))
