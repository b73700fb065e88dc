#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes seed archives for fuzz-archive-extract into the directory given:
ordinary ones and hostile ones, so the corpus starts where the bugs are."""
import io, os, sys, tarfile, zipfile

out = sys.argv[1]
os.makedirs(out, exist_ok=True)

def tar(name, members, mode="w:gz"):
    with tarfile.open(os.path.join(out, name), mode) as t:
        for info, data in members:
            t.addfile(info, io.BytesIO(data) if data is not None else None)

def member(name, data=b"x", **kw):
    info = tarfile.TarInfo(name)
    for k, v in kw.items():
        setattr(info, k, v)
    if info.type in (tarfile.REGTYPE, tarfile.AREGTYPE):
        info.size = len(data)
        return info, data
    return info, None

tar("plain.tar.gz", [member("maps/left4dead2/addons/a.vpk", b"vpk"),
                     member("maps/left4dead2", type=tarfile.DIRTYPE, mode=0o777)])
tar("slip.tar.gz", [member("../../etc/x")])
tar("absolute.tar", [member("/etc/x")], mode="w")
tar("symlink-through.tar.gz", [member("l", type=tarfile.SYMTYPE, linkname="/etc"), member("l/x")])
tar("chain.tar.gz", [member("a", type=tarfile.SYMTYPE, linkname="b"),
                     member("b", type=tarfile.SYMTYPE, linkname="../../.."), member("a/x")])
tar("hardlink.tar.gz", [member("h", type=tarfile.LNKTYPE, linkname="/etc/shadow")])
tar("device.tar.gz", [member("dev", type=tarfile.CHRTYPE, devmajor=1, devminor=3)])
tar("setuid.tar.xz", [member("s", b"#!/bin/sh\n", mode=0o4777)], mode="w:xz")
with zipfile.ZipFile(os.path.join(out, "plain.zip"), "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("left4dead2/addons/b.vpk", b"zip" * 100)
    z.writestr("../escape", b"no")
# Names outside ASCII, a legacy code page, backslashes.
with zipfile.ZipFile(os.path.join(out, "unicode.zip"), "w") as z:
    z.writestr("left4dead2/addons/地图 ☺.vpk", b"vpk")
    z.writestr("..\\..\\etc\\x", b"no")
with zipfile.ZipFile(os.path.join(out, "legacy.zip"), "w") as z:
    z.writestr("left4dead2/addons/xxxx.vpk", b"vpk")
with open(os.path.join(out, "legacy.zip"), "rb") as f:
    legacy = f.read().replace(b"xxxx", "地图".encode("gbk"))
with open(os.path.join(out, "legacy.zip"), "wb") as f:
    f.write(legacy)
# Headers of volumes: RAR 5 (main header with the volume flag and number)
# and RAR 4 (MAIN_HEAD with MHD_VOLUME), and a zip split marker.
with open(os.path.join(out, "volume.rar"), "wb") as f:
    f.write(b"Rar!\x1a\x07\x01\x00" + bytes(4) + bytes([4, 1, 0, 3, 1]) + bytes(16))
with open(os.path.join(out, "volume4.rar"), "wb") as f:
    f.write(b"Rar!\x1a\x07\x00" + bytes([0, 0, 0x73, 0x01, 0x01, 13, 0]) + bytes(16))
with open(os.path.join(out, "split.zip"), "wb") as f:
    f.write(b"PK\x07\x08" + open(os.path.join(out, "plain.zip"), "rb").read())
