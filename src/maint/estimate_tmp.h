/*
 * estimate_tmp.h - TEMPORARY: what the engine branch adds to estimate.h
 * (estimate_plan, estimate_format_seconds), so that the plan builds before
 * it lands. Deleted at the merge of main (estimate.c); do not use elsewhere.
 */
#ifndef DD_MAINT_ESTIMATE_TMP_H
#define DD_MAINT_ESTIMATE_TMP_H

#include <stddef.h>

#include "maint/estimate.h"

void estimate_format_seconds(double s, char *out, size_t len);
DD_MUST_CHECK bool estimate_plan(Repo *repo, Plan *p);

#endif
