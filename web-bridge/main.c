/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <glib-unix.h>
#include <systemd/sd-daemon.h>

#include "bridge-internal.h"
#include "config.h"
#include "l4m-listen.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "sd-event-source.h"
#include "web-checks.h"
#include "web-server.h"

static gboolean on_terminate(gpointer userdata) {
        GMainLoop *loop = userdata;

        log_info("Shutting down.");
        (void) sd_notify(false, "STOPPING=1");
        g_main_loop_quit(loop);
        return G_SOURCE_REMOVE;
}

static void help(void) {
        printf("left4me-web [--config FILE] [--listen ADDR:PORT]...\n\n"
               "The HTTP bridge and browser UI of left4me; normally started by\n"
               "left4me-web.socket. See left4me-web(8).\n\n"
               "  --config FILE       read [Web] from FILE only (default: %s/left4me.conf\n"
               "                      and left4me.conf.d/)\n"
               "  --listen ADDR:PORT  listen there (without socket activation)\n"
               "  --version           print the version\n",
               L4M_CONF_DIR);
}

/* Every socket systemd passed, else every --listen address. */
static int start_listening(Bridge *b, char **listen) {
        SoupServerListenOptions opts = b->tls ? SOUP_SERVER_LISTEN_HTTPS : 0;
        int n = sd_listen_fds(true);

        if (n < 0)
                return log_error_errno(n, "Cannot take the sockets from systemd: %s", STRERROR(n));
        for (int i = 0; i < n; i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GSocket) sock = g_socket_new_from_fd(SD_LISTEN_FDS_START + i, &error);

                if (!sock || !soup_server_listen_socket(b->server, sock, opts, &error))
                        return log_error_errno(EINVAL, "Cannot listen on socket %d: %s", SD_LISTEN_FDS_START + i,
                                               error->message);
        }
        for (size_t i = 0; listen && listen[i]; i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(GSocketAddress) sa = NULL;
                g_autofree char *addr = NULL;
                unsigned port;

                if (l4m_listen_address_parse(listen[i], &addr, &port) < 0)
                        return log_error_errno(EINVAL, "Invalid --listen address '%s' (want ADDR:PORT or [ADDR]:PORT).",
                                               listen[i]);
                sa = g_inet_socket_address_new_from_string(addr, port);
                if (!sa || !soup_server_listen(b->server, sa, opts, &error))
                        return log_error_errno(EADDRNOTAVAIL, "Cannot listen on %s: %s", listen[i],
                                               error ? error->message : "invalid address");
                n++;
        }
        if (n == 0)
                return log_error_errno(EINVAL, "No socket from systemd and no --listen address: nothing to serve.");
        return 0;
}

static int setup_tls(Bridge *b) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GTlsCertificate) cert = NULL;

        if (!b->config.certificate && !b->config.key)
                return 0;
        if (!b->config.certificate || !b->config.key)
                return log_error_errno(EINVAL, "[Web] Certificate= and Key= go together; only one is set.");
        cert = g_tls_certificate_new_from_files(b->config.certificate, b->config.key, &error);
        if (!cert)
                return log_error_errno(EINVAL, "Cannot load the TLS certificate: %s", error->message);
        g_object_set(b->server, "tls-certificate", cert, NULL);
        b->tls = true;
        return 0;
}

static int run(int argc, char **argv) {
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "listen", required_argument, NULL, 'l' },
                { "version", no_argument, NULL, 'V' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        g_autoptr(GPtrArray) listen = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GMainLoop) loop = NULL;
        g_autofree char *config_file = NULL;
        Bridge bridge = { .server = NULL }, *b = &bridge;
        GSource *source;
        struct rlimit rl;
        int c, r;

        l4m_log_open("left4me-web");
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        g_free(config_file);
                        config_file = g_strdup(optarg);
                        break;
                case 'l':
                        g_ptr_array_add(listen, g_strdup(optarg));
                        break;
                case 'V':
                        puts("left4me-web " L4M_VERSION);
                        return 0;
                case 'h':
                        help();
                        return 0;
                default:
                        return -EINVAL;
                }
        }
        if (optind < argc)
                return log_error_errno(EINVAL, "Unexpected argument '%s'.", argv[optind]);
        g_ptr_array_add(listen, NULL);

        (void) signal(SIGPIPE, SIG_IGN);
        /* One descriptor per client and per event stream; we never select(). */
        if (getrlimit(RLIMIT_NOFILE, &rl) >= 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &rl);
        }

        l4m_web_config_init(&b->config);
        l4m_web_config_load(&b->config, config_file);

        r = sd_event_new(&b->event);
        if (r < 0)
                return log_error_errno(r, "Cannot create the event loop: %s", STRERROR(r));
        source = sd_event_source_new(b->event);
        g_source_attach(source, NULL);
        g_source_unref(source);

        r = sd_bus_open_system(&b->bus);
        if (r >= 0)
                r = sd_bus_attach_event(b->bus, b->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Cannot connect to the system bus: %s", STRERROR(r));

        b->server = soup_server_new("server-header", "left4me-web", NULL);
        r = setup_tls(b);
        if (r < 0)
                return r;
        sessions_init(b);
        r = bridge_watch_daemon(b);
        if (r < 0)
                return log_error_errno(r, "Cannot watch left4med: %s", STRERROR(r));
        r = event_streams_new(b, &b->streams);
        if (r < 0)
                return log_error_errno(r, "Cannot set up event streams: %s", STRERROR(r));
        event_streams_add_routes(b->streams);
        web_server_add_handlers(b);
        bridge_guard_connections(b);
        r = start_listening(b, (char **) listen->pdata);
        if (r < 0)
                return r;

        loop = g_main_loop_new(NULL, false);
        g_unix_signal_add(SIGTERM, on_terminate, loop);
        g_unix_signal_add(SIGINT, on_terminate, loop);
        log_info("left4me-web %s serving%s.", L4M_VERSION, b->tls ? " over TLS" : "");
        (void) sd_notify(false, "READY=1");
        g_main_loop_run(loop);

        sessions_done(b);
        event_streams_free(b->streams);
        soup_server_disconnect(b->server);
        g_object_unref(b->server);
        sd_bus_flush_close_unref(b->bus);
        sd_event_unref(b->event);
        l4m_web_config_done(&b->config);
        return 0;
}

int main(int argc, char **argv) {
        return run(argc, argv) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
