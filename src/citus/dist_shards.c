/*
 * citus/dist_shards.c
 *		What kind of Citus table a table is, and running one statement on
 *		each shard of a hash-distributed one.
 *
 * Some statements cannot go through Citus's planner on a distributed
 * table: an UPDATE calling a VOLATILE function (privacy.reseal, which
 * draws a fresh nonce) is refused.  On each shard, the node holding it runs
 * the statement as an ordinary one, through Citus's run_command_on_shards
 * (called by name through SPI, never linked against).  Reference tables
 * are not handled here: a statement per placement would give each its own
 * nonces (citus/dist_rewrite.c writes them constants instead).
 */
#include "citus/citus_presence.h"
#include "citus/dist_shards.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

/*
 * Runs sql (a SELECT) with the given arguments in an SPI connection of its
 * own, calling row() for each row it returns; both lookups below share it.
 */
typedef void (*PxRowFn) (HeapTuple tup, TupleDesc desc, void *arg);

static void
for_each_row(const char *sql, int nargs, Oid *argtypes, Datum *values, bool read_only,
			 const char *what, PxRowFn row, void *arg)
{
	uint64		i;

	SPI_connect();
	if (SPI_execute_with_args(sql, nargs, argtypes, values, NULL, read_only, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not %s", what);
	for (i = 0; i < SPI_processed; i++)
		row(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, arg);
	SPI_finish();
}

typedef struct KindResult
{
	PxCitusKind kind;
	char	   *dist_column;
	MemoryContext cxt;
} KindResult;

static void
kind_row(HeapTuple tup, TupleDesc desc, void *arg)
{
	KindResult *r = (KindResult *) arg;
	char	   *method = SPI_getvalue(tup, desc, 1);
	char	   *repmodel = SPI_getvalue(tup, desc, 2);
	char	   *column = SPI_getvalue(tup, desc, 3);

	if (method != NULL && strcmp(method, "h") == 0)
	{
		r->kind = PX_CITUS_HASH;
		if (column != NULL)
			r->dist_column = MemoryContextStrdup(r->cxt, column);
	}
	else if (method != NULL && strcmp(method, "n") == 0 && repmodel != NULL &&
			 strcmp(repmodel, "t") == 0)
		r->kind = PX_CITUS_REFERENCE;
	else
		r->kind = PX_CITUS_OTHER;
}

PxCitusKind
px_citus_table_kind(Oid relid, char **dist_column)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	KindResult	r = {PX_CITUS_NONE, NULL, CurrentMemoryContext};

	if (dist_column)
		*dist_column = NULL;
	if (!px_citus_present())
		return PX_CITUS_NONE;
	values[0] = ObjectIdGetDatum(relid);
	for_each_row("SELECT partmethod::pg_catalog.text, repmodel::pg_catalog.text,"
				 "       CASE WHEN partkey IS NOT NULL THEN"
				 "         pg_catalog.column_to_column_name(logicalrelid, partkey) END"
				 "  FROM pg_catalog.pg_dist_partition"
				 " WHERE logicalrelid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
				 1, argtypes, values, true, "read the Citus metadata", kind_row, &r);
	if (dist_column)
		*dist_column = r.dist_column;
	return r.kind;
}

bool
px_citus_table(Oid relid)
{
	return px_citus_table_kind(relid, NULL) != PX_CITUS_NONE;
}

bool
px_citus_hash_distributed(Oid relid)
{
	return px_citus_table_kind(relid, NULL) == PX_CITUS_HASH;
}

static void
shard_row(HeapTuple tup, TupleDesc desc, void *arg)
{
	int64	   *sum = (int64 *) arg;
	bool		isnull;
	int64		shardid = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
	bool		ok = DatumGetBool(SPI_getbinval(tup, desc, 2, &isnull));
	char	   *result = SPI_getvalue(tup, desc, 3);

	/* The shard's error, as the node reported it (our messages carry no values). */
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("shard %lld failed: %s", (long long) shardid,
						result ? result : "no result")));
	if (result != NULL)
		*sum += DatumGetInt64(DirectFunctionCall1(int8in, CStringGetDatum(result)));
}

int64
px_citus_sum_over_shards(Oid relid, const char *command_format)
{
	Oid			argtypes[2] = {OIDOID, TEXTOID};
	Datum		values[2];
	int64		sum = 0;

	values[0] = ObjectIdGetDatum(relid);
	values[1] = CStringGetTextDatum(command_format);
	for_each_row("SELECT shardid, success, result"
				 "  FROM pg_catalog.run_command_on_shards($1::pg_catalog.regclass, $2)"
				 " ORDER BY shardid",
				 2, argtypes, values, false, "run a command on the shards", shard_row, &sum);
	return sum;
}
