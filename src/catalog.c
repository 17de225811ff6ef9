/*
 * catalog.c
 *		Finding the extension's tables and telling its encrypted types, the
 *		snapshot the tables' backend caches read with, one relcache and one
 *		role callback dispatching to the caches that listen, and whether a
 *		table has the consent policy (catalog.h).
 */
#include "errors.h"
#include "catalog.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "rewrite/prs2lock.h"
#include "rewrite/rewriteDefine.h"
#include "rewrite/rowsecurity.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

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

bool
px_system_or_extension_relation(Oid relid)
{
	Oid			nsp = get_rel_namespace(relid);

	return relid < FirstNormalObjectId || nsp == px_schema_oid() ||
		IsCatalogNamespace(nsp) || IsToastNamespace(nsp);
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

/* The SQL name of an encrypted type, schema-qualified. */
const char *
px_encrypted_type_name(px_value_type type)
{
	switch (type)
	{
		case PX_TYPE_TEXT:
			return "privacy.encrypted_text";
		case PX_TYPE_BYTEA:
			return "privacy.encrypted_bytea";
		case PX_TYPE_TEXT_DET:
			return "privacy.encrypted_text_det";
	}
	return "unknown";
}

void
px_require_type(Oid typid)
{
	if (!SearchSysCacheExists1(TYPEOID, ObjectIdGetDatum(typid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("type with OID %u does not exist", typid)));
}

/* Whether typid is one of the encrypted types, and which. */
bool
px_encrypted_type(Oid typid, px_value_type *type)
{
	char	   *name = format_type_be(typid);
	px_value_type candidates[] = {PX_TYPE_TEXT, PX_TYPE_BYTEA, PX_TYPE_TEXT_DET};
	size_t		i;

	for (i = 0; i < lengthof(candidates); i++)
		if (strcmp(name, px_encrypted_type_name(candidates[i])) == 0)
		{
			*type = candidates[i];
			return true;
		}
	return false;
}

static void
walk_encrypted_type(Oid typid, int32 typmod, PxValueShape shape, int array_depth,
					PxEncryptedLeaf fn, void *arg)
{
	px_value_type vtype;
	HeapTuple	tp;
	Form_pg_type t;

	/* Nesting is bounded by the catalogs (no type contains itself), not by us. */
	check_stack_depth();
	if (px_encrypted_type(typid, &vtype))
	{
		fn(typid, vtype, typmod, shape, array_depth, arg);
		return;
	}
	tp = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (!HeapTupleIsValid(tp))
		return;
	t = (Form_pg_type) GETSTRUCT(tp);
	if (t->typtype == TYPTYPE_DOMAIN)
	{
		Oid			base = t->typbasetype;
		int32		base_typmod = t->typtypmod;

		ReleaseSysCache(tp);
		walk_encrypted_type(base, base_typmod, shape, array_depth, fn, arg);
	}
	else if (IsTrueArrayType(t))
	{
		Oid			elem = t->typelem;

		ReleaseSysCache(tp);
		walk_encrypted_type(elem, typmod, shape == PX_SHAPE_COMPOSITE ? shape : PX_SHAPE_ARRAY,
							array_depth + 1, fn, arg);
	}
	else if (t->typtype == TYPTYPE_COMPOSITE && OidIsValid(t->typrelid))
	{
		TupleDesc	desc;
		int			i;

		ReleaseSysCache(tp);
		desc = lookup_rowtype_tupdesc_copy(typid, -1);
		for (i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (!att->attisdropped)
				walk_encrypted_type(att->atttypid, att->atttypmod, PX_SHAPE_COMPOSITE,
									array_depth, fn, arg);
		}
		FreeTupleDesc(desc);
	}
	else
		ReleaseSysCache(tp);
}

void
px_walk_encrypted_type(Oid typid, int32 typmod, PxValueShape shape,
					   PxEncryptedLeaf fn, void *arg)
{
	walk_encrypted_type(typid, typmod, shape, 0, fn, arg);
}

const char *
px_value_shape_name(PxValueShape shape)
{
	switch (shape)
	{
		case PX_SHAPE_VALUE:
			return "value";
		case PX_SHAPE_ARRAY:
			return "array";
		case PX_SHAPE_COMPOSITE:
			return "composite";
	}
	return "composite";
}

Snapshot
px_catalog_snapshot(void)
{
	if (IsInParallelMode())
		return ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot();
	return GetLatestSnapshot();
}

/*
 * A parallel query cannot take a new snapshot, so under REPEATABLE READ or
 * SERIALIZABLE it reads the registries with the transaction's, and a grant
 * revoked since its start still showed: the leader and its workers kept
 * decrypting for as long as the transaction lasted.  The row's deleter
 * tells: a committed transaction other than this one deleted or updated it
 * (a row only locked does not count).  Failing, rather than reading on,
 * keeps "the next statement" true there; a new transaction reads the
 * latest state.  (A row added since is not seen: that is the old state,
 * which denies.)
 */
void
px_require_current_row(HeapTuple tup, const char *what)
{
	HeapTupleHeader htup = tup->t_data;
	TransactionId xmax;

	if (!IsInParallelMode() || !IsolationUsesXactSnapshot())
		return;
	if ((htup->t_infomask & HEAP_XMAX_INVALID) || HEAP_XMAX_IS_LOCKED_ONLY(htup->t_infomask))
		return;
	xmax = HeapTupleHeaderGetUpdateXid(htup);
	if (!TransactionIdIsValid(xmax) || TransactionIdIsCurrentTransactionId(xmax) ||
		!TransactionIdDidCommit(xmax))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			 errmsg("could not read %s: it changed after this transaction's snapshot was taken", what),
			 errdetail("A parallel query reads with the transaction's snapshot, which no longer shows the state committed since."),
			 errhint("Run the query in a new transaction, or without a parallel plan (max_parallel_workers_per_gather = 0).")));
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

bool
px_relation_consent_protected(Oid relid)
{
	Relation	rel = RelationIdGetRelation(relid);
	bool		found = false;

	if (!RelationIsValid(rel))
		return false;
	if (rel->rd_rel->relrowsecurity && rel->rd_rsdesc != NULL)
	{
		ListCell   *lc;

		foreach(lc, rel->rd_rsdesc->policies)
		{
			RowSecurityPolicy *policy = (RowSecurityPolicy *) lfirst(lc);

			if (strcmp(policy->policy_name, PX_CONSENT_SELECT_POLICY) == 0)
			{
				found = true;
				break;
			}
		}
	}
	RelationClose(rel);
	return found;
}

bool
px_rule_replaces_update(Relation rel)
{
	int			i;

	for (i = 0; rel->rd_rules != NULL && i < rel->rd_rules->numLocks; i++)
	{
		RewriteRule *rule = rel->rd_rules->rules[i];
		bool		fires;

		/* as rewriteHandler.c's matchLocks decides */
		if (SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA)
			fires = rule->enabled == RULE_FIRES_ON_REPLICA || rule->enabled == RULE_FIRES_ALWAYS;
		else
			fires = rule->enabled == RULE_FIRES_ON_ORIGIN || rule->enabled == RULE_FIRES_ALWAYS;
		if (rule->event == CMD_UPDATE && rule->isInstead && fires)
			return true;
	}
	return false;
}
