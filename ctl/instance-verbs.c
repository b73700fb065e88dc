/* SPDX-License-Identifier: GPL-2.0-or-later */
/* l4mctl instance ...: org.left4me.Manager's instance methods and
 * org.left4me.Instance. Names and settings go to the daemon as given: it
 * validates them and names what it refuses. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bus-error.h"
#include "bus-properties.h"
#include "exit-codes.h"
#include "format-util.h"
#include "job-follow.h"
#include "json-output.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-size.h"
#include "l4m-util.h"
#include "verbs.h"

/* l4mctl instance list */
int verb_instance_list(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(Table) table = table_new();
        const char *path, *name, *owner, *blueprint, *state;
        uint16_t port;
        int r;

        assert(bus);
        assert(args);

        r = sd_bus_call_method(bus, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE,
                               "ListInstances", &error, &reply, NULL);
        if (r < 0)
                return log_bus_error(&error, r, "cannot list instances");

        table_add_column(table, "NAME", "name");
        table_add_column(table, "OWNER", "owner");
        table_add_column(table, "BLUEPRINT", "blueprint");
        table_add_column(table, "PORT", "port");
        table_add_column(table, "STATE", "state");
        table_add_column(table, NULL, "path");

        r = sd_bus_message_enter_container(reply, 'a', "(osssqs)");
        if (r < 0)
                return bus_log_parse_error(r);
        while ((r = sd_bus_message_read(reply, "(osssqs)", &path, &name, &owner, &blueprint, &port, &state)) > 0) {
                table_add_string(table, name);
                table_add_string(table, owner);
                table_add_string(table, blueprint);
                table_add_uint64(table, port);
                table_add_string(table, state);
                table_add_path(table, path);
        }
        if (r < 0)
                return bus_log_parse_error(r);

        return table_output(table, TABLE_ROWS, table_flags(args));
}

/* l4mctl instance create NAME BLUEPRINT [--port P] [--hostname H]
 * [--max-players N] [--map M] [--autostart] */
int verb_instance_create(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) m = NULL, reply = NULL;
        g_autofree char *what = NULL;
        const char *path;
        int r;

        assert(bus);
        assert(args);

        what = g_strdup_printf("cannot create instance \"%s\"", argv[0]);
        r = sd_bus_message_new_method_call(bus, &m, L4M_BUS_NAME, L4M_MANAGER_PATH, L4M_MANAGER_INTERFACE,
                                           "CreateInstance");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", argv[0], argv[1]);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0 && args->port > 0)
                r = sd_bus_message_append(m, "{sv}", "port", "q", (uint16_t) args->port);
        if (r >= 0 && args->hostname)
                r = sd_bus_message_append(m, "{sv}", "hostname", "s", args->hostname);
        if (r >= 0 && args->max_players > 0)
                r = sd_bus_message_append(m, "{sv}", "max_players", "u", args->max_players);
        if (r >= 0 && args->map)
                r = sd_bus_message_append(m, "{sv}", "map", "s", args->map);
        if (r >= 0 && args->autostart)
                r = sd_bus_message_append(m, "{sv}", "autostart", "b", 1);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return bus_log_create_error(r);

        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0)
                return log_bus_error(&error, r, "%s", what);
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return bus_log_parse_error(r);
        return print_created(args->json, argv[0], path);
}

/* The properties instance show prints, in order. */
typedef struct InstanceField {
        const char *property;
        const char *label;      /* text output */
        const char *key;        /* JSON */
} InstanceField;

static const InstanceField instance_fields[] = {
        { "Name", "Name", "name" },
        { "Owner", "Owner", "owner" },
        { "Blueprint", "Blueprint", "blueprint" },
        { "Port", "Port", "port" },
        { "State", "State", "state" },
        { "MainPID", "Main PID", "main_pid" },
        { "Unit", "Unit", "unit" },
        { "UID", "UID", "uid" },
        { "Hostname", "Hostname", "hostname" },
        { "PlayerLimit", "Player limit", "player_limit" },
        { "StartMap", "Start map", "start_map" },
        { "Autostart", "Autostart", "autostart" },
        { "Map", "Map", "map" },
        { "Players", "Players", "players" },
        { "MaxPlayers", "Max players", "max_players" },
        { "Created", "Created", "created" },
        { "CPUQuota", "CPU quota", "cpu_quota" },
        { "MemoryMax", "Memory max", "memory_max" },
        { "TasksMax", "Tasks max", "tasks_max" },
        { "DiskMax", "Disk max", "disk_max" },
};

/* The limits among instance_fields: SetLimits' key of each, or NULL. */
static const char *limit_key(const char *property) {
        static const char *const map[][2] = {
                { "CPUQuota", "cpu_quota" },
                { "MemoryMax", "memory_max" },
                { "TasksMax", "tasks_max" },
                { "DiskMax", "disk_max" },
        };

        for (size_t i = 0; i < L4M_ELEMENTSOF(map); i++)
                if (strcmp(map[i][0], property) == 0)
                        return map[i][1];
        return NULL;
}

/* A limit: in JSON a number or "infinity", in text as one writes it
 * ("150%", "2.0G", "256", "infinity") with " (default)" when it follows
 * [Instances] Default*=. */
static void table_add_limit(Table *table, bool json, const char *key, uint64_t value, bool is_default) {
        char buf[FORMAT_BYTES_MAX];
        g_autofree char *text = NULL;

        if (json) {
                if (value == UINT64_MAX)
                        table_add_string(table, "infinity");
                else
                        table_add_uint64(table, value);
                return;
        }
        if (value == UINT64_MAX)
                text = g_strdup("infinity");
        else if (strcmp(key, "cpu_quota") == 0)
                text = g_strdup_printf("%" PRIu64 "%%", value);
        else if (strcmp(key, "tasks_max") == 0)
                text = g_strdup_printf("%" PRIu64, value);
        else
                text = g_strdup(format_bytes(buf, sizeof(buf), value));
        if (is_default) {
                g_autofree char *plain = g_steal_pointer(&text);
                text = g_strdup_printf("%s (default)", plain);
        }
        table_add_string(table, text);
}

/* GetUsage's figures that show prints: memory, tasks and CPU time only
 * while the server runs and systemd knows them, the disk always. */
static const char *const usage_keys[][2] = {
        { "memory_current", "Memory" },
        { "tasks_current", "Tasks" },
        { "cpu_usage_nsec", "CPU time" },
        { "disk_used", "Disk used" },
};

typedef struct UsageValues {
        uint64_t values[L4M_ELEMENTSOF(usage_keys)];
        bool present[L4M_ELEMENTSOF(usage_keys)];
} UsageValues;

/* Nothing if the daemon does not answer: show goes on without. */
static void read_usage(sd_bus *bus, const char *path, UsageValues *u) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) reply = NULL;
        int r;

        r = sd_bus_call_method(bus, L4M_BUS_NAME, path, L4M_INSTANCE_INTERFACE, "GetUsage", &error, &reply, NULL);
        if (r < 0) {
                log_debug("GetUsage failed: %s", error.message ? error.message : strerror(-r));
                return;
        }
        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *key, *contents = NULL;
                bool used = false;

                r = sd_bus_message_read(reply, "s", &key);
                if (r >= 0)
                        r = sd_bus_message_peek_type(reply, NULL, &contents);
                for (size_t i = 0; r >= 0 && i < L4M_ELEMENTSOF(usage_keys); i++)
                        if (strcmp(usage_keys[i][0], key) == 0 && contents && strcmp(contents, "t") == 0) {
                                r = sd_bus_message_read(reply, "v", "t", &u->values[i]);
                                u->present[i] = r >= 0;
                                used = true;
                        }
                if (r >= 0 && !used)
                        r = sd_bus_message_skip(reply, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(reply);
        }
        if (r < 0) {
                (void) bus_log_parse_error(r);
                *u = (UsageValues) { { 0 } };
        }
}

static void add_usage_columns(Table *table, const UsageValues *u) {
        for (size_t i = 0; i < L4M_ELEMENTSOF(usage_keys); i++)
                if (u->present[i])
                        table_add_column(table, usage_keys[i][1], usage_keys[i][0]);
}

static void add_usage_cells(Table *table, const UsageValues *u, bool json) {
        for (size_t i = 0; i < L4M_ELEMENTSOF(usage_keys); i++) {
                const char *key = usage_keys[i][0];

                if (!u->present[i])
                        continue;
                if (strcmp(key, "tasks_current") == 0 || (json && strcmp(key, "cpu_usage_nsec") == 0))
                        table_add_uint64(table, u->values[i]);
                else if (strcmp(key, "cpu_usage_nsec") == 0) {
                        g_autofree char *text = g_strdup_printf("%" PRIu64 ".%03" PRIu64 "s", u->values[i] / 1000000000,
                                                                u->values[i] / 1000000 % 1000);
                        table_add_string(table, text);
                } else
                        table_add_size(table, u->values[i]);
        }
}

/* One property's value as read: its D-Bus type ('s', 'u', 'q', 't' or
 * 'b'; 0 if the daemon did not send it). */
typedef struct InstanceValue {
        char type;
        char *string;           /* 's' */
        uint64_t number;        /* 'u', 'q', 't'; 'b' as 0 or 1 */
} InstanceValue;

static ssize_t instance_field_index(const char *property) {
        for (size_t i = 0; i < L4M_ELEMENTSOF(instance_fields); i++)
                if (strcmp(instance_fields[i].property, property) == 0)
                        return (ssize_t) i;
        return -1;
}

/* Read the variant at reply's position into v, whose type is type (one of
 * "suqtb"). */
static int read_instance_value(sd_bus_message *reply, char type, InstanceValue *v) {
        const char *s;
        uint32_t u;
        uint16_t q;
        int bv, r;

        switch (type) {
        case 's':
                r = sd_bus_message_read(reply, "v", "s", &s);
                if (r >= 0) {
                        g_free(v->string);
                        v->string = g_strdup(s);
                }
                break;
        case 'u':
                r = sd_bus_message_read(reply, "v", "u", &u);
                if (r >= 0)
                        v->number = u;
                break;
        case 'q':
                r = sd_bus_message_read(reply, "v", "q", &q);
                if (r >= 0)
                        v->number = q;
                break;
        case 't':
                r = sd_bus_message_read(reply, "v", "t", &v->number);
                break;
        case 'b':
                r = sd_bus_message_read(reply, "v", "b", &bv);
                if (r >= 0)
                        v->number = bv != 0;
                break;
        default:
                assert(!"unexpected type");
                return -EINVAL;
        }
        if (r < 0)
                return r;
        v->type = type;
        return 0;
}

/* Properties.GetAll(org.left4me.Instance) into values, one per field of
 * instance_fields; other properties, and values of other types, are
 * skipped. */
static int read_instance_values(sd_bus_message *reply, InstanceValue *values) {
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *name, *contents = NULL;
                ssize_t i;

                r = sd_bus_message_read(reply, "s", &name);
                if (r >= 0)
                        r = sd_bus_message_peek_type(reply, NULL, &contents);
                if (r < 0)
                        return r;
                i = instance_field_index(name);
                if (i >= 0 && strlen(contents) == 1 && strchr("suqtb", contents[0]))
                        r = read_instance_value(reply, contents[0], &values[i]);
                else
                        r = sd_bus_message_skip(reply, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(reply);
}

/* l4mctl instance show NAME */
int verb_instance_show(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_auto(GStrv) default_limits = NULL;
        UsageValues usage = { { 0 } };
        g_autoptr(sd_bus_message) reply = NULL;
        g_autoptr(Table) table = table_new();
        g_autofree char *what = NULL, *path = NULL;
        InstanceValue values[L4M_ELEMENTSOF(instance_fields)] = { { 0 } };
        int r;

        assert(bus);
        assert(args);

        what = g_strdup_printf("cannot show instance \"%s\"", argv[0]);
        r = bus_get_object_path(bus, "GetInstance", argv[0], what, &path);
        if (r != 0)
                return r;
        r = bus_get_all_properties(bus, path, L4M_INSTANCE_INTERFACE, what, &reply);
        if (r != 0)
                return r;

        r = read_instance_values(reply, values);
        if (r < 0) {
                for (size_t i = 0; i < L4M_ELEMENTSOF(values); i++)
                        g_free(values[i].string);
                return bus_log_parse_error(r);
        }

        r = sd_bus_get_property_strv(bus, L4M_BUS_NAME, path, L4M_INSTANCE_INTERFACE, "DefaultLimits", &error,
                                     &default_limits);
        if (r < 0)
                log_debug("Reading DefaultLimits failed: %s", error.message ? error.message : strerror(-r));

        for (size_t i = 0; i < L4M_ELEMENTSOF(instance_fields); i++)
                table_add_column(table, instance_fields[i].label, instance_fields[i].key);
        if (args->json)
                table_add_column(table, NULL, "default_limits");
        read_usage(bus, path, &usage);
        add_usage_columns(table, &usage);
        table_add_column(table, NULL, "path");

        for (size_t i = 0; i < L4M_ELEMENTSOF(instance_fields); i++) {
                InstanceValue *v = &values[i];

                switch (v->type) {
                case 0:
                        table_add_empty(table);
                        break;
                case 's':
                        table_add_string(table, v->string);
                        break;
                case 'b':
                        table_add_boolean(table, v->number != 0);
                        break;
                default:
                        if (limit_key(instance_fields[i].property))
                                table_add_limit(table, args->json, limit_key(instance_fields[i].property), v->number,
                                                default_limits && g_strv_contains((const char *const *) default_limits,
                                                                                  limit_key(instance_fields[i].property)));
                        else if (strcmp(instance_fields[i].property, "Created") == 0)
                                table_add_timestamp(table, v->number);
                        else
                                table_add_uint64(table, v->number);
                }
                g_free(v->string);
        }
        if (args->json) {
                char *none[] = { NULL };
                table_add_strv(table, default_limits ? default_limits : none);
        }
        add_usage_cells(table, &usage, args->json);
        table_add_path(table, path);

        return table_output(table, TABLE_OBJECT, table_flags(args));
}

/* Calls a method of instance name; types and the arguments after it as
 * for sd_bus_call_method(). */
static int call_on_instance(sd_bus *bus, const char *name, const char *what, const char *method,
                            sd_bus_message **ret_reply, const char *types, ...) {
        va_list ap;
        int r;

        va_start(ap, types);
        r = bus_call_by_name(bus, "GetInstance", L4M_INSTANCE_INTERFACE, name, what, method, ret_reply, types, ap);
        va_end(ap);
        return r;
}

static int instance_simple(sd_bus *bus, char *const *argv, const char *verb, const char *method) {
        g_autofree char *what = g_strdup_printf("cannot %s instance \"%s\"", verb, argv[0]);
        return call_on_instance(bus, argv[0], what, method, NULL, NULL);
}

/* --wait: how long a server may take to come up or go down. */
#define INSTANCE_WAIT_USEC (120 * G_USEC_PER_SEC)

static int on_instance_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return 0;       /* only wakes the loop below, which reads State again */
}

/* Calls method of instance name, then (with --wait) follows it until the
 * server is up (want "running": it runs and answers A2S_INFO queries) or
 * down (want "stopped"). A server that fails or goes down on its way up is
 * an error. Event-driven: the properties are read again whenever they
 * change. */
static int instance_control(sd_bus *bus, const CtlArgs *args, const char *name, const char *verb,
                            const char *method, const char *want) {
        g_autofree char *what = g_strdup_printf("cannot %s instance \"%s\"", verb, name);
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_slot) match = NULL;
        g_autofree char *path = NULL;
        uint64_t deadline;
        bool seen_active = false;
        int r;

        if (!args->wait)
                return instance_simple(bus, (char *const[]) { (char *) name, NULL }, verb, method);

        r = bus_get_object_path(bus, "GetInstance", name, what, &path);
        if (r != 0)
                return r;
        /* Before the call, so that no change is missed. */
        r = sd_bus_match_signal(bus, &match, L4M_BUS_NAME, path, PROPERTIES_INTERFACE, "PropertiesChanged",
                                on_instance_changed, NULL);
        if (r < 0)
                return log_error_errno(r, "cannot follow instance \"%s\": %s", name, STRERROR(r));
        r = sd_bus_call_method(bus, L4M_BUS_NAME, path, L4M_INSTANCE_INTERFACE, method, &error, NULL, NULL);
        if (r < 0)
                return log_bus_error(&error, r, "%s", what);

        deadline = g_get_monotonic_time() + INSTANCE_WAIT_USEC;
        for (;;) {
                g_autofree char *state = NULL;
                int64_t now;

                sd_bus_error_free(&error);
                r = sd_bus_get_property_string(bus, L4M_BUS_NAME, path, L4M_INSTANCE_INTERFACE, "State", &error, &state);
                if (r < 0)
                        return log_bus_error(&error, r, "cannot follow instance \"%s\"", name);
                if (strcmp(state, want) == 0 && strcmp(want, "running") != 0)
                        return 0;
                if (strcmp(want, "running") == 0) {
                        g_autofree char *map = NULL;

                        /* Running is only that srcds was started: up means
                         * it answers queries too (Map comes from A2S_INFO). */
                        if (strcmp(state, "running") == 0) {
                                sd_bus_error_free(&error);
                                r = sd_bus_get_property_string(bus, L4M_BUS_NAME, path, L4M_INSTANCE_INTERFACE,
                                                               "Map", &error, &map);
                                if (r < 0)
                                        return log_bus_error(&error, r, "cannot follow instance \"%s\"", name);
                                if (*map)
                                        return 0;
                        }
                        if (strcmp(state, "failed") == 0 || (strcmp(state, "stopped") == 0 && seen_active)) {
                                log_error("instance \"%s\" is %s, not running; see: l4mctl instance logs %s",
                                          name, state, name);
                                return L4M_EXIT_FAILURE;
                        }
                        if (strcmp(state, "stopped") != 0)
                                seen_active = true;
                }
                /* Whatever the signals that came meanwhile said: State was
                 * read after them. */
                do
                        r = sd_bus_process(bus, NULL);
                while (r > 0);
                if (r < 0)
                        return log_error_errno(r, "cannot follow instance \"%s\": %s", name, STRERROR(r));
                now = g_get_monotonic_time();
                if ((uint64_t) now >= deadline) {
                        log_error("instance \"%s\" is still %s after %u s", name, state,
                                  (unsigned) (INSTANCE_WAIT_USEC / G_USEC_PER_SEC));
                        return L4M_EXIT_FAILURE;
                }
                r = sd_bus_wait(bus, deadline - (uint64_t) now);
                if (r < 0 && r != -EINTR)
                        return log_error_errno(r, "cannot follow instance \"%s\": %s", name, STRERROR(r));
        }
}

int verb_instance_start(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        return instance_control(bus, args, argv[0], "start", "Start", "running");
}

int verb_instance_stop(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        return instance_control(bus, args, argv[0], "stop", "Stop", "stopped");
}

int verb_instance_restart(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        return instance_control(bus, args, argv[0], "restart", "Restart", "running");
}

int verb_instance_delete(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        return instance_simple(bus, argv, "delete", "Delete");
}

/* What 'instance logs' shows without -n, as journalctl -n does. */
#define INSTANCE_LOG_LINES_DEFAULT 50u

/* Ctrl-C while following ends the copy as the end of the stream does: the
 * handler points the log's descriptor number at /dev/null (dup2() is
 * async-signal-safe), so the interrupted read() is tried again there and
 * gets end of file. A second Ctrl-C kills as usual. */
static volatile sig_atomic_t logs_fd = -1, logs_null_fd = -1;

static void on_logs_sigint(int sig) {
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        int saved = errno;

        if (logs_fd >= 0 && logs_null_fd >= 0)
                (void) dup2(logs_null_fd, logs_fd);
        (void) sigaction(SIGINT, &dfl, NULL);
        errno = saved;
}

/* l4mctl instance logs NAME [-f] [-n N]: Instance.OpenLog to stdout, with
 * control characters neutralised on a terminal (as 'job log' does). */
int verb_instance_logs(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_autoptr(sd_bus_message) reply = NULL;
        g_autofree char *what = g_strdup_printf("cannot read the log of instance \"%s\"", argv[0]);
        /* No SA_RESTART: a read() waiting for the log returns. */
        struct sigaction on_int = { .sa_handler = on_logs_sigint }, dfl = { .sa_handler = SIG_DFL };
        _cleanup_close_ int fd = -1, null_fd = -1;
        uint64_t lines = args->have_lines ? args->lines : INSTANCE_LOG_LINES_DEFAULT;
        int log_fd, r;

        assert(bus);
        assert(args);

        r = call_on_instance(bus, argv[0], what, "OpenLog", &reply, "bt", (int) args->follow, lines);
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "h", &log_fd);
        if (r < 0)
                return bus_log_parse_error(r);
        /* The message owns log_fd; take a copy that outlives it. */
        fd = fcntl(log_fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
        if (fd < 0) {
                r = -errno;
                return log_error_errno(r, "cannot duplicate the log descriptor: %s", STRERROR(r));
        }
        reply = sd_bus_message_unref(reply);

        if (args->follow) {
                null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (null_fd < 0) {
                        r = -errno;
                        return log_error_errno(r, "cannot open /dev/null: %s", STRERROR(r));
                }
                logs_fd = fd;
                logs_null_fd = null_fd;
                if (sigaction(SIGINT, &on_int, NULL) < 0) {
                        r = -errno;
                        return log_error_errno(r, "cannot handle SIGINT: %s", STRERROR(r));
                }
        }

        r = log_copy(fd, what);

        if (args->follow) {
                (void) sigaction(SIGINT, &dfl, NULL);
                logs_fd = logs_null_fd = -1;
        }
        return r;
}

/* l4mctl instance rcon NAME COMMAND...: the words joined by spaces. */
int verb_instance_rcon(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_autoptr(sd_bus_message) reply = NULL;
        g_autofree char *command = g_strjoinv(" ", (char **) argv + 1);
        g_autofree char *what = g_strdup_printf("cannot send a command to instance \"%s\"", argv[0]);
        const char *text;
        int r;

        r = call_on_instance(bus, argv[0], what, "SendCommand", &reply, "s", command);
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "s", &text);
        if (r < 0)
                return bus_log_parse_error(r);
        if (args->json) {
                g_autoptr(JsonBuilder) b = json_builder_new();

                json_builder_begin_object(b);
                json_add_string_or_null(b, "reply", text);
                json_builder_end_object(b);
                return json_print_builder(b);
        }
        /* The reply holds what players chose (their names in status). */
        if (isatty(STDOUT_FILENO)) {
                g_autofree char *shown = g_strdup(text);

                neutralize_controls(shown, strlen(shown));
                fputs(shown, stdout);
        } else
                fputs(text, stdout);
        if (*text && !g_str_has_suffix(text, "\n"))
                fputc('\n', stdout);
        return 0;
}

/* The settings instance set changes: KEY, its setter and its type. */
static const struct {
        const char *key, *method, *type;
} instance_settings[] = {
        { "hostname", "SetHostname", "s" },
        { "max_players", "SetPlayerLimit", "u" },
        { "map", "SetStartMap", "s" },
        { "autostart", "SetAutostart", "b" },
        { "blueprint", "SetBlueprint", "s" },
};

/* The limits instance set takes, all sent in one SetLimits call. */
static const char *const limit_keys[] = { "cpu_quota", "memory_max", "tasks_max", "disk_max" };

/* A limit's value as SetLimits takes it: "default" and "infinity" as
 * strings, "150%" (or 150) for cpu_quota, a size ("2G") for memory_max and
 * disk_max, a number for tasks_max. False if it does not parse. */
static bool parse_limit(const char *key, const char *value, uint64_t *ret) {
        size_t len = strlen(value);
        guint64 n;

        if (strcmp(key, "cpu_quota") == 0) {
                g_autofree char *digits = g_strndup(value, len > 0 && value[len - 1] == '%' ? len - 1 : len);
                if (!g_ascii_string_to_unsigned(digits, 10, 0, UINT32_MAX, &n, NULL))
                        return false;
                *ret = n;
                return true;
        }
        if (strcmp(key, "tasks_max") == 0) {
                if (!g_ascii_string_to_unsigned(value, 10, 0, UINT32_MAX, &n, NULL))
                        return false;
                *ret = n;
                return true;
        }
        return l4m_parse_size(value, 0, UINT64_MAX - 2, ret);
}

static ssize_t limit_index(const char *pair, const char *eq) {
        for (size_t k = 0; eq && k < L4M_ELEMENTSOF(limit_keys); k++)
                if (strlen(limit_keys[k]) == (size_t) (eq - pair) && strncmp(pair, limit_keys[k], (size_t) (eq - pair)) == 0)
                        return (ssize_t) k;
        return -1;
}

/* SetLimits with the limits among argv's pairs (checked already). */
static int set_limits(sd_bus *bus, const char *name, const char *what, char *const *pairs, size_t n) {
        g_auto(sd_bus_error) error = SD_BUS_ERROR_NULL;
        g_autoptr(sd_bus_message) m = NULL, reply = NULL;
        g_autofree char *path = NULL;
        int r;

        r = bus_get_object_path(bus, "GetInstance", name, what, &path);
        if (r != 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, L4M_BUS_NAME, path, L4M_INSTANCE_INTERFACE, "SetLimits");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                const char *eq = strchr(pairs[i], '='), *value = eq + 1;
                ssize_t k = limit_index(pairs[i], eq);
                uint64_t v = 0;

                if (k < 0)
                        continue;
                if (strcmp(value, "default") == 0 || strcmp(value, "infinity") == 0)
                        r = sd_bus_message_append(m, "{sv}", limit_keys[k], "s", value);
                else {
                        (void) parse_limit(limit_keys[k], value, &v);
                        r = sd_bus_message_append(m, "{sv}", limit_keys[k], "t", v);
                }
        }
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return bus_log_create_error(r);
        r = sd_bus_call(bus, m, 0, &error, &reply);
        if (r < 0)
                return log_bus_error(&error, r, "%s", what);
        return 0;
}

/* l4mctl instance set NAME KEY=VALUE...: every pair is checked before the
 * first is sent; the limits go first, together, so that a refused one
 * changes nothing. */
int verb_instance_set(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_autofree char *what = g_strdup_printf("cannot change instance \"%s\"", argv[0]);
        size_t n = g_strv_length((char **) argv + 1), n_limits = 0;
        g_autofree size_t *which = g_new0(size_t, n);
        g_autofree bool *is_limit = g_new0(bool, n);
        int r;

        for (size_t i = 0; i < n; i++) {
                const char *pair = argv[i + 1], *eq = strchr(pair, '=');
                bool found = false;
                ssize_t l = limit_index(pair, eq);

                if (l >= 0) {
                        uint64_t v;

                        if (strcmp(eq + 1, "default") != 0 && strcmp(eq + 1, "infinity") != 0 &&
                            !parse_limit(limit_keys[l], eq + 1, &v)) {
                                log_error("invalid %s: expected %s, default or infinity", pair,
                                          strcmp(limit_keys[l], "cpu_quota") == 0   ? "a percentage (150%)"
                                          : strcmp(limit_keys[l], "tasks_max") == 0 ? "a number"
                                                                                    : "a size (512M, 2G)");
                                return L4M_EXIT_USAGE;
                        }
                        is_limit[i] = true;
                        n_limits++;
                        continue;
                }
                for (size_t k = 0; eq && k < L4M_ELEMENTSOF(instance_settings); k++)
                        if (strlen(instance_settings[k].key) == (size_t) (eq - pair) &&
                            strncmp(pair, instance_settings[k].key, (size_t) (eq - pair)) == 0) {
                                which[i] = k;
                                found = true;
                        }
                if (!found) {
                        log_error("invalid setting '%s': expected hostname=, max_players=, map=, autostart=, blueprint=, "
                                  "cpu_quota=, memory_max=, tasks_max= or disk_max=",
                                  pair);
                        return L4M_EXIT_USAGE;
                }
                if (strcmp(instance_settings[which[i]].type, "u") == 0 &&
                    (!eq[1] || strspn(eq + 1, "0123456789") != strlen(eq + 1) || strlen(eq + 1) > 9)) {
                        log_error("invalid %s: expected a number", pair);
                        return L4M_EXIT_USAGE;
                }
                if (strcmp(instance_settings[which[i]].type, "b") == 0 &&
                    !g_strv_contains((const char *const[]) { "yes", "no", "true", "false", "1", "0", NULL }, eq + 1)) {
                        log_error("invalid %s: expected yes or no", pair);
                        return L4M_EXIT_USAGE;
                }
        }
        if (n_limits > 0) {
                r = set_limits(bus, argv[0], what, argv + 1, n);
                if (r != 0)
                        return r;
        }
        for (size_t i = 0; i < n; i++) {
                const char *value = strchr(argv[i + 1], '=') + 1;
                const char *method = instance_settings[which[i]].method, *type = instance_settings[which[i]].type;

                if (is_limit[i])
                        continue;
                if (strcmp(type, "u") == 0)
                        r = call_on_instance(bus, argv[0], what, method, NULL, "u",
                                             (uint32_t) g_ascii_strtoull(value, NULL, 10));
                else if (strcmp(type, "b") == 0)
                        r = call_on_instance(bus, argv[0], what, method, NULL, "b",
                                             (int) (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 ||
                                                    strcmp(value, "1") == 0));
                else
                        r = call_on_instance(bus, argv[0], what, method, NULL, "s", value);
                if (r != 0)
                        return r;
        }
        return 0;
}

/* l4mctl instance backup NAME [--stop] [--wait] */
int verb_instance_backup(sd_bus *bus, const CtlArgs *args, char *const *argv) {
        g_autoptr(sd_bus_message) reply = NULL;
        g_autofree char *what = g_strdup_printf("cannot back up instance \"%s\"", argv[0]);
        const char *job_path;
        int r;

        r = call_on_instance(bus, argv[0], what, "Backup", &reply, "a{sv}", 1, "stop", "b", (int) args->stop);
        if (r != 0)
                return r;
        r = sd_bus_message_read(reply, "o", &job_path);
        if (r < 0)
                return bus_log_parse_error(r);
        return job_queued(bus, args, job_path);
}
