/*
 * citus/purpose_marker.c
 *		The declared purpose (privacy.purpose, SET or SET LOCAL) reaches the
 *		nodes that read the shards of a Citus table.
 *
 * Citus sends each shard its part of a query as SQL text, over connections
 * of its own: a protected table's row security policy and a masking view's
 * consent filter, has_consent(subject), run on the shard's node, where the
 * session declared no purpose (Citus propagates SET LOCAL only inside a
 * transaction block, and only with citus.propagate_set_commands).  So the
 * purpose travels in the query:
 *
 *	- On the node that plans a query for Citus (this planner hook runs
 *	  before Citus's distributed planner), every query level that calls
 *	  has_consent(subject) -- in a table's policy or in its own expressions
 *	  -- gets the condition privacy.shard_purpose(subject, 'purpose'), the
 *	  purpose declared now ('' for none).  It is always true.  Citus sends
 *	  it with the level: it reads a column, so Citus evaluates it nowhere
 *	  but on the shard, in every kind of plan (router, multi-shard, UPDATE,
 *	  DELETE, INSERT ... SELECT, subplans).
 *	- On the node that plans a query carrying markers (a worker, or the
 *	  coordinator executing a shard locally), when the marked purpose is
 *	  not the one declared here, every has_consent(subject) of the query,
 *	  those of the shards' policies included, becomes has_consent(subject,
 *	  'purpose').  '' means no purpose: no rows, as locally.
 *
 * Nothing is forged this way: has_consent with a purpose refuses a role
 * that may not use it, exactly as SET privacy.purpose does, so a marker
 * written by hand gives a role no row that a SET would not.
 *
 * Cached plans (PREPARE, PL/pgSQL, Citus's own) carry the purpose they
 * were planned with; a change of privacy.purpose (SET, SET LOCAL, RESET,
 * the end of a transaction, a function's SET clause) therefore marks every
 * cached plan of the backend for replanning, once Citus has been seen.
 *
 * Without Citus (no citus.version setting, or no citus extension in the
 * database) nothing is added, read or forgotten.
 */
#include "errors.h"
#include "catalog.h"
#include "purpose_scope.h"
#include "citus/purpose_marker.h"
#include "citus/shard_map.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/planner.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/plancache.h"
#include "utils/syscache.h"

static planner_hook_type prev_planner = NULL;

/* Citus was found in this backend's database: purpose changes forget plans. */
static bool citus_seen = false;

#define MAX_CONSENT 8

typedef struct MarkerFuncs
{
	Oid			marker;
	Oid			consent1[MAX_CONSENT];	/* has_consent(subject) */
	Oid			consent2[MAX_CONSENT];	/* has_consent(subject, purpose), same subject type */
	int			nconsent;
} MarkerFuncs;

PG_FUNCTION_INFO_V1(px_shard_purpose);
Datum
px_shard_purpose(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(true);
}

static bool
citus_here(void)
{
	if (citus_seen)
		return true;
	if (!px_citus_loaded())
		return false;
	if (!IsTransactionState() || !OidIsValid(get_extension_oid("citus", true)))
		return false;
	citus_seen = true;
	return true;
}

static bool
lookup_funcs(MarkerFuncs *mf)
{
	Oid			nsp = px_schema_oid();
	CatCList   *list;
	int			i;
	Oid			argtypes[2] = {ANYELEMENTOID, TEXTOID};

	mf->nconsent = 0;
	mf->marker = InvalidOid;
	if (!OidIsValid(nsp))
		return false;
	mf->marker = LookupFuncName(list_make2(makeString(PX_SCHEMA), makeString("shard_purpose")),
								2, argtypes, true);
	if (!OidIsValid(mf->marker))
		return false;
	list = SearchSysCacheList1(PROCNAMEARGSNSP, CStringGetDatum("has_consent"));
	for (i = 0; i < list->n_members && mf->nconsent < MAX_CONSENT; i++)
	{
		Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(&list->members[i]->tuple);
		Oid			two[2];

		if (proc->pronamespace != nsp || proc->pronargs != 1)
			continue;
		two[0] = proc->proargtypes.values[0];
		two[1] = TEXTOID;
		mf->consent1[mf->nconsent] = proc->oid;
		mf->consent2[mf->nconsent] =
			LookupFuncName(list_make2(makeString(PX_SCHEMA), makeString("has_consent")),
						   2, two, true);
		if (OidIsValid(mf->consent2[mf->nconsent]))
			mf->nconsent++;
	}
	ReleaseSysCacheList(list);
	return mf->nconsent > 0;
}

static int
consent1_index(MarkerFuncs *mf, Oid funcid)
{
	int			i;

	for (i = 0; i < mf->nconsent; i++)
		if (mf->consent1[i] == funcid)
			return i;
	return -1;
}

/* ---------------------------------------------------------------------
 * Reading markers: the purpose a query was planned for elsewhere
 * --------------------------------------------------------------------- */
typedef struct ReadContext
{
	MarkerFuncs *mf;
	bool		found;
	bool		conflict;
	char	   *purpose;
} ReadContext;

static bool
read_walker(Node *node, ReadContext *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, read_walker, ctx, 0);
	if (IsA(node, FuncExpr) && ((FuncExpr *) node)->funcid == ctx->mf->marker)
	{
		FuncExpr   *f = (FuncExpr *) node;
		Const	   *c = list_length(f->args) == 2 ? (Const *) lsecond(f->args) : NULL;
		char	   *p;

		if (c != NULL && IsA(c, Const) && c->consttype == TEXTOID)
		{
			p = c->constisnull ? "" : TextDatumGetCString(c->constvalue);
			if (ctx->found && strcmp(p, ctx->purpose) != 0)
				ctx->conflict = true;
			ctx->found = true;
			ctx->purpose = p;
		}
	}
	return expression_tree_walker(node, read_walker, ctx);
}

typedef struct BindContext
{
	MarkerFuncs *mf;
	const char *purpose;
} BindContext;

/* has_consent(subject) -> has_consent(subject, purpose), in place. */
static bool
bind_walker(Node *node, BindContext *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, bind_walker, ctx, 0);
	if (IsA(node, FuncExpr))
	{
		FuncExpr   *f = (FuncExpr *) node;
		int			i = consent1_index(ctx->mf, f->funcid);

		if (i >= 0 && list_length(f->args) == 1)
		{
			f->funcid = ctx->mf->consent2[i];
			f->args = lappend(f->args,
							  makeConst(TEXTOID, -1, DEFAULT_COLLATION_OID, -1,
										CStringGetTextDatum(ctx->purpose), false, false));
		}
	}
	return expression_tree_walker(node, bind_walker, ctx);
}

/* ---------------------------------------------------------------------
 * Adding markers: the purpose declared here, for the shards
 * --------------------------------------------------------------------- */
typedef struct LevelContext
{
	MarkerFuncs *mf;
	Node	   *subject;		/* the first has_consent(subject) of this level */
} LevelContext;

static void mark_query(Query *q, MarkerFuncs *mf);

/* Finds a has_consent(subject) of this level; marks the levels below. */
static bool
level_walker(Node *node, LevelContext *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		mark_query((Query *) node, ctx->mf);
		return false;
	}
	if (IsA(node, FuncExpr) && ctx->subject == NULL)
	{
		FuncExpr   *f = (FuncExpr *) node;

		if (consent1_index(ctx->mf, f->funcid) >= 0 && list_length(f->args) == 1 &&
			contain_var_clause(linitial(f->args)))
			ctx->subject = linitial(f->args);
	}
	return expression_tree_walker(node, level_walker, ctx);
}

static void
mark_query(Query *q, MarkerFuncs *mf)
{
	LevelContext ctx;
	FuncExpr   *marker;
	const char *purpose = px_purpose != NULL ? px_purpose : "";

	ctx.mf = mf;
	ctx.subject = NULL;
	(void) query_tree_walker(q, level_walker, &ctx, 0);
	if (ctx.subject == NULL || q->jointree == NULL ||
		(q->commandType != CMD_SELECT && q->commandType != CMD_UPDATE &&
		 q->commandType != CMD_DELETE))
		return;
	/* The shards apply the marked purpose: it must be one the scope lets be in force. */
	if (purpose[0] != '\0')
		px_purpose_scope_check_in_force();
	marker = makeFuncExpr(mf->marker, BOOLOID,
						  list_make2(copyObject(ctx.subject),
									 makeConst(TEXTOID, -1, DEFAULT_COLLATION_OID, -1,
											   CStringGetTextDatum(purpose), false, false)),
						  InvalidOid, DEFAULT_COLLATION_OID, COERCE_EXPLICIT_CALL);
	q->jointree->quals = q->jointree->quals == NULL ? (Node *) marker :
		(Node *) make_and_qual(q->jointree->quals, (Node *) marker);
}

static PlannedStmt *
px_marker_planner(Query *parse, const char *query_string, int cursor_options,
				  ParamListInfo bound_params)
{
	MarkerFuncs mf;

	if (parse->commandType != CMD_UTILITY && citus_here() && lookup_funcs(&mf))
	{
		ReadContext rc = {&mf, false, false, NULL};

		(void) read_walker((Node *) parse, &rc);
		if (rc.conflict)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a query may carry one processing purpose for its shards")));
		if (rc.found)
		{
			const char *here = px_purpose != NULL ? px_purpose : "";

			if (strcmp(rc.purpose, here) != 0)
			{
				BindContext bc = {&mf, rc.purpose};

				(void) bind_walker((Node *) parse, &bc);
			}
		}
		else
			mark_query(parse, &mf);
	}
	if (prev_planner)
		return prev_planner(parse, query_string, cursor_options, bound_params);
	return standard_planner(parse, query_string, cursor_options, bound_params);
}

void
px_purpose_marker_assign(const char *newval, void *extra)
{
	const char *old = px_purpose != NULL ? px_purpose : "";

	if (citus_seen && strcmp(old, newval != NULL ? newval : "") != 0)
		ResetPlanCache();
}

void
px_install_purpose_marker(void)
{
	prev_planner = planner_hook;
	planner_hook = px_marker_planner;
}
