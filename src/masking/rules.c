/*
 * masking/rules.c
 *		Masking rules: validation when a rule is declared, and the one C call
 *		per masked column that a masking view makes.
 *
 * A rule is text in a small fixed grammar (src/core/rule_parser.c), never
 * SQL: it cannot run code.  privacy.check_mask_rule() parses it and checks
 * it against the column's type, so a bad rule is refused when declared and
 * nothing is stored.  At query time privacy.apply_mask() reads the rules of
 * its column (directly from privacy.mask_rules, once per statement), picks
 * the one for the querying role and applies it.  A column without any rule
 * is redacted (privacy by default, 1.1); when its rules exist but none is
 * for the querying role, it returns NULL: it fails closed, never open.
 */
#include "errors.h"
#include "statement.h"
#include "keys/key_store.h"
#include "types/encrypted.h"
#include "audit/counts.h"
#include "subjects.h"
#include "admin.h"
#include "catalog.h"
#include "masking/functions.h"
#include "masking/fake.h"
#include "masking/jsonb_rule.h"
#include "px_mask.h"

#include <float.h>
#include <math.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

typedef enum TypeClass
{
	TC_TEXT,					/* text, varchar, bpchar, name, and decrypted values */
	TC_INTEGER,
	TC_FLOAT,
	TC_NUMERIC,
	TC_DATE,
	TC_TIMESTAMP,
	TC_OTHER
} TypeClass;

static TypeClass
type_class(Oid type)
{
	switch (getBaseType(type))
	{
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case NAMEOID:
			return TC_TEXT;
		case INT2OID:
		case INT4OID:
		case INT8OID:
			return TC_INTEGER;
		case FLOAT4OID:
		case FLOAT8OID:
			return TC_FLOAT;
		case NUMERICOID:
			return TC_NUMERIC;
		case DATEOID:
			return TC_DATE;
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			return TC_TIMESTAMP;
		default:
			break;
	}
	/* Encrypted text columns are masked after decryption, as text. */
	{
		px_value_type vtype;

		if (px_encrypted_type(getBaseType(type), &vtype) && vtype != PX_TYPE_BYTEA)
			return TC_TEXT;
	}
	return TC_OTHER;
}

/*
 * An integer floored to a multiple of a step below 2 or not an integer is
 * itself or nearly so: 1 is the identity, 1.5 makes every multiple of 3 its
 * own value and the others value - 1, 1.0001 shows almost every value.  Only
 * an integer step of at least 2 makes buckets an integer column can show.
 */
static inline bool
int_step_masks(double step)
{
	return step >= 2.0 && step == floor(step);
}

/*
 * Below float8's precision (2^-52) a ratio cannot move a float8 by even its
 * last bit, nor a numeric (noised as a float8), nor any integer: the rule
 * would show the values in clear while the inventory says masked.
 */
#define MIN_NOISE_RATIO DBL_EPSILON

static void
require_noise_ratio(const char *rule_text, const px_mask_rule *rule)
{
	if (rule->kind == PX_RULE_NOISE && rule->number < MIN_NOISE_RATIO)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("masking rule \"%s\" would show every value unchanged", rule_text),
				 errdetail("A ratio below 2.2e-16 changes no value beyond float8's precision."),
				 errhint("Give a ratio of at least 2.2e-16, or the rule none to show the column in clear.")));
}

static void
parse_or_error(const char *rule_text, px_mask_rule *rule)
{
	const char *error;
	size_t		error_at;

	if (!px_rule_parse(rule_text, strlen(rule_text), rule, &error, &error_at))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid masking rule: %s", error),
				 errdetail("At character %zu of \"%s\".", error_at + 1, rule_text),
				 errhint("Rules are: none, null, redact, email, credit_card, partial(prefix, 'padding', suffix), "
						 "hash('key'), generalize(step or 'month'/'year'/'decade'), noise(ratio), value 'constant', "
						 "fake('kind'), jsonb('path' rule, ...).")));
}

/*
 * A hash('key') rule's key must exist and not be destroyed: a destroyed key
 * could pseudonymize nothing (the view would show NULL), so such a rule is
 * refused when declared, as one naming an unknown key is.
 */
static void
require_hash_key(const char *name)
{
	uint32		key_id = px_key_id_for_name(name, false);

	if (px_key_destroyed(key_id))
		ereport(ERROR,
				(errcode(ERRCODE_PX_KEY_DESTROYED),
				 errmsg("privacy_ext key \"%s\" has been destroyed", px_name_for_message(name)),
				 errdetail("A hash rule under a destroyed key could pseudonymize nothing."),
				 errhint("Name a key that exists in the rule.")));
}

/*
 * privacy.check_mask_rule(rule, column type): the rule's canonical text, or
 * an error saying why it cannot mask a column of that type.
 */
PG_FUNCTION_INFO_V1(px_check_mask_rule);
Datum
px_check_mask_rule(PG_FUNCTION_ARGS)
{
	char	   *rule_text = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Oid			coltype = PG_GETARG_OID(1);
	TypeClass	tc;
	px_mask_rule rule;
	char		canonical[PX_RULE_FORMAT_MAX];
	size_t		canonical_len;
	const char *needs = NULL;

	px_require_type(coltype);
	tc = type_class(coltype);
	parse_or_error(rule_text, &rule);
	switch (rule.kind)
	{
		case PX_RULE_NONE:
		case PX_RULE_NULL:
		case PX_RULE_REDACT:
			break;
		case PX_RULE_EMAIL:
		case PX_RULE_CREDIT_CARD:
		case PX_RULE_PARTIAL:
		case PX_RULE_HASH:
			if (tc != TC_TEXT)
				needs = "a text column";
			break;
		case PX_RULE_GENERALIZE_STEP:
		case PX_RULE_NOISE:
			if (tc != TC_INTEGER && tc != TC_FLOAT && tc != TC_NUMERIC)
				needs = "a numeric column";
			break;
		case PX_RULE_GENERALIZE_UNIT:
			if (tc != TC_DATE && tc != TC_TIMESTAMP)
				needs = "a date or timestamp column";
			break;
		case PX_RULE_VALUE:
			if (tc == TC_OTHER)
				needs = "a text, numeric, date or timestamp column";
			else if (tc != TC_TEXT)
			{
				/*
				 * The constant must be a value of the column's type: of its
				 * base type, for a domain, whose CHECK (code of the domain's
				 * owner) would run with the rights of whoever declares the
				 * rule, as it would at every read (mask_by_rule).
				 */
				Oid			input;
				Oid			ioparam;

				getTypeInputInfo(getBaseType(coltype), &input, &ioparam);
				(void) OidInputFunctionCall(input, rule.text, ioparam, -1);
			}
			break;
		case PX_RULE_FAKE:
			if (tc != TC_TEXT)
				needs = "a text column";
			break;
		case PX_RULE_JSONB:
			/* inner rules were checked against JSON's value kinds by the parser */
			if (getBaseType(coltype) != JSONBOID)
				needs = "a jsonb column";
			break;
	}
	if (needs != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("masking rule \"%s\" needs %s, not %s", rule_text, needs,
						format_type_be(coltype))));
	/*
	 * An integer floored to a multiple of a step below 2, or of a fractional
	 * step, is itself or nearly so (int_step_masks()): the rule would show
	 * the values in clear while the inventory says masked.
	 */
	if (rule.kind == PX_RULE_GENERALIZE_STEP && tc == TC_INTEGER && !int_step_masks(rule.number))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("masking rule \"%s\" would show every %s value unchanged or nearly so",
						rule_text, format_type_be(coltype)),
				 errdetail("On an integer column the step must be an integer of at least 2."),
				 errhint("Give an integer step of at least 2, or the rule none to show the column in clear.")));
	require_noise_ratio(rule_text, &rule);
	if (rule.kind == PX_RULE_HASH)
		require_hash_key(rule.text);
	if (rule.kind == PX_RULE_JSONB)
	{
		px_mask_rule inner;
		const char *path;
		size_t		path_len;
		int			i;

		for (i = 0; px_jsonb_part_rule(&rule, i, &inner, &path, &path_len); i++)
		{
			if (inner.kind == PX_RULE_HASH)
				require_hash_key(inner.text);
			require_noise_ratio(rule_text, &inner);
		}
	}
	/* The length the formatter wrote, never strlen(): the stored rule is exactly it. */
	canonical_len = px_rule_format(&rule, canonical);
	Assert(canonical_len < sizeof(canonical));
	PG_RETURN_TEXT_P(cstring_to_text_with_len(canonical, (int) canonical_len));
}

/* ---------------------------------------------------------------------
 * Applying rules
 * --------------------------------------------------------------------- */
typedef struct RuleEntry
{
	char		role_name[NAMEDATALEN];	/* "" for the default rule */
	px_mask_rule rule;
} RuleEntry;

/* Encrypted values up to this long are masked through the scratch buffer. */
#define MASK_SCRATCH_MAX 2048
StaticAssertDecl(MASK_SCRATCH_MAX % 8 == 0, "the scratch buffer is wiped in whole 8-byte words");

/*
 * The text rules a masking view applies row after row, each with its own
 * per-row path (px_apply_mask()): chosen once per statement and role.
 */
typedef enum FastRule
{
	FAST_OFF = 0,				/* any other rule, or not yet chosen */
	FAST_EMAIL,
	FAST_PARTIAL,
	FAST_CREDIT_CARD
} FastRule;

typedef struct MaskCache
{
	Oid			relid;
	NameData	column;
	const void *column_arg;		/* the column argument last matched, if constant */
	bool		column_arg_stable;	/* that argument is a constant of the call */
	int			nrules;
	RuleEntry  *rules;
	Oid			chosen_for;		/* user the choice below was made for */
	const px_mask_rule *chosen;	/* NULL: no rule applies (fail closed) */
	FastRule	fast;			/* chosen, for a text column read for chosen_for */
	const void *fast_arg;		/* with fast on: the constant column argument, else NULL */
	PxKeyRef	hash_ref;		/* hash('key') rules: the key, once */
	bool		have_hash_ref;
	bool		hash_usable;	/* ... and it exists, not destroyed */
	void	   *decrypt_cache;	/* encrypted columns: keys, per call site */
	uint8_t    *scratch;		/* ... and their plaintext while it is masked */
	size_t		scratch_len;
	uint32		key_id;			/* ... the key of the value in it */
	int32		column_typmod;	/* ... the key the named column requires, or -1 */
	Oid			argtype;		/* the column's type, and its class */
	Oid			basetype;		/* ... its base type, for a domain: what the
								 * rules dispatch on (a datum of a domain is
								 * one of its base type) */
	TypeClass	tc;
	bool		bpchar;			/* character(n): its trailing blanks are
								 * padding, not part of the value */
	bool		is_name;		/* name: a fixed-size C string, not a varlena */
	Oid			clear_elemtype;	/* read through a masking view, an array of
								 * encrypted values: its element type, whose
								 * keys 'none' needs */
	bool		clear_envelope;	/* ... an encrypted value not decrypted here
								 * (encrypted_bytea in a view made before
								 * 1.1 had apply_mask() for it) */
	PxAuditSite audit;			/* reads through the view, this statement */
} MaskCache;

/* Not inlined: once per statement, and its locals would cost the per-row caller a stack check. */
static pg_noinline void
load_rules(MaskCache *mc, MemoryContext mcxt)
{
	Oid			relid = px_privacy_relid("mask_rules");
	Relation	rel;
	ScanKeyData skey[2];
	SysScanDesc scan;
	HeapTuple	tup;
	int			cap = 4;


	if (!OidIsValid(relid))
		elog(ERROR, "privacy.mask_rules is missing");
	mc->rules = MemoryContextAlloc(mcxt, sizeof(RuleEntry) * cap);
	mc->nrules = 0;
	rel = table_open(relid, AccessShareLock);
	ScanKeyInit(&skey[0], Anum_mask_rules_relid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(mc->relid));
	ScanKeyInit(&skey[1], Anum_mask_rules_column_name, BTEqualStrategyNumber, F_NAMEEQ,
				NameGetDatum(&mc->column));
	scan = systable_beginscan(rel, InvalidOid, false, GetActiveSnapshot(), 2, skey);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		TupleDesc	desc = RelationGetDescr(rel);
		bool		isnull;
		Datum		role = heap_getattr(tup, Anum_mask_rules_role_name, desc, &isnull);
		char	   *rule_text;
		RuleEntry  *e;
		const char *error;
		size_t		error_at;

		if (mc->nrules == cap)
		{
			cap *= 2;
			mc->rules = repalloc(mc->rules, sizeof(RuleEntry) * cap);
		}
		e = &mc->rules[mc->nrules];
		strlcpy(e->role_name, isnull ? "" : NameStr(*DatumGetName(role)), NAMEDATALEN);
		rule_text = TextDatumGetCString(heap_getattr(tup, Anum_mask_rules_rule, desc, &isnull));
		/* Stored rules were validated; one that no longer parses masks everything. */
		if (!px_rule_parse(rule_text, strlen(rule_text), &e->rule, &error, &error_at))
			e->rule.kind = PX_RULE_NULL;
		mc->nrules++;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/*
 * The rule for the current user: a rule for the user's own role first;
 * then the rules for roles whose privileges the user has, where a rule
 * that masks wins over 'none' (and, among several, the first by role name);
 * then the default rule.  NULL when there is none.
 */
static pg_noinline const px_mask_rule *
choose_rule(MaskCache *mc)
{
	Oid			userid = GetUserId();
	char	   *username = GetUserNameFromId(userid, false);
	const RuleEntry *best = NULL;
	const RuleEntry *fallback = NULL;
	int			i;

	for (i = 0; i < mc->nrules; i++)
	{
		const RuleEntry *e = &mc->rules[i];
		Oid			role;

		if (e->role_name[0] == '\0')
		{
			fallback = e;
			continue;
		}
		if (strcmp(e->role_name, username) == 0)
			return &e->rule;
		role = get_role_oid(e->role_name, true);
		if (!OidIsValid(role) || !has_privs_of_role(userid, role))
			continue;
		if (best == NULL ||
			(best->rule.kind == PX_RULE_NONE && e->rule.kind != PX_RULE_NONE) ||
			((best->rule.kind == PX_RULE_NONE) == (e->rule.kind == PX_RULE_NONE) &&
			 strcmp(e->role_name, best->role_name) < 0))
			best = e;
	}
	if (best != NULL)
		return &best->rule;
	return fallback ? &fallback->rule : NULL;
}

/* What a column without any rule shows to a masked role (1.1). */
static const px_mask_rule redact_by_default = {.kind = PX_RULE_REDACT};

/* The column's default rule (the one for everyone else), if it has one. */
static const px_mask_rule *
default_rule(MaskCache *mc)
{
	int			i;

	for (i = 0; i < mc->nrules; i++)
		if (mc->rules[i].role_name[0] == '\0')
			return &mc->rules[i].rule;
	return NULL;
}

/* The per-row path for the chosen rule, if it has one. */
static FastRule
fast_rule(const MaskCache *mc)
{
	if (mc->tc != TC_TEXT || mc->bpchar || mc->is_name || mc->chosen == NULL)
		return FAST_OFF;
	switch (mc->chosen->kind)
	{
		case PX_RULE_EMAIL:
			return FAST_EMAIL;
		case PX_RULE_PARTIAL:
			return FAST_PARTIAL;
		case PX_RULE_CREDIT_CARD:
			return FAST_CREDIT_CARD;
		default:
			return FAST_OFF;
	}
}

/*
 * The key an encrypted column of relid requires (its typmod), or -1: not
 * such a column, or one of no particular key.  apply_mask() opens a value
 * only under the key of the column it names, so that a value carried in
 * from another column is never read through this column's rules (the
 * guard of masking/guard.c already lets only the named column in: this
 * holds without it).
 */
static int32
column_key(Oid relid, const char *column, Oid argtype)
{
	AttrNumber	attnum = get_attnum(relid, column);
	Oid			typid;
	int32		typmod;
	Oid			collid;
	px_value_type vtype;

	if (attnum == InvalidAttrNumber || !px_encrypted_type(getBaseType(argtype), &vtype))
		return -1;
	get_atttypetypmodcoll(relid, attnum, &typid, &typmod, &collid);
	if (typmod < 0)
		(void) getBaseTypeAndTypmod(typid, &typmod);	/* a domain over the type */
	return typmod;
}

/*
 * The rules of the column named by arguments 2 and 3, and the one that
 * applies: the current role's, or with anonymize (privacy.erase_subject())
 * the default rule, whoever runs it.
 */
static MaskCache *
mask_cache(FunctionCallInfo fcinfo, bool anonymize)
{
	MaskCache  *mc = (MaskCache *) fcinfo->flinfo->fn_extra;
	Oid			relid = PG_GETARG_OID(1);
	Name		column = PG_GETARG_NAME(2);

	/*
	 * Only a query checked by masking/guard.c may get here, and only a library
	 * loaded at server start checked every query of this backend.
	 */
	if (mc == NULL && !px_loaded_at_start && !anonymize)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("masking views need privacy_ext in shared_preload_libraries"),
				 errhint("Add privacy_ext to shared_preload_libraries and restart the server.")));

	/*
	 * Per row: a masking view's call names its table and column with
	 * constants (masking/guard.c), so the column argument is the same datum
	 * on every row and a pointer comparison stands for the name's.
	 */
	if (likely(mc != NULL) && mc->relid == relid &&
		((mc->column_arg_stable && mc->column_arg == (const void *) column) ||
		 strcmp(NameStr(mc->column), NameStr(*column)) == 0))
		mc->column_arg = column;
	else
	{
		mc = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(MaskCache));
		mc->relid = relid;
		namestrcpy(&mc->column, NameStr(*column));
		mc->column_arg = column;
		mc->column_arg_stable = get_fn_expr_arg_stable(fcinfo->flinfo, 2);
		mc->argtype = get_fn_expr_argtype(fcinfo->flinfo, 0);
		mc->basetype = getBaseType(mc->argtype);
		mc->tc = type_class(mc->argtype);
		mc->bpchar = (getBaseType(mc->argtype) == BPCHAROID);
		mc->is_name = (getBaseType(mc->argtype) == NAMEOID);
		if (!anonymize)
		{
			Oid			elem = get_element_type(getBaseType(mc->argtype));
			px_value_type vtype;

			if (OidIsValid(elem) && px_encrypted_type(getBaseType(elem), &vtype))
				mc->clear_elemtype = elem;
			mc->clear_envelope = px_encrypted_type(getBaseType(mc->argtype), &vtype);
		}
		mc->column_typmod = column_key(relid, NameStr(mc->column), mc->argtype);
		load_rules(mc, fcinfo->flinfo->fn_mcxt);
		fcinfo->flinfo->fn_extra = mc;
	}
	if (anonymize)
	{
		/* never the per-row path: that is for the current role's rule */
		mc->chosen = default_rule(mc);
		mc->fast = FAST_OFF;
		mc->fast_arg = NULL;
		mc->chosen_for = InvalidOid;
	}
	else if (mc->chosen_for != GetUserId())
	{
		/*
		 * Privacy by default: a column without any rule is redacted; one
		 * whose rules all name other roles still fails closed (NULL).
		 */
		mc->chosen = mc->nrules == 0 ? &redact_by_default : choose_rule(mc);
		mc->chosen_for = GetUserId();
		mc->fast = fast_rule(mc);
		/* the per-row path recognises its call by the constant's pointer */
		mc->fast_arg = mc->fast != FAST_OFF && mc->column_arg_stable ? mc->column_arg : NULL;
	}
	return mc;
}

/*
 * One more value of this column read through the masking view; env: the
 * stored envelope of an encrypted column (its key goes into the event).
 */
static inline void
count_read(FunctionCallInfo fcinfo, MaskCache *mc, const uint8_t *env, size_t env_len)
{
	px_audit_count(&mc->audit, fcinfo->flinfo,
				   mc->chosen && mc->chosen->kind == PX_RULE_NONE ?
				   PX_AUDIT_UNMASK : PX_AUDIT_MASKED_READ,
				   mc->relid, NameStr(mc->column), env ? px_audit_key_of(env, env_len) : 0);
}

/*
 * A text of at most max_len bytes, written by the masking algorithm into
 * place (one allocation per value: this runs once per row and column);
 * finish_text() sets its length.
 */
static inline text *
new_text(size_t max_len)
{
	/*
	 * A capacity beyond palloc's limit (a value near 1 GB) is no error yet:
	 * the result is often much shorter (email, partial); finish_text()
	 * refuses one that is not.  The encrypted per-row path never gets here
	 * with such a size (its values fit MASK_SCRATCH_MAX).
	 */
	if (unlikely(max_len > MaxAllocSize - VARHDRSZ))
		return (text *) MemoryContextAllocHuge(CurrentMemoryContext, VARHDRSZ + max_len);
	return (text *) palloc(VARHDRSZ + max_len);
}

static inline text *
finish_text(text *t, size_t len)
{
	px_check_masked_len(len);
	SET_VARSIZE(t, VARHDRSZ + len);
	return t;
}

/*
 * hash('key'): 32 hex digits of the HMAC, or NULL when the key is unknown
 * or destroyed (px_hash_key): the column shows NULL, the view's other
 * columns stay readable.  The key is looked up once per statement.
 */
static pg_noinline text *
hash_text(MaskCache *mc, const px_mask_rule *rule, const char *s, size_t len)
{
	if (!mc->have_hash_ref)
	{
		uint32		key_id;

		mc->hash_usable = px_hash_key(rule->text, &key_id, &mc->hash_ref);
		mc->have_hash_ref = true;
	}
	if (!mc->hash_usable)
		return NULL;
	return px_hash_text(&mc->hash_ref, s, len);
}

static text *
mask_text(MaskCache *mc, const px_mask_rule *rule, const char *s, size_t len)
{
	text	   *out;

	switch (rule->kind)
	{
		case PX_RULE_PARTIAL:
			out = new_text(len + rule->text_len + 1);
			return finish_text(out, px_mask_partial(s, len, rule->prefix, rule->text, rule->text_len,
													rule->suffix, VARDATA(out)));
		case PX_RULE_EMAIL:
			out = new_text(len + 8);
			return finish_text(out, px_mask_email(s, len, VARDATA(out)));
		case PX_RULE_CREDIT_CARD:
			/* never longer than the value: a value of the largest size fits */
			out = new_text(len);
			return finish_text(out, px_mask_credit_card(s, len, VARDATA(out)));
		case PX_RULE_HASH:
			return hash_text(mc, rule, s, len);
		case PX_RULE_VALUE:
			return cstring_to_text_with_len(rule->text, (int) rule->text_len);
		case PX_RULE_REDACT:
			return cstring_to_text("REDACTED");
		case PX_RULE_FAKE:
			return px_fake_text(rule->text, rule->text_len, s, len);
		default:
			return NULL;		/* NULL and anything unexpected: fail closed */
	}
}

/*
 * Text masking for the parts of a jsonb(...) rule.  Their hash rules may
 * name different keys, so the key is looked up per rule (key_store.c caches
 * it) instead of through the column's single hash_ref.
 */
static text *
jsonb_mask_text(void *arg, const px_mask_rule *rule, const char *s, size_t len)
{
	if (rule->kind == PX_RULE_HASH)
	{
		PxKeyRef	ref;
		uint32		key_id;

		if (!px_hash_key(rule->text, &key_id, &ref))
			return NULL;
		return px_hash_text(&ref, s, len);
	}
	return mask_text((MaskCache *) arg, rule, s, len);
}

/*
 * privacy.apply_mask(value, table, column): the value as the current role
 * may see it.
 */
/*
 * A name value: its characters are masked as text, and the result is a name
 * again (cut to NAMEDATALEN - 1 bytes on a character boundary, as the
 * type's input does), since the view's column keeps the type.
 */
static pg_noinline Datum
mask_name_value(FunctionCallInfo fcinfo, MaskCache *mc, const px_mask_rule *rule, Datum v)
{
	const char *s = NameStr(*DatumGetName(v));
	text	   *masked = mask_text(mc, rule, s, strnlen(s, NAMEDATALEN));

	if (masked == NULL)
		PG_RETURN_NULL();
	return DirectFunctionCall1(namein, CStringGetDatum(text_to_cstring(masked)));
}

/* A text value under a rule that masks text (inline: per row). */
static inline Datum
mask_text_value(FunctionCallInfo fcinfo, MaskCache *mc, const px_mask_rule *rule, Datum v)
{
	/* A value stored inline (the common case) needs no call to detoast. */
	text	   *t;
	int			len;
	text	   *masked;

	if (unlikely(mc->is_name))
		return mask_name_value(fcinfo, mc, rule, v);
	t = VARATT_IS_EXTERNAL(DatumGetPointer(v)) ||
		VARATT_IS_COMPRESSED(DatumGetPointer(v)) ?
		DatumGetTextPP(v) : (text *) DatumGetPointer(v);
	len = VARSIZE_ANY_EXHDR(t);

	/*
	 * A character(n) value is its characters without the padding, as its
	 * cast to text makes it: 'Ann' in a char(10) column is masked (hashed,
	 * faked, ...) as the text 'Ann' is, so joins on masked columns match.
	 */
	if (mc->bpchar)
		len = bpchartruelen(VARDATA_ANY(t), len);
	masked = mask_text(mc, rule, VARDATA_ANY(t), len);

	if (masked == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(masked);
}

static pg_noinline Datum mask_by_rule(FunctionCallInfo fcinfo, MaskCache *mc,
									  const px_mask_rule *rule);

static Datum
mask_value(FunctionCallInfo fcinfo, MaskCache *mc)
{
	const px_mask_rule *rule = mc->chosen;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	count_read(fcinfo, mc, NULL, 0);
	if (rule == NULL || rule->kind == PX_RULE_NULL)
		PG_RETURN_NULL();
	/* The masking views' usual case first; every other goes through mask_by_rule(). */
	if (mc->tc == TC_TEXT &&
		(rule->kind == PX_RULE_EMAIL || rule->kind == PX_RULE_PARTIAL ||
		 rule->kind == PX_RULE_CREDIT_CARD || rule->kind == PX_RULE_HASH))
		return mask_text_value(fcinfo, mc, rule, PG_GETARG_DATUM(0));
	return mask_by_rule(fcinfo, mc, rule);
}

/*
 * 'none' on an encrypted value shows it in clear, so it needs the value's
 * key: destroyed first (destruction dropped the grants, the value is gone:
 * PXK02), then a grant (42501).
 */
static void
require_clear_key(bytea *env)
{
	px_header	hdr;

	px_report_status(px_header_read((uint8_t *) VARDATA_ANY(env), VARSIZE_ANY_EXHDR(env), &hdr),
					 true);
	if (hdr.key_id != 0 && px_key_destroyed(hdr.key_id))
		px_report_destroyed_key(hdr.key_id);
	if (!px_may_decrypt(hdr.key_id))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for the privacy_ext key of a column shown in clear"),
				 errhint("A rule 'none' shows the plaintext only to roles granted the column's key."),
				 px_errhide()));
}

/*
 * An array of encrypted values under 'none' is shown as it is stored (its
 * envelopes: the view keeps the column's type), so it needs the key of
 * every element, as one encrypted value would.
 */
static pg_noinline void
require_clear_keys(MaskCache *mc, Datum v)
{
	ArrayType  *arr = DatumGetArrayTypeP(v);
	int16		elmlen;
	bool		elmbyval;
	char		elmalign;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;

	get_typlenbyvalalign(mc->clear_elemtype, &elmlen, &elmbyval, &elmalign);
	deconstruct_array(arr, mc->clear_elemtype, elmlen, elmbyval, elmalign, &elems, &nulls, &n);
	for (i = 0; i < n; i++)
		if (!nulls[i])
			require_clear_key(DatumGetByteaPP(elems[i]));
}

/* Not inlined: its locals would cost mask_value() a stack check per row. */
static pg_noinline Datum
mask_by_rule(FunctionCallInfo fcinfo, MaskCache *mc, const px_mask_rule *rule)
{
	/*
	 * The base type, never the domain's own OID: a domain over smallint
	 * compared as "not INT2OID" was generalized as an int8 and wrapped, and
	 * noise or generalize on a domain over float8 or date showed NULL.
	 */
	Oid			type = mc->basetype;
	TypeClass	tc = mc->tc;
	Datum		v = PG_GETARG_DATUM(0);
	bool		isnull = false;
	Datum		result;

	switch (rule->kind)
	{
		case PX_RULE_NONE:
			if (mc->clear_envelope)
				require_clear_key(DatumGetByteaPP(v));
			else if (OidIsValid(mc->clear_elemtype))
				require_clear_keys(mc, v);
			PG_RETURN_DATUM(v);
		case PX_RULE_REDACT:
			result = px_redact_placeholder(type, &isnull);
			if (isnull)
				PG_RETURN_NULL();
			PG_RETURN_DATUM(result);
		case PX_RULE_VALUE:
			{
				Oid			input;
				Oid			ioparam;

				/*
				 * Declared only for text, numbers, dates and timestamps
				 * (check_mask_rule): a column retyped to another type since
				 * shows NULL, as for any rule that no longer fits it, rather
				 * than whatever its input function makes of the constant.
				 */
				if (tc == TC_OTHER)
					PG_RETURN_NULL();
				/* the base type's input, as px_redact_placeholder() says why */
				getTypeInputInfo(getBaseType(type), &input, &ioparam);
				PG_RETURN_DATUM(OidInputFunctionCall(input, (char *) rule->text, ioparam, -1));
			}
		case PX_RULE_GENERALIZE_STEP:
			/*
			 * A step below 2 or fractional leaves an integer as it is or
			 * nearly so (int_step_masks()): refused when
			 * declared (check_mask_rule), shown as NULL when the column
			 * became an integer later (ALTER ... TYPE) or the rule was
			 * stored by 1.0, like any rule that does not fit its column.
			 */
			if (tc == TC_INTEGER && !int_step_masks(rule->number))
				PG_RETURN_NULL();
			if (tc == TC_INTEGER)
			{
				int64		x = type == INT2OID ? DatumGetInt16(v) :
					type == INT4OID ? DatumGetInt32(v) : DatumGetInt64(v);
				int64		b = px_generalize_int_by(x, rule->number);

				if (type == INT2OID)
					PG_RETURN_INT16(b < PG_INT16_MIN ? PG_INT16_MIN : (int16) b);
				if (type == INT4OID)
					PG_RETURN_INT32(b < PG_INT32_MIN ? PG_INT32_MIN : (int32) b);
				PG_RETURN_INT64(b);
			}
			if (type == FLOAT8OID)
				PG_RETURN_FLOAT8(px_generalize_double(DatumGetFloat8(v), rule->number));
			if (type == FLOAT4OID)
				PG_RETURN_FLOAT4((float4) px_generalize_double(DatumGetFloat4(v), rule->number));
			if (tc == TC_NUMERIC)
				return DirectFunctionCall2(px_generalize_numeric, v,
										   DirectFunctionCall1(float8_numeric,
															   Float8GetDatum(rule->number)));
			PG_RETURN_NULL();
		case PX_RULE_GENERALIZE_UNIT:
			if (type == DATEOID)
				return DirectFunctionCall2(px_generalize_date, v, CStringGetTextDatum(rule->text));
			if (type == TIMESTAMPOID)
				return DirectFunctionCall2(px_generalize_timestamp, v, CStringGetTextDatum(rule->text));
			if (type == TIMESTAMPTZOID)
				return DirectFunctionCall2(px_generalize_timestamptz, v, CStringGetTextDatum(rule->text));
			PG_RETURN_NULL();
		case PX_RULE_JSONB:
			if (getBaseType(type) == JSONBOID)
			{
				Jsonb	   *masked = px_mask_jsonb(DatumGetJsonbP(v), rule, jsonb_mask_text, mc);

				if (masked == NULL)
					PG_RETURN_NULL();
				PG_RETURN_JSONB_P(masked);
			}
			PG_RETURN_NULL();
		case PX_RULE_NOISE:
			/* smallint and real take int4's and float8's noise, kept in their range */
			if (type == INT2OID)
			{
				int32		x = DatumGetInt32(DirectFunctionCall2(px_noise_int4,
																  Int32GetDatum(DatumGetInt16(v)),
																  Float8GetDatum(rule->number)));

				PG_RETURN_INT16(x > PG_INT16_MAX ? PG_INT16_MAX : x < PG_INT16_MIN ? PG_INT16_MIN : (int16) x);
			}
			if (type == FLOAT4OID)
			{
				float8		x = DatumGetFloat8(DirectFunctionCall2(px_noise_float8,
																   Float8GetDatum((float8) DatumGetFloat4(v)),
																   Float8GetDatum(rule->number)));

				if (!isnan(x) && !isinf(DatumGetFloat4(v)))
					x = x > FLT_MAX ? FLT_MAX : x < -FLT_MAX ? -FLT_MAX : x;
				PG_RETURN_FLOAT4((float4) x);
			}
			if (type == INT4OID)
				return DirectFunctionCall2(px_noise_int4, v, Float8GetDatum(rule->number));
			if (type == INT8OID)
				return DirectFunctionCall2(px_noise_int8, v, Float8GetDatum(rule->number));
			if (type == FLOAT8OID)
				return DirectFunctionCall2(px_noise_float8, v, Float8GetDatum(rule->number));
			if (tc == TC_NUMERIC)
			{
				Numeric		x = px_noise_numeric_value(DatumGetNumeric(v), rule->number);

				if (x == NULL)
					PG_RETURN_NULL();
				PG_RETURN_NUMERIC(x);
			}
			PG_RETURN_NULL();
		default:
			if (tc == TC_TEXT)
				return mask_text_value(fcinfo, mc, rule, v);
			PG_RETURN_NULL();
	}
}

/*
 * privacy.apply_mask(encrypted value, table, column) returns text: the
 * value is decrypted here, without the reader holding the key, and masked
 * before it leaves.  'none' (shown in clear) still needs the key.
 */
static Datum
apply_mask_encrypted(FunctionCallInfo fcinfo, MaskCache *mc, px_value_type type)
{
	const px_mask_rule *rule = mc->chosen;
	struct varlena *plain;
	text	   *masked;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	if (rule == NULL || rule->kind == PX_RULE_NULL)
	{
		count_read(fcinfo, mc, NULL, 0);
		PG_RETURN_NULL();
	}
	if (rule->kind == PX_RULE_NONE)
		require_clear_key(PG_GETARG_BYTEA_PP(0));
	if (type == PX_TYPE_BYTEA && rule->kind != PX_RULE_NONE)
	{
		/* none, null and redact are the rules a bytea column takes: nothing to decrypt */
		bool		isnull;
		Datum		result;

		count_read(fcinfo, mc, NULL, 0);
		if (rule->kind != PX_RULE_REDACT)
			PG_RETURN_NULL();
		result = px_redact_placeholder(BYTEAOID, &isnull);
		PG_RETURN_DATUM(result);
	}
	plain = px_open_for_masking(PG_GETARG_BYTEA_PP(0), type, &mc->decrypt_cache,
								fcinfo->flinfo->fn_mcxt, mc->column_typmod);
	if (plain == NULL)
		PG_RETURN_NULL();
	{
		bytea	   *env = PG_GETARG_BYTEA_PP(0);

		count_read(fcinfo, mc, (const uint8_t *) VARDATA_ANY(env), VARSIZE_ANY_EXHDR(env));
	}
	if (rule->kind == PX_RULE_NONE)
		PG_RETURN_POINTER(plain);
	masked = mask_text(mc, rule, VARDATA(plain), VARSIZE(plain) - VARHDRSZ);
	px_wipe(VARDATA(plain), VARSIZE(plain) - VARHDRSZ);
	if (masked == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(masked);
}

/*
 * Whether this call may take the per-row path: the statement's cache of the
 * same column (the view's constant arguments: a pointer comparison; fast_arg
 * is NULL unless the rule is one of the fast text rules and the argument a
 * constant), its rule chosen for userid, the current user.
 */
static inline bool
fast_path_applies(FunctionCallInfo fcinfo, const MaskCache *mc, Oid userid)
{
	return likely(mc != NULL) && mc->fast_arg == (const void *) PG_GETARG_POINTER(2) &&
		mc->relid == PG_GETARG_OID(1) && mc->chosen_for == userid;
}

/* The most bytes the fast rule can make of len bytes of text. */
static inline size_t
fast_max_len(const MaskCache *mc, size_t len)
{
	switch (mc->fast)
	{
		case FAST_EMAIL:
			return len + 8;
		case FAST_PARTIAL:
			return len + mc->chosen->text_len + 1;
		case FAST_CREDIT_CARD:
			return len;			/* never longer than the value */
		default:
			return len + 1;
	}
}

/*
 * The fast rule on s, written into out (fast_max_len() bytes of data);
 * nothing here can fail.  The rule was chosen for a text column, so s is
 * the value's text.
 */
static inline text *
mask_text_fast(const MaskCache *mc, const char *s, size_t len, text *out)
{
	const px_mask_rule *rule = mc->chosen;

	switch (mc->fast)
	{
		case FAST_EMAIL:
			return finish_text(out, px_mask_email(s, len, VARDATA(out)));
		case FAST_PARTIAL:
			return finish_text(out, px_mask_partial(s, len, rule->prefix, rule->text,
													rule->text_len, rule->suffix, VARDATA(out)));
		case FAST_CREDIT_CARD:
		default:
			return finish_text(out, px_mask_credit_card(s, len, VARDATA(out)));
	}
}

/*
 * privacy.apply_mask() is not STRICT (1.1: the executor's test of its three
 * arguments cost more than the per-row path's own): a NULL argument gives
 * NULL, uncounted, as STRICT did.  The per-row path tests only the value:
 * it is taken only when the column argument is the pointer of the non-NULL
 * constant the cache was made for (and masking/guard.c admits non-NULL
 * constants only).
 */
static inline bool
any_arg_null(FunctionCallInfo fcinfo)
{
	return PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2);
}

/* Every call but the per-row path's: apart, so that path keeps a small frame. */
static pg_noinline Datum
apply_mask_slow(FunctionCallInfo fcinfo)
{
	if (any_arg_null(fcinfo))
		PG_RETURN_NULL();
	return mask_value(fcinfo, mask_cache(fcinfo, false));
}

PG_FUNCTION_INFO_V1(px_apply_mask);
Datum
px_apply_mask(PG_FUNCTION_ARGS)
{
	MaskCache  *mc = (MaskCache *) fcinfo->flinfo->fn_extra;
	Oid			userid = GetUserId();
	struct varlena *v;
	const char *s;
	size_t		len;
	text	   *out;

	if (!fast_path_applies(fcinfo, mc, userid) || unlikely(PG_ARGISNULL(0)))
		return apply_mask_slow(fcinfo);
	v = (struct varlena *) PG_GETARG_POINTER(0);
	/* A short value stored inline (the common case): no call to detoast. */
	if (likely(VARATT_IS_1B(v) && !VARATT_IS_1B_E(v)))
	{
		s = VARDATA_1B(v);
		len = VARSIZE_1B(v) - VARHDRSZ_SHORT;
	}
	else
	{
		if (VARATT_IS_EXTERNAL(v) || VARATT_IS_COMPRESSED(v))
			v = (struct varlena *) DatumGetTextPP(PointerGetDatum(v));
		s = VARDATA_ANY(v);
		len = VARSIZE_ANY_EXHDR(v);
	}
	/* counted as count_read() does: the fast rules are never 'none' */
	px_audit_count_as(&mc->audit, fcinfo->flinfo, PX_AUDIT_MASKED_READ, mc->relid,
					  NameStr(mc->column), 0, userid);
	out = mask_text_fast(mc, s, len, new_text(fast_max_len(mc, len)));
	PG_RETURN_TEXT_P(out);
}

/* Every call of an encrypted column but the per-row path's (apart: a small frame). */
static pg_noinline Datum
apply_mask_encrypted_slow(FunctionCallInfo fcinfo, px_value_type type)
{
	if (any_arg_null(fcinfo))
		PG_RETURN_NULL();
	return apply_mask_encrypted(fcinfo, mask_cache(fcinfo, false), type);
}

/*
 * Decrypt and mask in one step, for the fast rules: the value is decrypted
 * into the call site's scratch buffer, masked from there into the result
 * (allocated first, so that nothing can fail while the plaintext is in the
 * buffer), wiped, and then counted.  The envelope's header is read once.
 * A value too long for the scratch buffer goes to apply_mask_encrypted().
 * No local has its address taken: no stack canary per row.
 */
static pg_attribute_always_inline Datum
apply_mask_encrypted_call(FunctionCallInfo fcinfo, px_value_type type)
{
	MaskCache  *mc = (MaskCache *) fcinfo->flinfo->fn_extra;
	Oid			userid = GetUserId();
	struct varlena *env;
	const uint8_t *data;
	size_t		len;
	size_t		pt_len;
	text	   *out;

	if (!fast_path_applies(fcinfo, mc, userid) || unlikely(PG_ARGISNULL(0)))
		return apply_mask_encrypted_slow(fcinfo, type);
	env = (struct varlena *) PG_GETARG_POINTER(0);
	if (unlikely(VARATT_IS_EXTERNAL(env) || VARATT_IS_COMPRESSED(env)))
		env = (struct varlena *) PG_DETOAST_DATUM_PACKED(PointerGetDatum(env));
	data = (const uint8_t *) VARDATA_ANY(env);
	len = VARSIZE_ANY_EXHDR(env);

	/* The plaintext is shorter than its envelope: len bytes bound it. */
	if (unlikely(len + 1 > mc->scratch_len))
	{
		if (len + 1 > MASK_SCRATCH_MAX)
			return apply_mask_encrypted_slow(fcinfo, type);
		mc->scratch = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, MASK_SCRATCH_MAX);
		mc->scratch_len = MASK_SCRATCH_MAX;
	}
	out = new_text(fast_max_len(mc, len));
	pt_len = px_open_for_masking_into(data, len, type, &mc->decrypt_cache,
									  fcinfo->flinfo->fn_mcxt, mc->scratch, &mc->key_id,
									  mc->column_typmod);
	if (unlikely(pt_len == PX_OPEN_TRANSIT))
	{
		pfree(out);
		PG_RETURN_NULL();
	}
	out = mask_text_fast(mc, (const char *) mc->scratch + 1, pt_len, out);
	/* from the buffer's start, 8-byte aligned: MASK_SCRATCH_MAX is a multiple of 8 */
	px_wipe_words(mc->scratch, 1 + pt_len);
	/* counted once the plaintext is gone: binding a counter may fail */
	px_audit_count_as(&mc->audit, fcinfo->flinfo, PX_AUDIT_MASKED_READ, mc->relid,
					  NameStr(mc->column), mc->key_id, userid);
	PG_RETURN_TEXT_P(out);
}

PG_FUNCTION_INFO_V1(px_apply_mask_encrypted_text);
Datum
px_apply_mask_encrypted_text(PG_FUNCTION_ARGS)
{
	return apply_mask_encrypted_call(fcinfo, PX_TYPE_TEXT);
}

PG_FUNCTION_INFO_V1(px_apply_mask_encrypted_text_det);
Datum
px_apply_mask_encrypted_text_det(PG_FUNCTION_ARGS)
{
	return apply_mask_encrypted_call(fcinfo, PX_TYPE_TEXT_DET);
}

/*
 * privacy.apply_mask(encrypted_bytea, table, column) returns bytea: 'none'
 * decrypts for roles granted the key, as for encrypted text.  No per-row
 * path: that is for the text rules.
 */
PG_FUNCTION_INFO_V1(px_apply_mask_encrypted_bytea);
Datum
px_apply_mask_encrypted_bytea(PG_FUNCTION_ARGS)
{
	return apply_mask_encrypted_slow(fcinfo, PX_TYPE_BYTEA);
}

/*
 * privacy.anonymize_value(value, table, column): the value under the
 * column's default rule, for privacy.erase_subject() and
 * privacy.anonymize_table() (masking/static.c) to store for good.  They run
 * it as the table's owner; outside them, and in code of the owner's that
 * they fire (a trigger), it refuses to run, since it masks without regard
 * to who asks.
 */
static void
require_erasure(void)
{
	if ((px_request_in_progress != PX_REQUEST_ERASE &&
		 px_request_in_progress != PX_REQUEST_ANONYMIZE) || !px_request_scope())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("privacy.anonymize_value() runs only inside privacy.erase_subject()"),
				 errhint("Read masked values through the masking view, masked.<table>.")));
}

/*
 * A value under a destroyed key is erased already: nobody can read it, and
 * no value can be sealed under that key again, so whatever the rule, the
 * rewrite stores NULL for it (a NOT NULL column then stops the rewrite
 * with its usual error).  Without this a crypto-shredded subject could
 * not be erased until its rules said null.
 */
static bool
under_destroyed_key(FunctionCallInfo fcinfo)
{
	px_value_type type;
	bytea	   *env;
	px_header	hdr;

	if (PG_ARGISNULL(0) || !px_encrypted_type(get_fn_expr_argtype(fcinfo->flinfo, 0), &type))
		return false;
	env = PG_GETARG_BYTEA_PP(0);
	return px_header_read((uint8_t *) VARDATA_ANY(env), VARSIZE_ANY_EXHDR(env), &hdr) == PX_OK &&
		hdr.key_id != 0 && px_key_destroyed(hdr.key_id);
}

PG_FUNCTION_INFO_V1(px_anonymize_value);
Datum
px_anonymize_value(PG_FUNCTION_ARGS)
{
	require_erasure();
	if (under_destroyed_key(fcinfo))
		PG_RETURN_NULL();
	return mask_value(fcinfo, mask_cache(fcinfo, true));
}

PG_FUNCTION_INFO_V1(px_anonymize_encrypted_text);
Datum
px_anonymize_encrypted_text(PG_FUNCTION_ARGS)
{
	require_erasure();
	if (under_destroyed_key(fcinfo))
		PG_RETURN_NULL();
	return apply_mask_encrypted(fcinfo, mask_cache(fcinfo, true), PX_TYPE_TEXT);
}

PG_FUNCTION_INFO_V1(px_anonymize_encrypted_text_det);
Datum
px_anonymize_encrypted_text_det(PG_FUNCTION_ARGS)
{
	require_erasure();
	if (under_destroyed_key(fcinfo))
		PG_RETURN_NULL();
	return apply_mask_encrypted(fcinfo, mask_cache(fcinfo, true), PX_TYPE_TEXT_DET);
}
