/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/instances/: server instances: records and rules, units and runtime, RCON, A2S and their logs. */
#include <assert.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "l4m-log.h"
#include "l4m-util.h"
#include "rcon.h"

#define SERVERDATA_AUTH 3
#define SERVERDATA_AUTH_RESPONSE 2
#define SERVERDATA_EXECCOMMAND 2
#define SERVERDATA_RESPONSE_VALUE 0

/* size counts id, type, body and its two NULs; servers send bodies of at most 4096 bytes */
#define RCON_PACKET_SIZE_MIN 10
#define RCON_PACKET_SIZE_MAX (4096 + 10)
#define RCON_READ_BUFFER (64u * 1024u)
/* ids restart with each connection; one connection never runs out of them */
#define RCON_ID_LIMIT (INT32_MAX - 4)

typedef enum RconState {
        RCON_DISCONNECTED,
        RCON_CONNECTING,
        RCON_AUTHENTICATING,
        RCON_READY,
} RconState;

typedef struct RconCommand {
        char *text;
        uint64_t timeout_usec;
        RconReplyFunc reply;
        void *userdata;
        bool started;           /* its turn came: the timer runs */
        bool connected_here;    /* the connection was opened for it */
        bool retried;           /* sent again once after the connection dropped */
        bool sent;              /* on the wire of the current connection */
        int32_t id, marker_id;
} RconCommand;

struct RconClient {
        unsigned n_ref;
        bool freed;
        sd_event *event;
        struct sockaddr_storage addr;
        socklen_t addrlen;
        char *password;
        bool check_peer;                /* the peer's socket must be peer_uid's */
        uid_t peer_uid;

        GQueue queue;                   /* RconCommand*; the head is the one whose turn it is */
        sd_event_source *defer;         /* moves the queue on from the event loop */
        sd_event_source *timer;         /* the head's timeout */

        RconState state;
        int fd;
        sd_event_source *io;
        int32_t next_id;
        int32_t auth_id;
        GByteArray *out;                /* bytes not yet written */
        uint8_t *in;                    /* RCON_READ_BUFFER bytes */
        size_t in_len;
        GByteArray *reply;              /* the head's reply so far */
        bool answered;                  /* a packet of the head's reply came */
};

static void command_free(RconCommand *cmd) {
        if (!cmd)
                return;
        g_free(cmd->text);
        g_free(cmd);
}

static RconClient *client_ref(RconClient *c) {
        c->n_ref++;
        return c;
}

static void client_unref(RconClient *c) {
        assert(c->n_ref > 0);
        if (--c->n_ref > 0)
                return;
        assert(g_queue_is_empty(&c->queue));
        sd_event_source_disable_unref(c->defer);
        sd_event_source_disable_unref(c->timer);
        sd_event_source_disable_unref(c->io);
        l4m_close_fdp(&c->fd);
        if (c->password)
                explicit_bzero(c->password, strlen(c->password));
        g_free(c->password);
        g_byte_array_unref(c->out);
        g_byte_array_unref(c->reply);
        g_free(c->in);
        sd_event_unref(c->event);
        g_free(c);
}

static void client_unrefp(RconClient **c) {
        if (*c)
                client_unref(*c);
}
#define _cleanup_client_unref_ __attribute__((cleanup(client_unrefp)))

static void kick(RconClient *c) {
        if (!c->freed)
                (void) sd_event_source_set_enabled(c->defer, SD_EVENT_ONESHOT);
}

/* Closes the socket; the queue is left alone. */
static void drop_connection(RconClient *c) {
        c->io = sd_event_source_disable_unref(c->io);
        l4m_close_fdp(&c->fd);
        c->fd = -1;
        c->state = RCON_DISCONNECTED;
        c->in_len = 0;
        g_byte_array_set_size(c->out, 0);
        /* c->reply stays: complete_head() clears it */
        for (GList *l = c->queue.head; l; l = l->next) {
                RconCommand *cmd = l->data;
                cmd->sent = false;
                cmd->connected_here = false;
        }
}

/* Takes the head off the queue and calls its reply(). The caller holds a
 * reference and checks c->freed afterwards. */
static void complete_head(RconClient *c, int error, const char *text) {
        RconCommand *cmd = g_queue_pop_head(&c->queue);

        assert(cmd);
        (void) sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
        g_byte_array_set_size(c->reply, 0);
        c->answered = false;
        cmd->reply(error, text, cmd->userdata);
        command_free(cmd);
        kick(c);
}

/* Fails what is queued now; what the callbacks send meanwhile stays queued. */
static void fail_all(RconClient *c, int error) {
        _cleanup_client_unref_ RconClient *ref = client_ref(c);
        GQueue q = c->queue;
        RconCommand *cmd;

        g_queue_init(&c->queue);
        (void) sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
        g_byte_array_set_size(c->reply, 0);
        c->answered = false;
        while ((cmd = g_queue_pop_head(&q))) {
                cmd->reply(error, NULL, cmd->userdata);
                command_free(cmd);
        }
        kick(c);
}

static int append_packet(RconClient *c, int32_t id, int32_t type, const char *body) {
        size_t len = strlen(body);
        int32_t size;
        uint8_t head[12];

        G_STATIC_ASSERT(RCON_COMMAND_MAX == RCON_PASSWORD_MAX);
        if (len > RCON_COMMAND_MAX)
                return -EINVAL;
        size = (int32_t) (len + 10);
        /* little-endian on the wire, whatever the host */
        for (unsigned i = 0; i < 4; i++) {
                head[i] = (uint8_t) ((uint32_t) size >> (8 * i));
                head[4 + i] = (uint8_t) ((uint32_t) id >> (8 * i));
                head[8 + i] = (uint8_t) ((uint32_t) type >> (8 * i));
        }
        g_byte_array_append(c->out, head, sizeof(head));
        g_byte_array_append(c->out, (const uint8_t *) body, (guint) len);
        g_byte_array_append(c->out, (const uint8_t *) "\0\0", 2);
        return 0;
}

static int32_t read_le32(const uint8_t *p) {
        return (int32_t) ((uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24);
}

static void update_events(RconClient *c) {
        uint32_t events;

        if (!c->io)
                return;
        if (c->state == RCON_CONNECTING)
                events = EPOLLOUT;
        else
                events = EPOLLIN | (c->out->len > 0 ? EPOLLOUT : 0);
        (void) sd_event_source_set_io_events(c->io, events);
}

/* The connection failed or ended. The head is sent again on a new
 * connection once when it went over an older connection that the server
 * closed meanwhile (it restarted); otherwise it fails with error. */
static void connection_lost(RconClient *c, int error) {
        RconCommand *head = g_queue_peek_head(&c->queue);
        bool retry = false;

        log_debug_errno(error, "RCON connection closed: %s", STRERROR(error));
        if (head && head->started && !head->connected_here && !head->retried && !c->answered) {
                head->retried = true;
                retry = true;
        }
        drop_connection(c);
        if (!head || !head->started)
                return;
        if (retry) {
                log_debug("Sending the RCON command again on a new connection.");
                kick(c);
        } else
                complete_head(c, error, NULL);
}

static int send_head(RconClient *c, RconCommand *cmd) {
        int r;

        if (c->next_id > RCON_ID_LIMIT)
                return -EOVERFLOW;
        cmd->id = c->next_id++;
        cmd->marker_id = c->next_id++;
        r = append_packet(c, cmd->id, SERVERDATA_EXECCOMMAND, cmd->text);
        if (r < 0)
                return r;
        /* mirrored by the server after the whole reply: marks its end */
        r = append_packet(c, cmd->marker_id, SERVERDATA_RESPONSE_VALUE, "");
        if (r < 0)
                return r;
        cmd->sent = true;
        update_events(c);
        return 0;
}

static void complete_reply(RconClient *c) {
        _cleanup_client_unref_ RconClient *ref = client_ref(c);
        g_autofree char *text = NULL;

        /* reply text goes on the bus: valid UTF-8 */
        text = c->reply->len > 0 ? g_utf8_make_valid((const char *) c->reply->data, (gssize) c->reply->len) :
                                   g_strdup("");
        complete_head(c, 0, text);
}

/* One packet from the server; body is size - 8 bytes. Returns 0, or a
 * negative errno that ends the connection. */
static int handle_packet(RconClient *c, int32_t id, int32_t type, const uint8_t *body, size_t body_len) {
        RconCommand *head = g_queue_peek_head(&c->queue);
        size_t text_len = strnlen((const char *) body, body_len);

        if (c->state == RCON_AUTHENTICATING) {
                if (type == SERVERDATA_RESPONSE_VALUE && id == c->auth_id)
                        return 0;       /* the empty packet that precedes the answer */
                if (type != SERVERDATA_AUTH_RESPONSE)
                        return -EPROTO;
                if (id == -1)
                        return -EACCES;
                if (id != c->auth_id)
                        return -EPROTO;
                c->state = RCON_READY;
                kick(c);
                return 0;
        }

        assert(c->state == RCON_READY);
        if (id >= 1 && id < (head && head->sent ? head->id : c->next_id))
                return 0;       /* the tail of an earlier reply: the second marker packet */
        if (!head || !head->sent || type != SERVERDATA_RESPONSE_VALUE)
                return -EPROTO;
        if (id == head->id) {
                if (c->reply->len + text_len > RCON_REPLY_MAX)
                        return -EMSGSIZE;
                g_byte_array_append(c->reply, body, (guint) text_len);
                c->answered = true;
                return 0;
        }
        if (id == head->marker_id) {
                complete_reply(c);
                return 0;
        }
        return -EPROTO;
}

static int read_packets(RconClient *c) {
        for (;;) {
                size_t off = 0;
                ssize_t n;

                n = recv(c->fd, c->in + c->in_len, RCON_READ_BUFFER - c->in_len, MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return 0;
                        return -errno;
                }
                if (n == 0)
                        return -ESHUTDOWN;      /* the server closed the connection */
                c->in_len += (size_t) n;

                while (c->in_len - off >= 4) {
                        int32_t size = read_le32(c->in + off);
                        int r;

                        if (size < RCON_PACKET_SIZE_MIN || size > RCON_PACKET_SIZE_MAX)
                                return -EPROTO;
                        if (c->in_len - off < 4 + (size_t) size)
                                break;
                        r = handle_packet(c, read_le32(c->in + off + 4), read_le32(c->in + off + 8),
                                          c->in + off + 12, (size_t) size - 8);
                        if (r < 0)
                                return r;
                        if (c->freed || c->fd < 0)
                                return 0;
                        off += 4 + (size_t) size;
                }
                memmove(c->in, c->in + off, c->in_len - off);
                c->in_len -= off;
        }
}

static int flush_out(RconClient *c) {
        while (c->out->len > 0) {
                ssize_t n = send(c->fd, c->out->data, c->out->len, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                break;
                        return -errno;
                }
                g_byte_array_remove_range(c->out, 0, (guint) n);
        }
        update_events(c);
        return 0;
}

/* The uid that owns the socket at the other end of fd, a connected TCP
 * socket on this host: sock_diag's exact lookup of the 4-tuple seen from
 * the other side (its local address is our peer's). A socket that another
 * process accepted on a listener bound first belongs to that listener's
 * owner. -ENOENT if it is gone. */
static int tcp_peer_uid(int fd, uid_t *ret) {
        struct sockaddr_storage local = { 0 }, peer = { 0 };
        socklen_t local_len = sizeof local, peer_len = sizeof peer;
        struct {
                struct nlmsghdr nlh;
                struct inet_diag_req_v2 req;
        } request = {
                .nlh = {
                        .nlmsg_len = sizeof request,
                        .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                        .nlmsg_flags = NLM_F_REQUEST,
                        .nlmsg_seq = 1,
                },
                .req = {
                        .sdiag_protocol = IPPROTO_TCP,
                        .idiag_states = UINT32_MAX,
                        .id.idiag_if = 0,
                        .id.idiag_cookie = { INET_DIAG_NOCOOKIE, INET_DIAG_NOCOOKIE },
                },
        };
        struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
        union {
                struct nlmsghdr nlh;
                uint8_t bytes[8192];
        } answer;
        _cleanup_close_ int nl = -1;
        ssize_t n;

        if (getsockname(fd, (struct sockaddr *) &local, &local_len) < 0 ||
            getpeername(fd, (struct sockaddr *) &peer, &peer_len) < 0)
                return -errno;
        if (local.ss_family != peer.ss_family)
                return -EAFNOSUPPORT;
        request.req.sdiag_family = (uint8_t) peer.ss_family;
        if (peer.ss_family == AF_INET) {
                const struct sockaddr_in *p = (const struct sockaddr_in *) &peer, *l = (const struct sockaddr_in *) &local;

                request.req.id.idiag_sport = p->sin_port;
                request.req.id.idiag_dport = l->sin_port;
                memcpy(request.req.id.idiag_src, &p->sin_addr, sizeof p->sin_addr);
                memcpy(request.req.id.idiag_dst, &l->sin_addr, sizeof l->sin_addr);
        } else if (peer.ss_family == AF_INET6) {
                const struct sockaddr_in6 *p = (const struct sockaddr_in6 *) &peer, *l = (const struct sockaddr_in6 *) &local;

                request.req.id.idiag_sport = p->sin6_port;
                request.req.id.idiag_dport = l->sin6_port;
                memcpy(request.req.id.idiag_src, &p->sin6_addr, sizeof p->sin6_addr);
                memcpy(request.req.id.idiag_dst, &l->sin6_addr, sizeof l->sin6_addr);
        } else
                return -EAFNOSUPPORT;

        nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
        if (nl < 0)
                return -errno;
        if (sendto(nl, &request, sizeof request, 0, (struct sockaddr *) &kernel, sizeof kernel) < 0)
                return -errno;
        /* The kernel answers an exact lookup while it handles the request:
         * the answer is queued by now. */
        n = recv(nl, &answer, sizeof answer, MSG_DONTWAIT);
        if (n < 0)
                return -errno;
        for (struct nlmsghdr *h = &answer.nlh; NLMSG_OK(h, (size_t) n); h = NLMSG_NEXT(h, n)) {
                const struct inet_diag_msg *msg;

                if (h->nlmsg_type == NLMSG_ERROR) {
                        const struct nlmsgerr *e = NLMSG_DATA(h);

                        if (h->nlmsg_len < NLMSG_LENGTH(sizeof *e))
                                return -EBADMSG;
                        return e->error < 0 ? e->error : -EBADMSG;
                }
                if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof *msg))
                        continue;
                msg = NLMSG_DATA(h);
                /* The socket asked for, not some other. */
                if (msg->idiag_family != peer.ss_family || msg->id.idiag_sport != request.req.id.idiag_sport ||
                    msg->id.idiag_dport != request.req.id.idiag_dport)
                        return -ENOENT;
                *ret = (uid_t) msg->idiag_uid;
                return 0;
        }
        return -EBADMSG;
}

static char *describe_address(const struct sockaddr_storage *a) {
        char host[INET6_ADDRSTRLEN] = "?";
        unsigned port = 0;

        if (a->ss_family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *) a;

                (void) inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
                port = ntohs(in->sin_port);
                return g_strdup_printf("%s:%u", host, port);
        }
        if (a->ss_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) a;

                (void) inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
                port = ntohs(in6->sin6_port);
        }
        return g_strdup_printf("[%s]:%u", host, port);
}

/* Before the password goes out: is the peer the one we mean? 0, or -EPERM
 * with why not in *ret_text. */
static int verify_peer(RconClient *c, char **ret_text) {
        g_autofree char *where = describe_address(&c->addr);
        uid_t uid;
        int r;

        if (!c->check_peer)
                return 0;
        r = tcp_peer_uid(c->fd, &uid);
        if (r < 0) {
                *ret_text = g_strdup_printf("the owner of the socket at %s cannot be found (%s)", where, STRERROR(r));
                return -EPERM;
        }
        if (uid != c->peer_uid) {
                *ret_text = g_strdup_printf("the socket at %s belongs to uid %u, not to uid %u", where, (unsigned) uid,
                                            (unsigned) c->peer_uid);
                return -EPERM;
        }
        return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        _cleanup_client_unref_ RconClient *c = client_ref(userdata);
        int r;

        if (c->state == RCON_CONNECTING) {
                int error = 0;
                socklen_t len = sizeof(error);

                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
                        error = errno;
                if (error == 0 && (revents & (EPOLLERR | EPOLLHUP)))
                        error = ECONNRESET;
                if (error != 0) {
                        connection_lost(c, -error);
                        return 0;
                }
                {
                        g_autofree char *why = NULL;

                        r = verify_peer(c, &why);
                        if (r < 0) {
                                log_warning("RCON not authenticated, the password was not sent: %s.", why);
                                drop_connection(c);
                                if (!g_queue_is_empty(&c->queue) &&
                                    ((RconCommand *) g_queue_peek_head(&c->queue))->started)
                                        complete_head(c, r, why);
                                return 0;
                        }
                }
                c->state = RCON_AUTHENTICATING;
                c->auth_id = c->next_id++;
                r = append_packet(c, c->auth_id, SERVERDATA_AUTH, c->password ? c->password : "");
                if (r < 0) {
                        connection_lost(c, r);
                        return 0;
                }
                update_events(c);
                return 0;
        }

        if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                r = read_packets(c);
                if (c->freed)
                        return 0;
                if (r == -EACCES) {
                        log_debug("RCON password refused.");
                        drop_connection(c);
                        fail_all(c, -EACCES);
                        return 0;
                }
                if (r == -ESHUTDOWN) {
                        RconCommand *head = g_queue_peek_head(&c->queue);

                        /* a server that quits answers, then closes without the end marker */
                        if (head && head->sent && c->answered) {
                                drop_connection(c);
                                complete_reply(c);
                        } else
                                connection_lost(c, -ECONNRESET);
                        return 0;
                }
                if (r < 0) {
                        /* a reply cut short is not sent again */
                        if (r == -EMSGSIZE || r == -EPROTO) {
                                drop_connection(c);
                                if (!g_queue_is_empty(&c->queue) &&
                                    ((RconCommand *) g_queue_peek_head(&c->queue))->started)
                                        complete_head(c, r, NULL);
                        } else
                                connection_lost(c, r);
                        return 0;
                }
                if (c->fd < 0)
                        return 0;
        }
        if (revents & EPOLLOUT) {
                r = flush_out(c);
                if (r < 0)
                        connection_lost(c, r);
        }
        return 0;
}

static int start_connect(RconClient *c) {
        _cleanup_close_ int fd = -1;
        int r;

        assert(c->state == RCON_DISCONNECTED);
        fd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
        if (fd < 0)
                return -errno;
        if (connect(fd, (const struct sockaddr *) &c->addr, c->addrlen) < 0 && errno != EINPROGRESS)
                return -errno;
        r = sd_event_add_io(c->event, &c->io, fd, EPOLLOUT, on_io, c);
        if (r < 0)
                return r;
        c->fd = l4m_take_fd(&fd);
        c->state = RCON_CONNECTING;
        c->next_id = 1;
        c->in_len = 0;
        return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        _cleanup_client_unref_ RconClient *c = client_ref(userdata);

        if (g_queue_is_empty(&c->queue))
                return 0;
        log_debug("RCON command timed out.");
        /* whatever is still on its way would confuse the next command */
        drop_connection(c);
        complete_head(c, -ETIMEDOUT, NULL);
        return 0;
}

/* Moves the queue on: starts the head's timer, connects, sends. */
static int on_defer(sd_event_source *s, void *userdata) {
        _cleanup_client_unref_ RconClient *c = client_ref(userdata);

        while (!c->freed) {
                RconCommand *head = g_queue_peek_head(&c->queue);
                int r;

                if (!head)
                        return 0;
                if (!head->started) {
                        r = sd_event_source_set_time_relative(c->timer, head->timeout_usec);
                        if (r >= 0)
                                r = sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
                        if (r < 0) {
                                complete_head(c, r, NULL);
                                continue;
                        }
                        head->started = true;
                }
                if (c->state == RCON_READY && !head->sent && c->next_id > RCON_ID_LIMIT)
                        drop_connection(c);
                if (c->state == RCON_DISCONNECTED) {
                        r = start_connect(c);
                        if (r < 0) {
                                complete_head(c, r, NULL);
                                continue;
                        }
                        head->connected_here = true;
                        return 0;
                }
                if (c->state == RCON_READY && !head->sent) {
                        r = send_head(c, head);
                        if (r >= 0)
                                r = flush_out(c);
                        if (r < 0)
                                connection_lost(c, r);
                }
                return 0;
        }
        return 0;
}

int rcon_client_new(sd_event *event, const struct sockaddr *addr, socklen_t addrlen, const char *password,
                    RconClient **ret) {
        g_autoptr(RconClient) c = NULL;
        int r;

        assert(event);
        assert(addr);
        assert(ret);

        if (addrlen > sizeof(c->addr) ||
            !((addr->sa_family == AF_INET && addrlen >= sizeof(struct sockaddr_in)) ||
              (addr->sa_family == AF_INET6 && addrlen >= sizeof(struct sockaddr_in6))))
                return -EINVAL;
        if (password && strlen(password) > RCON_PASSWORD_MAX)
                return -EINVAL;

        c = g_new0(RconClient, 1);
        c->n_ref = 1;
        c->fd = -1;
        c->event = sd_event_ref(event);
        memcpy(&c->addr, addr, addrlen);
        c->addrlen = addrlen;
        c->password = g_strdup(password);
        g_queue_init(&c->queue);
        c->out = g_byte_array_new();
        c->reply = g_byte_array_new();
        c->in = g_malloc(RCON_READ_BUFFER);
        c->state = RCON_DISCONNECTED;

        r = sd_event_add_defer(event, &c->defer, on_defer, c);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(c->defer, SD_EVENT_OFF);
        if (r < 0)
                return r;
        r = sd_event_add_time(event, &c->timer, CLOCK_MONOTONIC, 0, 0, on_timeout, c);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
        if (r < 0)
                return r;

        *ret = g_steal_pointer(&c);
        return 0;
}

int rcon_client_send(RconClient *c, const char *command, uint64_t timeout_usec, RconReplyFunc reply,
                     void *userdata) {
        RconCommand *cmd;
        size_t len;

        assert(c);
        assert(command);
        assert(reply);

        if (c->freed)
                return -ECANCELED;      /* sent from a reply callback while the client is freed */

        len = strnlen(command, RCON_COMMAND_MAX + 1);
        if (len == 0 || len > RCON_COMMAND_MAX || strpbrk(command, "\r\n"))
                return -EINVAL;
        if (g_queue_get_length(&c->queue) >= RCON_QUEUE_MAX)
                return -EBUSY;

        cmd = g_new0(RconCommand, 1);
        cmd->text = g_strndup(command, len);
        cmd->timeout_usec = timeout_usec > 0 ? timeout_usec : RCON_TIMEOUT_DEFAULT_USEC;
        cmd->reply = reply;
        cmd->userdata = userdata;
        g_queue_push_tail(&c->queue, cmd);
        kick(c);
        return 0;
}

void rcon_client_disconnect(RconClient *c) {
        assert(c);

        drop_connection(c);
        fail_all(c, -ECANCELED);
}

void rcon_client_set_peer_uid(RconClient *c, uid_t uid) {
        assert(c);

        c->check_peer = true;
        c->peer_uid = uid;
}

void rcon_client_set_password(RconClient *c, const char *password) {
        assert(c);

        if (c->password)
                explicit_bzero(c->password, strlen(c->password));
        g_free(c->password);
        c->password = g_strndup(password, password ? RCON_PASSWORD_MAX : 0);
}

RconClient *rcon_client_free(RconClient *c) {
        if (!c)
                return NULL;
        assert(!c->freed);

        c->freed = true;
        (void) sd_event_source_set_enabled(c->defer, SD_EVENT_OFF);
        drop_connection(c);
        fail_all(c, -ECANCELED);
        client_unref(c);
        return NULL;
}
