/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

/* Logging in systemd's manner: log_*() return the negative errno they were
 * given, so "return log_error_errno(r, ...);" reports and propagates in one
 * step. When stderr is connected to the journal (JOURNAL_STREAM), entries
 * go to the journal natively with CODE_FILE/CODE_LINE/CODE_FUNC, ERRNO and
 * any extra KEY=value fields; otherwise they are printed to stderr. */

void l4m_log_open(const char *ident);
/* Log through stderr even when it is a journal stream (with "<N>" priority
 * prefixes then). For programs that exit at once: journald files a native
 * message under a unit by looking at /proc/PID, which may be gone by then;
 * a stream carries its unit with it. */
void l4m_log_use_stream(void);
void l4m_log_set_max_level(int level);
int l4m_log_get_max_level(void);

int l4m_log_internal(int level, int error, const char *const *fields,
                     const char *file, int line, const char *func,
                     const char *format, ...) __attribute__((format(printf, 7, 8)));

#define log_full_errno(level, error, ...) \
        l4m_log_internal((level), (error), NULL, __FILE__, __LINE__, __func__, __VA_ARGS__)
/* fields: a NULL-terminated array of "KEY=value" strings added to the entry. */
#define log_struct_errno(level, error, fields, ...) \
        l4m_log_internal((level), (error), (fields), __FILE__, __LINE__, __func__, __VA_ARGS__)

#define log_debug(...)   log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...)    log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...)  log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...)   log_full_errno(LOG_ERR, 0, __VA_ARGS__)

#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...)    log_full_errno(LOG_INFO, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, (e), __VA_ARGS__)

/* Thread-safe error text for an errno value of either sign, for use as a
 * "%s" argument (glibc's "%m" is not ISO C, and the tree builds -Wpedantic). */
#define STRERROR(e) strerror_r(abs(e), (char[128]) { 0 }, 128)

#define log_oom() log_error_errno(ENOMEM, "Out of memory.")
