/*
 * citus/shard_map.c
 *		Which Citus table a relation is a shard of.
 *
 * On a Citus node, a query the coordinator sends reads the shards of a
 * distributed or reference table: relation <table>_<shard id> in the
 * table's schema (Citus names shards so, shortening a long table name and
 * adding a hash of it; its shard_name() says which name).  The masking
 * guard (masking/guard.c) accepts a shard where apply_mask names the
 * table, and nothing else, so the answer here is strict: the shard id
 * must be one of the table's in pg_dist_shard, the relation must bear the
 * exact name shard_name() gives that shard, live in the table's schema
 * and belong to the table's owner (Citus creates shards as the table's
 * owner; a role that could create a look-alike elsewhere cannot give it
 * to the owner without being a member of it).
 *
 * Citus is found at run time (its extension, its catalog and function by
 * name); privacy_ext neither links against it nor includes its headers.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "citus/shard_map.h"

/* The shard id a name ends with ("_" and digits), or 0. */
static int64
shard_id_suffix(const char *relname)
{
	const char *us = strrchr(relname, '_');
	const char *p;
	int64		id = 0;

	if (us == NULL || us[1] == '\0')
		return 0;
	for (p = us + 1; *p; p++)
	{
		if (*p < '0' || *p > '9' || id > (PG_INT64_MAX - 9) / 10)
			return 0;
		id = id * 10 + (*p - '0');
	}
	return id;
}

/* pg_dist_shard's table for shard id, or InvalidOid. */
static Oid
shard_logical_relid(int64 shard_id)
{
	Oid			dist_shard = get_relname_relid("pg_dist_shard", PG_CATALOG_NAMESPACE);
	Oid			index = get_relname_relid("pg_dist_shard_shardid_index", PG_CATALOG_NAMESPACE);
	Relation	rel;
	AttrNumber	att_relid;
	AttrNumber	att_shardid;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			result = InvalidOid;

	if (!OidIsValid(dist_shard) || !OidIsValid(index))
		return InvalidOid;
	att_relid = get_attnum(dist_shard, "logicalrelid");
	att_shardid = get_attnum(dist_shard, "shardid");
	if (att_relid == InvalidAttrNumber || att_shardid == InvalidAttrNumber ||
		get_atttype(dist_shard, att_relid) != REGCLASSOID ||
		get_atttype(dist_shard, att_shardid) != INT8OID)
		return InvalidOid;
	rel = table_open(dist_shard, AccessShareLock);
	ScanKeyInit(&key, att_shardid, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(shard_id));
	scan = systable_beginscan(rel, index, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, att_relid, RelationGetDescr(rel), &isnull);

		if (!isnull)
			result = DatumGetObjectId(d);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return result;
}

/* What Citus's shard_name(table, shard id) says, or NULL without it. */
static char *
citus_shard_name(Oid table, int64 shard_id)
{
	Oid			argtypes[2] = {REGCLASSOID, INT8OID};
	Oid			fn = LookupFuncName(list_make2(makeString("pg_catalog"), makeString("shard_name")),
									2, argtypes, true);

	if (!OidIsValid(fn))
		return NULL;
	return TextDatumGetCString(OidFunctionCall2(fn, ObjectIdGetDatum(table),
												Int64GetDatum(shard_id)));
}

Oid
px_citus_shard_parent(Oid relid)
{
	HeapTuple	tup;
	Form_pg_class form;
	char		relname[NAMEDATALEN];
	Oid			nsp;
	Oid			owner;
	int64		shard_id;
	Oid			table;
	char	   *expected;
	const char *mine;
	char	   *nspname;

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		return InvalidOid;
	form = (Form_pg_class) GETSTRUCT(tup);
	strlcpy(relname, NameStr(form->relname), NAMEDATALEN);
	nsp = form->relnamespace;
	owner = form->relowner;
	ReleaseSysCache(tup);

	/* Cheap refusals first: no shard id suffix, no Citus. */
	shard_id = shard_id_suffix(relname);
	if (shard_id <= 0 || !px_citus_loaded() || !OidIsValid(get_extension_oid("citus", true)))
		return InvalidOid;
	table = shard_logical_relid(shard_id);
	if (!OidIsValid(table) || table == relid)
		return InvalidOid;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(table));
	if (!HeapTupleIsValid(tup))
		return InvalidOid;
	form = (Form_pg_class) GETSTRUCT(tup);
	if (form->relnamespace != nsp || form->relowner != owner)
	{
		ReleaseSysCache(tup);
		return InvalidOid;
	}
	ReleaseSysCache(tup);
	expected = citus_shard_name(table, shard_id);
	if (expected == NULL)
		return InvalidOid;
	/* shard_name() leaves out the schema public, and quotes as needed. */
	nspname = get_namespace_name(nsp);
	if (nspname != NULL && strcmp(nspname, "public") == 0)
		mine = quote_identifier(relname);
	else
		mine = quote_qualified_identifier(nspname, relname);
	return strcmp(expected, mine) == 0 ? table : InvalidOid;
}

bool
px_citus_loaded(void)
{
	return GetConfigOption("citus.version", true, false) != NULL;
}
