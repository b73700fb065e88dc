/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <glib.h>

#include "steam-api.h"

/* ---- references -------------------------------------------------------- */

static void assert_ref(const char *s, uint64_t want) {
        uint64_t id = 0;

        g_test_message("valid ref \"%s\"", s);
        g_assert_cmpint(workshop_ref_parse(s, &id), ==, 0);
        g_assert_cmpuint(id, ==, want);
}

static void assert_bad_ref(const char *s) {
        uint64_t id = 42;
        g_autofree char *shown = s ? g_strescape(s, NULL) : g_strdup("(null)");

        g_test_message("bad ref \"%s\"", shown);
        g_assert_cmpint(workshop_ref_parse(s, &id), ==, -EINVAL);
        g_assert_cmpuint(id, ==, 42);
}

static void test_ref_ids(void) {
        static const char *const bad[] = {
                "", "0", "00", "01", "+1", "-1", " 1", "1 ", "1\n", "1a", "0x10", "1e5", "１",
                "9223372036854775808", "18446744073709551615", "18446744073709551616",
                "99999999999999999999999999",
        };

        assert_ref("1", 1);
        assert_ref("123456789", 123456789);
        assert_ref("2503174451", UINT64_C(2503174451));
        assert_ref("9223372036854775807", UINT64_C(9223372036854775807));
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
                assert_bad_ref(bad[i]);
        assert_bad_ref(NULL);
}

static void test_ref_urls(void) {
        static const char *const bad[] = {
                "steamcommunity.com/sharedfiles/filedetails/?id=123",
                "https://steamcommunity.com.evil.example/sharedfiles/filedetails/?id=123",
                "https://evil.example/sharedfiles/filedetails/?id=123",
                "https://evil.example/?u=https://steamcommunity.com/sharedfiles/filedetails/?id=123",
                "https://user@steamcommunity.com/sharedfiles/filedetails/?id=123",
                "https://steamcommunity.com:443/sharedfiles/filedetails/?id=123",
                "https://wwww.steamcommunity.com/sharedfiles/filedetails/?id=123",
                "ftp://steamcommunity.com/sharedfiles/filedetails/?id=123",
                "file:///sharedfiles/filedetails/?id=123",
                "https://steamcommunity.com/sharedfiles/filedetails/",
                "https://steamcommunity.com/sharedfiles/filedetails/?",
                "https://steamcommunity.com/sharedfiles/filedetails/?id=",
                "https://steamcommunity.com/sharedfiles/filedetails/?id=0",
                "https://steamcommunity.com/sharedfiles/filedetails/?id=0123",
                "https://steamcommunity.com/sharedfiles/filedetails/?id=-5",
                "https://steamcommunity.com/sharedfiles/filedetails/?id=123abc",
                "https://steamcommunity.com/sharedfiles/filedetails/?id=123&id=456",
                "https://steamcommunity.com/sharedfiles/filedetails/?id=123&id=123",
                "https://steamcommunity.com/sharedfiles/filedetails/?id=123&",
                "https://steamcommunity.com/sharedfiles/filedetails/?id=123&&x=1",
                "https://steamcommunity.com/sharedfiles/filedetails/?=x&id=123",
                "https://steamcommunity.com/sharedfiles/filedetails/?id=123#top",
                "https://steamcommunity.com/sharedfiles/filedetails/?id=123 ",
                "https://steamcommunity.com/sharedfiles/filedetails/?id=123&q=a b",
                "https://steamcommunity.com/sharedfiles/filedetails/?id=123\n",
                "https://steamcommunity.com/sharedfiles/filedetails/?id=9223372036854775808",
                "https://steamcommunity.com/sharedfiles/filedetails/?searchtext=foo",
                "https://steamcommunity.com/sharedfiles/FileDetails/?id=123",
                "https://steamcommunity.com/app/550/workshop/?id=123",
                "https://steamcommunity.com/id/someone/myworkshopfiles/?id=123",
                "https://steamcommunity.com/sharedfiles/filedetails/../filedetails/?id=123",
                " https://steamcommunity.com/sharedfiles/filedetails/?id=123",
                "https://steamcommunity.com/sharedfiles/filedetails/?ID=123",
        };
        g_autoptr(GString) huge = g_string_new("https://steamcommunity.com/sharedfiles/filedetails/?id=123&x=");

        assert_ref("https://steamcommunity.com/sharedfiles/filedetails/?id=123", 123);
        assert_ref("http://steamcommunity.com/sharedfiles/filedetails/?id=123", 123);
        assert_ref("https://www.steamcommunity.com/sharedfiles/filedetails/?id=123", 123);
        assert_ref("https://steamcommunity.com/workshop/filedetails/?id=2503174451", UINT64_C(2503174451));
        assert_ref("https://steamcommunity.com/sharedfiles/filedetails?id=77", 77);
        assert_ref("https://steamcommunity.com/sharedfiles/filedetails/?id=123&searchtext=", 123);
        assert_ref("https://steamcommunity.com/sharedfiles/filedetails/?searchtext=tank+rush&id=123", 123);
        assert_ref("https://steamcommunity.com/sharedfiles/filedetails/?l=german&id=5&searchtext=%20x", 5);
        assert_ref("HTTPS://SteamCommunity.COM/sharedfiles/filedetails/?id=9", 9);
        assert_ref("https://steamcommunity.com/sharedfiles/filedetails/?id=9223372036854775807",
                   UINT64_C(9223372036854775807));

        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
                assert_bad_ref(bad[i]);

        while (huge->len < 4096)
                g_string_append_c(huge, 'a');
        assert_bad_ref(huge->str);
}

/* ---- requests ---------------------------------------------------------- */

static void test_urls(void) {
        g_autofree char *a = steam_api_url("http://127.0.0.1:8080/", STEAM_API_PATH_DETAILS);
        g_autofree char *b = steam_api_url("http://127.0.0.1:8080", STEAM_API_PATH_COLLECTIONS);
        g_autofree char *c = steam_api_url(STEAM_API_DEFAULT_URL, STEAM_API_PATH_DETAILS);

        g_assert_cmpstr(a, ==, "http://127.0.0.1:8080/ISteamRemoteStorage/GetPublishedFileDetails/v1/");
        g_assert_cmpstr(b, ==, "http://127.0.0.1:8080/ISteamRemoteStorage/GetCollectionDetails/v1/");
        g_assert_cmpstr(c, ==, "https://api.steampowered.com/ISteamRemoteStorage/GetPublishedFileDetails/v1/");
}

static void test_bodies(void) {
        const uint64_t one[] = { 123 };
        const uint64_t three[] = { 5, UINT64_C(2503174451), UINT64_C(9223372036854775807) };
        uint64_t many[STEAM_API_BATCH_MAX];
        g_autofree char *a = steam_api_details_body(one, 1);
        g_autofree char *b = steam_api_collections_body(three, 3);
        g_autofree char *c = NULL;
        g_auto(GStrv) parts = NULL;

        g_assert_cmpstr(a, ==, "itemcount=1&publishedfileids%5B0%5D=123");
        g_assert_cmpstr(b, ==, "collectioncount=3&publishedfileids%5B0%5D=5"
                               "&publishedfileids%5B1%5D=2503174451"
                               "&publishedfileids%5B2%5D=9223372036854775807");

        for (size_t i = 0; i < G_N_ELEMENTS(many); i++)
                many[i] = 1000 + i;
        c = steam_api_details_body(many, G_N_ELEMENTS(many));
        parts = g_strsplit(c, "&", -1);
        g_assert_cmpuint(g_strv_length(parts), ==, STEAM_API_BATCH_MAX + 1);
        g_assert_cmpstr(parts[0], ==, "itemcount=100");
        g_assert_cmpstr(parts[100], ==, "publishedfileids%5B99%5D=1099");
}

/* ---- item details ------------------------------------------------------ */

static int parse_details(const char *json, GArray **ret, char **ret_error) {
        return steam_details_parse(json, strlen(json), ret, ret_error);
}

static const WorkshopItem *find(GArray *items, uint64_t id) {
        const WorkshopItem *it = workshop_items_find(items, id);
        g_assert_nonnull(it);
        return it;
}

static void assert_status(GArray *items, uint64_t id, WorkshopItemStatus want) {
        const WorkshopItem *it = find(items, id);

        g_test_message("item %" PRIu64 ": %s (%s)", id, workshop_item_status_to_string(it->status),
                       it->reason ? it->reason : "-");
        g_assert_cmpstr(workshop_item_status_to_string(it->status), ==, workshop_item_status_to_string(want));
        if (want == WORKSHOP_ITEM_OK)
                g_assert_null(it->reason);
        else
                g_assert_nonnull(it->reason);
}

#define ITEM(id, more) \
        "{\"publishedfileid\":\"" id "\",\"result\":1,\"consumer_app_id\":550,\"creator_app_id\":550," \
        "\"file_url\":\"http://127.0.0.1:1/files/" id "/100.vpk\",\"file_size\":1000," \
        "\"time_updated\":100,\"visibility\":0,\"banned\":0,\"title\":\"T" id "\"" more "}"

static void test_details_classify(void) {
        const char *json =
                "{\"response\":{\"result\":1,\"resultcount\":16,\"publishedfiledetails\":["
                /* 1: a real-looking entry, file_size as a string, with tags */
                "{\"publishedfileid\":\"1\",\"result\":1,\"creator\":\"76561197960287930\","
                " \"creator_app_id\":550,\"consumer_app_id\":550,\"filename\":\"myl4d2addons/map.vpk\","
                " \"file_size\":\"123456\",\"file_url\":\"https://steamusercontent-a.akamaihd.net/ugc/1/ABC/\","
                " \"hcontent_file\":\"1\",\"preview_url\":\"\",\"title\":\"Dead Center II\",\"description\":\"d\","
                " \"time_created\":1500000000,\"time_updated\":1600000000,\"visibility\":0,\"banned\":0,"
                " \"ban_reason\":\"\",\"tags\":[{\"tag\":\"Campaigns\"}]},"
                "{\"publishedfileid\":\"2\",\"result\":9},"
                ITEM("3", ",\"visibility\":2") ","
                ITEM("4", ",\"visibility\":1") ","
                ITEM("5", ",\"visibility\":3") ","          /* unlisted: fine */
                "{\"publishedfileid\":\"6\",\"result\":1,\"consumer_app_id\":550,\"file_size\":10,"
                " \"time_updated\":5,\"visibility\":0},"      /* no file_url */
                ITEM("7", ",\"consumer_app_id\":440") ","
                ITEM("8", ",\"banned\":1") ","
                ITEM("9", ",\"banned\":true") ","
                "{\"publishedfileid\":\"10\",\"result\":1,\"consumer_app_id\":550,"
                " \"file_url\":\"http://x/\",\"time_updated\":5},"      /* no file_size */
                ITEM("11", ",\"file_size\":0") ","
                ITEM("12", ",\"file_url\":\"file:///etc/passwd\"") ","
                ITEM("13", ",\"file_size\":99999999999999") ","
                "{\"publishedfileid\":\"14\",\"result\":15},"
                "{\"publishedfileid\":\"15\",\"result\":2},"
                "{\"publishedfileid\":16,\"result\":1,\"file_url\":\"http://x/\",\"file_size\":1,\"time_updated\":1}"
                "]}}";
        g_autoptr(GArray) items = NULL;
        g_autofree char *error = NULL;
        const WorkshopItem *it;

        g_assert_cmpint(parse_details(json, &items, &error), ==, 0);
        g_assert_null(error);
        g_assert_cmpuint(items->len, ==, 16);

        it = find(items, 1);
        g_assert_cmpint(it->result, ==, 1);
        g_assert_cmpuint(it->file_size, ==, 123456);
        g_assert_cmpuint(it->time_updated, ==, 1600000000);
        g_assert_cmpuint(it->consumer_app_id, ==, 550);
        g_assert_cmpint(it->visibility, ==, 0);
        g_assert_cmpstr(it->file_url, ==, "https://steamusercontent-a.akamaihd.net/ugc/1/ABC/");
        g_assert_cmpstr(it->filename, ==, "myl4d2addons/map.vpk");
        g_assert_cmpstr(it->title, ==, "Dead Center II");
        g_assert_false(it->banned);

        assert_status(items, 1, WORKSHOP_ITEM_OK);
        assert_status(items, 2, WORKSHOP_ITEM_REMOVED);
        assert_status(items, 3, WORKSHOP_ITEM_PRIVATE);
        assert_status(items, 4, WORKSHOP_ITEM_PRIVATE);
        assert_status(items, 5, WORKSHOP_ITEM_OK);
        assert_status(items, 6, WORKSHOP_ITEM_PRIVATE);
        assert_status(items, 7, WORKSHOP_ITEM_WRONG_GAME);
        assert_status(items, 8, WORKSHOP_ITEM_REMOVED);
        assert_status(items, 9, WORKSHOP_ITEM_REMOVED);
        assert_status(items, 10, WORKSHOP_ITEM_BAD);
        assert_status(items, 11, WORKSHOP_ITEM_BAD);
        assert_status(items, 12, WORKSHOP_ITEM_BAD);
        assert_status(items, 13, WORKSHOP_ITEM_BAD);
        assert_status(items, 14, WORKSHOP_ITEM_PRIVATE);
        assert_status(items, 15, WORKSHOP_ITEM_BAD);
        assert_status(items, 16, WORKSHOP_ITEM_BAD);      /* no consumer_app_id */

        g_assert_null(find(items, 12)->file_url);
        g_assert_cmpint(find(items, 2)->visibility, ==, -1);
        g_assert_null(workshop_items_find(items, 17));
        g_assert_null(workshop_item_status_to_string(_WORKSHOP_ITEM_STATUS_MAX));
}

static void test_details_display_strings(void) {
        g_autoptr(GString) json = g_string_new("{\"response\":{\"publishedfiledetails\":[");
        g_autoptr(GArray) items = NULL;
        const WorkshopItem *it;

        g_string_append(json, ITEM("1", ",\"title\":\"a\\nb\\u001b[31mc\\u202ed\\td\","
                                         "\"filename\":\"../../../etc/passwd\""));
        g_string_append(json, ",{\"publishedfileid\":\"2\",\"result\":9,\"title\":\"");
        for (int i = 0; i < 1000; i++)
                g_string_append(json, "\xc3\xa9");     /* é: two bytes each */
        g_string_append(json, "\"}]}}");

        g_assert_cmpint(steam_details_parse(json->str, json->len, &items, NULL), ==, 0);

        it = find(items, 1);
        g_assert_cmpstr(it->title, ==, "a?b?[31mc?d?d");
        /* kept for display only; never used as a path */
        g_assert_cmpstr(it->filename, ==, "../../../etc/passwd");

        it = find(items, 2);
        g_assert_cmpuint(strlen(it->title), <=, STEAM_TEXT_MAX);
        g_assert_true(g_utf8_validate(it->title, -1, NULL));
        g_assert_true(g_str_has_suffix(it->title, "\xe2\x80\xa6"));
        g_assert_true(g_str_has_prefix(it->title, "\xc3\xa9\xc3\xa9"));
}

static void assert_details_fail(const char *json, size_t len, int want) {
        g_autoptr(GArray) items = NULL;
        g_autofree char *error = NULL;
        g_autofree char *cut = g_strndup(json, MIN(len, 120));
        g_autofree char *shown = g_strescape(cut, NULL);    /* the TAP stream must stay UTF-8 */

        g_assert_cmpint(steam_details_parse(json, len, &items, &error), ==, want);
        g_assert_null(items);
        g_assert_nonnull(error);
        g_test_message("%s → %s", shown, error);
}

#define WRAP(list) "{\"response\":{\"result\":1,\"publishedfiledetails\":[" list "]}}"

static void test_details_malformed(void) {
        static const char *const bad[] = {
                "",
                "not json",
                "[]",
                "{}",
                "null",
                "{\"response\":[]}",
                "{\"response\":{}}",
                "{\"response\":{\"result\":1}}",
                "{\"response\":{\"publishedfiledetails\":{}}}",
                "{\"response\":{\"publishedfiledetails\":\"x\"}}",
                "{\"response\":{\"result\":\"1\",\"publishedfiledetails\":[]}}",
                "{\"response\":{\"resultcount\":-1,\"publishedfiledetails\":[]}}",
                WRAP("1"),
                WRAP("[]"),
                WRAP("{\"result\":1}"),
                WRAP("{\"publishedfileid\":\"abc\",\"result\":1}"),
                WRAP("{\"publishedfileid\":\"0\",\"result\":1}"),
                WRAP("{\"publishedfileid\":\"01\",\"result\":1}"),
                WRAP("{\"publishedfileid\":\"-1\",\"result\":1}"),
                WRAP("{\"publishedfileid\":\"1 \",\"result\":1}"),
                WRAP("{\"publishedfileid\":-1,\"result\":1}"),
                WRAP("{\"publishedfileid\":1.5,\"result\":1}"),
                WRAP("{\"publishedfileid\":true,\"result\":1}"),
                WRAP("{\"publishedfileid\":[\"1\"],\"result\":1}"),
                WRAP("{\"publishedfileid\":\"9223372036854775808\",\"result\":1}"),
                WRAP("{\"publishedfileid\":\"1\"}"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":\"1\"}"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":1.0}"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":-1}"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":100000}"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":1,\"file_size\":-1}"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":1,\"file_size\":\"12x\"}"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":1,\"file_size\":\"-12\"}"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":1,\"file_size\":\"\"}"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":1,\"file_size\":\"99999999999999999999\"}"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":1,\"file_size\":1e3}"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":1,\"file_size\":[]}"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":1,\"file_size\":{}}"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":1,\"time_updated\":\"5\"}"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":1,\"time_updated\":-5}"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":1,\"consumer_app_id\":4294967296}"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":1,\"consumer_app_id\":\"550\"}"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":1,\"visibility\":300}"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":1,\"banned\":\"yes\"}"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":1,\"title\":5}"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":1,\"file_url\":[]}"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":1,\"filename\":{}}"),
                /* integers json-glib would silently wrap */
                WRAP("{\"publishedfileid\":\"1\",\"result\":1,\"time_updated\":99999999999999999999}"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":1,\"time_updated\":18446744073709551615}"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":1,\"time_updated\":-9223372036854775809}"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":1,\"views\":123456789012345678901234567890}"),
                /* NUL smuggled into a string */
                WRAP("{\"publishedfileid\":\"1\\u0000 2\",\"result\":1}"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":1,\"title\":\"a\\u0000b\"}"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":1},{\"publishedfileid\":\"1\",\"result\":9}"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":1"),
                WRAP("{\"publishedfileid\":\"1\",\"result\":1,}"),
                "{\"response\":{\"publishedfiledetails\":[{\"publishedfileid\":\"1\",\"result\":1}]}",
                "{\"response\":{\"publishedfiledetails\":[]}} trailing",
                "\xef\xbb\xbf{\"response\":{\"publishedfiledetails\":\"\xff\xfe\"}}",
        };
        g_autoptr(GString) deep = g_string_new(NULL);
        g_autoptr(GString) deep_ok_nesting = g_string_new(NULL);
        g_autoptr(GString) many = g_string_new("{\"response\":{\"publishedfiledetails\":[");
        static const char nul_inside[] = WRAP("{\"publishedfileid\":\"1\",\"result\":1}");
        char with_nul[sizeof(nul_inside)];

        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
                assert_details_fail(bad[i], strlen(bad[i]), -EBADMSG);

        /* answered, but a failure as a whole */
        assert_details_fail("{\"response\":{\"result\":8,\"resultcount\":0}}", 41, -EREMOTEIO);
        assert_details_fail("{\"response\":{\"result\":2,\"publishedfiledetails\":[]}}", 51, -EREMOTEIO);

        /* a NUL byte inside the buffer */
        memcpy(with_nul, nul_inside, sizeof(nul_inside));
        with_nul[30] = '\0';
        assert_details_fail(with_nul, sizeof(nul_inside) - 1, -EBADMSG);

        /* a million open brackets would crash json-glib's recursive parser */
        for (int i = 0; i < 1000000; i++)
                g_string_append_c(deep, '[');
        assert_details_fail(deep->str, deep->len, -EBADMSG);

        /* nesting over the limit inside an ignored member */
        g_string_append(deep_ok_nesting, "{\"response\":{\"publishedfiledetails\":[{\"publishedfileid\":\"1\","
                                         "\"result\":1,\"tags\":");
        for (unsigned i = 0; i < STEAM_JSON_DEPTH_MAX; i++)
                g_string_append_c(deep_ok_nesting, '[');
        for (unsigned i = 0; i < STEAM_JSON_DEPTH_MAX; i++)
                g_string_append_c(deep_ok_nesting, ']');
        g_string_append(deep_ok_nesting, "}]}}");
        assert_details_fail(deep_ok_nesting->str, deep_ok_nesting->len, -EBADMSG);

        /* more entries than one batch can have */
        for (unsigned i = 1; i <= STEAM_API_BATCH_MAX + 1; i++)
                g_string_append_printf(many, "%s{\"publishedfileid\":\"%u\",\"result\":9}", i > 1 ? "," : "", i);
        g_string_append(many, "]}}");
        assert_details_fail(many->str, many->len, -EBADMSG);
}

static void test_details_limits(void) {
        g_autoptr(GString) json = g_string_new("{\"response\":{\"publishedfiledetails\":[");
        g_autoptr(GArray) items = NULL;
        g_autoptr(GArray) empty = NULL;
        g_autofree char *error = NULL;
        const char *strings_in_numbers = WRAP("{\"publishedfileid\":\"1\",\"result\":1,"
                                              "\"time_updated\":9223372036854775807,"
                                              "\"views\":-9223372036854775807,\"x\":1.5e308,\"y\":-0.0}");

        /* a full batch, each entry with a 64 KiB title: 6.5 MB, under the cap */
        for (unsigned i = 1; i <= STEAM_API_BATCH_MAX; i++) {
                g_string_append_printf(json, "%s" "{\"publishedfileid\":\"%u\",\"result\":1,\"title\":\"",
                                       i > 1 ? "," : "", i);
                for (unsigned k = 0; k < 64 * 1024; k++)
                        g_string_append_c(json, 'x');
                g_string_append(json, "\"}");
        }
        g_string_append(json, "]}}");
        g_assert_cmpuint(json->len, <, STEAM_API_RESPONSE_MAX);
        g_assert_cmpint(steam_details_parse(json->str, json->len, &items, &error), ==, 0);
        g_assert_cmpuint(items->len, ==, STEAM_API_BATCH_MAX);
        for (guint i = 0; i < items->len; i++)
                g_assert_cmpuint(strlen(g_array_index(items, WorkshopItem, i).title), <=, STEAM_TEXT_MAX);

        /* extremes that are still in range */
        g_assert_cmpint(parse_details(strings_in_numbers, &empty, &error), ==, 0);
        g_assert_cmpuint(find(empty, 1)->time_updated, ==, (uint64_t) INT64_MAX);
        g_clear_pointer(&empty, g_array_unref);

        g_assert_cmpint(parse_details("{\"response\":{\"publishedfiledetails\":[]}}", &empty, NULL), ==, 0);
        g_assert_cmpuint(empty->len, ==, 0);
}

/* ---- collections ------------------------------------------------------- */

static void test_collections_parse(void) {
        const char *json =
                "{\"response\":{\"result\":1,\"resultcount\":4,\"collectiondetails\":["
                "{\"publishedfileid\":\"10\",\"result\":1,\"children\":["
                "  {\"publishedfileid\":\"3\",\"sortorder\":2,\"filetype\":0},"
                "  {\"publishedfileid\":\"1\",\"sortorder\":0,\"filetype\":0},"
                "  {\"publishedfileid\":\"20\",\"sortorder\":1,\"filetype\":2},"
                "  {\"publishedfileid\":\"4\",\"sortorder\":1,\"filetype\":0},"
                "  {\"publishedfileid\":\"5\",\"filetype\":0}]},"
                "{\"publishedfileid\":\"11\",\"result\":9},"
                "{\"publishedfileid\":\"12\",\"result\":1},"
                "{\"publishedfileid\":\"13\",\"result\":1,\"children\":[]}"
                "]}}";
        static const uint64_t order[] = { 1, 20, 4, 3, 5 };
        g_autoptr(GPtrArray) list = NULL;
        g_autofree char *error = NULL;
        WorkshopCollection *c;

        g_assert_cmpint(steam_collections_parse(json, strlen(json), &list, &error), ==, 0);
        g_assert_cmpuint(list->len, ==, 4);

        c = g_ptr_array_index(list, 0);
        g_assert_cmpuint(c->id, ==, 10);
        g_assert_true(c->is_collection);
        g_assert_cmpuint(c->children->len, ==, G_N_ELEMENTS(order));
        /* by sortorder; equal sortorders keep Steam's order; a missing one is the position */
        for (size_t i = 0; i < G_N_ELEMENTS(order); i++)
                g_assert_cmpuint(g_array_index(c->children, WorkshopChild, i).id, ==, order[i]);
        g_assert_cmpint(g_array_index(c->children, WorkshopChild, 1).filetype, ==, STEAM_FILETYPE_COLLECTION);

        c = g_ptr_array_index(list, 1);
        g_assert_false(c->is_collection);
        g_assert_null(c->children);
        g_assert_cmpint(c->result, ==, 9);
        c = g_ptr_array_index(list, 2);
        g_assert_false(c->is_collection);
        c = g_ptr_array_index(list, 3);
        g_assert_true(c->is_collection);
        g_assert_cmpuint(c->children->len, ==, 0);
}

static void assert_collections_fail(const char *json, int want) {
        g_autoptr(GPtrArray) list = NULL;
        g_autofree char *error = NULL;
        g_autofree char *cut = g_strndup(json, 100);
        g_autofree char *shown = g_strescape(cut, NULL);

        g_assert_cmpint(steam_collections_parse(json, strlen(json), &list, &error), ==, want);
        g_assert_null(list);
        g_assert_nonnull(error);
        g_test_message("%s → %s", shown, error);
}

#define CWRAP(list) "{\"response\":{\"result\":1,\"collectiondetails\":[" list "]}}"

static void test_collections_malformed(void) {
        static const char *const bad[] = {
                "{\"response\":{\"result\":1}}",
                "{\"response\":{\"collectiondetails\":7}}",
                CWRAP("\"10\""),
                CWRAP("{\"result\":1,\"children\":[]}"),
                CWRAP("{\"publishedfileid\":\"10\",\"children\":[]}"),
                CWRAP("{\"publishedfileid\":\"10\",\"result\":1,\"children\":{}}"),
                CWRAP("{\"publishedfileid\":\"10\",\"result\":1,\"children\":[1]}"),
                CWRAP("{\"publishedfileid\":\"10\",\"result\":1,\"children\":[{\"filetype\":0}]}"),
                CWRAP("{\"publishedfileid\":\"10\",\"result\":1,\"children\":[{\"publishedfileid\":\"x\"}]}"),
                CWRAP("{\"publishedfileid\":\"10\",\"result\":1,\"children\":"
                      "[{\"publishedfileid\":\"1\",\"filetype\":\"2\"}]}"),
                CWRAP("{\"publishedfileid\":\"10\",\"result\":1,\"children\":"
                      "[{\"publishedfileid\":\"1\",\"filetype\":-1}]}"),
                CWRAP("{\"publishedfileid\":\"10\",\"result\":1,\"children\":"
                      "[{\"publishedfileid\":\"1\",\"sortorder\":4294967296}]}"),
                CWRAP("{\"publishedfileid\":\"10\",\"result\":9},{\"publishedfileid\":\"10\",\"result\":9}"),
        };
        g_autoptr(GString) many = g_string_new("{\"response\":{\"collectiondetails\":[{\"publishedfileid\":\"1\","
                                               "\"result\":1,\"children\":[");

        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
                assert_collections_fail(bad[i], -EBADMSG);
        assert_collections_fail("{\"response\":{\"result\":16}}", -EREMOTEIO);

        for (unsigned i = 1; i <= STEAM_COLLECTION_CHILDREN_MAX + 1; i++)
                g_string_append_printf(many, "%s{\"publishedfileid\":\"%u\"}", i > 1 ? "," : "", i);
        g_string_append(many, "]}]}}");
        assert_collections_fail(many->str, -EBADMSG);
}

/* ---- expansion --------------------------------------------------------- */

static void take_json(GHashTable *map, const char *entries) {
        g_autofree char *json = g_strdup_printf("{\"response\":{\"result\":1,\"collectiondetails\":[%s]}}", entries);
        g_autoptr(GPtrArray) list = NULL;
        g_autofree char *error = NULL;

        g_assert_cmpint(steam_collections_parse(json, strlen(json), &list, &error), ==, 0);
        workshop_collection_map_take(map, list);
        g_assert_cmpuint(list->len, ==, 0);
}

static void assert_ids(GArray *got, const uint64_t *want, size_t n) {
        g_autoptr(GString) shown = g_string_new(NULL);

        for (guint i = 0; i < got->len; i++)
                g_string_append_printf(shown, " %" PRIu64, g_array_index(got, uint64_t, i));
        g_test_message("ids:%s", shown->str);
        g_assert_cmpuint(got->len, ==, n);
        for (size_t i = 0; i < n; i++)
                g_assert_cmpuint(g_array_index(got, uint64_t, i), ==, want[i]);
}

static unsigned count_notes(WorkshopExpansion *x, WorkshopNoteKind kind) {
        unsigned n = 0;

        for (guint i = 0; i < x->notes->len; i++) {
                const WorkshopNote *note = &g_array_index(x->notes, WorkshopNote, i);
                g_autofree char *s = workshop_note_to_string(note);

                g_assert_nonnull(s);
                g_test_message("note: %s", s);
                if (note->kind == kind)
                        n++;
        }
        return n;
}

#define C(id) "{\"publishedfileid\":\"" #id "\",\"filetype\":2}"
#define I(id) "{\"publishedfileid\":\"" #id "\",\"filetype\":0}"

/* The user lists collection 100, item 7 and collection 200.
 *   100 = [1, 2, (300), 3]
 *   300 = [4, 1, (400), (100)]        (100: a cycle through 300)
 *   400 = [5, (300)]                  (300: a cycle)
 *   200 = [6, (300), 2, 8]            (300 again: already expanded, not a cycle)
 * Expansion proceeds in rounds, as the daemon does it: everything it does
 * not know yet comes back as `missing`. */
static void test_expand_nested_with_cycle(void) {
        const uint64_t refs[] = { 100, 7, 200 };
        g_autoptr(GHashTable) map = workshop_collection_map_new();
        g_autoptr(WorkshopExpansion) x = NULL;
        static const uint64_t round1[] = { 100, 7, 200 };
        static const uint64_t round2[] = { 300 };
        static const uint64_t round3[] = { 400 };
        static const uint64_t final[] = { 1, 2, 4, 5, 3, 7, 6, 8 };

        g_assert_cmpint(workshop_expand(refs, G_N_ELEMENTS(refs), map, &x), ==, 0);
        assert_ids(x->missing, round1, G_N_ELEMENTS(round1));
        g_assert_cmpuint(x->items->len, ==, 0);
        g_clear_pointer(&x, workshop_expansion_free);

        take_json(map,
                  "{\"publishedfileid\":\"100\",\"result\":1,\"children\":[" I(1) "," I(2) "," C(300) "," I(3) "]},"
                  "{\"publishedfileid\":\"7\",\"result\":9},"
                  "{\"publishedfileid\":\"200\",\"result\":1,\"children\":[" I(6) "," C(300) "," I(2) "," I(8) "]}");
        g_assert_cmpint(workshop_expand(refs, G_N_ELEMENTS(refs), map, &x), ==, 0);
        assert_ids(x->missing, round2, G_N_ELEMENTS(round2));
        g_clear_pointer(&x, workshop_expansion_free);

        take_json(map, "{\"publishedfileid\":\"300\",\"result\":1,\"children\":["
                       I(4) "," I(1) "," C(400) "," C(100) "]}");
        g_assert_cmpint(workshop_expand(refs, G_N_ELEMENTS(refs), map, &x), ==, 0);
        assert_ids(x->missing, round3, G_N_ELEMENTS(round3));
        g_clear_pointer(&x, workshop_expansion_free);

        take_json(map, "{\"publishedfileid\":\"400\",\"result\":1,\"children\":[" I(5) "," C(300) "]}");
        g_assert_cmpint(workshop_expand(refs, G_N_ELEMENTS(refs), map, &x), ==, 0);
        g_assert_cmpuint(x->missing->len, ==, 0);
        assert_ids(x->items, final, G_N_ELEMENTS(final));
        g_assert_cmpuint(count_notes(x, WORKSHOP_NOTE_CYCLE), ==, 2);
        g_assert_cmpuint(x->notes->len, ==, 2);
        g_assert_cmpuint(g_array_index(x->notes, WorkshopNote, 0).parent, ==, 400);
        g_assert_cmpuint(g_array_index(x->notes, WorkshopNote, 0).child, ==, 300);
        g_assert_cmpuint(g_array_index(x->notes, WorkshopNote, 1).parent, ==, 300);
        g_assert_cmpuint(g_array_index(x->notes, WorkshopNote, 1).child, ==, 100);
}

/* Collection 1 lists itself, a removed sub-collection 2, a screenshot 3,
 * item 9 twice and sub-collection 51; the user lists 1 twice and item 50. */
static void test_expand_odd_children(void) {
        const uint64_t refs[] = { 1, 1, 50 };
        g_autoptr(GHashTable) map = workshop_collection_map_new();
        g_autoptr(WorkshopExpansion) x = NULL;

        take_json(map,
                  "{\"publishedfileid\":\"1\",\"result\":1,\"children\":["
                  C(1) "," C(2) ",{\"publishedfileid\":\"3\",\"filetype\":5}," I(9) "," I(9) "," C(51) "]},"
                  "{\"publishedfileid\":\"2\",\"result\":9},"
                  "{\"publishedfileid\":\"50\",\"result\":9},"
                  "{\"publishedfileid\":\"51\",\"result\":1,\"children\":[" I(8) "]}");
        g_assert_cmpint(workshop_expand(refs, G_N_ELEMENTS(refs), map, &x), ==, 0);
        g_assert_cmpuint(x->missing->len, ==, 0);
        assert_ids(x->items, (const uint64_t[]) { 9, 8, 50 }, 3);
        g_assert_cmpuint(count_notes(x, WORKSHOP_NOTE_CYCLE), ==, 1);
        g_assert_cmpuint(count_notes(x, WORKSHOP_NOTE_UNAVAILABLE), ==, 1);
        g_assert_cmpuint(count_notes(x, WORKSHOP_NOTE_SKIPPED), ==, 1);
        g_assert_cmpuint(x->notes->len, ==, 3);

        /* a later answer for an id replaces the earlier one */
        g_clear_pointer(&x, workshop_expansion_free);
        take_json(map, "{\"publishedfileid\":\"1\",\"result\":1,\"children\":[" I(7) "]}");
        g_assert_cmpint(workshop_expand(refs, 1, map, &x), ==, 0);
        assert_ids(x->items, (const uint64_t[]) { 7 }, 1);
        g_assert_cmpuint(x->notes->len, ==, 0);
}

static void test_expand_deep_chain(void) {
        g_autoptr(GHashTable) map = workshop_collection_map_new();
        g_autoptr(WorkshopExpansion) x = NULL;
        g_autoptr(GString) entries = g_string_new(NULL);
        const uint64_t ref = 1000;
        const unsigned chain = WORKSHOP_COLLECTION_DEPTH_MAX + 4;

        /* 1000 → 1001 → … each with one item (id + 5000) */
        for (unsigned i = 0; i < chain; i++)
                g_string_append_printf(entries, "%s{\"publishedfileid\":\"%u\",\"result\":1,\"children\":["
                                       "{\"publishedfileid\":\"%u\",\"filetype\":0},"
                                       "{\"publishedfileid\":\"%u\",\"filetype\":2}]}",
                                       i ? "," : "", 1000 + i, 6000 + i, 1001 + i);
        take_json(map, entries->str);

        g_assert_cmpint(workshop_expand(&ref, 1, map, &x), ==, 0);
        g_assert_cmpuint(x->items->len, ==, WORKSHOP_COLLECTION_DEPTH_MAX);
        g_assert_cmpuint(count_notes(x, WORKSHOP_NOTE_TOO_DEEP), ==, 1);
        g_assert_cmpuint(x->missing->len, ==, 0);
}

static void test_expand_too_many(void) {
        g_autoptr(GHashTable) map = workshop_collection_map_new();
        g_autoptr(WorkshopExpansion) x = NULL;
        g_autoptr(GString) entries = g_string_new(NULL);
        uint64_t refs[5];
        unsigned next = 100000;

        for (unsigned c = 0; c < G_N_ELEMENTS(refs); c++) {
                refs[c] = 10 + c;
                g_string_append_printf(entries, "%s{\"publishedfileid\":\"%u\",\"result\":1,\"children\":[",
                                       c ? "," : "", 10 + c);
                for (unsigned i = 0; i < STEAM_COLLECTION_CHILDREN_MAX; i++)
                        g_string_append_printf(entries, "%s{\"publishedfileid\":\"%u\"}", i ? "," : "", next++);
                g_string_append(entries, "]}");
        }
        take_json(map, entries->str);

        g_assert_cmpint(workshop_expand(refs, 4, map, &x), ==, 0);
        g_assert_cmpuint(x->items->len, ==, 4 * STEAM_COLLECTION_CHILDREN_MAX);
        g_clear_pointer(&x, workshop_expansion_free);
        g_assert_cmpint(workshop_expand(refs, 5, map, &x), ==, -E2BIG);
        g_assert_null(x);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/steam-api/ref/ids", test_ref_ids);
        g_test_add_func("/steam-api/ref/urls", test_ref_urls);
        g_test_add_func("/steam-api/request/urls", test_urls);
        g_test_add_func("/steam-api/request/bodies", test_bodies);
        g_test_add_func("/steam-api/details/classify", test_details_classify);
        g_test_add_func("/steam-api/details/display-strings", test_details_display_strings);
        g_test_add_func("/steam-api/details/malformed", test_details_malformed);
        g_test_add_func("/steam-api/details/limits", test_details_limits);
        g_test_add_func("/steam-api/collections/parse", test_collections_parse);
        g_test_add_func("/steam-api/collections/malformed", test_collections_malformed);
        g_test_add_func("/steam-api/expand/nested-with-cycle", test_expand_nested_with_cycle);
        g_test_add_func("/steam-api/expand/odd-children", test_expand_odd_children);
        g_test_add_func("/steam-api/expand/deep-chain", test_expand_deep_chain);
        g_test_add_func("/steam-api/expand/too-many", test_expand_too_many);
        return g_test_run();
}
