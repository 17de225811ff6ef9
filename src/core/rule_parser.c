/*
 * rule_parser.c
 *		The masking-rule grammar (see px_mask.h):
 *
 *	rule := none | null | redact | email | credit_card
 *		  | partial ( int , string , int )
 *		  | hash ( string )
 *		  | generalize ( number | string )
 *		  | noise ( number )
 *		  | value string
 *		  | fake ( string )			the string one of px_fake_kind_name()'s
 *		  | jsonb ( part { , part } )
 *	part := string rule			a JSON path (px_mask.h), then any rule but
 *								jsonb(...) and generalize('unit')
 *	string := ' ( any character but ', or '' ) * '
 *
 * Keywords are case-insensitive; blanks are allowed between tokens.
 */
#include "px_mask.h"

#include <ctype.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Parser
{
	const char *s;
	size_t		len;
	size_t		pos;
	const char *error;
	size_t		error_at;
} Parser;

static bool
fail(Parser *p, const char *msg)
{
	if (p->error == NULL)
	{
		p->error = msg;
		p->error_at = p->pos;
	}
	return false;
}

static void
skip_blanks(Parser *p)
{
	while (p->pos < p->len && isspace((unsigned char) p->s[p->pos]))
		p->pos++;
}

static bool
expect(Parser *p, char c)
{
	skip_blanks(p);
	if (p->pos < p->len && p->s[p->pos] == c)
	{
		p->pos++;
		return true;
	}
	return fail(p, c == '(' ? "expected \"(\"" : c == ')' ? "expected \")\"" : "expected \",\"");
}

static size_t
word(Parser *p, char *buf, size_t cap)
{
	size_t		n = 0;

	skip_blanks(p);
	while (p->pos < p->len &&
		   (isalpha((unsigned char) p->s[p->pos]) || p->s[p->pos] == '_'))
	{
		if (n + 1 < cap)
			buf[n++] = (char) tolower((unsigned char) p->s[p->pos]);
		p->pos++;
	}
	buf[n] = '\0';
	return n;
}

/* A quoted string into buf (cap bytes before the NUL); its length in *len. */
static bool
string_into(Parser *p, char *buf, size_t cap, size_t *len)
{
	size_t		n = 0;

	skip_blanks(p);
	if (p->pos >= p->len || p->s[p->pos] != '\'')
		return fail(p, "expected a quoted string");
	p->pos++;
	for (;;)
	{
		if (p->pos >= p->len)
			return fail(p, "unterminated quoted string");
		if (p->s[p->pos] == '\'')
		{
			if (p->pos + 1 < p->len && p->s[p->pos + 1] == '\'')
				p->pos++;		/* '' is a quote */
			else
				break;
		}
		if (p->s[p->pos] == '\0')
			return fail(p, "zero byte in a quoted string");
		if (n >= cap)
			return fail(p, "quoted string too long");
		buf[n++] = p->s[p->pos++];
	}
	p->pos++;
	buf[n] = '\0';
	*len = n;
	return true;
}

static bool
string_lit(Parser *p, px_mask_rule *rule)
{
	return string_into(p, rule->text, PX_RULE_TEXT_MAX, &rule->text_len);
}

static bool
number_lit(Parser *p, double *out, bool integer)
{
	char		buf[64];
	size_t		n = 0;
	char	   *end;

	skip_blanks(p);
	while (p->pos < p->len && n + 1 < sizeof(buf) &&
		   (isdigit((unsigned char) p->s[p->pos]) || p->s[p->pos] == '-' ||
			p->s[p->pos] == '+' || p->s[p->pos] == '.' ||
			p->s[p->pos] == 'e' || p->s[p->pos] == 'E'))
		buf[n++] = p->s[p->pos++];
	buf[n] = '\0';
	if (n == 0)
		return fail(p, integer ? "expected an integer" : "expected a number");
	*out = strtod(buf, &end);
	if (*end != '\0' || !isfinite(*out))
		return fail(p, integer ? "expected an integer" : "expected a number");
	if (integer && (*out != floor(*out) || fabs(*out) > 1000000))
		return fail(p, "expected an integer");
	return true;
}

static bool parse_jsonb(Parser *p, px_mask_rule *rule);

/*
 * One rule at the parser's position; inner: inside jsonb(...), where
 * jsonb(...) itself and date units are refused.
 */
static bool
parse_body(Parser *p, px_mask_rule *rule, bool inner)
{
	char		kw[32];
	double		num = 0;
	bool		ok = true;

	memset(rule, 0, sizeof(*rule));
	if (word(p, kw, sizeof(kw)) == 0)
		ok = fail(p, "expected a rule name");
	else if (strcmp(kw, "none") == 0)
		rule->kind = PX_RULE_NONE;
	else if (strcmp(kw, "null") == 0)
		rule->kind = PX_RULE_NULL;
	else if (strcmp(kw, "redact") == 0)
		rule->kind = PX_RULE_REDACT;
	else if (strcmp(kw, "email") == 0)
		rule->kind = PX_RULE_EMAIL;
	else if (strcmp(kw, "credit_card") == 0)
		rule->kind = PX_RULE_CREDIT_CARD;
	else if (strcmp(kw, "partial") == 0)
	{
		rule->kind = PX_RULE_PARTIAL;
		ok = expect(p, '(') && number_lit(p, &num, true);
		if (ok && num < 0)
			ok = fail(p, "prefix must not be negative");
		if (ok)
			rule->prefix = (int) num;	/* number_lit bounds it to +-1e6 */
		ok = ok && expect(p, ',') && string_lit(p, rule) && expect(p, ',') &&
			number_lit(p, &num, true);
		if (ok && num < 0)
			ok = fail(p, "suffix must not be negative");
		if (ok)
			rule->suffix = (int) num;
		ok = ok && expect(p, ')');
	}
	else if (strcmp(kw, "hash") == 0)
	{
		rule->kind = PX_RULE_HASH;
		ok = expect(p, '(') && string_lit(p, rule) && expect(p, ')');
	}
	else if (strcmp(kw, "generalize") == 0)
	{
		ok = expect(p, '(');
		skip_blanks(p);
		if (ok && p->pos < p->len && p->s[p->pos] == '\'')
		{
			rule->kind = PX_RULE_GENERALIZE_UNIT;
			ok = string_lit(p, rule);
			if (ok && strcmp(rule->text, "month") != 0 && strcmp(rule->text, "year") != 0 &&
				strcmp(rule->text, "decade") != 0)
				ok = fail(p, "unit must be 'month', 'year' or 'decade'");
		}
		else if (ok)
		{
			rule->kind = PX_RULE_GENERALIZE_STEP;
			ok = number_lit(p, &rule->number, false);
			if (ok && !(rule->number > 0))
				ok = fail(p, "step must be positive");
		}
		ok = ok && expect(p, ')');
	}
	else if (strcmp(kw, "noise") == 0)
	{
		rule->kind = PX_RULE_NOISE;
		ok = expect(p, '(') && number_lit(p, &rule->number, false);
		if (ok && !(rule->number > 0 && rule->number <= 1))
			ok = fail(p, "ratio must be greater than 0 and at most 1");
		ok = ok && expect(p, ')');
	}
	else if (strcmp(kw, "value") == 0)
	{
		rule->kind = PX_RULE_VALUE;
		ok = string_lit(p, rule);
	}
	else if (strcmp(kw, "fake") == 0)
	{
		px_fake_kind fk;

		rule->kind = PX_RULE_FAKE;
		ok = expect(p, '(') && string_lit(p, rule);
		if (ok && !px_fake_kind_from_name(rule->text, rule->text_len, &fk))
			ok = fail(p, "fake kind must be 'first_name', 'last_name', 'email', 'phone', "
					  "'city', 'country', 'company' or 'iban'");
		ok = ok && expect(p, ')');
	}
	else if (strcmp(kw, "jsonb") == 0)
	{
		if (inner)
			ok = fail(p, "jsonb(...) cannot be nested");
		else
		{
			rule->kind = PX_RULE_JSONB;
			ok = expect(p, '(') && parse_jsonb(p, rule) && expect(p, ')');
		}
	}
	else
		ok = fail(p, "unknown masking rule");

	if (ok && inner && rule->kind == PX_RULE_GENERALIZE_UNIT)
		ok = fail(p, "generalize('unit') cannot be used inside jsonb(...): JSON has no dates");
	return ok;
}

/* Store bytes in a jsonb rule's pool; false when it is full. */
static bool
pool_put(px_mask_rule *rule, const char *bytes, size_t len, uint16_t *off)
{
	if (len > PX_JSONB_POOL_MAX - rule->pool_len)
		return false;
	*off = (uint16_t) rule->pool_len;
	memcpy(rule->pool + rule->pool_len, bytes, len);
	rule->pool_len += len;
	return true;
}

/* The parts of jsonb( ... ): path literal, inner rule, separated by commas. */
static bool
parse_jsonb(Parser *p, px_mask_rule *rule)
{
	char		raw[PX_RULE_TEXT_MAX + 1];
	size_t		raw_len;
	char		canonical[PX_JSON_PATH_FORMAT_MAX];
	size_t		canonical_len;
	px_json_path path;
	px_mask_rule inner;

	for (;;)
	{
		px_jsonb_part *part;
		size_t		path_at;
		const char *path_error;
		size_t		path_error_at;
		int			i;

		skip_blanks(p);
		path_at = p->pos;
		if (!string_into(p, raw, PX_RULE_TEXT_MAX, &raw_len))
			return false;
		if (!px_json_path_parse(raw, raw_len, &path, &path_error, &path_error_at))
		{
			/* the offset inside the literal, as near as doubled quotes allow */
			p->pos = path_at + 1 + path_error_at;
			if (p->pos > p->len)
				p->pos = p->len;
			return fail(p, path_error);
		}
		canonical_len = px_json_path_format(&path, canonical);
		for (i = 0; i < rule->nparts; i++)
			if (rule->parts[i].path_len == canonical_len &&
				memcmp(rule->pool + rule->parts[i].path_off, canonical, canonical_len) == 0)
			{
				p->pos = path_at;
				return fail(p, "the same path is given twice");
			}
		if (rule->nparts == PX_JSONB_MAX_PARTS)
		{
			p->pos = path_at;
			return fail(p, "too many paths in jsonb(...) (at most 8)");
		}
		if (!parse_body(p, &inner, true))
			return false;
		part = &rule->parts[rule->nparts];
		part->kind = inner.kind;
		part->prefix = inner.prefix;
		part->suffix = inner.suffix;
		part->number = inner.number;
		part->path_len = (uint16_t) canonical_len;
		part->text_len = (uint16_t) inner.text_len;
		if (!pool_put(rule, canonical, canonical_len, &part->path_off) ||
			!pool_put(rule, inner.text, inner.text_len, &part->text_off))
			return fail(p, "jsonb(...) rule too long");
		rule->nparts++;
		skip_blanks(p);
		if (p->pos < p->len && p->s[p->pos] == ',')
		{
			p->pos++;
			continue;
		}
		return true;
	}
}

bool
px_rule_parse(const char *s, size_t len, px_mask_rule *rule,
			  const char **error, size_t *error_at)
{
	Parser		p = {s, len, 0, NULL, 0};
	bool		ok = parse_body(&p, rule, false);

	if (ok)
	{
		skip_blanks(&p);
		if (p.pos != p.len)
			ok = fail(&p, "unexpected text after the rule");
	}
	if (!ok)
	{
		*error = p.error;
		*error_at = p.error_at;
	}
	return ok;
}

bool
px_jsonb_part_rule(const px_mask_rule *rule, int i, px_mask_rule *inner,
				   const char **path, size_t *path_len)
{
	const px_jsonb_part *part;

	if (rule->kind != PX_RULE_JSONB || i < 0 || i >= rule->nparts)
		return false;
	part = &rule->parts[i];
	memset(inner, 0, offsetof(px_mask_rule, nparts));
	inner->nparts = 0;
	inner->pool_len = 0;
	inner->kind = part->kind;
	inner->prefix = part->prefix;
	inner->suffix = part->suffix;
	inner->number = part->number;
	memcpy(inner->text, rule->pool + part->text_off, part->text_len);
	inner->text[part->text_len] = '\0';
	inner->text_len = part->text_len;
	*path = rule->pool + part->path_off;
	*path_len = part->path_len;
	return true;
}

/* Append text as a quoted string, doubling quotes. */
/*
 * A number in its shortest form that reads back as the same double: 0.1
 * stays "0.1" (%.17g writes 0.10000000000000001), and the canonical rule
 * still parses to exactly the value it was made from.
 */
static size_t
put_number(char *out, double v)
{
	int			precision;
	int			n = 0;

	if (v == floor(v) && fabs(v) < 1e15)
		return (size_t) sprintf(out, "%.0f", v);
	for (precision = 1; precision <= 17; precision++)
	{
		n = sprintf(out, "%.*g", precision, v);
		if (strtod(out, NULL) == v)
			break;
	}
	return (size_t) n;
}

static size_t
put_quoted(char *out, const char *text, size_t len)
{
	size_t		n = 0;
	size_t		i;

	out[n++] = '\'';
	for (i = 0; i < len; i++)
	{
		if (text[i] == '\'')
			out[n++] = '\'';
		out[n++] = text[i];
	}
	out[n++] = '\'';
	return n;
}

size_t
px_rule_format(const px_mask_rule *rule, char *out)
{
	size_t		n = 0;

	/*
	 * Every branch ends in a NUL: put_quoted() writes none of its own, so
	 * a rule that ends in a quoted string ("value 'x'") is terminated here.
	 * The returned length never counts the NUL; callers use it, not strlen.
	 */
	switch (rule->kind)
	{
		case PX_RULE_NONE:
			return (size_t) sprintf(out, "none");
		case PX_RULE_NULL:
			return (size_t) sprintf(out, "null");
		case PX_RULE_REDACT:
			return (size_t) sprintf(out, "redact");
		case PX_RULE_EMAIL:
			return (size_t) sprintf(out, "email");
		case PX_RULE_CREDIT_CARD:
			return (size_t) sprintf(out, "credit_card");
		case PX_RULE_PARTIAL:
			n = (size_t) sprintf(out, "partial(%d, ", rule->prefix);
			n += put_quoted(out + n, rule->text, rule->text_len);
			return n + (size_t) sprintf(out + n, ", %d)", rule->suffix);
		case PX_RULE_HASH:
			n = (size_t) sprintf(out, "hash(");
			n += put_quoted(out + n, rule->text, rule->text_len);
			return n + (size_t) sprintf(out + n, ")");
		case PX_RULE_GENERALIZE_STEP:
			n = (size_t) sprintf(out, "generalize(");
			n += put_number(out + n, rule->number);
			return n + (size_t) sprintf(out + n, ")");
		case PX_RULE_GENERALIZE_UNIT:
			n = (size_t) sprintf(out, "generalize(");
			n += put_quoted(out + n, rule->text, rule->text_len);
			return n + (size_t) sprintf(out + n, ")");
		case PX_RULE_NOISE:
			n = (size_t) sprintf(out, "noise(");
			n += put_number(out + n, rule->number);
			return n + (size_t) sprintf(out + n, ")");
		case PX_RULE_VALUE:
			n = (size_t) sprintf(out, "value ");
			n += put_quoted(out + n, rule->text, rule->text_len);
			out[n] = '\0';
			return n;
		case PX_RULE_FAKE:
			n = (size_t) sprintf(out, "fake(");
			n += put_quoted(out + n, rule->text, rule->text_len);
			return n + (size_t) sprintf(out + n, ")");
		case PX_RULE_JSONB:
			{
				px_mask_rule inner;
				const char *path;
				size_t		path_len;
				int			i;

				n = (size_t) sprintf(out, "jsonb(");
				for (i = 0; px_jsonb_part_rule(rule, i, &inner, &path, &path_len); i++)
				{
					if (i > 0)
						n += (size_t) sprintf(out + n, ", ");
					n += put_quoted(out + n, path, path_len);
					out[n++] = ' ';
					/* inner kinds are never JSONB: no recursion past one level */
					if (inner.kind != PX_RULE_JSONB)
						n += px_rule_format(&inner, out + n);
				}
				return n + (size_t) sprintf(out + n, ")");
			}
	}
	out[0] = '\0';
	return 0;
}
