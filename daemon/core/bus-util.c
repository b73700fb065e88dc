/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "bus-util.h"
#include "fs-util.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-names.h"
#include "l4m-util.h"

int bus_error_internal(sd_bus_error *error, int r, const char *what) {
        r = r < 0 ? r : -EIO;
        log_error_errno(r, "%s failed: %s", what, STRERROR(r));
        sd_bus_error_setf(error, L4M_ERROR_FAILED, "%s failed: %s", what, strerror(-r));
        return r;
}

static const char *error_name_of(int r) {
        switch (r) {
        case -EINVAL:
                return L4M_ERROR_INVALID_ARGUMENT;
        case -ENOENT:
                return L4M_ERROR_NOT_FOUND;
        case -EEXIST:
                return L4M_ERROR_EXISTS;
        case -EBUSY:
        case -EDQUOT:
        case -EADDRINUSE:
                return L4M_ERROR_BUSY;
        case -EPERM:
                return SD_BUS_ERROR_ACCESS_DENIED;
        default:
                return L4M_ERROR_FAILED;
        }
}

int bus_error_from_problem(sd_bus_error *error, int r, const char *problem, const char *what) {
        if (!problem)
                return bus_error_internal(error, r, what);
        (void) bus_error_setf_valid(error, error_name_of(r), "%s", problem);
        return r < 0 ? r : -EIO;
}

int bus_error_setf_valid(sd_bus_error *error, const char *name, const char *format, ...) {
        g_autofree char *text = NULL, *valid = NULL;
        va_list ap;

        va_start(ap, format);
        text = g_strdup_vprintf(format, ap);
        va_end(ap);
        valid = g_utf8_make_valid(text, -1);
        return sd_bus_error_set(error, name, valid);
}

GPtrArray *hash_table_sorted_values(GHashTable *table, GCompareFunc compare) {
        GPtrArray *sorted = g_ptr_array_sized_new(g_hash_table_size(table));
        GHashTableIter it;
        gpointer value;

        g_hash_table_iter_init(&it, table);
        while (g_hash_table_iter_next(&it, NULL, &value))
                g_ptr_array_add(sorted, value);
        g_ptr_array_sort(sorted, compare);
        return sorted;
}

static gint compare_names_at(gconstpointer a, gconstpointer b, gpointer userdata) {
        size_t offset = GPOINTER_TO_SIZE(userdata);

        return strcmp(*(char *const *) ((const char *) *(void *const *) a + offset),
                      *(char *const *) ((const char *) *(void *const *) b + offset));
}

int bus_reply_list_by_name(sd_bus_message *msg, GHashTable *table, size_t name_offset, const char *element_type,
                           BusListAppendFunc append, void *userdata) {
        g_autoptr(GPtrArray) sorted = g_ptr_array_new();
        g_autoptr(sd_bus_message) reply = NULL;
        GHashTableIter it;
        gpointer value;
        int r;

        g_hash_table_iter_init(&it, table);
        while (g_hash_table_iter_next(&it, NULL, &value))
                g_ptr_array_add(sorted, value);
        g_ptr_array_sort_with_data(sorted, compare_names_at, GSIZE_TO_POINTER(name_offset));

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', element_type);
        for (guint i = 0; r >= 0 && i < sorted->len; i++)
                r = append(reply, sorted->pdata[i], userdata);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

int bus_message_read_name(sd_bus_message *msg, const char *kind, const char **ret, sd_bus_error *error) {
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        if (!l4m_name_is_valid(name))
                return bus_error_setf_valid(error, L4M_ERROR_INVALID_ARGUMENT, "Invalid %s name \"%.64s\".", kind, name);
        *ret = name;
        return 0;
}

int bus_message_read_options(sd_bus_message *msg, BusOptionFunc option, void *userdata, sd_bus_error *error) {
        int r;

        r = sd_bus_message_enter_container(msg, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
                const char *key;

                r = sd_bus_message_read(msg, "s", &key);
                if (r < 0)
                        return r;
                r = option ? option(msg, key, userdata, error) : 0;
                if (r < 0)
                        return r;
                if (r == 0)
                        return bus_error_setf_valid(error, L4M_ERROR_INVALID_ARGUMENT, "Unknown option \"%.64s\".", key);
                r = sd_bus_message_exit_container(msg);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(msg);
}

int bus_message_refuse_options(sd_bus_message *msg, sd_bus_error *error) {
        return bus_message_read_options(msg, NULL, NULL, error);
}

int bus_path_parse_id(const char *path, const char *prefix, uint64_t *ret) {
        size_t n = strlen(prefix);

        if (strncmp(path, prefix, n) != 0 || path[n] != '/')
                return -EINVAL;
        return parse_id(path + n + 1, ret);
}

int bus_check_input_fd(int fd, sd_bus_error *error) {
        struct stat st;
        int flags;

        /* A readable regular file or a pipe; nothing else is an archive. */
        if (fstat(fd, &st) < 0)
                return bus_error_internal(error, -errno, "Inspecting the passed file descriptor");
        if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))
                return sd_bus_error_setf(error, L4M_ERROR_INVALID_ARGUMENT,
                                         "The passed file descriptor is a %s, not a file or a pipe.",
                                         S_ISDIR(st.st_mode) ? "directory" : S_ISSOCK(st.st_mode) ? "socket" :
                                         S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "device" : "special file");
        /* A file on a FUSE mount can block a read forever, beyond the reach
         * of cancellation: its owner controls the server. */
        if (S_ISREG(st.st_mode)) {
                struct statfs sfs;
                if (fstatfs(fd, &sfs) < 0)
                        return bus_error_internal(error, -errno, "Inspecting the passed file descriptor");
                if (sfs.f_type == FUSE_SUPER_MAGIC)
                        return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT,
                                                "The passed file is on a FUSE file system; pass it through a pipe instead.");
        }
        flags = fcntl(fd, F_GETFL);
        if (flags < 0 || (flags & O_ACCMODE) == O_WRONLY || (flags & O_PATH))
                return sd_bus_error_set(error, L4M_ERROR_INVALID_ARGUMENT, "The passed file descriptor is not open for reading.");
        return 0;
}
