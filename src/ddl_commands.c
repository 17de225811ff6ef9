/*
 * ddl_commands.c
 *		What a DDL command collected for an event trigger did, where
 *		pg_event_trigger_ddl_commands() does not say (only C can read the
 *		command itself).
 *
 * Whether it puts a table under another: the event trigger that keeps
 * consent protection over whole inheritance trees
 * (sql/parts/1.1/99_protected_tables_follow_ddl.sql) must act on the
 * commands that make a table a partition or child (CREATE [FOREIGN] TABLE
 * ... PARTITION OF / INHERITS, ALTER TABLE ... ATTACH PARTITION / INHERIT)
 * and on no other.  A restore runs ALTER TABLE ... ENABLE ROW LEVEL
 * SECURITY on a protected parent after the registry's rows are back but
 * before the dumped policies of its children: protecting the children then
 * would make those CREATE POLICY statements fail.
 *
 * The table a command takes a table out from under (ALTER TABLE ...
 * DETACH PARTITION, NO INHERIT): the detached table keeps its consent
 * policies and is registered in its own right, with what that tree does
 * on erase.
 *
 * The old name of a renamed column: the registries that name columns
 * (classifications, quasi-identifiers) follow renames
 * (sql/parts/1.1/99_column_registries_follow_renames.sql); the command's
 * address gives the column's number, hence its new name, but not the old.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "fmgr.h"
#include "nodes/parsenodes.h"
#include "tcop/deparse_utility.h"

PG_FUNCTION_INFO_V1(px_ddl_command_links_tables);

/* privacy.ddl_command_links_tables(pg_ddl_command) returns bool */
Datum
px_ddl_command_links_tables(PG_FUNCTION_ARGS)
{
	CollectedCommand *cmd = (CollectedCommand *) PG_GETARG_POINTER(0);
	ListCell   *lc;

	switch (cmd->type)
	{
		case SCT_Simple:
			if (cmd->parsetree != NULL &&
				(IsA(cmd->parsetree, CreateStmt) || IsA(cmd->parsetree, CreateForeignTableStmt)))
			{
				CreateStmt *create = IsA(cmd->parsetree, CreateStmt) ?
					(CreateStmt *) cmd->parsetree :
					&((CreateForeignTableStmt *) cmd->parsetree)->base;

				PG_RETURN_BOOL(create->inhRelations != NIL || create->partbound != NULL);
			}
			break;
		case SCT_AlterTable:
			foreach(lc, cmd->d.alterTable.subcmds)
			{
				CollectedATSubcmd *sub = (CollectedATSubcmd *) lfirst(lc);
				AlterTableCmd *at = (AlterTableCmd *) sub->parsetree;

				if (at != NULL && IsA(at, AlterTableCmd) &&
					(at->subtype == AT_AttachPartition || at->subtype == AT_AddInherit))
					PG_RETURN_BOOL(true);
			}
			break;
		default:
			break;
	}
	PG_RETURN_BOOL(false);
}

PG_FUNCTION_INFO_V1(px_ddl_command_unlinked_parent);

/*
 * privacy.ddl_command_unlinked_parent(pg_ddl_command) returns regclass: the
 * partitioned table an ALTER TABLE ... DETACH PARTITION detached from (the
 * command's own table), or the parent an ALTER TABLE ... NO INHERIT took
 * its table from; NULL for any other command.
 */
Datum
px_ddl_command_unlinked_parent(PG_FUNCTION_ARGS)
{
	CollectedCommand *cmd = (CollectedCommand *) PG_GETARG_POINTER(0);
	ListCell   *lc;

	if (cmd->type != SCT_AlterTable)
		PG_RETURN_NULL();
	foreach(lc, cmd->d.alterTable.subcmds)
	{
		CollectedATSubcmd *sub = (CollectedATSubcmd *) lfirst(lc);
		AlterTableCmd *at = (AlterTableCmd *) sub->parsetree;

		if (at == NULL || !IsA(at, AlterTableCmd))
			continue;
		if (at->subtype == AT_DetachPartition || at->subtype == AT_DetachPartitionFinalize)
			PG_RETURN_OID(cmd->d.alterTable.objectId);
		if (at->subtype == AT_DropInherit && at->def != NULL && IsA(at->def, RangeVar))
		{
			Oid			parent = RangeVarGetRelid((RangeVar *) at->def, NoLock, true);

			if (OidIsValid(parent))
				PG_RETURN_OID(parent);
		}
	}
	PG_RETURN_NULL();
}

PG_FUNCTION_INFO_V1(px_ddl_command_renamed_column);

/*
 * privacy.ddl_command_renamed_column(pg_ddl_command) returns name: the
 * column's name before an ALTER TABLE/VIEW/MATERIALIZED VIEW/FOREIGN TABLE
 * ... RENAME COLUMN or an ALTER TYPE ... RENAME ATTRIBUTE (which, with
 * CASCADE, renames the column of the type's typed tables), NULL for any
 * other command.
 */
Datum
px_ddl_command_renamed_column(PG_FUNCTION_ARGS)
{
	CollectedCommand *cmd = (CollectedCommand *) PG_GETARG_POINTER(0);
	RenameStmt *rename;
	Name		old_name;

	if (cmd->type != SCT_Simple || cmd->parsetree == NULL || !IsA(cmd->parsetree, RenameStmt))
		PG_RETURN_NULL();
	rename = (RenameStmt *) cmd->parsetree;
	if ((rename->renameType != OBJECT_COLUMN && rename->renameType != OBJECT_ATTRIBUTE) ||
		rename->subname == NULL)
		PG_RETURN_NULL();
	old_name = (Name) palloc0(NAMEDATALEN);
	strlcpy(NameStr(*old_name), rename->subname, NAMEDATALEN);
	PG_RETURN_NAME(old_name);
}
