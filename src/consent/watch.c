/*
 * consent/watch.c
 *		What lets a backend keep a set of consenting subjects across
 *		statements and still answer exactly as privacy.consent_state would.
 *
 * A set read from consent_state under a snapshot S is exact for a later
 * statement only if no transaction changed a subject's consent without the
 * set knowing.  Every change to consent_state runs a trigger that appends a
 * hash of the subject, with the writer's transaction id, to a ring in
 * shared memory, before the change can commit.  A backend holding a set:
 *	- when it builds the set, marks "dirty" every subject in the ring whose
 *	  writer S still sees as in progress (its outcome is not in the set);
 *	- before a statement uses it (once per statement and snapshot), marks
 *	  dirty every subject appended since, committed or not;
 *	- answers a dirty subject by probing the table with the statement's own
 *	  snapshot, and every other subject from the set.
 * A writer whose ring entry has been overwritten is accounted for by
 * lapped_bound: a set is only built when every such writer has finished
 * before S (S's xmin is past them).  A TRUNCATE appends an entry meaning
 * "every subject".  A statement whose snapshot is older than S (a
 * REPEATABLE READ transaction begun before the set was built, say) does
 * not use the set: it probes.
 *
 * All of this needs the shared memory of shared_preload_libraries; without
 * it, and on a hot standby (where replayed changes run no triggers), sets
 * live for one statement only.
 */
#include "errors.h"
#include "consent/watch.h"
#include "catalog.h"

#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/snapmgr.h"

#define RING_SIZE 8192
/* Subjects changed since a set was built that it tolerates before it is dropped. */
#define DIRTY_LIMIT 8192
#define DIRTY_SLOTS PX_CONSENT_DIRTY_SLOTS
StaticAssertDecl(DIRTY_SLOTS >= 2 * DIRTY_LIMIT, "the dirty table stays half empty");
/* The ring entry of a TRUNCATE: every subject changed. */
#define EVERY_SUBJECT UINT64CONST(0)

typedef struct RingEntry
{
	uint64		hash;
	FullTransactionId xid;
} RingEntry;

typedef struct ConsentShared
{
	uint64		seed;			/* of px_consent_hash, random per server start */
	bool		lapped_known;
	FullTransactionId lapped_bound; /* writers missing from the ring are below it */
	pg_atomic_uint64 head;		/* entries ever appended; read without the lock */
	RingEntry	ring[RING_SIZE];
} ConsentShared;

/*
 * The ring's lock: writers append under it exclusively, readers copy
 * entries under it shared; a reader with nothing new reads head alone.
 */
#define LOCK_TRANCHE "privacy_ext consent changes"
static ConsentShared *shared = NULL;
static LWLock *ring_lock = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* Copy of the ring taken under the spinlock (too big for the stack). */
static RingEntry ring_copy[RING_SIZE];

int			px_consent_cache_kb = 65536;

static void
consent_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(ConsentShared)));
	RequestNamedLWLockTranche(LOCK_TRANCHE, 1);
}

static void
consent_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("privacy_ext consent changes", sizeof(ConsentShared), &found);
	ring_lock = &(GetNamedLWLockTranche(LOCK_TRANCHE))->lock;
	if (!found)
	{
		memset(shared, 0, sizeof(ConsentShared));
		pg_atomic_init_u64(&shared->head, 0);
		if (!pg_strong_random(&shared->seed, sizeof(shared->seed)))
			ereport(FATAL,
					(errmsg("could not generate a random seed for privacy_ext")));
	}
	LWLockRelease(AddinShmemInitLock);
}

/* From _PG_init, while shared_preload_libraries are loaded. */
void
px_install_consent_cache(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = consent_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = consent_shmem_startup;
}

/* Whether sets may outlive a statement in this backend, now. */
bool
px_consent_cache_available(void)
{
	return shared != NULL && px_consent_cache_kb > 0 && !IsParallelWorker() &&
		!RecoveryInProgress();
}

/*
 * The 64-bit keyed hash sets and the ring identify subjects by.  The key is
 * random per server (per backend without shared memory), so nobody can
 * choose a subject id whose hash collides with another's.
 *
 * Every row a protected table shows is hashed, so it is short: the length
 * and then each 8 bytes of the subject (the last ones zero-padded) are mixed
 * into the keyed state by mix64(), a bijection of 64-bit words, and a
 * second key word is mixed in at the end.  Two subjects of one
 * length that differ in one 8-byte word never collide; other collisions
 * depend on the key.
 */
/*
 * A bijection of 64-bit words with full avalanche: the 64-bit finalizer
 * of MurmurHash3 (public domain), whose 32-bit form is common/hashfn.h's
 * murmurhash32().
 */
static inline uint64
mix64(uint64 x)
{
	x ^= x >> 33;
	x *= UINT64CONST(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64CONST(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return x;
}

/*
 * The hash's key words, derived once per process from the server's seed:
 * the first state of the hash for each short length, and the word mixed
 * in at the end.
 */
#define KEYED_LENGTHS 32
static uint64 key_by_length[KEYED_LENGTHS];
static uint64 key_seed;
static uint64 key_final;
static bool keys_ready = false;

static pg_noinline void
consent_hash_keys(void)
{
	int			i;

	if (shared != NULL)
		key_seed = shared->seed;
	else
	{
		if (!pg_strong_random(&key_seed, sizeof(key_seed)))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate a random seed for privacy_ext")));
	}
	for (i = 0; i < KEYED_LENGTHS; i++)
		key_by_length[i] = mix64(key_seed ^ (uint64) i);
	key_final = mix64(~key_seed);
	keys_ready = true;
}

uint64
px_consent_hash(const char *subject, size_t len)
{
	const unsigned char *s = (const unsigned char *) subject;
	uint64		h;
	uint64		w;
	size_t		rest;

	if (unlikely(!keys_ready))
		consent_hash_keys();
	h = likely(len < KEYED_LENGTHS) ? key_by_length[len] : mix64(key_seed ^ (uint64) len);
	for (rest = len; rest >= 8; rest -= 8, s += 8)
	{
		memcpy(&w, s, 8);
		h = mix64(h ^ w);
	}
	if (rest > 0)
	{
		int			shift = 0;

		w = 0;
		if (rest & 4)
		{
			uint32		x;

			memcpy(&x, s, 4);
			w = x;
			s += 4;
			shift = 32;
		}
		if (rest & 2)
		{
			uint16		x;

			memcpy(&x, s, 2);
			w |= (uint64) x << shift;
			s += 2;
			shift += 16;
		}
		if (rest & 1)
			w |= (uint64) *s << shift;
		h = mix64(h ^ w);
	}
	h = mix64(h ^ key_final);
	return h == EVERY_SUBJECT ? 1 : h;
}

/* The full form of a recent transaction id (a snapshot's xmin). */
static FullTransactionId
full_xid(TransactionId xid)
{
	FullTransactionId next = ReadNextFullTransactionId();
	uint32		epoch = EpochFromFullTransactionId(next);

	if (xid > XidFromFullTransactionId(next) && epoch > 0)
		epoch--;
	return FullTransactionIdFromEpochAndXid(epoch, xid);
}

/*
 * Writers missing from the ring since server start (prepared transactions
 * recovered at start, say) all have ids below the first id read here.
 */
static void
know_lapped_bound(void)
{
	FullTransactionId next;

	if (shared->lapped_known)
		return;
	next = ReadNextFullTransactionId();
	LWLockAcquire(ring_lock, LW_EXCLUSIVE);
	if (!shared->lapped_known)
	{
		shared->lapped_bound = next;
		shared->lapped_known = true;
	}
	LWLockRelease(ring_lock);
}

static void
ring_append(uint64 hash)
{
	FullTransactionId xid = GetTopFullTransactionId();
	uint64		pos;
	RingEntry  *e;

	know_lapped_bound();
	LWLockAcquire(ring_lock, LW_EXCLUSIVE);
	pos = pg_atomic_read_u64(&shared->head);
	e = &shared->ring[pos % RING_SIZE];
	/* Overwriting a writer's entry: sets built later must wait for it to end. */
	if (pos >= RING_SIZE && !FullTransactionIdPrecedes(e->xid, shared->lapped_bound))
	{
		shared->lapped_bound = e->xid;
		FullTransactionIdAdvance(&shared->lapped_bound);
	}
	e->hash = hash;
	e->xid = xid;
	pg_atomic_write_u64(&shared->head, pos + 1);
	LWLockRelease(ring_lock);
}

/* ---------------------------------------------------------------------
 * The trigger on privacy.consent_state
 * --------------------------------------------------------------------- */
static void
append_subject(HeapTuple tuple, TupleDesc desc)
{
	bool		isnull;
	Datum		d = heap_getattr(tuple, Anum_consent_subject, desc, &isnull);
	text	   *subject;

	if (isnull)
		return;					/* NOT NULL: the insert fails anyway */
	subject = DatumGetTextPP(d);
	ring_append(px_consent_hash(VARDATA_ANY(subject), VARSIZE_ANY_EXHDR(subject)));
}

/*
 * BEFORE INSERT OR UPDATE OR DELETE FOR EACH ROW and BEFORE TRUNCATE, both
 * ENABLE ALWAYS (so logical replication's apply and session_replication_role
 * = replica run it too).  It records which subject changes; it never
 * changes the row.
 */
PG_FUNCTION_INFO_V1(px_consent_state_changed);
Datum
px_consent_state_changed(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("privacy.consent_state_changed() can only run as a trigger")));
	if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
	{
		if (shared != NULL)
			ring_append(EVERY_SUBJECT);
		return PointerGetDatum(NULL);
	}
	if (!TRIGGER_FIRED_FOR_ROW(td->tg_event) || !TRIGGER_FIRED_BEFORE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("privacy.consent_state_changed() must run BEFORE, FOR EACH ROW")));
	desc = RelationGetDescr(td->tg_relation);
	if (shared != NULL)
	{
		append_subject(td->tg_trigtuple, desc);
		if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
			append_subject(td->tg_newtuple, desc);
	}
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		return PointerGetDatum(td->tg_newtuple);
	return PointerGetDatum(td->tg_trigtuple);
}

/* ---------------------------------------------------------------------
 * Watching a set
 * --------------------------------------------------------------------- */
static bool
dirty_add(PxConsentWatch *w, uint64 h)
{
	uint64		i = h & (DIRTY_SLOTS - 1);

	while (w->dirty[i] != 0)
	{
		if (w->dirty[i] == h)
			return true;
		i = (i + 1) & (DIRTY_SLOTS - 1);
	}
	if (w->ndirty >= DIRTY_LIMIT)
		return false;
	w->dirty[i] = h;
	w->ndirty++;
	return true;
}

static int
xid_cmp(const void *a, const void *b)
{
	TransactionId x = *(const TransactionId *) a;
	TransactionId y = *(const TransactionId *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * Start watching a set just read under snapshot snap.  False when the set
 * cannot be kept: a writer that snap does not account for may be missing
 * from the ring, a TRUNCATE is in progress, or too much is in flux.
 * w->dirty and w->xip are allocated in cxt.
 */
bool
px_consent_watch_start(PxConsentWatch *w, Snapshot snap, MemoryContext cxt)
{
	uint64		head;
	uint64		first;
	uint64		pos;
	FullTransactionId lapped;
	FullTransactionId xmin_full;

	if (!px_consent_cache_available() || snap == NULL || snap->takenDuringRecovery ||
		snap->snapshot_type != SNAPSHOT_MVCC)
		return false;
	know_lapped_bound();
	LWLockAcquire(ring_lock, LW_SHARED);
	head = pg_atomic_read_u64(&shared->head);
	first = head > RING_SIZE ? head - RING_SIZE : 0;
	for (pos = first; pos < head; pos++)
		ring_copy[pos - first] = shared->ring[pos % RING_SIZE];
	lapped = shared->lapped_bound;
	LWLockRelease(ring_lock);

	xmin_full = full_xid(snap->xmin);
	if (FullTransactionIdPrecedes(xmin_full, lapped))
		return false;

	w->dirty = MemoryContextAllocZero(cxt, sizeof(uint64) * DIRTY_SLOTS);
	w->ndirty = 0;
	for (pos = first; pos < head; pos++)
	{
		RingEntry  *e = &ring_copy[pos - first];
		TransactionId xid = XidFromFullTransactionId(e->xid);

		/* Finished before snap's xmin: snap, hence the set, has its outcome. */
		if (FullTransactionIdPrecedes(e->xid, xmin_full))
			continue;
		if (!TransactionIdIsCurrentTransactionId(xid) && !XidInMVCCSnapshot(xid, snap))
			continue;
		if (e->hash == EVERY_SUBJECT || !dirty_add(w, e->hash))
			return false;
	}
	w->seen = head;
	w->xmax = snap->xmax;
	w->xcnt = snap->xcnt;
	w->xip = MemoryContextAlloc(cxt, sizeof(TransactionId) * Max(snap->xcnt, 1));
	memcpy(w->xip, snap->xip, sizeof(TransactionId) * snap->xcnt);
	qsort(w->xip, w->xcnt, sizeof(TransactionId), xid_cmp);
	return true;
}

/*
 * Mark dirty what changed since the last call.  False: the set must be
 * dropped (a TRUNCATE, more changes than the ring or the dirty set holds).
 */
bool
px_consent_watch_catch_up(PxConsentWatch *w)
{
	uint64		head;
	uint64		pos;
	uint64		n;

	pg_read_barrier();
	head = pg_atomic_read_u64(&shared->head);
	if (head == w->seen)
		return true;
	LWLockAcquire(ring_lock, LW_SHARED);
	head = pg_atomic_read_u64(&shared->head);
	n = head - w->seen;
	if (n > RING_SIZE)
	{
		LWLockRelease(ring_lock);
		return false;
	}
	for (pos = w->seen; pos < head; pos++)
		ring_copy[pos - w->seen].hash = shared->ring[pos % RING_SIZE].hash;
	LWLockRelease(ring_lock);

	for (pos = 0; pos < n; pos++)
		if (ring_copy[pos].hash == EVERY_SUBJECT || !dirty_add(w, ring_copy[pos].hash))
			return false;
	w->seen = head;
	return true;
}

/*
 * Whether a statement running under snap may use the set: snap must have
 * seen every transaction end that the set's snapshot had seen.  A
 * transaction in progress for snap but finished for the set's snapshot
 * means snap is older.
 */
bool
px_consent_watch_covers(const PxConsentWatch *w, Snapshot snap)
{
	uint32		i;

	if (snap == NULL || snap->snapshot_type != SNAPSHOT_MVCC || snap->takenDuringRecovery ||
		TransactionIdPrecedes(snap->xmax, w->xmax))
		return false;
	for (i = 0; i < snap->xcnt; i++)
	{
		TransactionId xid = snap->xip[i];

		if (TransactionIdPrecedes(xid, w->xmax) &&
			bsearch(&xid, w->xip, w->xcnt, sizeof(TransactionId), xid_cmp) == NULL)
			return false;
	}
	return true;
}
