/*
 * citus/dist_routing.c
 *		A deterministic lookup routed to one shard: "det_column = literal"
 *		and "det_column = $1" reach Citus's planner in a form it can prune.
 *
 * Citus routes "dist_column = value" to one shard by hashing the value
 * with the column type's hash function (privacy.encrypted_text_det_hash)
 * before any planner support function has run: an untyped literal is then
 * still a transit value, bound to no key, which cannot be hashed, and a
 * literal cast to the column's type is privacy.bound_literal(...) or
 * privacy.encrypted_text_det_bound(...), not a constant, so every shard is
 * asked.  This planner hook runs before Citus's (privacy_ext is preloaded
 * after citus) and does, on the query tree, what types/det_ops.c and
 * det_text_ops.c do at plan time:
 *
 *	- "col = <constant>" (an untyped literal, a literal cast to the column's
 *	  type, a text value): the constant is sealed under the column's key
 *	  (its typmod) into a plain constant of the column's type, the one
 *	  Citus hashes, sends to the shard in the query text and compares with;
 *	  beside it, at the top of the same WHERE, the key check the plan-time
 *	  binding wraps it in: privacy.encrypted_text_det_bound(<it>, key) IS
 *	  NOT NULL, which fails once the key is destroyed (on every node: the
 *	  key store replicates destruction);
 *	- "col = $n": with the parameter's value known (a custom plan) the same
 *	  as a constant; otherwise the parameter in the column type's cast,
 *	  which Citus evaluates on the coordinator before it prunes.
 *
 * The plan is made to depend on the key table, as the plan-time binding
 * does, so that a destroy_key makes a cached plan bind again.
 *
 * The hash is the same on every node and for every row of the same
 * plaintext: a deterministic envelope is always made under its key's
 * version 1 (types/encrypted.c), which rotate_key never changes, so a
 * rotation never moves a row to another shard (README, "Running on Citus").
 *
 * The same hook moves the casts of an INSERT ... SELECT into the SELECT
 * (dist_insert_select.c) and folds an UPDATE's key casts over envelopes
 * already under the key into constants (dist_update_consts.c).  Without Citus nothing here runs: the hook only
 * passes the query on.
 */
#include "citus/citus_presence.h"
#include "citus/dist_routing.h"
#include "citus/dist_insert_select.h"
#include "citus/dist_update_consts.h"
#include "citus/plan_nodes.h"
#include "catalog.h"
#include "keys/key_store.h"
#include "types/det_ops.h"
#include "types/encrypted.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/clauses.h"
#include "rewrite/rewriteManip.h"
#include "optimizer/planner.h"
#include "parser/parse_func.h"
#include "parser/parse_oper.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

static planner_hook_type prev_planner = NULL;

typedef struct RouteContext
{
	Oid			dettype;
	Oid			det_eq;			/* = (det, det) */
	Oid			det_text_eq;	/* = (det, text) */
	Oid			text_det_eq;	/* = (text, det) */
	Oid			cast_det;		/* encrypted_text_det(det, int4, bool) */
	Oid			cast_text;		/* encrypted_text_det(text, int4, bool) */
	Oid			bound_check;	/* encrypted_text_det_bound(det, int4) */
	ParamListInfo params;
	List	   *checks;			/* key checks for the current query level */
	bool		bound_any;
} RouteContext;

static Oid
privacy_function(const char *name, int nargs, Oid *argtypes)
{
	return LookupFuncName(list_make2(makeString(PX_SCHEMA), makeString((char *) name)),
						  nargs, argtypes, true);
}

static bool
route_context_init(RouteContext *ctx, ParamListInfo params)
{
	Oid			schema = px_schema_oid();
	Oid			det3[3];
	Oid			text3[3] = {TEXTOID, INT4OID, BOOLOID};
	Oid			det2[2];
	List	   *eq = list_make2(makeString("pg_catalog"), makeString("="));

	memset(ctx, 0, sizeof(*ctx));
	if (!OidIsValid(schema))
		return false;
	ctx->dettype = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
								   CStringGetDatum("encrypted_text_det"),
								   ObjectIdGetDatum(schema));
	if (!OidIsValid(ctx->dettype))
		return false;
	det3[0] = ctx->dettype;
	det3[1] = INT4OID;
	det3[2] = BOOLOID;
	det2[0] = ctx->dettype;
	det2[1] = INT4OID;
	ctx->det_eq = OpernameGetOprid(eq, ctx->dettype, ctx->dettype);
	ctx->det_text_eq = OpernameGetOprid(eq, ctx->dettype, TEXTOID);
	ctx->text_det_eq = OpernameGetOprid(eq, TEXTOID, ctx->dettype);
	ctx->cast_det = privacy_function("encrypted_text_det", 3, det3);
	ctx->cast_text = privacy_function("encrypted_text_det", 3, text3);
	ctx->bound_check = privacy_function("encrypted_text_det_bound", 2, det2);
	ctx->params = params;
	return OidIsValid(ctx->det_eq) && OidIsValid(ctx->cast_det) &&
		OidIsValid(ctx->cast_text) && OidIsValid(ctx->bound_check);
}

/* A column (or any Var) of the deterministic type whose type names its key. */
static bool
keyed_det_var(Node *node, RouteContext *ctx, int32 *key_id)
{
	Var		   *v;

	if (node == NULL || !IsA(node, Var))
		return false;
	v = (Var *) node;
	if (v->vartype != ctx->dettype || v->vartypmod <= 0)
		return false;
	*key_id = v->vartypmod;
	return true;
}

/*
 * An expression of the custom plan's parameters and immutable functions
 * ('u' || $1), folded into the constant the planner would make of it; NULL
 * for anything else (left to the plan-time binding).
 */
static Const *
folded_value(Node *value, RouteContext *ctx)
{
	PlannerGlobal *glob;
	PlannerInfo *root;
	Node	   *folded;

	if (ctx->params == NULL || contain_var_clause(value) ||
		contain_mutable_functions(value) || contain_subplans(value) ||
		checkExprHasSubLink(value) || contain_agg_clause(value) ||
		contain_window_function(value))
		return NULL;
	glob = makeNode(PlannerGlobal);
	glob->boundParams = ctx->params;
	root = makeNode(PlannerInfo);
	root->glob = glob;
	folded = eval_const_expressions(root, copyObject(value));
	return IsA(folded, Const) ? (Const *) folded : NULL;
}

/*
 * The value side of "col = value", bound to key_id: a constant of the
 * column's type, or the value in the type's cast; NULL to leave it alone.
 */
static Node *
bind_value(Node *value, int32 key_id, RouteContext *ctx)
{
	Oid			type = exprType(value);
	Const	   *c = NULL;
	Datum		sealed;

	if (type != ctx->dettype && type != TEXTOID)
		return NULL;
	/* A literal cast to the column's own type: 'x'::encrypted_text_det('k'). */
	if (IsA(value, FuncExpr) && ((FuncExpr *) value)->funcid == ctx->cast_det &&
		list_length(((FuncExpr *) value)->args) == 3)
	{
		List	   *args = ((FuncExpr *) value)->args;
		Node	   *key = lsecond(args);

		if (!IsA(linitial(args), Const) || !IsA(key, Const) || ((Const *) key)->constisnull ||
			DatumGetInt32(((Const *) key)->constvalue) != key_id)
			return NULL;
		value = linitial(args);
	}
	if (IsA(value, Const))
		c = (Const *) value;
	else if (IsA(value, Param))
		c = px_plan_param_const((Param *) value, ctx->params);
	else if ((c = folded_value(value, ctx)) == NULL)
		return NULL;

	if (c == NULL)
	{
		/* A generic plan's parameter: sealed once per execution, by the cast. */
		if (type == ctx->dettype && exprTypmod(value) > 0)
			return NULL;
		return (Node *) makeFuncExpr(type == TEXTOID ? ctx->cast_text : ctx->cast_det,
									 ctx->dettype,
									 list_make3(value,
												makeConst(INT4OID, -1, InvalidOid, sizeof(int32),
														  Int32GetDatum(key_id), false, true),
												makeBoolConst(false, false)),
									 InvalidOid, InvalidOid, COERCE_EXPLICIT_CAST);
	}
	if (c->constisnull)
		return NULL;
	if (type == TEXTOID)
		sealed = OidFunctionCall3(ctx->cast_text, c->constvalue, Int32GetDatum(key_id),
								  BoolGetDatum(false));
	else
	{
		bytea	   *v = DatumGetByteaPP(c->constvalue);
		uint32		k = px_det_key_id(v);

		/*
		 * Already under a key (an envelope written out, or this query seen
		 * a second time: Citus plans some queries twice): left as it is.
		 */
		if (k != PX_TRANSIT_KEY_ID)
			return NULL;
		sealed = PointerGetDatum(px_det_bind_transit(v, (uint32) key_id));
	}
	ctx->bound_any = true;
	ctx->checks = lappend(ctx->checks,
						  makeFuncExpr(ctx->bound_check, ctx->dettype,
									   list_make2(makeConst(ctx->dettype, key_id, InvalidOid, -1,
															sealed, false, false),
												  makeConst(INT4OID, -1, InvalidOid, sizeof(int32),
															Int32GetDatum(key_id), false, true)),
									   InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL));
	return (Node *) makeConst(ctx->dettype, key_id, InvalidOid, -1, sealed, false, false);
}

/* "col = value" in either order, with one of the three equality operators. */
static void
route_opexpr(OpExpr *op, RouteContext *ctx)
{
	Node	   *l;
	Node	   *r;
	int32		key_id;
	Node	   *bound;

	if (list_length(op->args) != 2 ||
		(op->opno != ctx->det_eq && op->opno != ctx->det_text_eq && op->opno != ctx->text_det_eq))
		return;
	l = linitial(op->args);
	r = lsecond(op->args);
	if (keyed_det_var(l, ctx, &key_id))
	{
		if ((bound = bind_value(r, key_id, ctx)) == NULL)
			return;
		r = bound;
	}
	else if (keyed_det_var(r, ctx, &key_id))
	{
		if ((bound = bind_value(l, key_id, ctx)) == NULL)
			return;
		l = r;
		r = bound;
	}
	else
		return;
	/* The (det, det) operator, the one of the column's hash opclass. */
	op->opno = ctx->det_eq;
	op->opfuncid = get_opcode(ctx->det_eq);
	op->inputcollid = InvalidOid;
	op->args = list_make2(l, r);
}

static Node *
is_not_null(Node *arg)
{
	NullTest   *n = makeNode(NullTest);

	n->arg = (Expr *) arg;
	n->nulltesttype = IS_NOT_NULL;
	n->argisrow = false;
	n->location = -1;
	return (Node *) n;
}

static bool
route_walker(Node *node, RouteContext *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;
		List	   *outer = ctx->checks;
		ListCell   *lc;

		ctx->checks = NIL;
		(void) query_tree_walker(q, route_walker, ctx, 0);
		if (q->jointree != NULL)
			foreach(lc, ctx->checks)
				q->jointree->quals = make_and_qual(q->jointree->quals,
												   is_not_null(lfirst(lc)));
		ctx->checks = outer;
		return false;
	}
	if (IsA(node, OpExpr))
		route_opexpr((OpExpr *) node, ctx);
	return expression_tree_walker(node, route_walker, ctx);
}

static PlannedStmt *
dist_planner(Query *parse, const char *query_string, int cursor_options,
			 ParamListInfo bound_params)
{
	RouteContext ctx;
	bool		bound_any = false;
	PlannedStmt *result;

	if (parse->commandType != CMD_UTILITY && px_citus_present() &&
		route_context_init(&ctx, bound_params))
	{
		(void) route_walker((Node *) parse, &ctx);
		bound_any = ctx.bound_any;
		px_dist_move_insert_casts(parse);
		px_dist_fold_update_casts(parse, bound_params);
	}
	if (prev_planner)
		result = prev_planner(parse, query_string, cursor_options, bound_params);
	else
		result = standard_planner(parse, query_string, cursor_options, bound_params);
	if (bound_any)
	{
		Oid			keys_table = px_key_table_oid(PX_TABLE_KEYS);

		if (OidIsValid(keys_table))
			result->relationOids = lappend_oid(result->relationOids, keys_table);
	}
	return result;
}

void
px_install_dist_routing(void)
{
	prev_planner = planner_hook;
	planner_hook = dist_planner;
}
