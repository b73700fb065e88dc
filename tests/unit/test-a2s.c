/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The A2S_INFO parser, and queries against the fake srcds
 * (tests/fixtures/fake-srcds.py, which meson passes in $L4M_FAKE_SRCDS)
 * and against small UDP servers inside the test; loopback only. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "a2s.h"
#include "l4m-util.h"
#include "rcon.h"

/* ---- a reply as fake-srcds builds it -------------------------------------- */

static void put_str(GByteArray *b, const char *s) {
        g_byte_array_append(b, (const uint8_t *) s, (guint) strlen(s) + 1);
}

static void put_u8(GByteArray *b, uint8_t v) {
        g_byte_array_append(b, &v, 1);
}

/* The 0x49 reply without the FF FF FF FF header. *ret_version_end: the
 * length up to and including the version string (where the EDF starts). */
static GByteArray *good_reply(const char *name, size_t *ret_version_end) {
        GByteArray *b = g_byte_array_new();

        put_u8(b, 0x49);
        put_u8(b, 17);
        put_str(b, name);
        put_str(b, "c2m1_highway");
        put_str(b, "left4dead2");
        put_str(b, "Left 4 Dead 2");
        put_u8(b, 550 & 0xff);
        put_u8(b, 550 >> 8);
        put_u8(b, 3);           /* players */
        put_u8(b, 8);           /* max players */
        put_u8(b, 1);           /* bots */
        put_u8(b, 'd');
        put_u8(b, 'l');
        put_u8(b, 0);
        put_u8(b, 1);
        put_str(b, "2.2.4.3");
        if (ret_version_end)
                *ret_version_end = b->len;
        put_u8(b, 0x80 | 0x20 | 0x01);  /* port, keywords, game id */
        put_u8(b, 27015 & 0xff);
        put_u8(b, 27015 >> 8);
        put_str(b, "coop,empty");
        for (unsigned i = 0; i < 8; i++)
                put_u8(b, (uint8_t) i);
        return b;
}

static void test_parse_good(void) {
        g_autoptr(GByteArray) b = good_reply("My Host", NULL);
        g_auto(A2sInfo) info = { .name = NULL };

        g_assert_cmpint(a2s_info_parse(b->data, b->len, &info), ==, 0);
        g_assert_cmpstr(info.name, ==, "My Host");
        g_assert_cmpstr(info.map, ==, "c2m1_highway");
        g_assert_cmpstr(info.folder, ==, "left4dead2");
        g_assert_cmpstr(info.game, ==, "Left 4 Dead 2");
        g_assert_cmpuint(info.players, ==, 3);
        g_assert_cmpuint(info.max_players, ==, 8);
        g_assert_cmpuint(info.bots, ==, 1);
}

/* Every prefix is refused but the one that ends with the version string
 * (the extra data is optional). */
static void test_parse_truncated(void) {
        size_t version_end;
        g_autoptr(GByteArray) b = good_reply("My Host", &version_end);

        for (size_t len = 0; len < b->len; len++) {
                g_autofree uint8_t *copy = g_memdup2(b->data, len);   /* exact size: valgrind sees overreads */
                g_auto(A2sInfo) info = { .name = NULL };
                int r = a2s_info_parse(copy ? copy : (const uint8_t *) "", len, &info);

                if (len == version_end) {
                        g_assert_cmpint(r, ==, 0);
                        g_assert_cmpuint(info.max_players, ==, 8);
                } else {
                        g_assert_cmpint(r, ==, -EPROTO);
                        g_assert_null(info.name);
                        g_assert_null(info.map);
                }
        }
}

static void test_parse_bad(void) {
        g_autoptr(GByteArray) b = good_reply("My Host", NULL);
        g_auto(A2sInfo) info = { .name = NULL };

        /* wrong type byte */
        b->data[0] = 0x48;
        g_assert_cmpint(a2s_info_parse(b->data, b->len, &info), ==, -EPROTO);
        b->data[0] = 0x41;
        g_assert_cmpint(a2s_info_parse(b->data, b->len, &info), ==, -EPROTO);
        b->data[0] = 0x49;
        g_assert_cmpint(a2s_info_parse(b->data, b->len, &info), ==, 0);
        a2s_info_clear(&info);

        /* something after the extra data */
        put_u8(b, 0);
        g_assert_cmpint(a2s_info_parse(b->data, b->len, &info), ==, -EPROTO);
        g_assert_null(info.name);
}

static void test_parse_strings(void) {
        char name[A2S_STRING_MAX + 2];

        /* the longest string allowed, and one byte more */
        memset(name, 'x', sizeof(name));
        name[A2S_STRING_MAX] = '\0';
        {
                g_autoptr(GByteArray) b = good_reply(name, NULL);
                g_auto(A2sInfo) info = { .name = NULL };

                g_assert_cmpint(a2s_info_parse(b->data, b->len, &info), ==, 0);
                g_assert_cmpuint(strlen(info.name), ==, A2S_STRING_MAX);
        }
        name[A2S_STRING_MAX] = 'x';
        name[A2S_STRING_MAX + 1] = '\0';
        {
                g_autoptr(GByteArray) b = good_reply(name, NULL);
                g_auto(A2sInfo) info = { .name = NULL };

                g_assert_cmpint(a2s_info_parse(b->data, b->len, &info), ==, -EPROTO);
                g_assert_null(info.name);
        }
        /* invalid UTF-8 is replaced, valid UTF-8 kept */
        {
                g_autoptr(GByteArray) b = good_reply("a\xff" "b \xc3\xa9", NULL);
                g_auto(A2sInfo) info = { .name = NULL };

                g_assert_cmpint(a2s_info_parse(b->data, b->len, &info), ==, 0);
                g_assert_cmpstr(info.name, ==, "a\xef\xbf\xbd" "b \xc3\xa9");
                g_assert_true(g_utf8_validate(info.name, -1, NULL));
        }
}

/* ---- event loop helpers --------------------------------------------------- */

typedef struct Result {
        unsigned calls;
        int error;
        A2sInfo info;
        A2sQuery *query;        /* freed by the callback when set */
} Result;

static void on_done(int error, const A2sInfo *info, void *userdata) {
        Result *res = userdata;

        res->calls++;
        res->error = error;
        if (info) {
                g_assert_cmpint(error, ==, 0);
                res->info.name = g_strdup(info->name);
                res->info.map = g_strdup(info->map);
                res->info.folder = g_strdup(info->folder);
                res->info.game = g_strdup(info->game);
                res->info.players = info->players;
                res->info.max_players = info->max_players;
                res->info.bots = info->bots;
        } else
                g_assert_cmpint(error, <, 0);
        /* freeing inside done() is allowed */
        res->query = a2s_query_free(res->query);
}

static int watchdog(sd_event_source *s, uint64_t usec, void *userdata) {
        g_error("event loop did not finish in time");
        return 0;
}

static void run_until_called(sd_event *e, Result *res) {
        g_autoptr(sd_event_source) dog = NULL;

        g_assert_cmpint(sd_event_add_time_relative(e, &dog, CLOCK_MONOTONIC, 20 * G_USEC_PER_SEC, 0, watchdog, NULL),
                        >=, 0);
        while (res->calls == 0)
                g_assert_cmpint(sd_event_run(e, UINT64_MAX), >=, 0);
        sd_event_source_disable_unref(g_steal_pointer(&dog));
}

static sd_event *new_event(void) {
        sd_event *e = NULL;
        g_assert_cmpint(sd_event_new(&e), >=, 0);
        return e;
}

static int udp_socket(struct sockaddr_in *ret) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), ==, 0);
        g_assert_cmpint(getsockname(fd, (struct sockaddr *) &sa, &len), ==, 0);
        *ret = sa;
        return fd;
}

/* ---- in-test servers ------------------------------------------------------ */

typedef struct Server {
        int fd;
        unsigned challenges;    /* answer this many requests with a (new) challenge first */
        bool split;             /* then answer with a split-packet header */
        unsigned requests;
        bool last_had_challenge;
} Server;

static int server_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Server *srv = userdata;
        uint8_t buf[1500];
        struct sockaddr_storage peer;
        socklen_t plen = sizeof(peer);
        ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *) &peer, &plen);

        g_assert_cmpint(n, >=, 25);
        g_assert_cmpint(memcmp(buf, "\xff\xff\xff\xffTSource Engine Query", 25), ==, 0);
        srv->requests++;
        srv->last_had_challenge = n == 29 && memcmp(buf + 25, "\x01\x02\x03", 3) == 0 &&
                                  buf[28] == (uint8_t) srv->requests - 1;
        if (srv->requests <= srv->challenges) {
                uint8_t ch[9] = { 0xff, 0xff, 0xff, 0xff, 0x41, 1, 2, 3, (uint8_t) srv->requests };
                g_assert_cmpint(sendto(fd, ch, sizeof(ch), 0, (struct sockaddr *) &peer, plen), ==, sizeof(ch));
        } else {
                g_autoptr(GByteArray) b = g_byte_array_new();

                g_byte_array_append(b, (const uint8_t *) (srv->split ? "\xfe\xff\xff\xff" : "\xff\xff\xff\xff"), 4);
                {
                        g_autoptr(GByteArray) r = good_reply("in-test", NULL);
                        g_byte_array_append(b, r->data, r->len);
                }
                g_assert_cmpint(sendto(fd, b->data, b->len, 0, (struct sockaddr *) &peer, plen), ==, (ssize_t) b->len);
        }
        return 0;
}

static void run_server_query(unsigned challenges, bool split, Result *res, Server *srv) {
        g_autoptr(sd_event) e = new_event();
        g_autoptr(sd_event_source) io = NULL;
        struct sockaddr_in sa;

        *srv = (Server) { .challenges = challenges, .split = split };
        srv->fd = udp_socket(&sa);
        g_assert_cmpint(sd_event_add_io(e, &io, srv->fd, EPOLLIN, server_io, srv), >=, 0);
        g_assert_cmpint(a2s_info_query(e, (struct sockaddr *) &sa, sizeof(sa), 5 * G_USEC_PER_SEC, on_done, res,
                                       &res->query), ==, 0);
        g_assert_cmpuint(res->calls, ==, 0);
        run_until_called(e, res);
        g_assert_null(res->query);
        sd_event_source_disable_unref(g_steal_pointer(&io));
        close(srv->fd);
}

static void test_query_challenge_rounds(void) {
        /* two challenge rounds, each answered with the challenge just given */
        {
                Result res = { 0 };
                Server srv;

                run_server_query(2, false, &res, &srv);
                g_assert_cmpint(res.error, ==, 0);
                g_assert_cmpuint(srv.requests, ==, 3);
                g_assert_true(srv.last_had_challenge);
                g_assert_cmpstr(res.info.name, ==, "in-test");
                a2s_info_clear(&res.info);
        }
        /* a server that never stops asking for a challenge */
        {
                Result res = { 0 };
                Server srv;

                run_server_query(100, false, &res, &srv);
                g_assert_cmpint(res.error, ==, -EPROTO);
                g_assert_cmpuint(srv.requests, ==, A2S_CHALLENGE_ROUNDS_MAX + 1);
        }
        /* a split reply */
        {
                Result res = { 0 };
                Server srv;

                run_server_query(0, true, &res, &srv);
                g_assert_cmpint(res.error, ==, -EPROTO);
                g_assert_cmpuint(srv.requests, ==, 1);
        }
}

static void test_query_timeout(void) {
        g_autoptr(sd_event) e = new_event();
        struct sockaddr_in sa;
        _cleanup_close_ int fd = udp_socket(&sa);       /* bound, never answers */
        Result res = { 0 };
        uint64_t start, end;

        g_assert_cmpint(sd_event_now(e, CLOCK_MONOTONIC, &start), >=, 0);
        g_assert_cmpint(a2s_info_query(e, (struct sockaddr *) &sa, sizeof(sa), 200 * 1000, on_done, &res, &res.query),
                        ==, 0);
        run_until_called(e, &res);
        g_assert_cmpint(res.error, ==, -ETIMEDOUT);
        g_assert_cmpint(sd_event_now(e, CLOCK_MONOTONIC, &end), >=, 0);
        g_assert_cmpuint(end - start, >=, 200 * 1000);
        g_assert_cmpuint(res.calls, ==, 1);
}

static int stop_waiting(sd_event_source *s, uint64_t usec, void *userdata) {
        *(bool *) userdata = true;
        return 0;
}

static void test_query_cancel(void) {
        g_autoptr(sd_event) e = new_event();
        g_autoptr(sd_event_source) later = NULL;
        struct sockaddr_in sa;
        _cleanup_close_ int fd = udp_socket(&sa);
        Result res = { 0 };
        A2sQuery *q = NULL;
        bool waited = false;
        uint8_t buf[64];

        g_assert_cmpint(a2s_info_query(e, (struct sockaddr *) &sa, sizeof(sa), 100 * 1000, on_done, &res, &q), ==, 0);
        /* the request went out */
        g_assert_cmpint(recv(fd, buf, sizeof(buf), 0), ==, 25);
        q = a2s_query_free(q);
        /* well past the query's timeout: done() must not come */
        g_assert_cmpint(sd_event_add_time_relative(e, &later, CLOCK_MONOTONIC, 400 * 1000, 0, stop_waiting, &waited),
                        >=, 0);
        while (!waited)
                g_assert_cmpint(sd_event_run(e, UINT64_MAX), >=, 0);
        g_assert_cmpuint(res.calls, ==, 0);
}

static void test_query_refused(void) {
        g_autoptr(sd_event) e = new_event();
        struct sockaddr_in sa;
        Result res = { 0 };

        /* a port nobody listens on: the ICMP error ends the query early */
        close(udp_socket(&sa));
        g_assert_cmpint(a2s_info_query(e, (struct sockaddr *) &sa, sizeof(sa), 5 * G_USEC_PER_SEC, on_done, &res,
                                       &res.query), ==, 0);
        run_until_called(e, &res);
        g_assert_cmpint(res.error, ==, -ECONNREFUSED);
}

/* ---- against fake-srcds --------------------------------------------------- */

static char *srcds_dir;
static GPid srcds_pid;
static int srcds_stdin = -1;
static uint16_t srcds_port;

static bool srcds_start(void) {
        const char *script = g_getenv("L4M_FAKE_SRCDS");
        g_autoptr(GError) error = NULL;
        g_autofree char *cfg_dir = NULL, *cfg = NULL, *out = NULL;
        _cleanup_close_ int out_fd = -1;

        if (!script)
                return false;
        srcds_dir = g_dir_make_tmp("l4m-a2s-XXXXXX", &error);
        g_assert_no_error(error);
        cfg_dir = g_build_filename(srcds_dir, "left4dead2", "cfg", NULL);
        g_assert_cmpint(g_mkdir_with_parents(cfg_dir, 0755), ==, 0);
        cfg = g_build_filename(cfg_dir, "server.cfg", NULL);
        g_file_set_contents(cfg, "// test\nhostname \"A2S test host\"\nrcon_password secret\nsv_maxplayers 12\n", -1,
                            &error);
        g_assert_no_error(error);
        out = g_build_filename(srcds_dir, "out.txt", NULL);
        out_fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        g_assert_cmpint(out_fd, >=, 0);

        const char *argv[] = { "python3", script, "-game", "left4dead2", "-port", "0", "+map", "c5m1_waterfront",
                               "--exit-on-stdin-eof", NULL };
        /* its stdin ends when this process does, however it ends */
        g_spawn_async_with_pipes_and_fds(srcds_dir, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                                         NULL, NULL, -1, out_fd, -1, NULL, NULL, 0, &srcds_pid, &srcds_stdin, NULL,
                                         NULL, &error);
        g_assert_no_error(error);

        /* waits (bounded) for the line that says the sockets are bound */
        for (unsigned i = 0; i < 1000; i++) {
                g_autofree char *text = NULL;
                const char *p;

                if (g_file_get_contents(out, &text, NULL, NULL) && strstr(text, "fake srcds: ready\n") &&
                    (p = strstr(text, "starting on port "))) {
                        srcds_port = (uint16_t) g_ascii_strtoull(p + strlen("starting on port "), NULL, 10);
                        g_assert_cmpuint(srcds_port, >, 0);
                        return true;
                }
                g_usleep(10 * 1000);
        }
        g_error("fake srcds did not come up");
}

static void srcds_stop(void) {
        if (srcds_pid > 0) {
                kill(srcds_pid, SIGTERM);
                (void) waitpid(srcds_pid, NULL, 0);
                g_spawn_close_pid(srcds_pid);
        }
        l4m_close_fdp(&srcds_stdin);
        if (srcds_dir) {
                const char *argv[] = { "rm", "-rf", srcds_dir, NULL };
                g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
                g_free(srcds_dir);
        }
}

static void on_rcon_reply(int error, const char *reply, void *userdata) {
        g_assert_cmpint(error, ==, 0);
        (*(unsigned *) userdata)++;
}

static void test_query_fake_srcds(void) {
        g_autoptr(sd_event) e = NULL;
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        Result res = { 0 };

        if (srcds_port == 0) {
                g_test_skip("L4M_FAKE_SRCDS not set");
                return;
        }
        e = new_event();
        sa.sin_port = htons(srcds_port);
        g_assert_cmpint(a2s_info_query(e, (struct sockaddr *) &sa, sizeof(sa), 5 * G_USEC_PER_SEC, on_done, &res,
                                       &res.query), ==, 0);
        run_until_called(e, &res);
        /* fake-srcds answers only requests that carry its challenge */
        g_assert_cmpint(res.error, ==, 0);
        g_assert_cmpstr(res.info.name, ==, "A2S test host");
        g_assert_cmpstr(res.info.map, ==, "c5m1_waterfront");
        g_assert_cmpstr(res.info.folder, ==, "left4dead2");
        g_assert_cmpstr(res.info.game, ==, "Left 4 Dead 2");
        g_assert_cmpuint(res.info.max_players, ==, 12);
        g_assert_cmpuint(res.info.players, ==, 0);
        g_assert_cmpuint(res.info.bots, ==, 0);
        a2s_info_clear(&res.info);

        /* what RCON changes, A2S reports */
        {
                g_autoptr(RconClient) c = NULL;
                unsigned replies = 0;

                g_assert_cmpint(rcon_client_new(e, (struct sockaddr *) &sa, sizeof(sa), "secret", &c), ==, 0);
                g_assert_cmpint(rcon_client_send(c, "fake_players 5", 0, on_rcon_reply, &replies), ==, 0);
                g_assert_cmpint(rcon_client_send(c, "changelevel c8m1_apartment", 0, on_rcon_reply, &replies), ==, 0);
                while (replies < 2)
                        g_assert_cmpint(sd_event_run(e, UINT64_MAX), >=, 0);
        }
        res = (Result) { 0 };
        g_assert_cmpint(a2s_info_query(e, (struct sockaddr *) &sa, sizeof(sa), 5 * G_USEC_PER_SEC, on_done, &res,
                                       &res.query), ==, 0);
        run_until_called(e, &res);
        g_assert_cmpint(res.error, ==, 0);
        g_assert_cmpstr(res.info.map, ==, "c8m1_apartment");
        g_assert_cmpuint(res.info.players, ==, 5);
        g_assert_cmpuint(res.info.max_players, ==, 12);
        a2s_info_clear(&res.info);
}

int main(int argc, char **argv) {
        int r;

        g_test_init(&argc, &argv, NULL);
        (void) srcds_start();

        g_test_add_func("/a2s/parse/good", test_parse_good);
        g_test_add_func("/a2s/parse/truncated", test_parse_truncated);
        g_test_add_func("/a2s/parse/bad", test_parse_bad);
        g_test_add_func("/a2s/parse/strings", test_parse_strings);
        g_test_add_func("/a2s/query/challenge-rounds", test_query_challenge_rounds);
        g_test_add_func("/a2s/query/timeout", test_query_timeout);
        g_test_add_func("/a2s/query/cancel", test_query_cancel);
        g_test_add_func("/a2s/query/refused", test_query_refused);
        g_test_add_func("/a2s/query/fake-srcds", test_query_fake_srcds);
        r = g_test_run();

        srcds_stop();
        return r;
}
