/*
 * citus/plan_nodes.h
 *		The pieces of a query tree the Citus planner hooks look for
 *		(plan_nodes.c): an encrypted type's key cast, and the value of a
 *		custom plan's parameter.
 */
#ifndef PX_CITUS_PLAN_NODES_H
#define PX_CITUS_PLAN_NODES_H

#include "postgres.h"
#include "catalog.h"
#include "nodes/params.h"
#include "nodes/primnodes.h"

/*
 * expr is the key cast PostgreSQL puts around a value stored in (or cast
 * to) an encrypted column, privacy.encrypted_*(value, typmod, explicit), a
 * function of the extension's schema: that call (its type in *vtype), or
 * NULL.
 */
extern FuncExpr *px_key_cast_call(Node *expr, Oid schema, px_value_type *vtype);

/*
 * The value of an external parameter that a custom plan may treat as a
 * constant (PARAM_FLAG_CONST, of the parameter's own type), as a Const;
 * NULL for any other parameter.
 */
extern Const *px_plan_param_const(Param *p, ParamListInfo params);

#endif							/* PX_CITUS_PLAN_NODES_H */
