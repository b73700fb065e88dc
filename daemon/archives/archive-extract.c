/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/archives/: archive overlays: safe extraction of untrusted archives, the import and fetch jobs. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "archive-extract.h"
#include "archive-spool.h"
#include "archive-volume.h"
#include "dlopen-archive.h"
#include "l4m-log.h"
#include "l4m-util.h"

#define IN_BLOCK_SIZE ((size_t) 64 * 1024)
#define PROGRESS_STEP UINT64_C(65536)
#define DIR_MODE 0755

static const uint8_t zeros[64 * 1024];

typedef struct Extract {
        struct archive *archive;

        int archive_fd;              /* borrowed, or spool_fd */
        int spool_fd;                /* owned: a pipe's content, copied into a file */
        off_t base;                  /* position of archive_fd when we started */
        uint64_t archive_size;       /* bytes from base to the end */
        uint64_t ratio_cap;          /* bytes MaxRatio lets the archive expand to */
        const char *name_encoding;
        uint8_t *in_buf;
        int read_errno;

        int root_fd;                 /* owned: dest_fd, or dest_fd/subdir */
        unsigned root_depth;         /* components of subdir, for symlink containment */
        unsigned strip;
        ArchiveLimits limits;

        ArchiveProgressFunc progress;
        void *userdata;
        const volatile int *cancel;
        bool cancelled;

        uint64_t bytes_in, bytes_written, entries, entry_written;
        uint64_t extracted;          /* entries that made something in the tree */
        uint64_t reported_in, reported_written, reported_entries;
        bool reported_any;

        char *subject;               /* "entry 'x'", prefixed to error messages */
        char *header_warning;        /* libarchive's warning on the current header, or NULL */
        char *last_name;             /* raw name of the previous entry */
        char *error;

        GHashTable *created_files;   /* FileId of the regular files created in this run */

        char *parent_key;            /* cache: root-relative path of parent_fd */
        int parent_fd;
} Extract;

/* Makes text safe for a D-Bus string and a log line: valid UTF-8 without
 * control characters; invalid bytes and controls become \xNN. */
static char *escape_text(const char *s) {
        GString *out = g_string_sized_new(strlen(s));

        while (*s) {
                gunichar c = g_utf8_get_char_validated(s, -1);

                if (c == (gunichar) -1 || c == (gunichar) -2 || g_unichar_iscntrl(c)) {
                        g_string_append_printf(out, "\\x%02x", (unsigned) (uint8_t) *s);
                        s++;
                        continue;
                }
                const char *next = g_utf8_next_char(s);
                g_string_append_len(out, s, next - s);
                s = next;
        }
        return g_string_free(out, FALSE);
}

/* Shows every byte outside printable ASCII as \xNN. */
static char *escape_bytes(const char *s) {
        GString *out = g_string_sized_new(strlen(s));

        for (const uint8_t *p = (const uint8_t *) s; *p; p++)
                if (*p >= 0x20 && *p < 0x7f)
                        g_string_append_c(out, (char) *p);
                else
                        g_string_append_printf(out, "\\x%02x", (unsigned) *p);
        return g_string_free(out, FALSE);
}

/* Records the first failure (prefixed with the current subject) and returns
 * error, so "return fail(x, -EPERM, ...);" reports and propagates. */
static int fail(Extract *x, int error, const char *format, ...) __attribute__((format(printf, 3, 4)));
static int fail(Extract *x, int error, const char *format, ...) {
        g_autofree char *reason = NULL, *message = NULL;
        va_list ap;

        assert(error < 0);

        if (x->error)
                return error;

        va_start(ap, format);
        reason = g_strdup_vprintf(format, ap);
        va_end(ap);
        message = x->subject ? g_strdup_printf("%s: %s", x->subject, reason) : g_steal_pointer(&reason);
        g_strchomp(message);    /* libarchive ends some of its messages with a newline */
        x->error = escape_text(message);
        return error;
}

/* "entry 'name'", with overlong names shortened for messages. */
static char *describe(const char *what, const char *name) {
        const int max = 256;

        if (!name)
                name = "";
        if (strlen(name) <= (size_t) max)
                return g_strdup_printf("%s '%s'", what, name);
        return g_strdup_printf("%s '%.*s…'", what, max, name);
}

static bool check_cancel(Extract *x) {
        if (!x->cancelled && x->cancel && *x->cancel)
                x->cancelled = true;
        return x->cancelled;
}

static int fail_cancelled(Extract *x) {
        g_clear_pointer(&x->subject, g_free);
        return fail(x, -ECANCELED, "cancelled");
}

static void report_progress(Extract *x, bool force) {
        if (!x->progress)
                return;
        if (x->bytes_written == x->reported_written && x->bytes_in == x->reported_in &&
            x->entries == x->reported_entries && x->reported_any)
                return;  /* nothing new */
        if (!force &&
            x->bytes_written - x->reported_written < PROGRESS_STEP &&
            x->bytes_in - x->reported_in < PROGRESS_STEP)
                return;
        x->reported_written = x->bytes_written;
        x->reported_in = x->bytes_in;
        x->reported_entries = x->entries;
        x->reported_any = true;
        x->progress(x->bytes_in, x->bytes_written, x->entries, x->userdata);
}

/* libarchive client callbacks: read from the file in 64 KiB blocks,
 * polling the cancel flag, and seek relative to where the fd was
 * positioned. A pipe was copied into a file first, so every archive is
 * read the same way. */

static la_ssize_t read_cb(struct archive *a, void *userdata, const void **ret_buf) {
        Extract *x = userdata;

        for (;;) {
                ssize_t n;

                if (check_cancel(x)) {
                        sym_archive_set_error(a, ECANCELED, "Cancelled");
                        return -1;
                }
                n = read(x->archive_fd, x->in_buf, IN_BLOCK_SIZE);
                if (n >= 0) {
                        x->bytes_in += (uint64_t) n;
                        *ret_buf = x->in_buf;
                        return n;
                }
                if (errno == EINTR || errno == EAGAIN)
                        continue;
                x->read_errno = errno;
                sym_archive_set_error(a, errno, "reading the archive: %s", STRERROR(errno));
                return -1;
        }
}

static la_int64_t seek_cb(struct archive *a, void *userdata, la_int64_t offset, int whence) {
        Extract *x = userdata;
        off_t pos;

        if (whence == SEEK_SET) {
                if (offset < 0 || offset > (la_int64_t) (INT64_MAX - x->base))
                        goto invalid;
                offset += x->base;
        }
        pos = lseek(x->archive_fd, (off_t) offset, whence);
        if (pos < 0) {
                x->read_errno = errno;
                sym_archive_set_error(a, errno, "seeking in the archive: %s", STRERROR(errno));
                return ARCHIVE_FATAL;
        }
        if (pos < x->base)
                goto invalid;
        return pos - x->base;

invalid:
        sym_archive_set_error(a, EINVAL, "seek outside of the archive");
        return ARCHIVE_FATAL;
}

static la_int64_t skip_cb(struct archive *a, void *userdata, la_int64_t request) {
        Extract *x = userdata;
        struct stat st;
        off_t cur;

        /* Never past the end, so that a truncated archive reads as such. */
        cur = lseek(x->archive_fd, 0, SEEK_CUR);
        if (cur < 0 || fstat(x->archive_fd, &st) < 0 || request <= 0 || cur >= st.st_size)
                return 0;
        if (request > st.st_size - cur)
                request = st.st_size - cur;
        if (lseek(x->archive_fd, (off_t) request, SEEK_CUR) < 0)
                return 0;
        return request;
}

static const char *archive_message(struct archive *a) {
        const char *m = sym_archive_error_string(a);
        return m ? m : "unknown libarchive error";
}

/* Errors reported by libarchive: cancellation and read errors come back
 * as themselves, everything else means bad input. */
static int fail_archive(Extract *x, const char *what) {
        const char *m = sym_archive_error_string(x->archive);

        if (x->cancelled)
                return fail_cancelled(x);
        if (x->read_errno != 0)
                return fail(x, -x->read_errno, "%s", archive_message(x->archive));
        if (sym_archive_errno(x->archive) == ENOMEM)
                return fail(x, -ENOMEM, "%s: out of memory", what);
        if (!m)
                return fail(x, -EBADMSG, "%s", what);
        return fail(x, -EBADMSG, "%s: %s", what, m);
}

static bool is_tar(Extract *x) {
        return (sym_archive_format(x->archive) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_TAR;
}

/* Only tar archives may come compressed: zip, 7z and rar need to seek in
 * the archive itself, which a decompressor cannot offer (libarchive reads
 * a zip in a gzip stream by its local headers, and a 7z not at all). */
static int check_container(Extract *x) {
        const char *filter;

        if (sym_archive_filter_count(x->archive) <= 1 || sym_archive_format(x->archive) == 0 || is_tar(x))
                return 0;
        filter = sym_archive_filter_name(x->archive, 0);
        return fail(x, -EBADMSG, "this is a %s archive inside a %s stream, which cannot be read: only tar archives "
                    "may be compressed again (tar.gz, tar.bz2, tar.xz, tar.zst); decompress it and import the %s archive itself",
                    sym_archive_format_name(x->archive), filter ? filter : "compressed", sym_archive_format_name(x->archive));
}

/* A zip of no entries is its end record alone, which libarchive's
 * seekable zip reader does not recognise. */
static bool is_empty_zip(Extract *x) {
        char head[4];

        return pread(x->archive_fd, head, sizeof(head), x->base) == (ssize_t) sizeof(head) &&
               memcmp(head, "PK\x05\x06", sizeof(head)) == 0;
}

/* Failures before the first entry, or between entries. */
static int fail_header(Extract *x) {
        g_autofree char *what = NULL;
        int r;

        g_clear_pointer(&x->subject, g_free);
        if (x->cancelled)
                return fail_cancelled(x);
        if (x->entries > 0) {
                x->subject = describe("after entry", x->last_name);
                return fail_archive(x, "archive is corrupt or truncated");
        }
        if (x->read_errno != 0)
                return fail_archive(x, "reading the archive");
        r = check_container(x);
        if (r < 0)
                return r;
        if (sym_archive_format(x->archive) != 0) {
                what = g_strdup_printf("%s archive is corrupt or truncated", sym_archive_format_name(x->archive));
                return fail_archive(x, what);
        }
        if (is_empty_zip(x))
                return fail(x, -EBADMSG, "the archive has no entries: it is an empty zip archive");
        if (sym_archive_filter_count(x->archive) > 1)
                return fail(x, -EBADMSG, "not a supported archive: the %s stream holds no tar archive (zip, 7z and "
                            "rar archives are imported as they are, never compressed again)",
                            sym_archive_filter_name(x->archive, 0));
        return fail_archive(x, "not a supported archive (zip, 7z, rar, tar, tar.gz, tar.bz2, tar.xz, tar.zst)");
}

/* "C:/..." or "C:": a Windows drive, as absolute as "/". */
static bool is_drive_path(const char *path) {
        return g_ascii_isalpha(path[0]) && path[1] == ':' && (path[2] == '/' || path[2] == '\0');
}

/* Splits a path into components, dropping empty and "." ones and refusing
 * anything that could name something outside of the starting directory.
 * what names the path in messages ("path", "hardlink target 'x'"). */
static int split_path(Extract *x, const char *what, const char *path, char ***ret, size_t *ret_n) {
        g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);

        if (!path || !*path)
                return fail(x, -EPERM, "%s is empty", what);
        if (strlen(path) >= PATH_MAX)
                return fail(x, -ENAMETOOLONG, "%s is longer than %i bytes", what, PATH_MAX - 1);
        if (path[0] == '/')
                return fail(x, -EPERM, "%s is absolute", what);
        if (is_drive_path(path))
                return fail(x, -EPERM, "%s is absolute (a Windows drive)", what);

        for (const char *p = path; *p; ) {
                const char *end = strchrnul(p, '/');
                size_t len = (size_t) (end - p);

                if (len == 2 && p[0] == '.' && p[1] == '.')
                        return fail(x, -EPERM, "%s contains '..' and would leave the overlay", what);
                if (len > NAME_MAX)
                        return fail(x, -ENAMETOOLONG, "%s has a component longer than %i bytes", what, NAME_MAX);
                if (len > 0 && !(len == 1 && p[0] == '.'))
                        g_ptr_array_add(parts, g_strndup(p, len));
                p = *end ? end + 1 : end;
        }

        /* Deeper trees are useless to a game and costly for whoever walks
         * them later (removal, copies for merge). */
        if (parts->len > ARCHIVE_PATH_DEPTH_MAX)
                return fail(x, -EPERM, "%s is more than %u directories deep", what, ARCHIVE_PATH_DEPTH_MAX);

        *ret_n = parts->len;
        g_ptr_array_add(parts, NULL);
        *ret = (char **) g_ptr_array_free(g_steal_pointer(&parts), FALSE);
        return 0;
}

/* Symlink targets are resolved by the kernel, possibly through other
 * links. Every directory a link can live in is a real directory at a known
 * depth, so a target that is relative, has ".." only as its leading
 * components and does not climb above the root from there stays inside
 * the tree whichever links it passes through afterwards. */
static int check_symlink_target(Extract *x, const char *target, unsigned depth) {
        bool seen_name = false;
        unsigned up = 0;

        if (!target || !*target)
                return fail(x, -EPERM, "symlink has an empty target");
        if (strlen(target) >= PATH_MAX)
                return fail(x, -ENAMETOOLONG, "symlink target is longer than %i bytes", PATH_MAX - 1);
        if (target[0] == '/')
                return fail(x, -EPERM, "symlink target '%s' is absolute", target);
        if (is_drive_path(target))
                return fail(x, -EPERM, "symlink target '%s' is absolute (a Windows drive)", target);

        for (const char *p = target; *p; ) {
                const char *end = strchrnul(p, '/');
                size_t len = (size_t) (end - p);

                if (len == 2 && p[0] == '.' && p[1] == '.') {
                        if (seen_name)
                                return fail(x, -EPERM, "symlink target '%s' has '..' after a name, refusing to guess where it leads",
                                            target);
                        if (++up > depth)
                                return fail(x, -EPERM, "symlink target '%s' leaves the overlay", target);
                } else if (len > NAME_MAX)
                        return fail(x, -ENAMETOOLONG, "symlink target '%s' has a component longer than %i bytes",
                                    target, NAME_MAX);
                else if (len > 0 && !(len == 1 && p[0] == '.'))
                        seen_name = true;
                p = *end ? end + 1 : end;
        }
        return 0;
}

static char *join_path(char *const *comps, size_t n) {
        GString *s = g_string_new(NULL);

        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        g_string_append_c(s, '/');
                g_string_append(s, comps[i]);
        }
        return g_string_free(s, FALSE);
}

static int open_dir_nofollow(int dir_fd, const char *name) {
        int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

static int fail_not_dir(Extract *x, int dir_fd, const char *comp, int error) {
        struct stat st;

        if (fstatat(dir_fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                if (S_ISLNK(st.st_mode))
                        return fail(x, -EPERM, "path goes through the symlink '%s'", comp);
                if (!S_ISDIR(st.st_mode))
                        return fail(x, -ENOTDIR, "path goes through '%s', which is not a directory", comp);
        }
        return fail(x, error, "opening directory '%s': %s", comp, STRERROR(error));
}

/* Opens the directory comp below dir_fd, creating it (0755) if missing and
 * create is set. Symlinks are never followed. */
static int open_subdir(Extract *x, int dir_fd, const char *comp, bool create) {
        _cleanup_close_ int fd = -1;

        fd = open_dir_nofollow(dir_fd, comp);
        if (fd >= 0)
                return l4m_take_fd(&fd);
        if (fd != -ENOENT || !create)
                return fail_not_dir(x, dir_fd, comp, fd);

        if (mkdirat(dir_fd, comp, DIR_MODE) < 0)
                return fail(x, -errno, "creating directory '%s': %s", comp, STRERROR(errno));
        fd = open_dir_nofollow(dir_fd, comp);
        if (fd < 0)
                return fail(x, fd, "opening directory '%s': %s", comp, STRERROR(fd));
        if (fchmod(fd, DIR_MODE) < 0)
                return fail(x, -errno, "setting the mode of '%s': %s", comp, STRERROR(errno));
        return l4m_take_fd(&fd);
}

/* Returns a borrowed fd of the directory holding the last of the n
 * components, walking (and with create, building) the path from the root. */
static int open_parent(Extract *x, char *const *comps, size_t n, bool create) {
        g_autofree char *key = NULL;
        _cleanup_close_ int fd = -1;

        assert(n > 0);

        if (n == 1)
                return x->root_fd;

        key = join_path(comps, n - 1);
        if (x->parent_key && strcmp(key, x->parent_key) == 0)
                return x->parent_fd;

        for (size_t i = 0; i + 1 < n; i++) {
                int next = open_subdir(x, fd >= 0 ? fd : x->root_fd, comps[i], create);
                if (next < 0)
                        return next;
                l4m_close_fdp(&fd);
                fd = next;
        }

        l4m_close_fdp(&x->parent_fd);
        g_free(x->parent_key);
        x->parent_fd = l4m_take_fd(&fd);
        x->parent_key = g_steal_pointer(&key);
        return x->parent_fd;
}

/* Makes room for a new non-directory: an earlier file or symlink of that
 * name is removed (later entries win), a directory is not. */
static int make_room(Extract *x, int dir_fd, const char *comp) {
        struct stat st;

        if (fstatat(dir_fd, comp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        return 0;
                return fail(x, -errno, "inspecting '%s': %s", comp, STRERROR(errno));
        }
        if (S_ISDIR(st.st_mode))
                return fail(x, -EISDIR, "a directory of that name exists already");
        if (unlinkat(dir_fd, comp, 0) < 0)
                return fail(x, -errno, "removing the earlier '%s': %s", comp, STRERROR(errno));
        return 0;
}

static int account(Extract *x, uint64_t n) {
        if (n > x->limits.max_entry_bytes - x->entry_written)
                return fail(x, -EFBIG, "entry is larger than the limit of %" G_GUINT64_FORMAT " bytes (MaxEntryBytes)",
                            x->limits.max_entry_bytes);
        if (n > x->limits.max_bytes - x->bytes_written)
                return fail(x, -EFBIG, "archive expands to more than the limit of %" G_GUINT64_FORMAT " bytes (MaxBytes)",
                            x->limits.max_bytes);
        if (x->limits.has_budget && n > x->limits.budget_bytes - MIN(x->bytes_written, x->limits.budget_bytes))
                return fail(x, -EDQUOT, "archive expands to more than the %" G_GUINT64_FORMAT " bytes the storage "
                            "quota leaves", x->limits.budget_bytes);
        if (n > x->ratio_cap - x->bytes_written)
                return fail(x, -EFBIG, "archive of %" G_GUINT64_FORMAT " bytes expands to more than %" G_GUINT64_FORMAT
                            " bytes, %" G_GUINT64_FORMAT " times %s (MaxRatio): a compression bomb?",
                            x->archive_size, x->ratio_cap, x->limits.max_ratio,
                            x->archive_size < ARCHIVE_RATIO_MIN_BASE ? "1 MiB, what any smaller archive may use" : "its size");
        x->entry_written += n;
        x->bytes_written += n;
        return 0;
}

static int write_all(Extract *x, int fd, const void *buf, size_t len) {
        const uint8_t *p = buf;

        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return fail(x, -errno, "writing: %s", STRERROR(errno));
                }
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

static int write_counted(Extract *x, int fd, const void *buf, size_t len) {
        int r;

        r = account(x, len);
        if (r < 0)
                return r;
        return write_all(x, fd, buf, len);
}

/* Holes of sparse files are written out as zeros, and counted. */
static int write_hole(Extract *x, int fd, uint64_t len) {
        while (len > 0) {
                size_t n = (size_t) MIN(len, (uint64_t) sizeof(zeros));
                int r;

                if (check_cancel(x))
                        return fail_cancelled(x);
                r = write_counted(x, fd, zeros, n);
                if (r < 0)
                        return r;
                len -= n;
                report_progress(x, false);
        }
        return 0;
}

/* At the end of an entry's data: a tar's sparse file may end in a hole,
 * which libarchive reports as the end offset; anything else short of the
 * size the header declared is missing. */
static int finish_data(Extract *x, int fd, uint64_t pos, la_int64_t end, int64_t declared) {
        int r;

        if (declared < 0 || pos == (uint64_t) declared)
                return 0;
        if (is_tar(x) && end == declared && (uint64_t) end > pos) {
                r = write_hole(x, fd, (uint64_t) end - pos);
                if (r < 0)
                        return r;
                return 0;
        }
        return fail(x, -EBADMSG, "the archive holds %" G_GUINT64_FORMAT " of the %" G_GINT64_FORMAT " bytes its header "
                    "declares: the archive is truncated, or is one volume of a split archive", pos, declared);
}

/* Writes the entry's data to fd. declared is the size the header gives,
 * or -1: the data must match it, neither longer nor shorter. */
static int copy_data(Extract *x, int fd, int64_t declared) {
        uint64_t pos = 0;

        for (;;) {
                const void *buf;
                size_t len;
                la_int64_t offset;
                int r;

                if (check_cancel(x))
                        return fail_cancelled(x);

                r = sym_archive_read_data_block(x->archive, &buf, &len, &offset);
                if (r == ARCHIVE_EOF)
                        return finish_data(x, fd, pos, offset, declared);
                /* libarchive reports a bad CRC (zip, 7z, rar) as a warning:
                 * the data is damaged, never a success. */
                if (r != ARCHIVE_OK)
                        return fail_archive(x, "reading data");
                if (offset < 0 || (uint64_t) offset < pos)
                        return fail(x, -EBADMSG, "data blocks out of order");
                if (declared >= 0 && (uint64_t) offset + len > (uint64_t) declared)
                        return fail(x, -EBADMSG, "entry holds more data than the %" G_GINT64_FORMAT " bytes its header declares",
                                    declared);

                r = write_hole(x, fd, (uint64_t) offset - pos);
                if (r < 0)
                        return r;
                r = write_counted(x, fd, buf, len);
                if (r < 0)
                        return r;
                pos = (uint64_t) offset + len;

                report_progress(x, false);
        }
}

static mode_t file_mode(struct archive_entry *e) {
        return (sym_archive_entry_perm(e) & 0755) | 0644;
}

static void set_mtime(int fd, struct archive_entry *e) {
        long nsec;

        if (!sym_archive_entry_mtime_is_set(e))
                return;
        nsec = sym_archive_entry_mtime_nsec(e);
        if (nsec < 0 || nsec > 999999999)
                nsec = 0;
        struct timespec ts[2] = {
                { .tv_nsec = UTIME_OMIT },
                { .tv_sec = (time_t) sym_archive_entry_mtime(e), .tv_nsec = nsec },
        };
        if (futimens(fd, ts) < 0)
                log_debug_errno(-errno, "Ignoring failure to set mtime: %s", STRERROR(errno));
}

typedef struct FileId {
        dev_t dev;
        ino_t ino;
} FileId;

static guint file_id_hash(gconstpointer p) {
        const FileId *id = p;
        uint64_t h = (uint64_t) id->ino * UINT64_C(0x9E3779B97F4A7C15) ^ (uint64_t) id->dev;
        return (guint) (h ^ (h >> 32));
}

static gboolean file_id_equal(gconstpointer a, gconstpointer b) {
        const FileId *x = a, *y = b;
        return x->dev == y->dev && x->ino == y->ino;
}

/* Remembers a regular file created in this run by its inode (not its path:
 * that keeps the set small, and a path that was replaced since no longer
 * names it). Consulted only for hardlink targets. */
static void remember_file(Extract *x, const struct stat *st) {
        FileId *id = g_new(FileId, 1);

        *id = (FileId) { .dev = st->st_dev, .ino = st->st_ino };
        g_hash_table_add(x->created_files, id);
}

static bool is_created_file(Extract *x, const struct stat *st) {
        FileId id = { .dev = st->st_dev, .ino = st->st_ino };
        return S_ISREG(st->st_mode) && g_hash_table_contains(x->created_files, &id);
}

static int extract_file(Extract *x, struct archive_entry *e, char *const *comps, size_t n) {
        _cleanup_close_ int fd = -1;
        const char *last = comps[n - 1];
        struct stat st;
        int dir_fd, r;

        dir_fd = open_parent(x, comps, n, true);
        if (dir_fd < 0)
                return dir_fd;
        r = make_room(x, dir_fd, last);
        if (r < 0)
                return r;

        fd = openat(dir_fd, last, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return fail(x, -errno, "creating: %s", STRERROR(errno));
        if (fstat(fd, &st) < 0)
                return fail(x, -errno, "inspecting: %s", STRERROR(errno));
        remember_file(x, &st);
        if (fchmod(fd, file_mode(e)) < 0)
                return fail(x, -errno, "setting the mode: %s", STRERROR(errno));

        r = copy_data(x, fd, sym_archive_entry_size_is_set(e) ? sym_archive_entry_size(e) : -1);
        if (r < 0)
                return r;
        set_mtime(fd, e);
        return 0;
}

static int extract_dir(Extract *x, char *const *comps, size_t n) {
        _cleanup_close_ int fd = -1;
        const char *last = comps[n - 1];
        struct stat st;
        int dir_fd;

        dir_fd = open_parent(x, comps, n, true);
        if (dir_fd < 0)
                return dir_fd;

        if (fstatat(dir_fd, last, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                if (S_ISDIR(st.st_mode))
                        return 0;
                if (unlinkat(dir_fd, last, 0) < 0)
                        return fail(x, -errno, "removing the earlier '%s': %s", last, STRERROR(errno));
        } else if (errno != ENOENT)
                return fail(x, -errno, "inspecting: %s", STRERROR(errno));

        fd = open_subdir(x, dir_fd, last, true);
        return fd < 0 ? fd : 0;
}

static int extract_symlink(Extract *x, const char *target, char *const *comps, size_t n) {
        const char *last = comps[n - 1];
        int dir_fd, r;

        r = check_symlink_target(x, target, x->root_depth + (unsigned) (n - 1));
        if (r < 0)
                return r;

        dir_fd = open_parent(x, comps, n, true);
        if (dir_fd < 0)
                return dir_fd;
        r = make_room(x, dir_fd, last);
        if (r < 0)
                return r;
        if (symlinkat(target, dir_fd, last) < 0)
                return fail(x, -errno, "creating the symlink: %s", STRERROR(errno));
        return 0;
}

/* Opens the directory holding a hardlink target, returning our own fd:
 * the walk for the link itself may replace the cached one. */
static int open_hardlink_target(Extract *x, const char *target, char *const *tcomps, size_t tn, struct stat *ret_st) {
        const char *last = tcomps[tn - 1];
        int dir_fd, fd;

        dir_fd = open_parent(x, tcomps, tn, false);
        if (dir_fd < 0 || fstatat(dir_fd, last, ret_st, AT_SYMLINK_NOFOLLOW) < 0 || !is_created_file(x, ret_st)) {
                g_clear_pointer(&x->error, g_free);  /* whatever the walk found, this says it better */
                return fail(x, -EPERM, "hardlink target '%s' is not a file extracted earlier from this archive", target);
        }
        fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return fail(x, -errno, "duplicating a directory fd: %s", STRERROR(errno));
        return fd;
}

static int extract_hardlink(Extract *x, const char *target, char *const *comps, size_t n) {
        g_auto(GStrv) tcomps = NULL;
        g_autofree char *what = NULL;
        _cleanup_close_ int tdir_fd = -1;
        const char *last = comps[n - 1];
        struct stat tst, st;
        size_t tn = 0;
        int dir_fd, r;

        what = g_strdup_printf("hardlink target '%s'", target);
        r = split_path(x, what, target, &tcomps, &tn);
        if (r < 0)
                return r;
        if (tn <= x->strip)
                return fail(x, -EPERM, "hardlink target '%s' has no name left after stripping %u components",
                            target, x->strip);
        tdir_fd = open_hardlink_target(x, target, tcomps + x->strip, tn - x->strip, &tst);
        if (tdir_fd < 0)
                return tdir_fd;

        dir_fd = open_parent(x, comps, n, true);
        if (dir_fd < 0)
                return dir_fd;
        if (fstatat(dir_fd, last, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == tst.st_dev && st.st_ino == tst.st_ino)
                return 0;  /* linked already (or a link to itself) */
        r = make_room(x, dir_fd, last);
        if (r < 0)
                return r;
        /* flags 0: a symlink is never followed. */
        if (linkat(tdir_fd, tcomps[tn - 1], dir_fd, last, 0) < 0)
                return fail(x, -errno, "creating the hardlink: %s", STRERROR(errno));
        return 0;
}

/* A path of the entry (its name, or a link's target) as UTF-8, by the
 * rules for names: libarchive converts what the format says the encoding
 * is (UTF-16 in 7z, the UTF-8 flag of zip, pax headers, RAR's Unicode
 * names, name_encoding for the rest); bytes that are not UTF-8 after that
 * are refused, shown escaped, never used as they are. A backslash is a
 * directory separator, as the Windows tools that write it mean it. what
 * says which path it is, for messages; ret is NULL for a missing one. */
static int entry_path(Extract *x, const char *what, const char *utf8, const char *raw, char **ret) {
        const char *s = utf8 ? utf8 : raw;
        char *path;

        if (!s) {
                *ret = NULL;
                return 0;
        }
        if (!g_utf8_validate(s, -1, NULL)) {
                g_autofree char *bytes = escape_bytes(s), *shown = NULL;

                /* Every byte outside ASCII shown as \xNN: some of them may
                 * happen to form UTF-8, which would only mislead. */
                if (strcmp(what, "name") == 0) {
                        g_free(x->subject);
                        x->subject = describe("entry", bytes);
                        shown = g_strdup(what);
                } else
                        shown = describe(what, bytes);
                return fail(x, -EILSEQ, "the %s is not UTF-8; the archive was made with a legacy code page: import it "
                            "again naming that code page as the encoding of its names (for example CP1252 for Western "
                            "Europe, CP1251 or CP866 for Cyrillic, CP936 for Chinese; l4mctl overlay import "
                            "--name-encoding), or re-pack it with UTF-8 names", shown);
        }
        path = g_strdup(s);
        g_strdelimit(path, "\\", '/');
        *ret = path;
        return 0;
}

/* The entry's name, after the rules of entry_path(); a name libarchive
 * could not convert at all is refused with its reason. */
static int entry_name(Extract *x, struct archive_entry *e, char **ret) {
        const char *raw = sym_archive_entry_pathname(e);
        int r;

        r = entry_path(x, "name", sym_archive_entry_pathname_utf8(e), raw, ret);
        if (r < 0)
                return r;
        if (*ret)
                return 0;
        g_free(x->subject);
        x->subject = g_strdup_printf("entry %" G_GUINT64_FORMAT, x->entries);
        /* libarchive drops a name it cannot convert, and warns. */
        if (x->header_warning)
                return fail(x, -EILSEQ, "its name cannot be read: %s", x->header_warning);
        return fail(x, -EBADMSG, "it has no name");
}

/* An entry whose link target or type libarchive could not read (a target
 * that did not convert) comes with a warning: that is the reason. */
static int fail_unreadable(Extract *x, const char *what) {
        if (x->header_warning)
                return fail(x, -EILSEQ, "its %s cannot be read: %s", what, x->header_warning);
        return 0;
}

static int refuse_type(Extract *x, mode_t type) {
        switch (type) {
        case AE_IFCHR:
                return fail(x, -EPERM, "character device nodes are not allowed");
        case AE_IFBLK:
                return fail(x, -EPERM, "block device nodes are not allowed");
        case AE_IFIFO:
                return fail(x, -EPERM, "fifos are not allowed");
        case AE_IFSOCK:
                return fail(x, -EPERM, "sockets are not allowed");
        default:
                return fail(x, -EPERM, "unsupported entry type 0%o", (unsigned) type);
        }
}

static int extract_entry(Extract *x, struct archive_entry *e) {
        g_autofree char *name = NULL, *hardlink = NULL, *symlink = NULL;
        mode_t type = sym_archive_entry_filetype(e);
        g_auto(GStrv) comps = NULL;
        size_t n = 0;
        int r;

        x->entries++;
        x->entry_written = 0;
        r = entry_name(x, e, &name);
        if (r < 0)
                return r;
        g_free(x->subject);
        x->subject = describe("entry", name);
        g_free(x->last_name);
        x->last_name = g_strdup(name);
        r = entry_path(x, "hardlink target", sym_archive_entry_hardlink_utf8(e), sym_archive_entry_hardlink(e), &hardlink);
        if (r < 0)
                return r;
        if (!hardlink && type == 0) {
                r = fail_unreadable(x, "type or link target");
                if (r < 0)
                        return r;
        }

        if (x->entries > x->limits.max_entries)
                return fail(x, -E2BIG, "archive has more than the limit of %" G_GUINT64_FORMAT " entries (MaxEntries)",
                            x->limits.max_entries);
        if (sym_archive_entry_is_encrypted(e))
                return fail(x, -EOPNOTSUPP, "encrypted entries are not supported");
        if (!hardlink && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
                return refuse_type(x, type);

        r = split_path(x, "path", name, &comps, &n);
        if (r < 0)
                return r;
        if (n <= x->strip) {
                if (type == AE_IFDIR && !hardlink)
                        return 0;  /* the root, or a directory stripped away */
                if (n == 0)
                        return fail(x, -EPERM, "entry has no name");
                return fail(x, -EPERM, "no name left after stripping %u leading components", x->strip);
        }

        if (hardlink)
                r = extract_hardlink(x, hardlink, comps + x->strip, n - x->strip);
        else if (type == AE_IFREG)
                r = extract_file(x, e, comps + x->strip, n - x->strip);
        else if (type == AE_IFDIR)
                r = extract_dir(x, comps + x->strip, n - x->strip);
        else {
                assert(type == AE_IFLNK);
                r = entry_path(x, "symlink target", sym_archive_entry_symlink_utf8(e), sym_archive_entry_symlink(e), &symlink);
                if (r < 0)
                        return r;
                if (!symlink) {
                        r = fail_unreadable(x, "symlink target");
                        if (r < 0)
                                return r;
                }
                r = extract_symlink(x, symlink, comps + x->strip, n - x->strip);
        }
        if (r < 0)
                return r;
        x->extracted++;
        return 0;
}

static int enable_formats(struct archive *a) {
        /* An explicit list, and nothing else: never "raw" (anything would
         * be accepted as one file), never mtree (it references files on the
         * host), no filter that would run an external program. zip's entries
         * are those of its central directory, as zip tools take them: the
         * streaming reader would find a different set in the same file. */
        int (*const enable[])(struct archive *) = {
                sym_archive_read_support_format_tar,
                sym_archive_read_support_format_zip_seekable,
                sym_archive_read_support_format_7zip,
                sym_archive_read_support_format_rar,
                sym_archive_read_support_format_rar5,
                sym_archive_read_support_filter_gzip,
                sym_archive_read_support_filter_bzip2,
                sym_archive_read_support_filter_xz,
                sym_archive_read_support_filter_zstd,
        };

        for (size_t i = 0; i < L4M_ELEMENTSOF(enable); i++)
                if (enable[i](a) != ARCHIVE_OK)
                        return -EOPNOTSUPP;
        return 0;
}

static void on_spool_progress(uint64_t bytes, void *userdata) {
        Extract *x = userdata;

        x->bytes_in = bytes;
        report_progress(x, false);
}

/* A pipe or socket is copied into a file without a name first; from then
 * on it is read as any file. */
static int spool(Extract *x) {
        uint64_t size = 0;
        int fd;

        fd = archive_spool(x->archive_fd, x->root_fd, x->limits.max_bytes, x->cancel, on_spool_progress, x, &size);
        if (fd == -ECANCELED)
                return fail_cancelled(x);
        if (fd == -EFBIG)
                return fail(x, -EFBIG, "the archive is larger than the limit of %" G_GUINT64_FORMAT " bytes (MaxBytes)",
                            x->limits.max_bytes);
        if (fd < 0)
                return fail(x, fd, "copying the archive from the pipe into a file: %s", STRERROR(fd));
        x->spool_fd = x->archive_fd = fd;
        x->base = 0;
        x->archive_size = size;
        x->bytes_in = x->reported_in = 0;
        return 0;
}

static uint64_t saturating_mul(uint64_t a, uint64_t b) {
        return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

static int open_input(Extract *x) {
        g_autofree char *volume = NULL;
        struct stat st;
        int r;

        if (fstat(x->archive_fd, &st) < 0)
                return fail(x, -errno, "inspecting the archive fd: %s", STRERROR(errno));
        if (S_ISDIR(st.st_mode))
                return fail(x, -EISDIR, "the archive is a directory");
        x->base = S_ISREG(st.st_mode) ? lseek(x->archive_fd, 0, SEEK_CUR) : -1;
        if (x->base < 0) {
                r = spool(x);
                if (r < 0)
                        return r;
        } else
                x->archive_size = (uint64_t) MAX(st.st_size - x->base, (off_t) 0);

        if (x->archive_size == 0)
                return fail(x, -EBADMSG, "the archive is empty");
        x->ratio_cap = saturating_mul(x->limits.max_ratio, MAX(x->archive_size, ARCHIVE_RATIO_MIN_BASE));

        r = archive_detect_volume(x->archive_fd, x->base, x->archive_size, &volume);
        if (r < 0)
                return fail(x, r, "reading the archive: %s", STRERROR(r));
        if (r == ARCHIVE_VOLUME_OR_TRUNCATED)
                return fail(x, -EBADMSG, "%s; multi-volume archives are not supported: join the parts into one "
                            "archive and import that", volume);
        if (r > 0)
                return fail(x, -EOPNOTSUPP, "multi-volume (split) archives are not supported, and this is %s: join "
                            "the parts into one archive and import that", volume);
        return 0;
}

static int open_archive(Extract *x) {
        g_autofree char *option = NULL;
        int r;

        r = open_input(x);
        if (r < 0)
                return r;

        r = dlopen_archive();
        if (r < 0)
                return fail(x, r, "libarchive cannot be loaded (see the journal)");
        x->archive = sym_archive_read_new();
        if (!x->archive)
                return fail(x, -ENOMEM, "out of memory");
        r = enable_formats(x->archive);
        if (r < 0)
                return fail(x, r, "libarchive lacks a required format or filter: %s",
                            archive_message(x->archive));
        if (x->name_encoding) {
                /* Every name of a format that does not say its encoding
                 * is decoded with it; formats that say (7z, zip's UTF-8
                 * flag, pax, RAR's Unicode names) ignore it. */
                option = g_strdup_printf("hdrcharset=%s", x->name_encoding);
                r = sym_archive_read_set_options(x->archive, option);
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                        return fail(x, -EINVAL, "unknown name encoding '%s': %s", x->name_encoding,
                                    archive_message(x->archive));
        }

        x->in_buf = g_malloc(IN_BLOCK_SIZE);
        if (sym_archive_read_set_callback_data(x->archive, x) != ARCHIVE_OK ||
            sym_archive_read_set_read_callback(x->archive, read_cb) != ARCHIVE_OK ||
            sym_archive_read_set_seek_callback(x->archive, seek_cb) != ARCHIVE_OK ||
            sym_archive_read_set_skip_callback(x->archive, skip_cb) != ARCHIVE_OK)
                return fail_archive(x, "setting up libarchive");
        if (sym_archive_read_open1(x->archive) != ARCHIVE_OK)
                return fail_header(x);
        return 0;
}

/* An import that makes nothing would replace an overlay's content with
 * nothing: a file whose first block is zeros (a disk image, zeros) reads
 * as an empty tar, and so do some damaged archives. */
static int fail_nothing_extracted(Extract *x) {
        g_clear_pointer(&x->subject, g_free);
        if (x->entries == 0)
                return fail(x, -EBADMSG, "the archive has no entries: it is empty, or not an archive at all "
                            "(read as %s, it ended before its first entry)", sym_archive_format_name(x->archive));
        return fail(x, -EBADMSG, "nothing to import: every one of the %" G_GUINT64_FORMAT " entries is a directory "
                    "that strip_components %u removes", x->entries, x->strip);
}

static int extract_all(Extract *x) {
        for (;;) {
                struct archive_entry *e;
                int r;

                if (check_cancel(x))
                        return fail_cancelled(x);

                r = sym_archive_read_next_header(x->archive, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
                        return fail_header(x);
                g_free(x->header_warning);
                x->header_warning = r == ARCHIVE_WARN ? g_strchomp(g_strdup(archive_message(x->archive))) : NULL;
                if (x->entries == 0) {
                        r = check_container(x);
                        if (r < 0)
                                return r;
                }

                r = extract_entry(x, e);
                if (r < 0)
                        return r;
                report_progress(x, true);
        }
        if (x->extracted == 0)
                return fail_nothing_extracted(x);
        return 0;
}

static int open_root(Extract *x, int dest_fd, const char *subdir) {
        g_auto(GStrv) comps = NULL;
        _cleanup_close_ int fd = -1;
        size_t n = 0;
        int r;

        fd = fcntl(dest_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return fail(x, -errno, "duplicating the destination fd: %s", STRERROR(errno));
        if (!subdir || !*subdir) {
                x->root_fd = l4m_take_fd(&fd);
                return 0;
        }

        x->subject = describe("subdirectory", subdir);
        r = split_path(x, "path", subdir, &comps, &n);
        if (r < 0)
                return -EINVAL;  /* split_path() said why */
        for (size_t i = 0; i < n; i++) {
                int next = open_subdir(x, fd, comps[i], true);
                if (next < 0)
                        return next;
                l4m_close_fdp(&fd);
                fd = next;
        }
        g_clear_pointer(&x->subject, g_free);
        x->root_fd = l4m_take_fd(&fd);
        x->root_depth = (unsigned) n;
        return 0;
}

static ArchiveLimits limits_or_defaults(const ArchiveLimits *l) {
        return (ArchiveLimits) {
                .max_bytes = l && l->max_bytes ? l->max_bytes : L4M_ARCHIVE_DEFAULT_MAX_BYTES,
                .max_entries = l && l->max_entries ? l->max_entries : L4M_ARCHIVE_DEFAULT_MAX_ENTRIES,
                .max_entry_bytes = l && l->max_entry_bytes ? l->max_entry_bytes : L4M_ARCHIVE_DEFAULT_MAX_ENTRY_BYTES,
                .max_ratio = l && l->max_ratio ? l->max_ratio : L4M_ARCHIVE_DEFAULT_MAX_RATIO,
                .has_budget = l && l->has_budget,
                .budget_bytes = l ? l->budget_bytes : 0,
        };
}

static void extract_clear(Extract *x) {
        if (x->archive)
                sym_archive_read_free(x->archive);
        g_free(x->in_buf);
        l4m_close_fdp(&x->spool_fd);
        l4m_close_fdp(&x->root_fd);
        l4m_close_fdp(&x->parent_fd);
        g_free(x->parent_key);
        g_free(x->subject);
        g_free(x->header_warning);
        g_free(x->last_name);
        g_free(x->error);
        if (x->created_files)
                g_hash_table_destroy(x->created_files);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Extract, extract_clear)

locale_t archive_utf8_locale_new(void) {
        static int warned = 0;
        locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t) 0);

        if (utf8 == (locale_t) 0 && !__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
                log_warning_errno(-errno, "The C.UTF-8 locale is missing; archive entry names outside ASCII "
                                  "will be refused: %s", STRERROR(errno));
        return utf8;
}

int archive_extract(int archive_fd, int dest_fd, const ArchiveExtractOptions *opts,
                    ArchiveProgressFunc progress, void *userdata,
                    const volatile int *cancel, char **ret_error) {
        g_auto(Extract) x = {
                .archive_fd = archive_fd,
                .spool_fd = -1,
                .root_fd = -1,
                .parent_fd = -1,
                .strip = opts ? opts->strip_components : 0,
                .name_encoding = opts && opts->name_encoding && *opts->name_encoding ? opts->name_encoding : NULL,
                .limits = limits_or_defaults(opts ? &opts->limits : NULL),
                .progress = progress,
                .userdata = userdata,
                .cancel = cancel,
                .created_files = g_hash_table_new_full(file_id_hash, file_id_equal, g_free, NULL),
        };
        locale_t utf8 = archive_utf8_locale_new(), previous = (locale_t) 0;
        int r;

        assert(archive_fd >= 0);
        assert(dest_fd >= 0);

        if (ret_error)
                *ret_error = NULL;
        if (utf8 != (locale_t) 0)
                previous = uselocale(utf8);

        r = open_root(&x, dest_fd, opts ? opts->subdir : NULL);
        if (r >= 0)
                r = open_archive(&x);
        if (r >= 0)
                r = extract_all(&x);

        if (r < 0) {
                if (!x.error)  /* every failure path sets one; never leave the caller without */
                        x.error = g_strdup(STRERROR(r));
                log_debug_errno(r, "Archive extraction failed: %s", x.error);
                if (ret_error)
                        *ret_error = g_steal_pointer(&x.error);
        }
        /* libarchive's conversions are tied to the locale: gone before it. */
        if (x.archive) {
                sym_archive_read_free(x.archive);
                x.archive = NULL;
        }
        if (utf8 != (locale_t) 0) {
                uselocale(previous);
                freelocale(utf8);
        }
        return r;
}
