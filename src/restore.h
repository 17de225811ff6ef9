/*
 * restore.h
 *		Whether the current statement is a restore writing dumped rows.
 *
 * pg_dump writes table data as COPY (or, with --inserts, as INSERT
 * statements), and every script it writes first sets check_function_bodies
 * to off.  Rows written by a restore are history being put back: they are
 * not audited again, may arrive before the rows they refer to, and may
 * name keys the restore has not loaded yet.
 */
#ifndef PX_RESTORE_H
#define PX_RESTORE_H

#include "postgres.h"
#include "miscadmin.h"
#include "tcop/pquery.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/portal.h"

/*
 * Both signs count only while the session acts as a superuser (the outer
 * role: SET ROLE counts, a SECURITY DEFINER function's owner does not), who
 * may turn auditing off anyway: check_function_bodies is a user setting,
 * and a COPY portal is also `COPY (SELECT privacy.grant_consent(...)) TO`,
 * which anyone allowed to record consent may run.
 */
static inline bool
px_restoring(void)
{
	if (!superuser_arg(GetOuterUserId()))
		return false;
	if (ActivePortal != NULL && ActivePortal->commandTag == CMDTAG_COPY)
		return true;
	return !check_function_bodies;
}

/*
 * Rows that may arrive in any order, before the rows they refer to: a
 * restore, or any COPY (an administrator's data-only load of the
 * extension's tables).  Only for checks of order, never to skip an audit
 * event: that is px_restoring()'s.
 */
static inline bool
px_loading_rows(void)
{
	if (ActivePortal != NULL && ActivePortal->commandTag == CMDTAG_COPY)
		return true;
	return px_restoring();
}

#endif							/* PX_RESTORE_H */
