/*
 * masking/views.c
 *		Which masking views an ALTER TABLE must take down before it runs,
 *		and the upgrade of the views 1.0 made.
 *
 * A masking view (masked.<table>) reads every column of its table, so
 * PostgreSQL refuses to drop or retype one of them while the view exists.
 * The view must be dropped before such a command, and only then: every
 * other ALTER TABLE leaves it in place and the ddl_command_end trigger
 * brings it up to date (CREATE OR REPLACE VIEW, renames), keeping its owner,
 * its grants and whatever other roles built on it.
 *
 * A ddl_command_start trigger in PL/pgSQL cannot see which table a command
 * names; this one reads the parse tree.  It looks for DROP COLUMN and ALTER
 * COLUMN TYPE, resolves the table under the caller's own search_path (the
 * name means what the command will take it to mean), and hands the table
 * and the column names to privacy.masking_views_detach(), which drops only
 * the masking views that read those columns (of the table and of its
 * partitions or children, which the command recurses to) and remembers
 * their owners and grants for the rebuild.  Any other command costs a walk
 * of its subcommand list and nothing else; one that drops or retypes a
 * column of a table without masking views, one catalog query.
 */
#include "errors.h"

#include "catalog/namespace.h"
#include "miscadmin.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "nodes/parsenodes.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/array.h"
#include "utils/acl.h"
#include "utils/builtins.h"

/* The columns of an ALTER TABLE that a view reading them would block. */
static List *
blocked_columns(AlterTableStmt *stmt)
{
	List	   *columns = NIL;
	ListCell   *lc;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		if ((cmd->subtype == AT_DropColumn || cmd->subtype == AT_AlterColumnType)
			&& cmd->name != NULL)
			columns = lappend(columns, cstring_to_text(cmd->name));
	}
	return columns;
}

PG_FUNCTION_INFO_V1(px_masking_views_before_alter);
Datum
px_masking_views_before_alter(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	AlterTableStmt *stmt;
	List	   *columns;
	Datum	   *elems;
	ArrayType  *names;
	Oid			relid;
	Oid			argtypes[2] = {REGCLASSOID, TEXTARRAYOID};
	Oid			detach;
	int			n = 0;
	ListCell   *lc;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("privacy.masking_views_before_alter() must be called as an event trigger")));
	trigdata = (EventTriggerData *) fcinfo->context;

	/*
	 * RENAME, SET SCHEMA and the rest never need the view gone: they arrive
	 * as other statement types, and the end trigger follows them.
	 */
	if (trigdata->parsetree == NULL || !IsA(trigdata->parsetree, AlterTableStmt))
		PG_RETURN_NULL();
	stmt = (AlterTableStmt *) trigdata->parsetree;
	columns = blocked_columns(stmt);
	if (columns == NIL)
		PG_RETURN_NULL();

	/*
	 * No lock: the command takes its own.  A missing table, or one the user
	 * may not alter, is the command's own error to raise: nothing is done
	 * here for it (not even a drop that the error would roll back).
	 */
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid) || !pg_class_ownercheck(relid, GetUserId()))
		PG_RETURN_NULL();

	elems = palloc(sizeof(Datum) * list_length(columns));
	foreach(lc, columns)
		elems[n++] = PointerGetDatum(lfirst(lc));
	names = construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT);

	/*
	 * Called through fmgr, not SQL: the caller needs no EXECUTE right on this
	 * internal function, and its SECURITY DEFINER and pinned search_path
	 * apply as they would to any call.
	 */
	detach = LookupFuncName(list_make2(makeString("privacy"),
									   makeString("masking_views_detach")),
							2, argtypes, false);
	OidFunctionCall2(detach, ObjectIdGetDatum(relid), PointerGetDatum(names));
	PG_RETURN_NULL();
}

/*
 * The upgrade from 1.0 brings the masking views 1.0 made up to date (their
 * consent filter, the table's own policies).  They are the users' objects,
 * not the extension's, and within an extension script PostgreSQL refuses
 * CREATE OR REPLACE VIEW on an object the extension does not own (and would
 * make a view created there one of its members).  So these run their
 * worker with the script's extension context set aside, and put it back
 * however it ends; outside a script they just call it.
 */
static Datum
call_outside_extension(const char *worker_name, int nargs, Oid *argtypes, Datum arg)
{
	bool		saved_creating = creating_extension;
	Oid			saved_extension = CurrentExtensionObject;
	Oid			worker;
	Datum		result;

	worker = LookupFuncName(list_make2(makeString("privacy"), makeString(pstrdup(worker_name))),
							nargs, argtypes, false);
	creating_extension = false;
	CurrentExtensionObject = InvalidOid;
	PG_TRY();
	{
		result = nargs == 0 ? OidFunctionCall0(worker) : OidFunctionCall1(worker, arg);
	}
	PG_FINALLY();
	{
		creating_extension = saved_creating;
		CurrentExtensionObject = saved_extension;
	}
	PG_END_TRY();
	return result;
}

PG_FUNCTION_INFO_V1(px_masking_views_outside_extension);
Datum
px_masking_views_outside_extension(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(call_outside_extension("masking_views_add_consent_filters", 0, NULL, (Datum) 0));
}

/* privacy.masking_view_rebuild(tbl), also from the update script. */
PG_FUNCTION_INFO_V1(px_masking_view_rebuild_outside_extension);
Datum
px_masking_view_rebuild_outside_extension(PG_FUNCTION_ARGS)
{
	Oid			argtype = REGCLASSOID;

	(void) call_outside_extension("masking_view_rebuild", 1, &argtype, PG_GETARG_DATUM(0));
	PG_RETURN_VOID();
}
