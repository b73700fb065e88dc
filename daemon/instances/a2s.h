/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/instances/: server instances: records and rules, units and runtime, RCON, A2S and their logs. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <glib.h>
#include <systemd/sd-event.h>

/* A2S_INFO, the Source engine's UDP server query, on sd-event: one socket
 * connected to the server (so the kernel drops datagrams from anyone
 * else), no threads. */

typedef struct A2sInfo {
        char *name, *map, *folder, *game;
        uint8_t players, max_players, bots;
} A2sInfo;

typedef struct A2sQuery A2sQuery;

#define A2S_STRING_MAX 255u             /* bytes of one string, NUL not counted */
#define A2S_PACKET_MAX 1400u            /* a single-packet reply */
#define A2S_CHALLENGE_ROUNDS_MAX 3u

/* done() is called once: error 0 with info (valid during the call), or a
 * negative errno (-ETIMEDOUT, -EPROTO for a malformed or split reply or too
 * many challenge rounds, -ECONNREFUSED when nothing listens on the port,
 * ...). The caller frees the query afterwards with a2s_query_free()
 * (allowed inside done()). Freeing it earlier cancels it without a call.
 * Handles the S2C_CHALLENGE (0x41) round (at most
 * A2S_CHALLENGE_ROUNDS_MAX), ignores datagrams from other addresses,
 * accepts only the single-packet reply form. */
typedef void (*A2sInfoFunc)(int error, const A2sInfo *info, void *userdata);
int a2s_info_query(sd_event *event, const struct sockaddr *addr, socklen_t addrlen, uint64_t timeout_usec,
                   A2sInfoFunc done, void *userdata, A2sQuery **ret);
A2sQuery *a2s_query_free(A2sQuery *q);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(A2sQuery, a2s_query_free)

/* The parser, for tests and fuzzing: the 0x49 reply after the FF FF FF FF
 * header (buf starts with 0x49). Every field up to the version string is
 * required; the extra data flag and the fields it announces are optional
 * but checked when present; nothing may follow them. Strings longer than
 * A2S_STRING_MAX are refused with -EPROTO; bytes that are not valid UTF-8
 * are replaced with U+FFFD, so the strings can go on the bus as they are.
 * On success *ret owns the strings (a2s_info_clear()); on error it is left
 * zeroed. */
int a2s_info_parse(const void *buf, size_t len, A2sInfo *ret);
void a2s_info_clear(A2sInfo *info);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(A2sInfo, a2s_info_clear)
