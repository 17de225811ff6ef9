/*
 * config_refs.c
 *		References between the extension's own tables, kept by triggers
 *		instead of foreign keys.
 *
 * The extension's tables are configuration tables: pg_dump dumps their
 * rows, and CREATE EXTENSION has already created them (with whatever
 * constraints they carry) before a restore loads the rows.  A parallel
 * pg_restore, a hand-reordered --list, or a --data-only restore loads them
 * in any order, so a foreign key from a key version to its key failed the
 * restore and lost the keys.  The triggers here check the same references
 * for every ordinary write, and let a restore (restore.h: a COPY, or a
 * superuser's session with check_function_bodies off, as every pg_dump
 * script sets it, also with --inserts) load rows in any order.  Only roles
 * that may write these tables can take either path, and a row restored
 * without its parent is harmless: a key version with no key, or a grant of
 * an unknown purpose, grants nothing.
 *
 *	privacy.config_reference_check(parent_table, parent_column, child_column)
 *		BEFORE INSERT OR UPDATE FOR EACH ROW on the referencing table.
 *	privacy.config_reference_parent(child_table, child_column, parent_column, action)
 *		AFTER DELETE OR UPDATE FOR EACH ROW on the referenced table;
 *		action 'cascade' deletes the referencing rows (and refuses a changed
 *		key), 'restrict' refuses while they exist.
 *	privacy.purpose_tree_check()
 *		AFTER INSERT OR UPDATE FOR EACH ROW on privacy.purposes: no cycle,
 *		and no purpose deeper than has_consent() follows (PX_MAX_CHAIN).
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "catalog.h"
#include "config_refs.h"
#include "consent/parallel.h"
#include "restore.h"

static TriggerData *
trigger_data(FunctionCallInfo fcinfo, int nargs, const char *name)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		trigdata->tg_trigger->tgnargs != nargs)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s() must be called as a row trigger with %d arguments", name, nargs)));
	return trigdata;
}

/* The value of column name in tuple, as text, or NULL. */
static char *
column_value(TriggerData *trigdata, HeapTuple tuple, const char *name)
{
	TupleDesc	desc = RelationGetDescr(trigdata->tg_relation);
	int			attnum = SPI_fnumber(desc, name);

	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist",
						name, RelationGetRelationName(trigdata->tg_relation))));
	return SPI_getvalue(tuple, desc, attnum);
}

/* Whether privacy.<table> has a row whose column equals value (as text). */
static bool
row_exists(const char *table, const char *column, const char *value)
{
	char	   *sql;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	bool		found;

	sql = psprintf("SELECT 1 FROM privacy.%s WHERE %s::pg_catalog.text OPERATOR(pg_catalog.=) $1 LIMIT 1",
				   quote_identifier(table), quote_identifier(column));
	args[0] = CStringGetTextDatum(value);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(sql, 1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", sql);
	found = SPI_processed > 0;
	SPI_finish();
	return found;
}

PG_FUNCTION_INFO_V1(px_config_reference_check);
Datum
px_config_reference_check(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data(fcinfo, 3, "privacy.config_reference_check");
	char	  **argv = trigdata->tg_trigger->tgargs;
	HeapTuple	tuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
		trigdata->tg_newtuple : trigdata->tg_trigtuple;
	char	   *value;

	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event) || TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("privacy.config_reference_check() must be fired BEFORE INSERT OR UPDATE")));
	value = column_value(trigdata, tuple, argv[2]);
	if (value != NULL && !px_loading_rows() && !row_exists(argv[0], argv[1], value))
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("insert or update on table \"%s\" references %s \"%s\", which does not exist",
						RelationGetRelationName(trigdata->tg_relation), argv[0], value),
				 errhint("Use the privacy functions to create what it refers to first.")));
	return PointerGetDatum(tuple);
}

PG_FUNCTION_INFO_V1(px_config_reference_parent);
Datum
px_config_reference_parent(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data(fcinfo, 4, "privacy.config_reference_parent");
	char	  **argv = trigdata->tg_trigger->tgargs;
	const char *child = argv[0];
	const char *child_column = argv[1];
	bool		cascade = strcmp(argv[3], "cascade") == 0;
	char	   *old_value;
	char	   *sql;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];

	if (!TRIGGER_FIRED_AFTER(trigdata->tg_event) || TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("privacy.config_reference_parent() must be fired AFTER DELETE OR UPDATE")));
	old_value = column_value(trigdata, trigdata->tg_trigtuple, argv[2]);
	if (old_value == NULL)
		return PointerGetDatum(NULL);
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		char	   *new_value = column_value(trigdata, trigdata->tg_newtuple, argv[2]);

		if (new_value != NULL && strcmp(new_value, old_value) == 0)
			return PointerGetDatum(NULL);
	}
	else if (cascade)
	{
		sql = psprintf("DELETE FROM privacy.%s WHERE %s::pg_catalog.text OPERATOR(pg_catalog.=) $1",
					   quote_identifier(child), quote_identifier(child_column));
		args[0] = CStringGetTextDatum(old_value);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute_with_args(sql, 1, argtypes, args, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "SPI_execute_with_args failed: %s", sql);
		SPI_finish();
		return PointerGetDatum(NULL);
	}
	if (row_exists(child, child_column, old_value))
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("%s \"%s\" of table \"%s\" is still referenced from table \"%s\"",
						argv[2], old_value, RelationGetRelationName(trigdata->tg_relation), child)));
	return PointerGetDatum(NULL);
}

/*
 * The parent of purpose name, or NULL (no parent, or no such purpose: a
 * restore may have loaded a child before its parent).  Not read-only: it
 * reads a new snapshot, which shows the rows the statement being checked
 * wrote.  FOR SHARE: a concurrent transaction changing an ancestor's parent
 * waits for this one (or this one for it, then reads its new parent, or
 * fails to serialize), so two transactions cannot close a cycle or stack
 * two subtrees too deep without either seeing the other.
 */
static char *
purpose_parent(const char *name)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	char	   *parent = NULL;
	MemoryContext caller = CurrentMemoryContext;

	args[0] = CStringGetTextDatum(name);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT parent FROM privacy.purposes WHERE name = $1 FOR SHARE",
							  1, argtypes, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed on privacy.purposes");
	if (SPI_processed > 0)
	{
		char	   *value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (value != NULL)
			parent = MemoryContextStrdup(caller, value);
	}
	SPI_finish();
	return parent;
}

/*
 * How many levels of descendants purpose name has, counting at most up to
 * limit (a cycle a 1.0 database may hold below it ends there).
 */
static int
purpose_height(const char *name, int limit)
{
	Oid			argtypes[2] = {TEXTOID, INT4OID};
	Datum		args[2];
	bool		isnull;
	int			height;

	args[0] = CStringGetTextDatum(name);
	args[1] = Int32GetDatum(limit);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("WITH RECURSIVE below(name, depth) AS ("
							  " SELECT name, 1 FROM privacy.purposes WHERE parent = $1"
							  " UNION ALL"
							  " SELECT p.name, b.depth + 1 FROM privacy.purposes p"
							  "  JOIN below b ON p.parent = b.name WHERE b.depth < $2)"
							  " SELECT coalesce(max(depth), 0) FROM below",
							  2, argtypes, args, NULL, false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "SPI_execute_with_args failed on privacy.purposes");
	height = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return height;
}

/*
 * has_consent() follows a purpose and at most PX_MAX_CHAIN - 1 ancestors
 * (consent/policy.c), so a purpose deeper in its tree would not be covered
 * by consent to its upper ancestors, and a cycle would make purposes cover
 * each other: neither may be written.  Fired AFTER the statement's rows are
 * in place, a row is checked against the whole new tree, whatever order a
 * multi-row UPDATE or a COPY writes the rows in; each longer chain or cycle
 * passes through the rows last written, so checking those is enough.  Only
 * a superuser's restore is let through (restore.h): a dump taken from 1.0,
 * which checked neither, must not lose its purposes.  A privacy_admin's
 * COPY is checked like its INSERT.
 */
PG_FUNCTION_INFO_V1(px_purpose_tree_check);
Datum
px_purpose_tree_check(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data(fcinfo, 0, "privacy.purpose_tree_check");
	HeapTuple	tuple;
	char	   *name;
	char	   *ancestor;
	int			ancestors = 0;

	if (!TRIGGER_FIRED_AFTER(trigdata->tg_event) || TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("privacy.purpose_tree_check() must be fired AFTER INSERT OR UPDATE")));
	if (RelationGetRelid(trigdata->tg_relation) != px_privacy_relid("purposes"))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("privacy.purpose_tree_check() fires only on privacy.purposes")));
	/* a superuser's restore puts back what was there (px_restoring) */
	if (px_restoring())
		return PointerGetDatum(NULL);
	tuple = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
		trigdata->tg_newtuple : trigdata->tg_trigtuple;
	name = column_value(trigdata, tuple, "name");
	ancestor = column_value(trigdata, tuple, "parent");
	if (name == NULL)
		return PointerGetDatum(NULL);
	/* One step past the limit is enough to know it is exceeded. */
	while (ancestor != NULL && ancestors < PX_MAX_CHAIN)
	{
		if (strcmp(ancestor, name) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("purpose \"%s\" would be its own ancestor", name)));
		ancestors++;
		ancestor = purpose_parent(ancestor);
	}
	if (ancestors >= PX_MAX_CHAIN ||
		ancestors + 1 + purpose_height(name, PX_MAX_CHAIN - ancestors) > PX_MAX_CHAIN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a purpose tree may be at most %d levels deep", PX_MAX_CHAIN),
				 errdetail("Purpose \"%s\" or a purpose below it would have more than %d ancestors.",
						   name, PX_MAX_CHAIN - 1),
				 errhint("Consent to a purpose covers the purposes at most %d levels below it.",
						 PX_MAX_CHAIN - 1)));
	return PointerGetDatum(NULL);
}
