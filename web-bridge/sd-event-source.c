/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <assert.h>

#include "l4m-log.h"
#include "sd-event-source.h"

typedef struct SdEventSource {
        GSource source;
        sd_event *event;
        gpointer tag;
} SdEventSource;

/* sd_event_prepare() runs the prepare callbacks and says whether something
 * is pending already; if not, the loop is armed and GLib polls its fd. */
static gboolean sd_event_source_prepare(GSource *source, gint *timeout) {
        SdEventSource *s = (SdEventSource *) source;

        *timeout = -1;  /* sd-event's timers are timerfds inside its epoll fd */
        return sd_event_prepare(s->event) > 0;
}

static gboolean sd_event_source_check(GSource *source) {
        SdEventSource *s = (SdEventSource *) source;

        return sd_event_wait(s->event, 0) > 0;
}

static gboolean sd_event_source_dispatch(GSource *source, GSourceFunc callback, gpointer user_data) {
        SdEventSource *s = (SdEventSource *) source;
        int r;

        r = sd_event_dispatch(s->event);
        if (r < 0)
                log_warning_errno(r, "sd-event dispatch failed: %s", STRERROR(r));
        return G_SOURCE_CONTINUE;
}

static void sd_event_source_finalize(GSource *source) {
        SdEventSource *s = (SdEventSource *) source;

        sd_event_unref(s->event);
}

static GSourceFuncs sd_event_source_funcs = {
        .prepare = sd_event_source_prepare,
        .check = sd_event_source_check,
        .dispatch = sd_event_source_dispatch,
        .finalize = sd_event_source_finalize,
};

GSource *sd_event_source_new(sd_event *e) {
        SdEventSource *s;

        assert(e);
        s = (SdEventSource *) g_source_new(&sd_event_source_funcs, sizeof(SdEventSource));
        s->event = sd_event_ref(e);
        s->tag = g_source_add_unix_fd(&s->source, sd_event_get_fd(e), G_IO_IN);
        g_source_set_name(&s->source, "sd-event");
        return &s->source;
}
