/*
 * consent/parallel.c
 *		The consent policy in parallel plans (see consent/parallel.h).
 *
 * A worker must answer has_consent() exactly as its leader would for the
 * leader's snapshot and declared purpose.  Deciding alone it could not:
 * the leader's set of consenting subjects lives in the leader's memory, a
 * worker reading the purpose registry could see a revoke_purpose the
 * leader did not, and expiry is judged at the leader's time.  So before a
 * parallel statement whose plan calls has_consent() starts, the leader
 * (consent/policy.c) decides for its declared purpose and this file
 * copies the decisions, the set and the subjects changed since the set was
 * read into one dynamic shared memory segment, whose handle goes into the
 * leader's slot of an array in shared memory.  A worker finds its leader's
 * slot through its lock group, attaches the segment read-only and answers
 * from it; the segment is dropped when the statement's run ends, after
 * its workers have finished.
 *
 * The set is used by a worker only under the snapshot it was published
 * for (the worker compares every field of its active snapshot); otherwise
 * the worker probes the table with the leader's decisions.  Withdrawals
 * committed before the statement are in the set or among its changed
 * subjects, as for the leader; ones committed during it are invisible to
 * the statement's snapshot for leader and workers alike.
 *
 * consent/parallel_run.c decides, per statement, whether to publish; when
 * nothing can be published the statement runs without workers.
 */
#include "errors.h"
#include "consent/parallel.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/snapmgr.h"

#define DECISION_MAGIC 0x50584350	/* "PXCP" */

/* One leader's published segment. */
typedef struct LeaderSlot
{
	slock_t		mutex;
	int32		pid;			/* 0: nothing published */
	TimestampTz statement_start;
	dsm_handle	handle;
} LeaderSlot;

typedef struct ParallelShared
{
	int			nslots;
	LeaderSlot	slots[FLEXIBLE_ARRAY_MEMBER];
} ParallelShared;

static ParallelShared *pshared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* Leader: the segment published for the statement running now. */
static dsm_segment *published = NULL;

/*
 * Leader: the copy of its set for workers, and which set it copies.  A
 * copy of a set kept across statements stays mapped while that set is
 * unchanged (copying a large set per statement would eat into what the
 * workers save); a statement-only set's copy goes with its statement.
 */
static dsm_segment *set_segment = NULL;
static const void *set_segment_owner = NULL;
static uint64 set_segment_version = 0;
static uint32 set_segment_order_n = 0;	/* the sorted list it holds (0: none) */

/* Worker: the leader's set segment, attached once. */
static dsm_segment *worker_set_segment = NULL;

/* Worker: the leader's decisions, looked up once (a worker runs one statement). */
static bool worker_looked = false;
static const PxConsentDecision *worker_decision = NULL;

static Size
parallel_shmem_size(void)
{
	return add_size(offsetof(ParallelShared, slots),
					mul_size(sizeof(LeaderSlot), (Size) MaxBackends));
}

static void
parallel_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(parallel_shmem_size()));
}

static void
parallel_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	pshared = ShmemInitStruct("privacy_ext parallel consent", parallel_shmem_size(), &found);
	if (!found)
	{
		int			i;

		pshared->nslots = MaxBackends;
		for (i = 0; i < MaxBackends; i++)
		{
			SpinLockInit(&pshared->slots[i].mutex);
			pshared->slots[i].pid = 0;
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

/* The slot of this backend as a leader, or NULL. */
static LeaderSlot *
own_slot(void)
{
	if (pshared == NULL || MyProc == NULL || MyProc->pgprocno >= pshared->nslots)
		return NULL;
	return &pshared->slots[MyProc->pgprocno];
}

static void
clear_slot(void)
{
	LeaderSlot *slot = own_slot();

	if (slot != NULL)
	{
		SpinLockAcquire(&slot->mutex);
		slot->pid = 0;
		SpinLockRelease(&slot->mutex);
	}
}

static void
drop_set_segment(void)
{
	if (set_segment != NULL)
		dsm_detach(set_segment);
	set_segment = NULL;
	set_segment_owner = NULL;
}

static void
unpublish(void)
{
	clear_slot();
	if (published != NULL)
	{
		dsm_detach(published);
		published = NULL;
	}
	if (set_segment != NULL && set_segment_owner == NULL)
		drop_set_segment();
}

/*
 * The segment holding a copy of set (reused when it copies the same kept
 * set), with the arrays' offsets in d.  NULL when none can be made.
 */
static dsm_segment *
set_segment_for(PxConsentDecision *d, const PxSubjectSet *set, const px_ordered_keys *order,
				const void *owner, uint64 version)
{
	Size		slots_bytes = sizeof(uint64) * (set->mask + 1);
	Size		exp_bytes = sizeof(uint64) * (set->exp_mask + 1);
	uint32		order_n = order != NULL ? order->n : 0;
	Size		start_bytes = order_n > 0 ? sizeof(uint32) * ((Size) order_n + 1) : 0;
	Size		bytes_bytes = order_n > 0 ? order->start[order_n] : 0;
	char	   *base;
	dsm_segment *seg;

	d->off_slots = 0;
	d->off_exp_hash = MAXALIGN(slots_bytes);
	d->off_exp_at = d->off_exp_hash + MAXALIGN(exp_bytes);
	d->off_order_start = d->off_exp_at + MAXALIGN(exp_bytes);
	d->off_order_bytes = d->off_order_start + MAXALIGN(start_bytes);
	d->order_n = order_n;
	if (set_segment != NULL && owner != NULL && owner == set_segment_owner &&
		version == set_segment_version && order_n == set_segment_order_n)
		return set_segment;
	drop_set_segment();
	seg = dsm_create(d->off_order_bytes + MAXALIGN(Max(bytes_bytes, 1)), DSM_CREATE_NULL_IF_MAXSEGMENTS);
	if (seg == NULL)
		return NULL;
	base = dsm_segment_address(seg);
	memcpy(base + d->off_slots, set->slots, slots_bytes);
	memcpy(base + d->off_exp_hash, set->exp_hash, exp_bytes);
	memcpy(base + d->off_exp_at, set->exp_at, exp_bytes);
	if (order_n > 0)
	{
		memcpy(base + d->off_order_start, order->start, start_bytes);
		memcpy(base + d->off_order_bytes, order->bytes, bytes_bytes);
	}
	/* Not the statement's resource: it may serve later statements. */
	dsm_pin_mapping(seg);
	set_segment = seg;
	set_segment_owner = owner;
	set_segment_version = version;
	set_segment_order_n = order_n;
	return seg;
}

bool
px_consent_publish(PxConsentDecision *d, const PxSubjectSet *set,
				   const px_ordered_keys *order, const void *set_owner, uint64 set_version,
				   const PxConsentWatch *watch, Snapshot snap)
{
	LeaderSlot *slot = own_slot();
	Size		size;
	Size		slots_bytes = 0;
	Size		exp_bytes = 0;
	Size		dirty_bytes = 0;
	char	   *base;
	dsm_segment *seg;

	if (slot == NULL || snap == NULL)
		return false;
	unpublish();

	if (set != NULL)
	{
		slots_bytes = sizeof(uint64) * (set->mask + 1);
		exp_bytes = sizeof(uint64) * (set->exp_mask + 1);
		/* No subject changed since the set was read (the usual case): no table to copy. */
		if (watch != NULL && watch->ndirty > 0)
			dirty_bytes = sizeof(uint64) * PX_CONSENT_DIRTY_SLOTS;
		/* Too big to copy: the workers probe instead. */
		/* The list is the lesser part: left out if the set fits without it. */
		if (order != NULL && order->n > 0 &&
			slots_bytes + 2 * exp_bytes + dirty_bytes + sizeof(uint32) * ((Size) order->n + 1) +
			order->start[order->n] > PX_PARALLEL_SET_MAX_BYTES)
			order = NULL;
		if (slots_bytes + 2 * exp_bytes + dirty_bytes > PX_PARALLEL_SET_MAX_BYTES)
		{
			set = NULL;
			watch = NULL;
			slots_bytes = exp_bytes = dirty_bytes = 0;
		}
	}

	if (set != NULL)
	{
		dsm_segment *sseg = set_segment_for(d, set, order, set_owner, set_version);

		if (sseg == NULL)
		{
			set = NULL;
			watch = NULL;
			dirty_bytes = 0;
		}
		else
			d->set_handle = dsm_segment_handle(sseg);
	}
	d->magic = DECISION_MAGIC;
	d->leader_pid = MyProcPid;
	d->statement_start = GetCurrentStatementStartTimestamp();
	d->has_set = (set != NULL);
	d->has_dirty = (watch != NULL && dirty_bytes > 0);
	d->ndirty = d->has_dirty ? watch->ndirty : 0;
	d->xmin = snap->xmin;
	d->xmax = snap->xmax;
	d->xcnt = snap->xcnt;
	d->subxcnt = snap->subxcnt;
	d->suboverflowed = snap->suboverflowed;
	d->taken_during_recovery = snap->takenDuringRecovery;
	d->curcid = snap->curcid;

	size = MAXALIGN(sizeof(PxConsentDecision));
	d->off_dirty = size;
	size += MAXALIGN(dirty_bytes);
	d->off_xip = size;
	size += MAXALIGN(sizeof(TransactionId) * Max(snap->xcnt, 1));
	d->off_subxip = size;
	size += MAXALIGN(sizeof(TransactionId) * Max(snap->subxcnt, 1));
	if (set != NULL)
	{
		d->set = *set;
		d->set.slots = NULL;
		d->set.exp_hash = NULL;
		d->set.exp_at = NULL;
	}
	else
	{
		memset(&d->set, 0, sizeof(PxSubjectSet));
		d->order_n = 0;
	}

	seg = dsm_create(size, DSM_CREATE_NULL_IF_MAXSEGMENTS);
	if (seg == NULL)
		return false;
	base = dsm_segment_address(seg);
	memcpy(base, d, sizeof(PxConsentDecision));
	if (d->has_dirty)
		memcpy(base + d->off_dirty, watch->dirty, dirty_bytes);
	if (snap->xcnt > 0)
		memcpy(base + d->off_xip, snap->xip, sizeof(TransactionId) * snap->xcnt);
	if (snap->subxcnt > 0)
		memcpy(base + d->off_subxip, snap->subxip, sizeof(TransactionId) * snap->subxcnt);

	/* The segment is complete before a worker can find it (the spinlock orders it). */
	published = seg;
	SpinLockAcquire(&slot->mutex);
	slot->statement_start = d->statement_start;
	slot->handle = dsm_segment_handle(seg);
	slot->pid = MyProcPid;
	SpinLockRelease(&slot->mutex);
	return true;
}

const PxConsentDecision *
px_consent_leader_decision(void)
{
	PGPROC	   *leader;
	LeaderSlot *slot;
	int32		pid;
	TimestampTz start;
	dsm_handle	handle;
	dsm_segment *seg;
	const PxConsentDecision *d;

	if (worker_looked)
		return worker_decision;
	worker_looked = true;
	leader = MyProc != NULL ? MyProc->lockGroupLeader : NULL;
	if (pshared == NULL || !IsParallelWorker() || leader == NULL || leader == MyProc ||
		leader->pgprocno >= pshared->nslots)
		return NULL;
	slot = &pshared->slots[leader->pgprocno];
	SpinLockAcquire(&slot->mutex);
	pid = slot->pid;
	start = slot->statement_start;
	handle = slot->handle;
	SpinLockRelease(&slot->mutex);
	if (pid == 0 || pid != leader->pid || start != GetCurrentStatementStartTimestamp())
		return NULL;
	seg = dsm_attach(handle);
	if (seg == NULL)
		return NULL;
	/* Kept for the worker's life: it runs this one statement. */
	dsm_pin_mapping(seg);
	d = dsm_segment_address(seg);
	if (d->magic != DECISION_MAGIC || d->leader_pid != pid || d->statement_start != start)
		return NULL;
	worker_decision = d;
	return d;
}

/* Whether snap is the snapshot d was published for, field by field. */
static bool
same_snapshot(const PxConsentDecision *d, Snapshot snap)
{
	const char *base = (const char *) d;

	return snap != NULL && snap->snapshot_type == SNAPSHOT_MVCC &&
		snap->xmin == d->xmin && snap->xmax == d->xmax &&
		snap->xcnt == d->xcnt && snap->subxcnt == d->subxcnt &&
		snap->suboverflowed == d->suboverflowed &&
		snap->takenDuringRecovery == d->taken_during_recovery &&
		snap->curcid == d->curcid &&
		(snap->xcnt == 0 ||
		 memcmp(snap->xip, base + d->off_xip, sizeof(TransactionId) * snap->xcnt) == 0) &&
		(snap->subxcnt <= 0 ||
		 memcmp(snap->subxip, base + d->off_subxip, sizeof(TransactionId) * snap->subxcnt) == 0);
}

bool
px_consent_decision_set(const PxConsentDecision *d, PxSubjectSet *set, px_ordered_keys *order,
						PxConsentWatch *watch)
{
	char	   *base;

	if (!d->has_set || !ActiveSnapshotSet() || !same_snapshot(d, GetActiveSnapshot()))
		return false;
	if (worker_set_segment == NULL)
	{
		worker_set_segment = dsm_attach(d->set_handle);
		if (worker_set_segment == NULL)
			return false;
		dsm_pin_mapping(worker_set_segment);
	}
	base = dsm_segment_address(worker_set_segment);
	*set = d->set;
	set->slots = (uint64 *) (base + d->off_slots);
	set->exp_hash = (uint64 *) (base + d->off_exp_hash);
	set->exp_at = (TimestampTz *) (base + d->off_exp_at);
	order->n = d->order_n;
	order->start = (const uint32 *) (base + d->off_order_start);
	order->bytes = base + d->off_order_bytes;
	memset(watch, 0, sizeof(PxConsentWatch));
	if (d->has_dirty)
	{
		watch->dirty = (uint64 *) ((char *) d + d->off_dirty);
		watch->ndirty = d->ndirty;
	}
	return true;
}

/* Leader: whether a segment is published now (a statement nested in a parallel one). */
bool
px_consent_publishing(void)
{
	return published != NULL;
}

/* Leader: drop the segment once the statement's workers have finished. */
void
px_consent_unpublish(void)
{
	unpublish();
}

/* An error before the run's end leaves no segment published (it is detached at abort too). */
static void
parallel_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT && published != NULL)
	{
		clear_slot();
		published = NULL;		/* the resource owner detaches it */
	}
}

void
px_install_consent_parallel(bool preloaded)
{
	if (preloaded)
	{
		prev_shmem_request_hook = shmem_request_hook;
		shmem_request_hook = parallel_shmem_request;
		prev_shmem_startup_hook = shmem_startup_hook;
		shmem_startup_hook = parallel_shmem_startup;
	}
	RegisterXactCallback(parallel_xact_callback, NULL);
}
