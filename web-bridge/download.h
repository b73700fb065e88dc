/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "api-call.h"

/* Before the bus call of a download route: false, having answered 429,
 * when the session or the bridge has too many downloads in progress. */
bool download_may_begin(ApiCall *c);

/* Answers c 200 with the bytes of fd (the daemon's answer; duplicated, the
 * caller keeps its own) as an attachment named filename (any bytes: what
 * is not [A-Za-z0-9_.@+-] becomes '_' in filename=, the UTF-8 name goes
 * percent-encoded in filename*=) of content_type, streamed as the client
 * takes them; frees c. */
void download_begin(ApiCall *c, int fd, const char *filename, const char *content_type);
