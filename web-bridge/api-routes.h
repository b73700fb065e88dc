/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "api-call.h"

/* A path segment of the API: [A-Za-z0-9_.@-]{1,128} (no percent-encoding,
 * so what the daemon gets is exactly what was sent). */
bool api_segment_is_valid(const char *s);

/* Finds the route for method and the path below /api/. Returns 0 (route and
 * the NAME, if the path has one), -EOPNOTSUPP (the path exists, the method
 * not: ret_allow lists the methods) or -ENOENT. */
int api_route_find(const char *method, const char *subpath, const void **ret_route, char **ret_name,
                   char **ret_allow);

/* Manager.Get<Entity>(c->name) → c->path, then done(c) (target: an
 * overlay 1, blueprint 2, instance 3, job 4). */
void api_call_lookup(ApiCall *c, int target, void (*done)(ApiCall *c));

/* The request body as a JSON object ({} when empty); NULL having answered 400. */
JsonNode *api_request_body(SoupServerMessage *msg);

#define API_TARGET_OVERLAY 1
