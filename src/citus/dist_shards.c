/*
 * citus/dist_shards.c
 *		Is a table a Citus table, hash-distributed, and running one statement on each of
 *		its shards.
 *
 * Some statements cannot go through Citus's planner on a distributed
 * table: an UPDATE calling a VOLATILE function (privacy.reseal, which
 * draws a fresh nonce) is refused.  On each shard, the node holding it runs
 * the statement as an ordinary one, through Citus's run_command_on_shards
 * (called by name through SPI, never linked against).
 */
#include "citus/citus_presence.h"
#include "citus/dist_shards.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

bool
px_citus_table(Oid relid)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	bool		result;

	if (!px_citus_present())
		return false;
	values[0] = ObjectIdGetDatum(relid);
	SPI_connect();
	if (SPI_execute_with_args("SELECT 1 FROM pg_catalog.pg_dist_partition"
							  " WHERE logicalrelid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
							  1, argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the Citus metadata");
	result = SPI_processed == 1;
	SPI_finish();
	return result;
}

bool
px_citus_hash_distributed(Oid relid)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	bool		result;

	if (!px_citus_present())
		return false;
	values[0] = ObjectIdGetDatum(relid);
	SPI_connect();
	if (SPI_execute_with_args("SELECT 1 FROM pg_catalog.pg_dist_partition"
							  " WHERE logicalrelid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass"
							  "   AND partmethod OPERATOR(pg_catalog.=) 'h'",
							  1, argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the Citus metadata");
	result = SPI_processed == 1;
	SPI_finish();
	return result;
}

int64
px_citus_sum_over_shards(Oid relid, const char *command_format)
{
	Oid			argtypes[2] = {OIDOID, TEXTOID};
	Datum		values[2];
	int64		sum = 0;
	uint64		i;

	values[0] = ObjectIdGetDatum(relid);
	values[1] = CStringGetTextDatum(command_format);
	SPI_connect();
	if (SPI_execute_with_args("SELECT shardid, success, result"
							  "  FROM pg_catalog.run_command_on_shards($1::pg_catalog.regclass, $2)"
							  " ORDER BY shardid",
							  2, argtypes, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not run a command on the shards");
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
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
			sum += DatumGetInt64(DirectFunctionCall1(int8in, CStringGetDatum(result)));
	}
	SPI_finish();
	return sum;
}
