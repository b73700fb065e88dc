#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""One bus connection acting as a web session, for the integration tests.

    web-session.py [--login USER PASSWORD] < CALLS

Connects to the system bus (one connection for everything that follows),
calls org.left4me.Manager.Login(USER, PASSWORD) if asked, then runs the calls
read from stdin, one JSON object a line:

    {"method": "ListOverlays"}                     (on the Manager)
    {"path": P, "iface": I, "method": M, "sig": "(ss)", "args": [...]}
    {"wait_file": F, "timeout": S}                 waits until file F exists
    {"wait_signal": NAME, "timeout": S}            waits for signal NAME of the
                                                   Manager (received since the
                                                   connection was made)

and prints one JSON line for the login and for each call, in order:
    {"call": M, "ok": RESULT, "ms": MILLISECONDS}
    {"call": M, "error": D-BUS-ERROR-NAME, "message": TEXT, "ms": ...}
    {"signal": NAME, "args": ARGS} or {"signal": NAME, "timeout": true}
Exit status 0 unless the program itself failed.
"""
import json
import os
import sys
import time

from gi.repository import Gio, GLib

BUS = "org.left4me.Manager"
MGR = "/org/left4me/Manager"
MANAGER_IF = "org.left4me.Manager"


def emit(obj):
    print(json.dumps(obj, sort_keys=True), flush=True)


def call(conn, spec):
    method = spec["method"]
    path = spec.get("path", MGR)
    iface = spec.get("iface", MANAGER_IF)
    sig = spec.get("sig")
    args = GLib.Variant(sig, tuple(spec.get("args", []))) if sig else None
    start = time.monotonic()
    try:
        res = conn.call_sync(BUS, path, iface, method, args, None, Gio.DBusCallFlags.NONE,
                             int(spec.get("timeout", 60) * 1000), None)
        out = {"call": method, "ok": res.unpack() if res is not None else None}
    except GLib.Error as e:
        name = Gio.DBusError.get_remote_error(e)
        message = e.message
        if name and message.startswith("GDBus.Error:%s: " % name):
            message = message[len("GDBus.Error:%s: " % name):]
        out = {"call": method, "error": name or "local", "message": message}
    out["ms"] = round((time.monotonic() - start) * 1000, 1)
    return out


def wait_signal(received, name, timeout):
    """Runs the main context until signal name is in received (or timeout);
    returns it and drops it from the list, or None."""
    context = GLib.MainContext.default()
    deadline = time.monotonic() + timeout
    while True:
        for k, (got, args) in enumerate(received):
            if got == name:
                del received[k]
                return args
        if time.monotonic() >= deadline:
            return None
        if not context.iteration(False):
            time.sleep(0.02)


def main(argv):
    login = None
    if len(argv) >= 4 and argv[1] == "--login":
        login = (argv[2], argv[3])
    elif len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2

    address = Gio.dbus_address_get_for_bus_sync(Gio.BusType.SYSTEM, None)
    conn = Gio.DBusConnection.new_for_address_sync(
        address,
        Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
        None, None)
    emit({"unique_name": conn.get_unique_name()})

    # Subscribed before anything else: signals sent after the calls below
    # reach this connection (the bus handles AddMatch first).
    received = []
    conn.signal_subscribe(None, MANAGER_IF, None, MGR, None, Gio.DBusSignalFlags.NONE,
                          lambda c, sender, path, iface, member, params, *_:
                          received.append((member, params.unpack())))

    if login:
        emit(call(conn, {"method": "Login", "sig": "(ss)", "args": list(login)}))

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        spec = json.loads(line)
        if "wait_file" in spec:
            deadline = time.monotonic() + spec.get("timeout", 60)
            while not os.path.exists(spec["wait_file"]) and time.monotonic() < deadline:
                time.sleep(0.05)
            emit({"waited": spec["wait_file"], "found": os.path.exists(spec["wait_file"])})
            continue
        if "wait_signal" in spec:
            args = wait_signal(received, spec["wait_signal"], spec.get("timeout", 60))
            if args is None:
                emit({"signal": spec["wait_signal"], "timeout": True})
            else:
                emit({"signal": spec["wait_signal"], "args": args})
            continue
        emit(call(conn, spec))
    conn.close_sync(None)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
