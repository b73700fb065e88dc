/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/instances/: server instances: records and rules, units and runtime, RCON, A2S and their logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <glib.h>
#include <systemd/sd-event.h>

/* A server's console: left4med makes the pipe its unit writes stdout and
 * stderr into, reads the other end on its loop, sends each line on to the
 * journal (OBJECT_SYSTEMD_UNIT=, so that journalctl -u finds it) and hands
 * it at once to the readers that follow the instance's log.
 *
 * The write end is non-blocking (its file description is the server's
 * stdout and stderr): when the pipe is full, because left4med is slow or
 * gone, the server's write fails with EAGAIN instead of blocking it; with
 * no reader at all it fails with EPIPE (systemd ignores SIGPIPE for the
 * unit). The read end is kept in systemd's file descriptor store, so a
 * restarted left4med reads on where the last one stopped.
 *
 * A ConsoleHub is one instance's, for the life of the daemon: the lines of
 * its consoles (a new pipe at each start; the old one is read to its end)
 * are numbered in the order they are read, from 1, under a run id of the
 * hub (a fresh one in each daemon process), and the latest are kept in a
 * ring, so that a reader that read the journal up to some line goes on
 * with the lines after it (journald makes new entries visible to readers
 * up to 250 ms late). */

/* A console line is cut into pieces of at most this many bytes. */
#define CONSOLE_LINE_MAX 4096u
/* What a pipe holds (F_SETPIPE_SZ; the kernel's default if refused). */
#define CONSOLE_PIPE_SIZE (1024u * 1024u)
/* The ring of latest lines per instance. */
#define CONSOLE_RING_LINES 4096u
#define CONSOLE_RING_BYTES (512u * 1024u)
/* The journal fields of a console line besides MESSAGE and the unit's. */
#define CONSOLE_FIELD_RUN "L4M_CONSOLE_RUN"
#define CONSOLE_FIELD_SEQ "L4M_CONSOLE_SEQ"
/* FDNAME of a console's read end in the store: the prefix, the instance's
 * id, '-', a number that tells this pipe from the instance's others. */
#define CONSOLE_FDNAME_PREFIX "l4m-console-"

typedef struct ConsoleLine {
        uint64_t seq;
        uint64_t realtime;      /* µs, CLOCK_REALTIME, when it was read */
        uint32_t pid;           /* the unit's main process then, 0 if not known */
        size_t len;
        char text[];            /* len bytes, as the server wrote them, no '\n' */
} ConsoleLine;

typedef struct ConsoleHub ConsoleHub;
typedef struct ConsoleSubscription ConsoleSubscription;

/* A line for a subscriber (it must not free a subscription there); gone:
 * the hub is freed, and the subscription with it (do not free it). */
typedef void (*ConsoleLineFunc)(const ConsoleLine *line, void *userdata);
typedef void (*ConsoleGoneFunc)(void *userdata);

int console_hub_new(sd_event *event, uint64_t instance_id, const char *unit, const char *identifier,
                    ConsoleHub **ret);
/* Closes its consoles' read ends (they stay in the store). */
ConsoleHub *console_hub_free(ConsoleHub *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ConsoleHub, console_hub_free)

/* The run id, 32 hex digits: the value of CONSOLE_FIELD_RUN. */
const char *console_hub_run(const ConsoleHub *h);
/* SYSLOG_IDENTIFIER= of its lines. */
const char *console_hub_identifier(const ConsoleHub *h);
/* The unit's main process, for SYSLOG_PID= of the lines read from now on. */
void console_hub_set_pid(ConsoleHub *h, uint32_t pid);
/* How many consoles (pipes) it reads now. */
unsigned console_hub_count(const ConsoleHub *h);

/* A new console for a start: a pipe (both ends O_CLOEXEC, the write end
 * O_NONBLOCK, CONSOLE_PIPE_SIZE if the kernel allows), its read end read
 * on the loop and put in the store. The write end for the unit goes to
 * *ret_write_fd (the caller closes it once systemd has it). */
int console_hub_open(ConsoleHub *h, int *ret_write_fd);
/* Takes its consoles out of the store (the instance is deleted). */
void console_hub_forget_stored(ConsoleHub *h);
/* Takes a read end back from the store (its FDNAME name): read on. */
int console_hub_adopt(ConsoleHub *h, int fd, const char *name);

/* Parses FDNAME "l4m-console-<id>-<n>"; false if it is not one. */
bool console_fdname_parse(const char *name, uint64_t *ret_instance_id);
/* FDSTOREREMOVE of name (a stray descriptor, say). */
void console_fdstore_remove(const char *name);

/* Calls line() for every line of the ring numbered above after_seq
 * (*ret_missed says how many such lines left the ring already), then for
 * each new line until freed. */
ConsoleSubscription *console_hub_subscribe(ConsoleHub *h, uint64_t after_seq, ConsoleLineFunc line,
                                           ConsoleGoneFunc gone, void *userdata, uint64_t *ret_missed);
ConsoleSubscription *console_subscription_free(ConsoleSubscription *s);

/* Cuts data into console lines: calls emit() for each piece ending in '\n'
 * (without it) or reaching CONSOLE_LINE_MAX, and returns how many bytes
 * that took; the rest is an unfinished line. With at_end the rest is a
 * line too. Exposed for the unit tests. */
typedef void (*ConsoleEmitFunc)(const char *text, size_t len, void *userdata);
size_t console_split_lines(const char *data, size_t size, bool at_end, ConsoleEmitFunc emit, void *userdata);
