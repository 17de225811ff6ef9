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
 * check_function_bodies is a user setting, so it counts only while the
 * session acts as a superuser (the outer role: SET ROLE counts, a SECURITY
 * DEFINER function's owner does not), who may turn auditing off anyway;
 * COPY into the extension's tables needs privileges only administrators
 * hold.
 */
static inline bool
px_restoring(void)
{
	if (ActivePortal != NULL && ActivePortal->commandTag == CMDTAG_COPY)
		return true;
	return !check_function_bodies && superuser_arg(GetOuterUserId());
}

#endif							/* PX_RESTORE_H */
