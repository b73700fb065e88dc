/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

/* The text/event-stream framing (WHATWG HTML, "Server-sent events"). Every
 * event the bridge sends carries its data as one line of JSON, so a frame
 * is at most "id:", "event:" and one "data:" line. */

/* What a stream starts with: how long a browser waits before reconnecting. */
#define SSE_RETRY_MSEC 2000u

/* Appends "id: ID\nevent: EVENT\ndata: DATA\n\n"; no id line when id is
 * 0, no event line when event is NULL. A CR or LF in data (which would
 * end the data line early and let the rest pose as fields) is sent as a
 * space. */
void sse_append_event(GString *out, uint64_t id, const char *event, const char *data);

/* Appends ": TEXT\n\n", a comment the client ignores (a heartbeat). */
void sse_append_comment(GString *out, const char *text);

/* A frame as shared bytes: one copy serves every subscriber. */
GBytes *sse_event_bytes(uint64_t id, const char *event, const char *data);

/* A Last-Event-ID header's value: a decimal id above 0. false when it is
 * missing or anything else. */
bool sse_parse_event_id(const char *value, uint64_t *ret);

/* {"line": LINE} as compact JSON; bytes that are not UTF-8 become U+FFFD. */
char *sse_json_line(const char *line, size_t len);
