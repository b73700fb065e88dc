/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "l4m-bus-properties.h"
#include "l4m-util.h"

/* Messages need an open bus; one end of a socketpair is enough (nothing is
 * ever sent). */
static sd_bus *test_bus(void) {
        sd_bus *bus = NULL;
        int sv[2];

        g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
        g_assert_cmpint(sd_bus_new(&bus), >=, 0);
        g_assert_cmpint(sd_bus_set_fd(bus, sv[0], sv[0]), >=, 0);
        g_assert_cmpint(sd_bus_start(bus), >=, 0);
        close(sv[1]);
        return bus;
}

static sd_bus_message *new_message(sd_bus *bus) {
        sd_bus_message *m = NULL;

        g_assert_cmpint(sd_bus_message_new_method_call(bus, &m, "org.example", "/", "org.example", "M"), >=, 0);
        g_assert_cmpint(sd_bus_message_open_container(m, 'a', "{sv}"), >=, 0);
        return m;
}

/* Closes the a{sv}, appends "as" ["after"] behind it, seals and rewinds. */
static void seal(sd_bus_message *m) {
        g_assert_cmpint(sd_bus_message_close_container(m), >=, 0);
        g_assert_cmpint(sd_bus_message_append(m, "as", 1, "after"), >=, 0);
        g_assert_cmpint(sd_bus_message_seal(m, 1, 0), >=, 0);
        g_assert_cmpint(sd_bus_message_rewind(m, true), >=, 0);
}

/* The reader left m just behind the a{sv}. */
static void assert_after(sd_bus_message *m) {
        g_auto(GStrv) rest = NULL;

        g_assert_cmpint(sd_bus_message_read_strv(m, &rest), >, 0);
        g_assert_nonnull(rest);
        g_assert_cmpstr(rest[0], ==, "after");
}

typedef struct Info {
        const char *name;               /* borrowed */
        char *owner;                    /* owned */
        uint64_t created;
        uint32_t port;
        int enabled;
        double progress;
        const char *path;
        char **overlays;
        L4mU64Array items;
        uint32_t job;
} Info;

static void info_clear(Info *i) {
        g_free(i->owner);
        g_strfreev(i->overlays);
}

static int read_job_id(sd_bus_message *m, const char *signature, void *dest) {
        const char *path;

        g_assert_cmpstr(signature, ==, "(uo)");
        return sd_bus_message_read(m, "(uo)", dest, &path);
}

static const L4mBusProperty info_map[] = {
        { "Name", "s", NULL, offsetof(Info, name) },
        { "Owner", "s", l4m_bus_property_read_strdup, offsetof(Info, owner) },
        { "Created", "t", NULL, offsetof(Info, created) },
        { "Port", "u", NULL, offsetof(Info, port) },
        { "Enabled", "b", NULL, offsetof(Info, enabled) },
        { "Progress", "d", NULL, offsetof(Info, progress) },
        { "Path", "o", NULL, offsetof(Info, path) },
        { "Overlays", "as", NULL, offsetof(Info, overlays) },
        { "Items", "at", NULL, offsetof(Info, items) },
        { "Job", "(uo)", read_job_id, offsetof(Info, job) },
};

static void test_reads_the_table(void) {
        g_autoptr(sd_bus) bus = test_bus();
        g_autoptr(sd_bus_message) m = new_message(bus);
        const uint64_t items[] = { 7, 8, 9 };
        Info info = { .owner = g_strdup("before") };
        uint64_t found = 0;

        g_assert_cmpint(sd_bus_message_append(m, "{sv}", "Name", "s", "alpha"), >=, 0);
        g_assert_cmpint(sd_bus_message_append(m, "{sv}", "Unknown", "a{ss}", 1, "k", "v"), >=, 0);
        g_assert_cmpint(sd_bus_message_append(m, "{sv}", "Owner", "s", "web:bob"), >=, 0);
        g_assert_cmpint(sd_bus_message_append(m, "{sv}", "Created", "t", UINT64_C(1700000000000000)), >=, 0);
        g_assert_cmpint(sd_bus_message_append(m, "{sv}", "Port", "u", 27015), >=, 0);
        g_assert_cmpint(sd_bus_message_append(m, "{sv}", "Enabled", "b", 1), >=, 0);
        g_assert_cmpint(sd_bus_message_append(m, "{sv}", "Progress", "d", 0.25), >=, 0);
        g_assert_cmpint(sd_bus_message_append(m, "{sv}", "Path", "o", "/org/left4me/Manager/job/3"), >=, 0);
        g_assert_cmpint(sd_bus_message_append(m, "{sv}", "Overlays", "as", 2, "a", "b"), >=, 0);
        g_assert_cmpint(sd_bus_message_open_container(m, 'e', "sv"), >=, 0);
        g_assert_cmpint(sd_bus_message_append(m, "s", "Items"), >=, 0);
        g_assert_cmpint(sd_bus_message_open_container(m, 'v', "at"), >=, 0);
        g_assert_cmpint(sd_bus_message_append_array(m, 't', items, sizeof items), >=, 0);
        g_assert_cmpint(sd_bus_message_close_container(m), >=, 0);
        g_assert_cmpint(sd_bus_message_close_container(m), >=, 0);
        g_assert_cmpint(sd_bus_message_append(m, "{sv}", "Job", "(uo)", 42, "/org/freedesktop/systemd1/job/42"), >=, 0);
        seal(m);

        g_assert_cmpint(l4m_bus_map_properties(m, info_map, L4M_ELEMENTSOF(info_map), NULL, &info, &found), ==, 0);
        g_assert_cmpstr(info.name, ==, "alpha");
        g_assert_cmpstr(info.owner, ==, "web:bob");
        g_assert_cmpuint(info.created, ==, UINT64_C(1700000000000000));
        g_assert_cmpuint(info.port, ==, 27015);
        g_assert_cmpint(info.enabled, ==, 1);
        g_assert_cmpfloat(info.progress, ==, 0.25);
        g_assert_cmpstr(info.path, ==, "/org/left4me/Manager/job/3");
        g_assert_cmpuint(g_strv_length(info.overlays), ==, 2);
        g_assert_cmpstr(info.overlays[1], ==, "b");
        g_assert_cmpuint(info.items.n, ==, 3);
        g_assert_cmpuint(info.items.values[2], ==, 9);
        g_assert_cmpuint(info.job, ==, 42);
        g_assert_cmphex(found, ==, (UINT64_C(1) << L4M_ELEMENTSOF(info_map)) - 1);
        assert_after(m);
        info_clear(&info);
}

static void test_absent_and_empty(void) {
        g_autoptr(sd_bus) bus = test_bus();
        g_autoptr(sd_bus_message) m = new_message(bus);
        Info info = { .name = "kept", .overlays = g_strsplit("x", ",", -1) };
        uint64_t found = UINT64_MAX;

        g_assert_cmpint(sd_bus_message_append(m, "{sv}", "Overlays", "as", 0), >=, 0);
        seal(m);

        g_assert_cmpint(l4m_bus_map_properties(m, info_map, L4M_ELEMENTSOF(info_map), NULL, &info, &found), ==, 0);
        g_assert_cmphex(found, ==, UINT64_C(1) << 7);
        g_assert_cmpstr(info.name, ==, "kept");
        g_assert_nonnull(info.overlays);        /* empty, not NULL */
        g_assert_null(info.overlays[0]);
        assert_after(m);
        info_clear(&info);
}

static void test_wrong_signature(void) {
        g_autoptr(sd_bus) bus = test_bus();
        g_autoptr(sd_bus_message) m = new_message(bus);
        Info info = { 0 };

        g_assert_cmpint(sd_bus_message_append(m, "{sv}", "Port", "q", 27015), >=, 0);
        seal(m);

        g_assert_cmpint(l4m_bus_map_properties(m, info_map, L4M_ELEMENTSOF(info_map), NULL, &info, NULL), ==, -EBADMSG);
        g_assert_cmpuint(info.port, ==, 0);
}

static void test_not_a_dictionary(void) {
        g_autoptr(sd_bus) bus = test_bus();
        g_autoptr(sd_bus_message) m = NULL;
        Info info = { 0 };

        g_assert_cmpint(sd_bus_message_new_method_call(bus, &m, "org.example", "/", "org.example", "M"), >=, 0);
        g_assert_cmpint(sd_bus_message_append(m, "s", "Name"), >=, 0);
        g_assert_cmpint(sd_bus_message_seal(m, 1, 0), >=, 0);
        g_assert_cmpint(sd_bus_message_rewind(m, true), >=, 0);
        g_assert_cmpint(l4m_bus_map_properties(m, info_map, L4M_ELEMENTSOF(info_map), NULL, &info, NULL), <, 0);
}

typedef struct Seen {
        const char *name;
        GString *others;
} Seen;

static int collect_other(sd_bus_message *m, const char *name, void *userdata) {
        Seen *seen = userdata;
        const char *contents = NULL;
        int r;

        r = sd_bus_message_peek_type(m, NULL, &contents);
        if (r < 0)
                return r;
        g_string_append_printf(seen->others, "%s:%s;", name, contents);
        return sd_bus_message_skip(m, "v");
}

static void test_other_names(void) {
        g_autoptr(sd_bus) bus = test_bus();
        g_autoptr(sd_bus_message) m = new_message(bus);
        g_autoptr(GString) others = g_string_new(NULL);
        static const L4mBusProperty map[] = {
                { "Name", "s", NULL, offsetof(Seen, name) },
        };
        Seen seen = { .others = others };
        uint64_t found = 0;

        g_assert_cmpint(sd_bus_message_append(m, "{sv}", "State", "s", "ready"), >=, 0);
        g_assert_cmpint(sd_bus_message_append(m, "{sv}", "Name", "s", "alpha"), >=, 0);
        g_assert_cmpint(sd_bus_message_append(m, "{sv}", "Size", "t", UINT64_C(5)), >=, 0);
        seal(m);

        /* The table first; every other name to the callback. */
        g_assert_cmpint(l4m_bus_map_properties(m, map, L4M_ELEMENTSOF(map), collect_other, &seen, &found), ==, 0);
        g_assert_cmpstr(seen.name, ==, "alpha");
        g_assert_cmpstr(others->str, ==, "State:s;Size:t;");
        g_assert_cmphex(found, ==, 1);
        assert_after(m);

        /* No table at all: the callback sees everything. */
        g_assert_cmpint(sd_bus_message_rewind(m, true), >=, 0);
        g_string_truncate(others, 0);
        g_assert_cmpint(l4m_bus_map_properties(m, NULL, 0, collect_other, &seen, NULL), ==, 0);
        g_assert_cmpstr(others->str, ==, "State:s;Name:s;Size:t;");
        assert_after(m);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/bus-properties/reads-the-table", test_reads_the_table);
        g_test_add_func("/bus-properties/absent-and-empty", test_absent_and_empty);
        g_test_add_func("/bus-properties/wrong-signature", test_wrong_signature);
        g_test_add_func("/bus-properties/not-a-dictionary", test_not_a_dictionary);
        g_test_add_func("/bus-properties/other-names", test_other_names);
        return g_test_run();
}
