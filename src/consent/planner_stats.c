/*
 * consent/planner_stats.c
 *		The planner's statistics of a table are not used for a query whose
 *		row security filters the table by consent.
 *
 * A column's statistics (its most common values with their frequencies,
 * its histogram bounds, its number of distinct values) describe every row
 * of the table, the rows of subjects who have not consented among them.
 * PostgreSQL lets a query under row-level security use them through
 * leakproof operators (text's = among them), so EXPLAIN's estimate for
 * "diagnosis = 'X'" told a role how common X is among rows it may not
 * see.  So when the row security quals of a relation in the query call
 * privacy.has_consent(), the planner gets no statistics for its columns
 * nor for its expression indexes, and estimates as for a table never
 * analysed.  A query the policy does not filter (the owner's, a BYPASSRLS
 * role's, one with row_security off) keeps them.  Extended statistics
 * (CREATE STATISTICS) have no hook: README says so.
 */
#include "errors.h"
#include "consent/planner_stats.h"
#include "catalog.h"

#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"
#include "utils/selfuncs.h"

static get_relation_stats_hook_type prev_relation_stats = NULL;
static get_index_stats_hook_type prev_index_stats = NULL;

static bool
calls_has_consent(Node *node, Oid *schema)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, calls_has_consent, schema, 0);
	if (IsA(node, FuncExpr))
	{
		Oid			fn = ((FuncExpr *) node)->funcid;

		if (get_func_namespace(fn) == *schema)
		{
			char	   *name = get_func_name(fn);

			if (name != NULL && strcmp(name, "has_consent") == 0)
				return true;
		}
	}
	return expression_tree_walker(node, calls_has_consent, schema);
}

/* Whether the relation's row security quals in this query ask for consent. */
static bool
filtered_by_consent(RangeTblEntry *rte)
{
	Oid			schema;

	if (rte == NULL || rte->securityQuals == NIL)
		return false;
	schema = px_schema_oid();
	return OidIsValid(schema) && calls_has_consent((Node *) rte->securityQuals, &schema);
}

static bool
no_statistics(VariableStatData *vardata)
{
	vardata->statsTuple = NULL;
	vardata->freefunc = NULL;
	return true;
}

static bool
px_relation_stats(PlannerInfo *root, RangeTblEntry *rte, AttrNumber attnum,
				  VariableStatData *vardata)
{
	if (filtered_by_consent(rte))
		return no_statistics(vardata);
	return prev_relation_stats ? prev_relation_stats(root, rte, attnum, vardata) : false;
}

static bool
px_index_stats(PlannerInfo *root, Oid indexOid, AttrNumber indexattnum,
			   VariableStatData *vardata)
{
	/* the index's table: the relation the variable belongs to */
	if (vardata->rel != NULL && vardata->rel->relid > 0 &&
		vardata->rel->relid < (Index) root->simple_rel_array_size &&
		filtered_by_consent(planner_rt_fetch(vardata->rel->relid, root)))
		return no_statistics(vardata);
	return prev_index_stats ? prev_index_stats(root, indexOid, indexattnum, vardata) : false;
}

void
px_install_consent_planner_stats(void)
{
	prev_relation_stats = get_relation_stats_hook;
	get_relation_stats_hook = px_relation_stats;
	prev_index_stats = get_index_stats_hook;
	get_index_stats_hook = px_index_stats;
}
