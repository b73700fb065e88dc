#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""check-introspection.py EXPECTED.xml LIVE.xml

Compares the live introspection of a D-Bus object (LIVE.xml, "-" for stdin)
with the interface description in the repository (EXPECTED.xml). For every
interface in EXPECTED.xml the live object must have the same methods (argument
names, types and directions, in order), properties (type, access and the
effective org.freedesktop.DBus.Property.EmitsChangedSignal value) and
signals (argument names and types); extra and missing members are errors.
Interfaces the live object has beyond org.freedesktop.DBus.* and those in
EXPECTED.xml are errors too. Prints every difference and exits 1 if there is
any, else prints a summary and exits 0.
"""

import sys
import xml.etree.ElementTree as ET

STANDARD_PREFIX = "org.freedesktop.DBus."
EMITS = "org.freedesktop.DBus.Property.EmitsChangedSignal"


def parse(path):
    if path == "-":
        text = sys.stdin.read()
    else:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    root = ET.fromstring(text)
    if root.tag != "node":
        raise ValueError(f"{path}: the root element is <{root.tag}>, not <node>")
    return root


def emits_changed(element, interface_default):
    for a in element.findall("annotation"):
        if a.get("name") == EMITS:
            return a.get("value")
    return interface_default


def describe_interface(iface):
    iface_emits = emits_changed(iface, "true")
    methods, props, signals = {}, {}, {}
    for m in iface.findall("method"):
        methods[m.get("name")] = [
            (a.get("name") or "", a.get("type"), a.get("direction") or "in")
            for a in m.findall("arg")
        ]
    for p in iface.findall("property"):
        props[p.get("name")] = (p.get("type"), p.get("access"), emits_changed(p, iface_emits))
    for s in iface.findall("signal"):
        signals[s.get("name")] = [(a.get("name") or "", a.get("type")) for a in s.findall("arg")]
    return {"method": methods, "property": props, "signal": signals}


def fmt_args(args):
    return "(" + ", ".join(" ".join(x for x in a if x) for a in args) + ")"


def fmt_member(kind, value):
    if kind == "property":
        t, access, emits = value
        return f"type={t} access={access} EmitsChangedSignal={emits}"
    return fmt_args(value)


def compare(expected_root, live_root):
    diffs = []
    live_ifaces = {i.get("name"): i for i in live_root.findall("interface")}
    expected_ifaces = {i.get("name"): i for i in expected_root.findall("interface")}

    for name, exp in expected_ifaces.items():
        live = live_ifaces.get(name)
        if live is None:
            diffs.append(f"- interface {name}: missing from the live object")
            continue
        e, l = describe_interface(exp), describe_interface(live)
        for kind in ("method", "property", "signal"):
            for member in sorted(set(e[kind]) | set(l[kind])):
                if member not in l[kind]:
                    diffs.append(f"- {name}: {kind} {member} {fmt_member(kind, e[kind][member])}: missing from the live object")
                elif member not in e[kind]:
                    diffs.append(f"+ {name}: {kind} {member} {fmt_member(kind, l[kind][member])}: not in the XML")
                elif e[kind][member] != l[kind][member]:
                    diffs.append(f"! {name}: {kind} {member}:\n"
                                 f"    XML:  {fmt_member(kind, e[kind][member])}\n"
                                 f"    live: {fmt_member(kind, l[kind][member])}")

    for name in sorted(live_ifaces):
        if name not in expected_ifaces and not name.startswith(STANDARD_PREFIX):
            diffs.append(f"+ interface {name}: on the live object but not in the XML")
    return diffs, expected_ifaces


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        expected, live = parse(argv[1]), parse(argv[2])
    except (OSError, ET.ParseError, ValueError) as e:
        print(f"check-introspection: {e}", file=sys.stderr)
        return 1
    diffs, ifaces = compare(expected, live)
    if diffs:
        print(f"introspection differs from {argv[1]} ('-' missing live, '+' extra live, '!' changed):")
        for d in diffs:
            print("  " + d)
        return 1
    counts = []
    for name, iface in ifaces.items():
        d = describe_interface(iface)
        counts.append(f"{name}: {len(d['method'])} methods, {len(d['property'])} properties, "
                      f"{len(d['signal'])} signals")
    print("introspection matches: " + "; ".join(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
