/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "l4m-instance-env.h"
#include "l4m-names.h"
#include "l4m-util.h"

#define OVERLAYS_PREFIX "overlays/"
#define RUNTIME_PREFIX "runtime/"
#define CONFIG_SUFFIX "/config"
#define SHOWN_MAX 64

static int set_error(char **ret_error, int r, const char *format, ...) G_GNUC_PRINTF(3, 4);
static int set_error(char **ret_error, int r, const char *format, ...) {
        va_list ap;

        if (ret_error) {
                va_start(ap, format);
                g_free(*ret_error);
                *ret_error = g_strdup_vprintf(format, ap);
                va_end(ap);
        }
        return r;
}

/* Untrusted text for a message: escaped and cut short. */
static char *shown(const char *s) {
        g_autofree char *head = g_strndup(s, SHOWN_MAX);
        g_autofree char *esc = g_strescape(head, NULL);

        return g_strconcat("'", esc, strlen(s) > SHOWN_MAX ? "'…" : "'", NULL);
}

void l4m_instance_env_free(L4mInstanceEnv *e) {
        if (!e)
                return;
        g_free(e->name);
        g_strfreev(e->layers);
        g_free(e);
}

char *l4m_instance_env_overlay_layer(uint64_t id) {
        return g_strdup_printf(OVERLAYS_PREFIX "%" PRIu64, id);
}

char *l4m_instance_env_config_layer(const char *name) {
        return g_strconcat(RUNTIME_PREFIX, name, CONFIG_SUFFIX, NULL);
}

/* Canonical decimal of a uint64 id >= 1: [1-9][0-9]*, no overflow. */
static bool is_canonical_id(const char *s) {
        uint64_t v = 0;

        if (s[0] < '1' || s[0] > '9')
                return false;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return false;
                if (v > (UINT64_MAX - (uint64_t) (*p - '0')) / 10)
                        return false;
                v = v * 10 + (uint64_t) (*p - '0');
        }
        return true;
}

int l4m_instance_env_check_layer(const char *name, const char *layer, char **ret_error) {
        g_autofree char *s = NULL;

        if (!layer || !name)
                return -EINVAL;
        if (strcmp(layer, L4M_INSTANCE_ENV_INSTALLATION) == 0)
                return 0;
        if (g_str_has_prefix(layer, OVERLAYS_PREFIX) && is_canonical_id(layer + strlen(OVERLAYS_PREFIX)))
                return 0;
        if (g_str_has_prefix(layer, RUNTIME_PREFIX) && g_str_has_suffix(layer, CONFIG_SUFFIX)) {
                g_autofree char *own = l4m_instance_env_config_layer(name);

                if (strcmp(layer, own) == 0)
                        return 0;
                s = shown(layer);
                return set_error(ret_error, -EINVAL, "layer %s is not this instance's config layer (%s)", s, own);
        }
        s = shown(layer);
        if (layer[0] == '\0')
                return set_error(ret_error, -EINVAL, "empty layer");
        if (layer[0] == '/')
                return set_error(ret_error, -EINVAL, "layer %s is an absolute path", s);
        return set_error(ret_error, -EINVAL,
                         "layer %s is not one of overlays/<id>, runtime/%s/config, installation", s, name);
}

int l4m_instance_env_check_layers(const char *name, char *const *layers, size_t n_layers, char **ret_error) {
        g_autoptr(GHashTable) seen = NULL;
        int r;

        if (!l4m_name_is_valid(name)) {
                g_autofree char *s = shown(name ? name : "");
                return set_error(ret_error, -EINVAL, "invalid instance name %s", s);
        }
        if (n_layers == 0)
                return set_error(ret_error, -EINVAL, "no layers");
        if (n_layers > L4M_INSTANCE_ENV_MAX_LAYERS)
                return set_error(ret_error, -EINVAL, "%zu layers, more than the %d overlayfs allows",
                                 n_layers, L4M_INSTANCE_ENV_MAX_LAYERS);

        seen = g_hash_table_new(g_str_hash, g_str_equal);
        for (size_t i = 0; i < n_layers; i++) {
                r = l4m_instance_env_check_layer(name, layers[i], ret_error);
                if (r < 0)
                        return r;
                if (!g_hash_table_add(seen, layers[i]))
                        return set_error(ret_error, -EINVAL, "layer '%s' appears twice", layers[i]);
        }
        if (strcmp(layers[n_layers - 1], L4M_INSTANCE_ENV_INSTALLATION) != 0)
                return set_error(ret_error, -EINVAL, "the last layer is '%s', not " L4M_INSTANCE_ENV_INSTALLATION,
                                 layers[n_layers - 1]);
        return 0;
}

static bool is_key(const char *s, size_t n) {
        if (n == 0 || s[0] < 'A' || s[0] > 'Z')
                return false;
        for (size_t i = 1; i < n; i++)
                if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
                        return false;
        return true;
}

int l4m_instance_env_parse(const char *text, size_t len, const char *expected_name,
                           L4mInstanceEnv **ret, char **ret_error) {
        g_autoptr(L4mInstanceEnv) e = NULL;
        g_autoptr(GHashTable) keys = NULL;
        g_autofree char *layers = NULL, *k1 = NULL, *k2 = NULL;
        g_auto(GStrv) lines = NULL;
        g_autofree char *copy = NULL;
        int r;

        if (len > L4M_INSTANCE_ENV_MAX_BYTES)
                return set_error(ret_error, -EFBIG, "%zu bytes, more than %d", len, L4M_INSTANCE_ENV_MAX_BYTES);
        for (size_t i = 0, line = 1; i < len; i++) {
                unsigned char c = (unsigned char) text[i];

                if (c == '\n')
                        line++;
                else if (c < 0x20 || c == 0x7f)
                        return set_error(ret_error, -EINVAL, "line %zu holds the control byte 0x%02x", line, c);
        }

        copy = g_strndup(text, len);
        lines = g_strsplit(copy, "\n", -1);
        keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        for (size_t i = 0; lines[i]; i++) {
                const char *l = lines[i], *eq;

                if (l[0] == '\0' || l[0] == '#')
                        continue;
                eq = strchr(l, '=');
                if (!eq || !is_key(l, (size_t) (eq - l))) {
                        g_autofree char *s = shown(l);
                        return set_error(ret_error, -EINVAL, "line %zu is not KEY=VALUE: %s", i + 1, s);
                }
                if (!g_hash_table_insert(keys, g_strndup(l, (size_t) (eq - l)), g_strdup(eq + 1)))
                        return set_error(ret_error, -EINVAL, "line %zu: key %.*s appears twice",
                                         i + 1, (int) (eq - l), l);
        }

        e = g_new0(L4mInstanceEnv, 1);
        if (!g_hash_table_steal_extended(keys, "NAME", (gpointer *) &k1, (gpointer *) &e->name))
                return set_error(ret_error, -EINVAL, "no NAME=");
        if (!l4m_name_is_valid(e->name)) {
                g_autofree char *s = shown(e->name);
                return set_error(ret_error, -EINVAL, "NAME=%s is not a valid instance name", s);
        }
        if (expected_name && strcmp(e->name, expected_name) != 0)
                return set_error(ret_error, -EINVAL, "NAME=%s, but the instance is %s", e->name, expected_name);

        if (!g_hash_table_steal_extended(keys, "LAYERS", (gpointer *) &k2, (gpointer *) &layers))
                return set_error(ret_error, -EINVAL, "no LAYERS=");
        if (layers[0] == '\0')
                return set_error(ret_error, -EINVAL, "LAYERS= is empty");
        e->layers = g_strsplit(layers, ":", -1);
        e->n_layers = g_strv_length(e->layers);
        r = l4m_instance_env_check_layers(e->name, e->layers, e->n_layers, ret_error);
        if (r < 0)
                return r;

        if (ret)
                *ret = g_steal_pointer(&e);
        return 0;
}

int l4m_instance_env_format(const char *name, char *const *layers, size_t n_layers,
                            char **ret_text, char **ret_error) {
        g_autoptr(GString) s = NULL;
        int r;

        r = l4m_instance_env_check_layers(name, layers, n_layers, ret_error);
        if (r < 0)
                return r;

        s = g_string_new("# Written by left4med for left4me-overlay(8); replaced on every start.\n");
        g_string_append_printf(s, "NAME=%s\nLAYERS=", name);
        for (size_t i = 0; i < n_layers; i++) {
                if (i > 0)
                        g_string_append_c(s, ':');
                g_string_append(s, layers[i]);
        }
        g_string_append_c(s, '\n');
        if (s->len > L4M_INSTANCE_ENV_MAX_BYTES)
                return set_error(ret_error, -EFBIG, "the stack needs %zu bytes, more than %d",
                                 s->len, L4M_INSTANCE_ENV_MAX_BYTES);
        *ret_text = g_string_free(g_steal_pointer(&s), FALSE);
        return 0;
}

int l4m_instance_env_read_at(int dir_fd, uid_t owner, const char *expected_name,
                             L4mInstanceEnv **ret, char **ret_error) {
        _cleanup_close_ int fd = -1;
        g_autofree char *buf = NULL;
        struct stat st;
        size_t len = 0;

        /* O_NONBLOCK: a fifo planted here must not hang us before fstat. */
        fd = openat(dir_fd, L4M_INSTANCE_ENV_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ELOOP)
                        return set_error(ret_error, -ELOOP, L4M_INSTANCE_ENV_FILE " is a symbolic link");
                return set_error(ret_error, -errno, "cannot open " L4M_INSTANCE_ENV_FILE ": %s", g_strerror(errno));
        }
        if (fstat(fd, &st) < 0)
                return set_error(ret_error, -errno, "cannot stat " L4M_INSTANCE_ENV_FILE ": %s", g_strerror(errno));
        if (!S_ISREG(st.st_mode))
                return set_error(ret_error, -EBADFD, L4M_INSTANCE_ENV_FILE " is not a regular file");
        if (st.st_uid != owner)
                return set_error(ret_error, -EPERM, L4M_INSTANCE_ENV_FILE " is owned by uid %u, not %u",
                                 (unsigned) st.st_uid, (unsigned) owner);
        if (st.st_mode & (S_IWGRP | S_IWOTH))
                return set_error(ret_error, -EPERM, L4M_INSTANCE_ENV_FILE " has mode %04o: group- or world-writable",
                                 (unsigned) (st.st_mode & 07777));
        if (st.st_size > L4M_INSTANCE_ENV_MAX_BYTES)
                return set_error(ret_error, -EFBIG, L4M_INSTANCE_ENV_FILE " has %jd bytes, more than %d",
                                 (intmax_t) st.st_size, L4M_INSTANCE_ENV_MAX_BYTES);

        /* One byte more than allowed: a file that grew after fstat shows. */
        buf = g_malloc(L4M_INSTANCE_ENV_MAX_BYTES + 1);
        for (;;) {
                ssize_t k = read(fd, buf + len, L4M_INSTANCE_ENV_MAX_BYTES + 1 - len);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return set_error(ret_error, -errno, "cannot read " L4M_INSTANCE_ENV_FILE ": %s",
                                         g_strerror(errno));
                }
                if (k == 0)
                        break;
                len += (size_t) k;
                if (len > L4M_INSTANCE_ENV_MAX_BYTES)
                        return set_error(ret_error, -EFBIG, L4M_INSTANCE_ENV_FILE " is longer than %d bytes",
                                         L4M_INSTANCE_ENV_MAX_BYTES);
        }
        return l4m_instance_env_parse(buf, len, expected_name, ret, ret_error);
}

int l4m_instance_env_write_at(int dir_fd, const char *name, char *const *layers, size_t n_layers,
                              char **ret_error) {
        g_autofree char *text = NULL, *tmp = NULL;
        _cleanup_close_ int fd = -1;
        size_t len, done = 0;
        int r;

        r = l4m_instance_env_format(name, layers, n_layers, &text, ret_error);
        if (r < 0)
                return r;
        len = strlen(text);

        tmp = g_strdup_printf(".#" L4M_INSTANCE_ENV_FILE ".%08" PRIx32, g_random_int());
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return set_error(ret_error, -errno, "cannot create %s: %s", tmp, g_strerror(errno));
        if (fchmod(fd, 0644) < 0) {
                r = set_error(ret_error, -errno, "cannot chmod %s: %s", tmp, g_strerror(errno));
                goto fail;
        }
        while (done < len) {
                ssize_t k = write(fd, text + done, len - done);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = set_error(ret_error, -errno, "cannot write %s: %s", tmp, g_strerror(errno));
                        goto fail;
                }
                done += (size_t) k;
        }
        if (fsync(fd) < 0) {
                r = set_error(ret_error, -errno, "cannot sync %s: %s", tmp, g_strerror(errno));
                goto fail;
        }
        if (renameat(dir_fd, tmp, dir_fd, L4M_INSTANCE_ENV_FILE) < 0) {
                r = set_error(ret_error, -errno, "cannot rename %s to " L4M_INSTANCE_ENV_FILE ": %s",
                              tmp, g_strerror(errno));
                goto fail;
        }
        return 0;

fail:
        (void) unlinkat(dir_fd, tmp, 0);
        return r;
}
