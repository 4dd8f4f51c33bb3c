/*
 * reload.h - the short plan of a reload-only maintenance (plan.h): every
 * change takes effect with a reload, so no new cluster is built; the changes
 * are made on the live primary and on its standby.
 *
 *   apply-reload  1. ctx->saved_dir is journalled (on_created), then made
 *                    anew; each node's postgresql.auto.conf and each file
 *                    a "file =" change replaces are copied into it
 *                    (NODE-NAME; NODE-NAME.absent for a file that did not
 *                    exist), each durably, before anything is changed
 *                 2. on each node, primary first: the "file =" changes
 *                    written into its data directory, ALTER SYSTEM SET for
 *                    each "set =", pg_reload_conf()
 *   undo          each node's copies put back (an .absent file removed),
 *                 pg_reload_conf() where it runs, then saved_dir removed; a
 *                 node without copies was not changed. Idempotent, so that
 *                 resume (undo, then apply) and abort both use it.
 *   verify        steps_verify_changes() on each node, retried for up to
 *                 10 s (pg_reload_conf() only signals the postmaster).
 *
 * Both nodes' data directories must be given ([cluster] primary-data,
 * standby-data): the copies are taken from them.
 */
#ifndef DD_MAINT_RELOAD_H
#define DD_MAINT_RELOAD_H

#include <stdbool.h>

#include "common/error.h"
#include "maint/steps.h"

DD_MUST_CHECK bool reload_apply(MaintCtx *ctx);
DD_MUST_CHECK bool reload_undo(MaintCtx *ctx);
DD_MUST_CHECK bool reload_verify(MaintCtx *ctx);

#endif
