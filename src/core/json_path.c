/*
 * json_path.c
 *		The paths of the jsonb('path' rule, ...) masking rule (grammar in
 *		px_mask.h): a '$' and member, index and [*] steps, parsed into a flat
 *		step list and written back in canonical form.
 *
 * A small subset of SQL/JSON path on purpose: no filters, no expressions,
 * no wildcards over members, so that a path names values and cannot
 * compute anything.  Backend-free; the walk over a jsonb value is in
 * src/masking/jsonb_rule.c.
 */
#include "px_mask.h"

#include <stdio.h>
#include <string.h>

static bool
name_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '_' || c >= 0x80;
}

static bool
path_fail(const char **error, size_t *error_at, const char *msg, size_t at)
{
	*error = msg;
	*error_at = at;
	return false;
}

bool
px_json_path_parse(const char *s, size_t len, px_json_path *path,
				   const char **error, size_t *error_at)
{
	size_t		pos = 1;

	memset(path, 0, sizeof(*path));
	if (len > PX_JSON_PATH_MAX)
		return path_fail(error, error_at, "path too long", PX_JSON_PATH_MAX);
	if (len == 0 || s[0] != '$')
		return path_fail(error, error_at, "a path starts with \"$\"", 0);
	if (len == 1)
		return path_fail(error, error_at, "a path needs at least one step after \"$\"", 1);
	while (pos < len)
	{
		px_json_step *step;

		if (path->nsteps == PX_JSON_PATH_MAX_STEPS)
			return path_fail(error, error_at, "path has too many steps", pos);
		step = &path->steps[path->nsteps];
		if (s[pos] == '.')
		{
			pos++;
			step->kind = PX_JSON_STEP_KEY;
			step->key_off = (uint16_t) path->keys_len;
			if (pos < len && s[pos] == '"')
			{
				pos++;
				for (;;)
				{
					if (pos >= len)
						return path_fail(error, error_at, "unterminated quoted member name", pos);
					if (s[pos] == '"')
						break;
					if (s[pos] == '\0')
						return path_fail(error, error_at, "zero byte in a member name", pos);
					if (s[pos] == '\\')
					{
						pos++;
						if (pos >= len || (s[pos] != '"' && s[pos] != '\\'))
							return path_fail(error, error_at,
											 "only \\\" and \\\\ are escapes in a member name", pos);
					}
					/* keys_len < len <= PX_JSON_PATH_MAX: every key byte came from the text */
					path->keys[path->keys_len++] = s[pos++];
				}
				pos++;			/* the closing quote */
			}
			else
			{
				size_t		start = pos;

				while (pos < len && name_byte((unsigned char) s[pos]))
					path->keys[path->keys_len++] = s[pos++];
				if (pos == start)
					return path_fail(error, error_at, "expected a member name after \".\"", pos);
			}
			step->key_len = (uint16_t) (path->keys_len - step->key_off);
		}
		else if (s[pos] == '[')
		{
			pos++;
			if (pos < len && s[pos] == '*')
			{
				step->kind = PX_JSON_STEP_ALL;
				pos++;
			}
			else
			{
				long		n = 0;
				size_t		start = pos;

				while (pos < len && s[pos] >= '0' && s[pos] <= '9')
				{
					n = n * 10 + (s[pos] - '0');
					if (n > PX_JSON_INDEX_MAX)
						return path_fail(error, error_at, "array index too large", start);
					pos++;
				}
				if (pos == start)
					return path_fail(error, error_at,
									 "expected \"*\" or a non-negative array index after \"[\"", pos);
				step->kind = PX_JSON_STEP_INDEX;
				step->index = (int) n;
			}
			if (pos >= len || s[pos] != ']')
				return path_fail(error, error_at, "expected \"]\"", pos);
			pos++;
		}
		else
			return path_fail(error, error_at, "expected \".\" or \"[\" in the path", pos);
		path->nsteps++;
	}
	return true;
}

size_t
px_json_path_format(const px_json_path *path, char *out)
{
	size_t		n = 0;
	int			i;

	out[n++] = '$';
	for (i = 0; i < path->nsteps && i < PX_JSON_PATH_MAX_STEPS; i++)
	{
		const px_json_step *step = &path->steps[i];

		if (step->kind == PX_JSON_STEP_KEY)
		{
			const char *key = path->keys + step->key_off;
			size_t		key_len = step->key_len;
			bool		bare = key_len > 0;
			size_t		j;

			if ((size_t) step->key_off + key_len > path->keys_len)
				key_len = 0;	/* a malformed path: an empty name, still well-formed text */
			for (j = 0; j < key_len && bare; j++)
				bare = name_byte((unsigned char) key[j]);
			out[n++] = '.';
			if (!bare || key_len == 0)
				out[n++] = '"';
			for (j = 0; j < key_len; j++)
			{
				if (!bare && (key[j] == '"' || key[j] == '\\'))
					out[n++] = '\\';
				out[n++] = key[j];
			}
			if (!bare || key_len == 0)
				out[n++] = '"';
		}
		else if (step->kind == PX_JSON_STEP_ALL)
		{
			memcpy(out + n, "[*]", 3);
			n += 3;
		}
		else
			n += (size_t) sprintf(out + n, "[%d]", step->index);
	}
	out[n] = '\0';
	return n;
}
