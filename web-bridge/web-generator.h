/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The text of left4me-web.socket.d/50-listen.conf for these addresses (as
 * [Web] Listen= gives them: checked already), or NULL for none. */
char *web_generator_dropin(char *const *listen);
