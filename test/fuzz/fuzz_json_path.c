/*
 * fuzz_json_path.c
 *		libFuzzer target: the JSON paths of the jsonb(...) masking rule.
 *
 * For every input the path parser accepts, the canonical text must fit its
 * documented capacity, parse again to the same steps and format to the same
 * bytes (a fixed point).  Refusals must carry a message and an offset inside
 * the input.  The input, quoted, is also tried as the path of a jsonb rule,
 * which must then round-trip through its canonical form.
 */
#include "px_mask.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int ok, const char *what)
{
	if (!ok)
	{
		fprintf(stderr, "fuzz_json_path: %s\n", what);
		abort();
	}
}

static void
same_path(const px_json_path *a, const px_json_path *b)
{
	int			i;

	check(a->nsteps == b->nsteps, "step count differs after the round trip");
	for (i = 0; i < a->nsteps; i++)
	{
		check(a->steps[i].kind == b->steps[i].kind, "step kind differs");
		if (a->steps[i].kind == PX_JSON_STEP_INDEX)
			check(a->steps[i].index == b->steps[i].index, "index differs");
		if (a->steps[i].kind == PX_JSON_STEP_KEY)
			check(a->steps[i].key_len == b->steps[i].key_len &&
				  memcmp(a->keys + a->steps[i].key_off, b->keys + b->steps[i].key_off,
						 a->steps[i].key_len) == 0, "member name differs");
	}
}

static void
rule_round_trip(const uint8_t *data, size_t size)
{
	/* jsonb('<input, quotes doubled>' email) */
	char	   *text = malloc(2 * size + 32);
	size_t		n = 0;
	size_t		i;
	px_mask_rule rule;
	px_mask_rule again;
	const char *error = NULL;
	size_t		at = 0;
	static char out[PX_RULE_FORMAT_MAX + 1];
	static char out2[PX_RULE_FORMAT_MAX + 1];
	size_t		m;
	char	   *exact;

	check(text != NULL, "out of memory");
	n += (size_t) sprintf(text, "jsonb('");
	for (i = 0; i < size; i++)
	{
		if (data[i] == '\'')
			text[n++] = '\'';
		text[n++] = (char) data[i];
	}
	n += (size_t) sprintf(text + n, "' email)");
	if (px_rule_parse(text, n, &rule, &error, &at))
	{
		check(rule.kind == PX_RULE_JSONB && rule.nparts == 1, "not a one-part jsonb rule");
		m = px_rule_format(&rule, out);
		check(m < sizeof(out) && out[m] == '\0', "canonical rule does not fit");
		exact = malloc(m);
		check(exact != NULL, "out of memory");
		memcpy(exact, out, m);
		check(px_rule_parse(exact, m, &again, &error, &at), "canonical rule does not parse");
		check(again.nparts == 1 && again.pool_len == rule.pool_len &&
			  memcmp(again.pool, rule.pool, rule.pool_len) == 0, "rule differs after the round trip");
		check(px_rule_format(&again, out2) == m && memcmp(out, out2, m) == 0,
			  "canonical rule is not a fixed point");
		free(exact);
	}
	else
		check(error != NULL && at <= n, "a refused rule without a message or with a bad offset");
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	px_json_path path;
	px_json_path again;
	const char *error = NULL;
	size_t		at = 0;
	char		out[PX_JSON_PATH_FORMAT_MAX + 1];
	char		out2[PX_JSON_PATH_FORMAT_MAX + 1];
	char	   *exact = malloc(size ? size : 1);
	size_t		n;

	check(exact != NULL, "out of memory");
	memcpy(exact, data, size);
	if (px_json_path_parse(exact, size, &path, &error, &at))
	{
		check(path.nsteps >= 1 && path.nsteps <= PX_JSON_PATH_MAX_STEPS, "step count out of range");
		n = px_json_path_format(&path, out);
		check(n < sizeof(out) && out[n] == '\0' && strlen(out) == n, "canonical path does not fit");
		check(n <= size, "canonical path longer than the path");
		check(px_json_path_parse(out, n, &again, &error, &at), "canonical path does not parse");
		same_path(&path, &again);
		check(px_json_path_format(&again, out2) == n && memcmp(out, out2, n) == 0,
			  "canonical path is not a fixed point");
	}
	else
		check(error != NULL && at <= size, "a refusal without a message or with a bad offset");
	free(exact);
	rule_round_trip(data, size);
	return 0;
}
