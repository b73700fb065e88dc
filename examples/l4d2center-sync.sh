#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# l4d2center-sync.sh: a left4me script overlay that keeps the map pack of
# l4d2center.com (or any index in the same format) in the overlay.
#
#   l4mctl overlay create l4d2center --type script
#   l4mctl overlay set-script l4d2center examples/l4d2center-sync.sh
#   l4mctl overlay build l4d2center --wait
#
# The index is a JSON array of objects such as
#   {"name": "x.vpk", "download_link": "https://…/x.7z", "md5": "<md5 of x.vpk>"}
# (other keys are ignored). For every entry the script makes sure that
# $OVERLAY/$GAME_DIR/addons/<name> exists with that md5: a file that
# matches is left alone; otherwise the archive is downloaded to $TMPDIR,
# extracted with 7z (unzip or tar where 7z cannot), <name> is looked for in
# it and checked, and moved into addons/ under a temporary name first, then
# renamed, so that a map is never half there. The names it installed are
# kept in addons/.l4d2center-sync.list; a map that leaves the index is
# removed (files it did not install are never touched).
#
# One line per entry: "installed", "updated", "up to date", "removed" or
# "FAILED: <reason>", then a summary. Exit status: 0 when every entry is in
# place, 1 when some failed (the others are still done), 2 when the index
# cannot be fetched or parsed (then nothing changes).
#
# It needs only bash, coreutils, curl, 7z (p7zip-full), unzip, tar and xz,
# which is what the left4me sandbox offers; it runs outside left4me too:
#   OVERLAY=/tmp/x GAME_DIR=left4dead2 bash examples/l4d2center-sync.sh

set -euo pipefail
shopt -s nullglob

INDEX_URL="https://l4d2center.com/maps/servers/index.json"

# Limits: the index's size, one archive's size, and how long a transfer may
# stall (below LOW_SPEED bytes/s for LOW_SPEED_TIME s) before it is retried.
# A transfer is tried 4 times in all (an unreachable host costs about 90 s).
INDEX_MAX_BYTES=$((16 * 1024 * 1024))
ARCHIVE_MAX_BYTES=$((8 * 1024 * 1024 * 1024))
LOW_SPEED=1024
LOW_SPEED_TIME=60
NAME_MAX_BYTES=200

: "${OVERLAY:?OVERLAY must name the overlay directory}"
GAME_DIR=${GAME_DIR:-left4dead2}
TMPDIR=${TMPDIR:-/tmp}
ADDONS=$OVERLAY/$GAME_DIR/addons
MANIFEST=$ADDONS/.l4d2center-sync.list
PART_PREFIX=$ADDONS/.l4d2center-sync.part
umask 022

CURL_OPTS=(--disable --fail --silent --show-error --location
           --proto '=https,http' --proto-redir '=https,http'
           --connect-timeout 20 --speed-limit "$LOW_SPEED" --speed-time "$LOW_SPEED_TIME"
           --retry 3 --retry-delay 3 --retry-connrefused)

die_index() {
        printf 'FAILED: %s\n' "$*"
        printf 'Nothing was changed.\n'
        exit 2
}

# ---------------------------------------------------------------------------
# A JSON reader for the index, in bash alone. It reads the whole text in
# the C locale (byte offsets), one token at a time: JT is the token's type
# ("[", "]", "{", "}", ":", ",", "s" string, "v" number/true/false/null,
# "EOF") and JV a string's decoded value. Errors set JERR.

JSON=
JLEN=0
JPOS=0
JSTART=0
JT=
JV=
JERR=
# ${JSON:offset:length} costs time in proportion to the whole text, so the
# tokens are cut from W, a copy of JSON[WBASE, WBASE + WSIZE), which is
# moved on when fewer than WMIN bytes are left in it.
W=
WBASE=0
WSIZE=2048
WMIN=512

# Make W hold JSON from JPOS on (at least WMIN bytes of it, if there are).
json_window() {
        if ((JPOS - WBASE + WMIN > ${#W} && WBASE + ${#W} < JLEN)) || ((JPOS < WBASE)); then
                W=${JSON:JPOS:WSIZE}
                WBASE=$JPOS
        fi
}

json_error() {
        JERR="at byte $JSTART: $*"
        return 1
}

# The UTF-8 bytes of code point $1 into JV_CHAR.
utf8_char() {
        local cp=$1 esc
        if ((cp < 0x80)); then
                printf -v esc '\\x%02x' "$cp"
        elif ((cp < 0x800)); then
                printf -v esc '\\x%02x\\x%02x' $((0xC0 | cp >> 6)) $((0x80 | (cp & 0x3F)))
        elif ((cp < 0x10000)); then
                printf -v esc '\\x%02x\\x%02x\\x%02x' $((0xE0 | cp >> 12)) \
                        $((0x80 | (cp >> 6 & 0x3F))) $((0x80 | (cp & 0x3F)))
        else
                printf -v esc '\\x%02x\\x%02x\\x%02x\\x%02x' $((0xF0 | cp >> 18)) \
                        $((0x80 | (cp >> 12 & 0x3F))) $((0x80 | (cp >> 6 & 0x3F))) $((0x80 | (cp & 0x3F)))
        fi
        printf -v JV_CHAR '%b' "$esc"
}

# A string starts at JPOS (the opening quote).
json_string() {
        local out='' win seg c hex lo cp
        JPOS=$((JPOS + 1))
        while :; do
                json_window
                win=${W:JPOS-WBASE}
                [[ -n $win ]] || { json_error "unterminated string"; return 1; }
                seg=${win%%[\"\\]*}
                out+=$seg
                JPOS=$((JPOS + ${#seg}))
                ((${#seg} < ${#win})) || continue
                json_window
                c=${W:JPOS-WBASE:1}
                if [[ $c == '"' ]]; then
                        JPOS=$((JPOS + 1))
                        break
                fi
                c=${W:JPOS-WBASE+1:1}
                case $c in
                '"' | \\ | /) out+=$c ;;
                b) out+=$'\b' ;;
                f) out+=$'\f' ;;
                n) out+=$'\n' ;;
                r) out+=$'\r' ;;
                t) out+=$'\t' ;;
                u)
                        hex=${W:JPOS-WBASE+2:4}
                        [[ $hex =~ ^[0-9A-Fa-f]{4}$ ]] || { json_error "bad \\u escape"; return 1; }
                        cp=$((16#$hex))
                        if ((cp >= 0xD800 && cp <= 0xDBFF)); then
                                lo=${W:JPOS-WBASE+6:6}
                                [[ $lo =~ ^\\u[dD][c-fC-F][0-9A-Fa-f]{2}$ ]] ||
                                        { json_error "unpaired surrogate"; return 1; }
                                cp=$((0x10000 + ((cp - 0xD800) << 10) + (16#${lo:2} - 0xDC00)))
                                JPOS=$((JPOS + 6))
                        elif ((cp >= 0xDC00 && cp <= 0xDFFF)); then
                                json_error "unpaired surrogate"
                                return 1
                        elif ((cp == 0)); then
                                json_error "\\u0000 in a string"
                                return 1
                        fi
                        utf8_char "$cp"
                        out+=$JV_CHAR
                        JPOS=$((JPOS + 4))
                        ;;
                *) json_error "bad escape"; return 1 ;;
                esac
                JPOS=$((JPOS + 2))
        done
        JT=s
        JV=$out
}

json_next() {
        local win ws
        while :; do
                json_window
                win=${W:JPOS-WBASE}
                ws=${win%%[!$' \t\r\n']*}
                JPOS=$((JPOS + ${#ws}))
                ((${#ws} == ${#win} && ${#win} > 0)) || break
        done
        win=${win:${#ws}}
        JV=
        JSTART=$JPOS
        if [[ -z $win ]]; then
                JT=EOF
                return 0
        fi
        case ${win:0:1} in
        '[' | ']' | '{' | '}' | ':' | ',')
                JT=${win:0:1}
                JPOS=$((JPOS + 1))
                ;;
        '"')
                json_string
                ;;
        - | [0-9] | t | f | n)
                if [[ $win =~ ^(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?|true|false|null) ]]; then
                        JT=v
                        JPOS=$((JPOS + ${#BASH_REMATCH[0]}))
                else
                        json_error "unexpected text"
                        return 1
                fi
                ;;
        *)
                json_error "unexpected character"
                return 1
                ;;
        esac
}

json_expect() {
        json_next || return 1
        [[ $JT == "$1" ]] || { json_error "expected '$1'"; return 1; }
}

# Skip the value whose first token is the current one (nested arrays and
# objects of keys this script does not use are skipped whole).
json_skip_value() {
        local open='' # the brackets still open, innermost last
        [[ $JT != ':' && $JT != ',' ]] || { json_error "expected a value"; return 1; }
        while :; do
                case $JT in
                '[') open+=']' ;;
                '{') open+='}' ;;
                ']' | '}')
                        [[ -n $open && ${open: -1} == "$JT" ]] || { json_error "unexpected '$JT'"; return 1; }
                        open=${open%?}
                        ;;
                s | v | ':' | ',') ;;
                *) json_error "unexpected end of the index"; return 1 ;;
                esac
                [[ -n $open ]] || break
                ((${#open} <= 64)) || { json_error "nested too deeply"; return 1; }
                json_next || return 1
        done
}

# The entries: E_NAME, E_LINK, E_MD5 (a value, or unset if missing) and
# E_PROBLEM (a key that was not a string).
E_NAME=()
E_LINK=()
E_MD5=()
E_PROBLEM=()

json_parse_object() {
        local i=$1 key
        json_next || return 1
        [[ $JT == '}' ]] && return 0
        while :; do
                [[ $JT == s ]] || { json_error "expected a key"; return 1; }
                key=$JV
                json_expect ':' || return 1
                json_next || return 1
                case $key in
                name | download_link | md5)
                        if [[ $JT != s ]]; then
                                E_PROBLEM[i]="\"$key\" is not a string"
                                json_skip_value || return 1
                        elif [[ $key == name ]]; then
                                E_NAME[i]=$JV
                        elif [[ $key == download_link ]]; then
                                E_LINK[i]=$JV
                        else
                                E_MD5[i]=$JV
                        fi
                        ;;
                *)
                        json_skip_value || return 1
                        ;;
                esac
                json_next || return 1
                case $JT in
                ',') json_next || return 1 ;;
                '}') return 0 ;;
                *) json_error "expected ',' or '}'"; return 1 ;;
                esac
        done
}

# Parse the index in file $1 into the E_* arrays; N_ENTRIES is their count.
parse_index() {
        local LC_ALL=C size
        N_ENTRIES=0
        IFS= read -r -d '' JSON <"$1" || true
        size=$(wc -c <"$1")
        ((${#JSON} == size)) || { JERR="it contains a NUL byte"; return 1; }
        JSON=${JSON#$'\xef\xbb\xbf'} # a byte order mark
        JLEN=${#JSON}
        JPOS=0
        W=
        WBASE=0
        json_expect '[' || return 1
        json_next || return 1
        if [[ $JT != ']' ]]; then
                while :; do
                        [[ $JT == '{' ]] || { json_error "expected an object"; return 1; }
                        json_parse_object "$N_ENTRIES" || return 1
                        N_ENTRIES=$((N_ENTRIES + 1))
                        json_next || return 1
                        case $JT in
                        ',') json_next || return 1 ;;
                        ']') break ;;
                        *) json_error "expected ',' or ']'"; return 1 ;;
                        esac
                done
        fi
        json_expect EOF || return 1
        JSON=
        W=
}

# ---------------------------------------------------------------------------

# A plain file name ending in .vpk: no slash, no leading dot, no control
# characters, not too long.
valid_name() {
        local LC_ALL=C n=$1
        [[ ${#n} -le $NAME_MAX_BYTES && $n == *.vpk && $n != .* && $n != */* ]] || return 1
        [[ $n != *[[:cntrl:]]* ]]
}

md5_of() {
        local sum
        sum=$(md5sum <"$1") || return 1
        MD5=${sum%% *}
}

human_size() {
        numfmt --to=iec-i --suffix=B "$(stat -c %s -- "$1")" 2>/dev/null || stat -c '%s bytes' -- "$1"
}

# The telling line of a tool's error output: the first that mentions an
# error, else the last that is not empty; at most 300 bytes.
one_line() {
        local line pick='' last=''
        while IFS= read -r line || [[ -n $line ]]; do
                line=${line//$'\r'/ }
                [[ $line == *[![:space:]]* ]] || continue
                last=$line
                if [[ -z $pick && $line == *[Ee][Rr][Rr][Oo][Rr]* ]]; then
                        pick=$line
                fi
        done <<<"$1"
        pick=${pick:-$last}
        printf '%s' "${pick:0:300}"
}

# Extract archive $1 into directory $2 (which exists and is empty); tar
# for .tar(.gz|.xz), else 7z, else (for a zip 7z refuses) unzip.
extract() {
        local archive=$1 dir=$2 magic out
        magic=$(head -c 6 -- "$archive" | od -An -tx1 | tr -d ' \n')
        case $magic in
        fd377a585a00* | 1f8b*)
                out=$(tar -x -f "$archive" -C "$dir" --no-same-owner --no-same-permissions 2>&1 </dev/null) && return 0
                ;;
        *)
                out=$(7z x -y -bd -bso0 -bsp0 -o"$dir" -- "$archive" 2>&1 </dev/null) && return 0
                if [[ $magic == 504b0304* ]]; then
                        chmod -R u+rwX -- "$dir" 2>/dev/null || true
                        rm -rf -- "${dir:?}"/* "$dir"/.[!.]* "$dir"/..?*
                        out=$(unzip -qq -o -d "$dir" -- "$archive" 2>&1 </dev/null) && return 0
                fi
                ;;
        esac
        EXTRACT_ERROR=$(one_line "$out")
        return 1
}

# Remove $entry, the work directory of one entry, whatever the archive's
# modes were.
drop_entry() {
        [[ -e $entry ]] || return 0
        chmod -R u+rwX -- "$entry" 2>/dev/null || true
        rm -rf -- "$entry" || true
}

# Process entry $1 ("[k/N] " prefix $2). Prints its line; sets RESULT to
# installed, updated, uptodate or failed.
process_entry() {
        local i=$1 tag=$2 name link md5 dest entry archive dir err found part f
        local -a candidates
        name=${E_NAME[i]-}
        link=${E_LINK[i]-}
        md5=${E_MD5[i]-}
        RESULT=failed

        if [[ -z ${E_NAME[i]+set} ]]; then
                printf '%sentry %d: FAILED: %s\n' "$tag" "$((i + 1))" "${E_PROBLEM[i]:-no \"name\"}"
                return 0
        fi
        if ! valid_name "$name"; then
                printf '%sentry %d: FAILED: invalid name %q (a plain file name ending in .vpk)\n' \
                        "$tag" "$((i + 1))" "$name"
                return 0
        fi
        if [[ -n ${SEEN[$name]+set} ]]; then
                printf '%s%s: FAILED: listed more than once\n' "$tag" "$name"
                return 0
        fi
        SEEN[$name]=1
        if [[ -n ${E_PROBLEM[i]+set} ]]; then
                printf '%s%s: FAILED: %s\n' "$tag" "$name" "${E_PROBLEM[i]}"
                return 0
        fi
        if [[ ! $md5 =~ ^[0-9A-Fa-f]{32}$ ]]; then
                printf '%s%s: FAILED: invalid md5 %q\n' "$tag" "$name" "$md5"
                return 0
        fi
        md5=${md5,,}

        dest=$ADDONS/$name
        if [[ -d $dest && ! -L $dest ]]; then
                printf '%s%s: FAILED: %s is a directory\n' "$tag" "$name" "$dest"
                return 0
        fi
        if [[ -f $dest && ! -L $dest ]] && md5_of "$dest" && [[ $MD5 == "$md5" ]]; then
                KEEP[$name]=1
                printf '%s%s: up to date\n' "$tag" "$name"
                RESULT=uptodate
                return 0
        fi

        if [[ ! $link =~ ^https?://[^[:space:][:cntrl:]]+$ ]]; then
                printf '%s%s: FAILED: invalid download_link %q\n' "$tag" "$name" "$link"
                return 0
        fi

        entry=$WORK/entry
        drop_entry
        if ! mkdir -- "$entry" "$entry/x"; then
                printf '%s%s: FAILED: cannot make a directory in %s\n' "$tag" "$name" "$WORK"
                return 0
        fi
        archive=$entry/archive
        dir=$entry/x

        if ! err=$(curl "${CURL_OPTS[@]}" --max-filesize "$ARCHIVE_MAX_BYTES" \
                        -o "$archive" -- "$link" 2>&1 </dev/null); then
                printf '%s%s: FAILED: download failed: %s\n' "$tag" "$name" "$(one_line "$err")"
                drop_entry
                return 0
        fi
        if ! extract "$archive" "$dir"; then
                printf '%s%s: FAILED: cannot extract %s: %s\n' "$tag" "$name" "${link##*/}" "$EXTRACT_ERROR"
                drop_entry
                return 0
        fi
        rm -f -- "$archive" || true
        # Whatever modes the archive had: readable and removable by us.
        chmod -R u+rwX -- "$dir" 2>/dev/null || true

        # Regular files called <name> anywhere in it (** does not follow
        # symbolic links); the first with the right md5 wins.
        candidates=()
        shopt -s globstar dotglob
        for f in "$dir"/**/"$name"; do
                [[ -f $f && ! -L $f ]] && candidates+=("$f")
        done
        shopt -u globstar dotglob
        if ((${#candidates[@]} == 0)); then
                printf '%s%s: FAILED: the archive has no regular file %s\n' "$tag" "$name" "$name"
                drop_entry
                return 0
        fi
        found=
        err=
        for f in "${candidates[@]}"; do
                if md5_of "$f" && [[ $MD5 == "$md5" ]]; then
                        found=$f
                        break
                fi
                err=${MD5:-unreadable}
        done
        if [[ -z $found ]]; then
                printf '%s%s: FAILED: md5 mismatch: the archive has %s, the index says %s\n' \
                        "$tag" "$name" "$err" "$md5"
                drop_entry
                return 0
        fi

        # Into addons/ under a temporary name (a copy when $TMPDIR is another
        # file system), then one rename.
        part=$PART_PREFIX.$$.$i
        if ! err=$(mv -f -T -- "$found" "$part" 2>&1) || ! chmod 0644 -- "$part"; then
                rm -f -- "$part"
                printf '%s%s: FAILED: cannot copy it into %s: %s\n' "$tag" "$name" "$ADDONS" "$(one_line "$err")"
                drop_entry
                return 0
        fi
        if [[ -e $dest || -L $dest ]]; then
                RESULT=updated
        else
                RESULT=installed
        fi
        if ! err=$(mv -f -T -- "$part" "$dest" 2>&1); then
                rm -f -- "$part"
                RESULT=failed
                printf '%s%s: FAILED: cannot rename it into place: %s\n' "$tag" "$name" "$(one_line "$err")"
                drop_entry
                return 0
        fi
        drop_entry
        KEEP[$name]=1
        printf '%s%s: %s (%s)\n' "$tag" "$name" "$RESULT" "$(human_size "$dest")"
        return 0
}

main() {
        local i tool name n_failed=0 n_installed=0 n_updated=0 n_uptodate=0 n_removed=0
        local -a old_names=()

        for tool in curl md5sum 7z; do
                command -v "$tool" >/dev/null || die_index "$tool is not installed"
        done

        mkdir -p -- "$ADDONS" || die_index "cannot create $ADDONS"
        WORK=$(mktemp -d "${TMPDIR%/}/l4d2center-sync.XXXXXXXX") || die_index "cannot create a directory in $TMPDIR"
        trap 'chmod -R u+rwX -- "$WORK" 2>/dev/null; rm -rf -- "$WORK"; rm -f -- "$PART_PREFIX.$$".*' EXIT

        # What a killed run may have left.
        rm -f -- "$PART_PREFIX".*

        printf 'Fetching the index %s\n' "$INDEX_URL"
        local err
        if ! err=$(curl "${CURL_OPTS[@]}" --max-filesize "$INDEX_MAX_BYTES" --max-time 600 \
                        -o "$WORK/index.json" -- "$INDEX_URL" 2>&1 </dev/null); then
                die_index "cannot fetch the index: $(one_line "$err")"
        fi
        if (($(stat -c %s -- "$WORK/index.json") > INDEX_MAX_BYTES)); then
                die_index "the index is larger than $INDEX_MAX_BYTES bytes"
        fi
        if ! parse_index "$WORK/index.json"; then
                die_index "cannot parse the index: $JERR"
        fi
        printf 'The index lists %d file(s).\n' "$N_ENTRIES"

        # The names this script installed before.
        declare -gA OLD=() SEEN=() KEEP=()
        if [[ -f $MANIFEST ]]; then
                while IFS= read -r name || [[ -n $name ]]; do
                        if valid_name "$name" && [[ -z ${OLD[$name]+set} ]]; then
                                OLD[$name]=1
                                old_names+=("$name")
                        fi
                done <"$MANIFEST"
        fi

        # Names the index lists at all (even with a bad md5 or link): those
        # are not removed.
        local -A listed=()
        for ((i = 0; i < N_ENTRIES; i++)); do
                name=${E_NAME[i]-}
                valid_name "$name" && listed[$name]=1
        done
        if ((${#listed[@]} == 0 && ${#old_names[@]} > 0)); then
                die_index "the index lists no usable file; not removing the ${#old_names[@]} installed before"
        fi

        for ((i = 0; i < N_ENTRIES; i++)); do
                process_entry "$i" "[$((i + 1))/$N_ENTRIES] "
                case $RESULT in
                installed) n_installed=$((n_installed + 1)) ;;
                updated) n_updated=$((n_updated + 1)) ;;
                uptodate) n_uptodate=$((n_uptodate + 1)) ;;
                *) n_failed=$((n_failed + 1)) ;;
                esac
        done

        # Maps that left the index; those it still lists but that failed
        # keep their old file (and their place in the manifest).
        for name in "${old_names[@]}"; do
                if [[ -n ${listed[$name]+set} ]]; then
                        [[ -e $ADDONS/$name || -L $ADDONS/$name ]] && KEEP[$name]=1
                        continue
                fi
                if [[ -d $ADDONS/$name && ! -L $ADDONS/$name ]]; then
                        printf '%s: FAILED: not in the index any more, but a directory; left alone\n' "$name"
                        n_failed=$((n_failed + 1))
                elif rm -f -- "${ADDONS:?}/$name"; then
                        printf '%s: removed (not in the index any more)\n' "$name"
                        n_removed=$((n_removed + 1))
                else
                        printf '%s: FAILED: not in the index any more, but cannot be removed\n' "$name"
                        n_failed=$((n_failed + 1))
                        KEEP[$name]=1
                fi
        done

        # The new manifest, replaced in one rename.
        if ! { for name in "${!KEEP[@]}"; do printf '%s\n' "$name"; done | LC_ALL=C sort >"$MANIFEST.new" &&
                mv -f -T -- "$MANIFEST.new" "$MANIFEST"; }; then
                rm -f -- "$MANIFEST.new"
                printf 'FAILED: cannot write %s\n' "$MANIFEST"
                n_failed=$((n_failed + 1))
        fi

        printf 'Summary: %d installed, %d updated, %d up to date, %d removed, %d failed.\n' \
                "$n_installed" "$n_updated" "$n_uptodate" "$n_removed" "$n_failed"
        ((n_failed == 0)) || exit 1
}

main "$@"
