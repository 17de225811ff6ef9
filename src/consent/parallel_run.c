/*
 * consent/parallel_run.c
 *		The run of a parallel statement whose plan calls has_consent(): the
 *		leader's decisions are published for its workers first
 *		(consent/policy.c decides, consent/parallel.c publishes), or, when
 *		they cannot be, the statement runs without workers.
 *
 * Nothing can be published without the library in shared_preload_libraries,
 * while a data-subject request runs (its reach is the leader's backend
 * state), or for a statement nested in another parallel one (its leader's
 * segment is in use).
 */
#include "errors.h"
#include "consent/parallel.h"
#include "consent/parallel_run.h"
#include "consent/policy.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/plannodes.h"
#include "parser/parse_func.h"
#include "utils/guc.h"
#include "utils/syscache.h"

static ExecutorRun_hook_type prev_executor_run = NULL;

/* Whether the plan calls has_consent() with the declared purpose (in any form). */
static bool
plan_calls_has_consent(PlannedStmt *stmt)
{
	static const Oid argtypes[] = {TEXTOID, INT8OID, INT4OID, UUIDOID};
	uint32		hashes[lengthof(argtypes)];
	int			n = 0;
	int			i;
	ListCell   *lc;
	List	   *name;

	if (stmt->invalItems == NIL)
		return false;
	name = list_make2(makeString("privacy"), makeString("has_consent"));
	for (i = 0; i < (int) lengthof(argtypes); i++)
	{
		Oid			fn = LookupFuncName(name, 1, &argtypes[i], true);

		if (OidIsValid(fn))
			hashes[n++] = GetSysCacheHashValue1(PROCOID, ObjectIdGetDatum(fn));
	}
	list_free_deep(name);
	/* The planner lists every extension function a plan calls (a hash may collide: harmless). */
	foreach(lc, stmt->invalItems)
	{
		PlanInvalItem *item = lfirst_node(PlanInvalItem, lc);

		if (item->cacheId != PROCOID)
			continue;
		for (i = 0; i < n; i++)
			if (item->hashValue == hashes[i])
				return true;
	}
	return false;
}

/* Run the statement with no workers: max_parallel_workers = 0 for its run. */
static void
run_serial(QueryDesc *queryDesc, ScanDirection direction, uint64 count, bool execute_once)
{
	int			level = NewGUCNestLevel();

	(void) set_config_option("max_parallel_workers", "0", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (prev_executor_run)
		prev_executor_run(queryDesc, direction, count, execute_once);
	else
		standard_ExecutorRun(queryDesc, direction, count, execute_once);
	/* On an error, the (sub)transaction's abort puts the setting back. */
	AtEOXact_GUC(true, level);
}

static void
parallel_executor_run(QueryDesc *queryDesc, ScanDirection direction, uint64 count,
					  bool execute_once)
{
	PxWorkerConsent how = PX_WORKERS_NEED_NOTHING;

	/*
	 * Only a plan that may start workers (parallelModeNeeded: it has a
	 * Gather) and calls has_consent(); a worker never starts its own.
	 * execute_once is not looked at: the server passes false for simple
	 * queries that do run in parallel.
	 */
	if (queryDesc->plannedstmt->parallelModeNeeded && !IsParallelWorker() &&
		plan_calls_has_consent(queryDesc->plannedstmt))
	{
		/* A statement nested in a parallel one would replace its leader's segment. */
		how = (!IsInParallelMode() && !px_consent_publishing()) ?
			px_consent_prepare_workers() : PX_WORKERS_SERIAL;
	}
	if (how == PX_WORKERS_SERIAL)
		run_serial(queryDesc, direction, count, execute_once);
	else if (how == PX_WORKERS_NEED_NOTHING)
	{
		if (prev_executor_run)
			prev_executor_run(queryDesc, direction, count, execute_once);
		else
			standard_ExecutorRun(queryDesc, direction, count, execute_once);
	}
	else
	{
		PG_TRY();
		{
			if (prev_executor_run)
				prev_executor_run(queryDesc, direction, count, execute_once);
			else
				standard_ExecutorRun(queryDesc, direction, count, execute_once);
		}
		PG_FINALLY();
		{
			/* The run's workers have all finished (ExecutePlan shut them down). */
			px_consent_unpublish();
		}
		PG_END_TRY();
	}
}

void
px_install_consent_parallel_run(bool preloaded)
{
	px_install_consent_parallel(preloaded);
	prev_executor_run = ExecutorRun_hook;
	ExecutorRun_hook = parallel_executor_run;
}
