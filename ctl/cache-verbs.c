/* SPDX-License-Identifier: GPL-2.0-or-later */
/* l4mctl cache list|prune: the shared Workshop cache. */
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>

#include "bus-error.h"
#include "format-util.h"
#include "json-output.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "table.h"
#include "verbs.h"

typedef struct CacheEntry {
        uint64_t item;
        const char *file;
        uint64_t size;
        uint32_t links;
} CacheEntry;

/* l4mctl cache list */
int verb_cache_list(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        static const char *const headers[] = { "ITEM", "FILE", "SIZE", "LINKS" };
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(GArray) entries = g_array_new(FALSE, TRUE, sizeof(CacheEntry));
        g_autoptr(Table) table = NULL;
        CacheEntry e = { 0 };
        int r;

        assert(bus);
        assert(args);

        r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE,
                               "ListCache", &error, &reply, NULL);
        if (r < 0)
                return log_bus_error(&error, r, "cannot list the cache");

        r = sd_bus_message_enter_container(reply, 'a', "(tstu)");
        if (r < 0)
                return bus_log_parse_error(r);
        while ((r = sd_bus_message_read(reply, "(tstu)", &e.item, &e.file, &e.size, &e.links)) > 0)
                g_array_append_val(entries, e);
        if (r < 0)
                return bus_log_parse_error(r);
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return bus_log_parse_error(r);

        if (args->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();

                json_builder_begin_array(b);
                for (guint i = 0; i < entries->len; i++) {
                        const CacheEntry *c = &g_array_index(entries, CacheEntry, i);

                        json_builder_begin_object(b);
                        json_add_uint(b, "item", c->item);
                        json_add_string_or_null(b, "file", c->file);
                        json_add_uint(b, "size", c->size);
                        json_add_uint(b, "links", c->links);
                        json_builder_end_object(b);
                }
                json_builder_end_array(b);
                return json_print_builder(b);
        }

        table = table_new(L4M_ELEMENTSOF(headers), headers);
        for (guint i = 0; i < entries->len; i++) {
                const CacheEntry *c = &g_array_index(entries, CacheEntry, i);
                char item[24], size[FORMAT_BYTES_MAX], links[16];

                snprintf(item, sizeof item, "%" PRIu64, c->item);
                snprintf(links, sizeof links, "%" PRIu32, c->links);
                table_add_row(table, (const char *const[]) {
                        item, c->file, format_bytes(size, sizeof size, c->size), links,
                });
        }

        r = table_print(table, stdout, args->legend);
        if (r < 0)
                return log_error_errno(r, "cannot write output: %s", STRERROR(r));
        return 0;
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
