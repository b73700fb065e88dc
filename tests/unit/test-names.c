/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include <glib.h>

#include "l4m-names.h"

static void test_valid_names(void) {
        static const char *const good[] = {
                "a", "0", "maps1", "my-maps_2", "x-", "9lives",
                "abcdefghijklmnopqrstuvwxyz0123456789-_abcdefghij",    /* 48 */
        };
        for (size_t i = 0; i < G_N_ELEMENTS(good); i++)
                g_assert_true(l4m_name_is_valid(good[i]));
        g_assert_cmpuint(strlen(good[G_N_ELEMENTS(good) - 1]), ==, L4M_NAME_MAX);
}

static void test_invalid_names(void) {
        static const char *const bad[] = {
                "", "../x", "a/b", "A", "mapS", "é", "x:y", "x,y", "-x", "_x", ".", "..",
                "a b", "a\n", "a.b", "a\\b", "\xff",
                "abcdefghijklmnopqrstuvwxyz0123456789-_abcdefghijk",   /* 49 */
        };
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autofree char *shown = g_strescape(bad[i], NULL);
                g_test_message("name \"%s\"", shown);
                g_assert_false(l4m_name_is_valid(bad[i]));
        }
        g_assert_false(l4m_name_is_valid(NULL));
}

static void test_overlay_types(void) {
        g_assert_cmpint(l4m_overlay_type_from_string("workshop"), ==, L4M_OVERLAY_WORKSHOP);
        g_assert_cmpint(l4m_overlay_type_from_string("script"), ==, L4M_OVERLAY_SCRIPT);
        g_assert_cmpint(l4m_overlay_type_from_string("archive"), ==, L4M_OVERLAY_ARCHIVE);
        g_assert_cmpint(l4m_overlay_type_from_string("Workshop"), ==, _L4M_OVERLAY_TYPE_INVALID);
        g_assert_cmpint(l4m_overlay_type_from_string(""), ==, _L4M_OVERLAY_TYPE_INVALID);
        g_assert_cmpint(l4m_overlay_type_from_string(NULL), ==, _L4M_OVERLAY_TYPE_INVALID);
        for (int t = 0; t < _L4M_OVERLAY_TYPE_MAX; t++)
                g_assert_cmpint(l4m_overlay_type_from_string(l4m_overlay_type_to_string(t)), ==, t);
        g_assert_null(l4m_overlay_type_to_string(_L4M_OVERLAY_TYPE_MAX));
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/names/valid", test_valid_names);
        g_test_add_func("/names/invalid", test_invalid_names);
        g_test_add_func("/names/overlay-types", test_overlay_types);
        return g_test_run();
}
