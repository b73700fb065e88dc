/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <stdio.h>

#include "bus-error.h"
#include "format-util.h"
#include "l4m-bus-names.h"
#include "l4m-util.h"
#include "storage-usage.h"

static void storage_usage_clear(StorageUsage *u) {
        g_free(u->owner);
}

int storage_usage_fetch(sd_bus *bus, GArray **ret) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(GArray) list = g_array_new(FALSE, TRUE, sizeof(StorageUsage));
        const char *owner;
        uint64_t used, quota;
        int r;

        assert(bus);
        assert(ret);

        g_array_set_clear_func(list, (GDestroyNotify) storage_usage_clear);
        r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE,
                               "ListStorageUsage", &error, &reply, NULL);
        if (r < 0 && sd_bus_error_has_name(&error, SD_BUS_ERROR_UNKNOWN_METHOD)) {
                *ret = g_steal_pointer(&list);
                return 0;
        }
        if (r < 0)
                return log_bus_error(&error, r, "cannot read the storage use");
        r = sd_bus_message_enter_container(reply, 'a', "(stt)");
        if (r < 0)
                return bus_log_parse_error(r);
        while ((r = sd_bus_message_read(reply, "(stt)", &owner, &used, &quota)) > 0) {
                StorageUsage u = { .owner = g_strdup(owner), .used = used, .quota = quota };
                g_array_append_val(list, u);
        }
        if (r < 0)
                return bus_log_parse_error(r);
        *ret = g_steal_pointer(&list);
        return 0;
}

const char *storage_usage_format(char *buf, size_t size, const StorageUsage *u) {
        char used[FORMAT_BYTES_MAX], quota[FORMAT_BYTES_MAX], percent[FORMAT_PERCENT_MAX];

        format_bytes(used, sizeof used, u->used);
        if (u->quota == UINT64_MAX)
                snprintf(buf, size, "%s (no quota)", used);
        else
                snprintf(buf, size, "%s of %s (%s)", used, format_bytes(quota, sizeof quota, u->quota),
                         format_percent(percent, sizeof percent, u->quota > 0 ? (double) u->used / (double) u->quota : 1.0));
        return buf;
}
