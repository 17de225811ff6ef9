/*
 * admin.c
 *		The privacy_admin and consent-manager checks, and running as a
 *		table's owner (admin.h).
 */
#include "errors.h"
#include "admin.h"
#include "foreign_calls.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

bool
px_is_privacy_admin(void)
{
	Oid			admin = get_role_oid(PX_ADMIN_ROLE, true);

	return superuser() || (OidIsValid(admin) && has_privs_of_role(GetUserId(), admin));
}

bool
px_is_consent_manager(void)
{
	Oid			manager = get_role_oid(PX_CONSENT_MANAGER_ROLE, true);

	return px_is_privacy_admin() ||
		(OidIsValid(manager) && has_privs_of_role(GetUserId(), manager));
}

void
px_require_key_admin(void)
{
	if (px_is_privacy_admin())
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to manage privacy_ext keys"),
			 errhint("Key management requires superuser or membership in role \"%s\".",
					 PX_ADMIN_ROLE)));
}

void
px_require_privacy_admin(void)
{
	if (!px_is_privacy_admin())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to administer privacy_ext"),
				 errhint("Masking rules, purposes, protected tables and classifications are managed by superusers and members of role \"privacy_admin\".")));
}

/* privacy.require_admin(): the administrator check, for the SQL glue. */
PG_FUNCTION_INFO_V1(px_require_admin);
Datum
px_require_admin(PG_FUNCTION_ARGS)
{
	px_require_privacy_admin();
	PG_RETURN_VOID();
}

void
px_become_owner(Oid owner, PxSavedUser *saved)
{
	GetUserIdAndSecContext(&saved->userid, &saved->sec_context);
	SetUserIdAndSecContext(owner, saved->sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	saved->guc_level = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	saved->foreign_calls_level = superuser_arg(owner) ? px_foreign_calls_as_owner_begin() : -1;
}

/* Whether catalog (pg_class or pg_type) has a row in namespace nspid. */
static bool
namespace_has_rows(Oid catalog, AttrNumber nsp_attnum, Oid nspid)
{
	Relation	rel = table_open(catalog, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	bool		found;

	ScanKeyInit(&key, nsp_attnum, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(nspid));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	found = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * The session's temporary tables and types are found by unqualified names
 * before any other schema's whatever search_path says (pg_temp can be put
 * last, never left out).  The owner's code a request runs -- its triggers,
 * policies, defaults, rules -- names its own tables unqualified as often as
 * not: a temporary table of the caller's named like one of them would be
 * read and written by that code with the owner's rights, and the caller's
 * triggers on it would fire as the owner.  So a caller without the owner's
 * privileges may not have temporary tables or types while the owner's code
 * runs.
 */
static void
require_no_temporary_objects(Oid relid, Oid owner)
{
	Oid			temp_nsp;
	Oid			temp_toast_nsp;

	if (superuser() || has_privs_of_role(GetUserId(), owner))
		return;
	GetTempNamespaceState(&temp_nsp, &temp_toast_nsp);
	if (!OidIsValid(temp_nsp))
		return;
	if (namespace_has_rows(RelationRelationId, Anum_pg_class_relnamespace, temp_nsp) ||
		namespace_has_rows(TypeRelationId, Anum_pg_type_typnamespace, temp_nsp))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot run the code of the owner of %s in a session with temporary tables or types",
						quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
												   get_rel_name(relid))),
				 errdetail("The owner's triggers, policies and defaults run with the owner's rights, and an unqualified name in them finds the session's temporary objects first."),
				 errhint("Drop them (DISCARD TEMP), or run it in another session.")));
}

void
px_become_table_owner(Oid relid, PxSavedUser *saved)
{
	Oid			owner = px_relation_owner(relid, false);

	require_no_temporary_objects(relid, owner);
	px_become_owner(owner, saved);
}

/* Also on the way out of an error (PG_FINALLY): a caller may go on after it. */
void
px_restore_user(const PxSavedUser *saved)
{
	if (saved->foreign_calls_level >= 0)
		px_foreign_calls_as_owner_end(saved->foreign_calls_level);
	AtEOXact_GUC(true, saved->guc_level);
	SetUserIdAndSecContext(saved->userid, saved->sec_context);
}

Oid
px_relation_owner(Oid relid, bool missing_ok)
{
	HeapTuple	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tp) && missing_ok)
		return InvalidOid;
	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tp))->relowner;
	ReleaseSysCache(tp);
	return owner;
}

Oid
px_extension_owner(void)
{
	bool		isnull;

	if (SPI_execute("SELECT extowner FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'privacy_ext'",
					true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "privacy_ext is not installed");
	return DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

int
px_execute_as_extension_owner(const char *sql, int nargs, Oid *argtypes, Datum *values,
							  bool read_only, long count)
{
	PxSavedUser saved;
	volatile int rc;

	px_become_owner(px_extension_owner(), &saved);
	PG_TRY();
	{
		rc = SPI_execute_with_args(sql, nargs, argtypes, values, NULL, read_only, count);
	}
	PG_FINALLY();
	{
		px_restore_user(&saved);
	}
	PG_END_TRY();
	return rc;
}
