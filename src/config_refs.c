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
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "config_refs.h"
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
	if (value != NULL && !px_restoring() && !row_exists(argv[0], argv[1], value))
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
