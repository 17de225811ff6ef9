/*
 * consent/subject_set.h
 *		A set of consenting subjects, by keyed 64-bit hash, with expiries
 *		(consent/subject_set.c): open addressing, grown by doubling.
 */
#ifndef PX_CONSENT_SUBJECT_SET_H
#define PX_CONSENT_SUBJECT_SET_H

#include "postgres.h"
#include "datatype/timestamp.h"

/*
 * Subjects with valid consent to a purpose chain, by px_consent_hash():
 * those whose consent never expires in slots, the others with their expiry.
 */
typedef struct PxSubjectSet
{
	uint64	   *slots;			/* 0 = empty */
	uint64		mask;
	uint64		count;
	uint64	   *exp_hash;		/* 0 = empty */
	TimestampTz *exp_at;
	uint64		exp_mask;
	uint64		exp_count;
} PxSubjectSet;

/* An empty set, its slots allocated in mcxt. */
extern void px_subject_set_init(PxSubjectSet *set, MemoryContext mcxt);
extern bool px_subject_set_add(PxSubjectSet *set, uint64 h, TimestampTz expires, MemoryContext mcxt);

/* The slot of h in an open-addressing table of hashes, or -1. */
static inline int64
px_subject_slots_find(const uint64 *slots, uint64 mask, uint64 h)
{
	uint64		i;

	if (slots == NULL)
		return -1;
	i = h & mask;
	while (slots[i] != 0)
	{
		if (slots[i] == h)
			return (int64) i;
		i = (i + 1) & mask;
	}
	return -1;
}

/* Whether h has consent that expires and is valid at now. */
static inline bool
px_subject_set_expiring_contains(const PxSubjectSet *set, uint64 h, TimestampTz now)
{
	int64		i;

	if (set->exp_count == 0)
		return false;
	i = px_subject_slots_find(set->exp_hash, set->exp_mask, h);
	return i >= 0 && set->exp_at[i] > now;
}

/*
 * Whether h has valid consent at now.  Inline: has_consent() asks it for
 * every row a protected table shows.
 */
static inline bool
px_subject_set_contains(const PxSubjectSet *set, uint64 h, TimestampTz now)
{
	if (px_subject_slots_find(set->slots, set->mask, h) >= 0)
		return true;
	return px_subject_set_expiring_contains(set, h, now);
}

#endif							/* PX_CONSENT_SUBJECT_SET_H */
