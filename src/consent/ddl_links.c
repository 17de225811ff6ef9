/*
 * consent/ddl_links.c
 *		Whether a collected DDL command puts a table under another.
 *
 * The event trigger that keeps consent protection over whole inheritance
 * trees (sql/parts/1.1/99_protected_tables_follow_ddl.sql) must act on the
 * commands that make a table a partition or child (CREATE TABLE ...
 * PARTITION OF / INHERITS, ALTER TABLE ... ATTACH PARTITION / INHERIT) and
 * on no other.  A restore runs ALTER TABLE ... ENABLE ROW LEVEL SECURITY
 * on a protected parent after the registry's rows are back but before the
 * dumped policies of its children: protecting the children then would make
 * those CREATE POLICY statements fail.  Only C can read the command.
 */
#include "postgres.h"

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
			if (cmd->parsetree != NULL && IsA(cmd->parsetree, CreateStmt))
			{
				CreateStmt *create = (CreateStmt *) cmd->parsetree;

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
