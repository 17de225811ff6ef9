/*
 * audit/counts.c
 *		Counting the values read per call site (decryptions, reads through
 *		masking views) and the purposes declared, flushed as audit events
 *		(audit/events.c) when the outermost statement ends.
 *
 * Decryptions and reads through masking views happen per row; they are
 * counted per call site (PxAuditSite, audit/counts.h) and flushed as one
 * event per statement, action, column and key.
 */
#include "errors.h"
#include "audit/counts.h"
#include "audit/events.h"
#include "citus/citus_presence.h"
#include "citus/shard_map.h"
#include "keys/key_store.h"
#include "purpose_scope.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "executor/executor.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "nodes/nodeFuncs.h"
#include "parser/parsetree.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

uint64		px_audit_generation = 1;
int			px_audit_suppressed = 0;
void		(*px_audit_before_flush) (void) = NULL;
void		(*px_audit_outermost_run_start) (QueryDesc *queryDesc) = NULL;
void		(*px_audit_outermost_run_end) (void) = NULL;

static const char *const action_names[] = {
	[PX_AUDIT_DECRYPT] = "decrypt",
	[PX_AUDIT_MASKED_READ] = "masked_read",
	[PX_AUDIT_UNMASK] = "unmask",
};

const char *
px_audit_action_name(PxAuditAction action)
{
	return action_names[action];
}

/* One counter per action, column, key and role within a statement. */
typedef struct CountKey
{
	int			action;
	Oid			relid;
	NameData	column;
	uint32		key_id;
	Oid			userid;
	bool		forward_only;	/* counts merged to be sent on, kept apart */
} CountKey;

/*
 * The longest name quote_identifier() can make of a name: every byte a
 * double quote, each doubled, and the two quotes around it.  The object of
 * a count is three of them and two dots, and its buffer holds them all: cut
 * at a byte, a name ending in a multibyte character stored invalid text in
 * privacy.audit_log, which every text function over the column then
 * refused, and which a restore of a dump refused with the whole table.
 */
#define QUOTED_NAME_MAX (2 * (NAMEDATALEN - 1) + 2)

/*
 * Names are resolved when the counter is created, inside a healthy
 * transaction: an aborting transaction may no longer read the catalogs,
 * but its counts must still reach the log.
 */
typedef struct CountEntry
{
	CountKey	key;
	int64		count;
	bool		relay;			/* counted for a Citus coordinator: send it up */
	int64		relayed;		/* how much of count was sent up already */
	char		schema[NAMEDATALEN];	/* the table's, unquoted: for the relay */
	char		table[NAMEDATALEN];
	char		object[3 * QUOTED_NAME_MAX + 3];	/* "schema"."table"."column" */
	char		key_name[NAMEDATALEN];
	char		session_user_name[NAMEDATALEN];
	char		current_role_name[NAMEDATALEN];
	char		purpose[NAMEDATALEN];
} CountEntry;

static HTAB *counts = NULL;
static MemoryContext audit_context = NULL;

/* SET privacy.purpose, noted by the check hook, written at statement end. */
static bool purpose_pending = false;
static char pending_purpose[NAMEDATALEN];
static char pending_session_user[NAMEDATALEN];
static char pending_current_role[NAMEDATALEN];

/* The query being run: decrypt call sites find their column in its plan. */
static QueryDesc *running_query = NULL;
static int	run_depth = 0;

/*
 * Utility statements running (DO, CALL, EXPLAIN ANALYZE, COPY (query),
 * FETCH): the statements they run are theirs, and end at depth 0 of the
 * executor too.  Their counts are written when the outermost utility
 * statement ends, once, and outside the subtransactions an exception block
 * of a DO or a procedure starts: written when an inner statement ended,
 * they went with the subtransaction when the block caught an error.
 */
static int	utility_depth = 0;

static ExecutorRun_hook_type prev_executor_run = NULL;
static ExecutorEnd_hook_type prev_executor_end = NULL;
static ProcessUtility_hook_type prev_process_utility = NULL;

/*
 * src into dst (size bytes), cut if it must be at a character boundary of
 * the database encoding, never inside a character: what is copied here is
 * written to privacy.audit_log as text.  Catalog names always fit; a
 * purpose need not (privacy.purpose is checked against the registry only
 * inside a transaction, so a value from postgresql.conf is not).
 */
static void
copy_clipped(char *dst, size_t size, const char *src)
{
	int			len;

	if (src == NULL)
		src = "";
	len = strlen(src);
	if ((size_t) len >= size)
		len = pg_mbcliplen(src, len, size - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void
copy_name(char *dst, const char *src)
{
	copy_clipped(dst, NAMEDATALEN, src);
}

/* ---------------------------------------------------------------------
 * Per-statement counts
 * --------------------------------------------------------------------- */
static bool
contains_walker(Node *node, Node *target)
{
	if (node == NULL)
		return false;
	if (node == target)
		return true;
	return expression_tree_walker(node, contains_walker, target);
}

static bool
plan_exprs_contain(Plan *plan, Node *target)
{
	if (contains_walker((Node *) plan->targetlist, target) ||
		contains_walker((Node *) plan->qual, target))
		return true;
	switch (nodeTag(plan))
	{
		case T_NestLoop:
		case T_MergeJoin:
		case T_HashJoin:
			return contains_walker((Node *) ((Join *) plan)->joinqual, target);
		case T_Result:
			return contains_walker(((Result *) plan)->resconstantqual, target);
		case T_ModifyTable:
			return contains_walker((Node *) ((ModifyTable *) plan)->returningLists, target);
		case T_IndexScan:
			return contains_walker((Node *) ((IndexScan *) plan)->indexqualorig, target);
		case T_BitmapHeapScan:
			return contains_walker((Node *) ((BitmapHeapScan *) plan)->bitmapqualorig, target);
		default:
			return false;
	}
}

/* The plan node whose expressions hold target, searched depth first. */
static Plan *
find_plan(Plan *plan, Node *target)
{
	Plan	   *found = NULL;
	ListCell   *lc;
	List	   *children = NIL;

	if (plan == NULL)
		return NULL;
	if (plan_exprs_contain(plan, target))
		return plan;
	if ((found = find_plan(plan->lefttree, target)) != NULL ||
		(found = find_plan(plan->righttree, target)) != NULL)
		return found;
	switch (nodeTag(plan))
	{
		case T_Append:
			children = ((Append *) plan)->appendplans;
			break;
		case T_MergeAppend:
			children = ((MergeAppend *) plan)->mergeplans;
			break;
		case T_SubqueryScan:
			children = list_make1(((SubqueryScan *) plan)->subplan);
			break;
		default:
			break;
	}
	foreach(lc, children)
		if ((found = find_plan((Plan *) lfirst(lc), target)) != NULL)
			return found;
	return NULL;
}

static Node *
strip_relabel(Node *node)
{
	while (node && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	return node;
}

/*
 * The table column that column varattno of varno, evaluated at a plan node,
 * reads, if it reads one.  Special varnos name the node's children.
 */
static bool
resolve_var(PlannedStmt *stmt, Plan *plan, int varno, AttrNumber varattno,
			Oid *relid, AttrNumber *attnum, int depth)
{
	Plan	   *child = NULL;
	TargetEntry *tle;
	Node	   *expr;

	if (depth > 64)
		return false;
	if (varno == OUTER_VAR)
		child = plan->lefttree;
	else if (varno == INNER_VAR)
		child = plan->righttree;
	else if (varno == INDEX_VAR)
	{
		if (!IsA(plan, IndexOnlyScan))
			return false;
		tle = get_tle_by_resno(((IndexOnlyScan *) plan)->indextlist, varattno);
		expr = tle ? strip_relabel((Node *) tle->expr) : NULL;
		if (expr == NULL || !IsA(expr, Var))
			return false;
		varno = ((Scan *) plan)->scanrelid;
		varattno = ((Var *) expr)->varattno;
	}
	if (child == NULL)
	{
		RangeTblEntry *rte;

		if (varno < 1 || varno > list_length(stmt->rtable))
			return false;
		rte = rt_fetch(varno, stmt->rtable);
		if (rte->rtekind == RTE_RELATION)
		{
			*relid = rte->relid;
			*attnum = varattno;
			return varattno > 0;
		}
		if (rte->rtekind != RTE_SUBQUERY || !IsA(plan, SubqueryScan))
			return false;
		child = ((SubqueryScan *) plan)->subplan;
	}
	if (child == NULL)
		return false;
	tle = get_tle_by_resno(child->targetlist, varattno);
	expr = tle ? strip_relabel((Node *) tle->expr) : NULL;
	if (expr == NULL || !IsA(expr, Var) || ((Var *) expr)->varlevelsup != 0)
		return false;
	return resolve_var(stmt, child, ((Var *) expr)->varno, ((Var *) expr)->varattno,
					   relid, attnum, depth + 1);
}

/* The column whose values a decrypt call site receives, if it can be told. */
static bool
call_site_column(FmgrInfo *flinfo, Oid *relid, AttrNumber *attnum)
{
	PlannedStmt *stmt;
	Node	   *fexpr = flinfo ? flinfo->fn_expr : NULL;
	Node	   *arg;
	Plan	   *plan;
	ListCell   *lc;

	if (running_query == NULL || fexpr == NULL || !IsA(fexpr, FuncExpr) ||
		list_length(((FuncExpr *) fexpr)->args) < 1)
		return false;
	arg = strip_relabel(linitial(((FuncExpr *) fexpr)->args));
	if (!IsA(arg, Var))
		return false;
	stmt = running_query->plannedstmt;
	plan = find_plan(stmt->planTree, fexpr);
	if (plan == NULL)
		foreach(lc, stmt->subplans)
			if ((plan = find_plan((Plan *) lfirst(lc), fexpr)) != NULL)
				break;
	if (plan == NULL)
		return false;
	if (((Var *) arg)->varlevelsup != 0)
		return false;
	return resolve_var(stmt, plan, ((Var *) arg)->varno, ((Var *) arg)->varattno,
					   relid, attnum, 0);
}

static void
ensure_counts(void)
{
	HASHCTL		ctl;

	if (counts != NULL)
		return;
	if (audit_context == NULL)
		audit_context = AllocSetContextCreate(TopMemoryContext, "privacy_ext audit",
											  ALLOCSET_SMALL_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(CountKey);
	ctl.entrysize = sizeof(CountEntry);
	ctl.hcxt = audit_context;
	counts = hash_create("privacy_ext audit counts", 16, &ctl,
						 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/* ---------------------------------------------------------------------
 * Parallel workers' counts, handed to their leader
 *
 * A parallel worker cannot write privacy.audit_log, and its counts are a
 * share of its leader's statement: written apart, to the log only, the
 * table would hold the leader's share alone (a 2-worker scan of 200,000
 * rows showed 79,637).  So a worker hands its counters, names resolved, to
 * its leader through a slot of shared memory per backend (with the library
 * preloaded); the leader takes them in when its statement ends (workers
 * have finished by then: Gather waits for them), or when its transaction
 * ends, aborting too, and writes one event per statement, action, column,
 * key and role, as without workers.  A counter that finds the slot full is
 * written to the log by the worker, as before.
 * --------------------------------------------------------------------- */
#define WORKER_SLOT_ENTRIES 16

typedef struct WorkerCountsSlot
{
	slock_t		mutex;
	int32		leader_pid;		/* whose workers' counts these are; 0: none */
	int			n;
	CountEntry	entries[WORKER_SLOT_ENTRIES];
} WorkerCountsSlot;

static WorkerCountsSlot *worker_slots = NULL;
static int	worker_nslots = 0;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static Size
worker_slots_size(void)
{
	return mul_size(sizeof(WorkerCountsSlot), (Size) MaxBackends);
}

static void
worker_counts_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(worker_slots_size()));
}

static void
worker_counts_shmem_startup(void)
{
	bool		found;
	int			i;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	worker_slots = ShmemInitStruct("privacy_ext audit worker counts", worker_slots_size(), &found);
	if (!found)
		for (i = 0; i < MaxBackends; i++)
		{
			SpinLockInit(&worker_slots[i].mutex);
			worker_slots[i].leader_pid = 0;
			worker_slots[i].n = 0;
		}
	worker_nslots = MaxBackends;
	LWLockRelease(AddinShmemInitLock);
}

/*
 * Worker: move what fits of entries[0..n) into the leader's slot; returns
 * how many are left (moved to the front), for the worker to write itself.
 */
static int
hand_to_leader(CountEntry *entries, int n)
{
	PGPROC	   *leader = MyProc != NULL ? MyProc->lockGroupLeader : NULL;
	WorkerCountsSlot *slot;
	int			left = 0;
	int			i;
	int			k;

	if (worker_slots == NULL || !IsParallelWorker() || leader == NULL || leader == MyProc ||
		leader->pgprocno >= worker_nslots)
		return n;
	slot = &worker_slots[leader->pgprocno];
	SpinLockAcquire(&slot->mutex);
	/* left by a backend that had this slot before (a crash): not this leader's */
	if (slot->leader_pid != leader->pid)
	{
		slot->leader_pid = leader->pid;
		slot->n = 0;
	}
	for (i = 0; i < n; i++)
	{
		for (k = 0; k < slot->n; k++)
			if (memcmp(&slot->entries[k].key, &entries[i].key, sizeof(CountKey)) == 0)
				break;
		if (k < slot->n)
			slot->entries[k].count = slot->entries[k].count > PG_INT64_MAX - entries[i].count ?
				PG_INT64_MAX : slot->entries[k].count + entries[i].count;
		else if (slot->n < WORKER_SLOT_ENTRIES)
			slot->entries[slot->n++] = entries[i];
		else
			entries[left++] = entries[i];
	}
	SpinLockRelease(&slot->mutex);
	return left;
}

/* Leader: add its workers' counts to this statement's. */
static void
take_from_workers(void)
{
	WorkerCountsSlot *slot;
	CountEntry	taken[WORKER_SLOT_ENTRIES];
	int			n = 0;
	int			i;

	if (worker_slots == NULL || IsParallelWorker() || MyProc == NULL ||
		MyProc->pgprocno >= worker_nslots)
		return;
	slot = &worker_slots[MyProc->pgprocno];
	/* unlocked peek: a worker writes here only while this leader waits for it */
	if (slot->n == 0)
		return;
	SpinLockAcquire(&slot->mutex);
	if (slot->leader_pid == MyProcPid)
	{
		n = slot->n;
		memcpy(taken, slot->entries, sizeof(CountEntry) * n);
	}
	slot->n = 0;
	slot->leader_pid = 0;
	SpinLockRelease(&slot->mutex);
	for (i = 0; i < n; i++)
	{
		CountEntry *entry;
		bool		found;

		ensure_counts();
		entry = (CountEntry *) hash_search(counts, &taken[i].key, HASH_ENTER, &found);
		if (!found)
			*entry = taken[i];
		else
			entry->count = entry->count > PG_INT64_MAX - taken[i].count ?
				PG_INT64_MAX : entry->count + taken[i].count;
	}
}

/*
 * relid, or the Citus table it is a shard of.  The last answer is kept for
 * the statement: a call site meeting values under several keys row by row
 * binds again for each, and must not pay a catalog lookup every time.
 */
static Oid
table_of(Oid relid)
{
	static uint64 cached_generation = 0;
	static Oid	cached_relid = InvalidOid;
	static Oid	cached_table = InvalidOid;
	Oid			parent;

	if (cached_generation == px_audit_generation && cached_relid == relid)
		return cached_table;
	parent = px_citus_shard_parent(relid);
	cached_generation = px_audit_generation;
	cached_relid = relid;
	cached_table = OidIsValid(parent) ? parent : relid;
	return cached_table;
}

/*
 * The counter of action on relid's column under key_id for userid in this
 * statement, created if new.  A shard of a Citus table counts as the table
 * (citus/shard_map.c): Citus keeps the column names, and the trail names
 * what the user queried, not where Citus placed its rows.  In a session
 * Citus opened the counter is sent up to the coordinator (audit/relay.c).
 * merged: counts of a relay; in a session Citus opened they come from its
 * parallel workers (which write their own events) and are only sent on.
 */
static CountEntry *
count_entry(PxAuditAction action, Oid relid, const char *column, uint32 key_id,
			Oid userid, bool merged)
{
	CountKey	key;
	CountEntry *entry;
	bool		found;

	if (OidIsValid(relid))
		relid = table_of(relid);
	memset(&key, 0, sizeof(key));
	key.action = action;
	key.key_id = key_id;
	key.userid = userid;
	key.relid = relid;
	if (OidIsValid(relid))
		namestrcpy(&key.column, column);
	key.forward_only = merged && px_citus_loaded() && px_citus_internal_session();

	ensure_counts();
	entry = (CountEntry *) hash_search(counts, &key, HASH_ENTER, &found);
	if (!found)
	{
		char	   *relname = OidIsValid(relid) ? get_rel_name(relid) : NULL;
		char	   *nspname = relname ? get_namespace_name(get_rel_namespace(relid)) : NULL;

		entry->count = 0;
		entry->relayed = 0;
		entry->relay = px_citus_loaded() && px_citus_internal_session();
		entry->object[0] = '\0';
		copy_name(entry->schema, nspname);
		copy_name(entry->table, relname);
		if (relname != NULL)
			copy_clipped(entry->object, sizeof(entry->object),
						 psprintf("%s.%s", quote_qualified_identifier(nspname, relname),
								  quote_identifier(column)));
		copy_name(entry->key_name, key_id ? px_key_name(key_id) : NULL);
		copy_name(entry->session_user_name, GetUserNameFromId(GetSessionUserId(), true));
		copy_name(entry->current_role_name, GetUserNameFromId(userid, true));
		copy_name(entry->purpose, px_purpose);
	}
	return entry;
}

/*
 * First use of a call site in this statement: find (or create) its counter.
 * relid and column are known to masking calls; decrypt calls look for
 * their argument's column in the running plan.  key_id: the values' key.
 */
void
px_audit_bind(PxAuditSite *site, FmgrInfo *flinfo, PxAuditAction action,
			  Oid relid, const char *column, uint32 key_id)
{
	Oid			userid = GetUserId();
	CountEntry *entry;

	if (!OidIsValid(relid))
	{
		/* Once per statement and site: the plan walk is the costly part. */
		if (site->column_generation != px_audit_generation ||
			site->column_query != (const void *) running_query)
		{
			AttrNumber	attnum;
			const char *name = NULL;
			Oid			found = InvalidOid;

			if (call_site_column(flinfo, &found, &attnum))
				name = get_attname(found, attnum, true);
			site->column_relid = name ? found : InvalidOid;
			namestrcpy(&site->column_name, name ? name : "");
			site->column_generation = px_audit_generation;
			site->column_query = (const void *) running_query;
		}
		relid = site->column_relid;
		column = NameStr(site->column_name);
	}
	entry = count_entry(action, relid, column, key_id, userid, false);
	site->counter = &entry->count;
	site->generation = px_audit_generation;
	site->key_id = key_id;
	site->userid = userid;
}

/*
 * Counts a Citus worker relayed (audit/relay.c), added to this statement's
 * as if read here: under this session's user, current role and purpose,
 * whatever the worker's session was, so that a forged relay can only
 * charge its sender.
 */
void
px_audit_merge_relayed(PxAuditAction action, Oid relid, const char *column,
					   uint32 key_id, int64 count)
{
	CountEntry *entry;

	if (!px_audit_counting() || count <= 0)
		return;
	entry = count_entry(action, relid, column, key_id, GetUserId(), true);
	if (entry->count > PG_INT64_MAX - count)
		entry->count = PG_INT64_MAX;
	else
		entry->count += count;
}

/*
 * The counters of a session Citus opened, with what they counted since
 * last taken (audit/relay.c sends that up to the coordinator); each is
 * then marked as sent.  Returns how many, *items palloc'd.
 */
int
px_audit_take_relay(PxAuditRelayItem **items)
{
	HASH_SEQ_STATUS seq;
	CountEntry *e;
	int			n = 0;

	*items = NULL;
	if (counts == NULL || hash_get_num_entries(counts) == 0)
		return 0;
	*items = palloc(sizeof(PxAuditRelayItem) * hash_get_num_entries(counts));
	hash_seq_init(&seq, counts);
	while ((e = (CountEntry *) hash_seq_search(&seq)) != NULL)
	{
		PxAuditRelayItem *item = &(*items)[n];

		if (!e->relay || e->count <= e->relayed)
			continue;
		item->action = action_names[e->key.action];
		item->schema = e->schema;
		item->table = e->table;
		item->column = OidIsValid(e->key.relid) ? NameStr(e->key.column) : "";
		item->key_name = e->key_name;
		item->count = e->count - e->relayed;
		e->relayed = e->count;
		n++;
	}
	return n;
}

/* SET privacy.purpose = '...' passed its checks: an event at statement end. */
void
px_audit_note_purpose(const char *purpose)
{
	if (px_audit_sinks == 0 || IsParallelWorker() || InitializingParallelWorker ||
		!IsTransactionState())
		return;
	copy_name(pending_purpose, purpose);
	copy_name(pending_session_user, GetUserNameFromId(GetSessionUserId(), true));
	copy_name(pending_current_role, GetUserNameFromId(GetUserId(), true));
	purpose_pending = true;
}

/*
 * Write what this statement counted.  The counters are taken first, so an
 * error while writing cannot write them twice.
 */
static void
flush(bool table_ok)
{
	CountEntry *entries = NULL;
	int			n = 0;
	bool		had_purpose = purpose_pending;
	char		purpose[NAMEDATALEN];
	char		su[NAMEDATALEN];
	char		cr[NAMEDATALEN];
	int			i;

	if (px_audit_writing())
		return;
	if (px_audit_before_flush)
		px_audit_before_flush();
	purpose_pending = false;
	if (had_purpose)
	{
		memcpy(purpose, pending_purpose, NAMEDATALEN);
		memcpy(su, pending_session_user, NAMEDATALEN);
		memcpy(cr, pending_current_role, NAMEDATALEN);
	}
	if (counts != NULL)
	{
		HASH_SEQ_STATUS seq;
		CountEntry *e;
		long		total = hash_get_num_entries(counts);

		if (total > 0)
		{
			entries = palloc(sizeof(CountEntry) * total);
			hash_seq_init(&seq, counts);
			while ((e = (CountEntry *) hash_seq_search(&seq)) != NULL)
				if (e->count > 0 && !e->key.forward_only)
					entries[n++] = *e;
		}
		hash_destroy(counts);
		counts = NULL;
		MemoryContextReset(audit_context);
		px_audit_generation++;
	}
	if (px_audit_sinks == 0)
		return;
	if (IsParallelWorker() && n > 0)
		n = hand_to_leader(entries, n);
	if (had_purpose)
	{
		PxAuditEvent	ev = {GetCurrentTimestamp(), "purpose_declared", purpose, 1, NULL,
		su, cr, purpose};

		px_audit_write_event(&ev, table_ok);
	}
	for (i = 0; i < n; i++)
	{
		CountEntry *e = &entries[i];
		char		detail[NAMEDATALEN * 2 + 40];
		PxAuditEvent	ev;

		detail[0] = '\0';
		/*
		 * Key names are restricted to [a-z0-9_.-]: no escaping needed.
		 * "relayed": work done for a Citus coordinator, which has the
		 * statement's totals; this node's record of it stays all the same
		 * (anyone may name a session "citus_internal").
		 */
		if (e->key_name[0])
			snprintf(detail, sizeof(detail), "{\"key\": \"%s\"%s}", e->key_name,
					 e->relay ? ", \"relayed\": true" : "");
		else if (e->relay)
			snprintf(detail, sizeof(detail), "{\"relayed\": true}");
		ev.at = GetCurrentTimestamp();
		ev.action = action_names[e->key.action];
		ev.object = e->object[0] ? e->object : NULL;
		ev.count = e->count;
		ev.detail = detail[0] ? detail : NULL;
		ev.session_user_name = e->session_user_name;
		ev.current_role_name = e->current_role_name;
		ev.purpose = e->purpose;
		px_audit_write_event(&ev, table_ok);
	}
}

/* ---------------------------------------------------------------------
 * Statement boundaries
 * --------------------------------------------------------------------- */
static void
px_executor_run(QueryDesc *queryDesc, ScanDirection direction, uint64 count, bool execute_once)
{
	QueryDesc  *save_query = running_query;
	int			save_depth = run_depth;

	running_query = queryDesc;
	run_depth++;
	PG_TRY();
	{
		if (save_depth == 0 && px_audit_outermost_run_start)
			px_audit_outermost_run_start(queryDesc);
		if (prev_executor_run)
			prev_executor_run(queryDesc, direction, count, execute_once);
		else
			standard_ExecutorRun(queryDesc, direction, count, execute_once);
	}
	PG_FINALLY();
	{
		running_query = save_query;
		run_depth = save_depth;
	}
	PG_END_TRY();
	if (run_depth == 0 && px_audit_outermost_run_end)
		px_audit_outermost_run_end();
}

static void
px_executor_end(QueryDesc *queryDesc)
{
	if (prev_executor_end)
		prev_executor_end(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);
	if (run_depth == 0)
		take_from_workers();
	if (run_depth == 0 && utility_depth == 0 && (counts != NULL || purpose_pending))
		flush(true);
}

static void
px_process_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
				   ProcessUtilityContext context, ParamListInfo params,
				   QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	int			save_utility_depth = utility_depth;

	utility_depth++;
	PG_TRY();
	{
		if (prev_process_utility)
			prev_process_utility(pstmt, queryString, readOnlyTree, context, params,
								 queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
									queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		utility_depth = save_utility_depth;
	}
	PG_END_TRY();
	/* Outside a transaction (after VACUUM, say) only the log can take them. */
	if (run_depth == 0 && utility_depth == 0 && (counts != NULL || purpose_pending))
		flush(IsTransactionState());
}

/*
 * Counts a statement left behind (a rollback, an error, a call outside any
 * executor) are written to the log: the table may no longer be writable,
 * and dropping them would hide a decryption.
 */
static void
px_audit_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			take_from_workers();

			/*
			 * Counts still pending when a transaction commits: reads no
			 * statement end flushed, such as a procedure's simple
			 * expressions before its COMMIT, or anything read since the
			 * last statement ended.  They belong in the table in the
			 * transaction that did the reads, which can still write here
			 * (deferred triggers have fired; privacy.audit_log has no
			 * insert triggers).  px_audit_write_event() falls back to the log where
			 * the table cannot be written.
			 */
			if (counts != NULL || purpose_pending)
				flush(true);
			break;
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
			if (counts != NULL || purpose_pending)
				flush(false);
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			/* A failed data-subject request leaves counting switched on. */
			px_audit_suppressed = 0;
			running_query = NULL;
			run_depth = 0;
			utility_depth = 0;
			take_from_workers();
			if (counts != NULL || purpose_pending)
				flush(false);
			break;
		default:
			break;
	}
}

void
px_install_audit_hooks(void)
{
	prev_executor_run = ExecutorRun_hook;
	ExecutorRun_hook = px_executor_run;
	prev_executor_end = ExecutorEnd_hook;
	ExecutorEnd_hook = px_executor_end;
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = px_process_utility;
	RegisterXactCallback(px_audit_xact_callback, NULL);
	if (process_shared_preload_libraries_in_progress)
	{
		prev_shmem_request_hook = shmem_request_hook;
		shmem_request_hook = worker_counts_shmem_request;
		prev_shmem_startup_hook = shmem_startup_hook;
		shmem_startup_hook = worker_counts_shmem_startup;
	}
	/* Registered after ours, so it runs first: an abort is no longer writing. */
	px_install_audit_events();
}

