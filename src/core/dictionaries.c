/*
 * dictionaries.c
 *		Lookup in the dictionaries compiled from data/dict/ (px_dict.h).
 */
#include "px_dict.h"

#include <string.h>

static unsigned char
ascii_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char) (c + ('a' - 'A')) : c;
}

/* Compares s[0..len) with the NUL-terminated entry, ASCII case folded. */
static int
compare_folded(const char *s, size_t len, const char *entry)
{
	size_t		i;

	for (i = 0; i < len; i++)
	{
		unsigned char a = ascii_lower((unsigned char) s[i]);
		unsigned char b = ascii_lower((unsigned char) entry[i]);

		if (b == '\0')
			return 1;			/* entry is a proper prefix of s */
		if (a != b)
			return a < b ? -1 : 1;
	}
	return entry[len] == '\0' ? 0 : -1;
}

int
px_dict_size(PxDictKind kind)
{
	if ((int) kind < 0 || kind >= PX_DICT_COUNT)
		return 0;
	return px_dictionaries[kind].count;
}

const char *
px_dict_entry(PxDictKind kind, int index)
{
	if (index < 0 || index >= px_dict_size(kind))
		return NULL;
	return px_dictionaries[kind].entries[index];
}

bool
px_dict_contains(PxDictKind kind, const char *s, size_t len)
{
	int			lo = 0;
	int			hi = px_dict_size(kind) - 1;

	if (s == NULL || len == 0)
		return false;
	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			c = compare_folded(s, len, px_dictionaries[kind].entries[mid]);

		if (c == 0)
			return true;
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return false;
}
