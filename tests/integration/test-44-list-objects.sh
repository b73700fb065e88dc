# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Manager.ListObjects, a list with its properties in one call, against the
# per-object view it replaces (the List* method, then Properties.GetAll of
# each object): for root, a web admin and a web user (each on a connection
# of its own, logged in as the account), for overlays, blueprints,
# instances and schedules, the same objects in the same order with the same
# properties, types and values, others' objects absent for the user. Then
# the bridge's lists (GET /api/overlays, blueprints, instances, schedules)
# against its per-object answers (GET /api/KIND/NAME) and the bus view.
# Then the bound: 150 blueprints of 60 kB server.cfg each make a list over
# 8 MiB, which ListObjects refuses (Busy) for a caller who sees them and
# answers for one who does not; the bridge then lists them the old way,
# still equal to the per-object answers.

# shellcheck source=web-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/web-lib.sh"

test_list_objects() {
        web_up
        web_user lo-admin 'list objects admin pw' admin
        web_user lo-user 'list objects user pw' user
        cat >"$WEB_HOST_DIR/list-objects.py" <<'PY'
import dbus, dbus.bus, http.client, json, sys

port, big = int(sys.argv[1]), int(sys.argv[2])
PASSWORDS = {"lo-admin": "list objects admin pw", "lo-user": "list objects user pw"}
M, MP, P = "org.left4me.Manager", "/org/left4me/Manager", "org.freedesktop.DBus.Properties"
KINDS = {  # interface: (List* method, path under /api/)
    "org.left4me.Overlay": ("ListOverlays", "overlays"),
    "org.left4me.Blueprint": ("ListBlueprints", "blueprints"),
    "org.left4me.Instance": ("ListInstances", "instances"),
    "org.left4me.Schedule": ("ListSchedules", "schedules"),
}
SUFFIXES = {"org.left4me.Overlay": "-ov", "org.left4me.Blueprint": "-bp", "org.left4me.Instance": "-in",
            "org.left4me.Schedule": "-sc"}
E = dbus.Dictionary({}, signature="sv")


def manager(b):
    return b.get_object(M, MP, introspect=False)


def conn(user=None):
    b = dbus.bus.BusConnection(dbus.bus.BUS_SYSTEM)
    if user:
        manager(b).Login(user, PASSWORDS[user], dbus_interface=M)
    return b


def plain(v):
    """A value with its D-Bus type kept (dbus-python's class per type)."""
    if isinstance(v, dbus.Dictionary):
        return ("dict", v.signature, [(str(k), plain(x)) for k, x in v.items()])
    if isinstance(v, dbus.Array):
        return ("array", v.signature, [plain(x) for x in v])
    if isinstance(v, dbus.Struct):
        return ("struct", [plain(x) for x in v])
    return (type(v).__name__, v)


def old_view(b, iface):
    rows = getattr(manager(b), KINDS[iface][0])(dbus_interface=M)
    return [(str(r[0]), plain(b.get_object(M, r[0], introspect=False).GetAll(iface, dbus_interface=P)))
            for r in rows]


def new_view(b, iface):
    return [(str(p), plain(props)) for p, props in manager(b).ListObjects(iface, dbus_interface=M)]


def names_of(view):
    return [dict(props[2])["Name"][1] for _, props in view]


def make(b, prefix):
    mgr = manager(b)
    mgr.CreateOverlay(prefix + "-ov", "workshop", E, dbus_interface=M)
    mgr.CreateBlueprint(prefix + "-bp", [prefix + "-ov"],
                        dbus.Dictionary({"server_cfg": "hostname " + prefix}, signature="sv"), dbus_interface=M)
    mgr.CreateInstance(prefix + "-in", prefix + "-bp", E, dbus_interface=M)
    mgr.CreateSchedule(prefix + "-sc", "2099-01-01", "start", prefix + "-in", E, dbus_interface=M)


def remove(b, prefix):
    mgr = manager(b)
    for getter, iface, name in (("GetSchedule", "Schedule", "-sc"), ("GetInstance", "Instance", "-in"),
                                ("GetBlueprint", "Blueprint", "-bp"), ("GetOverlay", "Overlay", "-ov")):
        try:
            p = getattr(mgr, getter)(prefix + name, dbus_interface=M)
            b.get_object(M, p, introspect=False).Delete(dbus_interface="org.left4me." + iface)
        except dbus.DBusException:
            pass


class Web:
    def __init__(self, user):
        body = json.dumps({"user": user, "password": PASSWORDS[user]})
        st, _, headers = self.request("POST", "/api/login", body, {"Content-Type": "application/json"})
        assert st == 200, "login of %s: HTTP %d" % (user, st)
        self.cookie = [v.split(";")[0] for k, v in headers if k.lower() == "set-cookie"][0]

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        h = {"Origin": "http://127.0.0.1:%d" % port}
        if getattr(self, "cookie", None):
            h["Cookie"] = self.cookie
        h.update(headers or {})
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data, r.getheaders()

    def get(self, path):
        st, data, _ = self.request("GET", path)
        if st != 200:
            raise SystemExit("GET %s: HTTP %d %s" % (path, st, data[:300]))
        return json.loads(data)


def compare_bus(who, b, ifaces=KINDS):
    """The one-call view equals the per-object view; returns it by interface."""
    views = {}
    for iface in ifaces:
        old, new = old_view(b, iface), new_view(b, iface)
        if old != new:
            raise SystemExit("%s, %s: ListObjects differs from List* + GetAll:\n%r\n%r" % (who, iface, new, old))
        views[iface] = old
    return views


def compare_web(user, b, ifaces=KINDS):
    web = Web(user)
    for iface in ifaces:
        kind = KINDS[iface][1]
        lst = web.get("/api/" + kind)
        per = [web.get("/api/%s/%s" % (kind, o["Name"])) for o in lst]
        if lst != per:
            raise SystemExit("%s: GET /api/%s differs from the objects' own answers" % (user, kind))
        bus = names_of(old_view(b, iface))
        if [o["Name"] for o in lst] != bus:
            raise SystemExit("%s: GET /api/%s lists %r, the bus %r" % (user, kind, [o["Name"] for o in lst], bus))
        print("web %s /api/%s: %d objects, equal to their own answers and to the bus" % (user, kind, len(lst)))


root = conn()
admin, user = conn("lo-admin"), conn("lo-user")
remove(root, "lo-root")
remove(user, "lo-user")
try:
    make(root, "lo-root")
    make(user, "lo-user")
    for who, b in (("root", root), ("lo-admin", admin), ("lo-user", user)):
        views = compare_bus(who, b)
        for iface, view in views.items():
            names = names_of(view)
            owners = {dict(props[2])["Owner"][1] for _, props in view}
            suffix = SUFFIXES[iface]
            mine, roots = "lo-user" + suffix, "lo-root" + suffix
            if mine not in names:
                raise SystemExit("%s does not see %s in %s" % (who, mine, iface))
            if who == "lo-user" and (roots in names or owners != {"web:lo-user"}):
                raise SystemExit("lo-user sees others' %s objects: %r (owners %r)" % (iface, names, owners))
            if who != "lo-user" and roots not in names:
                raise SystemExit("%s does not see %s" % (who, roots))
            print("bus %s %s: %d objects, equal" % (who, iface, len(view)))
    for u, b in (("lo-admin", admin), ("lo-user", user)):
        compare_web(u, b)

    # The bound: blueprints whose list passes 8 MiB.
    cfg = ("// " + "x" * 96 + "\n") * 600
    for i in range(big):
        manager(root).CreateBlueprint("lo-big-%03d" % i, ["lo-root-ov"],
                                      dbus.Dictionary({"server_cfg": cfg}, signature="sv"), dbus_interface=M)
    try:
        manager(root).ListObjects("org.left4me.Blueprint", dbus_interface=M)
        raise SystemExit("ListObjects answered a list of %d blueprints of %d bytes each" % (big, len(cfg)))
    except dbus.DBusException as e:
        if e.get_dbus_name() != "org.left4me.Error.Busy":
            raise
        print("bus root ListObjects of %d blueprints of %d bytes: %s" % (big, len(cfg), e.get_dbus_message()))
    compare_bus("lo-user", user, ["org.left4me.Blueprint"])
    print("bus lo-user Blueprint (the big ones unseen): equal")
    compare_web("lo-admin", admin, ["org.left4me.Blueprint"])
    compare_web("lo-user", user, ["org.left4me.Blueprint"])
    try:
        manager(root).ListObjects("org.left4me.Job", dbus_interface=M)
        raise SystemExit("ListObjects answered for jobs")
    except dbus.DBusException as e:
        if e.get_dbus_name() != "org.left4me.Error.InvalidArgument":
            raise
finally:
    for i in range(big):
        try:
            p = manager(root).GetBlueprint("lo-big-%03d" % i, dbus_interface=M)
            root.get_object(M, p, introspect=False).Delete(dbus_interface="org.left4me.Blueprint")
        except dbus.DBusException:
            pass
    remove(user, "lo-user")
    remove(root, "lo-root")
PY
        step "ListObjects against List* and GetAll, on the bus and through the bridge"
        capture in_container python3 "$WEB_DIR/list-objects.py" "$WEB_PORT" 150
        note "$OUT"
        expect_ok "the comparison"
        gcall root "$L4M_MANAGER" org.left4me.Manager.DeleteUser "$(gv_str lo-admin)"
        gcall root "$L4M_MANAGER" org.left4me.Manager.DeleteUser "$(gv_str lo-user)"
}
l4m_test list-objects test_list_objects 300
