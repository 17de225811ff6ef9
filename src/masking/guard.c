/*
 * masking/guard.c
 *		Keeps privacy.apply_mask() from being used as a decryption oracle.
 *
 * privacy.apply_mask(value, table, column) decrypts an encrypted value and
 * masks it by the rules of table.column.  Called directly, it would let a
 * role feed it a ciphertext from another column under the same key and
 * read it through a more revealing rule.  So every query is checked after
 * parse analysis (a masking view's query when the view is created, a
 * function's queries when they are planned): each call must take the
 * column it names, straight from the table it names, or from a shard of it
 * on a Citus node (citus/shard_map.c).  This check needs
 * privacy_ext in shared_preload_libraries, so that it is installed before
 * any query is analysed; apply_mask refuses to run otherwise.
 *
 * Two kinds of SQL reach the planner without passing that hook: the body
 * of a SQL function the planner inlines (parsed by inline_function(), also
 * when check_function_bodies was off at CREATE FUNCTION, so nothing was
 * checked then), and a rule's action (CREATE RULE "_RETURN" can still turn
 * a table into a view in PostgreSQL 15).  So every query is checked again
 * when it is planned, after rewriting, and with it the body of each SQL
 * function it calls that the planner could inline, at every depth.
 */
#include "errors.h"
#include "masking/guard.h"
#include "catalog.h"
#include "citus/shard_map.h"

#include "access/htup_details.h"
#include "executor/functions.h"
#include "miscadmin.h"
#include "optimizer/planner.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "catalog/namespace.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "parser/parsetree.h"
#include "utils/catcache.h"
#include "utils/syscache.h"
#include "catalog/pg_type.h"
#include "nodes/nodeFuncs.h"
#include "parser/analyze.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

static post_parse_analyze_hook_type prev_post_parse_analyze = NULL;
static planner_hook_type prev_planner = NULL;

/* Overloads of privacy.apply_mask() there are room for (four in 1.1). */
#define PX_APPLY_MASK_MAX 8

typedef struct GuardContext
{
	List	   *queries;		/* enclosing queries, innermost first */
	bool		bodies;			/* also check the SQL functions called (planning) */
	List	   *active;			/* the SQL functions whose bodies are being checked */
	Oid			apply_mask_oids[PX_APPLY_MASK_MAX];
	int			napply;
} GuardContext;

static void
lookup_apply_mask(GuardContext *ctx)
{
	Oid			nsp = px_schema_oid();
	CatCList   *list;
	int			i;

	ctx->napply = 0;
	if (!OidIsValid(nsp))
		return;
	list = SearchSysCacheList1(PROCNAMEARGSNSP, CStringGetDatum("apply_mask"));
	for (i = 0; i < list->n_members; i++)
	{
		Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(&list->members[i]->tuple);

		if (proc->pronamespace != nsp)
			continue;
		/* An overload left unchecked would be a decryption oracle: fail closed. */
		if (ctx->napply == PX_APPLY_MASK_MAX)
			elog(ERROR, "too many overloads of privacy.apply_mask()");
		ctx->apply_mask_oids[ctx->napply++] = proc->oid;
	}
	ReleaseSysCacheList(list);
}

static void
refuse(const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("privacy.apply_mask() may only mask the column it names, read from the table it names"),
			 errdetail("%s", why),
			 errhint("Read masked values through the masking view, masked.<table>.")));
}

static void
check_call(FuncExpr *f, GuardContext *ctx)
{
	Node	   *value;
	Const	   *rel;
	Const	   *col;
	Var		   *var;
	Query	   *q;
	RangeTblEntry *rte;
	char	   *attname;

	if (list_length(f->args) != 3)
		refuse("Wrong number of arguments.");
	value = linitial(f->args);
	rel = (Const *) lsecond(f->args);
	col = (Const *) lthird(f->args);
	while (IsA(value, RelabelType))
		value = (Node *) ((RelabelType *) value)->arg;
	if (!IsA(rel, Const) || rel->constisnull || !IsA(col, Const) || col->constisnull)
		refuse("The table and the column must be constants.");
	if (!IsA(value, Var))
		refuse("The value must be a column of the table.");
	var = (Var *) value;
	if (var->varlevelsup >= (Index) list_length(ctx->queries))
		refuse("The value must be a column of the table.");
	q = (Query *) list_nth(ctx->queries, var->varlevelsup);
	if (var->varno < 1 || var->varno > list_length(q->rtable) || var->varattno <= 0)
		refuse("The value must be a column of the table.");
	rte = rt_fetch(var->varno, q->rtable);
	if (rte->rtekind != RTE_RELATION)
		refuse("The value is not read from the table named.");
	/* On a Citus node, a query the coordinator sent reads a shard of the table. */
	if (rte->relid != DatumGetObjectId(rel->constvalue) &&
		px_citus_shard_parent(rte->relid) != DatumGetObjectId(rel->constvalue))
		refuse("The value is not read from the table named.");
	attname = get_attname(rte->relid, var->varattno, true);
	if (attname == NULL || strcmp(attname, NameStr(*DatumGetName(col->constvalue))) != 0)
		refuse("The value is not the column named.");
}

static bool guard_walker(Node *node, GuardContext *ctx);
static bool guard_query(Query *query, GuardContext *ctx);

/*
 * The body of a SQL function the planner may inline in place of f, checked
 * as a query of its own (its parameters are no columns of any table).  The
 * conditions are inline_function()'s for reading the body at all; a
 * function it does not inline runs through functions.c, whose queries pass
 * the parse-analysis hook.
 */
static void
check_sql_body(FuncExpr *f, GuardContext *ctx)
{
	HeapTuple	tup;
	Form_pg_proc proc;
	Datum		body;
	bool		isnull;
	Query	   *query = NULL;
	List	   *saved_queries;

	if (f->funcretset || list_member_oid(ctx->active, f->funcid))
		return;
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(f->funcid));
	if (!HeapTupleIsValid(tup))
		return;
	proc = (Form_pg_proc) GETSTRUCT(tup);
	if (proc->prolang != SQLlanguageId || proc->prokind != PROKIND_FUNCTION ||
		proc->prosecdef || proc->proretset || proc->prorettype == RECORDOID ||
		!heap_attisnull(tup, Anum_pg_proc_proconfig, NULL) ||
		proc->pronargs != list_length(f->args) ||
		proc->pronamespace == px_schema_oid() ||
		pg_proc_aclcheck(f->funcid, GetUserId(), ACL_EXECUTE) != ACLCHECK_OK)
	{
		ReleaseSysCache(tup);
		return;
	}
	body = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_prosqlbody, &isnull);
	if (!isnull)
	{
		/* RETURN expr / BEGIN ATOMIC: stored parsed */
		Node	   *n = stringToNode(TextDatumGetCString(body));

		if (IsA(n, List) && list_length((List *) n) == 1 && IsA(linitial((List *) n), List))
			n = linitial((List *) n);
		if (IsA(n, List) && list_length((List *) n) == 1)
			n = linitial((List *) n);
		if (IsA(n, Query))
			query = (Query *) n;
	}
	else
	{
		char	   *src;
		List	   *raw;

		body = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_prosrc, &isnull);
		src = isnull ? "" : TextDatumGetCString(body);
		raw = pg_parse_query(src);
		if (list_length(raw) == 1 && IsA(((RawStmt *) linitial(raw))->stmt, SelectStmt))
		{
			ParseState *pstate = make_parsestate(NULL);

			pstate->p_sourcetext = src;
			sql_fn_parser_setup(pstate, prepare_sql_fn_parse_info(tup, (Node *) f, f->inputcollid));
			query = transformTopLevelStmt(pstate, linitial(raw));
			free_parsestate(pstate);
		}
	}
	ReleaseSysCache(tup);
	if (query == NULL)
		return;
	saved_queries = ctx->queries;
	ctx->queries = NIL;
	ctx->active = lcons_oid(f->funcid, ctx->active);
	(void) guard_query(query, ctx);
	ctx->active = list_delete_first(ctx->active);
	ctx->queries = saved_queries;
}

static bool
guard_query(Query *query, GuardContext *ctx)
{
	bool		result;

	ctx->queries = lcons(query, ctx->queries);
	result = query_tree_walker(query, guard_walker, ctx, 0);
	ctx->queries = list_delete_first(ctx->queries);
	return result;
}

static bool
guard_walker(Node *node, GuardContext *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return guard_query((Query *) node, ctx);
	if (IsA(node, FuncExpr))
	{
		FuncExpr   *f = (FuncExpr *) node;
		int			i;

		for (i = 0; i < ctx->napply; i++)
			if (f->funcid == ctx->apply_mask_oids[i])
				check_call(f, ctx);
		if (ctx->bodies)
			check_sql_body(f, ctx);
	}
	return expression_tree_walker(node, guard_walker, ctx);
}

static void
px_post_parse_analyze(ParseState *pstate, Query *query, JumbleState *jstate)
{
	GuardContext ctx;

	if (prev_post_parse_analyze)
		prev_post_parse_analyze(pstate, query, jstate);
	/* Cheap exit: no privacy schema, no calls to check. */
	lookup_apply_mask(&ctx);
	if (ctx.napply == 0)
		return;
	ctx.queries = NIL;
	ctx.bodies = false;
	ctx.active = NIL;
	(void) guard_query(query, &ctx);
}

/* Each query once more as it is planned, with the bodies it may inline. */
static PlannedStmt *
px_guard_planner(Query *parse, const char *query_string, int cursorOptions,
				 ParamListInfo boundParams)
{
	GuardContext ctx;

	lookup_apply_mask(&ctx);
	if (ctx.napply > 0)
	{
		ctx.queries = NIL;
		ctx.bodies = true;
		ctx.active = NIL;
		(void) guard_query(parse, &ctx);
	}
	if (prev_planner)
		return prev_planner(parse, query_string, cursorOptions, boundParams);
	return standard_planner(parse, query_string, cursorOptions, boundParams);
}

void
px_install_mask_guard(void)
{
	prev_post_parse_analyze = post_parse_analyze_hook;
	post_parse_analyze_hook = px_post_parse_analyze;
	prev_planner = planner_hook;
	planner_hook = px_guard_planner;
}
