/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdint.h>

#include <glib.h>
#include <systemd/sd-bus.h>

/* What owners' overlays hold against [Overlays] OwnerMaxBytes=
 * (ListStorageUsage). */
typedef struct StorageUsage {
        char *owner;
        uint64_t used;
        uint64_t quota;         /* UINT64_MAX: none */
} StorageUsage;

/* Every owner of an overlay the caller sees, sorted; entries are freed
 * with the array. A daemon without the method has nothing to tell: an
 * empty array. Returns 0 or an exit status (the error logged). */
int storage_usage_fetch(sd_bus *bus, GArray **ret);

/* "180.0M of 200.0M (90%)" or "180.0M (no quota)", in buf. */
const char *storage_usage_format(char *buf, size_t size, const StorageUsage *u);
#define STORAGE_USAGE_FORMAT_MAX 64
