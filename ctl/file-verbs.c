/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "bus-error.h"
#include "bus-properties.h"
#include "exit-codes.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "table.h"
#include "verbs.h"
#include "write-output.h"

/* 'overlay files', 'overlay cat', 'instance files', 'instance cat': a
 * read-only look at an overlay's tree or at what a server wrote
 * (ListFiles, OpenFile on either interface). */

typedef struct FileTarget {
        const char *get_method;         /* GetOverlay, GetInstance */
        const char *interface;
        const char *kind;               /* "overlay", "instance" */
} FileTarget;

static const FileTarget overlay_target = { "GetOverlay", L4M_OVERLAY_INTERFACE, "overlay" };
static const FileTarget instance_target = { "GetInstance", L4M_INSTANCE_INTERFACE, "instance" };

static int call_on(sd_bus *bus, const FileTarget *t, const char *name, const char *what, const char *method,
                   sd_bus_message **ret_reply, const char *types, ...) {
        va_list ap;
        int r;

        va_start(ap, types);
        r = bus_call_by_name(bus, t->get_method, t->interface, name, what, method, ret_reply, types, ap);
        va_end(ap);
        return r;
}

static int files(sd_bus *bus, const CtlArgs *args, const FileTarget *t, char *const *argv) {
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(Table) table = table_new();
        g_autofree char *what = NULL;
        const char *path = argv[1] ? argv[1] : "";
        const char *name, *type;
        uint64_t size, mtime;
        int truncated, r;

        what = g_strdup_printf("cannot list the files of %s \"%s\"", t->kind, argv[0]);
        r = call_on(bus, t, argv[0], what, "ListFiles", &reply, "s", path);
        if (r != 0)
                return r;

        table_add_column(table, "NAME", "name");
        table_add_column(table, "TYPE", "type");
        table_add_column(table, "SIZE", "size");
        table_add_column(table, "MODIFIED", "mtime");
        r = sd_bus_message_enter_container(reply, 'a', "(sstt)");
        if (r < 0)
                return bus_log_parse_error(r);
        while ((r = sd_bus_message_read(reply, "(sstt)", &name, &type, &size, &mtime)) > 0) {
                table_add_string(table, name);
                table_add_string(table, type);
                table_add_size(table, size);
                table_add_timestamp(table, mtime);
        }
        if (r < 0)
                return bus_log_parse_error(r);
        r = sd_bus_message_exit_container(reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "b", &truncated);
        if (r < 0)
                return bus_log_parse_error(r);

        r = table_output(table, TABLE_ROWS, table_flags(args));
        if (r < 0)
                return L4M_EXIT_FAILURE;
        if (truncated)
                log_warning("Only the first %zu entries are shown.", table_get_rows(table));
        return 0;
}

static int cat(sd_bus *bus, const FileTarget *t, char *const *argv) {
        g_autoptr(sd_bus_message) reply = NULL;
        g_autofree char *what = NULL;
        uint64_t size;
        int fd, r;

        what = g_strdup_printf("cannot read \"%s\" of %s \"%s\"", argv[1], t->kind, argv[0]);
        r = call_on(bus, t, argv[0], what, "OpenFile", &reply, "s", argv[1]);
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "ht", &fd, &size);
        if (r < 0)
                return bus_log_parse_error(r);
        return output_copy_fd(fd, "-", what, NULL);
}

/* l4mctl overlay files NAME [PATH] */
int verb_overlay_files(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        assert(bus && args && argv[0]);
        return files(bus, args, &overlay_target, argv);
}

/* l4mctl overlay cat NAME PATH */
int verb_overlay_cat(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        assert(bus && args && argv[0] && argv[1]);
        return cat(bus, &overlay_target, argv);
}

/* l4mctl instance files NAME [PATH] */
int verb_instance_files(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        assert(bus && args && argv[0]);
        return files(bus, args, &instance_target, argv);
}

/* l4mctl instance cat NAME PATH */
int verb_instance_cat(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        assert(bus && args && argv[0] && argv[1]);
        return cat(bus, &instance_target, argv);
}
