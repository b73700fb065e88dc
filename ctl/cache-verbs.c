/* SPDX-License-Identifier: GPL-2.0-or-later */
/* l4mctl cache list|prune: the shared Workshop cache. */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>

#include "bus-error.h"
#include "json-output.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "verbs.h"

/* l4mctl cache list */
int verb_cache_list(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(Table) table = table_new();
        const char *file;
        uint64_t item, size;
        uint32_t links;
        int r;

        assert(bus);
        assert(args);

        r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE,
                               "ListCache", &error, &reply, NULL);
        if (r < 0)
                return log_bus_error(&error, r, "cannot list the cache");

        table_add_column(table, "ITEM", "item");
        table_add_column(table, "FILE", "file");
        table_add_column(table, "SIZE", "size");
        table_add_column(table, "LINKS", "links");

        r = sd_bus_message_enter_container(reply, 'a', "(tstu)");
        if (r < 0)
                return bus_log_parse_error(r);
        while ((r = sd_bus_message_read(reply, "(tstu)", &item, &file, &size, &links)) > 0) {
                table_add_uint64(table, item);
                table_add_string(table, file);
                table_add_size(table, size);
                table_add_uint64(table, links);
        }
        if (r < 0)
                return bus_log_parse_error(r);
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return bus_log_parse_error(r);

        return table_output(table, TABLE_ROWS, table_flags(args));
}

/* l4mctl cache prune */
int verb_cache_prune(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        uint64_t files, bytes;
        int r;

        assert(bus);
        assert(args);

        r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE,
                               "PruneCache", &error, &reply, NULL);
        if (r < 0)
                return log_bus_error(&error, r, "cannot prune the cache");
        r = sd_bus_message_read(reply, "tt", &files, &bytes);
        if (r < 0)
                return bus_log_parse_error(r);

        if (args->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();

                json_builder_begin_object(b);
                json_add_uint(b, "files", files);
                json_add_uint(b, "bytes", bytes);
                json_builder_end_object(b);
                return json_print_builder(b);
        }

        printf("Removed %" PRIu64 " file(s), %" PRIu64 " bytes.\n", files, bytes);
        return 0;
}
