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
 * The most bytes px_mask_partial() writes for these arguments (its result's
 * length, or one more): what a caller allocates when the padding may be
 * long, so that the capacity above is not reserved for nothing.
 */
extern size_t px_mask_partial_len(const char *in, size_t len, int prefix,
								  size_t pad_len, int suffix);

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
extern int64_t px_generalize_int_by(int64_t v, double step);
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
	PX_RULE_VALUE,				/* value 'constant' */
	PX_RULE_FAKE,				/* fake('kind'): see px_fake() */
	PX_RULE_JSONB				/* jsonb('path' rule, ...) */
} px_rule_kind;

#define PX_RULE_TEXT_MAX 256

/*
 * jsonb('path' rule, ...): at most PX_JSONB_MAX_PARTS pairs; their canonical
 * paths and inner string arguments share one pool of PX_JSONB_POOL_MAX bytes,
 * so that a rule stays a flat value (no allocation, copied by assignment).
 */
#define PX_JSONB_MAX_PARTS 8
#define PX_JSONB_POOL_MAX 1024

typedef struct px_jsonb_part
{
	px_rule_kind kind;			/* the inner rule: never JSONB nor GENERALIZE_UNIT */
	int			prefix;
	int			suffix;
	double		number;
	uint16_t	path_off;		/* canonical path text in pool */
	uint16_t	path_len;
	uint16_t	text_off;		/* the inner rule's string argument in pool */
	uint16_t	text_len;
} px_jsonb_part;

typedef struct px_mask_rule
{
	px_rule_kind kind;
	int			prefix;
	int			suffix;
	double		number;			/* generalize step, noise ratio */
	char		text[PX_RULE_TEXT_MAX + 1];	/* padding, key name, unit, constant, fake kind */
	size_t		text_len;
	/* PX_RULE_JSONB only (nparts is 0 for every other kind) */
	int			nparts;
	px_jsonb_part parts[PX_JSONB_MAX_PARTS];
	char		pool[PX_JSONB_POOL_MAX];
	size_t		pool_len;
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
#define PX_RULE_FORMAT_MAX (2 * PX_JSONB_POOL_MAX + 80 * PX_JSONB_MAX_PARTS + 2 * PX_RULE_TEXT_MAX + 64)
extern size_t px_rule_format(const px_mask_rule *rule, char *out);

/*
 * Part i of a jsonb rule as a rule of its own (inner) and its canonical path
 * (path, path_len: pointing into rule->pool, not NUL-terminated).  False when
 * i is out of range.
 */
extern bool px_jsonb_part_rule(const px_mask_rule *rule, int i, px_mask_rule *inner,
							   const char **path, size_t *path_len);

/* --- JSON paths (src/core/json_path.c) ------------------------------------ */

/*
 * path := '$' step+
 * step := '.' name | '.' '"' quoted '"' | '[' '*' ']' | '[' index ']'
 * name := one or more ASCII letters, digits, '_' or bytes >= 0x80 (UTF-8)
 * quoted := any bytes but NUL, with \" and \\ for a quote and a backslash
 * index := 0 .. PX_JSON_INDEX_MAX, decimal
 * No blanks.  The canonical text writes a name bare when it can be.
 */
#define PX_JSON_PATH_MAX 128	/* bytes of a path's text, canonical or not */
#define PX_JSON_PATH_MAX_STEPS 32
#define PX_JSON_INDEX_MAX 1000000

typedef enum px_json_step_kind
{
	PX_JSON_STEP_KEY,			/* .name: an object member; in an array, each element's */
	PX_JSON_STEP_INDEX,			/* [n]: the element of an array */
	PX_JSON_STEP_ALL			/* [*]: every element of an array */
} px_json_step_kind;

typedef struct px_json_step
{
	px_json_step_kind kind;
	int			index;
	uint16_t	key_off;		/* unescaped member name in keys */
	uint16_t	key_len;
} px_json_step;

typedef struct px_json_path
{
	int			nsteps;
	px_json_step steps[PX_JSON_PATH_MAX_STEPS];
	char		keys[PX_JSON_PATH_MAX];
	size_t		keys_len;
} px_json_path;

/* Parse; on failure false with a static message and the byte offset. */
extern bool px_json_path_parse(const char *s, size_t len, px_json_path *path,
							   const char **error, size_t *error_at);

/* Canonical text, NUL-terminated, its length returned.  Capacity: PX_JSON_PATH_FORMAT_MAX. */
#define PX_JSON_PATH_FORMAT_MAX (2 * PX_JSON_PATH_MAX + 8 * PX_JSON_PATH_MAX_STEPS + 2)
extern size_t px_json_path_format(const px_json_path *path, char *out);

/* --- fake values (src/core/fake.c) ---------------------------------------- */

typedef enum px_fake_kind
{
	PX_FAKE_FIRST_NAME = 0,
	PX_FAKE_LAST_NAME,
	PX_FAKE_EMAIL,
	PX_FAKE_PHONE,
	PX_FAKE_CITY,
	PX_FAKE_COUNTRY,
	PX_FAKE_COMPANY,
	PX_FAKE_IBAN,
	PX_FAKE_KIND_COUNT
} px_fake_kind;

/* The kind named exactly s[0..len) ("first_name", ...); false if none is. */
extern bool px_fake_kind_from_name(const char *s, size_t len, px_fake_kind *kind);
extern const char *px_fake_kind_name(px_fake_kind kind);

/*
 * A realistic fake of the given kind for in[0..len), chosen by HMAC-SHA-256
 * of the kind and the input under key: the same key and input always give
 * the same fake, and without the key the mapping cannot be computed.  The
 * fake never equals the input (ASCII and Latin-1 letters compared without
 * case).
 * Writes a NUL-terminated string of at most PX_FAKE_MAX - 1 bytes and
 * returns its length; 0 only if HMAC fails (nothing usable was written).
 */
#define PX_FAKE_MAX 160
extern size_t px_fake(px_fake_kind kind, const uint8_t key[32], const char *in, size_t len,
					  char out[PX_FAKE_MAX]);

/* Whether s[0..len) is an IBAN whose mod-97 check digits are right. */
extern bool px_iban_valid(const char *s, size_t len);

#endif							/* PX_MASK_H */
