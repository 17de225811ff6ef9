/*
 * masking/jsonb_rule.c
 *		Applying jsonb('path' rule, ...) to a jsonb value.
 *
 * The value is expanded into an in-memory tree, each part's path (parsed by
 * src/core/json_path.c) is followed in the order given, the values it
 * reaches are replaced by their masked form, and the tree is serialized
 * again.  Keys the paths do not reach are kept as they are; a path that
 * reaches nothing changes nothing.
 *
 * Following a path:
 *	.name	the member of an object; on an array, the member of each
 *			element (arrays are looked into, as in SQL/JSON's lax mode);
 *	[n]		the n-th element (from 0) of an array;
 *	[*]		every element of an array;
 * anything else (a member of a string, an index of an object) reaches
 * nothing.
 *
 * Masking a reached value with the inner rule, by the JSON kind it has:
 *	array		every element, recursively (arrays are always looked into);
 *	null		stays null;
 *	none		kept;  null: null;  value 'c': the string "c";
 *	redact		strings "REDACTED", numbers 0, booleans false, objects null;
 *	text rules	(email, credit_card, partial, hash, fake) mask strings, and
 *				numbers through their text, giving strings; booleans and
 *				objects become null (nothing unmasked leaves);
 *	numeric		(generalize(step), noise) mask numbers; strings, booleans
 *				and objects become null.
 * Parts apply one after the other, each to the result of those before.
 */
#include "errors.h"
#include "masking/functions.h"
#include "masking/jsonb_rule.h"

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

typedef struct Walk
{
	const px_mask_rule *rule;	/* the inner rule of the part followed */
	const px_json_path *path;
	PxMaskTextFn mask_text;
	void	   *arg;
} Walk;

static void
set_null(JsonbValue *v)
{
	v->type = jbvNull;
}

static void
set_string(JsonbValue *v, text *t)
{
	if (t == NULL)
	{
		set_null(v);
		return;
	}
	v->type = jbvString;
	v->val.string.val = VARDATA_ANY(t);
	v->val.string.len = (int) VARSIZE_ANY_EXHDR(t);
}

static bool
text_rule(px_rule_kind kind)
{
	return kind == PX_RULE_EMAIL || kind == PX_RULE_CREDIT_CARD || kind == PX_RULE_PARTIAL ||
		kind == PX_RULE_HASH || kind == PX_RULE_FAKE;
}

/* One reached value, masked in place. */
static void
mask_node(Walk *w, JsonbValue *v)
{
	const px_mask_rule *rule = w->rule;

	check_stack_depth();
	if (v->type == jbvArray)
	{
		int			i;

		for (i = 0; i < v->val.array.nElems; i++)
			mask_node(w, &v->val.array.elems[i]);
		return;
	}
	if (v->type == jbvNull || rule->kind == PX_RULE_NONE)
		return;
	switch (rule->kind)
	{
		case PX_RULE_VALUE:
			set_string(v, cstring_to_text_with_len(rule->text, (int) rule->text_len));
			return;
		case PX_RULE_REDACT:
			if (v->type == jbvString)
				set_string(v, cstring_to_text("REDACTED"));
			else if (v->type == jbvNumeric)
				v->val.numeric = DatumGetNumeric(DirectFunctionCall1(int4_numeric, Int32GetDatum(0)));
			else if (v->type == jbvBool)
				v->val.boolean = false;
			else
				set_null(v);
			return;
		case PX_RULE_GENERALIZE_STEP:
			if (v->type != jbvNumeric)
				set_null(v);
			else
				v->val.numeric = DatumGetNumeric(
					DirectFunctionCall2(px_generalize_numeric, NumericGetDatum(v->val.numeric),
										DirectFunctionCall1(float8_numeric,
															Float8GetDatum(rule->number))));
			return;
		case PX_RULE_NOISE:
			if (v->type == jbvNumeric)
			{
				/* a number beyond float8's range takes no noise: null, not the number */
				Numeric		x = px_noise_numeric_value(v->val.numeric, rule->number);

				if (x != NULL)
				{
					v->val.numeric = x;
					return;
				}
			}
			set_null(v);
			return;
		default:
			break;
	}
	if (!text_rule(rule->kind))
	{
		set_null(v);			/* null, and anything unexpected: fail closed */
		return;
	}
	if (v->type == jbvString)
		set_string(v, w->mask_text(w->arg, rule, v->val.string.val, (size_t) v->val.string.len));
	else if (v->type == jbvNumeric)
	{
		char	   *digits = DatumGetCString(DirectFunctionCall1(numeric_out,
																 NumericGetDatum(v->val.numeric)));

		set_string(v, w->mask_text(w->arg, rule, digits, strlen(digits)));
	}
	else
		set_null(v);
}

/* Follow the path from step k at v. */
static void
follow(Walk *w, JsonbValue *v, int k)
{
	const px_json_step *step;
	int			i;

	check_stack_depth();
	if (k == w->path->nsteps)
	{
		mask_node(w, v);
		return;
	}
	step = &w->path->steps[k];
	switch (step->kind)
	{
		case PX_JSON_STEP_KEY:
			if (v->type == jbvObject)
			{
				const char *key = w->path->keys + step->key_off;

				for (i = 0; i < v->val.object.nPairs; i++)
				{
					JsonbPair  *pair = &v->val.object.pairs[i];

					if (pair->key.val.string.len == step->key_len &&
						memcmp(pair->key.val.string.val, key, step->key_len) == 0)
					{
						follow(w, &pair->value, k + 1);
						break;	/* keys of a jsonb object are unique */
					}
				}
			}
			else if (v->type == jbvArray)
				for (i = 0; i < v->val.array.nElems; i++)
					follow(w, &v->val.array.elems[i], k);
			return;
		/*
		 * An array step on anything else, as in SQL/JSON's lax mode, takes
		 * the value as an array of one: [*] and [0] reach it.  A document
		 * that holds a single card where others hold a list of them is
		 * masked all the same.
		 */
		case PX_JSON_STEP_INDEX:
			if (v->type == jbvArray)
			{
				if (step->index < v->val.array.nElems)
					follow(w, &v->val.array.elems[step->index], k + 1);
			}
			else if (step->index == 0)
				follow(w, v, k + 1);
			return;
		case PX_JSON_STEP_ALL:
			if (v->type == jbvArray)
				for (i = 0; i < v->val.array.nElems; i++)
					follow(w, &v->val.array.elems[i], k + 1);
			else
				follow(w, v, k + 1);
			return;
	}
}

/* The whole value as a tree of JsonbValues (no jbvBinary left in it). */
static JsonbValue *
expand(Jsonb *value)
{
	JsonbIterator *it = JsonbIteratorInit(&value->root);
	JsonbParseState *state = NULL;
	JsonbValue	v;
	JsonbValue *result = NULL;
	JsonbIteratorToken token;

	while ((token = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
		result = pushJsonbValue(&state, token,
								token == WJB_KEY || token == WJB_VALUE || token == WJB_ELEM ?
								&v : NULL);
	return result;
}

Jsonb *
px_mask_jsonb(Jsonb *value, const px_mask_rule *rule, PxMaskTextFn mask_text, void *arg)
{
	JsonbValue *tree;
	int			i;

	/* A scalar has no members nor elements, and every path has a step. */
	if (rule->kind != PX_RULE_JSONB || JB_ROOT_IS_SCALAR(value))
		return value;
	tree = expand(value);
	for (i = 0; i < rule->nparts; i++)
	{
		px_mask_rule inner;
		px_json_path path;
		const char *path_text;
		size_t		path_len;
		const char *error;
		size_t		error_at;
		Walk		w;

		if (!px_jsonb_part_rule(rule, i, &inner, &path_text, &path_len))
			break;
		/* Stored rules were validated; a path that no longer parses masks everything. */
		if (!px_json_path_parse(path_text, path_len, &path, &error, &error_at))
			return NULL;
		w.rule = &inner;
		w.path = &path;
		w.mask_text = mask_text;
		w.arg = arg;
		follow(&w, tree, 0);
	}
	return JsonbValueToJsonb(tree);
}
