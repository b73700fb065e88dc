/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>
#include <json-glib/json-glib.h>
#include <systemd/sd-bus.h>

#include "json-bus.h"
#include "l4m-util.h"
#include "web-checks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SIGNATURE_MAX 255
#define BODY_MAX (1024 * 1024)

static const JsonBusOption options[] = {
        { "port", "q" }, { "hostname", "s" }, { "autostart", "b" }, { "launch_args", "as" }, { NULL, NULL },
};

/* Messages need an open bus; one end of a socketpair is enough (nothing is
 * ever sent). One for the whole run. */
static sd_bus *fuzz_bus(void) {
        static sd_bus *bus = NULL;
        int sv[2];

        if (bus)
                return bus;
        g_assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        g_assert(sd_bus_new(&bus) >= 0);
        g_assert(sd_bus_set_fd(bus, sv[0], sv[0]) >= 0);
        g_assert(sd_bus_start(bus) >= 0);
        close(sv[1]);
        return bus;
}

static size_t signature_containers(const char *sig) {
        size_t n = 0;

        for (const char *p = sig; *p; p++)
                if (*p == 'a' || *p == '(' || *p == '{')
                        n++;
        return n;
}

/* What a client sends as a request body, the way the bridge takes it: the
 * depth check first, then json-glib, then the JSON -> D-Bus translation by
 * a signature. The input is "SIGNATURE\nJSON"; a first line that is not
 * one complete type means a{sv}, the type of the option dictionaries. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autoptr(JsonParser) p = json_parser_new_immutable();
        g_autoptr(sd_bus_message) m = NULL;
        g_autoptr(JsonNode) back = NULL;
        g_autofree char *sig = NULL, *error_text = NULL;
        const char *nl = memchr(data, '\n', MIN(size, (size_t) SIGNATURE_MAX + 1));
        const char *json = (const char *) data;
        size_t len = size;
        int r;

        if (size > BODY_MAX)
                return 0;
        if (nl) {
                sig = g_strndup((const char *) data, (size_t) (nl - (const char *) data));
                json = nl + 1;
                len = size - (size_t) (nl + 1 - (const char *) data);
        }
        /* The bridge's signatures are constants that sd-bus accepts: valid,
         * and nesting at most 32 arrays and 32 structs (D-Bus's limits). */
        if (!sig || !g_variant_is_signature(sig) || strlen(sig) == 0 || json_bus_type_length(sig) != strlen(sig) ||
            signature_containers(sig) > 32) {
                g_free(sig);
                sig = g_strdup("a{sv}");
        }

        if (!web_json_depth_ok(json, len, WEB_JSON_DEPTH_MAX))
                return 0;
        if (!g_utf8_validate(json, (gssize) len, NULL) || !json_parser_load_from_data(p, json, (gssize) len, NULL))
                return 0;
        if (!json_parser_get_root(p))
                return 0;

        g_assert(sd_bus_message_new_method_call(fuzz_bus(), &m, "org.example", "/", "org.example", "M") >= 0);
        r = json_bus_append(m, sig, json_parser_get_root(p), options, &error_text);
        if (r < 0) {
                g_assert(r != -EINVAL || (error_text && g_utf8_validate(error_text, -1, NULL)));
                return 0;
        }
        g_assert(!error_text);
        g_assert(sd_bus_message_seal(m, 1, 0) >= 0);
        g_assert(sd_bus_message_rewind(m, true) >= 0);
        g_assert(strcmp(sd_bus_message_get_signature(m, true), sig) == 0);
        g_assert(json_bus_read_all(m, &back) == 0);
        return 0;
}
