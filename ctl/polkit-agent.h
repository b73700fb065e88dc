/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A polkit text agent for this terminal, as systemctl does it: run
 * "pkttyagent --notify-fd N --fallback" (from PATH, else
 * /usr/bin/pkttyagent) and wait until it has registered. The caller
 * decides whether one is wanted (a terminal, not root, passwords allowed).
 * Returns 0 when the agent runs, or a negative errno (already logged at
 * warning level; the caller carries on without an agent). */
int polkit_agent_open(void);

/* Stop (SIGTERM) and reap the agent, if one runs. Safe to call always. */
void polkit_agent_close(void);
