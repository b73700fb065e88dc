/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The addresses left4me-web listens on ([Web] Listen=, --listen). */

#define L4M_LISTEN_MAX 32

/* Parses one listen address: "IPV4:PORT" or "[IPV6]:PORT", the address a
 * literal (no names), port 1-65535. Returns 0 or -EINVAL. ret_addr (may be
 * NULL) gets the address without brackets. */
int l4m_listen_address_parse(const char *s, char **ret_addr, unsigned *ret_port);

/* Splits a whitespace-separated list of listen addresses, each checked as
 * above; at most L4M_LISTEN_MAX, at least one. Returns 0 or -EINVAL. */
int l4m_listen_list_parse(const char *s, char ***ret);
