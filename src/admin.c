/*
 * admin.c
 *		The privacy_admin and consent-manager checks, and running as a
 *		table's owner (admin.h).
 */
#include "errors.h"
#include "admin.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/acl.h"
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
}

/* Also on the way out of an error (PG_FINALLY): a caller may go on after it. */
void
px_restore_user(const PxSavedUser *saved)
{
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
