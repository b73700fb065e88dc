/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "l4m-instance-env.h"
#include "l4m-util.h"

static int parse(const char *text, const char *name, L4mInstanceEnv **ret, char **error) {
        return l4m_instance_env_parse(text, strlen(text), name, ret, error);
}

static void expect_bad_len(const char *text, size_t len, const char *name, const char *needle) {
        g_autoptr(L4mInstanceEnv) e = NULL;
        g_autofree char *error = NULL, *shown = g_strescape(len > 200 ? "(long text)" : text, NULL);
        int r;

        g_test_message("text \"%s\"", shown);
        r = l4m_instance_env_parse(text, len, name, &e, &error);
        g_assert_cmpint(r, <, 0);
        g_assert_null(e);
        g_assert_nonnull(error);
        g_test_message("  -> %s", error);
        if (needle && !strstr(error, needle))
                g_error("error \"%s\" lacks \"%s\"", error, needle);
}

static void expect_bad(const char *text, const char *needle) {
        expect_bad_len(text, strlen(text), "foo", needle);
}

static void test_good(void) {
        static const struct {
                const char *text;
                size_t n;
                const char *top;
        } good[] = {
                { "NAME=foo\nLAYERS=installation\n", 1, "installation" },
                { "NAME=foo\nLAYERS=overlays/12:overlays/7:runtime/foo/config:installation\n", 4, "overlays/12" },
                { "# comment\n\nLAYERS=runtime/foo/config:installation\nNAME=foo", 2, "runtime/foo/config" },
                { "NAME=foo\nFUTURE_KEY=whatever: ü\nLAYERS=overlays/18446744073709551615:installation\n", 2,
                  "overlays/18446744073709551615" },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
                g_autoptr(L4mInstanceEnv) e = NULL;
                g_autofree char *error = NULL;

                g_assert_cmpint(parse(good[i].text, "foo", &e, &error), ==, 0);
                g_assert_null(error);
                g_assert_cmpstr(e->name, ==, "foo");
                g_assert_cmpuint(e->n_layers, ==, good[i].n);
                g_assert_cmpuint(g_strv_length(e->layers), ==, good[i].n);
                g_assert_cmpstr(e->layers[0], ==, good[i].top);
                g_assert_cmpstr(e->layers[e->n_layers - 1], ==, "installation");
        }
        /* No expected name: any valid one. */
        g_assert_cmpint(parse("NAME=bar\nLAYERS=runtime/bar/config:installation\n", NULL, NULL, NULL), ==, 0);
}

static void test_bad_layers(void) {
        expect_bad("NAME=foo\nLAYERS=/etc:installation\n", "absolute");
        expect_bad("NAME=foo\nLAYERS=/var/lib/left4me/overlays/1:installation\n", "absolute");
        expect_bad("NAME=foo\nLAYERS=..:installation\n", "'..'");
        expect_bad("NAME=foo\nLAYERS=overlays/..:installation\n", NULL);
        expect_bad("NAME=foo\nLAYERS=overlays/../../..:installation\n", NULL);
        expect_bad("NAME=foo\nLAYERS=overlays/1/../..:installation\n", "overlays/1/../..");
        expect_bad("NAME=foo\nLAYERS=overlays/012:installation\n", "overlays/012");
        expect_bad("NAME=foo\nLAYERS=overlays/0:installation\n", NULL);
        expect_bad("NAME=foo\nLAYERS=overlays/+1:installation\n", NULL);
        expect_bad("NAME=foo\nLAYERS=overlays/1x:installation\n", NULL);
        expect_bad("NAME=foo\nLAYERS=overlays/:installation\n", NULL);
        expect_bad("NAME=foo\nLAYERS=overlays/18446744073709551616:installation\n", NULL);
        expect_bad("NAME=foo\nLAYERS=overlays/1/:installation\n", NULL);
        expect_bad("NAME=foo\nLAYERS=./overlays/1:installation\n", NULL);
        expect_bad("NAME=foo\nLAYERS=overlays//1:installation\n", NULL);
        expect_bad("NAME=foo\nLAYERS=runtime/bar/config:installation\n", "not this instance's config layer");
        expect_bad("NAME=foo\nLAYERS=runtime/foo/../bar/config:installation\n", NULL);
        expect_bad("NAME=foo\nLAYERS=runtime/foo/upper:installation\n", NULL);
        expect_bad("NAME=foo\nLAYERS=installation/left4dead2:installation\n", NULL);
        expect_bad("NAME=foo\nLAYERS=db:installation\n", NULL);
        expect_bad("NAME=foo\nLAYERS=installation:overlays/1\n", "not installation");
        expect_bad("NAME=foo\nLAYERS=overlays/1\n", "not installation");
        expect_bad("NAME=foo\nLAYERS=overlays/1:overlays/1:installation\n", "twice");
        expect_bad("NAME=foo\nLAYERS=installation:installation\n", "twice");
        expect_bad("NAME=foo\nLAYERS=overlays/1::installation\n", "empty layer");
        expect_bad("NAME=foo\nLAYERS=:installation\n", "empty layer");
        expect_bad("NAME=foo\nLAYERS=overlays/1:installation:\n", "empty layer");
        expect_bad("NAME=foo\nLAYERS=\n", "empty");
        expect_bad("NAME=foo\nLAYERS= installation\n", NULL);
}

static void test_layer_count(void) {
        g_autoptr(GString) s = g_string_new("NAME=foo\nLAYERS=");
        g_autoptr(L4mInstanceEnv) e = NULL;

        for (int i = 1; i < L4M_INSTANCE_ENV_MAX_LAYERS; i++)
                g_string_append_printf(s, "overlays/%d:", i);
        g_string_append(s, "installation\n");
        g_assert_cmpint(parse(s->str, "foo", &e, NULL), ==, 0);
        g_assert_cmpuint(e->n_layers, ==, 500);

        g_string_printf(s, "NAME=foo\nLAYERS=");
        for (int i = 1; i <= L4M_INSTANCE_ENV_MAX_LAYERS; i++)
                g_string_append_printf(s, "overlays/%d:", i);
        g_string_append(s, "installation\n");
        expect_bad(s->str, "501 layers");
}

static void test_bad_structure(void) {
        expect_bad("LAYERS=installation\n", "no NAME=");
        expect_bad("NAME=foo\n", "no LAYERS=");
        expect_bad("", "no NAME=");
        expect_bad("NAME=foo\nLAYERS=installation\nLAYERS=installation\n", "LAYERS appears twice");
        expect_bad("NAME=foo\nLAYERS=overlays/1:installation\nLAYERS=installation\n", "twice");
        expect_bad("NAME=foo\nNAME=foo\nLAYERS=installation\n", "NAME appears twice");
        expect_bad("NAME=bar\nLAYERS=installation\n", "but the instance is foo");
        expect_bad("NAME=../foo\nLAYERS=installation\n", "not a valid instance name");
        expect_bad("NAME=\nLAYERS=installation\n", "not a valid instance name");
        expect_bad("NAME=foo\r\nLAYERS=installation\r\n", "0x0d");
        expect_bad("NAME=foo\nLAYERS=installation\r\n", "0x0d");
        expect_bad("NAME=foo\nLAYERS=installation\t\n", "0x09");
        expect_bad("NAME=foo\nLAYERS=installation\n\x1b", "0x1b");
        expect_bad_len("NAME=foo\nLAYERS=installation\n\0", 30, "foo", "0x00");
        expect_bad_len("NAME=foo\0\nLAYERS=installation\n", 30, "foo", "line 1");
        expect_bad("NAME=foo\nLAYERS=installation\njunk\n", "line 3 is not KEY=VALUE");
        expect_bad("NAME=foo\n layers=installation\n", "not KEY=VALUE");
        expect_bad("NAME=foo\nlayers=installation\n", "not KEY=VALUE");
        expect_bad("NAME=foo\nLAYERS =installation\n", "not KEY=VALUE");
        expect_bad("NAME=foo\n=installation\n", "not KEY=VALUE");
        expect_bad("NAME=foo\n1X=y\nLAYERS=installation\n", "not KEY=VALUE");
}

static void test_overlong(void) {
        g_autoptr(GString) s = g_string_new("NAME=foo\nLAYERS=installation\n");

        while (s->len <= L4M_INSTANCE_ENV_MAX_BYTES)
                g_string_append(s, "# padding padding padding padding padding padding padding\n");
        expect_bad_len(s->str, s->len, "foo", "more than");
        /* Just at the limit is fine. */
        g_string_truncate(s, L4M_INSTANCE_ENV_MAX_BYTES - 1);
        g_string_append_c(s, '\n');
        g_assert_cmpint(l4m_instance_env_parse(s->str, s->len, "foo", NULL, NULL), ==, 0);
}

static void test_format_round_trip(void) {
        char *layers[] = { (char *) "overlays/12", (char *) "overlays/7", (char *) "runtime/foo/config",
                           (char *) "installation", NULL };
        g_autoptr(L4mInstanceEnv) e = NULL;
        g_autofree char *text = NULL, *error = NULL, *ov = l4m_instance_env_overlay_layer(12);
        g_autofree char *cfg = l4m_instance_env_config_layer("foo");

        g_assert_cmpstr(ov, ==, "overlays/12");
        g_assert_cmpstr(cfg, ==, "runtime/foo/config");
        g_assert_cmpint(l4m_instance_env_format("foo", layers, 4, &text, NULL), ==, 0);
        g_assert_nonnull(strstr(text, "\nNAME=foo\nLAYERS=overlays/12:overlays/7:runtime/foo/config:installation\n"));
        g_assert_cmpint(parse(text, "foo", &e, NULL), ==, 0);
        g_assert_cmpuint(e->n_layers, ==, 4);
        for (size_t i = 0; i < 4; i++)
                g_assert_cmpstr(e->layers[i], ==, layers[i]);

        /* The writer checks like the reader. */
        g_assert_cmpint(l4m_instance_env_format("foo", layers, 3, &text, &error), ==, -EINVAL);
        g_assert_nonnull(strstr(error, "not installation"));
        g_assert_cmpint(l4m_instance_env_format("Foo", layers, 4, &text, NULL), ==, -EINVAL);
        g_assert_cmpint(l4m_instance_env_format("bar", layers, 4, &text, NULL), ==, -EINVAL);
        g_assert_cmpint(l4m_instance_env_format("foo", layers, 0, &text, NULL), ==, -EINVAL);
}

static void test_files(void) {
        char *layers[] = { (char *) "overlays/3", (char *) "installation", NULL };
        g_autofree char *dir = g_dir_make_tmp("l4m-instance-env-XXXXXX", NULL);
        g_autofree char *path = g_build_filename(dir, "instance.env", NULL);
        g_autofree char *other = g_build_filename(dir, "other", NULL);
        g_autofree char *error = NULL;
        g_autoptr(L4mInstanceEnv) e = NULL;
        _cleanup_close_ int dfd = -1;
        struct stat st;
        GDir *d;
        const char *entry;

        g_assert_nonnull(dir);
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        g_assert_cmpint(dfd, >=, 0);

        g_assert_cmpint(l4m_instance_env_read_at(dfd, getuid(), "foo", &e, &error), ==, -ENOENT);
        g_clear_pointer(&error, g_free);

        g_assert_cmpint(l4m_instance_env_write_at(dfd, "foo", layers, 2, NULL), ==, 0);
        g_assert_cmpint(stat(path, &st), ==, 0);
        g_assert_cmpuint(st.st_mode & 07777, ==, 0644);
        g_assert_cmpint(l4m_instance_env_read_at(dfd, getuid(), "foo", &e, NULL), ==, 0);
        g_assert_cmpuint(e->n_layers, ==, 2);
        g_assert_cmpstr(e->layers[0], ==, "overlays/3");
        g_clear_pointer(&e, l4m_instance_env_free);
        /* Replaced, no temporary file left. */
        g_assert_cmpint(l4m_instance_env_write_at(dfd, "foo", layers + 1, 1, NULL), ==, 0);
        g_assert_cmpint(l4m_instance_env_read_at(dfd, getuid(), "foo", &e, NULL), ==, 0);
        g_assert_cmpuint(e->n_layers, ==, 1);
        g_clear_pointer(&e, l4m_instance_env_free);
        d = g_dir_open(dir, 0, NULL);
        while ((entry = g_dir_read_name(d)))
                g_assert_cmpstr(entry, ==, "instance.env");
        g_dir_close(d);

        /* Wrong owner, group- and world-writable. */
        g_assert_cmpint(l4m_instance_env_read_at(dfd, getuid() + 1, "foo", &e, &error), ==, -EPERM);
        g_clear_pointer(&error, g_free);
        g_assert_cmpint(chmod(path, 0664), ==, 0);
        g_assert_cmpint(l4m_instance_env_read_at(dfd, getuid(), "foo", &e, &error), ==, -EPERM);
        g_assert_nonnull(strstr(error, "0664"));
        g_clear_pointer(&error, g_free);
        g_assert_cmpint(chmod(path, 0602), ==, 0);
        g_assert_cmpint(l4m_instance_env_read_at(dfd, getuid(), "foo", &e, &error), ==, -EPERM);
        g_clear_pointer(&error, g_free);
        g_assert_cmpint(chmod(path, 0600), ==, 0);
        g_assert_cmpint(l4m_instance_env_read_at(dfd, getuid(), "foo", &e, NULL), ==, 0);
        g_clear_pointer(&e, l4m_instance_env_free);

        /* A symlink, a directory, a fifo. */
        g_assert_cmpint(rename(path, other), ==, 0);
        g_assert_cmpint(symlink("other", path), ==, 0);
        g_assert_cmpint(l4m_instance_env_read_at(dfd, getuid(), "foo", &e, &error), ==, -ELOOP);
        g_assert_nonnull(strstr(error, "symbolic link"));
        g_clear_pointer(&error, g_free);
        g_assert_cmpint(unlink(path), ==, 0);
        g_assert_cmpint(mkdir(path, 0755), ==, 0);
        g_assert_cmpint(l4m_instance_env_read_at(dfd, getuid(), "foo", &e, &error), <, 0);
        g_assert_nonnull(strstr(error, "not a regular file"));
        g_clear_pointer(&error, g_free);
        g_assert_cmpint(rmdir(path), ==, 0);
        g_assert_cmpint(mkfifo(path, 0600), ==, 0);
        g_assert_cmpint(l4m_instance_env_read_at(dfd, getuid(), "foo", &e, &error), <, 0);
        g_assert_nonnull(strstr(error, "not a regular file"));
        g_clear_pointer(&error, g_free);
        g_assert_cmpint(unlink(path), ==, 0);

        /* Too big on disk. */
        {
                g_autofree char *big = g_malloc0(L4M_INSTANCE_ENV_MAX_BYTES + 2);
                memset(big, '#', L4M_INSTANCE_ENV_MAX_BYTES + 1);
                g_assert_true(g_file_set_contents(path, big, -1, NULL));
                g_assert_cmpint(chmod(path, 0644), ==, 0);
                g_assert_cmpint(l4m_instance_env_read_at(dfd, getuid(), "foo", &e, &error), ==, -EFBIG);
                g_clear_pointer(&error, g_free);
        }

        g_assert_cmpint(unlink(path), ==, 0);
        g_assert_cmpint(unlink(other), ==, 0);
        g_assert_cmpint(rmdir(dir), ==, 0);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/instance-env/good", test_good);
        g_test_add_func("/instance-env/bad-layers", test_bad_layers);
        g_test_add_func("/instance-env/layer-count", test_layer_count);
        g_test_add_func("/instance-env/bad-structure", test_bad_structure);
        g_test_add_func("/instance-env/overlong", test_overlong);
        g_test_add_func("/instance-env/format-round-trip", test_format_round_trip);
        g_test_add_func("/instance-env/files", test_files);
        return g_test_run();
}
