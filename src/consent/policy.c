/*
 * consent/policy.c
 *		has_consent(), the function row-level security policies of
 *		protected tables call, over the purpose registry (consent/registry.c).
 *
 * Within a statement, has_consent first probes the consent table's primary
 * key; once a backend has probed many subjects for a purpose, it reads the
 * consenting subjects of the purpose into a set of keyed 64-bit hashes
 * (consent/subject_set.c) and answers from it.  The set outlives the
 * statement only while consent/watch.c can prove it exact: a withdrawal
 * committed by another session is seen by the next statement of every
 * session, cached or not.  What a call site keeps in fn_extra (its purpose,
 * the role's right to it, the time expiry is judged at, a statement-only
 * set) lasts one statement epoch (statement.h), so the next statement at
 * any depth -- a PL/pgSQL statement, a FETCH, a procedure's COMMIT -- sees
 * revoke_purpose, a new policy version and an expiry too.
 */
#include "errors.h"
#include "consent/registry.h"
#include "consent/subject_set.h"
#include "consent/subject_order.h"
#include "consent/watch.h"
#include "consent/parallel.h"
#include "consent/policy.h"
#include "consent/reading_roles.h"
#include "audit/counts.h"
#include "subjects.h"
#include "catalog.h"
#include "purpose_scope.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/parallel.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "access/xact.h"
#include "catalog/pg_trigger.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "replication/walsender.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "commands/trigger.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "statement.h"

#define MAX_CHAIN PX_MAX_CHAIN
/* Purposes whose sets one backend keeps across statements. */
#define CROSS_SLOTS 4

/* ---------------------------------------------------------------------
 * has_consent
 * --------------------------------------------------------------------- */
/* A set kept across the statements of this backend, for one purpose. */
typedef struct CrossSet
{
	char		purpose[NAMEDATALEN];	/* "" = slot unused */
	uint64		registry_gen;	/* the px_registry it was read with */
	uint64		version;		/* bumped when a set is installed or dropped */
	MemoryContext cxt;			/* NULL: no set now */
	Size		bytes;
	PxSubjectSet	set;
	PxSubjectOrder order;		/* its never-expiring subjects, sorted */
	PxConsentWatch watch;
	int64		probes;			/* index probes since the set was dropped */
	int64		build_at;		/* probes at which to read a set */
	uint64		last_used;
} CrossSet;

static CrossSet cross_sets[CROSS_SLOTS];
static uint64 cross_clock = 0;
static MemoryContext cross_cxt = NULL;

/* A purpose's name as a text datum, in place (4-byte aligned for the header). */
typedef union ChainText
{
	char		data[VARHDRSZ + NAMEDATALEN];
	int32		align;
} ChainText;

/*
 * One has_consent call site's state, in fn_extra.  PL/pgSQL keeps an
 * FmgrInfo across statements and transactions, and a cursor across
 * FETCHes, so everything here is valid for one statement epoch only
 * (statement.h): when the epoch has moved, consent_cache() takes in what
 * other sessions committed, checks the purpose and the role's grant again,
 * takes the time anew and drops the statement-only state.  The backend's
 * cross-statement sets (CrossSet) are kept: consent/watch.c proves them
 * exact for each use.
 */
typedef struct ConsentCache
{
	uint64		epoch;			/* statement epoch validated in; 0: never */
	char		purpose[NAMEDATALEN];	/* resolved purpose ("" = none yet) */
	Oid			checked_user;
	uint64		registry_gen;	/* the px_registry the purpose was resolved in */
	int			purpose_index;	/* in px_registry.purposes */
	bool		needs_consent;
	int			nchain;
	ChainText	chain[MAX_CHAIN];	/* the purpose and its ancestors, as text */
	Datum		chain_datum[MAX_CHAIN]; /* pointers to chain[] */
	TimestampTz now;			/* expiry is judged at this time */
	/* Statement-only state, dropped when the epoch moves: */
	int			probes;
	bool		tried_set;		/* this statement read a set (or could not) */
	bool		have_set;		/* a set for this statement only */
	PxSubjectSet	set;
	PxSubjectOrder order;		/* ... its never-expiring subjects, sorted */
	MemoryContext set_cxt;		/* its memory */
	px_key_cursor cursor;		/* where this statement's last subject fell in a list */
	int			cross;			/* cross_sets index, -1 for none */
	uint64		cross_version;	/* the version cross_covers was decided for */
	Snapshot	cross_snap;		/* ... and the snapshot */
	bool		cross_covers;
} ConsentCache;

/*
 * Whether a consent row counts at now; *expires gets its expiry (DT_NOEND
 * for none).
 */
static bool
consent_row_valid(HeapTuple tup, TupleDesc desc, TimestampTz now, int32 min_ordinal,
				  TimestampTz *expires)
{
	bool		isnull;
	Datum		d;

	if (!DatumGetBool(heap_getattr(tup, Anum_consent_granted, desc, &isnull)) || isnull)
		return false;
	d = heap_getattr(tup, Anum_consent_expires, desc, &isnull);
	*expires = isnull ? DT_NOEND : DatumGetTimestampTz(d);
	if (!isnull && *expires <= now)
		return false;
	if (DatumGetInt32(heap_getattr(tup, Anum_consent_ordinal, desc, &isnull)) < min_ordinal)
		return false;
	return true;
}

/*
 * Valid consent of subject to one of the chain's purposes, by primary key,
 * under the active snapshot.  A parallel worker passes its leader's
 * decisions (consent/parallel.h), the leader its call site's.
 */
static bool
probe_chain(Oid consent_relid, Oid consent_index, int32 min_ordinal, int nchain,
			const Datum *chain, TimestampTz now, const char *subject, size_t len)
{
	Relation	rel = table_open(consent_relid, AccessShareLock);
	text	   *subj = cstring_to_text_with_len(subject, (int) len);
	bool		found = false;
	int			i;

	for (i = 0; i < nchain && !found; i++)
	{
		ScanKeyData skey[2];
		SysScanDesc scan;
		HeapTuple	tup;
		TimestampTz expires;

		ScanKeyEntryInitialize(&skey[0], 0, Anum_consent_subject, BTEqualStrategyNumber,
							   InvalidOid, C_COLLATION_OID, F_TEXTEQ, PointerGetDatum(subj));
		ScanKeyEntryInitialize(&skey[1], 0, Anum_consent_purpose, BTEqualStrategyNumber,
							   InvalidOid, C_COLLATION_OID, F_TEXTEQ, chain[i]);
		scan = systable_beginscan(rel, consent_index, true, GetActiveSnapshot(), 2, skey);
		if (HeapTupleIsValid(tup = systable_getnext(scan)))
			found = consent_row_valid(tup, RelationGetDescr(rel), now, min_ordinal, &expires);
		systable_endscan(scan);
	}
	table_close(rel, AccessShareLock);
	pfree(subj);
	return found;
}

static bool
probe(ConsentCache *cc, const char *subject, size_t len)
{
	return probe_chain(px_registry.consent_relid, px_registry.consent_index,
					   px_registry.min_ordinal, cc->nchain, cc->chain_datum, cc->now,
					   subject, len);
}

/* A text value read in place when it is stored inline, uncompressed. */
static inline struct varlena *
text_in_place(Datum d)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);

	if (unlikely(VARATT_IS_EXTERNAL(v) || VARATT_IS_COMPRESSED(v)))
		v = pg_detoast_datum_packed(v);
	return v;
}

/* The chain purpose a consent row is for, or -1. */
static inline int
chain_index(ConsentCache *cc, Datum purpose)
{
	struct varlena *p = text_in_place(purpose);
	size_t		len = VARSIZE_ANY_EXHDR(p);
	int			i;

	for (i = 0; i < cc->nchain; i++)
		if (VARSIZE_ANY_EXHDR(DatumGetPointer(cc->chain_datum[i])) == len &&
			memcmp(VARDATA_ANY(DatumGetPointer(cc->chain_datum[i])), VARDATA_ANY(p), len) == 0)
			return i;
	return -1;
}

/*
 * The first natts columns of a consent row, read in place from the heap
 * tuple (as heap_deform_tuple would, stopping at natts).
 */
static inline void
consent_row_columns(HeapTuple tup, TupleDesc desc, int natts, Datum *values, bool *nulls)
{
	HeapTupleHeader hdr = tup->t_data;
	bool		hasnulls = HeapTupleHasNulls(tup);
	bits8	   *bits = hdr->t_bits;
	char	   *tp = (char *) hdr + hdr->t_hoff;
	uint32		off = 0;
	int			n = Min(natts, (int) HeapTupleHeaderGetNatts(hdr));
	int			i;

	for (i = 0; i < n; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (hasnulls && att_isnull(i, bits))
		{
			values[i] = (Datum) 0;
			nulls[i] = true;
			continue;
		}
		nulls[i] = false;
		off = att_align_pointer(off, att->attalign, att->attlen, tp + off);
		values[i] = fetchatt(att, tp + off);
		off = att_addlength_pointer(off, att->attlen, tp + off);
	}
	/* Columns added after the row was written (none today): their missing values. */
	for (; i < natts; i++)
		values[i] = heap_getattr(tup, i + 1, desc, &nulls[i]);
}

/*
 * Add a consent row's subject to the set if the row is valid consent to
 * the chain at cc->now.  False when the set would grow past its limit.
 */
static inline bool
read_set_row(ConsentCache *cc, PxSubjectSet *set, PxOrderBuilder *order, MemoryContext mcxt,
			 const Datum *values, const bool *nulls)
{
	struct varlena *subject;
	TimestampTz expires;

	if (nulls[Anum_consent_granted - 1] || !DatumGetBool(values[Anum_consent_granted - 1]) ||
		nulls[Anum_consent_purpose - 1] || nulls[Anum_consent_subject - 1] ||
		DatumGetInt32(values[Anum_consent_ordinal - 1]) < px_registry.min_ordinal ||
		chain_index(cc, values[Anum_consent_purpose - 1]) < 0)
		return true;
	expires = nulls[Anum_consent_expires - 1] ? DT_NOEND :
		DatumGetTimestampTz(values[Anum_consent_expires - 1]);
	if (expires != DT_NOEND && expires <= cc->now)
		return true;
	subject = text_in_place(values[Anum_consent_subject - 1]);
	if (expires == DT_NOEND)
		px_order_add(order, VARDATA_ANY(subject), VARSIZE_ANY_EXHDR(subject));
	return px_subject_set_add(set, px_consent_hash(VARDATA_ANY(subject), VARSIZE_ANY_EXHDR(subject)),
							  expires, mcxt);
}

/*
 * Read every subject with valid consent to the chain, under the active
 * snapshot, into set (allocated in mcxt), and those whose consent never
 * expires into order as well.  False when there are too many.
 * One pass over the table, each row read once: this is the whole cost of
 * a set, paid once per backend and purpose while nothing invalidates it,
 * and by every new connection that checks many subjects (a pooled
 * application's).  So the heap is read tuple by tuple in page mode, with
 * no slot (no buffer pin per row), and only the columns judged are read.
 */
static bool
read_set(ConsentCache *cc, PxSubjectSet *set, PxSubjectOrder *order, MemoryContext mcxt)
{
	PxOrderBuilder builder;
	Relation	rel = table_open(px_registry.consent_relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	TableScanDesc scan = table_beginscan(rel, GetActiveSnapshot(), 0, NULL);
	bool		ok = true;

	px_subject_set_init(set, mcxt);
	px_order_start(&builder, mcxt);
	if (rel->rd_tableam == GetHeapamTableAmRoutine())
	{
		HeapTuple	tup;
		Datum		values[Anum_consent_ordinal];
		bool		nulls[Anum_consent_ordinal];

		while (ok && (tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
		{
			consent_row_columns(tup, desc, Anum_consent_ordinal, values, nulls);
			ok = read_set_row(cc, set, &builder, mcxt, values, nulls);
		}
	}
	else
	{
		/* consent_state made with another table access method: through a slot. */
		TupleTableSlot *slot = table_slot_create(rel, NULL);

		while (ok && table_scan_getnextslot(scan, ForwardScanDirection, slot))
		{
			slot_getsomeattrs(slot, Anum_consent_ordinal);
			ok = read_set_row(cc, set, &builder, mcxt, slot->tts_values, slot->tts_isnull);
		}
		ExecDropSingleTupleTableSlot(slot);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	if (!ok)
		builder.failed = true;
	px_order_finish(&builder, order);
	return ok;
}

static void
cross_drop(CrossSet *cs)
{
	if (cs->cxt != NULL)
		MemoryContextDelete(cs->cxt);
	cs->cxt = NULL;
	memset(&cs->order, 0, sizeof(PxSubjectOrder));	/* was in cxt */
	cs->version++;
	cs->probes = 0;
	cs->build_at = px_registry.cross_threshold;
}

/*
 * Drop the sets that may no longer be used: all of them when sets may not
 * be kept now (privacy.consent_cache_size = 0, the trigger disabled, ...),
 * those read under an older px_registry, and those over the size limit.
 * Returns whether sets may be kept now.
 */
static bool
cross_prune(void)
{
	bool		keep = px_consent_cache_available() && px_registry.change_trigger_ok;
	int			i;

	for (i = 0; i < CROSS_SLOTS; i++)
	{
		CrossSet   *cs = &cross_sets[i];

		if (cs->cxt != NULL &&
			(!keep || cs->registry_gen != px_registry_generation ||
			 cs->bytes > (Size) px_consent_cache_kb * 1024))
			cross_drop(cs);
	}
	return keep;
}

/* The slot of purpose, claiming the least recently used one if needed. */
static int
cross_slot(const char *purpose)
{
	int			i;
	int			victim = 0;

	if (!cross_prune())
		return -1;
	for (i = 0; i < CROSS_SLOTS; i++)
	{
		if (strcmp(cross_sets[i].purpose, purpose) == 0)
		{
			cross_sets[i].last_used = ++cross_clock;
			return i;
		}
		if (cross_sets[i].last_used < cross_sets[victim].last_used)
			victim = i;
	}
	cross_drop(&cross_sets[victim]);
	strlcpy(cross_sets[victim].purpose, purpose, NAMEDATALEN);
	cross_sets[victim].last_used = ++cross_clock;
	return victim;
}

/*
 * The call site's slot while it still belongs to the call site's purpose.
 * Another call site of the same statement may have claimed it for its own
 * purpose since (a statement can name more purposes than there are
 * slots): the call site then keeps no set across statements for the rest
 * of the statement, so that it never counts probes for, nor installs its
 * set under, another purpose's name.
 */
static inline CrossSet *
site_slot(ConsentCache *cc)
{
	CrossSet   *cs;

	if (cc->cross < 0)
		return NULL;
	cs = &cross_sets[cc->cross];
	if (unlikely(strcmp(cs->purpose, cc->purpose) != 0))
	{
		cc->cross = -1;
		return NULL;
	}
	return cs;
}

/*
 * The backend's set for this call site's purpose, if this statement may
 * answer from it, caught up with the changes committed before the
 * statement's snapshot.  Decided once per statement, snapshot and set
 * (usable_cross() answers the other rows alone): a writer appends its
 * subjects to the ring before it can commit, so what the snapshot sees
 * committed is in the ring by the catch-up made under it; what commits
 * later the snapshot does not see, and the set's answer stands.
 */
static pg_noinline CrossSet *
usable_cross_decide(ConsentCache *cc)
{
	CrossSet   *cs = site_slot(cc);
	Snapshot	snap;

	if (cs == NULL || cs->cxt == NULL)
		return NULL;
	if (cs->registry_gen != px_registry_generation || !px_registry.valid ||
		cs->bytes > (Size) px_consent_cache_kb * 1024)
	{
		cross_drop(cs);
		return NULL;
	}
	snap = GetActiveSnapshot();
	if (cc->cross_version != cs->version || cc->cross_snap != snap)
	{
		/*
		 * Lock consent_state as a probe would, once per statement: a change
		 * to its triggers (a superuser disabling the change trigger) is then
		 * either finished, its invalidation processed and the set dropped,
		 * or waits for this transaction.
		 */
		LockRelationOid(px_registry.consent_relid, AccessShareLock);
		if (!px_registry.valid)
		{
			cross_drop(cs);
			return NULL;
		}
		cc->cross_version = cs->version;
		cc->cross_snap = snap;
		cc->cross_covers = px_consent_watch_covers(&cs->watch, snap);
		if (cc->cross_covers && !px_consent_watch_catch_up(&cs->watch))
		{
			cc->cross_covers = false;
			cross_drop(cs);
			return NULL;
		}
	}
	return cc->cross_covers ? cs : NULL;
}

/*
 * The same, per row: the set decided usable for this statement and
 * snapshot, still the same set (another call site may have read it again
 * or dropped it) under the same registry.
 */
static inline CrossSet *
usable_cross(ConsentCache *cc)
{
	CrossSet   *cs;

	if (cc->cross < 0)
		return NULL;
	cs = &cross_sets[cc->cross];
	if (likely(cc->cross_covers && cc->cross_version == cs->version && cs->cxt != NULL &&
			   cs->registry_gen == px_registry_generation && px_registry.valid &&
			   cc->cross_snap == GetActiveSnapshot()))
		return cs;
	return usable_cross_decide(cc);
}

/*
 * Read the purpose's set.  It is kept for later statements when
 * consent/watch.c can watch it and it fits privacy.consent_cache_size;
 * otherwise it serves this statement only.
 */
static void
build_set(ConsentCache *cc, MemoryContext fn_mcxt)
{
	/*
	 * A call site validated under an older registry (reloaded since, in
	 * this statement) reads its set with that registry's purpose chain: it
	 * serves this statement only, never under the new registry's name.
	 */
	CrossSet   *cs = cc->registry_gen == px_registry_generation ? site_slot(cc) : NULL;
	MemoryContext cxt = AllocSetContextCreate(fn_mcxt, "privacy_ext consent set",
											  ALLOCSET_DEFAULT_SIZES);
	PxSubjectSet	set;
	PxSubjectOrder order;
	PxConsentWatch watch;
	Size		bytes;

	cc->tried_set = true;
	if (!read_set(cc, &set, &order, cxt))
	{
		/* Too many to hold: keep probing the index instead. */
		MemoryContextDelete(cxt);
		if (cs != NULL)
		{
			cs->probes = 0;
			cs->build_at = Min(cs->build_at * 2, px_registry.cross_threshold * 64);
		}
		return;
	}
	bytes = MemoryContextMemAllocated(cxt, true);
	/* The list is the lesser part: go without it if that keeps the set. */
	if (cs != NULL && order.cxt != NULL && bytes > (Size) px_consent_cache_kb * 1024 &&
		bytes - MemoryContextMemAllocated(order.cxt, true) <= (Size) px_consent_cache_kb * 1024)
	{
		px_order_drop(&order);
		bytes = MemoryContextMemAllocated(cxt, true);
	}
	if (cs != NULL && bytes <= (Size) px_consent_cache_kb * 1024 &&
		px_consent_watch_start(&watch, GetActiveSnapshot(), cxt))
	{
		cross_drop(cs);
		MemoryContextSetParent(cxt, cross_cxt);
		cs->cxt = cxt;
		cs->set = set;
		cs->order = order;
		cs->watch = watch;
		cs->bytes = bytes;
		cs->registry_gen = px_registry_generation;
		cs->probes = 0;
		cs->build_at = px_registry.cross_threshold;
		return;
	}
	cc->set = set;
	cc->order = order;
	cc->set_cxt = cxt;
	cc->have_set = true;
	if (cs != NULL)
	{
		/* Not kept (too big, or changes in flight): back off before the next try. */
		cs->probes = 0;
		cs->build_at = Min(cs->build_at * 2, px_registry.cross_threshold * 64);
	}
}

/* Forget what held for the previous statement only. */
static void
statement_reset(ConsentCache *cc)
{
	if (cc->set_cxt != NULL)
		MemoryContextDelete(cc->set_cxt);
	cc->set_cxt = NULL;
	memset(&cc->set, 0, sizeof(PxSubjectSet));
	memset(&cc->order, 0, sizeof(PxSubjectOrder));	/* was in set_cxt */
	memset(&cc->cursor, 0, sizeof(px_key_cursor));
	cc->have_set = false;
	cc->tried_set = false;
	cc->probes = 0;
	cc->cross = -1;
	cc->cross_version = UINT64_MAX;
	cc->cross_snap = NULL;
	cc->cross_covers = false;
}

/* The purpose p and its ancestors: consent to a parent purpose covers its children. */
static void
resolve_chain(ConsentCache *cc, int p)
{
	cc->nchain = 0;
	while (p >= 0 && cc->nchain < MAX_CHAIN)
	{
		ChainText  *t = &cc->chain[cc->nchain];
		size_t		len = strlen(px_registry.purposes[p].name);

		SET_VARSIZE(t->data, VARHDRSZ + len);
		memcpy(VARDATA(t->data), px_registry.purposes[p].name, len);
		cc->chain_datum[cc->nchain] = PointerGetDatum(t->data);
		cc->nchain++;
		p = px_registry.purposes[p].parent;
	}
}

/*
 * Validate the call site for this statement: new statement, purpose or
 * role.  Committed changes to the px_registry and to role memberships are
 * taken in first, so a revoke_purpose, a new policy version or a revoked
 * membership is in force from the next statement on, at any depth.
 */
static pg_noinline ConsentCache *
consent_revalidate(ConsentCache **site, MemoryContext site_cxt, const char *purpose,
				   List *reading_roles)
{
	ListCell   *lc;
	ConsentCache *cc = *site;
	uint64		epoch = px_statement_epoch;
	Oid			userid = GetUserId();
	int			p;

	px_statement_refresh();
	px_load_registry();
	if (cross_cxt == NULL)
		cross_cxt = AllocSetContextCreate(TopMemoryContext, "privacy_ext consent cache",
										  ALLOCSET_SMALL_SIZES);
	if (cc == NULL)
	{
		cc = MemoryContextAllocZero(site_cxt, sizeof(ConsentCache));
		*site = cc;
	}
	/* Not valid again until every check below has passed. */
	cc->epoch = 0;
	statement_reset(cc);
	if (purpose == px_purpose)
		px_purpose_scope_check_in_force();
	if (cc->registry_gen != px_registry_generation || strcmp(cc->purpose, purpose) != 0)
	{
		cc->purpose[0] = '\0';
		p = px_find_purpose(purpose);
		if (p < 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("processing purpose \"%s\" does not exist", px_name_for_message(purpose))));
		cc->purpose_index = p;
		cc->needs_consent = px_registry.purposes[p].needs_consent;
		resolve_chain(cc, p);
		strlcpy(cc->purpose, purpose, NAMEDATALEN);
		cc->registry_gen = px_registry_generation;
	}
	if (!px_may_use_purpose(cc->purpose_index))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("role \"%s\" may not process data for purpose \"%s\"",
						GetUserNameFromId(userid, false), purpose),
				 errhint("A key administrator can allow it with privacy.grant_purpose().")));
	/* The role whose privileges read the table, when not the current user. */
	foreach(lc, reading_roles)
	{
		Oid			reading_role = lfirst_oid(lc);

		if (px_may_use_purpose_as(cc->purpose_index, reading_role))
			continue;
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("role \"%s\" may not process data for purpose \"%s\"",
						GetUserNameFromId(reading_role, false), purpose),
				 errdetail("The protected table is read with the privileges of role \"%s\": it owns the view the table is read through, or opened the cursor.",
						   GetUserNameFromId(reading_role, false)),
				 errhint("A key administrator can allow it with privacy.grant_purpose(), or make the view security_invoker.")));
	}
	cc->checked_user = userid;
	cc->cross = cc->needs_consent ? cross_slot(purpose) : -1;
	cc->now = px_statement_now();
	cc->epoch = epoch;
	return cc;
}

/*
 * The call site's state for this statement, purpose and role.  Per row
 * this is the epoch compare in front of the checks 1.0 made already.
 */
static inline ConsentCache *
consent_cache(FunctionCallInfo fcinfo, const char *purpose)
{
	ConsentCache *cc = (ConsentCache *) fcinfo->flinfo->fn_extra;

	if (likely(cc != NULL && px_statement_current(cc->epoch)) &&
		strcmp(cc->purpose, purpose) == 0 && cc->checked_user == GetUserId())
		return cc;
	return consent_revalidate((ConsentCache **) &fcinfo->flinfo->fn_extra,
							  fcinfo->flinfo->fn_mcxt, purpose, px_consent_reading_roles(fcinfo));
}

/*
 * The initial copy of a logical replication subscription runs COPY in a
 * walsender, under the publisher's row security: for a role without
 * BYPASSRLS the consent policy would hide every row, and the subscriber
 * would silently start from an empty table (later changes are decoded
 * from WAL, where no policy applies).  Fail loudly instead.
 */
static void
refuse_replication_copy(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("logical replication cannot copy the rows of protected tables as role \"%s\"",
					GetUserNameFromId(GetUserId(), false)),
			 errdetail("The consent policy of a protected table would hide every row from the initial synchronization."),
			 errhint("Give the subscription's role BYPASSRLS (ALTER ROLE %s BYPASSRLS), or connect it as a superuser.",
					 quote_identifier(GetUserNameFromId(GetUserId(), false)))));
}

/* The errors of consent_revalidate(), raised by a worker from its leader's verdict. */
static void
purpose_error(PxPurposeVerdict verdict, const char *purpose, Oid userid)
{
	if (verdict == PX_PURPOSE_UNKNOWN)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("processing purpose \"%s\" does not exist", px_name_for_message(purpose))));
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("role \"%s\" may not process data for purpose \"%s\"",
					GetUserNameFromId(userid, false), purpose),
			 errhint("A key administrator can allow it with privacy.grant_purpose().")));
}

/*
 * A set's answer for subject at now: from the set's sorted list when the
 * cursor follows it (the scan meets its subjects in order: see
 * px_ordered.h), else from the set's hashes.  The list holds exactly the
 * subjects of the set's never-expiring part, so a subject not in it can
 * only have consent that expires.
 */
static inline bool
list_answer(const PxSubjectSet *set, const px_ordered_keys *list, px_key_cursor *cursor,
			TimestampTz now, const char *subject, size_t len)
{
	if (list->n > 0)
	{
		int			found = px_ordered_find(list, cursor, subject, len);

		if (found > 0)
			return true;
		if (found == 0)
			return set->exp_count > 0 &&
				px_subject_set_expiring_contains(set, px_consent_hash(subject, len), now);
	}
	return px_subject_set_contains(set, px_consent_hash(subject, len), now);
}

/* ---------------------------------------------------------------------
 * has_consent in a parallel worker: the leader's decisions (consent/parallel.c)
 * --------------------------------------------------------------------- */
typedef struct WorkerConsent
{
	const PxConsentDecision *decision;
	ChainText	chain[MAX_CHAIN];
	Datum		chain_datum[MAX_CHAIN];
	Snapshot	set_snap;		/* the snapshot usable_set was decided for */
	bool		usable_set;
	PxSubjectSet set;
	px_ordered_keys list;		/* the set's sorted list (n = 0: none) */
	px_key_cursor cursor;
	PxConsentWatch watch;

	/*
	 * The purpose setting (its string, by address) for which has_consent()
	 * may answer from the set without the checks above: set once they have
	 * passed for the statement's snapshot.  The address is enough because a
	 * worker cannot change a setting (parallel mode refuses SET), so the
	 * string it points to is neither freed nor replaced while it lives.
	 */
	const char *fast_purpose;
} WorkerConsent;

static WorkerConsent *worker_consent = NULL;

static pg_noinline WorkerConsent *
worker_consent_state(const char *purpose)
{
	const PxConsentDecision *d = px_consent_leader_decision();
	int			i;

	/*
	 * No decisions from the leader: has_consent() was reached through code
	 * the leader could not see in its plan (a function marked PARALLEL SAFE
	 * that calls it).  Deciding alone could differ from the leader; refuse.
	 */
	if (d == NULL || strcmp(d->purpose, purpose) != 0 || d->userid != GetUserId())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("privacy.has_consent() cannot run in this parallel worker"),
				 errdetail("The leader published no consent decisions for this purpose and role."),
				 errhint("Mark functions that call privacy.has_consent() PARALLEL RESTRICTED.")));
	if (worker_consent == NULL)
	{
		WorkerConsent *wc = MemoryContextAllocZero(TopMemoryContext, sizeof(WorkerConsent));

		wc->decision = d;
		for (i = 0; i < d->nchain && i < MAX_CHAIN; i++)
		{
			size_t		len = strnlen(d->chain[i], NAMEDATALEN - 1);

			SET_VARSIZE(wc->chain[i].data, VARHDRSZ + len);
			memcpy(VARDATA(wc->chain[i].data), d->chain[i], len);
			wc->chain_datum[i] = PointerGetDatum(wc->chain[i].data);
		}
		worker_consent = wc;
	}
	return worker_consent;
}

/*
 * The leader's answer: its verdict on the purpose, its set under its
 * snapshot (the subjects changed since the set was read, and every subject
 * under another snapshot, by probing the table with the leader's chain,
 * policy version and time).
 */
static bool
worker_has_consent(const char *subject, size_t len, const char *purpose)
{
	WorkerConsent *wc = worker_consent;
	const PxConsentDecision *d;
	Snapshot	snap;

	if (unlikely(wc == NULL || strcmp(wc->decision->purpose, purpose) != 0 ||
				 wc->decision->userid != GetUserId()))
		wc = worker_consent_state(purpose);
	d = wc->decision;
	if (d->verdict != PX_PURPOSE_USABLE)
		purpose_error(d->verdict, d->purpose, d->userid);
	if (!d->needs_consent)
		return true;
	snap = GetActiveSnapshot();
	if (wc->set_snap != snap)
	{
		wc->usable_set = px_consent_decision_set(d, &wc->set, &wc->list, &wc->watch);
		wc->set_snap = snap;
		memset(&wc->cursor, 0, sizeof(px_key_cursor));
	}
	wc->fast_purpose = wc->usable_set ? purpose : NULL;
	if (wc->usable_set &&
		(wc->watch.ndirty == 0 || !px_consent_watch_dirty(&wc->watch, px_consent_hash(subject, len))))
		return list_answer(&wc->set, &wc->list, &wc->cursor, d->now, subject, len);
	return probe_chain(d->consent_relid, d->consent_index, d->min_ordinal, d->nchain,
					   wc->chain_datum, d->now, subject, len);
}

/* ---------------------------------------------------------------------
 * The leader of a parallel statement: decide once, for its workers
 * --------------------------------------------------------------------- */

/*
 * Whether every role reading a row-secured table of the leader's query in
 * place of the current user (a view's owner) may use purpose p: the
 * workers get one verdict for the whole statement.
 */
static bool
reading_roles_may_use(int p)
{
	ListCell   *lc;

	foreach(lc, px_consent_reading_roles_of_query())
		if (!px_may_use_purpose_as(p, lfirst_oid(lc)))
			return false;
	return true;
}
static ConsentCache *publish_cc = NULL;

PxWorkerConsent
px_consent_prepare_workers(void)
{
	const char *purpose = px_purpose;
	PxConsentDecision d;
	const PxSubjectSet *set = NULL;
	const px_ordered_keys *list = NULL;
	const PxConsentWatch *watch = NULL;
	const void *set_owner = NULL;
	uint64		set_version = 0;
	Snapshot	snap;
	bool		ok;
	int			p;
	int			i;

	/* A request's reach, a walsender's refusal: the leader's alone. */
	if (px_request_in_progress != PX_REQUEST_NONE || am_walsender || !ActiveSnapshotSet())
		return PX_WORKERS_SERIAL;
	/* No purpose: a worker answers false like the leader, from the synced setting. */
	if (purpose == NULL || purpose[0] == '\0')
		return PX_WORKERS_NEED_NOTHING;
	px_purpose_scope_check_in_force();
	snap = GetActiveSnapshot();

	px_statement_refresh();
	px_load_registry();
	memset(&d, 0, sizeof(d));
	strlcpy(d.purpose, purpose, NAMEDATALEN);
	d.userid = GetUserId();
	d.consent_relid = px_registry.consent_relid;
	d.consent_index = px_registry.consent_index;
	d.min_ordinal = px_registry.min_ordinal;
	p = px_find_purpose(purpose);
	if (p < 0)
		d.verdict = PX_PURPOSE_UNKNOWN;
	else if (!px_may_use_purpose(p) || !reading_roles_may_use(p))
		d.verdict = PX_PURPOSE_NOT_GRANTED;
	else
	{
		ConsentCache *cc = consent_revalidate(&publish_cc, TopMemoryContext, purpose, NIL);
		CrossSet   *cs;

		d.verdict = PX_PURPOSE_USABLE;
		d.needs_consent = cc->needs_consent;
		d.now = cc->now;
		d.nchain = cc->nchain;
		for (i = 0; i < cc->nchain; i++)
			text_to_cstring_buffer(DatumGetTextPP(cc->chain_datum[i]), d.chain[i], NAMEDATALEN);
		if (cc->needs_consent)
		{
			cs = usable_cross(cc);
			/*
			 * No set to share: read one now, as the leader would after its
			 * first probes -- unless reading failed lately (too many
			 * subjects), when the workers probe like the leader does.
			 */
			if (cs == NULL && (site_slot(cc) == NULL ||
							   cross_sets[cc->cross].build_at <= px_registry.cross_threshold))
			{
				build_set(cc, TopMemoryContext);
				cs = cc->have_set ? NULL : usable_cross(cc);
			}
			if (cc->have_set)
			{
				set = &cc->set;
				list = &cc->order.keys;
			}
			else if (cs != NULL)
			{
				set = &cs->set;
				list = &cs->order.keys;
				watch = &cs->watch;
				set_owner = cs;
				set_version = cs->version;
			}
		}
	}
	ok = px_consent_publish(&d, set, list, set_owner, set_version, watch, snap);
	if (publish_cc != NULL)
		statement_reset(publish_cc);	/* a statement-only set was copied */
	return ok ? PX_WORKERS_PUBLISHED : PX_WORKERS_SERIAL;
}

/* A call site's answer from a set, with its cursor and time (list_answer()). */
static inline bool
set_answer(ConsentCache *cc, const PxSubjectSet *set, const PxSubjectOrder *order,
		   const char *subject, size_t len)
{
	return list_answer(set, &order->keys, &cc->cursor, cc->now, subject, len);
}

/*
 * has_consent() when the row cannot be answered from a set already decided
 * usable for this statement: the first row of a statement, a request, no
 * purpose, a worker, a changed subject, no set yet.
 */
static pg_noinline bool
has_consent_slow(FunctionCallInfo fcinfo, const char *subject, size_t len, const char *purpose)
{
	ConsentCache *cc;
	CrossSet   *cs;
	CrossSet   *slot;
	uint64		h;

	/* A data-subject request reads all of the subject's rows. */
	if (unlikely(px_request_in_progress != PX_REQUEST_NONE) && px_request_covers_subject(subject, len))
		return true;
	/* No purpose declared: nothing is visible. */
	if (purpose == NULL || purpose[0] == '\0')
	{
		if (unlikely(am_walsender))
			refuse_replication_copy();
		return false;
	}
	if (unlikely(IsParallelWorker()))
		return worker_has_consent(subject, len, purpose);
	cc = consent_cache(fcinfo, purpose);
	if (!cc->needs_consent)
		return true;			/* another legal basis covers every subject */
	h = px_consent_hash(subject, len);
	if (cc->have_set)
		return set_answer(cc, &cc->set, &cc->order, subject, len);
	cs = usable_cross(cc);
	if (cs != NULL && !px_consent_watch_dirty(&cs->watch, h))
		return set_answer(cc, &cs->set, &cs->order, subject, len);

	/*
	 * The table decides: there is no set, or this subject changed since the
	 * set was read.  Many such probes, in this statement or since the
	 * backend's set was read, and the set is read (again).
	 */
	cc->probes++;
	slot = site_slot(cc);
	if (slot != NULL)
		slot->probes++;
	if (!cc->tried_set &&
		(cc->probes > PROBE_LIMIT || (slot != NULL && slot->probes > slot->build_at)))
	{
		build_set(cc, fcinfo->flinfo->fn_mcxt);
		if (cc->have_set)
			return set_answer(cc, &cc->set, &cc->order, subject, len);
		cs = usable_cross(cc);
		if (cs != NULL && !px_consent_watch_dirty(&cs->watch, h))
			return set_answer(cc, &cs->set, &cs->order, subject, len);
	}
	return probe(cc, subject, len);
}

/*
 * has_consent() per row: the checks of has_consent_slow() that hold for a
 * call site already validated in this statement (no request, a purpose,
 * the leader), then its set.  Everything else is has_consent_slow()'s.
 */
static inline bool
has_consent(FunctionCallInfo fcinfo, const char *subject, size_t len, const char *purpose)
{
	ConsentCache *cc = (ConsentCache *) fcinfo->flinfo->fn_extra;

	if (likely(cc != NULL && px_statement_current(cc->epoch) &&
			   px_request_in_progress == PX_REQUEST_NONE && purpose != NULL &&
			   !IsParallelWorker()) &&
		strcmp(cc->purpose, purpose) == 0 && cc->checked_user == GetUserId())
	{
		if (!cc->needs_consent)
			return true;
		if (cc->have_set)
			return set_answer(cc, &cc->set, &cc->order, subject, len);
		if (cc->cross >= 0)
		{
			CrossSet   *cs = usable_cross(cc);

			/* The subject's hash only when changes since the set was read are to be checked. */
			if (cs != NULL && (cs->watch.ndirty == 0 ||
							   !px_consent_watch_dirty(&cs->watch, px_consent_hash(subject, len))))
				return set_answer(cc, &cs->set, &cs->order, subject, len);
		}
	}
	else if (IsParallelWorker() && worker_consent != NULL)
	{
		/* worker_has_consent()'s answer once its checks passed for this purpose and snapshot */
		WorkerConsent *wc = worker_consent;

		if (purpose != NULL && purpose == wc->fast_purpose &&
			px_request_in_progress == PX_REQUEST_NONE &&
			wc->decision->userid == GetUserId() && wc->set_snap == GetActiveSnapshot() &&
			(wc->watch.ndirty == 0 || !px_consent_watch_dirty(&wc->watch, px_consent_hash(subject, len))))
			return list_answer(&wc->set, &wc->list, &wc->cursor, wc->decision->now, subject, len);
	}
	return has_consent_slow(fcinfo, subject, len, purpose);
}

/*
 * privacy.consent_cache_info(): the sets this backend keeps across
 * statements, for a DBA sizing privacy.consent_cache_size (and for tests).
 */
PG_FUNCTION_INFO_V1(px_consent_cache_info);
Datum
px_consent_cache_info(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	px_load_registry();
	cross_prune();
	for (i = 0; i < CROSS_SLOTS; i++)
	{
		CrossSet   *cs = &cross_sets[i];
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		if (cs->cxt == NULL || cs->registry_gen != px_registry_generation)
			continue;
		values[0] = CStringGetTextDatum(cs->purpose);
		values[1] = Int64GetDatum((int64) (cs->set.count + cs->set.exp_count));
		values[2] = Int64GetDatum((int64) cs->set.exp_count);
		values[3] = Int64GetDatum((int64) cs->watch.ndirty);
		values[4] = Int64GetDatum((int64) cs->bytes);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * The explicit purpose (second argument) or the declared one.  An empty
 * declared purpose is none declared; an empty explicit one names no
 * purpose, an error like any other unknown one.
 */
static const char *
purpose_arg(FunctionCallInfo fcinfo)
{
	if (PG_NARGS() > 1)
	{
		char	   *purpose;

		if (PG_ARGISNULL(1))
			return NULL;
		purpose = text_to_cstring(PG_GETARG_TEXT_PP(1));
		if (unlikely(purpose[0] == '\0'))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("processing purpose \"\" does not exist")));
		return purpose;
	}
	return px_purpose;
}

/*
 * A row with no subject (NULL) is nobody's consent: answered as the empty
 * subject, which no consent can name (grant_consent refuses it), so the
 * purpose is checked as for any row (an error after SET ROLE to a role not
 * granted it), a legal basis other than consent shows the row, and a
 * consent purpose hides it.
 */
static bool
no_subject(FunctionCallInfo fcinfo)
{
	return has_consent(fcinfo, "", 0, purpose_arg(fcinfo));
}

PG_FUNCTION_INFO_V1(px_has_consent_text);
Datum
px_has_consent_text(PG_FUNCTION_ARGS)
{
	struct varlena *subject;

	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(no_subject(fcinfo));
	/* A key stored in the row (short or plain varlena) is read in place. */
	subject = (struct varlena *) DatumGetPointer(PG_GETARG_DATUM(0));
	if (unlikely(VARATT_IS_EXTERNAL(subject) || VARATT_IS_COMPRESSED(subject)))
		subject = pg_detoast_datum_packed(subject);
	PG_RETURN_BOOL(has_consent(fcinfo, VARDATA_ANY(subject), VARSIZE_ANY_EXHDR(subject),
							   purpose_arg(fcinfo)));
}

/* Integer and uuid subjects are keyed by their text form, built here, not by a cast per row. */
PG_FUNCTION_INFO_V1(px_has_consent_int8);
Datum
px_has_consent_int8(PG_FUNCTION_ARGS)
{
	char		buf[32];
	int			n;

	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(no_subject(fcinfo));
	n = snprintf(buf, sizeof(buf), INT64_FORMAT, PG_GETARG_INT64(0));
	PG_RETURN_BOOL(has_consent(fcinfo, buf, (size_t) n, purpose_arg(fcinfo)));
}

PG_FUNCTION_INFO_V1(px_has_consent_int4);
Datum
px_has_consent_int4(PG_FUNCTION_ARGS)
{
	char		buf[16];
	int			n;

	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(no_subject(fcinfo));
	n = snprintf(buf, sizeof(buf), "%d", PG_GETARG_INT32(0));
	PG_RETURN_BOOL(has_consent(fcinfo, buf, (size_t) n, purpose_arg(fcinfo)));
}

PG_FUNCTION_INFO_V1(px_has_consent_uuid);
Datum
px_has_consent_uuid(PG_FUNCTION_ARGS)
{
	static const char hex[] = "0123456789abcdef";
	pg_uuid_t  *u;
	char		buf[37];
	int			i;
	int			n = 0;

	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(no_subject(fcinfo));
	u = PG_GETARG_UUID_P(0);
	for (i = 0; i < UUID_LEN; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			buf[n++] = '-';
		buf[n++] = hex[u->data[i] >> 4];
		buf[n++] = hex[u->data[i] & 0x0F];
	}
	PG_RETURN_BOOL(has_consent(fcinfo, buf, (size_t) n, purpose_arg(fcinfo)));
}

