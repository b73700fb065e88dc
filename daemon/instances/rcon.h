/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/instances/: server instances: records and rules, units and runtime, RCON, A2S and their logs. */
#pragma once

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <glib.h>
#include <systemd/sd-event.h>

/* A Source RCON client (TCP; little-endian int32 size, id, type, then a
 * NUL-terminated body and one more NUL) on sd-event: non-blocking, no
 * threads, one command on the wire at a time. A multi-packet reply ends
 * where the server mirrors the empty SERVERDATA_RESPONSE_VALUE packet the
 * client sends right after each command. */

typedef struct RconClient RconClient;

/* error is 0 or a negative errno: -ECONNREFUSED/-ECONNRESET/..., -ETIMEDOUT,
 * -EACCES (password refused), -EMSGSIZE (reply longer than RCON_REPLY_MAX),
 * -EPROTO (malformed packet), -ECANCELED (client freed or disconnected
 * first), -EPERM (the peer is not the one set with
 * rcon_client_set_peer_uid(); the password was not sent). reply is
 * NUL-terminated text, valid during the call only: the server's reply, or
 * on error NULL or (-EPERM) why the peer was refused. */
typedef void (*RconReplyFunc)(int error, const char *reply, void *userdata);

#define RCON_COMMAND_MAX 4000u          /* bytes */
#define RCON_REPLY_MAX (1024u * 1024u)
#define RCON_QUEUE_MAX 32u              /* commands waiting or in flight */
#define RCON_PASSWORD_MAX 4000u         /* bytes; the auth packet carries it like a command */
#define RCON_TIMEOUT_DEFAULT_USEC (10u * 1000u * 1000u)

/* addr: an AF_INET or AF_INET6 address (copied). password: the
 * rcon_password (copied; NULL or empty means none, and auth is refused). */
int rcon_client_new(sd_event *event, const struct sockaddr *addr, socklen_t addrlen, const char *password,
                    RconClient **ret);

/* Connects and authenticates first when not connected; when the server
 * closed the connection since (it restarted), connects again once,
 * transparently (a command is sent again only when no answer to it had
 * arrived). Commands run one after another in order. timeout_usec
 * counts from the moment the command's turn comes (connecting and
 * authenticating included); 0 means RCON_TIMEOUT_DEFAULT_USEC. A timeout
 * drops the connection (the next command connects again).
 * reply() is called exactly once per accepted command (possibly with an
 * error, or -ECANCELED when the client is freed or disconnected first),
 * never from inside rcon_client_send(). A refused password fails every
 * queued command with -EACCES.
 * Returns -EINVAL (empty, longer than RCON_COMMAND_MAX, or containing
 * NUL/CR/LF), -EBUSY (queue full), -ECANCELED (called from a reply
 * callback while the client is being freed). */
int rcon_client_send(RconClient *c, const char *command, uint64_t timeout_usec, RconReplyFunc reply,
                     void *userdata);

/* Drops the connection; pending commands get -ECANCELED (from inside this
 * call). The next send connects again. */
void rcon_client_disconnect(RconClient *c);

/* From now on, after each connect() and before the password goes out, the
 * socket at the other end must belong to uid (NETLINK_SOCK_DIAG's
 * idiag_uid of the exact 4-tuple); else the command fails with -EPERM and
 * the connection is closed. A squatter that bound the port first never
 * gets the password. */
void rcon_client_set_peer_uid(RconClient *c, uid_t uid);

/* Takes effect with the next connection. */
void rcon_client_set_password(RconClient *c, const char *password);

/* Pending commands get -ECANCELED (from inside this call). May be called
 * from a reply callback. */
RconClient *rcon_client_free(RconClient *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RconClient, rcon_client_free)
