/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench-bus-latency [-n COUNT] [-w WARMUP] [OVERLAY-NAME]
 *
 * Round-trip latency of calls to org.left4me.Manager on the system bus:
 * COUNT org.freedesktop.DBus.Properties.GetAll calls on an overlay object
 * (the daemon looks the object up, may ask polkit, serialises the
 * properties) against COUNT org.freedesktop.DBus.Peer.Ping calls to the same
 * bus name (answered inside sd-bus: the cost of the bus alone). The two are
 * interleaved, alternating which goes first, so that both see the same
 * conditions. Prints median and p99 in µs for each and their ratios.
 *
 * The overlay (default "bench") must exist.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-bus.h>

#include "l4m-bus-names.h"

#define DEFAULT_COUNT 10000
#define DEFAULT_WARMUP 200

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * UINT64_C(1000000000) + (uint64_t) ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return (x > y) - (x < y);
}

/* v sorted; median in µs */
static double median_us(const uint64_t *v, size_t n) {
        if (n % 2)
                return (double) v[n / 2] / 1000.0;
        return ((double) v[n / 2 - 1] + (double) v[n / 2]) / 2000.0;
}

/* v sorted; nearest-rank percentile in µs */
static double percentile_us(const uint64_t *v, size_t n, double p) {
        size_t rank = (size_t) ((p / 100.0) * (double) n + 0.999999);

        if (rank < 1)
                rank = 1;
        if (rank > n)
                rank = n;
        return (double) v[rank - 1] / 1000.0;
}

static int get_all(sd_bus *bus, const char *path, uint64_t *elapsed, unsigned *n_props) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        uint64_t t0;
        int r;

        t0 = now_ns();
        r = sd_bus_call_method(bus, L4M_BUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll",
                               &error, &reply, "s", L4M_OVERLAY_INTERFACE);
        *elapsed = now_ns() - t0;
        if (r < 0) {
                fprintf(stderr, "GetAll on %s failed: %s: %s\n", path,
                        error.name ? error.name : "-", error.message ? error.message : strerror(-r));
                goto finish;
        }
        if (n_props) {
                *n_props = 0;
                r = sd_bus_message_enter_container(reply, 'a', "{sv}");
                if (r < 0)
                        goto bad_reply;
                while ((r = sd_bus_message_skip(reply, "{sv}")) > 0)
                        (*n_props)++;
                if (r < 0)
                        goto bad_reply;
        }
        r = 0;
        goto finish;

bad_reply:
        fprintf(stderr, "GetAll on %s: unexpected reply: %s\n", path, strerror(-r));
finish:
        sd_bus_message_unref(reply);
        sd_bus_error_free(&error);
        return r;
}

static int ping(sd_bus *bus, uint64_t *elapsed) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        uint64_t t0;
        int r;

        t0 = now_ns();
        r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, "org.freedesktop.DBus.Peer", "Ping",
                               &error, &reply, NULL);
        *elapsed = now_ns() - t0;
        if (r < 0)
                fprintf(stderr, "Ping failed: %s: %s\n",
                        error.name ? error.name : "-", error.message ? error.message : strerror(-r));
        sd_bus_message_unref(reply);
        sd_bus_error_free(&error);
        return r < 0 ? r : 0;
}

static int parse_count(const char *s, size_t *ret) {
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || end == s || *end || v == 0 || v > 100000000ULL)
                return -EINVAL;
        *ret = (size_t) v;
        return 0;
}

static void usage(FILE *f) {
        fprintf(f,
                "usage: bench-bus-latency [-n COUNT] [-w WARMUP] [OVERLAY-NAME]\n"
                "  -n COUNT   calls of each kind (default %d)\n"
                "  -w WARMUP  untimed calls of each kind first (default %d)\n"
                "  OVERLAY-NAME defaults to \"bench\"; it must exist.\n",
                DEFAULT_COUNT, DEFAULT_WARMUP);
}

int main(int argc, char *argv[]) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        sd_bus *bus = NULL;
        const char *name = "bench", *p;
        char *path = NULL;
        uint64_t *t_getall = NULL, *t_ping = NULL, dummy, t_start, t_total;
        size_t count = DEFAULT_COUNT, warmup = DEFAULT_WARMUP;
        unsigned n_props = 0;
        int c, r, ret = EXIT_FAILURE;

        while ((c = getopt(argc, argv, "hn:w:")) >= 0) {
                switch (c) {
                case 'n':
                        if (parse_count(optarg, &count) < 0) {
                                fprintf(stderr, "bad count: %s\n", optarg);
                                return 2;
                        }
                        break;
                case 'w':
                        if (strcmp(optarg, "0") == 0)
                                warmup = 0;
                        else if (parse_count(optarg, &warmup) < 0) {
                                fprintf(stderr, "bad warmup count: %s\n", optarg);
                                return 2;
                        }
                        break;
                case 'h':
                        usage(stdout);
                        return EXIT_SUCCESS;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind < argc)
                name = argv[optind++];
        if (optind < argc) {
                usage(stderr);
                return 2;
        }

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "cannot connect to the system bus: %s\n", strerror(-r));
                goto finish;
        }

        r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, "GetOverlay",
                               &error, &reply, "s", name);
        if (r < 0) {
                fprintf(stderr, "GetOverlay(\"%s\") failed: %s: %s\n", name,
                        error.name ? error.name : "-", error.message ? error.message : strerror(-r));
                goto finish;
        }
        r = sd_bus_message_read(reply, "o", &p);
        if (r < 0) {
                fprintf(stderr, "GetOverlay: unexpected reply: %s\n", strerror(-r));
                goto finish;
        }
        path = strdup(p);
        t_getall = calloc(count, sizeof *t_getall);
        t_ping = calloc(count, sizeof *t_ping);
        if (!path || !t_getall || !t_ping) {
                fprintf(stderr, "out of memory\n");
                goto finish;
        }

        if (get_all(bus, path, &dummy, &n_props) < 0)
                goto finish;
        if (n_props == 0) {
                fprintf(stderr, "GetAll on %s returned no properties\n", path);
                goto finish;
        }

        for (size_t i = 0; i < warmup; i++)
                if (get_all(bus, path, &dummy, NULL) < 0 || ping(bus, &dummy) < 0)
                        goto finish;

        t_start = now_ns();
        for (size_t i = 0; i < count; i++) {
                if (i % 2 == 0) {
                        if (get_all(bus, path, &t_getall[i], NULL) < 0 || ping(bus, &t_ping[i]) < 0)
                                goto finish;
                } else {
                        if (ping(bus, &t_ping[i]) < 0 || get_all(bus, path, &t_getall[i], NULL) < 0)
                                goto finish;
                }
        }
        t_total = now_ns() - t_start;

        qsort(t_getall, count, sizeof *t_getall, cmp_u64);
        qsort(t_ping, count, sizeof *t_ping, cmp_u64);

        {
                double gm = median_us(t_getall, count), g99 = percentile_us(t_getall, count, 99.0);
                double pm = median_us(t_ping, count), p99 = percentile_us(t_ping, count, 99.0);

                printf("bus latency: %zu calls of each kind, interleaved, %zu warm-up calls each, %.2f s in all\n",
                       count, warmup, (double) t_total / 1e9);
                printf("  Properties.GetAll(%s) on %s (%u properties): median %.1f µs, p99 %.1f µs\n",
                       L4M_OVERLAY_INTERFACE, path, n_props, gm, g99);
                printf("  Peer.Ping to %s: median %.1f µs, p99 %.1f µs\n", L4M_BUS_NAME, pm, p99);
                printf("  ratio GetAll/Ping: median %.2f, p99 %.2f\n", pm > 0 ? gm / pm : 0.0, p99 > 0 ? g99 / p99 : 0.0);
        }
        ret = EXIT_SUCCESS;

finish:
        free(t_getall);
        free(t_ping);
        free(path);
        sd_bus_message_unref(reply);
        sd_bus_error_free(&error);
        sd_bus_flush_close_unref(bus);
        return ret;
}
