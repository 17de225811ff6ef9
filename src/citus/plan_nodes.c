/*
 * citus/plan_nodes.c
 *		Recognising an encrypted type's key cast and a custom plan's
 *		parameter values, for the hooks that rewrite a query before Citus
 *		plans it (dist_routing.c, dist_insert_select.c,
 *		dist_update_consts.c).
 */
#include "citus/plan_nodes.h"

#include "nodes/makefuncs.h"
#include "utils/lsyscache.h"

FuncExpr *
px_key_cast_call(Node *expr, Oid schema, px_value_type *vtype)
{
	FuncExpr   *f;

	if (expr == NULL || !IsA(expr, FuncExpr))
		return NULL;
	f = (FuncExpr *) expr;
	if (list_length(f->args) != 3 || !px_encrypted_type(f->funcresulttype, vtype) ||
		get_func_namespace(f->funcid) != schema)
		return NULL;
	return f;
}

Const *
px_plan_param_const(Param *p, ParamListInfo params)
{
	ParamExternData *prm;
	ParamExternData prmdata;

	if (params == NULL || p->paramkind != PARAM_EXTERN ||
		p->paramid <= 0 || p->paramid > params->numParams)
		return NULL;
	if (params->paramFetch != NULL)
		prm = params->paramFetch(params, p->paramid, false, &prmdata);
	else
		prm = &params->params[p->paramid - 1];
	if (prm == NULL || !OidIsValid(prm->ptype) || prm->ptype != p->paramtype ||
		!(prm->pflags & PARAM_FLAG_CONST))
		return NULL;
	return makeConst(p->paramtype, p->paramtypmod, p->paramcollid,
					 -1, prm->value, prm->isnull, false);
}
