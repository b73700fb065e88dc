/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/archives/: archive overlays: safe extraction of untrusted archives, the import and fetch jobs. */
#pragma once

#include <locale.h>
#include <stdbool.h>
#include <stdint.h>

/* Safe extraction of untrusted archives (zip, 7z, rar, tar optionally
 * compressed with gzip, bzip2, xz, lzma or zstd) for archive overlays.
 *
 * libarchive only parses; every file system operation is done here,
 * relative to the destination directory, one path component at a time and
 * without ever following a symlink, so nothing an archive contains (or
 * plants with an earlier entry) can make us write outside the destination.
 *
 * Policy, each violation failing the whole extraction:
 *  - entry paths must be relative, without "..", no longer than PATH_MAX
 *    with components no longer than NAME_MAX; "." and empty components are
 *    ignored. A directory entry whose name is empty (the root itself, or
 *    consumed by strip_components) is skipped; any other entry left without
 *    a name after stripping is refused.
 *  - device nodes, fifos, sockets and encrypted entries are refused.
 *  - a path may not pass through a symlink or a non-directory; an existing
 *    file or symlink at the final component is replaced (later entries win),
 *    an existing directory is only replaced by a directory.
 *  - symlinks: the target must be relative, and may only start with "..",
 *    never have ".." after a name, and its leading ".." may not climb above
 *    the destination root from the link's directory. Since every directory
 *    a link can sit in is a real directory, this bounds resolution to the
 *    tree however links are chained.
 *  - hardlinks are allowed only to a regular file extracted earlier in the
 *    same run (their target path is stripped like entry paths); anything
 *    else is refused.
 *  - modes: directories 0755, files (mode & 0755) | 0644: no setuid,
 *    setgid, sticky or group/world write. Ownership, ACLs and xattrs are
 *    ignored; regular files keep their mtime.
 *  - names: libarchive decodes them as the format says (UTF-16 in 7z,
 *    zip's UTF-8 flag, pax headers, RAR's Unicode names); opts->name_encoding
 *    decodes every name of a format that does not say (zip without the
 *    flag, ustar, RAR without Unicode names), all of them in one code page,
 *    in a UTF-8 locale of the extracting thread. A name (or link target)
 *    that is not UTF-8 after that is refused, its bytes shown as \xNN; a
 *    backslash is a directory separator (Windows tools write it so), and
 *    "C:" or "C:/..." is absolute like "/...": the rules above apply after.
 *  - caps count the bytes actually written (holes of sparse files are
 *    written out as zeros and counted), never header claims; besides
 *    max_bytes, the archive may expand to max_ratio times its own size (or
 *    times ARCHIVE_RATIO_MIN_BASE, if it is smaller). Every cap is checked
 *    as each block is written.
 *  - a regular file's data must be exactly as long as its header declares
 *    (where the format declares it); a missing tail means a truncated
 *    archive or one volume of a split one, and is refused.
 *  - data libarchive only warns about (a bad CRC) is refused as damaged.
 *  - only tar archives may be compressed (gzip, bzip2, xz, zstd); a zip's
 *    entries are those of its central directory; multi-volume archives are refused
 *    (archive-volume.h); so is an archive that yields no entry, which is
 *    what a disk image or a file of zeros reads as.
 */

/* Components in an entry's path, subdir not counted; deeper is refused
 * (-EPERM) like any other entry the policy does not allow. */
#define ARCHIVE_PATH_DEPTH_MAX 128u

typedef struct ArchiveLimits {
        uint64_t max_bytes;        /* total bytes written, and of a piped archive read; 0: the default */
        uint64_t max_entries;      /* entries processed; 0: L4M_ARCHIVE_DEFAULT_MAX_ENTRIES */
        uint64_t max_entry_bytes;  /* bytes written for one entry; 0: L4M_ARCHIVE_DEFAULT_MAX_ENTRY_BYTES */
        uint64_t max_ratio;        /* bytes written per byte of archive; 0: L4M_ARCHIVE_DEFAULT_MAX_RATIO */
        bool has_budget;           /* whether budget_bytes applies */
        uint64_t budget_bytes;     /* total bytes written the owner's storage quota leaves (-EDQUOT past it) */
} ArchiveLimits;

/* A map pack of several campaigns fits; a single file of a VPK, whose
 * offsets are 32-bit, cannot be larger than 4 GiB. */
#define L4M_ARCHIVE_DEFAULT_MAX_BYTES       (UINT64_C(8) << 30)
#define L4M_ARCHIVE_DEFAULT_MAX_ENTRIES     UINT64_C(100000)
#define L4M_ARCHIVE_DEFAULT_MAX_ENTRY_BYTES (UINT64_C(4) << 30)
/* Map archives expand to a few times their size (see left4med(8)); bombs
 * to thousands. */
#define L4M_ARCHIVE_DEFAULT_MAX_RATIO       UINT64_C(100)
/* Archives smaller than this may expand as much as one of this size. */
#define ARCHIVE_RATIO_MIN_BASE              (UINT64_C(1) << 20)

typedef struct ArchiveExtractOptions {
        const char *subdir;         /* NULL, or a relative path below the destination to extract into */
        unsigned strip_components;  /* leading components removed from entry (and hardlink target) paths */
        const char *name_encoding;  /* NULL, or the iconv name of the code page of names that are not UTF-8 */
        ArchiveLimits limits;
} ArchiveExtractOptions;

/* Called from the extracting thread after each entry and in between at most
 * about every 64 KiB read or written. bytes_in counts bytes read from the
 * archive fd, bytes_written what was written (including zero-filled holes). */
typedef void (*ArchiveProgressFunc)(uint64_t bytes_in, uint64_t bytes_written, uint64_t entries, void *userdata);

/* Extracts the archive readable from archive_fd, starting at its current
 * position if it is a regular file, into the directory dest_fd (which must
 * be empty or a fresh staging directory the caller owns; on failure it
 * holds a partial tree the caller throws away). opts may be NULL for the
 * defaults. A pipe or socket (O_NONBLOCK or not) is first copied into a
 * file without a name in dest_fd (archive-spool.h), at most max_bytes, so
 * that every format is read the same way from either.
 *
 * Returns 0, or a negative errno with *ret_error (if not NULL) set to a
 * g_free()able, valid UTF-8 message naming the entry and the reason, e.g.
 * "entry '../../etc/x': path contains '..' and would leave the overlay":
 *   -EPERM          an entry refused by the policy above
 *   -ENAMETOOLONG   a path over PATH_MAX or a component over NAME_MAX
 *   -ENOTDIR        a path through a file; -EISDIR: a file over a directory
 *   -EFBIG          max_bytes, max_entry_bytes or max_ratio reached
 *   -EDQUOT         budget_bytes reached (limits.has_budget)
 *   -E2BIG          more than max_entries entries
 *   -EBADMSG        empty input, no entries, not a supported archive,
 *                   corrupt or truncated, data not of the declared size,
 *                   a zip, 7z or rar inside a compressed stream
 *   -EILSEQ         a name that is not UTF-8, or that libarchive could not
 *                   convert (from name_encoding, say)
 *   -EOPNOTSUPP     encrypted entries; one volume of a multi-volume archive
 *   -EINVAL         invalid opts->subdir or opts->name_encoding
 *   -EISDIR         archive_fd is a directory
 *   -ECANCELED      *cancel became non-zero (polled between blocks)
 *   other           I/O errors, reading the archive or writing the tree
 * Runs synchronously; the caller runs it in a thread. */
int archive_extract(int archive_fd, int dest_fd, const ArchiveExtractOptions *opts,
                    ArchiveProgressFunc progress, void *userdata,
                    const volatile int *cancel, char **ret_error);

/* libarchive converts names into (and from) the charset of the calling
 * thread's locale; in the C locale every name outside ASCII fails to
 * convert. A thread that reads or writes archives uses this (C.UTF-8,
 * whatever the process uses) with uselocale() and frees it after the
 * archive; (locale_t) 0 if it is missing (logged once). */
locale_t archive_utf8_locale_new(void);
