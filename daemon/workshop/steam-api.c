/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/workshop/: Workshop overlays: the Steam Web API, the shared download cache, builds linking into it. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "steam-api.h"

#define REF_MAX 2048u

/* ---- ids and references ------------------------------------------------ */

/* A canonical decimal id of len bytes: 1..INT64_MAX, digits only, no
 * leading zero. */
static int parse_id_n(const char *s, size_t len, uint64_t *ret) {
        uint64_t v = 0;

        if (len == 0 || s[0] < '1' || s[0] > '9')
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                if (v > ((uint64_t) INT64_MAX - (uint64_t) (s[i] - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t) (s[i] - '0');
        }
        *ret = v;
        return 0;
}

static const char *skip_prefix_ci(const char *s, const char *prefix) {
        size_t n = strlen(prefix);
        return g_ascii_strncasecmp(s, prefix, n) == 0 ? s + n : NULL;
}

/* Query characters we accept: printable ASCII without space and '#'. */
static bool query_char_ok(char c) {
        return c > 0x20 && c < 0x7f && c != '#';
}

static int parse_community_url(const char *s, uint64_t *ret_id) {
        static const char *const paths[] = {
                "/sharedfiles/filedetails/?", "/sharedfiles/filedetails?",
                "/workshop/filedetails/?", "/workshop/filedetails?",
        };
        const char *p, *q = NULL;
        uint64_t id = 0;
        bool have_id = false;

        p = skip_prefix_ci(s, "https://");
        if (!p)
                p = skip_prefix_ci(s, "http://");
        if (!p)
                return -EINVAL;
        if (skip_prefix_ci(p, "www."))
                p += 4;
        p = skip_prefix_ci(p, "steamcommunity.com");
        if (!p)
                return -EINVAL;
        for (size_t i = 0; i < G_N_ELEMENTS(paths) && !q; i++)
                q = g_str_has_prefix(p, paths[i]) ? p + strlen(paths[i]) : NULL;
        if (!q)
                return -EINVAL;

        /* name=value pairs separated by '&'; exactly one of them is id=N. */
        while (*q) {
                const char *end = strchr(q, '&');
                size_t len = end ? (size_t) (end - q) : strlen(q);

                for (size_t i = 0; i < len; i++)
                        if (!query_char_ok(q[i]))
                                return -EINVAL;
                if (len >= 3 && strncmp(q, "id=", 3) == 0) {
                        if (have_id || parse_id_n(q + 3, len - 3, &id) < 0)
                                return -EINVAL;
                        have_id = true;
                } else if (len == 0 || q[0] == '=')
                        return -EINVAL;
                if (!end)
                        break;
                q = end + 1;
                if (!*q)
                        return -EINVAL;         /* trailing '&' */
        }
        if (!have_id)
                return -EINVAL;
        *ret_id = id;
        return 0;
}

int workshop_ref_parse(const char *s, uint64_t *ret_id) {
        uint64_t id;
        size_t len;

        assert(ret_id);

        if (!s)
                return -EINVAL;
        len = strnlen(s, REF_MAX + 1);
        if (len == 0 || len > REF_MAX)
                return -EINVAL;
        if (s[0] >= '0' && s[0] <= '9') {
                if (parse_id_n(s, len, &id) < 0)
                        return -EINVAL;
        } else if (parse_community_url(s, &id) < 0)
                return -EINVAL;
        *ret_id = id;
        return 0;
}

/* ---- requests ---------------------------------------------------------- */

char *steam_api_url(const char *base, const char *path) {
        assert(base && *base);
        assert(path && *path != '/');

        return g_str_has_suffix(base, "/") ? g_strconcat(base, path, NULL)
                                           : g_strconcat(base, "/", path, NULL);
}

static char *build_body(const char *count_key, const uint64_t *ids, size_t n_ids) {
        GString *s = g_string_new(NULL);

        assert(ids);
        assert(n_ids > 0 && n_ids <= STEAM_API_BATCH_MAX);

        g_string_append_printf(s, "%s=%zu", count_key, n_ids);
        for (size_t i = 0; i < n_ids; i++) {
                assert(ids[i] > 0 && ids[i] <= (uint64_t) INT64_MAX);
                g_string_append_printf(s, "&publishedfileids%%5B%zu%%5D=%" PRIu64, i, ids[i]);
        }
        return g_string_free(s, FALSE);
}

char *steam_api_details_body(const uint64_t *ids, size_t n_ids) {
        return build_body("itemcount", ids, n_ids);
}

char *steam_api_collections_body(const uint64_t *ids, size_t n_ids) {
        return build_body("collectioncount", ids, n_ids);
}

/* ---- JSON plumbing ----------------------------------------------------- */

static int fail_with(char **ret_error, int r, const char *format, ...) G_GNUC_PRINTF(3, 4);
static int fail_with(char **ret_error, int r, const char *format, ...) {
        va_list ap;

        if (ret_error) {
                g_autofree char *message = NULL;

                va_start(ap, format);
                message = g_strdup_vprintf(format, ap);
                va_end(ap);
                /* json-glib quotes the offending input in its messages, and
                 * these end up in job logs and D-Bus strings: keep them UTF-8. */
                g_free(*ret_error);
                *ret_error = g_utf8_make_valid(message, -1);
        }
        return r;
}
#define bad(ret_error, ...) fail_with((ret_error), -EBADMSG, __VA_ARGS__)

/* json-glib recurses once per nesting level, and maps integers outside
 * int64 to arbitrary values and "\u0000" to the end of a string. So before
 * handing it the text, refuse: NUL bytes, "\u0000", nesting deeper than
 * STEAM_JSON_DEPTH_MAX and integer literals outside ±INT64_MAX. Everything
 * else about the syntax is json-glib's to judge. */
static int json_prescan(const char *data, size_t size, char **ret_error) {
        unsigned depth = 0;

        for (size_t i = 0; i < size; i++) {
                char c = data[i];

                if (c == '\0')
                        return bad(ret_error, "NUL byte at offset %zu.", i);
                if (c == '"') {
                        for (i++; i < size && data[i] != '"'; i++) {
                                if (data[i] == '\0')
                                        return bad(ret_error, "NUL byte at offset %zu.", i);
                                if (data[i] != '\\')
                                        continue;
                                if (size - i >= 6 && memcmp(data + i + 1, "u0000", 5) == 0)
                                        return bad(ret_error, "Escaped NUL in a string at offset %zu.", i);
                                i++;    /* the escaped character cannot end the string */
                        }
                        continue;
                }
                if (c == '[' || c == '{') {
                        if (++depth > STEAM_JSON_DEPTH_MAX)
                                return bad(ret_error, "JSON nested deeper than %u levels.", STEAM_JSON_DEPTH_MAX);
                } else if (c == ']' || c == '}') {
                        if (depth > 0)
                                depth--;
                } else if (c == '-' || (c >= '0' && c <= '9')) {
                        size_t start = i;
                        bool integral = true, negative = c == '-';
                        uint64_t v = 0;

                        for (; i < size && data[i] != '\0' && strchr("-+0123456789.eE", data[i]); i++)
                                if (strchr(".eE", data[i]))
                                        integral = false;
                        if (integral)
                                for (size_t k = start + negative; k < i; k++) {
                                        unsigned d = (unsigned) (data[k] - '0');
                                        if (d > 9)
                                                break;  /* "1-2": json-glib rejects it */
                                        if (v > ((uint64_t) INT64_MAX - d) / 10)
                                                return bad(ret_error, "Number out of range at offset %zu.", start);
                                        v = v * 10 + d;
                                }
                        i--;
                }
        }
        return 0;
}

static int json_load(const char *data, size_t size, JsonParser **ret_parser, JsonObject **ret_response,
                     char **ret_error) {
        g_autoptr(JsonParser) parser = NULL;
        g_autoptr(GError) error = NULL;
        JsonNode *root, *resp;
        int r;

        /* The caller stops collecting an answer at this size. */
        assert(size <= STEAM_API_RESPONSE_MAX);
        assert(data || size == 0);

        r = json_prescan(data, size, ret_error);
        if (r < 0)
                return r;

        parser = json_parser_new_immutable();
        if (!json_parser_load_from_data(parser, size > 0 ? data : "", (gssize) size, &error))
                return bad(ret_error, "Malformed JSON: %s", error->message);

        root = json_parser_get_root(parser);
        if (!root || !JSON_NODE_HOLDS_OBJECT(root))
                return bad(ret_error, "Answer is not a JSON object.");
        resp = json_object_get_member(json_node_get_object(root), "response");
        if (!resp || !JSON_NODE_HOLDS_OBJECT(resp))
                return bad(ret_error, "Answer has no \"response\" object.");

        *ret_response = json_node_get_object(resp);
        *ret_parser = g_steal_pointer(&parser);
        return 0;
}

/* Member lookup; JSON null counts as absent. */
static JsonNode *member(JsonObject *o, const char *name) {
        JsonNode *n = json_object_get_member(o, name);
        return n && !JSON_NODE_HOLDS_NULL(n) ? n : NULL;
}

static bool node_is_int(JsonNode *n) {
        return JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64;
}

/* An integer member in [min, max]. Returns 1 if present, 0 if absent. */
static int get_int(JsonObject *o, const char *what, const char *name, int64_t min, int64_t max,
                   int64_t *ret, char **ret_error) {
        JsonNode *n = member(o, name);
        int64_t v;

        if (!n)
                return 0;
        if (!node_is_int(n))
                return bad(ret_error, "%s: \"%s\" is not an integer.", what, name);
        v = json_node_get_int(n);
        if (v < min || v > max)
                return bad(ret_error, "%s: \"%s\" out of range (%" PRId64 ").", what, name, v);
        *ret = v;
        return 1;
}

/* A non-negative integer given as a number or a decimal string. */
static int get_uint_flexible(JsonObject *o, const char *what, const char *name, uint64_t *ret,
                             char **ret_error) {
        JsonNode *n = member(o, name);

        if (!n)
                return 0;
        if (node_is_int(n)) {
                int64_t v = json_node_get_int(n);
                if (v < 0)
                        return bad(ret_error, "%s: \"%s\" is negative.", what, name);
                *ret = (uint64_t) v;
                return 1;
        }
        if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING) {
                const char *s = json_node_get_string(n);
                size_t len = strlen(s);

                if (strcmp(s, "0") == 0) {
                        *ret = 0;
                        return 1;
                }
                if (len > 19 || parse_id_n(s, len, ret) < 0)
                        return bad(ret_error, "%s: \"%s\" is not a decimal number.", what, name);
                return 1;
        }
        return bad(ret_error, "%s: \"%s\" is neither a number nor a decimal string.", what, name);
}

static int get_string(JsonObject *o, const char *what, const char *name, const char **ret,
                      char **ret_error) {
        JsonNode *n = member(o, name);

        *ret = NULL;
        if (!n)
                return 0;
        if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
                return bad(ret_error, "%s: \"%s\" is not a string.", what, name);
        *ret = json_node_get_string(n);
        return 1;
}

/* "publishedfileid": a decimal string as Steam sends it (or an integer). */
static int get_id(JsonObject *o, const char *what, uint64_t *ret, char **ret_error) {
        JsonNode *n = member(o, "publishedfileid");

        if (!n)
                return bad(ret_error, "%s: no \"publishedfileid\".", what);
        if (node_is_int(n)) {
                int64_t v = json_node_get_int(n);
                if (v <= 0)
                        return bad(ret_error, "%s: \"publishedfileid\" out of range.", what);
                *ret = (uint64_t) v;
                return 0;
        }
        if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING) {
                const char *s = json_node_get_string(n);
                if (parse_id_n(s, strlen(s), ret) < 0)
                        return bad(ret_error, "%s: \"publishedfileid\" is not a valid id.", what);
                return 0;
        }
        return bad(ret_error, "%s: \"publishedfileid\" is neither a string nor a number.", what);
}

static JsonArray *get_array(JsonObject *o, const char *what, const char *name, guint max, char **ret_error,
                            int *r) {
        JsonNode *n = member(o, name);
        JsonArray *a;

        *r = 0;
        if (!n)
                return NULL;
        if (!JSON_NODE_HOLDS_ARRAY(n)) {
                *r = bad(ret_error, "%s: \"%s\" is not an array.", what, name);
                return NULL;
        }
        a = json_node_get_array(n);
        if (json_array_get_length(a) > max) {
                *r = bad(ret_error, "%s: \"%s\" has %u entries, more than %u.", what, name,
                         json_array_get_length(a), max);
                return NULL;
        }
        return a;
}

/* The top of an answer: "result" (1 or absent) and the list. */
static int get_top_list(JsonObject *resp, const char *list_name, JsonArray **ret, char **ret_error) {
        JsonArray *a;
        int64_t v;
        int r;

        r = get_int(resp, "Answer", "result", INT32_MIN, INT32_MAX, &v, ret_error);
        if (r < 0)
                return r;
        if (r > 0 && v != STEAM_RESULT_OK)
                return fail_with(ret_error, -EREMOTEIO, "Steam answered with result %" PRId64 ".", v);
        r = get_int(resp, "Answer", "resultcount", 0, INT32_MAX, &v, ret_error);
        if (r < 0)
                return r;
        a = get_array(resp, "Answer", list_name, STEAM_API_BATCH_MAX, ret_error, &r);
        if (r < 0)
                return r;
        if (!a)
                return bad(ret_error, "Answer has no \"%s\" list.", list_name);
        *ret = a;
        return 0;
}

static JsonObject *entry_object(JsonArray *a, guint i) {
        JsonNode *n = json_array_get_element(a, i);
        return JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

/* ---- item details ------------------------------------------------------ */

static const char *const item_status_names[_WORKSHOP_ITEM_STATUS_MAX] = {
        [WORKSHOP_ITEM_OK] = "ok",
        [WORKSHOP_ITEM_PRIVATE] = "private",
        [WORKSHOP_ITEM_REMOVED] = "removed",
        [WORKSHOP_ITEM_WRONG_GAME] = "wrong-game",
        [WORKSHOP_ITEM_BAD] = "bad",
};

const char *workshop_item_status_to_string(WorkshopItemStatus s) {
        return s >= 0 && s < _WORKSHOP_ITEM_STATUS_MAX ? item_status_names[s] : NULL;
}

void workshop_item_clear(void *p) {
        WorkshopItem *it = p;

        g_free(it->file_url);
        g_free(it->filename);
        g_free(it->title);
        g_free(it->reason);
}

/* Code points that would let a title rewrite a log line or a terminal:
 * controls, line/paragraph separators, bidirectional overrides. */
static bool unichar_unsafe(gunichar c) {
        return g_unichar_iscntrl(c) || c == 0x2028 || c == 0x2029 ||
               (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
               c == 0xfeff;
}

/* A display copy: valid UTF-8, unsafe code points replaced, at most
 * STEAM_TEXT_MAX bytes (cut at a character, marked with "…"). */
static char *sanitize_text(const char *s) {
        static const char ellipsis[] = "\xe2\x80\xa6";
        g_autofree char *valid = NULL;
        GString *out;

        if (!s)
                return NULL;
        valid = g_utf8_make_valid(s, -1);
        out = g_string_sized_new(MIN(strlen(valid), STEAM_TEXT_MAX) + 8);
        for (const char *p = valid; *p && out->len <= STEAM_TEXT_MAX; p = g_utf8_next_char(p)) {
                if (unichar_unsafe(g_utf8_get_char(p)))
                        g_string_append_c(out, '?');
                else
                        g_string_append_len(out, p, g_utf8_next_char(p) - p);
        }
        if (out->len > STEAM_TEXT_MAX) {
                size_t cut = STEAM_TEXT_MAX - strlen(ellipsis);
                while (cut > 0 && ((unsigned char) out->str[cut] & 0xc0) == 0x80)
                        cut--;
                g_string_truncate(out, cut);
                g_string_append(out, ellipsis);
        }
        return g_string_free(out, FALSE);
}

static bool url_acceptable(const char *u) {
        size_t len = strlen(u);

        if (len > STEAM_URL_MAX)
                return false;
        if (!skip_prefix_ci(u, "https://") && !skip_prefix_ci(u, "http://"))
                return false;
        for (size_t i = 0; i < len; i++)
                if (u[i] <= 0x20 || u[i] >= 0x7f)
                        return false;
        return true;
}

static void classify(WorkshopItem *it, const char *raw_url) {
        WorkshopItemStatus st = WORKSHOP_ITEM_OK;
        char *why = NULL;

        if (it->result == STEAM_RESULT_FILE_NOT_FOUND) {
                st = WORKSHOP_ITEM_REMOVED;
                why = g_strdup("Steam has no such item (removed, or never existed).");
        } else if (it->banned) {
                st = WORKSHOP_ITEM_REMOVED;
                why = g_strdup("Banned by Steam.");
        } else if (it->result == STEAM_RESULT_ACCESS_DENIED) {
                st = WORKSHOP_ITEM_PRIVATE;
                why = g_strdup("Steam denies access (private or friends-only).");
        } else if (it->result != STEAM_RESULT_OK) {
                st = WORKSHOP_ITEM_BAD;
                why = g_strdup_printf("Steam answered with result %d.", it->result);
        } else if (!it->has_consumer_app_id) {
                st = WORKSHOP_ITEM_BAD;
                why = g_strdup("Steam did not say which game the item is for.");
        } else if (it->consumer_app_id != STEAM_APP_L4D2) {
                st = WORKSHOP_ITEM_WRONG_GAME;
                why = g_strdup_printf("Item is for app %" PRIu32 ", not Left 4 Dead 2 (%u).",
                                      it->consumer_app_id, STEAM_APP_L4D2);
        } else if (it->visibility == 1 || it->visibility == 2 || it->visibility > 3) {
                /* 0 public, 3 unlisted (anyone with the link): both downloadable. */
                st = WORKSHOP_ITEM_PRIVATE;
                why = g_strdup(it->visibility == 1 ? "Item is friends-only." :
                               it->visibility == 2 ? "Item is private." : "Item is not public.");
        } else if (!raw_url || !*raw_url) {
                st = WORKSHOP_ITEM_PRIVATE;
                why = g_strdup("Steam gives no download URL for the item (private, or not downloadable anonymously).");
        } else if (!it->file_url) {
                st = WORKSHOP_ITEM_BAD;
                why = g_strdup("Steam's download URL for the item is unusable.");
        } else if (!it->has_file_size) {
                st = WORKSHOP_ITEM_BAD;
                why = g_strdup("Steam did not give the file size.");
        } else if (it->file_size == 0) {
                st = WORKSHOP_ITEM_BAD;
                why = g_strdup("Steam says the file is empty.");
        } else if (it->file_size > WORKSHOP_FILE_SIZE_MAX) {
                st = WORKSHOP_ITEM_BAD;
                why = g_strdup_printf("File of %" PRIu64 " bytes exceeds the limit of %" PRIu64 " bytes.",
                                      it->file_size, (uint64_t) WORKSHOP_FILE_SIZE_MAX);
        } else if (!it->has_time_updated) {
                st = WORKSHOP_ITEM_BAD;
                why = g_strdup("Steam did not give the item's update time.");
        }

        it->status = st;
        it->reason = why;
}

static int parse_item(JsonObject *o, WorkshopItem *it, char **ret_error) {
        g_autofree char *what = NULL;
        const char *url = NULL, *s = NULL;
        JsonNode *n;
        int64_t v;
        int r;

        r = get_id(o, "Item entry", &it->id, ret_error);
        if (r < 0)
                return r;
        what = g_strdup_printf("Item %" PRIu64, it->id);

        r = get_int(o, what, "result", 0, 1000, &v, ret_error);
        if (r < 0)
                return r;
        if (r == 0)
                return bad(ret_error, "%s: no \"result\".", what);
        it->result = (int) v;

        r = get_string(o, what, "file_url", &url, ret_error);
        if (r < 0)
                return r;
        if (url && *url && url_acceptable(url))
                it->file_url = g_strdup(url);

        r = get_string(o, what, "filename", &s, ret_error);
        if (r < 0)
                return r;
        it->filename = sanitize_text(s);
        r = get_string(o, what, "title", &s, ret_error);
        if (r < 0)
                return r;
        it->title = sanitize_text(s);

        r = get_uint_flexible(o, what, "file_size", &it->file_size, ret_error);
        if (r < 0)
                return r;
        it->has_file_size = r > 0;

        r = get_int(o, what, "time_updated", 0, INT64_MAX, &v, ret_error);
        if (r < 0)
                return r;
        it->has_time_updated = r > 0;
        it->time_updated = r > 0 ? (uint64_t) v : 0;

        r = get_int(o, what, "consumer_app_id", 0, UINT32_MAX, &v, ret_error);
        if (r < 0)
                return r;
        it->has_consumer_app_id = r > 0;
        it->consumer_app_id = r > 0 ? (uint32_t) v : 0;

        it->visibility = -1;
        r = get_int(o, what, "visibility", 0, 255, &v, ret_error);
        if (r < 0)
                return r;
        if (r > 0)
                it->visibility = (int) v;

        n = member(o, "banned");
        if (n) {
                if (node_is_int(n))
                        it->banned = json_node_get_int(n) != 0;
                else if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_BOOLEAN)
                        it->banned = json_node_get_boolean(n);
                else
                        return bad(ret_error, "%s: \"banned\" is neither a boolean nor an integer.", what);
        }

        classify(it, url);
        return 0;
}

const WorkshopItem *workshop_items_find(const GArray *items, uint64_t id) {
        assert(items);

        for (guint i = 0; i < items->len; i++)
                if (g_array_index(items, WorkshopItem, i).id == id)
                        return &g_array_index(items, WorkshopItem, i);
        return NULL;
}

int steam_details_parse(const char *data, size_t size, GArray **ret_items, char **ret_error) {
        g_autoptr(JsonParser) parser = NULL;
        g_autoptr(GArray) items = NULL;
        JsonObject *resp;
        JsonArray *list;
        int r;

        assert(ret_items);

        r = json_load(data, size, &parser, &resp, ret_error);
        if (r < 0)
                return r;
        r = get_top_list(resp, "publishedfiledetails", &list, ret_error);
        if (r < 0)
                return r;

        items = g_array_sized_new(FALSE, TRUE, sizeof(WorkshopItem), json_array_get_length(list));
        g_array_set_clear_func(items, workshop_item_clear);
        for (guint i = 0; i < json_array_get_length(list); i++) {
                JsonObject *o = entry_object(list, i);
                WorkshopItem it = { 0 };

                if (!o)
                        return bad(ret_error, "Entry %u of \"publishedfiledetails\" is not an object.", i);
                r = parse_item(o, &it, ret_error);
                if (r >= 0 && workshop_items_find(items, it.id))
                        r = bad(ret_error, "Item %" PRIu64 " appears twice in the answer.", it.id);
                if (r < 0) {
                        workshop_item_clear(&it);
                        return r;
                }
                g_array_append_val(items, it);
        }

        *ret_items = g_steal_pointer(&items);
        return 0;
}

/* ---- collections ------------------------------------------------------- */

void workshop_collection_free(WorkshopCollection *c) {
        if (!c)
                return;
        if (c->children)
                g_array_unref(c->children);
        g_free(c);
}

typedef struct OrderedChild {
        WorkshopChild child;
        guint position;
} OrderedChild;

static int ordered_child_cmp(const void *a, const void *b) {
        const OrderedChild *x = a, *y = b;

        if (x->child.sortorder != y->child.sortorder)
                return x->child.sortorder < y->child.sortorder ? -1 : 1;
        return x->position < y->position ? -1 : x->position > y->position;
}

static int parse_children(JsonArray *a, const char *what, GArray **ret, char **ret_error) {
        guint n = json_array_get_length(a);
        g_autofree OrderedChild *tmp = g_new0(OrderedChild, MAX(n, 1u));
        GArray *children;
        int64_t v;
        int r;

        for (guint i = 0; i < n; i++) {
                JsonObject *o = entry_object(a, i);
                OrderedChild *t = &tmp[i];

                if (!o)
                        return bad(ret_error, "%s: child %u is not an object.", what, i);
                r = get_id(o, what, &t->child.id, ret_error);
                if (r < 0)
                        return r;
                r = get_int(o, what, "filetype", 0, 1000, &v, ret_error);
                if (r < 0)
                        return r;
                t->child.filetype = r > 0 ? (int) v : STEAM_FILETYPE_ITEM;
                r = get_int(o, what, "sortorder", INT32_MIN, INT32_MAX, &v, ret_error);
                if (r < 0)
                        return r;
                t->child.sortorder = r > 0 ? (int) v : (int) MIN(i, (guint) INT32_MAX);
                t->position = i;
        }
        qsort(tmp, n, sizeof(OrderedChild), ordered_child_cmp);

        children = g_array_sized_new(FALSE, FALSE, sizeof(WorkshopChild), n);
        for (guint i = 0; i < n; i++)
                g_array_append_val(children, tmp[i].child);
        *ret = children;
        return 0;
}

static bool collections_contain(GPtrArray *list, uint64_t id) {
        for (guint i = 0; i < list->len; i++)
                if (((WorkshopCollection *) g_ptr_array_index(list, i))->id == id)
                        return true;
        return false;
}

static int parse_collection(JsonObject *o, WorkshopCollection *c, char **ret_error) {
        g_autofree char *what = NULL;
        JsonArray *children;
        int64_t v;
        int r;

        r = get_id(o, "Collection entry", &c->id, ret_error);
        if (r < 0)
                return r;
        what = g_strdup_printf("Collection %" PRIu64, c->id);

        r = get_int(o, what, "result", 0, 1000, &v, ret_error);
        if (r < 0)
                return r;
        if (r == 0)
                return bad(ret_error, "%s: no \"result\".", what);
        c->result = (int) v;

        children = get_array(o, what, "children", STEAM_COLLECTION_CHILDREN_MAX, ret_error, &r);
        if (r < 0)
                return r;
        if (children && c->result == STEAM_RESULT_OK) {
                r = parse_children(children, what, &c->children, ret_error);
                if (r < 0)
                        return r;
                c->is_collection = true;
        }
        return 0;
}

int steam_collections_parse(const char *data, size_t size, GPtrArray **ret, char **ret_error) {
        g_autoptr(JsonParser) parser = NULL;
        g_autoptr(GPtrArray) list = NULL;
        JsonObject *resp;
        JsonArray *entries;
        int r;

        assert(ret);

        r = json_load(data, size, &parser, &resp, ret_error);
        if (r < 0)
                return r;
        r = get_top_list(resp, "collectiondetails", &entries, ret_error);
        if (r < 0)
                return r;

        list = g_ptr_array_new_with_free_func((GDestroyNotify) workshop_collection_free);
        for (guint i = 0; i < json_array_get_length(entries); i++) {
                g_autoptr(WorkshopCollection) c = g_new0(WorkshopCollection, 1);
                JsonObject *o = entry_object(entries, i);

                if (!o)
                        return bad(ret_error, "Entry %u of \"collectiondetails\" is not an object.", i);
                r = parse_collection(o, c, ret_error);
                if (r < 0)
                        return r;
                if (collections_contain(list, c->id))
                        return bad(ret_error, "Collection %" PRIu64 " appears twice in the answer.", c->id);
                g_ptr_array_add(list, g_steal_pointer(&c));
        }

        *ret = g_steal_pointer(&list);
        return 0;
}

GHashTable *workshop_collection_map_new(void) {
        /* Keys point at the value's id field. */
        return g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL,
                                     (GDestroyNotify) workshop_collection_free);
}

void workshop_collection_map_take(GHashTable *map, GPtrArray *parsed) {
        assert(map);
        assert(parsed);

        while (parsed->len > 0) {
                WorkshopCollection *c = g_ptr_array_steal_index_fast(parsed, parsed->len - 1);
                /* replace, not insert: the key must be the new value's own id */
                g_hash_table_replace(map, &c->id, c);
        }
}

/* ---- expansion --------------------------------------------------------- */

char *workshop_note_to_string(const WorkshopNote *n) {
        assert(n);

        switch (n->kind) {
        case WORKSHOP_NOTE_CYCLE:
                return g_strdup_printf("Collection %" PRIu64 " lists collection %" PRIu64
                                       ", which contains it: link cut (cycle).", n->parent, n->child);
        case WORKSHOP_NOTE_TOO_DEEP:
                return g_strdup_printf("Collection %" PRIu64 " lists collection %" PRIu64
                                       ", nested more than %u deep: not followed.",
                                       n->parent, n->child, WORKSHOP_COLLECTION_DEPTH_MAX);
        case WORKSHOP_NOTE_UNAVAILABLE:
                return g_strdup_printf("Collection %" PRIu64 " lists collection %" PRIu64
                                       ", which is unavailable (removed, private or not a collection): skipped.",
                                       n->parent, n->child);
        case WORKSHOP_NOTE_SKIPPED:
                return g_strdup_printf("Collection %" PRIu64 " lists %" PRIu64 " of filetype %d,"
                                       " neither an item nor a collection: skipped.",
                                       n->parent, n->child, n->filetype);
        default:
                g_assert_not_reached();
        }
}

void workshop_expansion_free(WorkshopExpansion *x) {
        if (!x)
                return;
        g_array_unref(x->items);
        g_array_unref(x->missing);
        g_array_unref(x->notes);
        g_free(x);
}

typedef struct Expander {
        GHashTable *map;
        WorkshopExpansion *x;
        GHashTable *items_seen;         /* uint64_t* (owned) */
        GHashTable *missing_seen;
        GHashTable *expanded;           /* collections entered (done or on the path) */
        GHashTable *on_path;            /* collections on the current path */
} Expander;

static GHashTable *id_set_new(void) {
        return g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
}

static bool id_set_add(GHashTable *set, uint64_t id) {
        return g_hash_table_add(set, g_memdup2(&id, sizeof(id)));
}

static int add_item(Expander *e, uint64_t id) {
        if (g_hash_table_contains(e->items_seen, &id))
                return 0;
        if (e->x->items->len >= WORKSHOP_ITEMS_MAX)
                return -E2BIG;
        id_set_add(e->items_seen, id);
        g_array_append_val(e->x->items, id);
        return 0;
}

static void add_missing(Expander *e, uint64_t id) {
        if (id_set_add(e->missing_seen, id))
                g_array_append_val(e->x->missing, id);
}

static void add_note(Expander *e, WorkshopNoteKind kind, uint64_t parent, const WorkshopChild *child) {
        WorkshopNote n = { .kind = kind, .parent = parent, .child = child->id, .filetype = child->filetype };
        g_array_append_val(e->x->notes, n);
}

typedef struct Frame {
        const WorkshopCollection *c;
        guint next;
} Frame;

/* Depth first with an explicit stack (bounded by
 * WORKSHOP_COLLECTION_DEPTH_MAX), so hostile nesting costs no C stack. */
static int expand_collection(Expander *e, const WorkshopCollection *root) {
        Frame stack[WORKSHOP_COLLECTION_DEPTH_MAX];
        size_t depth = 0;
        int r;

        stack[depth++] = (Frame) { root, 0 };
        id_set_add(e->expanded, root->id);
        id_set_add(e->on_path, root->id);

        while (depth > 0) {
                Frame *top = &stack[depth - 1];
                const WorkshopChild *child;
                const WorkshopCollection *sub;

                if (top->next >= top->c->children->len) {
                        g_hash_table_remove(e->on_path, &top->c->id);
                        depth--;
                        continue;
                }
                child = &g_array_index(top->c->children, WorkshopChild, top->next++);

                if (child->filetype == STEAM_FILETYPE_ITEM) {
                        r = add_item(e, child->id);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (child->filetype != STEAM_FILETYPE_COLLECTION) {
                        add_note(e, WORKSHOP_NOTE_SKIPPED, top->c->id, child);
                        continue;
                }
                if (g_hash_table_contains(e->on_path, &child->id)) {
                        add_note(e, WORKSHOP_NOTE_CYCLE, top->c->id, child);
                        continue;
                }
                if (g_hash_table_contains(e->expanded, &child->id))
                        continue;       /* met before on another path; its items are in */
                sub = g_hash_table_lookup(e->map, &child->id);
                if (!sub) {
                        add_missing(e, child->id);
                        continue;
                }
                if (!sub->is_collection) {
                        add_note(e, WORKSHOP_NOTE_UNAVAILABLE, top->c->id, child);
                        continue;
                }
                if (depth >= WORKSHOP_COLLECTION_DEPTH_MAX) {
                        add_note(e, WORKSHOP_NOTE_TOO_DEEP, top->c->id, child);
                        continue;
                }
                stack[depth++] = (Frame) { sub, 0 };
                id_set_add(e->expanded, sub->id);
                id_set_add(e->on_path, sub->id);
        }
        return 0;
}

int workshop_expand(const uint64_t *refs, size_t n_refs, GHashTable *map, WorkshopExpansion **ret) {
        g_autoptr(WorkshopExpansion) x = g_new0(WorkshopExpansion, 1);
        g_autoptr(GHashTable) items_seen = id_set_new(), missing_seen = id_set_new();
        g_autoptr(GHashTable) expanded = id_set_new(), on_path = id_set_new();
        Expander e = {
                .map = map, .x = x,
                .items_seen = items_seen, .missing_seen = missing_seen,
                .expanded = expanded, .on_path = on_path,
        };
        int r;

        assert(refs || n_refs == 0);
        assert(map);
        assert(ret);

        x->items = g_array_new(FALSE, FALSE, sizeof(uint64_t));
        x->missing = g_array_new(FALSE, FALSE, sizeof(uint64_t));
        x->notes = g_array_new(FALSE, FALSE, sizeof(WorkshopNote));

        for (size_t i = 0; i < n_refs; i++) {
                const WorkshopCollection *c = g_hash_table_lookup(map, &refs[i]);

                if (!c)
                        add_missing(&e, refs[i]);
                else if (!c->is_collection) {
                        r = add_item(&e, refs[i]);
                        if (r < 0)
                                return r;
                } else if (!g_hash_table_contains(expanded, &refs[i])) {
                        r = expand_collection(&e, c);
                        if (r < 0)
                                return r;
                }
        }

        *ret = g_steal_pointer(&x);
        return 0;
}
