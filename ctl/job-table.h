/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>

#include "job-info.h"
#include "table.h"

/* A table of jobs. Text: ID, KIND, TARGET, OWNER, STATE, PROGRESS. JSON:
 * id (number), kind, target, owner, state (strings or null), progress
 * (number 0..1) and path; with details (jobs read with GetAll), also
 * message (string or null), created, started and finished (numbers, µs, 0
 * for not yet). */
Table *job_table_new(bool details);

/* Add info as a row; info->details must be as the table's. */
void job_table_add(Table *t, const JobInfo *info);
