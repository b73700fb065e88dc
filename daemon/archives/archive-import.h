/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/archives/: archive overlays: safe extraction of untrusted archives, the import and fetch jobs. */
#pragma once

#include <stdbool.h>

#include "job.h"
#include "overlay.h"

/* The "archive-import" job: extracts an archive the caller passed as a file
 * descriptor into a staging directory next to the overlay's (a thread runs
 * libarchive; the event loop only waits for it), then swaps the two
 * directories in one renameat2(RENAME_EXCHANGE). On any failure the
 * overlay's content stays exactly as it was. With merge, the staging
 * directory starts as a hard-linked copy of the current content (the
 * extractor replaces files, never writes into them). Not restartable: the
 * descriptor does not survive the daemon. */

typedef struct ArchiveImport ArchiveImport;

extern const JobKind archive_import_kind;
/* "archive-fetch": the same, for an archive downloaded first from the
 * overlay's source URL (into overlays/.download-<id>-<job>, capped at
 * [Archive] MaxBytes) and checked against its checksum. Restartable. */
extern const JobKind archive_fetch_kind;
/* "archive-fetch-placed": archive-fetch with Build's options (subdir,
 * strip_components, mode). Not restartable: nothing keeps the options
 * across a restart of the daemon, and a fetch placed otherwise than asked
 * must not happen; it fails instead, leaving the overlay as it was. */
extern const JobKind archive_fetch_placed_kind;
/* The kind of job that fetches o's source with opts (NULL: defaults). */
const JobKind *archive_fetch_kind_for(const ArchiveImportOptions *opts);

#define ARCHIVE_IMPORT_STRIP_MAX 32u
/* An import whose archive sends nothing for this long fails. */
#define ARCHIVE_IMPORT_STALL_USEC (10 * 60 * G_USEC_PER_SEC)

/* How ImportArchive's options ask for the archive to be imported. */
typedef struct ArchiveImportOptions {
        const char *subdir;             /* NULL: the overlay's top */
        unsigned strip_components;
        bool merge;                     /* false: replace */
        const char *name_encoding;      /* NULL: names must be UTF-8 (archive-extract.h) */
} ArchiveImportOptions;

/* Takes ownership of archive_fd; copies what opts (NULL: the defaults)
 * points to. */
ArchiveImport *archive_import_new(Overlay *o, int archive_fd, const ArchiveImportOptions *opts);
/* Fetches o's source; copies what opts (NULL: the defaults) points to. */
ArchiveImport *archive_fetch_new(Overlay *o, const ArchiveImportOptions *opts);
