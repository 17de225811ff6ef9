/*
 * roles/role_names.c
 *		The registries that name roles (mask rules for a role, masked roles,
 *		purpose grants, key grants) follow DROP ROLE and ALTER ROLE ...
 *		RENAME TO in the database where the command runs.
 *
 * The registries keep role names: they are what pg_dump carries and a
 * restore into another cluster finds again.  A name outlives its role,
 * though: after DROP ROLE a rule 'none' for the role, a purpose grant or a
 * masked role's record stayed, and a new role created with the same name
 * took them over (a rule showing a column in clear to whoever is called
 * "hr" next); after a rename the role lost its rules and grants, and a
 * masked role stopped being masked.  So once such a command has succeeded,
 * the rows of the dropped roles are deleted (a key grant with its
 * key_revoke event) and the renamed role's rows renamed, as the
 * extension's owner, in the command's transaction (a rollback takes both
 * back).  Roles are the cluster's, the registries each
 * database's: the other databases with the extension keep their rows (the
 * README says to run the command's counterpart there).
 */
#include "postgres.h"

#include "roles/role_names.h"
#include "admin.h"
#include "audit/events.h"
#include "catalog.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"

static ProcessUtility_hook_type prev_process_utility = NULL;

/* The registries and the column of each that names a role. */
static const struct
{
	const char *table;
	const char *column;
}			role_columns[] = {
	{"mask_rules", "role_name"},
	{"masked_roles", "role_name"},
	{"purpose_grants", "role_name"},
	{"key_grants", "grantee_name"},
};

/*
 * Run sql (one $1, or $1 and $2, of type name) on every registry as the
 * extension's owner: nobody else may write them.
 */
static void
update_registries(const char *sql_format, int nargs, Datum *values)
{
	Oid			argtypes[2] = {NAMEOID, NAMEOID};
	Oid			owner;
	PxSavedUser saved;
	size_t		i;

	owner = px_relation_owner(px_privacy_relid("mask_rules"), true);
	if (!OidIsValid(owner))
		return;
	SPI_connect();
	px_become_owner(owner, &saved);
	PG_TRY();
	{
		for (i = 0; i < lengthof(role_columns); i++)
		{
			char	   *sql = psprintf(sql_format, role_columns[i].table, role_columns[i].column,
									   role_columns[i].column);

			if (SPI_execute_with_args(sql, nargs, argtypes, values, NULL, false, 0) < 0)
				elog(ERROR, "could not update privacy.%s", role_columns[i].table);
		}
	}
	PG_FINALLY();
	{
		px_restore_user(&saved);
	}
	PG_END_TRY();
	SPI_finish();
}

static Datum
name_datum(const char *s)
{
	return DirectFunctionCall1(namein, CStringGetDatum(s));
}

/*
 * Delete the key grants naming a role that is gone, each with the
 * key_revoke event revoke_key() would write (the detail says which command
 * revoked it): no key is revoked unrecorded.  Before update_registries(),
 * which then finds none of them left.
 */
static void
revoke_key_grants(const char *rolename, const char *command)
{
	Oid			argtypes[1] = {NAMEOID};
	Datum		values[1];
	StringInfoData detail;
	uint64		i;

	values[0] = name_datum(rolename);
	initStringInfo(&detail);
	appendStringInfoString(&detail, "{\"role\": ");
	escape_json(&detail, rolename);
	appendStringInfoString(&detail, ", \"command\": ");
	escape_json(&detail, command);
	appendStringInfoChar(&detail, '}');

	SPI_connect();
	if (px_execute_as_extension_owner("DELETE FROM privacy.key_grants g"
									  " WHERE g.grantee_name OPERATOR(pg_catalog.=) $1"
									  " RETURNING (SELECT k.name FROM privacy.data_keys k"
									  " WHERE k.key_id OPERATOR(pg_catalog.=) g.key_id)",
									  1, argtypes, values, false, 0) != SPI_OK_DELETE_RETURNING)
		elog(ERROR, "could not delete the key grants of role \"%s\"", rolename);
	/* As the command's user, as revoke_key() would be. */
	for (i = 0; i < SPI_processed; i++)
		px_audit_event("key_revoke",
					   SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1),
					   1, detail.data);
	SPI_finish();
}

static void
role_names_process_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
						   ProcessUtilityContext context, ParamListInfo params,
						   QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;

	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);

	/* The command succeeded; the registries exist only where the extension does. */
	if (!IsTransactionState() || !OidIsValid(px_schema_oid()) ||
		!OidIsValid(px_privacy_relid("mask_rules")))
		return;
	if (IsA(stmt, DropRoleStmt))
	{
		ListCell   *lc;

		foreach(lc, ((DropRoleStmt *) stmt)->roles)
		{
			RoleSpec   *r = (RoleSpec *) lfirst(lc);
			Datum		v[1];

			/* A role of that name again (DROP ROLE IF EXISTS of a missing one leaves it) */
			if (r->roletype != ROLESPEC_CSTRING || OidIsValid(get_role_oid(r->rolename, true)))
				continue;
			revoke_key_grants(r->rolename, "DROP ROLE");
			v[0] = name_datum(r->rolename);
			update_registries("DELETE FROM privacy.%s WHERE %s OPERATOR(pg_catalog.=) $1 AND %s IS NOT NULL",
							  1, v);
		}
	}
	else if (IsA(stmt, RenameStmt) && ((RenameStmt *) stmt)->renameType == OBJECT_ROLE)
	{
		RenameStmt *r = (RenameStmt *) stmt;
		Datum		v[2];

		/* Rows naming the new name are a dropped role's: that name was free. */
		revoke_key_grants(r->newname, "ALTER ROLE RENAME");
		v[0] = name_datum(r->newname);
		update_registries("DELETE FROM privacy.%s WHERE %s OPERATOR(pg_catalog.=) $1 AND %s IS NOT NULL",
						  1, v);
		v[0] = name_datum(r->subname);
		v[1] = name_datum(r->newname);
		update_registries("UPDATE privacy.%s SET %s = $2 WHERE %s OPERATOR(pg_catalog.=) $1", 2, v);
	}
}

void
px_install_role_names(void)
{
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = role_names_process_utility;
}
