/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <glib.h>

#include "l4m-listen.h"

int l4m_listen_address_parse(const char *s, char **ret_addr, unsigned *ret_port) {
        g_autofree char *addr = NULL;
        const char *port;
        unsigned char buf[16];
        guint64 n;

        if (!s || strlen(s) > 64)
                return -EINVAL;
        if (s[0] == '[') {
                const char *end = strchr(s, ']');

                if (!end || end[1] != ':')
                        return -EINVAL;
                addr = g_strndup(s + 1, (size_t) (end - s - 1));
                port = end + 2;
                if (inet_pton(AF_INET6, addr, buf) != 1)
                        return -EINVAL;
        } else {
                const char *colon = strrchr(s, ':');

                if (!colon)
                        return -EINVAL;
                addr = g_strndup(s, (size_t) (colon - s));
                port = colon + 1;
                if (inet_pton(AF_INET, addr, buf) != 1)
                        return -EINVAL;
        }
        if (!g_ascii_string_to_unsigned(port, 10, 1, 65535, &n, NULL))
                return -EINVAL;
        if (ret_addr)
                *ret_addr = g_steal_pointer(&addr);
        if (ret_port)
                *ret_port = (unsigned) n;
        return 0;
}

int l4m_listen_list_parse(const char *s, char ***ret) {
        g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);
        g_auto(GStrv) words = NULL;

        if (!s)
                return -EINVAL;
        words = g_strsplit_set(s, " \t", -1);
        for (size_t i = 0; words[i]; i++) {
                if (!*words[i])
                        continue;
                if (list->len >= L4M_LISTEN_MAX || l4m_listen_address_parse(words[i], NULL, NULL) < 0)
                        return -EINVAL;
                g_ptr_array_add(list, g_strdup(words[i]));
        }
        if (list->len == 0)
                return -EINVAL;
        g_ptr_array_add(list, NULL);
        *ret = (char **) g_ptr_array_free(g_steal_pointer(&list), false);
        return 0;
}
