/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The RCON client against the fake srcds (tests/fixtures/fake-srcds.py,
 * which meson passes in $L4M_FAKE_SRCDS) and against sockets inside the
 * test that never answer; loopback only. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "l4m-util.h"
#include "rcon.h"

#define PASSWORD "s3cret pass"

/* ---- the fixture ---------------------------------------------------------- */

typedef struct Srcds {
        char *dir;
        GPid pid;
        int stdin_fd;
        uint16_t port;
} Srcds;

static bool have_srcds(void) {
        if (g_getenv("L4M_FAKE_SRCDS"))
                return true;
        g_test_skip("L4M_FAKE_SRCDS not set");
        return false;
}

/* Starts fake-srcds in s->dir (made on first use) on s->port (0: a free
 * one, which is stored in s->port) and waits until it is ready. */
static void srcds_start(Srcds *s) {
        g_autoptr(GError) error = NULL;
        g_autofree char *out = NULL, *port = g_strdup_printf("%u", s->port);
        _cleanup_close_ int out_fd = -1;

        if (!s->dir) {
                g_autofree char *cfg_dir = NULL, *cfg = NULL;

                s->dir = g_dir_make_tmp("l4m-rcon-XXXXXX", &error);
                g_assert_no_error(error);
                cfg_dir = g_build_filename(s->dir, "left4dead2", "cfg", NULL);
                g_assert_cmpint(g_mkdir_with_parents(cfg_dir, 0755), ==, 0);
                cfg = g_build_filename(cfg_dir, "server.cfg", NULL);
                g_file_set_contents(cfg, "hostname \"RCON test host\"\nrcon_password \"" PASSWORD "\"\n", -1, &error);
                g_assert_no_error(error);
        }
        out = g_build_filename(s->dir, "out.txt", NULL);
        out_fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        g_assert_cmpint(out_fd, >=, 0);

        const char *argv[] = { "python3", g_getenv("L4M_FAKE_SRCDS"), "-game", "left4dead2", "-port", port,
                               "--exit-on-stdin-eof", NULL };
        /* its stdin ends when this process does, however it ends */
        g_spawn_async_with_pipes_and_fds(s->dir, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                                         NULL, NULL, -1, out_fd, -1, NULL, NULL, 0, &s->pid, &s->stdin_fd, NULL, NULL,
                                         &error);
        g_assert_no_error(error);

        /* waits (bounded) for the line that says the sockets are bound */
        for (unsigned i = 0; i < 1000; i++) {
                g_autofree char *text = NULL;
                const char *p;

                if (g_file_get_contents(out, &text, NULL, NULL) && strstr(text, "fake srcds: ready\n") &&
                    (p = strstr(text, "starting on port "))) {
                        uint16_t got = (uint16_t) g_ascii_strtoull(p + strlen("starting on port "), NULL, 10);

                        g_assert_cmpuint(got, >, 0);
                        if (s->port != 0)
                                g_assert_cmpuint(got, ==, s->port);
                        s->port = got;
                        return;
                }
                g_usleep(10 * 1000);
        }
        g_error("fake srcds did not come up");
}

static void srcds_kill(Srcds *s, int sig) {
        if (s->pid <= 0)
                return;
        g_assert_cmpint(kill(s->pid, sig), ==, 0);
        g_assert_cmpint(waitpid(s->pid, NULL, 0), ==, s->pid);
        g_spawn_close_pid(s->pid);
        s->pid = 0;
        l4m_close_fdp(&s->stdin_fd);
        s->stdin_fd = -1;
}

static void srcds_clear(Srcds *s) {
        srcds_kill(s, SIGTERM);
        if (s->dir) {
                const char *argv[] = { "rm", "-rf", s->dir, NULL };
                g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
                g_clear_pointer(&s->dir, g_free);
        }
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Srcds, srcds_clear)

static struct sockaddr_in loopback(uint16_t port) {
        return (struct sockaddr_in) {
                .sin_family = AF_INET,
                .sin_port = htons(port),
                .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
        };
}

/* ---- replies -------------------------------------------------------------- */

typedef struct Reply {
        unsigned calls;
        int error;
        char *text;
        unsigned seq;                   /* when it came, counted by the Replies */
        struct Replies *all;
} Reply;

typedef struct Replies {
        unsigned done;
        unsigned next_seq;
        RconClient **free_client;       /* freed by the first reply when set */
} Replies;

static void on_reply(int error, const char *text, void *userdata) {
        Reply *r = userdata;

        r->calls++;
        g_assert_cmpuint(r->calls, ==, 1);
        r->error = error;
        if (error == 0 || error == -EPERM)
                g_assert_nonnull(text);
        else
                g_assert_null(text);
        r->text = g_strdup(text);
        r->seq = r->all->next_seq++;
        r->all->done++;
        if (r->all->free_client && *r->all->free_client) {
                /* the other replies come from inside this free */
                RconClient *c = g_steal_pointer(r->all->free_client);
                rcon_client_free(c);
        }
}

static void reply_clear(Reply *r) {
        g_clear_pointer(&r->text, g_free);
}

static int watchdog(sd_event_source *s, uint64_t usec, void *userdata) {
        g_error("event loop did not finish in time");
        return 0;
}

static void run_until(sd_event *e, Replies *all, unsigned done) {
        g_autoptr(sd_event_source) dog = NULL;

        g_assert_cmpint(sd_event_add_time_relative(e, &dog, CLOCK_MONOTONIC, 30 * G_USEC_PER_SEC, 0, watchdog, NULL),
                        >=, 0);
        while (all->done < done)
                g_assert_cmpint(sd_event_run(e, UINT64_MAX), >=, 0);
        sd_event_source_disable_unref(g_steal_pointer(&dog));
}

static int set_flag(sd_event_source *s, uint64_t usec, void *userdata) {
        *(bool *) userdata = true;
        return 0;
}

/* Runs the loop for a while: for checks that something does NOT happen. */
static void run_for(sd_event *e, uint64_t usec) {
        g_autoptr(sd_event_source) t = NULL;
        bool flag = false;

        g_assert_cmpint(sd_event_add_time_relative(e, &t, CLOCK_MONOTONIC, usec, 0, set_flag, &flag), >=, 0);
        while (!flag)
                g_assert_cmpint(sd_event_run(e, UINT64_MAX), >=, 0);
}

/* One command, run to its end. */
static void command(sd_event *e, RconClient *c, const char *cmd, uint64_t timeout, Reply *ret) {
        Replies all = { 0 };

        *ret = (Reply) { .all = &all };
        g_assert_cmpint(rcon_client_send(c, cmd, timeout, on_reply, ret), ==, 0);
        g_assert_cmpuint(ret->calls, ==, 0);          /* never from inside send */
        run_until(e, &all, 1);
        ret->all = NULL;
}

static sd_event *new_event(void) {
        sd_event *e = NULL;
        g_assert_cmpint(sd_event_new(&e), >=, 0);
        return e;
}

static RconClient *new_client(sd_event *e, uint16_t port, const char *password) {
        struct sockaddr_in sa = loopback(port);
        RconClient *c = NULL;

        g_assert_cmpint(rcon_client_new(e, (struct sockaddr *) &sa, sizeof(sa), password, &c), ==, 0);
        return c;
}

/* ---- tests ---------------------------------------------------------------- */

/* The peer check: a listener of our own uid passes it; asked to expect
 * another uid, the client refuses before the password goes out. */
static void test_peer_uid(void) {
        g_auto(Srcds) s = { .stdin_fd = -1 };
        g_autoptr(sd_event) e = NULL;
        g_autoptr(RconClient) c = NULL, bad = NULL;
        g_autofree char *expected = NULL;
        struct sockaddr_in sa = loopback(0);
        socklen_t len = sizeof sa;
        _cleanup_close_ int listener = -1, peer = -1;
        char buf[64];
        Reply r;

        if (!have_srcds())
                return;
        srcds_start(&s);
        e = new_event();
        c = new_client(e, s.port, PASSWORD);
        rcon_client_set_peer_uid(c, getuid());
        command(e, c, "echo mine", 0, &r);
        g_assert_cmpint(r.error, ==, 0);
        g_assert_cmpstr(r.text, ==, "mine\n");
        reply_clear(&r);

        /* A plain listener that records what it gets. */
        listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        g_assert_cmpint(listener, >=, 0);
        g_assert_cmpint(bind(listener, (struct sockaddr *) &sa, sizeof sa), ==, 0);
        g_assert_cmpint(listen(listener, 4), ==, 0);
        g_assert_cmpint(getsockname(listener, (struct sockaddr *) &sa, &len), ==, 0);
        bad = new_client(e, ntohs(sa.sin_port), PASSWORD);
        rcon_client_set_peer_uid(bad, getuid() + 1);
        command(e, bad, "echo theirs", 0, &r);
        g_assert_cmpint(r.error, ==, -EPERM);
        expected = g_strdup_printf("belongs to uid %u, not to uid %u", (unsigned) getuid(), (unsigned) getuid() + 1);
        g_assert_nonnull(strstr(r.text, expected));
        reply_clear(&r);
        peer = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        g_assert_cmpint(peer, >=, 0);
        /* Closed without a byte: no password. */
        g_assert_cmpint(recv(peer, buf, sizeof buf, 0), ==, 0);
}

static void test_commands(void) {
        g_auto(Srcds) s = { .stdin_fd = -1 };
        g_autoptr(sd_event) e = NULL;
        g_autoptr(RconClient) c = NULL;
        Reply r;

        if (!have_srcds())
                return;
        srcds_start(&s);
        e = new_event();
        c = new_client(e, s.port, PASSWORD);

        command(e, c, "echo hello world", 0, &r);
        g_assert_cmpint(r.error, ==, 0);
        g_assert_cmpstr(r.text, ==, "hello world\n");
        reply_clear(&r);

        command(e, c, "status", 0, &r);
        g_assert_cmpint(r.error, ==, 0);
        g_assert_nonnull(strstr(r.text, "hostname: RCON test host\n"));
        g_assert_nonnull(strstr(r.text, "map     : c1m1_hotel\n"));
        g_assert_nonnull(strstr(r.text, "players : 0 humans, 0 bots (8 max)"));
        reply_clear(&r);

        command(e, c, "changelevel c2m1_highway", 0, &r);
        g_assert_cmpint(r.error, ==, 0);
        g_assert_cmpstr(r.text, ==, "changelevel: c2m1_highway\n");
        reply_clear(&r);

        command(e, c, "status", 0, &r);
        g_assert_cmpint(r.error, ==, 0);
        g_assert_nonnull(strstr(r.text, "map     : c2m1_highway\n"));
        reply_clear(&r);

        /* a command the server does not know is still an answer */
        command(e, c, "no_such_cvar 1", 0, &r);
        g_assert_cmpint(r.error, ==, 0);
        g_assert_cmpstr(r.text, ==, "Unknown command \"no_such_cvar\"\n");
        reply_clear(&r);
}

static void test_wrong_password(void) {
        g_auto(Srcds) s = { .stdin_fd = -1 };
        g_autoptr(sd_event) e = NULL;
        g_autoptr(RconClient) c = NULL;
        Replies all = { 0 };
        Reply r[2] = { { .all = &all }, { .all = &all } }, ok;

        if (!have_srcds())
                return;
        srcds_start(&s);
        e = new_event();
        c = new_client(e, s.port, "wrong");

        /* every queued command fails with the refusal */
        g_assert_cmpint(rcon_client_send(c, "echo a", 0, on_reply, &r[0]), ==, 0);
        g_assert_cmpint(rcon_client_send(c, "echo b", 0, on_reply, &r[1]), ==, 0);
        run_until(e, &all, 2);
        g_assert_cmpint(r[0].error, ==, -EACCES);
        g_assert_cmpint(r[1].error, ==, -EACCES);

        /* no password at all */
        rcon_client_set_password(c, NULL);
        command(e, c, "echo c", 0, &ok);
        g_assert_cmpint(ok.error, ==, -EACCES);

        /* the right one, on the same client */
        rcon_client_set_password(c, PASSWORD);
        command(e, c, "echo d", 0, &ok);
        g_assert_cmpint(ok.error, ==, 0);
        g_assert_cmpstr(ok.text, ==, "d\n");
        reply_clear(&ok);
}

static char *bigreply(size_t n) {
        char *b = g_malloc(n + 1);

        for (size_t i = 0; i < n; i++)
                b[i] = i % 64 == 63 ? '\n' : (char) ('a' + i % 26);
        b[n] = '\0';
        return b;
}

static void test_multi_packet(void) {
        g_auto(Srcds) s = { .stdin_fd = -1 };
        g_autoptr(sd_event) e = NULL;
        g_autoptr(RconClient) c = NULL;
        g_autofree char *expect = bigreply(20000), *max = bigreply(RCON_REPLY_MAX);
        Reply r;

        if (!have_srcds())
                return;
        srcds_start(&s);
        e = new_event();
        c = new_client(e, s.port, PASSWORD);

        /* five packets */
        command(e, c, "fake_bigreply 20000", 0, &r);
        g_assert_cmpint(r.error, ==, 0);
        g_assert_cmpuint(strlen(r.text), ==, 20000);
        g_assert_cmpstr(r.text, ==, expect);
        reply_clear(&r);

        /* the marker's second packet of the last reply does not leak into this one */
        command(e, c, "echo after", 0, &r);
        g_assert_cmpint(r.error, ==, 0);
        g_assert_cmpstr(r.text, ==, "after\n");
        reply_clear(&r);

        /* exactly the most we take, then one byte more */
        command(e, c, "fake_bigreply 1048576", 0, &r);
        G_STATIC_ASSERT(RCON_REPLY_MAX == 1048576);
        g_assert_cmpint(r.error, ==, 0);
        g_assert_cmpstr(r.text, ==, max);
        reply_clear(&r);

        command(e, c, "fake_bigreply 1048577", 0, &r);
        g_assert_cmpint(r.error, ==, -EMSGSIZE);

        /* and the client goes on */
        command(e, c, "echo still here", 0, &r);
        g_assert_cmpint(r.error, ==, 0);
        g_assert_cmpstr(r.text, ==, "still here\n");
        reply_clear(&r);
}

static void test_order_and_queue(void) {
        g_auto(Srcds) s = { .stdin_fd = -1 };
        g_autoptr(sd_event) e = NULL;
        g_autoptr(RconClient) c = NULL;
        Replies all = { 0 };
        Reply r[RCON_QUEUE_MAX], extra = { .all = &all };

        if (!have_srcds())
                return;
        srcds_start(&s);
        e = new_event();
        c = new_client(e, s.port, PASSWORD);

        for (unsigned i = 0; i < RCON_QUEUE_MAX; i++) {
                g_autofree char *cmd = g_strdup_printf("echo %u", i);

                r[i] = (Reply) { .all = &all };
                g_assert_cmpint(rcon_client_send(c, cmd, 0, on_reply, &r[i]), ==, 0);
        }
        g_assert_cmpint(rcon_client_send(c, "echo too many", 0, on_reply, &extra), ==, -EBUSY);
        g_assert_cmpuint(all.done, ==, 0);

        run_until(e, &all, RCON_QUEUE_MAX);
        for (unsigned i = 0; i < RCON_QUEUE_MAX; i++) {
                g_autofree char *expect = g_strdup_printf("%u\n", i);

                g_assert_cmpint(r[i].error, ==, 0);
                g_assert_cmpuint(r[i].seq, ==, i);
                g_assert_cmpstr(r[i].text, ==, expect);
                reply_clear(&r[i]);
        }
        g_assert_cmpuint(extra.calls, ==, 0);

        /* room again */
        g_assert_cmpint(rcon_client_send(c, "echo room", 0, on_reply, &extra), ==, 0);
        run_until(e, &all, RCON_QUEUE_MAX + 1);
        g_assert_cmpstr(extra.text, ==, "room\n");
        reply_clear(&extra);
}

static void test_bad_commands(void) {
        g_autoptr(sd_event) e = new_event();
        g_autoptr(RconClient) c = new_client(e, 1, PASSWORD);
        g_autofree char *longest = g_strnfill(RCON_COMMAND_MAX, 'x');
        g_autofree char *too_long = g_strnfill(RCON_COMMAND_MAX + 1, 'x');
        Replies all = { 0 };
        Reply r = { .all = &all };

        g_assert_cmpint(rcon_client_send(c, "", 0, on_reply, &r), ==, -EINVAL);
        g_assert_cmpint(rcon_client_send(c, "echo a\nquit", 0, on_reply, &r), ==, -EINVAL);
        g_assert_cmpint(rcon_client_send(c, "echo a\r", 0, on_reply, &r), ==, -EINVAL);
        g_assert_cmpint(rcon_client_send(c, too_long, 0, on_reply, &r), ==, -EINVAL);
        run_for(e, 50 * 1000);
        g_assert_cmpuint(r.calls, ==, 0);

        /* the longest command is accepted (and here fails to connect to port 1) */
        g_assert_cmpint(rcon_client_send(c, longest, 0, on_reply, &r), ==, 0);
        run_until(e, &all, 1);
        g_assert_cmpint(r.error, <, 0);

        /* only IPv4 and IPv6 addresses */
        {
                struct sockaddr_un_like { sa_family_t family; char path[20]; } un = { .family = AF_UNIX };
                RconClient *bad = NULL;

                g_assert_cmpint(rcon_client_new(e, (struct sockaddr *) &un, sizeof(un), NULL, &bad), ==, -EINVAL);
                g_assert_null(bad);
        }
}

static void test_long_command(void) {
        g_auto(Srcds) s = { .stdin_fd = -1 };
        g_autoptr(sd_event) e = NULL;
        g_autoptr(RconClient) c = NULL;
        g_autofree char *text = g_strnfill(RCON_COMMAND_MAX - strlen("echo "), 'y');
        g_autofree char *cmd = g_strconcat("echo ", text, NULL);
        g_autofree char *expect = g_strconcat(text, "\n", NULL);
        Reply r;

        if (!have_srcds())
                return;
        srcds_start(&s);
        e = new_event();
        c = new_client(e, s.port, PASSWORD);

        g_assert_cmpuint(strlen(cmd), ==, RCON_COMMAND_MAX);
        command(e, c, cmd, 0, &r);
        g_assert_cmpint(r.error, ==, 0);
        g_assert_cmpstr(r.text, ==, expect);
        reply_clear(&r);
}

static void test_reconnect(void) {
        g_auto(Srcds) s = { .stdin_fd = -1 };
        g_autoptr(sd_event) e = NULL;
        g_autoptr(RconClient) c = NULL;
        Reply r;

        if (!have_srcds())
                return;
        srcds_start(&s);
        e = new_event();
        c = new_client(e, s.port, PASSWORD);

        command(e, c, "echo one", 0, &r);
        g_assert_cmpstr(r.text, ==, "one\n");
        reply_clear(&r);

        /* the server crashes and comes back on the same port; the client is
         * not told and has not looked at its socket since */
        srcds_kill(&s, SIGKILL);
        srcds_start(&s);
        command(e, c, "echo two", 0, &r);
        g_assert_cmpint(r.error, ==, 0);
        g_assert_cmpstr(r.text, ==, "two\n");
        reply_clear(&r);

        /* same again, with the loop having seen the connection close */
        srcds_kill(&s, SIGKILL);
        run_for(e, 100 * 1000);
        srcds_start(&s);
        command(e, c, "echo three", 0, &r);
        g_assert_cmpint(r.error, ==, 0);
        g_assert_cmpstr(r.text, ==, "three\n");
        reply_clear(&r);

        /* while it is down: refused, no endless retrying */
        srcds_kill(&s, SIGKILL);
        command(e, c, "echo four", 0, &r);
        g_assert_cmpint(r.error, ==, -ECONNREFUSED);

        /* quit: the server answers, then exits */
        srcds_start(&s);
        command(e, c, "quit", 0, &r);
        g_assert_cmpint(r.error, ==, 0);
        g_assert_cmpint(waitpid(s.pid, NULL, 0), ==, s.pid);
        g_spawn_close_pid(s.pid);
        s.pid = 0;
        l4m_close_fdp(&s.stdin_fd);
        s.stdin_fd = -1;
        reply_clear(&r);
}

static void test_refused(void) {
        g_autoptr(sd_event) e = new_event();
        g_autoptr(RconClient) c = NULL;
        struct sockaddr_in sa = loopback(0);
        socklen_t len = sizeof(sa);
        _cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        Reply r;

        /* a bound port that does not listen */
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), ==, 0);
        g_assert_cmpint(getsockname(fd, (struct sockaddr *) &sa, &len), ==, 0);
        c = new_client(e, ntohs(sa.sin_port), PASSWORD);
        command(e, c, "status", 0, &r);
        g_assert_cmpint(r.error, ==, -ECONNREFUSED);
}

static void test_timeout(void) {
        g_autoptr(sd_event) e = new_event();
        g_autoptr(RconClient) c = NULL;
        struct sockaddr_in sa = loopback(0);
        socklen_t len = sizeof(sa);
        _cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        uint64_t start, end;
        Reply r;

        /* listens (the kernel completes the handshake) but never answers */
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), ==, 0);
        g_assert_cmpint(listen(fd, 4), ==, 0);
        g_assert_cmpint(getsockname(fd, (struct sockaddr *) &sa, &len), ==, 0);
        c = new_client(e, ntohs(sa.sin_port), PASSWORD);

        g_assert_cmpint(sd_event_now(e, CLOCK_MONOTONIC, &start), >=, 0);
        command(e, c, "status", 300 * 1000, &r);
        g_assert_cmpint(r.error, ==, -ETIMEDOUT);
        g_assert_cmpint(sd_event_now(e, CLOCK_MONOTONIC, &end), >=, 0);
        g_assert_cmpuint(end - start, >=, 300 * 1000);
}

static void test_silent_command(void) {
        g_auto(Srcds) s = { .stdin_fd = -1 };
        g_autoptr(sd_event) e = NULL;
        g_autoptr(RconClient) c = NULL;
        Reply r;

        if (!have_srcds())
                return;
        srcds_start(&s);
        e = new_event();
        c = new_client(e, s.port, PASSWORD);

        /* authenticated, then no answer to this one */
        command(e, c, "fake_silent", 300 * 1000, &r);
        g_assert_cmpint(r.error, ==, -ETIMEDOUT);
        command(e, c, "echo next", 0, &r);
        g_assert_cmpint(r.error, ==, 0);
        g_assert_cmpstr(r.text, ==, "next\n");
        reply_clear(&r);
}

static void test_free_pending(void) {
        g_auto(Srcds) s = { .stdin_fd = -1 };
        g_autoptr(sd_event) e = NULL;
        RconClient *c = NULL;
        Replies all = { 0 };
        Reply r[3] = { { .all = &all }, { .all = &all }, { .all = &all } };

        if (!have_srcds())
                return;
        srcds_start(&s);
        e = new_event();
        c = new_client(e, s.port, PASSWORD);

        /* one in flight (connected, authenticating), two waiting */
        for (unsigned i = 0; i < 3; i++)
                g_assert_cmpint(rcon_client_send(c, "echo x", 0, on_reply, &r[i]), ==, 0);
        g_assert_cmpint(sd_event_run(e, 0), >=, 0);
        g_assert_cmpuint(all.done, ==, 0);
        c = rcon_client_free(c);
        g_assert_cmpuint(all.done, ==, 3);
        for (unsigned i = 0; i < 3; i++) {
                g_assert_cmpuint(r[i].calls, ==, 1);
                g_assert_cmpint(r[i].error, ==, -ECANCELED);
                g_assert_cmpuint(r[i].seq, ==, i);
        }
        /* and nothing afterwards */
        run_for(e, 200 * 1000);
        g_assert_cmpuint(all.done, ==, 3);
}

static void test_free_in_callback(void) {
        g_auto(Srcds) s = { .stdin_fd = -1 };
        g_autoptr(sd_event) e = NULL;
        RconClient *c = NULL;
        Replies all = { .free_client = &c };
        Reply r[3] = { { .all = &all }, { .all = &all }, { .all = &all } };

        if (!have_srcds())
                return;
        srcds_start(&s);
        e = new_event();
        c = new_client(e, s.port, PASSWORD);

        for (unsigned i = 0; i < 3; i++)
                g_assert_cmpint(rcon_client_send(c, "echo x", 0, on_reply, &r[i]), ==, 0);
        run_until(e, &all, 3);
        g_assert_null(c);
        g_assert_cmpint(r[0].error, ==, 0);
        g_assert_cmpstr(r[0].text, ==, "x\n");
        g_assert_cmpint(r[1].error, ==, -ECANCELED);
        g_assert_cmpint(r[2].error, ==, -ECANCELED);
        reply_clear(&r[0]);
        run_for(e, 100 * 1000);
        g_assert_cmpuint(all.done, ==, 3);
}

static void test_disconnect(void) {
        g_auto(Srcds) s = { .stdin_fd = -1 };
        g_autoptr(sd_event) e = NULL;
        g_autoptr(RconClient) c = NULL;
        Replies all = { 0 };
        Reply r[2] = { { .all = &all }, { .all = &all } }, ok;

        if (!have_srcds())
                return;
        srcds_start(&s);
        e = new_event();
        c = new_client(e, s.port, PASSWORD);

        command(e, c, "echo first", 0, &ok);
        reply_clear(&ok);
        g_assert_cmpint(rcon_client_send(c, "echo a", 0, on_reply, &r[0]), ==, 0);
        g_assert_cmpint(rcon_client_send(c, "echo b", 0, on_reply, &r[1]), ==, 0);
        rcon_client_disconnect(c);
        g_assert_cmpuint(all.done, ==, 2);
        g_assert_cmpint(r[0].error, ==, -ECANCELED);
        g_assert_cmpint(r[1].error, ==, -ECANCELED);

        command(e, c, "echo again", 0, &ok);
        g_assert_cmpint(ok.error, ==, 0);
        g_assert_cmpstr(ok.text, ==, "again\n");
        reply_clear(&ok);
        run_for(e, 50 * 1000);
        g_assert_cmpuint(all.done, ==, 2);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/rcon/commands", test_commands);
        g_test_add_func("/rcon/wrong-password", test_wrong_password);
        g_test_add_func("/rcon/peer-uid", test_peer_uid);
        g_test_add_func("/rcon/multi-packet", test_multi_packet);
        g_test_add_func("/rcon/order-and-queue", test_order_and_queue);
        g_test_add_func("/rcon/bad-commands", test_bad_commands);
        g_test_add_func("/rcon/long-command", test_long_command);
        g_test_add_func("/rcon/reconnect", test_reconnect);
        g_test_add_func("/rcon/refused", test_refused);
        g_test_add_func("/rcon/timeout", test_timeout);
        g_test_add_func("/rcon/silent-command", test_silent_command);
        g_test_add_func("/rcon/free-pending", test_free_pending);
        g_test_add_func("/rcon/free-in-callback", test_free_in_callback);
        g_test_add_func("/rcon/disconnect", test_disconnect);
        return g_test_run();
}
