/*
 * consent/parallel.h
 *		How the parallel workers of a statement answer has_consent() exactly
 *		as its leader does (consent/parallel.c): the leader publishes what it
 *		decided for the statement -- the purpose, the role's right to it, the
 *		time expiry is judged at, its set of consenting subjects and the
 *		subjects changed since that set was read -- in a dynamic shared
 *		memory segment, and its workers read that instead of deciding anew.
 */
#ifndef PX_CONSENT_PARALLEL_H
#define PX_CONSENT_PARALLEL_H

#include "postgres.h"
#include "datatype/timestamp.h"
#include "storage/dsm.h"
#include "utils/snapshot.h"

#include "consent/subject_set.h"
#include "consent/watch.h"
#include "px_ordered.h"

/* A purpose and its ancestors, at most. */
#define PX_MAX_CHAIN 16

/* What the leader found when it checked the declared purpose. */
typedef enum PxPurposeVerdict
{
	PX_PURPOSE_USABLE,
	PX_PURPOSE_UNKNOWN,			/* "processing purpose ... does not exist" */
	PX_PURPOSE_NOT_GRANTED		/* "role ... may not process data for purpose ..." */
} PxPurposeVerdict;

/*
 * The leader's decisions for one statement.  Read-only for workers: they
 * find it through the leader's slot in shared memory, attached once.
 */
typedef struct PxConsentDecision
{
	uint32		magic;
	int32		leader_pid;
	TimestampTz statement_start;	/* the leader's, synced to its workers */
	Oid			userid;
	char		purpose[NAMEDATALEN];
	PxPurposeVerdict verdict;
	bool		needs_consent;
	TimestampTz now;			/* expiry is judged at this time */
	int32		min_ordinal;
	Oid			consent_relid;
	Oid			consent_index;
	int			nchain;
	char		chain[PX_MAX_CHAIN][NAMEDATALEN];

	/*
	 * The leader's set, valid for the statement's snapshot described below:
	 * its arrays are in a segment of their own, kept by the leader across
	 * statements while its set is unchanged.
	 */
	bool		has_set;
	dsm_handle	set_handle;
	PxSubjectSet set;			/* pointers are fixed up by the reader */
	uint32		order_n;		/* its sorted list's length (0: none) */
	bool		has_dirty;
	int			ndirty;

	/* The snapshot the set is exact for. */
	TransactionId xmin;
	TransactionId xmax;
	uint32		xcnt;
	int32		subxcnt;
	bool		suboverflowed;
	bool		taken_during_recovery;
	CommandId	curcid;

	/* Offsets of the set's arrays in the set's segment. */
	Size		off_slots;
	Size		off_exp_hash;
	Size		off_exp_at;
	Size		off_order_start;
	Size		off_order_bytes;
	/* Offsets from the start of this segment of the arrays that follow. */
	Size		off_dirty;
	Size		off_xip;
	Size		off_subxip;
} PxConsentDecision;

/* Largest set the leader copies for its workers; above it they probe. */
#define PX_PARALLEL_SET_MAX_BYTES ((Size) 256 * 1024 * 1024)

/* From _PG_init (shared memory only while shared_preload_libraries load). */
extern void px_install_consent_parallel(bool preloaded);

/*
 * Leader: publish d (and the set, its sorted list and the dirty subjects,
 * when given) for the workers of the statement being run.  set_owner and set_version name a
 * set kept across statements, whose copy is then kept too while they stay
 * the same (NULL: a set of this statement only).  False when it cannot (no
 * shared memory): the statement then runs without workers.
 */
extern bool px_consent_publish(PxConsentDecision *d, const PxSubjectSet *set,
							   const px_ordered_keys *order,
							   const void *set_owner, uint64 set_version,
							   const PxConsentWatch *watch, Snapshot snap);

/* Leader: whether a segment is published now. */
extern bool px_consent_publishing(void);

/* Leader: drop the published segment (its workers have finished). */
extern void px_consent_unpublish(void);

/* Worker: the leader's decisions for this statement, or NULL. */
extern const PxConsentDecision *px_consent_leader_decision(void);

/* Worker: d's set, its sorted list and dirty subjects, usable only under d's snapshot. */
extern bool px_consent_decision_set(const PxConsentDecision *d, PxSubjectSet *set,
									px_ordered_keys *order, PxConsentWatch *watch);

#endif							/* PX_CONSENT_PARALLEL_H */
