/*
 * fuzz_rule_roundtrip.c
 *		libFuzzer target: a masking rule survives its canonical form, and the
 *		canonicalizer writes exactly what it says it wrote.
 *
 * For every input the parser accepts: the canonical text is formatted into
 * a buffer filled with a poison pattern, and must be the returned length
 * of bytes, a NUL, and the untouched poison after it (a byte written beyond
 * the length, or a missing NUL, is what stored stack memory in
 * privacy.mask_rules).  The text is then copied into a heap block of exactly
 * its length, without a NUL, so that AddressSanitizer stops a parser that
 * reads one byte too far; parsed again it must give the same rule, field by
 * field, and formatted again the same bytes (the canonical form is a fixed
 * point).
 *
 * Inputs the parser refuses are also read as a rule built field by field
 * (kind, counts, number, text), so that every run, even without a corpus,
 * formats and re-parses rules of every kind, quotes and multibyte text in
 * them included.
 */
#include "px_mask.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POISON 0xA5

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok, const char *what)
{
	if (!ok)
	{
		fprintf(stderr, "fuzz_rule_roundtrip: %s\n", what);
		abort();
	}
}

static void
same_rule(const px_mask_rule *a, const px_mask_rule *b)
{
	check(a->kind == b->kind, "kind differs after the round trip");
	check(a->prefix == b->prefix && a->suffix == b->suffix, "prefix or suffix differs");
	/* %.17g prints a double so that it reads back to the same bits */
	check(memcmp(&a->number, &b->number, sizeof(double)) == 0, "number differs");
	check(a->text_len == b->text_len, "text length differs");
	check(memcmp(a->text, b->text, a->text_len) == 0, "text differs");
	check(a->text[a->text_len] == '\0' && b->text[b->text_len] == '\0', "rule text not terminated");
	check(a->nparts == b->nparts, "jsonb part count differs");
	check(a->pool_len == b->pool_len && memcmp(a->pool, b->pool, a->pool_len) == 0,
		  "jsonb paths or strings differ");
	for (int i = 0; i < a->nparts; i++)
		check(a->parts[i].kind == b->parts[i].kind && a->parts[i].prefix == b->parts[i].prefix &&
			  a->parts[i].suffix == b->parts[i].suffix &&
			  memcmp(&a->parts[i].number, &b->parts[i].number, sizeof(double)) == 0 &&
			  a->parts[i].path_len == b->parts[i].path_len &&
			  a->parts[i].text_len == b->parts[i].text_len, "jsonb part differs");
}

/* Format into a poisoned buffer and check every byte around what was written. */
static size_t
format_checked(const px_mask_rule *rule, unsigned char *buf, size_t cap)
{
	size_t		n;
	size_t		i;

	memset(buf, POISON, cap);
	n = px_rule_format(rule, (char *) buf);
	check(n > 0 && n + 1 < cap, "canonical text does not fit its documented capacity");
	check(buf[n] == '\0', "canonical text is not NUL-terminated at its length");
	check(memchr(buf, '\0', n) == NULL, "canonical text holds a NUL before its end");
	for (i = n + 1; i < cap; i++)
		check(buf[i] == POISON, "canonicalizer wrote beyond the NUL");
	return n;
}

static void rule_of_kinds(const uint8_t *data, size_t size, px_mask_rule *rule, px_rule_kind last);

/*
 * A jsonb rule from raw bytes: up to three parts, each an inner rule made
 * from the bytes (jsonb and date units turned into redact) under a quoted
 * member name taken from the bytes, written as text and parsed, which must
 * succeed (the parser builds the pool).
 */
static void
jsonb_from_bytes(const uint8_t *data, size_t size, px_mask_rule *rule)
{
	static char text[3 * (PX_RULE_FORMAT_MAX + 64) + 16];
	static char inner_text[PX_RULE_FORMAT_MAX];
	size_t		n = (size_t) sprintf(text, "jsonb(");
	int			parts = size > 12 ? 1 + data[12] % 3 : 1;
	const char *error = NULL;
	size_t		at = 0;

	for (int i = 0; i < parts; i++)
	{
		px_mask_rule inner;
		size_t		off = size > 13 ? (size_t) (13 + i) % size : 0;
		size_t		key_len = size > off ? (size - off) % 16 : 0;

		rule_of_kinds(data + off, size - off, &inner, PX_RULE_FAKE);
		if (inner.kind == PX_RULE_JSONB || inner.kind == PX_RULE_GENERALIZE_UNIT)
			inner.kind = PX_RULE_REDACT;
		/* inner strings short enough for three parts to fit the pool */
		if (inner.text_len > 200)
			inner.text_len = 200;
		inner.text[inner.text_len] = '\0';
		px_rule_format(&inner, inner_text);
		n += (size_t) sprintf(text + n, "%s'$.\"%d", i ? ", " : "", i);
		for (size_t j = 0; j < key_len; j++)
		{
			char		c = (char) data[off + j];

			if (c == '\0')
				c = 'z';
			if (c == '"' || c == '\\')
				text[n++] = '\\';
			if (c == '\'')
				text[n++] = '\'';
			text[n++] = c;
		}
		n += (size_t) sprintf(text + n, "\"' %s", inner_text);
	}
	n += (size_t) sprintf(text + n, ")");
	check(px_rule_parse(text, n, rule, &error, &at), "a jsonb rule built from parts does not parse");
}

/* A valid rule made from raw bytes, of a kind up to last. */
static void
rule_of_kinds(const uint8_t *data, size_t size, px_mask_rule *rule, px_rule_kind last)
{
	static const char *const units[] = {"month", "year", "decade"};
	uint8_t		b[12] = {0};
	size_t		i;
	double		d;

	memcpy(b, data, size < sizeof(b) ? size : sizeof(b));
	memset(rule, 0, sizeof(*rule));
	rule->kind = (px_rule_kind) (b[0] % (last + 1));
	switch (rule->kind)
	{
		case PX_RULE_FAKE:
			strcpy(rule->text, px_fake_kind_name((px_fake_kind) (b[1] % PX_FAKE_KIND_COUNT)));
			rule->text_len = strlen(rule->text);
			break;
		case PX_RULE_JSONB:
			jsonb_from_bytes(data, size, rule);
			break;
		case PX_RULE_PARTIAL:
			rule->prefix = b[1] * 3907 % 1000001;
			rule->suffix = b[2];
			/* FALLTHROUGH */
		case PX_RULE_HASH:
		case PX_RULE_VALUE:
			for (i = sizeof(b); i < size && rule->text_len < PX_RULE_TEXT_MAX; i++)
				rule->text[rule->text_len++] = data[i] ? (char) data[i] : '\'';
			break;
		case PX_RULE_GENERALIZE_UNIT:
			strcpy(rule->text, units[b[1] % 3]);
			rule->text_len = strlen(rule->text);
			break;
		case PX_RULE_GENERALIZE_STEP:
			memcpy(&d, b + 4, sizeof(d));
			rule->number = (d > 0 && d <= 1e300) ? d : 0.25 + b[1];
			break;
		case PX_RULE_NOISE:
			rule->number = (b[3] + 1) / 256.0;
			break;
		default:
			break;
	}
}

/* A valid rule made from raw bytes: what the formatter may be handed. */
static void
rule_from_bytes(const uint8_t *data, size_t size, px_mask_rule *rule)
{
	rule_of_kinds(data, size, rule, PX_RULE_JSONB);
}

static void
round_trip(const px_mask_rule *rule, unsigned char *first, unsigned char *second, size_t cap)
{
	px_mask_rule again;
	const char *error = NULL;
	size_t		at = 0;
	char	   *exact;
	size_t		n;
	size_t		n2;

	n = format_checked(rule, first, cap);
	/* Exactly n bytes on the heap, no terminator: an over-read is caught. */
	exact = malloc(n);
	check(exact != NULL, "out of memory");
	memcpy(exact, first, n);
	check(px_rule_parse(exact, n, &again, &error, &at), "canonical text does not parse");
	same_rule(rule, &again);
	n2 = format_checked(&again, second, cap);
	check(n2 == n && memcmp(first, second, n) == 0, "canonical form is not idempotent");
	free(exact);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	px_mask_rule rule;
	const char *error = NULL;
	size_t		at = 0;
	/* one spare byte beyond the capacity, to see a write past it */
	size_t		cap = PX_RULE_FORMAT_MAX + 1;
	unsigned char *first = malloc(cap);
	unsigned char *second = malloc(cap);

	check(first != NULL && second != NULL, "out of memory");
	if (px_rule_parse((const char *) data, size, &rule, &error, &at))
	{
		check(rule.text_len <= PX_RULE_TEXT_MAX, "rule text longer than its maximum");
		round_trip(&rule, first, second, cap);
	}
	else
	{
		check(error != NULL && at <= size, "a refusal without a message or with a bad offset");
		rule_from_bytes(data, size, &rule);
		round_trip(&rule, first, second, cap);
	}
	free(first);
	free(second);
	return 0;
}
