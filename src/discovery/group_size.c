/*
 * discovery/group_size.c
 *		privacy.min_group_size(relation, columns): the size of the smallest
 *		group of rows sharing the values of the columns, the count behind
 *		privacy.k_anonymity().
 *
 * In C rather than in k_anonymity's PL/pgSQL for one reason: the count runs
 * inside a foreign_calls.h window.  The inventory and privacy.report()
 * count every table with declared quasi-identifiers as their reader, a
 * superuser as often as not, and planning the count folds the table
 * owner's IMMUTABLE functions (a partial index predicate); in the window
 * they run as their owner, never with the superuser's rights.  The query
 * runs as the caller otherwise, on the rows and values the caller sees.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "foreign_calls.h"

PG_FUNCTION_INFO_V1(px_min_group_size);
Datum
px_min_group_size(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ArrayType  *columns = PG_GETARG_ARRAYTYPE_P(1);
	Datum	   *names;
	bool	   *nulls;
	int			n;
	int			i;
	StringInfoData query;
	char	   *relname;
	char	   *nspname;
	volatile int rc = 0;
	int			guc_level;
	int64		k = 0;
	bool		isnull;

	deconstruct_array(columns, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR, &names, &nulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("at least one quasi-identifier column is needed")));
	relname = get_rel_name(relid);
	nspname = relname ? get_namespace_name(get_rel_namespace(relid)) : NULL;
	if (relname == NULL || nspname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	initStringInfo(&query);
	appendStringInfoString(&query, "SELECT pg_catalog.min(g.n) FROM (SELECT pg_catalog.count(*) AS n FROM ");
	appendStringInfoString(&query, quote_qualified_identifier(nspname, relname));
	appendStringInfoString(&query, " GROUP BY ");
	for (i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("a quasi-identifier column name is NULL")));
		if (i > 0)
			appendStringInfoString(&query, ", ");
		appendStringInfoString(&query, quote_identifier(NameStr(*DatumGetName(names[i]))));
	}
	appendStringInfoString(&query, ") g");

	SPI_connect();
	guc_level = px_foreign_calls_as_owner_begin();
	PG_TRY();
	{
		rc = SPI_execute(query.data, true, 1);
	}
	PG_FINALLY();
	{
		px_foreign_calls_as_owner_end(guc_level);
	}
	PG_END_TRY();
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not count the groups of %s", query.data);
	k = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	PG_RETURN_INT64(isnull ? 0 : k);
}
