/* SPDX-License-Identifier: GPL-2.0-or-later */
/* l4mctl backup ...: org.left4me.Manager's backup methods (ListBackups,
 * RestoreBackup, DeleteBackup, ExportBackup, ImportBackup). 'instance
 * backup' is in instance-verbs.c. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "bus-error.h"
#include "exit-codes.h"
#include "job-follow.h"
#include "job-info.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "read-input.h"
#include "verbs.h"

/* A backup id as given: a decimal number, digits only. */
static int parse_backup_id(const char *s, uint64_t *ret) {
        if (job_id_parse(s, ret) < 0) {
                log_error("invalid backup id '%s': expected a number from 1 to %" PRIu64 " (see 'l4mctl backup list')",
                          s, UINT64_MAX);
                return L4M_EXIT_USAGE;
        }
        return 0;
}

/* l4mctl backup list [INSTANCE] */
int verb_backup_list(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(Table) table = table_new();
        const char *instance, *owner;
        uint64_t id, created, size;
        int consistent, r;

        assert(bus);
        assert(args);

        r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, "ListBackups", &error, &reply,
                               "s", argv[0] ? argv[0] : "");
        if (r < 0)
                return log_bus_error(&error, r, "cannot list backups");

        table_add_column(table, "ID", "id");
        table_add_column(table, "INSTANCE", "instance");
        table_add_column(table, "OWNER", "owner");
        table_add_column(table, "CREATED", "created");
        table_add_column(table, "SIZE", "size");
        table_add_column(table, "CONSISTENT", "consistent");

        r = sd_bus_message_enter_container(reply, 'a', "(tssttb)");
        if (r < 0)
                return bus_log_parse_error(r);
        while ((r = sd_bus_message_read(reply, "(tssttb)", &id, &instance, &owner, &created, &size, &consistent)) > 0) {
                table_add_uint64(table, id);
                table_add_string(table, instance);
                table_add_string(table, owner);
                table_add_timestamp(table, created);
                table_add_size(table, size);
                table_add_boolean(table, consistent);
        }
        if (r < 0)
                return bus_log_parse_error(r);
        return table_output(table, TABLE_ROWS, table_flags(args));
}

/* l4mctl backup restore ID [--wait] */
int verb_backup_restore(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        const char *job_path;
        uint64_t id;
        int r;

        r = parse_backup_id(argv[0], &id);
        if (r != 0)
                return r;
        r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, "RestoreBackup", &error,
                               &reply, "ta{sv}", id, 0);
        if (r < 0)
                return log_bus_error(&error, r, "cannot restore backup %" PRIu64, id);
        r = sd_bus_message_read(reply, "o", &job_path);
        if (r < 0)
                return bus_log_parse_error(r);
        return job_queued(bus, args, job_path);
}

/* l4mctl backup delete ID */
int verb_backup_delete(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        uint64_t id;
        int r;

        r = parse_backup_id(argv[0], &id);
        if (r != 0)
                return r;
        r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, "DeleteBackup", &error, NULL,
                               "t", id);
        if (r < 0)
                return log_bus_error(&error, r, "cannot delete backup %" PRIu64, id);
        return 0;
}

/* l4mctl backup export ID FILE|- */
int verb_backup_export(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        _cleanup_close_ int out_fd = -1;
        const char *file = argv[1];
        uint64_t id;
        ssize_t n;
        int fd, r;

        r = parse_backup_id(argv[0], &id);
        if (r != 0)
                return r;
        if (strcmp(file, "-") == 0 && isatty(STDOUT_FILENO)) {
                log_error("standard output is a terminal; redirect it, or name a file (see 'l4mctl --help')");
                return L4M_EXIT_USAGE;
        }
        r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE, "ExportBackup", &error,
                               &reply, "t", id);
        if (r < 0)
                return log_bus_error(&error, r, "cannot export backup %" PRIu64, id);
        r = sd_bus_message_read(reply, "h", &fd);
        if (r < 0)
                return bus_log_parse_error(r);

        if (strcmp(file, "-") == 0)
                out_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
        else
                out_fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0600);
        if (out_fd < 0)
                return log_error_errno(errno, "cannot export backup %" PRIu64 ": cannot open %s: %s", id,
                                       input_name(file), STRERROR(errno));
        /* The daemon's descriptor is of a regular file: the kernel copies. */
        while ((n = sendfile(out_fd, fd, NULL, 1u << 30)) > 0)
                ;
        if (n < 0)
                return log_error_errno(errno, "cannot export backup %" PRIu64 " to %s: %s", id, input_name(file),
                                       STRERROR(errno));
        if (strcmp(file, "-") != 0 && fsync(out_fd) < 0)
                return log_error_errno(errno, "cannot export backup %" PRIu64 " to %s: %s", id, file, STRERROR(errno));
        return 0;
}

/* l4mctl backup import INSTANCE FILE|- [--wait] */
int verb_backup_import(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) m = NULL, reply = NULL;
        _cleanup_close_ int file_fd = -1;
        g_autofree char *what = g_strdup_printf("cannot import a backup into instance \"%s\"", argv[0]);
        const char *job_path;
        int r;

        file_fd = input_open(argv[1], what);
        if (file_fd < 0)
                return file_fd;
        r = sd_bus_message_new_method_call(bus, &m, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE,
                                           "ImportBackup");
        if (r >= 0)
                r = sd_bus_message_append(m, "sha{sv}", argv[0], file_fd, 0);
        if (r < 0)
                return bus_log_create_error(r);
        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0)
                return log_bus_error(&error, r, "%s", what);
        r = sd_bus_message_read(reply, "o", &job_path);
        if (r < 0)
                return bus_log_parse_error(r);
        /* The daemon has its own copy now; ours must not keep a pipe open. */
        m = sd_bus_message_unref(m);
        l4m_close_fdp(&file_fd);
        return job_queued(bus, args, job_path);
}
