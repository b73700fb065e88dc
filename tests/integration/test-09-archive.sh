# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Archive overlays: ImportArchive with hand-made hostile archives (each must
# fail naming the entry and the reason, change nothing outside the overlay
# and keep the overlay's previous content), good imports of tar.gz, zip and
# 7z with subdir and strip_components, merge mode, mode sanitising, bad
# input over the bus, and the URL source with checksums. Then archives as
# people make them: names outside ASCII from 7-Zip, zip tools, bsdtar and
# RAR 5 and 4, legacy code pages and name_encoding, Windows backslashes; files
# that read as an empty archive; split archives and data shorter than its
# header; the same answer from a pipe and from a file; ratio bombs.

# arch_setup: left4me running; sets AR_DIR (in the container) and AR_HOST
# (the same directory from the host) for this test's files. Once a test:
# later calls keep the files made since.
arch_setup() {
        [[ -z ${AR_DIR:-} ]] || return 0
        test_files_setup
        AR_DIR=$TF_DIR
        AR_HOST=$TF_HOST
}

# make_archive KIND FILE: writes an archive of KIND to FILE (a path in the
# container) with python's tarfile/zipfile.
make_archive() {
        in_container "$L4M_PY" - "$@" <<'PY'
import io, os, sys, tarfile, zipfile, zlib
kind, out = sys.argv[1], sys.argv[2]

def tar(entries, mode="w", **kw):
    with tarfile.open(out, mode, format=tarfile.GNU_FORMAT, **kw) as t:
        for ti, data in entries:
            t.addfile(ti, io.BytesIO(data) if data is not None else None)

def f(name, data=b"x", mode=0o644):
    ti = tarfile.TarInfo(name)
    ti.size, ti.mode = len(data), mode
    return ti, data

def special(name, type_, linkname="", mode=0o644, major=0, minor=0):
    ti = tarfile.TarInfo(name)
    ti.type, ti.linkname, ti.mode = type_, linkname, mode
    ti.devmajor, ti.devminor = major, minor
    return ti, None

if kind == "good":
    # what every hostile test imports first
    tar([f("left4dead2/addons/good.vpk", os.urandom(20000)), f("left4dead2/cfg/good.cfg", b"sv_cheats 0\n")], "w:gz")
elif kind == "zip-slip":
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("fine.txt", "fine")
        z.writestr("../../canary/slip", "pwned")
elif kind == "absolute":
    tar([f("fine.txt"), f("/var/lib/left4me/canary/abs", b"pwned")])
elif kind == "symlink-abs":
    tar([special("lnk", tarfile.SYMTYPE, "/var/lib/left4me/canary"), f("lnk/through", b"pwned")])
elif kind == "symlink-rel":
    tar([special("lnk", tarfile.SYMTYPE, "../../canary"), f("lnk/through", b"pwned")])
elif kind == "symlink-chain":
    # sub/hop1 -> ../hop2 stays inside; hop2 -> ../../canary leaves.
    tar([special("sub", tarfile.DIRTYPE, mode=0o755), special("sub/hop1", tarfile.SYMTYPE, "../hop2"),
         special("hop2", tarfile.SYMTYPE, "../../canary"), f("sub/hop1/through", b"pwned")])
elif kind == "hardlink":
    tar([f("fine.txt"), special("hl", tarfile.LNKTYPE, "/etc/shadow")])
elif kind == "hardlink-rel":
    tar([f("fine.txt"), special("hl", tarfile.LNKTYPE, "../../../../../../etc/shadow")])
elif kind == "device":
    tar([f("fine.txt"), special("dev/mynull", tarfile.CHRTYPE, mode=0o666, major=1, minor=3)])
elif kind == "fifo":
    tar([f("fine.txt"), special("myfifo", tarfile.FIFOTYPE)])
elif kind == "bomb":
    # 1 GiB of zeros in a tar.gz of about 1 MB, streamed.
    with open(out, "wb") as o:
        c = zlib.compressobj(9, zlib.DEFLATED, 31)
        ti = tarfile.TarInfo("zeros.bin")
        ti.size = 1 << 30
        o.write(c.compress(ti.tobuf(format=tarfile.GNU_FORMAT)))
        z = bytes(1 << 20)
        for _ in range(1024):
            o.write(c.compress(z))
        o.write(c.compress(bytes(1024)))
        o.write(c.flush())
elif kind == "many":
    with tarfile.open(out, "w:gz", compresslevel=1, format=tarfile.GNU_FORMAT) as t:
        for i in range(200000):
            ti = tarfile.TarInfo("d%03d/f%06d" % (i // 1000, i))
            ti.size = 1
            t.addfile(ti, io.BytesIO(b"x"))
elif kind == "truncated":
    tar([f("fine.txt"), f("data.bin", os.urandom(400000))], "w:gz")
    size = os.path.getsize(out)
    with open(out, "r+b") as o:
        o.truncate(size // 2)
elif kind == "big-entry":
    tar([f("fine.txt"), f("left4dead2/big.bin", bytes(2 << 20))], "w:gz")
elif kind == "lying-zip":
    # 20 MiB of zeros whose local and central headers claim 1000 bytes.
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("liar.bin", bytes(20 << 20))
    b = bytearray(open(out, "rb").read())
    import struct
    assert b[0:4] == b"PK\x03\x04"
    struct.pack_into("<I", b, 22, 1000)                 # local header: uncompressed size
    cd = b.rfind(b"PK\x01\x02")
    struct.pack_into("<I", b, cd + 24, 1000)            # central directory: uncompressed size
    open(out, "wb").write(bytes(b))
elif kind == "not-archive":
    with open(out, "w") as o:
        o.write("This is not an archive, just a text file.\n" * 200)
elif kind in ("zeros", "zeros-gz", "zeros-xz"):
    import gzip, lzma
    data = bytes(1 << 20)
    data = gzip.compress(data) if kind == "zeros-gz" else lzma.compress(data) if kind == "zeros-xz" else data
    open(out, "wb").write(data)
elif kind == "iso":
    # An ISO 9660 image: a system area of 32 KiB of zeros, then the volume
    # descriptors (a primary one and the terminator), then data.
    pvd = b"\x01CD001\x01" + bytes(2041)
    term = b"\xffCD001\x01" + bytes(2041)
    open(out, "wb").write(bytes(32768) + pvd + term + bytes(65536))
elif kind == "empty-zip":
    zipfile.ZipFile(out, "w").close()
elif kind == "empty-tgz":
    tar([], "w:gz")
elif kind == "ratio-bomb":
    # 200 MiB of zeros deflated into about 200 KB: far under MaxBytes and
    # MaxEntryBytes, a thousand times its size.
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("left4dead2/addons/bomb.vpk", "w", force_zip64=True) as w:
            chunk = bytes(1 << 20)
            for _ in range(200):
                w.write(chunk)
elif kind == "backslash-slip":
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("fine.txt", "fine")
        z.writestr("..\\..\\canary\\slip", "pwned")
elif kind == "backslash-slip-tar":
    tar([f("fine.txt"), f("..\\..\\canary\\slip", b"pwned")])
elif kind == "legacy-gbk":
    # Made on a Chinese Windows: the name in CP936 bytes, no UTF-8 flag.
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("left4dead2/addons/xxxx.vpk", "map")
    b = open(out, "rb").read()
    gbk = "left4dead2/addons/地图.vpk".encode("gbk")
    b = b.replace(b"left4dead2/addons/xxxx.vpk", gbk)
    assert len(gbk) == len(b"left4dead2/addons/xxxx.vpk")
    open(out, "wb").write(b)
elif kind == "symlink-zip-out":
    # Unix zip tools keep a symlink's type in the central directory only.
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("fine.txt", "fine")
        zi = zipfile.ZipInfo("lnk")
        zi.create_system, zi.external_attr = 3, (0o120777 << 16)
        z.writestr(zi, "../../canary")
else:
    sys.exit("unknown kind " + kind)
PY
}

# arch_import USER OVERLAY FILE [OPTIONS-JSON] [FD-KIND]: ImportArchive via
# l4m_bus.py; sets RC/OUT/ERR and, on success, JOB.
arch_import() {
        local user=$1 ov=$2 file=$3 opts=${4:-} kind=${5:-file}
        l4mbus "$user" import "$ov" "$file" --options "$opts" --fd-kind "$kind"
        JOB=
        if ((RC == 0)); then
                JOB=$(job_path_from_output)
        fi
}

# arch_import_wait OVERLAY FILE [OPTIONS-JSON] [FD-KIND]: as root; waits.
arch_import_wait() {
        arch_import root "$@"
        expect_ok "ImportArchive of $2 into $1"
        [[ -n $JOB ]] || fail "ImportArchive answered no job path: $OUT"
        job_wait "$JOB" 60
}

# tree_of OVERLAY-ID [SUBDIR]: "path type mode size sha256" of every entry.
tree_of() {
        in_container sh -c "cd '$L4M_OVERLAYS/$1/${2:-}' && find . -mindepth 1 -printf '%P %y %m %s\n' | LC_ALL=C sort &&
                find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum"
}

# The overlay the hostile tests share, with good content imported first.
hostile_overlay() {
        local path
        path=$(ensure_overlay root arch-hostile archive)
        if [[ $(ov_prop "$path" State) != ready ]]; then
                make_archive good "$AR_DIR/good.tar.gz"
                arch_import_wait "$path" "$AR_DIR/good.tar.gz" >&2
                expect_job succeeded "import of the good archive" >&2
        fi
        in_container sh -c 'mkdir -p /var/lib/left4me/canary && echo keep > /var/lib/left4me/canary/keep'
        printf '%s\n' "$path"
}

# hostile KIND EXPECT...: imports an archive of KIND into arch-hostile: the
# job must fail with a message holding every EXPECT (fixed strings), and
# nothing may change: the overlay, the rest of /var/lib/left4me, /etc.
hostile() {
        local kind=$1
        shift
        arch_setup
        make_archive "$kind" "$AR_DIR/$kind.archive"
        hostile_file "$AR_DIR/$kind.archive" "$@"
}

# hostile_file FILE [--pipe] EXPECT...: as hostile, with an archive made
# already (FILE, in the container); --pipe passes it through a pipe.
hostile_file() {
        local file=$1 kind=${1##*/} fd_kind=file path before after t0 t1 e state_before
        shift
        if [[ ${1:-} == --pipe ]]; then
                fd_kind=pipe
                shift
        fi
        arch_setup
        path=$(hostile_overlay)
        wait_until 60 no_trash_left || fail "an earlier tree is still being removed after 60 s"
        before=$(state_snapshot)
        state_before=$(ov_prop "$path" State)
        t0=$(date +%s%N)
        arch_import_wait "$path" "$file" "" "$fd_kind"
        t1=$(date +%s%N)
        expect_job failed "import of the $kind archive"
        for e in "$@"; do
                [[ $JOB_MSG == *"$e"* ]] || fail "the failure message lacks '$e': $JOB_MSG"
        done
        # The refused staging tree is removed in the background.
        wait_until 60 no_trash_left || fail "the refused staging tree is still there after 60 s"
        after=$(state_snapshot)
        if [[ $before != "$after" ]]; then
                diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | head -n 20 | sed 's/^/  diff: /' >&2
                fail "the $kind archive changed files (see the diff in the log)"
        fi
        # The content is as it was, so State is too (the job keeps the failure).
        assert_eq "$state_before" "$(ov_prop "$path" State)" "overlay state after the refused import"
        note "$kind: refused after $(((t1 - t0) / 1000000)) ms: $JOB_MSG"
}

test_arch_zip_slip() { hostile zip-slip "'../../canary/slip'" "'..'" "leave the overlay"; }
l4m_test archive-zip-slip test_arch_zip_slip
test_arch_absolute() { hostile absolute "/var/lib/left4me/canary/abs" "absolute"; }
l4m_test archive-absolute-path test_arch_absolute
test_arch_symlink_abs() { hostile symlink-abs "'lnk'" "'/var/lib/left4me/canary' is absolute"; }
l4m_test archive-symlink-absolute test_arch_symlink_abs
test_arch_symlink_rel() { hostile symlink-rel "'lnk'" "'../../canary' leaves the overlay"; }
l4m_test archive-symlink-relative test_arch_symlink_rel
test_arch_symlink_chain() { hostile symlink-chain "'hop2'" "leaves the overlay"; }
l4m_test archive-symlink-chain test_arch_symlink_chain
test_arch_hardlink() { hostile hardlink "'hl'" "/etc/shadow"; }
l4m_test archive-hardlink-etc-shadow test_arch_hardlink
test_arch_hardlink_rel() { hostile hardlink-rel "'hl'" "etc/shadow"; }
l4m_test archive-hardlink-relative test_arch_hardlink_rel
test_arch_device() { hostile device "'dev/mynull'" "device nodes are not allowed"; }
l4m_test archive-device-node test_arch_device
test_arch_fifo() { hostile fifo "'myfifo'" "fifos are not allowed"; }
l4m_test archive-fifo test_arch_fifo
test_arch_truncated() { hostile truncated "truncated"; }
l4m_test archive-truncated test_arch_truncated
test_arch_not_archive() { hostile not-archive "archive"; }
l4m_test archive-not-an-archive test_arch_not_archive

remove_archive_limits() {
        l4m_conf_remove 60-archive-limits || true
}

test_arch_zeros_bomb() {
        arch_setup
        trap remove_archive_limits EXIT
        l4m_conf 60-archive-limits "[Archive]
MaxBytes=10M"
        hostile bomb "'zeros.bin'" "MaxBytes" "10485760"
}
l4m_test archive-zeros-bomb test_arch_zeros_bomb 90

test_arch_many_entries() {
        arch_setup
        trap remove_archive_limits EXIT
        l4m_conf 60-archive-limits "[Archive]
MaxEntries=5000"
        hostile many "MaxEntries" "5000"
}
l4m_test archive-many-entries test_arch_many_entries 90

test_arch_entry_too_big() {
        arch_setup
        trap remove_archive_limits EXIT
        l4m_conf 60-archive-limits "[Archive]
MaxEntryBytes=1048576"
        hostile big-entry "'left4dead2/big.bin'" "MaxEntryBytes"
}
l4m_test archive-entry-too-big test_arch_entry_too_big

# A zip whose headers claim 1000 bytes for 20 MiB of content: the caps
# count what is written. With MaxBytes at 10 MiB the import must fail
# (by the cap, or because the content does not match the header).
test_arch_lying_zip_header() {
        arch_setup
        trap remove_archive_limits EXIT
        l4m_conf 60-archive-limits "[Archive]
MaxBytes=10485760"
        hostile lying-zip "'liar.bin'"
}
l4m_test archive-lying-zip-header test_arch_lying_zip_header

# Links that stay inside the overlay are fine: relative symlinks, and
# hardlinks to files extracted earlier (their targets stripped too).
test_arch_internal_links() {
        local path ov d
        arch_setup
        in_container "$L4M_PY" - "$AR_DIR/links.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as t:
    def add(name, type_=tarfile.REGTYPE, linkname="", data=b""):
        ti = tarfile.TarInfo(name)
        ti.type, ti.linkname, ti.size, ti.mode = type_, linkname, len(data), 0o644
        t.addfile(ti, io.BytesIO(data) if type_ == tarfile.REGTYPE else None)
    add("pkg/maps/real.bsp", data=b"real map\n")
    add("pkg/maps/link.bsp", tarfile.SYMTYPE, "real.bsp")
    add("pkg/cfg/up.bsp", tarfile.SYMTYPE, "../maps/real.bsp")
    add("pkg/maps/hard.bsp", tarfile.LNKTYPE, "pkg/maps/real.bsp")
PY
        path=$(create_overlay root arch-links archive)
        ov=$(id_of_path "$path")
        arch_import_wait "$path" "$AR_DIR/links.tar" '{"strip_components": ["u", 1]}'
        expect_job succeeded "import of links.tar (internal links, strip 1)"
        d=$L4M_OVERLAYS/$ov
        assert_eq real.bsp "$(in_container readlink "$d/maps/link.bsp")" "maps/link.bsp"
        assert_eq ../maps/real.bsp "$(in_container readlink "$d/cfg/up.bsp")" "cfg/up.bsp"
        assert_eq "$(in_container stat -c %i "$d/maps/real.bsp")" "$(in_container stat -c %i "$d/maps/hard.bsp")" \
                "inode of maps/hard.bsp (a hardlink to maps/real.bsp)"
        assert_eq "real map" "$(in_container cat "$d/cfg/up.bsp")" "content through cfg/up.bsp"
        delete_overlay root "$path"
}
l4m_test archive-internal-links test_arch_internal_links

test_arch_good_imports() {
        local path ov want got fmt opts
        arch_setup
        # Source tree pkg/…; imported with strip_components 1 into sub/dir.
        in_container sh -c "cd '$AR_DIR' && mkdir -p src/pkg/left4dead2/maps src/pkg/left4dead2/addons src/pkg/left4dead2/cfg &&
                head -c 100000 /dev/urandom > src/pkg/left4dead2/maps/a.bsp &&
                head -c 300000 /dev/urandom > src/pkg/left4dead2/addons/x.vpk &&
                echo 'hostname test' > src/pkg/left4dead2/cfg/server.cfg &&
                tar -C src -czf good.tar.gz pkg && (cd src && zip -qr ../good.zip pkg) &&
                (cd src && 7z a -bd -y ../good.7z pkg >/dev/null)"
        want=$(in_container sh -c "cd '$AR_DIR/src/pkg' && find . -mindepth 1 -printf '%P %y\n' | LC_ALL=C sort &&
                find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum")
        path=$(create_overlay root arch-good archive)
        ov=$(id_of_path "$path")
        opts='{"subdir": ["s", "sub/dir"], "strip_components": ["u", 1]}'
        for fmt in good.tar.gz good.zip good.7z; do
                arch_import_wait "$path" "$AR_DIR/$fmt" "$opts"
                expect_job succeeded "import of $fmt"
                got=$(in_container sh -c "cd '$L4M_OVERLAYS/$ov/sub/dir' && find . -mindepth 1 -printf '%P %y\n' | LC_ALL=C sort &&
                        find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum")
                assert_eq "$want" "$got" "the overlay's sub/dir after importing $fmt (strip 1)"
                assert_eq "sub" "$(in_container ls -A "$L4M_OVERLAYS/$ov")" "top level of the overlay after $fmt"
                assert_eq ready "$(ov_prop "$path" State)" "overlay state after importing $fmt"
        done
        # tar formats also stream from a pipe.
        arch_import_wait "$path" "$AR_DIR/good.tar.gz" '{"strip_components": ["u", 1]}' pipe
        expect_job succeeded "import of good.tar.gz through a pipe"
        got=$(in_container sh -c "cd '$L4M_OVERLAYS/$ov' && find . -mindepth 1 -printf '%P %y\n' | LC_ALL=C sort &&
                find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum")
        assert_eq "$want" "$got" "the overlay after importing good.tar.gz from a pipe (replace, no subdir)"
        assert_eq 400014 "$(ov_prop "$path" Size)" "Size (bytes written by the last import)"
        delete_overlay root "$path"
}
l4m_test archive-good-imports test_arch_good_imports

test_arch_merge() {
        local path ov
        arch_setup
        in_container sh -c "cd '$AR_DIR' && mkdir -p a b c &&
                echo A1 > a/a.txt && echo B1 > a/b.txt && echo B2 > b/b.txt && echo C2 > b/c.txt &&
                mkdir -p b/deep && echo D2 > b/deep/d.txt && echo E3 > c/e.txt &&
                tar -C a -cf a.tar . && tar -C b -cf b.tar . && tar -C c -cf c.tar ."
        path=$(create_overlay root arch-merge archive)
        ov=$(id_of_path "$path")
        arch_import_wait "$path" "$AR_DIR/a.tar"
        expect_job succeeded "import of a.tar"
        arch_import_wait "$path" "$AR_DIR/b.tar" '{"mode": ["s", "merge"]}'
        expect_job succeeded "merge of b.tar"
        assert_eq "a.txt:A1 b.txt:B2 c.txt:C2 deep/d.txt:D2" \
                "$(in_container sh -c "cd '$L4M_OVERLAYS/$ov' && for f in \$(find . -type f | sort); do printf '%s:%s ' \${f#./} \$(cat \$f); done" | sed 's/ $//')" \
                "the overlay after merging b.tar over a.tar"
        # Size is the whole merged tree: a.txt, b.txt, c.txt, deep/d.txt, 3 bytes each.
        assert_eq 12 "$(ov_prop "$path" Size)" "Size after the merge (the whole tree)"
        arch_import_wait "$path" "$AR_DIR/c.tar" '{"mode": ["s", "replace"]}'
        expect_job succeeded "replace with c.tar"
        assert_eq "e.txt" "$(in_container sh -c "cd '$L4M_OVERLAYS/$ov' && find . -mindepth 1 -printf '%P\n'")" \
                "the overlay after replacing with c.tar"
        delete_overlay root "$path"
}
l4m_test archive-merge test_arch_merge

test_arch_modes() {
        local path ov got bad
        arch_setup
        in_container "$L4M_PY" - "$AR_DIR/modes.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as t:
    for name, mode, typ in [("wdir", 0o777, tarfile.DIRTYPE), ("sdir", 0o1777, tarfile.DIRTYPE),
                            ("suid", 0o4755, tarfile.REGTYPE), ("sgid", 0o2755, tarfile.REGTYPE),
                            ("ww", 0o666, tarfile.REGTYPE), ("exec", 0o777, tarfile.REGTYPE),
                            ("private", 0o600, tarfile.REGTYPE), ("wdir/inner", 0o4777, tarfile.REGTYPE)]:
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.uid, ti.gid = typ, mode, 1234, 1234
        if typ == tarfile.REGTYPE:
            ti.size = 2
        t.addfile(ti, io.BytesIO(b"x\n") if typ == tarfile.REGTYPE else None)
PY
        path=$(create_overlay root arch-modes archive)
        ov=$(id_of_path "$path")
        arch_import_wait "$path" "$AR_DIR/modes.tar"
        expect_job succeeded "import of modes.tar"
        got=$(in_container sh -c "cd '$L4M_OVERLAYS/$ov' && find . -mindepth 1 -printf '%P %y %m %u %g\n' | LC_ALL=C sort" | paste -sd ';')
        # Directories are the servers' group's to create entries in
        # (through their stacks, as the installation's are); files are not.
        assert_eq "exec f 755 root root;private f 644 root root;sdir d 775 root $L4M_GAME_USER;sgid f 755 root root;suid f 755 root root;wdir d 775 root $L4M_GAME_USER;wdir/inner f 755 root root;ww f 644 root root" \
                "$got" "modes and owners after the import"
        bad=$(in_container find "$L4M_OVERLAYS/$ov" -mindepth 1 \( -perm /7002 -o \( ! -type d -perm /020 \) \))
        [[ -z $bad ]] || fail "setuid/setgid/sticky, world-writable or group-writable non-directory entries: $bad"
        delete_overlay root "$path"
}
l4m_test archive-modes test_arch_modes

# jobs_count: how many jobs ListJobs lists.
jobs_count() {
        in_container busctl --json=short call "$L4M_BUS" "$L4M_MANAGER" org.left4me.Manager ListJobs | json 'len(d["data"][0])'
}

test_arch_bad_input() {
        local path ws njobs before
        arch_setup
        in_container sh -c "cd '$AR_DIR' && mkdir -p adir && echo x > adir/x && tar -C adir -cf ok.tar . &&
                7z a -bd -y ok.7z adir >/dev/null"
        path=$(create_overlay root arch-bad archive)
        ws=$(create_overlay root arch-bad-ws workshop)
        njobs=$(jobs_count)
        before=$(tree_of "$(id_of_path "$path")")

        arch_import root "$path" "$AR_DIR/adir" "" dir
        expect_dbus_error org.left4me.Error.InvalidArgument "ImportArchive with a directory fd"
        arch_import root "$path" "$AR_DIR/ok.tar" "" socket
        expect_dbus_error org.left4me.Error.InvalidArgument "ImportArchive with a socket fd"
        arch_import root "$path" "$AR_DIR/ok.tar" "" wronly
        expect_dbus_error org.left4me.Error.InvalidArgument "ImportArchive with a write-only fd"
        arch_import root "$path" "$AR_DIR/ok.tar" '{"bogus": ["s", "x"]}'
        expect_dbus_error org.left4me.Error.InvalidArgument "ImportArchive with an unknown option"
        [[ $ERR == *bogus* ]] || fail "the error does not name the unknown option: $ERR"
        local sub
        for sub in "../x" "/abs" "a/../b" "a//b" "." ""; do
                arch_import root "$path" "$AR_DIR/ok.tar" "{\"subdir\": [\"s\", \"$sub\"]}"
                expect_dbus_error org.left4me.Error.InvalidArgument "ImportArchive with subdir '$sub'"
        done
        arch_import root "$path" "$AR_DIR/ok.tar" '{"subdir": ["u", 1]}'
        expect_dbus_error org.left4me.Error.InvalidArgument "ImportArchive with a subdir that is not a string"
        arch_import root "$path" "$AR_DIR/ok.tar" '{"strip_components": ["u", 33]}'
        expect_dbus_error org.left4me.Error.InvalidArgument "ImportArchive with strip_components 33"
        arch_import root "$path" "$AR_DIR/ok.tar" '{"strip_components": ["s", "1"]}'
        expect_dbus_error org.left4me.Error.InvalidArgument "ImportArchive with strip_components as a string"
        arch_import root "$path" "$AR_DIR/ok.tar" '{"mode": ["s", "append"]}'
        expect_dbus_error org.left4me.Error.InvalidArgument "ImportArchive with mode 'append'"
        arch_import root "$ws" "$AR_DIR/ok.tar"
        expect_dbus_error org.left4me.Error.InvalidArgument "ImportArchive into a workshop overlay"
        arch_import mallory "$path" "$AR_DIR/ok.tar"
        expect_dbus_error org.freedesktop.DBus.Error.InteractiveAuthorizationRequired "mallory: ImportArchive into root's overlay"
        arch_import alice "$path" "$AR_DIR/ok.tar"
        expect_dbus_error org.freedesktop.DBus.Error.InteractiveAuthorizationRequired "alice: ImportArchive into root's overlay"
        assert_eq "$njobs" "$(jobs_count)" "jobs after the refused calls (none may be queued)"
        assert_eq "$before" "$(tree_of "$(id_of_path "$path")")" "the overlay after the refused calls"

        # 7z needs to seek: from a pipe, it is copied into a file first.
        arch_import_wait "$path" "$AR_DIR/ok.7z" "" pipe
        expect_job succeeded "import of a 7z archive through a pipe"
        assert_eq "adir/x" "$(in_container sh -c "cd '$L4M_OVERLAYS/$(id_of_path "$path")' && find . -type f -printf '%P\n'")" \
                "the overlay after importing ok.7z through a pipe"

        # alice may import into her own archive overlay.
        local mine
        mine=$(create_overlay alice arch-bad-alice archive)
        arch_import alice "$mine" "$AR_DIR/ok.tar"
        expect_ok "alice: ImportArchive into her own overlay"
        job_wait "$JOB"
        expect_job succeeded "alice's import"
        assert_eq alice "$(job_prop "$JOB" Owner)" "Owner of alice's import job"
        delete_overlay alice "$mine"
        delete_overlay root "$path"
        delete_overlay root "$ws"
}
l4m_test archive-bad-input test_arch_bad_input

# http_serve DIR: a plain HTTP server for DIR on container loopback, as a
# background process of this test; sets HTTP_URL.
http_serve() {
        in_container "$L4M_PY" - "$1" "$1/.port" </dev/null >"$L4M_WORK/http.log" 2>&1 <<'PY' &
import functools, http.server, os, sys
d, pf = sys.argv[1], sys.argv[2]
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                      functools.partial(http.server.SimpleHTTPRequestHandler, directory=d))
with open(pf + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(pf + ".tmp", pf)
srv.serve_forever()
PY
        wait_until 10 test -s "$CTR_DIR/root$1/.port" || fail "the HTTP server did not start: $(cat "$L4M_WORK/http.log")"
        HTTP_URL=http://127.0.0.1:$(<"$CTR_DIR/root$1/.port")
}

test_arch_url_source() {
        local path ov sha md5 before url bad ws
        arch_setup
        in_container sh -c "cd '$AR_DIR' && mkdir -p www src/left4dead2/maps && head -c 50000 /dev/urandom > src/left4dead2/maps/u.bsp &&
                tar -C src -czf www/maps.tar.gz left4dead2"
        http_serve "$AR_DIR/www"
        sha=$(in_container sha256sum "$AR_DIR/www/maps.tar.gz" | cut -d' ' -f1)
        md5=$(in_container md5sum "$AR_DIR/www/maps.tar.gz" | cut -d' ' -f1)
        url=$HTTP_URL/maps.tar.gz
        path=$(create_overlay root arch-url archive)
        ov=$(id_of_path "$path")

        gcall root "$path" org.left4me.Overlay.Build '{}'
        expect_dbus_error org.left4me.Error.InvalidArgument "Build() of an archive overlay without a source"
        gcall root "$path" org.left4me.Overlay.SetArchiveSource "$(gv_str "$url")" "$(gv_str "sha256:$sha")"
        expect_ok "SetArchiveSource(url, sha256)"
        assert_eq "$url" "$(ov_prop "$path" SourceUrl)" SourceUrl
        assert_eq "sha256:$sha" "$(ov_prop "$path" SourceChecksum)" SourceChecksum
        ov_build_wait "$path"
        expect_job succeeded "Build() from the URL with the right sha256"
        assert_eq archive-fetch "$(job_prop "$JOB" Kind)" "Kind of the job"
        assert_eq "$(in_container sha256sum "$AR_DIR/src/left4dead2/maps/u.bsp" | cut -d' ' -f1)" \
                "$(in_container sha256sum "$L4M_OVERLAYS/$ov/left4dead2/maps/u.bsp" | cut -d' ' -f1)" "u.bsp in the overlay"
        before=$(tree_of "$ov")

        gcall root "$path" org.left4me.Overlay.SetArchiveSource "$(gv_str "$url")" "'md5:0123456789abcdef0123456789abcdef'"
        expect_ok "SetArchiveSource(url, wrong md5)"
        ov_build_wait "$path"
        expect_job failed "Build() with a wrong md5"
        [[ $JOB_MSG == *"checksum mismatch"* ]] || fail "the failure does not say 'checksum mismatch': $JOB_MSG"
        assert_eq "$before" "$(tree_of "$ov")" "the overlay after the checksum mismatch"

        gcall root "$path" org.left4me.Overlay.SetArchiveSource "$(gv_str "$HTTP_URL/missing.tar.gz")" "''"
        expect_ok "SetArchiveSource(a missing file)"
        ov_build_wait "$path"
        expect_job failed "Build() from a URL answering 404"
        [[ $JOB_MSG == *404* ]] || fail "the failure does not mention HTTP 404: $JOB_MSG"
        assert_eq "$before" "$(tree_of "$ov")" "the overlay after the 404"

        gcall root "$path" org.left4me.Overlay.SetArchiveSource "$(gv_str "$url")" "$(gv_str "md5:${md5^^}")"
        expect_ok "SetArchiveSource(url, right md5 in upper case)"
        ov_build_wait "$path"
        expect_job succeeded "Build() with the right md5"
        in_container find "$L4M_OVERLAYS" -maxdepth 1 -name '.download-*' | grep -q . &&
                fail "a .download-* file was left in overlays/"

        for bad in "ftp://example.org/x.zip" "file:///etc/passwd" "http://a b/x.zip" "example.org/x.zip" \
                "http://example.org/$(printf 'x%.0s' {1..2100})" "https://example.org/é.zip"; do
                gcall root "$path" org.left4me.Overlay.SetArchiveSource "$(gv_str "$bad")" "''"
                expect_dbus_error org.left4me.Error.InvalidArgument "SetArchiveSource with URL '${bad:0:40}'"
        done
        for bad in "md5:123" "md5:0123456789abcdef0123456789abcdeg" "sha1:$(printf 'a%.0s' {1..40})" \
                "sha256:$(printf 'a%.0s' {1..63})" "sha256:$(printf 'a%.0s' {1..65})" "$md5" "sha256:"; do
                gcall root "$path" org.left4me.Overlay.SetArchiveSource "$(gv_str "$url")" "$(gv_str "$bad")"
                expect_dbus_error org.left4me.Error.InvalidArgument "SetArchiveSource with checksum '$bad'"
        done
        assert_eq "$url" "$(ov_prop "$path" SourceUrl)" "SourceUrl after the refused calls"
        assert_eq "md5:${md5^^}" "$(ov_prop "$path" SourceChecksum)" "SourceChecksum after the refused calls"
        ws=$(create_overlay root arch-url-ws workshop)
        gcall root "$ws" org.left4me.Overlay.SetArchiveSource "$(gv_str "$url")" "''"
        expect_dbus_error org.left4me.Error.InvalidArgument "SetArchiveSource on a workshop overlay"
        delete_overlay root "$ws"
        delete_overlay root "$path"
}
l4m_test archive-url-source test_arch_url_source

# A merge that fails after replacing a file must not have touched the live
# overlay: the staging copy shares inodes with it (hardlinks), so replacing
# must never write into an existing file.
test_arch_merge_failure_keeps_content() {
        local path ov before no_staging
        arch_setup
        in_container "$L4M_PY" - "$AR_DIR" <<'PY'
import io, sys, tarfile
d = sys.argv[1]
def f(name, data, type_=tarfile.REGTYPE, mode=0o644):
    ti = tarfile.TarInfo(name)
    ti.type, ti.size, ti.mode = type_, len(data) if type_ == tarfile.REGTYPE else 0, mode
    if type_ == tarfile.CHRTYPE:
        ti.devmajor, ti.devminor = 1, 3
    return ti, (io.BytesIO(data) if type_ == tarfile.REGTYPE else None)
with tarfile.open(d + "/base.tar", "w") as t:
    for ti, fo in (f("a.txt", b"old a\n"), f("dir/b.txt", b"old b\n", mode=0o755)):
        t.addfile(ti, fo)
with tarfile.open(d + "/bad-merge.tar", "w") as t:
    for ti, fo in (f("a.txt", b"NEW A, LONGER THAN BEFORE\n"), f("dir/b.txt", b"NEW B\n", mode=0o600),
                   f("c.txt", b"new c\n"), f("dev/null", b"", tarfile.CHRTYPE)):
        t.addfile(ti, fo)
PY
        path=$(create_overlay root arch-merge-fail archive)
        ov=$(id_of_path "$path")
        arch_import_wait "$path" "$AR_DIR/base.tar"
        expect_job succeeded "import of base.tar"
        before=$(tree_of "$ov")
        arch_import_wait "$path" "$AR_DIR/bad-merge.tar" '{"mode": ["s", "merge"]}'
        expect_job failed "merge of an archive that replaces files and then has a device node"
        [[ $JOB_MSG == *"'dev/null'"* ]] || fail "the failure does not name dev/null: $JOB_MSG"
        assert_eq "$before" "$(tree_of "$ov")" "the overlay (content, modes) after the failed merge"
        assert_eq ready "$(ov_prop "$path" State)" "State after the failed merge (the content is intact)"
        no_staging=$(in_container find "$L4M_OVERLAYS" -mindepth 1 -maxdepth 1 -name '.*')
        [[ -z $no_staging ]] || fail "left in overlays/: $no_staging"
        delete_overlay root "$path"
}
l4m_test archive-merge-failure-keeps-content test_arch_merge_failure_keeps_content

# --- Archives as people make them ---

# files_of OVERLAY-ID: "path type" of every entry, sorted.
files_of() {
        in_container sh -c "cd '$L4M_OVERLAYS/$1' && find . -mindepth 1 -printf '%P %y\n' | LC_ALL=C sort"
}

# Names outside ASCII arrive as UTF-8 from 7-Zip (UTF-16 names), zip with
# the UTF-8 flag (p7zip, bsdtar, python), pax tar, RAR 5 and RAR 4 Unicode
# names.
test_arch_unicode_names() {
        local path ov want got a
        arch_setup
        in_container sh -c "cd '$AR_DIR' && rm -rf u && mkdir -p 'u/left4dead2/addons' 'u/left4dead2/maps' &&
                echo map > 'u/left4dead2/addons/地图 ☺.vpk' && echo bsp > 'u/left4dead2/maps/Карта_01.bsp' &&
                cd u && export LC_ALL=C.UTF-8 &&
                7z a -bd -y ../u.7z left4dead2 >/dev/null && 7z a -bd -y -tzip ../u-7z.zip left4dead2 >/dev/null &&
                bsdtar --format zip -cf ../u-bsdtar.zip left4dead2 && bsdtar --format pax -czf ../u.tar.gz left4dead2 &&
                python3 -c 'import zipfile; z = zipfile.ZipFile(\"../u-py.zip\", \"w\"); [z.write(p) for p in (\"left4dead2/addons/地图 ☺.vpk\", \"left4dead2/maps/Карта_01.bsp\")]; z.close()' &&
                python3 $L4M_TOOLS/make-rar.py ../u.rar 'left4dead2/addons/地图 ☺.vpk=left4dead2/addons/地图 ☺.vpk' \
                        'left4dead2/maps/Карта_01.bsp=left4dead2/maps/Карта_01.bsp' &&
                python3 $L4M_TOOLS/make-rar.py --rar4 ../u4.rar 'left4dead2/addons/地图 ☺.vpk=left4dead2/addons/地图 ☺.vpk' \
                        'left4dead2/maps/Карта_01.bsp=left4dead2/maps/Карта_01.bsp'"
        want="left4dead2/addons/地图 ☺.vpk:map left4dead2/maps/Карта_01.bsp:bsp"
        path=$(create_overlay root arch-unicode archive)
        ov=$(id_of_path "$path")
        for a in u.7z u-7z.zip u-bsdtar.zip u.tar.gz u-py.zip u.rar u4.rar; do
                arch_import_wait "$path" "$AR_DIR/$a"
                expect_job succeeded "import of $a (names outside ASCII)"
                got=$(in_container sh -c "cd '$L4M_OVERLAYS/$ov' && find . -type f -printf '%P\n' | LC_ALL=C sort |
                        while IFS= read -r f; do printf '%s:%s ' \"\$f\" \"\$(cat \"\$f\")\"; done" | sed 's/ $//')
                assert_eq "$want" "$got" "the overlay's files after importing $a"
        done
        delete_overlay root "$path"
}
l4m_test archive-unicode-names test_arch_unicode_names

# A zip made with a legacy code page (CP936) and no UTF-8 flag: refused
# with the bytes shown, imported right with name_encoding, by the bus and
# by l4mctl; an unknown encoding is refused before any job.
test_arch_legacy_names() {
        local path ov njobs
        arch_setup
        hostile legacy-gbk "'left4dead2/addons/\\xb5\\xd8\\xcd\\xbc.vpk'" "not UTF-8" "name-encoding" "CP936"
        path=$(create_overlay root arch-gbk archive)
        ov=$(id_of_path "$path")
        arch_import_wait "$path" "$AR_DIR/legacy-gbk.archive" '{"name_encoding": ["s", "CP936"]}'
        expect_job succeeded "import of the CP936 zip with name_encoding CP936"
        assert_eq "map" "$(in_container cat "$L4M_OVERLAYS/$ov/left4dead2/addons/地图.vpk")" "地图.vpk in the overlay"
        njobs=$(jobs_count)
        for bad in NOPE "CP936;rm" "" "$(printf 'U%.0s' {1..40})"; do
                arch_import root "$path" "$AR_DIR/legacy-gbk.archive" "{\"name_encoding\": [\"s\", \"$bad\"]}"
                expect_dbus_error org.left4me.Error.InvalidArgument "ImportArchive with name_encoding '$bad'"
        done
        arch_import root "$path" "$AR_DIR/legacy-gbk.archive" '{"name_encoding": ["u", 936]}'
        expect_dbus_error org.left4me.Error.InvalidArgument "ImportArchive with a name_encoding that is not a string"
        assert_eq "$njobs" "$(jobs_count)" "jobs after the refused calls"

        in_container rm -rf "$L4M_OVERLAYS/$ov/left4dead2"
        capture in_container sh -c "cat '$AR_DIR/legacy-gbk.archive' | l4mctl overlay import arch-gbk - --name-encoding cp936 --wait"
        expect_exit 0 "l4mctl overlay import arch-gbk - --name-encoding cp936 --wait"
        assert_eq "map" "$(in_container cat "$L4M_OVERLAYS/$ov/left4dead2/addons/地图.vpk")" "地图.vpk after l4mctl's import"
        delete_overlay root "$path"
}
l4m_test archive-legacy-names test_arch_legacy_names

# Backslashes are separators (Windows tools write them): a backslashed
# path arrives as directories, and "..\..\" is a traversal.
test_arch_backslashes() {
        local path ov
        arch_setup
        hostile backslash-slip "'../../canary/slip'" "'..'" "leave the overlay"
        hostile backslash-slip-tar "'../../canary/slip'" "'..'" "leave the overlay"
        in_container "$L4M_PY" - "$AR_DIR" <<'PY'
import io, sys, tarfile, zipfile
d = sys.argv[1]
with zipfile.ZipFile(d + "/bs.zip", "w") as z:
    z.writestr("left4dead2\\maps\\c1m1_hotel.bsp", "bsp")
with tarfile.open(d + "/bs.tar", "w", format=tarfile.GNU_FORMAT) as t:
    ti = tarfile.TarInfo("left4dead2\\maps\\c1m1_hotel.bsp")
    ti.size = 3
    t.addfile(ti, io.BytesIO(b"bsp"))
PY
        path=$(create_overlay root arch-bs archive)
        ov=$(id_of_path "$path")
        for a in bs.zip bs.tar; do
                arch_import_wait "$path" "$AR_DIR/$a"
                expect_job succeeded "import of $a (backslashed names)"
                assert_eq "left4dead2 d
left4dead2/maps d
left4dead2/maps/c1m1_hotel.bsp f" "$(files_of "$ov")" "the overlay after importing $a"
        done
        delete_overlay root "$path"
}
l4m_test archive-backslashes test_arch_backslashes

# What reads as an archive of no entries never replaces an overlay's
# content: zeros, compressed zeros, a disk image, empty archives.
test_arch_no_entries() {
        local kind
        for kind in zeros zeros-gz zeros-xz iso empty-zip empty-tgz; do
                hostile "$kind" "no entries"
        done
}
l4m_test archive-no-entries test_arch_no_entries 180

# One volume of a split archive is refused, saying so: RAR 5 volumes,
# zip -s segments, 7z -v parts; and a file shorter than its header says.
test_arch_split_volumes() {
        local part
        arch_setup
        in_container sh -c "cd '$AR_DIR' && rm -rf sv && mkdir -p sv/left4dead2/addons && cd sv &&
                head -c 300000 /dev/urandom > left4dead2/addons/big.vpk && echo small > small.txt &&
                python3 $L4M_TOOLS/make-rar.py --volumes 2 ../split left4dead2/addons/big.vpk=left4dead2/addons/big.vpk &&
                python3 $L4M_TOOLS/make-rar.py --declare 144608 ../short.rar left4dead2/addons/short.vpk=small.txt &&
                zip -q -s 100k -r ../split-zip.zip left4dead2 && 7z a -bd -y -v100k ../split7.7z left4dead2 >/dev/null"
        for part in split.part1.rar split.part2.rar; do
                hostile_file "$AR_DIR/$part" "multi-volume" "RAR 5"
        done
        hostile_file "$AR_DIR/split-zip.zip" "multi-volume" "the last segment of a zip archive split into"
        hostile_file "$AR_DIR/split-zip.z01" "multi-volume" "the first segment of a split zip archive"
        hostile_file "$AR_DIR/split7.7z.001" "multi-volume" ".7z.001"
        hostile_file "$AR_DIR/short.rar" "'left4dead2/addons/short.vpk'" "holds 6 of the 144608 bytes"
}
l4m_test archive-split-volumes test_arch_split_volumes 180

# A pipe and a file give one answer: a zip's symlinks are in its central
# directory, and a zip with another one in front has two sets of local
# headers; 7z (above) needs seeking.
test_arch_pipe_equals_file() {
        local path ov kind from_file from_pipe
        arch_setup
        make_archive symlink-zip-out "$AR_DIR/symlink-out.zip"
        hostile_file "$AR_DIR/symlink-out.zip" "'lnk'" "'../../canary' leaves the overlay"
        hostile_file "$AR_DIR/symlink-out.zip" --pipe "'lnk'" "'../../canary' leaves the overlay"

        in_container "$L4M_PY" - "$AR_DIR" <<'PY'
import sys, zipfile
d = sys.argv[1]
with zipfile.ZipFile(d + "/inside.zip", "w") as z:
    z.writestr("left4dead2/maps/real.bsp", "real map")
    zi = zipfile.ZipInfo("left4dead2/maps/link.bsp")
    zi.create_system, zi.external_attr = 3, (0o120777 << 16)
    z.writestr(zi, "real.bsp")
with zipfile.ZipFile(d + "/front.zip", "w") as z:
    z.writestr("front.txt", "the zip in front")
with zipfile.ZipFile(d + "/many.zip", "w") as z:
    for i in range(250):
        z.writestr("left4dead2/cfg/f%03d.cfg" % i, "echo %d\n" % i)
open(d + "/prefixed.zip", "wb").write(open(d + "/front.zip", "rb").read() + open(d + "/many.zip", "rb").read())
PY
        path=$(create_overlay root arch-pipe-file archive)
        ov=$(id_of_path "$path")
        for kind in inside prefixed; do
                arch_import_wait "$path" "$AR_DIR/$kind.zip"
                expect_job succeeded "import of $kind.zip from a file"
                from_file=$(tree_of "$ov")
                arch_import_wait "$path" "$AR_DIR/$kind.zip" "" pipe
                expect_job succeeded "import of $kind.zip from a pipe"
                from_pipe=$(tree_of "$ov")
                assert_eq "$from_file" "$from_pipe" "the overlay after $kind.zip from a pipe, against from a file"
        done
        arch_import_wait "$path" "$AR_DIR/inside.zip" "" pipe
        assert_eq "real.bsp" "$(in_container readlink "$L4M_OVERLAYS/$ov/left4dead2/maps/link.bsp")" \
                "link.bsp from a pipe: a symlink, not a file holding its target"
        arch_import_wait "$path" "$AR_DIR/prefixed.zip" "" pipe
        assert_eq 250 "$(in_container find "$L4M_OVERLAYS/$ov/left4dead2/cfg" -type f | wc -l)" \
                "files from prefixed.zip through a pipe (its central directory lists 250)"
        delete_overlay root "$path"
}
l4m_test archive-pipe-equals-file test_arch_pipe_equals_file 180

# Bombs are bounded by their expansion ratio, with the default MaxRatio:
# a 200 KB zip of 200 MiB is refused long before its entry is whole.
test_arch_ratio_bomb() {
        arch_setup
        hostile ratio-bomb "'left4dead2/addons/bomb.vpk'" "MaxRatio" "expands to more than 104857600 bytes"
}
l4m_test archive-ratio-bomb test_arch_ratio_bomb

# Only tar archives may come compressed: 7z and zip inside bzip2 or gzip
# say so.
test_arch_compressed_non_tar() {
        arch_setup
        in_container sh -c "cd '$AR_DIR' && rm -rf cz && mkdir -p cz/left4dead2 && echo x > cz/left4dead2/x.cfg &&
                (cd cz && 7z a -bd -y ../cz.7z left4dead2 >/dev/null && zip -qr ../cz.zip left4dead2) &&
                bzip2 -c cz.7z > cz.7z.bz2 && gzip -c cz.zip > cz.zip.gz"
        hostile_file "$AR_DIR/cz.7z.bz2" "7-Zip archive inside a bzip2 stream" "import the 7-Zip archive itself"
        hostile_file "$AR_DIR/cz.zip.gz" "gzip stream holds no tar archive"
}
l4m_test archive-compressed-non-tar test_arch_compressed_non_tar

# Damaged data is no success: libarchive only warns of a CRC that does not
# match (a stored 7z and a zip, one byte of the data flipped).
test_arch_damaged_data() {
        arch_setup
        in_container sh -c "cd '$AR_DIR' && rm -rf dd && mkdir -p dd/left4dead2/maps && cd dd &&
                head -c 100000 /dev/urandom > left4dead2/maps/m.bsp &&
                7z a -bd -y -mx=0 ../damaged.7z left4dead2 >/dev/null && zip -q -0 -r ../damaged.zip left4dead2"
        in_container "$L4M_PY" - "$AR_DIR" <<'PY'
import sys
d = sys.argv[1]
for name, offset in (("damaged.7z", 32 + 5000), ("damaged.zip", 30 + len("left4dead2/maps/m.bsp") + 5000)):
    b = bytearray(open(d + "/" + name, "rb").read())
    b[offset] ^= 0xFF
    open(d + "/" + name, "wb").write(bytes(b))
PY
        hostile_file "$AR_DIR/damaged.7z" "'left4dead2/maps/m.bsp'" "CRC"
        hostile_file "$AR_DIR/damaged.zip" "'left4dead2/maps/m.bsp'" "CRC"
}
l4m_test archive-damaged-data test_arch_damaged_data
