/*
 * keys/key_usage.c
 *		Where keys are used: the versions present in encrypted columns
 *		(for key administrators only: finding them scans tables), and
 *		privacy.reencrypt(), which rewrites old versions to the active one.
 */
#include "errors.h"
#include "keys/key_usage.h"
#include "keys/key_store.h"
#include "admin.h"
#include "catalog.h"
#include "audit/events.h"
#include "citus/dist_shards.h"
#include "citus/dist_rewrite.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "rewrite/prs2lock.h"
#include "rewrite/rewriteDefine.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

/*
 * The columns that may hold values under a key: every column (and every
 * field of a composite type: while the type exists, values of it may be
 * stored) whose type px_walk_encrypted_type() follows down to an encrypted
 * type under the key.  Partitions are read, not their partitioned tables
 * (which would read them twice).  A materialized view not populated holds
 * no values (and cannot be read).  filter is more of the WHERE clause.
 */
#define COLUMNS_UNDER_KEY(filter) \
	"SELECT c.oid::pg_catalog.regclass::pg_catalog.text, pg_catalog.quote_ident(a.attname)," \
	"       a.atttypid, a.atttypmod, c.relkind OPERATOR(pg_catalog.=) 'c', c.oid," \
	"       c.relpersistence OPERATOR(pg_catalog.=) 't'" \
	"       AND c.relnamespace OPERATOR(pg_catalog.<>) pg_catalog.pg_my_temp_schema()," \
	"       c.relkind OPERATOR(pg_catalog.=) 'f'" \
	"  FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) a.attrelid" \
	" WHERE a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped" \
	"   AND c.relkind IN ('r', 'm', 'c', 'f')" \
	"   AND (c.relkind OPERATOR(pg_catalog.<>) 'm' OR c.relispopulated)" \
	filter \
	" ORDER BY 1, 2"

/*
 * Listing versions in use (privacy.keys) passes over other sessions'
 * temporary tables, which no session can read: an open session's temporary
 * table would otherwise make the view fail for everyone.  Dropping a
 * version still looks at them, and fails with PostgreSQL's error rather
 * than lose their values.
 */
#define COLUMNS_UNDER_KEY_LISTED \
	COLUMNS_UNDER_KEY("   AND (c.relpersistence OPERATOR(pg_catalog.<>) 't'" \
					  "        OR c.relnamespace OPERATOR(pg_catalog.=) pg_catalog.pg_my_temp_schema())")

/*
 * How one column holds values under the key: not at all (found false),
 * as itself, in arrays (array_depth unnests reach them) or under a field of
 * a composite type, which the scan cannot follow (and which wins: a column
 * with such a field counts as in use whatever else it holds).
 */
typedef struct ColumnUnderKey
{
	int32		key_id;
	bool		found;
	PxValueShape shape;
	int			array_depth;
} ColumnUnderKey;

static void
note_leaf(Oid typid, px_value_type type, int32 key_id, PxValueShape shape, int array_depth,
		  void *arg)
{
	ColumnUnderKey *c = (ColumnUnderKey *) arg;

	if (key_id != c->key_id)
		return;
	if (!c->found || shape == PX_SHAPE_COMPOSITE)
	{
		c->shape = shape;
		c->array_depth = array_depth;
	}
	c->found = true;
}

/*
 * privacy.type_encryption(typid, typmod): the encrypted values a column of
 * that type holds, one row per encrypted type reached (value_type, key_id,
 * shape, array_depth), for privacy.encrypted_columns.
 */
typedef struct LeafRows
{
	ReturnSetInfo *rsinfo;
} LeafRows;

static void
emit_leaf(Oid typid, px_value_type type, int32 key_id, PxValueShape shape, int array_depth,
		  void *arg)
{
	LeafRows   *out = (LeafRows *) arg;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	values[0] = ObjectIdGetDatum(typid);
	values[1] = Int32GetDatum(key_id);
	values[2] = CStringGetTextDatum(px_value_shape_name(shape));
	values[3] = Int32GetDatum(array_depth);
	tuplestore_putvalues(out->rsinfo->setResult, out->rsinfo->setDesc, values, nulls);
}

PG_FUNCTION_INFO_V1(px_type_encryption);
Datum
px_type_encryption(PG_FUNCTION_ARGS)
{
	LeafRows	out;
	Oid			typid = PG_GETARG_OID(0);

	InitMaterializedSRF(fcinfo, 0);
	out.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	/*
	 * An OID that names no type holds no encrypted values: no rows, as
	 * format_type() answers NULL for it, rather than the walk's internal
	 * "cache lookup failed" (XX000).
	 */
	if (!SearchSysCacheExists1(TYPEOID, ObjectIdGetDatum(typid)))
		return (Datum) 0;
	px_walk_encrypted_type(typid, PG_GETARG_INT32(1), PX_SHAPE_VALUE, emit_leaf, &out);
	return (Datum) 0;
}

/*
 * Run fn as the extension's owner: looking for a key version must see
 * every table, including those the key administrator may not read.  Only
 * version numbers come back, never values.
 */
typedef struct UsageScan
{
	uint32		key_id;
	uint32		version;		/* for first_use */
	char	   *first_use;
	ArrayBuildState *versions;
} UsageScan;

static void
scan_columns(UsageScan *state, bool find_first)
{
	PxSavedUser saved;
	Oid			owner;
	SPITupleTable *columns;
	uint64		ncolumns;
	uint64		i;
	bool		isnull;

	SPI_connect();
	owner = px_extension_owner();

	px_become_owner(owner, &saved);

	if (SPI_execute(find_first ? COLUMNS_UNDER_KEY("") : COLUMNS_UNDER_KEY_LISTED,
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not list encrypted columns");
	columns = SPI_tuptable;
	ncolumns = SPI_processed;

	/*
	 * Dropping a version: no writer may add a value under it while the
	 * tables are scanned (a restored dump, an envelope an application kept,
	 * COPY of exported envelopes: the version still exists until the drop
	 * commits), or the drop would report it unused and wipe the key of a
	 * value just committed.  Each table with a column under the key is
	 * locked in SHARE mode until the drop commits (writers wait; a value
	 * under the version written after it fails as an unknown version), and
	 * the scan reads with a snapshot taken once every lock is held.
	 */
	if (find_first)
	{
		List	   *locked = NIL;
		bool		relisted = false;

		/*
		 * A table made (or a dump restored into one) while the drop waited
		 * for a lock was not in the list: after the locks, the columns are
		 * listed again under a snapshot taken then, until a listing finds
		 * no table left to lock.
		 */
		for (;;)
		{
			int			new_locks = 0;

			for (i = 0; i < ncolumns; i++)
			{
				HeapTuple	row = columns->vals[i];
				ColumnUnderKey under = {(int32) state->key_id, false, PX_SHAPE_VALUE, 0};
				Oid			relid;

				px_walk_encrypted_type(DatumGetObjectId(SPI_getbinval(row, columns->tupdesc, 3, &isnull)),
									   DatumGetInt32(SPI_getbinval(row, columns->tupdesc, 4, &isnull)),
									   DatumGetBool(SPI_getbinval(row, columns->tupdesc, 5, &isnull)) ?
									   PX_SHAPE_COMPOSITE : PX_SHAPE_VALUE,
									   note_leaf, &under);
				if (!under.found || DatumGetBool(SPI_getbinval(row, columns->tupdesc, 5, &isnull)))
					continue;
				if (DatumGetBool(SPI_getbinval(row, columns->tupdesc, 7, &isnull)))
				{
					/* another session's temporary table: no session can read it */
					state->first_use = psprintf("%s.%s (a temporary table of another session, which cannot be read)",
												SPI_getvalue(row, columns->tupdesc, 1),
												SPI_getvalue(row, columns->tupdesc, 2));
					break;
				}
				relid = DatumGetObjectId(SPI_getbinval(row, columns->tupdesc, 6, &isnull));
				if (list_member_oid(locked, relid))
					continue;
				LockRelationOid(relid, ShareLock);
				locked = lappend_oid(locked, relid);
				new_locks++;
			}
			if (state->first_use != NULL || (new_locks == 0 && relisted))
				break;
			PushActiveSnapshot(GetLatestSnapshot());
			if (SPI_execute(COLUMNS_UNDER_KEY(""), true, 0) != SPI_OK_SELECT)
				elog(ERROR, "could not list encrypted columns");
			PopActiveSnapshot();
			columns = SPI_tuptable;
			ncolumns = SPI_processed;
			relisted = true;
		}
		PushActiveSnapshot(GetLatestSnapshot());
	}
	for (i = 0; state->first_use == NULL && i < ncolumns; i++)
	{
		HeapTuple	row = columns->vals[i];
		char	   *rel;
		char	   *col;
		ColumnUnderKey under = {(int32) state->key_id, false, PX_SHAPE_VALUE, 0};
		StringInfoData from;
		const char *value;
		uint64		j;
		int			d;

		px_walk_encrypted_type(DatumGetObjectId(SPI_getbinval(row, columns->tupdesc, 3, &isnull)),
							   DatumGetInt32(SPI_getbinval(row, columns->tupdesc, 4, &isnull)),
							   DatumGetBool(SPI_getbinval(row, columns->tupdesc, 5, &isnull)) ?
							   PX_SHAPE_COMPOSITE : PX_SHAPE_VALUE,
							   note_leaf, &under);
		if (!under.found)
			continue;
		rel = SPI_getvalue(row, columns->tupdesc, 1);
		col = SPI_getvalue(row, columns->tupdesc, 2);
		value = col;

		/*
		 * FROM ... and the values: the column's own, or its arrays'
		 * elements, one unnest per level (unnest flattens a
		 * multidimensional array, but an element that is a domain over an
		 * array is an array of its own).
		 */
		initStringInfo(&from);
		appendStringInfoString(&from, rel);
		for (d = 1; d <= under.array_depth; d++)
		{
			appendStringInfo(&from, ", LATERAL pg_catalog.unnest(%s) e%d(v)", value, d);
			value = psprintf("e%d.v", d);
		}

		/*
		 * A foreign table's values are another server's or a file's: not
		 * read (its wrapper's code would run here), so taken as in use, and
		 * left out of the versions listed.
		 */
		if (DatumGetBool(SPI_getbinval(row, columns->tupdesc, 8, &isnull)))
		{
			if (find_first)
			{
				state->first_use = psprintf("%s.%s (a foreign table, which cannot be checked)", rel, col);
				break;
			}
			continue;
		}

		/* A composite type's field: its values are not followed; taken as in use. */
		if (under.shape == PX_SHAPE_COMPOSITE)
		{
			if (find_first)
			{
				state->first_use = psprintf("%s.%s (a field of a composite type, which cannot be checked)",
											rel, col);
				break;
			}
			continue;
		}

		if (find_first)
		{
			Oid			vtypes[1] = {INT4OID};
			Datum		v[1];

			v[0] = Int32GetDatum((int32) state->version);
			if (SPI_execute_with_args(psprintf("SELECT 1 FROM %s WHERE privacy.envelope_key_version(%s)"
											   " OPERATOR(pg_catalog.=) $1 LIMIT 1", from.data, value),
									  1, vtypes, v, NULL, true, 1) != SPI_OK_SELECT)
				elog(ERROR, "could not scan %s", rel);
			if (SPI_processed > 0)
			{
				state->first_use = psprintf("%s.%s", rel, col);
				break;
			}
			continue;
		}
		if (SPI_execute(psprintf("SELECT DISTINCT privacy.envelope_key_version(%s) FROM %s"
								 " WHERE %s IS NOT NULL", value, from.data, value),
						true, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not scan %s", rel);
		for (j = 0; j < SPI_processed; j++)
		{
			Datum		ver = SPI_getbinval(SPI_tuptable->vals[j], SPI_tuptable->tupdesc, 1, &isnull);

			state->versions = accumArrayResult(state->versions, ver, false, INT4OID,
											   CurrentMemoryContext);
		}
	}
	if (find_first)
		PopActiveSnapshot();
	px_restore_user(&saved);
	if (state->first_use != NULL)
		state->first_use = MemoryContextStrdup(TopTransactionContext, state->first_use);
	SPI_finish();
}

/* "table.column" of some value under (key_id, version), or NULL if there is none. */
char *
px_first_use_of_version(uint32 key_id, uint32 version)
{
	UsageScan	state = {key_id, version, NULL, NULL};

	scan_columns(&state, true);
	return state.first_use;
}

/*
 * privacy.key_versions_in_use(key_id): sorted versions found in encrypted
 * columns, for key administrators; NULL for anyone else.  The scan reads
 * every encrypted column under the key as the extension's owner, so a role
 * that may not read those tables must not start it: it would lock them
 * (an owner's ALTER TABLE would wait for it) and make the server read data
 * the role cannot see.  privacy.keys, readable by everyone, calls this for
 * each row, so the answer for others is NULL rather than an error.
 */
PG_FUNCTION_INFO_V1(px_key_versions_in_use);
Datum
px_key_versions_in_use(PG_FUNCTION_ARGS)
{
	UsageScan	state = {(uint32) PG_GETARG_INT32(0), 0, NULL, NULL};
	MemoryContext caller = CurrentMemoryContext;
	Datum	   *elems;
	int			n;
	int			i;
	int			out = 0;

	if (!px_is_privacy_admin())
		PG_RETURN_NULL();
	state.versions = initArrayResult(INT4OID, caller, false);
	scan_columns(&state, false);
	n = state.versions->nelems;
	elems = state.versions->dvalues;
	/* Distinct and sorted: insertion sort, the list is short. */
	for (i = 0; i < n; i++)
	{
		int32		v = DatumGetInt32(elems[i]);
		int			j;
		bool		dup = false;

		for (j = 0; j < out; j++)
			if (DatumGetInt32(elems[j]) == v)
				dup = true;
		if (dup)
			continue;
		for (j = out; j > 0 && DatumGetInt32(elems[j - 1]) > v; j--)
			elems[j] = elems[j - 1];
		elems[j] = Int32GetDatum(v);
		out++;
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, out, INT4OID, 4, true, TYPALIGN_INT));
}

/*
 * privacy.reencrypt(table, column, batch_size): rewrite values sealed under
 * an older key version to the active one, a range of heap blocks at a time
 * (a TID range scan, so the table is read once), then once more over the
 * whole table for rows a concurrent writer put behind us.  Each batch is an
 * ordinary UPDATE: concurrent readers keep reading, concurrent writers wait
 * for a row at most until this transaction ends, and a row they changed
 * meanwhile is re-read and re-sealed, not overwritten.  Deterministic
 * columns are always under their key's version 1: nothing to do.
 * Returns the number of rows rewritten.
 */
/*
 * One audit event per run (object: the table, count: the values resealed,
 * detail: the column and the version they went to): the run opened every
 * value under an older version, with no grant of the key needed.
 */
static void
audit_reencrypt(Oid relid, const char *colname, int32 version, int64 changed)
{
	StringInfoData detail;

	initStringInfo(&detail);
	appendStringInfoString(&detail, "{\"column\": ");
	escape_json(&detail, colname);
	appendStringInfo(&detail, ", \"version\": %d}", version);
	px_audit_event("key_reencrypt",
				   DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(relid))),
				   changed, detail.data);
}

/*
 * A table whose UPDATE a rule of its own replaces (DO INSTEAD, DO INSTEAD
 * NOTHING) cannot be re-encrypted by reencrypt()'s UPDATE: the rewritten
 * statement is not an UPDATE of the table (SPI reports something else) or
 * updates something else, and the values would stay under the old version.
 * Refused up front with a way out, as static masking does (static.c).
 */
static void
refuse_instead_rules(Oid relid)
{
	Relation	rel = table_open(relid, RowExclusiveLock);	/* the UPDATE's lock */

	if (px_rule_replaces_update(rel))
	{
		char	   *name = pstrdup(RelationGetRelationName(rel));

		table_close(rel, NoLock);
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot re-encrypt \"%s\": a DO INSTEAD rule replaces its UPDATE", name),
				 errhint("Drop or disable the rule (ALTER TABLE ... DISABLE RULE) for the run; nothing was changed.")));
	}
	table_close(rel, NoLock);
}

PG_FUNCTION_INFO_V1(px_reencrypt);
Datum
px_reencrypt(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char	   *colname;
	int32		batch_rows;
	char	   *rel;
	char	   *col;
	int32		typmod;
	Oid			typid = InvalidOid;
	px_value_type vtype;
	int32		active;
	int64		nblocks;
	int64		rows_per_block;
	int64		batch_blocks;
	int64		lo;
	int64		changed = 0;
	char	   *update;
	Oid			argtypes[3] = {TEXTOID, TEXTOID, INT4OID};
	Datum		values[3];
	bool		isnull;
	PxCitusKind citus_kind;

	px_require_argument(fcinfo, 0, "table");
	px_require_argument(fcinfo, 1, "column");
	px_require_argument(fcinfo, 2, "batch_size");
	relid = PG_GETARG_OID(0);
	colname = NameStr(*PG_GETARG_NAME(1));
	batch_rows = PG_GETARG_INT32(2);
	px_require_key_admin();
	if (batch_rows < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch_size must be at least 1")));
	if (get_rel_name(relid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));

	SPI_connect();
	{
		Oid			t[2] = {OIDOID, NAMEOID};
		Datum		v[2];

		v[0] = ObjectIdGetDatum(relid);
		v[1] = PG_GETARG_DATUM(1);
		if (SPI_execute_with_args("SELECT a.atttypmod, pg_catalog.format_type(a.atttypid, NULL),"
								  "       c.relpages, c.reltuples, a.atttypid"
								  "  FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c"
								  "    ON c.oid OPERATOR(pg_catalog.=) a.attrelid"
								  " WHERE a.attrelid OPERATOR(pg_catalog.=) $1"
								  "   AND a.attname OPERATOR(pg_catalog.=) $2"
								  "   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped",
								  2, t, v, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not look up column");
		if (SPI_processed != 1)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of relation %s does not exist",
							colname, quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
																get_rel_name(relid)))));
		typmod = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		typid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 5, &isnull));
		{
			int32		relpages = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
			float4		reltuples = DatumGetFloat4(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &isnull));

			rows_per_block = (relpages > 0 && reltuples > 0) ? (int64) (reltuples / relpages) + 1 : 100;
		}
	}
	/* A domain over an encrypted type: its key is the domain's typmod. */
	if (get_typtype(typid) == TYPTYPE_DOMAIN)
	{
		int32		domain_typmod = -1;

		typid = getBaseTypeAndTypmod(typid, &domain_typmod);
		if (typmod < 0)
			typmod = domain_typmod;
	}
	if (!px_encrypted_type(typid, &vtype))
	{
		Oid			elem = get_element_type(typid);

		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of relation \"%s\" is not an encrypted column",
						colname, get_rel_name(relid)),
				 OidIsValid(elem) && px_encrypted_type(getBaseType(elem), &vtype) ?
				 errhint("An array of encrypted values is not rewritten by reencrypt(): update the column with its elements decrypted and cast back to its type.") : 0));
	}
	if (typmod < 0)
		ereport(ERROR,
				(errcode(ERRCODE_PX_UNKNOWN_KEY),
				 errmsg("column \"%s\" of relation \"%s\" names no key", colname, get_rel_name(relid))));
	if (vtype == PX_TYPE_TEXT_DET)
	{
		SPI_finish();
		PG_RETURN_INT64(0);
	}

	{
		Oid			t[1] = {INT4OID};
		Datum		v[1];

		v[0] = Int32GetDatum(typmod);
		if (SPI_execute_with_args("SELECT active_version FROM privacy.data_keys"
								  " WHERE key_id OPERATOR(pg_catalog.=) $1 AND destroyed_at IS NULL",
								  1, t, v, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not look up key");
		if (SPI_processed != 1)
			px_report_destroyed_key((uint32) typmod);
		active = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}

	/*
	 * A Citus distributed table: Citus refuses an UPDATE calling reseal()
	 * (VOLATILE), so each shard is re-encrypted on its node, by this same
	 * function (README, "Running on Citus").
	 */
	/*
	 * A reference table: one reseal per value here, written to every
	 * placement as the same constant (citus/dist_rewrite.c), in this
	 * transaction.
	 */
	citus_kind = px_citus_table_kind(relid, NULL);
	if (citus_kind == PX_CITUS_REFERENCE)
	{
		changed = px_citus_reencrypt_reference(relid, colname, vtype, active, batch_rows);
		SPI_finish();
		audit_reencrypt(relid, colname, active, changed);
		PG_RETURN_INT64(changed);
	}
	if (citus_kind == PX_CITUS_HASH)
	{
		StringInfoData cmd;
		const char *p;

		initStringInfo(&cmd);
		appendStringInfoString(&cmd, "SELECT privacy.reencrypt(%L::pg_catalog.regclass, ");
		for (p = quote_literal_cstr(colname); *p; p++)
		{
			if (*p == '%')
				appendStringInfoChar(&cmd, '%');
			appendStringInfoChar(&cmd, *p);
		}
		appendStringInfo(&cmd, ", %d)", batch_rows);
		changed = px_citus_sum_over_shards(relid, cmd.data);
		SPI_finish();
		PG_RETURN_INT64(changed);
	}

	refuse_instead_rules(relid);
	rel = psprintf("%s", DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(relid))));
	col = pstrdup(quote_identifier(colname));
	if (SPI_execute(psprintf("SELECT pg_catalog.pg_relation_size(%s) / pg_catalog.current_setting('block_size')::pg_catalog.int8",
							 quote_literal_cstr(rel)), true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not size relation");
	nblocks = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	batch_blocks = batch_rows / rows_per_block;
	if (batch_blocks < 1)
		batch_blocks = 1;

	update = psprintf("UPDATE %s SET %s = privacy.reseal(%s)"
					  " WHERE ctid OPERATOR(pg_catalog.>=) $1::pg_catalog.tid"
					  "   AND ctid OPERATOR(pg_catalog.<) $2::pg_catalog.tid"
					  "   AND privacy.envelope_key_version(%s) OPERATOR(pg_catalog.<>) $3",
					  rel, col, col, col);
	values[2] = Int32GetDatum(active);
	for (lo = 0; lo < nblocks; lo += batch_blocks)
	{
		values[0] = CStringGetTextDatum(psprintf("(%lld,0)", (long long) lo));
		values[1] = CStringGetTextDatum(psprintf("(%lld,0)", (long long) (lo + batch_blocks)));
		if (SPI_execute_with_args(update, 3, argtypes, values, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "could not re-encrypt %s", rel);
		changed += SPI_processed;
		CHECK_FOR_INTERRUPTS();
	}
	/* Rows written behind the sweep by writers that still used an old version. */
	if (SPI_execute_with_args(psprintf("UPDATE %s SET %s = privacy.reseal(%s)"
									   " WHERE privacy.envelope_key_version(%s) OPERATOR(pg_catalog.<>) $1",
									   rel, col, col, col),
							  1, &argtypes[2], &values[2], NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not re-encrypt %s", rel);
	changed += SPI_processed;
	SPI_finish();
	audit_reencrypt(relid, colname, active, changed);
	PG_RETURN_INT64(changed);
}
