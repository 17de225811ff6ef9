/*
 * citus/dist_insert_select.c
 *		INSERT ... SELECT of plaintext into an encrypted column, in a form
 *		Citus can plan.
 *
 * PostgreSQL puts the cast of a SELECT's text output to the column's
 * encrypted type in the INSERT's target list:
 *		INSERT INTO t SELECT encrypted_text(sub.x, <key>, false) FROM (SELECT x ...) sub
 * Citus plans an INSERT ... SELECT by taking the SELECT apart and, for an
 * output whose type differs from the column's, builds its own cast, a call
 * with one argument, which our three-argument casts (value, key, explicit)
 * refuse: "not enough default arguments".  Here, before Citus plans it, the
 * cast moves into the SELECT: its output is then already of the column's
 * type and key, and Citus adds nothing.  The value is sealed where the
 * SELECT runs, once per row (a fresh nonce each time), as before.
 *
 * Only a plain SELECT's output, not one that ORDER BY, GROUP BY or
 * DISTINCT refers to (its type would change under them) and not a set
 * operation's; those keep the plan PostgreSQL made.
 */
#include "citus/dist_insert_select.h"
#include "citus/plan_nodes.h"
#include "catalog.h"

#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"

/* The subquery's Var under an encrypted type's cast, or NULL. */
static Var *
cast_of_subquery_column(Node *expr, Index subrti, Oid schema, Node ***argp)
{
	FuncExpr   *f;
	Node	   *arg;
	px_value_type vtype;

	if ((f = px_key_cast_call(expr, schema, &vtype)) == NULL)
		return NULL;
	*argp = (Node **) &linitial(f->args);
	arg = linitial(f->args);
	if (IsA(arg, RelabelType))
	{
		*argp = (Node **) &((RelabelType *) arg)->arg;
		arg = (Node *) ((RelabelType *) arg)->arg;
	}
	if (!IsA(arg, Var) || (Index) ((Var *) arg)->varno != subrti || ((Var *) arg)->varlevelsup != 0)
		return NULL;
	return (Var *) arg;
}

void
px_dist_move_insert_casts(Query *query)
{
	RangeTblRef *ref;
	RangeTblEntry *subrte;
	Query	   *sub;
	Oid			schema;
	ListCell   *lc;

	if (query->commandType != CMD_INSERT || query->jointree == NULL ||
		list_length(query->jointree->fromlist) != 1)
		return;
	ref = (RangeTblRef *) linitial(query->jointree->fromlist);
	if (!IsA(ref, RangeTblRef))
		return;
	subrte = rt_fetch(ref->rtindex, query->rtable);
	if (subrte->rtekind != RTE_SUBQUERY || subrte->subquery == NULL)
		return;
	sub = subrte->subquery;
	if (sub->setOperations != NULL || sub->commandType != CMD_SELECT)
		return;
	schema = px_schema_oid();
	if (!OidIsValid(schema))
		return;

	foreach(lc, query->targetList)
	{
		TargetEntry *tle = (TargetEntry *) lfirst(lc);
		Node	  **argp = NULL;
		Var		   *var = cast_of_subquery_column((Node *) tle->expr, ref->rtindex, schema, &argp);
		TargetEntry *subtle;
		FuncExpr   *cast;
		Var		   *newvar;

		if (var == NULL || var->varattno <= 0 || var->varattno > list_length(sub->targetList))
			continue;
		subtle = list_nth_node(TargetEntry, sub->targetList, var->varattno - 1);
		if (subtle->resjunk || subtle->ressortgroupref != 0)
			continue;
		/* The cast now reads the SELECT's expression itself. */
		cast = (FuncExpr *) tle->expr;
		*argp = (Node *) subtle->expr;
		subtle->expr = (Expr *) cast;
		newvar = makeVar(var->varno, var->varattno, cast->funcresulttype,
						 exprTypmod((Node *) cast), InvalidOid, 0);
		tle->expr = (Expr *) newvar;
	}
}
