/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-bus-latency [-n COUNT] [-w WARMUP] [OVERLAY-NAME]
 *
 * Round-trip latency of calls to org.left4me.Manager on the system bus:
 * COUNT org.freedesktop.DBus.Properties.GetAll calls on an overlay object
 * (the daemon looks the object up and serialises its properties) against
 * COUNT org.freedesktop.DBus.Peer.Ping calls to the same bus name (answered
 * inside sd-bus: the cost of the bus alone). The two are interleaved,
 * alternating which goes first, so that both see the same conditions.
 * Prints median and p99 in µs for each and their ratios.
 *
 * The overlay (default "bench") must exist.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"

#define DEFAULT_COUNT 10000
#define DEFAULT_WARMUP 200
#define COUNT_MAX 100000000u

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * UINT64_C(1000000000) + (uint64_t) ts.tv_nsec;
}

static gint cmp_u64(gconstpointer a, gconstpointer b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return (x > y) - (x < y);
}

/* sorted samples in ns → µs */
static double median_us(const GArray *v) {
        const uint64_t *s = (const uint64_t *) v->data;
        size_t n = v->len;

        if (n % 2)
                return (double) s[n / 2] / 1000.0;
        return ((double) s[n / 2 - 1] + (double) s[n / 2]) / 2000.0;
}

/* sorted samples in ns → nearest-rank percentile in µs */
static double percentile_us(const GArray *v, double p) {
        size_t rank = (size_t) ((p / 100.0) * (double) v->len + 0.999999);

        rank = CLAMP(rank, 1, v->len);
        return (double) g_array_index(v, uint64_t, rank - 1) / 1000.0;
}

/* One timed method call to the daemon; appends the elapsed ns to samples
 * (if given) and hands back the reply (if asked for). */
static int timed_call(sd_bus *bus, const char *path, const char *interface, const char *member,
                      GArray *samples, sd_bus_message **ret_reply, const char *types, ...) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        uint64_t t0, elapsed;
        va_list ap;
        int r;

        t0 = now_ns();
        va_start(ap, types);
        r = sd_bus_call_methodv(bus, L4M_BUS_NAME, path, interface, member, &error, &reply, types, ap);
        va_end(ap);
        elapsed = now_ns() - t0;
        if (r < 0)
                return log_error_errno(r, "%s.%s on %s failed: %s", interface, member, path,
                                       error.message ? error.message : STRERROR(r));
        if (samples)
                g_array_append_val(samples, elapsed);
        if (ret_reply)
                *ret_reply = g_steal_pointer(&reply);
        return 0;
}

static int get_all(sd_bus *bus, const char *path, GArray *samples) {
        return timed_call(bus, path, "org.freedesktop.DBus.Properties", "GetAll", samples, NULL,
                          "s", L4M_OVERLAY_INTERFACE);
}

static int ping(sd_bus *bus, GArray *samples) {
        return timed_call(bus, L4M_MANAGER_PATH, "org.freedesktop.DBus.Peer", "Ping", samples, NULL, NULL);
}

static int count_properties(sd_bus *bus, const char *path, unsigned *ret) {
        g_autoptr(sd_bus_message) reply = NULL;
        unsigned n = 0;
        int r;

        r = timed_call(bus, path, "org.freedesktop.DBus.Properties", "GetAll", NULL, &reply,
                       "s", L4M_OVERLAY_INTERFACE);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_skip(reply, "{sv}")) > 0)
                n++;
        if (r < 0)
                return log_error_errno(r, "GetAll on %s: unexpected reply: %s", path, STRERROR(r));
        *ret = n;
        return 0;
}

static int parse_count(const char *s, bool zero_ok, size_t *ret) {
        guint64 v;

        if (!g_ascii_string_to_unsigned(s, 10, zero_ok ? 0 : 1, COUNT_MAX, &v, NULL))
                return -EINVAL;
        *ret = (size_t) v;
        return 0;
}

static int run(int argc, char *argv[]) {
        g_autoptr(sd_bus) bus = NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(GArray) t_getall = NULL, t_ping = NULL;
        g_autofree char *path = NULL;
        const char *name = "bench", *p;
        size_t count = DEFAULT_COUNT, warmup = DEFAULT_WARMUP;
        unsigned n_props = 0;
        int64_t t_start;
        double total_s;
        int c, r;

        while ((c = getopt(argc, argv, "hn:w:")) >= 0) {
                switch (c) {
                case 'n':
                        if (parse_count(optarg, false, &count) < 0)
                                return log_error_errno(EINVAL, "bad count: %s", optarg);
                        break;
                case 'w':
                        if (parse_count(optarg, true, &warmup) < 0)
                                return log_error_errno(EINVAL, "bad warm-up count: %s", optarg);
                        break;
                case 'h':
                        printf("usage: bench-bus-latency [-n COUNT] [-w WARMUP] [OVERLAY-NAME]\n"
                               "  -n COUNT   calls of each kind (default %d)\n"
                               "  -w WARMUP  untimed calls of each kind first (default %d)\n"
                               "  OVERLAY-NAME defaults to \"bench\"; it must exist.\n",
                               DEFAULT_COUNT, DEFAULT_WARMUP);
                        return 0;
                default:
                        return -EINVAL;
                }
        }
        if (optind < argc)
                name = argv[optind++];
        if (optind < argc)
                return log_error_errno(EINVAL, "too many arguments");

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return log_error_errno(r, "cannot connect to the system bus: %s", STRERROR(r));

        r = timed_call(bus, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, "GetOverlay", NULL, &reply, "s", name);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "o", &p);
        if (r < 0)
                return log_error_errno(r, "GetOverlay: unexpected reply: %s", STRERROR(r));
        path = g_strdup(p);

        r = count_properties(bus, path, &n_props);
        if (r < 0)
                return r;
        if (n_props == 0)
                return log_error_errno(EBADMSG, "GetAll on %s returned no properties", path);

        for (size_t i = 0; i < warmup; i++)
                if (get_all(bus, path, NULL) < 0 || ping(bus, NULL) < 0)
                        return -EIO;

        t_getall = g_array_sized_new(FALSE, FALSE, sizeof(uint64_t), (guint) count);
        t_ping = g_array_sized_new(FALSE, FALSE, sizeof(uint64_t), (guint) count);
        t_start = g_get_monotonic_time();
        for (size_t i = 0; i < count; i++) {
                bool getall_first = i % 2 == 0;

                if ((getall_first && get_all(bus, path, t_getall) < 0) ||
                    ping(bus, t_ping) < 0 ||
                    (!getall_first && get_all(bus, path, t_getall) < 0))
                        return -EIO;
        }
        total_s = (double) (g_get_monotonic_time() - t_start) / 1e6;

        g_array_sort(t_getall, cmp_u64);
        g_array_sort(t_ping, cmp_u64);

        double gm = median_us(t_getall), g99 = percentile_us(t_getall, 99.0);
        double pm = median_us(t_ping), p99 = percentile_us(t_ping, 99.0);

        printf("bus latency: %zu calls of each kind, interleaved, %zu warm-up calls each, %.2f s in all\n",
               count, warmup, total_s);
        printf("  Properties.GetAll(%s) on %s (%u properties): median %.1f µs, p99 %.1f µs\n",
               L4M_OVERLAY_INTERFACE, path, n_props, gm, g99);
        printf("  Peer.Ping to %s: median %.1f µs, p99 %.1f µs\n", L4M_BUS_NAME, pm, p99);
        printf("  ratio GetAll/Ping: median %.2f, p99 %.2f\n", pm > 0 ? gm / pm : 0.0, p99 > 0 ? g99 / p99 : 0.0);
        return 0;
}

int main(int argc, char *argv[]) {
        l4m_log_open("bench-bus-latency");
        return run(argc, argv) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
