/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/instances/: server instances: records and rules, units and runtime, RCON, A2S and their logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>
#include <systemd/sd-event.h>

#include "console.h"

/* A unit's journal as a byte stream for a client (Instance.OpenLog): the
 * daemon reads it with sd-journal on its event loop and writes one line per
 * message into a pipe whose read end the client gets. */

/* Streams open at once per daemon (each sd_journal holds descriptors of
 * every journal file), and per client principal. */
#define JOURNAL_STREAMS_MAX 64u
#define JOURNAL_STREAMS_PER_CLIENT_MAX 16u
/* The most history lines one stream starts with. */
#define JOURNAL_STREAM_LINES_MAX 10000u
/* A line, timestamp and prefix included, is cut to this many bytes. */
#define JOURNAL_STREAM_LINE_MAX 8192u
#define JOURNAL_STREAM_CUT_MARKER "…[cut]"

typedef struct JournalStreamSet JournalStreamSet;

int journal_stream_set_new(sd_event *event, unsigned max_streams, unsigned max_per_client,
                           JournalStreamSet **ret);
/* Closes every stream (their readers see end of file). */
JournalStreamSet *journal_stream_set_free(JournalStreamSet *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(JournalStreamSet, journal_stream_set_free)

unsigned journal_stream_set_count(const JournalStreamSet *s);

/* Closes every stream of unit (their readers see end of file, whatever
 * was not written yet is dropped); returns how many. For a deleted
 * instance: a new one of the same name reuses the unit name. s may be
 * NULL. */
unsigned journal_stream_close_unit(JournalStreamSet *s, const char *unit);

/* The read end of a pipe (O_CLOEXEC, blocking) in *ret_fd that gets the
 * last `lines` (at most JOURNAL_STREAM_LINES_MAX) messages of `unit`, one
 * per line, and with follow every later one as the journal gets it, until
 * the reader closes its end or the set is freed; without follow the pipe
 * ends after those lines. lines == 0 with follow: only new messages.
 * Messages older than since_usec (CLOCK_REALTIME) are left out: a unit
 * name is reused by a new instance of the same name, whose owner must not
 * read the old one's. client names who asked, for the per-client bound.
 * -EBUSY when the set or the client has all the streams it may have.
 * With follow and hub (the instance's console, may be NULL), the lines
 * after the history come from the hub as left4med reads them, not from
 * the journal (systemd's lines about the unit still do). */
int journal_stream_open(JournalStreamSet *s, const char *client, const char *unit, ConsoleHub *hub,
                        uint64_t since_usec, bool follow, uint64_t lines, int *ret_fd);

/* One message as one line (appended to out, '\n' included): "TIMESTAMP
 * IDENTIFIER[PID]: MESSAGE" with the time in ISO 8601 (local time).
 * Control characters but tab (a message may hold newlines, escape sequences
 * or binary data) are escaped as \xNN rather than replaced, so that nothing
 * is lost; a backslash stays as it is (the line is for reading, not for
 * parsing back). Cut to JOURNAL_STREAM_LINE_MAX bytes, never inside a UTF-8
 * sequence, with JOURNAL_STREAM_CUT_MARKER at the end. identifier and pid
 * may be NULL. Exposed for the unit tests. */
void journal_stream_format_line(GString *out, uint64_t realtime_usec, const char *identifier,
                                size_t identifier_len, const char *pid, size_t pid_len,
                                const char *message, size_t message_len);
