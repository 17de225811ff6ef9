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
 *	string := ' ( any character but ', or '' ) * '
 *
 * Keywords are case-insensitive; blanks are allowed between tokens.
 */
#include "px_mask.h"

#include <ctype.h>
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

static bool
string_lit(Parser *p, px_mask_rule *rule)
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
		if (n >= PX_RULE_TEXT_MAX)
			return fail(p, "quoted string too long");
		rule->text[n++] = p->s[p->pos++];
	}
	p->pos++;
	rule->text[n] = '\0';
	rule->text_len = n;
	return true;
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

bool
px_rule_parse(const char *s, size_t len, px_mask_rule *rule,
			  const char **error, size_t *error_at)
{
	Parser		p = {s, len, 0, NULL, 0};
	char		kw[32];
	double		num = 0;
	bool		ok = true;

	memset(rule, 0, sizeof(*rule));
	if (word(&p, kw, sizeof(kw)) == 0)
		ok = fail(&p, "expected a rule name");
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
		ok = expect(&p, '(') && number_lit(&p, &num, true);
		if (ok && num < 0)
			ok = fail(&p, "prefix must not be negative");
		if (ok)
			rule->prefix = (int) num;	/* number_lit bounds it to +-1e6 */
		ok = ok && expect(&p, ',') && string_lit(&p, rule) && expect(&p, ',') &&
			number_lit(&p, &num, true);
		if (ok && num < 0)
			ok = fail(&p, "suffix must not be negative");
		if (ok)
			rule->suffix = (int) num;
		ok = ok && expect(&p, ')');
	}
	else if (strcmp(kw, "hash") == 0)
	{
		rule->kind = PX_RULE_HASH;
		ok = expect(&p, '(') && string_lit(&p, rule) && expect(&p, ')');
	}
	else if (strcmp(kw, "generalize") == 0)
	{
		ok = expect(&p, '(');
		skip_blanks(&p);
		if (ok && p.pos < p.len && p.s[p.pos] == '\'')
		{
			rule->kind = PX_RULE_GENERALIZE_UNIT;
			ok = string_lit(&p, rule);
			if (ok && strcmp(rule->text, "month") != 0 && strcmp(rule->text, "year") != 0 &&
				strcmp(rule->text, "decade") != 0)
				ok = fail(&p, "unit must be 'month', 'year' or 'decade'");
		}
		else if (ok)
		{
			rule->kind = PX_RULE_GENERALIZE_STEP;
			ok = number_lit(&p, &rule->number, false);
			if (ok && !(rule->number > 0))
				ok = fail(&p, "step must be positive");
		}
		ok = ok && expect(&p, ')');
	}
	else if (strcmp(kw, "noise") == 0)
	{
		rule->kind = PX_RULE_NOISE;
		ok = expect(&p, '(') && number_lit(&p, &rule->number, false);
		if (ok && !(rule->number > 0 && rule->number <= 1))
			ok = fail(&p, "ratio must be greater than 0 and at most 1");
		ok = ok && expect(&p, ')');
	}
	else if (strcmp(kw, "value") == 0)
	{
		rule->kind = PX_RULE_VALUE;
		ok = string_lit(&p, rule);
	}
	else
		ok = fail(&p, "unknown masking rule");

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

/* Append text as a quoted string, doubling quotes. */
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
			return (size_t) sprintf(out, "generalize(%.17g)", rule->number);
		case PX_RULE_GENERALIZE_UNIT:
			n = (size_t) sprintf(out, "generalize(");
			n += put_quoted(out + n, rule->text, rule->text_len);
			return n + (size_t) sprintf(out + n, ")");
		case PX_RULE_NOISE:
			return (size_t) sprintf(out, "noise(%.17g)", rule->number);
		case PX_RULE_VALUE:
			n = (size_t) sprintf(out, "value ");
			n += put_quoted(out + n, rule->text, rule->text_len);
			out[n] = '\0';
			return n;
	}
	out[0] = '\0';
	return 0;
}
