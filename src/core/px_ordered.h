/*
 * px_ordered.h
 *		A sorted list of distinct byte strings searched from a cursor that
 *		remembers where the previous key fell (ordered_keys.c).
 *
 * Why: has_consent() answers a scan's rows from a set of consenting
 * subjects.  A hash set costs one random memory access per row, and once
 * the set outgrows the CPU caches (a few MB: some 250,000 subjects) that
 * access is a cache miss of 100-150 ns, most of the row's cost.  Tables
 * are very often stored in the order of their subject key (serial ids,
 * time-ordered keys, bulk loads), so successive rows' subjects are close
 * in byte order: searched from the previous row's position in the sorted
 * list, each row reads the same or the next cache lines.  The cursor
 * watches whether the keys arrive in order and follows them only then;
 * otherwise the caller keeps using its hash set.
 *
 * Order: bytewise (memcmp), a prefix before its extensions: the order of
 * text under the C collation.  Backend-free, like the rest of src/core.
 */
#ifndef PX_ORDERED_H
#define PX_ORDERED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Key i is bytes[start[i] .. start[i+1]), keys strictly increasing. */
typedef struct px_ordered_keys
{
	uint32_t	n;
	const uint32_t *start;		/* n + 1 offsets */
	const char *bytes;
} px_ordered_keys;

/* Keys compared while the cursor decides whether they arrive in order. */
#define PX_CURSOR_PREFIX 48

typedef enum px_cursor_mode
{
	PX_CURSOR_WATCHING = 0,		/* counting keys in order; the caller answers */
	PX_CURSOR_FOLLOWING,		/* answering from the position of the last key */
	PX_CURSOR_BACKING_OFF,		/* keys in order but far apart: the caller answers a while */
	PX_CURSOR_OFF				/* keys are not in order: the caller answers */
} px_cursor_mode;

/*
 * A search position and the statistics that switch it on and off.  All
 * zero is a fresh cursor; any state, even one left by another list, gives
 * exact answers (a stale position only costs a longer search).
 */
typedef struct px_key_cursor
{
	uint8_t		mode;			/* px_cursor_mode */
	uint8_t		watches;		/* watch windows that ended without following */
	uint16_t	watched;		/* keys seen in the current window */
	uint16_t	in_order;		/* ... of them not below the one before */
	int32_t		credit;			/* following: spent by jumps, earned by near keys */
	uint32_t	pos;			/* lower bound of the last key followed */
	uint32_t	backoff;		/* keys to leave to the caller when out of credit */
	uint32_t	skip;			/* ... of them still to come */
	uint32_t	prev_len;		/* the previous key (its first PX_CURSOR_PREFIX bytes) */
	char		prev[PX_CURSOR_PREFIX];
} px_key_cursor;

/* memcmp order, a prefix first: <0, 0, >0. */
extern int	px_ordered_compare(const char *a, size_t alen, const char *b, size_t blen);

/* The index of the first key >= key (n when there is none). */
extern uint32_t px_ordered_lower_bound(const px_ordered_keys *keys, const char *key, size_t len);

/*
 * Whether key is in keys: 1 or 0, or -1 when the cursor does not follow
 * the keys (not yet, or not in this run of calls): the caller answers
 * from its own structure then.
 */
extern int	px_ordered_find(const px_ordered_keys *keys, px_key_cursor *cursor,
							const char *key, size_t len);

#endif							/* PX_ORDERED_H */
