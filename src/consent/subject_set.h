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
extern bool px_subject_set_contains(const PxSubjectSet *set, uint64 h, TimestampTz now);
extern bool px_subject_set_add(PxSubjectSet *set, uint64 h, TimestampTz expires, MemoryContext mcxt);

#endif							/* PX_CONSENT_SUBJECT_SET_H */
