/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "app-manifest.h"
#include "l4m-util.h"

static const char good[] =
        "\"AppState\"\n"
        "{\n"
        "\t\"appid\"\t\t\"222860\"\n"
        "\t\"Universe\"\t\t\"1\"\n"
        "\t\"name\"\t\t\"Left 4 Dead 2 Dedicated Server\"\n"
        "\t\"StateFlags\"\t\t\"4\"\n"
        "\t\"installdir\"\t\t\"Left 4 Dead 2 Dedicated Server\"\n"
        "\t\"buildid\"\t\t\"9503622\"\n"
        "\t\"InstalledDepots\"\n"
        "\t{\n"
        "\t\t\"222861\"\n"
        "\t\t{\n"
        "\t\t\t\"manifest\"\t\t\"4371485926537048195\"\n"
        "\t\t\t\"size\"\t\t\"9474434561\"\n"
        "\t\t}\n"
        "\t}\n"
        "\t\"UserConfig\"\n"
        "\t{\n"
        "\t}\n"
        "}\n";

static int parse(const char *text, char **ret) {
        return app_manifest_parse_buildid(text, strlen(text), ret);
}

static void test_parse_good(void) {
        g_autofree char *id = NULL;

        g_assert_cmpint(parse(good, &id), ==, 0);
        g_assert_cmpstr(id, ==, "9503622");
}

static void test_parse_nested(void) {
        g_autofree char *id = NULL;

        /* A buildid in a nested section is not AppState's. */
        g_assert_cmpint(parse("\"AppState\" { \"appid\" \"222860\" \"Depots\" { \"buildid\" \"111\" } }", &id), ==,
                        -EBADMSG);
        g_assert_null(id);
        /* Nor is one in another top-level section. */
        g_assert_cmpint(parse("\"Other\" { \"buildid\" \"5\" }", &id), ==, -EBADMSG);
        /* Case, comments, unquoted words and escapes. */
        g_assert_cmpint(parse("// made by steamcmd\n\"appstate\" { \"name\" \"a \\\"b\\\"\" Depots { x y } BuildID 42 }", &id),
                        ==, 0);
        g_assert_cmpstr(id, ==, "42");
}

static void test_parse_bad(void) {
        g_autofree char *id = NULL;
        g_autoptr(GString) deep = g_string_new(NULL);

        g_assert_cmpint(parse("", &id), ==, -EBADMSG);
        g_assert_cmpint(parse("\"AppState\" { \"appid\" \"222860\" }", &id), ==, -EBADMSG);      /* no buildid */
        g_assert_cmpint(parse("\"AppState\" { \"buildid\" \"12x\" }", &id), ==, -EBADMSG);      /* not digits */
        g_assert_cmpint(parse("\"AppState\" { \"buildid\" \"\" }", &id), ==, -EBADMSG);
        g_assert_cmpint(parse("\"AppState\" { \"buildid\" \"123456789012345678901\" }", &id), ==, -EBADMSG);
        g_assert_cmpint(parse("\"AppState\" { \"buildid\" \"12\" ", &id), ==, -EBADMSG);        /* unclosed */
        g_assert_cmpint(parse("\"AppState\" { \"buildid\" \"12 }", &id), ==, -EBADMSG);         /* unterminated */
        g_assert_cmpint(parse("\"AppState\" { \"buildid\" \"12\" } }", &id), ==, -EBADMSG);
        g_assert_cmpint(parse("{ }", &id), ==, -EBADMSG);
        g_assert_null(id);

        /* Nesting past the bound. */
        g_string_append(deep, "\"AppState\" { \"buildid\" \"7\" ");
        for (unsigned i = 0; i < APP_MANIFEST_DEPTH_MAX + 5; i++)
                g_string_append(deep, "a { ");
        for (unsigned i = 0; i < APP_MANIFEST_DEPTH_MAX + 5; i++)
                g_string_append(deep, "} ");
        g_string_append(deep, "}");
        g_assert_cmpint(parse(deep->str, &id), ==, -EBADMSG);
}

static char *make_installation(void) {
        g_autoptr(GError) error = NULL;
        char *d = g_dir_make_tmp("l4m-manifest-XXXXXX", &error);
        g_autofree char *steamapps = NULL;

        g_assert_no_error(error);
        steamapps = g_build_filename(d, "steamapps", NULL);
        g_assert_cmpint(g_mkdir(steamapps, 0755), ==, 0);
        return d;
}

static void write_manifest(const char *dir, const char *text, gssize len) {
        g_autoptr(GError) error = NULL;
        g_autofree char *path = g_build_filename(dir, APP_MANIFEST_PATH, NULL);

        g_file_set_contents(path, text, len, &error);
        g_assert_no_error(error);
}

static int read_at(const char *dir, char **ret) {
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        g_assert_cmpint(fd, >=, 0);
        return app_manifest_read_buildid(fd, ret);
}

static void rm_tree(const char *dir) {
        g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
        g_assert_cmpint(system(cmd), ==, 0);
}

static void test_read_file(void) {
        g_autofree char *dir = make_installation();
        g_autofree char *id = NULL;

        g_assert_cmpint(read_at(dir, &id), ==, -ENOENT);
        write_manifest(dir, good, -1);
        g_assert_cmpint(read_at(dir, &id), ==, 0);
        g_assert_cmpstr(id, ==, "9503622");
        rm_tree(dir);
}

static void test_read_huge(void) {
        g_autofree char *dir = make_installation();
        g_autofree char *id = NULL;
        g_autoptr(GString) big = g_string_new(good);

        /* Valid text, but past the bound. */
        while (big->len <= APP_MANIFEST_SIZE_MAX)
                g_string_append(big, "// padding padding padding padding padding padding padding padding\n");
        write_manifest(dir, big->str, (gssize) big->len);
        g_assert_cmpint(read_at(dir, &id), ==, -EFBIG);
        g_assert_null(id);
        rm_tree(dir);
}

static void test_read_symlinks(void) {
        g_autofree char *dir = make_installation();
        g_autofree char *elsewhere = make_installation();
        g_autofree char *target = g_build_filename(elsewhere, APP_MANIFEST_PATH, NULL);
        g_autofree char *link = g_build_filename(dir, APP_MANIFEST_PATH, NULL);
        g_autofree char *steamapps = g_build_filename(dir, "steamapps", NULL);
        g_autofree char *other_steamapps = g_build_filename(elsewhere, "steamapps", NULL);
        g_autofree char *id = NULL;

        write_manifest(elsewhere, good, -1);
        /* The manifest a symlink to a good one elsewhere. */
        g_assert_cmpint(symlink(target, link), ==, 0);
        g_assert_cmpint(read_at(dir, &id), ==, -ELOOP);
        g_assert_null(id);
        /* steamapps/ a symlink to a good directory elsewhere. */
        g_assert_cmpint(unlink(link), ==, 0);
        g_assert_cmpint(rmdir(steamapps), ==, 0);
        g_assert_cmpint(symlink(other_steamapps, steamapps), ==, 0);
        g_assert_cmpint(read_at(dir, &id), ==, -ELOOP);
        g_assert_null(id);
        /* A fifo does not hang the reader. */
        g_assert_cmpint(unlink(steamapps), ==, 0);
        g_assert_cmpint(g_mkdir(steamapps, 0755), ==, 0);
        g_assert_cmpint(mkfifo(link, 0644), ==, 0);
        g_assert_cmpint(read_at(dir, &id), ==, -EBADMSG);
        rm_tree(dir);
        rm_tree(elsewhere);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/app-manifest/parse-good", test_parse_good);
        g_test_add_func("/app-manifest/parse-nested", test_parse_nested);
        g_test_add_func("/app-manifest/parse-bad", test_parse_bad);
        g_test_add_func("/app-manifest/read-file", test_read_file);
        g_test_add_func("/app-manifest/read-huge", test_read_huge);
        g_test_add_func("/app-manifest/read-symlinks", test_read_symlinks);
        return g_test_run();
}
