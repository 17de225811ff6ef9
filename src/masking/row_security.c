/*
 * masking/row_security.c
 *		Whether the table's row-level security applies to the role reading
 *		a masking view.
 *
 * PostgreSQL applies a table's policies for the user a view's table
 * reference is checked as, which is the view's owner: a masking view made
 * by a superuser (or by the table's owner, without FORCE) would show every
 * row to every reader, whatever the table's tenant policies say.  So the
 * masking view carries the table's SELECT policies in its own WHERE
 * (privacy.masking_view_policy_filter), guarded by this call, which answers
 * as PostgreSQL would for a direct read by the role running the query:
 * false for superusers, roles with BYPASSRLS, and the table's owner (or its
 * members) unless row-level security is forced; false when it is not
 * enabled on the table.
 *
 * A policy for named roles is guarded by privacy.policy_applies_to_reader(),
 * which reads the policy's roles when the query runs: a view cannot hold a
 * role as a constant (and a role's name can change, its OID does on a
 * restore), while the policy is named by its table and its name.  A policy
 * that is gone applies to nobody: its permissive qualification shows no row
 * (the view is rebuilt when a policy is dropped, so that lasts a statement).
 *
 * The answers cannot change within a query (a SECURITY DEFINER function
 * reading the view is another call site), so they are kept in fn_extra.
 */
#include "errors.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_type.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/lsyscache.h"

typedef struct RowSecurityAnswer
{
	Oid			relid;
	Oid			userid;
	bool		applies;
} RowSecurityAnswer;

PG_FUNCTION_INFO_V1(px_row_security_applies);

Datum
px_row_security_applies(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Oid			userid = GetUserId();
	RowSecurityAnswer *answer = (RowSecurityAnswer *) fcinfo->flinfo->fn_extra;

	if (answer == NULL || answer->relid != relid || answer->userid != userid)
	{
		if (get_rel_relkind(relid) == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("relation with OID %u does not exist", relid)));
		if (answer == NULL)
			answer = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(RowSecurityAnswer));
		answer->relid = relid;
		answer->userid = userid;
		/* noError: asked what applies, not whether row_security = off may read */
		answer->applies = check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED;
		fcinfo->flinfo->fn_extra = answer;
	}
	PG_RETURN_BOOL(answer->applies);
}

/* Whether the current user is one of the roles the policy is for. */
static bool
policy_names_user(Oid relid, const char *polname, Oid userid)
{
	Relation	catalog = table_open(PolicyRelationId, AccessShareLock);
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tuple;
	bool		applies = false;

	ScanKeyInit(&keys[0], Anum_pg_policy_polrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	ScanKeyInit(&keys[1], Anum_pg_policy_polname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum(polname));
	scan = systable_beginscan(catalog, PolicyPolrelidPolnameIndexId, true, NULL, 2, keys);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;
		Datum		roles = heap_getattr(tuple, Anum_pg_policy_polroles,
										 RelationGetDescr(catalog), &isnull);

		if (!isnull)
		{
			Datum	   *role;
			int			n;

			deconstruct_array(DatumGetArrayTypeP(roles), OIDOID, sizeof(Oid), true,
							  TYPALIGN_INT, &role, NULL, &n);
			for (int i = 0; i < n && !applies; i++)
				applies = DatumGetObjectId(role[i]) == ACL_ID_PUBLIC ||
					has_privs_of_role(userid, DatumGetObjectId(role[i]));
		}
	}
	systable_endscan(scan);
	table_close(catalog, AccessShareLock);
	return applies;
}

typedef struct PolicyRolesAnswer
{
	Oid			userid;
	bool		applies;
} PolicyRolesAnswer;

PG_FUNCTION_INFO_V1(px_policy_applies_to_reader);

Datum
px_policy_applies_to_reader(PG_FUNCTION_ARGS)
{
	Oid			userid = GetUserId();
	PolicyRolesAnswer *answer = (PolicyRolesAnswer *) fcinfo->flinfo->fn_extra;

	/* the arguments are the view's constants: one answer per call site and user */
	if (answer == NULL || answer->userid != userid)
	{
		if (answer == NULL)
			answer = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(PolicyRolesAnswer));
		answer->userid = userid;
		answer->applies = policy_names_user(PG_GETARG_OID(0), NameStr(*PG_GETARG_NAME(1)), userid);
		fcinfo->flinfo->fn_extra = answer;
	}
	PG_RETURN_BOOL(answer->applies);
}
