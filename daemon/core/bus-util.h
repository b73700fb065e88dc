/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/core/: the manager, who a caller is, authorisation, how the engine refuses, the configuration, the store. */
#pragma once

#include <stdint.h>

#include <systemd/sd-bus.h>

/* Sets a D-Bus error for a failure the caller did not cause, keeping the
 * details in the journal, and returns the negative errno. */
int bus_error_internal(sd_bus_error *error, int r, const char *what);

/* The reply to a refusal of the engine (problem.h): r mapped to an
 * org.left4me.Error with problem as its text; without a problem, as
 * bus_error_internal(error, r, what). Returns r. */
int bus_error_from_problem(sd_bus_error *error, int r, const char *problem, const char *what);

/* sd_bus_error_setf() for messages that quote what a caller sent, cut to a
 * number of bytes ("%.64s"): such a cut may end inside a character, and
 * sd-bus cannot send an error whose text is not UTF-8 (the caller would wait
 * for an answer that never comes). The text is made valid first. */
int bus_error_setf_valid(sd_bus_error *error, const char *name, const char *format, ...)
        __attribute__((format(printf, 3, 4)));

#include <glib.h>

/* The values of table, sorted. */
GPtrArray *hash_table_sorted_values(GHashTable *table, GCompareFunc compare);

/* Replies to a List* method: an array of element_type ("(o…)"), one element
 * per value of table, appended by append(), in the order of each value's
 * name (a char* member at name_offset). */
typedef int (*BusListAppendFunc)(sd_bus_message *reply, const void *value, void *userdata);
int bus_reply_list_by_name(sd_bus_message *msg, GHashTable *table, size_t name_offset, const char *element_type,
                           BusListAppendFunc append, void *userdata);

/* The id at the end of path, an object below prefix ("<prefix>/<id>"):
 * 0, or -EINVAL for any other path. */
int bus_path_parse_id(const char *path, const char *prefix, uint64_t *ret);

/* Reads a name (s) into *ret (valid as long as msg); InvalidArgument
 * ("Invalid <kind> name ...") unless l4m_name_is_valid(). */
int bus_message_read_name(sd_bus_message *msg, const char *kind, const char **ret, sd_bus_error *error);

/* Reads an a{sv} of options: for each entry, option() reads the variant of
 * a key it knows and returns > 0, returns 0 for a key it does not know (an
 * InvalidArgument naming it), or fails (< 0, error set). */
typedef int (*BusOptionFunc)(sd_bus_message *msg, const char *key, void *userdata, sd_bus_error *error);
int bus_message_read_options(sd_bus_message *msg, BusOptionFunc option, void *userdata, sd_bus_error *error);

/* For a method that takes an archive as a descriptor (ImportArchive,
 * ImportBackup): 0 if fd is a readable regular file (not on FUSE, whose
 * reads can block beyond cancellation) or a pipe, else InvalidArgument
 * saying what it is. */
int bus_check_input_fd(int fd, sd_bus_error *error);
/* Reads an a{sv} of options none of which is defined yet: any key is an
 * InvalidArgument naming it. */
int bus_message_refuse_options(sd_bus_message *msg, sd_bus_error *error);
