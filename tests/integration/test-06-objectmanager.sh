# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# org.freedesktop.DBus.ObjectManager on /org/left4me/Manager.

test_managed_objects() {
        local listed managed
        daemon_up
        ensure_overlay root maps1 workshop >/dev/null
        ensure_overlay alice om-alice script >/dev/null

        capture in_container busctl --json=short --timeout="$L4M_CALL_TIMEOUT" call "$L4M_BUS" "$L4M_MANAGER" \
                org.left4me.Manager ListOverlays
        expect_ok ListOverlays
        listed=$OUT
        capture in_container busctl --json=short --timeout="$L4M_CALL_TIMEOUT" call "$L4M_BUS" "$L4M_MANAGER" \
                org.freedesktop.DBus.ObjectManager GetManagedObjects
        expect_ok GetManagedObjects
        managed=$OUT

        python3 - "$listed" "$managed" <<'PY' || fail "GetManagedObjects does not match ListOverlays (see above)"
import json, sys
listed = json.loads(sys.argv[1])["data"][0]
managed = json.loads(sys.argv[2])["data"][0]
bad = 0
overlay_objects = {p: ifs for p, ifs in managed.items() if "org.left4me.Overlay" in ifs}
for path, name, type_, owner, state, created in listed:
    ifs = managed.get(path)
    if ifs is None or "org.left4me.Overlay" not in ifs:
        print(f"{path} ({name}) is listed but not a managed object with org.left4me.Overlay"); bad = 1; continue
    props = {k: v["data"] for k, v in ifs["org.left4me.Overlay"].items()}
    want = {"Name": name, "Type": type_, "Owner": owner, "State": state, "Created": created}
    for k, v in want.items():
        if k not in props:
            print(f"{path}: property {k} missing from GetManagedObjects"); bad = 1
        elif props[k] != v:
            print(f"{path}: {k} is {props[k]!r} in GetManagedObjects, {v!r} in ListOverlays"); bad = 1
extra = set(overlay_objects) - {o[0] for o in listed}
for p in sorted(extra):
    print(f"{p} is a managed object but not listed by ListOverlays"); bad = 1
print(f"{len(listed)} overlays listed, {len(overlay_objects)} managed overlay objects")
sys.exit(bad)
PY
}
l4m_test managed-objects test_managed_objects

test_interfaces_added_removed() {
        local mon=$L4M_WORK/monitor.json monpid path deadline
        daemon_up
        in_container timeout 30 busctl monitor --json=short "$L4M_BUS" >"$mon" 2>"$L4M_WORK/monitor.err" &
        monpid=$!
        # The monitor is ready once it shows a call we make.
        deadline=$((SECONDS + 15))
        until grep -q '"member":"Ping"' "$mon" 2>/dev/null; do
                ((SECONDS < deadline)) || fail "busctl monitor did not start: $(cat "$L4M_WORK/monitor.err")"
                in_container busctl call "$L4M_BUS" "$L4M_MANAGER" org.freedesktop.DBus.Peer Ping >/dev/null
                sleep 0.2
        done

        path=$(create_overlay root om-signal workshop)
        wait_until 5 grep -q '"member":"InterfacesAdded"' "$mon" || true
        delete_overlay root "$path"
        wait_until 5 grep -q '"member":"InterfacesRemoved"' "$mon" || true
        kill "$monpid" 2>/dev/null || true
        wait "$monpid" 2>/dev/null || true

        python3 - "$mon" "$path" <<'PY' || fail "the ObjectManager signals are wrong or missing (see above)"
import json, sys
mon, path = sys.argv[1], sys.argv[2]
added = removed = None
for line in open(mon, encoding="utf-8"):
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("type") != "signal" or m.get("interface") != "org.freedesktop.DBus.ObjectManager":
        continue
    data = m.get("payload", {}).get("data", [])
    if m.get("member") == "InterfacesAdded" and data and data[0] == path:
        added = (m, data)
    if m.get("member") == "InterfacesRemoved" and data and data[0] == path:
        removed = (m, data)
bad = 0
if not added:
    print(f"no InterfacesAdded for {path}"); bad = 1
else:
    m, data = added
    if m.get("path") != "/org/left4me/Manager":
        print(f"InterfacesAdded was sent from {m.get('path')}, not /org/left4me/Manager"); bad = 1
    ov = data[1].get("org.left4me.Overlay")
    if ov is None:
        print(f"InterfacesAdded for {path} lacks org.left4me.Overlay: {list(data[1])}"); bad = 1
    else:
        props = {k: v["data"] for k, v in ov.items()}
        for k, v in {"Name": "om-signal", "Type": "workshop", "Owner": "root"}.items():
            if props.get(k) != v:
                print(f"InterfacesAdded: {k} is {props.get(k)!r}, expected {v!r}"); bad = 1
        for k in ("State", "Created"):
            if k not in props:
                print(f"InterfacesAdded: property {k} missing"); bad = 1
if not removed:
    print(f"no InterfacesRemoved for {path}"); bad = 1
elif "org.left4me.Overlay" not in removed[1][1]:
    print(f"InterfacesRemoved for {path} does not name org.left4me.Overlay: {removed[1][1]}"); bad = 1
sys.exit(bad)
PY
}
l4m_test interfaces-added-removed test_interfaces_added_removed
