/*
 * types/det_ops.c
 *		Equality, ordering and hashing for privacy.encrypted_text_det, and
 *		the planner support that binds a literal to the column's key.
 *
 * Deterministic envelopes under the same key are equal exactly when their
 * plaintexts are (AES-SIV, always under the key's version 1), so equality,
 * the btree order and the hash all work on the envelope bytes; nothing is
 * decrypted.  Values under different keys are never equal.  A transit
 * value (an untyped literal or parameter) is first bound to the other
 * operand's key; the planner does that once per query where it can
 * (det_eq_support), and the functions below remember their last few
 * bindings for the rest.
 */
#include "errors.h"
#include "keys/key_store.h"
#include "types/encrypted.h"
#include "types/det_ops.h"
#include "statement.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "nodes/supportnodes.h"
#include "optimizer/optimizer.h"
#include "parser/parse_func.h"
#include "parser/parse_oper.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#define BIND_SLOTS 8

/*
 * A call site's last bindings, for one statement epoch (statement.h): an
 * FmgrInfo kept across statements (PL/pgSQL, a cursor) binds again in the
 * next one, so a key destroyed meanwhile is refused, not remembered.
 */
typedef struct BindMemo
{
	uint64		epoch;
	int			n;
	int			next;
	uint32		key[BIND_SLOTS];
	bytea	   *in[BIND_SLOTS];
	bytea	   *out[BIND_SLOTS];
} BindMemo;

/* The key id a deterministic envelope names (PX_TRANSIT_KEY_ID: unbound). */
uint32
px_det_key_id(bytea *v)
{
	px_header	hdr;

	px_report_status(px_header_read((uint8_t *) VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v), &hdr), true);
	if (hdr.type != PX_TYPE_TEXT_DET)
		ereport(ERROR,
				(errcode(ERRCODE_PX_WRONG_TYPE),
				 errmsg("envelope is not a privacy.encrypted_text_det value"),
				 px_errhide()));
	return hdr.key_id;
}

/* transit bound to key_id, remembered per call site. */
static bytea *
bind(FunctionCallInfo fcinfo, bytea *transit, uint32 key_id)
{
	BindMemo   *memo = (BindMemo *) fcinfo->flinfo->fn_extra;
	size_t		len = VARSIZE_ANY_EXHDR(transit);
	MemoryContext old;
	bytea	   *bound;
	int			i;

	if (memo == NULL)
		memo = fcinfo->flinfo->fn_extra =
			MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(BindMemo));
	if (!px_statement_current(memo->epoch))
	{
		for (i = 0; i < memo->n; i++)
		{
			pfree(memo->in[i]);
			pfree(memo->out[i]);
		}
		memo->n = 0;
		memo->next = 0;
		memo->epoch = px_statement_epoch;
	}
	for (i = 0; i < memo->n; i++)
		if (memo->key[i] == key_id && VARSIZE_ANY_EXHDR(memo->in[i]) == len &&
			memcmp(VARDATA_ANY(memo->in[i]), VARDATA_ANY(transit), len) == 0)
			return memo->out[i];

	bound = px_det_bind_transit(transit, key_id);
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	i = memo->next;
	if (memo->n == BIND_SLOTS)
	{
		pfree(memo->in[i]);
		pfree(memo->out[i]);
	}
	else
		memo->n++;
	memo->key[i] = key_id;
	memo->in[i] = (bytea *) PG_DETOAST_DATUM_COPY(PointerGetDatum(transit));
	memo->out[i] = (bytea *) PG_DETOAST_DATUM_COPY(PointerGetDatum(bound));
	memo->next = (i + 1) % BIND_SLOTS;
	MemoryContextSwitchTo(old);
	return memo->out[i];
}

/*
 * Byte order of the two envelopes, after binding a transit operand to the
 * other's key.  Two transit values have no key to be compared under: their
 * transit bytes order differently from any column's, which a sorted index
 * search (x IN (...)) would silently get wrong, so that is an error.
 */
static int
det_compare(FunctionCallInfo fcinfo, bool for_order)
{
	bytea	   *a = PG_GETARG_BYTEA_PP(0);
	bytea	   *b = PG_GETARG_BYTEA_PP(1);
	uint32		ka = px_det_key_id(a);
	uint32		kb = px_det_key_id(b);
	size_t		la;
	size_t		lb;
	int			cmp;

	if (ka == PX_TRANSIT_KEY_ID && kb != PX_TRANSIT_KEY_ID)
		a = bind(fcinfo, a, kb);
	else if (kb == PX_TRANSIT_KEY_ID && ka != PX_TRANSIT_KEY_ID)
		b = bind(fcinfo, b, ka);
	else if (for_order && ka == PX_TRANSIT_KEY_ID)
		ereport(ERROR,
				(errcode(ERRCODE_PX_UNBOUND_VALUE),
				 errmsg("cannot order privacy.encrypted_text_det values that are not bound to a key"),
				 errhint("Cast them to the column's type, e.g. 'x'::privacy.encrypted_text_det('keyname').")));
	la = VARSIZE_ANY_EXHDR(a);
	lb = VARSIZE_ANY_EXHDR(b);
	cmp = memcmp(VARDATA_ANY(a), VARDATA_ANY(b), Min(la, lb));
	if (cmp == 0 && la != lb)
		cmp = la < lb ? -1 : 1;
	return cmp;
}

PG_FUNCTION_INFO_V1(px_det_eq);
Datum
px_det_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(det_compare(fcinfo, false) == 0);
}

PG_FUNCTION_INFO_V1(px_det_ne);
Datum
px_det_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(det_compare(fcinfo, false) != 0);
}

PG_FUNCTION_INFO_V1(px_det_cmp);
Datum
px_det_cmp(PG_FUNCTION_ARGS)
{
	int			cmp = det_compare(fcinfo, true);

	PG_RETURN_INT32(cmp < 0 ? -1 : (cmp > 0 ? 1 : 0));
}

static bytea *
hashable(FunctionCallInfo fcinfo)
{
	bytea	   *v = PG_GETARG_BYTEA_PP(0);

	if (px_det_key_id(v) == PX_TRANSIT_KEY_ID)
		ereport(ERROR,
				(errcode(ERRCODE_PX_UNBOUND_VALUE),
				 errmsg("cannot hash a privacy.encrypted_text_det value that is not bound to a key"),
				 errhint("Cast it to the column's type, e.g. 'x'::privacy.encrypted_text_det('keyname').")));
	return v;
}

PG_FUNCTION_INFO_V1(px_det_hash);
Datum
px_det_hash(PG_FUNCTION_ARGS)
{
	bytea	   *v = hashable(fcinfo);

	return hash_any((unsigned char *) VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
}

PG_FUNCTION_INFO_V1(px_det_hash_extended);
Datum
px_det_hash_extended(PG_FUNCTION_ARGS)
{
	bytea	   *v = hashable(fcinfo);

	return hash_any_extended((unsigned char *) VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v),
							 PG_GETARG_INT64(1));
}

/*
 * A deterministic value bound to key_id at plan time (sealed), as the plan
 * keeps it.  A cached plan holding it depends on the key: any change to the
 * key tables (a destruction) invalidates it, and the next execution in a new
 * transaction binds again, or fails.  A transaction that holds its locks
 * takes in no invalidation before reusing a plan, so the constant is also
 * wrapped in a check that the key still exists, run once per scan (version
 * 1.1 on).  Used by both the (det, det) and the (det, text) operators.
 */
Node *
px_det_plan_constant(PlannerInfo *root, Datum sealed, Oid dettype, int32 key_id)
{
	Oid			argtypes[2] = {dettype, INT4OID};
	Oid			keys_table = px_key_table_oid(PX_TABLE_KEYS);
	Node	   *bound;
	Oid			checkfn;

	if (root != NULL && root->glob != NULL && OidIsValid(keys_table))
		root->glob->relationOids = lappend_oid(root->glob->relationOids, keys_table);
	bound = (Node *) makeConst(dettype, key_id, InvalidOid, -1, sealed, false, false);
	checkfn = LookupFuncName(list_make2(makeString("privacy"), makeString("encrypted_text_det_bound")),
							 2, argtypes, true);
	if (!OidIsValid(checkfn))
		return bound;
	/* A plain call, which EXPLAIN shows as such: it is evaluated. */
	return (Node *) makeFuncExpr(checkfn, dettype,
								 list_make2(bound,
											makeConst(INT4OID, -1, InvalidOid, sizeof(int32),
													  Int32GetDatum(key_id), false, true)),
								 InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
}

/*
 * "column = literal": the literal was read before its column was known, so
 * it is a transit value.  Bind it to the column's key here, at plan time:
 * a constant is encrypted once, into the plan (which EXPLAIN shows, and
 * which an index can use), inside a check that the key still exists;
 * anything else (a parameter) is wrapped in the column type's cast; either
 * is evaluated once per scan as an index key.  Version 1
 * of a key never changes while the key exists, so the bound constant stays
 * right for as long as the key does; the plan is made to depend on the key
 * table, so that a destruction invalidates it.
 */
static Node *
bind_to_key(PlannerInfo *root, Node *arg, Oid dettype, int32 key_id)
{
	Oid			argtypes[3] = {dettype, INT4OID, BOOLOID};
	Oid			castfn;

	if (IsA(arg, Const))
	{
		Const	   *c = (Const *) arg;
		bytea	   *v;

		if (c->constisnull)
			return arg;
		v = DatumGetByteaPP(c->constvalue);
		if (px_det_key_id(v) != PX_TRANSIT_KEY_ID)
			return arg;

		return px_det_plan_constant(root, PointerGetDatum(px_det_bind_transit(v, (uint32) key_id)),
									dettype, key_id);
	}
	castfn = LookupFuncName(list_make2(makeString("privacy"), makeString("encrypted_text_det")),
							3, argtypes, false);
	return (Node *) makeFuncExpr(castfn, dettype,
								 list_make3(arg,
											makeConst(INT4OID, -1, InvalidOid, sizeof(int32),
													  Int32GetDatum(key_id), false, true),
											makeBoolConst(false, false)),
								 InvalidOid, InvalidOid, COERCE_EXPLICIT_CAST);
}

PG_FUNCTION_INFO_V1(px_det_eq_support);
Datum
px_det_eq_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);
	SupportRequestSimplify *req;
	FuncExpr   *f;
	Node	   *l;
	Node	   *r;
	int32		lt;
	int32		rt;
	Oid			dettype;
	Oid			opno;
	OpExpr	   *op;

	if (!IsA(rawreq, SupportRequestSimplify))
		PG_RETURN_POINTER(NULL);
	req = (SupportRequestSimplify *) rawreq;
	f = req->fcall;
	if (list_length(f->args) != 2)
		PG_RETURN_POINTER(NULL);
	l = linitial(f->args);
	r = lsecond(f->args);
	lt = exprTypmod(l);
	rt = exprTypmod(r);
	dettype = exprType(l);
	if (lt >= 0 && rt < 0)
		r = bind_to_key(req->root, r, dettype, lt);
	else if (rt >= 0 && lt < 0)
		l = bind_to_key(req->root, l, dettype, rt);
	else
		PG_RETURN_POINTER(NULL);

	/* Keep it an operator clause, so that indexes on the column match it. */
	opno = OpernameGetOprid(list_make2(makeString("pg_catalog"), makeString("=")), dettype, dettype);
	if (!OidIsValid(opno))
		PG_RETURN_POINTER(NULL);
	op = (OpExpr *) make_opclause(opno, BOOLOID, false, (Expr *) l, (Expr *) r,
								  InvalidOid, f->inputcollid);
	op->opfuncid = f->funcid;
	op->location = f->location;
	PG_RETURN_POINTER(op);
}

/*
 * privacy.encrypted_text_det_bound(value, key_id): value, a literal the
 * planner bound to key_id, as long as the key is not destroyed.  Checked
 * once per statement epoch and call site (statement.h): a plan held across
 * a destroy_key fails at its next execution.
 */
typedef struct BoundCheck
{
	uint64		epoch;
	uint32		key_id;
} BoundCheck;

PG_FUNCTION_INFO_V1(px_det_bound);
Datum
px_det_bound(PG_FUNCTION_ARGS)
{
	bytea	   *v = PG_GETARG_BYTEA_PP(0);
	uint32		key_id = (uint32) PG_GETARG_INT32(1);
	BoundCheck *check = (BoundCheck *) fcinfo->flinfo->fn_extra;

	if (check == NULL)
		check = fcinfo->flinfo->fn_extra =
			MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(BoundCheck));
	if (px_det_key_id(v) != key_id)
		ereport(ERROR,
				(errcode(ERRCODE_PX_WRONG_KEY),
				 errmsg("value is not bound to privacy_ext key with id %u", key_id),
				 px_errhide()));
	if (!px_statement_current(check->epoch) || check->key_id != key_id)
	{
		if (px_key_destroyed(key_id))
			px_report_destroyed_key(key_id);
		check->epoch = px_statement_epoch;
		check->key_id = key_id;
	}
	PG_RETURN_BYTEA_P(v);
}
