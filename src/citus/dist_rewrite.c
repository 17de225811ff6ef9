/*
 * citus/dist_rewrite.c
 *		Rewriting rows of a Citus table with values computed on the
 *		coordinator: erase_subject's anonymization of a distributed or
 *		reference table, and reencrypt of a reference table.
 *
 * Citus refuses an UPDATE of a distributed or reference table calling a
 * VOLATILE function, and the new values of both rewrites are VOLATILE (a
 * fresh nonce each).  A statement per shard or per placement through
 * run_command_on_shards / run_command_on_placements is no way out: those
 * commit on their nodes on their own, whatever the coordinator's
 * transaction does (an erasure must be all or nothing), and on a reference
 * table each placement would draw its own nonces, so the placements would
 * no longer hold the same bytes.  So the rows are read through Citus, the
 * new values are computed here on the coordinator (sealed under the
 * column's key), and written back as constants, one UPDATE per row found
 * by its row identity (dist_update_consts.c lets Citus accept an envelope
 * already under the column's key).  Every statement belongs to the
 * coordinator's transaction: Citus commits them with two-phase commit, and
 * a failure on any node rolls back every node.  A reference table's
 * placements all receive the same statement text, hence the same bytes.
 *
 * The statements carry envelopes, never plaintext; with privacy_ext
 * preloaded, a node logs them with their constants replaced
 * (log_redact.c).
 */
#include "errors.h"
#include "admin.h"
#include "citus/dist_rewrite.h"
#include "subject_match.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

typedef struct RwColumn
{
	char	   *name;			/* unquoted */
	Oid			type;
	char	   *type_sql;		/* format_type with typmod, for the cast */
	bool		masked;			/* rewritten with its default rule */
	bool		identity_always;
} RwColumn;

static char *
qualified(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

/* The table's stored columns (not dropped, not generated), in order. */
static List *
stored_columns(Oid relid, List *masked)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	List	   *cols = NIL;
	uint64		i;

	values[0] = ObjectIdGetDatum(relid);
	if (SPI_execute_with_args("SELECT a.attname::pg_catalog.text, a.atttypid,"
							  "       pg_catalog.format_type(a.atttypid, a.atttypmod),"
							  "       a.attidentity OPERATOR(pg_catalog.=) 'a'"
							  "  FROM pg_catalog.pg_attribute a"
							  " WHERE a.attrelid OPERATOR(pg_catalog.=) $1"
							  "   AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped"
							  "   AND a.attgenerated OPERATOR(pg_catalog.=) ''"
							  " ORDER BY a.attnum",
							  1, argtypes, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the columns of %s", qualified(relid));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		RwColumn   *c = palloc0(sizeof(RwColumn));
		bool		isnull;
		ListCell   *lc;

		c->name = SPI_getvalue(tup, desc, 1);
		c->type = DatumGetObjectId(SPI_getbinval(tup, desc, 2, &isnull));
		c->type_sql = SPI_getvalue(tup, desc, 3);
		c->identity_always = DatumGetBool(SPI_getbinval(tup, desc, 4, &isnull));
		foreach(lc, masked)
			if (strcmp((const char *) lfirst(lc), c->name) == 0)
				c->masked = true;
		cols = lappend(cols, c);
	}
	return cols;
}

static RwColumn *
find_column(List *cols, const char *name)
{
	ListCell   *lc;

	foreach(lc, cols)
		if (strcmp(((RwColumn *) lfirst(lc))->name, name) == 0)
			return (RwColumn *) lfirst(lc);
	return NULL;
}

/*
 * The columns of the table's primary key, or else of its replica identity
 * index; NIL when it has neither.
 */
static List *
row_identity(Oid relid, List *cols)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	List	   *ident = NIL;
	uint64		i;

	values[0] = ObjectIdGetDatum(relid);
	if (SPI_execute_with_args("SELECT a.attname::pg_catalog.text"
							  "  FROM (SELECT i.indkey FROM pg_catalog.pg_index i"
							  "         WHERE i.indrelid OPERATOR(pg_catalog.=) $1"
							  "           AND (i.indisprimary OR i.indisreplident)"
							  "           AND i.indexprs IS NULL AND i.indpred IS NULL"
							  "         ORDER BY i.indisprimary DESC LIMIT 1) x,"
							  "       pg_catalog.unnest(x.indkey::pg_catalog.int2[]) WITH ORDINALITY k(attnum, n)"
							  "  JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) $1"
							  "   AND a.attnum OPERATOR(pg_catalog.=) k.attnum"
							  " ORDER BY k.n",
							  1, argtypes, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the indexes of %s", qualified(relid));
	for (i = 0; i < SPI_processed; i++)
	{
		RwColumn   *c = find_column(cols, SPI_getvalue(SPI_tuptable->vals[i],
													  SPI_tuptable->tupdesc, 1));

		if (c == NULL)
			return NIL;			/* a generated column: not a usable identity */
		ident = lappend(ident, c);
	}
	return ident;
}

/*
 * The query computing, here on the coordinator, the masked values of the
 * masked columns, given their current values as $1..$n: each column's
 * default rule (privacy.anonymize_value, which runs only inside the
 * request), cast to the column's type, so an encrypted column's masked
 * text is sealed under its key.  No table is read: it runs locally.
 */
static char *
mask_query(Oid relid, List *masked, Oid **argtypes)
{
	StringInfoData q;
	ListCell   *lc;
	int			n = 0;
	char	   *table_literal = quote_literal_cstr(qualified(relid));

	*argtypes = palloc(sizeof(Oid) * Max(list_length(masked), 1));
	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT ");
	foreach(lc, masked)
	{
		RwColumn   *c = (RwColumn *) lfirst(lc);

		(*argtypes)[n] = c->type;
		appendStringInfo(&q, "%sCAST(privacy.anonymize_value($%d, %s::pg_catalog.regclass, %s::pg_catalog.name) AS %s)",
						 n > 0 ? ", " : "", n + 1, table_literal, quote_literal_cstr(c->name),
						 c->type_sql);
		n++;
	}
	return q.data;
}

/* Runs the mask query for one row's values; leaves the result in SPI_tuptable. */
static void
compute_masked(const char *query, Oid *argtypes, int n, Datum *values, char *nulls)
{
	if (SPI_execute_with_args(query, n, argtypes, values, nulls, false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not compute the masked values");
}

static void
refuse_no_identity(Oid relid)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot anonymize the rows of Citus table %s: it has no primary key or replica identity index",
					qualified(relid)),
			 errdetail("Its rows are rewritten one by one, found by their primary key."),
			 errhint("Add a primary key to the table, or protect it with on_erase => 'delete'.")));
}

/*
 * The rows moved: the distribution column is masked, and Citus does not
 * change a row's distribution value in place.  The subject's rows are
 * deleted (RETURNING them, so exactly those rows come back) and inserted
 * again with their masked values.  A foreign key to the table would see a
 * delete (and cascade): refused.
 */
static int64
anonymize_by_moving(Oid relid, List *cols, const char *subject_column, Oid subjtype,
					Datum subject)
{
	StringInfoData del;
	StringInfoData ins;
	StringInfoData vals;
	List	   *masked = NIL;
	Oid		   *mask_types;
	char	   *mask_sql;
	Oid		   *col_types;
	Oid			argtypes[1] = {OIDOID};
	Datum		relarg[1];
	SPITupleTable *rows;
	uint64		nrows;
	uint64		r;
	ListCell   *lc;
	int			ncols = list_length(cols);
	int			i;
	bool		overriding = false;

	relarg[0] = ObjectIdGetDatum(relid);
	if (SPI_execute_with_args("SELECT 1 FROM pg_catalog.pg_constraint"
							  " WHERE contype OPERATOR(pg_catalog.=) 'f'"
							  "   AND confrelid OPERATOR(pg_catalog.=) $1",
							  1, argtypes, relarg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read pg_constraint");
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot anonymize the rows of distributed table %s: its distribution column is masked and a foreign key references the table",
						qualified(relid)),
				 errdetail("Rows whose distribution value changes are deleted and inserted again."),
				 errhint("Protect the table with on_erase => 'delete', or drop the masking rule of the distribution column.")));

	initStringInfo(&del);
	initStringInfo(&ins);
	initStringInfo(&vals);
	col_types = palloc(sizeof(Oid) * ncols);
	appendStringInfo(&del, "DELETE FROM %s t WHERE ", qualified(relid));
	px_subject_match(&del, relid, subject_column, 1);
	appendStringInfoString(&del, " RETURNING ");
	appendStringInfo(&ins, "INSERT INTO %s (", qualified(relid));
	i = 0;
	foreach(lc, cols)
	{
		RwColumn   *c = (RwColumn *) lfirst(lc);

		appendStringInfo(&del, "%st.%s", i > 0 ? ", " : "", quote_identifier(c->name));
		appendStringInfo(&ins, "%s%s", i > 0 ? ", " : "", quote_identifier(c->name));
		appendStringInfo(&vals, "%s$%d", i > 0 ? ", " : "", i + 1);
		col_types[i] = c->type;
		if (c->identity_always)
			overriding = true;
		if (c->masked)
			masked = lappend(masked, c);
		i++;
	}
	appendStringInfo(&ins, ")%s VALUES (%s)", overriding ? " OVERRIDING SYSTEM VALUE" : "", vals.data);
	mask_sql = mask_query(relid, masked, &mask_types);

	if (SPI_execute_with_args(del.data, 1, &subjtype, &subject, NULL, false, 0) != SPI_OK_DELETE_RETURNING)
		elog(ERROR, "could not erase from %s", qualified(relid));
	rows = SPI_tuptable;
	nrows = SPI_processed;
	for (r = 0; r < nrows; r++)
	{
		Datum	   *values = palloc(sizeof(Datum) * ncols);
		char	   *nulls = palloc(ncols + 1);
		Datum	   *mvalues = palloc(sizeof(Datum) * Max(list_length(masked), 1));
		char	   *mnulls = palloc(list_length(masked) + 1);
		int			m = 0;
		bool		isnull;

		for (i = 0; i < ncols; i++)
		{
			values[i] = SPI_getbinval(rows->vals[r], rows->tupdesc, i + 1, &isnull);
			nulls[i] = isnull ? 'n' : ' ';
			if (((RwColumn *) list_nth(cols, i))->masked)
			{
				mvalues[m] = values[i];
				mnulls[m++] = nulls[i];
			}
		}
		compute_masked(mask_sql, mask_types, m, mvalues, mnulls);
		m = 0;
		for (i = 0; i < ncols; i++)
			if (((RwColumn *) list_nth(cols, i))->masked)
			{
				values[i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, ++m, &isnull);
				nulls[i] = isnull ? 'n' : ' ';
			}
		if (SPI_execute_with_args(ins.data, ncols, col_types, values, nulls, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not write the anonymized rows of %s", qualified(relid));
	}
	return (int64) nrows;
}

/*
 * The rows stay where they are: each is read with its row identity, its
 * masked values computed here, and written back by an UPDATE of that one
 * row (and still the subject's: a row changed meanwhile fails the request,
 * which can be run again).
 */
static int64
anonymize_in_place(Oid relid, List *cols, List *ident, const char *subject_column,
				   Oid subjtype, Datum subject)
{
	StringInfoData sel;
	StringInfoData upd;
	List	   *masked = NIL;
	Oid		   *mask_types;
	char	   *mask_sql;
	Oid		   *upd_types;
	SPITupleTable *rows;
	uint64		nrows;
	uint64		r;
	ListCell   *lc;
	int			nmasked;
	int			nident = list_length(ident);
	int			nparams;
	int			i;

	foreach(lc, cols)
		if (((RwColumn *) lfirst(lc))->masked)
			masked = lappend(masked, lfirst(lc));
	nmasked = list_length(masked);
	nparams = nmasked + nident + 1;
	upd_types = palloc(sizeof(Oid) * nparams);
	mask_sql = mask_query(relid, masked, &mask_types);

	initStringInfo(&sel);
	initStringInfo(&upd);
	appendStringInfoString(&sel, "SELECT ");
	appendStringInfo(&upd, "UPDATE %s t SET ", qualified(relid));
	i = 0;
	foreach(lc, masked)
	{
		RwColumn   *c = (RwColumn *) lfirst(lc);

		appendStringInfo(&sel, "%st.%s", i > 0 ? ", " : "", quote_identifier(c->name));
		appendStringInfo(&upd, "%s%s = $%d", i > 0 ? ", " : "", quote_identifier(c->name), i + 1);
		upd_types[i] = c->type;
		i++;
	}
	appendStringInfoString(&upd, " WHERE ");
	foreach(lc, ident)
	{
		RwColumn   *c = (RwColumn *) lfirst(lc);

		appendStringInfo(&sel, ", t.%s", quote_identifier(c->name));
		appendStringInfo(&upd, "t.%s OPERATOR(pg_catalog.=) $%d AND ", quote_identifier(c->name), i + 1);
		upd_types[i] = c->type;
		i++;
	}
	px_subject_match(&upd, relid, subject_column, i + 1);
	upd_types[i] = subjtype;
	appendStringInfo(&sel, " FROM %s t WHERE ", qualified(relid));
	px_subject_match(&sel, relid, subject_column, 1);

	if (SPI_execute_with_args(sel.data, 1, &subjtype, &subject, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read %s", qualified(relid));
	rows = SPI_tuptable;
	nrows = SPI_processed;
	for (r = 0; r < nrows; r++)
	{
		Datum	   *values = palloc(sizeof(Datum) * nparams);
		char	   *nulls = palloc(nparams + 1);
		bool		isnull;

		for (i = 0; i < nmasked; i++)
		{
			values[i] = SPI_getbinval(rows->vals[r], rows->tupdesc, i + 1, &isnull);
			nulls[i] = isnull ? 'n' : ' ';
		}
		compute_masked(mask_sql, mask_types, nmasked, values, nulls);
		for (i = 0; i < nmasked; i++)
		{
			values[i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &isnull);
			nulls[i] = isnull ? 'n' : ' ';
		}
		for (i = nmasked; i < nmasked + nident; i++)
		{
			values[i] = SPI_getbinval(rows->vals[r], rows->tupdesc, i + 1, &isnull);
			nulls[i] = isnull ? 'n' : ' ';
		}
		values[i] = subject;
		nulls[i] = ' ';
		nulls[nparams] = '\0';
		if (SPI_execute_with_args(upd.data, nparams, upd_types, values, nulls, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "could not anonymize the rows of %s", qualified(relid));
		if (SPI_processed != 1)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("a row of %s changed while the subject was being erased", qualified(relid)),
					 errhint("Run privacy.erase_subject() again.")));
	}
	return (int64) nrows;
}

int64
px_citus_anonymize_subject(Oid relid, PxCitusKind kind, const char *dist_column,
						   const char *subject_column, Oid subjtype, Datum subject,
						   List *masked_columns)
{
	PxSavedUser saved;
	volatile int64 n = 0;

	px_become_table_owner(relid, &saved);
	PG_TRY();
	{
		List	   *cols = stored_columns(relid, masked_columns);
		RwColumn   *dist = dist_column ? find_column(cols, dist_column) : NULL;

		if (kind == PX_CITUS_HASH && dist != NULL && dist->masked)
			n = anonymize_by_moving(relid, cols, subject_column, subjtype, subject);
		else
		{
			List	   *ident = row_identity(relid, cols);

			if (ident == NIL)
				refuse_no_identity(relid);
			n = anonymize_in_place(relid, cols, ident, subject_column, subjtype, subject);
		}
	}
	PG_FINALLY();
	{
		px_restore_user(&saved);
	}
	PG_END_TRY();
	return n;
}

/*
 * reencrypt of a reference table: batches of the values under an older
 * version, each resealed here (privacy.reseal, run locally) and written by an UPDATE matching the old
 * envelope's bytes (unique: a random nonce each; rows holding a copy of
 * the same envelope get the same new one), until none is left.
 */
int64
px_citus_reencrypt_reference(Oid relid, const char *colname, px_value_type vtype,
							 int32 active, int32 batch_rows)
{
	char	   *rel = qualified(relid);
	char	   *col = pstrdup(quote_identifier(colname));
	const char *send = vtype == PX_TYPE_BYTEA ? "encrypted_bytea_send" : "encrypted_text_send";
	Oid			coltype = get_atttype(relid, get_attnum(relid, colname));
	char	   *select;
	char	   *update;
	char	   *reseal;
	Oid			seltypes[2] = {INT4OID, INT8OID};
	Datum		selvals[2];
	Oid			updtypes[2];
	int64		changed = 0;

	/* The envelopes' bytes (the types have no equality; a datum of them is those bytes). */
	select = psprintf("SELECT DISTINCT privacy.%s(t.%s) FROM %s t"
					  " WHERE privacy.envelope_key_version(t.%s) OPERATOR(pg_catalog.<>) $1"
					  " LIMIT $2", send, col, rel, col);
	update = psprintf("UPDATE %s t SET %s = $1"
					  " WHERE privacy.%s(t.%s) OPERATOR(pg_catalog.=) $2",
					  rel, col, send, col);
	/* Runs here, on the coordinator: it reads no table. */
	reseal = psprintf("SELECT privacy.reseal($1::%s)", format_type_be_qualified(coltype));
	updtypes[0] = coltype;
	updtypes[1] = BYTEAOID;
	selvals[0] = Int32GetDatum(active);
	selvals[1] = Int64GetDatum((int64) batch_rows);
	SPI_connect();
	for (;;)
	{
		SPITupleTable *found;
		uint64		nfound;
		uint64		i;

		CHECK_FOR_INTERRUPTS();
		if (SPI_execute_with_args(select, 2, seltypes, selvals, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read %s", rel);
		found = SPI_tuptable;
		nfound = SPI_processed;
		if (nfound == 0)
			break;
		for (i = 0; i < nfound; i++)
		{
			bool		isnull;
			Datum		old = SPI_getbinval(found->vals[i], found->tupdesc, 1, &isnull);
			Datum		args[2];

			if (SPI_execute_with_args(reseal, 1, &coltype, &old, NULL, false, 1) != SPI_OK_SELECT ||
				SPI_processed != 1)
				elog(ERROR, "could not re-encrypt %s", rel);
			args[0] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
			args[1] = old;
			if (SPI_execute_with_args(update, 2, updtypes, args, NULL, false, 0) != SPI_OK_UPDATE)
				elog(ERROR, "could not re-encrypt %s", rel);
			changed += (int64) SPI_processed;
		}
		SPI_freetuptable(found);
	}
	SPI_finish();
	return changed;
}
