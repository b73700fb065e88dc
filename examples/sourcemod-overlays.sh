#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# MetaMod:Source and SourceMod as two archive overlays, from pinned Linux
# builds whose sha256 you have verified yourself. See examples/sourcemod.md.
#
#   MMS_SHA256=<64 hex digits> SM_SHA256=<64 hex digits> examples/sourcemod-overlays.sh
#
# Runs as a user who may manage overlays (a member of group left4me, say).
# For each of the two: downloads the archive to a temporary directory,
# refuses it unless its sha256 is the pinned one, creates the archive
# overlay if it does not exist yet and imports the archive into it with
# --subdir left4dead2 (the archives hold addons/..., which belongs in the
# game's left4dead2/ directory), replacing what the overlay held. Nothing
# is imported unless both archives match.
#
# Then stack them in a blueprint, SourceMod above MetaMod:Source, and any
# overlay of your own plugins and configs above both:
#
#   l4mctl blueprint create coop-sm my-sm-config sourcemod metamod
#
# Everything below can be set from the environment.
set -euo pipefail

# The builds to install: pin exact builds (never a "latest" link), so that
# every server gets the same files and a changed file is noticed.
MMS_URL=${MMS_URL:-https://mms.alliedmods.net/mmsdrop/1.11/mmsource-1.11.0-git1155-linux.tar.gz}
SM_URL=${SM_URL:-https://sm.alliedmods.net/smdrop/1.11/sourcemod-1.11.0-git6968-linux.tar.gz}

# The sha256 of each archive, as you verified it (e.g. from the .sha256 file
# AlliedModders publishes next to it, fetched over HTTPS, compared with
# what sha256sum says of your download). Deliberately empty: this script
# refuses to run without them, and nobody can fill them in for you.
MMS_SHA256=${MMS_SHA256:-}
SM_SHA256=${SM_SHA256:-}

# The overlays' names.
MMS_OVERLAY=${MMS_OVERLAY:-metamod}
SM_OVERLAY=${SM_OVERLAY:-sourcemod}

L4MCTL=${L4MCTL:-l4mctl}

die() {
        printf '%s: %s\n' "${0##*/}" "$*" >&2
        exit "${2:-1}"
}

for v in MMS_SHA256 SM_SHA256; do
        [[ -n ${!v} ]] || die "$v is not set: set it to the sha256 of the archive you verified (see examples/sourcemod.md)" 2
        [[ ${!v} =~ ^[0-9a-fA-F]{64}$ ]] || die "$v is not 64 hex digits: '${!v}'" 2
done
for v in MMS_OVERLAY SM_OVERLAY; do
        [[ ${!v} =~ ^[a-z0-9][a-z0-9_-]{0,47}$ ]] || die "$v '${!v}' is not an overlay name" 2
done
command -v curl >/dev/null || die "curl is missing" 2
command -v sha256sum >/dev/null || die "sha256sum is missing" 2

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# fetch URL SHA256 FILE: the download, checked.
fetch() {
        local url=$1 want=${2,,} file=$3 got
        printf 'Downloading %s\n' "$url"
        curl --fail --silent --show-error --location --max-filesize 268435456 -o "$file" "$url" ||
                die "cannot download $url"
        got=$(sha256sum "$file" | cut -d' ' -f1)
        [[ $got == "$want" ]] || die "$url has sha256 $got, not the pinned $want: not imported"
}

# install OVERLAY FILE: creates the archive overlay if needed, imports FILE.
install() {
        local overlay=$1 file=$2 rc=0
        "$L4MCTL" overlay show "$overlay" >/dev/null 2>&1 || rc=$?
        if ((rc == 4)); then
                "$L4MCTL" overlay create "$overlay" --type archive >/dev/null
        elif ((rc != 0)); then
                die "cannot look up overlay $overlay (l4mctl exit $rc)"
        fi
        printf 'Importing into overlay %s\n' "$overlay"
        "$L4MCTL" overlay import "$overlay" "$file" --subdir left4dead2 --wait
}

fetch "$MMS_URL" "$MMS_SHA256" "$WORK/mms.tar.gz"
fetch "$SM_URL" "$SM_SHA256" "$WORK/sm.tar.gz"
install "$MMS_OVERLAY" "$WORK/mms.tar.gz"
install "$SM_OVERLAY" "$WORK/sm.tar.gz"
printf 'Done: stack %s above %s in a blueprint.\n' "$SM_OVERLAY" "$MMS_OVERLAY"
