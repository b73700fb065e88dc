/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "json-bus.h"
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

static JsonNode *parse(const char *text) {
        g_autoptr(JsonParser) p = json_parser_new();

        g_assert_true(json_parser_load_from_data(p, text, -1, NULL));
        return json_node_ref(json_parser_get_root(p));
}

static const JsonBusOption options[] = {
        { "port", "q" }, { "hostname", "s" }, { "autostart", "b" }, { "launch_args", "as" },
        { "memory_max", "t|s" }, { NULL, NULL },
};

/* Appends text as sig; returns the error (0) and the message text read back as JSON. */
static int roundtrip(const char *sig, const char *text, char **ret_json, char **ret_error) {
        g_autoptr(sd_bus) bus = test_bus();
        g_autoptr(sd_bus_message) m = NULL;
        g_autoptr(JsonNode) node = parse(text);
        g_autoptr(JsonNode) back = NULL;
        int r;

        g_assert_cmpint(sd_bus_message_new_method_call(bus, &m, "org.example", "/", "org.example", "M"), >=, 0);
        r = json_bus_append(m, sig, node, options, ret_error);
        if (r < 0)
                return r;
        g_assert_cmpint(sd_bus_message_seal(m, 1, 0), >=, 0);
        g_assert_cmpint(sd_bus_message_rewind(m, true), >=, 0);
        g_assert_cmpstr(sd_bus_message_get_signature(m, true), ==, sig);
        g_assert_cmpint(json_bus_read_all(m, &back), ==, 0);
        *ret_json = json_to_string(json_array_get_element(json_node_get_array(back), 0), false);
        return 0;
}

static void assert_ok(const char *sig, const char *text, const char *expected) {
        g_autofree char *json = NULL, *error = NULL;

        g_assert_cmpint(roundtrip(sig, text, &json, &error), ==, 0);
        g_assert_null(error);
        g_assert_cmpstr(json, ==, expected);
}

static void assert_refused(const char *sig, const char *text, const char *error_part) {
        g_autofree char *json = NULL, *error = NULL;

        g_assert_cmpint(roundtrip(sig, text, &json, &error), ==, -EINVAL);
        g_assert_nonnull(error);
        g_assert_nonnull(strstr(error, error_part));
        g_assert_null(json);
}

static void test_types(void) {
        assert_ok("s", "\"hello\"", "\"hello\"");
        assert_ok("b", "true", "true");
        assert_ok("u", "4294967295", "4294967295");
        assert_ok("q", "27015", "27015");
        assert_ok("t", "0", "0");
        assert_ok("i", "-5", "-5");
        assert_ok("d", "0.5", "0.5");
        assert_ok("d", "2", "2.0");
        assert_ok("as", "[\"a\",\"b\"]", "[\"a\",\"b\"]");
        assert_ok("as", "[]", "[]");
        assert_ok("o", "\"/org/left4me/Manager\"", "\"/org/left4me/Manager\"");
        assert_ok("a{ss}", "{\"k\":\"v\"}", "{\"k\":\"v\"}");
}

static void test_wrong_types(void) {
        assert_refused("s", "5", "expected a string");
        assert_refused("s", "null", "expected a string");
        assert_refused("b", "\"true\"", "expected true or false");
        assert_refused("b", "1", "expected true or false");
        assert_refused("u", "-1", "out of range");
        assert_refused("u", "4294967296", "out of range");
        assert_refused("q", "65536", "out of range");
        assert_refused("u", "1.5", "expected an integer");
        assert_refused("u", "\"7\"", "expected an integer");
        assert_refused("t", "-1", "out of range");
        assert_refused("as", "\"a\"", "expected an array");
        assert_refused("as", "[\"a\", 1]", "expected a string");
        assert_refused("o", "\"not a path\"", "not a valid value");
        assert_refused("h", "3", "cannot be given as JSON");
        assert_refused("a{ss}", "[]", "expected an object");
}

static void test_options(void) {
        assert_ok("a{sv}", "{}", "{}");
        assert_ok("a{sv}", "{\"port\": 27020, \"hostname\": \"x\", \"autostart\": true, \"launch_args\": [\"-a\"]}",
                  "{\"port\":27020,\"hostname\":\"x\",\"autostart\":true,\"launch_args\":[\"-a\"]}");
        assert_refused("a{sv}", "{\"nope\": 1}", "unknown option 'nope'");
        assert_refused("a{sv}", "{\"port\": \"27020\"}", "option 'port': expected an integer");
        assert_refused("a{sv}", "{\"port\": 70000}", "option 'port': integer out of range");
        assert_refused("a{sv}", "[1]", "expected an object of options");
        /* Alternatives: a number as t, a string as s (SetLimits' values). */
        assert_ok("a{sv}", "{\"memory_max\": 2147483648}", "{\"memory_max\":2147483648}");
        assert_ok("a{sv}", "{\"memory_max\": \"default\"}", "{\"memory_max\":\"default\"}");
        assert_refused("a{sv}", "{\"memory_max\": true}", "option 'memory_max': expected a value of type 't|s'");
        assert_refused("a{sv}", "{\"memory_max\": -1}", "option 'memory_max': integer out of range");
}

static void test_type_length(void) {
        g_assert_cmpuint(json_bus_type_length("s"), ==, 1);
        g_assert_cmpuint(json_bus_type_length("ssa{sv}"), ==, 1);
        g_assert_cmpuint(json_bus_type_length("a{sv}s"), ==, 5);
        g_assert_cmpuint(json_bus_type_length("a(osssst)"), ==, 9);
        g_assert_cmpuint(json_bus_type_length("(ss"), ==, 0);
        g_assert_cmpuint(json_bus_type_length(""), ==, 0);
        g_assert_cmpuint(json_bus_type_length("z"), ==, 0);
}

/* Replies as the daemon sends them: structs become arrays, a{sv} objects. */
static void test_read(void) {
        g_autoptr(sd_bus) bus = test_bus();
        g_autoptr(sd_bus_message) m = NULL;
        g_autoptr(JsonNode) back = NULL;
        g_autofree char *text = NULL;

        g_assert_cmpint(sd_bus_message_new_method_call(bus, &m, "org.example", "/", "org.example", "M"), >=, 0);
        g_assert_cmpint(sd_bus_message_append(m, "a(osssst)", 1, "/org/left4me/Manager/overlay/1", "maps", "workshop",
                                              "alice", "ready", (uint64_t) 17), >=, 0);
        g_assert_cmpint(sd_bus_message_append(m, "a{sv}", 3, "Name", "s", "x", "Progress", "d", 0.25, "Items", "at", 2,
                                              (uint64_t) 1, (uint64_t) 2), >=, 0);
        g_assert_cmpint(sd_bus_message_append(m, "tb", UINT64_MAX, 0), >=, 0);
        g_assert_cmpint(sd_bus_message_seal(m, 1, 0), >=, 0);
        g_assert_cmpint(sd_bus_message_rewind(m, true), >=, 0);
        g_assert_cmpint(json_bus_read_all(m, &back), ==, 0);
        text = json_to_string(back, false);
        g_assert_cmpstr(text, ==,
                        "[[[\"/org/left4me/Manager/overlay/1\",\"maps\",\"workshop\",\"alice\",\"ready\",17]],"
                        "{\"Name\":\"x\",\"Progress\":0.25,\"Items\":[1,2]},"
                        "1.8446744073709552e+19,false]");
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/web/json-bus/types", test_types);
        g_test_add_func("/web/json-bus/wrong-types", test_wrong_types);
        g_test_add_func("/web/json-bus/options", test_options);
        g_test_add_func("/web/json-bus/type-length", test_type_length);
        g_test_add_func("/web/json-bus/read", test_read);
        return g_test_run();
}
