/* libFuzzer target: the masking-rule parser; the canonical form must parse back the same. */
#include "px_mask.h"

#include <stdlib.h>
#include <string.h>

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	px_mask_rule rule;
	px_mask_rule again;
	const char *error;
	size_t		at;
	static char out[PX_RULE_FORMAT_MAX];	/* jsonb(...) rules are the longest */
	size_t		n;

	if (!px_rule_parse((const char *) data, size, &rule, &error, &at))
	{
		if (error == NULL || at > size)
			abort();
		return 0;
	}
	n = px_rule_format(&rule, out);
	if (n >= sizeof(out))
		abort();
	if (!px_rule_parse(out, n, &again, &error, &at) || again.kind != rule.kind ||
		again.prefix != rule.prefix || again.suffix != rule.suffix ||
		again.text_len != rule.text_len || memcmp(again.text, rule.text, rule.text_len) != 0 ||
		again.nparts != rule.nparts || again.pool_len != rule.pool_len ||
		memcmp(again.pool, rule.pool, rule.pool_len) != 0)
		abort();
	return 0;
}
