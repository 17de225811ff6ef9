/*
 * consent/subject_set.c
 *		The set has_consent() answers from (consent/policy.c): subjects whose
 *		consent never expires in one table of hashes, the others in a second
 *		with their expiry.  Hash 0 marks an empty slot.
 */
#include "errors.h"
#include "consent/subject_set.h"

#include "utils/memutils.h"
#include "utils/timestamp.h"

/* Largest set of consenting subjects one statement builds (slots of 8 bytes). */
#define SET_LIMIT (16 * 1024 * 1024)

void
px_subject_set_init(PxSubjectSet *set, MemoryContext mcxt)
{
	memset(set, 0, sizeof(PxSubjectSet));
	set->mask = 1023;
	set->slots = MemoryContextAllocZero(mcxt, sizeof(uint64) * (set->mask + 1));
	set->exp_mask = 15;
	set->exp_hash = MemoryContextAllocZero(mcxt, sizeof(uint64) * (set->exp_mask + 1));
	set->exp_at = MemoryContextAllocZero(mcxt, sizeof(TimestampTz) * (set->exp_mask + 1));
}

static void
slots_add(uint64 *slots, uint64 mask, uint64 h, TimestampTz *at, TimestampTz expires,
		  uint64 *count)
{
	uint64		i = h & mask;

	while (slots[i] != 0)
	{
		if (slots[i] == h)
		{
			if (at != NULL && at[i] < expires)
				at[i] = expires;
			return;
		}
		i = (i + 1) & mask;
	}
	slots[i] = h;
	if (at != NULL)
		at[i] = expires;
	(*count)++;
}

/*
 * Add h (expiring at expires, or never: DT_NOEND) to the set, growing it
 * to twice the slots when half full.  False when it would pass SET_LIMIT.
 */
bool
px_subject_set_add(PxSubjectSet *set, uint64 h, TimestampTz expires, MemoryContext mcxt)
{
	bool		never = (expires == DT_NOEND);
	uint64		count = never ? set->count : set->exp_count;
	uint64		mask = never ? set->mask : set->exp_mask;
	uint64		j;

	if (count * 2 >= mask + 1)
	{
		uint64		cap = (mask + 1) * 2;
		uint64	   *slots;
		TimestampTz *at = NULL;
		uint64		n = 0;

		if (cap > SET_LIMIT)
			return false;
		slots = MemoryContextAllocHuge(mcxt, sizeof(uint64) * cap);
		memset(slots, 0, sizeof(uint64) * cap);
		if (!never)
			at = MemoryContextAllocHuge(mcxt, sizeof(TimestampTz) * cap);
		for (j = 0; j <= mask; j++)
		{
			if (never && set->slots[j] != 0)
				slots_add(slots, cap - 1, set->slots[j], NULL, 0, &n);
			else if (!never && set->exp_hash[j] != 0)
				slots_add(slots, cap - 1, set->exp_hash[j], at, set->exp_at[j], &n);
		}
		if (never)
		{
			pfree(set->slots);
			set->slots = slots;
			set->mask = cap - 1;
		}
		else
		{
			pfree(set->exp_hash);
			pfree(set->exp_at);
			set->exp_hash = slots;
			set->exp_at = at;
			set->exp_mask = cap - 1;
		}
	}
	if (never)
		slots_add(set->slots, set->mask, h, NULL, 0, &set->count);
	else
		slots_add(set->exp_hash, set->exp_mask, h, set->exp_at, expires, &set->exp_count);
	return true;
}
