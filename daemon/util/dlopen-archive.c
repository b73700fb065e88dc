/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/util/: mechanisms the domains share: files without following links, workers, libcurl, units. */
#include "dlopen-archive.h"

DLSYM_PROTOTYPE(archive_entry_filetype) = NULL;
DLSYM_PROTOTYPE(archive_entry_free) = NULL;
DLSYM_PROTOTYPE(archive_entry_hardlink) = NULL;
DLSYM_PROTOTYPE(archive_entry_hardlink_utf8) = NULL;
DLSYM_PROTOTYPE(archive_entry_is_encrypted) = NULL;
DLSYM_PROTOTYPE(archive_entry_mtime) = NULL;
DLSYM_PROTOTYPE(archive_entry_mtime_is_set) = NULL;
DLSYM_PROTOTYPE(archive_entry_mtime_nsec) = NULL;
DLSYM_PROTOTYPE(archive_entry_new) = NULL;
DLSYM_PROTOTYPE(archive_entry_pathname) = NULL;
DLSYM_PROTOTYPE(archive_entry_pathname_utf8) = NULL;
DLSYM_PROTOTYPE(archive_entry_perm) = NULL;
DLSYM_PROTOTYPE(archive_entry_set_filetype) = NULL;
DLSYM_PROTOTYPE(archive_entry_set_gid) = NULL;
DLSYM_PROTOTYPE(archive_entry_set_mode) = NULL;
DLSYM_PROTOTYPE(archive_entry_set_mtime) = NULL;
DLSYM_PROTOTYPE(archive_entry_set_pathname) = NULL;
DLSYM_PROTOTYPE(archive_entry_set_perm) = NULL;
DLSYM_PROTOTYPE(archive_entry_set_size) = NULL;
DLSYM_PROTOTYPE(archive_entry_set_symlink) = NULL;
DLSYM_PROTOTYPE(archive_entry_set_uid) = NULL;
DLSYM_PROTOTYPE(archive_entry_size) = NULL;
DLSYM_PROTOTYPE(archive_entry_size_is_set) = NULL;
DLSYM_PROTOTYPE(archive_entry_symlink) = NULL;
DLSYM_PROTOTYPE(archive_entry_symlink_utf8) = NULL;
DLSYM_PROTOTYPE(archive_errno) = NULL;
DLSYM_PROTOTYPE(archive_error_string) = NULL;
DLSYM_PROTOTYPE(archive_filter_count) = NULL;
DLSYM_PROTOTYPE(archive_filter_name) = NULL;
DLSYM_PROTOTYPE(archive_format) = NULL;
DLSYM_PROTOTYPE(archive_format_name) = NULL;
DLSYM_PROTOTYPE(archive_read_data_block) = NULL;
DLSYM_PROTOTYPE(archive_read_free) = NULL;
DLSYM_PROTOTYPE(archive_read_new) = NULL;
DLSYM_PROTOTYPE(archive_read_next_header) = NULL;
DLSYM_PROTOTYPE(archive_read_open1) = NULL;
DLSYM_PROTOTYPE(archive_read_set_callback_data) = NULL;
DLSYM_PROTOTYPE(archive_read_set_options) = NULL;
DLSYM_PROTOTYPE(archive_read_set_read_callback) = NULL;
DLSYM_PROTOTYPE(archive_read_set_seek_callback) = NULL;
DLSYM_PROTOTYPE(archive_read_set_skip_callback) = NULL;
DLSYM_PROTOTYPE(archive_read_support_filter_bzip2) = NULL;
DLSYM_PROTOTYPE(archive_read_support_filter_gzip) = NULL;
DLSYM_PROTOTYPE(archive_read_support_filter_xz) = NULL;
DLSYM_PROTOTYPE(archive_read_support_filter_zstd) = NULL;
DLSYM_PROTOTYPE(archive_read_support_format_7zip) = NULL;
DLSYM_PROTOTYPE(archive_read_support_format_rar) = NULL;
DLSYM_PROTOTYPE(archive_read_support_format_rar5) = NULL;
DLSYM_PROTOTYPE(archive_read_support_format_tar) = NULL;
DLSYM_PROTOTYPE(archive_read_support_format_zip_seekable) = NULL;
DLSYM_PROTOTYPE(archive_set_error) = NULL;
DLSYM_PROTOTYPE(archive_write_add_filter_zstd) = NULL;
DLSYM_PROTOTYPE(archive_write_close) = NULL;
DLSYM_PROTOTYPE(archive_write_data) = NULL;
DLSYM_PROTOTYPE(archive_write_fail) = NULL;
DLSYM_PROTOTYPE(archive_write_free) = NULL;
DLSYM_PROTOTYPE(archive_write_header) = NULL;
DLSYM_PROTOTYPE(archive_write_new) = NULL;
DLSYM_PROTOTYPE(archive_write_open) = NULL;
DLSYM_PROTOTYPE(archive_write_open_fd) = NULL;
DLSYM_PROTOTYPE(archive_write_open_memory) = NULL;
DLSYM_PROTOTYPE(archive_write_set_bytes_in_last_block) = NULL;
DLSYM_PROTOTYPE(archive_write_set_bytes_per_block) = NULL;
DLSYM_PROTOTYPE(archive_write_set_format_pax_restricted) = NULL;
DLSYM_PROTOTYPE(archive_write_set_format_raw) = NULL;

int dlopen_archive(void) {
        static void *dl = NULL;

        return dlopen_many_sym_or_warn(&dl, "libarchive.so.13", "libarchive13",
                                       DLSYM_ARG(archive_entry_filetype),
                                       DLSYM_ARG(archive_entry_free),
                                       DLSYM_ARG(archive_entry_hardlink),
                                       DLSYM_ARG(archive_entry_hardlink_utf8),
                                       DLSYM_ARG(archive_entry_is_encrypted),
                                       DLSYM_ARG(archive_entry_mtime),
                                       DLSYM_ARG(archive_entry_mtime_is_set),
                                       DLSYM_ARG(archive_entry_mtime_nsec),
                                       DLSYM_ARG(archive_entry_new),
                                       DLSYM_ARG(archive_entry_pathname),
                                       DLSYM_ARG(archive_entry_pathname_utf8),
                                       DLSYM_ARG(archive_entry_perm),
                                       DLSYM_ARG(archive_entry_set_filetype),
                                       DLSYM_ARG(archive_entry_set_gid),
                                       DLSYM_ARG(archive_entry_set_mode),
                                       DLSYM_ARG(archive_entry_set_mtime),
                                       DLSYM_ARG(archive_entry_set_pathname),
                                       DLSYM_ARG(archive_entry_set_perm),
                                       DLSYM_ARG(archive_entry_set_size),
                                       DLSYM_ARG(archive_entry_set_symlink),
                                       DLSYM_ARG(archive_entry_set_uid),
                                       DLSYM_ARG(archive_entry_size),
                                       DLSYM_ARG(archive_entry_size_is_set),
                                       DLSYM_ARG(archive_entry_symlink),
                                       DLSYM_ARG(archive_entry_symlink_utf8),
                                       DLSYM_ARG(archive_errno),
                                       DLSYM_ARG(archive_error_string),
                                       DLSYM_ARG(archive_filter_count),
                                       DLSYM_ARG(archive_filter_name),
                                       DLSYM_ARG(archive_format),
                                       DLSYM_ARG(archive_format_name),
                                       DLSYM_ARG(archive_read_data_block),
                                       DLSYM_ARG(archive_read_free),
                                       DLSYM_ARG(archive_read_new),
                                       DLSYM_ARG(archive_read_next_header),
                                       DLSYM_ARG(archive_read_open1),
                                       DLSYM_ARG(archive_read_set_callback_data),
                                       DLSYM_ARG(archive_read_set_options),
                                       DLSYM_ARG(archive_read_set_read_callback),
                                       DLSYM_ARG(archive_read_set_seek_callback),
                                       DLSYM_ARG(archive_read_set_skip_callback),
                                       DLSYM_ARG(archive_read_support_filter_bzip2),
                                       DLSYM_ARG(archive_read_support_filter_gzip),
                                       DLSYM_ARG(archive_read_support_filter_xz),
                                       DLSYM_ARG(archive_read_support_filter_zstd),
                                       DLSYM_ARG(archive_read_support_format_7zip),
                                       DLSYM_ARG(archive_read_support_format_rar),
                                       DLSYM_ARG(archive_read_support_format_rar5),
                                       DLSYM_ARG(archive_read_support_format_tar),
                                       DLSYM_ARG(archive_read_support_format_zip_seekable),
                                       DLSYM_ARG(archive_set_error),
                                       DLSYM_ARG(archive_write_add_filter_zstd),
                                       DLSYM_ARG(archive_write_close),
                                       DLSYM_ARG(archive_write_data),
                                       DLSYM_ARG(archive_write_fail),
                                       DLSYM_ARG(archive_write_free),
                                       DLSYM_ARG(archive_write_header),
                                       DLSYM_ARG(archive_write_new),
                                       DLSYM_ARG(archive_write_open),
                                       DLSYM_ARG(archive_write_open_fd),
                                       DLSYM_ARG(archive_write_open_memory),
                                       DLSYM_ARG(archive_write_set_bytes_in_last_block),
                                       DLSYM_ARG(archive_write_set_bytes_per_block),
                                       DLSYM_ARG(archive_write_set_format_pax_restricted),
                                       DLSYM_ARG(archive_write_set_format_raw));
}
