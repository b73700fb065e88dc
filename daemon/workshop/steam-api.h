/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/workshop/: Workshop overlays: the Steam Web API, the shared download cache, builds linking into it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

/* The Steam Web API side of Workshop overlays, as pure functions: parsing
 * what users type, building request bodies, parsing and judging what Steam
 * answers, expanding collections. No I/O happens here.
 *
 * Nothing Steam says is used as a path: a file is cached as
 * workshop_cache/<id>/<time_updated>.vpk and linked as
 * left4dead2/addons/<id>.vpk, both built from numbers; the `filename` Steam
 * reports is kept for display only. */

#define STEAM_APP_L4D2 550u

#define STEAM_API_DEFAULT_URL "https://api.steampowered.com/"
#define STEAM_API_PATH_DETAILS "ISteamRemoteStorage/GetPublishedFileDetails/v1/"
#define STEAM_API_PATH_COLLECTIONS "ISteamRemoteStorage/GetCollectionDetails/v1/"

/* Ids per request, and so also entries per answer. */
#define STEAM_API_BATCH_MAX 100u
/* The caller collects an answer into memory and must stop (and fail) at
 * this size; the parsers assert it. */
#define STEAM_API_RESPONSE_MAX (32u * 1024u * 1024u)
/* Children of one collection. */
#define STEAM_COLLECTION_CHILDREN_MAX 5000u
/* JSON nesting (the answers need 5 levels). */
#define STEAM_JSON_DEPTH_MAX 32u
/* A file_url longer than this makes the item bad. */
#define STEAM_URL_MAX 2048u
/* Display strings (title, filename) are cut to this many bytes. */
#define STEAM_TEXT_MAX 256u
/* A declared file_size above this makes the item bad. */
#define WORKSHOP_FILE_SIZE_MAX (UINT64_C(16) << 30)
/* Items after expansion, and collections followed below one another. */
#define WORKSHOP_ITEMS_MAX 20000u
#define WORKSHOP_COLLECTION_DEPTH_MAX 16u

/* Steam EResult values that matter here. */
#define STEAM_RESULT_OK 1
#define STEAM_RESULT_FILE_NOT_FOUND 9
#define STEAM_RESULT_ACCESS_DENIED 15

/* Collection children's filetype. */
#define STEAM_FILETYPE_ITEM 0
#define STEAM_FILETYPE_COLLECTION 2

/* Accepts a published-file id (decimal, 1..2^63-1, so that it fits an SQLite
 * INTEGER; no sign, leading zeros or spaces) or a Steam community URL
 * http(s)://[www.]steamcommunity.com/{sharedfiles,workshop}/filedetails[/]?...id=N...
 * with other query parameters in any order. Anything else is -EINVAL. */
int workshop_ref_parse(const char *s, uint64_t *ret_id);

/* Joins the configured API base URL (with or without a trailing '/') and
 * one of the STEAM_API_PATH_* constants. */
char *steam_api_url(const char *base, const char *path);

/* application/x-www-form-urlencoded bodies for 1..STEAM_API_BATCH_MAX ids:
 * "itemcount=N&publishedfileids%5B0%5D=ID&…" and "collectioncount=N&…". */
char *steam_api_details_body(const uint64_t *ids, size_t n_ids);
char *steam_api_collections_body(const uint64_t *ids, size_t n_ids);

typedef enum WorkshopItemStatus {
        WORKSHOP_ITEM_OK,
        WORKSHOP_ITEM_PRIVATE,          /* not public, or no download URL */
        WORKSHOP_ITEM_REMOVED,          /* result 9, or banned */
        WORKSHOP_ITEM_WRONG_GAME,       /* consumer_app_id != 550 */
        WORKSHOP_ITEM_BAD,              /* failed otherwise, or unusable details */
        _WORKSHOP_ITEM_STATUS_MAX,
} WorkshopItemStatus;

const char *workshop_item_status_to_string(WorkshopItemStatus s);

typedef struct WorkshopItem {
        uint64_t id;
        int result;                     /* Steam EResult of the entry */
        char *file_url;                 /* NULL if absent or empty */
        char *filename;                 /* display only, sanitised; NULL if absent */
        char *title;                    /* display only, sanitised; NULL if absent */
        uint64_t file_size;
        uint64_t time_updated;
        uint32_t consumer_app_id;
        int visibility;                 /* -1 if absent */
        bool banned;
        bool has_file_size;
        bool has_time_updated;
        bool has_consumer_app_id;
        WorkshopItemStatus status;
        char *reason;                   /* human explanation; NULL when OK */
} WorkshopItem;

/* Parses a GetPublishedFileDetails answer into a GArray of WorkshopItem
 * (the array frees the items' strings) and classifies every entry. The
 * answer must be at most STEAM_API_BATCH_MAX entries with distinct ids.
 * Malformed JSON, wrong types, out-of-range numbers, nesting deeper than
 * STEAM_JSON_DEPTH_MAX: -EBADMSG. Well-formed but a failure at the top
 * ("response.result" not 1): -EREMOTEIO. Either way *ret_error (if given)
 * receives a message. */
int steam_details_parse(const char *data, size_t size, GArray **ret_items, char **ret_error);

/* Frees the strings of one entry (the clear function of parsed arrays). */
void workshop_item_clear(void *item);

/* The entry for id, or NULL (Steam did not answer for it). */
const WorkshopItem *workshop_items_find(const GArray *items, uint64_t id);

typedef struct WorkshopChild {
        uint64_t id;
        int filetype;
        int sortorder;
} WorkshopChild;

typedef struct WorkshopCollection {
        uint64_t id;
        int result;
        /* Steam listed children: result OK and a "children" array. An entry
         * without them (an item, or a collection gone) is not a collection. */
        bool is_collection;
        GArray *children;               /* WorkshopChild, by sortorder; NULL unless is_collection */
} WorkshopCollection;

void workshop_collection_free(WorkshopCollection *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WorkshopCollection, workshop_collection_free)

/* Parses a GetCollectionDetails answer into a GPtrArray of
 * WorkshopCollection*. Same limits and errors as steam_details_parse(), plus
 * at most STEAM_COLLECTION_CHILDREN_MAX children per collection. */
int steam_collections_parse(const char *data, size_t size, GPtrArray **ret, char **ret_error);

/* A map id → WorkshopCollection* (owned) of every GetCollectionDetails
 * answer so far; _take() moves the entries of a parsed answer into it
 * (a later answer for an id replaces the earlier one). */
GHashTable *workshop_collection_map_new(void);
void workshop_collection_map_take(GHashTable *map, GPtrArray *parsed);

typedef enum WorkshopNoteKind {
        WORKSHOP_NOTE_CYCLE,            /* parent lists child, an ancestor of parent: edge cut */
        WORKSHOP_NOTE_TOO_DEEP,         /* child below WORKSHOP_COLLECTION_DEPTH_MAX: not followed */
        WORKSHOP_NOTE_UNAVAILABLE,      /* child is a collection Steam gave no children for */
        WORKSHOP_NOTE_SKIPPED,          /* child's filetype is neither item nor collection */
        _WORKSHOP_NOTE_KIND_MAX,
} WorkshopNoteKind;

typedef struct WorkshopNote {
        WorkshopNoteKind kind;
        uint64_t parent;
        uint64_t child;
        int filetype;
} WorkshopNote;

char *workshop_note_to_string(const WorkshopNote *n);

typedef struct WorkshopExpansion {
        GArray *items;                  /* uint64_t, first-seen order, no duplicates */
        GArray *missing;                /* uint64_t: ids to ask GetCollectionDetails about */
        GArray *notes;                  /* WorkshopNote */
} WorkshopExpansion;

void workshop_expansion_free(WorkshopExpansion *x);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WorkshopExpansion, workshop_expansion_free)

/* Expands the user's refs (items and collections, in their order) with
 * what map knows: a ref that is a collection is replaced by its children in
 * sortorder, depth first, sub-collections likewise; each item appears once,
 * where it is first met. A ref, or a child of filetype 2, that map does not
 * know yet goes to `missing`: ask Steam about those, _take() the answer and
 * expand again until `missing` is empty (the result is complete only then).
 * Cycles, too-deep nesting, vanished sub-collections and other filetypes are
 * cut and reported in `notes`. More than WORKSHOP_ITEMS_MAX items: -E2BIG. */
int workshop_expand(const uint64_t *refs, size_t n_refs, GHashTable *map, WorkshopExpansion **ret);
