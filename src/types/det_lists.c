/*
 * types/det_lists.c
 *		"det_column IN (<literals>)" and "det_column = ANY('{...}')": the
 *		list's transit values bound to the column's key before planning.
 *
 * An untyped literal compared with a privacy.encrypted_text_det column is
 * read before its column is known, so it is a transit value, bound to no
 * key.  For "col = literal" the equality's support function binds it at
 * plan time (types/det_ops.c), but PostgreSQL calls no support function
 * for a ScalarArrayOpExpr, so an IN list kept its transit values, and
 * everything that hashes or sorts them failed with PXK04: a list of 9 or
 * more values (the executor hashes it), any list on a HASH-partitioned
 * column (partition pruning hashes the values), an index search (it sorts
 * them).  A transit value cannot be hashed or ordered: its bytes depend on
 * the transit key, not on the column's.
 *
 * This planner hook binds them first, on the query tree, with what the
 * "=" binding uses (px_det_bind_transit), where the scalar is a column or
 * expression whose type names a key and the operator is one of the
 * deterministic type's own:
 *
 *	- a constant array ('{a,b}', or an IN list of literals, which the parser
 *	  makes an ARRAY[...] of constants) becomes a constant array of values
 *	  bound to the key: the executor may hash it, partition pruning hashes
 *	  it at plan time, an index search sorts it;
 *	- a parameter in an IN list ("col IN ($1, $2)") is bound like a
 *	  constant when a custom plan knows its value, and is otherwise wrapped
 *	  in the column type's cast, evaluated once per scan as an index key;
 *	- an array that is not a constant (a parameter "= ANY($1)", a column)
 *	  is left as it is: its elements are known only at execution (README).
 *
 * A constant bound here no longer names the key in a call, so, as the
 * Citus routing does (citus/dist_routing.c), the query level gets one key
 * check per key, privacy.encrypted_text_det_bound(<a bound value>, key) IS
 * NOT NULL, a one-time filter that fails once the key is destroyed; and the
 * plan depends on the key table, so that a destroy_key plans it again.
 *
 * What the planner itself inlines (a SQL function's body) is past this
 * hook: there an IN list keeps its transit values.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/planner.h"
#include "parser/parse_func.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "catalog.h"
#include "citus/plan_nodes.h"
#include "keys/key_store.h"
#include "types/det_lists.h"
#include "types/det_ops.h"
#include "types/encrypted.h"

static planner_hook_type prev_planner = NULL;

/* A key bound at one query level, and a value bound to it for its check. */
typedef struct BoundKey
{
	int32		key_id;
	Datum		sealed;
} BoundKey;

typedef struct ListContext
{
	Oid			schema;
	Oid			dettype;
	Oid			cast_det;		/* encrypted_text_det(det, int4, bool) */
	Oid			bound_check;	/* encrypted_text_det_bound(det, int4) */
	int16		typlen;
	bool		typbyval;
	char		typalign;
	ParamListInfo params;
	List	   *keys;			/* BoundKeys of the current query level */
	bool		bound_any;
} ListContext;

static bool
list_context_init(ListContext *ctx, ParamListInfo params)
{
	Oid			det3[3];
	Oid			det2[2];

	memset(ctx, 0, sizeof(*ctx));
	ctx->schema = px_schema_oid();
	if (!OidIsValid(ctx->schema))
		return false;
	ctx->dettype = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
								   CStringGetDatum("encrypted_text_det"),
								   ObjectIdGetDatum(ctx->schema));
	if (!OidIsValid(ctx->dettype))
		return false;
	det3[0] = det2[0] = ctx->dettype;
	det3[1] = det2[1] = INT4OID;
	det3[2] = BOOLOID;
	ctx->cast_det = LookupFuncName(list_make2(makeString(PX_SCHEMA), makeString("encrypted_text_det")),
								   3, det3, true);
	ctx->bound_check = LookupFuncName(list_make2(makeString(PX_SCHEMA),
												 makeString("encrypted_text_det_bound")),
									  2, det2, true);
	get_typlenbyvalalign(ctx->dettype, &ctx->typlen, &ctx->typbyval, &ctx->typalign);
	ctx->params = params;
	return OidIsValid(ctx->cast_det) && OidIsValid(ctx->bound_check);
}

/* v bound to key_id (NULL when it is not a transit value), noted for the key check. */
static bytea *
bind_element(bytea *v, int32 key_id, ListContext *ctx)
{
	BoundKey   *bk;
	bytea	   *sealed;
	ListCell   *lc;

	if (px_det_key_id(v) != PX_TRANSIT_KEY_ID)
		return NULL;
	sealed = px_det_bind_transit(v, (uint32) key_id);
	ctx->bound_any = true;
	foreach(lc, ctx->keys)
		if (((BoundKey *) lfirst(lc))->key_id == key_id)
			return sealed;
	bk = palloc(sizeof(BoundKey));
	bk->key_id = key_id;
	bk->sealed = PointerGetDatum(sealed);
	ctx->keys = lappend(ctx->keys, bk);
	return sealed;
}

/* A constant array of deterministic values, its transit elements bound. */
static Node *
bind_const_array(Const *c, int32 key_id, ListContext *ctx)
{
	ArrayType  *arr = DatumGetArrayTypeP(c->constvalue);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	bool		changed = false;
	Const	   *result;

	if (ARR_ELEMTYPE(arr) != ctx->dettype)
		return (Node *) c;
	deconstruct_array(arr, ctx->dettype, ctx->typlen, ctx->typbyval, ctx->typalign,
					  &elems, &nulls, &n);
	for (i = 0; i < n; i++)
	{
		bytea	   *sealed;

		if (nulls[i])
			continue;
		sealed = bind_element(DatumGetByteaPP(elems[i]), key_id, ctx);
		if (sealed != NULL)
		{
			elems[i] = PointerGetDatum(sealed);
			changed = true;
		}
	}
	if (!changed)
		return (Node *) c;
	result = (Const *) copyObject(c);
	result->constvalue = PointerGetDatum(construct_md_array(elems, nulls, ARR_NDIM(arr),
															ARR_DIMS(arr), ARR_LBOUND(arr),
															ctx->dettype, ctx->typlen,
															ctx->typbyval, ctx->typalign));
	return (Node *) result;
}

/* An element of ARRAY[...] bound to key_id, or the element as it is. */
static Node *
bind_array_element(Node *elem, int32 key_id, ListContext *ctx)
{
	Const	   *c = NULL;
	bytea	   *sealed;

	if (exprType(elem) != ctx->dettype || exprTypmod(elem) >= 0)
		return elem;
	if (IsA(elem, Const))
		c = (Const *) elem;
	else if (IsA(elem, Param))
	{
		c = px_plan_param_const((Param *) elem, ctx->params);
		/* A generic plan's parameter: sealed once per scan, by the cast. */
		if (c == NULL)
			return (Node *) makeFuncExpr(ctx->cast_det, ctx->dettype,
										 list_make3(elem,
													makeConst(INT4OID, -1, InvalidOid, sizeof(int32),
															  Int32GetDatum(key_id), false, true),
													makeBoolConst(false, false)),
										 InvalidOid, InvalidOid, COERCE_EXPLICIT_CAST);
	}
	else
		return elem;
	if (c->constisnull ||
		(sealed = bind_element(DatumGetByteaPP(c->constvalue), key_id, ctx)) == NULL)
		return elem;
	return (Node *) makeConst(ctx->dettype, key_id, InvalidOid, -1,
							  PointerGetDatum(sealed), false, false);
}

/* "scalar op ANY/ALL (array)" with a keyed deterministic scalar. */
static void
bind_saop(ScalarArrayOpExpr *saop, ListContext *ctx)
{
	Node	   *scalar;
	Node	   *array;
	Oid			left;
	Oid			right;
	int32		key_id;

	if (list_length(saop->args) != 2)
		return;
	scalar = linitial(saop->args);
	array = lsecond(saop->args);
	if (exprType(scalar) != ctx->dettype || (key_id = exprTypmod(scalar)) <= 0)
		return;
	/* The type's own operators (=, <>, ordering): they bind a transit operand anyway. */
	op_input_types(saop->opno, &left, &right);
	if (left != ctx->dettype || right != ctx->dettype ||
		get_func_namespace(get_opcode(saop->opno)) != ctx->schema)
		return;

	if (IsA(array, Const))
	{
		if (!((Const *) array)->constisnull)
			lsecond(saop->args) = bind_const_array((Const *) array, key_id, ctx);
	}
	else if (IsA(array, ArrayExpr) && !((ArrayExpr *) array)->multidims)
	{
		ListCell   *lc;

		foreach(lc, ((ArrayExpr *) array)->elements)
			lfirst(lc) = bind_array_element(lfirst(lc), key_id, ctx);
	}
}

static Node *
key_check(BoundKey *bk, ListContext *ctx)
{
	NullTest   *n = makeNode(NullTest);

	n->arg = (Expr *) makeFuncExpr(ctx->bound_check, ctx->dettype,
								   list_make2(makeConst(ctx->dettype, bk->key_id, InvalidOid, -1,
														bk->sealed, false, false),
											  makeConst(INT4OID, -1, InvalidOid, sizeof(int32),
														Int32GetDatum(bk->key_id), false, true)),
								   InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
	n->nulltesttype = IS_NOT_NULL;
	n->argisrow = false;
	n->location = -1;
	return (Node *) n;
}

static bool
list_walker(Node *node, ListContext *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;
		List	   *outer = ctx->keys;
		ListCell   *lc;

		ctx->keys = NIL;
		(void) query_tree_walker(q, list_walker, ctx, 0);
		if (q->jointree != NULL)
			foreach(lc, ctx->keys)
				q->jointree->quals = make_and_qual(q->jointree->quals,
												   key_check((BoundKey *) lfirst(lc), ctx));
		ctx->keys = outer;
		return false;
	}
	if (IsA(node, ScalarArrayOpExpr))
		bind_saop((ScalarArrayOpExpr *) node, ctx);
	return expression_tree_walker(node, list_walker, ctx);
}

static PlannedStmt *
det_lists_planner(Query *parse, const char *query_string, int cursor_options,
				  ParamListInfo bound_params)
{
	ListContext ctx;
	PlannedStmt *result;

	ctx.bound_any = false;
	if (parse->commandType != CMD_UTILITY && list_context_init(&ctx, bound_params))
		(void) list_walker((Node *) parse, &ctx);
	if (prev_planner)
		result = prev_planner(parse, query_string, cursor_options, bound_params);
	else
		result = standard_planner(parse, query_string, cursor_options, bound_params);
	if (ctx.bound_any)
	{
		Oid			keys_table = px_key_table_oid(PX_TABLE_KEYS);

		if (OidIsValid(keys_table))
			result->relationOids = lappend_oid(result->relationOids, keys_table);
	}
	return result;
}

void
px_install_det_lists(void)
{
	prev_planner = planner_hook;
	planner_hook = det_lists_planner;
}
