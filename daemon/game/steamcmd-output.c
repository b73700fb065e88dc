/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon/game/: the one game installation: steamcmd in its unit, its output, app manifest and Steam login. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "steamcmd-output.h"

#define PASSES_MAX 8u

void steamcmd_output_init(SteamCmdOutput *o, unsigned passes) {
        assert(o);
        memset(o, 0, sizeof *o);
        o->passes = passes > 0 ? passes : 1;
}

/* The line without terminal escapes (steamcmd colours some lines) and
 * control characters, and without leading blanks. */
static void clean_line(const char *in, size_t len, char *out) {
        size_t n = 0;

        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) in[i];

                if (c == 0x1b) {
                        /* CSI: ESC [ parameters, ended by a letter. */
                        if (i + 1 < len && in[i + 1] == '[') {
                                i += 2;
                                while (i < len && !g_ascii_isalpha(in[i]))
                                        i++;
                        }
                        continue;
                }
                if (c < 0x20 || c == 0x7f)
                        continue;
                if (n == 0 && c == ' ')
                        continue;
                out[n++] = (char) c;
        }
        out[n] = '\0';
}

static void keep_line(char *dest, size_t size, const char *line) {
        g_strlcpy(dest, line, size);
        /* Not cut in the middle of a UTF-8 sequence. */
        if (!g_utf8_validate(dest, -1, NULL)) {
                const char *end;
                (void) g_utf8_validate(dest, -1, &end);
                dest[end - dest] = '\0';
        }
}

static void keep_error(SteamCmdOutput *o, const char *line) {
        keep_line(o->error, sizeof o->error, line);
}

static void end_pass(SteamCmdOutput *o, bool success) {
        if (o->passes_done < o->passes)
                o->passes_done++;
        o->pass_fraction = 0;
        o->last_pass_succeeded = success;
}

/* "Update state (0x61) downloading, progress: 12.34 (1234 / 10000)" */
static bool parse_progress(SteamCmdOutput *o, const char *line) {
        const char *p;
        char *end;
        double percent;

        if (!g_str_has_prefix(line, "Update state ("))
                return false;
        p = strstr(line, "progress: ");
        if (!p)
                return false;
        p += strlen("progress: ");
        percent = g_ascii_strtod(p, &end);
        if (end == p || !(percent >= 0) || percent > 100)
                return false;
        /* Within a pass progress only rises: the phases (preallocating,
         * downloading, verifying) each count from 0 again. */
        if (percent / 100.0 <= o->pass_fraction)
                return false;
        o->pass_fraction = percent / 100.0;
        return true;
}

static bool is_login_failure(const char *line) {
        if (g_str_has_prefix(line, "Login Failure") || g_str_has_prefix(line, "FAILED login"))
                return true;
        return g_str_has_prefix(line, "Logging in user") &&
               (strstr(line, "FAILED") || strstr(line, "ERROR"));
}

/* Returns true if the progress changed. */
static bool parse_line(SteamCmdOutput *o, const char *raw, size_t len) {
        char line[STEAMCMD_LINE_MAX + 1];

        clean_line(raw, len, line);

        if (g_str_has_prefix(line, STEAMCMD_PASSES_MARKER)) {
                guint64 n;
                if (g_ascii_string_to_unsigned(line + strlen(STEAMCMD_PASSES_MARKER), 10, 1, PASSES_MAX, &n, NULL))
                        o->passes = (unsigned) n;
                return false;
        }
        if (parse_progress(o, line))
                return true;
        if (g_str_has_prefix(line, "Success! App '" STEAMCMD_APP_ID "'")) {
                end_pass(o, true);
                return true;
        }
        /* "ERROR! Failed to install app '222860' (Invalid platform)",
         * "Error! App '222860' state is 0x202 after update job." */
        if (g_str_has_prefix(line, "ERROR! Failed to install app") ||
            (g_str_has_prefix(line, "Error! App '") && strstr(line, "after update job"))) {
                keep_error(o, line);
                end_pass(o, false);
                return true;
        }
        if (is_login_failure(line)) {
                o->login_failed = true;
                keep_error(o, line);
                keep_line(o->login_error, sizeof o->login_error, line);
                return false;
        }
        if (g_str_has_prefix(line, "ERROR!") || g_str_has_prefix(line, "Error!") ||
            g_str_has_prefix(line, "ERROR ("))
                keep_error(o, line);
        return false;
}

bool steamcmd_output_feed(SteamCmdOutput *o, const char *data, size_t size) {
        bool changed = false;

        assert(o);
        assert(data || size == 0);

        for (size_t i = 0; i < size; i++) {
                char c = data[i];

                /* steamcmd redraws some lines with a bare CR. */
                if (c == '\n' || c == '\r') {
                        if (!o->overlong && o->line_len > 0)
                                changed |= parse_line(o, o->line, o->line_len);
                        o->line_len = 0;
                        o->overlong = false;
                        continue;
                }
                if (o->overlong)
                        continue;
                if (o->line_len >= sizeof o->line) {
                        o->overlong = true;
                        o->line_len = 0;
                        continue;
                }
                o->line[o->line_len++] = c;
        }
        return changed;
}

void steamcmd_output_gap(SteamCmdOutput *o) {
        /* The rest of a line whose start was lost means nothing. */
        o->line_len = 0;
        o->overlong = true;
}

double steamcmd_output_progress(const SteamCmdOutput *o) {
        double p = ((double) o->passes_done + o->pass_fraction) / (double) o->passes;
        return p > 1.0 ? 1.0 : p;
}

bool steamcmd_output_succeeded(const SteamCmdOutput *o) {
        return !o->login_failed && o->passes_done >= o->passes && o->last_pass_succeeded;
}
