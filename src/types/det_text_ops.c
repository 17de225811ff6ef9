/*
 * types/det_text_ops.c
 *		"det_column = text": equality between privacy.encrypted_text_det and
 *		plaintext typed text (or varchar, which PostgreSQL relabels as text).
 *
 * Drivers bind string parameters with a type: pgJDBC's setString() sends
 * varchar, psycopg 3's binary parameters text.  The (det, det) operator
 * takes only untyped literals, so such lookups failed with "operator does
 * not exist".  These operators accept the typed plaintext and compare it
 * under the other operand's key:
 *
 *	- at plan time, a column whose type names its key (every stored column
 *	  does) turns "col = $1" into "col = privacy.encrypted_text_det($1, key)",
 *	  the ordinary (det, det) clause, so btree and hash indexes on the
 *	  column match it and the value is sealed once per scan;
 *	- otherwise (an expression with no key in its type) each call seals the
 *	  plaintext under the envelope's own key, remembering the last value.
 *
 * STABLE, not IMMUTABLE: sealing reads the key, which may be destroyed.
 */
#include "errors.h"
#include "keys/key_store.h"
#include "types/det_ops.h"
#include "statement.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/supportnodes.h"
#include "optimizer/optimizer.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

/* Per call site: the sealing cast, and the last plaintext sealed with it. */
typedef struct TextBindMemo
{
	FmgrInfo	cast;
	uint64		epoch;			/* statement the memo is valid in */
	uint32		key_id;
	text	   *plain;
	bytea	   *sealed;
} TextBindMemo;

static Oid
det_cast_function(void)
{
	Oid			argtypes[3] = {TEXTOID, INT4OID, BOOLOID};

	return LookupFuncName(list_make2(makeString("privacy"), makeString("encrypted_text_det")),
						  3, argtypes, false);
}

static uint32
envelope_key(bytea *det)
{
	uint32		key_id = px_det_key_id(det);

	if (key_id == PX_TRANSIT_KEY_ID)
		ereport(ERROR,
				(errcode(ERRCODE_PX_UNBOUND_VALUE),
				 errmsg("cannot compare plaintext with a privacy.encrypted_text_det value that is not bound to a key"),
				 errhint("Cast one of them to the column's type, e.g. privacy.encrypted_text_det('keyname')."),
				 px_errhide()));
	return key_id;
}

/* plain sealed deterministically under det's key, remembered per call site. */
static bytea *
seal_like(FunctionCallInfo fcinfo, bytea *det, text *plain)
{
	TextBindMemo *memo = (TextBindMemo *) fcinfo->flinfo->fn_extra;
	uint32		key_id = envelope_key(det);
	size_t		len = VARSIZE_ANY_EXHDR(plain);
	MemoryContext old;
	Datum		sealed;

	if (memo == NULL)
	{
		memo = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(TextBindMemo));
		fmgr_info_cxt(det_cast_function(), &memo->cast, fcinfo->flinfo->fn_mcxt);
		fcinfo->flinfo->fn_extra = memo;
	}
	/* A memo from an earlier statement may hold a key destroyed since. */
	if (memo->plain != NULL && px_statement_current(memo->epoch) && memo->key_id == key_id &&
		VARSIZE_ANY_EXHDR(memo->plain) == len &&
		memcmp(VARDATA_ANY(memo->plain), VARDATA_ANY(plain), len) == 0)
		return memo->sealed;

	sealed = FunctionCall3Coll(&memo->cast, InvalidOid, PointerGetDatum(plain),
							   Int32GetDatum((int32) key_id), BoolGetDatum(false));
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	if (memo->plain != NULL)
	{
		px_wipe(VARDATA(memo->plain), VARSIZE(memo->plain) - VARHDRSZ);
		pfree(memo->plain);
		pfree(memo->sealed);
	}
	memo->plain = (text *) PG_DETOAST_DATUM_COPY(PointerGetDatum(plain));
	memo->sealed = (bytea *) PG_DETOAST_DATUM_COPY(sealed);
	memo->key_id = key_id;
	memo->epoch = px_statement_epoch;
	MemoryContextSwitchTo(old);
	return memo->sealed;
}

static bool
det_equals_text(FunctionCallInfo fcinfo, bytea *det, text *plain)
{
	bytea	   *sealed = seal_like(fcinfo, det, plain);
	size_t		len = VARSIZE_ANY_EXHDR(det);

	return VARSIZE_ANY_EXHDR(sealed) == len &&
		memcmp(VARDATA_ANY(sealed), VARDATA_ANY(det), len) == 0;
}

PG_FUNCTION_INFO_V1(px_det_eq_text);
Datum
px_det_eq_text(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(det_equals_text(fcinfo, PG_GETARG_BYTEA_PP(0), PG_GETARG_TEXT_PP(1)));
}

PG_FUNCTION_INFO_V1(px_det_ne_text);
Datum
px_det_ne_text(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(!det_equals_text(fcinfo, PG_GETARG_BYTEA_PP(0), PG_GETARG_TEXT_PP(1)));
}

PG_FUNCTION_INFO_V1(px_text_eq_det);
Datum
px_text_eq_det(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(det_equals_text(fcinfo, PG_GETARG_BYTEA_PP(1), PG_GETARG_TEXT_PP(0)));
}

PG_FUNCTION_INFO_V1(px_text_ne_det);
Datum
px_text_ne_det(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(!det_equals_text(fcinfo, PG_GETARG_BYTEA_PP(1), PG_GETARG_TEXT_PP(0)));
}

/*
 * Planner support of the equality functions: with the det operand's key
 * known from its type, the clause becomes the (det, det) equality of the
 * column and the plaintext cast to the column's type.
 */
PG_FUNCTION_INFO_V1(px_det_text_eq_support);
Datum
px_det_text_eq_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);
	SupportRequestSimplify *req;
	FuncExpr   *f;
	Node	   *det;
	Node	   *plain;
	int32		key_id;
	Oid			dettype;
	Oid			opno;
	Node	   *bound;
	OpExpr	   *op;

	if (!IsA(rawreq, SupportRequestSimplify))
		PG_RETURN_POINTER(NULL);
	req = (SupportRequestSimplify *) rawreq;
	f = req->fcall;
	if (list_length(f->args) != 2)
		PG_RETURN_POINTER(NULL);
	det = linitial(f->args);
	plain = lsecond(f->args);
	if (exprType(det) == TEXTOID)
	{
		Node	   *swap = det;

		det = plain;
		plain = swap;
	}
	dettype = exprType(det);
	key_id = exprTypmod(det);
	if (key_id <= 0 || exprType(plain) != TEXTOID)
		PG_RETURN_POINTER(NULL);
	opno = OpernameGetOprid(list_make2(makeString("pg_catalog"), makeString("=")), dettype, dettype);
	if (!OidIsValid(opno))
		PG_RETURN_POINTER(NULL);
	if (IsA(plain, Const) && !((Const *) plain)->constisnull)
	{
		/*
		 * A constant is sealed once, into the plan, as the (det, det)
		 * operator's support does: EXPLAIN and auto_explain then show
		 * the envelope, not the plaintext.
		 */
		Datum		sealed = OidFunctionCall3(det_cast_function(), ((Const *) plain)->constvalue,
											  Int32GetDatum(key_id), BoolGetDatum(false));

		bound = px_det_plan_constant(req->root, sealed, dettype, key_id);
	}
	else
		bound = (Node *) makeFuncExpr(det_cast_function(), dettype,
									  list_make3(plain,
												 makeConst(INT4OID, -1, InvalidOid, sizeof(int32),
														   Int32GetDatum(key_id), false, true),
												 makeBoolConst(false, false)),
									  InvalidOid, InvalidOid, COERCE_EXPLICIT_CAST);
	op = (OpExpr *) make_opclause(opno, BOOLOID, false, (Expr *) det, (Expr *) bound,
								  InvalidOid, InvalidOid);
	op->opfuncid = get_opcode(opno);
	op->location = f->location;
	PG_RETURN_POINTER(op);
}
