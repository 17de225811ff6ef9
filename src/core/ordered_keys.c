/*
 * ordered_keys.c
 *		Searching a sorted list of byte strings from the previous key's
 *		position (px_ordered.h says why).
 *
 * The cursor watches windows of keys first.  When most keys of a window
 * are not below the one before (a child table's rows repeat their
 * subject), the keys arrive in order: the cursor
 * finds the current key by a binary search once, then each next key by
 * galloping from there (positions +1, +2, +4, ...) and a binary search
 * inside the bracket found, all of it on cache lines next to the last
 * ones.  A key beyond the gallop's reach is found by a binary search over
 * what is left, a dozen cache misses where the caller's hash set pays
 * one: each jump costs the cursor credit, each near key earns some back,
 * and out of credit the cursor lets the caller answer for a while (twice
 * as long each time) before it tries again.  Keys in order can still lie
 * far apart in the list: a table of subjects 'c1', 'c2', ... meets in its
 * first thousand rows subjects that sort thousands of places apart
 * ('c64' ... 'c640000' ... 'c65'), and then, from 'c1000' on, neighbours.
 * Every answer is exact whatever the cursor's state: the state only
 * decides how much searching an answer costs.
 */
#include "px_ordered.h"

#include <string.h>

#define Min2(a, b) ((a) < (b) ? (a) : (b))

/* Keys per watch window, and how many of them must be in order to follow. */
#define WATCH_WINDOW 64
#define IN_ORDER_TO_FOLLOW 56

/* Windows without order after which the cursor stops watching. */
#define MAX_WATCHES 4

/* Doublings of the gallop before a key counts as a jump. */
#define GALLOP_STEPS 8

/*
 * Credit of a cursor that starts following, its cap, and what a jump
 * costs: a jump in more than one key of FAR_COST stops following.
 */
#define START_CREDIT 32
#define MAX_CREDIT 64
#define FAR_COST 16

/* Keys the caller answers after the cursor ran out of credit: first, and at most. */
#define FIRST_BACKOFF 64
#define MAX_BACKOFF (64 * 1024)

int
px_ordered_compare(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t		common = alen < blen ? alen : blen;
	int			c = common > 0 ? memcmp(a, b, common) : 0;

	if (c != 0)
		return c;
	return (alen > blen) - (alen < blen);
}

static inline int
compare_at(const px_ordered_keys *keys, uint32_t i, const char *key, size_t len)
{
	uint32_t	from = keys->start[i];

	return px_ordered_compare(keys->bytes + from, keys->start[i + 1] - from, key, len);
}

/*
 * Binary search strictly between lo and hi, where keys[lo] < key (lo = -1:
 * no such key) and key < keys[hi] or hi = n.  Leaves the lower bound of
 * key in *pos and returns whether key is there.
 */
static int
search_between(const px_ordered_keys *keys, int64_t lo, int64_t hi, const char *key, size_t len,
			   uint32_t *pos)
{
	while (hi - lo > 1)
	{
		int64_t		mid = lo + (hi - lo) / 2;
		int			c = compare_at(keys, (uint32_t) mid, key, len);

		if (c == 0)
		{
			*pos = (uint32_t) mid;
			return 1;
		}
		if (c < 0)
			lo = mid;
		else
			hi = mid;
	}
	*pos = (uint32_t) hi;
	return 0;
}

uint32_t
px_ordered_lower_bound(const px_ordered_keys *keys, const char *key, size_t len)
{
	uint32_t	pos;

	search_between(keys, -1, keys->n, key, len, &pos);
	return pos;
}

/* A key found near the last one: the cursor moves there and earns credit. */
static inline int
found_near(px_key_cursor *cursor, uint32_t pos)
{
	cursor->pos = pos;
	if (cursor->credit < MAX_CREDIT)
		cursor->credit++;
	return 1;
}

/*
 * The next key while following: from the last position, galloping forward
 * when keys[pos] < key, backward otherwise (pos = n counts as past every
 * key), to a bracket (lo, hi) around the key, then a binary search in it.
 */
static int
follow(const px_ordered_keys *keys, px_key_cursor *cursor, const char *key, size_t len)
{
	uint32_t	n = keys->n;
	uint32_t	pos = cursor->pos <= n ? cursor->pos : n;
	int			c = pos < n ? compare_at(keys, pos, key, len) : 1;
	int			dir = c < 0 ? 1 : -1;
	int64_t		lo = dir > 0 ? (int64_t) pos : -1;
	int64_t		hi = dir > 0 ? (int64_t) n : (int64_t) pos;
	int64_t		step = 1;
	int			steps;
	int			found;

	if (c == 0)
		return found_near(cursor, pos);
	for (steps = 0; steps < GALLOP_STEPS; steps++, step *= 2)
	{
		int64_t		probe = (int64_t) pos + dir * step;

		if (probe < 0 || probe >= n)
			break;
		c = compare_at(keys, (uint32_t) probe, key, len);
		if (c == 0)
			return found_near(cursor, (uint32_t) probe);
		/* keys[lo] < key < keys[hi] stays true whichever bound moves */
		if (c > 0)
			hi = probe;
		else
			lo = probe;
		if ((c > 0) == (dir > 0))
			break;				/* stepped past the key: bracketed */
	}
	found = search_between(keys, lo, hi, key, len, &cursor->pos);
	if (steps < GALLOP_STEPS)
	{
		if (cursor->credit < MAX_CREDIT)
			cursor->credit++;
	}
	else if ((cursor->credit -= FAR_COST) <= 0)
	{
		/* Out of credit: the caller answers the next keys; then try again. */
		cursor->mode = PX_CURSOR_BACKING_OFF;
		cursor->backoff = cursor->backoff == 0 ? FIRST_BACKOFF :
			Min2(cursor->backoff * 2, MAX_BACKOFF);
		cursor->skip = cursor->backoff;
	}
	return found;
}

/* Start following at key: a binary search over the whole list. */
static int
start_following(const px_ordered_keys *keys, px_key_cursor *cursor, const char *key, size_t len)
{
	cursor->mode = PX_CURSOR_FOLLOWING;
	cursor->credit = START_CREDIT;
	return search_between(keys, -1, keys->n, key, len, &cursor->pos);
}

int
px_ordered_find(const px_ordered_keys *keys, px_key_cursor *cursor, const char *key, size_t len)
{
	size_t		kept = len < PX_CURSOR_PREFIX ? len : PX_CURSOR_PREFIX;

	if (cursor->mode == PX_CURSOR_FOLLOWING)
		return follow(keys, cursor, key, len);
	if (cursor->mode == PX_CURSOR_BACKING_OFF)
	{
		if (--cursor->skip > 0)
			return -1;
		return start_following(keys, cursor, key, len);
	}
	if (cursor->mode != PX_CURSOR_WATCHING)
		return -1;

	/*
	 * Watching: is the key in order, not below the previous one?  Compared
	 * on their first PX_CURSOR_PREFIX bytes (equal there counts as in
	 * order: following only costs searches, never a wrong answer).
	 */
	if (cursor->watched > 0 &&
		px_ordered_compare(cursor->prev, cursor->prev_len < PX_CURSOR_PREFIX ?
						   cursor->prev_len : PX_CURSOR_PREFIX, key, kept) <= 0)
		cursor->in_order++;
	memcpy(cursor->prev, key, kept);
	cursor->prev_len = (uint32_t) len;
	if (++cursor->watched < WATCH_WINDOW)
		return -1;
	if (cursor->in_order >= IN_ORDER_TO_FOLLOW)
		return start_following(keys, cursor, key, len);
	cursor->watched = 0;
	cursor->in_order = 0;
	if (++cursor->watches >= MAX_WATCHES)
		cursor->mode = PX_CURSOR_OFF;
	return -1;
}
