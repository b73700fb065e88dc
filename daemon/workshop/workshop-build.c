/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/workshop/: Workshop overlays: the Steam Web API, the shared download cache, builds linking into it. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "curl-event.h"
#include "fs-util.h"
#include "l4m-bus-names.h"
#include "l4m-log.h"
#include "l4m-util.h"
#include "owner-quota.h"
#include "steam-api.h"
#include "workshop-build.h"
#include "workshop-links.h"

#define CACHE_DIR_MODE 0755
#define CACHE_FILE_MODE 0644
#define PROGRESS_TICK_USEC (200 * 1000)
/* Rounds of collection lookups: one per nesting level, and a few more. */
#define RESOLVE_ROUNDS_MAX (WORKSHOP_COLLECTION_DEPTH_MAX + 4)

typedef struct ApiRequest ApiRequest;
typedef struct Download Download;

struct WorkshopBuild {
        Job *job;
        Manager *manager;
        uint64_t overlay_id;
        GArray *refs;                   /* uint64_t, the overlay's items when the build began */

        CurlEvent *curl;
        GHashTable *collections;        /* id → WorkshopCollection* */
        GHashTable *asked;              /* ids asked GetCollectionDetails about */
        unsigned resolve_rounds;
        GArray *item_ids;               /* uint64_t: the expanded item list */
        GArray *details;                /* WorkshopItem, from every batch */
        GPtrArray *requests;            /* ApiRequest* in flight or waiting to retry */
        bool details_phase;

        GPtrArray *downloads;           /* Download* */
        guint next_download;
        unsigned active_downloads;
        uint64_t bytes_total;
        unsigned from_cache, unusable;
        bool linking;                   /* the overlay's links are being changed */
        StoreItemDetail *recorded;      /* WorkshopItemDetails as recorded, item_ids->len of them */
        sd_event_source *progress_timer;

        /* job_finish() must not run inside curl's callbacks: it frees us. */
        sd_event_source *finish_source;
        int finish_result;
        char *finish_message;
};

struct ApiRequest {
        WorkshopBuild *build;
        bool collections;               /* GetCollectionDetails, else GetPublishedFileDetails */
        const char *api_path;
        char *body;
        CURL *easy;
        CurlMemorySink *sink;
        unsigned tries;
        sd_event_source *retry_timer;
};

struct Download {
        WorkshopBuild *build;
        uint64_t id, time_updated, size;
        char *url;
        int dir_fd, fd;
        uint64_t start_offset;          /* bytes the .part had when this try began */
        CURL *easy;
        CurlFileSink sink;
        unsigned tries;
        sd_event_source *retry_timer;
        bool done;
};

static void build_fail(WorkshopBuild *b, int r, const char *format, ...) __attribute__((format(printf, 3, 4)));

static Overlay *build_overlay(WorkshopBuild *b) {
        return g_hash_table_lookup(b->manager->overlays_by_id, &b->overlay_id);
}

/* --- finishing ------------------------------------------------------ */

static int on_finish(sd_event_source *s, void *userdata) {
        WorkshopBuild *b = userdata;
        Overlay *o = build_overlay(b);
        Job *j = b->job;
        int r = b->finish_result;
        g_autofree char *message = g_steal_pointer(&b->finish_message);

        if (o && r != 0)
                overlay_build_failed(o, r, !b->linking);
        job_finish(j, r, "%s", message);        /* frees b */
        return 0;
}

static void build_finish_later(WorkshopBuild *b, int r, char *message) {
        if (b->finish_message) {        /* the first outcome stands */
                g_free(message);
                return;
        }
        b->finish_result = r;
        b->finish_message = message;
        (void) sd_event_source_set_enabled(b->finish_source, SD_EVENT_ONESHOT);
}

static void build_fail(WorkshopBuild *b, int r, const char *format, ...) {
        va_list ap;
        char *message;

        va_start(ap, format);
        message = g_strdup_vprintf(format, ap);
        va_end(ap);
        job_log(b->job, "%s", message);
        build_finish_later(b, r < 0 ? r : -EIO, message);
}

/* --- freeing -------------------------------------------------------- */

static void api_request_free(ApiRequest *q) {
        if (!q)
                return;
        if (q->easy) {
                curl_event_remove(q->build->curl, q->easy);
                sym_curl_easy_cleanup(q->easy);
        }
        sd_event_source_disable_unref(q->retry_timer);
        curl_memory_sink_free(q->sink);
        g_free(q->body);
        g_free(q);
}

static void download_stop(Download *d) {
        if (d->easy) {
                curl_event_remove(d->build->curl, d->easy);
                sym_curl_easy_cleanup(d->easy);
                d->easy = NULL;
        }
        l4m_close_fdp(&d->fd);
        d->fd = -1;
}

static void download_free(Download *d) {
        if (!d)
                return;
        download_stop(d);
        sd_event_source_disable_unref(d->retry_timer);
        l4m_close_fdp(&d->dir_fd);
        g_free(d->url);
        g_free(d);
}

static void workshop_build_free(void *data) {
        WorkshopBuild *b = data;

        if (!b)
                return;
        /* Requests and downloads first: they remove themselves from curl. */
        g_clear_pointer(&b->requests, g_ptr_array_unref);
        g_clear_pointer(&b->downloads, g_ptr_array_unref);
        curl_event_free(b->curl);
        sd_event_source_disable_unref(b->progress_timer);
        sd_event_source_disable_unref(b->finish_source);
        g_free(b->finish_message);
        g_free(b->recorded);
        if (b->collections)
                g_hash_table_unref(b->collections);
        if (b->asked)
                g_hash_table_unref(b->asked);
        if (b->item_ids)
                g_array_unref(b->item_ids);
        if (b->details)
                g_array_unref(b->details);
        g_array_unref(b->refs);
        g_free(b);
}

WorkshopBuild *workshop_build_new(Overlay *o) {
        WorkshopBuild *b = g_new0(WorkshopBuild, 1);

        b->manager = o->manager;
        b->overlay_id = o->id;
        b->refs = g_array_copy(o->items);
        return b;
}

/* --- Steam Web API requests ------------------------------------------ */

static void resolve_step(WorkshopBuild *b);
static void details_done(WorkshopBuild *b);
static void item_download_failed(WorkshopBuild *b, uint64_t id);
static void api_request_start(ApiRequest *q);

static bool requests_pending(WorkshopBuild *b) {
        return b->requests->len > 0;
}

static int on_api_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        ApiRequest *q = userdata;

        if (!q->build->finish_message)  /* not when the build is ending */
                api_request_start(q);
        return 0;
}

static uint64_t backoff_usec(unsigned tries) {
        return WORKSHOP_BACKOFF_USEC << MIN(tries - 1, 5u);
}

static void on_api_done(CurlEvent *c, CURL *easy, CURLcode result, const char *error, void *userdata) {
        ApiRequest *q = userdata;
        WorkshopBuild *b = q->build;
        g_autofree char *parse_error = NULL;
        long status = 0;
        int r;

        r = curl_memory_sink_finish(q->sink, easy, result, &status);
        sym_curl_easy_cleanup(q->easy);
        q->easy = NULL;

        if (r < 0) {
                if (curl_event_errno_is_transient(r) && q->tries < WORKSHOP_TRIES_MAX) {
                        job_log(b->job, "Steam API %s: %s (HTTP %ld); trying again.", q->api_path,
                                error ? error : STRERROR(r), status);
                        r = sd_event_add_time_relative(b->manager->event, &q->retry_timer, CLOCK_MONOTONIC,
                                                       backoff_usec(q->tries), 0, on_api_retry, q);
                        if (r >= 0)
                                return;
                }
                build_fail(b, r, "Steam API %s failed after %u tries: %s (HTTP %ld).", q->api_path, q->tries,
                           error ? error : STRERROR(r), status);
                return;
        }

        if (q->collections) {
                g_autoptr(GPtrArray) parsed = NULL;

                r = steam_collections_parse((const char *) q->sink->data->data, q->sink->data->len, &parsed, &parse_error);
                if (r < 0) {
                        build_fail(b, r, "Steam's collection details make no sense: %s", parse_error);
                        return;
                }
                workshop_collection_map_take(b->collections, parsed);
        } else {
                g_autoptr(GArray) items = NULL;

                r = steam_details_parse((const char *) q->sink->data->data, q->sink->data->len, &items, &parse_error);
                if (r < 0) {
                        build_fail(b, r, "Steam's item details make no sense: %s", parse_error);
                        return;
                }
                /* Move the entries: the strings now belong to b->details. */
                g_array_append_vals(b->details, items->data, items->len);
                g_array_set_clear_func(items, NULL);
        }

        g_ptr_array_remove_fast(b->requests, q);         /* frees q */
        if (requests_pending(b) || b->finish_message)
                return;
        if (b->details_phase)
                details_done(b);
        else
                resolve_step(b);
}

static void api_request_start(ApiRequest *q) {
        WorkshopBuild *b = q->build;
        g_autofree char *url = steam_api_url(b->manager->config->steam_api_url, q->api_path);
        int r;

        q->retry_timer = sd_event_source_disable_unref(q->retry_timer);
        curl_memory_sink_free(q->sink);
        q->sink = curl_memory_sink_new(STEAM_API_RESPONSE_MAX);
        q->tries++;

        r = curl_event_easy_new(url, &q->easy);
        if (r >= 0)
                r = curl_event_easy_set_post_form(q->easy, q->body, q->sink);
        if (r >= 0)
                r = curl_event_add(b->curl, q->easy, on_api_done, q);
        if (r < 0)
                build_fail(b, r, "Cannot ask Steam (%s): %s", q->api_path, STRERROR(r));
}

/* Asks about ids in batches; the answers arrive in on_api_done(). */
static void api_ask(WorkshopBuild *b, bool collections, const uint64_t *ids, size_t n) {
        for (size_t off = 0; off < n; off += STEAM_API_BATCH_MAX) {
                size_t count = MIN(n - off, (size_t) STEAM_API_BATCH_MAX);
                ApiRequest *q = g_new0(ApiRequest, 1);

                q->build = b;
                q->collections = collections;
                q->api_path = collections ? STEAM_API_PATH_COLLECTIONS : STEAM_API_PATH_DETAILS;
                q->body = collections ? steam_api_collections_body(ids + off, count)
                                      : steam_api_details_body(ids + off, count);
                g_ptr_array_add(b->requests, q);
                api_request_start(q);
        }
}

/* --- resolving collections ------------------------------------------- */

static void resolve_step(WorkshopBuild *b) {
        g_autoptr(WorkshopExpansion) x = NULL;
        g_autoptr(GArray) ask = g_array_new(FALSE, FALSE, sizeof(uint64_t));
        g_autoptr(GPtrArray) unanswered = g_ptr_array_new();
        int r;

        r = workshop_expand((const uint64_t *) b->refs->data, b->refs->len, b->collections, &x);
        if (r == -E2BIG) {
                build_fail(b, r, "The items expand to more than %u Workshop items.", WORKSHOP_ITEMS_MAX);
                return;
        }
        if (r < 0) {
                build_fail(b, r, "Cannot expand the collections: %s", STRERROR(r));
                return;
        }

        for (guint i = 0; i < x->missing->len; i++) {
                uint64_t id = g_array_index(x->missing, uint64_t, i);

                if (!g_hash_table_contains(b->asked, &id)) {
                        g_array_append_val(ask, id);
                        g_hash_table_add(b->asked, g_memdup2(&id, sizeof id));
                } else {
                        /* Asked already and Steam said nothing: an item. */
                        WorkshopCollection *c = g_new0(WorkshopCollection, 1);
                        c->id = id;
                        g_ptr_array_add(unanswered, c);
                }
        }
        if (unanswered->len > 0) {
                workshop_collection_map_take(b->collections, unanswered);
                if (ask->len == 0) {
                        resolve_step(b);
                        return;
                }
        }

        if (ask->len > 0) {
                if (++b->resolve_rounds > RESOLVE_ROUNDS_MAX) {
                        build_fail(b, -ELOOP, "Collections nest too deeply.");
                        return;
                }
                api_ask(b, true, (const uint64_t *) ask->data, ask->len);
                return;
        }

        for (guint i = 0; i < x->notes->len; i++) {
                g_autofree char *note = workshop_note_to_string(&g_array_index(x->notes, WorkshopNote, i));
                job_log(b->job, "%s", note);
        }
        if (x->items->len == 0) {
                build_fail(b, -ENOENT, "The overlay's items contain no Workshop items.");
                return;
        }
        job_log(b->job, "%u Workshop item(s) after expanding collections.", x->items->len);

        b->item_ids = g_array_copy(x->items);
        b->details_phase = true;
        api_ask(b, false, (const uint64_t *) b->item_ids->data, b->item_ids->len);
}

/* --- downloads -------------------------------------------------------- */

static void downloads_pump(WorkshopBuild *b);
static void link_and_finish(WorkshopBuild *b);
static bool download_start(Download *d);

static uint64_t bytes_done(WorkshopBuild *b) {
        uint64_t n = 0;

        for (guint i = 0; i < b->downloads->len; i++) {
                Download *d = b->downloads->pdata[i];
                if (d->done)
                        n += d->size - d->start_offset;
                else if (d->easy)
                        n += d->sink.offset + d->sink.written - d->start_offset;
        }
        return n;
}

static int on_progress_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        WorkshopBuild *b = userdata;

        if (b->bytes_total > 0)
                job_set_progress(b->job, 0.05 + 0.9 * (double) bytes_done(b) / (double) b->bytes_total);
        (void) sd_event_source_set_time_relative(s, PROGRESS_TICK_USEC);
        return 0;
}

/* The item is in the cache now. */
static void download_complete(Download *d) {
        download_stop(d);
        d->done = true;
        d->build->active_downloads--;
}

static int on_download_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        Download *d = userdata;

        if (d->build->finish_message)   /* not when the build is ending */
                return 0;
        if (download_start(d)) {
                download_complete(d);
                downloads_pump(d->build);
        }
        return 0;
}

static void on_download_done(CurlEvent *c, CURL *easy, CURLcode result, const char *error, void *userdata) {
        Download *d = userdata;
        WorkshopBuild *b = d->build;
        g_autofree char *part = workshop_cache_part_name(d->time_updated);
        g_autofree char *final = workshop_cache_file_name(d->time_updated);
        long status = 0;
        struct stat st;
        int r;

        r = curl_event_file_sink_finish(&d->sink, easy, result, &status);
        sym_curl_easy_cleanup(d->easy);
        d->easy = NULL;

        if (r >= 0) {
                if (fstat(d->fd, &st) < 0)
                        r = -errno;
                else if ((uint64_t) st.st_size != d->size) {
                        /* Steam's size and the file disagree: never use it. */
                        (void) unlinkat(d->dir_fd, part, 0);
                        item_download_failed(b, d->id);
                        build_fail(b, -EBADMSG, "Item %" G_GUINT64_FORMAT ": Steam says %" G_GUINT64_FORMAT
                                   " bytes, the download had %jd.", d->id, d->size, (intmax_t) st.st_size);
                        return;
                } else if (renameat(d->dir_fd, part, d->dir_fd, final) < 0)
                        r = -errno;
        }
        if (r < 0) {
                if (curl_event_errno_is_transient(r) && d->tries < WORKSHOP_TRIES_MAX) {
                        job_log(b->job, "Item %" G_GUINT64_FORMAT ": %s (HTTP %ld); trying again.", d->id,
                                error ? error : STRERROR(r), status);
                        download_stop(d);
                        r = sd_event_add_time_relative(b->manager->event, &d->retry_timer, CLOCK_MONOTONIC,
                                                       backoff_usec(d->tries), 0, on_download_retry, d);
                        if (r >= 0)
                                return;
                }
                item_download_failed(b, d->id);
                build_fail(b, r, "Item %" G_GUINT64_FORMAT ": download failed after %u tries: %s (HTTP %ld).",
                           d->id, d->tries, error ? error : STRERROR(r), status);
                return;
        }

        job_log(b->job, "Item %" G_GUINT64_FORMAT ": downloaded (%" G_GUINT64_FORMAT " bytes%s).", d->id, d->size,
                d->sink.resumed ? ", resumed" : "");
        download_complete(d);
        downloads_pump(b);
}

/* Starts (or retries) a download; true if the file turned out to be in the
 * cache already, so there is nothing to wait for. */
static bool download_start(Download *d) {
        WorkshopBuild *b = d->build;
        g_autofree char *part = workshop_cache_part_name(d->time_updated);
        g_autofree char *final = workshop_cache_file_name(d->time_updated);
        struct stat st;
        int r;

        d->retry_timer = sd_event_source_disable_unref(d->retry_timer);
        d->tries++;

        /* Another build may have finished it meanwhile. */
        if (fstatat(d->dir_fd, final, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            (uint64_t) st.st_size == d->size)
                return true;

        d->fd = openat(d->dir_fd, part, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, CACHE_FILE_MODE);
        /* Game servers read it through the overlay's link: world-readable. */
        if (d->fd < 0 || fstat(d->fd, &st) < 0 || !S_ISREG(st.st_mode) || fchmod(d->fd, CACHE_FILE_MODE) < 0) {
                build_fail(b, -errno, "Item %" G_GUINT64_FORMAT ": cannot open its cache file: %s", d->id, STRERROR(errno));
                return false;
        }
        /* One writer per cache file: another build downloading the same
         * item holds the lock; look again a little later. */
        if (flock(d->fd, LOCK_EX | LOCK_NB) < 0) {
                download_stop(d);
                d->tries--;
                r = sd_event_add_time_relative(b->manager->event, &d->retry_timer, CLOCK_MONOTONIC,
                                               WORKSHOP_BACKOFF_USEC, 0, on_download_retry, d);
                if (r < 0)
                        build_fail(b, r, "Cannot wait for another download: %s", STRERROR(r));
                return false;
        }

        d->start_offset = (uint64_t) st.st_size < d->size ? (uint64_t) st.st_size : 0;
        if (d->start_offset == 0 && st.st_size > 0 && ftruncate(d->fd, 0) < 0) {
                build_fail(b, -errno, "Item %" G_GUINT64_FORMAT ": %s", d->id, STRERROR(errno));
                return false;
        }

        r = curl_event_easy_new(d->url, &d->easy);
        if (r >= 0)
                r = curl_event_easy_set_download(d->easy, &d->sink, d->fd, d->start_offset, d->size);
        if (r >= 0)
                r = curl_event_add(b->curl, d->easy, on_download_done, d);
        if (r < 0) {
                item_download_failed(b, d->id);
                build_fail(b, r, "Item %" G_GUINT64_FORMAT ": cannot start the download: %s", d->id, STRERROR(r));
        }
        return false;
}

static void downloads_pump(WorkshopBuild *b) {
        if (b->finish_message)
                return;
        while (b->active_downloads < b->manager->config->downloads_max_parallel &&
               b->next_download < b->downloads->len) {
                Download *d = b->downloads->pdata[b->next_download++];
                b->active_downloads++;
                if (download_start(d))
                        download_complete(d);
                if (b->finish_message)
                        return;
        }
        if (b->active_downloads == 0 && b->next_download == b->downloads->len)
                link_and_finish(b);
}

/* --- planning and linking ---------------------------------------------- */

static const char *detail_status(const WorkshopItem *it) {
        if (!it)
                return "failed";        /* Steam did not answer for it */
        switch (it->status) {
        case WORKSHOP_ITEM_OK:
                return "ok";
        case WORKSHOP_ITEM_PRIVATE:
                return "private";
        case WORKSHOP_ITEM_REMOVED:
                return "removed";
        case WORKSHOP_ITEM_WRONG_GAME:
                return "other-game";
        default:
                return "failed";
        }
}

/* WorkshopItemDetails: what Steam said of every item, usable or not (the
 * titles point into b->details, which lives as long as b). */
static void record_item_details(WorkshopBuild *b) {
        StoreItemDetail *details;
        Overlay *o = build_overlay(b);

        if (!o)
                return;
        g_free(b->recorded);
        details = b->recorded = g_new0(StoreItemDetail, MAX(b->item_ids->len, 1u));
        for (guint i = 0; i < b->item_ids->len; i++) {
                uint64_t id = g_array_index(b->item_ids, uint64_t, i);
                const WorkshopItem *it = workshop_items_find(b->details, id);

                details[i] = (StoreItemDetail) {
                        .published_id = id,
                        .title = it && it->title ? it->title : "",
                        .size = it && it->has_file_size ? it->file_size : 0,
                        .time_updated = it && it->has_time_updated && it->time_updated < UINT64_MAX / G_USEC_PER_SEC
                                                ? it->time_updated * G_USEC_PER_SEC : 0,
                        .status = detail_status(it),
                };
        }
        overlay_set_item_details(o, details, b->item_ids->len);
}

/* An item Steam offered that could not be downloaded: "failed". */
static void item_download_failed(WorkshopBuild *b, uint64_t id) {
        Overlay *o = build_overlay(b);

        if (!o || !b->recorded)
                return;
        for (guint i = 0; i < b->item_ids->len; i++)
                if (b->recorded[i].published_id == id)
                        b->recorded[i].status = "failed";
        overlay_set_item_details(o, b->recorded, b->item_ids->len);
}

static void details_done(WorkshopBuild *b) {
        int r;

        record_item_details(b);

        for (guint i = 0; i < b->item_ids->len; i++) {
                uint64_t id = g_array_index(b->item_ids, uint64_t, i);
                const WorkshopItem *it = workshop_items_find(b->details, id);
                g_autofree char *dir = NULL, *final = NULL;
                _cleanup_close_ int dir_fd = -1;
                struct stat st;
                Download *d;

                if (!it || it->status != WORKSHOP_ITEM_OK) {
                        job_log(b->job, "Item %" G_GUINT64_FORMAT ": not used: %s (%s).", id,
                                it ? workshop_item_status_to_string(it->status) : "unknown",
                                it && it->reason ? it->reason : "Steam did not answer for it");
                        b->unusable++;
                        continue;
                }

                dir = g_strdup_printf("%" G_GUINT64_FORMAT, id);
                dir_fd = open_or_create_dir_at(b->manager->cache_fd, dir, CACHE_DIR_MODE);
                if (dir_fd < 0) {
                        build_fail(b, dir_fd, "Cannot open workshop_cache/%s: %s", dir, STRERROR(dir_fd));
                        return;
                }
                final = workshop_cache_file_name(it->time_updated);
                if (fstatat(dir_fd, final, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
                    (uint64_t) st.st_size == it->file_size) {
                        b->from_cache++;
                        d = g_new0(Download, 1);
                        d->done = true;
                } else {
                        d = g_new0(Download, 1);
                        b->bytes_total += it->file_size;
                }
                d->build = b;
                d->id = id;
                d->time_updated = it->time_updated;
                d->size = it->file_size;
                d->start_offset = d->done ? d->size : 0;
                d->url = g_strdup(it->file_url);
                /* Only downloads need their directory open. */
                d->dir_fd = d->done ? -1 : l4m_take_fd(&dir_fd);
                d->fd = -1;
                /* Cached ones sit at the front: the pump starts at the rest. */
                if (d->done) {
                        g_ptr_array_insert(b->downloads, (gint) b->next_download, d);
                        b->next_download++;
                } else
                        g_ptr_array_add(b->downloads, d);
        }

        if (b->downloads->len == 0) {
                build_fail(b, -ENOENT, "None of the %u item(s) can be used.", b->item_ids->len);
                return;
        }
        job_log(b->job, "%u item(s) usable: %u in the cache, %u to download (%" G_GUINT64_FORMAT " bytes); %u not usable.",
                b->downloads->len, b->from_cache, b->downloads->len - b->from_cache, b->bytes_total, b->unusable);

        /* Before any download: with Steam's sizes, the links this build
         * would leave must fit the owner's storage quota. */
        {
                g_autofree StoreWorkshopLink *links = g_new0(StoreWorkshopLink, b->downloads->len);
                g_autofree char *problem = NULL;
                Overlay *o = build_overlay(b);

                for (guint i = 0; i < b->downloads->len; i++) {
                        Download *d = b->downloads->pdata[i];
                        links[i] = (StoreWorkshopLink) { .published_id = d->id, .time_updated = d->time_updated,
                                                         .size = d->size };
                }
                r = o ? owner_quota_check_links(o, links, b->downloads->len, &problem) : 0;
                if (r < 0) {
                        build_fail(b, r, "%s", problem ? problem : STRERROR(r));
                        return;
                }
        }

        job_set_progress(b->job, 0.05);
        r = sd_event_add_time_relative(b->manager->event, &b->progress_timer, CLOCK_MONOTONIC,
                                       PROGRESS_TICK_USEC, 0, on_progress_tick, b);
        if (r >= 0)
                (void) sd_event_source_set_enabled(b->progress_timer, SD_EVENT_ON);
        downloads_pump(b);
}

typedef struct LinkUnion {
        uint64_t overlay_id;
        GArray *links;          /* StoreWorkshopLink */
} LinkUnion;

static int collect_old_link(uint64_t overlay_id, const StoreWorkshopLink *l, void *userdata) {
        LinkUnion *u = userdata;

        if (overlay_id == u->overlay_id)
                g_array_append_val(u->links, *l);
        return 0;
}

static int record_links_union(WorkshopBuild *b, const StoreWorkshopLink *links, size_t n) {
        g_autoptr(GArray) all = g_array_new(FALSE, FALSE, sizeof(StoreWorkshopLink));
        LinkUnion u = { .overlay_id = b->overlay_id, .links = all };
        int r;

        g_array_append_vals(all, links, (guint) n);
        r = store_workshop_links_foreach(b->manager->db, collect_old_link, &u);
        if (r < 0)
                return r;
        /* The old link of an item whose version changed shares its key
         * (overlay, item) with the new one: keep it out of the union and
         * rely on the cache file still being there (nothing prunes while
         * a build runs). */
        for (guint i = n; i < all->len; ) {
                bool dup = false;
                for (size_t k = 0; k < n && !dup; k++)
                        dup = links[k].published_id == g_array_index(all, StoreWorkshopLink, i).published_id;
                if (dup)
                        g_array_remove_index_fast(all, i);
                else
                        i++;
        }
        return store_workshop_links_set(b->manager->db, b->overlay_id, (const StoreWorkshopLink *) all->data, all->len);
}

static void link_and_finish(WorkshopBuild *b) {
        g_autofree StoreWorkshopLink *links = g_new0(StoreWorkshopLink, b->downloads->len);
        g_autofree char *dir = g_strdup_printf("%" G_GUINT64_FORMAT, b->overlay_id);
        _cleanup_close_ int overlay_fd = -1;
        Overlay *o = build_overlay(b);
        uint64_t size = 0;
        int r;

        if (!o) {
                build_fail(b, -ENOENT, "The overlay is gone.");
                return;
        }
        for (guint i = 0; i < b->downloads->len; i++) {
                Download *d = b->downloads->pdata[i];
                links[i] = (StoreWorkshopLink) { .published_id = d->id, .time_updated = d->time_updated,
                                                 .size = d->size };
                size += d->size;
        }

        overlay_fd = openat(b->manager->overlays_fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (overlay_fd < 0) {
                build_fail(b, -errno, "Cannot open overlays/%s: %s", dir, STRERROR(errno));
                return;
        }
        /* While links change, the store lists the old and the new ones, so
         * a cache prune never takes a file any link may point to; only the
         * new set is kept once the links are in place. */
        r = record_links_union(b, links, b->downloads->len);
        if (r >= 0) {
                b->linking = true;
                r = workshop_links_reconcile(b->job, overlay_fd, b->manager->state_dir, links, b->downloads->len);
        }
        if (r >= 0)
                r = store_workshop_links_set(b->manager->db, b->overlay_id, links, b->downloads->len);
        if (r < 0) {
                build_fail(b, r, "Cannot link the items into the overlay: %s", STRERROR(r));
                return;
        }

        overlay_set_state(o, OVERLAY_STATE_READY, (uint64_t) g_get_real_time(), size);
        build_finish_later(b, 0, g_strdup_printf("%u item(s) linked: %u downloaded, %u from the cache; %u not usable.",
                                                 b->downloads->len, b->downloads->len - b->from_cache,
                                                 b->from_cache, b->unusable));
}

/* --- the job kind --------------------------------------------------------- */

static int workshop_build_start(Job *j) {
        WorkshopBuild *b = j->data;
        Overlay *o = build_overlay(b);
        int r;

        b->job = j;
        if (!o)
                return -ENOENT;
        r = curl_event_new(b->manager->event, &b->curl);
        if (r < 0)
                return r;
        r = sd_event_add_defer(b->manager->event, &b->finish_source, on_finish, b);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(b->finish_source, SD_EVENT_OFF);
        b->collections = workshop_collection_map_new();
        b->asked = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
        b->requests = g_ptr_array_new_with_free_func((GDestroyNotify) api_request_free);
        b->downloads = g_ptr_array_new_with_free_func((GDestroyNotify) download_free);
        b->details = g_array_new(FALSE, FALSE, sizeof(WorkshopItem));
        g_array_set_clear_func(b->details, (GDestroyNotify) workshop_item_clear);

        overlay_set_state(o, OVERLAY_STATE_BUILDING, o->last_build, o->size);
        job_log(j, "Building overlay %s from %u reference(s) with %s.", o->name, b->refs->len,
                b->manager->config->steam_api_url);
        resolve_step(b);
        return 0;
}

static void workshop_build_cancel(Job *j) {
        WorkshopBuild *b = j->data;

        /* Stop every transfer now; partial files stay in the cache to be
         * resumed, nothing in the overlay has changed. */
        g_ptr_array_set_size(b->requests, 0);
        for (guint i = 0; i < b->downloads->len; i++) {
                Download *d = b->downloads->pdata[i];
                download_stop(d);
                d->retry_timer = sd_event_source_disable_unref(d->retry_timer);
        }
        build_finish_later(b, -ECANCELED, g_strdup("Cancelled; the overlay is as it was."));
}

static int workshop_build_restore(Job *j) {
        Overlay *o = manager_find_overlay_by_job_target(j->manager, j->target);

        if (!o)
                return -ENOENT;
        j->data = workshop_build_new(o);
        return 0;
}

const JobKind workshop_build_kind = {
        .name = "workshop-build",
        .action = L4M_ACTION_OVERLAY_MANAGE,
        .restartable = true,
        .start = workshop_build_start,
        .cancel = workshop_build_cancel,
        .restore = workshop_build_restore,
        .free_data = workshop_build_free,
};
