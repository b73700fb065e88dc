/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "bridge.h"

/* The request handlers of the server: checks before the body is read, then
 * /api/ (sessions, upload, event streams, the JSON routes) and static files. */
void web_server_add_handlers(Bridge *b);
