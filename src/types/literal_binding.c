/*
 * types/literal_binding.c
 *		Seals each INSERT and UPDATE literal once, under its column's key, at
 *		the end of the parse analysis that read it.
 *
 * The encrypted types' input function leaves a literal it is given for an
 * INSERT or UPDATE target *pending* (types/pending_literal.h).  Here, in
 * post_parse_analyze_hook, every pending value of the query (CTEs,
 * sublinks, VALUES lists, ON CONFLICT, MERGE and EXPLAIN included) is
 * replaced:
 *
 *  - under the length-coercion cast to a column's key,
 *		encrypted_text(<pending>, <key id>, false), it becomes
 *		privacy.bound_literal(<sealed under the key>, 'privacy.data_key_versions')
 *	  and the cast, seeing a value already under its key, passes it through:
 *	  one seal, made here, and nothing done per execution;
 *  - anywhere else it is sealed under the transit key, exactly what the
 *	  input function did before.
 *
 * A randomized envelope must never be stored twice: a plan can run many
 * times (a prepared statement, a PL/pgSQL loop) and a literal of an INSERT
 * ... SELECT is stored once per row.  So the envelope sealed here is
 * remembered as *fresh* until its first use; bound_literal() hands it out
 * once and, from then on, seals the value again under a fresh nonce for
 * each row.  At most MAX_FRESH_LITERALS are remembered (plans analysed and
 * never run would otherwise pile up); forgetting one only costs a re-seal.
 * Deterministic envelopes are the same every time by design and always
 * pass through.
 *
 * The regclass argument is there for plan caching: a plan records every
 * regclass constant it holds as a relation it depends on, so a rotation or
 * any other change of the key tables (whose trigger sends a relcache
 * invalidation for them) makes a prepared statement or a PL/pgSQL function
 * analyse its literal again and seal it under the key's current version.
 *
 * CREATE RULE and CREATE FUNCTION analyse statements without calling
 * post_parse_analyze_hook, so while they run no literal is left pending.
 *
 * Bind parameters whose type the client left open (the extended protocol
 * with type 0: node-postgres, psycopg 3, libpq without types) are typed by
 * the parser from their use.  One that is used only as the value of an
 * encrypted column would become that column's type without a key, so the
 * server would seal it in transit when it converts the Bind message, and
 * the cast to the key would open and seal it again.  Here such a parameter
 * is given the type privacy.encrypted_input instead (the client learns it
 * from ParameterDescription, and sends the same text as before), and the
 * cast becomes privacy.encrypted_input's cast to the column's type, which
 * seals once.  A parameter used anywhere else, or whose type the client
 * gave, keeps the type it has.  Plans re-analysed from the cached source
 * see the parameter typed privacy.encrypted_input and pick the same cast.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/analyze.h"
#include "parser/parse_func.h"
#include "optimizer/planner.h"
#include "parser/parse_param.h"
#include "utils/syscache.h"
#include "catalog/pg_type.h"
#include "tcop/utility.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "catalog.h"
#include "keys/key_store.h"
#include "types/encrypted.h"
#include "types/literal_binding.h"
#include "types/pending_literal.h"

/* Randomized envelopes sealed at analysis and not handed out yet. */
typedef struct FreshKey
{
	uint32		key_id;
	uint8		nonce[PX_NONCE_LEN];
} FreshKey;

static HTAB *fresh_literals = NULL;

#define MAX_FRESH_LITERALS 4096

static post_parse_analyze_hook_type prev_post_parse_analyze = NULL;
static ProcessUtility_hook_type prev_process_utility = NULL;
static planner_hook_type prev_planner = NULL;

typedef struct BindContext
{
	Oid			schema;
	Oid			bound_literal;	/* privacy.bound_literal(anyelement, regclass) */
	Oid			key_versions;	/* privacy.data_key_versions */
} BindContext;

static bool bind_walker(Node *node, BindContext *ctx);

/*
 * parse_param.c's state for parameters whose types the parser infers.  The
 * struct is private there; its layout (PostgreSQL 15) is repeated here and
 * only used when pstate->p_paramref_hook is parse_param.c's own hook for
 * that mode, whose address px_install_literal_binding() learns.
 */
typedef struct InferredParamState
{
	Oid		  **paramTypes;
	int		   *numParams;
} InferredParamState;

static ParseParamRefHook inferred_paramref_hook = NULL;

/* Per parameter number: its uses, and its uses as an encrypted column's value. */
typedef struct ParamUses
{
	int			nparams;
	int		   *uses;
	int		   *column_uses;
	List	   *casts;			/* FuncExprs casting a parameter to a key */
	Oid			schema;
} ParamUses;

static Oid
lookup_bound_literal(void)
{
	Oid			argtypes[2] = {ANYELEMENTOID, REGCLASSOID};

	return LookupFuncName(list_make2(makeString("privacy"), makeString("bound_literal")),
						  2, argtypes, true);
}

/* A pending value of this backend, with its plaintext. */
static bool
pending_const(Node *node, px_value_type *type, const char **pt, size_t *len)
{
	Const	   *c;

	if (node == NULL || !IsA(node, Const))
		return false;
	c = (Const *) node;
	if (c->constisnull || c->constlen != -1)
		return false;
	*pt = px_literal_pending_text((bytea *) DatumGetPointer(c->constvalue), type, len);
	return *pt != NULL;
}

static bool
fresh_key_of(const bytea *env, FreshKey *key)
{
	const uint8 *p = (const uint8 *) VARDATA_ANY(env);

	if (VARSIZE_ANY_EXHDR(env) < PX_ENVELOPE_OVERHEAD || p[1] == PX_TYPE_TEXT_DET)
		return false;
	memset(key, 0, sizeof(*key));
	key->key_id = ((uint32) p[2] << 24) | ((uint32) p[3] << 16) | ((uint32) p[4] << 8) | p[5];
	memcpy(key->nonce, p + PX_HEADER_LEN, PX_NONCE_LEN);
	return true;
}

static void
remember_fresh(const bytea *env)
{
	FreshKey	key;

	if (!fresh_key_of(env, &key))
		return;
	if (fresh_literals == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(FreshKey);
		ctl.entrysize = sizeof(FreshKey);
		ctl.hcxt = TopMemoryContext;
		fresh_literals = hash_create("privacy_ext fresh literals", 64, &ctl,
									 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	else if (hash_get_num_entries(fresh_literals) >= MAX_FRESH_LITERALS)
	{
		/* Plans analysed and never run: forgetting only costs a re-seal. */
		hash_destroy(fresh_literals);
		fresh_literals = NULL;
		remember_fresh(env);
		return;
	}
	(void) hash_search(fresh_literals, &key, HASH_ENTER, NULL);
}

/* Whether env is fresh; it is not any more once this returns true. */
static bool
take_fresh(const bytea *env)
{
	FreshKey	key;
	bool		found = false;

	if (fresh_literals == NULL || !fresh_key_of(env, &key))
		return false;
	(void) hash_search(fresh_literals, &key, HASH_REMOVE, &found);
	return found;
}

/* Seal a pending Const in place under key_id, and forget its plaintext. */
static void
seal_const(Const *c, px_value_type type, const char *pt, size_t len, uint32 key_id)
{
	bytea	   *pending = (bytea *) DatumGetPointer(c->constvalue);
	bytea	   *sealed = px_seal_for_key(type, key_id, pt, len);

	px_literal_release(pending);
	c->constvalue = PointerGetDatum(sealed);
}

/*
 * f is encrypted_xxx(<pending>, key id, explicit), the length coercion of
 * an encrypted type to a column's key: bind the literal to that key.
 */
static bool
bind_coercion(FuncExpr *f, BindContext *ctx)
{
	Node	   *arg0;
	Node	   *arg1;
	px_value_type type;
	const char *pt;
	size_t		len;
	int32		key_id;
	Const	   *sealed;
	Const	   *regclass;

	if (list_length(f->args) != 3 || !OidIsValid(ctx->bound_literal))
		return false;
	arg0 = linitial(f->args);
	arg1 = lsecond(f->args);
	if (!pending_const(arg0, &type, &pt, &len) ||
		!IsA(arg1, Const) || ((Const *) arg1)->consttype != INT4OID ||
		((Const *) arg1)->constisnull ||
		exprType(arg0) != f->funcresulttype ||
		get_func_namespace(f->funcid) != ctx->schema)
		return false;
	key_id = DatumGetInt32(((Const *) arg1)->constvalue);
	if (key_id <= 0)
		return false;

	sealed = (Const *) arg0;
	seal_const(sealed, type, pt, len, (uint32) key_id);
	remember_fresh((bytea *) DatumGetPointer(sealed->constvalue));
	regclass = makeConst(REGCLASSOID, -1, InvalidOid, sizeof(Oid),
						 ObjectIdGetDatum(ctx->key_versions), false, true);
	linitial(f->args) = makeFuncExpr(ctx->bound_literal, f->funcresulttype,
									 list_make2(sealed, regclass),
									 InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
	return true;
}

static bool
bind_walker(Node *node, BindContext *ctx)
{
	px_value_type type;
	const char *pt;
	size_t		len;

	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;

		if (q->utilityStmt != NULL && IsA(q->utilityStmt, ExplainStmt))
			(void) bind_walker(((ExplainStmt *) q->utilityStmt)->query, ctx);
		return query_tree_walker(q, bind_walker, ctx, 0);
	}
	if (IsA(node, FuncExpr))
		(void) bind_coercion((FuncExpr *) node, ctx);
	else if (pending_const(node, &type, &pt, &len))
	{
		/* Not under a cast to a key: a transit value, as the input made before. */
		seal_const((Const *) node, type, pt, len, PX_TRANSIT_KEY_ID);
		return false;
	}
	return expression_tree_walker(node, bind_walker, ctx);
}

/* encrypted_xxx(<Param of that type>, key id > 0, explicit): its Param, or NULL. */
static Param *
param_cast_to_key(FuncExpr *f, Oid schema)
{
	Node	   *arg0;
	Node	   *arg1;

	if (list_length(f->args) != 3)
		return NULL;
	arg0 = linitial(f->args);
	arg1 = lsecond(f->args);
	if (!IsA(arg0, Param) || ((Param *) arg0)->paramkind != PARAM_EXTERN ||
		((Param *) arg0)->paramtype != f->funcresulttype ||
		!IsA(arg1, Const) || ((Const *) arg1)->consttype != INT4OID ||
		((Const *) arg1)->constisnull || DatumGetInt32(((Const *) arg1)->constvalue) <= 0 ||
		get_func_namespace(f->funcid) != schema)
		return NULL;
	return (Param *) arg0;
}

static bool
param_uses_walker(Node *node, ParamUses *pu)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;

		if (q->utilityStmt != NULL && IsA(q->utilityStmt, ExplainStmt))
			(void) param_uses_walker(((ExplainStmt *) q->utilityStmt)->query, pu);
		return query_tree_walker(q, param_uses_walker, pu, 0);
	}
	if (IsA(node, Param))
	{
		Param	   *p = (Param *) node;

		if (p->paramkind == PARAM_EXTERN && p->paramid >= 1 && p->paramid <= pu->nparams)
			pu->uses[p->paramid - 1]++;
		return false;
	}
	if (IsA(node, FuncExpr))
	{
		Param	   *p = param_cast_to_key((FuncExpr *) node, pu->schema);

		if (p != NULL && p->paramid >= 1 && p->paramid <= pu->nparams)
		{
			pu->column_uses[p->paramid - 1]++;
			pu->casts = lappend(pu->casts, node);
		}
	}
	return expression_tree_walker(node, param_uses_walker, pu);
}

/*
 * The cast from privacy.encrypted_input to the type coerce_fn returns: the
 * length-coercion function of each encrypted type is named after the type,
 * and so is the cast from privacy.encrypted_input to it.
 */
static Oid
input_cast_function(Oid coerce_fn, Oid input_type)
{
	Oid			argtypes[3] = {input_type, INT4OID, BOOLOID};
	char	   *name = get_func_name(coerce_fn);

	if (name == NULL)
		return InvalidOid;
	return LookupFuncName(list_make2(makeString("privacy"), makeString(name)),
						  3, argtypes, true);
}

/*
 * Parameters whose type the parser inferred and that only feed encrypted
 * columns become privacy.encrypted_input (see the file header).
 */
static void
retype_inferred_params(ParseState *pstate, Query *query)
{
	InferredParamState *state;
	ParamUses	pu;
	Oid			input_type;
	ListCell   *lc;

	if (inferred_paramref_hook == NULL || pstate->p_paramref_hook != inferred_paramref_hook)
		return;
	state = (InferredParamState *) pstate->p_ref_hook_state;
	if (state == NULL || *state->numParams <= 0)
		return;
	pu.schema = px_schema_oid();
	if (!OidIsValid(pu.schema))
		return;
	input_type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
								 CStringGetDatum("encrypted_input"), ObjectIdGetDatum(pu.schema));
	if (!OidIsValid(input_type))
		return;
	pu.nparams = *state->numParams;
	pu.uses = palloc0(sizeof(int) * pu.nparams);
	pu.column_uses = palloc0(sizeof(int) * pu.nparams);
	pu.casts = NIL;
	(void) param_uses_walker((Node *) query, &pu);
	if (pu.casts == NIL)
		return;

	foreach(lc, pu.casts)
	{
		FuncExpr   *f = (FuncExpr *) lfirst(lc);
		Param	   *p = (Param *) linitial(f->args);
		int			n = p->paramid - 1;
		Oid			cast;

		if (pu.uses[n] != pu.column_uses[n])
			continue;
		cast = input_cast_function(f->funcid, input_type);
		if (!OidIsValid(cast))
			continue;
		f->funcid = cast;
		p->paramtype = input_type;
		p->paramtypmod = -1;
		p->paramcollid = InvalidOid;
		(*state->paramTypes)[n] = input_type;
	}
}

static void
literal_post_parse_analyze(ParseState *pstate, Query *query, JumbleState *jstate)
{
	if (prev_post_parse_analyze)
		prev_post_parse_analyze(pstate, query, jstate);
	retype_inferred_params(pstate, query);
	if (px_literal_pending_count() > 0)
	{
		BindContext ctx;

		ctx.schema = px_schema_oid();
		ctx.bound_literal = lookup_bound_literal();
		ctx.key_versions = px_privacy_relid("data_key_versions");
		if (!OidIsValid(ctx.key_versions))
			ctx.bound_literal = InvalidOid;
		(void) bind_walker((Node *) query, &ctx);

		/*
		 * What this analysis made and its final tree does not hold was in a
		 * tree a hook replaced (transparent masking analyses a masked role's
		 * statement again, and that analysis binds its own literals): it
		 * can never be reached, so forget it now.  Pending values of an
		 * analysis whose hook never runs make the commit fail.
		 */
		px_literal_release_analysis(pstate);
	}
}

static void
literal_process_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
						ProcessUtilityContext context, ParamListInfo params,
						QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;
	bool		unhooked = IsA(stmt, RuleStmt) || IsA(stmt, CreateFunctionStmt);

	if (unhooked)
		px_literal_enter_unhooked_utility();
	PG_TRY();
	{
		if (prev_process_utility)
			prev_process_utility(pstmt, queryString, readOnlyTree, context, params,
								 queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
									queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		if (unhooked)
			px_literal_leave_unhooked_utility();
	}
	PG_END_TRY();
}

/*
 * The planner analyses the body of a LANGUAGE sql function when it tries
 * to inline it (clauses.c, inline_function and
 * inline_set_returning_function), with transformTopLevelStmt and without
 * post_parse_analyze_hook.  An INSERT or UPDATE literal in the body becomes
 * pending there and is never bound: the body is not inlined (only a plain
 * SELECT is), but its pending value made the commit fail.  The function's
 * own execution analyses the body again (functions.c, through the hook)
 * and binds its literals there.  So whatever the planning made and left
 * pending is in no tree that will run: forget it.  Values a nested analysis
 * that did reach the hook made during the planning are bound or released
 * by that hook already, and those made before the planning started (an
 * enclosing analysis still under way) are older than the mark.
 */
static PlannedStmt *
literal_planner(Query *parse, const char *query_string, int cursorOptions,
				ParamListInfo boundParams)
{
	uint64		mark = px_literal_mark();
	PlannedStmt *result;

	if (prev_planner)
		result = prev_planner(parse, query_string, cursorOptions, boundParams);
	else
		result = standard_planner(parse, query_string, cursorOptions, boundParams);
	if (px_literal_pending_count() > 0)
		px_literal_release_since(mark);
	return result;
}

void
px_install_literal_binding(void)
{
	px_pending_literal_init();

	/* Learn parse_param.c's hook for inferred parameter types. */
	{
		ParseState *pstate = make_parsestate(NULL);
		Oid		   *types = NULL;
		int			ntypes = 0;

		setup_parse_variable_parameters(pstate, &types, &ntypes);
		inferred_paramref_hook = pstate->p_paramref_hook;
		free_parsestate(pstate);
	}
	prev_post_parse_analyze = post_parse_analyze_hook;
	post_parse_analyze_hook = literal_post_parse_analyze;
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = literal_process_utility;
	prev_planner = planner_hook;
	planner_hook = literal_planner;
}

/* A call site of bound_literal(): its argument checked, and the re-seal's cache. */
typedef struct BoundLiteralCache
{
	void	   *reseal_cache;
} BoundLiteralCache;

/*
 * privacy.bound_literal(value, key_table): stands in a plan for a literal
 * sealed at parse analysis.  The first use of a fresh envelope returns it;
 * every other use returns the same plaintext under a fresh nonce (see the
 * file header, also for why it names the key table).
 */
PG_FUNCTION_INFO_V1(px_bound_literal);
Datum
px_bound_literal(PG_FUNCTION_ARGS)
{
	BoundLiteralCache *cache = (BoundLiteralCache *) fcinfo->flinfo->fn_extra;
	bytea	   *env;
	FreshKey	key;

	/*
	 * The planner only ever puts an encrypted value here, but the function
	 * is callable from SQL (its plans run as any role) and takes anyelement:
	 * anything else, a pass-by-value datum above all, is refused before its
	 * datum is read as an envelope.  Checked once per call site.
	 */
	if (cache == NULL)
	{
		px_value_type type;

		Node	   *expr = fcinfo->flinfo->fn_expr;

		if (!px_encrypted_type(getBaseType(get_fn_expr_argtype(fcinfo->flinfo, 0)), &type))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("privacy.bound_literal() takes an encrypted value"),
					 errhint("It stands in plans for a literal that privacy_ext sealed while analysing a statement; it is not meant to be called.")));
		/*
		 * Only the literal the planner put there: called on a column it
		 * would re-encrypt stored values under the key's current version
		 * for a role without the key (reencrypt's work, unaudited).
		 */
		if (expr == NULL || !IsA(expr, FuncExpr) || ((FuncExpr *) expr)->args == NIL ||
			!IsA(linitial(((FuncExpr *) expr)->args), Const))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("privacy.bound_literal() takes only a literal"),
					 errhint("It stands in plans for a literal that privacy_ext sealed while analysing a statement; it is not meant to be called.")));
		cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(BoundLiteralCache));
		fcinfo->flinfo->fn_extra = cache;
	}
	env = PG_GETARG_BYTEA_PP(0);
	if (!fresh_key_of(env, &key) || take_fresh(env))
		PG_RETURN_BYTEA_P(env);
	PG_RETURN_BYTEA_P(px_reseal_under_own_key(env, &cache->reseal_cache,
											  fcinfo->flinfo->fn_mcxt));
}
