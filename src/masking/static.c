/*
 * masking/static.c
 *		Static masking: privacy.anonymize_table() and
 *		privacy.anonymize_database() rewrite a table's rows in place with
 *		each column's default masking rule, for development copies.
 *
 * A run is one transaction's work, so it is all or nothing: an error, a
 * cancel or a crash leaves every row as it was.  The rows are rewritten in
 * batches of generated UPDATEs, each over a range of the table's blocks (a
 * TID range scan), skipping the new row versions the run itself wrote, so
 * that each old row is rewritten exactly once and no value is masked twice.
 * The table is locked in SHARE ROW EXCLUSIVE mode, never ACCESS EXCLUSIVE:
 * plain reads (and SELECT FOR UPDATE / FOR SHARE of rows not yet rewritten)
 * go on and see the old rows until the commit; writes wait for the commit,
 * so that no row escapes the run.  Batches keep each statement's memory
 * (its trigger queue, its result) bounded and cancel responsive.
 *
 * The work runs as a data-subject request of its own kind (subjects.c):
 * each table is read and written as its owner in a security-restricted
 * operation, search_path is pinned to pg_catalog, names are quoted, the
 * consent policy of a protected table passes every row for the run's own
 * statements (never for code of the owner they fire), which may therefore
 * read no other protected table (px_request_rewriting()), and the run is
 * one audit event per table instead of a count per value.  The values come
 * from privacy.anonymize_value() (masking/rules.c), which masks by the
 * default rule; an encrypted column's masked text goes back through the
 * column's assignment cast, so it is sealed again under the column's key
 * (its active version).  Columns without a default rule, or whose default
 * rule is 'none', are left as they were (ids, foreign keys, NOT NULL
 * columns would break), and a NOTICE names them.
 */
#include "errors.h"
#include "admin.h"
#include "audit/events.h"
#include "catalog.h"
#include "subjects.h"
#include "citus/dist_shards.h"

#include "access/table.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/catalog.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "rewrite/prs2lock.h"
#include "rewrite/rewriteDefine.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

/*
 * Blocks per UPDATE (1 MB: some thousands of rows): large enough to
 * amortize a statement, small enough to keep its trigger queue light.
 */
#define ANONYMIZE_BATCH_BLOCKS 128

/* What one table's run rewrote. */
typedef struct AnonymizeResult
{
	int64		rows;
	List	   *columns;		/* PxAnonymizedColumn rewritten */
} AnonymizeResult;

static void
require_static_masking_rights(void)
{
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot anonymize tables during recovery"),
				 errhint("Static masking rewrites rows: run it on the primary of a development copy.")));
	if (!px_is_privacy_admin())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to anonymize tables"),
				 errhint("Static masking needs superuser or membership in role \"%s\".",
						 PX_ADMIN_ROLE)));
}

static char *
qualified_name(Oid relid)
{
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  get_rel_name(relid));
}

/* NOTICE naming (names only) the columns a run leaves as they were. */
static void
notice_unchanged_columns(Oid relid, List *rewritten)
{
	HeapTuple	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	int			natts;
	AttrNumber	a;
	StringInfoData names;

	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	natts = ((Form_pg_class) GETSTRUCT(tp))->relnatts;
	ReleaseSysCache(tp);
	initStringInfo(&names);
	for (a = 1; a <= natts; a++)
	{
		HeapTuple	at = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(a));
		Form_pg_attribute att;
		ListCell   *lc;
		bool		found = false;

		if (!HeapTupleIsValid(at))
			continue;
		att = (Form_pg_attribute) GETSTRUCT(at);
		/* Generated columns are computed again from the columns rewritten. */
		if (!att->attisdropped && att->attgenerated == '\0')
		{
			foreach(lc, rewritten)
				if (strcmp(((PxAnonymizedColumn *) lfirst(lc))->name, NameStr(att->attname)) == 0)
					found = true;
			if (!found)
				appendStringInfo(&names, "%s%s", names.len > 0 ? ", " : "",
								 quote_identifier(NameStr(att->attname)));
		}
		ReleaseSysCache(at);
	}
	if (names.len > 0)
		ereport(NOTICE,
				(errmsg("columns of %s left as they were: %s", qualified_name(relid), names.data),
				 errdetail("Only columns with a default masking rule other than 'none' are rewritten."),
				 errhint("Declare a rule with privacy.set_mask() to rewrite a column.")));
}

/* The ItemPointer (block, 0) as a tid datum, the bound of a batch. */
static Datum
block_tid(BlockNumber block)
{
	ItemPointer tid = palloc(sizeof(ItemPointerData));

	ItemPointerSet(tid, block, 0);
	return PointerGetDatum(tid);
}

/*
 * Rewrites every row of one table (ONLY: its own rows, not its children's)
 * by the default rules columns name (px_anonymized_columns() of the table,
 * or of the partitioned table it is a partition of).  Runs as the table's
 * owner.  Returns the rows the UPDATEs changed (rows a BEFORE trigger
 * skipped are not counted).
 *
 * Batches are ranges of the table's blocks as they were when the run
 * started (a TID range scan each); a new row version the run writes may
 * land in a later range, or in blocks added since, and is told apart by
 * its inserting command: this transaction, at or after the run's first
 * command.  Rows this transaction wrote before the run are rewritten like
 * any others.  No other session writes meanwhile (the lock).
 */
static int64
rewrite_rows(Oid relid, List *columns)
{
	StringInfoData update;
	ListCell   *lc;
	char	   *name = qualified_name(relid);
	Oid			argtypes[4] = {TIDOID, TIDOID, XIDOID, INT8OID};
	Datum		args[4];
	SPIPlanPtr	plan;
	Relation	rel;
	BlockNumber nblocks;
	BlockNumber block;
	int64		rows = 0;

	initStringInfo(&update);
	appendStringInfo(&update, "UPDATE ONLY %s t SET ", name);
	foreach(lc, columns)
	{
		PxAnonymizedColumn *col = (PxAnonymizedColumn *) lfirst(lc);

		if (lc != list_head(columns))
			appendStringInfoString(&update, ", ");
		px_append_anonymized_assignment(&update, relid, col->name,
										psprintf("%s::pg_catalog.regclass",
												 quote_literal_cstr(qualified_name(col->rules_relid))));
	}
	appendStringInfoString(&update,
						   " WHERE t.ctid OPERATOR(pg_catalog.>=) $1 AND t.ctid OPERATOR(pg_catalog.<) $2"
						   " AND NOT (t.xmin OPERATOR(pg_catalog.=) $3"
						   " AND t.cmin::pg_catalog.text::pg_catalog.int8 OPERATOR(pg_catalog.>=) $4)");
	plan = SPI_prepare(update.data, 4, argtypes);
	if (plan == NULL)
		elog(ERROR, "could not prepare the rewrite of %s: %s", name,
			 SPI_result_code_string(SPI_result));

	rel = table_open(relid, NoLock);	/* locked by the caller */
	nblocks = RelationGetNumberOfBlocks(rel);
	table_close(rel, NoLock);
	/*
	 * The run's own rows are those its UPDATEs write, from the next command
	 * on: the rows the calling statement wrote before (an INSERT in a WITH
	 * of the same statement) carry the current command's id, and are
	 * rewritten like any other.
	 */
	CommandCounterIncrement();
	args[2] = TransactionIdGetDatum(GetCurrentTransactionId());
	args[3] = Int64GetDatum((int64) GetCurrentCommandId(false));
	for (block = 0; block < nblocks; block += ANONYMIZE_BATCH_BLOCKS)
	{
		int			rc;

		CHECK_FOR_INTERRUPTS();
		args[0] = block_tid(block);
		args[1] = block_tid(nblocks - block > ANONYMIZE_BATCH_BLOCKS ?
							block + ANONYMIZE_BATCH_BLOCKS : nblocks);
		rc = SPI_execute_plan(plan, args, NULL, false, 0);
		if (rc != SPI_OK_UPDATE)
			elog(ERROR, "could not rewrite the rows of %s: %s", name, SPI_result_code_string(rc));
		rows += (int64) SPI_processed;
		SPI_freetuptable(SPI_tuptable);
		pfree(DatumGetPointer(args[0]));
		pfree(DatumGetPointer(args[1]));
	}
	SPI_freeplan(plan);
	return rows;
}

/*
 * rewrite_rows() as the table's owner, in a security-restricted operation.
 * A constraint that a masked row breaks fails the run; its DETAIL would
 * show the row's values ("Failing row contains ..."), personal data of
 * every column, in the client's message and the server log: it is
 * replaced.
 */
static int64
rewrite_as_owner(Oid relid, List *columns)
{
	PxSavedUser saved;
	MemoryContext cxt = CurrentMemoryContext;
	volatile int64 rows = 0;

	px_become_table_owner(relid, &saved);
	PG_TRY();
	{
		rows = rewrite_rows(relid, columns);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		px_restore_user(&saved);
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) == ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION &&
			edata->detail != NULL)
		{
			edata->detail = pstrdup("The values of the row are not shown.");
			edata->hint = pstrdup("Change the rule of the column, or the constraint, and run it again.");
		}
		FlushErrorState();
		ReThrowError(edata);
	}
	PG_END_TRY();
	px_restore_user(&saved);
	return rows;
}

/*
 * A table whose UPDATE a rule of its own replaces (DO INSTEAD, DO INSTEAD
 * NOTHING) would not be rewritten at all, the count of the replacing
 * statement's rows taken for the table's.
 */
static void
refuse_instead_rules(Oid relid)
{
	Relation	rel = table_open(relid, NoLock);	/* locked by the caller */
	bool		replaced = px_rule_replaces_update(rel);

	table_close(rel, NoLock);
	if (replaced)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot anonymize %s: a DO INSTEAD rule replaces its UPDATE",
						qualified_name(relid)),
				 errhint("Drop or disable the rule (ALTER TABLE ... DISABLE RULE) for the run; nothing was changed.")));
}

/*
 * The leaf partitions of a partitioned table, or the table itself.  A
 * foreign partition's rows are on its server, which a rewrite here does
 * not reach: refused rather than left in clear.
 */
static List *
tables_to_rewrite(Oid relid)
{
	List	   *leaves = NIL;
	ListCell   *lc;

	if (get_rel_relkind(relid) != RELKIND_PARTITIONED_TABLE)
		return list_make1_oid(relid);
	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
	{
		Oid			leaf = lfirst_oid(lc);
		char		kind = get_rel_relkind(leaf);

		if (kind == RELKIND_FOREIGN_TABLE)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot anonymize %s: its partition %s is a foreign table",
							qualified_name(relid), qualified_name(leaf)),
					 errdetail("A foreign partition's rows are on its server, which a rewrite here does not reach."),
					 errhint("Anonymize the rows on the foreign server, detach the partition for the run, or use a masking view; nothing was changed.")));
		if (kind == RELKIND_RELATION)
			leaves = lappend_oid(leaves, leaf);
	}
	return leaves;
}

/*
 * relid and, for a table with inheritance children, each child at every
 * level: rows of the table as its readers see them, each rewritten ONLY,
 * by its own rules (an inherited column by the parent's where the child
 * declares none: px_anonymized_columns).  A foreign child with rules has
 * its rows on its server, which a rewrite here does not reach: refused
 * rather than left in clear.  (A partitioned table's partitions are
 * rewritten by anonymize_one, by the partitioned table's rules.)
 */
static List *
tables_and_children(Oid relid)
{
	List	   *members = list_make1_oid(relid);
	ListCell   *lc;

	if (get_rel_relkind(relid) != RELKIND_RELATION)
		return members;
	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
	{
		Oid			child = lfirst_oid(lc);

		if (child == relid)
			continue;
		if (get_rel_relkind(child) == RELKIND_FOREIGN_TABLE)
		{
			if (px_anonymized_columns(child) != NIL)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot anonymize %s: its inheritance child %s is a foreign table",
								qualified_name(relid), qualified_name(child)),
						 errdetail("A foreign table's rows are on its server, which a rewrite here does not reach."),
						 errhint("Anonymize the rows on the foreign server, or detach the child for the run (ALTER TABLE ... NO INHERIT); nothing was changed.")));
			continue;
		}
		members = lappend_oid(members, child);
	}
	return members;
}

/*
 * One table's run, inside a request: locks, checks, rewrites each of its
 * relations (a partitioned table's leaves) as their owners.  *done collects
 * the relations rewritten, for anonymize_database() not to rewrite a
 * partition twice.
 */
static AnonymizeResult
anonymize_one(Oid relid, List **done)
{
	AnonymizeResult result = {0, NIL};
	char		relkind;
	List	   *targets;
	ListCell   *lc;

	relkind = get_rel_relkind(relid);
	if (relkind == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot anonymize %s: only tables and partitioned tables are rewritten",
						qualified_name(relid))));
	if (px_system_or_extension_relation(relid))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot anonymize %s: it belongs to the system or to privacy_ext",
						qualified_name(relid))));
	/*
	 * A Citus table's rows are in its shards, not in the coordinator's
	 * relation, which a block-range rewrite would find empty, and Citus
	 * refuses an UPDATE calling anonymize_value's casts (README, "Running
	 * on Citus").
	 */
	if (px_citus_table_kind(relid, NULL) != PX_CITUS_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot anonymize %s: static masking of Citus tables is not supported",
						qualified_name(relid)),
				 errdetail("Its rows are in its shards, which a rewrite on the coordinator does not reach."),
				 errhint("Anonymize a local copy of the table (before create_distributed_table or create_reference_table), or use a masking view.")));
	/*
	 * Under REPEATABLE READ or SERIALIZABLE the transaction's snapshot,
	 * taken before the lock below, hides rows committed since: they would
	 * stay in clear, uncounted.
	 */
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("cannot anonymize %s in a REPEATABLE READ or SERIALIZABLE transaction",
						qualified_name(relid)),
				 errdetail("The transaction's snapshot does not see rows committed after it was taken, which would keep their values."),
				 errhint("Run it in a READ COMMITTED transaction.")));
	/* Checked first, locked then: readers go on; writers (and other runs) wait for the commit. */
	LockRelationOid(relid, ShareRowExclusiveLock);
	if (get_rel_relkind(relid) == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));

	result.columns = px_anonymized_columns(relid);
	notice_unchanged_columns(relid, result.columns);
	if (result.columns == NIL)
		return result;

	targets = tables_to_rewrite(relid);
	px_request_rewriting(relid);
	foreach(lc, targets)
	{
		Oid			target = lfirst_oid(lc);
		int64		total;
		int64		rewritten;

		if (list_member_oid(*done, target))
			continue;

		if (target != relid)
			LockRelationOid(target, ShareRowExclusiveLock);
		refuse_instead_rules(target);
		total = px_count_all_rows(target);
		rewritten = rewrite_as_owner(target, result.columns);
		/*
		 * The rewrite runs as the owner, under the table's row-level
		 * security: a policy of its own (a tenant policy, forced) hides rows
		 * from it, and a BEFORE trigger may skip some.  Those would keep
		 * their personal data, with the run reported done.
		 */
		if (total >= 0 && rewritten < total)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("the rewrite of %s reached " INT64_FORMAT " of its " INT64_FORMAT " rows",
							qualified_name(target), rewritten, total),
					 errdetail("A row-level security policy of the table hides the others from its owner, or a BEFORE UPDATE trigger skipped them."),
					 errhint("Make the table's policies let its owner (role \"%s\") see every row, or disable the trigger, then run it again; nothing was changed.",
							 GetUserNameFromId(px_relation_owner(target, false), false))));
		result.rows += rewritten;
		*done = lappend_oid(*done, target);
	}
	return result;
}

/* {"columns": ["a", "b"]}: what the audit event says was rewritten. */
static char *
audit_detail(List *columns)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"columns\": [");
	foreach(lc, columns)
	{
		if (lc != list_head(columns))
			appendStringInfoString(&buf, ", ");
		escape_json(&buf, ((PxAnonymizedColumn *) lfirst(lc))->name);
	}
	appendStringInfoString(&buf, "]}");
	return buf.data;
}

/* Results and names outlive the request's SPI memory. */
typedef struct TableRun
{
	char	   *name;
	int64		rows;
	char	   *detail;
} TableRun;

static TableRun *
run_record(Oid relid, AnonymizeResult *r, MemoryContext keep)
{
	MemoryContext old = MemoryContextSwitchTo(keep);
	TableRun   *run = palloc(sizeof(TableRun));

	run->name = qualified_name(relid);
	run->rows = r->rows;
	run->detail = audit_detail(r->columns);
	MemoryContextSwitchTo(old);
	return run;
}

/*
 * Runs the tables (relids, in order) in one request and writes one audit
 * event "anonymize" per table once the request is over.  Returns the rows
 * rewritten.
 */
static int64
anonymize_tables(List *relids)
{
	MemoryContext keep = CurrentMemoryContext;
	PxRequestContext rc;
	List	   *volatile runs = NIL;
	volatile int64 total = 0;
	ListCell   *lc;

	px_request_begin(&rc, PX_REQUEST_ANONYMIZE);
	/*
	 * The rules stay as they are until the run commits: each batch reads
	 * them anew, so a set_mask or drop_mask committed meanwhile would mask
	 * the later batches by other rules (a 'none' leaving them in clear).
	 * Rule changes wait for the run; the run waits for those in progress.
	 */
	LockRelationOid(px_privacy_relid("mask_rules"), ShareLock);
	PG_TRY();
	{
		List	   *done = NIL;
		ListCell   *rl;

		foreach(rl, relids)
		{
			Oid			relid = lfirst_oid(rl);
			AnonymizeResult r;
			MemoryContext old;

			ListCell   *cl;

			if (list_member_oid(done, relid))
				continue;		/* a partition or a child, rewritten through its parent */
			foreach(cl, tables_and_children(relid))
			{
				Oid			member = lfirst_oid(cl);

				if (list_member_oid(done, member))
					continue;
				r = anonymize_one(member, &done);
				if (r.columns == NIL)
					continue;
				old = MemoryContextSwitchTo(keep);
				runs = lappend(runs, run_record(member, &r, keep));
				MemoryContextSwitchTo(old);
				total += r.rows;
			}
		}
	}
	PG_FINALLY();
	{
		px_request_reset();
	}
	PG_END_TRY();
	px_request_end(&rc);
	foreach(lc, runs)
	{
		TableRun   *run = (TableRun *) lfirst(lc);

		px_audit_event("anonymize", run->name, run->rows, run->detail);
	}
	return total;
}

/* privacy.anonymize_table(table regclass): the rows rewritten. */
PG_FUNCTION_INFO_V1(px_anonymize_table);
Datum
px_anonymize_table(PG_FUNCTION_ARGS)
{
	Oid			relid;

	px_require_argument(fcinfo, 0, "table");
	relid = PG_GETARG_OID(0);
	require_static_masking_rights();
	PG_RETURN_INT64(anonymize_tables(list_make1_oid(relid)));
}

/*
 * privacy.anonymize_database(): every table with a default masking rule,
 * partitioned tables first, a root before the partitioned tables under it
 * (their partitions follow the root's rules and are not rewritten again by
 * their own), then by name.
 */
PG_FUNCTION_INFO_V1(px_anonymize_database);
Datum
px_anonymize_database(PG_FUNCTION_ARGS)
{
	List	   *relids = NIL;
	MemoryContext keep = CurrentMemoryContext;
	uint64		i;

	require_static_masking_rights();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT DISTINCT r.relid::pg_catalog.oid, c.relkind OPERATOR(pg_catalog.<>) 'p',"
					" r.relid::pg_catalog.regclass::pg_catalog.text,"
					" (SELECT pg_catalog.count(*) FROM pg_catalog.pg_partition_ancestors(r.relid))"
					" FROM privacy.mask_rules r"
					" JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) r.relid"
					" WHERE r.role_name IS NULL AND r.rule OPERATOR(pg_catalog.<>) 'none'"
					" AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::pg_catalog.\"char\"[])"
					" ORDER BY 2, 4, 3",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read privacy.mask_rules");
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														   SPI_tuptable->tupdesc, 1, &isnull));
		MemoryContext old = MemoryContextSwitchTo(keep);

		relids = lappend_oid(relids, relid);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	PG_RETURN_INT64(anonymize_tables(relids));
}
