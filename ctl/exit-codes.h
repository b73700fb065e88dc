/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* l4mctl's exit status. Documented in --help and l4mctl(1); scripts and the
 * integration tests rely on these numbers, so they never change meaning. */
typedef enum L4mExitCode {
        L4M_EXIT_SUCCESS          = 0, /* the command did what was asked */
        L4M_EXIT_FAILURE          = 1, /* anything else, incl. org.left4me.Error.Failed */
        L4M_EXIT_USAGE            = 2, /* bad command line; nothing was sent */
        L4M_EXIT_INVALID_ARGUMENT = 3, /* org.left4me.Error.InvalidArgument */
        L4M_EXIT_NOT_FOUND        = 4, /* org.left4me.Error.NotFound */
        L4M_EXIT_ACCESS_DENIED    = 5, /* ...DBus.Error.AccessDenied, ...InteractiveAuthorizationRequired */
        L4M_EXIT_EXISTS           = 6, /* org.left4me.Error.Exists */
        L4M_EXIT_BUSY             = 7, /* org.left4me.Error.Busy */
        L4M_EXIT_UNREACHABLE      = 8, /* no system bus, or the daemon does not answer */
        L4M_EXIT_CANCELLED        = 9, /* --wait: the job was cancelled (a failed job is 1) */
        L4M_EXIT_INTERRUPTED      = 130, /* --wait: stopped following on SIGINT (128 + 2); the job goes on */
} L4mExitCode;
