/*
 * citus/dist_update_consts.c
 *		UPDATE of a Citus table setting an encrypted column to an envelope
 *		already under the column's key, in a form Citus accepts.
 *
 * PostgreSQL wraps the new value of an encrypted column in the column's
 * key cast, privacy.encrypted_text(value, <key>, false), which is VOLATILE
 * (given a transit value it seals it, with a fresh nonce).  Citus refuses
 * any VOLATILE function in an UPDATE of a distributed or reference table.
 * Given an envelope already under the column's key the cast returns its
 * input unchanged (types/encrypted.c, coerce_to_key): here, before Citus
 * plans it, such a cast over a constant (or a custom plan's parameter) is
 * replaced by the constant itself, typed with the column's key.  Nothing
 * else changes: a transit value or a plaintext keeps its cast (and Citus
 * refuses it as before), so no value is ever sealed once for many rows.
 *
 * citus/dist_rewrite.c relies on this: it computes new envelopes on the
 * coordinator and writes them as constants, so that every placement of a
 * reference table gets the same bytes.
 */
#include "citus/dist_update_consts.h"
#include "citus/plan_nodes.h"
#include "catalog.h"

#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "utils/lsyscache.h"

/* The constant value of a Const or of a custom plan's parameter, or NULL. */
static Const *
known_value(Node *node, ParamListInfo params)
{
	if (IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	if (IsA(node, Const))
		return (Const *) node;
	if (IsA(node, Param))
		return px_plan_param_const((Param *) node, params);
	return NULL;
}

/* The constant a key cast over an envelope under that key stands for, or NULL. */
static Node *
folded_key_cast(Node *expr, Oid schema, ParamListInfo params)
{
	FuncExpr   *f;
	Const	   *value;
	Const	   *typmod;
	px_value_type vtype;
	bytea	   *env;
	px_header	hdr;
	int32		key_id;

	if ((f = px_key_cast_call(expr, schema, &vtype)) == NULL)
		return NULL;
	value = known_value(linitial(f->args), params);
	if (value == NULL || value->consttype != f->funcresulttype || !IsA(lsecond(f->args), Const))
		return NULL;
	typmod = (Const *) lsecond(f->args);
	if (typmod->constisnull || typmod->consttype != INT4OID)
		return NULL;
	key_id = DatumGetInt32(typmod->constvalue);
	if (key_id < 0)
		return NULL;
	if (value->constisnull)
		return (Node *) makeConst(f->funcresulttype, key_id, InvalidOid, -1, (Datum) 0, true, false);
	env = DatumGetByteaPP(value->constvalue);
	if (px_header_read((uint8_t *) VARDATA_ANY(env), VARSIZE_ANY_EXHDR(env), &hdr) != PX_OK ||
		hdr.key_id != (uint32) key_id)
		return NULL;			/* the cast has work to do: left to it */
	return (Node *) makeConst(f->funcresulttype, key_id, InvalidOid, -1,
							  PointerGetDatum(env), false, false);
}

void
px_dist_fold_update_casts(Query *query, ParamListInfo params)
{
	Oid			schema;
	ListCell   *lc;

	if (query->commandType != CMD_UPDATE)
		return;
	schema = px_schema_oid();
	if (!OidIsValid(schema))
		return;
	foreach(lc, query->targetList)
	{
		TargetEntry *tle = (TargetEntry *) lfirst(lc);
		Node	   *folded;

		if (tle->resjunk)
			continue;
		folded = folded_key_cast((Node *) tle->expr, schema, params);
		if (folded != NULL)
			tle->expr = (Expr *) folded;
	}
}
