/*
 * consent/reading_roles.h
 *		The role whose privileges read a protected table at a has_consent()
 *		call site, when it is not the current user (consent/reading_roles.c).
 */
#ifndef PX_CONSENT_READING_ROLES_H
#define PX_CONSENT_READING_ROLES_H

#include "postgres.h"
#include "fmgr.h"
#include "nodes/pg_list.h"

/*
 * The roles the row-level security at this call site may have been applied
 * for, other than the current user: a view's owner (the table is read
 * through a view owned by another role), or the role that opened the
 * running query (a cursor opened by a SECURITY DEFINER function and
 * fetched by its caller).  The one role of the table whose column the
 * subject is, when it is one; every such role of the running query when
 * the subject cannot be traced to one table.  Superusers and the owner of
 * a table's masking view (which filters for its readers, as documented)
 * are left out.  A list of OIDs, NIL for none.
 */
extern List *px_consent_reading_roles(FunctionCallInfo fcinfo);

/*
 * Every such role of the running query (for a parallel leader's one
 * decision for all its workers): a list of OIDs, NIL for none.
 */
extern List *px_consent_reading_roles_of_query(void);

extern void px_install_consent_reading_roles(void);

#endif							/* PX_CONSENT_READING_ROLES_H */
