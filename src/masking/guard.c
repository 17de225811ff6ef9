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
 *
 * PostgreSQL also evaluates expressions it never plans as a query: domain
 * and table CHECK constraints, generated columns, defaults, index
 * expressions, trigger WHEN conditions, the arguments of CALL and EXECUTE,
 * ALTER TABLE ... USING, COPY ... WHERE.  No hook sees them, and a SQL
 * function called there is inlined (expression_planner()) without the
 * checks above, so a wrapper around apply_mask would mask any value its
 * caller chose.  So in 1.1 privacy.apply_mask() itself runs nowhere (it
 * refuses: px_apply_mask_outside_plan()); once a plan is made, each of its
 * calls, all checked above, is pointed at its twin in schema
 * privacy_planned, which masks.  No role but the extension's owner may use
 * that schema, so nothing outside a plan can name a twin (looking a name
 * up needs USAGE on its schema; running a function found by OID does not).
 * A database still at 1.0 has no twins: its apply_mask runs as in 1.0.
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
#include "nodes/plannodes.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "parser/analyze.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

static post_parse_analyze_hook_type prev_post_parse_analyze = NULL;
static planner_hook_type prev_planner = NULL;

/*
 * Overloads of privacy.apply_mask() and of their twins there are room for
 * (four of each in 1.1).
 */
#define PX_APPLY_MASK_MAX 16

/* The schema of apply_mask's twins, the functions planned calls run. */
#define PX_PLANNED_SCHEMA "privacy_planned"

typedef struct GuardContext
{
	List	   *queries;		/* enclosing queries, innermost first */
	bool		bodies;			/* also check the SQL functions called (planning) */
	List	   *active;			/* the SQL functions whose bodies are being checked */
	Oid			apply_mask_oids[PX_APPLY_MASK_MAX]; /* overloads and twins */
	int			napply;
	Oid			twin_of[PX_APPLY_MASK_MAX]; /* an overload's twin, by index */
	int			ntwins;			/* the overloads: the first ntwins of apply_mask_oids */
} GuardContext;

static bool
same_arguments(Form_pg_proc a, Form_pg_proc b)
{
	return a->pronargs == b->pronargs &&
		memcmp(a->proargtypes.values, b->proargtypes.values, a->pronargs * sizeof(Oid)) == 0;
}

static void
lookup_apply_mask(GuardContext *ctx)
{
	Oid			nsp = px_schema_oid();
	Oid			planned_nsp;
	CatCList   *list;
	int			i;
	int			j;

	ctx->napply = 0;
	ctx->ntwins = 0;
	if (!OidIsValid(nsp))
		return;
	planned_nsp = get_namespace_oid(PX_PLANNED_SCHEMA, true);
	list = SearchSysCacheList1(PROCNAMEARGSNSP, CStringGetDatum("apply_mask"));
	for (i = 0; i < list->n_members; i++)
	{
		Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(&list->members[i]->tuple);

		if (proc->pronamespace != nsp)
			continue;
		/* An overload left unchecked would be a decryption oracle: fail closed. */
		if (ctx->napply == PX_APPLY_MASK_MAX / 2)
			elog(ERROR, "too many overloads of privacy.apply_mask()");
		ctx->twin_of[ctx->napply] = InvalidOid;
		if (OidIsValid(planned_nsp))
		{
			for (j = 0; j < list->n_members; j++)
			{
				Form_pg_proc twin = (Form_pg_proc) GETSTRUCT(&list->members[j]->tuple);

				if (twin->pronamespace == planned_nsp && same_arguments(proc, twin))
					ctx->twin_of[ctx->napply] = twin->oid;
			}
		}
		ctx->apply_mask_oids[ctx->napply++] = proc->oid;
	}
	ctx->ntwins = ctx->napply;
	/* A twin named in a query (by a superuser) is checked like apply_mask. */
	for (i = 0; i < ctx->ntwins; i++)
		if (OidIsValid(ctx->twin_of[i]))
			ctx->apply_mask_oids[ctx->napply++] = ctx->twin_of[i];
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
	FuncExpr   *call;

	if (f->funcretset || list_member_oid(ctx->active, f->funcid))
		return;
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(f->funcid));
	if (!HeapTupleIsValid(tup))
		return;
	proc = (Form_pg_proc) GETSTRUCT(tup);

	/*
	 * The call as the planner inlines it: named arguments in their places,
	 * defaults for those left out (a call that omits a defaulted argument
	 * is inlined too).
	 */
	call = copyObject(f);
	if (proc->prolang == SQLlanguageId)
		call->args = expand_function_arguments(f->args, false, f->funcresulttype, tup);
	if (proc->prolang != SQLlanguageId || proc->prokind != PROKIND_FUNCTION ||
		proc->prosecdef || proc->proretset || proc->prorettype == RECORDOID ||
		!heap_attisnull(tup, Anum_pg_proc_proconfig, NULL) ||
		proc->pronargs != list_length(call->args) ||
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
			sql_fn_parser_setup(pstate, prepare_sql_fn_parse_info(tup, (Node *) call, call->inputcollid));
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

	/*
	 * An operator's function is inlined like a function called by name
	 * (and IS DISTINCT FROM's and NULLIF's, which call an = operator's).
	 */
	if (ctx->bodies && (IsA(node, OpExpr) || IsA(node, DistinctExpr) || IsA(node, NullIfExpr)))
	{
		OpExpr	   *op = (OpExpr *) node;
		FuncExpr   *f;

		set_opfuncid(op);
		f = makeFuncExpr(op->opfuncid, op->opresulttype, op->args, op->opcollid,
						 op->inputcollid, COERCE_EXPLICIT_CALL);
		f->funcretset = op->opretset;
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

/*
 * Pointing a plan's calls of apply_mask at their twins.  PostgreSQL has no
 * walker over plan trees: the expressions of each kind of plan node are
 * listed here.  A node this does not know keeps its calls of apply_mask,
 * which then refuse to run: a miss fails closed.
 */
static bool
twin_walker(Node *node, GuardContext *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, FuncExpr))
	{
		FuncExpr   *f = (FuncExpr *) node;
		int			i;

		for (i = 0; i < ctx->ntwins; i++)
			if (f->funcid == ctx->apply_mask_oids[i] && OidIsValid(ctx->twin_of[i]))
				f->funcid = ctx->twin_of[i];
	}
	return expression_tree_walker(node, twin_walker, ctx);
}

static void
twins_in_exprs(void *exprs, GuardContext *ctx)
{
	(void) twin_walker((Node *) exprs, ctx);
}

static void twins_in_plan(Plan *plan, GuardContext *ctx);

static void
twins_in_plans(List *plans, GuardContext *ctx)
{
	ListCell   *lc;

	foreach(lc, plans)
		twins_in_plan((Plan *) lfirst(lc), ctx);
}

static void
twins_in_pruning(PartitionPruneInfo *pruning, GuardContext *ctx)
{
	ListCell   *lc1;
	ListCell   *lc2;
	ListCell   *lc3;

	if (pruning == NULL)
		return;
	foreach(lc1, pruning->prune_infos)
	{
		foreach(lc2, (List *) lfirst(lc1))
		{
			PartitionedRelPruneInfo *info = (PartitionedRelPruneInfo *) lfirst(lc2);
			List	   *steps = list_concat_copy(info->initial_pruning_steps, info->exec_pruning_steps);

			foreach(lc3, steps)
				if (IsA(lfirst(lc3), PartitionPruneStepOp))
					twins_in_exprs(((PartitionPruneStepOp *) lfirst(lc3))->exprs, ctx);
		}
	}
}

static void
twins_in_plan(Plan *plan, GuardContext *ctx)
{
	ListCell   *lc;

	if (plan == NULL)
		return;
	check_stack_depth();
	twins_in_exprs(plan->targetlist, ctx);
	twins_in_exprs(plan->qual, ctx);
	twins_in_exprs(plan->initPlan, ctx);
	switch (nodeTag(plan))
	{
		case T_Result:
			twins_in_exprs(((Result *) plan)->resconstantqual, ctx);
			break;
		case T_ModifyTable:
			{
				ModifyTable *mt = (ModifyTable *) plan;

				twins_in_exprs(mt->withCheckOptionLists, ctx);
				twins_in_exprs(mt->returningLists, ctx);
				twins_in_exprs(mt->onConflictSet, ctx);
				twins_in_exprs(mt->onConflictWhere, ctx);
				foreach(lc, mt->mergeActionLists)
				{
					ListCell   *action;

					foreach(action, (List *) lfirst(lc))
					{
						twins_in_exprs(((MergeAction *) lfirst(action))->targetList, ctx);
						twins_in_exprs(((MergeAction *) lfirst(action))->qual, ctx);
					}
				}
			}
			break;
		case T_Append:
			twins_in_plans(((Append *) plan)->appendplans, ctx);
			twins_in_pruning(((Append *) plan)->part_prune_info, ctx);
			break;
		case T_MergeAppend:
			twins_in_plans(((MergeAppend *) plan)->mergeplans, ctx);
			twins_in_pruning(((MergeAppend *) plan)->part_prune_info, ctx);
			break;
		case T_BitmapAnd:
			twins_in_plans(((BitmapAnd *) plan)->bitmapplans, ctx);
			break;
		case T_BitmapOr:
			twins_in_plans(((BitmapOr *) plan)->bitmapplans, ctx);
			break;
		case T_SampleScan:
			twins_in_exprs(((SampleScan *) plan)->tablesample, ctx);
			break;
		case T_IndexScan:
			twins_in_exprs(((IndexScan *) plan)->indexqual, ctx);
			twins_in_exprs(((IndexScan *) plan)->indexqualorig, ctx);
			twins_in_exprs(((IndexScan *) plan)->indexorderby, ctx);
			twins_in_exprs(((IndexScan *) plan)->indexorderbyorig, ctx);
			break;
		case T_IndexOnlyScan:
			twins_in_exprs(((IndexOnlyScan *) plan)->indexqual, ctx);
			twins_in_exprs(((IndexOnlyScan *) plan)->recheckqual, ctx);
			twins_in_exprs(((IndexOnlyScan *) plan)->indexorderby, ctx);
			twins_in_exprs(((IndexOnlyScan *) plan)->indextlist, ctx);
			break;
		case T_BitmapIndexScan:
			twins_in_exprs(((BitmapIndexScan *) plan)->indexqual, ctx);
			twins_in_exprs(((BitmapIndexScan *) plan)->indexqualorig, ctx);
			break;
		case T_BitmapHeapScan:
			twins_in_exprs(((BitmapHeapScan *) plan)->bitmapqualorig, ctx);
			break;
		case T_TidScan:
			twins_in_exprs(((TidScan *) plan)->tidquals, ctx);
			break;
		case T_TidRangeScan:
			twins_in_exprs(((TidRangeScan *) plan)->tidrangequals, ctx);
			break;
		case T_SubqueryScan:
			twins_in_plan(((SubqueryScan *) plan)->subplan, ctx);
			break;
		case T_FunctionScan:
			foreach(lc, ((FunctionScan *) plan)->functions)
				twins_in_exprs(((RangeTblFunction *) lfirst(lc))->funcexpr, ctx);
			break;
		case T_ValuesScan:
			twins_in_exprs(((ValuesScan *) plan)->values_lists, ctx);
			break;
		case T_TableFuncScan:
			twins_in_exprs(((TableFuncScan *) plan)->tablefunc, ctx);
			break;
		case T_ForeignScan:
			twins_in_exprs(((ForeignScan *) plan)->fdw_exprs, ctx);
			twins_in_exprs(((ForeignScan *) plan)->fdw_scan_tlist, ctx);
			twins_in_exprs(((ForeignScan *) plan)->fdw_recheck_quals, ctx);
			break;
		case T_CustomScan:
			twins_in_plans(((CustomScan *) plan)->custom_plans, ctx);
			twins_in_exprs(((CustomScan *) plan)->custom_exprs, ctx);
			twins_in_exprs(((CustomScan *) plan)->custom_scan_tlist, ctx);
			break;
		case T_NestLoop:
			twins_in_exprs(((Join *) plan)->joinqual, ctx);
			break;
		case T_MergeJoin:
			twins_in_exprs(((Join *) plan)->joinqual, ctx);
			twins_in_exprs(((MergeJoin *) plan)->mergeclauses, ctx);
			break;
		case T_HashJoin:
			twins_in_exprs(((Join *) plan)->joinqual, ctx);
			twins_in_exprs(((HashJoin *) plan)->hashclauses, ctx);
			twins_in_exprs(((HashJoin *) plan)->hashkeys, ctx);
			break;
		case T_Hash:
			twins_in_exprs(((Hash *) plan)->hashkeys, ctx);
			break;
		case T_Memoize:
			twins_in_exprs(((Memoize *) plan)->param_exprs, ctx);
			break;
		case T_WindowAgg:
			twins_in_exprs(((WindowAgg *) plan)->startOffset, ctx);
			twins_in_exprs(((WindowAgg *) plan)->endOffset, ctx);
			twins_in_exprs(((WindowAgg *) plan)->runCondition, ctx);
			twins_in_exprs(((WindowAgg *) plan)->runConditionOrig, ctx);
			break;
		case T_Limit:
			twins_in_exprs(((Limit *) plan)->limitOffset, ctx);
			twins_in_exprs(((Limit *) plan)->limitCount, ctx);
			break;
		default:
			/* no expressions but the target list and quals */
			break;
	}
	twins_in_plan(plan->lefttree, ctx);
	twins_in_plan(plan->righttree, ctx);
}

/* Each query once more as it is planned, with the bodies it may inline. */
static PlannedStmt *
px_guard_planner(Query *parse, const char *query_string, int cursorOptions,
				 ParamListInfo boundParams)
{
	GuardContext ctx;
	PlannedStmt *planned;

	lookup_apply_mask(&ctx);
	if (ctx.napply > 0)
	{
		ctx.queries = NIL;
		ctx.bodies = true;
		ctx.active = NIL;
		(void) guard_query(parse, &ctx);
	}
	if (prev_planner)
		planned = prev_planner(parse, query_string, cursorOptions, boundParams);
	else
		planned = standard_planner(parse, query_string, cursorOptions, boundParams);
	if (ctx.ntwins > 0)
	{
		twins_in_plan(planned->planTree, &ctx);
		twins_in_plans(planned->subplans, &ctx);
	}
	return planned;
}

/*
 * privacy.apply_mask() in 1.1: a call in a plan runs its twin (above); a
 * call anywhere else is one no check has seen.
 */
PG_FUNCTION_INFO_V1(px_apply_mask_outside_plan);
Datum
px_apply_mask_outside_plan(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("privacy.apply_mask() runs only in the plan of a query"),
			 errdetail("It was called from an expression PostgreSQL evaluates without planning a query (a constraint, a default, a generated column, an index expression, a trigger condition, the arguments of CALL or EXECUTE, ALTER TABLE ... USING, COPY ... WHERE), where no check can see where its value comes from."),
			 errhint("Read masked values through the masking view, masked.<table>.")));
	PG_RETURN_NULL();
}

void
px_install_mask_guard(void)
{
	prev_post_parse_analyze = post_parse_analyze_hook;
	post_parse_analyze_hook = px_post_parse_analyze;
	prev_planner = planner_hook;
	planner_hook = px_guard_planner;
}
