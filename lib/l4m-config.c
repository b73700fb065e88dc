/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "l4m-config.h"
#include "l4m-log.h"
#include "l4m-size.h"
#include "l4m-util.h"

#define PATH_VALUE_MAX 4096
#define URL_VALUE_MAX 2048
/* How much of a name or a value a problem quotes. */
#define QUOTE_MAX 64

typedef struct ConfigTable {
        const L4mConfigKey *keys;
        size_t n_keys;
        void *settings;
        const char **origin_files;      /* per key: where it was last set (into L4mConfig.files), or NULL */
        unsigned *origin_lines;
} ConfigTable;

struct L4mConfig {
        L4mConfigFlags flags;
        GArray *tables;                 /* ConfigTable */
        GPtrArray *files;               /* char *: every file read, owned; origins point here */
        GPtrArray *problems;            /* L4mConfigProblem * */
        bool problems_cut;              /* more than L4M_CONFIG_PROBLEMS_MAX */
};

/* One "Key=value" line of a file. */
typedef struct Entry {
        unsigned line;
        const char *group;              /* into the file's text */
        const char *key;
        const char *value;
        bool group_line;                /* a "[Group]" line: key and value are NULL */
} Entry;

static void problem_free(L4mConfigProblem *p) {
        if (!p)
                return;
        g_free(p->file);
        g_free(p->group);
        g_free(p->key);
        g_free(p->message);
        g_free(p);
}

L4mConfig *l4m_config_new(L4mConfigFlags flags) {
        L4mConfig *c = g_new0(L4mConfig, 1);

        c->flags = flags;
        c->tables = g_array_new(false, true, sizeof(ConfigTable));
        c->files = g_ptr_array_new_with_free_func(g_free);
        c->problems = g_ptr_array_new_with_free_func((GDestroyNotify) problem_free);
        return c;
}

void l4m_config_free(L4mConfig *c) {
        if (!c)
                return;
        for (guint i = 0; i < c->tables->len; i++) {
                ConfigTable *t = &g_array_index(c->tables, ConfigTable, i);

                g_free(t->origin_files);
                g_free(t->origin_lines);
        }
        g_array_unref(c->tables);
        g_ptr_array_unref(c->files);
        g_ptr_array_unref(c->problems);
        g_free(c);
}

void l4m_config_add_table(L4mConfig *c, const L4mConfigKey *keys, size_t n_keys, void *settings) {
        ConfigTable t = {
                .keys = keys,
                .n_keys = n_keys,
                .settings = settings,
                .origin_files = g_new0(const char *, n_keys),
                .origin_lines = g_new0(unsigned, n_keys),
        };

        assert(c);
        assert(keys || n_keys == 0);
        assert(settings);
        g_array_append_val(c->tables, t);
}

static void add_problemv(L4mConfig *c, const char *file, unsigned line, const char *group, const char *key,
                         const char *format, va_list ap) G_GNUC_PRINTF(6, 0);

static void add_problemv(L4mConfig *c, const char *file, unsigned line, const char *group, const char *key,
                         const char *format, va_list ap) {
        L4mConfigProblem *p;

        if (c->problems->len >= L4M_CONFIG_PROBLEMS_MAX) {
                if (!c->problems_cut) {
                        c->problems_cut = true;
                        p = g_new0(L4mConfigProblem, 1);
                        p->file = g_strdup(file);
                        p->message = g_strdup_printf("more than %d problems, the rest are not listed",
                                                     L4M_CONFIG_PROBLEMS_MAX);
                        g_ptr_array_add(c->problems, p);
                }
                return;
        }
        p = g_new0(L4mConfigProblem, 1);
        p->file = g_strdup(file);
        p->line = line;
        p->group = g_strdup(group);
        p->key = g_strdup(key);
        p->message = g_strdup_vprintf(format, ap);
        g_ptr_array_add(c->problems, p);
}

void l4m_config_add_problem(L4mConfig *c, const char *file, unsigned line, const char *group, const char *key,
                            const char *format, ...) {
        va_list ap;

        assert(c);
        assert(file);
        va_start(ap, format);
        add_problemv(c, file, line, group, key, format, ap);
        va_end(ap);
}

const GPtrArray *l4m_config_problems(const L4mConfig *c) {
        assert(c);
        return c->problems;
}

/* s cut to max bytes, valid UTF-8, control characters as '?'. */
static char *printable(const char *s, size_t max) {
        size_t len = strlen(s);
        g_autofree char *cut = g_strndup(s, MIN(len, max));
        char *valid = g_utf8_make_valid(cut, -1);

        for (char *p = valid; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = '?';
        if (len > max) {
                char *longer = g_strconcat(valid, "…", NULL);
                g_free(valid);
                valid = longer;
        }
        return valid;
}

char *l4m_config_problem_format(const L4mConfigProblem *p) {
        g_autoptr(GString) s = g_string_new(NULL);
        g_autofree char *file = printable(p->file, PATH_VALUE_MAX);

        assert(p);
        g_string_append(s, file);
        if (p->line > 0)
                g_string_append_printf(s, ":%u", p->line);
        g_string_append(s, ": ");
        if (p->group) {
                g_autofree char *group = printable(p->group, QUOTE_MAX);

                g_string_append_printf(s, "[%s]", group);
                if (p->key) {
                        g_autofree char *key = printable(p->key, QUOTE_MAX);

                        g_string_append_printf(s, " %s=", key);
                }
                g_string_append(s, ": ");
        }
        {
                g_autofree char *message = printable(p->message, 4 * QUOTE_MAX + 256);
                g_string_append(s, message);
        }
        return g_string_free(g_steal_pointer(&s), false);
}

char **l4m_config_problem_lines(const L4mConfig *c) {
        char **lines = g_new0(char *, c->problems->len + 1);

        for (guint i = 0; i < c->problems->len; i++)
                lines[i] = l4m_config_problem_format(c->problems->pdata[i]);
        return lines;
}

void l4m_config_log_problems(const L4mConfig *c) {
        for (guint i = 0; i < c->problems->len; i++) {
                g_autofree char *line = l4m_config_problem_format(c->problems->pdata[i]);
                log_warning("%s", line);
        }
}

static const char *remember_file(L4mConfig *c, const char *path) {
        char *copy = g_strdup(path);

        g_ptr_array_add(c->files, copy);
        return copy;
}

static bool find_key(L4mConfig *c, const char *group, const char *key, ConfigTable **ret_table, size_t *ret_index) {
        for (guint i = 0; i < c->tables->len; i++) {
                ConfigTable *t = &g_array_index(c->tables, ConfigTable, i);

                for (size_t k = 0; k < t->n_keys; k++)
                        if (strcmp(t->keys[k].group, group) == 0 && strcmp(t->keys[k].key, key) == 0) {
                                *ret_table = t;
                                *ret_index = k;
                                return true;
                        }
        }
        return false;
}

static bool group_is_known(L4mConfig *c, const char *group) {
        for (guint i = 0; i < c->tables->len; i++) {
                const ConfigTable *t = &g_array_index(c->tables, ConfigTable, i);

                for (size_t k = 0; k < t->n_keys; k++)
                        if (strcmp(t->keys[k].group, group) == 0)
                                return true;
        }
        return false;
}

bool l4m_config_origin(const L4mConfig *c, const char *group, const char *key, const char **ret_file,
                       unsigned *ret_line) {
        ConfigTable *t;
        size_t k;

        assert(c);
        if (!find_key((L4mConfig *) c, group, key, &t, &k) || !t->origin_files[k])
                return false;
        if (ret_file)
                *ret_file = t->origin_files[k];
        if (ret_line)
                *ret_line = t->origin_lines[k];
        return true;
}

/* A size for a message: with the largest suffix that divides it. */
static char *format_size(uint64_t n) {
        return l4m_format_size(n);
}

/* What a value of key k must be, for a problem. */
static char *describe(const L4mConfigKey *k) {
        const char *or_infinity = k->infinity ? ", or infinity" : "";

        switch (k->kind) {
        case L4M_CONFIG_PATH:
                return g_strdup("an absolute path");
        case L4M_CONFIG_URL:
                return g_strdup("an http:// or https:// URL");
        case L4M_CONFIG_UNSIGNED:
        case L4M_CONFIG_UINT64:
                return g_strdup_printf("a whole number from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT "%s",
                                       k->min, k->max, or_infinity);
        case L4M_CONFIG_SIZE: {
                g_autofree char *min = format_size(k->min), *max = format_size(k->max);

                return g_strdup_printf("a size from %s to %s (bytes, or a number with K, M, G or T)%s", min, max,
                                       or_infinity);
        }
        case L4M_CONFIG_SECONDS:
                return g_strdup_printf("whole seconds from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT, k->min,
                                       k->max);
        case L4M_CONFIG_PERCENT:
                return g_strdup_printf("a percentage from %" G_GUINT64_FORMAT "%% to %" G_GUINT64_FORMAT "%%%s",
                                       k->min, k->max, or_infinity);
        case L4M_CONFIG_PORT:
                return g_strdup_printf("a port from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT, k->min, k->max);
        case L4M_CONFIG_CUSTOM:
                return g_strdup(k->expect);
        }
        assert(!"unknown configuration key kind");
        return NULL;
}

static bool parse_number(const char *s, uint64_t min, uint64_t max, uint64_t *ret) {
        guint64 n;

        if (!g_ascii_string_to_unsigned(s, 10, min, max, &n, NULL))
                return false;
        *ret = n;
        return true;
}

static void replace_string(void *field, char *value) {
        g_free(*(char **) field);
        *(char **) field = value;
}

/* Stores value into k's field; false if it does not parse (the field is
 * left as it was). */
static bool apply_value(const L4mConfigKey *k, void *settings, const char *value) {
        void *field = (char *) settings + k->offset;
        size_t len = strlen(value);
        uint64_t n;

        if (k->infinity && strcmp(value, "infinity") == 0) {
                assert(k->kind == L4M_CONFIG_UINT64 || k->kind == L4M_CONFIG_SIZE || k->kind == L4M_CONFIG_PERCENT);
                if (k->kind == L4M_CONFIG_PERCENT)
                        *(unsigned *) field = UINT_MAX;
                else
                        *(uint64_t *) field = UINT64_MAX;
                return true;
        }

        switch (k->kind) {
        case L4M_CONFIG_PATH:
                if (value[0] != '/' || len >= PATH_VALUE_MAX)
                        return false;
                replace_string(field, g_strdup(value));
                return true;
        case L4M_CONFIG_URL:
                if (!(g_str_has_prefix(value, "http://") || g_str_has_prefix(value, "https://")) ||
                    len >= URL_VALUE_MAX || strpbrk(value, " \t\r\n"))
                        return false;
                /* Base URLs are joined with API paths: keep exactly one '/'. */
                replace_string(field, g_str_has_suffix(value, "/") ? g_strdup(value) : g_strconcat(value, "/", NULL));
                return true;
        case L4M_CONFIG_UNSIGNED:
        case L4M_CONFIG_PORT:
                assert(k->max <= UINT_MAX);
                if (!parse_number(value, k->min, k->max, &n))
                        return false;
                *(unsigned *) field = (unsigned) n;
                return true;
        case L4M_CONFIG_UINT64:
                return parse_number(value, k->min, k->max, (uint64_t *) field);
        case L4M_CONFIG_SIZE:
                return l4m_parse_size(value, k->min, k->max, (uint64_t *) field);
        case L4M_CONFIG_SECONDS:
                assert(k->max <= UINT64_MAX / G_USEC_PER_SEC);
                if (!parse_number(value, k->min, k->max, &n))
                        return false;
                *(uint64_t *) field = n * G_USEC_PER_SEC;
                return true;
        case L4M_CONFIG_PERCENT: {
                g_autofree char *digits = NULL;

                assert(k->max <= UINT_MAX);
                if (len < 2 || value[len - 1] != '%')
                        return false;
                digits = g_strndup(value, len - 1);
                if (!parse_number(digits, k->min, k->max, &n))
                        return false;
                *(unsigned *) field = (unsigned) n;
                return true;
        }
        case L4M_CONFIG_CUSTOM:
                assert(k->parse);
                return k->parse(value, field) >= 0;
        }
        assert(!"unknown configuration key kind");
        return false;
}

static void apply_entry(L4mConfig *c, const char *file, const Entry *e) {
        ConfigTable *t;
        size_t k;

        if (!find_key(c, e->group, e->key, &t, &k)) {
                if (group_is_known(c, e->group))
                        l4m_config_add_problem(c, file, e->line, e->group, e->key, "unknown key, ignored");
                return;         /* a group nobody has was reported at its line, or is another program's */
        }
        if (!apply_value(&t->keys[k], t->settings, e->value)) {
                g_autofree char *quoted = printable(e->value, QUOTE_MAX);
                g_autofree char *expected = describe(&t->keys[k]);

                l4m_config_add_problem(c, file, e->line, e->group, e->key, "invalid value \"%s\", ignored: expected %s",
                                       quoted, expected);
                return;
        }
        t->origin_files[k] = file;
        t->origin_lines[k] = e->line;
}

/* "[Name]" with blanks after it; name non-empty, without brackets and
 * control characters. */
static bool parse_group_line(char *s, const char **ret_name) {
        char *end = strchr(s, ']');

        if (!end || end == s + 1)
                return false;
        for (char *p = end + 1; *p; p++)
                if (*p != ' ' && *p != '\t')
                        return false;
        *end = '\0';
        for (char *p = s + 1; *p; p++)
                if (*p == '[' || (unsigned char) *p < 0x20 || *p == 0x7f)
                        return false;
        *ret_name = s + 1;
        return true;
}

/* Splits text (modified in place) into entries; false with the problem
 * recorded when a line is not of the syntax, which spoils the file. */
static bool parse_text(L4mConfig *c, const char *file, char *text, GArray *entries) {
        const char *group = NULL;
        unsigned line = 0;
        char *next = text;

        while (next) {
                char *s = next, *nl = strchr(s, '\n'), *eq;
                size_t len;
                Entry e = { 0 };

                line++;
                if (nl)
                        *nl = '\0';
                next = nl ? nl + 1 : NULL;
                len = strlen(s);
                if (len > 0 && s[len - 1] == '\r')
                        s[len - 1] = '\0';
                if (!g_utf8_validate(s, -1, NULL)) {
                        l4m_config_add_problem(c, file, line, NULL, NULL, "not valid UTF-8, file ignored");
                        return false;
                }
                while (g_ascii_isspace(*s))
                        s++;
                if (*s == '\0' || *s == '#')
                        continue;
                if (*s == '[') {
                        if (!parse_group_line(s, &group)) {
                                l4m_config_add_problem(c, file, line, NULL, NULL,
                                                       "invalid section header, file ignored");
                                return false;
                        }
                        e = (Entry) { .line = line, .group = group, .group_line = true };
                        g_array_append_val(entries, e);
                        continue;
                }
                eq = strchr(s, '=');
                if (!eq || eq == s) {
                        l4m_config_add_problem(c, file, line, NULL, NULL,
                                               "not a [Section], Key=value or # comment line, file ignored");
                        return false;
                }
                if (!group) {
                        l4m_config_add_problem(c, file, line, NULL, NULL, "key before any [Section], file ignored");
                        return false;
                }
                *eq = '\0';
                e = (Entry) { .line = line, .group = group, .key = g_strchomp(s), .value = g_strstrip(eq + 1) };
                g_array_append_val(entries, e);
        }
        return true;
}

/* The file's text, at most L4M_CONFIG_FILE_SIZE_MAX bytes; NULL when it
 * is missing (no problem) or cannot be read (problem recorded). A symbolic
 * link to /dev/null masks a file, as with systemd's drop-ins. */
static char *read_text(L4mConfig *c, const char *path) {
        _cleanup_close_ int fd = -1;
        g_autofree char *text = NULL;
        struct stat st;
        size_t len = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                if (errno != ENOENT)
                        l4m_config_add_problem(c, path, 0, NULL, NULL, "cannot open: %s, ignored", STRERROR(errno));
                return NULL;
        }
        if (fstat(fd, &st) < 0) {
                l4m_config_add_problem(c, path, 0, NULL, NULL, "cannot stat: %s, ignored", STRERROR(errno));
                return NULL;
        }
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
                return g_strdup("");
        if (!S_ISREG(st.st_mode)) {
                l4m_config_add_problem(c, path, 0, NULL, NULL, "not a regular file, ignored");
                return NULL;
        }
        if ((uint64_t) st.st_size > L4M_CONFIG_FILE_SIZE_MAX) {
                l4m_config_add_problem(c, path, 0, NULL, NULL, "larger than %" G_GUINT64_FORMAT " bytes, ignored",
                                       L4M_CONFIG_FILE_SIZE_MAX);
                return NULL;
        }
        text = g_malloc(L4M_CONFIG_FILE_SIZE_MAX + 1);
        for (;;) {
                ssize_t n = read(fd, text + len, L4M_CONFIG_FILE_SIZE_MAX + 1 - len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        l4m_config_add_problem(c, path, 0, NULL, NULL, "cannot read: %s, ignored", STRERROR(errno));
                        return NULL;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len > L4M_CONFIG_FILE_SIZE_MAX) {
                        l4m_config_add_problem(c, path, 0, NULL, NULL,
                                               "larger than %" G_GUINT64_FORMAT " bytes, ignored",
                                               L4M_CONFIG_FILE_SIZE_MAX);
                        return NULL;
                }
        }
        if (memchr(text, '\0', len)) {
                l4m_config_add_problem(c, path, 0, NULL, NULL, "contains a NUL byte, ignored");
                return NULL;
        }
        text[len] = '\0';
        return g_realloc(g_steal_pointer(&text), len + 1);
}

void l4m_config_read_file(L4mConfig *c, const char *path) {
        g_autofree char *text = NULL;
        g_autoptr(GArray) entries = g_array_new(false, true, sizeof(Entry));
        const char *file;

        assert(c);
        assert(path);
        text = read_text(c, path);
        if (!text)
                return;
        file = remember_file(c, path);
        if (!parse_text(c, file, text, entries))
                return;
        for (guint i = 0; i < entries->len; i++) {
                const Entry *e = &g_array_index(entries, Entry, i);

                if (!e->group_line)
                        apply_entry(c, file, e);
                else if (!(c->flags & L4M_CONFIG_OTHER_GROUPS_IGNORED) && !group_is_known(c, e->group))
                        l4m_config_add_problem(c, file, e->line, e->group, NULL, "unknown section, ignored");
        }
}

static gint compare_strings(gconstpointer a, gconstpointer b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

void l4m_config_read_dir(L4mConfig *c, const char *dir) {
        g_autofree char *main_file = g_build_filename(dir, L4M_CONFIG_FILE, NULL);
        g_autofree char *dropin_dir = g_build_filename(dir, L4M_CONFIG_DROPIN_DIR, NULL);
        g_autoptr(GPtrArray) dropins = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GDir) d = NULL;
        g_autoptr(GError) error = NULL;
        const char *name;

        assert(c);
        assert(dir);
        l4m_config_read_file(c, main_file);

        d = g_dir_open(dropin_dir, 0, &error);
        if (!d) {
                if (!g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
                        l4m_config_add_problem(c, dropin_dir, 0, NULL, NULL, "%s, ignored", error->message);
                return;
        }
        while ((name = g_dir_read_name(d))) {
                if (!g_str_has_suffix(name, ".conf") || name[0] == '.')
                        continue;
                if (dropins->len >= L4M_CONFIG_DROPINS_MAX) {
                        l4m_config_add_problem(c, dropin_dir, 0, NULL, NULL,
                                               "more than %d drop-ins, the rest are ignored", L4M_CONFIG_DROPINS_MAX);
                        break;
                }
                g_ptr_array_add(dropins, g_strdup(name));
        }
        g_ptr_array_sort(dropins, compare_strings);
        for (guint i = 0; i < dropins->len; i++) {
                g_autofree char *path = g_build_filename(dropin_dir, dropins->pdata[i], NULL);
                l4m_config_read_file(c, path);
        }
}
