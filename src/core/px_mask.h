/*
 * px_mask.h
 *		Backend-free masking algorithms on UTF-8 buffers and numbers.
 *
 * None of these can fail: every input, including invalid UTF-8 and empty
 * strings, has a defined output.  Output buffers are the caller's; each
 * function documents the capacity it needs and returns the bytes written.
 */
#ifndef PX_MASK_H
#define PX_MASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Number of characters; a byte that is not a valid UTF-8 lead counts as one. */
extern size_t px_utf8_chars(const char *s, size_t len);

/*
 * Keep `prefix` leading and `suffix` trailing characters around `pad`.
 * When the value has no more than prefix + suffix characters, nothing of it
 * is kept: the result is the padding alone.  The result never equals the
 * input.  Capacity: len + pad_len + 1.  Negative counts act as 0.
 */
extern size_t px_mask_partial(const char *in, size_t len, int prefix,
							  const char *pad, size_t pad_len, int suffix, char *out);

/*
 * a***@e***.com: first character of the local part and of the domain, the
 * top-level domain kept; the last '@' separates local part and domain.
 * Without '@', the first character and "***".  Capacity: len + 8.
 */
extern size_t px_mask_email(const char *in, size_t len, char *out);

/*
 * Every digit but the last four replaced by '*' (all of them when there
 * are four or fewer), letters replaced too, separators kept.
 * Capacity: len.
 */
extern size_t px_mask_credit_card(const char *in, size_t len, char *out);

/* Lower bound of the step-wide bucket holding v (floor division). */
extern int64_t px_generalize_int(int64_t v, int64_t step);
extern double px_generalize_double(double v, double step);

/*
 * A value in [-1, 1] derived from a 32-byte MAC of the input: the same
 * input always gets the same noise.
 */
extern double px_noise_unit(const uint8_t mac[32]);

/* --- masking rules ------------------------------------------------------ */

typedef enum px_rule_kind
{
	PX_RULE_NONE = 0,			/* shown in clear */
	PX_RULE_NULL,				/* NULL */
	PX_RULE_REDACT,				/* a fixed placeholder of the column's type */
	PX_RULE_EMAIL,
	PX_RULE_CREDIT_CARD,
	PX_RULE_PARTIAL,			/* partial(prefix, 'padding', suffix) */
	PX_RULE_HASH,				/* hash('key name') */
	PX_RULE_GENERALIZE_STEP,	/* generalize(step) */
	PX_RULE_GENERALIZE_UNIT,	/* generalize('month' | 'year' | 'decade') */
	PX_RULE_NOISE,				/* noise(ratio) */
	PX_RULE_VALUE				/* value 'constant' */
} px_rule_kind;

#define PX_RULE_TEXT_MAX 256

typedef struct px_mask_rule
{
	px_rule_kind kind;
	int			prefix;
	int			suffix;
	double		number;			/* generalize step, noise ratio */
	char		text[PX_RULE_TEXT_MAX + 1];	/* padding, key name, unit, constant */
	size_t		text_len;
} px_mask_rule;

/*
 * Parse a rule.  Returns true on success; otherwise false with a message
 * (static text) and the byte offset where the problem is.  Arbitrary SQL is
 * not part of the grammar: a rule is one of the fixed forms above, with
 * integer, number and quoted-string arguments only.
 */
extern bool px_rule_parse(const char *s, size_t len, px_mask_rule *rule,
						  const char **error, size_t *error_at);

/*
 * Canonical text of a rule (what is stored).  Returns its length in bytes;
 * the text is followed by a NUL, not counted.  Capacity: PX_RULE_FORMAT_MAX
 * (every quote doubled, the longest number, the NUL).
 */
#define PX_RULE_FORMAT_MAX (2 * PX_RULE_TEXT_MAX + 64)
extern size_t px_rule_format(const px_mask_rule *rule, char *out);

#endif							/* PX_MASK_H */
