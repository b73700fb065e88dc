# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The daemon's vtables match the introspection XML shipped in dbus/: the
# Manager, an overlay, a blueprint and a job.

# check_object XML-FILE OBJECT-PATH: compares the live introspection; prints
# the differences on stdout, returns non-zero if there are any.
check_object() {
        local xml=$1 path=$2 live
        live=$L4M_WORK/$(basename "$xml" .xml).live.xml
        step "live introspection of $path against dbus/$(basename "$xml")"
        in_container busctl --timeout="$L4M_CALL_TIMEOUT" introspect --xml-interface \
                "$L4M_BUS" "$path" >"$live"
        python3 "$L4M_SRCDIR/tests/integration/check-introspection.py" "$L4M_SRCDIR/dbus/$(basename "$xml")" "$live"
}

test_introspection() {
        local path out diffs=''
        daemon_up
        if ! out=$(check_object org.left4me.Manager.xml "$L4M_MANAGER"); then
                diffs+=$out$'\n'
        fi
        printf '%s\n' "$out" >&2
        if ! grep -q 'interface name="org.freedesktop.DBus.ObjectManager"' "$L4M_WORK/org.left4me.Manager.live.xml"; then
                diffs+="$L4M_MANAGER lacks org.freedesktop.DBus.ObjectManager"$'\n'
        fi

        path=$(ensure_overlay root introspect workshop)
        if ! out=$(check_object org.left4me.Overlay.xml "$path"); then
                diffs+=$out$'\n'
        fi
        printf '%s\n' "$out" >&2
        delete_overlay root "$path"

        # A blueprint object (over an overlay of its own).
        local ov bp
        ov=$(ensure_overlay root introspect-bp-layer workshop)
        gcall root "$L4M_MANAGER" org.left4me.Manager.CreateBlueprint "'introspect-bp'" "['introspect-bp-layer']" '@a{sv} {}'
        expect_ok "CreateBlueprint (to have a blueprint object)"
        bp=$(grep -o '/org/left4me/Manager/blueprint/[0-9]*' <<<"$OUT" | head -n 1)
        [[ -n $bp ]] || fail "CreateBlueprint answered no object path: $OUT"
        if ! out=$(check_object org.left4me.Blueprint.xml "$bp"); then
                diffs+=$out$'\n'
        fi
        printf '%s\n' "$out" >&2
        gcall root "$bp" org.left4me.Blueprint.Delete
        expect_ok "Delete the introspection blueprint"
        delete_overlay root "$ov"

        # A job object: made by an archive import of a tiny tar.
        local dir=/var/tmp/l4m-tests/introspection job
        path=$(ensure_overlay root introspect-job archive)
        in_container sh -c "mkdir -p $dir/t && echo x > $dir/t/x && tar -C $dir/t -cf $dir/x.tar ."
        l4mbus root import "$path" "$dir/x.tar"
        expect_ok "ImportArchive (to have a job object)"
        job=$(job_path_from_output)
        [[ -n $job ]] || fail "ImportArchive answered no job path: $OUT"
        job_wait "$job"
        if ! out=$(check_object org.left4me.Job.xml "$job"); then
                diffs+=$out$'\n'
        fi
        printf '%s\n' "$out" >&2
        delete_overlay root "$path"

        if [[ -n $diffs ]]; then
                fail "the live introspection differs from dbus/*.xml: $(grep -v '^introspection differs' <<<"$diffs" |
                        sed 's/^ *//' | grep -v '^$' | paste -sd ' ')"
        fi
}
l4m_test introspection test_introspection
