/*
 * catalog.c
 *		Finding the extension's tables, the snapshot their backend caches
 *		read with, and one relcache and one role callback dispatching to the
 *		caches that listen (catalog.h).
 */
#include "errors.h"
#include "catalog.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

/* Key store, purpose registry, and room for a few more. */
#define PX_MAX_LISTENERS 4

static PxRelationChanged relation_listeners[PX_MAX_LISTENERS];
static int	n_relation_listeners = 0;
static bool relcache_callback_set = false;

static PxRolesChanged role_listeners[PX_MAX_LISTENERS];
static int	n_role_listeners = 0;
static bool role_callback_set = false;

Oid
px_schema_oid(void)
{
	return get_namespace_oid(PX_SCHEMA, true);
}

Oid
px_privacy_relid(const char *name)
{
	Oid			nsp = px_schema_oid();

	return OidIsValid(nsp) ? get_relname_relid(name, nsp) : InvalidOid;
}

Relation
px_open_privacy_table(const char *name, LOCKMODE lockmode, Oid *relid_out)
{
	Oid			relid = px_privacy_relid(name);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("privacy_ext is not installed in this database"),
				 errhint("Run CREATE EXTENSION privacy_ext.")));
	if (relid_out)
		*relid_out = relid;
	return table_open(relid, lockmode);
}

Snapshot
px_catalog_snapshot(void)
{
	if (IsInParallelMode())
		return ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot();
	return GetLatestSnapshot();
}

static void
relcache_changed(Datum arg, Oid relid)
{
	int			i;

	for (i = 0; i < n_relation_listeners; i++)
		relation_listeners[i] (relid);
}

static void
roles_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	int			i;

	for (i = 0; i < n_role_listeners; i++)
		role_listeners[i] ();
}

void
px_catalog_on_relation_change(PxRelationChanged fn)
{
	int			i;

	for (i = 0; i < n_relation_listeners; i++)
		if (relation_listeners[i] == fn)
			return;
	if (n_relation_listeners >= PX_MAX_LISTENERS)
		elog(ERROR, "privacy_ext: too many relation listeners");
	if (!relcache_callback_set)
	{
		CacheRegisterRelcacheCallback(relcache_changed, (Datum) 0);
		relcache_callback_set = true;
	}
	relation_listeners[n_relation_listeners++] = fn;
}

void
px_catalog_on_role_change(PxRolesChanged fn)
{
	int			i;

	for (i = 0; i < n_role_listeners; i++)
		if (role_listeners[i] == fn)
			return;
	if (n_role_listeners >= PX_MAX_LISTENERS)
		elog(ERROR, "privacy_ext: too many role listeners");
	if (!role_callback_set)
	{
		CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, roles_changed, (Datum) 0);
		CacheRegisterSyscacheCallback(AUTHOID, roles_changed, (Datum) 0);
		role_callback_set = true;
	}
	role_listeners[n_role_listeners++] = fn;
}
