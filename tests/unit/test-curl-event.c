/* SPDX-License-Identifier: GPL-2.0-or-later */
/* curl-event against the fake Steam API (tests/fixtures/fake-steam-api.py),
 * which meson passes in $L4M_FAKE_STEAM; loopback only. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "curl-event.h"
#include "l4m-util.h"
#include "steam-api.h"

#define PERIOD 65521u
#define TU 1700000000u

static GPid fixture_pid;
static int fixture_stdin = -1;
static char *base_url;          /* http://127.0.0.1:PORT/ */
static char *tmp_dir;

static const char config_json[] =
        "{\"items\": {"
        "  \"1001\": {\"size\": 1, \"time_updated\": 1700000000},"
        "  \"1002\": {\"size\": 65521, \"time_updated\": 1700000000},"
        "  \"1003\": {\"size\": 65522, \"time_updated\": 1700000000},"
        "  \"1004\": {\"size\": 300000, \"time_updated\": 1700000000},"
        "  \"1005\": {\"size\": 1000000, \"time_updated\": 1700000000},"
        "  \"1006\": {\"size\": 2500000, \"time_updated\": 1700000000},"
        "  \"1007\": {\"size\": 100000, \"time_updated\": 1700000000, \"app\": 440},"
        "  \"1008\": {\"private\": true},"
        "  \"2001\": {\"size\": 5000, \"time_updated\": 1700000000, \"fail_first_n\": 1000000},"
        "  \"3001\": {\"size\": 100000, \"time_updated\": 1700000000, \"stall_seconds\": 20, \"stall_after\": 1000},"
        "  \"4001\": {\"size\": 200000, \"time_updated\": 1700000000},"
        "  \"5001\": {\"size\": 300000, \"time_updated\": 1700000000, \"truncate_at\": 100000, \"truncate_times\": 1},"
        "  \"5002\": {\"size\": 150000, \"time_updated\": 1700000000, \"ignore_range\": true},"
        "  \"6001\": {\"size\": 100000, \"time_updated\": 1700000000, \"stall_seconds\": 20, \"stall_after\": 1000}"
        "},"
        " \"collections\": {\"9001\": [1001, 9002], \"9002\": [1002, 9001]},"
        " \"endpoints\": {\"GetCollectionDetails\": {\"fail_first_n\": 1}}}";

/* ---- fixture ----------------------------------------------------------- */

static bool fixture_start(void) {
        const char *script = g_getenv("L4M_FAKE_STEAM");
        g_autoptr(GError) error = NULL;
        g_autofree char *config = NULL, *line = NULL;
        char buf[256];
        size_t len = 0;
        int out_fd = -1;

        if (!script)
                return false;

        tmp_dir = g_dir_make_tmp("l4m-curl-XXXXXX", &error);
        g_assert_no_error(error);
        config = g_build_filename(tmp_dir, "steam.json", NULL);
        g_file_set_contents(config, config_json, -1, &error);
        g_assert_no_error(error);

        const char *argv[] = {
                "python3", script, "--config", config, "--listen", "127.0.0.1:0", "--exit-on-stdin-eof", NULL,
        };
        g_spawn_async_with_pipes(NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                                 NULL, NULL, &fixture_pid, &fixture_stdin, &out_fd, NULL, &error);
        g_assert_no_error(error);

        /* first line: "LISTENING 127.0.0.1:PORT" */
        while (len < sizeof(buf) - 1 && !memchr(buf, '\n', len)) {
                struct pollfd p = { .fd = out_fd, .events = POLLIN };
                ssize_t n;

                g_assert_cmpint(poll(&p, 1, 20000), ==, 1);
                n = read(out_fd, buf + len, sizeof(buf) - 1 - len);
                g_assert_cmpint(n, >, 0);
                len += (size_t) n;
        }
        close(out_fd);
        buf[len] = '\0';
        line = g_strndup(buf, strcspn(buf, "\n"));
        g_assert_true(g_str_has_prefix(line, "LISTENING 127.0.0.1:"));
        base_url = g_strdup_printf("http://%s/", line + strlen("LISTENING "));
        g_test_message("fixture at %s", base_url);
        return true;
}

static void fixture_stop(void) {
        int status;

        if (fixture_pid <= 0)
                return;
        (void) kill(fixture_pid, SIGTERM);
        (void) waitpid(fixture_pid, &status, 0);
        g_spawn_close_pid(fixture_pid);
        close(fixture_stdin);
        g_free(base_url);
        if (tmp_dir) {
                g_autofree char *config = g_build_filename(tmp_dir, "steam.json", NULL);
                (void) g_unlink(config);
                (void) g_rmdir(tmp_dir);
                g_free(tmp_dir);
        }
}

static bool need_fixture(void) {
        if (fixture_pid > 0)
                return true;
        g_test_skip("L4M_FAKE_STEAM not set");
        return false;
}

static char *file_url(uint64_t id) {
        return g_strdup_printf("%sfiles/%" PRIu64 "/%u.vpk", base_url, id, TU);
}

static size_t collect_cb(char *ptr, size_t size, size_t nmemb, void *userdata) {
        g_byte_array_append(userdata, (const guint8 *) ptr, (guint) (size * nmemb));
        return size * nmemb;
}

/* Blocking request to a control endpoint; returns the body. */
static GBytes *control(const char *method, const char *path) {
        g_autofree char *url = g_strconcat(base_url, path, NULL);
        g_autoptr(CURL) easy = NULL;
        GByteArray *body = g_byte_array_new();

        g_assert_cmpint(curl_event_easy_new(url, &easy), ==, 0);
        if (g_str_equal(method, "POST"))
                g_assert_cmpint(curl_easy_setopt(easy, CURLOPT_POSTFIELDS, ""), ==, CURLE_OK);
        g_assert_cmpint(curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect_cb), ==, CURLE_OK);
        g_assert_cmpint(curl_easy_setopt(easy, CURLOPT_WRITEDATA, body), ==, CURLE_OK);
        g_assert_cmpint(curl_easy_perform(easy), ==, CURLE_OK);
        return g_byte_array_free_to_bytes(body);
}

/* /_stats → items.<id>.<field> (0 if absent) */
static int64_t stat_of(uint64_t id, const char *field) {
        g_autoptr(GBytes) body = control("GET", "_stats");
        g_autoptr(JsonParser) parser = json_parser_new();
        g_autoptr(GError) error = NULL;
        g_autofree char *key = g_strdup_printf("%" PRIu64, id);
        JsonObject *items, *item;
        gsize len;
        const char *data = g_bytes_get_data(body, &len);

        json_parser_load_from_data(parser, data, (gssize) len, &error);
        g_assert_no_error(error);
        items = json_object_get_object_member(json_node_get_object(json_parser_get_root(parser)), "items");
        if (!json_object_has_member(items, key))
                return 0;
        item = json_object_get_object_member(items, key);
        return json_object_get_int_member(item, field);
}

/* ---- content ----------------------------------------------------------- */

/* The fixture's content: byte i is B[i % 65521], B = sha256("ID:TU:0") ‖
 * sha256("ID:TU:1") ‖ … cut to 65521 bytes. */
static void assert_content(const char *path, uint64_t id, uint64_t size) {
        g_autofree guint8 *block = g_malloc(PERIOD + 32);
        g_autofree char *data = NULL;
        g_autoptr(GError) error = NULL;
        gsize len;

        for (unsigned k = 0; k * 32 < PERIOD; k++) {
                g_autoptr(GChecksum) ck = g_checksum_new(G_CHECKSUM_SHA256);
                g_autofree char *s = g_strdup_printf("%" PRIu64 ":%u:%u", id, TU, k);
                gsize dlen = 32;

                g_checksum_update(ck, (const guchar *) s, -1);
                g_checksum_get_digest(ck, block + k * 32, &dlen);
        }

        g_file_get_contents(path, &data, &len, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(len, ==, size);
        for (gsize i = 0; i < len; i++)
                if ((guint8) data[i] != block[i % PERIOD])
                        g_error("%s: byte %zu differs", path, (size_t) i);
}

/* ---- transfers --------------------------------------------------------- */

typedef struct Job {
        uint64_t id;
        CURL *easy;
        CurlFileSink sink;
        int fd;
        char *path;
        bool done;
        CURLcode result;
        char *error;
        int r;
        long status;
        unsigned *pending;
} Job;

static void job_done(CurlEvent *c, CURL *easy, CURLcode result, const char *error, void *userdata) {
        Job *j = userdata;

        g_assert_false(j->done);
        g_assert_true(easy == j->easy);
        j->done = true;
        j->result = result;
        g_free(j->error);
        j->error = g_strdup(error);
        if (result == CURLE_OK)
                g_assert_null(error);
        else
                g_assert_nonnull(error);
        j->r = curl_event_file_sink_finish(&j->sink, easy, result, &j->status);
        g_test_message("item %" PRIu64 ": curl %d (%s), r=%d, HTTP %ld, wrote %" PRIu64 " from %" PRIu64,
                       j->id, result, error ? error : "ok", j->r, j->status, j->sink.written, j->sink.offset);
        --*j->pending;
}

static void job_start(Job *j, CurlEvent *c, sd_event *e, unsigned *pending, uint64_t id, uint64_t offset,
                      uint64_t max) {
        g_autofree char *url = file_url(id);

        j->id = id;
        j->pending = pending;
        j->done = false;
        g_clear_pointer(&j->error, g_free);
        if (!j->path) {
                j->path = g_strdup_printf("%s/%" PRIu64 ".part", tmp_dir, id);
                j->fd = open(j->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                g_assert_cmpint(j->fd, >=, 0);
        }
        if (!j->easy)
                g_assert_cmpint(curl_event_easy_new(url, &j->easy), ==, 0);
        g_assert_cmpint(curl_event_easy_set_download(j->easy, &j->sink, j->fd, offset, max), ==, 0);
        g_assert_cmpint(curl_event_add(c, j->easy, job_done, j), ==, 0);
        (*pending)++;
}

static void job_clear(Job *j) {
        if (j->easy)
                curl_easy_cleanup(j->easy);
        if (j->fd >= 0)
                close(j->fd);
        if (j->path)
                (void) g_unlink(j->path);
        g_free(j->path);
        g_free(j->error);
        *j = (Job) { .fd = -1 };
}

static int watchdog(sd_event_source *s, uint64_t usec, void *userdata) {
        g_error("event loop did not finish in time");
        return 0;
}

/* Runs e until *pending drops to 0. (Not sd_event_exit(): a loop that
 * exited cannot run again.) */
static void run_loop(sd_event *e, unsigned *pending, unsigned seconds) {
        g_autoptr(sd_event_source) dog = NULL;

        g_assert_cmpint(sd_event_add_time_relative(e, &dog, CLOCK_MONOTONIC, seconds * G_USEC_PER_SEC, 0,
                                                   watchdog, NULL), >=, 0);
        while (*pending > 0)
                g_assert_cmpint(sd_event_run(e, UINT64_MAX), >=, 0);
        sd_event_source_disable_unref(g_steal_pointer(&dog));
}

static sd_event *new_event(void) {
        sd_event *e = NULL;
        g_assert_cmpint(sd_event_new(&e), >=, 0);
        return e;
}

/* ---- tests ------------------------------------------------------------- */

static void test_parallel_downloads(void) {
        static const struct { uint64_t id, size; } files[] = {
                { 1001, 1 }, { 1002, 65521 }, { 1003, 65522 }, { 1004, 300000 }, { 1005, 1000000 }, { 1006, 2500000 },
        };
        Job jobs[G_N_ELEMENTS(files)];
        g_autoptr(sd_event) e = NULL;
        g_autoptr(CurlEvent) c = NULL;
        unsigned pending = 0;

        if (!need_fixture())
                return;
        g_bytes_unref(control("POST", "_reset_stats"));

        e = new_event();
        g_assert_cmpint(curl_event_new(e, &c), ==, 0);
        for (size_t i = 0; i < G_N_ELEMENTS(jobs); i++) {
                jobs[i] = (Job) { .fd = -1 };
                job_start(&jobs[i], c, e, &pending, files[i].id, 0, files[i].size);
        }
        g_assert_cmpuint(curl_event_count(c), ==, G_N_ELEMENTS(files));
        /* adding the same handle twice is refused */
        g_assert_cmpint(curl_event_add(c, jobs[0].easy, job_done, &jobs[0]), ==, -EBUSY);

        run_loop(e, &pending, 20);

        g_assert_cmpuint(curl_event_count(c), ==, 0);
        for (size_t i = 0; i < G_N_ELEMENTS(jobs); i++) {
                g_assert_true(jobs[i].done);
                g_assert_cmpint(jobs[i].result, ==, CURLE_OK);
                g_assert_cmpint(jobs[i].r, ==, 0);
                g_assert_cmpint(jobs[i].status, ==, 200);
                g_assert_cmpuint(jobs[i].sink.written, ==, files[i].size);
                g_assert_false(jobs[i].sink.resumed || jobs[i].sink.restarted || jobs[i].sink.exceeded);
                assert_content(jobs[i].path, files[i].id, files[i].size);
                g_assert_cmpint(stat_of(files[i].id, "downloads"), ==, 1);
                g_assert_cmpint(stat_of(files[i].id, "requests"), ==, 1);
                job_clear(&jobs[i]);
        }
}

static void test_http_error(void) {
        g_autoptr(sd_event) e = new_event();
        g_autoptr(CurlEvent) c = NULL;
        Job j = { .fd = -1 };
        unsigned pending = 0;
        struct stat st;

        if (!need_fixture())
                return;
        g_assert_cmpint(curl_event_new(e, &c), ==, 0);
        job_start(&j, c, e, &pending, 2001, 0, 5000);
        run_loop(e, &pending, 20);

        g_assert_true(j.done);
        g_assert_cmpint(j.result, ==, CURLE_HTTP_RETURNED_ERROR);
        g_assert_cmpint(j.status, ==, 500);
        g_assert_cmpint(j.r, ==, -EAGAIN);
        g_assert_true(curl_event_errno_is_transient(j.r));
        g_assert_cmpuint(j.sink.written, ==, 0);
        /* the error page went nowhere */
        g_assert_cmpint(fstat(j.fd, &st), ==, 0);
        g_assert_cmpint(st.st_size, ==, 0);

        /* an unknown file: 404, permanent */
        curl_easy_cleanup(j.easy);
        j.easy = NULL;
        {
                g_autofree char *url = g_strdup_printf("%sfiles/1001/1.vpk", base_url);
                g_assert_cmpint(curl_event_easy_new(url, &j.easy), ==, 0);
                g_assert_cmpint(curl_event_easy_set_download(j.easy, &j.sink, j.fd, 0, 5000), ==, 0);
                g_assert_cmpint(curl_event_add(c, j.easy, job_done, &j), ==, 0);
                j.done = false;
                pending++;
                run_loop(e, &pending, 20);
        }
        g_assert_cmpint(j.status, ==, 404);
        g_assert_cmpint(j.r, ==, -ENOENT);
        g_assert_false(curl_event_errno_is_transient(j.r));
        job_clear(&j);
}

static void test_stall(void) {
        g_autoptr(sd_event) e = new_event();
        g_autoptr(CurlEvent) c = NULL;
        Job j = { .fd = -1 };
        unsigned pending = 0;
        int64_t start;

        if (!need_fixture())
                return;
        g_assert_cmpint(curl_event_new(e, &c), ==, 0);
        job_start(&j, c, e, &pending, 3001, 0, 100000);
        g_assert_cmpint(curl_easy_setopt(j.easy, CURLOPT_LOW_SPEED_LIMIT, 1000L), ==, CURLE_OK);
        g_assert_cmpint(curl_easy_setopt(j.easy, CURLOPT_LOW_SPEED_TIME, 1L), ==, CURLE_OK);

        start = g_get_monotonic_time();
        run_loop(e, &pending, 15);

        g_assert_cmpint(j.result, ==, CURLE_OPERATION_TIMEDOUT);
        g_assert_cmpint(j.r, ==, -ETIMEDOUT);
        g_assert_true(curl_event_errno_is_transient(j.r));
        g_assert_cmpuint(j.sink.written, ==, 1000);
        g_assert_cmpint(g_get_monotonic_time() - start, <, 10 * G_USEC_PER_SEC);
        job_clear(&j);
}

static void test_size_cap(void) {
        g_autoptr(sd_event) e = new_event();
        g_autoptr(CurlEvent) c = NULL;
        Job announced = { .fd = -1 }, chunked = { .fd = -1 };
        unsigned pending = 0;

        if (!need_fixture())
                return;
        g_assert_cmpint(curl_event_new(e, &c), ==, 0);

        /* the fixture announces 200000 bytes: curl refuses up front */
        job_start(&announced, c, e, &pending, 4001, 0, 100000);
        /* the same without curl's check: the write cap stops it */
        job_start(&chunked, c, e, &pending, 4001, 0, 100000);
        g_assert_cmpint(curl_easy_setopt(chunked.easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) 0), ==, CURLE_OK);
        run_loop(e, &pending, 20);

        g_assert_cmpint(announced.result, ==, CURLE_FILESIZE_EXCEEDED);
        g_assert_cmpint(announced.r, ==, -EFBIG);
        g_assert_cmpint(chunked.result, ==, CURLE_WRITE_ERROR);
        g_assert_cmpint(chunked.r, ==, -EFBIG);
        g_assert_true(chunked.sink.exceeded);
        g_assert_cmpuint(chunked.sink.written, <=, 100000);
        g_assert_false(curl_event_errno_is_transient(chunked.r));
        job_clear(&announced);
        job_clear(&chunked);
}

static void test_resume(void) {
        g_autoptr(sd_event) e = new_event();
        g_autoptr(CurlEvent) c = NULL;
        Job j = { .fd = -1 }, k = { .fd = -1 };
        unsigned pending = 0;

        if (!need_fixture())
                return;
        g_assert_cmpint(curl_event_new(e, &c), ==, 0);

        /* first attempt cut at 100000 bytes */
        job_start(&j, c, e, &pending, 5001, 0, 300000);
        run_loop(e, &pending, 20);
        g_assert_cmpint(j.result, ==, CURLE_PARTIAL_FILE);
        g_assert_cmpint(j.r, ==, -ECONNRESET);
        g_assert_true(curl_event_errno_is_transient(j.r));
        g_assert_cmpuint(j.sink.written, ==, 100000);

        /* resume: 206 from 100000 on */
        job_start(&j, c, e, &pending, 5001, 100000, 300000);
        run_loop(e, &pending, 20);
        g_assert_cmpint(j.r, ==, 0);
        g_assert_cmpint(j.status, ==, 206);
        g_assert_true(j.sink.resumed);
        g_assert_false(j.sink.restarted);
        g_assert_cmpuint(j.sink.offset, ==, 100000);
        g_assert_cmpuint(j.sink.written, ==, 200000);
        assert_content(j.path, 5001, 300000);
        g_assert_cmpint(stat_of(5001, "ranges"), ==, 1);

        /* a server that ignores Range: the file starts over */
        job_start(&k, c, e, &pending, 5002, 0, 150000);
        run_loop(e, &pending, 20);
        g_assert_cmpint(k.r, ==, 0);
        g_assert_cmpint(ftruncate(k.fd, 70000), ==, 0);
        job_start(&k, c, e, &pending, 5002, 70000, 150000);
        run_loop(e, &pending, 20);
        g_assert_cmpint(k.r, ==, 0);
        g_assert_cmpint(k.status, ==, 200);
        g_assert_true(k.sink.restarted);
        g_assert_false(k.sink.resumed);
        g_assert_cmpuint(k.sink.offset, ==, 0);
        g_assert_cmpuint(k.sink.written, ==, 150000);
        assert_content(k.path, 5002, 150000);

        /* asking for a range past the end: 416, permanent; the file is left alone */
        job_start(&j, c, e, &pending, 5001, 300000, 300000);
        run_loop(e, &pending, 20);
        g_assert_cmpint(j.status, ==, 416);
        g_assert_cmpint(j.r, ==, -ERANGE);
        g_assert_false(curl_event_errno_is_transient(j.r));
        assert_content(j.path, 5001, 300000);

        job_clear(&j);
        job_clear(&k);
}

static void never_called(CurlEvent *c, CURL *easy, CURLcode result, const char *error, void *userdata) {
        g_error("done callback of a removed transfer was called");
}

typedef struct RemoveCtx {
        CurlEvent *c;
        CURL *victim;
        unsigned *pending;
} RemoveCtx;

static int remove_later(sd_event_source *s, uint64_t usec, void *userdata) {
        RemoveCtx *ctx = userdata;

        g_assert_cmpuint(curl_event_count(ctx->c), >=, 1);
        curl_event_remove(ctx->c, ctx->victim);
        curl_event_remove(ctx->c, ctx->victim);      /* twice: a no-op */
        --*ctx->pending;
        return 0;
}

static void test_remove_in_flight(void) {
        g_autoptr(sd_event) e = new_event();
        g_autoptr(CurlEvent) c = NULL;
        g_autoptr(sd_event_source) timer = NULL;
        g_autoptr(CURL) victim = NULL, orphan = NULL;
        g_autofree char *url = NULL;
        CurlFileSink sink, orphan_sink;
        _cleanup_close_ int fd = -1, orphan_fd = -1;
        g_autofree char *path = NULL, *orphan_path = NULL;
        Job slow = { .fd = -1 };
        unsigned pending = 0;
        RemoveCtx ctx;

        if (!need_fixture())
                return;
        g_assert_cmpint(curl_event_new(e, &c), ==, 0);

        path = g_build_filename(tmp_dir, "victim.part", NULL);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        g_assert_cmpint(fd, >=, 0);
        url = file_url(6001);
        g_assert_cmpint(curl_event_easy_new(url, &victim), ==, 0);
        g_assert_cmpint(curl_event_easy_set_download(victim, &sink, fd, 0, 100000), ==, 0);
        g_assert_cmpint(curl_event_add(c, victim, never_called, NULL), ==, 0);

        /* another transfer runs alongside and is not disturbed */
        job_start(&slow, c, e, &pending, 1005, 0, 1000000);

        ctx = (RemoveCtx) { c, victim, &pending };
        pending++;
        g_assert_cmpint(sd_event_add_time_relative(e, &timer, CLOCK_MONOTONIC, 300 * 1000, 0, remove_later, &ctx),
                        >=, 0);
        run_loop(e, &pending, 20);
        g_assert_cmpint(slow.r, ==, 0);
        g_assert_cmpuint(curl_event_count(c), ==, 0);
        /* give a stray callback a chance to show up */
        for (int i = 0; i < 5; i++)
                g_assert_cmpint(sd_event_run(e, 100 * 1000), >=, 0);
        /* the victim got its first 1000 bytes before the stall, then nothing */
        g_assert_cmpuint(sink.written, ==, 1000);

        /* a handle removed can be used again, elsewhere */
        g_assert_cmpint(curl_easy_setopt(victim, CURLOPT_URL, url), ==, CURLE_OK);

        /* freeing the CurlEvent with a transfer in flight: no callback, nothing leaks */
        orphan_path = g_build_filename(tmp_dir, "orphan.part", NULL);
        orphan_fd = open(orphan_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        g_assert_cmpint(orphan_fd, >=, 0);
        g_assert_cmpint(curl_event_easy_new(url, &orphan), ==, 0);
        g_assert_cmpint(curl_event_easy_set_download(orphan, &orphan_sink, orphan_fd, 0, 100000), ==, 0);
        g_assert_cmpint(curl_event_add(c, orphan, never_called, NULL), ==, 0);
        for (int i = 0; i < 20 && orphan_sink.written == 0; i++)
                g_assert_cmpint(sd_event_run(e, 100 * 1000), >=, 0);
        g_assert_cmpuint(orphan_sink.written, ==, 1000);
        g_clear_pointer(&c, curl_event_free);

        (void) g_unlink(path);
        (void) g_unlink(orphan_path);
        job_clear(&slow);
}

typedef struct ApiCall {
        CurlMemorySink *sink;
        int r;
        long status;
        bool done;
} ApiCall;

static void api_done(CurlEvent *c, CURL *easy, CURLcode result, const char *error, void *userdata) {
        ApiCall *a = userdata;

        a->done = true;
        a->r = curl_memory_sink_finish(a->sink, easy, result, &a->status);
}

static void api_call(sd_event *e, CurlEvent *c, const char *path, const char *body, size_t max, bool curl_cap,
                     ApiCall *a) {
        g_autofree char *url = steam_api_url(base_url, path);
        g_autoptr(CURL) easy = NULL;

        *a = (ApiCall) { .sink = curl_memory_sink_new(max) };
        g_assert_cmpint(curl_event_easy_new(url, &easy), ==, 0);
        g_assert_cmpint(curl_event_easy_set_post_form(easy, body, a->sink), ==, 0);
        if (!curl_cap)
                g_assert_cmpint(curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) 0), ==, CURLE_OK);
        g_assert_cmpint(curl_event_add(c, easy, api_done, a), ==, 0);
        while (!a->done)
                g_assert_cmpint(sd_event_run(e, UINT64_MAX), >=, 0);
}

static void test_api_post(void) {
        const uint64_t ids[] = { 1004, 1007, 1008, 7777 };
        const uint64_t colls[] = { 9001 };
        g_autoptr(sd_event) e = new_event();
        g_autoptr(CurlEvent) c = NULL;
        g_autofree char *body = steam_api_details_body(ids, G_N_ELEMENTS(ids));
        g_autofree char *cbody = steam_api_collections_body(colls, 1);
        g_autoptr(GArray) items = NULL;
        g_autoptr(GPtrArray) list = NULL;
        g_autoptr(GHashTable) map = workshop_collection_map_new();
        g_autoptr(WorkshopExpansion) x = NULL;
        g_autofree char *error = NULL;
        g_autofree char *want_url = NULL;
        const WorkshopItem *it;
        ApiCall a;

        if (!need_fixture())
                return;
        g_assert_cmpint(curl_event_new(e, &c), ==, 0);

        api_call(e, c, STEAM_API_PATH_DETAILS, body, STEAM_API_RESPONSE_MAX, true, &a);
        g_assert_cmpint(a.r, ==, 0);
        g_assert_cmpint(a.status, ==, 200);
        g_assert_cmpint(steam_details_parse((const char *) a.sink->data->data, a.sink->data->len, &items, &error),
                        ==, 0);
        curl_memory_sink_free(a.sink);

        it = workshop_items_find(items, 1004);
        g_assert_nonnull(it);
        g_assert_cmpint(it->status, ==, WORKSHOP_ITEM_OK);
        g_assert_cmpuint(it->file_size, ==, 300000);
        g_assert_cmpuint(it->time_updated, ==, TU);
        want_url = file_url(1004);
        g_assert_cmpstr(it->file_url, ==, want_url);
        g_assert_cmpint(workshop_items_find(items, 1007)->status, ==, WORKSHOP_ITEM_WRONG_GAME);
        g_assert_cmpint(workshop_items_find(items, 1008)->status, ==, WORKSHOP_ITEM_PRIVATE);
        g_assert_cmpint(workshop_items_find(items, 7777)->status, ==, WORKSHOP_ITEM_REMOVED);

        /* the answer is bigger than 100 bytes (curl sees it in Content-Length) */
        api_call(e, c, STEAM_API_PATH_DETAILS, body, 100, true, &a);
        g_assert_cmpint(a.r, ==, -EFBIG);
        g_assert_cmpuint(a.sink->data->len, <=, 100);
        curl_memory_sink_free(a.sink);
        /* the same, caught by the write cap */
        api_call(e, c, STEAM_API_PATH_DETAILS, body, 100, false, &a);
        g_assert_cmpint(a.r, ==, -EFBIG);
        g_assert_true(a.sink->exceeded);
        g_assert_cmpuint(a.sink->data->len, <=, 100);
        curl_memory_sink_free(a.sink);

        /* collections: the endpoint fails once with 500, then answers */
        api_call(e, c, STEAM_API_PATH_COLLECTIONS, cbody, STEAM_API_RESPONSE_MAX, true, &a);
        g_assert_cmpint(a.status, ==, 500);
        g_assert_cmpint(a.r, ==, -EAGAIN);
        curl_memory_sink_free(a.sink);
        api_call(e, c, STEAM_API_PATH_COLLECTIONS, cbody, STEAM_API_RESPONSE_MAX, true, &a);
        g_assert_cmpint(a.r, ==, 0);
        g_assert_cmpint(steam_collections_parse((const char *) a.sink->data->data, a.sink->data->len, &list, &error),
                        ==, 0);
        curl_memory_sink_free(a.sink);
        workshop_collection_map_take(map, list);
        g_assert_cmpint(workshop_expand(colls, 1, map, &x), ==, 0);
        g_assert_cmpuint(x->missing->len, ==, 1);
        g_assert_cmpuint(g_array_index(x->missing, uint64_t, 0), ==, 9002);
}

int main(int argc, char **argv) {
        static const char *const proxy_vars[] = {
                "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
        };
        int r;

        g_test_init(&argc, &argv, NULL);
        /* loopback only: no proxy may get in the way */
        for (size_t i = 0; i < G_N_ELEMENTS(proxy_vars); i++)
                g_unsetenv(proxy_vars[i]);
        (void) fixture_start();

        g_test_add_func("/curl-event/parallel-downloads", test_parallel_downloads);
        g_test_add_func("/curl-event/http-error", test_http_error);
        g_test_add_func("/curl-event/stall", test_stall);
        g_test_add_func("/curl-event/size-cap", test_size_cap);
        g_test_add_func("/curl-event/resume", test_resume);
        g_test_add_func("/curl-event/remove-in-flight", test_remove_in_flight);
        g_test_add_func("/curl-event/api-post", test_api_post);
        r = g_test_run();

        fixture_stop();
        return r;
}
