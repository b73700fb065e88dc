/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <systemd/sd-journal.h>

#include "l4m-log.h"
#include "l4m-util.h"

#define MAX_EXTRA_FIELDS 16

static const char *log_ident = "left4me";
static int log_max_level = LOG_INFO;
static bool log_to_journal;
static bool log_level_prefix;   /* stderr is a journal stream: "<N>" sets the priority */

static int level_from_string(const char *s) {
        static const char *const names[] = {
                "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
        };
        for (size_t i = 0; i < L4M_ELEMENTSOF(names); i++)
                if (strcasecmp(s, names[i]) == 0)
                        return (int) i;
        return -EINVAL;
}

/* The journal is ours when stderr is the very stream systemd connected
 * (JOURNAL_STREAM=<dev>:<ino> names it). */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == (dev_t) dev && st.st_ino == (ino_t) ino;
}

void l4m_log_open(const char *ident) {
        const char *e;

        if (ident)
                log_ident = ident;
        log_to_journal = stderr_is_journal();

        e = getenv("LEFT4ME_LOG_LEVEL");
        if (e) {
                int l = level_from_string(e);
                if (l >= 0)
                        log_max_level = l;
        }
}

void l4m_log_use_stream(void) {
        log_level_prefix = stderr_is_journal();
        log_to_journal = false;
}

void l4m_log_set_max_level(int level) {
        log_max_level = level;
}

int l4m_log_get_max_level(void) {
        return log_max_level;
}

int l4m_log_internal(int level, int error, const char *const *fields,
                     const char *file, int line, const char *func,
                     const char *format, ...) {
        char message[2048];
        va_list ap;
        int saved_errno = errno;

        error = error < 0 ? -error : error;
        if (level > log_max_level)
                goto out;

        va_start(ap, format);
        (void) vsnprintf(message, sizeof message, format, ap);
        va_end(ap);

        if (log_to_journal) {
                g_autofree char *m = g_strconcat("MESSAGE=", message, NULL);
                g_autofree char *p = g_strdup_printf("PRIORITY=%i", level);
                g_autofree char *cf = g_strconcat("CODE_FILE=", file, NULL);
                g_autofree char *cl = g_strdup_printf("CODE_LINE=%i", line);
                g_autofree char *fn = g_strconcat("CODE_FUNC=", func, NULL);
                g_autofree char *id = g_strconcat("SYSLOG_IDENTIFIER=", log_ident, NULL);
                g_autofree char *er = error > 0 ? g_strdup_printf("ERRNO=%i", error) : NULL;
                struct iovec iov[7 + MAX_EXTRA_FIELDS];
                size_t n = 0;

                iov[n++] = (struct iovec) { m, strlen(m) };
                iov[n++] = (struct iovec) { p, strlen(p) };
                iov[n++] = (struct iovec) { cf, strlen(cf) };
                iov[n++] = (struct iovec) { cl, strlen(cl) };
                iov[n++] = (struct iovec) { fn, strlen(fn) };
                iov[n++] = (struct iovec) { id, strlen(id) };
                if (er)
                        iov[n++] = (struct iovec) { er, strlen(er) };
                for (size_t i = 0; fields && fields[i] && i < MAX_EXTRA_FIELDS; i++)
                        iov[n++] = (struct iovec) { (char *) fields[i], strlen(fields[i]) };

                if (sd_journal_sendv(iov, (int) n) >= 0)
                        goto out;
        }

        if (log_level_prefix)
                fprintf(stderr, "<%i>%s\n", level, message);
        else
                fprintf(stderr, "%s: %s\n", log_ident, message);

out:
        errno = saved_errno;
        return -error;
}
