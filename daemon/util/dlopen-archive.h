/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/: mechanisms the domains share: files without following links, workers, libcurl, units. */
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include "dlopen-util.h"

/* libarchive, loaded on first use (dlopen-util.h). dlopen_archive() must have
 * returned 0 before any sym_ below is called: 0, or -EOPNOTSUPP (logged)
 * if libarchive.so.13 (Debian: libarchive13) is missing. */
int dlopen_archive(void);

extern DLSYM_PROTOTYPE(archive_entry_filetype);
extern DLSYM_PROTOTYPE(archive_entry_free);
extern DLSYM_PROTOTYPE(archive_entry_hardlink);
extern DLSYM_PROTOTYPE(archive_entry_hardlink_utf8);
extern DLSYM_PROTOTYPE(archive_entry_is_encrypted);
extern DLSYM_PROTOTYPE(archive_entry_mtime);
extern DLSYM_PROTOTYPE(archive_entry_mtime_is_set);
extern DLSYM_PROTOTYPE(archive_entry_mtime_nsec);
extern DLSYM_PROTOTYPE(archive_entry_new);
extern DLSYM_PROTOTYPE(archive_entry_pathname);
extern DLSYM_PROTOTYPE(archive_entry_pathname_utf8);
extern DLSYM_PROTOTYPE(archive_entry_perm);
extern DLSYM_PROTOTYPE(archive_entry_set_filetype);
extern DLSYM_PROTOTYPE(archive_entry_set_gid);
extern DLSYM_PROTOTYPE(archive_entry_set_mode);
extern DLSYM_PROTOTYPE(archive_entry_set_mtime);
extern DLSYM_PROTOTYPE(archive_entry_set_pathname);
extern DLSYM_PROTOTYPE(archive_entry_set_perm);
extern DLSYM_PROTOTYPE(archive_entry_set_size);
extern DLSYM_PROTOTYPE(archive_entry_set_symlink);
extern DLSYM_PROTOTYPE(archive_entry_set_uid);
extern DLSYM_PROTOTYPE(archive_entry_size);
extern DLSYM_PROTOTYPE(archive_entry_size_is_set);
extern DLSYM_PROTOTYPE(archive_entry_symlink);
extern DLSYM_PROTOTYPE(archive_entry_symlink_utf8);
extern DLSYM_PROTOTYPE(archive_errno);
extern DLSYM_PROTOTYPE(archive_error_string);
extern DLSYM_PROTOTYPE(archive_filter_count);
extern DLSYM_PROTOTYPE(archive_filter_name);
extern DLSYM_PROTOTYPE(archive_format);
extern DLSYM_PROTOTYPE(archive_format_name);
extern DLSYM_PROTOTYPE(archive_read_data_block);
extern DLSYM_PROTOTYPE(archive_read_free);
extern DLSYM_PROTOTYPE(archive_read_new);
extern DLSYM_PROTOTYPE(archive_read_next_header);
extern DLSYM_PROTOTYPE(archive_read_open1);
extern DLSYM_PROTOTYPE(archive_read_set_callback_data);
extern DLSYM_PROTOTYPE(archive_read_set_options);
extern DLSYM_PROTOTYPE(archive_read_set_read_callback);
extern DLSYM_PROTOTYPE(archive_read_set_seek_callback);
extern DLSYM_PROTOTYPE(archive_read_set_skip_callback);
extern DLSYM_PROTOTYPE(archive_read_support_filter_bzip2);
extern DLSYM_PROTOTYPE(archive_read_support_filter_gzip);
extern DLSYM_PROTOTYPE(archive_read_support_filter_xz);
extern DLSYM_PROTOTYPE(archive_read_support_filter_zstd);
extern DLSYM_PROTOTYPE(archive_read_support_format_7zip);
extern DLSYM_PROTOTYPE(archive_read_support_format_rar);
extern DLSYM_PROTOTYPE(archive_read_support_format_rar5);
extern DLSYM_PROTOTYPE(archive_read_support_format_tar);
extern DLSYM_PROTOTYPE(archive_read_support_format_zip_seekable);
extern DLSYM_PROTOTYPE(archive_set_error);
extern DLSYM_PROTOTYPE(archive_write_add_filter_zstd);
extern DLSYM_PROTOTYPE(archive_write_close);
extern DLSYM_PROTOTYPE(archive_write_data);
extern DLSYM_PROTOTYPE(archive_write_fail);
extern DLSYM_PROTOTYPE(archive_write_free);
extern DLSYM_PROTOTYPE(archive_write_header);
extern DLSYM_PROTOTYPE(archive_write_new);
extern DLSYM_PROTOTYPE(archive_write_open);
extern DLSYM_PROTOTYPE(archive_write_open_fd);
extern DLSYM_PROTOTYPE(archive_write_open_memory);
extern DLSYM_PROTOTYPE(archive_write_set_bytes_in_last_block);
extern DLSYM_PROTOTYPE(archive_write_set_bytes_per_block);
extern DLSYM_PROTOTYPE(archive_write_set_format_pax_restricted);
extern DLSYM_PROTOTYPE(archive_write_set_format_raw);
