# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Sourced by the benchmarks that run servers (tests/bench/run and the
# scripts run on their own): the fake game installation and a one-file
# archive layer.
#   bench_fake_installation DIR   tests/fixtures/fake-srcds.py as srcds_run
#                                 of the container's installation (with an app
#                                 manifest), DIR/layer.tar, then left4me
#                                 restarted so that it reads the installation
#                                 as at boot, and answering
#   bench_layer_blueprint DIR PREFIX
#                                 archive overlay PREFIX-layer imported from
#                                 DIR/layer.tar and blueprint PREFIX-bp of it

BENCH_TOOLS=/usr/local/libexec/left4me-tests

bench_fake_installation() {
        local dir=$1
        install -D -m 0755 "$L4M_SRCDIR/tests/fixtures/fake-srcds.py" "$CTR_DIR/root$BENCH_TOOLS/fake-srcds.py"
        in_container sh -ec "
                cd /var/lib/left4me/installation
                install -m 0755 '$BENCH_TOOLS/fake-srcds.py' srcds_run
                mkdir -p left4dead2/addons left4dead2/cfg left4dead2/maps steamapps
                echo base > left4dead2/addons/base.vpk
                printf '\"AppState\"\n{\n\t\"appid\"\t\t\"222860\"\n\t\"buildid\"\t\t\"1\"\n}\n' > steamapps/appmanifest_222860.acf
                chown -R left4me-game:left4me-game .
                rm -rf '$dir' && mkdir -p '$dir/t/left4dead2/addons'
                echo layer > '$dir/t/layer.txt'
                tar -C '$dir/t' -cf '$dir/layer.tar' ."
        in_container systemctl restart left4me.service
        in_container busctl call org.left4me.Manager /org/left4me/Manager org.freedesktop.DBus.Peer Ping >/dev/null
}

bench_layer_blueprint() {
        in_container python3 - "$1" "$2" <<'PY'
import dbus, os, sys, time
bus = dbus.SystemBus()
M = "org.left4me.Manager"
mgr = bus.get_object(M, "/org/left4me/Manager", introspect=False)
opts = dbus.Dictionary({}, signature="sv")
def prop(path, iface, name):
    return bus.get_object(M, path, introspect=False).Get(iface, name, dbus_interface="org.freedesktop.DBus.Properties")
d, prefix = sys.argv[1], sys.argv[2]
p = mgr.CreateOverlay(prefix + "-layer", "archive", opts, dbus_interface=M)
fd = os.open(d + "/layer.tar", os.O_RDONLY)
j = bus.get_object(M, p, introspect=False).ImportArchive(dbus.types.UnixFd(fd), opts, dbus_interface="org.left4me.Overlay")
os.close(fd)
while str(prop(j, "org.left4me.Job", "State")) in ("queued", "running"):
    time.sleep(0.05)
if str(prop(j, "org.left4me.Job", "State")) != "succeeded":
    raise SystemExit("import job %s: %s" % (j, prop(j, "org.left4me.Job", "Message")))
mgr.CreateBlueprint(prefix + "-bp", [prefix + "-layer"], opts, dbus_interface=M)
PY
}
