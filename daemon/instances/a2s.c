/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/instances/: server instances: records and rules, units and runtime, RCON, A2S and their logs. */
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "a2s.h"
#include "l4m-log.h"
#include "l4m-util.h"

#define A2S_HEADER_SINGLE "\xff\xff\xff\xff"
#define A2S_HEADER_SPLIT "\xfe\xff\xff\xff"
#define A2S_INFO_REQUEST "\xff\xff\xff\xff" "TSource Engine Query"  /* and its NUL */
#define A2S_INFO_REQUEST_LEN 25u
#define S2C_CHALLENGE 0x41
#define S2A_INFO 0x49

/* extra data flag bits */
#define EDF_PORT 0x80
#define EDF_STEAMID 0x10
#define EDF_SOURCETV 0x40
#define EDF_KEYWORDS 0x20
#define EDF_GAMEID 0x01

struct A2sQuery {
        sd_event_source *io;
        sd_event_source *timer;
        int fd;
        unsigned challenge_rounds;
        bool done_called;
        A2sInfoFunc done;
        void *userdata;
};

/* ---- parser -------------------------------------------------------------- */

typedef struct Reader {
        const uint8_t *p;
        size_t left;
} Reader;

static int read_u8(Reader *r, uint8_t *ret) {
        if (r->left < 1)
                return -EPROTO;
        if (ret)
                *ret = r->p[0];
        r->p++;
        r->left--;
        return 0;
}

static int skip(Reader *r, size_t n) {
        if (r->left < n)
                return -EPROTO;
        r->p += n;
        r->left -= n;
        return 0;
}

/* A NUL-terminated string of at most A2S_STRING_MAX bytes; ret (if not
 * NULL) gets it as valid UTF-8. */
static int read_string(Reader *r, char **ret) {
        const uint8_t *nul = memchr(r->p, 0, MIN(r->left, (size_t) A2S_STRING_MAX + 1));
        size_t len;

        if (!nul)
                return -EPROTO;
        len = (size_t) (nul - r->p);
        if (ret)
                *ret = g_utf8_make_valid((const char *) r->p, (gssize) len);
        r->p += len + 1;
        r->left -= len + 1;
        return 0;
}

int a2s_info_parse(const void *buf, size_t len, A2sInfo *ret) {
        g_auto(A2sInfo) info = { .name = NULL };
        Reader r = { .p = buf, .left = len };
        uint8_t type, edf;
        int k;

        assert(buf || len == 0);
        assert(ret);

        *ret = (A2sInfo) { .name = NULL };
        if (read_u8(&r, &type) < 0 || type != S2A_INFO)
                return -EPROTO;
        if ((k = skip(&r, 1)) < 0 ||                    /* protocol */
            (k = read_string(&r, &info.name)) < 0 ||
            (k = read_string(&r, &info.map)) < 0 ||
            (k = read_string(&r, &info.folder)) < 0 ||
            (k = read_string(&r, &info.game)) < 0 ||
            (k = skip(&r, 2)) < 0 ||                    /* app id */
            (k = read_u8(&r, &info.players)) < 0 ||
            (k = read_u8(&r, &info.max_players)) < 0 ||
            (k = read_u8(&r, &info.bots)) < 0 ||
            (k = skip(&r, 4)) < 0 ||                    /* type, environment, visibility, VAC */
            (k = read_string(&r, NULL)) < 0)            /* version */
                return k;

        if (r.left > 0) {
                if ((k = read_u8(&r, &edf)) < 0)
                        return k;
                if ((edf & EDF_PORT) && (k = skip(&r, 2)) < 0)
                        return k;
                if ((edf & EDF_STEAMID) && (k = skip(&r, 8)) < 0)
                        return k;
                if ((edf & EDF_SOURCETV) && ((k = skip(&r, 2)) < 0 || (k = read_string(&r, NULL)) < 0))
                        return k;
                if ((edf & EDF_KEYWORDS) && (k = read_string(&r, NULL)) < 0)
                        return k;
                if ((edf & EDF_GAMEID) && (k = skip(&r, 8)) < 0)
                        return k;
                if (r.left > 0)
                        return -EPROTO;
        }

        *ret = info;
        info = (A2sInfo) { .name = NULL };
        return 0;
}

void a2s_info_clear(A2sInfo *info) {
        if (!info)
                return;
        g_clear_pointer(&info->name, g_free);
        g_clear_pointer(&info->map, g_free);
        g_clear_pointer(&info->folder, g_free);
        g_clear_pointer(&info->game, g_free);
}

/* ---- query --------------------------------------------------------------- */

/* Calls done() once; q may be gone afterwards. */
static void finish(A2sQuery *q, int error, const A2sInfo *info) {
        assert(!q->done_called);
        q->done_called = true;
        (void) sd_event_source_set_enabled(q->io, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(q->timer, SD_EVENT_OFF);
        q->done(error, error < 0 ? NULL : info, q->userdata);
}

static int send_request(A2sQuery *q, const uint8_t *challenge) {
        uint8_t buf[A2S_INFO_REQUEST_LEN + 4];
        size_t len = A2S_INFO_REQUEST_LEN;

        memcpy(buf, A2S_INFO_REQUEST, A2S_INFO_REQUEST_LEN);      /* includes the NUL */
        if (challenge) {
                memcpy(buf + len, challenge, 4);
                len += 4;
        }
        if (send(q->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
                return -errno;
        return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        A2sQuery *q = userdata;
        uint8_t buf[A2S_PACKET_MAX + 1];

        for (;;) {
                g_auto(A2sInfo) info = { .name = NULL };
                ssize_t n;
                int r;

                n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return 0;
                        /* ICMP errors (port unreachable: ECONNREFUSED) surface here */
                        finish(q, -errno, NULL);
                        return 0;
                }
                if ((size_t) n > A2S_PACKET_MAX || n < 5) {
                        finish(q, -EPROTO, NULL);
                        return 0;
                }
                if (memcmp(buf, A2S_HEADER_SINGLE, 4) != 0) {
                        /* a split reply (FE FF FF FF) or garbage */
                        finish(q, -EPROTO, NULL);
                        return 0;
                }
                if (buf[4] == S2C_CHALLENGE) {
                        if (n != 9 || ++q->challenge_rounds > A2S_CHALLENGE_ROUNDS_MAX) {
                                finish(q, -EPROTO, NULL);
                                return 0;
                        }
                        r = send_request(q, buf + 5);
                        if (r < 0) {
                                finish(q, r, NULL);
                                return 0;
                        }
                        continue;
                }
                r = a2s_info_parse(buf + 4, (size_t) n - 4, &info);
                finish(q, r, r < 0 ? NULL : &info);
                return 0;
        }
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        finish(userdata, -ETIMEDOUT, NULL);
        return 0;
}

int a2s_info_query(sd_event *event, const struct sockaddr *addr, socklen_t addrlen, uint64_t timeout_usec,
                   A2sInfoFunc done, void *userdata, A2sQuery **ret) {
        g_autoptr(A2sQuery) q = NULL;
        int r;

        assert(event);
        assert(addr);
        assert(done);
        assert(ret);

        if (!((addr->sa_family == AF_INET && addrlen >= sizeof(struct sockaddr_in)) ||
              (addr->sa_family == AF_INET6 && addrlen >= sizeof(struct sockaddr_in6))))
                return -EINVAL;
        if (timeout_usec == 0)
                return -EINVAL;

        q = g_new0(A2sQuery, 1);
        q->fd = -1;
        q->done = done;
        q->userdata = userdata;

        q->fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
        if (q->fd < 0)
                return -errno;
        /* a connected UDP socket only receives from its peer */
        if (connect(q->fd, addr, addrlen) < 0)
                return -errno;
        r = sd_event_add_io(event, &q->io, q->fd, EPOLLIN, on_io, q);
        if (r < 0)
                return r;
        r = sd_event_add_time_relative(event, &q->timer, CLOCK_MONOTONIC, timeout_usec, 0, on_timeout, q);
        if (r < 0)
                return r;
        r = send_request(q, NULL);
        if (r < 0)
                return r;

        *ret = g_steal_pointer(&q);
        return 0;
}

A2sQuery *a2s_query_free(A2sQuery *q) {
        if (!q)
                return NULL;
        sd_event_source_disable_unref(q->io);
        sd_event_source_disable_unref(q->timer);
        l4m_close_fdp(&q->fd);
        g_free(q);
        return NULL;
}
